use crate::error::{Error, ErrorKind};

/// A forward-only cursor over untrusted bytes.
///
/// Every read is bounds-checked and every error carries the absolute offset (from the start of
/// the outermost input, also inside [`Reader::sub`] readers), so a parser built on it can say
/// exactly where a file stopped making sense.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: u64,
}

macro_rules! int_readers {
    ($($name:ident => $ty:ty, $from:ident;)*) => {
        $(
            #[doc = concat!("Reads a `", stringify!($ty), "` (`", stringify!($from), "`).")]
            pub fn $name(&mut self, what: &'static str) -> Result<$ty, Error> {
                Ok(<$ty>::$from(self.take_array(what)?))
            }
        )*
    };
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`, whose first byte is at offset 0.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader {
            bytes,
            pos: 0,
            base: 0,
        }
    }

    /// A reader over `bytes`, whose first byte is at absolute offset `base` of the outer input.
    pub fn with_base(bytes: &'a [u8], base: u64) -> Self {
        Reader {
            bytes,
            pos: 0,
            base,
        }
    }

    /// The absolute offset of the next byte to be read.
    pub fn offset(&self) -> u64 {
        self.base.saturating_add(self.pos as u64)
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }

    /// An error of `kind` at the current offset.
    pub fn error(&self, kind: ErrorKind) -> Error {
        Error::new(self.offset(), kind)
    }

    /// An [`ErrorKind::Invalid`] error at the current offset.
    pub fn invalid(&self, what: &'static str, reason: impl Into<String>) -> Error {
        Error::invalid(self.offset(), what, reason)
    }

    /// Returns the next `n` bytes without consuming them.
    pub fn peek(&self, n: usize, what: &'static str) -> Result<&'a [u8], Error> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        match end.and_then(|end| self.bytes.get(self.pos..end)) {
            Some(slice) => Ok(slice),
            None => Err(self.error(ErrorKind::Truncated {
                what,
                needed: n as u64,
                available: self.remaining() as u64,
            })),
        }
    }

    /// Consumes and returns the next `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Error> {
        let slice = self.peek(n, what)?;
        self.pos += slice.len();
        Ok(slice)
    }

    /// Consumes `n` bytes, ignoring them.
    pub fn skip(&mut self, n: usize, what: &'static str) -> Result<(), Error> {
        self.take(n, what).map(|_| ())
    }

    /// Consumes and returns the next `N` bytes as an array.
    pub fn take_array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], Error> {
        let slice = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    /// Consumes the next `len` bytes and returns a reader over just them, keeping absolute
    /// offsets: the way to parse a length-prefixed structure without overrunning it.
    pub fn sub(&mut self, len: usize, what: &'static str) -> Result<Reader<'a>, Error> {
        let base = self.offset();
        let bytes = self.take(len, what)?;
        Ok(Reader::with_base(bytes, base))
    }

    /// Consumes the exact bytes `magic`, or fails with [`ErrorKind::BadMagic`].
    pub fn expect(&mut self, magic: &[u8], what: &'static str) -> Result<(), Error> {
        let found = self.peek(magic.len(), what)?;
        if found != magic {
            return Err(self.error(ErrorKind::BadMagic {
                what,
                expected: describe_bytes(magic),
                found: describe_bytes(found),
            }));
        }
        self.pos += magic.len();
        Ok(())
    }

    /// Fails unless every byte has been consumed.
    pub fn finish(&self, what: &'static str) -> Result<(), Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(ErrorKind::TrailingBytes {
                what,
                remaining: self.remaining() as u64,
            }))
        }
    }

    /// Checks a length or count read from the input against `limit` and converts it to `usize`.
    pub fn bounded(&self, value: u64, limit: u64, what: &'static str) -> Result<usize, Error> {
        if value > limit {
            return Err(self.error(ErrorKind::TooLarge { what, value, limit }));
        }
        usize::try_from(value).map_err(|_| self.error(ErrorKind::TooLarge { what, value, limit }))
    }

    /// Reads a little-endian `u32` length, checks it against `limit` and the remaining input,
    /// and returns a reader over that many bytes.
    /// Like every read here, it consumes nothing when it fails.
    pub fn sub_u32_le(&mut self, limit: u64, what: &'static str) -> Result<Reader<'a>, Error> {
        let mut probe = self.clone();
        let len = probe.u32_le(what)?;
        let len = probe.bounded(u64::from(len), limit, what)?;
        let sub = probe.sub(len, what)?;
        *self = probe;
        Ok(sub)
    }

    /// Reads an `EFI_GUID`.
    pub fn guid(&mut self, what: &'static str) -> Result<crate::Guid, Error> {
        Ok(crate::Guid(self.take_array(what)?))
    }

    /// Reads one byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, Error> {
        let [b] = self.take_array::<1>(what)?;
        Ok(b)
    }

    int_readers! {
        u16_le => u16, from_le_bytes;
        u16_be => u16, from_be_bytes;
        u32_le => u32, from_le_bytes;
        u32_be => u32, from_be_bytes;
        u64_le => u64, from_le_bytes;
        u64_be => u64, from_be_bytes;
    }
}

/// Renders bytes for an error message: ASCII when printable, hex otherwise.
fn describe_bytes(bytes: &[u8]) -> String {
    if !bytes.is_empty() && bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("{:?}", String::from_utf8_lossy(bytes))
    } else {
        let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("0x{}", hex.join(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_integers_in_both_byte_orders() {
        let mut r = Reader::new(&[0x01, 0x02, 0x01, 0x02, 0xaa, 0xbb, 0xcc, 0xdd]);
        assert_eq!(r.u16_le("a").unwrap(), 0x0201);
        assert_eq!(r.u16_be("b").unwrap(), 0x0102);
        assert_eq!(r.u32_le("c").unwrap(), 0xddccbbaa);
        assert!(r.is_empty());
        assert!(r.finish("all").is_ok());
    }

    #[test]
    fn truncation_reports_offset_and_need() {
        let mut r = Reader::new(&[1, 2, 3]);
        r.skip(2, "head").unwrap();
        let err = r.u32_le("length").unwrap_err();
        assert_eq!(err.offset, 2);
        assert_eq!(
            err.kind,
            ErrorKind::Truncated {
                what: "length",
                needed: 4,
                available: 1
            }
        );
        assert_eq!(
            err.to_string(),
            "at offset 2 (0x2): truncated length: needed 4 bytes, only 1 left"
        );
    }

    #[test]
    fn sub_readers_keep_absolute_offsets_and_cannot_overrun() {
        let data = [9, 9, 2, 0, 0, 0, 7, 8, 5];
        let mut r = Reader::new(&data);
        r.skip(2, "pad").unwrap();
        let mut inner = r.sub_u32_le(16, "body").unwrap();
        assert_eq!(inner.offset(), 6);
        assert_eq!(inner.u8("x").unwrap(), 7);
        assert_eq!(inner.u8("y").unwrap(), 8);
        let err = inner.u8("z").unwrap_err();
        assert_eq!(err.offset, 8);
        assert_eq!(r.u8("after").unwrap(), 5);
    }

    #[test]
    fn lengths_above_their_bound_are_refused_before_allocation() {
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0x7f]);
        let err = r.sub_u32_le(1024, "event size").unwrap_err();
        assert_eq!(err.offset, 4);
        assert_eq!(r.offset(), 0, "a failed read consumes nothing");
        assert!(matches!(
            err.kind,
            ErrorKind::TooLarge {
                value: 0x7fff_ffff,
                limit: 1024,
                ..
            }
        ));
    }

    #[test]
    fn huge_take_does_not_overflow() {
        let mut r = Reader::new(&[1, 2]);
        r.skip(1, "a").unwrap();
        assert!(r.take(usize::MAX, "big").is_err());
        assert_eq!(r.remaining(), 1);
    }

    #[test]
    fn magic_mismatch_names_both_values() {
        let mut r = Reader::new(b"_FVX");
        let err = r.expect(b"_FVH", "firmware volume").unwrap_err();
        assert_eq!(err.offset, 0);
        assert_eq!(
            err.to_string(),
            "at offset 0 (0x0): bad firmware volume signature: expected \"_FVH\", found \"_FVX\""
        );
        let mut r = Reader::new(&[0, 1]);
        let err = r.expect(&[0xd0, 0x0d], "fdt").unwrap_err();
        assert!(err.to_string().contains("expected 0xd00d, found 0x0001"));
    }

    #[test]
    fn finish_rejects_trailing_bytes() {
        let mut r = Reader::new(&[1, 2, 3]);
        r.u8("a").unwrap();
        let err = r.finish("record").unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::TrailingBytes {
                what: "record",
                remaining: 2
            }
        );
    }
}
