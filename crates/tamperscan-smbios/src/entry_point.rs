//! SMBIOS entry points (DSP0134 §5.2): the 32-bit `_SM_` structure with its `_DMI_`
//! intermediate anchor (SMBIOS 2.1+), the 64-bit `_SM3_` structure (SMBIOS 3.0+), and the
//! legacy DMI 2.0 `_DMI_` structure on its own.

use serde::Serialize;
use std::fmt;
use tamperscan_bytes::{Error, ErrorKind, Reader};

/// An SMBIOS version as `major.minor` (and the 3.x document revision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Version {
    /// Major version (2 or 3 in practice).
    pub major: u8,
    /// Minor version.
    pub minor: u8,
    /// Document revision (`_SM3_` only; 0 otherwise).
    pub docrev: u8,
}

impl Version {
    /// A `major.minor` version.
    pub fn new(major: u8, minor: u8) -> Self {
        Version {
            major,
            minor,
            docrev: 0,
        }
    }

    /// True from SMBIOS 2.6 on, where the first three UUID fields are stored little-endian
    /// (DSP0134 §7.2.1).
    pub fn uuid_is_little_endian(&self) -> bool {
        (self.major, self.minor) >= (2, 6)
    }

    /// The version some old BIOSes meant when they wrote an impossible one: 2.31 and 2.33 were
    /// 2.3, 2.51 was 2.6 (the same fix-ups `dmidecode` applies).
    pub fn fixed_up(self) -> Self {
        match (self.major, self.minor) {
            (2, 31) | (2, 33) => Version::new(2, 3),
            (2, 51) => Version::new(2, 6),
            _ => self,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.major >= 3 {
            write!(f, "{}.{}.{}", self.major, self.minor, self.docrev)
        } else {
            write!(f, "{}.{}", self.major, self.minor)
        }
    }
}

/// Which entry point structure was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryPointKind {
    /// SMBIOS 2.1+ 32-bit entry point (`_SM_` ... `_DMI_`, 31 bytes).
    Smbios2,
    /// SMBIOS 3.0+ 64-bit entry point (`_SM3_`, 24 bytes).
    Smbios3,
    /// Legacy DMI 2.0 entry point (`_DMI_` alone, 15 bytes).
    LegacyDmi,
}

/// A decoded entry point. Checksums are reported, not enforced: a bad checksum is evidence,
/// and the table it points at may still be worth reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryPoint {
    /// Which structure this is.
    pub kind: EntryPointKind,
    /// The SMBIOS version it announces (for the legacy form, from the BCD revision).
    pub version: Version,
    /// The entry point length byte (`_SM_` and `_SM3_`; 15 for the legacy form).
    pub length: u8,
    /// Entry point revision (`_SM_` and `_SM3_`).
    pub revision: u8,
    /// Size of the largest structure (`_SM_` only).
    pub max_structure_size: Option<u16>,
    /// Structure table address (physical; `dmidecode --dump-bin` rewrites it to 0x20, the
    /// offset of the table in its file).
    pub table_address: u64,
    /// Structure table length (`_SM_`, `_DMI_`) or maximum size (`_SM3_`).
    pub table_length: u32,
    /// Number of structures (`_SM_`, `_DMI_`; `None` for `_SM3_`, which has no count).
    pub structure_count: Option<u16>,
    /// BCD revision (`_SM_`, `_DMI_`).
    pub bcd_revision: Option<u8>,
    /// Whether the entry point checksum (or, for the legacy form, the only checksum) adds up.
    pub checksum_ok: bool,
    /// Whether the `_DMI_` intermediate checksum adds up (`_SM_` only).
    pub intermediate_checksum_ok: Option<bool>,
}

const SM2_LEN: usize = 0x1f;
const SM3_LEN: usize = 0x18;
const DMI_LEN: usize = 0x0f;

/// Decodes the entry point at the start of `bytes` (the content of
/// `/sys/firmware/dmi/tables/smbios_entry_point`, or the first bytes of a `dmidecode
/// --dump-bin` file). Trailing bytes are allowed.
pub fn parse_entry_point(bytes: &[u8]) -> Result<EntryPoint, Error> {
    let r = Reader::new(bytes);
    if bytes.starts_with(b"_SM3_") {
        parse_sm3(r, bytes)
    } else if bytes.starts_with(b"_SM_") {
        parse_sm2(r, bytes)
    } else if bytes.starts_with(b"_DMI_") {
        parse_legacy(r, bytes)
    } else {
        let found = r.peek(bytes.len().min(5), "SMBIOS entry point")?;
        Err(r.error(ErrorKind::BadMagic {
            what: "SMBIOS entry point",
            expected: "\"_SM_\", \"_SM3_\" or \"_DMI_\"".into(),
            found: describe(found),
        }))
    }
}

fn parse_sm2(mut r: Reader<'_>, bytes: &[u8]) -> Result<EntryPoint, Error> {
    r.expect(b"_SM_", "SMBIOS 2.x entry point")?;
    let _checksum = r.u8("entry point checksum")?;
    let length = r.u8("entry point length")?;
    let major = r.u8("SMBIOS major version")?;
    let minor = r.u8("SMBIOS minor version")?;
    let max_structure_size = r.u16_le("maximum structure size")?;
    let revision = r.u8("entry point revision")?;
    r.skip(5, "formatted area")?;
    r.expect(b"_DMI_", "intermediate anchor")?;
    let _intermediate_checksum = r.u8("intermediate checksum")?;
    let table_length = r.u16_le("structure table length")?;
    let table_address = r.u32_le("structure table address")?;
    let structure_count = r.u16_le("number of structures")?;
    let bcd_revision = r.u8("BCD revision")?;
    // The checksum covers `length` bytes; 0x1e (an SMBIOS 2.1 erratum) to 0x20 are seen in the
    // wild. Anything else cannot be summed meaningfully and counts as a bad checksum.
    let checksum_ok = match usize::from(length) {
        n @ 0x1e..=0x20 => bytes.get(..n).is_some_and(|b| sum(Some(b)) == 0),
        _ => false,
    };
    Ok(EntryPoint {
        kind: EntryPointKind::Smbios2,
        version: Version::new(major, minor),
        length,
        revision,
        max_structure_size: Some(max_structure_size),
        table_address: u64::from(table_address),
        table_length: u32::from(table_length),
        structure_count: Some(structure_count),
        bcd_revision: Some(bcd_revision),
        checksum_ok,
        intermediate_checksum_ok: Some(sum(bytes.get(0x10..SM2_LEN)) == 0),
    })
}

fn parse_sm3(mut r: Reader<'_>, bytes: &[u8]) -> Result<EntryPoint, Error> {
    r.expect(b"_SM3_", "SMBIOS 3.x entry point")?;
    let _checksum = r.u8("entry point checksum")?;
    let length = r.u8("entry point length")?;
    let major = r.u8("SMBIOS major version")?;
    let minor = r.u8("SMBIOS minor version")?;
    let docrev = r.u8("SMBIOS docrev")?;
    let revision = r.u8("entry point revision")?;
    let _reserved = r.u8("reserved")?;
    let table_length = r.u32_le("structure table maximum size")?;
    let table_address = r.u64_le("structure table address")?;
    let checksum_ok = usize::from(length) == SM3_LEN && sum(bytes.get(..SM3_LEN)) == 0;
    Ok(EntryPoint {
        kind: EntryPointKind::Smbios3,
        version: Version {
            major,
            minor,
            docrev,
        },
        length,
        revision,
        max_structure_size: None,
        table_address,
        table_length,
        structure_count: None,
        bcd_revision: None,
        checksum_ok,
        intermediate_checksum_ok: None,
    })
}

fn parse_legacy(mut r: Reader<'_>, bytes: &[u8]) -> Result<EntryPoint, Error> {
    r.expect(b"_DMI_", "legacy DMI entry point")?;
    let _checksum = r.u8("entry point checksum")?;
    let table_length = r.u16_le("structure table length")?;
    let table_address = r.u32_le("structure table address")?;
    let structure_count = r.u16_le("number of structures")?;
    let bcd_revision = r.u8("BCD revision")?;
    Ok(EntryPoint {
        kind: EntryPointKind::LegacyDmi,
        version: Version::new(bcd_revision >> 4, bcd_revision & 0x0f),
        length: 0x0f,
        revision: 0,
        max_structure_size: None,
        table_address: u64::from(table_address),
        table_length: u32::from(table_length),
        structure_count: Some(structure_count),
        bcd_revision: Some(bcd_revision),
        checksum_ok: sum(bytes.get(..DMI_LEN)) == 0,
        intermediate_checksum_ok: None,
    })
}

fn sum(bytes: Option<&[u8]>) -> u8 {
    bytes
        .unwrap_or_default()
        .iter()
        .fold(0u8, |acc, b| acc.wrapping_add(*b))
}

fn describe(bytes: &[u8]) -> String {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("0x{}", hex.join(""))
}
