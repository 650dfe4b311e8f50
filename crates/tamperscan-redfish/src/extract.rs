//! Typed resources (Redfish schema bundle DSP8010: `ComputerSystem`, `Chassis`, `PCIeDevice`,
//! `NetworkAdapter`, `PowerSupply`, `Assembly`, `Processor`, `Memory`, `Storage`, `Drive`,
//! `StorageController`, `Manager`) to components.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use tamperscan_inventory::{clean, normalize_mac, Component, ComponentClass};

use crate::capture::{Identifiers, Issues, Limits};
use crate::classify::{class_by_name, is_enclosure_type};
use crate::crawl::{Crawl, Resource, SERVICE_ROOT};
use crate::firmware::{self, FirmwareEntry};
use crate::integrity::{self, IntegrityEntry};
use crate::json::{at, is_absent, link_at, links_at, members, objects_at, refs_at, str_at};
use crate::odata::{normalize_ref, type_name};
use crate::pci_class::{class_of_pci_code, class_of_pci_name};

/// Members, links or embedded objects taken from one array.
pub(crate) const MAX_MEMBERS: usize = 4_096;
/// MAC addresses kept per component.
const MAX_MACS: usize = 256;

/// What a `ComputerSystem` said about identity.
#[derive(Debug, Default)]
pub(crate) struct SystemInfo {
    id: String,
    serial: Option<String>,
    board_serial: Option<String>,
    uuid: Option<String>,
    chassis: Vec<String>,
}

/// What a `Chassis` said about identity.
#[derive(Debug, Default)]
pub(crate) struct ChassisInfo {
    id: String,
    enclosure: bool,
    storage_enclosure: bool,
    serial: Option<String>,
    board_serial: Option<String>,
}

/// What a `Manager` said about identity.
#[derive(Debug, Default)]
pub(crate) struct ManagerInfo {
    is_bmc: bool,
    uuid: Option<String>,
    universal_macs: Vec<String>,
}

/// The state of one extraction.
pub(crate) struct Extractor<'c> {
    pub crawl: &'c Crawl,
    pub limits: Limits,
    pub issues: Issues,
    pub components: Vec<Component>,
    /// Normalized `@odata.id` (or `id#/Member/0` reference) -> component.
    pub comp_by_ref: HashMap<String, usize>,
    pub firmware: Vec<FirmwareEntry>,
    pub integrity: Vec<IntegrityEntry>,
    systems: Vec<SystemInfo>,
    chassis: Vec<ChassisInfo>,
    managers: Vec<ManagerInfo>,
    dell: bool,
    dell_service_tag: Option<String>,
    root_bmc_mac: Option<String>,
    systems_collection: Option<String>,
    /// `PCIeDevice` `Id`s read so far, with their components.
    pcie_seen: HashMap<String, Vec<usize>>,
    /// Serial numbers of the power supplies read so far.
    psu_serials: HashSet<String>,
}

impl<'c> Extractor<'c> {
    pub fn new(crawl: &'c Crawl, limits: Limits, issues: Issues) -> Self {
        Extractor {
            crawl,
            limits,
            issues,
            components: Vec::new(),
            comp_by_ref: HashMap::new(),
            firmware: Vec::new(),
            integrity: Vec::new(),
            systems: Vec::new(),
            chassis: Vec::new(),
            managers: Vec::new(),
            dell: false,
            dell_service_tag: None,
            root_bmc_mac: None,
            systems_collection: None,
            pcie_seen: HashMap::new(),
            psu_serials: HashSet::new(),
        }
    }

    /// Reads every resource: hardware first, then what refers to hardware (legacy power
    /// arrays, firmware inventory, component integrity).
    pub fn run(&mut self) {
        let crawl = self.crawl;
        if let Some(root) = crawl.get(SERVICE_ROOT) {
            self.service_root(root);
        }
        for r in &crawl.resources {
            match type_name(&r.value).unwrap_or_default() {
                "ComputerSystem" => self.system(r),
                "Chassis" => self.chassis(r),
                "PCIeDevice" => self.pcie_device(r),
                "NetworkAdapter" => self.network_adapter(r),
                "PowerSupply" => self.power_supply(r),
                "Assembly" => self.assembly(r),
                "Processor" => self.processor(r),
                "Memory" => self.memory(r),
                "Drive" => self.drive(r),
                "StorageController" => self.storage_controller(r),
                "Storage" => self.storage(r),
                "Manager" => self.manager(r),
                _ => {}
            }
        }
        for r in &crawl.resources {
            if type_name(&r.value) == Some("Power") {
                self.legacy_power(r);
            }
        }
        firmware::read_all(self);
        integrity::read_all(self);
    }

    pub fn finish(
        self,
    ) -> (
        Vec<Component>,
        Identifiers,
        Vec<FirmwareEntry>,
        Vec<IntegrityEntry>,
        Issues,
    ) {
        let identifiers = self.identifiers();
        (
            self.components,
            identifiers,
            self.firmware,
            self.integrity,
            self.issues,
        )
    }

    // ----- helpers -------------------------------------------------------------------------

    /// A text property through placeholder detection and the length bound.
    pub fn text(
        &mut self,
        path: &str,
        value: &Value,
        keys: &[&str],
        field: &str,
        placeholders: &mut Vec<String>,
    ) -> Option<String> {
        let raw = str_at(value, keys)?;
        if raw.len() > self.limits.max_field_len {
            self.issues.push(
                path,
                format!(
                    "{} is {} bytes long (limit {}); ignored",
                    keys.join("."),
                    raw.len(),
                    self.limits.max_field_len
                ),
            );
            return None;
        }
        let v = clean(Some(raw), field, placeholders)?;
        if field == "serial" && names_itself(&v) {
            placeholders.push(format!("{field}: {v}"));
            return None;
        }
        Some(v)
    }

    /// The first of several text properties that has a value.
    fn first_text(
        &mut self,
        path: &str,
        value: &Value,
        paths: &[&[&str]],
        field: &str,
        placeholders: &mut Vec<String>,
    ) -> Option<String> {
        paths
            .iter()
            .find_map(|keys| self.text(path, value, keys, field, placeholders))
    }

    /// A component with the properties most resources share under the same names.
    pub fn base(
        &mut self,
        class: ComponentClass,
        path: &str,
        value: &Value,
        source_ref: &str,
    ) -> Component {
        let mut c = Component {
            class: Some(class),
            source: "redfish".to_string(),
            source_ref: source_ref.to_string(),
            ..Component::default()
        };
        let ph = &mut c.placeholders;
        c.manufacturer = self.text(path, value, &["Manufacturer"], "manufacturer", ph);
        c.model = self.text(path, value, &["Model"], "model", ph);
        c.serial = self.text(path, value, &["SerialNumber"], "serial", ph);
        c.part_number = self.text(path, value, &["PartNumber"], "part_number", ph);
        c.firmware_version = self.text(path, value, &["FirmwareVersion"], "firmware_version", ph);
        c.location = self.first_text(
            path,
            value,
            &[
                &["Location", "PartLocation", "ServiceLabel"],
                &["PhysicalLocation", "PartLocation", "ServiceLabel"],
                &["Slot", "Location", "PartLocation", "ServiceLabel"],
            ],
            "location",
            ph,
        );
        c
    }

    /// Adds a component, reachable by the given references.
    pub fn push(&mut self, c: Component, refs: &[&str]) -> usize {
        let idx = self.components.len();
        for r in refs {
            if let Some(key) = normalize_ref(r) {
                self.comp_by_ref.entry(key).or_insert(idx);
            }
        }
        self.components.push(c);
        idx
    }

    /// The component a link points to.
    pub fn component_for(&self, link: &str) -> Option<usize> {
        let key = normalize_ref(link)?;
        self.comp_by_ref.get(&key).copied()
    }

    /// The resources of a collection (by its link) plus those linked directly.
    fn linked_resources(&self, collections: &[String], direct: &[String]) -> Vec<&'c Resource> {
        let crawl = self.crawl;
        let mut ids: Vec<String> = Vec::new();
        for c in collections {
            if let Some(col) = crawl.get(c) {
                ids.extend(members(&col.value, MAX_MEMBERS));
            }
        }
        ids.extend(direct.iter().cloned());
        let mut out: Vec<&'c Resource> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for id in ids.iter().take(MAX_MEMBERS) {
            if let Some(r) = crawl.get(id) {
                if seen.insert(r.id.as_str()) {
                    out.push(r);
                }
            }
        }
        out
    }

    fn add_macs(&mut self, c: &mut Component, path: &str, candidates: &[&str]) {
        for raw in candidates {
            if raw.len() > 64 {
                self.issues.push(
                    path,
                    "a MAC address property is longer than 64 bytes; ignored",
                );
                continue;
            }
            if let Some(mac) = normalize_mac(raw) {
                if !c.macs.contains(&mac) && c.macs.len() < MAX_MACS {
                    c.macs.push(mac);
                }
            }
        }
    }

    // ----- resources -----------------------------------------------------------------------

    fn service_root(&mut self, r: &Resource) {
        let v = &r.value;
        self.dell = str_at(v, &["Vendor"])
            .is_some_and(|s| s.to_ascii_lowercase().starts_with("dell"))
            || at(v, &["Oem", "Dell"]).is_some();
        let mut ph = Vec::new();
        self.dell_service_tag = self.text(
            &r.path,
            v,
            &["Oem", "Dell", "ServiceTag"],
            "serial",
            &mut ph,
        );
        self.root_bmc_mac =
            str_at(v, &["Oem", "Dell", "ManagerMACAddress"]).and_then(normalize_mac);
        self.systems_collection = link_at(v, &["Systems"]);
    }

    fn system(&mut self, r: &Resource) {
        let (path, v) = (r.path.as_str(), &r.value);
        let mut c = self.base(ComponentClass::System, path, v, &r.id);
        c.firmware_version = None;
        let sku = self.text(path, v, &["SKU"], "sku", &mut c.placeholders);
        let uuid = self
            .text(path, v, &["UUID"], "uuid", &mut c.placeholders)
            .map(|u| u.to_ascii_lowercase());
        let dell = self.dell
            || c.manufacturer
                .as_deref()
                .is_some_and(|m| m.to_ascii_lowercase().starts_with("dell"));
        let mut board_serial = None;
        if dell {
            // iDRAC reports the service tag as SKU and the board's serial as SerialNumber.
            if let Some(tag) = sku.or_else(|| self.dell_service_tag.clone()) {
                board_serial = c.serial.replace(tag);
            }
        } else if c.part_number.is_none() {
            c.part_number = sku;
        }
        let bios_version = self.text(
            path,
            v,
            &["BiosVersion"],
            "firmware_version",
            &mut c.placeholders,
        );
        let bios_link = link_at(v, &["Bios"]);
        let chassis = links_at(v, &["Links", "Chassis"], MAX_MEMBERS);
        let manufacturer = c.manufacturer.clone();
        self.systems.push(SystemInfo {
            id: r.id.clone(),
            serial: c.serial.clone(),
            board_serial: board_serial.clone(),
            uuid,
            chassis,
        });
        self.push(c, &[&r.id]);
        if let Some(version) = bios_version {
            let bios = Component {
                class: Some(ComponentClass::Bios),
                firmware_version: Some(version),
                source: "redfish".to_string(),
                source_ref: r.id.clone(),
                ..Component::default()
            };
            let refs: Vec<&str> = bios_link.iter().map(String::as_str).collect();
            self.push(bios, &refs);
        }
        if board_serial.is_some() {
            let board = Component {
                class: Some(ComponentClass::Baseboard),
                manufacturer,
                serial: board_serial,
                source: "redfish".to_string(),
                source_ref: r.id.clone(),
                ..Component::default()
            };
            self.push(board, &[]);
        }
    }

    fn chassis(&mut self, r: &Resource) {
        let (path, v) = (r.path.as_str(), &r.value);
        let chassis_type = str_at(v, &["ChassisType"]).unwrap_or_default().to_string();
        let enclosure = is_enclosure_type(&chassis_type);
        let class = if enclosure {
            ComponentClass::Chassis
        } else {
            let name = format!(
                "{} {}",
                str_at(v, &["Id"]).unwrap_or_default(),
                str_at(v, &["Name"]).unwrap_or_default()
            );
            class_by_name(&name).unwrap_or_else(|| {
                ComponentClass::Other(if chassis_type.is_empty() || chassis_type.len() > 64 {
                    "Chassis".to_string()
                } else {
                    chassis_type.clone()
                })
            })
        };
        let mut c = self.base(class, path, v, &r.id);
        if c.part_number.is_none() {
            c.part_number = self.text(path, v, &["SKU"], "part_number", &mut c.placeholders);
        }
        c.revision = self.text(path, v, &["Version"], "revision", &mut c.placeholders);
        let mut ph = Vec::new();
        let board_serial = self.text(
            path,
            v,
            &["Oem", "Supermicro", "BoardSerialNumber"],
            "serial",
            &mut ph,
        );
        c.placeholders.extend(ph);
        self.chassis.push(ChassisInfo {
            id: r.id.clone(),
            enclosure,
            storage_enclosure: chassis_type == "StorageEnclosure",
            serial: c.serial.clone(),
            board_serial: board_serial.clone(),
        });
        if board_serial.is_some() {
            // Supermicro's chassis carries the board's model and, in Oem, its serial.
            let board = Component {
                class: Some(ComponentClass::Baseboard),
                manufacturer: c.manufacturer.clone(),
                model: c.model.clone(),
                serial: board_serial,
                source: "redfish".to_string(),
                source_ref: r.id.clone(),
                ..Component::default()
            };
            self.push(c, &[&r.id]);
            self.push(board, &[]);
        } else {
            self.push(c, &[&r.id]);
        }
    }

    fn pcie_device(&mut self, r: &Resource) {
        let (path, v) = (r.path.as_str(), &r.value);
        if is_absent(v) {
            return;
        }
        let collections: Vec<String> = link_at(v, &["PCIeFunctions"]).into_iter().collect();
        let direct = links_at(v, &["Links", "PCIeFunctions"], MAX_MEMBERS);
        let functions = self.linked_resources(&collections, &direct);
        let mut class = None;
        let mut pci_id = None;
        for f in &functions {
            let fv = &f.value;
            if class.is_none() {
                class = str_at(fv, &["DeviceClass"])
                    .and_then(class_of_pci_name)
                    .or_else(|| {
                        let code = parse_hex(str_at(fv, &["ClassCode"])?)?;
                        u16::try_from(code >> 8).ok().map(class_of_pci_code)
                    });
            }
            if pci_id.is_none() {
                pci_id = pci_id_of(fv);
            }
        }
        let name = format!(
            "{} {} {}",
            str_at(v, &["Id"]).unwrap_or_default(),
            str_at(v, &["Name"]).unwrap_or_default(),
            str_at(v, &["Model"]).unwrap_or_default()
        );
        let class = class
            .or_else(|| class_by_name(&name))
            .unwrap_or(ComponentClass::Pcie);
        let mut c = self.base(class, path, v, &r.id);
        if c.part_number.is_none() {
            c.part_number = self.text(path, v, &["SKU"], "part_number", &mut c.placeholders);
        }
        c.pci_id = pci_id;
        // Some BMCs (iDRAC) serve each device twice, under the system (deprecated) and under
        // the chassis, with the same Id: one device, one component.
        let own_id = str_at(v, &["Id"]).unwrap_or_default().to_string();
        let same = self.pcie_seen.get(&own_id).and_then(|list| {
            list.iter()
                .copied()
                .find(|idx| self.components.get(*idx).is_some_and(|o| same_part(o, &c)))
        });
        if let Some(idx) = same {
            if let Some(key) = normalize_ref(&r.id) {
                self.comp_by_ref.entry(key).or_insert(idx);
            }
            return;
        }
        let idx = self.push(c, &[&r.id]);
        let list = self.pcie_seen.entry(own_id).or_default();
        if list.len() < MAX_MEMBERS {
            list.push(idx);
        }
    }

    fn network_adapter(&mut self, r: &Resource) {
        let (path, v) = (r.path.as_str(), &r.value);
        if is_absent(v) {
            return;
        }
        let mut c = self.base(ComponentClass::Nic, path, v, &r.id);
        if c.part_number.is_none() {
            c.part_number = self.text(path, v, &["SKU"], "part_number", &mut c.placeholders);
        }
        let controllers = objects_at(v, &["Controllers"], MAX_MEMBERS);
        let mut direct = Vec::new();
        for ctl in &controllers {
            if c.firmware_version.is_none() {
                c.firmware_version = self.text(
                    path,
                    ctl,
                    &["FirmwarePackageVersion"],
                    "firmware_version",
                    &mut c.placeholders,
                );
            }
            if c.location.is_none() {
                c.location = self.text(
                    path,
                    ctl,
                    &["Location", "PartLocation", "ServiceLabel"],
                    "location",
                    &mut c.placeholders,
                );
            }
            for key in ["NetworkPorts", "Ports", "NetworkDeviceFunctions"] {
                direct.extend(links_at(ctl, &["Links", key], MAX_MEMBERS));
            }
        }
        let collections: Vec<String> = ["NetworkPorts", "Ports", "NetworkDeviceFunctions"]
            .iter()
            .filter_map(|k| link_at(v, &[k]))
            .collect();
        let parts = self.linked_resources(&collections, &direct);
        for p in parts {
            let pv = &p.value;
            let mut macs: Vec<&str> = Vec::new();
            if let Some(list) = at(pv, &["AssociatedNetworkAddresses"]).and_then(Value::as_array) {
                macs.extend(list.iter().filter_map(Value::as_str));
            }
            if let Some(list) =
                at(pv, &["Ethernet", "AssociatedMACAddresses"]).and_then(Value::as_array)
            {
                macs.extend(list.iter().filter_map(Value::as_str));
            }
            let permanent = str_at(pv, &["Ethernet", "PermanentMACAddress"]);
            if let Some(m) = permanent.filter(|m| normalize_mac(m).is_some()) {
                macs.push(m);
            } else if let Some(m) = str_at(pv, &["Ethernet", "MACAddress"]) {
                macs.push(m);
            }
            self.add_macs(&mut c, &p.path, &macs);
        }
        self.push(c, &[&r.id]);
    }

    fn power_supply(&mut self, r: &Resource) {
        let (path, v) = (r.path.as_str(), &r.value);
        if is_absent(v) {
            return;
        }
        let mut c = self.base(ComponentClass::PowerSupply, path, v, &r.id);
        if c.location.is_none() {
            c.location = self.text(path, v, &["Name"], "location", &mut c.placeholders);
        }
        if let Some(serial) = &c.serial {
            self.psu_serials.insert(serial.clone());
        }
        self.push(c, &[&r.id]);
    }

    /// `Power.PowerSupplies` (deprecated in favour of `PowerSubsystem`): embedded objects,
    /// skipped when the same supply (same serial) was read from a `PowerSupply` resource.
    fn legacy_power(&mut self, r: &Resource) {
        let (path, v) = (r.path.as_str(), &r.value);
        for (i, ps) in objects_at(v, &["PowerSupplies"], MAX_MEMBERS)
            .into_iter()
            .enumerate()
        {
            if is_absent(ps) {
                continue;
            }
            let member_ref = str_at(ps, &["@odata.id"])
                .and_then(normalize_ref)
                .unwrap_or_else(|| format!("{}#/PowerSupplies/{i}", r.id));
            let mut c = self.base(ComponentClass::PowerSupply, path, ps, &member_ref);
            if c.location.is_none() {
                c.location = self.text(path, ps, &["Name"], "location", &mut c.placeholders);
            }
            if let Some(serial) = &c.serial {
                if !self.psu_serials.insert(serial.clone()) {
                    continue;
                }
            }
            self.push(c, &[&member_ref]);
        }
    }

    fn assembly(&mut self, r: &Resource) {
        let (path, v) = (r.path.as_str(), &r.value);
        for (i, a) in objects_at(v, &["Assemblies"], MAX_MEMBERS)
            .into_iter()
            .enumerate()
        {
            let name = str_at(a, &["Name"]).unwrap_or_default();
            let class = class_by_name(name)
                .unwrap_or_else(|| ComponentClass::Other("Assembly".to_string()));
            let member_ref = str_at(a, &["@odata.id"])
                .and_then(normalize_ref)
                .unwrap_or_else(|| format!("{}#/Assemblies/{i}", r.id));
            let mut c = self.base(class, path, a, &member_ref);
            if c.manufacturer.is_none() {
                c.manufacturer =
                    self.text(path, a, &["Producer"], "manufacturer", &mut c.placeholders);
            }
            c.revision = self.text(path, a, &["Version"], "revision", &mut c.placeholders);
            if c.serial.is_none() && c.part_number.is_none() && c.model.is_none() {
                continue;
            }
            self.push(c, &[&member_ref]);
        }
    }

    fn processor(&mut self, r: &Resource) {
        let (path, v) = (r.path.as_str(), &r.value);
        if is_absent(v) {
            return;
        }
        let ptype = str_at(v, &["ProcessorType"]).unwrap_or_default();
        let class = match ptype {
            "CPU" => ComponentClass::Cpu,
            "GPU" | "Accelerator" => ComponentClass::Gpu,
            "FPGA" => ComponentClass::Cpld,
            "Core" | "Thread" => return,
            _ => {
                let name = format!(
                    "{} {}",
                    str_at(v, &["Id"]).unwrap_or_default(),
                    str_at(v, &["Name"]).unwrap_or_default()
                );
                class_by_name(&name).unwrap_or(ComponentClass::Cpu)
            }
        };
        let mut c = self.base(class, path, v, &r.id);
        if let Some(socket) = self.text(path, v, &["Socket"], "location", &mut c.placeholders) {
            c.location = Some(socket);
        }
        self.push(c, &[&r.id]);
    }

    fn memory(&mut self, r: &Resource) {
        let (path, v) = (r.path.as_str(), &r.value);
        if is_absent(v) {
            return;
        }
        let mut c = self.base(ComponentClass::Memory, path, v, &r.id);
        if let Some(loc) = self.text(path, v, &["DeviceLocator"], "location", &mut c.placeholders) {
            c.location = Some(loc);
        }
        c.firmware_version = self.text(
            path,
            v,
            &["FirmwareRevision"],
            "firmware_version",
            &mut c.placeholders,
        );
        self.push(c, &[&r.id]);
    }

    fn drive(&mut self, r: &Resource) {
        let (path, v) = (r.path.as_str(), &r.value);
        if is_absent(v) {
            return;
        }
        let mut c = self.base(ComponentClass::Storage, path, v, &r.id);
        c.firmware_version = self.text(
            path,
            v,
            &["Revision"],
            "firmware_version",
            &mut c.placeholders,
        );
        self.push(c, &[&r.id]);
    }

    fn storage_controller(&mut self, r: &Resource) {
        let (path, v) = (r.path.as_str(), &r.value);
        if is_absent(v) {
            return;
        }
        let c = self.base(ComponentClass::StorageController, path, v, &r.id);
        self.push(c, &[&r.id]);
    }

    /// `Storage.StorageControllers` (embedded, deprecated) when the capture lacks the
    /// `Controllers` collection that replaced it.
    fn storage(&mut self, r: &Resource) {
        let (path, v) = (r.path.as_str(), &r.value);
        if link_at(v, &["Controllers"]).is_some_and(|id| self.crawl.get(&id).is_some()) {
            return;
        }
        let refs = refs_at(v, &["StorageControllers"], MAX_MEMBERS);
        for (i, ctl) in objects_at(v, &["StorageControllers"], MAX_MEMBERS)
            .into_iter()
            .enumerate()
        {
            if is_absent(ctl) {
                continue;
            }
            let member_ref = str_at(ctl, &["@odata.id"])
                .and_then(normalize_ref)
                .or_else(|| refs.get(i).cloned())
                .unwrap_or_else(|| format!("{}#/StorageControllers/{i}", r.id));
            let c = self.base(ComponentClass::StorageController, path, ctl, &member_ref);
            self.push(c, &[&member_ref]);
        }
    }

    fn manager(&mut self, r: &Resource) {
        let (path, v) = (r.path.as_str(), &r.value);
        let mut c = self.base(ComponentClass::Bmc, path, v, &r.id);
        let uuid = self
            .text(path, v, &["UUID"], "uuid", &mut c.placeholders)
            .map(|u| u.to_ascii_lowercase());
        let is_bmc = str_at(v, &["ManagerType"]).is_none_or(|t| t == "BMC");
        let collections: Vec<String> = link_at(v, &["EthernetInterfaces"]).into_iter().collect();
        let mut universal = Vec::new();
        for nic in self.linked_resources(&collections, &[]) {
            let nv = &nic.value;
            let raw = str_at(nv, &["PermanentMACAddress"])
                .filter(|m| normalize_mac(m).is_some())
                .or_else(|| str_at(nv, &["MACAddress"]));
            let Some(raw) = raw else { continue };
            self.add_macs(&mut c, &nic.path, &[raw]);
            if let Some(mac) = normalize_mac(raw).filter(|m| is_universal(m)) {
                if universal.len() < MAX_MACS && !universal.contains(&mac) {
                    universal.push(mac);
                }
            }
        }
        self.managers.push(ManagerInfo {
            is_bmc,
            uuid,
            universal_macs: universal,
        });
        self.push(c, &[&r.id]);
    }

    // ----- identity ------------------------------------------------------------------------

    fn identifiers(&self) -> Identifiers {
        let first_member = self
            .systems_collection
            .as_ref()
            .and_then(|id| self.crawl.get(id))
            .and_then(|col| members(&col.value, 1).into_iter().next());
        let system = first_member
            .and_then(|id| self.systems.iter().find(|s| s.id == id))
            .or_else(|| self.systems.first());
        let chassis_by_id: HashMap<&str, &ChassisInfo> =
            self.chassis.iter().map(|c| (c.id.as_str(), c)).collect();
        let chassis_serial = system
            .into_iter()
            .flat_map(|s| s.chassis.iter())
            .filter_map(|id| chassis_by_id.get(id.as_str()).copied())
            .chain(self.chassis.iter())
            .find(|c| c.enclosure && !c.storage_enclosure && c.serial.is_some())
            .and_then(|c| c.serial.clone());
        let board_serial = system.and_then(|s| s.board_serial.clone()).or_else(|| {
            system
                .into_iter()
                .flat_map(|s| s.chassis.iter())
                .filter_map(|id| chassis_by_id.get(id.as_str()).copied())
                .chain(self.chassis.iter())
                .find_map(|c| c.board_serial.clone())
        });
        let mut bmc_macs: Vec<String> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for m in self.managers.iter().filter(|m| m.is_bmc) {
            for mac in &m.universal_macs {
                if seen.insert(mac.as_str()) {
                    bmc_macs.push(mac.clone());
                }
            }
        }
        if let Some(mac) = self.root_bmc_mac.as_ref().filter(|m| is_universal(m)) {
            if !bmc_macs.contains(mac) {
                bmc_macs.push(mac.clone());
            }
        }
        Identifiers {
            system_serial: system.and_then(|s| s.serial.clone()),
            board_serial,
            chassis_serial,
            smbios_uuid: system.and_then(|s| s.uuid.clone()),
            bmc_macs,
            bmc_uuid: self
                .managers
                .iter()
                .filter(|m| m.is_bmc)
                .find_map(|m| m.uuid.clone()),
        }
    }
}

/// True when two components describe the same part (all but where they were read).
fn same_part(a: &Component, b: &Component) -> bool {
    a.class == b.class
        && a.manufacturer == b.manufacturer
        && a.model == b.model
        && a.serial == b.serial
        && a.part_number == b.part_number
        && a.firmware_version == b.firmware_version
        && a.pci_id == b.pci_id
}

/// A serial number that is the name of the property (`CPLDSerialNumber`, `SerialNumber`,
/// `SN`): a template value nobody filled in.
fn names_itself(value: &str) -> bool {
    let squashed: String = value
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    squashed == "sn" || squashed.contains("serialnumber") || squashed.contains("serialnum")
}

/// True for a MAC whose "locally administered" bit (0x02 of the first octet) is clear.
fn is_universal(mac: &str) -> bool {
    mac.get(..2)
        .and_then(|h| u8::from_str_radix(h, 16).ok())
        .is_some_and(|b| b & 0x03 == 0)
}

/// A hex number written `0x8086` or `8086`.
pub(crate) fn parse_hex(text: &str) -> Option<u32> {
    let t = text.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    if t.is_empty() || t.len() > 8 {
        return None;
    }
    u32::from_str_radix(t, 16).ok()
}

/// `vvvv:dddd[:ssvv:ssdd]` from a `PCIeFunction`; `None` when the vendor is 0 or `ffff`.
fn pci_id_of(function: &Value) -> Option<String> {
    let id16 = |key: &str| {
        str_at(function, &[key])
            .and_then(parse_hex)
            .and_then(|v| u16::try_from(v).ok())
    };
    let vendor = id16("VendorId").filter(|v| *v != 0 && *v != 0xffff)?;
    let device = id16("DeviceId")?;
    let mut id = format!("{vendor:04x}:{device:04x}");
    if let (Some(sv), Some(sd)) = (id16("SubsystemVendorId"), id16("SubsystemId")) {
        if sv != 0 && sv != 0xffff {
            id.push_str(&format!(":{sv:04x}:{sd:04x}"));
        }
    }
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_templates_are_placeholders() {
        assert!(names_itself("CPLDSerialNumber"));
        assert!(names_itself("Serial Number"));
        assert!(names_itself("S/N"));
        assert!(!names_itself("CNIVC0014M0388"));
    }

    #[test]
    fn universal_macs() {
        assert!(is_universal("b0:7b:25:d6:51:82"));
        assert!(is_universal("7c:c2:55:50:a8:ff"));
        assert!(!is_universal("be:b5:71:8c:cc:4f"));
        assert!(!is_universal("66:c1:9d:a0:0f:03"));
    }

    #[test]
    fn pci_ids() {
        let f = serde_json::json!({"VendorId": "0x8086", "DeviceId": "0xa1d2",
            "SubsystemVendorId": "0x1028", "SubsystemId": "0x090e"});
        assert_eq!(pci_id_of(&f).as_deref(), Some("8086:a1d2:1028:090e"));
        let f = serde_json::json!({"VendorId": "0x0000", "DeviceId": "0x0000"});
        assert_eq!(pci_id_of(&f), None);
        assert_eq!(parse_hex("0x020000"), Some(0x020000));
        assert_eq!(parse_hex("zz"), None);
    }
}
