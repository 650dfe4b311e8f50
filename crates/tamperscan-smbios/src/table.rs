//! The SMBIOS structure table (DSP0134 §6.1): structures of a 4-byte header, a formatted
//! area and a string set ended by a double NUL, walked until the end of the table, the
//! announced structure count, or the End-of-Table structure (type 127).

use crate::entry_point::{parse_entry_point, EntryPoint, EntryPointKind, Version};
use crate::structures::{decode, Raw, Record};
use crate::{Error, MAX_STRUCTURES};
use serde::Serialize;
use tamperscan_bytes::Reader;

/// Where a decoded table came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableSource {
    /// A `dmidecode --dump-bin` file: entry point at offset 0, table at its address.
    DumpBin,
    /// A bare structure table (`/sys/firmware/dmi/tables/DMI`).
    RawTable,
    /// A Windows `RawSMBIOSData` blob: an 8-byte header (calling method, major, minor, DMI
    /// revision, u32 length) and the table.
    WindowsRaw,
}

/// Something wrong inside an input that was still decoded: where and what.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Issue {
    /// Absolute offset in the input.
    pub offset: u64,
    /// What was found there, in words.
    pub message: String,
}

/// One structure of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Structure {
    /// Offset of its header in the input.
    pub offset: u64,
    /// Structure type.
    #[serde(rename = "type")]
    pub ty: u8,
    /// Length of the formatted area, header included.
    pub length: u8,
    /// Handle.
    pub handle: u16,
    /// The decoded content.
    pub record: Record,
}

impl Structure {
    /// `type 2 handle 0x0002`, the reference a component carries back to its structure.
    pub fn source_ref(&self) -> String {
        source_ref(self.ty, self.handle)
    }
}

pub(crate) fn source_ref(ty: u8, handle: u16) -> String {
    format!("type {ty} handle 0x{handle:04X}")
}

/// A decoded SMBIOS table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Smbios {
    /// What kind of input it was.
    pub source: TableSource,
    /// The entry point, for `dmidecode --dump-bin` files.
    pub entry_point: Option<EntryPoint>,
    /// The SMBIOS version the table is read as (after the usual fix-ups of impossible 2.x
    /// versions); `None` for a bare table given without one.
    pub version: Option<Version>,
    /// Offset of the first structure in the input.
    pub table_offset: u64,
    /// The structures, in table order.
    pub structures: Vec<Structure>,
    /// What was wrong but did not stop decoding (bad checksums, a structure that overruns the
    /// table, string numbers past the string set, ...).
    pub issues: Vec<Issue>,
}

impl Smbios {
    /// The structures of type `ty`.
    pub fn of_type(&self, ty: u8) -> impl Iterator<Item = &Structure> + '_ {
        self.structures.iter().filter(move |s| s.ty == ty)
    }
}

/// Decodes a binary SMBIOS table: a `dmidecode --dump-bin` file, a Windows `RawSMBIOSData`
/// blob, or else a bare structure table (read as SMBIOS 2.6 or later, the version of every
/// table with a 64-bit entry point and of nearly every table in service).
pub fn parse_binary(bytes: &[u8]) -> Result<Smbios, Error> {
    if [&b"_SM_"[..], b"_SM3_", b"_DMI_"]
        .iter()
        .any(|m| bytes.starts_with(m))
    {
        return parse_dump(bytes);
    }
    if let Some(header) = windows_header(bytes) {
        return parse_windows(bytes, header);
    }
    parse_table(bytes, None)
}

/// Decodes a bare structure table (`/sys/firmware/dmi/tables/DMI`) read as `version`, which
/// comes from the matching entry point (see [`crate::parse_entry_point`]); without one the
/// table is read as SMBIOS 2.6 or later. The walk stops at the End-of-Table structure.
pub fn parse_table(bytes: &[u8], version: Option<Version>) -> Result<Smbios, Error> {
    let version = version.map(Version::fixed_up);
    let mut out = Smbios {
        source: TableSource::RawTable,
        entry_point: None,
        version,
        table_offset: 0,
        structures: Vec::new(),
        issues: Vec::new(),
    };
    let first = walk(bytes, 0, None, version, &mut out);
    require_structures(out, first)
}

fn require_structures(
    out: Smbios,
    first_error: Option<tamperscan_bytes::Error>,
) -> Result<Smbios, Error> {
    match (out.structures.is_empty(), first_error) {
        (true, Some(e)) => Err(e.into()),
        (true, None) => Err(tamperscan_bytes::Error::invalid(
            out.table_offset,
            "SMBIOS structure table",
            "no structures",
        )
        .into()),
        _ => Ok(out),
    }
}

fn parse_dump(bytes: &[u8]) -> Result<Smbios, Error> {
    let ep = parse_entry_point(bytes)?;
    let mut issues = Vec::new();
    if !ep.checksum_ok {
        issues.push(Issue {
            offset: 0,
            message: format!("{:?} entry point checksum does not add up to zero", ep.kind),
        });
    }
    if ep.intermediate_checksum_ok == Some(false) {
        issues.push(Issue {
            offset: 0x10,
            message: "intermediate (_DMI_) checksum does not add up to zero".into(),
        });
    }
    let version = ep.version.fixed_up();
    if version != ep.version {
        issues.push(Issue {
            offset: 0,
            message: format!("impossible SMBIOS version {} read as {version}", ep.version),
        });
    }
    let address_field = match ep.kind {
        EntryPointKind::Smbios2 => 0x18,
        EntryPointKind::Smbios3 => 0x10,
        EntryPointKind::LegacyDmi => 0x08,
    };
    let start = usize::try_from(ep.table_address)
        .ok()
        .filter(|&a| a < bytes.len())
        .ok_or_else(|| {
            tamperscan_bytes::Error::invalid(
                address_field,
                "structure table address",
                format!(
                    "0x{:x} is outside the {}-byte file (a dmidecode --dump-bin file has its table at 0x20)",
                    ep.table_address,
                    bytes.len()
                ),
            )
        })?;
    let wanted = usize::try_from(ep.table_length).unwrap_or(usize::MAX);
    let available = bytes.len() - start;
    if wanted > available && ep.kind != EntryPointKind::Smbios3 {
        issues.push(Issue {
            offset: start as u64,
            message: format!(
                "entry point announces a {wanted}-byte table, the file holds {available} bytes from 0x{start:x}"
            ),
        });
    }
    let table = bytes
        .get(start..start.saturating_add(wanted.min(available)))
        .unwrap_or_default();
    let count = ep.structure_count.filter(|&n| n > 0);
    let mut out = Smbios {
        source: TableSource::DumpBin,
        entry_point: Some(ep),
        version: Some(version),
        table_offset: start as u64,
        structures: Vec::new(),
        issues,
    };
    let first = walk(table, start as u64, count, Some(version), &mut out);
    if let Some(n) = count {
        if out.structures.len() != usize::from(n) {
            out.issues.push(Issue {
                offset: address_field + 4,
                message: format!(
                    "entry point announces {n} structures, the table holds {}",
                    out.structures.len()
                ),
            });
        }
    }
    require_structures(out, first)
}

struct WindowsHeader {
    version: Version,
    length: u32,
}

fn windows_header(bytes: &[u8]) -> Option<WindowsHeader> {
    let mut r = Reader::new(bytes);
    let method = r.u8("").ok()?;
    let major = r.u8("").ok()?;
    let minor = r.u8("").ok()?;
    let _dmi_revision = r.u8("").ok()?;
    let length = r.u32_le("").ok()?;
    // A bare table cannot start like this: its first length byte would be 2 or 3, shorter than
    // a structure header.
    let fits = usize::try_from(length).is_ok_and(|l| l <= r.remaining());
    (method <= 1 && (2..=3).contains(&major) && fits).then_some(WindowsHeader {
        version: Version::new(major, minor),
        length,
    })
}

fn parse_windows(bytes: &[u8], header: WindowsHeader) -> Result<Smbios, Error> {
    let version = header.version.fixed_up();
    let mut out = Smbios {
        source: TableSource::WindowsRaw,
        entry_point: None,
        version: Some(version),
        table_offset: 8,
        structures: Vec::new(),
        issues: Vec::new(),
    };
    let len = usize::try_from(header.length).unwrap_or(usize::MAX);
    let table = bytes.get(8..8usize.saturating_add(len)).unwrap_or_default();
    if table.len() + 8 < bytes.len() {
        out.issues.push(Issue {
            offset: 4,
            message: format!(
                "header announces a {}-byte table, {} more bytes follow it",
                table.len(),
                bytes.len() - 8 - table.len()
            ),
        });
    }
    let first = walk(table, 8, None, Some(version), &mut out);
    require_structures(out, first)
}

/// Walks the structures of `table` (whose first byte is at offset `base` of the input) into
/// `out`, stopping at `count` structures when given, else at End-of-Table; damage stops the
/// walk with an issue. Returns the first damage, for inputs where nothing could be read.
fn walk(
    table: &[u8],
    base: u64,
    count: Option<u16>,
    version: Option<Version>,
    out: &mut Smbios,
) -> Option<tamperscan_bytes::Error> {
    let uuid_le = version.is_none_or(|v| v.uuid_is_little_endian());
    let mut r = Reader::with_base(table, base);
    let mut stop: Option<tamperscan_bytes::Error> = None;
    let mut ended = false;
    while !r.is_empty() {
        if count.is_some_and(|n| out.structures.len() >= usize::from(n)) {
            break;
        }
        if out.structures.len() >= MAX_STRUCTURES {
            out.issues.push(Issue {
                offset: r.offset(),
                message: format!(
                    "more than {MAX_STRUCTURES} structures; the rest of the table is not decoded"
                ),
            });
            break;
        }
        match structure(&mut r, uuid_le, out) {
            // A 2.x table with a count is read to its count, as dmidecode does; otherwise
            // End-of-Table ends it.
            Ok(true) if count.is_none() => {
                ended = true;
                break;
            }
            Ok(_) => {}
            Err(e) => {
                stop = Some(e);
                break;
            }
        }
    }
    if let Some(e) = &stop {
        out.issues.push(Issue {
            offset: e.offset,
            message: format!("{}; the walk stops here", e.kind),
        });
    } else if count.is_none() && !ended && out.structures.len() < MAX_STRUCTURES {
        out.issues.push(Issue {
            offset: r.offset(),
            message: "the table ends without an End-of-Table (type 127) structure".into(),
        });
    }
    stop
}

/// Reads one structure; `Ok(true)` when it was End-of-Table.
fn structure(
    r: &mut Reader<'_>,
    uuid_le: bool,
    out: &mut Smbios,
) -> Result<bool, tamperscan_bytes::Error> {
    let offset = r.offset();
    let mut head = r.clone();
    let ty = head.u8("structure type")?;
    let length = head.u8("structure length")?;
    let handle = head.u16_le("structure handle")?;
    if length < 4 {
        return Err(tamperscan_bytes::Error::invalid(
            offset + 1,
            "structure length",
            format!("{length} is shorter than the 4-byte header (type {ty} handle 0x{handle:04X})"),
        ));
    }
    let formatted = r.take(usize::from(length), "structure formatted area")?;
    let strings_at = r.offset();
    let rest = r.rest();
    let (area, consumed, unterminated) = match rest.windows(2).position(|w| w == [0, 0]) {
        Some(end) => (rest.get(..end).unwrap_or_default(), end + 2, false),
        None => {
            // No double NUL before the end: keep the complete strings, drop the tail.
            let end = rest.iter().rposition(|&b| b == 0).unwrap_or(0);
            (rest.get(..end).unwrap_or_default(), rest.len(), true)
        }
    };
    r.skip(consumed, "string set")?;
    let mut all = area.split(|&b| b == 0);
    let strings: Vec<&[u8]> = all.by_ref().take(usize::from(u8::MAX)).collect();
    let extra = all.count();
    let mut raw = Raw {
        formatted,
        strings: &strings,
        bad_indexes: Vec::new(),
        long_strings: 0,
    };
    let record = decode(ty, &mut raw, uuid_le);
    let what = source_ref(ty, handle);
    if !raw.bad_indexes.is_empty() {
        out.issues.push(Issue {
            offset,
            message: format!(
                "{what}: string number(s) {:?} past its {} strings",
                raw.bad_indexes,
                strings.len()
            ),
        });
    }
    if raw.long_strings > 0 {
        out.issues.push(Issue {
            offset: strings_at,
            message: format!(
                "{what}: {} string(s) longer than {} bytes cut",
                raw.long_strings,
                crate::MAX_STRING_LEN
            ),
        });
    }
    if extra > 0 {
        out.issues.push(Issue {
            offset: strings_at,
            message: format!("{what}: {extra} strings past the 255 a structure can number"),
        });
    }
    let end_of_table = record == Record::EndOfTable;
    out.structures.push(Structure {
        offset,
        ty,
        length,
        handle,
        record,
    });
    if unterminated {
        return Err(tamperscan_bytes::Error::new(
            r.offset(),
            tamperscan_bytes::ErrorKind::Truncated {
                what: "string set terminator (double NUL)",
                needed: 2,
                available: 0,
            },
        ));
    }
    Ok(end_of_table)
}
