//! The output budget shared by everything one listing decompresses or copies.

use crate::Error;

/// Bytes that may still be produced.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    left: usize,
    limit: usize,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Self {
        Budget { left: limit, limit }
    }

    /// Bytes still available.
    pub(crate) fn left(&self) -> usize {
        self.left
    }

    /// Fails, consuming nothing, unless `n` more bytes fit.
    pub(crate) fn check(&self, n: u64, offset: u64, what: &'static str) -> Result<(), Error> {
        if n > self.left as u64 {
            return Err(Error::Budget {
                offset,
                what,
                needed: n,
                left: self.left as u64,
                limit: self.limit as u64,
            });
        }
        Ok(())
    }

    /// Consumes `n` bytes, or fails consuming nothing.
    pub(crate) fn take(&mut self, n: usize, offset: u64, what: &'static str) -> Result<(), Error> {
        self.check(n as u64, offset, what)?;
        self.left -= n;
        Ok(())
    }
}
