//! Binary tables and `dmidecode` text to the normalized [`Component`] model and the identity
//! values of a host.
//!
//! Both sources map the same SMBIOS fields to the same component fields, so a machine read
//! both ways gives the same components:
//!
//! | type | class | manufacturer | model | serial | part number | revision | firmware | location |
//! |---|---|---|---|---|---|---|---|---|
//! | 0 | Bios | Vendor | | | | BIOS Revision | Version | |
//! | 1 | System | Manufacturer | Product Name | Serial Number | SKU Number | Version | | |
//! | 2 | Baseboard | Manufacturer | Product Name | Serial Number | | Version | | |
//! | 3 | Chassis | Manufacturer | | Serial Number | SKU Number | Version | | |
//! | 4 | Cpu (populated sockets) | Manufacturer | Version | Serial Number | Part Number | | | Socket Designation |
//! | 9 | Other(`system_slot`) (in use) | | | | | | | Designation |
//! | 17 | Memory (installed) | Manufacturer | | Serial Number | Part Number | | | Locator |
//! | 38 | Bmc | | `IPMI <interface>` | | | Specification Version | | |
//! | 39 | PowerSupply (present) | Manufacturer | Name | Serial Number | Model Part Number | Revision | | Location |
//! | 41 | Other(`onboard_device`) | | Type | | | | | Reference Designation |
//! | 43 | Tpm | Vendor ID | Description | | | Specification Version | Firmware Revision | |
//!
//! `dmidecode` prints `Not Specified` for an absent string, `<BAD INDEX>` for a string number
//! past the set and `<OUT OF SPEC>` for a value outside the spec: those read as absent, like
//! their binary originals. Every value then goes through [`clean`].

use crate::structures::Record;
use crate::table::Smbios;
use crate::text::{DmiText, TextRecord};
use serde::Serialize;
use tamperscan_inventory::{clean, Component, ComponentClass};

/// The values that identify a host, from its first type 1, 2 and 3 structures; placeholders
/// never appear here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Identifiers {
    /// Type 1 Serial Number.
    pub system_serial: Option<String>,
    /// Type 2 Serial Number (the first baseboard with one).
    pub board_serial: Option<String>,
    /// Type 3 Serial Number (the first chassis with one).
    pub chassis_serial: Option<String>,
    /// Type 1 UUID, lowercase canonical text; never all zeros or all ones.
    pub smbios_uuid: Option<String>,
}

/// A decoded SMBIOS source: a binary table or a `dmidecode` text.
pub trait Inventory {
    /// The hardware components it describes.
    fn components(&self) -> Vec<Component>;
    /// The host's serials and UUID.
    fn identifiers(&self) -> Identifiers;
}

/// The components of a binary table or a `dmidecode` text (see the module table for which
/// field goes where). Empty sockets, absent power supplies and unused slots are left out.
pub fn to_components(source: &impl Inventory) -> Vec<Component> {
    source.components()
}

/// The serials and UUID of a binary table or a `dmidecode` text.
pub fn identifiers(source: &impl Inventory) -> Identifiers {
    source.identifiers()
}

/// The values of one component before cleaning.
#[derive(Default)]
struct Facts<'s> {
    manufacturer: Option<&'s str>,
    model: Option<&'s str>,
    serial: Option<&'s str>,
    part_number: Option<&'s str>,
    revision: Option<&'s str>,
    firmware_version: Option<&'s str>,
    location: Option<&'s str>,
}

fn build(class: ComponentClass, f: Facts<'_>, source: &str, source_ref: String) -> Component {
    let mut p = Vec::new();
    Component {
        class: Some(class),
        manufacturer: clean(f.manufacturer, "manufacturer", &mut p),
        model: clean(f.model, "model", &mut p),
        serial: clean(f.serial, "serial", &mut p),
        part_number: clean(f.part_number, "part_number", &mut p),
        revision: clean(f.revision, "revision", &mut p),
        firmware_version: clean(f.firmware_version, "firmware_version", &mut p),
        location: clean(f.location, "location", &mut p),
        source: source.to_string(),
        source_ref,
        placeholders: p,
        ..Component::default()
    }
}

fn ipmi_model(interface: Option<&str>) -> String {
    match interface {
        Some(i @ ("KCS" | "SMIC" | "BT" | "SSIF")) => format!("IPMI {i}"),
        _ => "IPMI".to_string(),
    }
}

const SLOT: &str = "system_slot";
const ONBOARD: &str = "onboard_device";

impl Inventory for Smbios {
    fn components(&self) -> Vec<Component> {
        let mut out = Vec::new();
        for s in &self.structures {
            let class_facts = match &s.record {
                Record::Bios(b) => {
                    let rev = b.bios_release.map(|(a, b)| format!("{a}.{b}"));
                    let f = Facts {
                        manufacturer: b.vendor.as_deref(),
                        revision: rev.as_deref(),
                        firmware_version: b.version.as_deref(),
                        ..Facts::default()
                    };
                    out.push(build(ComponentClass::Bios, f, "smbios", s.source_ref()));
                    continue;
                }
                Record::System(x) => (
                    ComponentClass::System,
                    Facts {
                        manufacturer: x.manufacturer.as_deref(),
                        model: x.product.as_deref(),
                        serial: x.serial.as_deref(),
                        part_number: x.sku.as_deref(),
                        revision: x.version.as_deref(),
                        ..Facts::default()
                    },
                ),
                Record::Baseboard(x) => (
                    ComponentClass::Baseboard,
                    Facts {
                        manufacturer: x.manufacturer.as_deref(),
                        model: x.product.as_deref(),
                        serial: x.serial.as_deref(),
                        revision: x.version.as_deref(),
                        ..Facts::default()
                    },
                ),
                Record::Chassis(x) => (
                    ComponentClass::Chassis,
                    Facts {
                        manufacturer: x.manufacturer.as_deref(),
                        serial: x.serial.as_deref(),
                        part_number: x.sku.as_deref(),
                        revision: x.version.as_deref(),
                        ..Facts::default()
                    },
                ),
                Record::Processor(x) if x.populated() => (
                    ComponentClass::Cpu,
                    Facts {
                        manufacturer: x.manufacturer.as_deref(),
                        model: x.version.as_deref(),
                        serial: x.serial.as_deref(),
                        part_number: x.part_number.as_deref(),
                        location: x.socket.as_deref(),
                        ..Facts::default()
                    },
                ),
                Record::SystemSlot(x) if x.in_use() => (
                    ComponentClass::Other(SLOT.into()),
                    Facts {
                        location: x.designation.as_deref(),
                        ..Facts::default()
                    },
                ),
                Record::MemoryDevice(x) if x.installed() => (
                    ComponentClass::Memory,
                    Facts {
                        manufacturer: x.manufacturer.as_deref(),
                        serial: x.serial.as_deref(),
                        part_number: x.part_number.as_deref(),
                        location: x.locator.as_deref(),
                        ..Facts::default()
                    },
                ),
                Record::Ipmi(x) => {
                    let model = ipmi_model(x.interface_name());
                    let rev = x.spec_version();
                    let f = Facts {
                        model: Some(&model),
                        revision: Some(&rev),
                        ..Facts::default()
                    };
                    out.push(build(ComponentClass::Bmc, f, "smbios", s.source_ref()));
                    continue;
                }
                Record::PowerSupply(x) if x.present() => (
                    ComponentClass::PowerSupply,
                    Facts {
                        manufacturer: x.manufacturer.as_deref(),
                        model: x.name.as_deref(),
                        serial: x.serial.as_deref(),
                        part_number: x.model_part_number.as_deref(),
                        revision: x.revision.as_deref(),
                        location: x.location.as_deref(),
                        ..Facts::default()
                    },
                ),
                Record::OnboardDevice(x) => (
                    ComponentClass::Other(ONBOARD.into()),
                    Facts {
                        model: x.type_name(),
                        location: x.designation.as_deref(),
                        ..Facts::default()
                    },
                ),
                Record::Tpm(x) => {
                    let spec = format!("{}.{}", x.spec_version.0, x.spec_version.1);
                    let fw = x.firmware_version();
                    let f = Facts {
                        manufacturer: Some(&x.vendor_id),
                        model: x.description.as_deref(),
                        revision: Some(&spec),
                        firmware_version: fw.as_deref(),
                        ..Facts::default()
                    };
                    out.push(build(ComponentClass::Tpm, f, "smbios", s.source_ref()));
                    continue;
                }
                _ => continue,
            };
            let (class, facts) = class_facts;
            out.push(build(class, facts, "smbios", s.source_ref()));
        }
        out
    }

    fn identifiers(&self) -> Identifiers {
        let mut p = Vec::new();
        let mut ids = Identifiers::default();
        let mut seen_system = false;
        for s in &self.structures {
            match &s.record {
                Record::System(x) if !seen_system => {
                    seen_system = true;
                    ids.system_serial = clean(x.serial.as_deref(), "serial", &mut p);
                    ids.smbios_uuid = clean(x.uuid.as_deref(), "uuid", &mut p);
                }
                Record::Baseboard(x) if ids.board_serial.is_none() => {
                    ids.board_serial = clean(x.serial.as_deref(), "serial", &mut p);
                }
                Record::Chassis(x) if ids.chassis_serial.is_none() => {
                    ids.chassis_serial = clean(x.serial.as_deref(), "serial", &mut p);
                }
                _ => {}
            }
        }
        ids
    }
}

/// A text value with dmidecode's own markers for "nothing there" removed.
fn text_value<'a>(r: &TextRecord<'a>, key: &str) -> Option<&'a str> {
    let v = r.get(key)?.trim();
    match v {
        "Not Specified" | "<BAD INDEX>" | "<OUT OF SPEC>" => None,
        _ => Some(v),
    }
}

/// A UUID as dmidecode printed it, in lowercase canonical text; `None` unless 32 hex digits
/// that are neither all zeros nor all ones.
fn text_uuid(v: &str) -> Option<String> {
    let hex: String = v
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    if hex.chars().all(|c| c == '0') || hex.chars().all(|c| c == 'f') {
        return None;
    }
    Some(format!(
        "{}-{}-{}-{}-{}",
        hex.get(0..8)?,
        hex.get(8..12)?,
        hex.get(12..16)?,
        hex.get(16..20)?,
        hex.get(20..32)?
    ))
}

fn text_component(r: &TextRecord<'_>) -> Option<Component> {
    if r.fields.is_empty() {
        return None;
    }
    let v = |key: &str| text_value(r, key);
    let (class, facts) = match r.kind()? {
        0 => (
            ComponentClass::Bios,
            Facts {
                manufacturer: v("Vendor"),
                revision: v("BIOS Revision"),
                firmware_version: v("Version"),
                ..Facts::default()
            },
        ),
        1 => (
            ComponentClass::System,
            Facts {
                manufacturer: v("Manufacturer"),
                model: v("Product Name"),
                serial: v("Serial Number"),
                part_number: v("SKU Number"),
                revision: v("Version"),
                ..Facts::default()
            },
        ),
        2 => (
            ComponentClass::Baseboard,
            Facts {
                manufacturer: v("Manufacturer"),
                model: v("Product Name"),
                serial: v("Serial Number"),
                revision: v("Version"),
                ..Facts::default()
            },
        ),
        3 => (
            ComponentClass::Chassis,
            Facts {
                manufacturer: v("Manufacturer"),
                serial: v("Serial Number"),
                part_number: v("SKU Number"),
                revision: v("Version"),
                ..Facts::default()
            },
        ),
        4 => {
            if v("Status").is_some_and(|s| s.starts_with("Unpopulated")) {
                return None;
            }
            (
                ComponentClass::Cpu,
                Facts {
                    manufacturer: v("Manufacturer"),
                    model: v("Version"),
                    serial: v("Serial Number"),
                    part_number: v("Part Number"),
                    location: v("Socket Designation"),
                    ..Facts::default()
                },
            )
        }
        9 => {
            if v("Current Usage") != Some("In Use") {
                return None;
            }
            (
                ComponentClass::Other(SLOT.into()),
                Facts {
                    location: v("Designation"),
                    ..Facts::default()
                },
            )
        }
        17 => {
            if v("Size").is_some_and(|s| s.starts_with("No Module Installed")) {
                return None;
            }
            (
                ComponentClass::Memory,
                Facts {
                    manufacturer: v("Manufacturer"),
                    serial: v("Serial Number"),
                    part_number: v("Part Number"),
                    location: v("Locator"),
                    ..Facts::default()
                },
            )
        }
        38 => {
            let model = ipmi_model(v("Interface Type").and_then(|i| i.split_whitespace().next()));
            let f = Facts {
                model: Some(&model),
                revision: v("Specification Version"),
                ..Facts::default()
            };
            return Some(build(ComponentClass::Bmc, f, "dmidecode", r.source_ref()));
        }
        39 => {
            if v("Status") == Some("Not Present") {
                return None;
            }
            (
                ComponentClass::PowerSupply,
                Facts {
                    manufacturer: v("Manufacturer"),
                    model: v("Name"),
                    serial: v("Serial Number"),
                    part_number: v("Model Part Number"),
                    revision: v("Revision"),
                    location: v("Location"),
                    ..Facts::default()
                },
            )
        }
        41 => (
            ComponentClass::Other(ONBOARD.into()),
            Facts {
                model: v("Type"),
                location: v("Reference Designation"),
                ..Facts::default()
            },
        ),
        43 => (
            ComponentClass::Tpm,
            Facts {
                manufacturer: v("Vendor ID"),
                model: v("Description"),
                revision: v("Specification Version"),
                firmware_version: v("Firmware Revision"),
                ..Facts::default()
            },
        ),
        _ => return None,
    };
    Some(build(class, facts, "dmidecode", r.source_ref()))
}

impl Inventory for DmiText<'_> {
    fn components(&self) -> Vec<Component> {
        self.records.iter().filter_map(text_component).collect()
    }

    fn identifiers(&self) -> Identifiers {
        let mut p = Vec::new();
        let mut ids = Identifiers::default();
        let mut seen_system = false;
        for r in self.records.iter().filter(|r| !r.fields.is_empty()) {
            match r.kind() {
                Some(1) if !seen_system => {
                    seen_system = true;
                    ids.system_serial = clean(text_value(r, "Serial Number"), "serial", &mut p);
                    let uuid = text_value(r, "UUID").and_then(text_uuid);
                    ids.smbios_uuid = clean(uuid.as_deref(), "uuid", &mut p);
                }
                Some(2) if ids.board_serial.is_none() => {
                    ids.board_serial = clean(text_value(r, "Serial Number"), "serial", &mut p);
                }
                Some(3) if ids.chassis_serial.is_none() => {
                    ids.chassis_serial = clean(text_value(r, "Serial Number"), "serial", &mut p);
                }
                _ => {}
            }
        }
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_uuids_are_canonical_and_never_blank() {
        assert_eq!(
            text_uuid("4C4C4544-0036-3210-805A-B7C04F4D3632").as_deref(),
            Some("4c4c4544-0036-3210-805a-b7c04f4d3632")
        );
        for bad in [
            "--",
            "Not Present",
            "Not Settable",
            "00000000-0000-0000-0000-000000000000",
            "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
            "4C4C4544-0036-3210-805A-B7C04F4D363",
            "4C4C4544-0036-3210-805A-B7C04F4D363Z",
        ] {
            assert_eq!(text_uuid(bad), None, "{bad}");
        }
    }
}
