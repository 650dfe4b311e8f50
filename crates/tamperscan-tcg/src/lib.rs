//! TCG measured-boot evidence: event logs in the legacy SHA1 format (`TCG_PCR_EVENT`) and the
//! crypto-agile format (`TCG_PCR_EVENT2` after a Spec ID Event03 header), the data of the events
//! people need to read, and PCR replay per the TCG PC Client Platform Firmware Profile (PFP);
//! the Canonical Event Log (TLV and JSON), TDX CC event logs and their ACPI `CCEL` table, and
//! TPM 2.0 quotes.
//!
//! **Invariant:** no I/O and no panics on any input; every length and count is bounded; errors
//! carry the absolute offset in the log.
#![forbid(unsafe_code)]
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]

mod alg;
pub mod ccel;
pub mod cel;
pub mod cel_json;
mod digest_check;
pub mod event_data;
mod event_log;
mod event_type;
pub mod quote;
mod replay;
mod spec_id_event;
pub mod writer;

pub use alg::{AlgId, DigestBuf};
pub use cel_json::decode;
pub use digest_check::{check_digests, check_digests_with, DigestMemo, DigestMismatch};
pub use event_log::{parse, Event, EventLog, LogFormat, Trailing, MAX_EVENTS, MAX_EVENT_SIZE};
pub use event_type::EventType;
pub use replay::{replay, Pcrs, ReplayIssue};
pub use spec_id_event::{AlgorithmSize, SpecIdEvent};
pub use tamperscan_bytes::Error;
