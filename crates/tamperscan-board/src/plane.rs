//! A single-channel `f32` image plane and the few filters the pipeline needs.
//!
//! All accessors are bounds-checked (`get`) or iterate with zipped slices, so nothing here can
//! panic on hostile dimensions.

/// A row-major `f32` image. Invalid (outside the warped overlap) pixels are `NaN`.
#[derive(Clone, Debug)]
pub(crate) struct Plane {
    pub w: usize,
    pub h: usize,
    pub data: Vec<f32>,
}

impl Plane {
    /// A plane of `w * h` copies of `v`.
    pub fn filled(w: usize, h: usize, v: f32) -> Self {
        Self {
            w,
            h,
            data: vec![v; w.saturating_mul(h)],
        }
    }

    /// From 8-bit grey samples.
    pub fn from_u8(w: usize, h: usize, px: &[u8]) -> Self {
        Self {
            w,
            h,
            data: px.iter().map(|&p| f32::from(p)).collect(),
        }
    }

    /// Bilinear sample at real coordinates; `NaN` outside the plane or next to invalid pixels.
    #[inline]
    pub fn bilinear(&self, x: f64, y: f64) -> f32 {
        if !(x >= 0.0 && y >= 0.0) {
            return f32::NAN;
        }
        // Non-negative here, so truncation is the floor (and saturates for huge values, which
        // the bounds check below rejects).
        let (xi, yi) = (x as usize, y as usize);
        let fx = (x - xi as f64) as f32;
        let fy = (y - yi as f64) as f32;
        if xi >= self.w || yi >= self.h {
            return f32::NAN;
        }
        // At the last row/column the bilinear weight of the outside neighbour is zero-ish; clamp.
        let xj = (xi + 1).min(self.w - 1);
        let yj = (yi + 1).min(self.h - 1);
        let row0 = yi * self.w;
        let row1 = yj * self.w;
        let g = |i: usize| self.data.get(i).copied().unwrap_or(f32::NAN);
        let a = g(row0 + xi);
        let b = g(row0 + xj);
        let c = g(row1 + xi);
        let d = g(row1 + xj);
        let top = a + (b - a) * fx;
        let bot = c + (d - c) * fx;
        top + (bot - top) * fy
    }

    /// Half-size plane by 2x2 box averaging (pixel centres map as `x_k = (x0 + 0.5) / 2 - 0.5`).
    pub fn downsample2(&self) -> Self {
        let w = (self.w / 2).max(1);
        let h = (self.h / 2).max(1);
        let mut out = Vec::with_capacity(w * h);
        for y in 0..h {
            let r0 = self.row(2 * y);
            let r1 = self.row((2 * y + 1).min(self.h.saturating_sub(1)));
            for x in 0..w {
                let i = 2 * x;
                let j = (2 * x + 1).min(self.w.saturating_sub(1));
                let s = r0.get(i).copied().unwrap_or(0.0)
                    + r0.get(j).copied().unwrap_or(0.0)
                    + r1.get(i).copied().unwrap_or(0.0)
                    + r1.get(j).copied().unwrap_or(0.0);
                out.push(s * 0.25);
            }
        }
        Self { w, h, data: out }
    }

    /// Row `y` as a slice (empty when out of range).
    #[inline]
    pub fn row(&self, y: usize) -> &[f32] {
        let s = y.saturating_mul(self.w);
        self.data.get(s..s.saturating_add(self.w)).unwrap_or(&[])
    }

    /// Separable [1 2 1]/4 blur (edges replicate).
    pub fn blur121(&self) -> Self {
        let (w, h) = (self.w, self.h);
        if w < 3 || h < 3 {
            return self.clone();
        }
        let mut tmp = vec![0.0f32; w * h];
        for (src, dst) in self.data.chunks_exact(w).zip(tmp.chunks_exact_mut(w)) {
            blur_line(src, dst);
        }
        let mut out = vec![0.0f32; w * h];
        for y in 0..h {
            let up = y.saturating_sub(1);
            let dn = (y + 1).min(h - 1);
            let (a, b, c) = (
                tmp.get(up * w..up * w + w).unwrap_or(&[]),
                tmp.get(y * w..y * w + w).unwrap_or(&[]),
                tmp.get(dn * w..dn * w + w).unwrap_or(&[]),
            );
            if let Some(o) = out.get_mut(y * w..y * w + w) {
                for (((o, &a), &b), &c) in o.iter_mut().zip(a).zip(b).zip(c) {
                    *o = 0.25 * (a + c) + 0.5 * b;
                }
            }
        }
        Self { w, h, data: out }
    }

    /// Mean and standard deviation over valid (non-NaN) samples.
    pub fn mean_std(&self) -> (f64, f64) {
        let mut n = 0.0f64;
        let mut s = 0.0f64;
        let mut ss = 0.0f64;
        for &v in &self.data {
            if v.is_finite() {
                let v = f64::from(v);
                n += 1.0;
                s += v;
                ss += v * v;
            }
        }
        if n < 1.0 {
            return (0.0, 0.0);
        }
        let m = s / n;
        (m, (ss / n - m * m).max(0.0).sqrt())
    }
}

fn blur_line(src: &[f32], dst: &mut [f32]) {
    let n = src.len().min(dst.len());
    for (i, d) in dst.iter_mut().enumerate().take(n) {
        let a = src.get(i.saturating_sub(1)).copied().unwrap_or(0.0);
        let b = src.get(i).copied().unwrap_or(0.0);
        let c = src.get((i + 1).min(n - 1)).copied().unwrap_or(0.0);
        *d = 0.25 * (a + c) + 0.5 * b;
    }
}

/// Square min and max filters of radius `r` over a `u8` image (separable, edges clamp).
///
/// Each pass takes the running extreme over `2r + 1` shifted copies of a whole line, which the
/// compiler vectorises; for the small radii used here that beats a per-pixel window.
pub(crate) fn min_max_filter(w: usize, h: usize, px: &[u8], r: usize) -> (Vec<u8>, Vec<u8>) {
    let n = w.saturating_mul(h);
    if w == 0 || h == 0 || px.len() < n {
        return (vec![0; n], vec![0; n]);
    }
    let mut tmin = vec![0u8; n];
    let mut tmax = vec![0u8; n];
    for ((src, dmin), dmax) in px
        .chunks_exact(w)
        .zip(tmin.chunks_exact_mut(w))
        .zip(tmax.chunks_exact_mut(w))
    {
        line_extremes(src, dmin, dmax, r);
    }
    let mut omin = vec![0u8; n];
    let mut omax = vec![0u8; n];
    for y in 0..h {
        let lo = y.saturating_sub(r);
        let hi = (y + r + 1).min(h);
        let (Some(dmin), Some(dmax)) = (
            omin.get_mut(y * w..y * w + w),
            omax.get_mut(y * w..y * w + w),
        ) else {
            continue;
        };
        let (Some(first_min), Some(first_max)) =
            (tmin.get(lo * w..lo * w + w), tmax.get(lo * w..lo * w + w))
        else {
            continue;
        };
        dmin.copy_from_slice(first_min);
        dmax.copy_from_slice(first_max);
        for yy in lo + 1..hi {
            let (Some(rmin), Some(rmax)) =
                (tmin.get(yy * w..yy * w + w), tmax.get(yy * w..yy * w + w))
            else {
                continue;
            };
            for (d, &s) in dmin.iter_mut().zip(rmin) {
                *d = (*d).min(s);
            }
            for (d, &s) in dmax.iter_mut().zip(rmax) {
                *d = (*d).max(s);
            }
        }
    }
    (omin, omax)
}

/// Minimum and maximum of `src` over a window of radius `r` (clamped at the ends).
fn line_extremes(src: &[u8], dmin: &mut [u8], dmax: &mut [u8], r: usize) {
    let n = src.len().min(dmin.len()).min(dmax.len());
    let (Some(src), Some(dmin), Some(dmax)) = (src.get(..n), dmin.get_mut(..n), dmax.get_mut(..n))
    else {
        return;
    };
    dmin.copy_from_slice(src);
    dmax.copy_from_slice(src);
    for k in 1..=r.min(n.saturating_sub(1)) {
        // Neighbour k to the right: positions 0..n-k see src[k..].
        let (Some(right), Some(left)) = (src.get(k..), src.get(..n - k)) else {
            continue;
        };
        if let (Some(a), Some(b)) = (dmin.get_mut(..n - k), dmax.get_mut(..n - k)) {
            for ((a, b), &s) in a.iter_mut().zip(b.iter_mut()).zip(right) {
                *a = (*a).min(s);
                *b = (*b).max(s);
            }
        }
        // Neighbour k to the left: positions k..n see src[..n-k].
        if let (Some(a), Some(b)) = (dmin.get_mut(k..), dmax.get_mut(k..)) {
            for ((a, b), &s) in a.iter_mut().zip(b.iter_mut()).zip(left) {
                *a = (*a).min(s);
                *b = (*b).max(s);
            }
        }
    }
}

/// Visits the 8-connected components of the pixels of `mask` with `bit` set, in raster order of
/// their first pixel, passing each one's pixel indices (sorted); clears the bit as it goes.
///
/// Change masks are sparse: whole 64-byte runs of background are skipped with one word-wide
/// test, so the cost is the scan of the mask plus the set pixels, with no label image.
pub(crate) fn components8(
    w: usize,
    h: usize,
    mask: &mut [u8],
    bit: u8,
    mut visit: impl FnMut(&[usize]),
) {
    const RUN: usize = 64;
    let n = w.saturating_mul(h).min(mask.len());
    let mut stack: Vec<usize> = Vec::new();
    let mut comp: Vec<usize> = Vec::new();
    let mut base = 0;
    while base < n {
        let end = (base + RUN).min(n);
        let any = mask
            .get(base..end)
            .is_some_and(|run| run.iter().fold(0u8, |a, &b| a | b) & bit != 0);
        if !any {
            base = end;
            continue;
        }
        for i in base..end {
            let Some(m) = mask.get_mut(i) else { break };
            if *m & bit == 0 {
                continue;
            }
            *m &= !bit;
            comp.clear();
            stack.push(i);
            while let Some(p) = stack.pop() {
                comp.push(p);
                let (x, y) = (p % w, p / w);
                let (xa, xb) = (x.saturating_sub(1), (x + 1).min(w - 1));
                let (ya, yb) = (y.saturating_sub(1), (y + 1).min(h - 1));
                for yy in ya..=yb {
                    for xx in xa..=xb {
                        let q = yy * w + xx;
                        if let Some(v) = mask.get_mut(q) {
                            if *v & bit != 0 {
                                *v &= !bit;
                                stack.push(q);
                            }
                        }
                    }
                }
            }
            comp.sort_unstable();
            visit(&comp);
        }
        base = end;
    }
}

/// Connected components (8-connectivity) of `mask`; returns labels (0 = background, 1..=n)
/// and the count.
pub(crate) fn label8(w: usize, h: usize, mask: &[bool]) -> (Vec<u32>, u32) {
    let n = w.saturating_mul(h);
    let mut labels = vec![0u32; n];
    let mut parent: Vec<u32> = vec![0];
    fn find(p: &mut [u32], mut x: u32) -> u32 {
        while let Some(&px) = p.get(x as usize) {
            if px == x {
                break;
            }
            let gp = p.get(px as usize).copied().unwrap_or(px);
            if let Some(slot) = p.get_mut(x as usize) {
                *slot = gp;
            }
            x = gp;
        }
        x
    }
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if !mask.get(i).copied().unwrap_or(false) {
                continue;
            }
            let mut nb = [0u32; 4];
            let mut k = 0;
            if x > 0 {
                nb[k] = labels.get(i - 1).copied().unwrap_or(0);
                k += 1;
            }
            if y > 0 {
                let up = i - w;
                nb[k] = labels.get(up).copied().unwrap_or(0);
                k += 1;
                if x > 0 {
                    nb[k] = labels.get(up - 1).copied().unwrap_or(0);
                    k += 1;
                }
                if x + 1 < w {
                    nb[k] = labels.get(up + 1).copied().unwrap_or(0);
                    k += 1;
                }
            }
            let mut best = 0u32;
            for &l in nb.iter().take(k) {
                if l != 0 {
                    let r = find(&mut parent, l);
                    if best == 0 || r < best {
                        best = r;
                    }
                }
            }
            if best == 0 {
                let nl = u32::try_from(parent.len()).unwrap_or(u32::MAX);
                parent.push(nl);
                best = nl;
            } else {
                for &l in nb.iter().take(k) {
                    if l != 0 {
                        let r = find(&mut parent, l);
                        if r != best {
                            if let Some(s) = parent.get_mut(r as usize) {
                                *s = best;
                            }
                        }
                    }
                }
            }
            if let Some(s) = labels.get_mut(i) {
                *s = best;
            }
        }
    }
    // Compact the labels to 1..=count.
    let mut remap = vec![0u32; parent.len()];
    let mut count = 0u32;
    for l in 1..parent.len() {
        let r = find(&mut parent, u32::try_from(l).unwrap_or(0));
        let rm = remap.get(r as usize).copied().unwrap_or(0);
        let v = if rm == 0 {
            count += 1;
            if let Some(s) = remap.get_mut(r as usize) {
                *s = count;
            }
            count
        } else {
            rm
        };
        if let Some(s) = remap.get_mut(l) {
            *s = v;
        }
    }
    for l in &mut labels {
        *l = remap.get(*l as usize).copied().unwrap_or(0);
    }
    (labels, count)
}

/// The shift within `r` px (either way, both axes) with the least `cost`; `(0, 0)` unless
/// another shift is strictly cheaper.
pub(crate) fn best_shift(r: usize, cost: impl Fn(isize, isize) -> u64) -> (isize, isize) {
    let ri = isize::try_from(r).unwrap_or(0);
    let mut best = (cost(0, 0), 0isize, 0isize);
    for dy in -ri..=ri {
        for dx in -ri..=ri {
            if dx == 0 && dy == 0 {
                continue;
            }
            let c = cost(dx, dy);
            if c < best.0 {
                best = (c, dx, dy);
            }
        }
    }
    (best.1, best.2)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn noise(n: usize, seed: u64) -> Vec<u8> {
        let mut st = seed;
        (0..n)
            .map(|_| {
                st = st
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (st >> 56) as u8
            })
            .collect()
    }

    #[test]
    fn min_max_filter_matches_the_naive_window() {
        for (w, h, r) in [(17, 9, 2), (5, 3, 2), (1, 4, 1), (8, 8, 0), (3, 2, 4)] {
            let px = noise(w * h, (w * h + r) as u64);
            let (mn, mx) = min_max_filter(w, h, &px, r);
            for y in 0..h {
                for x in 0..w {
                    let (mut lo, mut hi) = (u8::MAX, 0u8);
                    for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                        for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                            lo = lo.min(px[yy * w + xx]);
                            hi = hi.max(px[yy * w + xx]);
                        }
                    }
                    assert_eq!(
                        (mn[y * w + x], mx[y * w + x]),
                        (lo, hi),
                        "{w}x{h} r{r} ({x},{y})"
                    );
                }
            }
        }
    }

    #[test]
    fn components8_agree_with_label8() {
        let (w, h) = (37, 23);
        let px = noise(w * h, 5);
        let mask: Vec<bool> = px.iter().map(|&v| v < 90).collect();
        let (labels, count) = label8(w, h, &mask);
        let mut bits: Vec<u8> = mask.iter().map(|&m| u8::from(m) * 2).collect();
        let mut comps = Vec::new();
        components8(w, h, &mut bits, 2, |c| comps.push(c.to_vec()));
        assert_eq!(comps.len(), count as usize);
        for c in &comps {
            let l = labels[c[0]];
            assert!(c.iter().all(|&i| labels[i] == l));
            assert_eq!(c.len(), labels.iter().filter(|&&v| v == l).count());
        }
        assert!(bits.iter().all(|&b| b == 0));
    }

    #[test]
    fn components8_on_empty_and_short_masks() {
        let mut calls = 0;
        components8(0, 0, &mut [], 1, |_| calls += 1);
        components8(4, 4, &mut [1, 1], 1, |_| calls += 1);
        assert_eq!(calls, 1);
    }
}
