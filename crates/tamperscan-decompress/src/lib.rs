//! Bounded decompressors for the formats firmware images nest inside each other.
//!
//! Every entry point takes the compressed bytes and an output budget `limit`, and returns the
//! decompressed bytes or an [`Error`]. The budget is enforced while decoding: a small input that
//! would expand beyond it (a decompression bomb) stops with [`Error::TooLarge`] as soon as the
//! budget is crossed, without allocating the full declared size. Sizes declared in headers are
//! checked against the budget before any decoding starts. Corrupt or truncated input gives an
//! error, never a panic or a hang.
//!
//! | function | format | used by |
//! |---|---|---|
//! | [`lzma`] | LZMA "alone" (`.lzma`, 13-byte header) | EDK2 `LzmaCompress` GUIDed sections, coreboot CBFS |
//! | [`lzma_x86`] | LZMA then the x86 BCJ filter ([`bcj_x86_decode`]) | EDK2 `LzmaF86` GUIDed sections |
//! | [`efi`] | UEFI "Compression Algorithm" (LZ77 + Huffman, 4-bit position set) | `EFI_SECTION_COMPRESSION` type 1 |
//! | [`tiano`] | the same with a 5-bit position set | Tiano GUIDed sections, old vendor images |
//! | [`brotli_edk2`] | 16-byte size header + Brotli | EDK2 `BrotliCustomDecompress` GUIDed sections |
//! | [`brotli`] | raw Brotli (RFC 7932) | |
//! | [`zlib`] / [`deflate`] | RFC 1950 / RFC 1951 | squashfs, cramfs, JFFS2 |
//! | [`gzip`] | RFC 1952, one or more members | kernels and initramfs images |
//! | [`xz`] | `.xz` container with the LZMA2 filter | BMC root filesystems |
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

mod bcj;
mod brotli;
mod efi;
mod gzip;
mod inflate;
mod lzma;
mod sink;
mod xz;

pub use bcj::bcj_x86_decode;
pub use brotli::{brotli, brotli_edk2};
pub use efi::{efi, tiano};
pub use gzip::gzip;
pub use inflate::{deflate, zlib};
pub use lzma::{lzma, lzma_x86};
pub use xz::xz;

/// Why a decompression failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The compressed data is malformed; `offset` is into the compressed input when known (else 0).
    #[error("corrupt compressed data at offset {offset:#x}: {reason}")]
    Corrupt {
        /// Offset into the compressed input where the problem was seen (0 when unknown).
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// The output would exceed the caller's budget (or the declared size does).
    #[error("decompressed data exceeds the limit of {limit} bytes{}", declared_suffix(*.declared))]
    TooLarge {
        /// The caller's output budget in bytes.
        limit: usize,
        /// The size the compressed data declares, when it declares one.
        declared: Option<u64>,
    },
    /// The compressed data ended early.
    #[error("compressed data truncated at offset {offset:#x}")]
    Truncated {
        /// Offset into the compressed input where more data was needed.
        offset: u64,
    },
}

impl Error {
    /// True for [`Error::TooLarge`]: the data may be fine, but it does not fit the budget.
    pub fn is_too_large(&self) -> bool {
        matches!(self, Error::TooLarge { .. })
    }

    /// Shorthand for [`Error::Corrupt`].
    pub(crate) fn corrupt(offset: impl TryInto<u64>, reason: impl Into<String>) -> Self {
        Error::Corrupt {
            offset: offset.try_into().unwrap_or(u64::MAX),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Truncated`].
    pub(crate) fn truncated(offset: impl TryInto<u64>) -> Self {
        Error::Truncated {
            offset: offset.try_into().unwrap_or(u64::MAX),
        }
    }
}

/// Converts a cursor error (from header parsing) into ours, keeping its offset.
pub(crate) fn from_reader_error(e: tamperscan_bytes::Error) -> Error {
    match e.kind {
        tamperscan_bytes::ErrorKind::Truncated { .. } => Error::Truncated { offset: e.offset },
        kind => Error::Corrupt {
            offset: e.offset,
            reason: kind.to_string(),
        },
    }
}

fn declared_suffix(declared: Option<u64>) -> String {
    declared.map_or_else(String::new, |d| format!(" (declared size {d})"))
}
