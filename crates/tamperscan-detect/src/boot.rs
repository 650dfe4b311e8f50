//! Measured boot: logs that do not parse, logs edited after the fact, and events that differ
//! from what the host's same-model siblings measured.
//!
//! Sibling consensus covers the PCRs whose events the platform firmware alone decides and that
//! are the same on every server of one model and firmware version: PCR 0 (S-CRTM, host and BMC
//! firmware blobs), PCR 2 (option ROMs and drivers from add-in devices) and PCR 7 (Secure Boot
//! policy). PCR 1 carries per-machine data (SMBIOS tables with serial numbers, boot entries with
//! MAC addresses) and PCRs 4-14 the operating system's choices, so they are not compared.
//! In a TDX CC event log the index is a measurement register, and siblings are compared on
//! RTMR0 (the TD firmware's configuration and Secure Boot policy); RTMR1 and RTMR2 hold the
//! OS loader, kernel and command line.

use crate::consensus::Consensus;
use crate::engine::Detector;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use tamperscan_fleet::boot_reference::ReferenceEvent;
use tamperscan_fleet::observe::{first_parsed, BootEvent, BootSummary};
use tamperscan_fleet::{Fleet, Host};
use tamperscan_model::{Finding, Layer, Reference, Severity};
use tamperscan_tcg::{AlgId, EventType};

use tamperscan_bytes::hex;
pub use tamperscan_fleet::observe::CONSENSUS_PCRS;

pub(crate) struct BootDetector;

impl Detector for BootDetector {
    fn name(&self) -> &'static str {
        "boot"
    }

    fn run(&self, fleet: &Fleet) -> Vec<Finding> {
        let mut out: Vec<Finding> = fleet.hosts.par_iter().flat_map_iter(log_findings).collect();
        out.extend(sibling_findings(fleet));
        out.extend(reference_findings(fleet));
        out
    }
}

fn finding(host: &Host, path: &str, kind: &str, severity: Severity, summary: String) -> Finding {
    let spec = Reference::Specification {
        name: "TCG PC Client PFP 10.4".into(),
    };
    Finding::new(&host.id, Layer::Boot, kind, severity, summary, path, spec)
}

fn event_label(e: &BootEvent) -> String {
    format!("{} {} '{}'", register(e), e.event_type, e.description)
}

/// `PCR7`, or for a host whose log is a CC event log the register (`RTMR0`).
fn slot_register(summary: &BootSummary, index: u32) -> String {
    match tamperscan_tcg::ccel::mr_name(index).filter(|_| summary.format == "ccel") {
        Some(mr) => mr.to_string(),
        None => format!("PCR{index}"),
    }
}

/// `PCR7`, or the measurement register of a CC event log's event (`RTMR0`).
fn register(e: &BootEvent) -> String {
    match e.mr {
        Some(mr) => mr.to_string(),
        None => format!("PCR{}", e.pcr),
    }
}

/// Findings about a host's TPM quote.
fn quote_findings(host: &Host) -> Option<Finding> {
    let quote = host.quote.as_ref()?;
    let (kind, severity, summary, observed) = match &quote.verdict {
        None => (
            "boot.quote_incomplete",
            Severity::Low,
            format!(
                "a TPM quote was collected without {}, so it cannot be verified",
                quote.missing.join(" or ")
            ),
            None,
        ),
        Some(Err(e)) => (
            "boot.quote_unparseable",
            Severity::Medium,
            format!("the TPM quote cannot be read ({e}); collect it again"),
            Some(e.clone()),
        ),
        Some(Ok(v)) if v.ok() => return None,
        Some(Ok(v)) => {
            let mut failed = Vec::new();
            if !v.signature_valid {
                failed.push("its signature does not verify with the attestation key");
            }
            if !v.is_quote {
                failed.push("the signed structure is not a quote");
            }
            if v.nonce_matches == Some(false) {
                failed.push("it carries another nonce than the one sent (a replayed quote)");
            }
            if v.pcr_digest_matches == Some(false) {
                failed.push("its PCR digest is not that of the replayed event log (the log does not describe the boot the TPM measured)");
            }
            (
                "boot.quote_invalid",
                Severity::High,
                format!("the TPM quote fails: {}", failed.join("; ")),
                Some(failed.join("; ")),
            )
        }
    };
    let mut f = finding(host, &quote.path, kind, severity, summary);
    f.observed = observed;
    f.reference = Reference::Specification {
        name: "TPM 2.0 Library Part 3, TPM2_Quote".into(),
    };
    if let Some(Ok(v)) = &quote.verdict {
        f.location.at = format!("quote over {}", v.selected.join(", "));
    }
    Some(f)
}

/// Findings from one host's logs alone.
fn log_findings(host: &Host) -> Vec<Finding> {
    let mut out: Vec<Finding> = quote_findings(host).into_iter().collect();
    for log in &host.boot_logs {
        let summary = match &log.parsed {
            Ok(s) => s,
            Err(e) => {
                let mut f = finding(
                    host,
                    &log.path,
                    "boot.log_unparseable",
                    Severity::Medium,
                    format!("the TCG event log cannot be parsed ({e}); collect it again from /sys/kernel/security/tpm0/binary_bios_measurements"),
                );
                f.observed = Some(e.clone());
                out.push(f);
                continue;
            }
        };
        // One finding per edited event, whatever the number of banks that show it.
        let mut edited: BTreeMap<usize, Vec<&tamperscan_fleet::observe::BootDigestMismatch>> =
            BTreeMap::new();
        for m in &summary.digest_mismatches {
            edited.entry(m.event).or_default().push(m);
        }
        for (index, mismatches) in edited {
            let Some(event) = summary.events.iter().find(|e| e.index == index) else {
                continue;
            };
            let banks: Vec<&str> = mismatches.iter().map(|m| m.bank.as_str()).collect();
            let mut f = finding(
                host,
                &log.path,
                "boot.event_digest_mismatch",
                Severity::High,
                format!(
                    "event {index} ({}) records {} digests that are not the hash of its data: the log was edited after the fact",
                    event_label(event),
                    banks.join("+")
                ),
            );
            // Show the strongest bank's digests.
            if let Some(m) = mismatches.iter().max_by_key(|m| m.recorded.len()) {
                f.expected = Some(format!("{}:{}", m.bank, m.computed));
                f.observed = Some(format!("{}:{}", m.bank, m.recorded));
            }
            f.location.at = format!("event {index} at offset {}", event.offset);
            out.push(f);
        }
        if let Some((offset, len)) = summary.trailing_garbage {
            let mut f = finding(
                host,
                &log.path,
                "boot.log_trailing_data",
                Severity::Medium,
                format!("{len} bytes after the last event are neither an event nor padding"),
            );
            f.location.at = format!("offset {offset}");
            out.push(f);
        }
    }
    out
}

/// An event's place for comparison: PCR, type and its ordinal among the host's events of that
/// PCR and type (events of one type keep their order across identical machines).
type Slot = (u32, EventType, usize);

fn digest_text((alg, digest): &(AlgId, Vec<u8>)) -> String {
    format!("{alg}:{}", hex(digest))
}

fn slots(summary: &BootSummary) -> BTreeMap<Slot, &BootEvent> {
    let mut ordinals: BTreeMap<(u32, EventType), usize> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for e in summary
        .events
        .iter()
        .filter(|e| summary.compared.contains(&e.pcr))
    {
        let n = ordinals.entry((e.pcr, e.event_type)).or_insert(0);
        out.insert((e.pcr, e.event_type, *n), e);
        *n += 1;
    }
    out
}

/// A host, the path of the log that stands for its boot, and that log's comparable events.
type HostBoot<'f> = (&'f Host, &'f str, BTreeMap<Slot, &'f BootEvent>);

fn sibling_findings(fleet: &Fleet) -> Vec<Finding> {
    // Each host's comparable events, built in parallel; the first parsed log of a host stands
    // for its boot. Grouped by model in host order, then the models are judged in parallel.
    let boots: Vec<(&str, HostBoot<'_>)> = fleet
        .hosts
        .par_iter()
        .filter_map(|host| {
            let (model, _) = host.config.model.as_ref()?;
            let (path, summary) = first_parsed(&host.boot_logs)?;
            Some((model.as_str(), (host, path, slots(summary))))
        })
        .collect();
    let mut by_model: BTreeMap<&str, Vec<HostBoot<'_>>> = BTreeMap::new();
    for (model, boot) in boots {
        by_model.entry(model).or_default().push(boot);
    }
    by_model
        .into_par_iter()
        .flat_map_iter(|(model, hosts)| model_sibling_findings(model, &hosts))
        .collect()
}

/// [`sibling_findings`] for the hosts of one model.
fn model_sibling_findings(model: &str, hosts: &[HostBoot<'_>]) -> Vec<Finding> {
    let mut out = Vec::new();
    let all: BTreeSet<&Slot> = hosts.iter().flat_map(|(_, _, s)| s.keys()).collect();
    for slot in all {
        // Most slots are measured alike by every sibling: no outlier, so no need to group
        // (and clone and sort) thousands of host ids.
        let mut values = hosts.iter().map(|(_, _, s)| s.get(slot).map(|e| &e.digest));
        let first = values.next().flatten();
        if first.is_some() && values.all(|v| v == first) {
            continue;
        }
        let consensus = Consensus::of(
            hosts
                .iter()
                .map(|(h, _, s)| (&h.id, s.get(slot).map(|e| &e.digest))),
        );
        let Some((majority, agree)) = consensus.majority() else {
            continue;
        };
        let outliers = consensus.outliers();
        if outliers.is_empty() {
            continue;
        }
        let majority_event = hosts
            .iter()
            .find_map(|(_, _, s)| s.get(slot).filter(|e| Some(&e.digest) == *majority));
        for outlier in outliers {
            let Some((host, path, mine)) = hosts.iter().find(|(h, _, _)| &h.id == outlier.host)
            else {
                continue;
            };
            let (kind, severity, summary, location) = match (mine.get(slot), majority_event) {
                (Some(e), Some(theirs)) => (
                    "boot.event_differs_from_siblings",
                    Severity::High,
                    format!("{} {}", event_label(e), outlier.describe()),
                    format!(
                        "event {} at offset {}; siblings measure '{}'",
                        e.index, e.offset, theirs.description
                    ),
                ),
                (Some(e), None) => (
                    "boot.event_added_vs_siblings",
                    Severity::High,
                    format!(
                        "{} is measured here but by none of {} of {} siblings",
                        event_label(e),
                        outlier.differs_from,
                        outlier.siblings
                    ),
                    format!("event {} at offset {}", e.index, e.offset),
                ),
                (None, Some(theirs)) => (
                    "boot.event_missing_vs_siblings",
                    Severity::Medium,
                    format!(
                        "{} is missing here, while {agree} of {} siblings measure it",
                        event_label(theirs),
                        outlier.siblings
                    ),
                    format!("{} {} #{}", register(theirs), slot.1, slot.2 + 1),
                ),
                (None, None) => continue,
            };
            let mut f = finding(host, path, kind, severity, summary);
            f.expected = Some(majority.map_or("absent".into(), digest_text));
            f.observed = Some(
                mine.get(slot)
                    .map_or("absent".into(), |e| digest_text(&e.digest)),
            );
            f.location.at = location;
            f.reference = Reference::Consensus {
                model: model.to_string(),
                agree,
                total: consensus.total(),
            };
            out.push(f);
        }
    }
    out
}

/// Findings against the model's `boot/reference.toml`.
fn reference_findings(fleet: &Fleet) -> Vec<Finding> {
    // Each model's expected events, keyed like a host's slots, with their allowed digests
    // decoded to bytes: built once, not per host, so hosts are compared without text.
    let expected_by_model: BTreeMap<&str, BTreeMap<Slot, Expected<'_>>> = fleet
        .models
        .iter()
        .filter_map(|(name, m)| {
            let (_, reference) = m.boot_reference.as_ref()?;
            let slots = reference
                .events
                .iter()
                .filter_map(|e| {
                    let allowed = e.digests.iter().filter_map(|d| decode_digest(d)).collect();
                    EventType::from_name(&e.event_type)
                        .map(|t| ((e.pcr, t, e.ordinal), Expected { event: e, allowed }))
                })
                .collect();
            Some((name.as_str(), slots))
        })
        .collect();
    fleet
        .hosts
        .par_iter()
        .flat_map_iter(|host| {
            let mut out = Vec::new();
            let Some((model, _)) = &host.config.model else { return out };
            let Some((ref_path, reference)) = fleet.models.get(model).and_then(|m| m.boot_reference.as_ref()) else {
                return out;
            };
            let Some(expected) = expected_by_model.get(model.as_str()) else { return out };
            let Some((log_path, summary)) = first_parsed(&host.boot_logs) else {
                return out;
            };
            let by_reference = |f: &mut Finding| f.reference = Reference::Learned { path: ref_path.clone() };
            let mine = slots(summary);
            for (slot, Expected { event: want, allowed }) in expected {
                match mine.get(slot) {
                    Some(e) => {
                        // Compared as bytes, in the bank of the host's strongest digest.
                        let mut same_bank = allowed.iter().filter(|(a, _)| *a == e.digest.0).peekable();
                        if same_bank.peek().is_none() || same_bank.any(|(_, d)| *d == e.digest.1) {
                            continue;
                        }
                        let text = digest_text(&e.digest);
                        let bank = format!("{}:", e.digest.0);
                        let comparable: Vec<&String> = want.digests.iter().filter(|d| d.starts_with(&bank)).collect();
                        let mut f = finding(
                            host,
                            log_path,
                            "boot.event_differs_from_reference",
                            Severity::High,
                            format!("{} is not one of the {} digest(s) the model's reference allows", event_label(e), comparable.len()),
                        );
                        f.expected = Some(comparable.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(" or "));
                        f.observed = Some(text);
                        f.location.at = format!("event {} at offset {}", e.index, e.offset);
                        by_reference(&mut f);
                        out.push(f);
                    }
                    None => {
                        let mut f = finding(
                            host,
                            log_path,
                            "boot.event_missing_vs_reference",
                            Severity::Medium,
                            format!("{} {} #{} ('{}') is in the model's reference but not in this log", slot_register(summary, slot.0), slot.1, slot.2 + 1, want.description),
                        );
                        f.expected = want.digests.first().cloned();
                        f.observed = Some("absent".into());
                        by_reference(&mut f);
                        out.push(f);
                    }
                }
            }
            if !expected.is_empty() {
                for (slot, e) in &mine {
                    if expected.contains_key(slot) {
                        continue;
                    }
                    let mut f = finding(
                        host,
                        log_path,
                        "boot.event_not_in_reference",
                        Severity::High,
                        format!("{} is measured here but the model's reference has no such event", event_label(e)),
                    );
                    f.observed = Some(digest_text(&e.digest));
                    f.location.at = format!("event {} at offset {}", e.index, e.offset);
                    by_reference(&mut f);
                    out.push(f);
                }
            }
            if let Some(true) = reference.secure_boot {
                if summary.secure_boot != Some(true) {
                    let state = match summary.secure_boot {
                        Some(false) => "disabled",
                        _ => "not measured",
                    };
                    let mut f = finding(
                        host,
                        log_path,
                        "boot.secure_boot_disabled",
                        Severity::High,
                        format!("Secure Boot is {state} in this boot, while the model's reference requires it"),
                    );
                    f.expected = Some("enabled".into());
                    f.observed = Some(state.into());
                    f.location.at = "PCR7 EV_EFI_VARIABLE_DRIVER_CONFIG SecureBoot".into();
                    by_reference(&mut f);
                    out.push(f);
                }
            }
            for e in &summary.forbidden_hits {
                let mut f = finding(
                    host,
                    log_path,
                    "boot.forbidden_measurement",
                    Severity::Critical,
                    format!("{} measured a digest the model's reference forbids", event_label(e)),
                );
                f.observed = Some(digest_text(&e.digest));
                f.location.at = format!("event {} at offset {}", e.index, e.offset);
                by_reference(&mut f);
                out.push(f);
            }
            out
        })
        .collect()
}

/// A reference event with its allowed digests decoded.
struct Expected<'a> {
    event: &'a ReferenceEvent,
    allowed: Vec<(AlgId, Vec<u8>)>,
}

/// `bank:hex` as the reference writes it (the bank as [`AlgId`] prints it), decoded.
fn decode_digest(text: &str) -> Option<(AlgId, Vec<u8>)> {
    let (bank, digest) = text.split_once(':')?;
    let alg = AlgId::from_name(bank).or_else(|| {
        let value = bank.strip_prefix("alg_0x")?;
        u16::from_str_radix(value, 16).ok().map(AlgId)
    })?;
    Some((alg, tamperscan_bytes::unhex(digest)?))
}

/// Learns a boot reference from `hosts` (those the operator marked known-good): every event of
/// PCRs 0, 2 and 7 with every digest the known-good hosts showed for it (so two firmware
/// versions in the fleet are both allowed), and the Secure Boot state when they all agree.
/// Per-machine PCRs (1) and the operating system's (4 and up) are left out, so the reference
/// does not break when a disk, a NIC or a kernel changes.
pub fn learn(hosts: &[&Host]) -> tamperscan_fleet::boot_reference::BootReference {
    use tamperscan_fleet::boot_reference::{BootReference, ReferenceEvent};
    let summaries: Vec<(&Host, &BootSummary)> = hosts
        .iter()
        .filter_map(|h| first_parsed(&h.boot_logs).map(|(_, s)| (*h, s)))
        .collect();
    // Each slot with the log position where it was first seen, to write events in log order.
    let mut events: BTreeMap<Slot, (usize, ReferenceEvent)> = BTreeMap::new();
    for (_, summary) in &summaries {
        for (slot, e) in slots(summary) {
            let (_, entry) = events.entry(slot).or_insert_with(|| {
                (
                    e.index,
                    ReferenceEvent {
                        pcr: slot.0,
                        event_type: slot.1.to_string(),
                        ordinal: slot.2,
                        description: e.description.clone(),
                        digests: Vec::new(),
                    },
                )
            });
            let text = digest_text(&e.digest);
            if !entry.digests.contains(&text) {
                entry.digests.push(text);
            }
        }
    }
    let states: BTreeSet<Option<bool>> = summaries.iter().map(|(_, s)| s.secure_boot).collect();
    let secure_boot = match states.into_iter().collect::<Vec<_>>().as_slice() {
        [Some(state)] => Some(*state),
        _ => None,
    };
    let names: Vec<&str> = summaries.iter().map(|(h, _)| h.id.0.as_str()).collect();
    let mut ordered: Vec<(usize, ReferenceEvent)> = events.into_values().collect();
    ordered.sort_by_key(|(index, e)| (e.pcr, *index));
    BootReference {
        source: format!(
            "learned by tamperscan boot learn from {} known-good host(s): {}",
            names.len(),
            names.join(", ")
        ),
        secure_boot,
        forbidden: Vec::new(),
        events: ordered.into_iter().map(|(_, e)| e).collect(),
    }
}
