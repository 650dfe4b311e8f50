//! Confidential-computing event logs (Intel TDX): the ACPI `CCEL` table that tells a guest
//! where its firmware left the CC event log (ACPI 6.5, 5.2.34 "CC Event Log ACPI Table"), and
//! the replay of that log into RTMR values.
//!
//! The log itself is a crypto-agile TCG log (a Spec ID Event03 header, then `TCG_PCR_EVENT2`
//! records with SHA-384 digests) whose index field names a CC measurement register instead of
//! a PCR (UEFI 2.10, 38.4 `EFI_CC_MEASUREMENT_PROTOCOL`; for TDX: 0 is MRTD, 1 to 4 are RTMR0
//! to RTMR3). [`crate::parse`] reads it and tags it [`LogFormat::Ccel`](crate::LogFormat::Ccel);
//! [`replay_rtmrs`] turns it into the RTMR values a TDX quote reports.

use crate::alg::AlgId;
use crate::event_log::EventLog;
use crate::event_type::EventType;
use crate::replay::ReplayIssue;
use std::fmt;
use tamperscan_bytes::{Error, Reader};

/// The table's signature.
pub const CCEL_SIGNATURE: &[u8; 4] = b"CCEL";
/// The length of a revision 1 table: the 36-byte ACPI header and 20 bytes of its own.
pub const CCEL_TABLE_LEN: usize = 56;
/// How many RTMRs a TD has.
pub const RTMR_COUNT: u32 = 4;
/// The size of an RTMR (SHA-384).
pub const RTMR_SIZE: usize = 48;

/// `CC Type` of the table: an open set.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CcType(pub u8);

impl CcType {
    /// AMD SEV.
    pub const SEV: CcType = CcType(1);
    /// Intel TDX.
    pub const TDX: CcType = CcType(2);

    /// The technology's name, or `cc_type_0x..`.
    pub fn name(self) -> String {
        match self {
            CcType::SEV => "SEV".into(),
            CcType::TDX => "TDX".into(),
            CcType(other) => format!("cc_type_0x{other:02x}"),
        }
    }
}

impl fmt::Debug for CcType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// The ACPI `CCEL` table, as read from `/sys/firmware/acpi/tables/CCEL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CcelTable {
    /// `Revision`.
    pub revision: u8,
    /// `OEMID`.
    pub oem_id: [u8; 6],
    /// `OEM Table ID`.
    pub oem_table_id: [u8; 8],
    /// `OEM Revision`.
    pub oem_revision: u32,
    /// `Creator ID`.
    pub creator_id: [u8; 4],
    /// `Creator Revision`.
    pub creator_revision: u32,
    /// `CC Type`.
    pub cc_type: CcType,
    /// `CC Subtype`.
    pub cc_subtype: u8,
    /// `Log Area Minimum Length` (LAML): the size of the log area.
    pub log_area_minimum_length: u64,
    /// `Log Area Start Address` (LASA): the log area's guest-physical address.
    pub log_area_start_address: u64,
}

impl CcelTable {
    /// Whether a log of `len` bytes fits the log area the table declares (the sysfs export
    /// of the log is the whole area, padding included, so it is exactly LAML long).
    pub fn fits(&self, len: u64) -> bool {
        len <= self.log_area_minimum_length
    }
}

/// Parses the `CCEL` table: signature, `Length` equal to the input, the checksum (every byte
/// of the table sums to zero), and the CC fields. A later revision's extra bytes (inside
/// `Length`) are allowed and ignored.
pub fn parse_ccel_table(bytes: &[u8]) -> Result<CcelTable, Error> {
    let mut r = Reader::new(bytes);
    r.expect(CCEL_SIGNATURE, "CCEL table")?;
    let length = r.u32_le("CCEL Length")?;
    let length_offset = 4;
    if u64::from(length) < CCEL_TABLE_LEN as u64 {
        return Err(Error::invalid(
            length_offset,
            "CCEL Length",
            format!("{length} bytes is shorter than the {CCEL_TABLE_LEN} bytes of the table"),
        ));
    }
    if u64::from(length) != bytes.len() as u64 {
        return Err(Error::invalid(
            length_offset,
            "CCEL Length",
            format!(
                "the table says {length} bytes but {} were given (truncated, or not one table)",
                bytes.len()
            ),
        ));
    }
    let revision = r.u8("CCEL Revision")?;
    let _checksum = r.u8("CCEL Checksum")?;
    let oem_id = r.take_array::<6>("CCEL OEMID")?;
    let oem_table_id = r.take_array::<8>("CCEL OEM Table ID")?;
    let oem_revision = r.u32_le("CCEL OEM Revision")?;
    let creator_id = r.take_array::<4>("CCEL Creator ID")?;
    let creator_revision = r.u32_le("CCEL Creator Revision")?;
    let cc_type = CcType(r.u8("CC Type")?);
    let cc_subtype = r.u8("CC Subtype")?;
    let _reserved = r.u16_le("CCEL Reserved")?;
    let log_area_minimum_length = r.u64_le("Log Area Minimum Length")?;
    let log_area_start_address = r.u64_le("Log Area Start Address")?;
    let sum = bytes.iter().fold(0u8, |acc, b| acc.wrapping_add(*b));
    if sum != 0 {
        return Err(Error::invalid(
            9,
            "CCEL Checksum",
            format!("the table's bytes sum to 0x{sum:02x}, not 0: it was altered or truncated"),
        ));
    }
    Ok(CcelTable {
        revision,
        oem_id,
        oem_table_id,
        oem_revision,
        creator_id,
        creator_revision,
        cc_type,
        cc_subtype,
        log_area_minimum_length,
        log_area_start_address,
    })
}

/// The register a CC event log index names: `MRTD` (0) or `RTMR0`..`RTMR3` (1 to 4).
pub fn mr_name(index: u32) -> Option<&'static str> {
    match index {
        0 => Some("MRTD"),
        1 => Some("RTMR0"),
        2 => Some("RTMR1"),
        3 => Some("RTMR2"),
        4 => Some("RTMR3"),
        _ => None,
    }
}

/// True when a crypto-agile log reads as a CC event log: SHA-384 is its only bank and every
/// measured event names a CC measurement register (1 to 4), never a PCR beyond them. TPM logs
/// carry SHA-1 or SHA-256 and measure PCR 7 (Secure Boot) and the separators of PCRs 5-7.
pub(crate) fn looks_like_cc_log(log: &EventLog<'_>) -> bool {
    let Some(spec) = &log.spec_id else {
        return false;
    };
    let sha384_only = matches!(spec.algorithms.as_slice(), [a] if a.alg == AlgId::SHA384);
    let mut measured = log
        .events
        .iter()
        .skip(1)
        .filter(|e| e.event_type != EventType::EV_NO_ACTION)
        .peekable();
    sha384_only && measured.peek().is_some() && measured.all(|e| (1..=4).contains(&e.pcr))
}

/// Replayed RTMRs: index 0 to 3, each 48 bytes. Every RTMR is present: an RTMR the log never
/// extends keeps its all-zero start value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtmrs(pub [[u8; RTMR_SIZE]; RTMR_COUNT as usize]);

/// Replays a CC event log into RTMR0..RTMR3: each starts at zero and is extended with
/// SHA-384 (`RTMR = SHA384(RTMR || digest)`) by every event of index 1 to 4 that is not
/// EV_NO_ACTION. MRTD (index 0) is measured by the TDX module when the TD is built, never
/// extended from the log: such an event is an issue, as is any index beyond 4 or an event
/// without a SHA-384 digest.
pub fn replay_rtmrs(log: &EventLog<'_>) -> (Rtmrs, Vec<ReplayIssue>) {
    let mut rtmrs = [[0u8; RTMR_SIZE]; RTMR_COUNT as usize];
    let mut issues = Vec::new();
    let skip_header = usize::from(log.spec_id.is_some());
    for event in log.events.iter().skip(skip_header) {
        if event.event_type == EventType::EV_NO_ACTION {
            continue;
        }
        let slot = event
            .pcr
            .checked_sub(1)
            .filter(|i| *i < RTMR_COUNT)
            .and_then(|i| rtmrs.get_mut(i as usize));
        let Some(rtmr) = slot else {
            issues.push(ReplayIssue::PcrOutOfRange {
                event: event.index,
                pcr: event.pcr,
            });
            continue;
        };
        let Some(digest) = event.digest(AlgId::SHA384) else {
            issues.push(ReplayIssue::MissingDigest {
                event: event.index,
                alg: AlgId::SHA384,
            });
            continue;
        };
        if let Some(next) = AlgId::SHA384.hash(&[rtmr.as_slice(), digest]) {
            if let Ok(next) = <[u8; RTMR_SIZE]>::try_from(next.as_slice()) {
                *rtmr = next;
            }
        }
    }
    (Rtmrs(rtmrs), issues)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event_log::{parse, LogFormat};
    use crate::writer::LogWriter;

    /// A revision 1 TDX table with a correct checksum.
    pub(crate) fn table(laml: u64, lasa: u64) -> Vec<u8> {
        let mut t = CCEL_SIGNATURE.to_vec();
        t.extend_from_slice(&(CCEL_TABLE_LEN as u32).to_le_bytes());
        t.push(1); // Revision
        t.push(0); // Checksum, fixed below
        t.extend_from_slice(b"INTEL ");
        t.extend_from_slice(b"EDK2    ");
        t.extend_from_slice(&2u32.to_le_bytes());
        t.extend_from_slice(b"    ");
        t.extend_from_slice(&0x0100_0013u32.to_le_bytes());
        t.push(2); // CC Type: TDX
        t.push(0); // CC Subtype
        t.extend_from_slice(&[0, 0]);
        t.extend_from_slice(&laml.to_le_bytes());
        t.extend_from_slice(&lasa.to_le_bytes());
        let sum = t.iter().fold(0u8, |a, b| a.wrapping_add(*b));
        t[9] = 0u8.wrapping_sub(sum);
        t
    }

    #[test]
    fn a_tdx_table_is_read() {
        let t = parse_ccel_table(&table(0x10000, 0x7f00_0000)).unwrap();
        assert_eq!(t.cc_type, CcType::TDX);
        assert_eq!(t.log_area_minimum_length, 0x10000);
        assert_eq!(t.log_area_start_address, 0x7f00_0000);
        assert_eq!(&t.oem_id, b"INTEL ");
        assert!(t.fits(0x10000) && !t.fits(0x10001));
    }

    #[test]
    fn broken_tables_are_refused_with_the_offset() {
        let good = table(0x10000, 0x1000);
        for cut in 0..good.len() {
            assert!(parse_ccel_table(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad_sum = good.clone();
        bad_sum[50] ^= 1;
        let e = parse_ccel_table(&bad_sum).unwrap_err();
        assert_eq!(e.offset, 9);
        assert!(e.to_string().contains("sum to"), "{e}");
        let mut long = good.clone();
        long.push(0);
        assert_eq!(parse_ccel_table(&long).unwrap_err().offset, 4);
        let mut not = good;
        not[0] = b'T';
        assert_eq!(parse_ccel_table(&not).unwrap_err().offset, 0);
    }

    #[test]
    fn a_cc_log_replays_into_rtmrs() {
        let log = LogWriter::cc_sha384()
            .cc_event(1, EventType::EV_EFI_HANDOFF_TABLES2, b"table")
            .cc_event(2, EventType::EV_SEPARATOR, &[0; 4])
            .cc_event(1, EventType::EV_PLATFORM_CONFIG_FLAGS, b"ACPI DATA")
            .bytes;
        let mut padded = log.clone();
        padded.extend_from_slice(&[0xff; 64]);
        let parsed = parse(&padded).unwrap();
        assert_eq!(parsed.format, LogFormat::Ccel);
        let (rtmrs, issues) = replay_rtmrs(&parsed);
        assert!(issues.is_empty(), "{issues:?}");
        let ext = |acc: Vec<u8>, data: &[u8]| {
            let d = AlgId::SHA384.hash(&[data]).unwrap();
            AlgId::SHA384.hash(&[&acc, &d]).unwrap()
        };
        let rtmr0 = ext(ext(vec![0; 48], b"table"), b"ACPI DATA");
        assert_eq!(rtmrs.0[0].to_vec(), rtmr0);
        assert_eq!(rtmrs.0[1].to_vec(), ext(vec![0; 48], &[0; 4]));
        assert_eq!(rtmrs.0[2], [0; 48]);
        // The same events in a TPM log's banks are no CC log.
        let tpm = LogWriter::agile()
            .event(1, EventType::EV_SEPARATOR, &[0; 4])
            .bytes;
        assert_eq!(parse(&tpm).unwrap().format, LogFormat::CryptoAgile);
    }

    #[test]
    fn mrtd_and_out_of_range_events_are_issues() {
        let log = LogWriter::cc_sha384()
            .cc_event(0, EventType::EV_EVENT_TAG, b"mrtd")
            .cc_event(5, EventType::EV_EVENT_TAG, b"beyond")
            .bytes;
        let parsed = parse(&log).unwrap();
        // Index 0 is no RTMR: this log is read as a plain crypto-agile one, but replays the same.
        let (rtmrs, issues) = replay_rtmrs(&parsed);
        assert_eq!(rtmrs.0, [[0; 48]; 4]);
        assert_eq!(issues.len(), 2);
        assert_eq!(mr_name(0), Some("MRTD"));
        assert_eq!(mr_name(4), Some("RTMR3"));
        assert_eq!(mr_name(5), None);
    }
}
