//! The structure types that identify hardware (DSP0134 §7), decoded from a structure's
//! formatted area and string set. Offsets in the comments are the spec's, counted from the
//! start of the structure header.
//!
//! Fields that a structure's version does not have (its length stops before them) are `None`.
//! Strings are returned the way `dmidecode` prints them: bytes outside printable ASCII become
//! `.`, so the binary and text decodes of one machine agree.

use serde::Serialize;

/// A structure decoded by type; the types this crate does not decode are kept as
/// [`Record::Raw`] (their header stays in [`crate::Structure`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum Record {
    /// Type 0, BIOS Information.
    Bios(Bios),
    /// Type 1, System Information.
    System(SystemInfo),
    /// Type 2, Baseboard (Module) Information.
    Baseboard(Baseboard),
    /// Type 3, System Enclosure or Chassis.
    Chassis(Chassis),
    /// Type 4, Processor Information.
    Processor(Processor),
    /// Type 9, System Slots.
    SystemSlot(SystemSlot),
    /// Type 11, OEM Strings.
    OemStrings {
        /// The strings, in order.
        strings: Vec<String>,
    },
    /// Type 17, Memory Device.
    MemoryDevice(MemoryDevice),
    /// Type 38, IPMI Device Information.
    Ipmi(IpmiDevice),
    /// Type 39, System Power Supply.
    PowerSupply(PowerSupply),
    /// Type 41, Onboard Devices Extended Information.
    OnboardDevice(OnboardDevice),
    /// Type 43, TPM Device.
    Tpm(TpmDevice),
    /// Type 127, End-of-Table.
    EndOfTable,
    /// Any other type, or a structure too short for its type's first version.
    Raw,
}

/// Type 0, BIOS Information (§7.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Bios {
    /// 04h Vendor.
    pub vendor: Option<String>,
    /// 05h BIOS Version.
    pub version: Option<String>,
    /// 06h BIOS Starting Address Segment.
    pub starting_segment: u16,
    /// 08h BIOS Release Date (`mm/dd/yyyy`, sometimes `mm/dd/yy`).
    pub release_date: Option<String>,
    /// 09h BIOS ROM Size (64 KiB units minus one; 0xFF means see the extended size).
    pub rom_size: u8,
    /// 0Ah BIOS Characteristics.
    pub characteristics: u64,
    /// 14h/15h System BIOS Major/Minor Release (2.4+; `None` when 0xFF).
    pub bios_release: Option<(u8, u8)>,
    /// 16h/17h Embedded Controller Firmware Major/Minor Release (2.4+; `None` when 0xFF).
    pub ec_release: Option<(u8, u8)>,
}

/// Type 1, System Information (§7.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SystemInfo {
    /// 04h Manufacturer.
    pub manufacturer: Option<String>,
    /// 05h Product Name.
    pub product: Option<String>,
    /// 06h Version.
    pub version: Option<String>,
    /// 07h Serial Number.
    pub serial: Option<String>,
    /// 08h UUID (2.1+) as canonical lowercase text, in the byte order of the table's version
    /// (the first three fields little-endian from 2.6 on); `None` when all 00h or all FFh.
    pub uuid: Option<String>,
    /// 18h Wake-up Type (2.1+).
    pub wake_up_type: Option<u8>,
    /// 19h SKU Number (2.4+).
    pub sku: Option<String>,
    /// 1Ah Family (2.4+).
    pub family: Option<String>,
}

/// Type 2, Baseboard Information (§7.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Baseboard {
    /// 04h Manufacturer.
    pub manufacturer: Option<String>,
    /// 05h Product.
    pub product: Option<String>,
    /// 06h Version.
    pub version: Option<String>,
    /// 07h Serial Number.
    pub serial: Option<String>,
    /// 08h Asset Tag.
    pub asset_tag: Option<String>,
    /// 0Ah Location in Chassis.
    pub location_in_chassis: Option<String>,
    /// 0Dh Board Type.
    pub board_type: Option<u8>,
}

/// Type 3, System Enclosure or Chassis (§7.4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Chassis {
    /// 04h Manufacturer.
    pub manufacturer: Option<String>,
    /// 05h Type, bits 6:0 (bit 7, the lock, is in `lock`).
    pub chassis_type: u8,
    /// 05h bit 7: a chassis lock is present.
    pub lock: bool,
    /// 06h Version.
    pub version: Option<String>,
    /// 07h Serial Number.
    pub serial: Option<String>,
    /// 08h Asset Tag Number.
    pub asset_tag: Option<String>,
    /// 15h + n*m: SKU Number (2.7+).
    pub sku: Option<String>,
}

impl Chassis {
    /// The spec's name for `chassis_type` (§7.4.1), `None` when out of spec.
    pub fn type_name(&self) -> Option<&'static str> {
        const NAMES: [&str; 36] = [
            "Other",
            "Unknown",
            "Desktop",
            "Low Profile Desktop",
            "Pizza Box",
            "Mini Tower",
            "Tower",
            "Portable",
            "Laptop",
            "Notebook",
            "Hand Held",
            "Docking Station",
            "All In One",
            "Sub Notebook",
            "Space-saving",
            "Lunch Box",
            "Main Server Chassis",
            "Expansion Chassis",
            "Sub Chassis",
            "Bus Expansion Chassis",
            "Peripheral Chassis",
            "RAID Chassis",
            "Rack Mount Chassis",
            "Sealed-case PC",
            "Multi-system",
            "CompactPCI",
            "AdvancedTCA",
            "Blade",
            "Blade Enclosure",
            "Tablet",
            "Convertible",
            "Detachable",
            "IoT Gateway",
            "Embedded PC",
            "Mini PC",
            "Stick PC",
        ];
        NAMES
            .get(usize::from(self.chassis_type).checked_sub(1)?)
            .copied()
    }
}

/// Type 4, Processor Information (§7.5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Processor {
    /// 04h Socket Designation.
    pub socket: Option<String>,
    /// 05h Processor Type.
    pub processor_type: u8,
    /// 06h Processor Family (0xFE means see 28h Processor Family 2).
    pub family: u8,
    /// 07h Processor Manufacturer.
    pub manufacturer: Option<String>,
    /// 08h Processor ID (on x86, the CPUID leaf 1 EAX and EDX).
    pub id: [u8; 8],
    /// 10h Processor Version.
    pub version: Option<String>,
    /// 18h Status (bit 6: socket populated; bits 2:0: CPU status).
    pub status: u8,
    /// 20h Serial Number (2.3+).
    pub serial: Option<String>,
    /// 21h Asset Tag (2.3+).
    pub asset_tag: Option<String>,
    /// 22h Part Number (2.3+).
    pub part_number: Option<String>,
}

impl Processor {
    /// Status bit 6: a processor sits in the socket.
    pub fn populated(&self) -> bool {
        self.status & 0x40 != 0
    }
}

/// Type 9, System Slots (§7.10).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SystemSlot {
    /// 04h Slot Designation.
    pub designation: Option<String>,
    /// 05h Slot Type.
    pub slot_type: u8,
    /// 06h Slot Data Bus Width.
    pub bus_width: u8,
    /// 07h Current Usage (3 available, 4 in use, 5 unavailable).
    pub current_usage: u8,
    /// 09h Slot ID.
    pub slot_id: u16,
    /// 0Dh/0Fh/10h segment, bus and device/function (2.6+), as `ssss:bb:dd.f`.
    pub bus_address: Option<String>,
}

impl SystemSlot {
    /// Current Usage is "in use".
    pub fn in_use(&self) -> bool {
        self.current_usage == 4
    }
}

/// Type 17, Memory Device (§7.18).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MemoryDevice {
    /// 10h Device Locator.
    pub locator: Option<String>,
    /// 11h Bank Locator.
    pub bank_locator: Option<String>,
    /// 0Ch Size (with 1Ch Extended Size), in KiB; `Some(0)` for an empty socket, `None` when
    /// unknown.
    pub size_kib: Option<u64>,
    /// 0Eh Form Factor.
    pub form_factor: u8,
    /// 12h Memory Type.
    pub memory_type: u8,
    /// 15h Speed in MT/s (2.3+).
    pub speed: Option<u16>,
    /// 17h Manufacturer (2.3+).
    pub manufacturer: Option<String>,
    /// 18h Serial Number (2.3+).
    pub serial: Option<String>,
    /// 19h Asset Tag (2.3+).
    pub asset_tag: Option<String>,
    /// 1Ah Part Number (2.3+).
    pub part_number: Option<String>,
}

impl MemoryDevice {
    /// A module is installed (Size is not 0).
    pub fn installed(&self) -> bool {
        self.size_kib != Some(0)
    }
}

/// Type 38, IPMI Device Information (§7.39).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IpmiDevice {
    /// 04h Interface Type (1 KCS, 2 SMIC, 3 BT, 4 SSIF).
    pub interface_type: u8,
    /// 05h IPMI Specification Revision (BCD major.minor).
    pub spec_revision: u8,
    /// 06h I2C Target Address.
    pub i2c_address: u8,
    /// 08h Base Address.
    pub base_address: u64,
}

impl IpmiDevice {
    /// The short name of the interface (`KCS`, `SMIC`, `BT`, `SSIF`), `None` when unknown.
    pub fn interface_name(&self) -> Option<&'static str> {
        match self.interface_type {
            1 => Some("KCS"),
            2 => Some("SMIC"),
            3 => Some("BT"),
            4 => Some("SSIF"),
            _ => None,
        }
    }

    /// The IPMI specification version as `major.minor`.
    pub fn spec_version(&self) -> String {
        format!("{}.{}", self.spec_revision >> 4, self.spec_revision & 0x0f)
    }
}

/// Type 39, System Power Supply (§7.40).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PowerSupply {
    /// 04h Power Unit Group.
    pub group: u8,
    /// 05h Location.
    pub location: Option<String>,
    /// 06h Device Name.
    pub name: Option<String>,
    /// 07h Manufacturer.
    pub manufacturer: Option<String>,
    /// 08h Serial Number.
    pub serial: Option<String>,
    /// 09h Asset Tag Number.
    pub asset_tag: Option<String>,
    /// 0Ah Model Part Number.
    pub model_part_number: Option<String>,
    /// 0Bh Revision Level.
    pub revision: Option<String>,
    /// 0Ch Max Power Capacity in watts (`None` when 8000h, unknown).
    pub max_power_watts: Option<u16>,
    /// 0Eh Power Supply Characteristics.
    pub characteristics: u16,
}

impl PowerSupply {
    /// Characteristics bit 1: the supply is present.
    pub fn present(&self) -> bool {
        self.characteristics & 0x0002 != 0
    }
}

/// Type 41, Onboard Devices Extended Information (§7.42).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OnboardDevice {
    /// 04h Reference Designation.
    pub designation: Option<String>,
    /// 05h Device Type bits 6:0.
    pub device_type: u8,
    /// 05h bit 7: the device is enabled.
    pub enabled: bool,
    /// 06h Device Type Instance.
    pub instance: u8,
    /// 07h/09h/0Ah segment, bus and device/function as `ssss:bb:dd.f`.
    pub bus_address: String,
}

impl OnboardDevice {
    /// The spec's name for the device type (§7.42.2), as `dmidecode` prints it.
    pub fn type_name(&self) -> Option<&'static str> {
        const NAMES: [&str; 16] = [
            "Other",
            "Unknown",
            "Video",
            "SCSI Controller",
            "Ethernet",
            "Token Ring",
            "Sound",
            "PATA Controller",
            "SATA Controller",
            "SAS Controller",
            "Wireless LAN",
            "Bluetooth",
            "WWAN",
            "eMMC",
            "NVMe Controller",
            "UFS Controller",
        ];
        NAMES
            .get(usize::from(self.device_type).checked_sub(1)?)
            .copied()
    }
}

/// Type 43, TPM Device (§7.44).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TpmDevice {
    /// 04h Vendor ID, up to the first NUL, non-printable bytes as `.` (`IFX`, `INTC`, `NTC`).
    pub vendor_id: String,
    /// 08h/09h Major and Minor Spec Version.
    pub spec_version: (u8, u8),
    /// 0Ah Firmware Version 1.
    pub firmware_version_1: u32,
    /// 0Eh Firmware Version 2.
    pub firmware_version_2: u32,
    /// 12h Description.
    pub description: Option<String>,
    /// 13h Characteristics.
    pub characteristics: u64,
}

impl TpmDevice {
    /// The firmware version as `major.minor`: for TPM 1.2, the revMajor/revMinor bytes of the
    /// TPM_VERSION in Firmware Version 1; for TPM 2.0, its high and low 16 bits.
    pub fn firmware_version(&self) -> Option<String> {
        match self.spec_version.0 {
            1 => {
                let b = self.firmware_version_1.to_le_bytes();
                Some(format!("{}.{}", b.get(2)?, b.get(3)?))
            }
            2 => Some(format!(
                "{}.{}",
                self.firmware_version_1 >> 16,
                self.firmware_version_1 & 0xffff
            )),
            _ => None,
        }
    }
}

/// One structure's bytes and strings, with accessors by spec offset that say `None` past the
/// structure's length.
pub(crate) struct Raw<'a> {
    /// The formatted area, header included.
    pub formatted: &'a [u8],
    /// The string set (string 1 first).
    pub strings: &'a [&'a [u8]],
    /// String numbers that pointed past the set.
    pub bad_indexes: Vec<u8>,
    /// Strings cut at [`crate::MAX_STRING_LEN`].
    pub long_strings: usize,
}

impl<'a> Raw<'a> {
    pub fn len(&self) -> usize {
        self.formatted.len()
    }

    pub fn u8(&self, at: usize) -> Option<u8> {
        self.formatted.get(at).copied()
    }

    pub fn u16(&self, at: usize) -> Option<u16> {
        Some(u16::from_le_bytes(self.array(at)?))
    }

    pub fn u32(&self, at: usize) -> Option<u32> {
        Some(u32::from_le_bytes(self.array(at)?))
    }

    pub fn u64(&self, at: usize) -> Option<u64> {
        Some(u64::from_le_bytes(self.array(at)?))
    }

    pub fn array<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        let end = at.checked_add(N)?;
        self.formatted.get(at..end)?.try_into().ok()
    }

    /// The string whose number is the byte at `at`; `None` for string 0 (none) and for numbers
    /// past the set (remembered in `bad_indexes`).
    pub fn string(&mut self, at: usize) -> Option<String> {
        let index = self.u8(at)?;
        let slot = usize::from(index).checked_sub(1)?;
        match self.strings.get(slot) {
            Some(bytes) => Some(self.printable(bytes)),
            None => {
                self.bad_indexes.push(index);
                None
            }
        }
    }

    fn printable(&mut self, bytes: &[u8]) -> String {
        let kept = match bytes.get(..crate::MAX_STRING_LEN) {
            Some(head) if head.len() < bytes.len() => {
                self.long_strings += 1;
                head
            }
            _ => bytes,
        };
        printable(kept)
    }
}

/// Bytes as `dmidecode` prints them: printable ASCII kept, everything else as `.`.
pub(crate) fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                char::from(b)
            } else {
                '.'
            }
        })
        .collect()
}

/// Decodes the structure of type `ty`; `Record::Raw` for other types and for structures
/// shorter than their type's first version.
pub(crate) fn decode(ty: u8, raw: &mut Raw<'_>, uuid_le: bool) -> Record {
    let min = match ty {
        0 => 0x12,
        1 | 2 => 0x08,
        3 => 0x09,
        4 => 0x1a,
        9 => 0x0c,
        11 => 0x05,
        17 => 0x15,
        38 | 39 => 0x10,
        41 => 0x0b,
        43 => 0x1f,
        127 => 0x04,
        _ => return Record::Raw,
    };
    if raw.len() < min {
        return Record::Raw;
    }
    match ty {
        0 => Record::Bios(bios(raw)),
        1 => Record::System(system(raw, uuid_le)),
        2 => Record::Baseboard(Baseboard {
            manufacturer: raw.string(0x04),
            product: raw.string(0x05),
            version: raw.string(0x06),
            serial: raw.string(0x07),
            asset_tag: raw.string(0x08),
            location_in_chassis: raw.string(0x0a),
            board_type: raw.u8(0x0d),
        }),
        3 => Record::Chassis(chassis(raw)),
        4 => Record::Processor(processor(raw)),
        9 => Record::SystemSlot(slot(raw)),
        11 => {
            let count = raw.u8(0x04).unwrap_or_default();
            let strings = (1..=count)
                .filter_map(|n| {
                    let bytes = raw.strings.get(usize::from(n) - 1)?;
                    Some(raw.printable(bytes))
                })
                .collect();
            Record::OemStrings { strings }
        }
        17 => Record::MemoryDevice(memory(raw)),
        38 => Record::Ipmi(IpmiDevice {
            interface_type: raw.u8(0x04).unwrap_or_default(),
            spec_revision: raw.u8(0x05).unwrap_or_default(),
            i2c_address: raw.u8(0x06).unwrap_or_default(),
            base_address: raw.u64(0x08).unwrap_or_default(),
        }),
        39 => Record::PowerSupply(power_supply(raw)),
        41 => Record::OnboardDevice(onboard(raw)),
        43 => Record::Tpm(tpm(raw)),
        _ => Record::EndOfTable,
    }
}

fn bios(raw: &mut Raw<'_>) -> Bios {
    let pair = |a: Option<u8>, b: Option<u8>| match (a?, b?) {
        (0xff, _) | (_, 0xff) => None,
        (x, y) => Some((x, y)),
    };
    Bios {
        vendor: raw.string(0x04),
        version: raw.string(0x05),
        starting_segment: raw.u16(0x06).unwrap_or_default(),
        release_date: raw.string(0x08),
        rom_size: raw.u8(0x09).unwrap_or_default(),
        characteristics: raw.u64(0x0a).unwrap_or_default(),
        bios_release: pair(raw.u8(0x14), raw.u8(0x15)),
        ec_release: pair(raw.u8(0x16), raw.u8(0x17)),
    }
}

fn system(raw: &mut Raw<'_>, uuid_le: bool) -> SystemInfo {
    SystemInfo {
        manufacturer: raw.string(0x04),
        product: raw.string(0x05),
        version: raw.string(0x06),
        serial: raw.string(0x07),
        uuid: raw.array::<16>(0x08).and_then(|u| uuid_text(u, uuid_le)),
        wake_up_type: raw.u8(0x18),
        sku: raw.string(0x19),
        family: raw.string(0x1a),
    }
}

/// The canonical lowercase text of an SMBIOS UUID (§7.2.1); `None` when all 00h (not set) or
/// all FFh (not present).
pub(crate) fn uuid_text(mut u: [u8; 16], little_endian: bool) -> Option<String> {
    if u.iter().all(|&b| b == 0) || u.iter().all(|&b| b == 0xff) {
        return None;
    }
    if little_endian {
        u[..4].reverse();
        u[4..6].reverse();
        u[6..8].reverse();
    }
    let hex: String = u.iter().map(|b| format!("{b:02x}")).collect();
    Some(format!(
        "{}-{}-{}-{}-{}",
        hex.get(0..8)?,
        hex.get(8..12)?,
        hex.get(12..16)?,
        hex.get(16..20)?,
        hex.get(20..32)?
    ))
}

fn chassis(raw: &mut Raw<'_>) -> Chassis {
    let t = raw.u8(0x05).unwrap_or_default();
    // The SKU follows the contained elements: n records of m bytes each.
    let sku_at = match (raw.u8(0x13), raw.u8(0x14)) {
        (Some(n), Some(m)) => Some(0x15 + usize::from(n) * usize::from(m)),
        _ => None,
    };
    Chassis {
        manufacturer: raw.string(0x04),
        chassis_type: t & 0x7f,
        lock: t & 0x80 != 0,
        version: raw.string(0x06),
        serial: raw.string(0x07),
        asset_tag: raw.string(0x08),
        sku: sku_at.and_then(|at| raw.string(at)),
    }
}

fn processor(raw: &mut Raw<'_>) -> Processor {
    Processor {
        socket: raw.string(0x04),
        processor_type: raw.u8(0x05).unwrap_or_default(),
        family: raw.u8(0x06).unwrap_or_default(),
        manufacturer: raw.string(0x07),
        id: raw.array(0x08).unwrap_or_default(),
        version: raw.string(0x10),
        status: raw.u8(0x18).unwrap_or_default(),
        serial: raw.string(0x20),
        asset_tag: raw.string(0x21),
        part_number: raw.string(0x22),
    }
}

fn slot(raw: &mut Raw<'_>) -> SystemSlot {
    let bus_address = match (raw.u16(0x0d), raw.u8(0x0f), raw.u8(0x10)) {
        (Some(seg), Some(bus), Some(devfn)) if !(seg == 0xffff && bus == 0xff && devfn == 0xff) => {
            Some(pci_address(seg, bus, devfn))
        }
        _ => None,
    };
    SystemSlot {
        designation: raw.string(0x04),
        slot_type: raw.u8(0x05).unwrap_or_default(),
        bus_width: raw.u8(0x06).unwrap_or_default(),
        current_usage: raw.u8(0x07).unwrap_or_default(),
        slot_id: raw.u16(0x09).unwrap_or_default(),
        bus_address,
    }
}

fn pci_address(segment: u16, bus: u8, devfn: u8) -> String {
    format!(
        "{segment:04x}:{bus:02x}:{:02x}.{:x}",
        devfn >> 3,
        devfn & 0x07
    )
}

fn memory(raw: &mut Raw<'_>) -> MemoryDevice {
    let size_kib = match raw.u16(0x0c).unwrap_or(0xffff) {
        0xffff => None,
        // 7FFFh: the size is in Extended Size, in MiB (bits 30:0).
        0x7fff => raw.u32(0x1c).map(|mib| u64::from(mib & 0x7fff_ffff) * 1024),
        s if s & 0x8000 != 0 => Some(u64::from(s & 0x7fff)),
        s => Some(u64::from(s) * 1024),
    };
    MemoryDevice {
        locator: raw.string(0x10),
        bank_locator: raw.string(0x11),
        size_kib,
        form_factor: raw.u8(0x0e).unwrap_or_default(),
        memory_type: raw.u8(0x12).unwrap_or_default(),
        speed: raw.u16(0x15),
        manufacturer: raw.string(0x17),
        serial: raw.string(0x18),
        asset_tag: raw.string(0x19),
        part_number: raw.string(0x1a),
    }
}

fn power_supply(raw: &mut Raw<'_>) -> PowerSupply {
    PowerSupply {
        group: raw.u8(0x04).unwrap_or_default(),
        location: raw.string(0x05),
        name: raw.string(0x06),
        manufacturer: raw.string(0x07),
        serial: raw.string(0x08),
        asset_tag: raw.string(0x09),
        model_part_number: raw.string(0x0a),
        revision: raw.string(0x0b),
        max_power_watts: raw.u16(0x0c).filter(|&w| w != 0x8000),
        characteristics: raw.u16(0x0e).unwrap_or_default(),
    }
}

fn onboard(raw: &mut Raw<'_>) -> OnboardDevice {
    let t = raw.u8(0x05).unwrap_or_default();
    OnboardDevice {
        designation: raw.string(0x04),
        device_type: t & 0x7f,
        enabled: t & 0x80 != 0,
        instance: raw.u8(0x06).unwrap_or_default(),
        bus_address: pci_address(
            raw.u16(0x07).unwrap_or_default(),
            raw.u8(0x09).unwrap_or_default(),
            raw.u8(0x0a).unwrap_or_default(),
        ),
    }
}

fn tpm(raw: &mut Raw<'_>) -> TpmDevice {
    let vendor: [u8; 4] = raw.array(0x04).unwrap_or_default();
    let end = vendor.iter().position(|&b| b == 0).unwrap_or(vendor.len());
    TpmDevice {
        vendor_id: printable(vendor.get(..end).unwrap_or_default()),
        spec_version: (
            raw.u8(0x08).unwrap_or_default(),
            raw.u8(0x09).unwrap_or_default(),
        ),
        firmware_version_1: raw.u32(0x0a).unwrap_or_default(),
        firmware_version_2: raw.u32(0x0e).unwrap_or_default(),
        description: raw.string(0x12),
        characteristics: raw.u64(0x13).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw<'a>(formatted: &'a [u8], strings: &'a [&'a [u8]]) -> Raw<'a> {
        Raw {
            formatted,
            strings,
            bad_indexes: Vec::new(),
            long_strings: 0,
        }
    }

    #[test]
    fn uuid_byte_order_follows_the_version() {
        let u = [
            0x44, 0x45, 0x4c, 0x4c, 0x36, 0x00, 0x10, 0x32, 0x80, 0x5a, 0xb7, 0xc0, 0x4f, 0x4d,
            0x36, 0x32,
        ];
        assert_eq!(
            uuid_text(u, true).unwrap(),
            "4c4c4544-0036-3210-805a-b7c04f4d3632"
        );
        assert_eq!(
            uuid_text(u, false).unwrap(),
            "44454c4c-3600-1032-805a-b7c04f4d3632"
        );
        assert_eq!(uuid_text([0; 16], true), None);
        assert_eq!(uuid_text([0xff; 16], false), None);
    }

    #[test]
    fn bad_string_numbers_are_none_and_remembered() {
        let f = [2u8, 8, 0, 0, 1, 2, 3, 0];
        let strings: [&[u8]; 2] = [b"Supermicro", b"X9\x01DBL"];
        let mut r = raw(&f, &strings);
        assert_eq!(r.string(4).as_deref(), Some("Supermicro"));
        assert_eq!(r.string(5).as_deref(), Some("X9.DBL"));
        assert_eq!(r.string(6), None);
        assert_eq!(r.string(7), None);
        assert_eq!(r.string(99), None);
        assert_eq!(r.bad_indexes, vec![3]);
    }

    #[test]
    fn memory_sizes_in_all_three_encodings() {
        let mut f = vec![0u8; 0x22];
        f[0] = 17;
        f[1] = 0x22;
        for (size, ext, want) in [
            (0u16, 0u32, Some(0)),
            (0xffff, 0, None),
            (16384, 0, Some(16 * 1024 * 1024)),
            (0x8000 | 512, 0, Some(512)),
            (0x7fff, 65536, Some(64 * 1024 * 1024)),
        ] {
            f[0x0c..0x0e].copy_from_slice(&size.to_le_bytes());
            f[0x1c..0x20].copy_from_slice(&ext.to_le_bytes());
            let m = memory(&mut raw(&f, &[]));
            assert_eq!(m.size_kib, want, "size {size:#x}");
        }
    }

    #[test]
    fn tpm_firmware_versions_by_family() {
        let mut t = TpmDevice {
            spec_version: (2, 0),
            firmware_version_1: 0x0007_003e,
            ..TpmDevice::default()
        };
        assert_eq!(t.firmware_version().as_deref(), Some("7.62"));
        t.spec_version = (1, 2);
        t.firmware_version_1 = u32::from_le_bytes([1, 2, 5, 81]);
        assert_eq!(t.firmware_version().as_deref(), Some("5.81"));
        t.spec_version = (9, 0);
        assert_eq!(t.firmware_version(), None);
    }
}
