//! Real Redfish-Mockup-Creator captures (Dell R750, Supermicro SYS-821GE-TNHR, NVIDIA GH200):
//! values asserted here are read by eye from the JSON files.
#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_no_placeholder_identity, inventory, load, one};
use tamperscan_redfish::{parse_capture, Capture, ComponentClass};

const FIRMWARE_INVENTORY: &str = "/redfish/v1/UpdateService/FirmwareInventory";

fn mockup(name: &str) -> Option<Capture> {
    let dir = inventory()?.join("redfish").join(name);
    Some(parse_capture(&load(&dir)).unwrap())
}

fn count(cap: &Capture, class: ComponentClass, under: &str) -> usize {
    cap.components
        .iter()
        .filter(|c| c.class.as_ref() == Some(&class) && c.source_ref.contains(under))
        .count()
}

#[test]
fn every_capture_parses_without_placeholder_identities() {
    let Some(inv) = inventory() else { return };
    let mut seen = 0;
    for entry in std::fs::read_dir(inv.join("redfish")).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let cap = parse_capture(&load(&dir)).unwrap();
        assert!(
            cap.resources_read > 300,
            "{}: {}",
            dir.display(),
            cap.resources_read
        );
        assert!(cap.components.len() > 50, "{}", dir.display());
        assert!(!cap.firmware.is_empty(), "{}", dir.display());
        assert!(cap.identifiers.smbios_uuid.is_some(), "{}", dir.display());
        assert_eq!(cap.identifiers.bmc_macs.len(), 1, "{}", dir.display());
        assert_no_placeholder_identity(&cap);
        for c in &cap.components {
            assert_eq!(c.source, "redfish");
            assert!(c.source_ref.starts_with("/redfish/v1/"), "{}", c.source_ref);
        }
        seen += 1;
    }
    assert_eq!(seen, 3);
}

#[test]
fn dell_poweredge_r750() {
    let Some(cap) = mockup("libredfish-dell-poweredge-r750-a") else {
        return;
    };
    let ids = &cap.identifiers;
    assert_eq!(ids.system_serial.as_deref(), Some("F54P1G3"));
    assert_eq!(ids.board_serial.as_deref(), Some("CNIVC0014M0388"));
    assert_eq!(ids.chassis_serial.as_deref(), Some("CNIVC0014M0388"));
    assert_eq!(
        ids.smbios_uuid.as_deref(),
        Some("4c4c4544-0035-3410-8050-c6c04f314733")
    );
    assert_eq!(ids.bmc_macs, ["b0:7b:25:d6:51:82"]);
    assert_eq!(
        ids.bmc_uuid.as_deref(),
        Some("3347314f-c0c6-5080-3410-00354c4c4544")
    );

    let system = cap
        .components
        .iter()
        .find(|c| c.class == Some(ComponentClass::System))
        .unwrap();
    assert_eq!(system.model.as_deref(), Some("PowerEdge R750"));
    assert_eq!(system.manufacturer.as_deref(), Some("Dell Inc."));
    assert_eq!(system.serial.as_deref(), Some("F54P1G3"));
    assert_eq!(system.part_number.as_deref(), Some("0WMWCRA01"));
    let bios = cap
        .components
        .iter()
        .find(|c| c.class == Some(ComponentClass::Bios) && c.source_ref == system.source_ref)
        .unwrap();
    assert_eq!(bios.firmware_version.as_deref(), Some("1.8.2"));
    let board = cap
        .components
        .iter()
        .find(|c| c.class == Some(ComponentClass::Baseboard))
        .unwrap();
    assert_eq!(board.serial.as_deref(), Some("CNIVC0014M0388"));

    let bmc = one(&cap, "/redfish/v1/Managers/iDRAC.Embedded.1");
    assert_eq!(bmc.class, Some(ComponentClass::Bmc));
    assert_eq!(bmc.model.as_deref(), Some("15G Monolithic"));
    assert_eq!(bmc.firmware_version.as_deref(), Some("6.00.30.00"));
    assert_eq!(bmc.macs, ["b0:7b:25:d6:51:82"]);

    let nic = one(
        &cap,
        "/redfish/v1/Chassis/System.Embedded.1/NetworkAdapters/NIC.Integrated.1",
    );
    assert_eq!(nic.class, Some(ComponentClass::Nic));
    assert_eq!(nic.serial.as_deref(), Some("VNFCVBA14I00AD"));
    assert_eq!(nic.firmware_version.as_deref(), Some("21.80.16.95"));
    assert_eq!(nic.macs, ["e4:3d:1a:13:27:f0", "e4:3d:1a:13:27:f1"]);
    let ib = one(
        &cap,
        "/redfish/v1/Chassis/System.Embedded.1/NetworkAdapters/InfiniBand.Slot.7",
    );
    assert!(ib.macs.contains(&"b8:3f:d2:a4:1b:d2".to_string()));

    let psu = one(
        &cap,
        "/redfish/v1/Chassis/System.Embedded.1/PowerSubsystem/PowerSupplies/PSU.Slot.1",
    );
    assert_eq!(psu.serial.as_deref(), Some("PHARP0016L008V"));
    assert_eq!(psu.firmware_version.as_deref(), Some("00.2A.2B"));
    assert_eq!(psu.part_number.as_deref(), Some("07GN3CA02"));
    // The deprecated Power resource repeats both supplies: they are not counted twice.
    let psus_with_serial = cap
        .components
        .iter()
        .filter(|c| c.class == Some(ComponentClass::PowerSupply) && c.serial.is_some())
        .count();
    assert_eq!(psus_with_serial, 2);

    let dimm = one(
        &cap,
        "/redfish/v1/Systems/System.Embedded.1/Memory/DIMM.Socket.A1",
    );
    assert_eq!(dimm.serial.as_deref(), Some("2E67A645"));
    assert_eq!(dimm.part_number.as_deref(), Some("18ASF4G72PDZ-3G2E1"));
    assert_eq!(dimm.location.as_deref(), Some("DIMM A1"));
    assert_eq!(count(&cap, ComponentClass::Memory, "/Memory/"), 16);
    assert_eq!(count(&cap, ComponentClass::Cpu, "/Processors/"), 2);
    assert_eq!(count(&cap, ComponentClass::Storage, "/Drives/"), 3);

    // iDRAC serves every PCIe device under the system and the chassis: one component each.
    let pcie: Vec<_> = cap
        .components
        .iter()
        .filter(|c| c.source_ref.contains("/PCIeDevices/"))
        .collect();
    assert_eq!(pcie.len(), 13);
    let ssd = pcie
        .iter()
        .find(|c| c.serial.as_deref() == Some("PHTBPKK16P02L6"))
        .unwrap();
    assert_eq!(ssd.pci_id.as_deref(), Some("1e0f:0007:1028:207e"));

    // Firmware inventory: every entry, BIOS current and previous, NIC MACs from their names.
    assert_eq!(cap.firmware.len(), 29);
    assert!(cap
        .firmware
        .iter()
        .all(|f| f.collection.as_deref() == Some(FIRMWARE_INVENTORY)));
    let bios_fw = cap
        .firmware
        .iter()
        .find(|f| f.id.as_deref() == Some("Installed-159-1.8.2__BIOS.Setup.1-1"))
        .unwrap();
    assert_eq!(bios_fw.version.as_deref(), Some("1.8.2"));
    assert_eq!(bios_fw.software_id.as_deref(), Some("159"));
    assert_eq!(bios_fw.updateable, Some(true));
    assert_eq!(
        bios_fw.release_date.as_deref(),
        Some("2022-09-16T00:00:00Z")
    );
    assert_eq!(
        cap.components[bios_fw.component].class,
        Some(ComponentClass::Bios)
    );
    let previous = cap
        .firmware
        .iter()
        .find(|f| f.id.as_deref() == Some("Previous-159-1.2.4__BIOS.Setup.1-1"))
        .unwrap();
    assert_eq!(previous.version.as_deref(), Some("1.2.4"));
    let nic_fw = cap
        .firmware
        .iter()
        .find(|f| f.id.as_deref() == Some("Current-108089-21.80.16.95__NIC.Integrated.1-1-1"))
        .unwrap();
    let nic_fw_comp = &cap.components[nic_fw.component];
    assert_eq!(nic_fw_comp.class, Some(ComponentClass::Nic));
    assert_eq!(nic_fw_comp.macs, ["e4:3d:1a:13:27:f0"]);
    let idrac_fw = cap
        .firmware
        .iter()
        .find(|f| f.id.as_deref() == Some("Installed-25227-6.00.30.00__iDRAC.Embedded.1-1"))
        .unwrap();
    assert_eq!(
        cap.components[idrac_fw.component].class,
        Some(ComponentClass::Bmc)
    );
    for (id, class) in [
        (
            "Installed-27763-1.0.5__CPLD.Embedded.1",
            ComponentClass::Cpld,
        ),
        (
            "Installed-109673-7.2.2.0__TPM.Integrated.1-1",
            ComponentClass::Tpm,
        ),
        (
            "Installed-108076-00.2A.2B__PSU.Slot.1",
            ComponentClass::PowerSupply,
        ),
    ] {
        let f = cap
            .firmware
            .iter()
            .find(|f| f.id.as_deref() == Some(id))
            .unwrap();
        assert_eq!(cap.components[f.component].class, Some(class), "{id}");
    }

    // The one broken resource (an error answer) is an issue naming its file.
    assert_eq!(cap.issues.len(), 1, "{:#?}", cap.issues);
    assert!(cap.issues[0]
        .path
        .ends_with("NetworkPorts/InfiniBand.Slot.7/index.json"));
    assert!(cap.issues[0].message.contains("error"));
}

#[test]
fn supermicro_sys_821ge_tnhr() {
    let Some(cap) = mockup("libredfish-supermicro-sys-821ge-tnhr") else {
        return;
    };
    let ids = &cap.identifiers;
    assert_eq!(ids.system_serial.as_deref(), Some("S889914X3710910"));
    assert_eq!(ids.board_serial.as_deref(), Some("OM234S005959"));
    assert_eq!(ids.chassis_serial.as_deref(), Some("C8010MM21A30331"));
    assert_eq!(
        ids.smbios_uuid.as_deref(),
        Some("00000000-0000-0000-0000-7cc25550a8ff")
    );
    // The ToHost interface's BE:B5:... address is locally administered: not an identity.
    assert_eq!(ids.bmc_macs, ["7c:c2:55:50:a8:ff"]);

    let board = cap
        .components
        .iter()
        .find(|c| c.class == Some(ComponentClass::Baseboard))
        .unwrap();
    assert_eq!(board.model.as_deref(), Some("X13DEG-OAD"));
    assert_eq!(board.serial.as_deref(), Some("OM234S005959"));
    assert_eq!(board.manufacturer.as_deref(), Some("Supermicro"));
    let system = common::by_ref(&cap, "/redfish/v1/Systems/1")
        .into_iter()
        .find(|c| c.class == Some(ComponentClass::System))
        .unwrap();
    assert_eq!(system.model.as_deref(), Some("SYS-821GE-TNHR"));
    assert_eq!(
        system.part_number.as_deref(),
        Some("SYS-821GE-TNHR-02-CI061")
    );

    let bmc = one(&cap, "/redfish/v1/Managers/1");
    assert_eq!(bmc.firmware_version.as_deref(), Some("11.01.01"));
    assert_eq!(bmc.model.as_deref(), Some("ASPEED"));
    assert_eq!(bmc.macs, ["7c:c2:55:50:a8:ff", "be:b5:71:8c:cc:4f"]);

    assert_eq!(cap.firmware.len(), 106);
    assert!(cap
        .firmware
        .iter()
        .all(|f| f.collection.as_deref() == Some(FIRMWARE_INVENTORY)));
    let bmc_fw = cap
        .firmware
        .iter()
        .find(|f| f.odata_id == "/redfish/v1/UpdateService/FirmwareInventory/BMC")
        .unwrap();
    assert_eq!(bmc_fw.version.as_deref(), Some("11.01.01"));
    assert_eq!(bmc_fw.manufacturer.as_deref(), Some("Supermicro"));
    assert_eq!(bmc_fw.release_date.as_deref(), Some("2023-11-17T00:00:00Z"));
    assert_eq!(bmc_fw.related_items, ["/redfish/v1/Managers/1"]);
    assert_eq!(
        cap.components[bmc_fw.related_component.unwrap()].source_ref,
        "/redfish/v1/Managers/1"
    );
    let backup = cap
        .firmware
        .iter()
        .find(|f| f.odata_id.ends_with("/Backup_BIOS"))
        .unwrap();
    assert_eq!(backup.version, None);
    let backup_comp = &cap.components[backup.component];
    assert_eq!(backup_comp.class, Some(ComponentClass::Bios));
    assert_eq!(backup_comp.placeholders, ["firmware_version: Not Present"]);
    let gpu_fw = cap
        .firmware
        .iter()
        .find(|f| f.odata_id.ends_with("/GPU3"))
        .unwrap();
    let gpu = &cap.components[gpu_fw.related_component.unwrap()];
    assert_eq!(gpu.class, Some(ComponentClass::Gpu));
    assert_eq!(gpu.serial.as_deref(), Some("1652323020605"));
    assert_eq!(gpu.firmware_version.as_deref(), Some("96.00.61.00.01"));
    let cpld = cap
        .firmware
        .iter()
        .find(|f| f.odata_id.ends_with("/CPLD_Motherboard"))
        .unwrap();
    assert_eq!(
        cap.components[cpld.component].class,
        Some(ComponentClass::Cpld)
    );
    assert_eq!(cpld.version.as_deref(), Some("F5.11.CB"));

    let gpus = cap
        .components
        .iter()
        .filter(|c| c.class == Some(ComponentClass::Gpu) && c.source_ref.contains("/PCIeDevices/"))
        .count();
    assert_eq!(gpus, 8);
    let aoc = one(&cap, "/redfish/v1/Chassis/1/NetworkAdapters/9");
    assert_eq!(aoc.model.as_deref(), Some("AOC-STGS-i2T"));
    assert_eq!(aoc.serial.as_deref(), Some("VA236S008824"));
    assert_eq!(aoc.macs, ["7c:c2:55:79:3f:8e", "7c:c2:55:79:3f:8f"]);
    assert_eq!(aoc.location.as_deref(), Some("RISER 0 slot 1 (10)"));
    let psu = one(&cap, "/redfish/v1/Chassis/1/Power#/PowerSupplies/0");
    assert_eq!(psu.serial.as_deref(), Some("P3K6GCN25IB0914"));
    assert_eq!(psu.model.as_deref(), Some("PWS-3K06G-2R"));
    assert_eq!(count(&cap, ComponentClass::PowerSupply, "/Power#/"), 8);
    assert_eq!(count(&cap, ComponentClass::Memory, "/Memory/"), 32);
    assert_eq!(count(&cap, ComponentClass::Cpu, "/Processors/"), 2);
    let drive = one(
        &cap,
        "/redfish/v1/Chassis/NVMeSSD.0.Group.0.StorageBackplane/Drives/Disk.Bay.0",
    );
    assert_eq!(drive.serial.as_deref(), Some("S6CKNN0W502286"));
    assert_eq!(drive.firmware_version.as_deref(), Some("GDC5602Q"));
    assert!(cap.issues.is_empty(), "{:#?}", cap.issues);
}

#[test]
fn nvidia_gh200_component_integrity() {
    let Some(cap) = mockup("libredfish-nvidia-gh200") else {
        return;
    };
    let ids = &cap.identifiers;
    assert_eq!(
        ids.smbios_uuid.as_deref(),
        Some("1e90aa6e-6d05-9589-2253-ce7672d02d26")
    );
    assert_eq!(ids.system_serial, None);
    assert_eq!(ids.bmc_macs, ["3c:6d:66:01:a8:cd"]);

    // Six SPDM entries; the seventh member (HGX_satmc) is an error answer, an issue.
    assert_eq!(cap.integrity.len(), 6);
    for e in &cap.integrity {
        assert_eq!(e.integrity_type.as_deref(), Some("SPDM"));
        assert_eq!(e.enabled, Some(true));
        let target = e.target_component_uri.as_deref().unwrap();
        assert!(
            target.starts_with("/redfish/v1/Chassis/HGX_ERoT_"),
            "{target}"
        );
        assert_eq!(cap.components[e.component].source_ref, target);
        assert_eq!(
            e.component_certificate.as_deref(),
            Some(format!("{target}/Certificates/CertChain").as_str())
        );
        // This BMC publishes no measurement set (only the action to get one signed).
        assert!(e.measurements.is_empty());
        assert_eq!(e.summary, None);
    }
    let gpu0 = cap
        .integrity
        .iter()
        .find(|e| e.id.as_deref() == Some("HGX_ERoT_GPU_0"))
        .unwrap();
    assert_eq!(
        gpu0.components_protected,
        ["/redfish/v1/Systems/HGX_Baseboard_0/Processors/GPU_0"]
    );
    assert!(cap
        .issues
        .iter()
        .any(|i| i.path == "redfish/v1/ComponentIntegrity/HGX_satmc/index.json"));

    let cpld = one(&cap, "/redfish/v1/Chassis/CPLD_0");
    assert_eq!(cpld.class, Some(ComponentClass::Cpld));
    assert_eq!(cpld.serial, None);
    assert_eq!(cpld.placeholders, ["serial: CPLDSerialNumber"]);
    let gpu = one(&cap, "/redfish/v1/Systems/HGX_Baseboard_0/Processors/GPU_0");
    assert_eq!(gpu.class, Some(ComponentClass::Gpu));
    assert_eq!(gpu.serial.as_deref(), Some("1640124000234"));
    assert_eq!(gpu.firmware_version.as_deref(), Some("96.00.A6.00.01"));
    let gpu_pcie = one(&cap, "/redfish/v1/Chassis/HGX_GPU_0/PCIeDevices/GPU_0");
    assert_eq!(gpu_pcie.class, Some(ComponentClass::Gpu));
    assert_eq!(gpu_pcie.pci_id.as_deref(), Some("10de:2342:10de:1937"));
    let bmc_chassis = one(&cap, "/redfish/v1/Chassis/BMC_0");
    assert_eq!(bmc_chassis.class, Some(ComponentClass::Bmc));
    assert_eq!(
        bmc_chassis.firmware_version.as_deref(),
        Some("GH200-24.05-2")
    );

    let fw = cap
        .firmware
        .iter()
        .filter(|f| f.collection.as_deref() == Some(FIRMWARE_INVENTORY))
        .count();
    assert_eq!(fw, 19);
    assert_eq!(cap.firmware.len(), 21);
    let uefi = cap
        .firmware
        .iter()
        .find(|f| f.id.as_deref() == Some("UEFI"))
        .unwrap();
    assert_eq!(
        cap.components[uefi.component].class,
        Some(ComponentClass::Bios)
    );
    // Trailing blanks of the BMC's version strings are trimmed.
    let cpu_fw = cap
        .firmware
        .iter()
        .find(|f| f.id.as_deref() == Some("HGX_FW_CPU_0"))
        .unwrap();
    assert_eq!(cpu_fw.version.as_deref(), Some("01.02.04"));
}
