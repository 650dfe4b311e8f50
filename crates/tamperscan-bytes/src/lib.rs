//! The parsing base shared by every tamperscan format parser.
//!
//! **Invariant:** nothing in this crate does I/O, allocates in proportion to untrusted lengths
//! without a bound, or panics on any input. Parsers built on [`Reader`] inherit those properties
//! as long as they only touch bytes through it.
#![forbid(unsafe_code)]
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]

mod error;
mod reader;
pub mod sniff;
pub mod text;

pub use error::{Error, ErrorKind};
pub use reader::Reader;
