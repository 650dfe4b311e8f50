//! What a server is made of, in one normalized model whatever the source (SMBIOS tables,
//! `dmidecode` text, Redfish, `lspci`, TCG platform certificates).
//!
//! **Invariant:** placeholder values (`To be filled by O.E.M.`, `0123456789`, blank, `--`, ...)
//! never reach an identity field: [`clean`] turns them into `None` and keeps the raw text in
//! [`Component::placeholders`] so reports can still show what the source said.

pub mod bom;
pub mod query;

use serde::Serialize;
use tamperscan_model::is_placeholder;

/// What kind of part a component is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentClass {
    /// The system as sold (SMBIOS type 1, Redfish ComputerSystem).
    System,
    /// The main board (SMBIOS type 2).
    Baseboard,
    /// The chassis (SMBIOS type 3, Redfish Chassis).
    Chassis,
    /// Host firmware (SMBIOS type 0, BIOS firmware inventory entries).
    Bios,
    /// The baseboard management controller (its firmware, Redfish Manager).
    Bmc,
    /// A processor socket.
    Cpu,
    /// A memory module.
    Memory,
    /// A network adapter or port.
    Nic,
    /// A drive.
    Storage,
    /// A storage controller (RAID/HBA/NVMe controller).
    StorageController,
    /// A GPU or accelerator.
    Gpu,
    /// A power supply.
    PowerSupply,
    /// A TPM.
    Tpm,
    /// A programmable logic device (CPLD/FPGA).
    Cpld,
    /// A PCIe function not otherwise classed.
    Pcie,
    /// Anything else, with the source's own name for it.
    Other(String),
}

impl ComponentClass {
    /// The snake_case name (as in JSON, BOMs and fleet queries); `Other` keeps the source's
    /// own name.
    pub fn name(&self) -> &str {
        match self {
            ComponentClass::System => "system",
            ComponentClass::Baseboard => "baseboard",
            ComponentClass::Chassis => "chassis",
            ComponentClass::Bios => "bios",
            ComponentClass::Bmc => "bmc",
            ComponentClass::Cpu => "cpu",
            ComponentClass::Memory => "memory",
            ComponentClass::Nic => "nic",
            ComponentClass::Storage => "storage",
            ComponentClass::StorageController => "storage_controller",
            ComponentClass::Gpu => "gpu",
            ComponentClass::PowerSupply => "power_supply",
            ComponentClass::Tpm => "tpm",
            ComponentClass::Cpld => "cpld",
            ComponentClass::Pcie => "pcie",
            ComponentClass::Other(name) => name,
        }
    }
}

/// One hardware component as a source reported it.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Component {
    /// What it is.
    pub class: Option<ComponentClass>,
    /// Manufacturer, trimmed; `None` when absent or a placeholder.
    pub manufacturer: Option<String>,
    /// Model or product name.
    pub model: Option<String>,
    /// Serial number (never a placeholder).
    pub serial: Option<String>,
    /// Part number / SKU.
    pub part_number: Option<String>,
    /// Hardware revision.
    pub revision: Option<String>,
    /// Firmware version running on the component.
    pub firmware_version: Option<String>,
    /// sha256 of the component's firmware image, lowercase hex, when the source gives one
    /// (SPDM measurements, images we hashed ourselves).
    pub firmware_sha256: Option<String>,
    /// Slot, socket, bay or locator (`CPU1`, `DIMM_A1`, `PCIe Slot 3`, `0000:3b:00.0`).
    pub location: Option<String>,
    /// MAC addresses, lowercase, colon-separated.
    pub macs: Vec<String>,
    /// PCI vendor:device (and subsystem) ids when known, lowercase hex `8086:1572`.
    pub pci_id: Option<String>,
    /// Where it was read: `smbios`, `dmidecode`, `redfish`, `lspci`, `platform-certificate`.
    pub source: String,
    /// Where in the source: `type 2 handle 0x0002`, a Redfish `@odata.id`, a PCI address.
    pub source_ref: String,
    /// Fields whose value was a placeholder, with the raw text (`serial: To be filled by O.E.M.`).
    pub placeholders: Vec<String>,
}

/// Trims a source's value; `None` when empty or a placeholder (recorded in `placeholders`
/// under `field`).
pub fn clean(value: Option<&str>, field: &str, placeholders: &mut Vec<String>) -> Option<String> {
    let v = value?.trim();
    if v.is_empty() {
        return None;
    }
    if is_placeholder(v) {
        placeholders.push(format!("{field}: {v}"));
        return None;
    }
    Some(v.to_string())
}

/// A MAC address in the canonical form (`0c:c4:7a:11:22:33`), or `None` when the text is not a
/// 48-bit MAC or is all zeros / all ones.
pub fn normalize_mac(text: &str) -> Option<String> {
    let hex: String = text.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let seps = text
        .chars()
        .filter(|c| matches!(c, ':' | '-' | '.'))
        .count();
    if hex.len() != 12 || text.trim().len() != 12 + seps {
        return None;
    }
    let lower = hex.to_ascii_lowercase();
    if lower == "000000000000" || lower == "ffffffffffff" {
        return None;
    }
    let parts: Vec<&str> = (0..6).filter_map(|i| lower.get(i * 2..i * 2 + 2)).collect();
    Some(parts.join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_never_become_values() {
        let mut p = Vec::new();
        assert_eq!(
            clean(Some("  X11DPH-T "), "model", &mut p).as_deref(),
            Some("X11DPH-T")
        );
        assert_eq!(
            clean(Some("To be filled by O.E.M."), "serial", &mut p),
            None
        );
        assert_eq!(clean(Some("0123456789"), "serial", &mut p), None);
        assert_eq!(clean(Some(""), "serial", &mut p), None);
        assert_eq!(clean(None, "serial", &mut p), None);
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn macs_are_canonical() {
        assert_eq!(
            normalize_mac("0C-C4-7A-11-22-33").as_deref(),
            Some("0c:c4:7a:11:22:33")
        );
        assert_eq!(
            normalize_mac("0cc4.7a11.2233").as_deref(),
            Some("0c:c4:7a:11:22:33")
        );
        assert_eq!(normalize_mac("00:00:00:00:00:00"), None);
        assert_eq!(normalize_mac("0c:c4:7a:11:22"), None);
        assert_eq!(normalize_mac("not a mac at all"), None);
    }
}
