//! `VARIABLE_HEADER` and `AUTHENTICATED_VARIABLE_HEADER` (EDK II
//! `MdeModulePkg/Include/Guid/VariableFormat.h`), the records of a variable store.
//!
//! Plain: StartId (u16, 0x55AA), State (u8), Reserved (u8), Attributes (u32), NameSize (u32),
//! DataSize (u32), VendorGuid — 32 bytes. Authenticated: after Attributes come MonotonicCount
//! (u64), TimeStamp (`EFI_TIME`, 16 bytes) and PubKeyIndex (u32) — 60 bytes. The UTF-16LE name
//! (NameSize bytes, NUL included) and the data follow directly; the next header starts at the
//! next 4-byte boundary.

use std::fmt;

use tamperscan_bytes::{Error, Guid};

use super::signature_list::{parse_signature_lists, SignatureList};
use crate::{reader_at, sha256, Issue};

/// StartId of every variable header.
pub const START_ID: u16 = 0x55AA;
/// Size of `VARIABLE_HEADER`.
pub const HEADER_SIZE: usize = 32;
/// Size of `AUTHENTICATED_VARIABLE_HEADER`.
pub const AUTH_HEADER_SIZE: usize = 60;

/// `EFI_GLOBAL_VARIABLE` (8BE4DF61-93CA-11D2-AA0D-00E098032B8C).
pub const EFI_GLOBAL_VARIABLE: Guid = Guid::from_fields(
    0x8be4_df61,
    0x93ca,
    0x11d2,
    [0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c],
);
/// `EFI_IMAGE_SECURITY_DATABASE_GUID` (D719B2CB-3D3A-4596-A3BC-DAD00E67656F): db, dbx, dbt, dbr.
pub const EFI_IMAGE_SECURITY_DATABASE: Guid = Guid::from_fields(
    0xd719_b2cb,
    0x3d3a,
    0x4596,
    [0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f],
);

/// Variable attributes (UEFI spec 2.10, `SetVariable()`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Attributes(pub u32);

impl Attributes {
    /// `EFI_VARIABLE_NON_VOLATILE`.
    pub const NON_VOLATILE: u32 = 0x01;
    /// `EFI_VARIABLE_BOOTSERVICE_ACCESS`.
    pub const BOOTSERVICE_ACCESS: u32 = 0x02;
    /// `EFI_VARIABLE_RUNTIME_ACCESS`.
    pub const RUNTIME_ACCESS: u32 = 0x04;
    /// `EFI_VARIABLE_HARDWARE_ERROR_RECORD`.
    pub const HARDWARE_ERROR_RECORD: u32 = 0x08;
    /// `EFI_VARIABLE_AUTHENTICATED_WRITE_ACCESS` (deprecated).
    pub const AUTHENTICATED_WRITE_ACCESS: u32 = 0x10;
    /// `EFI_VARIABLE_TIME_BASED_AUTHENTICATED_WRITE_ACCESS`.
    pub const TIME_BASED_AUTHENTICATED_WRITE_ACCESS: u32 = 0x20;
    /// `EFI_VARIABLE_APPEND_WRITE`.
    pub const APPEND_WRITE: u32 = 0x40;
    /// `EFI_VARIABLE_ENHANCED_AUTHENTICATED_ACCESS`.
    pub const ENHANCED_AUTHENTICATED_ACCESS: u32 = 0x80;

    const NAMES: [(u32, &'static str); 8] = [
        (Self::NON_VOLATILE, "NV"),
        (Self::BOOTSERVICE_ACCESS, "BS"),
        (Self::RUNTIME_ACCESS, "RT"),
        (Self::HARDWARE_ERROR_RECORD, "HR"),
        (Self::AUTHENTICATED_WRITE_ACCESS, "AW"),
        (Self::TIME_BASED_AUTHENTICATED_WRITE_ACCESS, "TBAW"),
        (Self::APPEND_WRITE, "AP"),
        (Self::ENHANCED_AUTHENTICATED_ACCESS, "EAA"),
    ];

    /// True when every bit of `bits` is set.
    pub fn contains(self, bits: u32) -> bool {
        self.0 & bits == bits
    }

    /// Short names of the set bits (NV, BS, RT, HR, AW, TBAW, AP, EAA), in bit order.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .filter(|(bit, _)| self.0 & bit != 0)
            .map(|(_, name)| *name)
            .collect()
    }
}

impl fmt::Display for Attributes {
    /// `NV+BS+RT+TBAW`, with unknown bits as hex (`NV+0x100`), `0` for none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = self.names().into_iter().map(String::from).collect();
        let unknown = self.0 & !0xff;
        if unknown != 0 {
            parts.push(format!("0x{unknown:x}"));
        }
        if parts.is_empty() {
            f.write_str("0")
        } else {
            f.write_str(&parts.join("+"))
        }
    }
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Attributes(0x{:08x} {})", self.0, self)
    }
}

/// The lifecycle state of a variable record. Flash bits only go from 1 to 0, so each step
/// clears bits: `VAR_HEADER_VALID_ONLY` 0x7F, `VAR_ADDED` 0x3F, then
/// `VAR_IN_DELETED_TRANSITION` (& 0xFE) and `VAR_DELETED` (& 0xFD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VariableState {
    /// Added and live (0x3F).
    Valid,
    /// Being replaced by a newer copy (0x3E): still the live value until the new one is added.
    InDeletedTransition,
    /// Deleted (bit 1 cleared); its bytes stay until the store is reclaimed.
    Deleted,
    /// Only the header was written (0x7F): the data never was.
    HeaderOnly,
    /// A value no step of the protocol produces (0xFF, or bit 7 clear with bit 6 set ...).
    Unknown,
}

impl VariableState {
    /// Classifies a raw State byte.
    pub fn from_raw(state: u8) -> Self {
        match state {
            _ if state & 0x80 != 0 => VariableState::Unknown,
            _ if state & 0x40 != 0 => VariableState::HeaderOnly,
            _ if state & 0x02 == 0 => VariableState::Deleted,
            _ if state & 0x01 == 0 => VariableState::InDeletedTransition,
            _ => VariableState::Valid,
        }
    }

    /// `valid`, `in-transition`, `deleted`, `header-only`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            VariableState::Valid => "valid",
            VariableState::InDeletedTransition => "in-transition",
            VariableState::Deleted => "deleted",
            VariableState::HeaderOnly => "header-only",
            VariableState::Unknown => "unknown",
        }
    }
}

/// `EFI_TIME` as stored in an authenticated variable header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EfiTime {
    /// Year (1900-9999).
    pub year: u16,
    /// Month (1-12).
    pub month: u8,
    /// Day (1-31).
    pub day: u8,
    /// Hour (0-23).
    pub hour: u8,
    /// Minute (0-59).
    pub minute: u8,
    /// Second (0-59).
    pub second: u8,
    /// Nanosecond.
    pub nanosecond: u32,
    /// Minutes from UTC, or 0x07FF (unspecified).
    pub time_zone: i16,
    /// Daylight flags.
    pub daylight: u8,
}

/// The extra fields of an authenticated variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthFields {
    /// `MonotonicCount`.
    pub monotonic_count: u64,
    /// `TimeStamp`.
    pub timestamp: EfiTime,
    /// `PubKeyIndex`.
    pub pub_key_index: u32,
}

/// One variable record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable<'a> {
    /// Absolute offset of the header (its StartId).
    pub offset: u64,
    /// The State byte as stored.
    pub state_raw: u8,
    /// The state it means.
    pub state: VariableState,
    /// Attributes.
    pub attributes: Attributes,
    /// Present in authenticated stores.
    pub auth: Option<AuthFields>,
    /// `VendorGuid`.
    pub vendor: Guid,
    /// The name, decoded from UTF-16LE up to the first NUL (lossy).
    pub name: String,
    /// `NameSize` as stored.
    pub name_size: u32,
    /// Absolute offset of the data.
    pub data_offset: u64,
    /// The data.
    pub data: &'a [u8],
    /// SHA-256 of the data.
    pub data_sha256: [u8; 32],
    /// For Secure Boot databases (PK, KEK, db, dbx, dbt, dbr and their `*Default` copies):
    /// the decoded `EFI_SIGNATURE_LIST` chain, or where it stopped making sense.
    pub signature_lists: Option<Result<Vec<SignatureList>, Error>>,
}

impl Variable<'_> {
    /// True for the live copy of a variable (valid or in deleted transition).
    pub fn is_live(&self) -> bool {
        matches!(
            self.state,
            VariableState::Valid | VariableState::InDeletedTransition
        )
    }
}

/// True for the variables whose data is a signature database.
pub fn is_signature_database(vendor: &Guid, name: &str) -> bool {
    (*vendor == EFI_IMAGE_SECURITY_DATABASE && matches!(name, "db" | "dbx" | "dbt" | "dbr"))
        || (*vendor == EFI_GLOBAL_VARIABLE
            && matches!(
                name,
                "PK" | "KEK"
                    | "PKDefault"
                    | "KEKDefault"
                    | "dbDefault"
                    | "dbxDefault"
                    | "dbtDefault"
                    | "dbrDefault"
            ))
}

/// Decodes the variable whose header is at `pos` of `store` (`base` = absolute offset of
/// `store[0]`). Returns it and the position of the next header (4-byte aligned from the store
/// start). Problems that do not stop decoding go to `issues`.
pub(crate) fn parse_variable<'a>(
    store: &'a [u8],
    base: u64,
    pos: usize,
    authenticated: bool,
    issues: &mut Vec<Issue>,
) -> Result<(Variable<'a>, usize), Error> {
    let mut r = reader_at(store, base, pos, "variable header")?;
    let offset = r.offset();
    let start_id = r.u16_le("variable StartId")?;
    if start_id != START_ID {
        return Err(Error::invalid(
            offset,
            "variable StartId",
            format!("0x{start_id:04x}, expected 0x55aa"),
        ));
    }
    let state_raw = r.u8("variable State")?;
    r.skip(1, "variable Reserved")?;
    let attributes = Attributes(r.u32_le("variable Attributes")?);
    let auth = if authenticated {
        let monotonic_count = r.u64_le("variable MonotonicCount")?;
        let timestamp = EfiTime {
            year: r.u16_le("EFI_TIME.Year")?,
            month: r.u8("EFI_TIME.Month")?,
            day: r.u8("EFI_TIME.Day")?,
            hour: r.u8("EFI_TIME.Hour")?,
            minute: r.u8("EFI_TIME.Minute")?,
            second: r.u8("EFI_TIME.Second")?,
            nanosecond: {
                r.skip(1, "EFI_TIME.Pad1")?;
                r.u32_le("EFI_TIME.Nanosecond")?
            },
            time_zone: r.u16_le("EFI_TIME.TimeZone")? as i16,
            daylight: r.u8("EFI_TIME.Daylight")?,
        };
        r.skip(1, "EFI_TIME.Pad2")?;
        let pub_key_index = r.u32_le("variable PubKeyIndex")?;
        Some(AuthFields {
            monotonic_count,
            timestamp,
            pub_key_index,
        })
    } else {
        None
    };
    let name_size = r.u32_le("variable NameSize")?;
    let data_size = r.u32_le("variable DataSize")?;
    let vendor = r.guid("variable VendorGuid")?;
    let name_len = r.bounded(
        u64::from(name_size),
        r.remaining() as u64,
        "variable NameSize",
    )?;
    let name_offset = r.offset();
    let name_bytes = r.take(name_len, "variable name")?;
    let data_len = r.bounded(
        u64::from(data_size),
        r.remaining() as u64,
        "variable DataSize",
    )?;
    let data_offset = r.offset();
    let data = r.take(data_len, "variable data")?;
    let consumed = store.len() - r.remaining();
    let next = consumed.checked_add(3).map_or(store.len(), |n| n & !3);

    let (name, terminated) = decode_name(name_bytes);
    let state = VariableState::from_raw(state_raw);
    if !terminated || name_len % 2 != 0 {
        issues.push(Issue::new(
            name_offset,
            name_len as u64,
            format!(
                "variable {name:?}: NameSize {name_size} is not an even, NUL-terminated UTF-16 name"
            ),
        ));
    }
    let signature_lists =
        is_signature_database(&vendor, &name).then(|| parse_signature_lists(data, data_offset));
    Ok((
        Variable {
            offset,
            state_raw,
            state,
            attributes,
            auth,
            vendor,
            name,
            name_size,
            data_offset,
            data,
            data_sha256: sha256(data),
            signature_lists,
        },
        next,
    ))
}

/// UTF-16LE up to the first NUL; the flag says whether a NUL was found.
fn decode_name(bytes: &[u8]) -> (String, bool) {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| {
            u16::from_le_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ])
        })
        .collect();
    let end = units.iter().position(|&u| u == 0);
    let name = String::from_utf16_lossy(units.get(..end.unwrap_or(units.len())).unwrap_or(&[]));
    (name, end.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_follow_the_bit_clearing_protocol() {
        assert_eq!(VariableState::from_raw(0x3f), VariableState::Valid);
        assert_eq!(
            VariableState::from_raw(0x3e),
            VariableState::InDeletedTransition
        );
        assert_eq!(VariableState::from_raw(0x3d), VariableState::Deleted);
        assert_eq!(VariableState::from_raw(0x3c), VariableState::Deleted);
        assert_eq!(VariableState::from_raw(0x7f), VariableState::HeaderOnly);
        assert_eq!(VariableState::from_raw(0xff), VariableState::Unknown);
    }

    #[test]
    fn attributes_print_their_names() {
        assert_eq!(Attributes(0x27).to_string(), "NV+BS+RT+TBAW");
        assert_eq!(Attributes(0x103).to_string(), "NV+BS+0x100");
        assert_eq!(Attributes(0).to_string(), "0");
        assert!(Attributes(7).contains(Attributes::RUNTIME_ACCESS | Attributes::NON_VOLATILE));
    }

    #[test]
    fn names_without_nul_are_reported() {
        assert_eq!(decode_name(b"d\0b\0\0\0"), ("db".to_string(), true));
        assert_eq!(decode_name(b"d\0b\0"), ("db".to_string(), false));
        assert_eq!(decode_name(b""), (String::new(), false));
    }
}
