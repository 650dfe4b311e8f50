//! SMBIOS (DMTF DSP0134) tables and `dmidecode` text, decoded and turned into the normalized
//! [`Component`] model of `tamperscan-inventory`.
//!
//! Three inputs are understood, all as bytes or text already in memory:
//!
//! * binary tables ([`parse_binary`]): a `dmidecode --dump-bin` file (an SMBIOS 2.x `_SM_`,
//!   SMBIOS 3.x `_SM3_` or legacy `_DMI_` entry point at offset 0, the table where the entry
//!   point's address says), a raw structure table as Linux exposes it in
//!   `/sys/firmware/dmi/tables/DMI`, or the Windows `RawSMBIOSData` blob
//!   (`GetSystemFirmwareTable('RSMB')`); the entry point file alone goes through
//!   [`parse_entry_point`] and its version can be handed to [`parse_table`];
//! * `dmidecode` text of any 2.x/3.x version, whole or `-t N` or `-q`
//!   ([`parse_dmidecode_text`]);
//! * both then become [`Component`]s ([`to_components`]) and the identity serials and UUID
//!   ([`identifiers`]).
//!
//! **Invariant:** no I/O, no panic on any input, and every count and length is bounded
//! ([`MAX_STRUCTURES`], [`MAX_STRING_LEN`], [`MAX_TEXT_RECORDS`], ...). Damage inside a table
//! stops the walk and is reported as an [`Issue`]; only input where nothing can be decoded is
//! an [`Error`].
//!
//! **Invariant:** placeholder values never reach an identity field: every value goes through
//! [`tamperscan_inventory::clean`].
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::panic)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

mod entry_point;
mod normalize;
mod structures;
mod table;
mod text;

pub use entry_point::{parse_entry_point, EntryPoint, EntryPointKind, Version};
pub use normalize::{identifiers, to_components, Identifiers, Inventory};
pub use structures::{
    Baseboard, Bios, Chassis, IpmiDevice, MemoryDevice, OnboardDevice, PowerSupply, Processor,
    Record, SystemInfo, SystemSlot, TpmDevice,
};
pub use table::{parse_binary, parse_table, Issue, Smbios, Structure, TableSource};
pub use tamperscan_inventory::{Component, ComponentClass};
pub use text::{parse_dmidecode_text, DmiText, Field, TextIssue, TextRecord};

/// The most structures one table walk decodes; real tables hold a few hundred.
pub const MAX_STRUCTURES: usize = 16_384;
/// The longest string kept from a string set (longer ones are cut, with an [`Issue`]).
pub const MAX_STRING_LEN: usize = 1024;
/// The most records kept from one `dmidecode` text.
pub const MAX_TEXT_RECORDS: usize = 16_384;
/// The most fields kept in one `dmidecode` text record.
pub const MAX_TEXT_FIELDS: usize = 1024;
/// The most list values kept under one `dmidecode` text field.
pub const MAX_TEXT_ITEMS: usize = 4096;
/// The longest `dmidecode` text line looked at (longer ones are cut, with a [`TextIssue`]).
pub const MAX_TEXT_LINE: usize = 4096;

/// Why an input could not be decoded at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Binary input that is not an SMBIOS entry point or table, with the offset where decoding
    /// stopped and what was expected there.
    #[error(transparent)]
    Binary(#[from] tamperscan_bytes::Error),
    /// Text that is not `dmidecode` output.
    #[error("line {line}: {reason}")]
    Text {
        /// 1-based line number.
        line: usize,
        /// What was wrong, in words.
        reason: String,
    },
}
