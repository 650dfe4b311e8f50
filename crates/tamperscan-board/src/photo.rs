//! Change detection on continuous-tone colour photographs of assembled boards.
//!
//! Differences from the two-level path, each for a reason:
//! - Colour: a part and the solder mask under it can have the same grey level but not the same
//!   colour, so every channel is compared and a pixel changes when any channel does.
//! - Illumination: exposure, white balance and vignetting differ between shots. Each suspect
//!   channel is mapped onto the golden one by a least-squares fit of gain plus a smooth
//!   (quadratic in x and y) illumination field, iterated once without outliers so the changed
//!   parts do not bend the fit. A quadratic field cannot follow a part-sized blob, so it
//!   cannot erase a change.
//! - Noise: the threshold is a multiple of the robust residual spread (MAD) of each channel,
//!   not a fraction of a two-level contrast that photos do not have.
//! - Misregistration and parallax: the same neighbourhood tolerance (min/max within
//!   `tolerance_px`) as the two-level path, plus a local displacement check per region, since
//!   each part sits a pixel or two off its nominal place (assembly offset, parallax of tall
//!   parts).
//! - Saturation: a brighter or darker exposure clips highlights (LED domes, specular leads) at
//!   255 or shadows at 0, where the illumination map cannot hold. A clipped suspect value is only
//!   a bound (the scene was at least that bright), so the comparisons that would need its true
//!   value are skipped there; the golden side needs nothing, since the mapped suspect is clamped
//!   to the same 0..=255 range.
//! - Placement: every part sits a little off its nominal place (pick-and-place accuracy, the lead
//!   play of through-hole parts in their holes), by up to [`PLACEMENT_TOLERANCE_MM`]. A region
//!   that a single displacement of its own content explains (the shift removes at least
//!   [`MIN_SHIFT_GAIN`] of its mismatch, and afterwards under half of it is left unexplained by
//!   either the board, at zero shift, or the part, at that shift) is a part that moved, not a
//!   change. An added or removed part has nothing in the other image to shift onto it.
//! - Size: the smallest thing worth reporting is the smallest placeable part, a 0201 chip
//!   (0.6 x 0.3 mm). With `px_per_mm` known, a region must cover half of such a part's area after
//!   the tolerance has eroded it; otherwise the two-level rule (a `(r+1)^2` square) applies.

use crate::diff::{regions_of, Change, ChangeKind, DefectClass, Region};
use crate::plane::min_max_filter;
use crate::transform::solve;
use crate::Options;

/// Least `strength x size` (each in [0, 1]) for a photo region to be reported.
const MIN_EVIDENCE: f64 = 0.1;

/// Excess (in thresholds) that a region needs somewhere near each of its pixels.
const CORE: f64 = 2.0;

/// How far an assembled part may sit from its place on the golden board, in mm: pick-and-place
/// machines hold about 0.05 mm and reflow pulls chips onto their pads, while a through-hole part
/// moves within its holes' clearance (hole minus lead diameter, typically 0.3–0.4 mm).
const PLACEMENT_TOLERANCE_MM: f64 = 0.4;

/// Least fraction of a region's mismatch that a displacement must remove to count as a moved
/// part. A static window's summed difference changes by a few percent under a shift (noise,
/// JPEG), while a part that moved loses most of its mismatch.
const MIN_SHIFT_GAIN: f64 = 0.1;

/// Raw values at or beyond which a channel is taken as clipped.
const SAT_HI: u8 = 250;
const SAT_LO: u8 = 5;

/// Bits of [`Chan::clip`]: the suspect clipped high at the pixel, within the tolerance of it,
/// clipped low at it, within the tolerance of it.
const HI_AT: u8 = 1;
const HI_NEAR: u8 = 2;
const LO_AT: u8 = 4;
const LO_NEAR: u8 = 8;

/// One colour channel of both images, registered, with its neighbourhood extrema.
struct Chan {
    g: Vec<u8>,
    s: Vec<u8>,
    gmin: Vec<u8>,
    gmax: Vec<u8>,
    smin: Vec<u8>,
    smax: Vec<u8>,
    /// Where the suspect was clipped (`HI_AT | HI_NEAR | LO_AT | LO_NEAR`).
    clip: Vec<u8>,
    /// Threshold in grey levels.
    t: i16,
}

/// What the photo path found.
pub(crate) struct PhotoResult {
    pub changes: Vec<Change>,
    /// Mean threshold over the channels (grey levels).
    pub threshold: f64,
}

/// Compares registered colour planes `golden[c]` and `suspect[c]` (`w x h` each).
pub(crate) fn photo_changes(
    golden: &[Vec<u8>],
    suspect: &[Vec<u8>],
    w: usize,
    h: usize,
    opts: &Options,
) -> PhotoResult {
    let r = usize::try_from(opts.tolerance_px).unwrap_or(2) + 1;
    let mut chans = Vec::with_capacity(golden.len());
    for (g, s) in golden.iter().zip(suspect) {
        let (s_norm, sigma) = normalise_illumination(g, s, w, h);
        // JPEG quantises to a few grey levels even where the scene is flat: floor at 4.
        let t = (6.0 * sigma).max(4.0);
        let (gmin, gmax) = min_max_filter(w, h, g, r);
        let (smin, smax) = min_max_filter(w, h, &s_norm, r);
        chans.push(Chan {
            g: g.clone(),
            s: s_norm,
            gmin,
            gmax,
            smin,
            smax,
            clip: clip_flags(s, w, h, r),
            t: t.round().clamp(1.0, 255.0) as i16,
        });
    }
    let n_ch = chans.len().max(1) as f64;
    let threshold = chans.iter().map(|c| f64::from(c.t)).sum::<f64>() / n_ch;
    let n = w * h;
    let mut mask = vec![false; n];
    let mut excess = vec![0u8; n];
    for y in 0..h {
        for x in 0..w {
            let e = pixel_excess(&chans, w, x, y, 0, 0);
            let i = y * w + x;
            if e > 1.0 {
                if let Some(m) = mask.get_mut(i) {
                    *m = true;
                }
            }
            if let Some(v) = excess.get_mut(i) {
                *v = (e * 64.0).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    let min_area = min_area(r, opts.px_per_mm);
    // Fragments of one part within the tolerance join through their pixels (a dilated mask),
    // not their boxes: the board outline's box would swallow every part inside it.
    // Hysteresis: a pixel between one and [`CORE`] thresholds belongs to a region only next to
    // a pixel over [`CORE`]. Such weak pixels are where the edges of the same features disagree
    // by blur and sub-pixel offsets; chained along a trace they would join unrelated changes
    // and dilute a part's evidence with hundreds of edge pixels.
    let core_level = (CORE * 64.0) as u8;
    let strong: Vec<u8> = excess.iter().map(|&e| u8::from(e > core_level)).collect();
    let (_, near_strong) = min_max_filter(w, h, &strong, r / 2 + 1);
    let kept: Vec<u8> = mask
        .iter()
        .zip(&near_strong)
        .map(|(&m, &n)| u8::from(m && n != 0))
        .collect();
    let (_, joined) = min_max_filter(w, h, &kept, r / 2 + 1);
    let mut joined = joined;
    let excess_at = |i: usize| excess.get(i).copied().unwrap_or(0);
    let mut regions = regions_of(
        w,
        h,
        &mut joined,
        u8::MAX,
        &excess_at,
        true,
        min_area,
        r,
        false,
    );
    let reach = opts
        .px_per_mm
        .filter(|p| p.is_finite() && *p > 0.0)
        .map_or(r, |p| {
            ((PLACEMENT_TOLERANCE_MM * p).round() as usize).clamp(r, 8 * r)
        });
    let score_of = |reg: &Region| {
        let mean_excess = reg.excess_sum as f64 / reg.area.max(1) as f64 / 64.0;
        // Excess is in units of the threshold: 1 is at it, 2 twice over.
        let strength = (1.0 - (-(mean_excess - 1.0).max(0.0) * 2.0).exp()).clamp(0.0, 1.0);
        let size = 1.0 - (-(reg.area as f64) / (4.0 * min_area as f64)).exp();
        (0.5 + 0.5 * strength * size).clamp(0.0, 1.0)
    };
    // A region whose pixels only just pass the per-pixel threshold, on average, is what a
    // cluster of sensor and JPEG noise along an edge looks like; a part differs from the mask
    // around it by several thresholds. Keep regions with at least a tenth of full evidence
    // (checked first: it is the cheapest test).
    regions.retain(|reg| {
        score_of(reg) >= 0.5 + 0.5 * MIN_EVIDENCE
            && survives_local_shift(&chans, w, h, reg, r, min_area)
            && !moved_part(&chans, w, h, reg, reach, min_area)
    });
    let mut changes: Vec<Change> = regions
        .iter()
        .map(|reg| Change {
            bbox: reg.bbox_u32(),
            kind: kind_of(&chans, w, h, reg, r),
            class: Some(DefectClass::Component),
            score: score_of(reg),
            area_px: reg.area,
            area_mm2: opts
                .px_per_mm
                .filter(|p| *p > 0.0)
                .map(|p| reg.area as f64 / (p * p)),
        })
        .collect();
    changes.sort_by(|a, b| b.score.total_cmp(&a.score));
    PhotoResult { changes, threshold }
}

/// See the module doc: half a 0201 chip eroded by the tolerance, or `(r+1)^2`.
fn min_area(r: usize, px_per_mm: Option<f64>) -> u64 {
    let fallback = ((r + 1) * (r + 1)) as u64;
    match px_per_mm.filter(|p| p.is_finite() && *p > 0.0) {
        Some(p) => {
            let (a, b) = (0.6 * p - 2.0 * r as f64, 0.3 * p - 2.0 * r as f64);
            let area = (a.max(1.0) * b.max(1.0) / 2.0).round();
            (area as u64).max(fallback)
        }
        None => fallback,
    }
}

/// Largest excess over the threshold among channels, in units of the threshold, at golden
/// pixel `(x, y)` against suspect pixel `(x + dx, y + dy)` (0 outside).
#[inline]
fn pixel_excess(chans: &[Chan], w: usize, x: usize, y: usize, dx: isize, dy: isize) -> f64 {
    let (Some(qx), Some(qy)) = (x.checked_add_signed(dx), y.checked_add_signed(dy)) else {
        return 0.0;
    };
    if qx >= w {
        return 0.0;
    }
    let (i, q) = (y * w + x, qy * w + qx);
    let mut best = 0.0f64;
    for c in chans {
        let px = |a: &[u8], k: usize| i16::from(a.get(k).copied().unwrap_or(0));
        let Some(&sv) = c.s.get(q) else {
            return 0.0;
        };
        let sv = i16::from(sv);
        let (gv, gn, gx) = (px(&c.g, i), px(&c.gmin, i), px(&c.gmax, i));
        let (sn, sx) = (px(&c.smin, q), px(&c.smax, q));
        let clip = c.clip.get(q).copied().unwrap_or(0);
        // A clipped suspect value is a bound: skip each comparison that needs its true value.
        let none = i16::MIN;
        let e = [
            if clip & HI_AT == 0 { gn - sv } else { none },
            if clip & HI_NEAR == 0 { gv - sx } else { none },
            if clip & LO_AT == 0 { sv - gx } else { none },
            if clip & LO_NEAR == 0 { sn - gv } else { none },
        ]
        .into_iter()
        .max()
        .unwrap_or(none);
        best = best.max(f64::from(e) / f64::from(c.t.max(1)));
    }
    best
}

/// As the two-level path's check: the displacement (up to `r` px) that best matches the
/// neighbourhood, region excluded, by summed absolute difference over the channels; the
/// region must still show under it.
fn survives_local_shift(
    chans: &[Chan],
    w: usize,
    h: usize,
    reg: &Region,
    r: usize,
    min_area: u64,
) -> bool {
    let m = 4 * r;
    let (x0, y0) = (reg.x0.saturating_sub(m), reg.y0.saturating_sub(m));
    let (x1, y1) = ((reg.x1 + m).min(w), (reg.y1 + m).min(h));
    let window = Window {
        x0,
        y0,
        x1,
        y1,
        stride: 1,
        skip: Some(reg),
    };
    let (dx, dy) = crate::plane::best_shift(r, |dx, dy| window.sad(chans, w, h, dx, dy));
    if dx == 0 && dy == 0 {
        return true;
    }
    let mut inside = 0u64;
    for y in reg.y0.saturating_sub(r)..(reg.y1 + r).min(h) {
        for x in reg.x0.saturating_sub(r)..(reg.x1 + r).min(w) {
            if pixel_excess(chans, w, x, y, dx, dy) > 1.0 {
                inside += 1;
            }
        }
    }
    inside >= min_area && 2 * inside >= reg.area
}

/// Where suspect channel `raw` (before illumination mapping) is clipped, at each pixel and
/// within `r` of it, as [`Chan::clip`] bits.
fn clip_flags(raw: &[u8], w: usize, h: usize, r: usize) -> Vec<u8> {
    let hi: Vec<u8> = raw.iter().map(|&v| u8::from(v >= SAT_HI)).collect();
    let lo: Vec<u8> = raw.iter().map(|&v| u8::from(v <= SAT_LO)).collect();
    let (_, hi_near) = min_max_filter(w, h, &hi, r);
    let (_, lo_near) = min_max_filter(w, h, &lo, r);
    hi.iter()
        .zip(&hi_near)
        .zip(lo.iter().zip(&lo_near))
        .map(|((&ha, &hn), (&la, &ln))| {
            (if ha != 0 { HI_AT } else { 0 })
                | (if hn != 0 { HI_NEAR } else { 0 })
                | (if la != 0 { LO_AT } else { 0 })
                | (if ln != 0 { LO_NEAR } else { 0 })
        })
        .collect()
}

/// A window of golden pixels, sampled every `stride` pixels, whose summed absolute difference
/// to the suspect shifted by `(dx, dy)` is taken over every channel (`skip`: a box left out).
struct Window<'a> {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
    stride: usize,
    skip: Option<&'a Region>,
}

impl Window<'_> {
    fn sad(&self, chans: &[Chan], w: usize, h: usize, dx: isize, dy: isize) -> u64 {
        let mut acc = 0u64;
        for y in (self.y0..self.y1).step_by(self.stride.max(1)) {
            let Some(qy) = y.checked_add_signed(dy).filter(|&q| q < h) else {
                continue;
            };
            for x in (self.x0..self.x1).step_by(self.stride.max(1)) {
                if self
                    .skip
                    .is_some_and(|r| x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1)
                {
                    continue;
                }
                let Some(qx) = x.checked_add_signed(dx).filter(|&q| q < w) else {
                    continue;
                };
                for c in chans {
                    let (Some(&gv), Some(&sv)) = (c.g.get(y * w + x), c.s.get(qy * w + qx)) else {
                        continue;
                    };
                    acc += u64::from(gv.abs_diff(sv));
                }
            }
        }
        acc
    }
}

/// Whether the region is a part that moved by up to `reach` px (see the module doc): the
/// displacement that best matches the region's own window (region included, since the part
/// is in it) must remove at least [`MIN_SHIFT_GAIN`] of the window's mismatch, and then fewer
/// than half of the region's changed pixels (and fewer than `min_area`) may stay unexplained
/// by both the board (zero shift) and the part (that shift, seen from either image).
fn moved_part(
    chans: &[Chan],
    w: usize,
    h: usize,
    reg: &Region,
    reach: usize,
    min_area: u64,
) -> bool {
    if reach == 0 {
        return false;
    }
    let (x0, y0) = (reg.x0.saturating_sub(reach), reg.y0.saturating_sub(reach));
    let (x1, y1) = ((reg.x1 + reach).min(w), (reg.y1 + reach).min(h));
    // Sample large windows on a grid: the best shift of a big part shows on a subset.
    let n = (x1.saturating_sub(x0)) * (y1.saturating_sub(y0));
    let stride = ((n as f64 / 20_000.0).sqrt().ceil() as usize).max(1);
    let window = Window {
        x0,
        y0,
        x1,
        y1,
        stride,
        skip: None,
    };
    let sad = |dx, dy| window.sad(chans, w, h, dx, dy);
    let (dx, dy) = crate::plane::best_shift(reach, sad);
    if (dx, dy) == (0, 0) {
        return false;
    }
    let (base, shifted) = (sad(0, 0) as f64, sad(dx, dy) as f64);
    if shifted > (1.0 - MIN_SHIFT_GAIN) * base {
        return false;
    }
    let (mut changed, mut unexplained) = (0u64, 0u64);
    for y in reg.y0..reg.y1.min(h) {
        for x in reg.x0..reg.x1.min(w) {
            if pixel_excess(chans, w, x, y, 0, 0) <= 1.0 {
                continue;
            }
            changed += 1;
            // The part seen from the golden (its pixel went to `p + d`) or from the suspect
            // (its pixel came from `p - d`).
            let from_golden = pixel_excess(chans, w, x, y, dx, dy) <= 1.0;
            let from_suspect = match (x.checked_add_signed(-dx), y.checked_add_signed(-dy)) {
                (Some(px), Some(py)) if px < w && py < h => {
                    pixel_excess(chans, w, px, py, dx, dy) <= 1.0
                }
                _ => false,
            };
            if !from_golden && !from_suspect {
                unexplained += 1;
            }
        }
    }
    !(unexplained >= min_area && 2 * unexplained >= changed)
}

/// Colour bins per channel of [`Palette`]: 16 grey levels each, a few noise spreads wide.
const PALETTE_BITS: u32 = 4;

/// Least share of a region's changed pixels that must show colours foreign to the board around
/// it for that image to hold "something" there.
const MIN_FOREIGN: f64 = 0.25;

/// Least share of the ring's pixels that a colour (with its neighbouring bins) must cover to
/// belong to the board around a region: antialiasing, shadows and stray highlights are rarer.
const MIN_PALETTE_SHARE: f64 = 0.01;

/// The colours of a patch of board: a histogram on coarse bins. A colour belongs to it when its
/// bin and the bins one step away (noise and JPEG move a colour across a bin edge) hold at
/// least [`MIN_PALETTE_SHARE`] of the pixels.
struct Palette {
    counts: Vec<u32>,
    total: u64,
    nc: usize,
}

impl Palette {
    fn bins(px: &[u8]) -> [usize; 3] {
        let mut b = [0usize; 3];
        for (d, &v) in b.iter_mut().zip(px) {
            *d = usize::from(v >> (8 - PALETTE_BITS));
        }
        b
    }

    fn index(&self, b: &[usize; 3]) -> usize {
        b.iter()
            .take(self.nc)
            .fold(0, |acc, &v| (acc << PALETTE_BITS) | v)
    }

    fn new(nc: usize) -> Self {
        let nc = nc.clamp(1, 3);
        Self {
            counts: vec![0; 1usize << (PALETTE_BITS as usize * nc)],
            total: 0,
            nc,
        }
    }

    fn insert(&mut self, px: &[u8]) {
        let i = self.index(&Self::bins(px));
        if let Some(c) = self.counts.get_mut(i) {
            *c += 1;
        }
        self.total += 1;
    }

    fn contains(&self, px: &[u8]) -> bool {
        let b = Self::bins(px);
        let top = (1usize << PALETTE_BITS) as isize;
        let mut sum = 0u64;
        for k in 0..3usize.pow(self.nc as u32) {
            let (mut kk, mut nb, mut ok) = (k, [0usize; 3], true);
            for (c, slot) in nb.iter_mut().enumerate().take(self.nc) {
                let v = b.get(c).copied().unwrap_or(0) as isize + (kk % 3) as isize - 1;
                kk /= 3;
                if !(0..top).contains(&v) {
                    ok = false;
                    break;
                }
                *slot = v as usize;
            }
            if ok {
                sum += u64::from(self.counts.get(self.index(&nb)).copied().unwrap_or(0));
            }
        }
        sum as f64 >= (MIN_PALETTE_SHARE * self.total as f64).max(2.0)
    }
}

/// Added, missing or altered: which image shows something foreign to the board around the
/// region. The ring around the box is the local board surface (mask, copper, silkscreen, pads,
/// the parts that did not change) and looks the same in both images; its colours, from both,
/// form a palette. At the region's changed pixels, an image whose colours are mostly outside
/// that palette holds an object the other lacks: only the suspect is an added part, only the
/// golden a missing one, both (or neither) a replaced one. A part laid over a trace is added
/// (the trace's colours are in the ring), which a mean-contrast rule would call altered.
fn kind_of(chans: &[Chan], w: usize, h: usize, reg: &Region, r: usize) -> ChangeKind {
    let ring = 2 * r + 2;
    let (x0, y0) = (reg.x0.saturating_sub(ring), reg.y0.saturating_sub(ring));
    let (x1, y1) = ((reg.x1 + ring).min(w), (reg.y1 + ring).min(h));
    let nc = chans.len().min(3);
    let mut palette = Palette::new(nc);
    let mut px = vec![0u8; nc];
    let fill = |img: fn(&Chan) -> &[u8], i: usize, px: &mut [u8]| {
        for (v, c) in px.iter_mut().zip(chans) {
            *v = img(c).get(i).copied().unwrap_or(0);
        }
    };
    let mut n_ring = 0u64;
    for y in y0..y1 {
        for x in x0..x1 {
            if x >= reg.x0 && x < reg.x1 && y >= reg.y0 && y < reg.y1 {
                continue;
            }
            let i = y * w + x;
            // Ring pixels that changed belong to the region's neighbours, not the board.
            if pixel_excess(chans, w, x, y, 0, 0) > 1.0 {
                continue;
            }
            n_ring += 1;
            fill(|c| c.g.as_slice(), i, &mut px);
            palette.insert(&px);
            fill(|c| c.s.as_slice(), i, &mut px);
            palette.insert(&px);
        }
    }
    if n_ring == 0 {
        return ChangeKind::Altered;
    }
    let (mut fg, mut fs, mut n) = (0u64, 0u64, 0u64);
    let (mut bg, mut bs, mut nb) = (0u64, 0u64, 0u64);
    for y in reg.y0..reg.y1.min(h) {
        for x in reg.x0..reg.x1.min(w) {
            let i = y * w + x;
            fill(|c| c.g.as_slice(), i, &mut px);
            let a = !palette.contains(&px);
            fill(|c| c.s.as_slice(), i, &mut px);
            let b = !palette.contains(&px);
            nb += 1;
            bg += u64::from(a);
            bs += u64::from(b);
            if pixel_excess(chans, w, x, y, 0, 0) <= 1.0 {
                continue;
            }
            n += 1;
            fg += u64::from(a);
            fs += u64::from(b);
        }
    }
    if n == 0 {
        return ChangeKind::Altered;
    }
    let (fg, fs) = (fg as f64 / n as f64, fs as f64 / n as f64);
    let (bg, bs) = (bg as f64 / nb as f64, bs as f64 / nb as f64);
    // Foreign in one image and at most half as much in the other (a clear majority either
    // way), and the other image's box holds no object: a part replaced by a bigger one is
    // foreign mostly in the suspect, but its box held a part in the golden too.
    if fs >= MIN_FOREIGN && fs > 2.0 * fg && bg < MIN_FOREIGN {
        ChangeKind::Added
    } else if fg >= MIN_FOREIGN && fg > 2.0 * fs && bs < MIN_FOREIGN {
        ChangeKind::Missing
    } else {
        ChangeKind::Altered
    }
}

/// Maps suspect channel `s` onto golden channel `g`: least squares of
/// `g ~ a*s + b + c x + d y + e x^2 + f xy + k y^2` on a sample grid, refitted once without
/// residuals over 3 sigma. Returns the mapped channel and the robust residual spread.
fn normalise_illumination(g: &[u8], s: &[u8], w: usize, h: usize) -> (Vec<u8>, f64) {
    let step = ((w * h) as f64 / 40_000.0).sqrt().max(1.0) as usize;
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    let sc = (w.max(h) as f64 / 2.0).max(1.0);
    let feat = |sv: f64, x: usize, y: usize| {
        let (u, v) = ((x as f64 - cx) / sc, (y as f64 - cy) / sc);
        [sv, 1.0, u, v, u * u, u * v, v * v]
    };
    let mut coef = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    let mut cutoff = f64::INFINITY;
    let mut sigma = 0.0;
    for _ in 0..2 {
        let mut ata = [0.0f64; 49];
        let mut atb = [0.0f64; 7];
        let mut res = Vec::new();
        for y in (0..h).step_by(step) {
            for x in (0..w).step_by(step) {
                let i = y * w + x;
                let (Some(&gv), Some(&sv)) = (g.get(i), s.get(i)) else {
                    continue;
                };
                // A clipped value says nothing about the gain.
                if [gv, sv].iter().any(|&v| !(SAT_LO + 1..SAT_HI).contains(&v)) {
                    continue;
                }
                let f = feat(f64::from(sv), x, y);
                let pred: f64 = f.iter().zip(&coef).map(|(a, b)| a * b).sum();
                let e = f64::from(gv) - pred;
                if e.abs() > cutoff {
                    continue;
                }
                res.push(e.abs());
                for a in 0..7 {
                    atb[a] += f[a] * f64::from(gv);
                    for b in 0..7 {
                        ata[a * 7 + b] += f[a] * f[b];
                    }
                }
            }
        }
        if let Some(c) = solve(7, &mut ata, &mut atb) {
            for (d, v) in coef.iter_mut().zip(c) {
                *d = v;
            }
        }
        res.sort_by(f64::total_cmp);
        sigma = 1.4826 * res.get(res.len() / 2).copied().unwrap_or(0.0);
        cutoff = (3.0 * sigma).max(6.0);
    }
    // The robust spread after the final fit.
    let mut res = Vec::new();
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let sv = f64::from(s.get(i).copied().unwrap_or(0));
            let f = feat(sv, x, y);
            let pred: f64 = f.iter().zip(&coef).map(|(a, b)| a * b).sum();
            out.push(pred.round().clamp(0.0, 255.0) as u8);
            if x % step == 0 && y % step == 0 {
                res.push((f64::from(g.get(i).copied().unwrap_or(0)) - pred).abs());
            }
        }
    }
    res.sort_by(f64::total_cmp);
    let s_final = 1.4826 * res.get(res.len() / 2).copied().unwrap_or(sigma / 1.4826);
    (out, s_final)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_area_follows_the_smallest_part() {
        // 0201 at 20 px/mm: 12 x 6 px, eroded by 2 x 3 px -> 6 x 1 px... floored at (r+1)^2.
        assert_eq!(min_area(3, Some(20.0)), 16);
        // At 60 px/mm: 36 x 18 px eroded to 30 x 12, half of it.
        assert_eq!(min_area(3, Some(60.0)), 180);
        assert_eq!(min_area(2, None), 9);
        assert_eq!(min_area(2, Some(f64::NAN)), 9);
    }

    #[test]
    fn an_added_dark_part_is_found_and_illumination_is_not() {
        let (w, h) = (96usize, 80usize);
        // Green mask with a gentle illumination gradient, traces and a little texture.
        let mut g: Vec<Vec<u8>> = (0..3).map(|_| Vec::with_capacity(w * h)).collect();
        for y in 0..h {
            for x in 0..w {
                // Copper traces every 12 px (bright), mask in between, slight texture.
                let t = if y % 12 < 3 {
                    60
                } else {
                    ((x * 7 + y * 13) % 5) as u8
                };
                for (c, base) in g.iter_mut().zip([40u8, 120, 60]) {
                    c.push(base + t + (x / 16) as u8);
                }
            }
        }
        let mut s: Vec<Vec<u8>> = g
            .iter()
            .map(|c| c.iter().map(|&v| v.saturating_add(10)).collect())
            .collect();
        // A black 14 x 8 px chip in the suspect.
        for y in 30..38 {
            for x in 40..54 {
                for c in &mut s {
                    if let Some(v) = c.get_mut(y * w + x) {
                        *v = 15;
                    }
                }
            }
        }
        let res = photo_changes(&g, &s, w, h, &Options::default());
        assert_eq!(res.changes.len(), 1, "{:?}", res.changes);
        let c = &res.changes[0];
        // The chip lies across a trace: the golden box holds the trace's colours, which the
        // ring holds too, so only the suspect shows something foreign.
        assert_eq!(c.kind, ChangeKind::Added);
        assert_eq!(c.class, Some(DefectClass::Component));
        assert!(c.bbox[0] <= 40 && c.bbox[2] >= 54 && c.bbox[1] <= 30 && c.bbox[3] >= 38);
    }
}
