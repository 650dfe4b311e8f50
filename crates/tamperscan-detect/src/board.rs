//! Board: each host's board images against its model's golden images (see `tamperscan-board`
//! and `tamperscan_fleet::board`). One finding per image that differs, naming every changed
//! region, with the side-by-side overlay as its picture; an image that cannot be registered onto
//! its golden image is a finding too (a different board, a different side, or a bad photo).

use crate::engine::Detector;
use tamperscan_board::{ChangeKind, DefectClass, DiffReport};
use tamperscan_fleet::board::BoardComparison;
use tamperscan_fleet::Fleet;
use tamperscan_model::{Finding, Layer, Location, Picture, Reference, Severity};

pub(crate) struct BoardDetector;

/// Changes scoring below this are listed in the finding of a changed image but never raise it
/// above `low` on their own: the detector's own scale puts borderline regions there.
const CONFIDENT: f64 = 0.5;

impl Detector for BoardDetector {
    fn name(&self) -> &'static str {
        "board"
    }

    fn run(&self, fleet: &Fleet) -> Vec<Finding> {
        let mut out = Vec::new();
        for host in &fleet.hosts {
            let model = host.config.model.as_ref().map_or("", |(m, _)| m.as_str());
            for cmp in &host.boards {
                if let Some(f) = finding(&host.id, model, cmp) {
                    out.push(f);
                }
            }
        }
        out
    }
}

fn kind_name(k: ChangeKind) -> &'static str {
    match k {
        ChangeKind::Added => "added",
        ChangeKind::Missing => "missing",
        _ => "altered",
    }
}

fn class_name(c: Option<DefectClass>) -> &'static str {
    match c {
        Some(DefectClass::Open) => "open",
        Some(DefectClass::Short) => "short",
        Some(DefectClass::Mousebite) => "mousebite",
        Some(DefectClass::Spur) => "spur",
        Some(DefectClass::Copper) => "copper",
        Some(DefectClass::PinHole) => "pin-hole",
        Some(DefectClass::Component) => "component",
        _ => "region",
    }
}

fn finding(host: &tamperscan_model::HostId, model: &str, cmp: &BoardComparison) -> Option<Finding> {
    let reference = Reference::Golden {
        path: cmp.golden.clone(),
    };
    let diff = match &cmp.outcome {
        Ok(d) => d,
        Err(message) => {
            let not_same = message.contains("not the same board");
            let mut f = Finding::new(
                host,
                Layer::Board,
                "board.not_comparable",
                if not_same {
                    Severity::Medium
                } else {
                    Severity::Low
                },
                format!(
                    "{} could not be compared with the {model} golden image: {message}",
                    cmp.path
                ),
                &cmp.path,
                reference,
            );
            f.location = Location::new(cmp.path.clone(), format!("side {}", cmp.side));
            f.expected = Some(format!(
                "a photo or X-ray of the {} side of a {model} board",
                cmp.side
            ));
            return Some(f);
        }
    };
    let report: &DiffReport = &diff.report;
    let first = report.changes.first()?;
    let confident: Vec<_> = report
        .changes
        .iter()
        .filter(|c| c.score >= CONFIDENT)
        .collect();
    let added = confident.iter().any(|c| c.kind == ChangeKind::Added);
    let severity = if added {
        Severity::High
    } else if !confident.is_empty() {
        Severity::Medium
    } else {
        Severity::Low
    };
    let lead = confident.first().copied().unwrap_or(first);
    let count = |k: ChangeKind| report.changes.iter().filter(|c| c.kind == k).count();
    let mut counts = Vec::new();
    for k in [ChangeKind::Added, ChangeKind::Missing, ChangeKind::Altered] {
        let n = count(k);
        if n > 0 {
            counts.push(format!("{n} {}", kind_name(k)));
        }
    }
    let size = |c: &tamperscan_board::Change| {
        c.area_mm2
            .map_or_else(|| format!("{} px", c.area_px), |mm| format!("{mm:.1} mm²"))
    };
    let [x1, y1, x2, y2] = lead.bbox;
    let mut f = Finding::new(
        host,
        Layer::Board,
        &format!("board.{}", kind_name(lead.kind)),
        severity,
        format!(
            "{} differs from the {model} golden image in {} region{} ({}); the most certain: {} {} at [{x1}, {y1}, {x2}, {y2}], {}, score {:.2}",
            cmp.path,
            report.changes.len(),
            if report.changes.len() == 1 { "" } else { "s" },
            counts.join(", "),
            class_name(lead.class),
            kind_name(lead.kind),
            size(lead),
            lead.score
        ),
        &cmp.path,
        reference,
    );
    f.location = Location::new(cmp.path.clone(), format!("[{x1}, {y1}, {x2}, {y2}]"));
    f.expected = Some(format!("the board as in {}", cmp.golden));
    f.observed = Some(
        report
            .changes
            .iter()
            .take(20)
            .map(|c| {
                let [a, b, c2, d] = c.bbox;
                format!(
                    "{} {} at [{a}, {b}, {c2}, {d}] ({}, score {:.2})",
                    kind_name(c.kind),
                    class_name(c.class),
                    size(c),
                    c.score
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
    );
    if let Some(png) = &diff.overlay {
        f.pictures.push(Picture {
            caption: format!(
                "left: golden {}; right: {} registered onto it (correlation {:.2}); red added, blue missing, orange altered",
                cmp.golden, cmp.path, report.registration.correlation
            ),
            media_type: "image/png".into(),
            data: png.clone(),
        });
    }
    Some(f)
}
