//! A bounds-checked cursor over untrusted bytes: every read checks its length and reports the
//! offset it failed at.

use crate::error::{Error, Location};

/// A cursor over `bytes`, with `base` added to offsets in errors.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: u64,
}

impl<'a> Reader<'a> {
    /// A reader whose offset 0 is `base` bytes into the whole input.
    pub(crate) fn new(bytes: &'a [u8], base: u64) -> Self {
        Reader {
            bytes,
            pos: 0,
            base,
        }
    }

    /// Absolute offset of the cursor.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Bytes left.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Error> {
        let end = self.pos.checked_add(n);
        match end.and_then(|e| self.bytes.get(self.pos..e)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(Error::malformed(
                Location::Offset(self.offset()),
                format!(
                    "truncated {what}: expected {n} bytes, found {}",
                    self.remaining()
                ),
            )),
        }
    }

    /// The next `N` bytes as an array.
    pub(crate) fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], Error> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// A `u32` in the given byte order.
    pub(crate) fn u32(&mut self, big_endian: bool, what: &str) -> Result<u32, Error> {
        let a = self.array(what)?;
        Ok(if big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }

    /// A `u16` in the given byte order.
    pub(crate) fn u16(&mut self, big_endian: bool, what: &str) -> Result<u16, Error> {
        let a = self.array(what)?;
        Ok(if big_endian {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        })
    }

    /// A sub-reader over the next `n` bytes (for length-prefixed data).
    pub(crate) fn sub(&mut self, n: usize, what: &str) -> Result<Reader<'a>, Error> {
        let base = self.offset();
        let s = self.take(n, what)?;
        Ok(Reader::new(s, base))
    }

    /// The rest of the bytes.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = self.bytes.get(self.pos..).unwrap_or(&[]);
        self.pos = self.bytes.len();
        s
    }
}
