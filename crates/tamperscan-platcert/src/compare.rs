//! Certified components against observed ones.
//!
//! Components are paired by class and manufacturer + model (case and spacing ignored);
//! serials decide between candidates when both sides have one (an absent serial on either
//! side is never a mismatch), MACs are compared in canonical form. A pair whose serial,
//! revision or MACs differ is a mismatch with the differing fields; unpaired certified
//! components are missing, unpaired observed ones extra. For the singleton classes (system,
//! baseboard, chassis, BIOS, BMC, TPM) a lone unpaired certified component and a lone
//! unpaired observed one of the same class are paired as a mismatch (a swapped board is one
//! finding, not two).

use crate::delta::CertifiedPlatform;
use crate::platform_configuration::PlatformComponent;
use crate::registry::{inventory_class, ClassRegistry};
use std::collections::BTreeSet;
use tamperscan_inventory::{clean, normalize_mac, Component, ComponentClass};

/// One field whose certified and observed values differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDifference {
    /// `manufacturer`, `model`, `serial`, `revision` or `macs`.
    pub field: &'static str,
    /// The certified value.
    pub certified: String,
    /// The observed value.
    pub observed: String,
}

/// A certified component and the observed one it was paired with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// Index in [`CertifiedPlatform::components`].
    pub certified_index: usize,
    /// The certified component, normalized.
    pub certified: Component,
    /// Index in the observed list.
    pub observed_index: usize,
    /// The observed component.
    pub observed: Component,
}

/// A pair whose values differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The two components.
    pub pair: Pair,
    /// The fields that differ.
    pub fields: Vec<FieldDifference>,
}

/// A component found on one side only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpaired {
    /// Index in its list.
    pub index: usize,
    /// The component.
    pub component: Component,
}

/// The result of [`compare`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Pairs whose values agree.
    pub matched: Vec<Pair>,
    /// Certified but not observed.
    pub missing: Vec<Unpaired>,
    /// Observed but not certified.
    pub extra: Vec<Unpaired>,
    /// Pairs whose values differ.
    pub mismatched: Vec<Mismatch>,
    /// The observed `System` component compared with the platform identity, when one was
    /// observed (it is then not listed as extra).
    pub platform_observed: Option<usize>,
    /// Platform manufacturer / model / serial differences with that component.
    pub platform_differences: Vec<FieldDifference>,
}

impl Comparison {
    /// True when nothing is missing, extra or different.
    pub fn is_exact(&self) -> bool {
        self.missing.is_empty()
            && self.extra.is_empty()
            && self.mismatched.is_empty()
            && self.platform_differences.is_empty()
    }
}

/// A certified component in the inventory model (placeholders removed, MACs canonical,
/// source `platform-certificate`). The class comes from [`ClassRegistry::to_inventory_class`]
/// when a registry is given, from [`inventory_class`] otherwise.
pub fn to_component(
    c: &PlatformComponent,
    index: usize,
    registry: Option<&ClassRegistry>,
) -> Component {
    let mut placeholders = Vec::new();
    let class = c.class.as_ref().map(|cl| match registry {
        Some(r) => r.to_inventory_class(cl),
        None => inventory_class(cl).unwrap_or_else(|| {
            ComponentClass::Other(format!("{} 0x{}", cl.registry, cl.value_hex()))
        }),
    });
    Component {
        class,
        manufacturer: clean(c.manufacturer.as_deref(), "manufacturer", &mut placeholders),
        model: clean(c.model.as_deref(), "model", &mut placeholders),
        serial: clean(c.serial.as_deref(), "serial", &mut placeholders),
        part_number: None,
        revision: clean(c.revision.as_deref(), "revision", &mut placeholders),
        firmware_version: None,
        firmware_sha256: None,
        location: clean(c.location.as_deref(), "location", &mut placeholders),
        macs: c.macs(),
        pci_id: None,
        source: "platform-certificate".to_string(),
        source_ref: format!("component {index} at offset {}", c.offset),
        placeholders,
    }
}

fn norm(v: Option<&str>) -> Option<String> {
    v.map(|s| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    })
}

fn classes_agree(a: &Component, b: &Component) -> bool {
    match (&a.class, &b.class) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    }
}

fn key_agrees(a: &Component, b: &Component) -> bool {
    classes_agree(a, b)
        && norm(a.manufacturer.as_deref()) == norm(b.manufacturer.as_deref())
        && norm(a.model.as_deref()) == norm(b.model.as_deref())
}

fn macs(c: &Component) -> BTreeSet<String> {
    c.macs.iter().filter_map(|m| normalize_mac(m)).collect()
}

fn strong_match(a: &Component, b: &Component) -> bool {
    if let (Some(x), Some(y)) = (norm(a.serial.as_deref()), norm(b.serial.as_deref())) {
        return x == y;
    }
    let (ma, mb) = (macs(a), macs(b));
    !ma.is_empty() && !mb.is_empty() && !ma.is_disjoint(&mb)
}

fn serial_absent(a: &Component, b: &Component) -> bool {
    a.serial.is_none() || b.serial.is_none()
}

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn differences(certified: &Component, observed: &Component) -> Vec<FieldDifference> {
    let mut out = Vec::new();
    let mut cmp = |field: &'static str, a: &Option<String>, b: &Option<String>, both: bool| {
        let differ = match (norm(a.as_deref()), norm(b.as_deref())) {
            (Some(x), Some(y)) => x != y,
            (None, None) => false,
            _ => !both,
        };
        if differ {
            out.push(FieldDifference {
                field,
                certified: text(a),
                observed: text(b),
            });
        }
    };
    cmp(
        "manufacturer",
        &certified.manufacturer,
        &observed.manufacturer,
        false,
    );
    cmp("model", &certified.model, &observed.model, false);
    cmp("serial", &certified.serial, &observed.serial, true);
    let observed_revision = observed
        .revision
        .clone()
        .or_else(|| observed.firmware_version.clone());
    cmp("revision", &certified.revision, &observed_revision, true);
    let (ma, mb) = (macs(certified), macs(observed));
    if !ma.is_empty() && !mb.is_empty() && ma != mb {
        out.push(FieldDifference {
            field: "macs",
            certified: ma.into_iter().collect::<Vec<_>>().join(","),
            observed: mb.into_iter().collect::<Vec<_>>().join(","),
        });
    }
    out
}

/// A pairing rule: does this certified component pair with that observed one?
type MatchRule = dyn Fn(&Component, &Component) -> bool;

fn is_singleton(class: &Option<ComponentClass>) -> bool {
    matches!(
        class,
        Some(
            ComponentClass::System
                | ComponentClass::Baseboard
                | ComponentClass::Chassis
                | ComponentClass::Bios
                | ComponentClass::Bmc
                | ComponentClass::Tpm
        )
    )
}

/// Compares the certified platform with observed components (classes mapped without a
/// registry; see [`compare_with`]).
pub fn compare(certified: &CertifiedPlatform, observed: &[Component]) -> Comparison {
    compare_with(certified, observed, None)
}

/// Compares the certified platform with observed components, naming unmapped classes with
/// `registry`.
pub fn compare_with(
    certified: &CertifiedPlatform,
    observed: &[Component],
    registry: Option<&ClassRegistry>,
) -> Comparison {
    let cert: Vec<Component> = certified
        .components
        .iter()
        .enumerate()
        .map(|(i, c)| to_component(c, i, registry))
        .collect();
    let mut cert_pair: Vec<Option<usize>> = vec![None; cert.len()];
    let mut obs_used: Vec<bool> = vec![false; observed.len()];

    let mut comparison = Comparison::default();
    // The platform identity against an observed System component.
    if let Some((j, sys)) = observed
        .iter()
        .enumerate()
        .find(|(_, o)| o.class == Some(ComponentClass::System))
    {
        let mut placeholders = Vec::new();
        let p = &certified.platform;
        let platform = Component {
            class: Some(ComponentClass::System),
            manufacturer: clean(p.manufacturer.as_deref(), "manufacturer", &mut placeholders),
            model: clean(p.model.as_deref(), "model", &mut placeholders),
            serial: clean(p.serial.as_deref(), "serial", &mut placeholders),
            ..Component::default()
        };
        comparison.platform_differences = differences(&platform, sys)
            .into_iter()
            .filter(|d| d.field != "revision")
            .collect();
        comparison.platform_observed = Some(j);
        if let Some(u) = obs_used.get_mut(j) {
            *u = true;
        }
    }

    let passes: [&MatchRule; 3] = [
        &|a, b| key_agrees(a, b) && strong_match(a, b),
        &|a, b| key_agrees(a, b) && serial_absent(a, b),
        &|a, b| key_agrees(a, b),
    ];
    for pass in passes {
        for (i, c) in cert.iter().enumerate() {
            if cert_pair.get(i).copied().flatten().is_some() {
                continue;
            }
            let found = observed
                .iter()
                .enumerate()
                .find(|(j, o)| !obs_used.get(*j).copied().unwrap_or(true) && pass(c, o))
                .map(|(j, _)| j);
            if let Some(j) = found {
                if let (Some(slot), Some(used)) = (cert_pair.get_mut(i), obs_used.get_mut(j)) {
                    *slot = Some(j);
                    *used = true;
                }
            }
        }
    }
    // Singleton classes: one unpaired on each side of the same class.
    for (i, c) in cert.iter().enumerate() {
        if cert_pair.get(i).copied().flatten().is_some() || !is_singleton(&c.class) {
            continue;
        }
        let cert_left = cert
            .iter()
            .enumerate()
            .filter(|(k, o)| o.class == c.class && cert_pair.get(*k).copied().flatten().is_none())
            .count();
        let obs_left: Vec<usize> = observed
            .iter()
            .enumerate()
            .filter(|(j, o)| o.class == c.class && !obs_used.get(*j).copied().unwrap_or(true))
            .map(|(j, _)| j)
            .collect();
        if let ([j], 1) = (obs_left.as_slice(), cert_left) {
            if let (Some(slot), Some(used)) = (cert_pair.get_mut(i), obs_used.get_mut(*j)) {
                *slot = Some(*j);
                *used = true;
            }
        }
    }

    for (i, c) in cert.iter().enumerate() {
        match cert_pair.get(i).copied().flatten() {
            Some(j) => {
                let Some(o) = observed.get(j) else { continue };
                let pair = Pair {
                    certified_index: i,
                    certified: c.clone(),
                    observed_index: j,
                    observed: o.clone(),
                };
                let fields = differences(c, o);
                if fields.is_empty() {
                    comparison.matched.push(pair);
                } else {
                    comparison.mismatched.push(Mismatch { pair, fields });
                }
            }
            None => comparison.missing.push(Unpaired {
                index: i,
                component: c.clone(),
            }),
        }
    }
    for (j, o) in observed.iter().enumerate() {
        if !obs_used.get(j).copied().unwrap_or(false) {
            comparison.extra.push(Unpaired {
                index: j,
                component: o.clone(),
            });
        }
    }
    comparison
}
