//! Board: each host's board images against its model's golden images (see `tamperscan-board`
//! and `tamperscan_fleet::board`). One finding per image that differs, naming every changed
//! region, with the side-by-side overlay as its picture; an image that cannot be registered onto
//! its golden image is a finding too (a different board, a different side, or a bad photo).
//!
//! Siblings: with at least [`Consensus::MIN_HOSTS`] boards of a model compared on a side, each
//! changed region says on how many of them the same region (in golden coordinates) differs. A
//! region on most boards points at the golden image (a part that sat differently when it was
//! photographed) or at the whole batch; one on this board alone is what sets it apart, and is
//! named first in the summary. A host counts once per side however many images it has there.
//! Severity, kind, location and observed value come from the board's own report only, so a
//! finding keeps its fingerprint when hosts join or leave the fleet: a whole batch can carry the
//! same implant.

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
        // (model, side) -> host -> the changed boxes of that host's images of the side. A host
        // counts once however many images of one side it carries (`top.png` and `TOP.jpg`).
        let mut by_host: BTreeMap<(&str, &str), HostBoxes<'_>> = BTreeMap::new();
        for host in &fleet.hosts {
            let model = host.config.model.as_ref().map_or("", |(m, _)| m.as_str());
            for cmp in &host.boards {
                if let Ok(d) = &cmp.outcome {
                    by_host
                        .entry((model, cmp.side.as_str()))
                        .or_default()
                        .entry(host.id.0.as_str())
                        .or_default()
                        .extend(d.report.changes.iter().map(|c| c.bbox));
                }
            }
        }
        let groups: BTreeMap<(&str, &str), Vec<Vec<[u32; 4]>>> = by_host
            .into_iter()
            .map(|(k, hosts)| (k, hosts.into_values().collect()))
            .collect();
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

/// Host id -> the changed boxes of its images of one side.
type HostBoxes<'a> = BTreeMap<&'a str, Vec<[u32; 4]>>;

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
/// of the larger one: regions of the same cause vary in extent from photo to photo (up to twice),
/// but one huge region (glare, a sticker) must not stand for every small one inside it.
fn same_region(a: [u32; 4], b: [u32; 4]) -> bool {
    let area =
        |r: [u32; 4]| u64::from(r[2].saturating_sub(r[0])) * u64::from(r[3].saturating_sub(r[1]));
    let inter = [
        a[0].max(b[0]),
        a[1].max(b[1]),
        a[2].min(b[2]),
        a[3].min(b[3]),
    ];
    let larger = area(a).max(area(b));
    larger > 0 && 2 * area(inter) >= larger
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
    // What this board shows on its own names the finding (kind, location, observed): those stay
    // the same when other hosts join or leave the fleet, so the finding keeps its fingerprint.
    // The most certain added region, else the most certain region.
    let own = confident
        .iter()
        .copied()
        .find(|c| c.kind == ChangeKind::Added)
        .or_else(|| confident.first().copied())
        .unwrap_or(first);
    // Where to look first also weighs the siblings: the most certain region that most sibling
    // boards do not share.
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
    let shared = confident
        .iter()
        .filter(|c| siblings.on_most(c.bbox))
        .count();
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
        &format!("board.{}", kind_name(own.kind)),
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
            if shared > 0 {
                format!(
                    "; {shared} confident region{} also differ{} on most boards of the model (check the golden image there first)",
                    if shared == 1 { "" } else { "s" },
                    if shared == 1 { "s" } else { "" }
                )
            } else {
                String::new()
            }
        ),
        &cmp.path,
        reference,
    );
    let [o1, o2, o3, o4] = own.bbox;
    f.location = Location::new(cmp.path.clone(), format!("[{o1}, {o2}, {o3}, {o4}]"));
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
                    c.score,
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
    fn regions_are_matched_across_boards_by_overlap_of_the_larger_box() {
        assert!(same_region([10, 10, 30, 30], [12, 8, 32, 28]));
        // The same cause at half the extent on another photo.
        assert!(same_region([10, 10, 30, 30], [10, 10, 30, 20]));
        assert!(!same_region([10, 10, 20, 20], [18, 18, 40, 40]));
        // One huge region (glare) does not stand for every small one inside it.
        assert!(!same_region([0, 0, 400, 400], [20, 20, 30, 30]));
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

    fn change(bbox: [u32; 4], kind: ChangeKind, score: f64) -> tamperscan_board::Change {
        tamperscan_board::Change {
            bbox,
            kind,
            class: Some(DefectClass::Component),
            score,
            area_px: 400,
            area_mm2: None,
        }
    }

    fn comparison(changes: Vec<tamperscan_board::Change>) -> BoardComparison {
        BoardComparison {
            side: "top".into(),
            path: "hosts/h1/board/top.jpg".into(),
            golden: "models/m/board/top.png".into(),
            outcome: Ok(tamperscan_fleet::board::BoardDiff {
                report: DiffReport {
                    registration: tamperscan_board::Registration {
                        transform: tamperscan_board::Homography::IDENTITY,
                        correlation: 0.95,
                        overlap: 1.0,
                        rotation_deg: 0.0,
                        scale: 1.0,
                        method: tamperscan_board::RegistrationMethod::BlockAffine,
                    },
                    changes,
                    width: 800,
                    height: 600,
                    mode: tamperscan_board::ImageMode::Photo,
                    contrast: 100.0,
                    threshold: 20.0,
                },
                overlay: None,
            }),
        }
    }

    #[test]
    fn siblings_choose_where_to_look_but_not_what_the_finding_is() {
        let host = tamperscan_model::HostId("h1".into());
        // A confident added region that most boards share (a part placed differently on the
        // golden board), and a missing one on this board alone.
        let cmp = comparison(vec![
            change([100, 100, 120, 120], ChangeKind::Added, 0.9),
            change([500, 500, 520, 520], ChangeKind::Missing, 0.8),
        ]);
        let boards = vec![
            vec![[100, 100, 120, 120], [500, 500, 520, 520]],
            vec![[101, 99, 121, 119]],
            vec![[99, 101, 119, 121]],
            vec![],
        ];
        let with = finding(&host, "m", &cmp, &Siblings { boards: &boards }).unwrap();
        let alone = finding(&host, "m", &cmp, &Siblings { boards: &[] }).unwrap();
        assert!(
            with.summary
                .contains("first to look at: component missing at [500, 500, 520, 520]"),
            "{}",
            with.summary
        );
        assert!(
            with.summary.contains("on this board only of 4"),
            "{}",
            with.summary
        );
        assert!(
            with.summary
                .contains("1 confident region also differs on most boards"),
            "{}",
            with.summary
        );
        // Without siblings the most certain region leads and nothing is said of others.
        assert!(
            alone.summary.contains("added at [100, 100, 120, 120]"),
            "{}",
            alone.summary
        );
        assert!(!alone.summary.contains("boards"), "{}", alone.summary);
        // The finding itself is the same: kind from the added region, same severity, location
        // and fingerprint whatever the rest of the fleet shows.
        assert_eq!(with.kind, "board.added");
        assert_eq!(with.severity, Severity::High);
        assert_eq!(with.location, alone.location);
        assert_eq!(with.fingerprint(), alone.fingerprint());
    }
}
