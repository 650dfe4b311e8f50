//! SPI-flash structures that sit outside UEFI firmware volumes, parsed from untrusted bytes.
//!
//! - [`ifd`]: the Intel flash descriptor (regions, components, master access bits).
//! - [`fpt`]: the Intel ME/CSME/SPS flash partition table (`$FPT`): the table only.
//! - [`nvram`]: UEFI variable stores (`VARIABLE_STORE_HEADER`, VSS and VSS2), their variables,
//!   the `EFI_SIGNATURE_LIST` chains of the Secure Boot databases, and the fault-tolerant-write
//!   working block that sits beside them.
//!
//! **Invariant:** nothing here does I/O or panics; every count and length read from the input is
//! checked against the input before use, and every error carries the absolute offset where
//! decoding stopped ([`tamperscan_bytes::Error`]). Inconsistencies that do not stop decoding are
//! returned as [`Issue`]s next to the decoded values.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod fpt;
pub mod ifd;
mod issue;
pub mod nvram;

pub use issue::Issue;
pub use tamperscan_bytes::{Error, ErrorKind, Guid};

/// SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// The bytes `bytes[start..start + len]`, or `None` when that range is not inside `bytes`.
pub(crate) fn slice_at(bytes: &[u8], start: usize, len: usize) -> Option<&[u8]> {
    let end = start.checked_add(len)?;
    bytes.get(start..end)
}

/// A reader over `bytes` positioned at `pos`, whose offsets are absolute (`base` is the offset
/// of `bytes[0]`).
pub(crate) fn reader_at<'a>(
    bytes: &'a [u8],
    base: u64,
    pos: usize,
    what: &'static str,
) -> Result<tamperscan_bytes::Reader<'a>, Error> {
    let mut r = tamperscan_bytes::Reader::with_base(bytes, base);
    r.skip(pos, what)?;
    Ok(r)
}

/// `base + pos` as an absolute offset.
pub(crate) fn abs(base: u64, pos: usize) -> u64 {
    base.saturating_add(pos as u64)
}
