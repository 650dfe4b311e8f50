//! The Intel ME/CSME/SPS flash partition table (`$FPT`) at the start of the ME region.
//!
//! Only the table is decoded (the firmware's licence allows listing and hashing partitions,
//! not looking inside them). Layout, as published by independent analyses (linuxboot/fiano
//! `pkg/intel/me`, Intel's igsc `gsc_fwu_fpt_header`): an optional 16-byte ROM bypass vector,
//! then the 32-byte header — marker `$FPT`, entry count (u32), header version (0x10/0x20/0x21),
//! entry version (0x10), header length (0x20), checksum (8-bit, header versions up to 0x20; a
//! flags byte on 0x21, which has a CRC-32 at 0x14 instead), ticks/tokens to add (u16 each), UMA
//! size (u32), flags or CRC-32 (u32), FITC version (4 x u16) — then 32-byte entries: name
//! (4 chars), owner (4 bytes), offset and length (u32, from the start of the table), start
//! tokens, max tokens, scratch sectors, flags (bits 0-6 partition type; top byte 0xFF = entry
//! not valid).

use tamperscan_bytes::{Error, ErrorKind};

use crate::{abs, reader_at, sha256, slice_at, Issue};

/// The table marker.
pub const MARKER: [u8; 4] = *b"$FPT";
/// Size of the fixed header, from the marker.
pub const HEADER_SIZE: usize = 0x20;
/// Size of one partition entry.
pub const ENTRY_SIZE: usize = 0x20;
/// The most entries accepted (Intel's tools allow 56; leave room).
pub const MAX_ENTRIES: u32 = 256;

/// The header checksum as stored, and whether it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderChecksum {
    /// Header versions up to 0x20: the 32 header bytes from the marker sum to 0 (mod 256).
    Sum8 {
        /// The stored byte.
        stored: u8,
        /// Whether the header sums to zero.
        valid: bool,
    },
    /// Header version 0x21: a CRC-32 at header offset 0x14 (not verified here).
    Crc32 {
        /// The stored value.
        stored: u32,
    },
}

/// One partition entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// Position in the table (0-based).
    pub index: usize,
    /// Absolute offset of the entry in the input.
    pub entry_offset: u64,
    /// The 4-character name, NULs trimmed, non-printable bytes escaped.
    pub name: String,
    /// The owner field as stored.
    pub owner: [u8; 4],
    /// Offset of the partition from the start of the table (the ME region).
    pub offset: u32,
    /// Length in bytes.
    pub length: u32,
    /// Start tokens (wear levelling).
    pub start_tokens: u32,
    /// Max tokens.
    pub max_tokens: u32,
    /// Scratch sectors.
    pub scratch_sectors: u32,
    /// Flags as stored.
    pub flags: u32,
    /// False when the top byte of the flags is 0xFF (entry marked not valid).
    pub valid: bool,
    /// True when offset + length lies inside the bytes given to the parser.
    pub inside_region: bool,
    /// SHA-256 of the partition's bytes, for valid, non-empty partitions inside the region.
    pub sha256: Option<[u8; 32]>,
}

impl Partition {
    /// The partition type (flags bits 0-6).
    pub fn kind(&self) -> u8 {
        (self.flags & 0x7f) as u8
    }

    /// The partition type's name: code, data, NVRAM, generic, EFFS, ROM.
    pub fn kind_name(&self) -> &'static str {
        match self.kind() {
            0 => "code",
            1 => "data",
            2 => "NVRAM",
            3 => "generic",
            4 => "EFFS",
            5 => "ROM",
            _ => "unknown",
        }
    }

    /// One past the last byte (offset + length), without overflow.
    pub fn end(&self) -> u64 {
        u64::from(self.offset) + u64::from(self.length)
    }
}

/// A decoded `$FPT` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionTable {
    /// Absolute offset of the table start (the ROM bypass vector, or the marker without one).
    pub offset: u64,
    /// Absolute offset of the `$FPT` marker.
    pub marker_offset: u64,
    /// The ROM bypass vector, when the marker is at 0x10.
    pub rom_bypass: Option<[u8; 16]>,
    /// Number of entries.
    pub entry_count: u32,
    /// Header version (0x10, 0x20, 0x21).
    pub header_version: u8,
    /// Entry version (0x10).
    pub entry_version: u8,
    /// Header length in bytes (0x20).
    pub header_length: u8,
    /// The checksum.
    pub checksum: HeaderChecksum,
    /// Ticks to add.
    pub ticks_to_add: u16,
    /// Tokens to add.
    pub tokens_to_add: u16,
    /// UMA size (or reserved / SPS flags).
    pub uma_size: u32,
    /// Flags (flash layout) on header versions up to 0x20; the CRC-32 on 0x21.
    pub flags: u32,
    /// FITC major, minor, hotfix, build.
    pub fitc_version: [u16; 4],
    /// The entries in table order.
    pub partitions: Vec<Partition>,
    /// Checksum mismatch, partitions outside the region or overlapping, ...
    pub issues: Vec<Issue>,
}

impl PartitionTable {
    /// The valid partition with this name.
    pub fn partition(&self, name: &str) -> Option<&Partition> {
        self.partitions.iter().find(|p| p.valid && p.name == name)
    }
}

/// Where a table starts in `bytes`: the first 16-byte aligned `$FPT` marker, minus the 16-byte
/// ROM bypass vector unless the marker sits on a 4 KiB boundary (no vector).
pub fn find(bytes: &[u8]) -> Option<usize> {
    let hit = bytes
        .chunks(16)
        .position(|c| c.starts_with(&MARKER))?
        .checked_mul(16)?;
    Some(if hit & 0xfff == 0 || hit < 16 {
        hit
    } else {
        hit - 16
    })
}

/// Decodes the table at the start of `region` (an ME region; marker at 0x10 or 0x0).
pub fn parse(region: &[u8]) -> Result<PartitionTable, Error> {
    parse_with_base(region, 0)
}

/// Like [`parse`], with `base` the absolute offset of `region[0]` in the outer image.
pub fn parse_with_base(region: &[u8], base: u64) -> Result<PartitionTable, Error> {
    let marker_pos = if region.get(0x10..0x14) == Some(&MARKER[..]) {
        0x10
    } else if region.get(0..4) == Some(&MARKER[..]) {
        0
    } else {
        let mut r = reader_at(region, base, 0x10, "flash partition table")?;
        r.expect(&MARKER, "flash partition table")?;
        0x10
    };
    let rom_bypass = if marker_pos == 0x10 {
        reader_at(region, base, 0, "ROM bypass")?
            .take_array::<16>("ROM bypass")
            .ok()
    } else {
        None
    };
    let header = slice_at(region, marker_pos, HEADER_SIZE).ok_or_else(|| {
        Error::new(
            abs(base, marker_pos),
            ErrorKind::Truncated {
                what: "flash partition table header",
                needed: HEADER_SIZE as u64,
                available: region.len().saturating_sub(marker_pos) as u64,
            },
        )
    })?;
    let mut r = reader_at(region, base, marker_pos + 4, "flash partition table header")?;
    let entry_count = r.u32_le("FPT entry count")?;
    let header_version = r.u8("FPT header version")?;
    let entry_version = r.u8("FPT entry version")?;
    let header_length = r.u8("FPT header length")?;
    let checksum_byte = r.u8("FPT header checksum")?;
    let ticks_to_add = r.u16_le("FPT ticks to add")?;
    let tokens_to_add = r.u16_le("FPT tokens to add")?;
    let uma_size = r.u32_le("FPT UMA size")?;
    let flags = r.u32_le("FPT flags")?;
    let mut fitc_version = [0u16; 4];
    for v in &mut fitc_version {
        *v = r.u16_le("FPT FITC version")?;
    }
    let count = r.bounded(
        u64::from(entry_count),
        u64::from(MAX_ENTRIES),
        "FPT entry count",
    )?;

    let mut issues = Vec::new();
    let checksum = if header_version >= 0x21 {
        HeaderChecksum::Crc32 { stored: flags }
    } else {
        let sum = header.iter().fold(0u8, |a, b| a.wrapping_add(*b));
        if sum != 0 {
            issues.push(Issue::new(
                abs(base, marker_pos),
                HEADER_SIZE as u64,
                format!("FPT header checksum 0x{checksum_byte:02x} does not match (bytes sum to 0x{sum:02x})"),
            ));
        }
        HeaderChecksum::Sum8 {
            stored: checksum_byte,
            valid: sum == 0,
        }
    };
    if !matches!(header_version, 0x10 | 0x20 | 0x21) {
        issues.push(Issue::new(
            abs(base, marker_pos + 8),
            1,
            format!("unknown FPT header version 0x{header_version:02x}"),
        ));
    }
    if entry_version != 0x10 {
        issues.push(Issue::new(
            abs(base, marker_pos + 9),
            1,
            format!("unknown FPT entry version 0x{entry_version:02x}"),
        ));
    }
    if usize::from(header_length) != HEADER_SIZE {
        issues.push(Issue::new(
            abs(base, marker_pos + 10),
            1,
            format!("FPT header length 0x{header_length:x}, expected 0x20"),
        ));
    }

    let entries_pos = marker_pos + HEADER_SIZE;
    let mut r = reader_at(region, base, entries_pos, "FPT entries")?;
    let table_bytes = count * ENTRY_SIZE;
    if r.remaining() < table_bytes {
        return Err(r.error(ErrorKind::Truncated {
            what: "FPT entries",
            needed: table_bytes as u64,
            available: r.remaining() as u64,
        }));
    }
    let mut partitions = Vec::with_capacity(count);
    for index in 0..count {
        let entry_offset = r.offset();
        let name = r.take_array::<4>("FPT entry name")?;
        let owner = r.take_array::<4>("FPT entry owner")?;
        let offset = r.u32_le("FPT entry offset")?;
        let length = r.u32_le("FPT entry length")?;
        let start_tokens = r.u32_le("FPT entry start tokens")?;
        let max_tokens = r.u32_le("FPT entry max tokens")?;
        let scratch_sectors = r.u32_le("FPT entry scratch sectors")?;
        let flags = r.u32_le("FPT entry flags")?;
        let data = slice_at(region, offset as usize, length as usize);
        let valid = flags >> 24 != 0xff;
        partitions.push(Partition {
            index,
            entry_offset,
            name: entry_name(&name),
            owner,
            offset,
            length,
            start_tokens,
            max_tokens,
            scratch_sectors,
            flags,
            valid,
            inside_region: data.is_some(),
            sha256: data.filter(|d| valid && !d.is_empty()).map(sha256),
        });
    }

    let table_end = (entries_pos + table_bytes) as u64;
    check_partitions(&partitions, region.len() as u64, table_end, &mut issues);

    Ok(PartitionTable {
        offset: base,
        marker_offset: abs(base, marker_pos),
        rom_bypass,
        entry_count,
        header_version,
        entry_version,
        header_length,
        checksum,
        ticks_to_add,
        tokens_to_add,
        uma_size,
        flags,
        fitc_version,
        partitions,
        issues,
    })
}

fn entry_name(raw: &[u8; 4]) -> String {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    raw.iter()
        .take(end)
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect()
}

fn check_partitions(parts: &[Partition], region_len: u64, table_end: u64, issues: &mut Vec<Issue>) {
    let live: Vec<&Partition> = parts.iter().filter(|p| p.valid && p.length > 0).collect();
    for (i, a) in live.iter().enumerate() {
        if !a.inside_region {
            issues.push(Issue::new(
                a.entry_offset,
                ENTRY_SIZE as u64,
                format!(
                    "partition {} 0x{:x}+0x{:x} ends past the region (0x{:x} bytes)",
                    a.name, a.offset, a.length, region_len
                ),
            ));
        }
        if u64::from(a.offset) < table_end {
            issues.push(Issue::new(
                a.entry_offset,
                ENTRY_SIZE as u64,
                format!(
                    "partition {} at 0x{:x} overlaps the partition table (ends 0x{:x})",
                    a.name, a.offset, table_end
                ),
            ));
        }
        for b in live.iter().skip(i + 1) {
            if u64::from(a.offset) < b.end() && u64::from(b.offset) < a.end() {
                issues.push(Issue::new(
                    a.entry_offset,
                    ENTRY_SIZE as u64,
                    format!(
                        "partition {} 0x{:x}+0x{:x} overlaps partition {} 0x{:x}+0x{:x}",
                        a.name, a.offset, a.length, b.name, b.offset, b.length
                    ),
                ));
            }
        }
        if live.iter().take(i).any(|p| p.name == a.name) {
            issues.push(Issue::new(
                a.entry_offset,
                ENTRY_SIZE as u64,
                format!("partition name {} appears more than once", a.name),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &[u8; 4], offset: u32, length: u32, flags: u32) -> Vec<u8> {
        let mut e = Vec::new();
        e.extend_from_slice(name);
        e.extend_from_slice(&[0; 4]);
        e.extend_from_slice(&offset.to_le_bytes());
        e.extend_from_slice(&length.to_le_bytes());
        e.extend_from_slice(&[0; 12]);
        e.extend_from_slice(&flags.to_le_bytes());
        e
    }

    /// A 0x4000-byte region with a ROM bypass vector and the given entries.
    fn sample(entries: &[Vec<u8>]) -> Vec<u8> {
        let mut r = vec![0u8; 16];
        r.extend_from_slice(b"$FPT");
        r.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        r.extend_from_slice(&[0x20, 0x10, 0x20, 0]);
        r.extend_from_slice(&[0xff; 4]);
        r.extend_from_slice(&[0; 16]);
        let sum = r[16..48].iter().fold(0u8, |a, b| a.wrapping_add(*b));
        r[16 + 11] = sum.wrapping_neg();
        for e in entries {
            r.extend_from_slice(e);
        }
        r.resize(0x4000, 0xff);
        r
    }

    #[test]
    fn lists_partitions_and_checks_the_sum() {
        let region = sample(&[
            entry(b"FTPR", 0x1000, 0x2000, 0),
            entry(b"MFS\0", 0x3000, 0x1000, 1),
            entry(b"FTUP", 0, 0, 0xff00_0000),
        ]);
        let t = parse(&region).unwrap();
        assert_eq!(find(&region), Some(0));
        assert_eq!(t.marker_offset, 0x10);
        assert_eq!(
            t.checksum,
            HeaderChecksum::Sum8 {
                stored: region[27],
                valid: true
            }
        );
        assert_eq!(t.partitions.len(), 3);
        let mfs = t.partition("MFS").unwrap();
        assert_eq!(
            (mfs.offset, mfs.length, mfs.kind_name()),
            (0x3000, 0x1000, "data")
        );
        assert_eq!(mfs.sha256, Some(sha256(&region[0x3000..0x4000])));
        assert!(!t.partitions[2].valid);
        assert!(t.issues.is_empty(), "{:?}", t.issues);
    }

    #[test]
    fn reports_overlaps_outside_and_bad_sum() {
        let mut region = sample(&[
            entry(b"FTPR", 0x1000, 0x2000, 0),
            entry(b"DLMP", 0x2000, 0x1000, 0),
            entry(b"BIG\0", 0x3000, 0x10_0000, 0),
            entry(b"LOW\0", 0x20, 0x10, 1),
        ]);
        region[0x20] ^= 1;
        let t = parse(&region).unwrap();
        let text: Vec<String> = t.issues.iter().map(|i| i.to_string()).collect();
        assert!(text.iter().any(|t| t.contains("checksum")), "{text:?}");
        assert!(text
            .iter()
            .any(|t| t.contains("FTPR") && t.contains("overlaps partition DLMP")));
        assert!(text
            .iter()
            .any(|t| t.contains("BIG") && t.contains("past the region")));
        assert!(text
            .iter()
            .any(|t| t.contains("LOW") && t.contains("partition table")));
        assert!(!t.partitions[2].inside_region && t.partitions[2].sha256.is_none());
    }

    #[test]
    fn hostile_counts_and_truncations() {
        let mut region = sample(&[entry(b"FTPR", 0x1000, 0x2000, 0)]);
        region[0x14..0x18].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
        let e = parse(&region).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::TooLarge { .. }), "{e}");
        region[0x14..0x18].copy_from_slice(&200u32.to_le_bytes());
        let e = parse(&region[..0x200]).unwrap_err();
        assert_eq!(e.offset, 0x30);
        let good = sample(&[entry(b"FTPR", 0x1000, 0x2000, 0)]);
        for len in 0..0x50 {
            let e = parse(&good[..len]).unwrap_err();
            assert!(e.offset <= len as u64, "{e} at {len}");
        }
        for len in 0x50..0x3100 {
            let t = parse(&good[..len]).unwrap();
            assert_eq!(t.partitions[0].inside_region, len >= 0x3000);
        }
        assert!(parse(b"garbage garbage garbage garbage garbage").is_err());
    }
}
