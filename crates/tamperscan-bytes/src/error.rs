use std::fmt;

/// What went wrong while decoding, always with the absolute offset where it happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at offset {offset} (0x{offset:x}): {kind}")]
pub struct Error {
    /// Absolute offset in the outermost input where decoding stopped.
    pub offset: u64,
    /// What was expected there.
    pub kind: ErrorKind,
}

/// The reason a decode failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended before `needed` more bytes of `what` could be read.
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Bytes that were needed.
        needed: u64,
        /// Bytes that were left.
        available: u64,
    },
    /// A length or count is larger than the bound this format allows.
    TooLarge {
        /// The field being read.
        what: &'static str,
        /// The value found.
        value: u64,
        /// The largest value accepted.
        limit: u64,
    },
    /// Bytes were left after a structure that must fill its container.
    TrailingBytes {
        /// The structure that should have ended.
        what: &'static str,
        /// How many bytes were left over.
        remaining: u64,
    },
    /// A field holds a value the format does not allow.
    Invalid {
        /// The field being read.
        what: &'static str,
        /// Why it was refused, in words.
        reason: String,
    },
    /// A magic number or signature did not match.
    BadMagic {
        /// The structure whose signature was checked.
        what: &'static str,
        /// The expected bytes, as text (hex or ASCII).
        expected: String,
        /// The bytes found, as text.
        found: String,
    },
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Truncated {
                what,
                needed,
                available,
            } => write!(
                f,
                "truncated {what}: needed {needed} bytes, only {available} left"
            ),
            ErrorKind::TooLarge { what, value, limit } => {
                write!(f, "{what} is {value}, more than the limit of {limit}")
            }
            ErrorKind::TrailingBytes { what, remaining } => {
                write!(f, "{remaining} unexpected bytes after {what}")
            }
            ErrorKind::Invalid { what, reason } => write!(f, "invalid {what}: {reason}"),
            ErrorKind::BadMagic {
                what,
                expected,
                found,
            } => {
                write!(
                    f,
                    "bad {what} signature: expected {expected}, found {found}"
                )
            }
        }
    }
}

impl Error {
    /// Builds an error at `offset`.
    pub fn new(offset: u64, kind: ErrorKind) -> Self {
        Error { offset, kind }
    }

    /// An [`ErrorKind::Invalid`] error at `offset`.
    pub fn invalid(offset: u64, what: &'static str, reason: impl Into<String>) -> Self {
        Error::new(
            offset,
            ErrorKind::Invalid {
                what,
                reason: reason.into(),
            },
        )
    }
}
