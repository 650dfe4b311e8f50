//! Redfish captures and `lspci` text to the normalized [`Component`] model.
//!
//! Two inputs, both untrusted and both already read by the caller (this crate does no I/O):
//!
//! * a Redfish capture: the JSON resources a BMC served, keyed by their path in the capture
//!   ([`parse_capture`]). Captures written by DMTF Redfish-Mockup-Creator
//!   (`redfish/v1/Systems/1/index.json`, ...) are walked from the service root by following
//!   `@odata.id` links; a flat set of single responses (one JSON file per request, named as the
//!   collector liked) is indexed by each resource's own `@odata.id`.
//! * `lspci` text ([`parse_lspci`]): `lspci -nn`, `-vvnn`, `-vmm`/`-vmmnn` and `-mm`/`-mmnn`.
//!
//! **Invariant:** nothing here panics, loops or allocates without bound on any input: the walk
//! is bounded in resources, link depth, bytes per resource and field length ([`Limits`]); a
//! resource that is broken is an [`Issue`] naming its path, never a failure of the capture.
//! Placeholder values never become identity fields (they go through
//! [`tamperscan_inventory::clean`]).
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::panic)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

mod base64;
mod capture;
mod classify;
mod crawl;
mod error;
mod extract;
mod firmware;
mod integrity;
mod json;
mod lspci;
mod odata;
mod pci_class;

pub use capture::{parse_capture, parse_capture_with, Capture, Identifiers, Issue, Limits};
pub use error::Error;
pub use firmware::FirmwareEntry;
pub use integrity::{IntegrityEntry, Measurement, MeasurementSummary};
pub use lspci::{
    parse_lspci, parse_lspci_bytes, to_components, PciAddress, PciDevice, Vpd, VpdField,
};
pub use pci_class::class_of_pci_code;
pub use tamperscan_inventory::{Component, ComponentClass};
