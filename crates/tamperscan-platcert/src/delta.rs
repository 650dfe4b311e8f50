//! Delta platform certificate chains (Platform Certificate Profile v1.1 §2.2.6, v2.0 §5.3): a
//! delta's holder names the certificate it updates (issuer and serial), and its components
//! carry a status (added, modified, removed). Folding a base and its deltas gives the
//! platform as last certified.

use crate::platform_certificate::{PlatformCertificate, PlatformIdentity};
use crate::platform_configuration::{AttributeStatus, PlatformComponent, PlatformProperty};
use crate::Error;

/// Most delta certificates applied to one base.
pub const MAX_DELTAS: usize = 1024;

/// One delta as applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedDelta {
    /// The delta's serial, big-endian.
    pub serial: Vec<u8>,
    /// Whether its holder named the certificate it was applied after.
    pub linked: bool,
    /// Components added.
    pub added: usize,
    /// Components modified.
    pub modified: usize,
    /// Components removed.
    pub removed: usize,
}

/// Something wrong with a chain; the chain is still folded as far as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainProblem {
    /// The delta's holder does not name the previous certificate in the chain.
    BrokenLink {
        /// The delta's serial.
        serial: Vec<u8>,
        /// The certificate it was applied after.
        previous_serial: Vec<u8>,
    },
    /// A certificate passed as a delta is not one.
    NotADelta {
        /// Its serial.
        serial: Vec<u8>,
    },
    /// A delta modifies or removes a component the chain so far does not have.
    UnmatchedComponent {
        /// The delta's serial.
        serial: Vec<u8>,
        /// What the delta asked.
        status: AttributeStatus,
        /// `manufacturer model serial` of the component.
        component: String,
        /// Offset of the component in the delta's DER.
        offset: u64,
    },
    /// A delta component without a status (ignored).
    NoStatus {
        /// The delta's serial.
        serial: Vec<u8>,
        /// Offset of the component in the delta's DER.
        offset: u64,
    },
    /// A delta names a different platform manufacturer, model or serial than the base.
    PlatformMismatch {
        /// The delta's serial.
        serial: Vec<u8>,
        /// `manufacturer`, `model` or `serial`.
        field: &'static str,
        /// The base's value.
        base: String,
        /// The delta's value.
        delta: String,
    },
}

/// The platform as certified by a base certificate and its deltas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertifiedPlatform {
    /// Platform manufacturer, model, version, serial (from the base).
    pub platform: PlatformIdentity,
    /// The base certificate's serial.
    pub base_serial: Vec<u8>,
    /// The components after every delta.
    pub components: Vec<PlatformComponent>,
    /// The properties after every delta.
    pub properties: Vec<PlatformProperty>,
    /// The deltas in the order they were applied.
    pub applied: Vec<AppliedDelta>,
    /// What was wrong with the chain.
    pub problems: Vec<ChainProblem>,
}

impl CertifiedPlatform {
    /// The platform as one base certificate certifies it.
    pub fn from_base(base: &PlatformCertificate) -> CertifiedPlatform {
        let (components, properties) = match &base.configuration {
            Some(c) => (c.components.clone(), c.properties.clone()),
            None => (Vec::new(), Vec::new()),
        };
        CertifiedPlatform {
            platform: base.platform.clone(),
            base_serial: base.serial.clone(),
            components,
            properties,
            applied: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// True when every delta linked and applied cleanly.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

fn serial_key(s: &[u8]) -> (usize, &[u8]) {
    (s.len(), s)
}

/// Folds `deltas` (any order) into `base`: each step takes the delta whose holder names the
/// current certificate (earliest `notBefore`, then lowest serial, when several do); when
/// none does, the earliest remaining delta is applied and the broken link reported.
pub fn apply_deltas(
    base: &PlatformCertificate,
    deltas: &[PlatformCertificate],
) -> Result<CertifiedPlatform, Error> {
    if base.is_delta() {
        return Err(Error::Chain(format!(
            "certificate {} is a delta, not a base platform certificate",
            base.serial_hex()
        )));
    }
    if deltas.len() > MAX_DELTAS {
        return Err(Error::Chain(format!(
            "{} deltas, more than the limit of {MAX_DELTAS}",
            deltas.len()
        )));
    }
    let mut out = CertifiedPlatform::from_base(base);
    let mut remaining: Vec<&PlatformCertificate> = Vec::new();
    for d in deltas {
        if d.is_delta() {
            remaining.push(d);
        } else {
            out.problems.push(ChainProblem::NotADelta {
                serial: d.serial.clone(),
            });
        }
    }
    let order = |a: &&PlatformCertificate, b: &&PlatformCertificate| {
        (a.validity.not_before, serial_key(&a.serial))
            .cmp(&(b.validity.not_before, serial_key(&b.serial)))
    };
    let mut current: &PlatformCertificate = base;
    while !remaining.is_empty() {
        let linked = remaining
            .iter()
            .enumerate()
            .filter(|(_, d)| d.holder_points_at(current))
            .min_by(|a, b| order(a.1, b.1))
            .map(|(i, _)| i);
        let (index, is_linked) = match linked {
            Some(i) => (i, true),
            None => {
                let i = remaining
                    .iter()
                    .enumerate()
                    .min_by(|a, b| order(a.1, b.1))
                    .map_or(0, |(i, _)| i);
                (i, false)
            }
        };
        if index >= remaining.len() {
            break;
        }
        let delta = remaining.remove(index);
        if !is_linked {
            out.problems.push(ChainProblem::BrokenLink {
                serial: delta.serial.clone(),
                previous_serial: current.serial.clone(),
            });
        }
        apply_one(&mut out, delta, is_linked);
        current = delta;
    }
    Ok(out)
}

fn same(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
        (None, None) => true,
        _ => false,
    }
}

/// True when `delta` (from a delta certificate) names the component `c`.
fn identifies(c: &PlatformComponent, delta: &PlatformComponent) -> bool {
    let class_ok = match (&c.class, &delta.class) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    let serial_ok = match (&c.serial, &delta.serial) {
        (Some(a), Some(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
        _ => true,
    };
    class_ok
        && serial_ok
        && same(c.manufacturer.as_deref(), delta.manufacturer.as_deref())
        && same(c.model.as_deref(), delta.model.as_deref())
}

fn describe(c: &PlatformComponent) -> String {
    [&c.manufacturer, &c.model, &c.serial]
        .iter()
        .filter_map(|v| v.as_deref())
        .collect::<Vec<_>>()
        .join(" ")
}

fn apply_one(out: &mut CertifiedPlatform, delta: &PlatformCertificate, linked: bool) {
    let mut applied = AppliedDelta {
        serial: delta.serial.clone(),
        linked,
        added: 0,
        modified: 0,
        removed: 0,
    };
    let checks: [(&'static str, &Option<String>, &Option<String>); 3] = [
        (
            "manufacturer",
            &out.platform.manufacturer,
            &delta.platform.manufacturer,
        ),
        ("model", &out.platform.model, &delta.platform.model),
        ("serial", &out.platform.serial, &delta.platform.serial),
    ];
    for (field, b, d) in checks {
        if let (Some(b), Some(d)) = (b, d) {
            if !b.trim().eq_ignore_ascii_case(d.trim()) {
                out.problems.push(ChainProblem::PlatformMismatch {
                    serial: delta.serial.clone(),
                    field,
                    base: b.clone(),
                    delta: d.clone(),
                });
            }
        }
    }
    for comp in delta.components() {
        let mut plain = comp.clone();
        plain.status = None;
        match comp.status {
            Some(AttributeStatus::Added) => {
                out.components.push(plain);
                applied.added += 1;
            }
            Some(status @ (AttributeStatus::Modified | AttributeStatus::Removed)) => {
                match out.components.iter().position(|c| identifies(c, comp)) {
                    Some(i) => {
                        if status == AttributeStatus::Modified {
                            if let Some(slot) = out.components.get_mut(i) {
                                *slot = plain;
                            }
                            applied.modified += 1;
                        } else {
                            out.components.remove(i);
                            applied.removed += 1;
                        }
                    }
                    None => out.problems.push(ChainProblem::UnmatchedComponent {
                        serial: delta.serial.clone(),
                        status,
                        component: describe(comp),
                        offset: comp.offset,
                    }),
                }
            }
            Some(AttributeStatus::Other(_)) | None => out.problems.push(ChainProblem::NoStatus {
                serial: delta.serial.clone(),
                offset: comp.offset,
            }),
        }
    }
    if let Some(config) = &delta.configuration {
        for p in &config.properties {
            let mut plain = p.clone();
            plain.status = None;
            let pos = out.properties.iter().position(|q| q.name == p.name);
            match (p.status, pos) {
                (Some(AttributeStatus::Removed), Some(i)) => {
                    out.properties.remove(i);
                }
                (Some(AttributeStatus::Removed), None) => {}
                (_, Some(i)) => {
                    if let Some(slot) = out.properties.get_mut(i) {
                        *slot = plain;
                    }
                }
                (_, None) => out.properties.push(plain),
            }
        }
    }
    out.applied.push(applied);
}
