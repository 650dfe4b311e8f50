//! Board: each host's board images against its model's golden images (see `tamperscan-board`
//! and `tamperscan_fleet::board`). One finding per image that differs, naming every changed
//! region, with the side-by-side overlay as its picture; an image that cannot be registered onto
//! its golden image is a finding too (a different board, a different side, or a bad photo).
//!
//! Siblings: with at least [`Consensus::MIN_HOSTS`] boards of a model compared on a side, each
//! changed region says on how many of them the same region (in golden coordinates) differs. A
//! region on most boards points at the golden image (a part that sat differently when it was
//! photographed) or at the whole batch; one on this board alone is what sets it apart, and leads
//! the finding. Severities do not change: a whole batch can carry the same implant.

use crate::consensus::Consensus;
use crate::engine::Detector;
use std::collections::BTreeMap;
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
        // (model, side) -> the changed boxes of every board compared there.
        let mut groups: BTreeMap<(&str, &str), Vec<Vec<[u32; 4]>>> = BTreeMap::new();
        for host in &fleet.hosts {
            let model = host.config.model.as_ref().map_or("", |(m, _)| m.as_str());
            for cmp in &host.boards {
                if let Ok(d) = &cmp.outcome {
                    groups
                        .entry((model, cmp.side.as_str()))
                        .or_default()
                        .push(d.report.changes.iter().map(|c| c.bbox).collect());
                }
            }
        }
        let mut out = Vec::new();
        for host in &fleet.hosts {
            let model = host.config.model.as_ref().map_or("", |(m, _)| m.as_str());
            for cmp in &host.boards {
                let siblings = Siblings {
                    boards: groups
                        .get(&(model, cmp.side.as_str()))
                        .map_or(&[][..], Vec::as_slice),
                };
                if let Some(f) = finding(&host.id, model, cmp, &siblings) {
                    out.push(f);
                }
            }
        }
        out
    }
}

/// The changed boxes of every board of one model compared on one side.
struct Siblings<'a> {
    boards: &'a [Vec<[u32; 4]>],
}

impl Siblings<'_> {
    /// On how many boards (this one included) the region `b` differs, and how many boards were
    /// compared; `None` when there are too few to speak of a majority.
    fn share(&self, b: [u32; 4]) -> Option<(usize, usize)> {
        let n = self.boards.len();
        if n < Consensus::<()>::MIN_HOSTS {
            return None;
        }
        let k = self
            .boards
            .iter()
            .filter(|boxes| boxes.iter().any(|&o| same_region(b, o)))
            .count();
        Some((k.max(1), n))
    }

    /// True when most boards differ at `b` too.
    fn on_most(&self, b: [u32; 4]) -> bool {
        self.share(b).is_some_and(|(k, n)| 2 * k > n)
    }
}

/// Two boxes in golden pixels name the same region when their intersection covers at least half
/// of the smaller one: regions of the same cause vary in extent from photo to photo.
fn same_region(a: [u32; 4], b: [u32; 4]) -> bool {
    let area =
        |r: [u32; 4]| u64::from(r[2].saturating_sub(r[0])) * u64::from(r[3].saturating_sub(r[1]));
    let inter = [
        a[0].max(b[0]),
        a[1].max(b[1]),
        a[2].min(b[2]),
        a[3].min(b[3]),
    ];
    let smaller = area(a).min(area(b));
    smaller > 0 && 2 * area(inter) >= smaller
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

fn finding(
    host: &tamperscan_model::HostId,
    model: &str,
    cmp: &BoardComparison,
    siblings: &Siblings<'_>,
) -> Option<Finding> {
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
    // The most certain region that most sibling boards do not share leads.
    let lead = confident
        .iter()
        .copied()
        .find(|c| !siblings.on_most(c.bbox))
        .or_else(|| confident.first().copied())
        .unwrap_or(first);
    let share = |c: &tamperscan_board::Change| {
        siblings.share(c.bbox).map_or(String::new(), |(k, n)| {
            if k == 1 {
                format!(", on this board only of {n}")
            } else {
                format!(", on {k} of {n} boards")
            }
        })
    };
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
            "{} differs from the {model} golden image in {} region{} ({}); first to look at: {} {} at [{x1}, {y1}, {x2}, {y2}], {}, score {:.2}{}{}",
            cmp.path,
            report.changes.len(),
            if report.changes.len() == 1 { "" } else { "s" },
            counts.join(", "),
            class_name(lead.class),
            kind_name(lead.kind),
            size(lead),
            lead.score,
            share(lead),
            if siblings.on_most(lead.bbox) {
                " (where most boards differ alike, check the golden image there first)"
            } else {
                ""
            }
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
                    "{} {} at [{a}, {b}, {c2}, {d}] ({}, score {:.2}{})",
                    kind_name(c.kind),
                    class_name(c.class),
                    size(c),
                    c.score,
                    share(c)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_matched_across_boards_by_overlap_of_the_smaller_box() {
        assert!(same_region([10, 10, 30, 30], [12, 8, 32, 28]));
        // A small region inside a larger one of the same cause.
        assert!(same_region([10, 10, 40, 40], [20, 20, 30, 30]));
        assert!(!same_region([10, 10, 20, 20], [18, 18, 40, 40]));
        assert!(
            !same_region([10, 10, 10, 20], [10, 10, 10, 20]),
            "empty boxes"
        );
    }

    #[test]
    fn siblings_count_boards_not_regions() {
        let boards = vec![
            vec![[100, 100, 120, 120], [500, 500, 510, 510]],
            vec![[101, 99, 121, 119]],
            vec![[99, 101, 119, 121], [102, 102, 118, 118]],
            vec![],
        ];
        let s = Siblings { boards: &boards };
        assert_eq!(s.share([100, 100, 120, 120]), Some((3, 4)));
        assert!(s.on_most([100, 100, 120, 120]));
        assert_eq!(s.share([500, 500, 510, 510]), Some((1, 4)));
        assert!(!s.on_most([500, 500, 510, 510]));
        // Two boards: too few to speak of a majority.
        let two = Siblings {
            boards: &boards[..2],
        };
        assert_eq!(two.share([100, 100, 120, 120]), None);
        assert!(!two.on_most([100, 100, 120, 120]));
    }
}
