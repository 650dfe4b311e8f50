use std::fmt;

/// An inconsistency found while decoding that did not stop decoding: overlapping regions, a
/// checksum that does not match, bytes that should be erased but are not.
///
/// Parsers report these as data; detectors decide what they mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Absolute offset in the input of the bytes concerned.
    pub offset: u64,
    /// How many bytes are concerned (0 when the issue is about a single field's value).
    pub length: u64,
    /// What is wrong, in words (with the values found).
    pub message: String,
}

impl Issue {
    /// An issue about `length` bytes at absolute `offset`.
    pub fn new(offset: u64, length: u64, message: impl Into<String>) -> Self {
        Issue {
            offset,
            length,
            message: message.into(),
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.length == 0 {
            write!(f, "at 0x{:x}: {}", self.offset, self.message)
        } else {
            write!(
                f,
                "at 0x{:x} (0x{:x} bytes): {}",
                self.offset, self.length, self.message
            )
        }
    }
}
