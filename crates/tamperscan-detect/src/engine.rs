//! Running every detector over a fleet and turning findings into verdicts.

use rayon::prelude::*;
use std::collections::BTreeMap;
use tamperscan_fleet::{Fleet, Note};
use tamperscan_model::{EvidenceItem, Finding, HostId, Layer, Verdict};

/// One layer's (or one concern's) judgement of the whole fleet.
///
/// A detector sees the whole fleet because most judgements compare a host with its siblings;
/// it parallelises over hosts itself where that pays.
pub trait Detector: Sync {
    /// A short name for logs.
    fn name(&self) -> &'static str;
    /// Every finding for every host.
    fn run(&self, fleet: &Fleet) -> Vec<Finding>;
}

/// Every detector of this build, in report order.
pub fn detectors() -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(crate::host::HostDetector),
        Box::new(crate::evidence::EvidenceDetector),
        Box::new(crate::board::BoardDetector),
        Box::new(crate::boot::BootDetector),
        Box::new(crate::firmware::FirmwareDetector),
        Box::new(crate::inventory::InventoryDetector),
        Box::new(crate::network::NetworkDetector),
    ]
}

/// The result of auditing a fleet.
#[derive(Debug, Clone)]
pub struct Audit {
    /// The fleet's name.
    pub fleet: String,
    /// True for fleets that `tamperscan demo` made.
    pub synthetic: bool,
    /// One entry per host, sorted by id.
    pub hosts: Vec<HostReport>,
    /// Every finding, sorted by host, layer, severity (worst first), kind and location.
    pub findings: Vec<Finding>,
    /// What was not read, fleet-wide and per host.
    pub notes: Vec<Note>,
}

/// One host's result.
#[derive(Debug, Clone)]
pub struct HostReport {
    /// The host.
    pub id: HostId,
    /// Its model, as declared.
    pub model: Option<String>,
    /// Its verdict.
    pub verdict: Verdict,
    /// How many findings each layer raised (only layers with findings).
    pub findings_by_layer: BTreeMap<Layer, usize>,
    /// The evidence that was read.
    pub evidence: Vec<EvidenceItem>,
}

/// Runs every detector over `fleet` (in parallel) and computes each host's verdict.
pub fn audit(fleet: &Fleet) -> Audit {
    let mut findings: Vec<Finding> = detectors().par_iter().flat_map(|d| d.run(fleet)).collect();
    findings.sort_by(|a, b| {
        (
            &a.host,
            a.layer,
            std::cmp::Reverse(a.severity),
            &a.kind,
            &a.location,
        )
            .cmp(&(
                &b.host,
                b.layer,
                std::cmp::Reverse(b.severity),
                &b.kind,
                &b.location,
            ))
    });
    findings.dedup();
    let mut by_host: BTreeMap<&HostId, Vec<&Finding>> = BTreeMap::new();
    for f in &findings {
        by_host.entry(&f.host).or_default().push(f);
    }
    let hosts = fleet
        .hosts
        .iter()
        .map(|host| {
            let mine = by_host.get(&host.id).map(Vec::as_slice).unwrap_or_default();
            let mut findings_by_layer = BTreeMap::new();
            for f in mine {
                *findings_by_layer.entry(f.layer).or_insert(0) += 1;
            }
            HostReport {
                id: host.id.clone(),
                model: host.config.model.as_ref().map(|(m, _)| m.clone()),
                verdict: Verdict::from_findings(mine.iter().copied()),
                findings_by_layer,
                evidence: host.evidence.clone(),
            }
        })
        .collect();
    let mut notes = fleet.notes.clone();
    for model in fleet.models.values() {
        notes.extend(model.notes.iter().cloned());
    }
    for host in &fleet.hosts {
        notes.extend(host.notes.iter().cloned());
    }
    notes.sort();
    Audit {
        fleet: fleet.name.clone(),
        synthetic: fleet.config.fleet.synthetic,
        hosts,
        findings,
        notes,
    }
}
