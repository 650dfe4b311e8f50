//! Network detectors for tamperscan: periodic beacons tested against a null model, long
//! connections, DNS tunnels, management-plane policy and fleet rarity, ranked by all of it.
//!
//! The crate does no I/O: readers (`tamperscan-flows`) turn logs and captures into records, the
//! [`scan::Scanner`] folds them and returns [`finding::NetFinding`]s, most suspicious first.
#![forbid(unsafe_code)]

pub mod baseline;
pub mod context;
pub mod dns;
pub mod finding;
pub mod periodicity;
pub mod picture;
pub mod rita;
pub mod scan;
pub mod synth;

pub use baseline::Baseline;
pub use context::Context;
pub use finding::{Kind, Level, NetFinding};
pub use scan::{Options, Scanner};
