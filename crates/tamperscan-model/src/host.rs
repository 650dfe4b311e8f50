use serde::Serialize;
use std::fmt;

/// A host's name in the fleet (the `hosts/<id>/` directory name unless `host.toml` says otherwise).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct HostId(pub String);

impl fmt::Display for HostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of identifier a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierKind {
    /// SMBIOS type 1 system serial number.
    SystemSerial,
    /// SMBIOS type 2 baseboard serial number.
    BoardSerial,
    /// SMBIOS type 3 chassis serial number.
    ChassisSerial,
    /// SMBIOS type 1 UUID.
    SmbiosUuid,
    /// MAC address of the BMC's network interface.
    BmcMac,
    /// SHA-256 of the TPM endorsement key's public part.
    TpmEkSha256,
}

impl IdentifierKind {
    /// How far this identifier can be trusted to name one physical server.
    ///
    /// A TPM endorsement key is fused into the TPM and proven cryptographically; MACs and board
    /// serials are burnt in at the factory but can be reprogrammed with vendor tools; system and
    /// chassis serials are free text that integrators often leave as placeholders or copy.
    pub fn trust(self) -> Trust {
        match self {
            IdentifierKind::TpmEkSha256 => Trust::High,
            IdentifierKind::BoardSerial | IdentifierKind::BmcMac | IdentifierKind::SmbiosUuid => {
                Trust::Medium
            }
            IdentifierKind::SystemSerial | IdentifierKind::ChassisSerial => Trust::Low,
        }
    }

    /// The snake_case name used in `host.toml` and JSON.
    pub fn name(self) -> &'static str {
        match self {
            IdentifierKind::SystemSerial => "system_serial",
            IdentifierKind::BoardSerial => "board_serial",
            IdentifierKind::ChassisSerial => "chassis_serial",
            IdentifierKind::SmbiosUuid => "smbios_uuid",
            IdentifierKind::BmcMac => "bmc_mac",
            IdentifierKind::TpmEkSha256 => "tpm_ek_sha256",
        }
    }
}

/// How much an identifier is trusted to be unique to one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trust {
    /// Free text, often copied or left as a placeholder.
    Low,
    /// Factory-programmed, changeable with vendor tools.
    Medium,
    /// Cryptographically bound to the hardware.
    High,
}

/// One identifier of a host, normalised for comparison.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Identifier {
    /// What it is.
    pub kind: IdentifierKind,
    /// The normalised value (trimmed; MACs and UUIDs lowercased).
    pub value: String,
}

impl Identifier {
    /// Normalises `raw` for `kind`; `None` when it is empty or a known placeholder, which must
    /// never be used to tell servers apart.
    pub fn new(kind: IdentifierKind, raw: &str) -> Option<Identifier> {
        let trimmed = raw.trim();
        if is_placeholder(trimmed) {
            return None;
        }
        let value = match kind {
            IdentifierKind::BmcMac => trimmed.to_ascii_lowercase().replace('-', ":"),
            IdentifierKind::SmbiosUuid | IdentifierKind::TpmEkSha256 => {
                trimmed.to_ascii_lowercase()
            }
            _ => trimmed.to_string(),
        };
        Some(Identifier { kind, value })
    }
}

/// True for values that firmware and integrators write when they have no real one.
///
/// Real DMI dumps are full of them (`To be filled by O.E.M.`, `0123456789`, `Default string`,
/// all-zero or all-F UUIDs and MACs); two servers sharing one of these share nothing.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "to be filled by o.e.m.",
        "to be filled by oem",
        "default string",
        "default",
        "system serial number",
        "system product name",
        "base board serial number",
        "chassis serial number",
        "type2 - board serial number",
        "serial number",
        "serialnumber",
        "not specified",
        "not available",
        "not applicable",
        "not present",
        "none",
        "empty",
        "s/n",
        "n/a",
        "na",
        "null",
        "unknown",
        "invalid",
        "oem",
        "o.e.m.",
        "0123456789",
        "123456789",
        "1234567890",
        "12345678",
        "03000200-0400-0500-0006-000700080009",
    ];
    if WORDS.contains(&lower.as_str()) {
        return true;
    }
    // A value of one repeated symbol, ignoring separators: 000000, FFFFFFFF, xxxxxxxx,
    // 00:00:00:00:00:00, ffffffff-ffff-ffff-ffff-ffffffffffff.
    let mut symbols = lower
        .chars()
        .filter(|c| !matches!(c, '-' | ':' | '.' | ' '));
    // Short runs of a digit other than 0 are real versions ("1.1", "2.2"): only runs of 4 or
    // more, or of the symbols vendors use as filler (0, x, f, *, ?), count.
    match symbols.next() {
        None => true,
        Some(first) => {
            let rest: Vec<char> = symbols.collect();
            // One character alone tells nothing apart either.
            rest.is_empty()
                || (rest.iter().all(|&c| c == first)
                    && (rest.len() >= 3 || matches!(first, '0' | 'x' | 'f' | '*' | '?')))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_found_in_real_dmi_dumps_are_recognised() {
        for p in [
            "To be filled by O.E.M.",
            " To Be Filled By O.E.M. ",
            "Default string",
            "0123456789",
            "00000000-0000-0000-0000-000000000000",
            "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
            "03000200-0400-0500-0006-000700080009",
            "00:00:00:00:00:00",
            "",
            "Not Specified",
            "XXXXXXXX",
        ] {
            assert!(is_placeholder(p), "{p:?} should be a placeholder");
        }
        for real in [
            "ZM19BS012345",
            "4c4c4544-0042-3510-8052-b4c04f4e3332",
            "0c:c4:7a:11:22:33",
            "A",
        ] {
            assert_eq!(is_placeholder(real), real == "A", "{real:?}");
        }
    }

    #[test]
    fn identifiers_are_normalised() {
        let mac = Identifier::new(IdentifierKind::BmcMac, "0C-C4-7A-11-22-33").unwrap();
        assert_eq!(mac.value, "0c:c4:7a:11:22:33");
        assert!(Identifier::new(IdentifierKind::BoardSerial, "To be filled by O.E.M.").is_none());
        let serial = Identifier::new(IdentifierKind::BoardSerial, " ZM19BS012345 ").unwrap();
        assert_eq!(serial.value, "ZM19BS012345");
    }
}

#[cfg(test)]
mod placeholder_versions {
    use super::is_placeholder;

    #[test]
    fn short_versions_are_values_and_filler_is_not() {
        for real in ["1.1", "2.2", "1.11", "A1"] {
            assert!(!is_placeholder(real), "{real}");
        }
        for filler in ["x.x", "0", "00", "FF", "1111", "00:00:00:00:00:00", "*"] {
            assert!(is_placeholder(filler), "{filler}");
        }
    }
}
