//! bmclib's Redfish fixtures: flat sets of single responses named by the collector.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::{assert_no_placeholder_identity, inventory, load, one};
use tamperscan_redfish::{parse_capture, ComponentClass};

#[test]
fn every_fixture_parses_alone_and_with_its_folder() {
    let Some(inv) = inventory() else { return };
    let root = inv.join("bmclib/fixtures");
    let all = load(&root);
    assert!(all.len() > 80, "{}", all.len());
    for (key, bytes) in &all {
        let single: BTreeMap<String, Vec<u8>> = [(key.clone(), bytes.clone())].into();
        let cap = parse_capture(&single).unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(cap.resources_read, 1, "{key}");
        assert!(cap.issues.is_empty(), "{key}: {:?}", cap.issues);
        assert_no_placeholder_identity(&cap);
    }
    // Each folder as one capture, and the top-level files as one.
    let mut folders: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
    for (key, bytes) in all {
        let folder = key.rsplit_once('/').map_or("", |(f, _)| f).to_string();
        folders.entry(folder).or_default().insert(key, bytes);
    }
    assert!(folders.len() >= 9);
    for (folder, set) in &folders {
        let cap = parse_capture(set).unwrap_or_else(|e| panic!("{folder}: {e}"));
        assert!(cap.resources_read >= 1, "{folder}");
        assert_no_placeholder_identity(&cap);
    }
}

fn single(name: &str) -> Option<tamperscan_redfish::Capture> {
    let path = inventory()?.join("bmclib/fixtures").join(name);
    let set: BTreeMap<String, Vec<u8>> = [(name.to_string(), std::fs::read(path).unwrap())].into();
    Some(parse_capture(&set).unwrap())
}

#[test]
fn supermicro_system_with_placeholder_sku() {
    let Some(cap) = single("systems_1.json") else {
        return;
    };
    let system = cap
        .components
        .iter()
        .find(|c| c.class == Some(ComponentClass::System))
        .unwrap();
    assert_eq!(system.serial.as_deref(), Some("FOOBAR"));
    assert_eq!(system.part_number.as_deref(), Some("SYS-510T-MR1-EI018"));
    assert_eq!(system.manufacturer.as_deref(), Some("Supermicro"));
    assert_eq!(system.placeholders, ["sku: To be filled by O.E.M."]);
    let bios = cap
        .components
        .iter()
        .find(|c| c.class == Some(ComponentClass::Bios))
        .unwrap();
    assert_eq!(bios.firmware_version.as_deref(), Some("1.6"));
    assert_eq!(
        cap.identifiers.smbios_uuid.as_deref(),
        Some("0032331a-24d7-ec11-8000-3cecefcefeda")
    );
    assert_eq!(cap.identifiers.system_serial.as_deref(), Some("FOOBAR"));
}

#[test]
fn supermicro_manager() {
    let Some(cap) = single("managers_1.json") else {
        return;
    };
    let bmc = one(&cap, "/redfish/v1/Managers/1");
    assert_eq!(bmc.class, Some(ComponentClass::Bmc));
    assert_eq!(bmc.model.as_deref(), Some("ASPEED"));
    assert_eq!(bmc.firmware_version.as_deref(), Some("01.13.04"));
    assert_eq!(
        cap.identifiers.bmc_uuid.as_deref(),
        Some("00000000-0000-0000-0000-3cecefcefeda")
    );
}

#[test]
fn network_adapters_collect_port_and_function_macs() {
    let Some(inv) = inventory() else { return };
    let base = inv.join("bmclib/fixtures");
    let cap = parse_capture(&load(&base.join("smc_aoc"))).unwrap();
    let nic = one(
        &cap,
        "/redfish/v1/Systems/1/NetworkInterfaces/NIC.Integrated.1/NetworkAdapter",
    );
    assert_eq!(nic.serial.as_deref(), Some("SN123456"));
    assert_eq!(nic.firmware_version.as_deref(), Some("1.2.3"));
    assert_eq!(nic.macs, ["3c:ec:ef:10:20:01", "3c:ec:ef:10:20:02"]);

    // Two adapters whose ports and functions share Ids: each keeps its own MACs.
    let cap = parse_capture(&load(&base.join("smc_aoc_id_collision"))).unwrap();
    let aoc = one(
        &cap,
        "/redfish/v1/Systems/1/NetworkInterfaces/NIC.Slot.1/NetworkAdapter",
    );
    assert_eq!(aoc.serial.as_deref(), Some("TESTAOCSERIAL01"));
    assert_eq!(aoc.macs, ["00:00:5e:00:53:03", "00:00:5e:00:53:04"]);
    let onboard = one(
        &cap,
        "/redfish/v1/Systems/1/NetworkInterfaces/NIC.Integrated.1/NetworkAdapter",
    );
    assert_eq!(onboard.macs, ["00:00:5e:00:53:01", "00:00:5e:00:53:02"]);

    let cap = parse_capture(&load(&base.join("smc_nvme_storage"))).unwrap();
    let drive = one(
        &cap,
        "/redfish/v1/Chassis/NVMeSSD.0.Group.0.StorageBackplane/Drives/Disk.Bay.2",
    );
    assert_eq!(drive.serial.as_deref(), Some("TESTDRIVESERIAL01"));
    assert_eq!(drive.firmware_version.as_deref(), Some("0105"));
    assert_eq!(drive.model.as_deref(), Some("KIOXIA KCD8XVUG6T40"));
}

#[test]
fn dell_fixtures() {
    let Some(inv) = inventory() else { return };
    let cap = parse_capture(&load(&inv.join("bmclib/fixtures/dell"))).unwrap();
    let ids = &cap.identifiers;
    assert_eq!(ids.system_serial.as_deref(), Some("FOOXD53"));
    assert_eq!(ids.board_serial.as_deref(), Some("CNCMU0005400IJ"));
    assert_eq!(
        ids.smbios_uuid.as_deref(),
        Some("4c4c4544-004c-4410-8058-c6c04f443533")
    );
    assert_eq!(ids.bmc_macs, ["d0:8e:79:bb:3e:ea"]);
    let bmc = one(&cap, "/redfish/v1/Managers/iDRAC.Embedded.1");
    assert_eq!(bmc.firmware_version.as_deref(), Some("1.20.50.52"));
    // Two files answer for the same @odata.id: the second is an issue, not a second system.
    assert_eq!(cap.issues.len(), 1, "{:?}", cap.issues);
    assert_eq!(cap.issues[0].path, "system.embedded.1.virtualmedia.json");
    let systems = cap
        .components
        .iter()
        .filter(|c| c.class == Some(ComponentClass::System))
        .count();
    assert_eq!(systems, 1);
}
