//! Change detection between a golden image and a registered suspect.
//!
//! A feature (a dark or bright structure) counts as changed only where it has no counterpart
//! within `tolerance_px` in the other image: `min_r(G) - S`, `G - max_r(S)` (suspect darker) and
//! `S - max_r(G)`, `min_r(S) - G` (suspect brighter), after mapping the suspect's two intensity
//! phases onto the golden's. This tolerates edge jitter, line-width variation and lighting, and
//! keeps one-pixel-wide features visible. The threshold is half the contrast between the two
//! phases (a pixel must cross the midpoint between material and background).

use serde::Serialize;

use crate::plane::{components8, label8};
use crate::register::{register, usize_of, Registration};
use crate::transform::Homography;
use crate::{BoardImage, Error, Options, Polarity};

/// What happened to the material in a changed region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChangeKind {
    /// Material present on the suspect that the golden lacks (the implant case).
    Added,
    /// Material on the golden that the suspect lacks.
    Missing,
    /// Material present in both but different (a replaced part).
    Altered,
}

/// A defect class, where the topology tells it (DeepPCB's classes for bare boards).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DefectClass {
    /// A golden copper region splits in the suspect.
    Open,
    /// Two golden copper regions join in the suspect.
    Short,
    /// Copper bitten from an edge.
    Mousebite,
    /// A protrusion from a copper edge.
    Spur,
    /// Isolated extra copper.
    Copper,
    /// A hole inside copper.
    PinHole,
    /// A change on an assembled (photographed) board: a part or its marking.
    Component,
}

impl DefectClass {
    /// DeepPCB's type id (1..=6), `None` for [`DefectClass::Component`].
    pub fn deeppcb_id(self) -> Option<u8> {
        match self {
            Self::Open => Some(1),
            Self::Short => Some(2),
            Self::Mousebite => Some(3),
            Self::Spur => Some(4),
            Self::Copper => Some(5),
            Self::PinHole => Some(6),
            Self::Component => None,
        }
    }

    /// The class for a DeepPCB type id.
    pub fn from_deeppcb_id(id: u8) -> Option<Self> {
        match id {
            1 => Some(Self::Open),
            2 => Some(Self::Short),
            3 => Some(Self::Mousebite),
            4 => Some(Self::Spur),
            5 => Some(Self::Copper),
            6 => Some(Self::PinHole),
            _ => None,
        }
    }

    /// Lower-case name as DeepPCB writes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Short => "short",
            Self::Mousebite => "mousebite",
            Self::Spur => "spur",
            Self::Copper => "copper",
            Self::PinHole => "pin-hole",
            Self::Component => "component",
        }
    }
}

/// How the images were analysed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ImageMode {
    /// Two intensity phases (binarised scans, X-ray): topology classes are given.
    TwoLevel,
    /// Continuous-tone photograph (assembled boards).
    Photo,
}

/// One changed region.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    /// `[x1, y1, x2, y2]` in golden pixels, `x2`/`y2` exclusive.
    pub bbox: [u32; 4],
    /// Added, missing or altered.
    pub kind: ChangeKind,
    /// The class where topology tells it.
    pub class: Option<DefectClass>,
    /// Confidence in [0, 1].
    pub score: f64,
    /// Changed pixels.
    pub area_px: u64,
    /// Changed area in mm² when `px_per_mm` is known.
    pub area_mm2: Option<f64>,
}

/// The result of [`diff`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DiffReport {
    /// How the suspect was aligned.
    pub registration: Registration,
    /// Changed regions, highest score first.
    pub changes: Vec<Change>,
    /// Golden image width.
    pub width: u32,
    /// Golden image height.
    pub height: u32,
    /// Two-level or photo analysis.
    pub mode: ImageMode,
    /// Contrast between the golden's two intensity phases (grey levels).
    pub contrast: f64,
    /// Difference threshold used (grey levels).
    pub threshold: f64,
}

/// Registers `suspect` onto `golden` and reports every changed region.
///
/// # Errors
/// Whatever [`register`] refuses.
pub fn diff(
    golden: &BoardImage,
    suspect: &BoardImage,
    opts: &Options,
) -> Result<DiffReport, Error> {
    let reg = register(golden, suspect, opts)?;
    Ok(diff_registered(golden, suspect, reg, opts))
}

/// Change detection given a registration (for callers that registered themselves).
pub fn diff_registered(
    golden: &BoardImage,
    suspect: &BoardImage,
    registration: Registration,
    opts: &Options,
) -> DiffReport {
    let (w, h) = (usize_of(golden.width()), usize_of(golden.height()));
    let g = golden.gray();
    let s_raw = warp_u8(suspect, &registration.transform, g, w, h);

    let og = otsu(g);
    let os = otsu(&s_raw);
    // A blank golden has no phases of its own: take the suspect's.
    let og = if og.bright - og.dark < 16.0 {
        Otsu {
            dark: os.dark,
            bright: os.bright,
            two_level: os.two_level,
        }
    } else {
        og
    };
    let contrast = (og.bright - og.dark).max(1.0);
    // Map the suspect's phases onto the golden's (lighting, exposure, white balance).
    let gain = if os.bright - os.dark > 1.0 {
        contrast / (os.bright - os.dark)
    } else {
        1.0
    };
    let mut lut = [0u8; 256];
    for (v, l) in lut.iter_mut().enumerate() {
        *l = (og.dark + (v as f64 - os.dark) * gain)
            .clamp(0.0, 255.0)
            .round() as u8;
    }
    let mut s = s_raw;
    // Same exposure (the common case): a map that moves no grey level by more than one is
    // within JPEG quantisation, and the threshold is half the contrast; skip it.
    if lut
        .iter()
        .enumerate()
        .any(|(i, &v)| usize::from(v).abs_diff(i) > 1)
    {
        for v in &mut s {
            *v = lut[usize::from(*v)];
        }
    }

    // Colour means a photograph: binarised scans and X-ray images are grey.
    let two_level = og.two_level && !has_colour(golden) && !has_colour(suspect);
    if !two_level {
        return photo_report(golden, suspect, registration, opts, contrast);
    }
    let mode = ImageMode::TwoLevel;
    let threshold = contrast / 2.0;
    let r = usize_of(opts.tolerance_px);
    let t = threshold as i16;
    let mut mask = tolerant_mask(w, h, g, &s, r, t);
    let min_area = ((r + 1) * (r + 1)) as u64;
    let field = Tolerance {
        w,
        h,
        g,
        s: &s,
        r,
        t,
    };
    let excess = |i: usize| field.excess(i % w.max(1), i / w.max(1));
    let mut regions = regions_of(w, h, &mut mask, DARKER, &excess, true, min_area, r, true);
    regions.extend(regions_of(
        w, h, &mut mask, BRIGHTER, &excess, false, min_area, r, true,
    ));
    regions.retain(|reg| field.survives_local_shift(reg, r, min_area));
    let cut = ((og.dark + og.bright) / 2.0) as u8;
    regions.retain(|reg| !(reg.is_sliver(r) && field.along_golden_edge(reg, cut)));
    let frame = Frame {
        w,
        h,
        sw: usize_of(suspect.width()),
        sh: usize_of(suspect.height()),
        transform: &registration.transform,
        margin: r,
    };
    regions.retain(|reg| !frame.touches_edge(reg));

    let material_dark = opts.material == Polarity::Dark;
    let mut changes = Vec::with_capacity(regions.len());
    let ctx = TopoCtx {
        w,
        h,
        g,
        s: &s,
        cut,
        material_dark,
        margin: 2 * r + 4,
    };
    for reg in &regions {
        let added = reg.darker == material_dark;
        let kind = if added {
            ChangeKind::Added
        } else {
            ChangeKind::Missing
        };
        let class = if two_level {
            Some(ctx.classify(reg, added))
        } else {
            Some(DefectClass::Component)
        };
        let mean_excess = reg.excess_sum as f64 / reg.area.max(1) as f64;
        let strength = (mean_excess / contrast).clamp(0.0, 1.0);
        let size = 1.0 - (-(reg.area as f64) / (4.0 * min_area as f64)).exp();
        changes.push(Change {
            bbox: reg.bbox_u32(),
            kind,
            class,
            score: (strength * size).clamp(0.0, 1.0),
            area_px: reg.area,
            area_mm2: opts
                .px_per_mm
                .filter(|p| *p > 0.0)
                .map(|p| reg.area as f64 / (p * p)),
        });
    }
    changes.sort_by(|a, b| b.score.total_cmp(&a.score));
    DiffReport {
        registration,
        changes,
        width: golden.width(),
        height: golden.height(),
        mode,
        contrast,
        threshold,
    }
}

/// The photo path (see [`crate::photo`]): colour planes of both images, the suspect's
/// resampled into the golden frame.
fn photo_report(
    golden: &BoardImage,
    suspect: &BoardImage,
    registration: Registration,
    opts: &Options,
    contrast: f64,
) -> DiffReport {
    let (w, h) = (usize_of(golden.width()), usize_of(golden.height()));
    let (sw, sh) = (usize_of(suspect.width()), usize_of(suspect.height()));
    let planes = |img: &BoardImage, other: &BoardImage| -> Vec<Vec<u8>> {
        match (img.rgb(), other.rgb()) {
            (Some(rgb), Some(_)) => (0..3)
                .map(|c| rgb.iter().skip(c).step_by(3).copied().collect())
                .collect(),
            _ => vec![img.gray().to_vec()],
        }
    };
    let gp = planes(golden, suspect);
    let sp: Vec<Vec<u8>> = planes(suspect, golden)
        .iter()
        .zip(&gp)
        .map(|(s, g)| warp_plane_u8(s, sw, sh, &registration.transform, g, w, h))
        .collect();
    let res = crate::photo::photo_changes(&gp, &sp, w, h, opts);
    DiffReport {
        registration,
        changes: res.changes,
        width: golden.width(),
        height: golden.height(),
        mode: ImageMode::Photo,
        contrast,
        threshold: res.threshold,
    }
}

/// Suspect resampled into the golden frame; pixels outside the suspect take the golden value
/// (no evidence there, so no change).
pub(crate) fn warp_u8(s: &BoardImage, h: &Homography, g: &[u8], w: usize, hgt: usize) -> Vec<u8> {
    let (sw, sh) = (usize_of(s.width()), usize_of(s.height()));
    warp_plane_u8(s.gray(), sw, sh, h, g, w, hgt)
}

/// [`warp_u8`] for one `sw x sh` sample plane; `fallback` (the golden plane) fills the pixels
/// the suspect does not cover.
pub(crate) fn warp_plane_u8(
    sp: &[u8],
    sw: usize,
    sh: usize,
    h: &Homography,
    fallback: &[u8],
    w: usize,
    hgt: usize,
) -> Vec<u8> {
    let g = fallback;
    if sw == 0 || sh == 0 || sp.len() < sw * sh {
        return g.to_vec();
    }
    let m = &h.0;
    let mut out = g.to_vec();
    if m[6] == 0.0 && m[7] == 0.0 && m[8] == 1.0 {
        warp_affine_u8(sp, sw, sh, m, &mut out, w, hgt);
    } else {
        warp_projective_u8(sp, sw, sh, m, &mut out, w, hgt);
    }
    out
}

/// Largest distance (px) between a projective row's midpoint and the chord [`warp_projective_u8`]
/// puts in its place. Along a run without a pole each coordinate is convex or concave, so the
/// chord stays within twice this anywhere on the run (1/16 px).
const CHORD_TOLERANCE_PX: f64 = 1.0 / 32.0;

/// The projective case of [`warp_plane_u8`]. Along a row the sample position is a ratio of two
/// linear functions of x whose second derivative is `-2 c u' / d` (c the row's perspective term,
/// d the denominator): over a run of a few hundred pixels of a camera tilted by a few degrees it
/// stays a straight line to within a hundredth of a pixel. Each run is therefore resampled as the
/// affine map along its chord (exact at both ends); a run whose midpoint leaves the chord by more
/// than [`CHORD_TOLERANCE_PX`], or that crosses the pole, is halved, and below 8 px it is
/// computed pixel by pixel.
fn warp_projective_u8(
    sp: &[u8],
    sw: usize,
    sh: usize,
    m: &[f64; 9],
    out: &mut [u8],
    w: usize,
    hgt: usize,
) {
    // The sample position and the sign of the denominator (a run whose ends differ in sign
    // crosses the map's pole, the horizon of a tilted plane, and is never taken as a chord).
    let at = |x: f64, y: f64| -> Option<(f64, f64, bool)> {
        let d = m[6] * x + m[7] * y + m[8];
        let (u, v) = (
            (m[0] * x + m[1] * y + m[2]) / d,
            (m[3] * x + m[4] * y + m[5]) / d,
        );
        (d.abs() > 1e-12 && u.is_finite() && v.is_finite()).then_some((u, v, d > 0.0))
    };
    for (y, row) in out.chunks_exact_mut(w.max(1)).take(hgt).enumerate() {
        let yf = y as f64;
        let mut x0 = 0usize;
        let mut len = w.min(256);
        while x0 < w {
            len = len.min(w - x0).max(1);
            let (xa, xb) = (x0 as f64, (x0 + len - 1) as f64);
            let chord = match (at(xa, yf), at(xb, yf), at((xa + xb) / 2.0, yf)) {
                (Some(a), Some(b), Some(mid)) if a.2 == b.2 && a.2 == mid.2 => {
                    let off = ((a.0 + b.0) / 2.0 - mid.0).hypot((a.1 + b.1) / 2.0 - mid.1);
                    (off <= CHORD_TOLERANCE_PX).then_some(((a.0, a.1), (b.0, b.1)))
                }
                _ => None,
            };
            let Some(seg) = row.get_mut(x0..x0 + len) else {
                break;
            };
            match chord {
                Some(((ua, va), (ub, vb))) => {
                    // The affine map of this run: x -> chord, y held at this row.
                    let span = (len - 1).max(1) as f64;
                    let (du, dv) = ((ub - ua) / span, (vb - va) / span);
                    let local = [du, 0.0, ua - du * xa, dv, 0.0, va - dv * xa, 0.0, 0.0, 1.0];
                    warp_affine_row(sp, sw, sh, &local, seg, x0, y);
                }
                None if len > 8 => {
                    len /= 2;
                    continue;
                }
                None => {
                    for (i, o) in seg.iter_mut().enumerate() {
                        if let Some((u, v, _)) = at((x0 + i) as f64, yf) {
                            if let Some(val) = bilinear_u8(sp, sw, sh, u, v) {
                                *o = val;
                            }
                        }
                    }
                }
            }
            x0 += len;
            // Let the next run try to grow back.
            len = (len * 2).min(256);
        }
    }
}

/// Bilinear sample of the suspect at (u, v), `None` outside it.
fn bilinear_u8(sp: &[u8], sw: usize, sh: usize, u: f64, v: f64) -> Option<u8> {
    if sw == 0 || sh == 0 || !(u >= 0.0 && v >= 0.0 && u <= (sw - 1) as f64 && v <= (sh - 1) as f64)
    {
        return None;
    }
    let (x0, y0) = (u as usize, v as usize);
    let (fx, fy) = (u - x0 as f64, v - y0 as f64);
    let x1 = (x0 + 1).min(sw - 1);
    let y1 = (y0 + 1).min(sh - 1);
    let p = |xx: usize, yy: usize| f64::from(sp.get(yy * sw + xx).copied().unwrap_or(0));
    let top = p(x0, y0) + (p(x1, y0) - p(x0, y0)) * fx;
    let bot = p(x0, y1) + (p(x1, y1) - p(x0, y1)) * fx;
    Some((top + (bot - top) * fy + 0.5).clamp(0.0, 255.0) as u8)
}

/// Fixed-point bits of the affine warp's coordinates (1/65536 px; over a 64k-pixel row the
/// accumulated step error stays under a pixel's 1/100).
const FIX: u32 = 16;

/// The affine case of [`warp_plane_u8`]. Pixels of `out` that the suspect does not cover are
/// left as they are.
///
/// A nearly aligned pair (the common case) has a linear part close to the identity, so along a
/// short run of a row the sample position is the output position plus a constant offset to
/// within [`RUN_TOLERANCE_PX`]: such runs take one pair of bilinear weights (in 1/128) and are
/// computed a whole run at a time. Other runs step their coordinates in fixed point per pixel.
fn warp_affine_u8(
    sp: &[u8],
    sw: usize,
    sh: usize,
    m: &[f64; 9],
    out: &mut [u8],
    w: usize,
    hgt: usize,
) {
    for (y, row) in out.chunks_exact_mut(w.max(1)).take(hgt).enumerate() {
        warp_affine_row(sp, sw, sh, m, row, 0, y);
    }
}

/// [`warp_affine_u8`] over `out` = row `y`, columns `x0..x0 + out.len()`.
fn warp_affine_row(
    sp: &[u8],
    sw: usize,
    sh: usize,
    m: &[f64; 9],
    out: &mut [u8],
    x0: usize,
    y: usize,
) {
    let drift = (m[0] - 1.0).abs().max(m[3].abs());
    let run = if drift > 0.0 {
        (2.0 * RUN_TOLERANCE_PX / drift).min(out.len() as f64) as usize
    } else {
        out.len()
    };
    if run < 8 {
        warp_run_exact(sp, sw, sh, m, out, x0, y);
        return;
    }
    let mut x0 = x0;
    for seg in out.chunks_mut(run) {
        let len = seg.len();
        let xm = x0 as f64 + (len as f64 - 1.0) / 2.0;
        let yf = y as f64;
        let ou = m[0] * xm + m[1] * yf + m[2] - xm;
        let v = m[3] * xm + m[4] * yf + m[5];
        match warp_run_shift(sp, sw, sh, seg, x0, ou, v) {
            Some((i0, i1)) => {
                // The ends of the run that reach outside the suspect, pixel by pixel.
                let (head, rest) = seg.split_at_mut(i0.min(len));
                warp_run_exact(sp, sw, sh, m, head, x0, y);
                if let Some(tail) = rest.get_mut(i1.saturating_sub(i0)..) {
                    warp_run_exact(sp, sw, sh, m, tail, x0 + i1, y);
                }
            }
            None => warp_run_exact(sp, sw, sh, m, seg, x0, y),
        }
        x0 += len;
    }
}

/// Largest position error (px) a run of [`warp_affine_u8`] may take for one constant offset.
const RUN_TOLERANCE_PX: f64 = 1.0 / 16.0;

/// `out[i] = suspect(x0 + i + ou, v)` by bilinear interpolation with constant weights, over
/// the part `i0..i1` of the run whose samples all lie inside the suspect (returned; `None` when
/// no part does or the offset is absurd).
fn warp_run_shift(
    sp: &[u8],
    sw: usize,
    sh: usize,
    out: &mut [u8],
    x0: usize,
    ou: f64,
    v: f64,
) -> Option<(usize, usize)> {
    let len = out.len();
    if !(ou.is_finite() && v.is_finite()) || ou.abs() > 1e6 || v.abs() > 1e6 {
        return None;
    }
    // Whole pixels and 1/128ths of the offset and of the row.
    let q = |f: f64| {
        let t = (f * 128.0).round() as i64;
        (t.div_euclid(128), t.rem_euclid(128) as u16)
    };
    let ((ix, fx), (iy, fy)) = (q(ou), q(v));
    let (x0, sw_i, sh_i, len_i) = (
        i64::try_from(x0).ok()?,
        i64::try_from(sw).ok()?,
        i64::try_from(sh).ok()?,
        i64::try_from(len).ok()?,
    );
    // Rows iy (and iy + 1 when fy > 0) must exist; columns x0 + i + ix (and one more when
    // fx > 0) must lie in 0..sw.
    if iy < 0 || iy + i64::from(fy > 0) >= sh_i {
        return None;
    }
    let lo = (-(x0 + ix)).clamp(0, len_i);
    let hi = (sw_i - i64::from(fx > 0) - x0 - ix).clamp(lo, len_i);
    if hi <= lo {
        return None;
    }
    let (i0, i1) = (usize::try_from(lo).ok()?, usize::try_from(hi).ok()?);
    let n = i1 - i0;
    let sx = usize::try_from(x0 + ix + lo).ok()?;
    let iy = usize::try_from(iy).ok()?;
    let row = |r: usize, off: usize| sp.get(r * sw + sx + off..r * sw + sx + off + n);
    let dst = out.get_mut(i0..i1)?;
    let a0 = row(iy, 0)?;
    if fx == 0 && fy == 0 {
        dst.copy_from_slice(a0);
        return Some((i0, i1));
    }
    let (r1, c1) = (iy + usize::from(fy > 0), usize::from(fx > 0));
    let (a1, b0, b1) = (row(iy, c1)?, row(r1, 0)?, row(r1, c1)?);
    let (wx, wy) = (128 - fx, 128 - fy);
    for ((((o, &p), &q), &r), &t) in dst.iter_mut().zip(a0).zip(a1).zip(b0).zip(b1) {
        let top = (u16::from(p) * wx + u16::from(q) * fx + 64) >> 7;
        let bot = (u16::from(r) * wx + u16::from(t) * fx + 64) >> 7;
        *o = ((top * wy + bot * fy + 64) >> 7) as u8;
    }
    Some((i0, i1))
}

/// Per-pixel affine resampling of `out` = row `y`, columns `x0..`, coordinates stepped in
/// fixed point (1/65536 px), weights in 1/256; pixels outside the suspect are left alone.
fn warp_run_exact(
    sp: &[u8],
    sw: usize,
    sh: usize,
    m: &[f64; 9],
    out: &mut [u8],
    x0: usize,
    y: usize,
) {
    let one = f64::from(1u32 << FIX);
    // Any coordinate beyond this is far outside the suspect; keeps the fixed point in range.
    let lim = 1.0e9;
    let (Ok(sw_i), Ok(sh_i)) = (i64::try_from(sw), i64::try_from(sh)) else {
        return;
    };
    if sw == 0 || sh == 0 {
        return;
    }
    let (umax, vmax) = ((sw_i - 1) << FIX, (sh_i - 1) << FIX);
    let du = (m[0] * one).round().clamp(-lim, lim) as i64;
    let dv = (m[3] * one).round().clamp(-lim, lim) as i64;
    let pix = |x: usize, y: usize| u32::from(sp.get(y * sw + x).copied().unwrap_or(0));
    let (xf, yf) = (x0 as f64, y as f64);
    let mut u = ((m[0] * xf + m[1] * yf + m[2]) * one)
        .round()
        .clamp(-lim * one, lim * one) as i64;
    let mut v = ((m[3] * xf + m[4] * yf + m[5]) * one)
        .round()
        .clamp(-lim * one, lim * one) as i64;
    for o in out.iter_mut() {
        if u >= 0 && v >= 0 && u <= umax && v <= vmax {
            let (x0, y0) = ((u >> FIX) as usize, (v >> FIX) as usize);
            let fx = ((u >> (FIX - 8)) & 255) as u32;
            let fy = ((v >> (FIX - 8)) & 255) as u32;
            let x1 = (x0 + 1).min(sw - 1);
            let y1 = (y0 + 1).min(sh - 1);
            let top = pix(x0, y0) * (256 - fx) + pix(x1, y0) * fx;
            let bot = pix(x0, y1) * (256 - fx) + pix(x1, y1) * fx;
            let val = (top * (256 - fy) + bot * fy + (1 << 15)) >> 16;
            *o = u8::try_from(val).unwrap_or(u8::MAX);
        }
        u += du;
        v += dv;
    }
}

/// Whether the image has colour worth the name: mean channel spread over a sample grid above
/// 8 grey levels (JPEG chroma noise on a grey image stays well below).
fn has_colour(img: &BoardImage) -> bool {
    let Some(rgb) = img.rgb() else {
        return false;
    };
    let px = rgb.len() / 3;
    let step = (px / 20_000).max(1);
    let (mut n, mut acc) = (0u64, 0u64);
    for p in rgb.chunks_exact(3).step_by(step) {
        if let [r, g, b] = *p {
            acc += u64::from(r.max(g).max(b) - r.min(g).min(b));
            n += 1;
        }
    }
    n > 0 && acc > 8 * n
}

/// Two-class statistics of a grey histogram.
struct Otsu {
    dark: f64,
    bright: f64,
    /// At least 90 % of pixels lie within a quarter of the contrast of a class mean.
    two_level: bool,
}

fn otsu(px: &[u8]) -> Otsu {
    // Four interleaved histograms: consecutive equal pixels (most of an image) would otherwise
    // wait on each other's increment.
    let mut parts = [[0u32; 256]; 4];
    for chunk in px.chunks(1 << 24) {
        let mut sub = [[0u32; 256]; 4];
        let quads = chunk.chunks_exact(4);
        for &p in quads.remainder() {
            sub[0][usize::from(p)] += 1;
        }
        for q in quads {
            if let [a, b, c, d] = *q {
                sub[0][usize::from(a)] += 1;
                sub[1][usize::from(b)] += 1;
                sub[2][usize::from(c)] += 1;
                sub[3][usize::from(d)] += 1;
            }
        }
        for (p, s) in parts.iter_mut().zip(&sub) {
            for (a, b) in p.iter_mut().zip(s) {
                *a = a.saturating_add(*b);
            }
        }
    }
    let mut hist = [0u64; 256];
    for p in &parts {
        for (h, &c) in hist.iter_mut().zip(p) {
            *h += u64::from(c);
        }
    }
    let total: u64 = hist.iter().sum();
    let sum: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum();
    let (mut wb, mut sb, mut best, mut thr) = (0u64, 0.0f64, -1.0f64, 127usize);
    for (i, &c) in hist.iter().enumerate() {
        wb += c;
        sb += i as f64 * c as f64;
        let wf = total - wb;
        if wb == 0 || wf == 0 {
            continue;
        }
        let mb = sb / wb as f64;
        let mf = (sum - sb) / wf as f64;
        let between = wb as f64 * wf as f64 * (mb - mf) * (mb - mf);
        if between > best {
            best = between;
            thr = i;
        }
    }
    let mean = |lo: usize, hi: usize| {
        let (mut n, mut s) = (0.0f64, 0.0f64);
        for (i, &c) in hist.iter().enumerate().take(hi).skip(lo) {
            n += c as f64;
            s += i as f64 * c as f64;
        }
        if n > 0.0 {
            s / n
        } else {
            lo as f64
        }
    };
    let dark = mean(0, thr + 1);
    let bright = mean(thr + 1, 256);
    // A binarised scan keeps nearly all pixels within an eighth of the contrast of its two
    // levels (JPEG ringing aside); a photograph's shading and texture spread far wider.
    let q = (bright - dark) / 8.0;
    let near: u64 = hist
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            let v = *i as f64;
            (v - dark).abs() <= q || (v - bright).abs() <= q
        })
        .map(|(_, &c)| c)
        .sum();
    Otsu {
        dark,
        bright,
        two_level: total > 0 && near as f64 >= 0.95 * total as f64,
    }
}

/// A connected changed region before classification.
pub(crate) struct Region {
    pub(crate) x0: usize,
    pub(crate) y0: usize,
    pub(crate) x1: usize,
    pub(crate) y1: usize,
    pub(crate) area: u64,
    pub(crate) excess_sum: u64,
    pub(crate) darker: bool,
    /// One pixel of the region (for topology seeds).
    seed: (usize, usize),
    /// Pixels (capped) of the region.
    pub(crate) pixels: Vec<(usize, usize)>,
}

/// Least length-to-mean-thickness ratio of an edge sliver (see [`Region::is_sliver`]).
const SLIVER_ELONGATION: f64 = 20.0;

impl Region {
    /// A long thin strip (kept when it does not run along a golden edge, see
    /// `Tolerance::along_golden_edge`): its length (the longer side of its box, without the
    /// tolerance margin) is at least [`SLIVER_ELONGATION`] times its mean thickness (area over
    /// length). That is an edge displaced along its run (line-width variation, a stretched
    /// scan line), which the tolerance leaves as a thin band; a defect (an open, a short, a
    /// bite, a spur, extra copper, a hole) is a blob a few times longer than thick at most.
    pub(crate) fn is_sliver(&self, r: usize) -> bool {
        let side = (self.x1.saturating_sub(self.x0)).max(self.y1.saturating_sub(self.y0));
        let len = side.saturating_sub(2 * r) as f64;
        len * len >= SLIVER_ELONGATION * self.area.max(1) as f64
    }

    pub(crate) fn bbox_u32(&self) -> [u32; 4] {
        let c = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        [c(self.x0), c(self.y0), c(self.x1), c(self.y1)]
    }
}

#[allow(clippy::too_many_arguments)] // One call site per mode; a struct would only rename them.
pub(crate) fn regions_of(
    w: usize,
    h: usize,
    mask: &mut [u8],
    bit: u8,
    excess: &dyn Fn(usize) -> u8,
    darker: bool,
    min_area: u64,
    r: usize,
    merge_boxes: bool,
) -> Vec<Region> {
    let mut regs: Vec<Region> = Vec::new();
    components8(w, h, mask, bit, |comp| {
        let mut rg = Region {
            x0: usize::MAX,
            y0: usize::MAX,
            x1: 0,
            y1: 0,
            area: 0,
            excess_sum: 0,
            darker,
            seed: (0, 0),
            pixels: Vec::with_capacity(comp.len().min(4096)),
        };
        for &i in comp {
            let (x, y) = (i % w, i / w);
            rg.x0 = rg.x0.min(x);
            rg.y0 = rg.y0.min(y);
            rg.x1 = rg.x1.max(x + 1);
            rg.y1 = rg.y1.max(y + 1);
            rg.area += 1;
            rg.excess_sum += u64::from(excess(i));
            rg.seed = (x, y);
            if rg.pixels.len() < 4096 {
                rg.pixels.push((x, y));
            }
        }
        regs.push(rg);
    });
    regs.retain(|rg| rg.area >= min_area);
    // Fragments of one defect belong together when their tolerance neighbourhoods touch (a gap
    // of at most 2r): the tolerance erodes each side of a defect by r, so one defect whose
    // middle barely exceeds the threshold falls apart into pieces that far apart.
    let mut merged = merge_boxes;
    while merged {
        merged = false;
        let mut i = 0;
        while i < regs.len() {
            let mut j = i + 1;
            while j < regs.len() {
                let near = match (regs.get(i), regs.get(j)) {
                    (Some(a), Some(b)) => {
                        let g = 2 * r;
                        a.x0 <= b.x1 + g && b.x0 <= a.x1 + g && a.y0 <= b.y1 + g && b.y0 <= a.y1 + g
                    }
                    _ => false,
                };
                if near {
                    let b = regs.swap_remove(j);
                    if let Some(a) = regs.get_mut(i) {
                        a.x0 = a.x0.min(b.x0);
                        a.y0 = a.y0.min(b.y0);
                        a.x1 = a.x1.max(b.x1);
                        a.y1 = a.y1.max(b.y1);
                        a.area += b.area;
                        a.excess_sum += b.excess_sum;
                        a.pixels.extend(b.pixels);
                    }
                    merged = true;
                } else {
                    j += 1;
                }
            }
            i += 1;
        }
    }
    // The detector erodes each change by the tolerance; give it back.
    for rg in &mut regs {
        rg.x0 = rg.x0.saturating_sub(r);
        rg.y0 = rg.y0.saturating_sub(r);
        rg.x1 = (rg.x1 + r).min(w);
        rg.y1 = (rg.y1 + r).min(h);
    }
    regs
}

/// Mask bit of a pixel where the suspect is darker than the golden beyond the tolerance.
const DARKER: u8 = 1;
/// Mask bit of a pixel where the suspect is brighter.
const BRIGHTER: u8 = 2;

/// The tolerant difference test over the image: bit [`DARKER`] where
/// `max(min_r(G) - S, G - max_r(S)) > t`, bit [`BRIGHTER`] where
/// `max(S - max_r(G), min_r(S) - G) > t` (`min_r`/`max_r`: over the `(2r+1)`-square).
///
/// Both excesses are bounded by `|G - S|` (`min_r(G) <= G`, `max_r(S) >= S`, and likewise), so
/// only pixels with `|G - S| > t` can pass: one vectorised sweep finds those candidates (about
/// one pixel in a hundred on a registered pair) and the square extremes are taken at them
/// alone, instead of filtering both images whole.
fn tolerant_mask(w: usize, h: usize, g: &[u8], s: &[u8], r: usize, t: i16) -> Vec<u8> {
    const RUN: usize = 64;
    let n = w.saturating_mul(h);
    let mut mask = vec![0u8; n];
    if w == 0 || h == 0 || g.len() < n || s.len() < n || t >= 255 {
        return mask;
    }
    let tu = u8::try_from(t.max(0)).unwrap_or(u8::MAX);
    for ((m, &a), &b) in mask.iter_mut().zip(g).zip(s) {
        *m = u8::from(a.abs_diff(b) > tu);
    }
    for (k, run) in mask.chunks_mut(RUN).enumerate() {
        if run.iter().fold(0u8, |a, &b| a | b) == 0 {
            continue;
        }
        for (j, m) in run.iter_mut().enumerate() {
            if *m == 0 {
                continue;
            }
            let i = k * RUN + j;
            let (x, y) = (i % w, i / w);
            let (gn, gx) = window_extremes(g, w, h, x, y, r);
            let (sn, sx) = window_extremes(s, w, h, x, y, r);
            let (gv, sv) = (
                i16::from(g.get(i).copied().unwrap_or(0)),
                i16::from(s.get(i).copied().unwrap_or(0)),
            );
            let d = (gn - sv).max(gv - sx);
            let b = (sv - gx).max(sn - gv);
            *m = (u8::from(d > t) * DARKER) | (u8::from(b > t) * BRIGHTER);
        }
    }
    mask
}

/// Minimum and maximum of `img` over the `(2r+1)`-square around `(x, y)`, clamped to the image.
#[inline]
fn window_extremes(img: &[u8], w: usize, h: usize, x: usize, y: usize, r: usize) -> (i16, i16) {
    let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
    let (mut lo, mut hi) = (u8::MAX, u8::MIN);
    for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
        for &v in img.get(yy * w + x0..yy * w + x1).unwrap_or(&[]) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if lo > hi {
        return (0, 0);
    }
    (i16::from(lo), i16::from(hi))
}

/// The tolerant difference test at single pixels, evaluable with the suspect displaced.
pub(crate) struct Tolerance<'a> {
    w: usize,
    h: usize,
    g: &'a [u8],
    s: &'a [u8],
    r: usize,
    t: i16,
}

impl Tolerance<'_> {
    /// True when at least half of the region lies within `2r` of a golden edge (golden
    /// pixels on both sides of `cut` in the window): a strip there is an edge that moved
    /// (the local-shift search reaches `2r` too). A strip over plain substrate or plain
    /// material, such as a wire laid across the board, is not.
    fn along_golden_edge(&self, reg: &Region, cut: u8) -> bool {
        let c = i16::from(cut);
        let near = reg
            .pixels
            .iter()
            .filter(|&&(x, y)| {
                let (lo, hi) = window_extremes(self.g, self.w, self.h, x, y, 2 * self.r);
                lo <= c && hi > c
            })
            .count();
        2 * near >= reg.pixels.len()
    }

    /// `(darker, brighter)` excesses at golden pixel `(x, y)` against suspect pixel `(qx, qy)`.
    #[inline]
    fn excesses(&self, x: usize, y: usize, qx: usize, qy: usize) -> (i16, i16) {
        let (gn, gx) = window_extremes(self.g, self.w, self.h, x, y, self.r);
        let (sn, sx) = window_extremes(self.s, self.w, self.h, qx, qy, self.r);
        let px = |a: &[u8], k: usize| i16::from(a.get(k).copied().unwrap_or(0));
        let (gv, sv) = (px(self.g, y * self.w + x), px(self.s, qy * self.w + qx));
        ((gn - sv).max(gv - sx), (sv - gx).max(sn - gv))
    }

    /// `(darker, brighter)` at golden pixel `(x, y)` against suspect pixel `(x + dx, y + dy)`.
    #[inline]
    fn flags(&self, x: usize, y: usize, dx: isize, dy: isize) -> (bool, bool) {
        let (Some(qx), Some(qy)) = (x.checked_add_signed(dx), y.checked_add_signed(dy)) else {
            return (false, false);
        };
        if qx >= self.w || qy >= self.h || x >= self.w || y >= self.h {
            return (false, false);
        }
        let (d, b) = self.excesses(x, y, qx, qy);
        (d > self.t, b > self.t)
    }

    /// How far (grey levels, 0..=255) the pixel `(x, y)` is beyond the tolerance band.
    fn excess(&self, x: usize, y: usize) -> u8 {
        if x >= self.w || y >= self.h {
            return 0;
        }
        let (d, b) = self.excesses(x, y, x, y);
        d.max(b).clamp(0, 255) as u8
    }

    /// Registration is global; scans and photos also distort locally by a pixel or two (a
    /// stretched scan line, lens distortion, parallax). The local displacement is measured
    /// around the region (its box plus `4r` on each side, the region itself excluded) as the
    /// shift of up to `r` pixels that best matches the grey levels (sum of absolute
    /// differences); a region that no longer shows under that displacement was residual
    /// misalignment, not a change. A real defect stays, displaced within its own box.
    pub(crate) fn survives_local_shift(&self, reg: &Region, r: usize, min_area: u64) -> bool {
        let m = 4 * r;
        let (x0, y0) = (reg.x0.saturating_sub(m), reg.y0.saturating_sub(m));
        let (x1, y1) = ((reg.x1 + m).min(self.w), (reg.y1 + m).min(self.h));
        // Sum of |g - s| over columns a..b of one row pair, `s` displaced by `dx` (columns whose
        // displaced sample leaves the image are skipped).
        let run = |gr: &[u8], sr: &[u8], a: usize, b: usize, dx: isize| -> u64 {
            let a = a.max(dx.min(0).unsigned_abs());
            let b = b.min(self.w.saturating_sub(dx.max(0).unsigned_abs()));
            if b <= a {
                return 0;
            }
            let (Some(gs), Some(ss)) = (
                gr.get(a..b),
                a.checked_add_signed(dx)
                    .and_then(|sa| sr.get(sa..sa + (b - a))),
            ) else {
                return 0;
            };
            gs.iter()
                .zip(ss)
                .map(|(&p, &q)| u32::from(p.abs_diff(q)))
                .sum::<u32>()
                .into()
        };
        let sad = |dx: isize, dy: isize| {
            let mut acc = 0u64;
            for y in y0..y1 {
                let (Some(qy), Some(gr)) = (
                    y.checked_add_signed(dy).filter(|&q| q < self.h),
                    self.g.get(y * self.w..(y + 1) * self.w),
                ) else {
                    continue;
                };
                let Some(sr) = self.s.get(qy * self.w..(qy + 1) * self.w) else {
                    continue;
                };
                if y >= reg.y0 && y < reg.y1 {
                    acc += run(gr, sr, x0, reg.x0, dx) + run(gr, sr, reg.x1, x1, dx);
                } else {
                    acc += run(gr, sr, x0, x1, dx);
                }
            }
            acc
        };
        let (dx, dy) = crate::plane::best_shift(2 * r, sad);
        if dx == 0 && dy == 0 {
            return true;
        }
        let mut inside = 0u64;
        for y in reg.y0.saturating_sub(r)..(reg.y1 + r).min(self.h) {
            for x in reg.x0.saturating_sub(r)..(reg.x1 + r).min(self.w) {
                let (d, b) = self.flags(x, y, dx, dy);
                if (reg.darker && d) || (!reg.darker && b) {
                    inside += 1;
                }
            }
        }
        inside >= min_area && 2 * inside >= reg.area
    }
}

/// Where the comparison is complete: golden pixels whose tolerance window lies inside the
/// golden image and whose mapped window lies inside the suspect.
struct Frame<'a> {
    w: usize,
    h: usize,
    sw: usize,
    sh: usize,
    transform: &'a Homography,
    margin: usize,
}

impl Frame<'_> {
    /// Whether a region reaches the edge of the compared area. Its extent beyond the edge is
    /// unknown, and at the edge the two pictures' crops differ (scan margins, a camera's field
    /// of view, the uncovered corners of a rotated or scaled shot, where the suspect shows
    /// background that is not the board): such a region is not evidence of a change.
    fn touches_edge(&self, reg: &Region) -> bool {
        let m = self.margin;
        if reg.x0 == 0 || reg.y0 == 0 || reg.x1 >= self.w || reg.y1 >= self.h {
            return true;
        }
        let (lo, hi_x, hi_y) = (
            m as f64,
            self.sw as f64 - 1.0 - m as f64,
            self.sh as f64 - 1.0 - m as f64,
        );
        reg.pixels.iter().any(|&(x, y)| {
            x < m
                || y < m
                || x + m >= self.w
                || y + m >= self.h
                || self
                    .transform
                    .apply(x as f64, y as f64)
                    .is_none_or(|(u, v)| !(u >= lo && v >= lo && u <= hi_x && v <= hi_y))
        })
    }
}

/// What topology classification needs.
struct TopoCtx<'a> {
    w: usize,
    h: usize,
    g: &'a [u8],
    s: &'a [u8],
    cut: u8,
    material_dark: bool,
    margin: usize,
}

impl TopoCtx<'_> {
    fn material(&self, v: u8) -> bool {
        if self.material_dark {
            v < self.cut
        } else {
            v >= self.cut
        }
    }

    /// Window around the region, clamped to the image.
    fn window(&self, reg: &Region) -> (usize, usize, usize, usize) {
        (
            reg.x0.saturating_sub(self.margin),
            reg.y0.saturating_sub(self.margin),
            (reg.x1 + self.margin).min(self.w),
            (reg.y1 + self.margin).min(self.h),
        )
    }

    fn classify(&self, reg: &Region, added: bool) -> DefectClass {
        let (wx0, wy0, wx1, wy1) = self.window(reg);
        let (ww, wh) = (wx1 - wx0, wy1 - wy0);
        let at = |img: &[u8], x: usize, y: usize| {
            img.get((wy0 + y) * self.w + wx0 + x).copied().unwrap_or(0)
        };
        let mut gm = vec![false; ww * wh];
        let mut sm = vec![false; ww * wh];
        for y in 0..wh {
            for x in 0..ww {
                if let Some(v) = gm.get_mut(y * ww + x) {
                    *v = self.material(at(self.g, x, y));
                }
                if let Some(v) = sm.get_mut(y * ww + x) {
                    *v = self.material(at(self.s, x, y));
                }
            }
        }
        let local = |p: &(usize, usize)| {
            let (x, y) = (p.0.checked_sub(wx0)?, p.1.checked_sub(wy0)?);
            (x < ww && y < wh).then_some(y * ww + x)
        };
        let _ = reg.seed;
        if added {
            // Which golden material components does the new material connect?
            let (sl, _) = label8(ww, wh, &sm);
            let (gl, _) = label8(ww, wh, &gm);
            let mut s_ids: Vec<u32> = reg
                .pixels
                .iter()
                .filter_map(&local)
                .filter_map(|i| sl.get(i).copied())
                .filter(|&l| l != 0)
                .collect();
            s_ids.sort_unstable();
            s_ids.dedup();
            let mut g_ids: Vec<u32> = (0..ww * wh)
                .filter(|&i| {
                    sl.get(i).is_some_and(|l| s_ids.binary_search(l).is_ok())
                        && gm.get(i).copied().unwrap_or(false)
                })
                .filter_map(|i| gl.get(i).copied())
                .filter(|&l| l != 0)
                .collect();
            g_ids.sort_unstable();
            g_ids.dedup();
            match g_ids.len() {
                0 => DefectClass::Copper,
                1 => DefectClass::Spur,
                _ => DefectClass::Short,
            }
        } else {
            // Is the removed area enclosed by material in the suspect (a hole)?
            let bg: Vec<bool> = sm.iter().map(|&m| !m).collect();
            let (bl, _) = label8(ww, wh, &bg);
            let mut b_ids: Vec<u32> = reg
                .pixels
                .iter()
                .filter_map(&local)
                .filter_map(|i| bl.get(i).copied())
                .filter(|&l| l != 0)
                .collect();
            b_ids.sort_unstable();
            b_ids.dedup();
            let touches_border = (0..ww * wh).any(|i| {
                let (x, y) = (i % ww, i / ww);
                (x == 0 || y == 0 || x + 1 == ww || y + 1 == wh)
                    && bl.get(i).is_some_and(|l| b_ids.binary_search(l).is_ok())
            });
            // Golden background inside the window that the hole is connected to means an edge.
            let joins_golden_bg = (0..ww * wh).any(|i| {
                bl.get(i).is_some_and(|l| b_ids.binary_search(l).is_ok())
                    && !gm.get(i).copied().unwrap_or(true)
            });
            if !b_ids.is_empty() && !touches_border && !joins_golden_bg {
                return DefectClass::PinHole;
            }
            // Does a golden conductor split in the suspect? Its exits (where it leaves the
            // window) must then lie on different suspect pieces; crumbs left in a bite don't
            // count. A conductor ending inside the window has one exit: then any sizeable
            // second piece is the cut-off end.
            let (gl, _) = label8(ww, wh, &gm);
            let both: Vec<bool> = gm.iter().zip(&sm).map(|(&a, &b)| a && b).collect();
            let (sl, ns) = label8(ww, wh, &both);
            let mut g_ids: Vec<u32> = reg
                .pixels
                .iter()
                .filter_map(&local)
                .filter_map(|i| gl.get(i).copied())
                .filter(|&l| l != 0)
                .collect();
            g_ids.sort_unstable();
            g_ids.dedup();
            let on_border = |i: usize| {
                let (x, y) = (i % ww, i / ww);
                x == 0 || y == 0 || x + 1 == ww || y + 1 == wh
            };
            let mut size = vec![0u64; ns as usize + 1];
            for &l in &sl {
                if let Some(c) = size.get_mut(l as usize) {
                    *c += 1;
                }
            }
            let crumb = reg.area.max(4);
            for gid in g_ids {
                let mut exits: Vec<u32> = Vec::new();
                let mut pieces: Vec<u32> = Vec::new();
                for i in 0..ww * wh {
                    if gl.get(i) != Some(&gid) {
                        continue;
                    }
                    let l = sl.get(i).copied().unwrap_or(0);
                    if l == 0 {
                        continue;
                    }
                    if on_border(i) {
                        exits.push(l);
                    }
                    if size.get(l as usize).copied().unwrap_or(0) >= crumb {
                        pieces.push(l);
                    }
                }
                exits.sort_unstable();
                exits.dedup();
                pieces.sort_unstable();
                pieces.dedup();
                let split = if exits.len() >= 2 {
                    true
                } else if exits.len() == 1 {
                    pieces.iter().any(|p| !exits.contains(p))
                } else {
                    pieces.len() >= 2
                };
                if split {
                    return DefectClass::Open;
                }
            }
            DefectClass::Mousebite
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pattern(w: usize, h: usize) -> Vec<u8> {
        (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f64, (i / w) as f64);
                (128.0 + 100.0 * (x / 5.0).sin() * (y / 7.0).cos()).round() as u8
            })
            .collect()
    }

    /// Floating-point reference of the bilinear warp.
    fn reference(
        sp: &[u8],
        sw: usize,
        sh: usize,
        m: &Homography,
        x: usize,
        y: usize,
    ) -> Option<f64> {
        let (u, v) = m.apply(x as f64, y as f64)?;
        if !(u >= 0.0 && v >= 0.0 && u <= (sw - 1) as f64 && v <= (sh - 1) as f64) {
            return None;
        }
        let (x0, y0) = (u.floor() as usize, v.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(sw - 1), (y0 + 1).min(sh - 1));
        let (fx, fy) = (u - x0 as f64, v - y0 as f64);
        let p = |xx: usize, yy: usize| f64::from(sp[yy * sw + xx]);
        let top = p(x0, y0) + (p(x1, y0) - p(x0, y0)) * fx;
        let bot = p(x0, y1) + (p(x1, y1) - p(x0, y1)) * fx;
        Some(top + (bot - top) * fy)
    }

    #[test]
    fn affine_warp_matches_the_floating_point_reference() {
        let (w, h) = (96, 64);
        let src = pattern(w, h);
        let fill = vec![7u8; w * h];
        for m in [
            Homography::translation(2.0, -3.0),
            Homography::translation(0.37, 1.81),
            Homography::similarity(0.2, 1.003, 48.0, 32.0, -1.3, 0.6),
            Homography::similarity(8.0, 0.95, 48.0, 32.0, 3.0, 2.0),
        ] {
            let out = warp_plane_u8(&src, w, h, &m, &fill, w, h);
            for y in 0..h {
                for x in 0..w {
                    let got = f64::from(out[y * w + x]);
                    match reference(&src, w, h, &m, x, y) {
                        // The run approximation moves a sample by at most 1/16 px, and the
                        // pattern's steepest slope is 35 grey levels per pixel.
                        Some(v) => assert!((got - v).abs() <= 4.0, "{m:?} ({x},{y}) {got} {v}"),
                        None => assert!(got == 7.0 || x == 0 || y == 0 || x + 1 == w || y + 1 == h),
                    }
                }
            }
        }
    }

    #[test]
    fn projective_warp_matches_the_floating_point_reference() {
        let (w, h) = (600, 80);
        let src = pattern(w, h);
        let fill = vec![7u8; w * h];
        for m in [
            // A camera tilted by a few degrees: long chords.
            Homography([1.01, 0.02, 3.0, -0.01, 0.99, -2.0, 2e-5, -1e-5, 1.0]),
            // Strong perspective: runs are halved down to per-pixel sampling.
            Homography([1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.5e-3, 2e-3, 1.0]),
            // The pole (the horizon) crosses every row at x = 300.
            Homography([1.0, 0.0, 0.0, 0.0, 1.0, 0.0, -1.0 / 300.0, 0.0, 1.0]),
        ] {
            let out = warp_plane_u8(&src, w, h, &m, &fill, w, h);
            let mut covered = 0;
            for y in 0..h {
                for x in 0..w {
                    let got = f64::from(out[y * w + x]);
                    match reference(&src, w, h, &m, x, y) {
                        // Chord (1/16 px) plus run (1/16 px) approximation at 35 levels per px.
                        Some(v) => {
                            covered += 1;
                            assert!((got - v).abs() <= 5.0, "{m:?} ({x},{y}) {got} {v}");
                        }
                        None => {
                            // Outside: untouched, unless within the approximation of the edge.
                            // (At the pole itself nothing maps anywhere.)
                            let (bw, bh) = ((w - 1) as f64, (h - 1) as f64);
                            let near = m.apply(x as f64, y as f64).is_some_and(|(u, v)| {
                                u > -0.1 && v > -0.1 && u < bw + 0.1 && v < bh + 0.1
                            });
                            assert!(got == 7.0 || near, "{m:?} ({x},{y}) {got}");
                        }
                    }
                }
            }
            assert!(covered > w * h / 5, "{m:?}: only {covered} px inside");
        }
    }

    #[test]
    fn hostile_transforms_leave_the_fallback_and_never_panic() {
        let (w, h) = (64, 16);
        let src = pattern(w, h);
        let fill = vec![7u8; w * h];
        for m in [
            Homography([f64::NAN; 9]),
            Homography([1.0, 0.0, f64::INFINITY, 0.0, 1.0, 0.0, 1e-3, 0.0, 1.0]),
            Homography([1e308, 1e308, 0.0, -1e308, 1e308, 0.0, 1e-300, 1e308, 1.0]),
            Homography([0.0; 9]),
        ] {
            let out = warp_plane_u8(&src, w, h, &m, &fill, w, h);
            assert_eq!(out.len(), w * h);
        }
        // NaN everywhere maps nothing inside the suspect.
        assert_eq!(
            warp_plane_u8(&src, w, h, &Homography([f64::NAN; 9]), &fill, w, h),
            fill
        );
        // Degenerate sizes.
        assert_eq!(
            warp_plane_u8(&src, w, h, &Homography::IDENTITY, &fill[..0], 0, 0),
            Vec::<u8>::new()
        );
        let one = warp_plane_u8(
            &src,
            1,
            1,
            &Homography([1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1e-3, 0.0, 1.0]),
            &[9],
            1,
            1,
        );
        assert_eq!(one.len(), 1);
    }

    fn region(x0: usize, y0: usize, x1: usize, y1: usize, area: u64) -> Region {
        Region {
            x0,
            y0,
            x1,
            y1,
            area,
            excess_sum: 0,
            darker: true,
            seed: (x0, y0),
            pixels: (y0..y1)
                .flat_map(|y| (x0..x1).map(move |x| (x, y)))
                .collect(),
        }
    }

    #[test]
    fn a_long_edge_sliver_is_not_a_defect() {
        // 104 x 6 box (100 x 2 without the margin of 2): an edge moved along its run.
        assert!(region(10, 10, 114, 16, 200).is_sliver(2));
        // A 10 x 10 bite and a 30 x 6 open across a trace are blobs.
        assert!(!region(10, 10, 24, 24, 100).is_sliver(2));
        assert!(!region(10, 10, 44, 20, 150).is_sliver(2));
        // Degenerate regions do not panic.
        assert!(!region(0, 0, 0, 0, 0).is_sliver(2));
    }

    #[test]
    fn regions_at_the_edge_of_the_compared_area_are_dropped() {
        let t = Homography::translation(30.0, 0.0);
        let frame = Frame {
            w: 100,
            h: 80,
            sw: 100,
            sh: 80,
            transform: &t,
            margin: 2,
        };
        // Inside both frames.
        assert!(!frame.touches_edge(&region(20, 20, 30, 30, 100)));
        // At the golden image's edge.
        assert!(frame.touches_edge(&region(0, 20, 10, 30, 100)));
        // Mapped past the suspect's right edge (x + 30 > 97).
        assert!(frame.touches_edge(&region(60, 20, 70, 30, 100)));
    }

    #[test]
    fn tolerant_mask_finds_a_blob_and_ignores_jitter() {
        let (w, h) = (40, 30);
        let mut g = vec![200u8; w * h];
        for y in 10..20 {
            for x in 5..35 {
                g[y * w + x] = 20;
            }
        }
        // The suspect: the same trace one pixel lower (jitter), plus a 4x4 blob.
        let mut s = vec![200u8; w * h];
        for y in 11..21 {
            for x in 5..35 {
                s[y * w + x] = 20;
            }
        }
        for y in 24..28 {
            for x in 20..24 {
                s[y * w + x] = 20;
            }
        }
        let m = tolerant_mask(w, h, &g, &s, 2, 90);
        let darker: Vec<usize> = (0..w * h).filter(|&i| m[i] & DARKER != 0).collect();
        assert!(!darker.is_empty());
        assert!(darker
            .iter()
            .all(|&i| (20..24).contains(&(i % w)) && i / w >= 24));
        assert!(m.iter().all(|&v| v & BRIGHTER == 0));
        assert!(tolerant_mask(0, 0, &[], &[], 2, 10).is_empty());
        assert_eq!(tolerant_mask(4, 4, &[0; 3], &[0; 16], 2, 10), vec![0; 16]);
    }
}
