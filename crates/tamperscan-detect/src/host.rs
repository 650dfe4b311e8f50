//! What hosts claim about themselves in `host.toml`, checked against the fleet: models that the
//! fleet does not know, identifiers that two servers claim at once, evidence the siblings have
//! and this host lacks.

use crate::consensus::Consensus;
use crate::engine::Detector;
use std::collections::{BTreeMap, BTreeSet};
use tamperscan_fleet::{Fleet, Host};
use tamperscan_model::{Finding, HostId, Layer, Location, Reference, Severity, Trust};

pub(crate) struct HostDetector;

impl Detector for HostDetector {
    fn name(&self) -> &'static str {
        "host"
    }

    fn run(&self, fleet: &Fleet) -> Vec<Finding> {
        let mut out = Vec::new();
        for host in &fleet.hosts {
            out.extend(model_findings(fleet, host));
        }
        out.extend(duplicate_identifiers(fleet));
        out.extend(duplicate_bmc_addresses(fleet));
        out.extend(missing_evidence(fleet));
        out
    }
}

fn host_toml(host: &Host) -> String {
    format!("{}/host.toml", host.dir)
}

fn finding(host: &Host, kind: &str, severity: Severity, summary: String) -> Finding {
    Finding::new(
        &host.id,
        Layer::Host,
        kind,
        severity,
        summary,
        &host_toml(host),
        Reference::Fleet,
    )
}

fn model_findings(fleet: &Fleet, host: &Host) -> Option<Finding> {
    if !host.has_host_toml && host.evidence.is_empty() {
        let mut f = finding(
            host,
            "host.empty",
            Severity::Medium,
            format!("{} holds neither host.toml nor evidence, so nothing about this server can be checked", host.dir),
        );
        f.location = Location {
            file: Some(host.dir.clone()),
            at: String::new(),
        };
        return Some(f);
    }
    let Some((model, (line, col))) = &host.config.model else {
        let mut f = finding(
            host,
            "host.model_missing",
            Severity::Low,
            "host.toml names no model, so this server is compared with no reference and no siblings".into(),
        );
        f.location.at = "model".into();
        return Some(f);
    };
    // A fleet that declares no model at all relies on host.toml alone; only when models are
    // declared is an unknown one a mistake or an impostor.
    if fleet.models.is_empty() || fleet.models.contains_key(model) {
        return None;
    }
    let known: Vec<&str> = fleet.models.keys().map(String::as_str).collect();
    let mut f = finding(
        host,
        "host.model_undeclared",
        Severity::Medium,
        format!("model {model:?} is not declared in fleet.toml nor present under models/, so no reference applies to this server"),
    );
    f.expected = Some(format!("one of: {}", known.join(", ")));
    f.observed = Some(model.clone());
    f.location.at = format!("model (line {line}, column {col})");
    f.reference = Reference::Configuration {
        path: "fleet.toml".into(),
    };
    Some(f)
}

/// Every value that more than one host claims, with, for each claiming host, the other hosts.
fn shared_claims<'f, K: Ord + Clone>(
    fleet: &'f Fleet,
    claims_of: impl Fn(&'f Host) -> Vec<K>,
) -> Vec<(K, &'f Host, String)> {
    let mut claims: BTreeMap<K, Vec<&Host>> = BTreeMap::new();
    for host in &fleet.hosts {
        for key in claims_of(host) {
            claims.entry(key).or_default().push(host);
        }
    }
    let mut out = Vec::new();
    for (key, hosts) in claims.into_iter().filter(|(_, hosts)| hosts.len() > 1) {
        for host in &hosts {
            let others: Vec<&str> = hosts
                .iter()
                .filter(|h| h.id != host.id)
                .map(|h| h.id.0.as_str())
                .collect();
            out.push((key.clone(), *host, others.join(", ")));
        }
    }
    out
}

/// Two servers claiming one identifier: a board or part moved between boxes, or a cloned
/// identity. Placeholders never reach here (they are dropped when `host.toml` is read).
fn duplicate_identifiers(fleet: &Fleet) -> Vec<Finding> {
    let claims = shared_claims(fleet, |host| {
        host.config
            .identifiers
            .iter()
            .map(|id| (id.kind, id.value.as_str()))
            .collect()
    });
    claims
        .into_iter()
        .map(|((kind, value), host, others)| {
            let severity = if kind.trust() >= Trust::Medium { Severity::High } else { Severity::Medium };
            let mut f = finding(
                host,
                "host.duplicate_identifier",
                severity,
                format!(
                    "{} {value} is also claimed by {others}: a part moved between servers, or a cloned identity",
                    kind.name()
                ),
            );
            f.expected = Some(format!("a {} unique in the fleet", kind.name()));
            f.observed = Some(format!("{value} (shared with {others})"));
            f.location.at = kind.name().to_string();
            f
        })
        .collect()
}

fn duplicate_bmc_addresses(fleet: &Fleet) -> Vec<Finding> {
    let claims = shared_claims(fleet, |host| host.config.bmc_address.into_iter().collect());
    claims
        .into_iter()
        .map(|(address, host, others)| {
            let mut f = finding(
                host,
                "host.duplicate_bmc_address",
                Severity::Medium,
                format!("BMC address {address} is also claimed by {others}; network evidence cannot be attributed"),
            );
            f.observed = Some(address.to_string());
            f.location.at = "bmc_address".into();
            f
        })
        .collect()
}

/// Evidence that most same-model siblings have and this host lacks: a collector that failed,
/// or a host that refused to give it up.
fn missing_evidence(fleet: &Fleet) -> Vec<Finding> {
    let mut by_model: BTreeMap<&str, Vec<&Host>> = BTreeMap::new();
    for host in &fleet.hosts {
        if let Some((model, _)) = &host.config.model {
            by_model.entry(model.as_str()).or_default().push(host);
        }
    }
    let mut out = Vec::new();
    for (model, hosts) in by_model {
        let slots_of = |host: &Host| -> BTreeSet<String> {
            let prefix = format!("{}/", host.dir);
            host.evidence
                .iter()
                .filter_map(|e| e.path.strip_prefix(&prefix).map(str::to_string))
                .collect()
        };
        let per_host: Vec<(&HostId, BTreeSet<String>, &Host)> =
            hosts.iter().map(|h| (&h.id, slots_of(h), *h)).collect();
        let all_slots: BTreeSet<&String> = per_host.iter().flat_map(|(_, s, _)| s.iter()).collect();
        for slot in all_slots {
            let consensus = Consensus::of(
                per_host
                    .iter()
                    .map(|(id, slots, _)| (*id, slots.contains(slot))),
            );
            let Some((true, agree)) = consensus.majority().map(|(v, n)| (*v, n)) else {
                continue;
            };
            for outlier in consensus.outliers() {
                let Some((_, _, host)) = per_host.iter().find(|(id, _, _)| *id == outlier.host)
                else {
                    continue;
                };
                if host.evidence.is_empty() && !host.has_host_toml {
                    continue; // reported as host.empty
                }
                let mut f = finding(
                    host,
                    "host.evidence_missing",
                    Severity::Low,
                    format!(
                        "{slot} is missing, while {agree} of {} {model} siblings have it",
                        outlier.siblings
                    ),
                );
                f.location = Location::new(format!("{}/{slot}", host.dir), "");
                f.expected = Some("present".into());
                f.observed = Some("absent".into());
                f.reference = Reference::Consensus {
                    model: model.to_string(),
                    agree,
                    total: consensus.total(),
                };
                out.push(f);
            }
        }
    }
    out
}
