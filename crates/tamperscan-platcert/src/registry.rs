//! Component class registries: names for `componentClassValue`s, and the mapping of TCG,
//! SMBIOS (DMTF) and PCIe classes to [`tamperscan_inventory::ComponentClass`].
//!
//! The names come from a registry table passed in as JSON (the HIRS `component-class.json`
//! layout: `{ "TCG": { "<category>": { "ID": "0x00010000", "Types": { "0x00000002": "CPU" }}}}`
//! with an `SMBIOS` table for the DMTF registry). A class value is a category in its upper 16
//! bits and a type in its lower 16 bits; in the TCG registry type 0 is "Other" and type 1
//! "Unknown".

use crate::oid;
use crate::platform_configuration::ComponentClassId;
use crate::Error;
use std::collections::BTreeMap;
use tamperscan_inventory::ComponentClass;

/// Largest registry JSON accepted.
pub const MAX_REGISTRY_JSON: usize = 1024 * 1024;

/// One category of a registry table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// Category name (`Processors`, `Memory`).
    pub name: String,
    /// Upper 16 bits of the class values in this category.
    pub id: u16,
    /// Type names by the lower 16 bits.
    pub types: BTreeMap<u16, String>,
}

/// The name of a class value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassName {
    /// The table it was found in (`TCG`, `SMBIOS`).
    pub registry: String,
    /// The category name.
    pub category: String,
    /// The type name, when the table has one.
    pub component: Option<String>,
}

impl std::fmt::Display for ClassName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.component {
            Some(c) => write!(f, "{} {} - {c}", self.registry, self.category),
            None => write!(f, "{} {}", self.registry, self.category),
        }
    }
}

/// Component class tables by registry name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassRegistry {
    /// Categories of each table (`TCG`, `SMBIOS`), sorted by id.
    pub tables: BTreeMap<String, Vec<Category>>,
}

/// The table name a registry OID uses in the JSON (`TCG` for 2.23.133.18.3.1, `SMBIOS` for
/// 2.23.133.18.3.3).
pub fn table_name(registry_oid: &str) -> Option<&'static str> {
    match registry_oid {
        oid::TCG_REGISTRY_COMPONENT_CLASS_TCG => Some("TCG"),
        oid::TCG_REGISTRY_COMPONENT_CLASS_DMTF => Some("SMBIOS"),
        _ => None,
    }
}

fn hex_u32(text: &str) -> Option<u32> {
    let t = text.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    u32::from_str_radix(t, 16).ok()
}

impl ClassRegistry {
    /// Reads a registry table in the HIRS JSON layout.
    pub fn from_json(bytes: &[u8]) -> Result<ClassRegistry, Error> {
        if bytes.len() > MAX_REGISTRY_JSON {
            return Err(Error::Registry(format!(
                "{} bytes, more than the limit of {MAX_REGISTRY_JSON}",
                bytes.len()
            )));
        }
        let root: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| Error::Registry(e.to_string()))?;
        let obj = root
            .as_object()
            .ok_or_else(|| Error::Registry("top level is not an object".into()))?;
        let mut tables = BTreeMap::new();
        for (table, categories) in obj {
            let Some(categories) = categories.as_object() else {
                continue;
            };
            let mut list = Vec::new();
            for (name, cat) in categories {
                let id = cat
                    .get("ID")
                    .and_then(|v| v.as_str())
                    .and_then(hex_u32)
                    .ok_or_else(|| Error::Registry(format!("{table}/{name}: no hex ID")))?;
                let mut types = BTreeMap::new();
                if let Some(t) = cat.get("Types").and_then(|v| v.as_object()) {
                    for (k, v) in t {
                        let (Some(value), Some(label)) = (hex_u32(k), v.as_str()) else {
                            return Err(Error::Registry(format!(
                                "{table}/{name}: bad type entry {k:?}"
                            )));
                        };
                        types.insert((value & 0xffff) as u16, label.to_string());
                    }
                }
                list.push(Category {
                    name: name.clone(),
                    id: (id >> 16) as u16,
                    types,
                });
            }
            list.sort_by_key(|c| c.id);
            tables.insert(table.clone(), list);
        }
        Ok(ClassRegistry { tables })
    }

    /// The name of `class`, when its registry has a table here and the category is known.
    pub fn name(&self, class: &ComponentClassId) -> Option<ClassName> {
        let table = table_name(&class.registry)?;
        let categories = self.tables.get(table)?;
        let cat_id = (class.value >> 16) as u16;
        let type_id = (class.value & 0xffff) as u16;
        let cat = categories.iter().find(|c| c.id == cat_id)?;
        let component = cat.types.get(&type_id).cloned().or_else(|| {
            if table == "TCG" {
                match type_id {
                    0 => Some("Other".to_string()),
                    1 => Some("Unknown".to_string()),
                    _ => None,
                }
            } else {
                None
            }
        });
        Some(ClassName {
            registry: table.to_string(),
            category: cat.name.clone(),
            component,
        })
    }

    /// A readable description: the registry name when known, otherwise the registry OID and
    /// the value in hex.
    pub fn describe(&self, class: &ComponentClassId) -> String {
        match self.name(class) {
            Some(n) => n.to_string(),
            None => format!("{} 0x{}", class.registry, class.value_hex()),
        }
    }

    /// The inventory class of `class`: the obvious mapping when there is one
    /// ([`inventory_class`]), otherwise `Other` with the registry's name for it.
    pub fn to_inventory_class(&self, class: &ComponentClassId) -> ComponentClass {
        inventory_class(class).unwrap_or_else(|| ComponentClass::Other(self.describe(class)))
    }
}

/// The inventory class of a component class where the mapping is obvious:
/// * TCG registry (2.23.133.18.3.1): processors (CPU, GPU), containers (chassis), IC boards
///   (motherboard), modules (TPM, memory, power), controllers (video, storage, Ethernet,
///   remote access = BMC), memory, storage and media drives, network adapters, power supply,
///   firmware (UEFI, system BIOS);
/// * SMBIOS registry (2.23.133.18.3.3), by structure type: 0 BIOS, 1 system, 2 baseboard,
///   3 chassis, 4 processor, 17 memory device, 39 power supply, 43 TPM;
/// * PCIe registry (2.23.133.18.3.4), by class code: mass storage controllers, network
///   controllers, display controllers and processing accelerators, other functions as PCIe;
/// * disk registry (2.23.133.18.3.5): storage.
pub fn inventory_class(class: &ComponentClassId) -> Option<ComponentClass> {
    let cat = (class.value >> 16) as u16;
    let ty = (class.value & 0xffff) as u16;
    use ComponentClass as C;
    match class.registry.as_str() {
        oid::TCG_REGISTRY_COMPONENT_CLASS_TCG => match (cat, ty) {
            (0x0001, 0x0005 | 0x0006) => Some(C::Gpu),
            (0x0001, _) => Some(C::Cpu),
            (0x0002, _) => Some(C::Chassis),
            (0x0003, 0x0003) => Some(C::Baseboard),
            (0x0004, 0x0003) => Some(C::Cpu),
            (0x0004, 0x0005) => Some(C::Memory),
            (0x0004, 0x0006) => Some(C::PowerSupply),
            (0x0004, 0x0009) => Some(C::Tpm),
            (0x0005, 0x0002) => Some(C::Gpu),
            (0x0005, 0x0003 | 0x0007 | 0x0008 | 0x0009 | 0x000b | 0x000f) => {
                Some(C::StorageController)
            }
            (0x0005, 0x0004 | 0x0010) => Some(C::Nic),
            (0x0005, 0x000c) => Some(C::Bmc),
            // The HIRS table lists the BMC under this category.
            (0x0006, 0x0003) => Some(C::Bmc),
            (0x0006, 0x0002) => None,
            (0x0006, _) => Some(C::Memory),
            (0x0007 | 0x0008, _) => Some(C::Storage),
            (0x0009, _) => Some(C::Nic),
            (0x000a, 0x0002) => Some(C::PowerSupply),
            (0x0013, 0x0002 | 0x0003) => Some(C::Bios),
            _ => None,
        },
        oid::TCG_REGISTRY_COMPONENT_CLASS_DMTF => match cat {
            0 => Some(C::Bios),
            1 => Some(C::System),
            2 => Some(C::Baseboard),
            3 => Some(C::Chassis),
            4 => Some(C::Cpu),
            17 => Some(C::Memory),
            39 => Some(C::PowerSupply),
            43 => Some(C::Tpm),
            _ => None,
        },
        oid::TCG_REGISTRY_COMPONENT_CLASS_PCIE => {
            let base_class = (class.value >> 16) & 0xff;
            Some(match base_class {
                0x01 => C::StorageController,
                0x02 => C::Nic,
                0x03 | 0x12 => C::Gpu,
                _ => C::Pcie,
            })
        }
        oid::TCG_REGISTRY_COMPONENT_CLASS_DISK => Some(C::Storage),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"TCG": {"Processors": {"ID": "0x00010000", "Types": {"0x00000002": "CPU"}},
        "Memory": {"ID": "0x00060000", "Types": {"0x00000004": "DRAM Memory"}}},
        "SMBIOS": {"Baseboard": {"ID": "0x00020000", "Types": {"0x0000000A": "Motherboard"}}}}"#;

    fn class(registry: &str, value: u32) -> ComponentClassId {
        ComponentClassId {
            registry: registry.to_string(),
            value,
        }
    }

    #[test]
    fn names_and_maps_classes() {
        let reg = ClassRegistry::from_json(SAMPLE.as_bytes()).unwrap();
        let tcg = oid::TCG_REGISTRY_COMPONENT_CLASS_TCG;
        assert_eq!(
            reg.describe(&class(tcg, 0x0001_0002)),
            "TCG Processors - CPU"
        );
        assert_eq!(
            reg.describe(&class(tcg, 0x0006_0001)),
            "TCG Memory - Unknown"
        );
        assert_eq!(
            reg.describe(&class(oid::TCG_REGISTRY_COMPONENT_CLASS_DMTF, 0x0002_000a)),
            "SMBIOS Baseboard - Motherboard"
        );
        assert_eq!(
            reg.describe(&class(tcg, 0x0099_0001)),
            "2.23.133.18.3.1 0x00990001"
        );
        assert_eq!(
            reg.to_inventory_class(&class(tcg, 0x0006_0001)),
            ComponentClass::Memory
        );
        assert_eq!(
            reg.to_inventory_class(&class(tcg, 0x0099_0001)),
            ComponentClass::Other("2.23.133.18.3.1 0x00990001".into())
        );
        assert_eq!(
            inventory_class(&class(oid::TCG_REGISTRY_COMPONENT_CLASS_PCIE, 0x0002_0000)),
            Some(ComponentClass::Nic)
        );
        assert!(ClassRegistry::from_json(b"[1,2]").is_err());
        assert!(ClassRegistry::from_json(br#"{"TCG": {"X": {"ID": "zz"}}}"#).is_err());
        assert!(ClassRegistry::from_json(b"{\"TCG\":").is_err());
    }
}
