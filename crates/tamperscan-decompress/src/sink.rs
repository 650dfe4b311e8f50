//! The I/O adapters the streaming decoders write to and read from: an output sink that refuses
//! to grow past the budget, and an input cursor that remembers how far the decoder read.

use std::io;

/// A `Write` into a `Vec` that fails, and remembers that it failed, once the total would pass
/// `limit`.
pub(crate) struct LimitedSink {
    pub(crate) out: Vec<u8>,
    limit: usize,
    overflowed: bool,
}

impl LimitedSink {
    pub(crate) fn new(limit: usize) -> Self {
        LimitedSink {
            out: Vec::new(),
            limit,
            overflowed: false,
        }
    }

    /// Whether a write was refused because of the budget.
    pub(crate) fn overflowed(&self) -> bool {
        self.overflowed
    }
}

impl io::Write for LimitedSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.limit.saturating_sub(self.out.len());
        if buf.len() > room {
            self.overflowed = true;
            return Err(io::Error::other("decompressed output limit reached"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A `BufRead` over a byte slice that keeps its position, so a decoder's error can be given the
/// offset where it stopped reading.
pub(crate) struct SliceReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> SliceReader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        SliceReader { data, pos: 0 }
    }

    /// Bytes consumed so far.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Whether every byte has been consumed.
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }
}

impl io::Read for SliceReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = self.rest();
        let n = rest.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), rest.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.pos += n;
        Ok(n)
    }
}

impl io::BufRead for SliceReader<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        Ok(self.rest())
    }

    fn consume(&mut self, amt: usize) {
        self.pos = self.pos.saturating_add(amt).min(self.data.len());
    }
}
