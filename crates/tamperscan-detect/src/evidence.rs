//! Evidence that could not be used as collected: too large, not the promised format, unreadable.
//!
//! Evidence comes from the hosts under suspicion, so a file that is not what it should be is
//! itself a reason to look closer: the host is `suspect` until it is collected again.

use crate::engine::Detector;
use rayon::prelude::*;
use tamperscan_fleet::Fleet;
use tamperscan_model::{EvidenceStatus, Finding, Reference, Severity};

pub(crate) struct EvidenceDetector;

impl Detector for EvidenceDetector {
    fn name(&self) -> &'static str {
        "evidence"
    }

    fn run(&self, fleet: &Fleet) -> Vec<Finding> {
        fleet
            .hosts
            .par_iter()
            .flat_map_iter(|host| {
                host.evidence.iter().filter_map(move |item| {
                    let (kind, summary, expected, observed) = match &item.status {
                        EvidenceStatus::Read => return None,
                        EvidenceStatus::TooLarge { limit } => (
                            "evidence.too_large",
                            format!("{} is {} bytes, larger than any genuine file of its kind; it was not read", item.path, item.size),
                            format!("at most {limit} bytes"),
                            format!("{} bytes", item.size),
                        ),
                        EvidenceStatus::WrongFormat { expected, found } => (
                            "evidence.wrong_format",
                            format!("{} should be {expected} but holds {found}", item.path),
                            expected.clone(),
                            found.clone(),
                        ),
                        EvidenceStatus::Unreadable { reason } => (
                            "evidence.unreadable",
                            format!("{} could not be read: {reason}", item.path),
                            "a readable regular file".to_string(),
                            reason.clone(),
                        ),
                    };
                    let layout = Reference::Configuration { path: "fleet layout (README)".into() };
                    let summary = format!("{summary}; collect it again");
                    let mut f = Finding::new(&host.id, item.kind.layer(), kind, Severity::Medium, summary, &item.path, layout);
                    f.expected = Some(expected);
                    f.observed = Some(observed);
                    Some(f)
                })
            })
            .collect()
    }
}
