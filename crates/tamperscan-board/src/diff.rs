//! Change detection between a golden image and a registered suspect.
//!
//! A feature (a dark or bright structure) counts as changed only where it has no counterpart
//! within `tolerance_px` in the other image: `min_r(G) - S`, `G - max_r(S)` (suspect darker) and
//! `S - max_r(G)`, `min_r(S) - G` (suspect brighter), after mapping the suspect's two intensity
//! phases onto the golden's. This tolerates edge jitter, line-width variation and lighting, and
//! keeps one-pixel-wide features visible. The threshold is half the contrast between the two
//! phases (a pixel must cross the midpoint between material and background).

use serde::Serialize;

use crate::plane::{label8, min_max_filter};
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

    let og = otsu(g.iter().copied());
    let os = otsu(s_raw.iter().copied());
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
    let lut: Vec<u8> = (0..256)
        .map(|v| {
            (og.dark + (f64::from(v) - os.dark) * gain)
                .clamp(0.0, 255.0)
                .round() as u8
        })
        .collect();
    let s: Vec<u8> = s_raw
        .iter()
        .map(|&v| lut.get(usize::from(v)).copied().unwrap_or(v))
        .collect();

    // Colour means a photograph: binarised scans and X-ray images are grey.
    let two_level = og.two_level && !has_colour(golden) && !has_colour(suspect);
    if !two_level {
        return photo_report(golden, suspect, registration, opts, contrast);
    }
    let mode = ImageMode::TwoLevel;
    let threshold = contrast / 2.0;
    let r = usize_of(opts.tolerance_px);
    let (gmin, gmax) = min_max_filter(w, h, g, r);
    let (smin, smax) = min_max_filter(w, h, &s, r);
    let t = threshold as i16;
    let n = w * h;
    let mut darker = vec![false; n];
    let mut brighter = vec![false; n];
    let mut excess = vec![0u8; n];
    for i in 0..n {
        let (Some(&gv), Some(&sv), Some(&gn), Some(&gx), Some(&sn), Some(&sx)) = (
            g.get(i),
            s.get(i),
            gmin.get(i),
            gmax.get(i),
            smin.get(i),
            smax.get(i),
        ) else {
            continue;
        };
        let (gv, sv, gn, gx, sn, sx) = (
            i16::from(gv),
            i16::from(sv),
            i16::from(gn),
            i16::from(gx),
            i16::from(sn),
            i16::from(sx),
        );
        let d = (gn - sv).max(gv - sx);
        let b = (sv - gx).max(sn - gv);
        if d > t {
            if let Some(m) = darker.get_mut(i) {
                *m = true;
            }
        }
        if b > t {
            if let Some(m) = brighter.get_mut(i) {
                *m = true;
            }
        }
        if let Some(e) = excess.get_mut(i) {
            *e = u8::try_from(d.max(b).clamp(0, 255)).unwrap_or(0);
        }
    }
    let min_area = ((r + 1) * (r + 1)) as u64;
    let mut regions = regions_of(w, h, &darker, &excess, true, min_area, r, true);
    regions.extend(regions_of(
        w, h, &brighter, &excess, false, min_area, r, true,
    ));
    let field = Tolerance {
        w,
        h,
        g,
        gmin: &gmin,
        gmax: &gmax,
        s: &s,
        smin: &smin,
        smax: &smax,
        t,
    };
    regions.retain(|reg| field.survives_local_shift(reg, r, min_area));

    let material_dark = opts.material == Polarity::Dark;
    let mut changes = Vec::with_capacity(regions.len());
    let ctx = TopoCtx {
        w,
        h,
        g,
        s: &s,
        cut: ((og.dark + og.bright) / 2.0) as u8,
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
    let is_translation = m[0] == 1.0
        && m[1] == 0.0
        && m[3] == 0.0
        && m[4] == 1.0
        && m[6] == 0.0
        && m[7] == 0.0
        && m[8] == 1.0;
    if is_translation && (m[2] - m[2].round()).abs() < 0.25 && (m[5] - m[5].round()).abs() < 0.25 {
        // Whole-pixel shift: row copies.
        let (dx, dy) = (m[2].round() as isize, m[5].round() as isize);
        for y in 0..hgt {
            let sy = y as isize + dy;
            if sy < 0 || sy >= sh as isize {
                continue;
            }
            let x0 = (-dx).max(0) as usize;
            let x1 = ((sw as isize - dx).min(w as isize)).max(0) as usize;
            if x1 <= x0 {
                continue;
            }
            let src0 = (x0 as isize + dx) as usize + sy as usize * sw;
            let (Some(dst), Some(src)) = (
                out.get_mut(y * w + x0..y * w + x1),
                sp.get(src0..src0 + (x1 - x0)),
            ) else {
                continue;
            };
            dst.copy_from_slice(src);
        }
        return out;
    }
    for y in 0..hgt {
        let yf = y as f64;
        for x in 0..w {
            let xf = x as f64;
            let d = m[6] * xf + m[7] * yf + m[8];
            let u = (m[0] * xf + m[1] * yf + m[2]) / d;
            let v = (m[3] * xf + m[4] * yf + m[5]) / d;
            if !(u >= 0.0 && v >= 0.0 && u <= (sw - 1) as f64 && v <= (sh - 1) as f64) {
                continue;
            }
            let (x0, y0) = (u.floor() as usize, v.floor() as usize);
            let (fx, fy) = (u - x0 as f64, v - y0 as f64);
            let x1 = (x0 + 1).min(sw - 1);
            let y1 = (y0 + 1).min(sh - 1);
            let p = |xx: usize, yy: usize| f64::from(sp.get(yy * sw + xx).copied().unwrap_or(0));
            let top = p(x0, y0) + (p(x1, y0) - p(x0, y0)) * fx;
            let bot = p(x0, y1) + (p(x1, y1) - p(x0, y1)) * fx;
            if let Some(o) = out.get_mut(y * w + x) {
                *o = (top + (bot - top) * fy).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
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

fn otsu(px: impl Iterator<Item = u8>) -> Otsu {
    let mut hist = [0u64; 256];
    for p in px {
        if let Some(hh) = hist.get_mut(usize::from(p)) {
            *hh += 1;
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

impl Region {
    pub(crate) fn bbox_u32(&self) -> [u32; 4] {
        let c = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        [c(self.x0), c(self.y0), c(self.x1), c(self.y1)]
    }
}

#[allow(clippy::too_many_arguments)] // One call site per mode; a struct would only rename them.
pub(crate) fn regions_of(
    w: usize,
    h: usize,
    mask: &[bool],
    excess: &[u8],
    darker: bool,
    min_area: u64,
    r: usize,
    merge_boxes: bool,
) -> Vec<Region> {
    if !mask.iter().any(|&m| m) {
        return Vec::new();
    }
    let (labels, count) = label8(w, h, mask);
    let mut regs: Vec<Region> = (0..count)
        .map(|_| Region {
            x0: usize::MAX,
            y0: usize::MAX,
            x1: 0,
            y1: 0,
            area: 0,
            excess_sum: 0,
            darker,
            seed: (0, 0),
            pixels: Vec::new(),
        })
        .collect();
    for (i, &l) in labels.iter().enumerate() {
        if l == 0 {
            continue;
        }
        let Some(rg) = regs.get_mut(l as usize - 1) else {
            continue;
        };
        let (x, y) = (i % w, i / w);
        rg.x0 = rg.x0.min(x);
        rg.y0 = rg.y0.min(y);
        rg.x1 = rg.x1.max(x + 1);
        rg.y1 = rg.y1.max(y + 1);
        rg.area += 1;
        rg.excess_sum += u64::from(excess.get(i).copied().unwrap_or(0));
        rg.seed = (x, y);
        if rg.pixels.len() < 4096 {
            rg.pixels.push((x, y));
        }
    }
    regs.retain(|rg| rg.area >= min_area);
    // Fragments of one defect closer than the tolerance belong together.
    let mut merged = merge_boxes;
    while merged {
        merged = false;
        let mut i = 0;
        while i < regs.len() {
            let mut j = i + 1;
            while j < regs.len() {
                let near = match (regs.get(i), regs.get(j)) {
                    (Some(a), Some(b)) => {
                        a.x0 <= b.x1 + r && b.x0 <= a.x1 + r && a.y0 <= b.y1 + r && b.y0 <= a.y1 + r
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

/// The tolerant difference test, evaluable with the suspect displaced.
pub(crate) struct Tolerance<'a> {
    w: usize,
    h: usize,
    g: &'a [u8],
    gmin: &'a [u8],
    gmax: &'a [u8],
    s: &'a [u8],
    smin: &'a [u8],
    smax: &'a [u8],
    t: i16,
}

impl Tolerance<'_> {
    /// `(darker, brighter)` at golden pixel `(x, y)` against suspect pixel `(x + dx, y + dy)`.
    #[inline]
    fn flags(&self, x: usize, y: usize, dx: isize, dy: isize) -> (bool, bool) {
        let (Some(qx), Some(qy)) = (x.checked_add_signed(dx), y.checked_add_signed(dy)) else {
            return (false, false);
        };
        if qx >= self.w || qy >= self.h {
            return (false, false);
        }
        let (i, q) = (y * self.w + x, qy * self.w + qx);
        let px = |a: &[u8], k: usize| i16::from(a.get(k).copied().unwrap_or(0));
        let (gv, gn, gx) = (px(self.g, i), px(self.gmin, i), px(self.gmax, i));
        let (sv, sn, sx) = (px(self.s, q), px(self.smin, q), px(self.smax, q));
        (
            (gn - sv).max(gv - sx) > self.t,
            (sv - gx).max(sn - gv) > self.t,
        )
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
        let in_box = |x: usize, y: usize| x >= reg.x0 && x < reg.x1 && y >= reg.y0 && y < reg.y1;
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
                for x in x0..x1 {
                    if in_box(x, y) {
                        continue;
                    }
                    let (Some(&gv), Some(&sv)) =
                        (gr.get(x), x.checked_add_signed(dx).and_then(|q| sr.get(q)))
                    else {
                        continue;
                    };
                    acc += u64::from(gv.abs_diff(sv));
                }
            }
            acc
        };
        let (dx, dy) = crate::plane::best_shift(r, sad);
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
