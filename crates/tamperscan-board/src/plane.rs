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
        let x0 = x.floor();
        let y0 = y.floor();
        let fx = (x - x0) as f32;
        let fy = (y - y0) as f32;
        let (xi, yi) = (x0 as usize, y0 as usize);
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
pub(crate) fn min_max_filter(w: usize, h: usize, px: &[u8], r: usize) -> (Vec<u8>, Vec<u8>) {
    let n = w.saturating_mul(h);
    let mut tmin = vec![0u8; n];
    let mut tmax = vec![0u8; n];
    for ((src, dmin), dmax) in px
        .chunks_exact(w.max(1))
        .zip(tmin.chunks_exact_mut(w.max(1)))
        .zip(tmax.chunks_exact_mut(w.max(1)))
    {
        for x in 0..w {
            let lo = x.saturating_sub(r);
            let hi = (x + r + 1).min(w);
            let win = src.get(lo..hi).unwrap_or(&[]);
            let mn = win.iter().copied().min().unwrap_or(0);
            let mx = win.iter().copied().max().unwrap_or(0);
            if let Some(d) = dmin.get_mut(x) {
                *d = mn;
            }
            if let Some(d) = dmax.get_mut(x) {
                *d = mx;
            }
        }
    }
    let mut omin = tmin.clone();
    let mut omax = tmax.clone();
    let zeros = vec![0u8; w];
    for y in 0..h {
        let lo = y.saturating_sub(r);
        let hi = (y + r + 1).min(h);
        let (Some(dmin), Some(dmax)) = (
            omin.get_mut(y * w..y * w + w),
            omax.get_mut(y * w..y * w + w),
        ) else {
            continue;
        };
        dmin.copy_from_slice(tmin.get(lo * w..lo * w + w).unwrap_or(&zeros));
        dmax.copy_from_slice(tmax.get(lo * w..lo * w + w).unwrap_or(&zeros));
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
