//! `SoftwareInventory` resources (DSP8010 `SoftwareInventory` schema): the firmware and
//! software a BMC reports, each tied to the component it runs on when `RelatedItem` says so.

use std::collections::HashMap;

use tamperscan_inventory::{normalize_mac, Component, ComponentClass};

use crate::classify::class_by_name;
use crate::extract::{Extractor, MAX_MEMBERS};
use crate::json::{bool_at, members, refs_at};
use crate::odata::type_name;

/// One `SoftwareInventory` resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirmwareEntry {
    /// Its `@odata.id`.
    pub odata_id: String,
    /// The collection that lists it (`/redfish/v1/UpdateService/FirmwareInventory`), if any.
    pub collection: Option<String>,
    /// `Id`.
    pub id: Option<String>,
    /// `Name`.
    pub name: Option<String>,
    /// `Version` (placeholders such as `Not Present` removed).
    pub version: Option<String>,
    /// `Manufacturer`.
    pub manufacturer: Option<String>,
    /// `RelatedItem` links, as written.
    pub related_items: Vec<String>,
    /// `SoftwareId`.
    pub software_id: Option<String>,
    /// `Updateable`.
    pub updateable: Option<bool>,
    /// `ReleaseDate`, as written.
    pub release_date: Option<String>,
    /// Index in [`crate::Capture::components`] of the component made for this entry.
    pub component: usize,
    /// Index of the hardware component `RelatedItem` points to, when it was read.
    pub related_component: Option<usize>,
}

/// Reads every `SoftwareInventory`, makes a component for each, and gives a related hardware
/// component without a firmware version the version all its entries agree on.
pub(crate) fn read_all(ex: &mut Extractor<'_>) {
    let crawl = ex.crawl;
    let mut collection_of: HashMap<String, String> = HashMap::new();
    for r in &crawl.resources {
        if type_name(&r.value) == Some("SoftwareInventoryCollection") {
            for m in members(&r.value, MAX_MEMBERS) {
                collection_of.entry(m).or_insert_with(|| r.id.clone());
            }
        }
    }
    let hardware = ex.components.len();
    let mut versions_of: HashMap<usize, Vec<Option<String>>> = HashMap::new();
    for r in &crawl.resources {
        if type_name(&r.value) != Some("SoftwareInventory") {
            continue;
        }
        let (path, v) = (r.path.as_str(), &r.value);
        let mut ph = Vec::new();
        let id = ex.text(path, v, &["Id"], "id", &mut ph);
        let name = ex.text(path, v, &["Name"], "model", &mut ph);
        let version = ex.text(path, v, &["Version"], "firmware_version", &mut ph);
        let manufacturer = ex.text(path, v, &["Manufacturer"], "manufacturer", &mut ph);
        let software_id = ex.text(path, v, &["SoftwareId"], "software_id", &mut ph);
        let release_date = ex.text(path, v, &["ReleaseDate"], "release_date", &mut ph);
        let related_items = refs_at(v, &["RelatedItem"], MAX_MEMBERS);
        let related_component = related_items
            .iter()
            .filter(|rel| **rel != r.id)
            .find_map(|rel| ex.component_for(rel))
            .filter(|i| *i < hardware);

        // A generic name ("Software Inventory") says less than the Id.
        let label = name
            .clone()
            .filter(|n| !n.to_ascii_lowercase().contains("software inventory"))
            .or_else(|| id.clone())
            .unwrap_or_else(|| "firmware".to_string());
        let by_name = class_by_name(&format!("{label} {}", id.as_deref().unwrap_or_default()));
        let related_class = related_component
            .and_then(|i| ex.components.get(i))
            .and_then(|c| c.class.clone());
        let class = match (related_class, by_name) {
            (
                Some(ComponentClass::Chassis | ComponentClass::System | ComponentClass::Other(_)),
                Some(n),
            ) => n,
            (Some(rc), _) => rc,
            (None, Some(n)) => n,
            (None, None) => ComponentClass::Other(label.clone()),
        };
        let location = related_component
            .and_then(|i| ex.components.get(i))
            .and_then(|c| c.location.clone());
        let mut macs: Vec<String> = Vec::new();
        for word in label.split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')') {
            if let Some(mac) = normalize_mac(word) {
                if !macs.contains(&mac) {
                    macs.push(mac);
                }
            }
        }
        let component = Component {
            class: Some(class),
            manufacturer: manufacturer.clone(),
            model: Some(label),
            firmware_version: version.clone(),
            location,
            macs,
            source: "redfish".to_string(),
            source_ref: r.id.clone(),
            placeholders: ph,
            ..Component::default()
        };
        let idx = ex.push(component, &[]);
        if let Some(rc) = related_component {
            versions_of.entry(rc).or_default().push(version.clone());
        }
        ex.firmware.push(FirmwareEntry {
            odata_id: r.id.clone(),
            collection: collection_of.get(&r.id).cloned(),
            id,
            name,
            version,
            manufacturer,
            related_items,
            software_id,
            updateable: bool_at(v, &["Updateable"]),
            release_date,
            component: idx,
            related_component,
        });
    }
    for (idx, versions) in versions_of {
        let Some(first) = versions.first().cloned().flatten() else {
            continue;
        };
        if versions
            .iter()
            .all(|v| v.as_deref() == Some(first.as_str()))
        {
            if let Some(c) = ex.components.get_mut(idx) {
                if c.firmware_version.is_none() {
                    c.firmware_version = Some(first);
                }
            }
        }
    }
}
