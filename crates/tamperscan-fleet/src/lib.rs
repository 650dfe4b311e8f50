//! Reading a fleet directory (layout in the README): `fleet.toml`, `models/<model>/` with the
//! references of each hardware model, and `hosts/<host>/` with `host.toml` and evidence files.
//!
//! **Invariant:** operator-written configuration (`fleet.toml`, `host.toml`) that is malformed
//! is an error naming file and line; evidence collected from hosts is untrusted data, so
//! anything wrong with it (too large, not the promised format, unreadable) is recorded on the
//! evidence item for detectors to report, never an error that stops the audit. Every file read
//! is bounded in size; directory walks are bounded in depth and entries and never follow
//! symbolic links or open special files.
#![forbid(unsafe_code)]

pub mod board;
pub mod boot_reference;
mod config;
mod error;
pub mod firmware;
pub mod inventory;
mod layout;
mod load;
pub mod network;
pub mod observe;

pub use config::{
    check_dpi, check_px_per_mm, parse_fleet_toml, parse_host_toml, FleetConfig, HostConfig,
    ModelConfig,
};
pub use error::{FleetError, LoadError};
pub use layout::{classify, Slot};
pub use load::{
    load, read_evidence, use_worker_threads_only, Fleet, Host, Model, Note, BOOT_REFERENCE,
    CONFIG_SIZE_LIMIT,
};
