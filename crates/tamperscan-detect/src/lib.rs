//! The judging half of tamperscan: detectors turn a read fleet into findings and verdicts.
//!
//! **Invariant:** detectors are pure and deterministic: they read only the [`Fleet`] value (no
//! I/O, no clock, no randomness), and the same fleet gives the same findings in the same order
//! whatever the thread count.
#![forbid(unsafe_code)]

mod board;
pub mod boot;
pub mod consensus;
mod engine;
mod evidence;
mod firmware;
mod host;
mod inventory;
mod network;

pub use engine::{audit, detectors, Audit, Detector, HostReport};
pub use tamperscan_fleet::Fleet;
