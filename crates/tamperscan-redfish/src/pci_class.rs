//! PCI class codes (PCI Code and ID Assignment Specification, "Base Class" and "Sub-Class")
//! to component classes.

use tamperscan_inventory::ComponentClass;

/// The component class of a PCI function from its 16-bit class code (base class << 8 |
/// sub-class, as `lspci -nn` prints it: `0200`).
///
/// Network controllers (and InfiniBand serial-bus controllers) are `Nic`; mass storage and
/// Fibre Channel controllers are `StorageController`; display controllers and processing
/// accelerators are `Gpu`; `ffff` (unassigned) is `Other`; everything else is `Pcie`.
pub fn class_of_pci_code(code: u16) -> ComponentClass {
    let base = code >> 8;
    match (base, code) {
        (_, 0x0c06) => ComponentClass::Nic,
        (_, 0x0c04) => ComponentClass::StorageController,
        (0x02, _) => ComponentClass::Nic,
        (0x01, _) => ComponentClass::StorageController,
        (0x03 | 0x12, _) => ComponentClass::Gpu,
        (0xff, _) => ComponentClass::Other("Unassigned class".to_string()),
        _ => ComponentClass::Pcie,
    }
}

/// The component class from the class name alone (`lspci` without `-n`, Redfish
/// `PCIeFunction.DeviceClass`), when it says enough.
pub(crate) fn class_of_pci_name(name: &str) -> Option<ComponentClass> {
    let lower = name.to_ascii_lowercase().replace([' ', '-', '_'], "");
    if lower.contains("ethernet") || lower.contains("network") || lower.contains("infiniband") {
        return Some(ComponentClass::Nic);
    }
    if lower.contains("massstorage")
        || lower.contains("nonvolatilememory")
        || lower.contains("sata")
        || lower.contains("sas")
        || lower.contains("raid")
        || lower.contains("scsi")
        || lower.contains("fibrechannel")
    {
        return Some(ComponentClass::StorageController);
    }
    if lower.contains("vga")
        || lower.contains("display")
        || lower.contains("3dcontroller")
        || lower.contains("processingaccelerator")
    {
        return Some(ComponentClass::Gpu);
    }
    if lower.contains("bridge") {
        return Some(ComponentClass::Pcie);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_codes() {
        assert_eq!(class_of_pci_code(0x0200), ComponentClass::Nic);
        assert_eq!(class_of_pci_code(0x0207), ComponentClass::Nic);
        assert_eq!(class_of_pci_code(0x0108), ComponentClass::StorageController);
        assert_eq!(class_of_pci_code(0x0302), ComponentClass::Gpu);
        assert_eq!(class_of_pci_code(0x1200), ComponentClass::Gpu);
        assert_eq!(class_of_pci_code(0x0604), ComponentClass::Pcie);
        assert_eq!(class_of_pci_code(0x0c03), ComponentClass::Pcie);
        assert_eq!(class_of_pci_code(0x0c04), ComponentClass::StorageController);
        assert!(matches!(
            class_of_pci_code(0xffff),
            ComponentClass::Other(_)
        ));
    }

    #[test]
    fn class_names() {
        assert_eq!(
            class_of_pci_name("Ethernet controller"),
            Some(ComponentClass::Nic)
        );
        assert_eq!(
            class_of_pci_name("NetworkController"),
            Some(ComponentClass::Nic)
        );
        assert_eq!(
            class_of_pci_name("MassStorageController"),
            Some(ComponentClass::StorageController)
        );
        assert_eq!(
            class_of_pci_name("DisplayController"),
            Some(ComponentClass::Gpu)
        );
        assert_eq!(
            class_of_pci_name("3D controller"),
            Some(ComponentClass::Gpu)
        );
        assert_eq!(class_of_pci_name("USB controller"), None);
    }
}
