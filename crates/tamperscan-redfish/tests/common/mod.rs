//! Shared helpers of the integration tests.
#![allow(clippy::unwrap_used, dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tamperscan_redfish::{Capture, Component};

/// The inventory data folder, or `None` (skip) when the data set is absent.
pub fn inventory() -> Option<PathBuf> {
    Some(tamperscan_testdata::data_dir()?.join("inventory"))
}

/// Every file under `dir`, keyed by its path relative to `dir` (as a collector would).
pub fn load(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let files = tamperscan_testdata::files_under(dir);
    assert!(!files.is_empty(), "no files under {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let key = p
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (key, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// The components whose `source_ref` is exactly `id`.
pub fn by_ref<'a>(cap: &'a Capture, id: &str) -> Vec<&'a Component> {
    cap.components
        .iter()
        .filter(|c| c.source_ref == id)
        .collect()
}

/// The one component with this `source_ref`.
pub fn one<'a>(cap: &'a Capture, id: &str) -> &'a Component {
    let found = by_ref(cap, id);
    assert_eq!(
        found.len(),
        1,
        "components with source_ref {id}: {found:#?}"
    );
    found[0]
}

/// No identity field of any component is a placeholder (it would be cleaned away).
pub fn assert_no_placeholder_identity(cap: &Capture) {
    for c in &cap.components {
        for (field, value) in [
            ("serial", &c.serial),
            ("part_number", &c.part_number),
            ("model", &c.model),
            ("manufacturer", &c.manufacturer),
        ] {
            if let Some(v) = value {
                let mut ph = Vec::new();
                assert_eq!(
                    tamperscan_inventory::clean(Some(v), field, &mut ph).as_deref(),
                    Some(v.as_str()),
                    "placeholder {field} {v:?} in {}",
                    c.source_ref
                );
                assert!(!v.to_ascii_lowercase().contains("serialnumber"), "{v}");
            }
        }
        for mac in &c.macs {
            assert_eq!(
                tamperscan_inventory::normalize_mac(mac).as_deref(),
                Some(mac.as_str())
            );
        }
    }
    let ids = &cap.identifiers;
    for v in [
        &ids.system_serial,
        &ids.board_serial,
        &ids.chassis_serial,
        &ids.smbios_uuid,
    ]
    .into_iter()
    .flatten()
    {
        let mut ph = Vec::new();
        assert_eq!(
            tamperscan_inventory::clean(Some(v), "id", &mut ph).as_deref(),
            Some(v.as_str())
        );
    }
}
