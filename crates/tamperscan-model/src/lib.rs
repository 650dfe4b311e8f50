//! The domain model every tamperscan crate speaks: hosts and their identifiers, evidence items,
//! the references a judgement rests on, findings and verdicts.
//!
//! **Invariant:** this crate does no I/O. Its `Serialize` derives are the JSON contract of
//! `tamperscan audit --format json` (documented in the README): renaming a field is a breaking
//! change.
#![forbid(unsafe_code)]

mod evidence;
mod finding;
mod host;
mod layer;

pub use evidence::{EvidenceItem, EvidenceKind, EvidenceStatus};
pub use finding::{Finding, Location, Picture, Reference, Severity, Verdict};
pub use host::{is_placeholder, HostId, Identifier, IdentifierKind, Trust};
pub use layer::Layer;
