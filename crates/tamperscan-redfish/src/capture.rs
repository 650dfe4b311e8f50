//! The result of reading a Redfish capture, and the entry point.

use std::collections::BTreeMap;

use tamperscan_inventory::Component;

use crate::crawl::{crawl, cut};
use crate::error::Error;
use crate::extract::Extractor;
use crate::firmware::FirmwareEntry;
use crate::integrity::IntegrityEntry;

/// Bounds on the walk of a capture. Past a bound the walk stops or skips and records an
/// [`Issue`]; it never fails the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Resources parsed at most (a full mockup of a large server has a few thousand).
    pub max_resources: usize,
    /// Link hops from the service root at most.
    pub max_depth: usize,
    /// Bytes of one resource at most.
    pub max_resource_bytes: usize,
    /// Bytes of one text property taken into a component at most.
    pub max_field_len: usize,
    /// Issues recorded at most (one more says how many were dropped).
    pub max_issues: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_resources: 20_000,
            max_depth: 32,
            max_resource_bytes: 16 << 20,
            max_field_len: 512,
            max_issues: 1_000,
        }
    }
}

/// Something wrong with one resource of a capture: the capture is still read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The resource's key in the capture (its file path).
    pub path: String,
    /// What is wrong, in words.
    pub message: String,
}

/// Identity of the server as Redfish reports it; every value passed placeholder detection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identifiers {
    /// The system serial number: `ComputerSystem.SerialNumber`, but the service tag
    /// (`ComputerSystem.SKU`) on Dell, whose `SerialNumber` is the board's.
    pub system_serial: Option<String>,
    /// The main board serial number: Dell's `ComputerSystem.SerialNumber`, Supermicro's
    /// `Chassis.Oem.Supermicro.BoardSerialNumber`.
    pub board_serial: Option<String>,
    /// The serial number of the enclosure that holds the system.
    pub chassis_serial: Option<String>,
    /// `ComputerSystem.UUID` (the SMBIOS system UUID), lowercase.
    pub smbios_uuid: Option<String>,
    /// MAC addresses of the BMC's own network interfaces: universally administered ones only
    /// (USB and host-side interfaces use random, locally administered addresses).
    pub bmc_macs: Vec<String>,
    /// `Manager.UUID` of the first BMC, lowercase.
    pub bmc_uuid: Option<String>,
}

/// Everything read from one capture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capture {
    /// Hardware and firmware components (source `redfish`, source_ref the `@odata.id`).
    pub components: Vec<Component>,
    /// The server's identity.
    pub identifiers: Identifiers,
    /// Every `SoftwareInventory` resource (firmware and software inventories).
    pub firmware: Vec<FirmwareEntry>,
    /// Every `ComponentIntegrity` resource (SPDM and TPM measurements).
    pub integrity: Vec<IntegrityEntry>,
    /// Problems with single resources.
    pub issues: Vec<Issue>,
    /// Resources parsed.
    pub resources_read: usize,
    /// Mockup files no link led to (zero for flat sets, which are read whole).
    pub resources_unreached: usize,
    /// Distinct links whose target is not in the capture (mockups are often trimmed).
    pub links_unresolved: usize,
}

/// Issues with a bound.
#[derive(Debug)]
pub(crate) struct Issues {
    list: Vec<Issue>,
    max: usize,
    dropped: usize,
}

impl Issues {
    pub fn new(max: usize) -> Self {
        Issues {
            list: Vec::new(),
            max,
            dropped: 0,
        }
    }

    pub fn push(&mut self, path: &str, message: impl Into<String>) {
        if self.list.len() >= self.max {
            self.dropped += 1;
            return;
        }
        self.list.push(Issue {
            path: cut(path, 300),
            message: message.into(),
        });
    }

    pub fn first(&self) -> Option<&Issue> {
        self.list.first()
    }

    pub fn finish(mut self) -> Vec<Issue> {
        if self.dropped > 0 {
            self.list.push(Issue {
                path: String::new(),
                message: format!("{} more issues were not recorded", self.dropped),
            });
        }
        self.list
    }
}

/// Reads a Redfish capture with the default [`Limits`].
///
/// `resources` maps each resource's path in the capture to its bytes: a Redfish-Mockup-Creator
/// tree (`redfish/v1/index.json`, `redfish/v1/Systems/1/index.json`, ...; any prefix before
/// `redfish/v1` is ignored), walked from the service root along `@odata.id` links, or a flat
/// set of single responses under any names, indexed by their own `@odata.id`.
///
/// Fails only when the capture is empty or not one resource in it is a JSON object.
pub fn parse_capture(resources: &BTreeMap<String, Vec<u8>>) -> Result<Capture, Error> {
    parse_capture_with(resources, &Limits::default())
}

/// [`parse_capture`] with explicit bounds.
pub fn parse_capture_with(
    resources: &BTreeMap<String, Vec<u8>>,
    limits: &Limits,
) -> Result<Capture, Error> {
    if resources.is_empty() {
        return Err(Error::EmptyCapture);
    }
    let mut issues = Issues::new(limits.max_issues);
    let walk = crawl(resources, limits, &mut issues);
    if walk.resources.is_empty() {
        let first = issues
            .first()
            .map(|i| format!("{}: {}", i.path, i.message))
            .unwrap_or_else(|| "nothing reachable".to_string());
        return Err(Error::NoJsonResources {
            resources: resources.len(),
            first,
        });
    }
    let mut ex = Extractor::new(&walk, *limits, issues);
    ex.run();
    let (components, identifiers, firmware, integrity, issues) = ex.finish();
    Ok(Capture {
        components,
        identifiers,
        firmware,
        integrity,
        issues: issues.finish(),
        resources_read: walk.resources.len(),
        resources_unreached: walk.unreached,
        links_unresolved: walk.unresolved,
    })
}
