//! `lspci` (pciutils) text: the human form (`lspci -nn`, `-vvnn`, `-n`) and the machine forms
//! (`-vmm`/`-vmmnn`, "verbose machine readable", one `Tag:\tvalue` per line, records separated
//! by blank lines; `-mm`/`-mmnn`, one line of quoted fields per device), as documented in
//! `lspci(8)`.
//!
//! Lines that belong to no record (shell prompts, code fences, text around a pasted sample)
//! are skipped; a text with no record at all is an error.

use std::fmt;

use tamperscan_inventory::{clean, Component, ComponentClass};

use crate::error::Error;
use crate::pci_class::{class_of_pci_code, class_of_pci_name};

/// More functions than a PCI segment group can hold in practice.
const MAX_DEVICES: usize = 16_384;
/// Longest text kept from one field.
const MAX_FIELD: usize = 1024;
/// VPD fields kept per device.
const MAX_VPD_FIELDS: usize = 64;
/// Kernel modules kept per device.
const MAX_MODULES: usize = 32;

/// A PCI function address, `[domain:]bus:device.function`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PciAddress {
    /// PCI segment (domain), when the text had one.
    pub domain: Option<u32>,
    /// Bus number.
    pub bus: u8,
    /// Device number (0 to 31).
    pub device: u8,
    /// Function number (0 to 7).
    pub function: u8,
}

impl PciAddress {
    /// Parses `0000:3b:00.0` or `3b:00.0`.
    pub fn parse(text: &str) -> Option<PciAddress> {
        let (domain, rest) = match text.matches(':').count() {
            1 => (None, text),
            2 => {
                let (d, rest) = text.split_once(':')?;
                if d.is_empty() || d.len() > 8 || !d.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                (Some(u32::from_str_radix(d, 16).ok()?), rest)
            }
            _ => return None,
        };
        let (bus, rest) = rest.split_once(':')?;
        let (dev, func) = rest.split_once('.')?;
        let hex2 = |s: &str| {
            (s.len() == 2 && s.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| u8::from_str_radix(s, 16).ok())
                .flatten()
        };
        let bus = hex2(bus)?;
        let device = hex2(dev).filter(|d| *d < 32)?;
        let function = (func.len() == 1)
            .then(|| func.parse::<u8>().ok())
            .flatten()
            .filter(|f| *f < 8)?;
        Some(PciAddress {
            domain,
            bus,
            device,
            function,
        })
    }
}

impl fmt::Display for PciAddress {
    /// Always with the domain (`0000:` when the text had none): `0000:3b:00.0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04x}:{:02x}:{:02x}.{}",
            self.domain.unwrap_or(0),
            self.bus,
            self.device,
            self.function
        )
    }
}

/// One field of the Vital Product Data (PCI Local Bus Specification 3.0 §6.4, "VPD Format").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpdField {
    /// The two-character keyword (`PN`, `SN`, `EC`, `V0`, ...).
    pub keyword: String,
    /// The value as `lspci` printed it.
    pub value: String,
}

/// The Vital Product Data `lspci -vv` shows (as root).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vpd {
    /// The identifier string ("Product Name").
    pub product_name: Option<String>,
    /// `[PN]` part number.
    pub part_number: Option<String>,
    /// `[SN]` serial number.
    pub serial_number: Option<String>,
    /// `[EC]` engineering change level.
    pub engineering_change: Option<String>,
    /// `[MN]` manufacture id.
    pub manufacturer_id: Option<String>,
    /// Every keyword field in order, the above and the vendor-specific `V0`..`VZ` included.
    pub fields: Vec<VpdField>,
}

/// One PCI function as `lspci` described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PciDevice {
    /// Its address.
    pub address: PciAddress,
    /// Class name (`Ethernet controller`).
    pub class_name: Option<String>,
    /// Class code, base class << 8 | sub-class (`0x0200`).
    pub class_code: Option<u16>,
    /// Programming interface.
    pub prog_if: Option<u8>,
    /// Vendor name (machine formats only; the human format runs vendor and device together).
    pub vendor_name: Option<String>,
    /// Device name (machine formats only).
    pub device_name: Option<String>,
    /// The human format's "vendor device" text (`Intel Corporation I350 Gigabit Network
    /// Connection`), or vendor and device names joined.
    pub description: Option<String>,
    /// Vendor id.
    pub vendor_id: Option<u16>,
    /// Device id.
    pub device_id: Option<u16>,
    /// Subsystem vendor id.
    pub subsystem_vendor_id: Option<u16>,
    /// Subsystem id.
    pub subsystem_id: Option<u16>,
    /// Subsystem text.
    pub subsystem_name: Option<String>,
    /// Revision id.
    pub revision: Option<u8>,
    /// The PCIe Device Serial Number capability, as printed (`00-02-c9-03-00-f6-ef-f0`).
    pub serial_number: Option<String>,
    /// Vital Product Data, when shown.
    pub vpd: Option<Vpd>,
    /// Kernel driver in use.
    pub kernel_driver: Option<String>,
    /// Kernel modules that can drive it.
    pub kernel_modules: Vec<String>,
    /// Physical slot.
    pub physical_slot: Option<String>,
    /// 1-based line where its record starts.
    pub line: usize,
}

impl PciDevice {
    fn new(address: PciAddress, line: usize) -> Self {
        PciDevice {
            address,
            class_name: None,
            class_code: None,
            prog_if: None,
            vendor_name: None,
            device_name: None,
            description: None,
            vendor_id: None,
            device_id: None,
            subsystem_vendor_id: None,
            subsystem_id: None,
            subsystem_name: None,
            revision: None,
            serial_number: None,
            vpd: None,
            kernel_driver: None,
            kernel_modules: Vec::new(),
            physical_slot: None,
            line,
        }
    }

    /// `vvvv:dddd`, with `:ssvv:ssdd` when the subsystem is known.
    pub fn pci_id(&self) -> Option<String> {
        let (v, d) = (self.vendor_id?, self.device_id?);
        let mut id = format!("{v:04x}:{d:04x}");
        if let (Some(sv), Some(sd)) = (self.subsystem_vendor_id, self.subsystem_id) {
            id.push_str(&format!(":{sv:04x}:{sd:04x}"));
        }
        Some(id)
    }

    /// The component class, from the class code, else the class name.
    pub fn component_class(&self) -> ComponentClass {
        if let Some(code) = self.class_code {
            return class_of_pci_code(code);
        }
        match self.class_name.as_deref() {
            Some(name) => class_of_pci_name(name).unwrap_or(ComponentClass::Pcie),
            None => ComponentClass::Pcie,
        }
    }

    /// This function as a normalized component (source `lspci`, location and source_ref the
    /// address). The serial is VPD `[SN]`, else the Device Serial Number; the revision is VPD
    /// `[EC]`, else the revision id.
    pub fn component(&self) -> Component {
        let mut c = Component {
            class: Some(self.component_class()),
            location: Some(self.address.to_string()),
            pci_id: self.pci_id(),
            source: "lspci".to_string(),
            source_ref: self.address.to_string(),
            ..Component::default()
        };
        let ph = &mut c.placeholders;
        let vpd = self.vpd.as_ref();
        c.manufacturer = clean(self.vendor_name.as_deref(), "manufacturer", ph);
        c.model = clean(
            self.device_name
                .as_deref()
                .or(self.description.as_deref())
                .or_else(|| vpd.and_then(|v| v.product_name.as_deref())),
            "model",
            ph,
        );
        c.serial = clean(vpd.and_then(|v| v.serial_number.as_deref()), "serial", ph)
            .or_else(|| clean(self.serial_number.as_deref(), "serial", ph));
        c.part_number = clean(
            vpd.and_then(|v| v.part_number.as_deref()),
            "part_number",
            ph,
        );
        c.revision = clean(
            vpd.and_then(|v| v.engineering_change.as_deref()),
            "revision",
            ph,
        )
        .or_else(|| self.revision.map(|r| format!("{r:02x}")));
        c
    }
}

/// Every device as a component ([`PciDevice::component`]).
pub fn to_components(devices: &[PciDevice]) -> Vec<Component> {
    devices.iter().map(PciDevice::component).collect()
}

/// [`parse_lspci`] on bytes: refuses non-text (not UTF-8, NUL bytes) with the offset of the
/// first bad byte.
pub fn parse_lspci_bytes(bytes: &[u8]) -> Result<Vec<PciDevice>, Error> {
    let text = tamperscan_bytes::text::as_text(bytes).map_err(Error::NotText)?;
    parse_lspci(text)
}

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Human,
    Machine,
}

struct Record {
    dev: PciDevice,
    kind: Kind,
    in_vpd: bool,
}

/// Parses `lspci` output in any of its documented forms (they may even be mixed).
///
/// Blank text gives no devices; text with lines but no device record is
/// [`Error::NoDevices`].
pub fn parse_lspci(text: &str) -> Result<Vec<PciDevice>, Error> {
    let mut out: Vec<PciDevice> = Vec::new();
    let mut cur: Option<Record> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim_end_matches(['\r', ' ', '\t']);
        if line.trim().is_empty() {
            finish(&mut out, cur.take(), n)?;
            continue;
        }
        if !line.starts_with([' ', '\t']) {
            if let Some(value) = line.strip_prefix("Slot:") {
                finish(&mut out, cur.take(), n)?;
                cur = PciAddress::parse(value.trim()).map(|a| Record {
                    dev: PciDevice::new(a, n),
                    kind: Kind::Machine,
                    in_vpd: false,
                });
                continue;
            }
            if let Some(rec) = cur.as_mut().filter(|r| r.kind == Kind::Machine) {
                if let Some((tag, value)) = line.split_once(':') {
                    machine_field(&mut rec.dev, tag.trim(), value.trim());
                    continue;
                }
            }
            finish(&mut out, cur.take(), n)?;
            if let Some(dev) = parse_mm(line, n) {
                finish(
                    &mut out,
                    Some(Record {
                        dev,
                        kind: Kind::Machine,
                        in_vpd: false,
                    }),
                    n,
                )?;
            } else if let Some(dev) = parse_header(line, n) {
                cur = Some(Record {
                    dev,
                    kind: Kind::Human,
                    in_vpd: false,
                });
            }
            continue;
        }
        if let Some(rec) = cur.as_mut().filter(|r| r.kind == Kind::Human) {
            detail(rec, line.trim());
        }
    }
    finish(&mut out, cur.take(), text.lines().count() + 1)?;
    if out.is_empty() {
        if let Some(first) = text.lines().map(str::trim).find(|l| !l.is_empty()) {
            return Err(Error::NoDevices {
                first_line: crate::crawl::cut(first, 80),
            });
        }
    }
    Ok(out)
}

fn finish(out: &mut Vec<PciDevice>, rec: Option<Record>, line: usize) -> Result<(), Error> {
    let Some(rec) = rec else {
        return Ok(());
    };
    if out.len() >= MAX_DEVICES {
        return Err(Error::TooManyDevices {
            limit: MAX_DEVICES,
            line,
        });
    }
    let mut dev = rec.dev;
    if dev.description.is_none() {
        dev.description = match (&dev.vendor_name, &dev.device_name) {
            (Some(v), Some(d)) => field(&format!("{v} {d}")),
            (Some(v), None) => Some(v.clone()),
            (None, Some(d)) => Some(d.clone()),
            (None, None) => None,
        };
    }
    out.push(dev);
    Ok(())
}

/// Text kept from a field: trimmed, non-empty, bounded.
fn field(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty() && t.len() <= MAX_FIELD).then(|| t.to_string())
}

fn hex_n(s: &str, digits: usize) -> Option<u16> {
    (s.len() == digits && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| u16::from_str_radix(s, 16).ok())
        .flatten()
}

fn hex_u8(s: &str) -> Option<u8> {
    let s = s.trim();
    (!s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| u8::from_str_radix(s, 16).ok())
        .flatten()
}

/// `Name [abcd]` -> (`Name`, 0xabcd); `abcd` -> (none, 0xabcd); `Name` -> (`Name`, none).
/// An unknown id printed as `Device abcd` / `Vendor abcd` gives the id too.
fn split_code(s: &str) -> (Option<String>, Option<u16>) {
    let t = s.trim();
    if let Some(open) = t.strip_suffix(']').and_then(|body| body.rfind('[')) {
        let inner = t.get(open + 1..t.len() - 1).unwrap_or_default();
        if let Some(code) = hex_n(inner, 4) {
            return (t.get(..open).and_then(field), Some(code));
        }
    }
    if let Some(code) = hex_n(t, 4) {
        return (None, Some(code));
    }
    for prefix in ["Device ", "Vendor "] {
        if let Some(code) = t.strip_prefix(prefix).and_then(|h| hex_n(h, 4)) {
            return (field(t), Some(code));
        }
    }
    (field(t), None)
}

/// `vendor device [vvvv:dddd]` -> (text, ids); also the bare `vvvv:dddd` of `lspci -n`.
fn split_ids(s: &str) -> (Option<String>, Option<(u16, u16)>) {
    let t = s.trim();
    let pair = |inner: &str| {
        let (v, d) = inner.split_once(':')?;
        Some((hex_n(v, 4)?, hex_n(d, 4)?))
    };
    if let Some(open) = t.strip_suffix(']').and_then(|body| body.rfind('[')) {
        if let Some(ids) = t.get(open + 1..t.len() - 1).and_then(pair) {
            return (t.get(..open).and_then(field), Some(ids));
        }
    }
    if let Some(ids) = pair(t) {
        return (None, Some(ids));
    }
    (field(t), None)
}

/// A human-format header: `3b:00.0 Ethernet controller [0200]: Intel Corporation Ethernet
/// Controller X710 [8086:1572] (rev 02) (prog-if 30 [XHCI])`.
fn parse_header(line: &str, n: usize) -> Option<PciDevice> {
    let (addr, rest) = line.split_once(' ')?;
    let address = PciAddress::parse(addr)?;
    let (class_part, rest) = rest.split_once(": ").or_else(|| {
        // A class with no vendor text after it (`00:00.0 Host bridge:`).
        rest.strip_suffix(':').map(|c| (c, ""))
    })?;
    let mut dev = PciDevice::new(address, n);
    let (class_name, class_code) = split_code(class_part);
    dev.class_name = class_name;
    dev.class_code = class_code;
    let mut rest = rest.trim();
    loop {
        if let Some(body) = rest.strip_suffix(')') {
            if let Some(i) = body.rfind(" (prog-if ") {
                let inner = body.get(i + " (prog-if ".len()..).unwrap_or_default();
                let code = inner.split_whitespace().next().and_then(hex_u8);
                if code.is_some() {
                    dev.prog_if = code;
                    rest = body.get(..i).unwrap_or_default().trim_end();
                    continue;
                }
            }
            if let Some(i) = body.rfind(" (rev ") {
                let rev = body.get(i + " (rev ".len()..).and_then(hex_u8);
                if rev.is_some() {
                    dev.revision = rev;
                    rest = body.get(..i).unwrap_or_default().trim_end();
                    continue;
                }
            }
        }
        break;
    }
    let (desc, ids) = split_ids(rest);
    dev.description = desc;
    if let Some((v, d)) = ids {
        dev.vendor_id = Some(v);
        dev.device_id = Some(d);
    }
    Some(dev)
}

/// An `-mm` line: `00:01.0 "Class [ffff]" "Vendor [1af4]" "Device [1045]" -r01 -p00
/// "SVendor [1af4]" "SDevice [1045]"`.
fn parse_mm(line: &str, n: usize) -> Option<PciDevice> {
    let (addr, rest) = line.split_once(' ')?;
    let address = PciAddress::parse(addr)?;
    let mut s = rest.trim_start();
    if !s.starts_with('"') {
        return None;
    }
    let mut quoted: Vec<&str> = Vec::new();
    let mut options: Vec<&str> = Vec::new();
    while !s.is_empty() {
        if let Some(after) = s.strip_prefix('"') {
            let end = after.find('"')?;
            quoted.push(after.get(..end)?);
            s = after.get(end + 1..)?.trim_start();
        } else {
            let end = s.find(' ').unwrap_or(s.len());
            options.push(s.get(..end)?);
            s = s.get(end..)?.trim_start();
        }
        if quoted.len() > 8 || options.len() > 8 {
            return None;
        }
    }
    if quoted.len() < 3 {
        return None;
    }
    let mut dev = PciDevice::new(address, n);
    let get = |i: usize| quoted.get(i).copied().unwrap_or_default();
    (dev.class_name, dev.class_code) = split_code(get(0));
    (dev.vendor_name, dev.vendor_id) = split_code(get(1));
    (dev.device_name, dev.device_id) = split_code(get(2));
    let (sv_name, sv) = split_code(get(3));
    let (sd_name, sd) = split_code(get(4));
    dev.subsystem_vendor_id = sv;
    dev.subsystem_id = sd;
    dev.subsystem_name = join(sv_name, sd_name);
    for opt in options {
        if let Some(r) = opt.strip_prefix("-r") {
            dev.revision = hex_u8(r);
        } else if let Some(p) = opt.strip_prefix("-p") {
            dev.prog_if = hex_u8(p);
        }
    }
    Some(dev)
}

fn join(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => field(&format!("{a} {b}")),
        (a, b) => a.or(b),
    }
}

/// One `Tag:\tvalue` line of an `-vmm` record.
fn machine_field(dev: &mut PciDevice, tag: &str, value: &str) {
    match tag {
        "Class" => (dev.class_name, dev.class_code) = split_code(value),
        "Vendor" => (dev.vendor_name, dev.vendor_id) = split_code(value),
        "Device" => (dev.device_name, dev.device_id) = split_code(value),
        "SVendor" => {
            let (name, id) = split_code(value);
            dev.subsystem_vendor_id = id;
            dev.subsystem_name = join(name, dev.subsystem_name.take());
        }
        "SDevice" => {
            let (name, id) = split_code(value);
            dev.subsystem_id = id;
            dev.subsystem_name = join(dev.subsystem_name.take(), name);
        }
        "Rev" => dev.revision = hex_u8(value),
        "ProgIf" => dev.prog_if = hex_u8(value),
        "Driver" => dev.kernel_driver = field(value),
        "Module" if dev.kernel_modules.len() < MAX_MODULES => {
            dev.kernel_modules.extend(field(value));
        }
        "PhySlot" => dev.physical_slot = field(value),
        _ => {}
    }
}

/// One indented line of a human-format record.
fn detail(rec: &mut Record, t: &str) {
    if let Some(rest) = t.strip_prefix("Capabilities:") {
        rec.in_vpd = false;
        let rest = rest.trim();
        let after = rest.split_once("] ").map_or(rest, |(_, a)| a).trim();
        if let Some(dsn) = after.strip_prefix("Device Serial Number") {
            rec.dev.serial_number = field(dsn);
        } else if after.starts_with("Vital Product Data") {
            rec.in_vpd = true;
            rec.dev.vpd.get_or_insert_with(Vpd::default);
        }
        return;
    }
    if rec.in_vpd && vpd_line(&mut rec.dev, t) {
        return;
    }
    let dev = &mut rec.dev;
    if let Some(v) = t.strip_prefix("Subsystem:") {
        let (name, ids) = split_ids(v);
        dev.subsystem_name = name;
        if let Some((sv, sd)) = ids {
            dev.subsystem_vendor_id = Some(sv);
            dev.subsystem_id = Some(sd);
        }
    } else if let Some(v) = t.strip_prefix("Kernel driver in use:") {
        dev.kernel_driver = field(v);
    } else if let Some(v) = t.strip_prefix("Kernel modules:") {
        dev.kernel_modules = v.split(',').filter_map(field).take(MAX_MODULES).collect();
    } else if let Some(v) = t.strip_prefix("Physical Slot:") {
        dev.physical_slot = field(v);
    }
}

/// One line inside a "Vital Product Data" capability; false when it is not one.
fn vpd_line(dev: &mut PciDevice, t: &str) -> bool {
    let vpd = dev.vpd.get_or_insert_with(Vpd::default);
    if let Some(name) = t.strip_prefix("Product Name:") {
        vpd.product_name = field(name);
        return true;
    }
    if let Some(body) = t.strip_prefix('[') {
        let Some((keyword, rest)) = body.split_once(']') else {
            return false;
        };
        if keyword.len() != 2 || !keyword.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return false;
        }
        let value = rest.split_once(':').map_or("", |(_, v)| v);
        let value = field(value);
        match keyword {
            "PN" => vpd.part_number = value.clone(),
            "SN" => vpd.serial_number = value.clone(),
            "EC" => vpd.engineering_change = value.clone(),
            "MN" => vpd.manufacturer_id = value.clone(),
            _ => {}
        }
        if let Some(value) = value {
            if vpd.fields.len() < MAX_VPD_FIELDS {
                vpd.fields.push(VpdField {
                    keyword: keyword.to_string(),
                    value,
                });
            }
        }
        return true;
    }
    t == "End"
        || t.starts_with("Read-only fields")
        || t.starts_with("Read/write fields")
        || t.starts_with("Not readable")
        || t.starts_with("Unknown")
        || t.starts_with("Large item")
        || t.starts_with("Small item")
        || t.starts_with("Checksum")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let a = PciAddress::parse("3b:00.1").unwrap();
        assert_eq!((a.domain, a.bus, a.device, a.function), (None, 0x3b, 0, 1));
        assert_eq!(a.to_string(), "0000:3b:00.1");
        assert_eq!(
            PciAddress::parse("10000:e0:1f.7").unwrap().to_string(),
            "10000:e0:1f.7"
        );
        for bad in [
            "3b:00",
            "3b:20.0",
            "3b:00.8",
            "g0:00.0",
            "3b:00.00",
            ":00.0",
            "0:0:0:0.0",
        ] {
            assert_eq!(PciAddress::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn human_header() {
        let d = parse_header(
            "00:14.0 USB controller [0c03]: Intel Corporation C620 Series Chipset Family USB 3.0 xHCI Controller [8086:a1af] (rev 09) (prog-if 30 [XHCI])",
            1,
        )
        .unwrap();
        assert_eq!(d.class_name.as_deref(), Some("USB controller"));
        assert_eq!(d.class_code, Some(0x0c03));
        assert_eq!((d.vendor_id, d.device_id), (Some(0x8086), Some(0xa1af)));
        assert_eq!(d.revision, Some(9));
        assert_eq!(d.prog_if, Some(0x30));
        assert_eq!(
            d.description.as_deref(),
            Some("Intel Corporation C620 Series Chipset Family USB 3.0 xHCI Controller")
        );
        let d = parse_header("00:1f.3 0403: 8086:a348 (rev 10)", 1).unwrap();
        assert_eq!(
            (d.class_code, d.vendor_id, d.revision),
            (Some(0x0403), Some(0x8086), Some(0x10))
        );
        assert_eq!(d.description, None);
    }

    #[test]
    fn split_code_forms() {
        assert_eq!(
            split_code("Intel Corporation [8086]"),
            (Some("Intel Corporation".into()), Some(0x8086))
        );
        assert_eq!(split_code("8086"), (None, Some(0x8086)));
        assert_eq!(
            split_code("Device 0d57"),
            (Some("Device 0d57".into()), Some(0x0d57))
        );
        assert_eq!(
            split_code("Advanced Micro Devices, Inc. [AMD]"),
            (Some("Advanced Micro Devices, Inc. [AMD]".into()), None)
        );
        assert_eq!(split_code(""), (None, None));
    }
}
