//! The event log container: `TCG_PCR_EVENT` (legacy SHA1, PC Client PFP 10.2.1) and
//! `TCG_PCR_EVENT2` (crypto-agile, 10.2.2) after a Spec ID Event03 header.

use crate::alg::AlgId;
use crate::event_type::EventType;
use crate::spec_id_event::{SpecIdEvent, SPEC_ID_EVENT03};
use tamperscan_bytes::{Error, Reader};

/// The most events a log may hold (real logs hold tens to a few thousand).
pub const MAX_EVENTS: usize = 1_000_000;
/// The largest event data accepted (real events are at most a few hundred KiB: db/dbx).
pub const MAX_EVENT_SIZE: u64 = 16 * 1024 * 1024;
/// The most digests one `TPML_DIGEST_VALUES` may hold.
const MAX_DIGESTS: u64 = 32;

/// Which container format the log uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `TCG_PCR_EVENT` records with one SHA1 digest each.
    Sha1,
    /// A Spec ID Event03 header, then `TCG_PCR_EVENT2` records with one digest per bank.
    CryptoAgile,
    /// The Canonical Event Log in its TLV encoding.
    CelTlv,
    /// The Canonical Event Log in its JSON encoding (read by [`crate::decode`]).
    CelJson,
    /// A confidential-computing event log (TDX CCEL): crypto-agile records with SHA-384
    /// digests whose index is a CC measurement register (1 to 4 = RTMR0..RTMR3), see
    /// [`crate::ccel`].
    Ccel,
}

impl LogFormat {
    /// The name used in reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            LogFormat::Sha1 => "sha1",
            LogFormat::CryptoAgile => "crypto-agile",
            LogFormat::CelTlv => "cel-tlv",
            LogFormat::CelJson => "cel-json",
            LogFormat::Ccel => "ccel",
        }
    }
}

/// Bytes after the last event that are not events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailing {
    /// Where they start.
    pub offset: u64,
    /// How many.
    pub len: u64,
    /// The padding byte when they are all one value (0x00 or 0xFF: firmware reserves a
    /// fixed-size log area); `None` for a tail too short to hold an event header.
    pub byte: Option<u8>,
}

/// One event of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    /// Position in the log, the header event being 0 in a crypto-agile log.
    pub index: usize,
    /// Offset of the event's first byte in the log.
    pub offset: u64,
    /// `pcrIndex` (Windows logs use 0xFFFFFFFF for events that belong to no PCR).
    pub pcr: u32,
    /// `eventType`.
    pub event_type: EventType,
    /// The digests, in log order.
    pub digests: Vec<(AlgId, &'a [u8])>,
    /// The event data.
    pub data: &'a [u8],
    /// Offset of the event data in the log.
    pub data_offset: u64,
}

impl<'a> Event<'a> {
    /// The digest of `alg`, if the event has one.
    pub fn digest(&self, alg: AlgId) -> Option<&'a [u8]> {
        self.digests
            .iter()
            .find(|(a, _)| *a == alg)
            .map(|(_, d)| *d)
    }
}

/// A parsed event log, borrowing from its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLog<'a> {
    /// The container format.
    pub format: LogFormat,
    /// The crypto-agile header, decoded.
    pub spec_id: Option<SpecIdEvent<'a>>,
    /// Every event, the header event included.
    pub events: Vec<Event<'a>>,
    /// Padding after the last event.
    pub trailing: Option<Trailing>,
}

impl EventLog<'_> {
    /// The banks this log carries (SHA1 alone for a legacy log).
    pub fn banks(&self) -> Vec<AlgId> {
        match (&self.spec_id, self.format) {
            (Some(spec), _) => spec.algorithms.iter().map(|a| a.alg).collect(),
            (None, LogFormat::CelTlv | LogFormat::CelJson) => {
                let mut banks: Vec<AlgId> = Vec::new();
                for (alg, _) in self.events.iter().flat_map(|e| e.digests.iter()) {
                    if !banks.contains(alg) {
                        banks.push(*alg);
                    }
                }
                banks
            }
            (None, _) => vec![AlgId::SHA1],
        }
    }
}

/// Parses a TCG event log (as read from `/sys/kernel/security/tpm0/binary_bios_measurements`,
/// `tpm2_eventlog` input, or a firmware's log area), or a Canonical Event Log in TLV encoding.
pub fn parse(bytes: &[u8]) -> Result<EventLog<'_>, Error> {
    let mut r = Reader::new(bytes);
    if r.is_empty() {
        return Err(r.invalid("event log", "the file is empty"));
    }
    if let Some(Trailing {
        byte: Some(byte), ..
    }) = padding(&r, 0)
    {
        return Err(r.invalid(
            "event log",
            format!("the whole file is 0x{byte:02x} padding"),
        ));
    }
    if crate::cel::looks_like_cel(bytes) {
        return crate::cel::parse_cel(bytes);
    }
    if crate::cel_json::looks_like_cel_json(bytes) {
        return Err(r.invalid(
            "event log",
            "this is JSON text (a CEL-JSON log?); read it with tamperscan_tcg::decode",
        ));
    }
    let first_pcr = r.clone().u32_le("pcrIndex")?;
    if first_pcr >= 24 && first_pcr != u32::MAX {
        return Err(r.invalid(
            "first event",
            format!(
                "pcrIndex {first_pcr} (0x{first_pcr:08x}) is no PCR: this is not a TCG event log"
            ),
        ));
    }
    let first = legacy_event(&mut r, 0)?;
    let crypto_agile = first.event_type == EventType::EV_NO_ACTION
        && first.pcr == 0
        && first.data.starts_with(SPEC_ID_EVENT03);
    let mut log = EventLog {
        format: if crypto_agile {
            LogFormat::CryptoAgile
        } else {
            LogFormat::Sha1
        },
        spec_id: None,
        // Sized from the input (real events average a few hundred bytes) so that a fleet's
        // logs do not each grow their event list by repeated copying.
        events: Vec::with_capacity((bytes.len() / 256).clamp(16, 4096)),
        trailing: None,
    };
    if crypto_agile {
        log.spec_id = Some(SpecIdEvent::parse(Reader::with_base(
            first.data,
            first.data_offset,
        ))?);
    }
    log.events.push(first);
    // The smallest event header: TCG_PCR_EVENT is 32 bytes, TCG_PCR_EVENT2 at least 16.
    let min_event = if crypto_agile { 16 } else { 32 };
    while !r.is_empty() {
        if let Some(trailing) = padding(&r, min_event) {
            log.trailing = Some(trailing);
            break;
        }
        let index = log.events.len();
        if index >= MAX_EVENTS {
            return Err(r.invalid("event log", format!("more than {MAX_EVENTS} events")));
        }
        let event = match &log.spec_id {
            Some(spec) => agile_event(&mut r, index, spec)?,
            None => legacy_event(&mut r, index)?,
        };
        log.events.push(event);
    }
    if crypto_agile && crate::ccel::looks_like_cc_log(&log) {
        log.format = LogFormat::Ccel;
    }
    Ok(log)
}

/// The rest of the input, when it is all 0x00 or all 0xFF, or shorter than `min_event` bytes.
fn padding(r: &Reader<'_>, min_event: usize) -> Option<Trailing> {
    let rest = r.rest();
    let byte = *rest.first()?;
    let len = rest.len() as u64;
    if (byte == 0x00 || byte == 0xff) && rest.iter().all(|&b| b == byte) {
        Some(Trailing {
            offset: r.offset(),
            len,
            byte: Some(byte),
        })
    } else if rest.len() < min_event {
        Some(Trailing {
            offset: r.offset(),
            len,
            byte: None,
        })
    } else {
        None
    }
}

/// `TCG_PCR_EVENT`: pcrIndex, eventType, SHA1 digest, eventSize, event.
fn legacy_event<'a>(r: &mut Reader<'a>, index: usize) -> Result<Event<'a>, Error> {
    let offset = r.offset();
    let pcr = r.u32_le("pcrIndex")?;
    let event_type = EventType(r.u32_le("eventType")?);
    let digest = r.take(20, "SHA1 digest")?;
    let data_offset = r.offset() + 4;
    let data = r.sub_u32_le(MAX_EVENT_SIZE, "eventSize")?.rest();
    Ok(Event {
        index,
        offset,
        pcr,
        event_type,
        digests: vec![(AlgId::SHA1, digest)],
        data,
        data_offset,
    })
}

/// `TCG_PCR_EVENT2`: pcrIndex, eventType, `TPML_DIGEST_VALUES`, eventSize, event.
fn agile_event<'a>(
    r: &mut Reader<'a>,
    index: usize,
    spec: &SpecIdEvent<'_>,
) -> Result<Event<'a>, Error> {
    let offset = r.offset();
    let pcr = r.u32_le("pcrIndex")?;
    let event_type = EventType(r.u32_le("eventType")?);
    let count = r.u32_le("digests.count")?;
    let count = r.bounded(u64::from(count), MAX_DIGESTS, "digests.count")?;
    let mut digests = Vec::with_capacity(count);
    for _ in 0..count {
        let alg = AlgId(r.u16_le("hashAlg")?);
        let Some(size) = spec.size_of(alg) else {
            return Err(r.invalid(
                "hashAlg",
                format!("{alg} is not one of the banks the Spec ID event declares, so its digest size is unknown"),
            ));
        };
        digests.push((alg, r.take(size, "digest")?));
    }
    let data_offset = r.offset() + 4;
    let data = r.sub_u32_le(MAX_EVENT_SIZE, "eventSize")?.rest();
    Ok(Event {
        index,
        offset,
        pcr,
        event_type,
        digests,
        data,
        data_offset,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::writer::LogWriter as LogBuilder;

    #[test]
    fn crypto_agile_log_with_padding() {
        let mut b = LogBuilder::agile()
            .event(0, EventType::EV_S_CRTM_VERSION, b"1.0")
            .event(7, EventType::EV_SEPARATOR, &[0, 0, 0, 0])
            .bytes;
        let end = b.len() as u64;
        b.extend_from_slice(&[0xff; 100]);
        let log = parse(&b).unwrap();
        assert_eq!(log.format, LogFormat::CryptoAgile);
        assert_eq!(log.banks(), vec![AlgId::SHA1, AlgId::SHA256]);
        assert_eq!(log.events.len(), 3);
        assert_eq!(log.events[2].pcr, 7);
        assert_eq!(log.events[2].data, &[0, 0, 0, 0]);
        assert_eq!(
            log.trailing,
            Some(Trailing {
                offset: end,
                len: 100,
                byte: Some(0xff)
            })
        );
    }

    #[test]
    fn truncation_anywhere_is_an_error_with_offset_never_a_panic() {
        let b = LogBuilder::agile()
            .event(0, EventType::EV_S_CRTM_VERSION, b"1.0")
            .bytes;
        for cut in 1..b.len() {
            match parse(&b[..cut]) {
                Ok(log) => assert!(log.events.len() <= 2),
                Err(e) => assert!(e.offset <= cut as u64, "cut {cut}: {e}"),
            }
        }
    }

    #[test]
    fn undeclared_bank_and_huge_sizes_are_refused() {
        let mut b = LogBuilder::agile().bytes;
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&0x000cu16.to_le_bytes()); // sha384, not declared
        b.extend_from_slice(&[0; 48]);
        let err = parse(&b).unwrap_err();
        assert!(
            err.to_string().contains("sha384 is not one of the banks"),
            "{err}"
        );

        let mut b = LogBuilder::agile().bytes;
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&0xffff_ffffu32.to_le_bytes());
        b.extend_from_slice(&[0; 8]);
        let err = parse(&b).unwrap_err();
        assert!(
            err.to_string().contains("digests.count is 4294967295"),
            "{err}"
        );
    }

    #[test]
    fn a_short_tail_is_kept_as_trailing_data() {
        let mut b = LogBuilder::agile().bytes;
        let end = b.len() as u64;
        b.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        let log = parse(&b).unwrap();
        assert_eq!(
            log.trailing,
            Some(Trailing {
                offset: end,
                len: 4,
                byte: None
            })
        );
    }

    #[test]
    fn empty_and_all_padding_files_are_errors() {
        assert!(parse(&[]).unwrap_err().to_string().contains("empty"));
        assert!(parse(&[0xff; 64])
            .unwrap_err()
            .to_string()
            .contains("padding"));
    }

    #[test]
    fn legacy_sha1_log() {
        let mut b = Vec::new();
        for (pcr, data) in [(0u32, &b"abc"[..]), (4, &[0u8, 0, 0, 0][..])] {
            b.extend_from_slice(&pcr.to_le_bytes());
            b.extend_from_slice(&EventType::EV_SEPARATOR.0.to_le_bytes());
            b.extend_from_slice(&AlgId::SHA1.hash(&[data]).unwrap());
            b.extend_from_slice(&(data.len() as u32).to_le_bytes());
            b.extend_from_slice(data);
        }
        let log = parse(&b).unwrap();
        assert_eq!(log.format, LogFormat::Sha1);
        assert_eq!(log.events.len(), 2);
        assert_eq!(log.events[1].offset, 35);
        assert_eq!(log.events[1].data_offset, 35 + 32);
    }
}
