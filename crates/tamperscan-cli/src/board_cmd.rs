//! `tamperscan board diff` and `tamperscan board eval`.

use crate::boot_cmd::write_json;
use crate::{Format, EXIT_FINDINGS, EXIT_PASS};
use anyhow::{bail, Context as _};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use tamperscan_board::eval::{eval_assembled_dir, eval_deeppcb_dir, EvalConfig, Prf};
use tamperscan_board::{
    diff, load_image, overlay_png, BoardImage, Change, DiffReport, ImageLimits, Options, Polarity,
};

/// What `board diff` was asked.
pub struct DiffArgs<'a> {
    /// The golden image.
    pub golden: &'a Path,
    /// The board to judge.
    pub suspect: &'a Path,
    /// Where to write the overlay PNG.
    pub overlay: Option<&'a Path>,
    /// Output format.
    pub format: Format,
    /// Pixels per millimetre of the golden image, when known.
    pub px_per_mm: Option<f64>,
    /// Which phase is material on two-level images.
    pub material: Polarity,
}

/// One change as scripts read it.
#[derive(Serialize)]
struct WireChange {
    /// `[x1, y1, x2, y2]` in golden pixels (`x2`, `y2` exclusive).
    #[serde(rename = "box")]
    bbox: [u32; 4],
    kind: tamperscan_board::ChangeKind,
    class: Option<tamperscan_board::DefectClass>,
    score: f64,
    area_px: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    area_mm2: Option<f64>,
}

impl From<&Change> for WireChange {
    fn from(c: &Change) -> Self {
        WireChange {
            bbox: c.bbox,
            kind: c.kind,
            class: c.class,
            score: (c.score * 1000.0).round() / 1000.0,
            area_px: c.area_px,
            area_mm2: c.area_mm2.map(|a| (a * 1000.0).round() / 1000.0),
        }
    }
}

#[derive(Serialize)]
struct DiffDoc<'a> {
    golden: String,
    suspect: String,
    width: u32,
    height: u32,
    mode: tamperscan_board::ImageMode,
    registration: &'a tamperscan_board::Registration,
    changes: Vec<WireChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    overlay: Option<String>,
}

/// Reads an image file with the default pixel limits; the error names the file.
pub fn read_image(path: &Path) -> anyhow::Result<BoardImage> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    load_image(&bytes, &ImageLimits::default()).with_context(|| format!("{}", path.display()))
}

/// Runs `board diff`.
pub fn diff_cmd(args: &DiffArgs<'_>) -> anyhow::Result<u8> {
    let golden = read_image(args.golden)?;
    let suspect = read_image(args.suspect)?;
    let opts = Options {
        px_per_mm: args.px_per_mm,
        material: args.material,
        ..Options::default()
    };
    let report = diff(&golden, &suspect, &opts).with_context(|| {
        format!(
            "cannot compare {} with {}",
            args.suspect.display(),
            args.golden.display()
        )
    })?;
    if let Some(path) = args.overlay {
        let png = overlay_png(&golden, &suspect, &report)?;
        std::fs::write(path, png).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Json => write_json(
            &mut out,
            &DiffDoc {
                golden: args.golden.display().to_string(),
                suspect: args.suspect.display().to_string(),
                width: report.width,
                height: report.height,
                mode: report.mode,
                registration: &report.registration,
                changes: report.changes.iter().map(WireChange::from).collect(),
                overlay: args.overlay.map(|p| p.display().to_string()),
            },
        )?,
        Format::Text => write_text(&mut out, args, &report)?,
    }
    Ok(if report.changes.is_empty() {
        EXIT_PASS
    } else {
        EXIT_FINDINGS
    })
}

fn write_text(
    out: &mut impl Write,
    args: &DiffArgs<'_>,
    report: &DiffReport,
) -> anyhow::Result<()> {
    let r = &report.registration;
    writeln!(
        out,
        "{} against {} ({} x {}, {}): registered by {:?}, correlation {:.3}, overlap {:.0}%, rotation {:.2}°, scale {:.3}",
        args.suspect.display(),
        args.golden.display(),
        report.width,
        report.height,
        match report.mode {
            tamperscan_board::ImageMode::TwoLevel => "two-level",
            _ => "photo",
        },
        r.method,
        r.correlation,
        r.overlap * 100.0,
        r.rotation_deg,
        r.scale
    )?;
    if report.changes.is_empty() {
        writeln!(out, "no changes")?;
    } else {
        writeln!(out, "{} changes, most certain first:", report.changes.len())?;
    }
    for (i, c) in report.changes.iter().enumerate() {
        let [x1, y1, x2, y2] = c.bbox;
        let kind = serde_json::to_value(c.kind)?;
        let class = c
            .class
            .and_then(|k| serde_json::to_value(k).ok())
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "-".into());
        writeln!(
            out,
            "{:>3}. {:<8} {:<10} score {:.2}  box [{x1}, {y1}, {x2}, {y2}]  {} px{}",
            i + 1,
            kind.as_str().unwrap_or("?"),
            class,
            c.score,
            c.area_px,
            c.area_mm2
                .map(|a| format!(" ({a:.2} mm²)"))
                .unwrap_or_default()
        )?;
    }
    if let Some(p) = args.overlay {
        writeln!(out, "overlay written to {}", p.display())?;
    }
    Ok(())
}

/// What `board eval` was asked.
pub struct EvalArgs<'a> {
    /// A DeepPCB-layout directory, or an assembled-layout one (with `index.json`).
    pub dir: &'a Path,
    /// DeepPCB pair list (`trainval.txt` format).
    pub list: Option<&'a Path>,
    /// Perturb each suspect (shift, rotation, scale, brightness, blur) with this seed.
    pub perturb: Option<u64>,
    /// With `perturb`, a camera tilt of up to this many degrees too.
    pub tilt: Option<f64>,
    /// At most this many pairs.
    pub limit: usize,
    /// Output format.
    pub format: Format,
    /// Include per-pair results in JSON.
    pub per_pair: bool,
}

/// Runs `board eval`.
pub fn eval_cmd(args: &EvalArgs<'_>) -> anyhow::Result<u8> {
    if !args.dir.is_dir() {
        bail!("{} is not a directory", args.dir.display());
    }
    if let Some(t) = args.tilt {
        if !(0.0..=45.0).contains(&t) {
            bail!("--tilt {t}: give a camera tilt in degrees from 0 to 45");
        }
    }
    let cfg = EvalConfig {
        pair_list: args.list.map(PathBuf::from),
        perturb_seed: args.perturb,
        perturb_tilt_deg: args.tilt,
        limit: args.limit,
        ..EvalConfig::default()
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.dir.join("index.json").is_file() {
        let mut m = eval_assembled_dir(args.dir, &cfg)?;
        if m.pairs == 0 {
            bail!("{}/index.json lists no pairs", args.dir.display());
        }
        match args.format {
            Format::Json => {
                if !args.per_pair {
                    m.per_pair.clear();
                }
                write_json(&mut out, &m)?;
            }
            Format::Text => {
                writeln!(
                    out,
                    "{} pairs (assembled layout): {} of {} changes found with the right kind, {} at the right place with another kind; false alarms: {} on unchanged pairs, {} on changed pairs; {:.1} ms per pair",
                    m.pairs, m.found, m.truth, m.found_wrong_kind, m.false_alarms_unchanged, m.false_alarms_changed, m.ms_per_pair
                )?;
                for p in m.per_pair.iter().filter(|p| p.error.is_some()) {
                    writeln!(
                        out,
                        "  {} {}: {}",
                        p.board,
                        p.variant,
                        p.error.as_deref().unwrap_or("")
                    )?;
                }
            }
        }
        return Ok(EXIT_PASS);
    }
    let mut m = eval_deeppcb_dir(args.dir, &cfg)?;
    if m.pairs == 0 {
        bail!(
            "no pairs found under {}: expected DeepPCB's layout (<id>_temp.jpg, <id>_test.jpg and an annotation <id>.txt per pair) or an index.json",
            args.dir.display()
        );
    }
    match args.format {
        Format::Json => {
            if !args.per_pair {
                m.per_pair.clear();
            }
            write_json(&mut out, &m)?;
        }
        Format::Text => {
            let prf = |name: &str, p: &Prf| {
                format!(
                    "{name:<28} P {:.3}  R {:.3}  F1 {:.3}  (tp {}, fp {}, fn {})",
                    p.precision, p.recall, p.f1, p.tp, p.fp, p.fn_
                )
            };
            writeln!(
                out,
                "{} pairs ({} failed), DeepPCB layout, one thread",
                m.pairs, m.failed
            )?;
            writeln!(out, "{}", prf("IoU >= 0.5, any class", &m.iou50))?;
            for (class, p) in &m.iou50_per_class {
                writeln!(out, "{}", prf(&format!("IoU >= 0.5, {class}"), p))?;
            }
            writeln!(out, "{}", prf("DeepPCB (IoU > 0.33, class)", &m.deeppcb))?;
            writeln!(out, "mAP (DeepPCB protocol)       {:.3}", m.map)?;
            writeln!(
                out,
                "false alarms per image       {:.2}",
                m.false_alarms_per_image
            )?;
            writeln!(
                out,
                "ms per pair                  {:.1} mean, {:.1} median",
                m.ms_per_pair, m.ms_median
            )?;
        }
    }
    Ok(EXIT_PASS)
}
