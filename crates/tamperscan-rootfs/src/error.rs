/// Why an image could not be listed at all.
///
/// Damage found once the superblock has been read is not an error but an entry in
/// [`crate::Listing::issues`]; these errors mean nothing could be listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A structure could not be decoded (carries the absolute offset and what was expected).
    #[error(transparent)]
    Format(#[from] tamperscan_bytes::Error),
    /// The filesystem uses a compressor this crate does not decompress.
    #[error("at offset {offset} (0x{offset:x}): unsupported compressor {name}")]
    UnsupportedCompressor {
        /// Where the compressor is named.
        offset: u64,
        /// The compressor's name (and id).
        name: String,
    },
    /// A filesystem version or feature this crate does not read.
    #[error("at offset {offset} (0x{offset:x}): {what} is not supported")]
    Unsupported {
        /// Where the feature is declared.
        offset: u64,
        /// The version or feature.
        what: String,
    },
    /// Compressed data did not decompress.
    #[error("at offset {offset} (0x{offset:x}): decompressing {what} failed: {reason}")]
    Decompress {
        /// Where the compressed data starts.
        offset: u64,
        /// What was being decompressed.
        what: &'static str,
        /// The decompressor's complaint.
        reason: String,
    },
    /// The decompression budget for the listing ran out.
    #[error(
        "at offset {offset} (0x{offset:x}): {what} needs up to {needed} bytes of output but only \
         {left} of the {limit}-byte budget are left"
    )]
    Budget {
        /// Where the data that would exceed the budget starts.
        offset: u64,
        /// What was being produced.
        what: &'static str,
        /// Bytes it may produce.
        needed: u64,
        /// Bytes left in the budget.
        left: u64,
        /// The whole budget.
        limit: u64,
    },
    /// No known filesystem signature at the start of the input.
    #[error("at offset 0 (0x0): no squashfs, cramfs or JFFS2 signature")]
    Unrecognised,
}

impl Error {
    /// The absolute offset in the image the error refers to.
    pub fn offset(&self) -> u64 {
        match self {
            Error::Format(e) => e.offset,
            Error::UnsupportedCompressor { offset, .. }
            | Error::Unsupported { offset, .. }
            | Error::Decompress { offset, .. }
            | Error::Budget { offset, .. } => *offset,
            Error::Unrecognised => 0,
        }
    }
}
