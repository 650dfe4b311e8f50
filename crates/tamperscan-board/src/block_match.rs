//! Fast registration of nearly aligned pairs: block matching down a small pyramid and a
//! weighted affine fit.
//!
//! Most suspects come from the same scanner or jig as their golden image: they differ by a few
//! pixels of shift and a fraction of a degree or percent of rotation and scale. For them the
//! Fourier–Mellin search and the pyramid Gauss–Newton refinement are wasted work. Here:
//!
//! 1. Both images are box-halved to levels 1, 2 and 3 and z-normalised (global gain and offset
//!    drop out), as 16-bit fixed point. The global shift is the least sum of squared
//!    differences (SSD) over integer shifts of up to [`GLOBAL_RADIUS`] level-3 pixels.
//! 2. The overlap is cut into a [`GRID`] x [`GRID`] grid of blocks. Each block's shift is
//!    found by descent (move to the best of the eight neighbouring shifts until the centre is
//!    best) on level 2 from twice the global shift, then on level 1 from twice that, and
//!    refined to a fraction of a pixel by a parabola through the minimum and its neighbours on
//!    each axis.
//! 3. The curvature of the SSD at the minimum along an axis is the information the block has
//!    about its shift along that axis (a block of horizontal traces knows its vertical shift,
//!    not its horizontal one: the aperture problem). It weights the block in a least-squares
//!    fit of the affine map (else a similarity, else a shift, when the informative blocks do
//!    not span the image enough to pin the richer model). Blocks that disagree with the fit by
//!    more than [`MAX_RESIDUAL`] pixels (a defect, a repeated pattern matched one period off)
//!    are dropped and the fit repeated.
//!
//! The result is refused (the caller then runs the full search) unless most of the informative
//! weight agrees with the fit and the map is close to the identity. Cost: one pass to build the
//! levels plus about a dozen multiply-adds per level-1 pixel.

use crate::transform::{solve, Homography};

/// Global search radius on level 3 (eighth size): 4 px there is 32 px at full size.
const GLOBAL_RADIUS: isize = 4;
/// Steps of the block descent on level 2 from twice the global shift: the global shift's
/// rounding (one level-2 pixel) plus two of rotation or scale across the image.
const LEVEL2_STEPS: usize = 3;
/// Steps of the block descent on level 1 from twice the block's level-2 shift (its rounding is
/// one level-1 pixel; one more for a tie).
const LEVEL1_STEPS: usize = 2;
/// Blocks per side.
const GRID: usize = 4;
/// Largest disagreement (level-1 px, i.e. one full-size pixel) of an inlier block with the fit.
const MAX_RESIDUAL: f64 = 0.5;
/// Fixed-point scale of the z-normalised samples (1/256 of a standard deviation).
const ZSCALE: f64 = 256.0;
/// Z-scores are clamped to this many standard deviations, so that squared differences of a
/// 64-sample run fit in an `i32`.
const ZCLAMP: f64 = 8.0;

/// A fit from [`register_near_aligned`].
pub(crate) struct NearAligned {
    /// Golden full-size pixel coordinates to suspect full-size pixel coordinates.
    pub transform: Homography,
    /// Estimated normalised correlation of the aligned level-1 images over the blocks
    /// (`1 - SSD / 2N` of z-normalised samples).
    pub correlation: f64,
}

/// A `w x h` plane of z-normalised samples in 1/[`ZSCALE`] units.
struct Level {
    w: usize,
    h: usize,
    data: Vec<i16>,
}

impl Level {
    fn row(&self, y: usize) -> &[i16] {
        let s = y.saturating_mul(self.w);
        self.data.get(s..s.saturating_add(self.w)).unwrap_or(&[])
    }

    /// Half size by 2x2 box averaging.
    fn halve(&self) -> Self {
        let (w, h) = (self.w / 2, self.h / 2);
        let mut data = vec![0i16; w * h];
        for (y, out) in data.chunks_exact_mut(w.max(1)).enumerate().take(h) {
            let (r0, r1) = (self.row(2 * y), self.row(2 * y + 1));
            for ((o, a), b) in out
                .iter_mut()
                .zip(r0.chunks_exact(2))
                .zip(r1.chunks_exact(2))
            {
                let sum: i32 = a.iter().chain(b).map(|&v| i32::from(v)).sum();
                *o = i16::try_from(sum.div_euclid(4)).unwrap_or(0);
            }
        }
        Self { w, h, data }
    }
}

/// Level 1 of a `w x h` 8-bit image (2x2 box average), z-normalised; `None` when the image has
/// less than one grey level of contrast (nothing to align on) or the buffer is short.
fn level1_of_u8(px: &[u8], w: usize, h: usize) -> Option<Level> {
    let (w1, h1) = (w / 2, h / 2);
    if px.len() < w.checked_mul(h)? || w1 == 0 || h1 == 0 {
        return None;
    }
    // Sums of 2x2 blocks (0..=1020), with their histogram for the mean and deviation.
    let mut sums = vec![0u16; w1 * h1];
    let mut hist = vec![0u32; 1021];
    for (y, out) in sums.chunks_exact_mut(w1).enumerate().take(h1) {
        let r0 = px.get(2 * y * w..2 * y * w + w)?;
        let r1 = px.get((2 * y + 1) * w..(2 * y + 1) * w + w)?;
        for ((o, a), b) in out
            .iter_mut()
            .zip(r0.chunks_exact(2))
            .zip(r1.chunks_exact(2))
        {
            *o = a.iter().chain(b).map(|&v| u16::from(v)).sum();
        }
        for &v in out.iter() {
            if let Some(c) = hist.get_mut(usize::from(v)) {
                *c += 1;
            }
        }
    }
    let n = (w1 * h1) as f64;
    let (mut s, mut ss) = (0.0f64, 0.0f64);
    for (v, &c) in hist.iter().enumerate() {
        let (v, c) = (v as f64 / 4.0, f64::from(c));
        s += v * c;
        ss += v * v * c;
    }
    let m = s / n;
    let sd = (ss / n - m * m).max(0.0).sqrt();
    if sd < 1.0 {
        return None;
    }
    // Sample value -> fixed-point z-score, by table over the 1021 possible sums.
    let table: Vec<i16> = (0..hist.len())
        .map(|v| {
            let z = ((v as f64 / 4.0 - m) / sd).clamp(-ZCLAMP, ZCLAMP);
            (z * ZSCALE).round() as i16
        })
        .collect();
    let data = sums
        .iter()
        .map(|&v| table.get(usize::from(v)).copied().unwrap_or(0))
        .collect();
    Some(Level { w: w1, h: h1, data })
}

/// Sum of squared differences of two equal-length rows (`i32` lanes over 64-sample runs:
/// `64 * (2 * ZCLAMP * ZSCALE)^2 < 2^31`).
fn ssd(a: &[i16], b: &[i16]) -> i64 {
    let mut total = 0i64;
    for (x, y) in a.chunks(64).zip(b.chunks(64)) {
        let run: i32 = x
            .iter()
            .zip(y)
            .map(|(&p, &q)| {
                let d = p.wrapping_sub(q);
                i32::from(d) * i32::from(d)
            })
            .sum();
        total += i64::from(run);
    }
    total
}

/// A block: its golden rectangle `[x0, x1) x [y0, y1)` on one level.
#[derive(Clone, Copy)]
struct Rect {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

/// The SSD of `g` over `rect` against `s` displaced by each shift in `c + [-r, r]^2`, as a
/// `(2r + 1)^2` grid (`[dy][dx]`) in squared z units per pixel; `None` when a displaced window
/// leaves `s`.
fn block_ssd(g: &Level, s: &Level, rect: Rect, c: (isize, isize), r: isize) -> Option<Vec<f64>> {
    let side = usize::try_from(2 * r + 1).ok()?;
    let (x0, y0) = (
        isize::try_from(rect.x0).ok()?,
        isize::try_from(rect.y0).ok()?,
    );
    let (bw, bh) = (rect.x1.checked_sub(rect.x0)?, rect.y1.checked_sub(rect.y0)?);
    let sx0 = usize::try_from(x0 + c.0 - r).ok()?;
    let sy0 = usize::try_from(y0 + c.1 - r).ok()?;
    if sx0 + bw + side - 1 > s.w || sy0 + bh + side - 1 > s.h || rect.x1 > g.w || rect.y1 > g.h {
        return None;
    }
    let mut acc = vec![0i64; side * side];
    for y in 0..bh {
        let ga = g.row(rect.y0 + y).get(rect.x0..rect.x1)?;
        for iy in 0..side {
            let srow = s.row(sy0 + y + iy);
            for ix in 0..side {
                let sa = srow.get(sx0 + ix..sx0 + ix + bw)?;
                if let Some(v) = acc.get_mut(iy * side + ix) {
                    *v += ssd(ga, sa);
                }
            }
        }
    }
    let norm = ZSCALE * ZSCALE * (bw * bh).max(1) as f64;
    Some(acc.iter().map(|&v| v as f64 / norm).collect())
}

/// The SSD per pixel (squared z units) of `g` over `rect` against `s` displaced by `d`; `None`
/// when the displaced window leaves `s`.
fn shift_ssd(g: &Level, s: &Level, rect: Rect, d: (isize, isize)) -> Option<f64> {
    let sx0 = usize::try_from(isize::try_from(rect.x0).ok()? + d.0).ok()?;
    let sy0 = usize::try_from(isize::try_from(rect.y0).ok()? + d.1).ok()?;
    let (bw, bh) = (rect.x1.checked_sub(rect.x0)?, rect.y1.checked_sub(rect.y0)?);
    if sx0 + bw > s.w || sy0 + bh > s.h || rect.x1 > g.w || rect.y1 > g.h {
        return None;
    }
    let mut acc = 0i64;
    for y in 0..bh {
        let ga = g.row(rect.y0 + y).get(rect.x0..rect.x1)?;
        let sa = s.row(sy0 + y).get(sx0..sx0 + bw)?;
        acc += ssd(ga, sa);
    }
    Some(acc as f64 / (ZSCALE * ZSCALE * (bw * bh).max(1) as f64))
}

/// SSD gain per pixel (squared z units) below which a neighbouring shift is no better: a fifth
/// of the least informative curvature ([`MIN_CURVATURE`]).
const FLAT_SSD: f64 = 0.001;

/// Where a block descent ended: the best shift and the SSD of its 3x3 neighbourhood (`[dy][dx]`,
/// infinite where the window left the suspect).
struct Descent {
    best: (isize, isize),
    grid: [f64; 9],
}

/// Steepest descent of the block SSD over integer shifts from `start`, at most `steps` moves;
/// `None` when it has not settled by then.
fn descend(
    g: &Level,
    s: &Level,
    rect: Rect,
    start: (isize, isize),
    steps: usize,
) -> Option<Descent> {
    let mut seen: Vec<((isize, isize), f64)> = Vec::with_capacity(32);
    let mut cost = |d: (isize, isize)| {
        if let Some(&(_, v)) = seen.iter().find(|(k, _)| *k == d) {
            return v;
        }
        let v = shift_ssd(g, s, rect, d).unwrap_or(f64::INFINITY);
        seen.push((d, v));
        v
    };
    let mut c = start;
    for _ in 0..=steps {
        let mut grid = [f64::INFINITY; 9];
        for (i, v) in grid.iter_mut().enumerate() {
            let (dx, dy) = (i as isize % 3 - 1, i as isize / 3 - 1);
            *v = cost((c.0 + dx, c.1 + dy));
        }
        let (bi, &bv) = grid.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1))?;
        // Along an edge (the aperture problem) the SSD is flat up to noise: a move must gain
        // more than [`FLAT_SSD`] or the descent would wander along the edge and not settle.
        if bi == 4 || bv > grid[4] - FLAT_SSD {
            return grid[4].is_finite().then_some(Descent { best: c, grid });
        }
        c = (c.0 + bi as isize % 3 - 1, c.1 + bi as isize / 3 - 1);
    }
    None
}

/// Index of the least entry of a `side x side` grid, as `(ix, iy)`.
fn argmin(sc: &[f64], side: usize) -> Option<(usize, usize, f64)> {
    let (i, &v) = sc.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1))?;
    Some((i % side, i / side, v))
}

/// One block's estimate along one axis.
#[derive(Clone, Copy)]
struct Obs {
    /// 0 for the x axis, 1 for y.
    axis: usize,
    /// Block centre, normalised to about [-1, 1].
    u: f64,
    v: f64,
    /// Observed shift (level-1 px).
    d: f64,
    /// Information (SSD curvature per pixel); 0 when the block says nothing on this axis.
    w: f64,
    /// The golden block has structure but no settled shift was found: evidence against a
    /// near alignment.
    lost: bool,
}

/// Minimum of a 1-D parabola through `(-1, l), (0, c), (1, r)`: offset and curvature.
fn parabola(l: f64, c: f64, r: f64) -> (f64, f64) {
    let curv = l - 2.0 * c + r;
    if curv > 1e-12 {
        ((0.5 * (l - r) / curv).clamp(-0.5, 0.5), curv)
    } else {
        (0.0, 0.0)
    }
}

/// The motion models tried, richest first: a block grid that cannot pin an affine map (its
/// informative blocks in one corner, say) may still pin a similarity or a shift.
#[derive(Clone, Copy, Debug)]
enum Model {
    /// `x' - x = p0 + p1 u + p2 v`, `y' - y = p3 + p4 u + p5 v`.
    Affine,
    /// Shift `(p0, p1)`, scale change `p2`, rotation `p3`.
    Similarity,
    /// Shift `(p0, p1)`.
    Shift,
}

impl Model {
    fn params(self) -> usize {
        match self {
            Self::Affine => 6,
            Self::Similarity => 4,
            Self::Shift => 2,
        }
    }

    /// Design row of one observation.
    fn row(self, o: &Obs) -> [f64; 6] {
        let (u, v) = (o.u, o.v);
        match (self, o.axis) {
            (Self::Affine, 0) => [1.0, u, v, 0.0, 0.0, 0.0],
            (Self::Affine, _) => [0.0, 0.0, 0.0, 1.0, u, v],
            (Self::Similarity, 0) => [1.0, 0.0, u, -v, 0.0, 0.0],
            (Self::Similarity, _) => [0.0, 1.0, v, u, 0.0, 0.0],
            (Self::Shift, 0) => [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            (Self::Shift, _) => [0.0, 1.0, 0.0, 0.0, 0.0, 0.0],
        }
    }

    /// Parameters as the affine `[x0, xu, xv, y0, yu, yv]`.
    fn to_affine(self, p: &[f64]) -> [f64; 6] {
        let q = |i: usize| p.get(i).copied().unwrap_or(0.0);
        match self {
            Self::Affine => [q(0), q(1), q(2), q(3), q(4), q(5)],
            Self::Similarity => [q(0), q(2), -q(3), q(1), q(3), q(2)],
            Self::Shift => [q(0), 0.0, 0.0, q(1), 0.0, 0.0],
        }
    }
}

/// Predicted shift of an observation's axis under affine parameters `a`.
fn predict(a: &[f64; 6], o: &Obs) -> f64 {
    if o.axis == 0 {
        a[0] + a[1] * o.u + a[2] * o.v
    } else {
        a[3] + a[4] * o.u + a[5] * o.v
    }
}

/// Weighted least squares of `model` over the observations flagged in `use_`. `None` when the
/// system is singular or a linear term is more than [`MAX_SPREAD_RATIO`] times less certain
/// than the shift (the blocks do not span the image enough to pin it).
fn solve_model(model: Model, obs: &[Obs], use_: &[bool]) -> Option<[f64; 6]> {
    let k = model.params();
    let mut a = vec![0.0f64; k * k];
    let mut b = vec![0.0f64; k];
    let mut wsum = [0.0f64; 2];
    for (o, _) in obs.iter().zip(use_).filter(|(o, &u)| u && o.w > 0.0) {
        let row = model.row(o);
        let wt = fit_weight(o.w);
        if let Some(ws) = wsum.get_mut(o.axis.min(1)) {
            *ws += wt;
        }
        for i in 0..k {
            if let Some(bi) = b.get_mut(i) {
                *bi += wt * row[i] * o.d;
            }
            for j in 0..k {
                if let Some(aij) = a.get_mut(i * k + j) {
                    *aij += wt * row[i] * row[j];
                }
            }
        }
    }
    let wmin = wsum[0].min(wsum[1]);
    if wmin <= 0.0 {
        return None;
    }
    // Variance of each parameter relative to the shift's (1 / weight): the diagonal of A^-1.
    for j in 0..k {
        let mut e = vec![0.0f64; k];
        if let Some(ej) = e.get_mut(j) {
            *ej = 1.0;
        }
        let col = solve(k, &mut a.clone(), &mut e)?;
        if col.get(j).copied().unwrap_or(f64::INFINITY) * wmin > MAX_SPREAD_RATIO {
            return None;
        }
    }
    let p = solve(k, &mut a, &mut b)?;
    Some(model.to_affine(&p))
}

/// Weight of an observation in the fit: its curvature, saturating at [`CURVATURE_CAP`]. The
/// curvature measures how well the block's SSD pins its shift, but a parabola through integer
/// shifts has a bias of its own (about a tenth of a pixel) that no sharpness removes, so past
/// that point blocks count alike.
fn fit_weight(curvature: f64) -> f64 {
    curvature / (1.0 + curvature / CURVATURE_CAP)
}

/// See [`fit_weight`]: the curvature of a block with a few dozen crisp edges.
const CURVATURE_CAP: f64 = 0.1;

/// Largest variance of a fitted parameter relative to that of the shift alone (a linear term
/// known five times less well than the shift, in pixels at the image edge).
const MAX_SPREAD_RATIO: f64 = 25.0;

/// Robust fit: start from the weighted median shift per axis, keep the observations within
/// [`MAX_RESIDUAL`] of the current fit, refit, until the set is stable.
fn fit(model: Model, obs: &[Obs]) -> Option<[f64; 6]> {
    let median = |axis: usize| {
        let mut v: Vec<(f64, f64)> = obs
            .iter()
            .filter(|o| o.axis == axis && o.w > 0.0)
            .map(|o| (o.d, fit_weight(o.w)))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        let half = v.iter().map(|p| p.1).sum::<f64>() / 2.0;
        let mut acc = 0.0;
        for (d, w) in &v {
            acc += w;
            if acc >= half {
                return Some(*d);
            }
        }
        None
    };
    let mut a = [median(0)?, 0.0, 0.0, median(1)?, 0.0, 0.0];
    // First pass loose (the start ignores rotation and scale), then at the residual bound.
    let mut bound = 8.0 * MAX_RESIDUAL;
    let mut use_: Vec<bool> = Vec::new();
    for _ in 0..6 {
        let next: Vec<bool> = obs
            .iter()
            .map(|o| (predict(&a, o) - o.d).abs() <= bound)
            .collect();
        if next == use_ && bound <= MAX_RESIDUAL {
            return Some(a);
        }
        use_ = next;
        a = solve_model(model, obs, &use_)?;
        bound = MAX_RESIDUAL;
    }
    None
}

/// How many informative observations agree with `a` within [`MAX_RESIDUAL`], and out of how
/// many (lost structured blocks count as disagreeing). Each observation counts once however
/// sharp its block, so a few dense blocks cannot outvote the rest of the board. A block informs
/// an axis when its curvature there is at least [`MIN_CURVATURE`] and a tenth of its curvature
/// on the other axis (an edge along the axis says nothing about it).
fn agreement(a: &[f64; 6], obs: &[Obs], other_w: impl Fn(usize) -> f64) -> (usize, usize) {
    let (mut all, mut ok) = (0usize, 0usize);
    for (i, o) in obs.iter().enumerate() {
        if o.lost {
            all += 1;
            continue;
        }
        if o.w < MIN_CURVATURE || o.w < 0.1 * other_w(i) {
            continue;
        }
        all += 1;
        if (predict(a, o) - o.d).abs() <= MAX_RESIDUAL {
            ok += 1;
        }
    }
    (ok, all)
}

/// Whether a fit is accepted: at least [`MIN_AGREEMENT`] of the informative observations
/// agree, and they are at least twice as many as the model has parameters.
fn accepted(model: Model, (ok, all): (usize, usize)) -> bool {
    ok >= 2 * model.params() && ok as f64 >= MIN_AGREEMENT * all as f64
}

/// Variance (squared z units) of the golden samples in a block.
fn block_variance(g: &Level, rect: Rect) -> f64 {
    let (mut n, mut s, mut ss) = (0.0f64, 0.0f64, 0.0f64);
    for y in rect.y0..rect.y1 {
        for &v in g.row(y).get(rect.x0..rect.x1).unwrap_or(&[]) {
            let v = f64::from(v) / ZSCALE;
            n += 1.0;
            s += v;
            ss += v * v;
        }
    }
    if n < 1.0 {
        return 0.0;
    }
    let m = s / n;
    ss / n - m * m
}

/// Least variance of a golden block (squared z units) for it to count as structured: one
/// trace across a block gives about 0.1, a blank block with JPEG noise 1e-4.
const MIN_BLOCK_VARIANCE: f64 = 0.01;

/// Least SSD curvature per pixel (z-normalised units) for a block to count as informative: a
/// tenth of what one straight edge across an 80-pixel block gives.
const MIN_CURVATURE: f64 = 0.005;

/// Fast registration of a same-size, nearly aligned pair (see the module doc); `None` when the
/// pair is not nearly aligned or has too little structure, and the full search must run.
pub(crate) fn register_near_aligned(g: &[u8], s: &[u8], w: usize, h: usize) -> Option<NearAligned> {
    if w < 128 || h < 128 {
        return None;
    }
    let g1 = level1_of_u8(g, w, h)?;
    let s1 = level1_of_u8(s, w, h)?;
    let (g2, s2) = (g1.halve(), s1.halve());
    let (g3, s3) = (g2.halve(), s2.halve());

    // Global shift on level 3, over the interior the search leaves valid.
    let m3 = GLOBAL_RADIUS.unsigned_abs();
    let whole = Rect {
        x0: m3,
        y0: m3,
        x1: g3.w.checked_sub(m3)?,
        y1: g3.h.checked_sub(m3)?,
    };
    let global = block_ssd(&g3, &s3, whole, (0, 0), GLOBAL_RADIUS)?;
    let gside = usize::try_from(2 * GLOBAL_RADIUS + 1).ok()?;
    let (gx, gy, _) = argmin(&global, gside)?;
    if gx == 0 || gy == 0 || gx + 1 == gside || gy + 1 == gside {
        return None;
    }
    let c2 = (
        2 * (gx as isize - GLOBAL_RADIUS),
        2 * (gy as isize - GLOBAL_RADIUS),
    );

    // The block grid on level 1, inside the margin the descents may need.
    let reach = 2 * c2.0.unsigned_abs().max(c2.1.unsigned_abs()) + 4 * (LEVEL2_STEPS + 1) + 2;
    let (xa, xb) = (reach, g1.w.checked_sub(reach)?);
    let (ya, yb) = (reach, g1.h.checked_sub(reach)?);
    let (bw, bh) = ((xb.checked_sub(xa)?) / GRID, (yb.checked_sub(ya)?) / GRID);
    if bw < 8 || bh < 8 {
        return None;
    }
    let (hw, hh) = (g1.w as f64 / 2.0, g1.h as f64 / 2.0);
    let mut obs = Vec::with_capacity(2 * GRID * GRID);
    let (mut ssd_min, mut nblocks) = (0.0f64, 0.0f64);
    for b in 0..GRID * GRID {
        let (bx, by) = (b % GRID, b / GRID);
        let r1 = Rect {
            x0: xa + bx * bw,
            y0: ya + by * bh,
            x1: xa + (bx + 1) * bw,
            y1: ya + (by + 1) * bh,
        };
        // Block centre in pixel coordinates, then normalised.
        let (u, v) = (
            ((r1.x0 + r1.x1) as f64 / 2.0 - 0.5 - hw) / hw,
            ((r1.y0 + r1.y1) as f64 / 2.0 - 0.5 - hh) / hh,
        );
        // The same block on level 2 (half the coordinates).
        let r2 = Rect {
            x0: r1.x0 / 2,
            y0: r1.y0 / 2,
            x1: r1.x1 / 2,
            y1: r1.y1 / 2,
        };
        let found = descend(&g2, &s2, r2, c2, LEVEL2_STEPS)
            .and_then(|d2| descend(&g1, &s1, r1, (2 * d2.best.0, 2 * d2.best.1), LEVEL1_STEPS));
        let Some(found) = found else {
            // No settled shift: a blank block says nothing; a structured one says the pair is
            // not nearly aligned there.
            let lost = block_variance(&g1, r1) >= MIN_BLOCK_VARIANCE;
            for axis in 0..2 {
                obs.push(Obs {
                    axis,
                    u,
                    v,
                    d: 0.0,
                    w: 0.0,
                    lost,
                });
            }
            continue;
        };
        let gr = &found.grid;
        let c = gr[4];
        ssd_min += c;
        nblocks += 1.0;
        let axis_fit = |l: f64, r: f64| {
            if l.is_finite() && r.is_finite() {
                parabola(l, c, r)
            } else {
                (0.0, 0.0)
            }
        };
        let (sx, wx) = axis_fit(gr[3], gr[5]);
        let (sy, wy) = axis_fit(gr[1], gr[7]);
        let base = (found.best.0 as f64, found.best.1 as f64);
        obs.push(Obs {
            axis: 0,
            u,
            v,
            d: base.0 + sx,
            w: wx,
            lost: false,
        });
        obs.push(Obs {
            axis: 1,
            u,
            v,
            d: base.1 + sy,
            w: wy,
            lost: false,
        });
    }
    // The two observations of a block sit next to each other: the other axis is `i ^ 1`.
    let other_w = |i: usize| obs.get(i ^ 1).map_or(0.0, |o| o.w);
    let a = [Model::Affine, Model::Similarity, Model::Shift]
        .into_iter()
        .filter_map(|m| fit(m, &obs).map(|a| (m, a)))
        .find(|(m, a)| accepted(*m, agreement(a, &obs, other_w)))?
        .1;
    // Near the identity: the per-block translation model holds and the search covered it.
    let lin = [a[1] / hw, a[2] / hh, a[4] / hw, a[5] / hh];
    if lin.iter().any(|v| v.abs() > 0.02) {
        return None;
    }
    // x_s = x + a0 + a1 (x - hw) / hw + a2 (y - hh) / hh on level 1 (and likewise y).
    let level1 = Homography([
        1.0 + lin[0],
        lin[1],
        a[0] - a[1] - a[2],
        lin[2],
        1.0 + lin[3],
        a[3] - a[4] - a[5],
        0.0,
        0.0,
        1.0,
    ]);
    let correlation = (1.0 - ssd_min / (2.0 * nblocks.max(1.0))).clamp(-1.0, 1.0);
    Some(NearAligned {
        transform: level1.from_level(1),
        correlation,
    })
}

/// Least fraction of the informative weight that must agree with the fit.
const MIN_AGREEMENT: f64 = 0.75;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A synthetic board: random dark rectangles on a light ground.
    fn board(w: usize, h: usize, seed: u64) -> Vec<u8> {
        let mut p = vec![220u8; w * h];
        let mut st = seed;
        let mut rnd = |n: usize| {
            st = st
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((st >> 33) as usize) % n.max(1)
        };
        for _ in 0..300 {
            let (x0, y0) = (rnd(w), rnd(h));
            let (rw, rh) = (3 + rnd(25), 3 + rnd(25));
            for y in y0..(y0 + rh).min(h) {
                for x in x0..(x0 + rw).min(w) {
                    p[y * w + x] = 30;
                }
            }
        }
        p
    }

    /// `out(x) = src(t(x))`, bilinear, edge clamped.
    fn warp(src: &[u8], w: usize, h: usize, t: &Homography) -> Vec<u8> {
        let mut out = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let (u, v) = t.apply(x as f64, y as f64).unwrap();
                let u = u.clamp(0.0, (w - 1) as f64);
                let v = v.clamp(0.0, (h - 1) as f64);
                let (x0, y0) = (u.floor() as usize, v.floor() as usize);
                let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
                let (fx, fy) = (u - x0 as f64, v - y0 as f64);
                let p = |xx: usize, yy: usize| f64::from(src[yy * w + xx]);
                let top = p(x0, y0) + (p(x1, y0) - p(x0, y0)) * fx;
                let bot = p(x0, y1) + (p(x1, y1) - p(x0, y1)) * fx;
                out[y * w + x] = (top + (bot - top) * fy).round() as u8;
            }
        }
        out
    }

    #[test]
    fn recovers_a_small_rotation_scale_and_shift() {
        let (w, h) = (480, 400);
        let g = board(w, h, 7);
        let truth = Homography::similarity(0.3, 1.006, 240.0, 200.0, 3.4, -2.2);
        let s = warp(&g, w, h, &truth.inverse().unwrap());
        let fit = register_near_aligned(&g, &s, w, h).unwrap();
        for (x, y) in [(40.0, 40.0), (440.0, 60.0), (240.0, 200.0), (60.0, 360.0)] {
            let a = truth.apply(x, y).unwrap();
            let b = fit.transform.apply(x, y).unwrap();
            assert!(
                (a.0 - b.0).abs() < 0.5 && (a.1 - b.1).abs() < 0.5,
                "{a:?} {b:?}"
            );
        }
        assert!(fit.correlation > 0.8, "{}", fit.correlation);
    }

    #[test]
    fn refuses_an_unrelated_or_rotated_pair() {
        let (w, h) = (320, 320);
        let g = board(w, h, 1);
        let t = Homography::similarity(8.0, 1.0, 160.0, 160.0, 0.0, 0.0);
        let s = warp(&g, w, h, &t);
        assert!(register_near_aligned(&g, &s, w, h).is_none());
        let other = board(w, h, 99);
        let r = register_near_aligned(&g, &other, w, h);
        assert!(r.is_none_or(|f| f.correlation < 0.5));
    }

    #[test]
    fn blank_and_tiny_inputs_are_refused_not_panics() {
        assert!(register_near_aligned(&[0; 16], &[0; 16], 4, 4).is_none());
        let flat = vec![128u8; 256 * 256];
        assert!(register_near_aligned(&flat, &flat, 256, 256).is_none());
        assert!(register_near_aligned(&flat, &flat[..100], 256, 256).is_none());
    }
}
