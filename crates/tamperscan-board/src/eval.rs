//! Evaluation over labelled directories: DeepPCB's layout (bare boards, six classes) and the
//! assembled layout (`index.json`, kinds added/missing/altered).
//!
//! DeepPCB ground-truth boxes are padded around the defect, "often 2–4x the defect's own
//! extent" (the data set's documentation). Predicted boxes are the tight extent of the change,
//! so for matching they are grown by a margin on every side. The annotators' padding is a
//! margin, not a factor (a 25 px copper blob and a 10 px open get boxes about 15 px larger
//! alike), which for DeepPCB's typical 5–15 px defects is the documented 2–4x. The one
//! parameter is estimated by [`fit_box_margin`] (median over matched boxes) and checked by
//! [`cross_validate_groups`]: fit on some board groups, test on the others.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::diff::{diff, ChangeKind, DefectClass};
use crate::perturb::{perturb, Perturbation};
use crate::{load_image, BoardImage, Error, ImageLimits, Options};

/// Default margin (px per side) that turns a tight change box into DeepPCB's padded-box
/// convention; see the module doc and [`fit_box_margin`].
pub const DEEPPCB_BOX_MARGIN: f64 = 8.0;

/// What to evaluate.
#[derive(Clone, Debug, Default)]
pub struct EvalConfig {
    /// Detector options.
    pub options: Options,
    /// Pair list in DeepPCB's `trainval.txt` format, relative to the data directory; when
    /// `None`, every `*_temp.jpg` under the directory with a matching annotation.
    pub pair_list: Option<PathBuf>,
    /// Only board groups (e.g. `group00041`) in this list, when not empty.
    pub groups: Vec<String>,
    /// Skip these board groups.
    pub exclude_groups: Vec<String>,
    /// Apply [`Perturbation::from_seed`] (seeded by the pair index plus this) to each suspect.
    pub perturb_seed: Option<u64>,
    /// With `perturb_seed`, also tilt the camera by up to this many degrees
    /// ([`Perturbation::with_tilt`]): a perspective change.
    pub perturb_tilt_deg: Option<f64>,
    /// At most this many pairs (0 = all).
    pub limit: usize,
    /// Margin in px added to each side of a predicted box before matching (DeepPCB layout);
    /// `None` means [`DEEPPCB_BOX_MARGIN`].
    pub box_margin_px: Option<f64>,
}

/// Precision, recall and F1 counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Prf {
    /// True positives.
    pub tp: u64,
    /// False positives.
    pub fp: u64,
    /// False negatives.
    pub fn_: u64,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1 = 2PR / (P + R).
    pub f1: f64,
}

impl Prf {
    fn finish(mut self) -> Self {
        let p = self.tp as f64 / (self.tp + self.fp).max(1) as f64;
        let r = self.tp as f64 / (self.tp + self.fn_).max(1) as f64;
        self.precision = p;
        self.recall = r;
        self.f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        self
    }

    fn add(&mut self, o: &Self) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
    }
}

/// One DeepPCB pair's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct PairResult {
    /// Image id (file stem).
    pub id: String,
    /// Board group.
    pub group: String,
    /// Ground-truth boxes.
    pub truth: usize,
    /// Predicted boxes.
    pub predicted: usize,
    /// Class-agnostic counts at IoU >= 0.5.
    pub agnostic: Prf,
    /// Milliseconds for decode + register + diff.
    pub ms: f64,
    /// Registration correlation.
    pub correlation: f64,
    /// The error, when the pair failed.
    pub error: Option<String>,
}

/// DeepPCB-layout metrics.
#[derive(Clone, Debug, Serialize)]
pub struct DeepPcbMetrics {
    /// Margin used to grow predicted boxes.
    pub box_margin_px: f64,
    /// The margin these pairs themselves suggest (median half size difference of matched
    /// boxes); compare with `box_margin_px` to see if the convention holds.
    pub fitted_margin_px: f64,
    /// Pairs evaluated.
    pub pairs: usize,
    /// Pairs that failed (registration refused or unreadable).
    pub failed: usize,
    /// Class-agnostic at IoU >= 0.5.
    pub iou50: Prf,
    /// Same-class at IoU >= 0.5, per class name.
    pub iou50_per_class: Vec<(String, Prf)>,
    /// DeepPCB protocol: IoU > 0.33 with a same-class truth box.
    pub deeppcb: Prf,
    /// Mean average precision over the six classes under the DeepPCB protocol.
    pub map: f64,
    /// Class-agnostic false positives at IoU >= 0.5 per image.
    pub false_alarms_per_image: f64,
    /// Mean milliseconds per pair (decode + register + diff, one thread).
    pub ms_per_pair: f64,
    /// Median milliseconds per pair.
    pub ms_median: f64,
    /// Per-pair outcomes.
    pub per_pair: Vec<PairResult>,
}

#[derive(Clone, Copy, Debug)]
struct Bx {
    b: [f64; 4],
    class: u8,
    score: f64,
}

fn iou(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    let ix = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let iy = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = ix * iy;
    let ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if ua > 0.0 {
        inter / ua
    } else {
        0.0
    }
}

/// Greedy matching of predictions (score order) to truths; returns per-prediction match flags.
fn greedy(
    preds: &[Bx],
    truths: &[Bx],
    thr: f64,
    strict: bool,
    same_class: bool,
) -> (Prf, Vec<bool>) {
    let mut used = vec![false; truths.len()];
    let mut order: Vec<usize> = (0..preds.len()).collect();
    order.sort_by(|&a, &b| {
        let sa = preds.get(a).map_or(0.0, |p| p.score);
        let sb = preds.get(b).map_or(0.0, |p| p.score);
        sb.total_cmp(&sa)
    });
    let mut hit = vec![false; preds.len()];
    let mut prf = Prf::default();
    for i in order {
        let Some(p) = preds.get(i) else { continue };
        let mut best = (-1.0, usize::MAX);
        for (j, t) in truths.iter().enumerate() {
            if used.get(j).copied().unwrap_or(true) || (same_class && t.class != p.class) {
                continue;
            }
            let v = iou(&p.b, &t.b);
            let ok = if strict { v > thr } else { v >= thr };
            if ok && v > best.0 {
                best = (v, j);
            }
        }
        if let Some(u) = used.get_mut(best.1) {
            *u = true;
            prf.tp += 1;
            if let Some(h) = hit.get_mut(i) {
                *h = true;
            }
        } else {
            prf.fp += 1;
        }
    }
    prf.fn_ = used.iter().filter(|&&u| !u).count() as u64;
    (prf, hit)
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn parse_truth(path: &Path) -> Result<Vec<Bx>, Error> {
    let text = String::from_utf8_lossy(&read(path)?).into_owned();
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .collect();
        if f.is_empty() {
            continue;
        }
        let nums: Result<Vec<f64>, _> = f.iter().map(|s| s.parse::<f64>()).collect();
        match nums.as_deref() {
            Ok([x1, y1, x2, y2, t]) => out.push(Bx {
                b: [*x1, *y1, *x2, *y2],
                class: *t as u8,
                score: 1.0,
            }),
            _ => {
                return Err(Error::Annotation {
                    path: path.display().to_string(),
                    message: format!("expected `x1 y1 x2 y2 type`, got {line:?}"),
                })
            }
        }
    }
    Ok(out)
}

/// (image stem path without suffix, annotation path, group) for every pair.
fn deeppcb_pairs(dir: &Path, cfg: &EvalConfig) -> Result<Vec<(PathBuf, PathBuf, String)>, Error> {
    let mut out = Vec::new();
    if let Some(list) = &cfg.pair_list {
        let text = String::from_utf8_lossy(&read(list)?).into_owned();
        for line in text.lines() {
            let mut it = line.split_whitespace();
            let (Some(img), Some(ann)) = (it.next(), it.next()) else {
                continue;
            };
            let stem = img.trim_end_matches(".jpg");
            let group = img.split('/').next().unwrap_or("").to_string();
            out.push((dir.join(stem), dir.join(ann), group));
        }
    } else {
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let rd = std::fs::read_dir(&d).map_err(|e| Error::Io {
                path: d.display().to_string(),
                message: e.to_string(),
            })?;
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let Some(stem) = name.strip_suffix("_temp.jpg") else {
                    continue;
                };
                let Some(parent) = p.parent() else { continue };
                let pname = parent.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let ann = parent
                    .with_file_name(format!("{pname}_not"))
                    .join(format!("{stem}.txt"));
                let group = parent
                    .parent()
                    .and_then(|g| g.file_name())
                    .and_then(|n| n.to_str())
                    .unwrap_or("")
                    .to_string();
                if ann.is_file() {
                    out.push((parent.join(stem), ann, group));
                }
            }
        }
        out.sort();
    }
    out.retain(|(_, _, g)| {
        (cfg.groups.is_empty() || cfg.groups.contains(g)) && !cfg.exclude_groups.contains(g)
    });
    if cfg.limit > 0 {
        out.truncate(cfg.limit);
    }
    Ok(out)
}

/// `b` moved to where `h` maps its centre, its sides scaled by `h`'s linear scale (an
/// axis-aligned box keeps its meaning under the small rotations involved); `b` unchanged
/// where the centre maps to infinity.
fn map_box(h: &crate::Homography, b: [f64; 4]) -> [f64; 4] {
    let Some((cx, cy)) = h.apply((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0) else {
        return b;
    };
    let a = &h.0;
    let det = (a[0] * a[4] - a[1] * a[3]).abs();
    let scale = if det.is_finite() && det > 0.0 {
        det.sqrt()
    } else {
        1.0
    };
    let (hw, hh) = (scale * (b[2] - b[0]) / 2.0, scale * (b[3] - b[1]) / 2.0);
    [cx - hw, cy - hh, cx + hw, cy + hh]
}

/// Grows a tight box by `margin` px on every side (DeepPCB matching convention).
pub fn grow_box(b: [u32; 4], margin: f64) -> [f64; 4] {
    let [x0, y0, x1, y1] = b.map(f64::from);
    [x0 - margin, y0 - margin, x1 + margin, y1 + margin]
}

/// Evaluates every pair of a DeepPCB-layout directory (the folder holding `groupNNNNN/`).
///
/// # Errors
/// [`Error::Io`] / [`Error::Annotation`] when the directory or an annotation cannot be read.
/// A pair whose images fail counts as failed (all its truths missed), not as an error.
pub fn eval_deeppcb_dir(dir: &Path, cfg: &EvalConfig) -> Result<DeepPcbMetrics, Error> {
    let pairs = deeppcb_pairs(dir, cfg)?;
    let limits = ImageLimits::default();
    let mut all_preds: Vec<Vec<Bx>> = Vec::new();
    let mut all_truths: Vec<Vec<Bx>> = Vec::new();
    let mut per_pair = Vec::new();
    let mut failed = 0;
    for (k, (stem, ann, group)) in pairs.iter().enumerate() {
        let truths = parse_truth(ann)?;
        let id = stem
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let temp = read(&PathBuf::from(format!("{}_temp.jpg", stem.display())))?;
        let test = read(&PathBuf::from(format!("{}_test.jpg", stem.display())))?;
        let pert = cfg.perturb_seed.map(|s| {
            let p = Perturbation::from_seed(s.wrapping_add(k as u64));
            match cfg.perturb_tilt_deg {
                Some(t) => p.with_tilt(t, s.wrapping_add(k as u64)),
                None => p,
            }
        });
        let t0 = Instant::now();
        let mut dims = (0u32, 0u32);
        let result = (|| -> Result<_, Error> {
            let g = load_image(&temp, &limits)?;
            let mut s = load_image(&test, &limits)?;
            dims = (s.width(), s.height());
            if let Some(p) = &pert {
                // Perturbation is test set-up, not detector work: keep it out of the timing.
                let tp = Instant::now();
                s = perturb(&s, p)?;
                let setup = tp.elapsed();
                return Ok((diff(&g, &s, &cfg.options)?, setup));
            }
            Ok((diff(&g, &s, &cfg.options)?, std::time::Duration::ZERO))
        })();
        let mut ms = t0.elapsed().as_secs_f64() * 1e3;
        let (s_w, s_h) = dims;
        let (preds, corr, error) = match result {
            Ok((rep, setup)) => {
                ms -= setup.as_secs_f64() * 1e3;
                // DeepPCB draws its boxes on the test image; a test image that is offset from
                // its template (a few are, by up to ~10 px) needs the golden-frame box mapped
                // into the test frame, through the registration and, when perturbed, back
                // through the perturbation.
                let to_test = pert
                    .as_ref()
                    .and_then(|p| p.transform(s_w, s_h).inverse())
                    .unwrap_or(crate::Homography::IDENTITY)
                    .compose(&rep.registration.transform);
                let preds: Vec<Bx> = rep
                    .changes
                    .iter()
                    .map(|c| Bx {
                        b: map_box(&to_test, grow_box(c.bbox, 0.0)),
                        class: c.class.and_then(DefectClass::deeppcb_id).unwrap_or(0),
                        score: c.score,
                    })
                    .collect();
                (preds, rep.registration.correlation, None)
            }
            Err(e) => {
                failed += 1;
                (Vec::new(), 0.0, Some(e.to_string()))
            }
        };
        let (agn, _) = greedy(&preds, &truths, 0.5, false, false);
        per_pair.push(PairResult {
            id,
            group: group.clone(),
            truth: truths.len(),
            predicted: preds.len(),
            agnostic: agn.finish(),
            ms,
            correlation: corr,
            error,
        });
        all_preds.push(preds);
        all_truths.push(truths);
    }
    let margin = cfg.box_margin_px.unwrap_or(DEEPPCB_BOX_MARGIN);
    for p in &mut all_preds {
        for b in p.iter_mut() {
            b.b = [
                b.b[0] - margin,
                b.b[1] - margin,
                b.b[2] + margin,
                b.b[3] + margin,
            ];
        }
    }
    for (pp, (p, t)) in per_pair.iter_mut().zip(all_preds.iter().zip(&all_truths)) {
        pp.agnostic = greedy(p, t, 0.5, false, false).0.finish();
    }
    let mut iou50 = Prf::default();
    let mut deep = Prf::default();
    let mut per_class = vec![Prf::default(); 6];
    for (p, t) in all_preds.iter().zip(&all_truths) {
        iou50.add(&greedy(p, t, 0.5, false, false).0);
        deep.add(&greedy(p, t, 0.33, true, true).0);
        for (c, slot) in per_class.iter_mut().enumerate() {
            let cls = u8::try_from(c + 1).unwrap_or(0);
            let pc: Vec<Bx> = p.iter().copied().filter(|b| b.class == cls).collect();
            let tc: Vec<Bx> = t.iter().copied().filter(|b| b.class == cls).collect();
            slot.add(&greedy(&pc, &tc, 0.5, false, true).0);
        }
    }
    // mAP under the DeepPCB protocol.
    let mut aps = Vec::new();
    for c in 1..=6u8 {
        let mut scored: Vec<(f64, bool)> = Vec::new();
        let mut n_truth = 0usize;
        for (p, t) in all_preds.iter().zip(&all_truths) {
            let pc: Vec<Bx> = p.iter().copied().filter(|b| b.class == c).collect();
            let tc: Vec<Bx> = t.iter().copied().filter(|b| b.class == c).collect();
            n_truth += tc.len();
            let (_, hit) = greedy(&pc, &tc, 0.33, true, true);
            scored.extend(pc.iter().zip(hit).map(|(b, h)| (b.score, h)));
        }
        aps.push(average_precision(&mut scored, n_truth));
    }
    let map = aps.iter().sum::<f64>() / aps.len().max(1) as f64;
    let mut times: Vec<f64> = per_pair.iter().map(|p| p.ms).collect();
    times.sort_by(f64::total_cmp);
    let n = per_pair.len();
    let names = ["open", "short", "mousebite", "spur", "copper", "pin-hole"];
    Ok(DeepPcbMetrics {
        box_margin_px: margin,
        fitted_margin_px: fit_margin(&all_preds, &all_truths, margin),
        pairs: n,
        failed,
        false_alarms_per_image: iou50.fp as f64 / n.max(1) as f64,
        iou50: iou50.finish(),
        iou50_per_class: names
            .iter()
            .zip(per_class)
            .map(|(n, p)| ((*n).to_string(), p.finish()))
            .collect(),
        deeppcb: deep.finish(),
        map,
        ms_per_pair: times.iter().sum::<f64>() / n.max(1) as f64,
        ms_median: times.get(n / 2).copied().unwrap_or(0.0),
        per_pair,
    })
}

/// Median over truths of the half size difference to the prediction whose centre lies inside
/// it (closest centre), for boxes already grown by `applied`.
fn fit_margin(preds: &[Vec<Bx>], truths: &[Vec<Bx>], applied: f64) -> f64 {
    let mut d = Vec::new();
    for (p, t) in preds.iter().zip(truths) {
        for tb in t {
            let tc = ((tb.b[0] + tb.b[2]) / 2.0, (tb.b[1] + tb.b[3]) / 2.0);
            let best = p
                .iter()
                .filter(|pb| {
                    let c = ((pb.b[0] + pb.b[2]) / 2.0, (pb.b[1] + pb.b[3]) / 2.0);
                    c.0 >= tb.b[0] && c.0 <= tb.b[2] && c.1 >= tb.b[1] && c.1 <= tb.b[3]
                })
                .min_by(|a, b| {
                    let da = ((a.b[0] + a.b[2]) / 2.0 - tc.0).hypot((a.b[1] + a.b[3]) / 2.0 - tc.1);
                    let db = ((b.b[0] + b.b[2]) / 2.0 - tc.0).hypot((b.b[1] + b.b[3]) / 2.0 - tc.1);
                    da.total_cmp(&db)
                });
            if let Some(pb) = best {
                d.push(((tb.b[2] - tb.b[0]) - (pb.b[2] - pb.b[0])) / 2.0 + applied);
                d.push(((tb.b[3] - tb.b[1]) - (pb.b[3] - pb.b[1])) / 2.0 + applied);
            }
        }
    }
    d.sort_by(f64::total_cmp);
    d.get(d.len() / 2).copied().unwrap_or(DEEPPCB_BOX_MARGIN)
}

/// Fits the box margin on the configured pairs (see the module doc).
///
/// # Errors
/// As [`eval_deeppcb_dir`].
pub fn fit_box_margin(dir: &Path, cfg: &EvalConfig) -> Result<f64, Error> {
    let mut c = cfg.clone();
    c.box_margin_px = Some(0.0);
    Ok(eval_deeppcb_dir(dir, &c)?.fitted_margin_px)
}

/// One cross-validation fold: margin fitted without `group`, metrics on `group` alone.
#[derive(Clone, Debug, Serialize)]
pub struct CvFold {
    /// Held-out board group.
    pub group: String,
    /// Margin fitted on the other groups.
    pub fitted_margin_px: f64,
    /// Metrics on the training groups with that margin.
    pub train: Prf,
    /// Metrics on the held-out group with that margin (class-agnostic, IoU >= 0.5).
    pub test: Prf,
    /// DeepPCB protocol on the held-out group.
    pub test_deeppcb: Prf,
}

/// Leave-one-group-out cross-validation of the box margin.
///
/// # Errors
/// As [`eval_deeppcb_dir`].
pub fn cross_validate_groups(dir: &Path, cfg: &EvalConfig) -> Result<Vec<CvFold>, Error> {
    let all = deeppcb_pairs(dir, cfg)?;
    let mut groups: Vec<String> = all.iter().map(|p| p.2.clone()).collect();
    groups.sort();
    groups.dedup();
    let mut out = Vec::new();
    for g in groups {
        let mut train = cfg.clone();
        train.exclude_groups.push(g.clone());
        let m = fit_box_margin(dir, &train)?;
        train.box_margin_px = Some(m);
        let tr = eval_deeppcb_dir(dir, &train)?;
        let mut test = cfg.clone();
        test.groups = vec![g.clone()];
        test.box_margin_px = Some(m);
        let te = eval_deeppcb_dir(dir, &test)?;
        out.push(CvFold {
            group: g,
            fitted_margin_px: m,
            train: tr.iou50,
            test: te.iou50,
            test_deeppcb: te.deeppcb,
        });
    }
    Ok(out)
}

/// All-point interpolated average precision.
fn average_precision(scored: &mut [(f64, bool)], n_truth: usize) -> f64 {
    if n_truth == 0 {
        return 0.0;
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut tp = 0.0;
    let mut pts = Vec::with_capacity(scored.len());
    for (i, (_, h)) in scored.iter().enumerate() {
        if *h {
            tp += 1.0;
        }
        pts.push((tp / n_truth as f64, tp / (i + 1) as f64));
    }
    let mut ap = 0.0;
    let mut prev_r = 0.0;
    for i in 0..pts.len() {
        let r = pts.get(i).map_or(0.0, |p| p.0);
        let pmax = pts.iter().skip(i).map(|p| p.1).fold(0.0f64, f64::max);
        ap += (r - prev_r) * pmax;
        prev_r = r;
    }
    ap
}

/// One assembled pair's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct AssembledPair {
    /// Board id.
    pub board: String,
    /// Variant name (`same_01`, `implant_02`...).
    pub variant: String,
    /// Truth changes.
    pub truth: usize,
    /// Truth changes found (centre-in-box or IoU >= 0.3) with the right kind.
    pub found: usize,
    /// Truth changes found at the right place but with another kind.
    pub found_wrong_kind: usize,
    /// Predictions matching no truth change.
    pub false_alarms: usize,
    /// Milliseconds for decode + register + diff.
    pub ms: f64,
    /// Registration correlation.
    pub correlation: f64,
    /// The error, when the pair failed.
    pub error: Option<String>,
    /// Registration method used.
    pub method: Option<crate::RegistrationMethod>,
    /// Every reported change, with whether it matched a truth change.
    pub predictions: Vec<AssembledPrediction>,
}

/// One reported change of an assembled pair.
#[derive(Clone, Debug, Serialize)]
pub struct AssembledPrediction {
    /// The change as reported.
    #[serde(flatten)]
    pub change: crate::Change,
    /// It lies on a truth change (of any kind).
    pub matched: bool,
}

/// Assembled-layout metrics.
#[derive(Clone, Debug, Serialize)]
pub struct AssembledMetrics {
    /// Pairs evaluated.
    pub pairs: usize,
    /// Truth changes in all pairs.
    pub truth: usize,
    /// Found with the right kind.
    pub found: usize,
    /// Found at the right place with a wrong kind.
    pub found_wrong_kind: usize,
    /// False alarms on pairs with no change (`same_*`).
    pub false_alarms_unchanged: usize,
    /// False alarms on changed pairs.
    pub false_alarms_changed: usize,
    /// Mean milliseconds per pair.
    pub ms_per_pair: f64,
    /// Per-pair outcomes.
    pub per_pair: Vec<AssembledPair>,
}

#[derive(serde::Deserialize)]
struct Index {
    boards: Vec<IndexBoard>,
    pairs: Vec<IndexPair>,
}

#[derive(serde::Deserialize)]
struct IndexBoard {
    id: String,
    px_per_mm: Option<f64>,
}

#[derive(serde::Deserialize)]
struct IndexPair {
    golden: String,
    suspect: String,
    board: String,
    variant: String,
    changes: Vec<IndexChange>,
}

#[derive(serde::Deserialize)]
struct IndexChange {
    #[serde(rename = "box")]
    bbox: [f64; 4],
    kind: String,
}

/// Evaluates an assembled-layout directory (one holding `index.json`).
///
/// # Errors
/// [`Error::Io`] / [`Error::Annotation`] when `index.json` cannot be read or parsed.
pub fn eval_assembled_dir(dir: &Path, cfg: &EvalConfig) -> Result<AssembledMetrics, Error> {
    let ipath = dir.join("index.json");
    let index: Index = serde_json::from_slice(&read(&ipath)?).map_err(|e| Error::Annotation {
        path: ipath.display().to_string(),
        message: e.to_string(),
    })?;
    let limits = ImageLimits::default();
    let mut per_pair = Vec::new();
    let mut golden_cache: Option<(String, BoardImage)> = None;
    for p in index
        .pairs
        .iter()
        .take(if cfg.limit > 0 { cfg.limit } else { usize::MAX })
    {
        let mut opts = cfg.options.clone();
        opts.px_per_mm = index
            .boards
            .iter()
            .find(|b| b.id == p.board)
            .and_then(|b| b.px_per_mm);
        let t0 = Instant::now();
        let result = (|| -> Result<_, Error> {
            let g = match golden_cache.take() {
                Some((name, img)) if name == p.golden => img,
                _ => load_image(&read(&dir.join(&p.golden))?, &limits)?,
            };
            let s = load_image(&read(&dir.join(&p.suspect))?, &limits)?;
            let rep = diff(&g, &s, &opts);
            golden_cache = Some((p.golden.clone(), g));
            rep
        })();
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        let mut out = AssembledPair {
            board: p.board.clone(),
            variant: p.variant.clone(),
            truth: p.changes.len(),
            found: 0,
            found_wrong_kind: 0,
            false_alarms: 0,
            ms,
            correlation: 0.0,
            error: None,
            method: None,
            predictions: Vec::new(),
        };
        match result {
            Ok(rep) => {
                out.correlation = rep.registration.correlation;
                let mut used = vec![false; rep.changes.len()];
                for t in &p.changes {
                    let mut right = None;
                    let mut wrong = None;
                    for (i, c) in rep.changes.iter().enumerate() {
                        let b = c.bbox.map(f64::from);
                        let (cx, cy) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
                        let centre_in = cx >= t.bbox[0]
                            && cx <= t.bbox[2]
                            && cy >= t.bbox[1]
                            && cy <= t.bbox[3];
                        if !(centre_in || iou(&b, &t.bbox) >= 0.3) {
                            continue;
                        }
                        let kind = match c.kind {
                            ChangeKind::Added => "added",
                            ChangeKind::Missing => "missing",
                            _ => "altered",
                        };
                        if kind == t.kind {
                            right.get_or_insert(i);
                        } else {
                            wrong.get_or_insert(i);
                        }
                        if let Some(u) = used.get_mut(i) {
                            *u = true;
                        }
                    }
                    if right.is_some() {
                        out.found += 1;
                    } else if wrong.is_some() {
                        out.found_wrong_kind += 1;
                    }
                }
                out.false_alarms = used.iter().filter(|&&u| !u).count();
                out.method = Some(rep.registration.method);
                out.predictions = rep
                    .changes
                    .iter()
                    .zip(&used)
                    .map(|(c, &matched)| AssembledPrediction {
                        change: c.clone(),
                        matched,
                    })
                    .collect();
            }
            Err(e) => out.error = Some(e.to_string()),
        }
        per_pair.push(out);
    }
    let n = per_pair.len();
    Ok(AssembledMetrics {
        pairs: n,
        truth: per_pair.iter().map(|p| p.truth).sum(),
        found: per_pair.iter().map(|p| p.found).sum(),
        found_wrong_kind: per_pair.iter().map(|p| p.found_wrong_kind).sum(),
        false_alarms_unchanged: per_pair
            .iter()
            .filter(|p| p.truth == 0)
            .map(|p| p.false_alarms)
            .sum(),
        false_alarms_changed: per_pair
            .iter()
            .filter(|p| p.truth > 0)
            .map(|p| p.false_alarms)
            .sum(),
        ms_per_pair: per_pair.iter().map(|p| p.ms).sum::<f64>() / n.max(1) as f64,
        per_pair,
    })
}
