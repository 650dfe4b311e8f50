//! `lspci` text: the real `-nn` sample of a Supermicro M11SDV-8C-LN4F (nixos-hardware README),
//! real `-vvnn`/`-vmm`/`-mm` output of this project's build sandbox (pciutils 3.9.0 on a
//! virtual machine), and a server-like `-vvnn` sample we wrote in the documented format.
#![allow(clippy::unwrap_used)]

mod common;

use tamperscan_redfish::{
    parse_lspci, parse_lspci_bytes, to_components, ComponentClass, PciAddress,
};

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lspci")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// The fenced code block of a markdown file.
fn code_block(markdown: &str) -> String {
    let mut inside = false;
    let mut out = String::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            if inside {
                break;
            }
            inside = true;
            continue;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn nixos_hardware_readme_sample() {
    let Some(inv) = common::inventory() else {
        return;
    };
    let md = std::fs::read_to_string(
        inv.join("lspci/nixos-hardware-supermicro-m11sdv-8c-ln4f-README.md"),
    )
    .unwrap();
    let block = code_block(&md);
    assert!(block.starts_with("$ lspci -nn"));
    let devices = parse_lspci(&block).unwrap();
    assert_eq!(devices.len(), 39);
    // The whole README parses the same: prose and fences are not records.
    let whole = parse_lspci(&md).unwrap();
    assert_eq!(whole.len(), devices.len());
    assert!(whole
        .iter()
        .zip(&devices)
        .all(|(a, b)| a.line == b.line + 5 && a.pci_id() == b.pci_id()));

    let first = &devices[0];
    assert_eq!(first.address, PciAddress::parse("00:00.0").unwrap());
    assert_eq!(first.class_name.as_deref(), Some("Host bridge"));
    assert_eq!(first.class_code, Some(0x0600));
    assert_eq!(first.vendor_id, Some(0x1022));
    assert_eq!(first.device_id, Some(0x1450));
    assert_eq!(
        first.description.as_deref(),
        Some("Advanced Micro Devices, Inc. [AMD] Family 17h (Models 00h-0fh) Root Complex")
    );
    let nvme = devices.iter().find(|d| d.address.bus == 1).unwrap();
    assert_eq!(nvme.class_code, Some(0x0108));
    assert_eq!(nvme.pci_id().as_deref(), Some("1179:011a"));
    let sas = devices.iter().find(|d| d.address.bus == 5).unwrap();
    assert_eq!(sas.revision, Some(0x02));
    assert_eq!(
        sas.description.as_deref(),
        Some("Broadcom / LSI SAS3008 PCI-Express Fusion-MPT SAS-3")
    );

    let comps = to_components(&devices);
    let nics: Vec<_> = comps
        .iter()
        .filter(|c| c.class == Some(ComponentClass::Nic))
        .collect();
    assert_eq!(nics.len(), 4);
    assert_eq!(nics[0].pci_id.as_deref(), Some("8086:1521"));
    assert_eq!(nics[3].location.as_deref(), Some("0000:04:00.3"));
    assert_eq!(nics[0].revision.as_deref(), Some("01"));
    let storage = comps
        .iter()
        .filter(|c| c.class == Some(ComponentClass::StorageController))
        .count();
    assert_eq!(storage, 3); // NVMe, SAS, SATA
    assert_eq!(
        comps
            .iter()
            .filter(|c| c.class == Some(ComponentClass::Gpu))
            .count(),
        1
    );
    assert!(comps
        .iter()
        .all(|c| c.source == "lspci" && c.serial.is_none()));
}

#[test]
fn sandbox_vvnn() {
    let devices = parse_lspci(&fixture("sandbox-vvnn.txt")).unwrap();
    assert_eq!(devices.len(), 6);
    let net = devices
        .iter()
        .find(|d| d.class_code == Some(0x0200))
        .unwrap();
    assert_eq!(net.address.to_string(), "0000:00:03.0");
    assert_eq!(net.pci_id().as_deref(), Some("1af4:1041:1af4:1041"));
    assert_eq!(
        net.subsystem_name.as_deref(),
        Some("Red Hat, Inc. Virtio 1.0 network device")
    );
    assert_eq!(net.revision, Some(1));
    assert_eq!(net.kernel_driver.as_deref(), Some("virtio-pci"));
    assert_eq!(net.serial_number, None);
    let host = &devices[0];
    assert_eq!(
        host.description.as_deref(),
        Some("Intel Corporation Device")
    );
    assert_eq!(host.pci_id().as_deref(), Some("8086:0d57"));
    assert_eq!(host.kernel_driver, None);
    let comps = to_components(&devices);
    assert_eq!(comps[3].class, Some(ComponentClass::Nic));
    assert_eq!(comps[2].class, Some(ComponentClass::StorageController));
    assert!(matches!(comps[1].class, Some(ComponentClass::Other(_))));
    assert_eq!(comps[0].class, Some(ComponentClass::Pcie));
}

#[test]
fn sandbox_machine_formats_agree_with_vvnn() {
    let human = parse_lspci(&fixture("sandbox-vvnn.txt")).unwrap();
    for name in [
        "sandbox-vmmnnk-D.txt",
        "sandbox-mmnn.txt",
        "sandbox-n-vmm.txt",
    ] {
        let machine = parse_lspci(&fixture(name)).unwrap();
        assert_eq!(machine.len(), human.len(), "{name}");
        for (m, h) in machine.iter().zip(&human) {
            assert_eq!(
                (m.address.bus, m.address.device, m.address.function),
                (h.address.bus, h.address.device, h.address.function),
                "{name}"
            );
            assert_eq!(m.class_code, h.class_code, "{name}");
            assert_eq!(m.pci_id(), h.pci_id(), "{name} {}", m.address);
            assert_eq!(m.revision, h.revision, "{name} {}", m.address);
        }
    }
    let vmm = parse_lspci(&fixture("sandbox-vmmnnk-D.txt")).unwrap();
    assert_eq!(vmm[1].address.domain, Some(0));
    assert_eq!(vmm[1].vendor_name.as_deref(), Some("Red Hat, Inc."));
    assert_eq!(
        vmm[1].device_name.as_deref(),
        Some("Virtio 1.0 memory balloon")
    );
    assert_eq!(vmm[1].kernel_driver.as_deref(), Some("virtio-pci"));
    assert_eq!(vmm[0].prog_if, Some(0));
    let mm = parse_lspci(&fixture("sandbox-mmnn.txt")).unwrap();
    assert_eq!(mm[3].vendor_name.as_deref(), Some("Red Hat, Inc."));
    assert_eq!(
        mm[3].subsystem_name.as_deref(),
        Some("Red Hat, Inc. Virtio 1.0 network device")
    );
    // Plain -vmm (names, no ids) still finds the unknown device's id in "Device 0d57".
    let plain = parse_lspci(&fixture("sandbox-vmm-D.txt")).unwrap();
    assert_eq!(plain.len(), 6);
    assert_eq!(plain[0].device_id, Some(0x0d57));
    assert_eq!(plain[0].vendor_id, None);
    assert_eq!(plain[3].class_name.as_deref(), Some("Ethernet controller"));
    assert_eq!(to_components(&plain)[3].class, Some(ComponentClass::Nic));
}

#[test]
fn handwritten_server_vvnn_with_vpd_and_serial_numbers() {
    let devices = parse_lspci(&fixture("handwritten-server-vvnn.txt")).unwrap();
    assert_eq!(devices.len(), 5);
    let nic = &devices[0];
    assert_eq!(nic.address.to_string(), "0000:3b:00.0");
    assert_eq!(
        nic.serial_number.as_deref(),
        Some("b8-3f-d2-03-00-aa-bb-cc")
    );
    assert_eq!(nic.physical_slot.as_deref(), Some("3"));
    assert_eq!(nic.kernel_modules, ["mlx5_core"]);
    assert_eq!(
        nic.description.as_deref(),
        Some("Mellanox Technologies MT28908 Family [ConnectX-6]")
    );
    let vpd = nic.vpd.as_ref().unwrap();
    assert_eq!(
        vpd.product_name.as_deref(),
        Some("TAMPERSCAN EXAMPLE 100GbE DUAL PORT ADAPTER")
    );
    assert_eq!(vpd.part_number.as_deref(), Some("TS-EXAMPLE-NIC-01"));
    assert_eq!(vpd.serial_number.as_deref(), Some("TS0000X00001"));
    assert_eq!(vpd.engineering_change.as_deref(), Some("A7"));
    let keywords: Vec<&str> = vpd.fields.iter().map(|f| f.keyword.as_str()).collect();
    assert_eq!(keywords, ["PN", "EC", "V2", "SN", "V3", "VA", "V0", "RV"]);
    assert_eq!(
        vpd.fields[5].value,
        "TS:MODL=EXAMPLE:MN=TS:CSKU=V2:UUID=V3:PCI=V0"
    );

    let comps = to_components(&devices);
    let c = &comps[0];
    assert_eq!(c.class, Some(ComponentClass::Nic));
    assert_eq!(c.serial.as_deref(), Some("TS0000X00001"));
    assert_eq!(c.part_number.as_deref(), Some("TS-EXAMPLE-NIC-01"));
    assert_eq!(c.revision.as_deref(), Some("A7"));
    assert_eq!(c.pci_id.as_deref(), Some("15b3:101b:15b3:0007"));
    assert_eq!(c.source_ref, "0000:3b:00.0");
    // An all-zero Device Serial Number is a placeholder, never a serial.
    assert_eq!(
        devices[1].serial_number.as_deref(),
        Some("00-00-00-00-00-00-00-00")
    );
    assert_eq!(comps[1].serial, None);
    assert_eq!(comps[1].placeholders, ["serial: 00-00-00-00-00-00-00-00"]);
    assert_eq!(devices[1].prog_if, Some(0x02));
    // VPD "Not readable": no fields, the DSN is the serial.
    assert_eq!(comps[2].class, Some(ComponentClass::Gpu));
    assert_eq!(comps[2].serial.as_deref(), Some("48-2d-63-00-00-00-00-01"));
    assert_eq!(
        devices[2].kernel_modules,
        ["nvidiafb", "nouveau", "nvidia_drm", "nvidia"]
    );
    assert_eq!(devices[2].revision, Some(0xa1));
    assert_eq!(comps[3].class, Some(ComponentClass::Pcie));
    assert_eq!(comps[4].class, Some(ComponentClass::Gpu));

    let vmm = parse_lspci(&fixture("handwritten-server-vmmnn.txt")).unwrap();
    assert_eq!(vmm.len(), 2);
    assert_eq!(vmm[0].pci_id(), devices[0].pci_id());
    assert_eq!(vmm[1].pci_id(), devices[2].pci_id());
    assert_eq!(vmm[1].kernel_modules, ["nvidiafb", "nouveau"]);
    assert_eq!(
        to_components(&vmm)[0].manufacturer.as_deref(),
        Some("Mellanox Technologies")
    );
}

#[test]
fn bytes_entry_point() {
    let text = fixture("sandbox-vvnn.txt");
    assert_eq!(
        parse_lspci_bytes(text.as_bytes()).unwrap(),
        parse_lspci(&text).unwrap()
    );
    assert_eq!(parse_lspci("").unwrap(), []);
    assert_eq!(parse_lspci(" \n\n").unwrap(), []);
}
