//! The Canonical Event Log in its JSON encoding (TCG CEL 1.0, the JSON encoding section): an
//! array of records, each an object with `recnum`, `pcr` or `nv_index`, `digests` (an array of
//! `{"hashAlg": "sha256", "digest": "<hex>"}`; `hashAlg` may also be a `TPM_ALG_ID` as
//! `"0x000B"` or a number), `content_type` and `content`. Content types read:
//! `pcclient_std` (`{"event_type": name or number, "event_data": "<hex>"}`), `cel`
//! (management records: never extended, like EV_NO_ACTION), `ima_template`
//! (`{"template_name", "template_data": "<hex>"}`), `ima_tlv` and `systemd` (what
//! `systemd-pcrlock` writes).
//!
//! The binary values are hex text, so they cannot be borrowed from the input: [`decode`]
//! writes them into a caller's buffer and returns an [`EventLog`] borrowing from both, so
//! replay, digest checks and decoding work on CEL-JSON records unchanged. Keys may come in any
//! order; unknown keys are skipped; nesting is bounded.

use crate::alg::AlgId;
use crate::event_log::{Event, EventLog, LogFormat, MAX_EVENTS};
use crate::event_type::EventType;
use std::ops::Range;
use tamperscan_bytes::{hex, Error};

/// The event type given to `systemd` records (they have no TCG event type).
pub const CEL_SYSTEMD: EventType = EventType(0xce1f_0009);
/// How deep unknown values may nest before the input is refused.
const MAX_DEPTH: usize = 32;
/// The most digests one record may hold.
const MAX_DIGESTS: usize = 32;
/// The most members one object may hold (a record has six; duplicate keys are looked for in
/// the ones already read, so an unbounded object would cost quadratic time).
const MAX_MEMBERS: usize = 64;

/// True when `bytes` is JSON text whose first value is an array (a CEL-JSON log).
pub(crate) fn looks_like_cel_json(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'[')
}

/// Reads any event log tamperscan knows: the binary ones through [`crate::parse`] (borrowed
/// from `bytes`) and CEL-JSON, whose hex values are decoded into `scratch` (cleared first).
pub fn decode<'a>(bytes: &'a [u8], scratch: &'a mut Vec<u8>) -> Result<EventLog<'a>, Error> {
    if !looks_like_cel_json(bytes) {
        return crate::event_log::parse(bytes);
    }
    scratch.clear();
    let records = read_records(bytes, scratch)?;
    let arena: &'a [u8] = scratch;
    let mut events = Vec::with_capacity(records.len());
    for (index, rec) in records.into_iter().enumerate() {
        let digests = rec
            .digests
            .into_iter()
            .map(|(alg, range)| (alg, arena.get(range).unwrap_or_default()))
            .collect();
        let data = match rec.data {
            Data::Decoded(range) => arena.get(range).unwrap_or_default(),
            Data::Raw(range) => bytes.get(range).unwrap_or_default(),
        };
        events.push(Event {
            index,
            offset: rec.offset,
            pcr: rec.pcr,
            event_type: rec.event_type,
            digests,
            data,
            data_offset: rec.data_offset,
        });
    }
    Ok(EventLog {
        format: LogFormat::CelJson,
        spec_id: None,
        events,
        trailing: None,
    })
}

/// Where a record's data lies: decoded into the scratch buffer, or raw JSON in the input.
enum Data {
    Decoded(Range<usize>),
    Raw(Range<usize>),
}

struct Record {
    offset: u64,
    pcr: u32,
    digests: Vec<(AlgId, Range<usize>)>,
    event_type: EventType,
    data: Data,
    data_offset: u64,
}

fn read_records(bytes: &[u8], scratch: &mut Vec<u8>) -> Result<Vec<Record>, Error> {
    let mut j = Json { bytes, pos: 0 };
    j.expect(b'[', "CEL-JSON log (an array of records)")?;
    let mut records = Vec::new();
    if j.peek() == Some(b']') {
        j.pos += 1;
    } else {
        loop {
            if records.len() >= MAX_EVENTS {
                return Err(j.err("CEL-JSON log", format!("more than {MAX_EVENTS} records")));
            }
            records.push(record(&mut j, scratch)?);
            match j.peek() {
                Some(b',') => j.pos += 1,
                Some(b']') => {
                    j.pos += 1;
                    break;
                }
                _ => return Err(j.err("CEL-JSON log", "expected ',' or ']' after a record")),
            }
        }
    }
    if j.peek().is_some() {
        return Err(j.err("CEL-JSON log", "text after the closing ']'"));
    }
    if records.is_empty() {
        return Err(Error::invalid(
            0,
            "CEL-JSON log",
            "the array holds no record",
        ));
    }
    Ok(records)
}

/// One record object.
fn record(j: &mut Json<'_>, scratch: &mut Vec<u8>) -> Result<Record, Error> {
    j.ws();
    let offset = j.pos as u64;
    let mut recnum = None;
    let mut handle: Option<u32> = None;
    let mut digests = None;
    let mut content_type: Option<(String, u64)> = None;
    let mut content: Option<Range<usize>> = None;
    j.object("CEL record", |j, key| {
        match key {
            "recnum" => recnum = Some(j.uint("recnum")?),
            "pcr" | "nv_index" => {
                if handle.is_some() {
                    return Err(j.err("CEL record", "both pcr and nv_index"));
                }
                let at = j.pos;
                let value = j.uint(if key == "pcr" { "pcr" } else { "nv_index" })?;
                let value = u32::try_from(value)
                    .map_err(|_| Error::invalid(at as u64, "pcr", "larger than 32 bits"))?;
                // NV index records extend no PCR: kept, never replayed (as in CEL-TLV).
                handle = Some(if key == "pcr" { value } else { u32::MAX });
            }
            "digests" => digests = Some(digest_list(j, scratch)?),
            "content_type" => {
                let at = j.pos as u64;
                content_type = Some((j.string("content_type")?.to_string(), at));
            }
            "content" => {
                j.ws();
                let start = j.pos;
                j.skip_value(0)?;
                content = Some(start..j.pos);
            }
            _ => j.skip_value(0)?,
        }
        Ok(())
    })?;
    let missing = |what: &'static str| Error::invalid(offset, "CEL record", format!("no {what}"));
    recnum.ok_or_else(|| missing("recnum"))?;
    let pcr = handle.ok_or_else(|| missing("pcr or nv_index"))?;
    let digests = digests.ok_or_else(|| missing("digests"))?;
    let (content_type, type_at) = content_type.ok_or_else(|| missing("content_type"))?;
    let content = content.ok_or_else(|| missing("content"))?;
    let mut c = Json {
        bytes: j.bytes.get(..content.end).unwrap_or_default(),
        pos: content.start,
    };
    let raw = Data::Raw(content.clone());
    let content_at = content.start as u64;
    let (event_type, data, data_offset) = match content_type.as_str() {
        "pcclient_std" => {
            let mut event_type = None;
            let mut data = None;
            c.object("pcclient_std content", |c, key| {
                match key {
                    "event_type" => event_type = Some(event_type_value(c)?),
                    "event_data" => {
                        let at = c.pos as u64 + 1;
                        data = Some((c.hex_into(scratch, "event_data")?, at));
                    }
                    _ => c.skip_value(0)?,
                }
                Ok(())
            })?;
            let no = |what: &'static str| {
                Error::invalid(content_at, "pcclient_std content", format!("no {what}"))
            };
            let event_type = event_type.ok_or_else(|| no("event_type"))?;
            let (range, at) = data.ok_or_else(|| no("event_data"))?;
            (event_type, Data::Decoded(range), at)
        }
        "cel" | "cel_mgt" => (EventType::EV_NO_ACTION, raw, content_at),
        "ima_template" => {
            let mut data = None;
            c.object("ima_template content", |c, key| {
                match key {
                    "template_data" => {
                        let at = c.pos as u64 + 1;
                        data = Some((c.hex_into(scratch, "template_data")?, at));
                    }
                    _ => c.skip_value(0)?,
                }
                Ok(())
            })?;
            let (range, at) = data.ok_or_else(|| {
                Error::invalid(content_at, "ima_template content", "no template_data")
            })?;
            (crate::cel::CEL_IMA_TEMPLATE, Data::Decoded(range), at)
        }
        "ima_tlv" => {
            if c.peek() == Some(b'"') {
                let range = c.hex_into(scratch, "ima_tlv content")?;
                (
                    crate::cel::CEL_IMA_TLV,
                    Data::Decoded(range),
                    content_at + 1,
                )
            } else {
                (crate::cel::CEL_IMA_TLV, raw, content_at)
            }
        }
        "systemd" => (CEL_SYSTEMD, raw, content_at),
        other => {
            return Err(Error::invalid(
                type_at,
                "content_type",
                format!("{other:?} is not pcclient_std, cel, ima_template, ima_tlv or systemd"),
            ))
        }
    };
    Ok(Record {
        offset,
        pcr,
        digests,
        event_type,
        data,
        data_offset,
    })
}

/// `event_type`: a number, or a name (`EV_SEPARATOR`, any case, or `0x80000008`).
fn event_type_value(j: &mut Json<'_>) -> Result<EventType, Error> {
    if j.peek() == Some(b'"') {
        let at = j.pos as u64;
        let name = j.string("event_type")?;
        let upper = name.to_ascii_uppercase();
        let lookup = upper
            .strip_prefix("0X")
            .map_or(upper.clone(), |h| format!("0x{h}"));
        EventType::from_name(&lookup).ok_or_else(|| {
            Error::invalid(at, "event_type", format!("{name:?} is no event type name"))
        })
    } else {
        let at = j.pos as u64;
        let value = j.uint("event_type")?;
        u32::try_from(value)
            .map(EventType)
            .map_err(|_| Error::invalid(at, "event_type", "larger than 32 bits"))
    }
}

/// `digests`: `[{"hashAlg": ..., "digest": "<hex>"}, ...]`, hex decoded into `scratch`.
fn digest_list(
    j: &mut Json<'_>,
    scratch: &mut Vec<u8>,
) -> Result<Vec<(AlgId, Range<usize>)>, Error> {
    let mut out = Vec::new();
    j.array("digests", |j| {
        if out.len() >= MAX_DIGESTS {
            return Err(j.err("digests", format!("more than {MAX_DIGESTS}")));
        }
        let start = j.pos as u64;
        let mut alg = None;
        let mut digest = None;
        j.object("digest", |j, key| {
            match key {
                "hashAlg" => alg = Some(hash_alg(j)?),
                "digest" => {
                    let at = j.pos as u64;
                    digest = Some((j.hex_into(scratch, "digest")?, at));
                }
                _ => j.skip_value(0)?,
            }
            Ok(())
        })?;
        let alg = alg.ok_or_else(|| Error::invalid(start, "digest", "no hashAlg"))?;
        let (range, at) = digest.ok_or_else(|| Error::invalid(start, "digest", "no digest"))?;
        if let Some(size) = alg.digest_size() {
            if range.len() != size {
                return Err(Error::invalid(
                    at,
                    "digest",
                    format!("{alg} digest of {} bytes, not {size}", range.len()),
                ));
            }
        }
        out.push((alg, range));
        Ok(())
    })?;
    Ok(out)
}

/// `hashAlg`: a bank name (`sha256`), a `TPM_ALG_ID` as hex text (`0x000B`) or a number.
fn hash_alg(j: &mut Json<'_>) -> Result<AlgId, Error> {
    let at = j.pos as u64;
    if j.peek() == Some(b'"') {
        let text = j.string("hashAlg")?.to_ascii_lowercase();
        let parsed = match text.strip_prefix("0x") {
            Some(h) => u16::from_str_radix(h, 16).ok().map(AlgId),
            None => AlgId::from_name(&text.replace('-', "")),
        };
        parsed
            .ok_or_else(|| Error::invalid(at, "hashAlg", format!("{text:?} is no hash algorithm")))
    } else {
        let value = j.uint("hashAlg")?;
        u16::try_from(value)
            .map(AlgId)
            .map_err(|_| Error::invalid(at, "hashAlg", "larger than 16 bits"))
    }
}

/// A JSON pull reader over bytes that reports absolute offsets.
struct Json<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Json<'a> {
    fn err(&self, what: &'static str, reason: impl Into<String>) -> Error {
        Error::invalid(self.pos as u64, what, reason)
    }

    fn ws(&mut self) {
        while self
            .bytes
            .get(self.pos)
            .is_some_and(u8::is_ascii_whitespace)
        {
            self.pos += 1;
        }
    }

    /// The next non-whitespace byte, not consumed.
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.bytes.get(self.pos).copied()
    }

    fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), Error> {
        match self.peek() {
            Some(b) if b == byte => {
                self.pos += 1;
                Ok(())
            }
            Some(b) => Err(self.err(
                what,
                format!(
                    "expected '{}', found '{}'",
                    char::from(byte),
                    b.escape_ascii()
                ),
            )),
            None => Err(self.err(
                what,
                format!("the text ends where '{}' belongs", char::from(byte)),
            )),
        }
    }

    /// An object: `each(self, key)` reads the value of every member. A key given twice is
    /// refused (a second `digests` could hide the first).
    fn object(
        &mut self,
        what: &'static str,
        mut each: impl FnMut(&mut Self, &str) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.expect(b'{', what)?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        let mut seen: Vec<String> = Vec::new();
        loop {
            let at = self.pos;
            if seen.len() >= MAX_MEMBERS {
                return Err(self.err(what, format!("more than {MAX_MEMBERS} members")));
            }
            let key = self.string(what)?.into_owned();
            if seen.contains(&key) {
                return Err(Error::invalid(
                    at as u64,
                    what,
                    format!("key {key:?} given twice"),
                ));
            }
            self.expect(b':', what)?;
            each(self, &key)?;
            seen.push(key);
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.err(what, "expected ',' or '}' after a member")),
            }
        }
    }

    /// An array: `each(self)` reads every element.
    fn array(
        &mut self,
        what: &'static str,
        mut each: impl FnMut(&mut Self) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.expect(b'[', what)?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            each(self)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.err(what, "expected ',' or ']' after an element")),
            }
        }
    }

    /// A string, unescaped (borrowed when it holds no escape).
    fn string(&mut self, what: &'static str) -> Result<std::borrow::Cow<'a, str>, Error> {
        self.expect(b'"', what)?;
        let start = self.pos;
        let mut owned: Option<Vec<u8>> = None;
        loop {
            let Some(&b) = self.bytes.get(self.pos) else {
                return Err(self.err(what, "the text ends inside a string"));
            };
            match b {
                b'"' => {
                    let raw = self.bytes.get(start..self.pos).unwrap_or_default();
                    self.pos += 1;
                    let bytes = match owned {
                        Some(v) => std::borrow::Cow::Owned(v),
                        None => std::borrow::Cow::Borrowed(raw),
                    };
                    return match bytes {
                        std::borrow::Cow::Borrowed(b) => std::str::from_utf8(b)
                            .map(std::borrow::Cow::Borrowed)
                            .map_err(|_| Error::invalid(start as u64, what, "not UTF-8")),
                        std::borrow::Cow::Owned(v) => String::from_utf8(v)
                            .map(std::borrow::Cow::Owned)
                            .map_err(|_| Error::invalid(start as u64, what, "not UTF-8")),
                    };
                }
                b'\\' => {
                    let buf = owned.get_or_insert_with(|| {
                        self.bytes.get(start..self.pos).unwrap_or_default().to_vec()
                    });
                    let esc = self.bytes.get(self.pos + 1).copied();
                    let simple = match esc {
                        Some(b'"') => Some(b'"'),
                        Some(b'\\') => Some(b'\\'),
                        Some(b'/') => Some(b'/'),
                        Some(b'b') => Some(8),
                        Some(b'f') => Some(12),
                        Some(b'n') => Some(b'\n'),
                        Some(b'r') => Some(b'\r'),
                        Some(b't') => Some(b'\t'),
                        _ => None,
                    };
                    if let Some(c) = simple {
                        buf.push(c);
                        self.pos += 2;
                    } else if esc == Some(b'u') {
                        let code = self
                            .bytes
                            .get(self.pos + 2..self.pos + 6)
                            .and_then(|h| std::str::from_utf8(h).ok())
                            .and_then(|h| u32::from_str_radix(h, 16).ok())
                            .ok_or_else(|| self.err(what, "\\u needs four hex digits"))?;
                        // Surrogates become U+FFFD: no CEL field needs them.
                        let c = char::from_u32(code).unwrap_or('\u{fffd}');
                        let mut utf8 = [0u8; 4];
                        buf.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                        self.pos += 6;
                    } else {
                        return Err(self.err(what, "unknown escape in a string"));
                    }
                }
                0..=0x1f => return Err(self.err(what, "control character inside a string")),
                _ => {
                    if let Some(buf) = owned.as_mut() {
                        buf.push(b);
                    }
                    self.pos += 1;
                }
            }
        }
    }

    /// A non-negative integer (no sign, fraction or exponent).
    fn uint(&mut self, what: &'static str) -> Result<u64, Error> {
        self.ws();
        let start = self.pos;
        let mut value: u64 = 0;
        while let Some(d) = self.bytes.get(self.pos).filter(|b| b.is_ascii_digit()) {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d - b'0')))
                .ok_or_else(|| Error::invalid(start as u64, what, "larger than 64 bits"))?;
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.err(what, "expected a non-negative integer"));
        }
        if matches!(self.bytes.get(self.pos), Some(b'.' | b'e' | b'E')) {
            return Err(self.err(what, "expected an integer, found a fraction or exponent"));
        }
        Ok(value)
    }

    /// A hex string, decoded onto the end of `scratch`; returns where it landed.
    fn hex_into(
        &mut self,
        scratch: &mut Vec<u8>,
        what: &'static str,
    ) -> Result<Range<usize>, Error> {
        self.ws();
        let at = self.pos + 1;
        let text = self.string(what)?;
        let digits = text.as_bytes();
        if digits.len() % 2 != 0 {
            return Err(Error::invalid(at as u64, what, "odd number of hex digits"));
        }
        let start = scratch.len();
        for (i, pair) in digits.chunks_exact(2).enumerate() {
            let nibble = |c: Option<&u8>| c.and_then(|c| char::from(*c).to_digit(16));
            let (Some(h), Some(l)) = (nibble(pair.first()), nibble(pair.get(1))) else {
                scratch.truncate(start);
                return Err(Error::invalid(
                    (at + 2 * i) as u64,
                    what,
                    "not hex (expected lowercase or uppercase hex digits)",
                ));
            };
            scratch.push((h * 16 + l) as u8);
        }
        Ok(start..scratch.len())
    }

    /// Skips one value of any kind, nesting at most [`MAX_DEPTH`] deep.
    fn skip_value(&mut self, depth: usize) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(self.err("JSON value", format!("nested deeper than {MAX_DEPTH}")));
        }
        match self.peek() {
            Some(b'{') => self.object("JSON object", |j, _| j.skip_value(depth + 1)),
            Some(b'[') => self.array("JSON array", |j| j.skip_value(depth + 1)),
            Some(b'"') => self.string("JSON string").map(|_| ()),
            Some(b'-') => {
                self.pos += 1;
                self.skip_number()
            }
            Some(b'0'..=b'9') => self.skip_number(),
            Some(_) => {
                for word in [&b"true"[..], b"false", b"null"] {
                    if self
                        .bytes
                        .get(self.pos..)
                        .is_some_and(|r| r.starts_with(word))
                    {
                        self.pos += word.len();
                        return Ok(());
                    }
                }
                Err(self.err("JSON value", "expected a value"))
            }
            None => Err(self.err("JSON value", "the text ends where a value belongs")),
        }
    }

    fn skip_number(&mut self) -> Result<(), Error> {
        let start = self.pos;
        while self
            .bytes
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.err("JSON number", "expected digits"));
        }
        Ok(())
    }
}

/// Writes `log` as CEL-JSON: every event a record numbered from 0, `pcclient_std` content
/// (IMA and systemd records keep their own content type), digests in log order. Events of
/// no PCR (index 0xFFFFFFFF) are written with that index.
pub fn to_cel_json(log: &EventLog<'_>) -> String {
    let mut out = String::from("[");
    for (n, e) in log.events.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            "\n{{\"recnum\":{n},\"pcr\":{},\"digests\":[",
            e.pcr
        ));
        for (i, (alg, d)) in e.digests.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let name = match alg.digest_size() {
                Some(_) => alg.name(),
                None => format!("0x{:04X}", alg.0),
            };
            out.push_str(&format!(
                "{{\"hashAlg\":\"{name}\",\"digest\":\"{}\"}}",
                hex(d)
            ));
        }
        out.push_str("],");
        let data = hex(e.data);
        match e.event_type {
            crate::cel::CEL_IMA_TEMPLATE => out.push_str(&format!(
                "\"content_type\":\"ima_template\",\"content\":{{\"template_name\":\"\",\"template_data\":\"{data}\"}}}}"
            )),
            crate::cel::CEL_IMA_TLV => {
                out.push_str(&format!("\"content_type\":\"ima_tlv\",\"content\":\"{data}\"}}"))
            }
            ty => {
                let ty_text = match ty.name() {
                    Some(name) => format!("\"{name}\""),
                    None => ty.0.to_string(),
                };
                out.push_str(&format!(
                    "\"content_type\":\"pcclient_std\",\"content\":{{\"event_type\":{ty_text},\"event_data\":\"{data}\"}}}}"
                ));
            }
        }
    }
    out.push_str("\n]\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::writer::LogWriter;

    #[test]
    fn the_spec_example_record_reads_and_replays() {
        // The CEL specification's JSON example: a Dell PCR 6 EV_COMPACT_HASH record.
        let text = r#"[{"content":{"event_type":"EV_COMPACT_HASH","event_data":"44656c6c20436f6e66696775726174696f6e20496e666f726d6174696f6e2032"},"content_type":"pcclient_std","pcr":6,"recnum":2,"digests":[{"hashAlg":"sha1","digest":"bac9a8935b720760bcdea2faae75152f5d1e4bea"},{"hashAlg":"0x000B","digest":"d18bf8d221a3a3b08774c8d077328c4b2ca205e4f1618ad4bac2b5786f453bc7"}]}]"#;
        let mut scratch = Vec::new();
        let log = decode(text.as_bytes(), &mut scratch).unwrap();
        assert_eq!(log.format, LogFormat::CelJson);
        let e = &log.events[0];
        assert_eq!(e.pcr, 6);
        assert_eq!(e.event_type, EventType::EV_COMPACT_HASH);
        assert_eq!(e.data, b"Dell Configuration Information 2");
        assert_eq!(e.digest(AlgId::SHA256).map(<[u8]>::len), Some(32));
        assert_eq!(log.banks(), vec![AlgId::SHA1, AlgId::SHA256]);
        let (pcrs, issues) = crate::replay(&log);
        assert!(issues.is_empty());
        let d = e.digest(AlgId::SHA1).unwrap();
        let expected = AlgId::SHA1.hash(&[&[0u8; 20], d]).unwrap();
        assert_eq!(pcrs.banks[&AlgId::SHA1][&6], expected);
    }

    #[test]
    fn a_binary_log_round_trips_through_cel_json() {
        let bin = LogWriter::agile()
            .event(0, EventType::EV_S_CRTM_VERSION, b"1.0")
            .event(7, EventType::EV_SEPARATOR, &[0; 4])
            .event(0xffff_ffff, EventType(0x8000_0099), b"windows")
            .bytes;
        let log = crate::parse(&bin).unwrap();
        let json = to_cel_json(&log);
        let mut scratch = Vec::new();
        let back = decode(json.as_bytes(), &mut scratch).unwrap();
        assert_eq!(back.events.len(), log.events.len());
        for (a, b) in log.events.iter().zip(&back.events) {
            assert_eq!((a.pcr, a.event_type, a.data), (b.pcr, b.event_type, b.data));
            assert_eq!(a.digests, b.digests);
        }
        // The header event is an ordinary EV_NO_ACTION record in CEL: same PCR values.
        assert_eq!(crate::replay(&log).0, crate::replay(&back).0);
        assert!(crate::check_digests(&back).is_empty());
    }

    #[test]
    fn management_ima_and_systemd_records_are_kept() {
        let d = "00".repeat(32);
        let text = format!(
            r#"[{{"recnum":0,"pcr":15,"digests":[{{"hashAlg":"sha256","digest":"{d}"}}],"content_type":"cel","content":{{"type":"cel_version","data":{{"major":1,"minor":0}}}}}},
             {{"recnum":1,"nv_index":536870928,"digests":[{{"hashAlg":"sha256","digest":"{d}"}}],"content_type":"ima_template","content":{{"template_name":"ima-ng","template_data":"0102"}}}},
             {{"recnum":2,"pcr":15,"digests":[{{"hashAlg":"sha256","digest":"{d}"}}],"content_type":"systemd","content":{{"string":"machine-id:\u0041"}}}}]"#
        );
        let mut scratch = Vec::new();
        let log = decode(text.as_bytes(), &mut scratch).unwrap();
        assert_eq!(log.events[0].event_type, EventType::EV_NO_ACTION);
        assert!(log.events[0].data.starts_with(b"{\"type\""));
        assert_eq!(log.events[1].pcr, u32::MAX);
        assert_eq!(log.events[1].data, &[1, 2]);
        assert_eq!(log.events[2].event_type, CEL_SYSTEMD);
        let (pcrs, _) = crate::replay(&log);
        assert!(pcrs.banks[&AlgId::SHA256].contains_key(&15));
    }

    #[test]
    fn broken_json_is_refused_with_the_offset() {
        let good = r#"[{"recnum":0,"pcr":3,"digests":[{"hashAlg":"sha1","digest":"0000000000000000000000000000000000000000"}],"content_type":"pcclient_std","content":{"event_type":4,"event_data":"00000000"}}]"#;
        let mut scratch = Vec::new();
        assert!(decode(good.as_bytes(), &mut scratch).is_ok());
        // Every truncation is an error inside the input, never a panic.
        for cut in 1..good.len() {
            let e = decode(&good.as_bytes()[..cut], &mut scratch).unwrap_err();
            assert!(e.offset <= cut as u64, "cut {cut}: {e}");
        }
        let cases = [
            (
                good.replace("\"pcr\":3", "\"pcr\":-3"),
                "non-negative integer",
            ),
            (good.replace("\"pcr\":3", "\"pcr\":3.5"), "fraction"),
            (good.replace("\"sha1\"", "\"sha999\""), "no hash algorithm"),
            (good.replace("00000000\"}}", "0000000\"}}"), "odd number"),
            (good.replace("00000000\"}}", "0000000g\"}}"), "not hex"),
            (
                good.replace("\"pcclient_std\"", "\"mystery\""),
                "is not pcclient_std",
            ),
            (good.replace("\"recnum\":0,", ""), "no recnum"),
            (
                good.replace("\"recnum\":0,", "\"recnum\":0,\"recnum\":1,"),
                "given twice",
            ),
            (
                good.replace("\"pcr\":3", "\"pcr\":3,\"nv_index\":4"),
                "both pcr and nv_index",
            ),
            (
                good.replace("00000000000000000000\"}]", "\"}]"),
                "digest of 10 bytes",
            ),
            (format!("{good}x"), "after the closing"),
            ("[]".to_string(), "no record"),
            (format!("[{}]", "[".repeat(40)), "CEL record"),
        ];
        for (text, reason) in cases {
            let e = decode(text.as_bytes(), &mut scratch)
                .unwrap_err()
                .to_string();
            assert!(e.contains(reason), "expected {reason:?}, got {e}");
        }
        let wide = (0..100)
            .map(|i| format!("\"k{i}\":0"))
            .collect::<Vec<_>>()
            .join(",");
        let wide = good.replace("\"recnum\":0,", &format!("\"x\":{{{wide}}},\"recnum\":0,"));
        let e = decode(wide.as_bytes(), &mut scratch)
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than 64 members"), "{e}");
        let deep = good.replace(
            "\"recnum\":0,",
            &format!("\"x\":{}0{},\"recnum\":0,", "[".repeat(40), "]".repeat(40)),
        );
        let e = decode(deep.as_bytes(), &mut scratch)
            .unwrap_err()
            .to_string();
        assert!(e.contains("nested deeper"), "{e}");
    }
}
