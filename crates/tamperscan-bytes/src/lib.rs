//! The parsing base shared by every tamperscan format parser.
//!
//! **Invariant:** nothing in this crate does I/O, allocates in proportion to untrusted lengths
//! without a bound, or panics on any input. Parsers built on [`Reader`] inherit those properties
//! as long as they only touch bytes through it.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::panic)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

mod error;
mod guid;
mod hex;
mod reader;
pub mod sniff;
pub mod text;

pub use error::{Error, ErrorKind};
pub use guid::{Guid, GuidParseError};
pub use hex::{hex, unhex};
pub use reader::Reader;
