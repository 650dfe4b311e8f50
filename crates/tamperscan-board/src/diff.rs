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

    let two_level = og.two_level;
    let mode = if two_level {
        ImageMode::TwoLevel
    } else {
        ImageMode::Photo
    };
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
    let mut regions = regions_of(w, h, &darker, &excess, true, min_area, r);
    regions.extend(regions_of(w, h, &brighter, &excess, false, min_area, r));

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

/// Suspect resampled into the golden frame; pixels outside the suspect take the golden value
/// (no evidence there, so no change).
pub(crate) fn warp_u8(s: &BoardImage, h: &Homography, g: &[u8], w: usize, hgt: usize) -> Vec<u8> {
    let (sw, sh) = (usize_of(s.width()), usize_of(s.height()));
    let sp = s.gray();
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
    let q = (bright - dark) / 4.0;
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
        two_level: total > 0 && near as f64 >= 0.9 * total as f64,
    }
}

/// A connected changed region before classification.
struct Region {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
    area: u64,
    excess_sum: u64,
    darker: bool,
    /// One pixel of the region (for topology seeds).
    seed: (usize, usize),
    /// Pixels (capped) of the region.
    pixels: Vec<(usize, usize)>,
}

impl Region {
    fn bbox_u32(&self) -> [u32; 4] {
        let c = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        [c(self.x0), c(self.y0), c(self.x1), c(self.y1)]
    }
}

fn regions_of(
    w: usize,
    h: usize,
    mask: &[bool],
    excess: &[u8],
    darker: bool,
    min_area: u64,
    r: usize,
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
    let mut merged = true;
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
            // Does a golden material component split in the suspect?
            let (gl, _) = label8(ww, wh, &gm);
            let both: Vec<bool> = gm.iter().zip(&sm).map(|(&a, &b)| a && b).collect();
            let (sl, _) = label8(ww, wh, &both);
            let mut g_ids: Vec<u32> = reg
                .pixels
                .iter()
                .filter_map(&local)
                .filter_map(|i| gl.get(i).copied())
                .filter(|&l| l != 0)
                .collect();
            g_ids.sort_unstable();
            g_ids.dedup();
            for gid in g_ids {
                let mut parts: Vec<u32> = (0..ww * wh)
                    .filter(|&i| gl.get(i) == Some(&gid))
                    .filter_map(|i| sl.get(i).copied())
                    .filter(|&l| l != 0)
                    .collect();
                parts.sort_unstable();
                parts.dedup();
                if parts.len() >= 2 {
                    return DefectClass::Open;
                }
            }
            DefectClass::Mousebite
        }
    }
}
