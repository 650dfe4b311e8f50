//! A host's inventory: the components its own tables and BMC report (SMBIOS binary tables,
//! `dmidecode` text, a Redfish capture, `lspci`), merged into one list with the identifiers
//! they carry, and models' bills of materials.

use std::collections::BTreeMap;
use tamperscan_inventory::bom::Bom;
use tamperscan_inventory::Component;
use tamperscan_model::EvidenceKind;

/// Where a model keeps its bill of materials.
pub const BOM_TOML: &str = "bom.toml";
/// The CSV form.
pub const BOM_CSV: &str = "bom.csv";

/// Identifiers as the hardware reports them (placeholders excluded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedIdentifiers {
    /// SMBIOS type 1 / Redfish system serial.
    pub system_serial: Option<String>,
    /// SMBIOS type 2 / Redfish board serial.
    pub board_serial: Option<String>,
    /// SMBIOS type 3 / Redfish chassis serial.
    pub chassis_serial: Option<String>,
    /// SMBIOS UUID, lowercase.
    pub smbios_uuid: Option<String>,
    /// The BMC's MAC addresses.
    pub bmc_macs: Vec<String>,
}

impl ObservedIdentifiers {
    fn fill(&mut self, other: ObservedIdentifiers) {
        self.system_serial = self.system_serial.take().or(other.system_serial);
        self.board_serial = self.board_serial.take().or(other.board_serial);
        self.chassis_serial = self.chassis_serial.take().or(other.chassis_serial);
        self.smbios_uuid = self.smbios_uuid.take().or(other.smbios_uuid);
        for m in other.bmc_macs {
            if !self.bmc_macs.contains(&m) {
                self.bmc_macs.push(m);
            }
        }
    }
}

/// What a host's inventory evidence says.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// The evidence path findings point at (the first inventory file read).
    pub path: String,
    /// Every component, in source order (SMBIOS, dmidecode, Redfish, lspci).
    pub components: Vec<Component>,
    /// Identifiers the sources report; the first source that has one wins.
    pub identifiers: ObservedIdentifiers,
    /// Problems reading the sources, with the file.
    pub issues: Vec<String>,
    /// TCG platform certificates (`inventory/platform-cert*`): base and deltas, with their paths.
    pub platform_certs: Vec<(String, tamperscan_platcert::PlatformCertificate)>,
    /// Platform certificate files that could not be read, with why.
    pub platform_cert_errors: Vec<(String, String)>,
}

/// Inventory files of one host, gathered while its evidence is read.
#[derive(Default)]
pub(crate) struct InventoryParts {
    smbios: Vec<(String, Vec<u8>)>,
    dmidecode: Vec<(String, Vec<u8>)>,
    lspci: Vec<(String, Vec<u8>)>,
    redfish: BTreeMap<String, Vec<u8>>,
    redfish_path: Option<String>,
    certs: Vec<(String, Vec<u8>)>,
}

impl InventoryParts {
    /// Keeps the bytes of an inventory evidence file.
    pub(crate) fn add(&mut self, kind: &EvidenceKind, path: &str, bytes: Vec<u8>) {
        match kind {
            EvidenceKind::SmbiosBinary => self.smbios.push((path.to_string(), bytes)),
            EvidenceKind::DmidecodeText => self.dmidecode.push((path.to_string(), bytes)),
            EvidenceKind::LspciText => self.lspci.push((path.to_string(), bytes)),
            EvidenceKind::PlatformCertificate => self.certs.push((path.to_string(), bytes)),
            EvidenceKind::RedfishResource => {
                // Keys relative to the capture root (`inventory/redfish/`).
                let key = path
                    .split_once("/inventory/redfish/")
                    .map_or(path, |(_, k)| k);
                self.redfish_path.get_or_insert_with(|| {
                    path.split_once("/inventory/redfish/")
                        .map_or(path.to_string(), |(h, _)| format!("{h}/inventory/redfish"))
                });
                self.redfish.insert(key.to_string(), bytes);
            }
            _ => {}
        }
    }

    /// Parses what was gathered; `None` when the host has no inventory evidence.
    pub(crate) fn finish(self) -> Option<Inventory> {
        let mut inv = Inventory::default();
        let mut first = None;
        for (path, bytes) in &self.smbios {
            first.get_or_insert_with(|| path.clone());
            match tamperscan_smbios::parse_binary(bytes) {
                Ok(s) => {
                    inv.components.extend(tamperscan_smbios::to_components(&s));
                    inv.identifiers
                        .fill(smbios_ids(tamperscan_smbios::identifiers(&s)));
                    inv.issues
                        .extend(s.issues.iter().map(|i| format!("{path}: {i:?}")));
                }
                Err(e) => inv.issues.push(format!("{path}: {e}")),
            }
        }
        for (path, bytes) in &self.dmidecode {
            first.get_or_insert_with(|| path.clone());
            let text = String::from_utf8_lossy(bytes);
            match tamperscan_smbios::parse_dmidecode_text(&text) {
                Ok(d) => {
                    // Binary tables and their dmidecode decode describe the same parts: the
                    // text only adds when no binary table was read.
                    if self.smbios.is_empty() {
                        inv.components.extend(tamperscan_smbios::to_components(&d));
                    }
                    inv.identifiers
                        .fill(smbios_ids(tamperscan_smbios::identifiers(&d)));
                }
                Err(e) => inv.issues.push(format!("{path}: {e}")),
            }
        }
        if !self.redfish.is_empty() {
            let path = self.redfish_path.clone().unwrap_or_default();
            first.get_or_insert_with(|| path.clone());
            match tamperscan_redfish::parse_capture(&self.redfish) {
                Ok(c) => {
                    inv.components.extend(c.components);
                    inv.identifiers.fill(ObservedIdentifiers {
                        system_serial: c.identifiers.system_serial,
                        board_serial: c.identifiers.board_serial,
                        chassis_serial: c.identifiers.chassis_serial,
                        smbios_uuid: c.identifiers.smbios_uuid,
                        bmc_macs: c.identifiers.bmc_macs,
                    });
                    inv.issues
                        .extend(c.issues.iter().map(|i| format!("{path}: {i:?}")));
                }
                Err(e) => inv.issues.push(format!("{path}: {e}")),
            }
        }
        for (path, bytes) in &self.lspci {
            first.get_or_insert_with(|| path.clone());
            let text = String::from_utf8_lossy(bytes);
            match tamperscan_redfish::parse_lspci(&text) {
                Ok(devices) => inv
                    .components
                    .extend(tamperscan_redfish::to_components(&devices)),
                Err(e) => inv.issues.push(format!("{path}: {e}")),
            }
        }
        for (path, bytes) in &self.certs {
            first.get_or_insert_with(|| path.clone());
            match tamperscan_platcert::parse_all(bytes) {
                Ok(all) => {
                    let mut any = false;
                    for p in all {
                        if let Some(pc) = p.platform() {
                            inv.platform_certs.push((path.clone(), pc.clone()));
                            any = true;
                        }
                    }
                    if !any {
                        inv.platform_cert_errors.push((
                            path.clone(),
                            "holds no platform (attribute) certificate".into(),
                        ));
                    }
                }
                Err(e) => inv.platform_cert_errors.push((path.clone(), e.to_string())),
            }
        }
        inv.path = first?;
        Some(inv)
    }
}

/// Reads a model's `bom.toml` or `bom.csv` text.
pub(crate) fn parse_bom(name: &str, text: &str) -> Result<Bom, String> {
    if name.ends_with(".csv") {
        Bom::from_csv(text).map_err(|e| e.to_string())
    } else {
        Bom::from_toml(text).map_err(|e| e.to_string())
    }
}

fn smbios_ids(i: tamperscan_smbios::Identifiers) -> ObservedIdentifiers {
    ObservedIdentifiers {
        system_serial: i.system_serial,
        board_serial: i.board_serial,
        chassis_serial: i.chassis_serial,
        smbios_uuid: i.smbios_uuid,
        bmc_macs: Vec::new(),
    }
}

/// Where a model keeps the CA that signs its platform certificates.
pub const PLATFORM_CA: [&str; 4] = [
    "platform-ca.pem",
    "platform-ca.crt",
    "platform-ca.der",
    "platform-ca.cer",
];

/// Reads a model's platform certificate CA.
pub(crate) fn parse_ca(bytes: &[u8]) -> Result<tamperscan_platcert::Certificate, String> {
    tamperscan_platcert::parse_certificate(bytes).map_err(|e| e.to_string())
}
