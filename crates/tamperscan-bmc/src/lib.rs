//! BMC-side firmware images: flattened device trees and the flash partition maps they describe
//! ([`fdt`]), U-Boot FIT images with hash verification ([`fit`]), legacy U-Boot images
//! ([`uboot`]), OpenBMC image manifests ([`openbmc`]) and finding all of these inside a whole
//! SPI flash dump ([`scan`](mod@scan)).
//!
//! **Invariant:** no I/O and no panics on any input; every length, count, nesting depth and the
//! total amount of hashing are bounded; errors carry the absolute offset in the input.
#![forbid(unsafe_code)]
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]

pub mod fdt;
pub mod fit;
pub mod openbmc;
pub mod scan;
pub mod uboot;

pub use fdt::{partitions, Fdt, Node, Partition, Property};
pub use fit::{Fit, FitConfig, FitHash, FitImage, FitIssue, FitSignature};
pub use openbmc::{Manifest, ManifestError};
pub use scan::{scan, scan_report, Found, FoundKind, ScanReport};
pub use tamperscan_bytes::Error;
pub use uboot::LegacyImage;
