//! What kind of part a Redfish name stands for, when the schema does not say.
//!
//! Firmware inventory entries and `Component`/`Module` chassis are named by the vendor
//! (`BIOS`, `CPLD Motherboard`, `HGX_FW_GPU_SXM_2`, `Broadcom Gigabit Ethernet BCM5720`); these
//! words are the only hint to their class. Unknown names give `None` and the caller keeps the
//! source's own name in [`ComponentClass::Other`].

use tamperscan_inventory::ComponentClass;

/// The class a name points to, or `None`.
pub(crate) fn class_by_name(text: &str) -> Option<ComponentClass> {
    let lower = text.to_ascii_lowercase();
    let tokens: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect();
    let has = |w: &str| tokens.contains(&w);
    let starts = |w: &str| tokens.iter().any(|t| t.starts_with(w));
    let contains = |w: &str| lower.contains(w);

    // Software that is not the firmware of one part, and roots of trust, which protect a part
    // but are not it.
    if contains("diagnostic")
        || contains("driver pack")
        || starts("driverpack")
        || contains("service module")
        || contains("lifecycle")
        || starts("erot")
    {
        return None;
    }
    if contains("cpld") || contains("fpga") {
        return Some(ComponentClass::Cpld);
    }
    if contains("bios") || contains("uefi") {
        return Some(ComponentClass::Bios);
    }
    if starts("bmc")
        || contains("idrac")
        || contains("remote access controller")
        || has("ilo")
        || has("xcc")
    {
        return Some(ComponentClass::Bmc);
    }
    if contains("gpu") {
        return Some(ComponentClass::Gpu);
    }
    if starts("tpm") {
        return Some(ComponentClass::Tpm);
    }
    if contains("power supply") || contains("powersupply") || starts("psu") {
        return Some(ComponentClass::PowerSupply);
    }
    if contains("raid")
        || has("hba")
        || contains("storage controller")
        || contains("nvmecontroller")
        || contains("nvme controller")
    {
        return Some(ComponentClass::StorageController);
    }
    if contains("nvme") || contains("ssd") || starts("disk") || has("drive") || has("hdd") {
        return Some(ComponentClass::Storage);
    }
    if starts("nic")
        || contains("ethernet")
        || contains("network")
        || contains("infiniband")
        || contains("connectx")
    {
        return Some(ComponentClass::Nic);
    }
    if starts("cpu") || contains("processor") {
        return Some(ComponentClass::Cpu);
    }
    None
}

/// Chassis types (Redfish `Chassis.ChassisType`) that are an enclosure, not a part inside one.
pub(crate) fn is_enclosure_type(chassis_type: &str) -> bool {
    matches!(
        chassis_type,
        "RackMount"
            | "Rack"
            | "Blade"
            | "Enclosure"
            | "StandAlone"
            | "Tower"
            | "Desktop"
            | "Sled"
            | "Drawer"
            | "Shelf"
            | "Pod"
            | "Row"
            | "Expansion"
            | "Sidecar"
            | "StorageEnclosure"
            | "Cartridge"
            | "Lunchbox"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ComponentClass::*;

    #[test]
    fn names_seen_in_real_firmware_inventories() {
        for (name, class) in [
            ("BIOS", Some(Bios)),
            ("UEFI", Some(Bios)),
            ("BIOS Golden", Some(Bios)),
            ("Integrated Dell Remote Access Controller", Some(Bmc)),
            ("HGX_FW_BMC_0", Some(Bmc)),
            ("System CPLD", Some(Cpld)),
            ("HGX_FW_FPGA_0", Some(Cpld)),
            ("HGX_FW_GPU_SXM_2", Some(Gpu)),
            ("TPM", Some(Tpm)),
            ("Power Supply.Slot.1", Some(PowerSupply)),
            ("NVMeController1", Some(StorageController)),
            ("PCIe SSD in Slot 0 in Bay 1", Some(Storage)),
            ("NIC1 System Slot1 MCX75310AAS-NEAT", Some(Nic)),
            (
                "Broadcom Gigabit Ethernet BCM5720 - 70:B5:E8:F0:52:DC",
                Some(Nic),
            ),
            ("HGX_FW_CPU_0", Some(Cpu)),
            ("Dell 64 Bit uEFI Diagnostics, version 4301", None),
            ("Dell OS Driver Pack, 21.03.10, A00", None),
            ("Lifecycle Controller", None),
            ("HGX_FW_ERoT_GPU_SXM_5", None),
            ("Backplane 1", None),
            ("electronic clinic", None),
        ] {
            assert_eq!(class_by_name(name), class, "{name}");
        }
    }
}
