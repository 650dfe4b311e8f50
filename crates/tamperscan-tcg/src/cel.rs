//! The Canonical Event Log in its TLV encoding (TCG CEL 1.0, section 5): records of
//! type-length-value fields, `type` one byte, `length` four bytes big-endian. A record is a
//! record number, a PCR or NV index, the digests (nested TLVs whose type is the hash
//! algorithm's `TPM_ALG_ID`), and one content field: CEL management (not extended, like
//! EV_NO_ACTION), a PC Client event (its event type and data), or an IMA template / TLV event.
//!
//! Records become [`Event`]s so replay, digest checks and decoding work on them unchanged.

use crate::alg::AlgId;
use crate::event_log::{Event, EventLog, LogFormat, MAX_EVENTS, MAX_EVENT_SIZE};
use crate::event_type::EventType;
use tamperscan_bytes::{Error, Reader};

const RECNUM: u8 = 0;
const PCR: u8 = 1;
const NV_INDEX: u8 = 2;
const DIGESTS: u8 = 3;
const CONTENT_CEL_MGT: u8 = 4;
const CONTENT_PCCLIENT_STD: u8 = 5;
const CONTENT_IMA_TEMPLATE: u8 = 7;
const CONTENT_IMA_TLV: u8 = 8;

/// The event type given to IMA template records (they have no TCG event type).
pub const CEL_IMA_TEMPLATE: EventType = EventType(0xce1f_0007);
/// The event type given to IMA TLV records.
pub const CEL_IMA_TLV: EventType = EventType(0xce1f_0008);

struct Tlv<'a> {
    ty: u8,
    value: Reader<'a>,
}

fn tlv<'a>(r: &mut Reader<'a>, what: &'static str) -> Result<Tlv<'a>, Error> {
    let ty = r.u8(what)?;
    let len = r.u32_be(what)?;
    let len = r.bounded(u64::from(len), MAX_EVENT_SIZE, what)?;
    Ok(Tlv {
        ty,
        value: r.sub(len, what)?,
    })
}

/// A big-endian unsigned integer of 1 to 8 bytes (CEL writers differ in width).
fn uint(v: &Reader<'_>, what: &'static str) -> Result<u64, Error> {
    let bytes = v.rest();
    if bytes.is_empty() || bytes.len() > 8 {
        return Err(v.invalid(
            what,
            format!("{} bytes is not an integer of 1 to 8 bytes", bytes.len()),
        ));
    }
    Ok(bytes.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b)))
}

/// True when the input starts with a well-formed CEL-TLV record numbered 0.
pub(crate) fn looks_like_cel(bytes: &[u8]) -> bool {
    let mut r = Reader::new(bytes);
    matches!(record(&mut r, 0), Ok((0, _)))
}

/// Parses a whole CEL-TLV log.
pub(crate) fn parse_cel(bytes: &[u8]) -> Result<EventLog<'_>, Error> {
    let mut r = Reader::new(bytes);
    let mut events = Vec::new();
    while !r.is_empty() {
        if events.len() >= MAX_EVENTS {
            return Err(r.invalid("CEL", format!("more than {MAX_EVENTS} records")));
        }
        let (_recnum, event) = record(&mut r, events.len())?;
        events.push(event);
    }
    Ok(EventLog {
        format: LogFormat::CelTlv,
        spec_id: None,
        events,
        trailing: None,
    })
}

fn record<'a>(r: &mut Reader<'a>, index: usize) -> Result<(u64, Event<'a>), Error> {
    let offset = r.offset();
    let first = tlv(r, "CEL recnum")?;
    if first.ty != RECNUM {
        return Err(Error::invalid(
            offset,
            "CEL record",
            format!("starts with field type {}, not recnum (0)", first.ty),
        ));
    }
    let recnum = uint(&first.value, "recnum")?;
    let handle = tlv(r, "CEL handle")?;
    let pcr = match handle.ty {
        PCR => u32::try_from(uint(&handle.value, "pcr")?)
            .map_err(|_| handle.value.invalid("pcr", "larger than 32 bits"))?,
        // NV index records extend no PCR: kept, never replayed.
        NV_INDEX => u32::MAX,
        other => {
            return Err(handle.value.invalid(
                "CEL record",
                format!("field type {other} where a PCR (1) or NV index (2) belongs"),
            ))
        }
    };
    let digests_tlv = tlv(r, "CEL digests")?;
    if digests_tlv.ty != DIGESTS {
        return Err(digests_tlv.value.invalid(
            "CEL record",
            format!("field type {} where digests (3) belong", digests_tlv.ty),
        ));
    }
    let mut d = digests_tlv.value;
    let mut digests = Vec::new();
    while !d.is_empty() {
        let entry = tlv(&mut d, "CEL digest")?;
        let alg = AlgId(u16::from(entry.ty));
        if let Some(size) = alg.digest_size() {
            if entry.value.remaining() != size {
                return Err(entry.value.invalid(
                    "CEL digest",
                    format!(
                        "{alg} digest of {} bytes, not {size}",
                        entry.value.remaining()
                    ),
                ));
            }
        }
        digests.push((alg, entry.value.rest()));
        if digests.len() > 32 {
            return Err(d.invalid("CEL digests", "more than 32"));
        }
    }
    let content = tlv(r, "CEL content")?;
    let data_offset = content.value.offset();
    let (event_type, data, data_offset) = match content.ty {
        CONTENT_CEL_MGT => (EventType::EV_NO_ACTION, content.value.rest(), data_offset),
        CONTENT_PCCLIENT_STD => {
            let mut c = content.value;
            let ty = tlv(&mut c, "PC Client event_type")?;
            let ty = u32::try_from(uint(&ty.value, "event_type")?)
                .map_err(|_| c.invalid("event_type", "larger than 32 bits"))?;
            let data = tlv(&mut c, "PC Client event_data")?;
            c.finish("PC Client content")?;
            (EventType(ty), data.value.rest(), data.value.offset())
        }
        CONTENT_IMA_TEMPLATE => (CEL_IMA_TEMPLATE, content.value.rest(), data_offset),
        CONTENT_IMA_TLV => (CEL_IMA_TLV, content.value.rest(), data_offset),
        other => {
            return Err(content.value.invalid(
                "CEL content",
                format!("content type {other} is not 4, 5, 7 or 8"),
            ))
        }
    };
    Ok((
        recnum,
        Event {
            index,
            offset,
            pcr,
            event_type,
            digests,
            data,
            data_offset,
        },
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::event_log::parse;
    use crate::replay::replay;

    fn tlv_bytes(ty: u8, value: &[u8]) -> Vec<u8> {
        let mut v = vec![ty];
        v.extend_from_slice(&(value.len() as u32).to_be_bytes());
        v.extend_from_slice(value);
        v
    }

    /// A CEL-TLV record of a PC Client event with a sha256 digest of its data.
    pub(crate) fn pcclient_record(recnum: u64, pcr: u8, ty: EventType, data: &[u8]) -> Vec<u8> {
        let digest = AlgId::SHA256.hash(&[data]).unwrap();
        let mut rec = tlv_bytes(RECNUM, &recnum.to_be_bytes());
        rec.extend(tlv_bytes(PCR, &[pcr]));
        rec.extend(tlv_bytes(DIGESTS, &tlv_bytes(0x0b, &digest)));
        let mut content = tlv_bytes(0, &ty.0.to_be_bytes());
        content.extend(tlv_bytes(1, data));
        rec.extend(tlv_bytes(CONTENT_PCCLIENT_STD, &content));
        rec
    }

    #[test]
    fn cel_tlv_log_parses_and_replays() {
        let mut log = pcclient_record(0, 0, EventType::EV_S_CRTM_VERSION, b"v1");
        log.extend(pcclient_record(1, 7, EventType::EV_SEPARATOR, &[0; 4]));
        let parsed = parse(&log).unwrap();
        assert_eq!(parsed.format, LogFormat::CelTlv);
        assert_eq!(parsed.events.len(), 2);
        assert_eq!(parsed.events[1].event_type, EventType::EV_SEPARATOR);
        assert_eq!(parsed.events[1].data, &[0; 4]);
        assert_eq!(parsed.banks(), vec![AlgId::SHA256]);
        let (pcrs, issues) = replay(&parsed);
        assert!(issues.is_empty());
        let expected = AlgId::SHA256
            .hash(&[&[0u8; 32], &AlgId::SHA256.hash(&[&[0u8; 4]]).unwrap()])
            .unwrap();
        assert_eq!(pcrs.banks[&AlgId::SHA256][&7], expected);
        assert!(crate::check_digests(&parsed).is_empty());
    }

    #[test]
    fn broken_cel_records_are_located() {
        let mut log = pcclient_record(0, 0, EventType::EV_S_CRTM_VERSION, b"v1");
        let second = pcclient_record(1, 7, EventType::EV_SEPARATOR, &[0; 4]);
        let start = log.len();
        log.extend_from_slice(&second[..second.len() - 3]);
        let err = parse(&log).unwrap_err();
        assert!(err.offset > start as u64, "{err}");
        let mut wrong = pcclient_record(0, 0, EventType::EV_S_CRTM_VERSION, b"v1");
        let at = wrong.len() - 2 - 5 - 4 - 5 - 5; // the content type byte
        wrong[at] = 9;
        assert!(parse(&wrong).is_err());
    }
}
