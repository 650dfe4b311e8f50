//! Inventory: what each server reports it is made of, against what its `host.toml` declares,
//! its model's bill of materials, the rest of the fleet (a serial seen in two servers) and its
//! same-model siblings (a part nobody else has, a part missing, firmware behind or ahead).
//!
//! Memory modules and drives are compared by count only (replacement parts legitimately vary
//! in vendor); boards, NICs, GPUs, controllers, BMCs, TPMs and CPLDs by manufacturer and model.

use crate::consensus::Consensus;
use crate::engine::Detector;
use std::collections::{BTreeMap, BTreeSet};
use tamperscan_fleet::inventory::Inventory;
use tamperscan_fleet::{Fleet, Host};
use tamperscan_inventory::{Component, ComponentClass};
use tamperscan_model::{Finding, HostId, IdentifierKind, Layer, Reference, Severity};

pub(crate) struct InventoryDetector;

impl Detector for InventoryDetector {
    fn name(&self) -> &'static str {
        "inventory"
    }

    fn run(&self, fleet: &Fleet) -> Vec<Finding> {
        let mut out = Vec::new();
        for h in &fleet.hosts {
            if let Some(inv) = &h.inventory {
                out.extend(declared_vs_observed(h, inv));
                out.extend(bom_findings(fleet, h, inv));
                out.extend(certificate_findings(fleet, h, inv));
            }
        }
        out.extend(serials_seen_twice(fleet));
        out.extend(sibling_findings(fleet));
        out
    }
}

fn finding(
    host: &HostId,
    path: &str,
    kind: &str,
    severity: Severity,
    summary: String,
    reference: Reference,
) -> Finding {
    Finding::new(
        host,
        Layer::Inventory,
        kind,
        severity,
        summary,
        path,
        reference,
    )
}

fn class_label(c: &Option<ComponentClass>) -> String {
    match c {
        Some(c) => c.name().to_string(),
        None => "component".into(),
    }
}

fn describe(c: &Component) -> String {
    let mut parts = vec![class_label(&c.class)];
    for v in [&c.manufacturer, &c.model].into_iter().flatten() {
        parts.push(v.clone());
    }
    if let Some(l) = &c.location {
        parts.push(format!("at {l}"));
    }
    parts.join(" ")
}

/// A component's kind without its place: `nic Intel Corporation Ethernet Controller X710`.
fn kind_of(c: &Component) -> String {
    let mut parts = vec![class_label(&c.class)];
    parts.extend([&c.manufacturer, &c.model].into_iter().flatten().cloned());
    parts.join(" ")
}

/// What `host.toml` declares against what the server's own tables say.
fn declared_vs_observed(h: &Host, inv: &Inventory) -> Vec<Finding> {
    let mut out = Vec::new();
    let declared = |kind: IdentifierKind| {
        h.config
            .identifiers
            .iter()
            .find(|i| i.kind == kind)
            .map(|i| i.value.clone())
    };
    let observed_of = |kind: IdentifierKind| match kind {
        IdentifierKind::BoardSerial => &inv.identifiers.board_serial,
        IdentifierKind::SystemSerial => &inv.identifiers.system_serial,
        IdentifierKind::ChassisSerial => &inv.identifiers.chassis_serial,
        _ => &inv.identifiers.smbios_uuid,
    };
    let pairs = [
        IdentifierKind::BoardSerial,
        IdentifierKind::SystemSerial,
        IdentifierKind::ChassisSerial,
        IdentifierKind::SmbiosUuid,
    ]
    .map(|k| (k.name(), declared(k), observed_of(k)));
    for (field, declared, observed) in pairs {
        let (Some(d), Some(o)) = (declared, observed) else {
            continue;
        };
        if d.trim().eq_ignore_ascii_case(o.trim()) {
            continue;
        }
        let mut f = finding(
            &h.id,
            &inv.path,
            "inventory.identifier_mismatch",
            Severity::High,
            format!("the server reports {field} {o}, but host.toml records {d}: the board or chassis is not the one that was registered"),
            Reference::Configuration { path: format!("{}/host.toml", h.dir) },
        );
        f.expected = Some(d);
        f.observed = Some(o.clone());
        f.location.at = field.to_string();
        out.push(f);
    }
    out
}

fn bom_findings(fleet: &Fleet, h: &Host, inv: &Inventory) -> Vec<Finding> {
    let Some((model, _)) = h.config.model.as_ref() else {
        return Vec::new();
    };
    let Some((bom_path, bom)) = fleet.models.get(model).and_then(|m| m.bom.as_ref()) else {
        return Vec::new();
    };
    let check = bom.check(&inv.components);
    let reference = Reference::Configuration {
        path: bom_path.clone(),
    };
    let mut out = Vec::new();
    for line in check.lines.iter().filter(|l| !l.ok()) {
        let e = &line.expected;
        let what = [
            Some(e.class.clone()),
            e.manufacturer.clone(),
            e.model.clone(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        let mut f = finding(
            &h.id,
            &inv.path,
            "inventory.bom_count_mismatch",
            Severity::Medium,
            format!(
                "{} {what} found where the order says {}",
                line.found, e.count
            ),
            reference.clone(),
        );
        f.expected = Some(e.count.to_string());
        f.observed = Some(line.found.to_string());
        f.location.at = what;
        out.push(f);
    }
    for c in &check.unexpected {
        let mut f = finding(
            &h.id,
            &inv.path,
            "inventory.bom_unexpected_component",
            Severity::High,
            format!("{} is not in the order for {model}", describe(c)),
            reference.clone(),
        );
        f.observed = Some(describe(c));
        f.location.at = c.source_ref.clone();
        out.push(f);
    }
    out
}

/// A component serial reported by two servers: a part moved between boxes, or a cloned identity.
fn serials_seen_twice(fleet: &Fleet) -> Vec<Finding> {
    let mut by_serial: BTreeMap<(String, String), BTreeSet<(usize, String)>> = BTreeMap::new();
    for (i, h) in fleet.hosts.iter().enumerate() {
        let Some(inv) = &h.inventory else { continue };
        for c in &inv.components {
            let Some(s) = &c.serial else { continue };
            let class = class_label(&c.class);
            by_serial
                .entry((class, s.trim().to_uppercase()))
                .or_default()
                .insert((i, describe(c)));
        }
    }
    let mut out = Vec::new();
    for ((class, serial), holders) in by_serial {
        let hosts: BTreeSet<usize> = holders.iter().map(|(i, _)| *i).collect();
        if hosts.len() < 2 {
            continue;
        }
        // Twin and blade systems share one chassis: a shared chassis serial is worth a look,
        // not an alarm.
        let severity = match class.as_str() {
            "chassis" => Severity::Low,
            "baseboard" | "system" | "tpm" | "bmc" => Severity::High,
            _ => Severity::Medium,
        };
        let names: Vec<&str> = hosts
            .iter()
            .filter_map(|i| fleet.hosts.get(*i))
            .map(|h| h.id.0.as_str())
            .collect();
        for (i, what) in &holders {
            let Some(h) = fleet.hosts.get(*i) else {
                continue;
            };
            let Some(inv) = &h.inventory else { continue };
            let others: Vec<&str> = names.iter().copied().filter(|n| *n != h.id.0).collect();
            let mut f = finding(
                &h.id,
                &inv.path,
                "inventory.serial_seen_twice",
                severity,
                format!("{what} has serial {serial}, also reported by {}: a part moved between servers, or a cloned identity", others.join(", ")),
                Reference::Fleet,
            );
            f.observed = Some(format!("{serial} (shared with {})", others.join(", ")));
            f.location.at = format!("{class} serial");
            out.push(f);
        }
    }
    out
}

/// The identity a component is compared by among siblings.
fn signature(c: &Component) -> Option<String> {
    let class = c.class.as_ref()?;
    let norm = |v: &Option<String>| v.as_deref().unwrap_or("?").trim().to_lowercase();
    Some(match class {
        ComponentClass::Memory | ComponentClass::Storage | ComponentClass::PowerSupply => {
            class_label(&c.class)
        }
        _ => format!(
            "{} {} {}",
            class_label(&c.class),
            norm(&c.manufacturer),
            norm(&c.model)
        ),
    })
}

fn version_key(v: &str) -> Vec<(u64, String)> {
    v.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| (p.parse::<u64>().unwrap_or(u64::MAX), p.to_string()))
        .collect()
}

/// One host's firmware version of one component.
type Seen<'a> = (&'a HostId, String, &'a Inventory, &'a Component);

/// Parts nobody else of the model has, parts most siblings have and this one lacks, and
/// firmware versions that differ from the siblings' majority.
fn sibling_findings(fleet: &Fleet) -> Vec<Finding> {
    let mut by_model: BTreeMap<&str, Vec<(&Host, &Inventory)>> = BTreeMap::new();
    for h in &fleet.hosts {
        if let (Some((m, _)), Some(inv)) = (h.config.model.as_ref(), h.inventory.as_ref()) {
            by_model.entry(m.as_str()).or_default().push((h, inv));
        }
    }
    let mut out = Vec::new();
    for (model, hosts) in by_model {
        if hosts.len() < Consensus::<usize>::MIN_HOSTS {
            continue;
        }
        let counts: Vec<BTreeMap<String, usize>> = hosts
            .iter()
            .map(|(_, inv)| {
                let mut m = BTreeMap::new();
                for c in &inv.components {
                    if let Some(s) = signature(c) {
                        *m.entry(s).or_insert(0) += 1;
                    }
                }
                m
            })
            .collect();
        let all: BTreeSet<&String> = counts.iter().flat_map(|m| m.keys()).collect();
        for sig in all {
            let consensus = Consensus::of(
                hosts
                    .iter()
                    .zip(&counts)
                    .map(|((h, _), m)| (&h.id, m.get(sig).copied().unwrap_or(0))),
            );
            let Some((&want, agree)) = consensus.majority() else {
                continue;
            };
            for o in consensus.outliers() {
                let Some((h, inv)) = hosts.iter().find(|(h, _)| &h.id == o.host) else {
                    continue;
                };
                let have = *o.value;
                // Described from a host that has it (this one, or a sibling).
                let example = inv
                    .components
                    .iter()
                    .chain(hosts.iter().flat_map(|(_, i)| i.components.iter()))
                    .find(|c| signature(c).as_ref() == Some(sig));
                let (kind, severity, summary) = if want == 0 {
                    let what = example.map(describe).unwrap_or_else(|| sig.clone());
                    (
                        "inventory.component_not_in_siblings",
                        Severity::High,
                        format!(
                            "{what} is in this server but in none of {} {model} siblings",
                            o.differs_from
                        ),
                    )
                } else if have < want {
                    (
                        "inventory.component_missing_vs_siblings",
                        Severity::Medium,
                        format!(
                            "this server has {have} × {} where {} of {} {model} siblings have {want}",
                            example.map(kind_of).unwrap_or_else(|| sig.clone()),
                            o.differs_from, o.siblings
                        ),
                    )
                } else {
                    (
                        "inventory.component_extra_vs_siblings",
                        Severity::Medium,
                        format!(
                            "this server has {have} × {} where {} of {} {model} siblings have {want}",
                            example.map(kind_of).unwrap_or_else(|| sig.clone()),
                            o.differs_from, o.siblings
                        ),
                    )
                };
                let mut f = finding(
                    &h.id,
                    &inv.path,
                    kind,
                    severity,
                    summary,
                    Reference::Consensus {
                        model: model.to_string(),
                        agree,
                        total: consensus.total(),
                    },
                );
                f.expected = Some(want.to_string());
                f.observed = Some(have.to_string());
                f.location.at = example
                    .map(|c| c.source_ref.clone())
                    .unwrap_or_else(|| sig.clone());
                out.push(f);
            }
        }
        // Firmware versions per (signature, location) among hosts that have it.
        let mut versions: BTreeMap<(String, String), Vec<Seen<'_>>> = BTreeMap::new();
        for (h, inv) in &hosts {
            for c in &inv.components {
                if let (Some(sig), Some(v)) = (signature(c), &c.firmware_version) {
                    let slot = c.location.clone().unwrap_or_default();
                    versions
                        .entry((sig, slot))
                        .or_default()
                        .push((&h.id, v.clone(), inv, c));
                }
            }
        }
        for ((sig, _), seen) in versions {
            let consensus = Consensus::of(seen.iter().map(|(id, v, _, _)| (*id, v.clone())));
            let Some((want, agree)) = consensus.majority() else {
                continue;
            };
            let want = want.clone();
            for o in consensus.outliers() {
                let Some((id, have, inv, c)) = seen.iter().find(|(id, _, _, _)| *id == o.host)
                else {
                    continue;
                };
                let direction = if version_key(have) < version_key(&want) {
                    "behind"
                } else {
                    "ahead of"
                };
                let mut f = finding(
                    id,
                    &inv.path,
                    "inventory.firmware_differs_from_siblings",
                    Severity::Low,
                    format!("{} runs firmware {have}, {direction} the {want} that {} of {} {model} siblings run", describe(c), o.differs_from, o.siblings),
                    Reference::Consensus { model: model.to_string(), agree, total: consensus.total() },
                );
                f.expected = Some(want.clone());
                f.observed = Some(have.clone());
                f.location.at = format!("{sig} firmware");
                out.push(f);
            }
        }
    }
    out
}

/// The host's TCG platform certificate (base and deltas): signed by the model's CA, a
/// complete delta chain, and certified components against what the host reports, side by side.
fn certificate_findings(fleet: &Fleet, h: &Host, inv: &Inventory) -> Vec<Finding> {
    let mut out = Vec::new();
    let spec = || Reference::Specification {
        name: "TCG Platform Certificate Profile".into(),
    };
    for (path, e) in &inv.platform_cert_errors {
        let mut f = finding(
            &h.id,
            path,
            "inventory.platform_cert_unreadable",
            Severity::Medium,
            format!("the platform certificate cannot be read ({e}); ask the vendor for it again"),
            spec(),
        );
        f.observed = Some(e.clone());
        out.push(f);
    }
    if inv.platform_certs.is_empty() {
        return out;
    }
    let ca = h
        .config
        .model
        .as_ref()
        .and_then(|(m, _)| fleet.models.get(m))
        .and_then(|m| m.platform_ca.as_ref());
    if let Some((ca_path, ca)) = ca {
        for (path, cert) in &inv.platform_certs {
            let v = tamperscan_platcert::verify(cert, ca, None);
            if !(v.signature_ok && v.issuer_matches && v.key_id_matches != Some(false)) {
                let mut f = finding(
                    &h.id,
                    path,
                    "inventory.platform_cert_not_signed_by_ca",
                    Severity::High,
                    format!("platform certificate {} does not verify against the model's CA {ca_path}: {}", cert.serial_hex(), v.reasons.join("; ")),
                    Reference::Configuration { path: ca_path.clone() },
                );
                f.observed = Some(v.reasons.join("; "));
                out.push(f);
            }
        }
    }
    let bases: Vec<&(String, tamperscan_platcert::PlatformCertificate)> = inv
        .platform_certs
        .iter()
        .filter(|(_, c)| !c.is_delta())
        .collect();
    let deltas: Vec<tamperscan_platcert::PlatformCertificate> = inv
        .platform_certs
        .iter()
        .filter(|(_, c)| c.is_delta())
        .map(|(_, c)| c.clone())
        .collect();
    let Some((base_path, base)) = bases.first() else {
        out.push(finding(&h.id, &inv.path, "inventory.platform_cert_chain_broken", Severity::High, "only delta platform certificates were found; the base certificate they amend is missing".into(), spec()));
        return out;
    };
    let certified = match tamperscan_platcert::apply_deltas(base, &deltas) {
        Ok(c) => c,
        Err(e) => {
            out.push(finding(
                &h.id,
                base_path,
                "inventory.platform_cert_chain_broken",
                Severity::High,
                format!("the delta certificates cannot be applied: {e}"),
                spec(),
            ));
            return out;
        }
    };
    for p in &certified.problems {
        let mut f = finding(
            &h.id,
            base_path,
            "inventory.platform_cert_chain_broken",
            Severity::High,
            format!("the platform certificate chain is broken: {p:?}"),
            spec(),
        );
        f.observed = Some(format!("{p:?}"));
        out.push(f);
    }
    let cmp = tamperscan_platcert::compare(&certified, &inv.components);
    let label = |c: &Component| describe(c);
    for m in &cmp.missing {
        let mut f = finding(
            &h.id,
            base_path,
            "inventory.platform_cert_component_missing",
            Severity::High,
            format!(
                "the platform certificate lists {} but the server does not report it",
                label(&m.component)
            ),
            spec(),
        );
        f.expected = Some(label(&m.component));
        out.push(f);
    }
    for e in &cmp.extra {
        let mut f = finding(
            &h.id,
            &inv.path,
            "inventory.platform_cert_component_extra",
            Severity::Medium,
            format!(
                "{} is in the server but not in its platform certificate",
                label(&e.component)
            ),
            spec(),
        );
        f.observed = Some(label(&e.component));
        f.location.at = e.component.source_ref.clone();
        out.push(f);
    }
    for m in &cmp.mismatched {
        for d in &m.fields {
            let mut f = finding(
                &h.id,
                base_path,
                "inventory.platform_cert_field_mismatch",
                Severity::High,
                format!(
                    "{}: {} is certified as {:?} but the server reports {:?}",
                    label(&m.pair.certified),
                    d.field,
                    d.certified,
                    d.observed
                ),
                spec(),
            );
            f.expected = Some(d.certified.clone());
            f.observed = Some(d.observed.clone());
            f.location.at = format!("{} {}", m.pair.observed.source_ref, d.field);
            out.push(f);
        }
    }
    for d in &cmp.platform_differences {
        let mut f = finding(
            &h.id,
            base_path,
            "inventory.platform_cert_field_mismatch",
            Severity::High,
            format!(
                "platform {} is certified as {:?} but the server reports {:?}",
                d.field, d.certified, d.observed
            ),
            spec(),
        );
        f.expected = Some(d.certified.clone());
        f.observed = Some(d.observed.clone());
        out.push(f);
    }
    out
}
