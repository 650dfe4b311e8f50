//! A small DER reader (ITU-T X.690 §8, §10) on top of [`tamperscan_bytes::Reader`].
//!
//! Definite lengths only (DER forbids the indefinite form), tag numbers of any size up to 28
//! bits (high-tag-number form), and a nesting bound: every constructed value is entered through
//! [`Der::enter`], which refuses to go deeper than [`MAX_DEPTH`]. Offsets in errors are
//! absolute in the outermost input.

use tamperscan_bytes::{Error, ErrorKind, Reader};

/// How deep constructed values may nest before the input is refused.
pub const MAX_DEPTH: u8 = 40;

/// The class of a tag (X.690 §8.1.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagClass {
    /// Universal (the built-in types).
    Universal,
    /// Application-specific.
    Application,
    /// Context-specific (`[n]`).
    Context,
    /// Private.
    Private,
}

/// A decoded identifier octet group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag {
    /// Tag class.
    pub class: TagClass,
    /// Whether the value is constructed (contains TLVs).
    pub constructed: bool,
    /// The tag number.
    pub number: u32,
}

impl Tag {
    /// `BOOLEAN`.
    pub const BOOLEAN: Tag = Tag::universal(1, false);
    /// `INTEGER`.
    pub const INTEGER: Tag = Tag::universal(2, false);
    /// `BIT STRING`.
    pub const BIT_STRING: Tag = Tag::universal(3, false);
    /// `OCTET STRING`.
    pub const OCTET_STRING: Tag = Tag::universal(4, false);
    /// `NULL`.
    pub const NULL: Tag = Tag::universal(5, false);
    /// `OBJECT IDENTIFIER`.
    pub const OID: Tag = Tag::universal(6, false);
    /// `ENUMERATED`.
    pub const ENUMERATED: Tag = Tag::universal(10, false);
    /// `UTF8String`.
    pub const UTF8_STRING: Tag = Tag::universal(12, false);
    /// `SEQUENCE` / `SEQUENCE OF`.
    pub const SEQUENCE: Tag = Tag::universal(16, true);
    /// `SET` / `SET OF`.
    pub const SET: Tag = Tag::universal(17, true);
    /// `IA5String`.
    pub const IA5_STRING: Tag = Tag::universal(22, false);
    /// `UTCTime`.
    pub const UTC_TIME: Tag = Tag::universal(23, false);
    /// `GeneralizedTime`.
    pub const GENERALIZED_TIME: Tag = Tag::universal(24, false);

    const fn universal(number: u32, constructed: bool) -> Tag {
        Tag {
            class: TagClass::Universal,
            constructed,
            number,
        }
    }

    /// A context-specific tag `[number]`, primitive or constructed.
    pub const fn context(number: u32, constructed: bool) -> Tag {
        Tag {
            class: TagClass::Context,
            constructed,
            number,
        }
    }

    /// True for the context-specific tag `[number]`, whatever its constructed bit.
    pub fn is_context(&self, number: u32) -> bool {
        self.class == TagClass::Context && self.number == number
    }
}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.class {
            TagClass::Universal => write!(f, "universal {}", self.number),
            TagClass::Application => write!(f, "[APPLICATION {}]", self.number),
            TagClass::Context => write!(f, "[{}]", self.number),
            TagClass::Private => write!(f, "[PRIVATE {}]", self.number),
        }
    }
}

/// One tag-length-value element, borrowing the input.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    /// The tag.
    pub tag: Tag,
    /// Absolute offset of the identifier octet.
    pub offset: u64,
    /// Absolute offset of the first content octet.
    pub value_offset: u64,
    /// The content octets.
    pub value: &'a [u8],
    /// The whole element: identifier, length and content octets.
    pub raw: &'a [u8],
    depth: u8,
}

impl<'a> Tlv<'a> {
    /// A reader over the contents of a constructed element, one level deeper.
    pub fn enter(&self) -> Result<Der<'a>, Error> {
        if !self.tag.constructed {
            return Err(Error::invalid(
                self.offset,
                "DER element",
                format!("{} is primitive, expected a constructed value", self.tag),
            ));
        }
        self.enter_any()
    }

    /// A reader over the contents whatever the constructed bit (for IMPLICIT-tagged values
    /// whose encoder got the bit wrong, and OCTET STRINGs that wrap DER).
    pub fn enter_any(&self) -> Result<Der<'a>, Error> {
        let depth = self.depth.saturating_add(1);
        if depth > MAX_DEPTH {
            return Err(Error::new(
                self.offset,
                ErrorKind::TooLarge {
                    what: "DER nesting depth",
                    value: u64::from(depth),
                    limit: u64::from(MAX_DEPTH),
                },
            ));
        }
        Ok(Der {
            r: Reader::with_base(self.value, self.value_offset),
            depth,
        })
    }

    /// Fails unless the tag is `tag`.
    pub fn expect(&self, tag: Tag, what: &'static str) -> Result<(), Error> {
        if self.tag == tag {
            Ok(())
        } else {
            Err(Error::invalid(
                self.offset,
                what,
                format!("expected {tag}, found {}", self.tag),
            ))
        }
    }

    /// The dotted text of an OBJECT IDENTIFIER (any tag: IMPLICIT ones included).
    pub fn oid(&self) -> Result<String, Error> {
        oid_text(self.value, self.value_offset)
    }

    /// A BOOLEAN's value (lenient: any non-zero octet is true).
    pub fn boolean(&self) -> Result<bool, Error> {
        match self.value {
            [b] => Ok(*b != 0),
            _ => Err(Error::invalid(
                self.offset,
                "BOOLEAN",
                format!("{} content octets, expected 1", self.value.len()),
            )),
        }
    }

    /// An INTEGER or ENUMERATED that fits in an `i64`.
    pub fn small_int(&self) -> Result<i64, Error> {
        if self.value.is_empty() || self.value.len() > 8 {
            return Err(Error::invalid(
                self.offset,
                "INTEGER",
                format!("{} content octets, expected 1 to 8", self.value.len()),
            ));
        }
        let negative = self.value.first().is_some_and(|b| b & 0x80 != 0);
        let mut v: i64 = if negative { -1 } else { 0 };
        for &b in self.value {
            v = (v << 8) | i64::from(b);
        }
        Ok(v)
    }

    /// An INTEGER's magnitude as big-endian bytes without leading zero octets (serials,
    /// RSA moduli).
    pub fn unsigned_bytes(&self) -> &'a [u8] {
        let mut v = self.value;
        while let [0, rest @ ..] = v {
            if rest.is_empty() {
                break;
            }
            v = rest;
        }
        v
    }

    /// A BIT STRING's bytes (the unused-bits octet dropped; unused bits are kept as is).
    pub fn bit_string(&self) -> Result<&'a [u8], Error> {
        match self.value {
            [unused, rest @ ..] if *unused < 8 => Ok(rest),
            _ => Err(Error::invalid(
                self.offset,
                "BIT STRING",
                "missing or invalid unused-bits octet",
            )),
        }
    }

    /// The text of a character string (UTF8String, PrintableString, IA5String, BMPString,
    /// UniversalString, TeletexString, VisibleString, NumericString, and IMPLICIT-tagged
    /// strings, read as UTF-8); invalid sequences become U+FFFD.
    pub fn text(&self) -> String {
        let universal = if self.tag.class == TagClass::Universal {
            self.tag.number
        } else {
            12
        };
        match universal {
            // BMPString: UTF-16BE.
            30 => {
                let units: Vec<u16> = self
                    .value
                    .chunks(2)
                    .map(|c| match c {
                        [hi, lo] => u16::from_be_bytes([*hi, *lo]),
                        _ => 0xfffd,
                    })
                    .collect();
                String::from_utf16_lossy(&units)
            }
            // UniversalString: UTF-32BE.
            28 => self
                .value
                .chunks(4)
                .map(|c| match c {
                    [a, b, c, d] => char::from_u32(u32::from_be_bytes([*a, *b, *c, *d]))
                        .unwrap_or(char::REPLACEMENT_CHARACTER),
                    _ => char::REPLACEMENT_CHARACTER,
                })
                .collect(),
            // TeletexString: treated as Latin-1, which is what encoders put there in practice.
            20 => self.value.iter().map(|&b| char::from(b)).collect(),
            _ => String::from_utf8_lossy(self.value).into_owned(),
        }
    }

    /// True when the tag is one of the universal character string types.
    pub fn is_string(&self) -> bool {
        self.tag.class == TagClass::Universal
            && !self.tag.constructed
            && matches!(self.tag.number, 12 | 18 | 19 | 20 | 22 | 26 | 28 | 30)
    }
}

/// A cursor over a sequence of DER elements at one nesting level.
#[derive(Debug, Clone)]
pub struct Der<'a> {
    r: Reader<'a>,
    depth: u8,
}

impl<'a> Der<'a> {
    /// A reader over a whole input at depth 0.
    pub fn new(bytes: &'a [u8]) -> Self {
        Der {
            r: Reader::new(bytes),
            depth: 0,
        }
    }

    /// A reader over `bytes` found at absolute offset `base`.
    pub fn with_base(bytes: &'a [u8], base: u64) -> Self {
        Der {
            r: Reader::with_base(bytes, base),
            depth: 0,
        }
    }

    /// Absolute offset of the next element.
    pub fn offset(&self) -> u64 {
        self.r.offset()
    }

    /// True when no element is left.
    pub fn is_empty(&self) -> bool {
        self.r.is_empty()
    }

    /// Fails when bytes are left after the expected elements.
    pub fn finish(&self, what: &'static str) -> Result<(), Error> {
        self.r.finish(what)
    }

    /// Reads the next element. Consumes nothing when it fails.
    pub fn read(&mut self) -> Result<Tlv<'a>, Error> {
        let mut probe = self.r.clone();
        let start = probe.rest();
        let offset = probe.offset();
        let first = probe.u8("DER tag")?;
        let class = match first >> 6 {
            0 => TagClass::Universal,
            1 => TagClass::Application,
            2 => TagClass::Context,
            _ => TagClass::Private,
        };
        let constructed = first & 0x20 != 0;
        let mut number = u32::from(first & 0x1f);
        if number == 0x1f {
            number = 0;
            let mut count = 0;
            loop {
                let b = probe.u8("DER high tag number")?;
                count += 1;
                if count > 4 {
                    return Err(probe.invalid("DER tag", "tag number longer than 28 bits"));
                }
                number = (number << 7) | u32::from(b & 0x7f);
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        let len_byte = probe.u8("DER length")?;
        let len: u64 = if len_byte < 0x80 {
            u64::from(len_byte)
        } else if len_byte == 0x80 {
            return Err(probe.invalid("DER length", "indefinite length (not allowed in DER)"));
        } else {
            let n = usize::from(len_byte & 0x7f);
            if n > 4 {
                return Err(Error::new(
                    probe.offset(),
                    ErrorKind::TooLarge {
                        what: "DER length octets",
                        value: n as u64,
                        limit: 4,
                    },
                ));
            }
            let bytes = probe.take(n, "DER length")?;
            bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
        };
        let len = probe.bounded(len, probe.remaining() as u64, "DER content length")?;
        let value_offset = probe.offset();
        let value = probe.take(len, "DER content")?;
        let header_len = usize::try_from(value_offset.saturating_sub(offset)).unwrap_or(0);
        let raw = start.get(..header_len.saturating_add(len)).unwrap_or(start);
        self.r = probe;
        Ok(Tlv {
            tag: Tag {
                class,
                constructed,
                number,
            },
            offset,
            value_offset,
            value,
            raw,
            depth: self.depth,
        })
    }

    /// Reads the next element and checks its tag.
    pub fn read_tag(&mut self, tag: Tag, what: &'static str) -> Result<Tlv<'a>, Error> {
        let mut probe = self.clone();
        let tlv = probe.read()?;
        tlv.expect(tag, what)?;
        *self = probe;
        Ok(tlv)
    }

    /// Reads the next element when its tag is `tag`; `None` (consuming nothing) otherwise.
    pub fn read_optional(&mut self, tag: Tag) -> Result<Option<Tlv<'a>>, Error> {
        match self.peek_tag() {
            Some(t) if t == tag => self.read().map(Some),
            _ => Ok(None),
        }
    }

    /// The tag of the next element, when one can be decoded.
    pub fn peek_tag(&self) -> Option<Tag> {
        self.clone().read().ok().map(|t| t.tag)
    }

    /// Reads a SEQUENCE and returns a reader over its contents.
    pub fn sequence(&mut self, what: &'static str) -> Result<Der<'a>, Error> {
        self.read_tag(Tag::SEQUENCE, what)?.enter()
    }
}

/// The dotted text of the content octets of an OBJECT IDENTIFIER (X.690 §8.19).
pub fn oid_text(value: &[u8], offset: u64) -> Result<String, Error> {
    if value.is_empty() {
        return Err(Error::invalid(offset, "OBJECT IDENTIFIER", "empty"));
    }
    if value.len() > 128 {
        return Err(Error::new(
            offset,
            ErrorKind::TooLarge {
                what: "OBJECT IDENTIFIER length",
                value: value.len() as u64,
                limit: 128,
            },
        ));
    }
    let mut out = String::new();
    let mut acc: u64 = 0;
    let mut first = true;
    let mut pending = false;
    for &b in value {
        if acc > (u64::MAX >> 7) {
            return Err(Error::invalid(
                offset,
                "OBJECT IDENTIFIER",
                "sub-identifier larger than 64 bits",
            ));
        }
        acc = (acc << 7) | u64::from(b & 0x7f);
        pending = true;
        if b & 0x80 == 0 {
            if first {
                let (a, rest) = match acc {
                    0..=39 => (0, acc),
                    40..=79 => (1, acc - 40),
                    _ => (2, acc - 80),
                };
                out.push_str(&format!("{a}.{rest}"));
                first = false;
            } else {
                out.push_str(&format!(".{acc}"));
            }
            acc = 0;
            pending = false;
        }
    }
    if pending {
        return Err(Error::invalid(
            offset,
            "OBJECT IDENTIFIER",
            "last sub-identifier is not terminated",
        ));
    }
    Ok(out)
}

/// Encodes a dotted OID as DER content octets (used by tests and the registry); `None` when
/// the text is not an OID.
pub fn oid_bytes(dotted: &str) -> Option<Vec<u8>> {
    let arcs: Vec<u64> = dotted
        .split('.')
        .map(|a| a.parse().ok())
        .collect::<Option<_>>()?;
    let (a, b) = match arcs.as_slice() {
        [a, b, ..] if *a <= 2 => (*a, *b),
        _ => return None,
    };
    let mut out = Vec::new();
    let mut push = |mut v: u64| {
        let mut tmp = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            tmp.push(((v & 0x7f) as u8) | 0x80);
            v >>= 7;
        }
        tmp.reverse();
        out.extend(tmp);
    };
    push(a.checked_mul(40)?.checked_add(b)?);
    for &arc in arcs.iter().skip(2) {
        push(arc);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_long_and_high_tags() {
        // [31] primitive (high tag form 0x1f 0x1f), length 2.
        let data = [0x9f, 0x1f, 0x02, 0xaa, 0xbb, 0x30, 0x81, 0x01, 0x05];
        let mut d = Der::new(&data);
        let t = d.read().unwrap();
        assert_eq!(t.tag, Tag::context(31, false));
        assert_eq!(t.value, &[0xaa, 0xbb]);
        assert_eq!(t.value_offset, 3);
        let s = d.read().unwrap();
        assert_eq!(s.tag, Tag::SEQUENCE);
        assert_eq!(s.value, &[0x05]);
        assert_eq!(s.raw, &[0x30, 0x81, 0x01, 0x05]);
        assert!(d.is_empty());
    }

    #[test]
    fn refuses_indefinite_huge_and_truncated_lengths() {
        assert!(Der::new(&[0x30, 0x80, 0, 0]).read().is_err());
        let err = Der::new(&[0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 0])
            .read()
            .unwrap_err();
        assert_eq!(err.offset, 6);
        assert!(Der::new(&[0x04, 0x85, 1, 1, 1, 1, 1]).read().is_err());
        assert!(Der::new(&[0x04, 0x03, 1]).read().is_err());
        assert!(Der::new(&[0x1f, 0x81, 0x81, 0x81, 0x81, 0x01, 0])
            .read()
            .is_err());
    }

    #[test]
    fn oids_round_trip() {
        for oid in [
            "2.23.133.5.1.7.2",
            "1.2.840.113549.1.1.11",
            "2.5.29.35",
            "0.9.2342",
        ] {
            let bytes = oid_bytes(oid).unwrap();
            assert_eq!(oid_text(&bytes, 0).unwrap(), oid);
        }
        assert!(oid_text(&[0x2a, 0x86], 0).is_err());
        assert!(oid_text(&[0xff; 20], 0).is_err());
    }

    #[test]
    fn nesting_is_bounded() {
        let mut nested: Vec<u8> = vec![0x05, 0x00];
        for _ in 0..100 {
            let len = nested.len() as u16;
            let mut outer = vec![0x30, 0x82];
            outer.extend(len.to_be_bytes());
            outer.extend(&nested);
            nested = outer;
        }
        let mut t = Der::new(&nested).read().unwrap();
        let mut levels = 0;
        let err = loop {
            match t.enter() {
                Ok(mut inner) => {
                    t = inner.read().unwrap();
                    levels += 1;
                }
                Err(e) => break e,
            }
        };
        assert_eq!(levels, usize::from(MAX_DEPTH));
        assert!(matches!(err.kind, ErrorKind::TooLarge { .. }));
    }

    #[test]
    fn integers_and_strings() {
        let mut d = Der::new(&[0x02, 0x02, 0xff, 0x7f, 0x1e, 0x04, 0x00, 0x41, 0x00, 0xe9]);
        assert_eq!(d.read().unwrap().small_int().unwrap(), -129);
        assert_eq!(d.read().unwrap().text(), "Aé");
    }
}
