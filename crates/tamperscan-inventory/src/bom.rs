//! The order, or bill of materials: what a model's servers must contain, checked against what
//! arrived. TOML (`models/<model>/bom.toml`) or CSV (`models/<model>/bom.csv`).
//!
//! ```toml
//! [[component]]
//! class = "nic"                    # a ComponentClass name (snake_case) or any text
//! manufacturer = "Intel"           # optional; case-insensitive substring of what was observed
//! model = "X710"                   # optional; case-insensitive substring
//! count = 2                        # exactly this many (default 1)
//! ```
//!
//! CSV: a header `class,manufacturer,model,count` then one row per expected component.

use crate::{Component, ComponentClass};
use serde::{Deserialize, Serialize};

/// Why a BOM file was refused.
#[derive(Debug, thiserror::Error)]
pub enum BomError {
    /// Bad TOML or unknown keys.
    #[error("{0}")]
    Toml(String),
    /// A CSV line that does not fit the header.
    #[error("line {line}: {reason}")]
    Csv {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// One expected component line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// Class name (`nic`, `cpu`, `memory`, ...).
    pub class: String,
    /// Manufacturer, matched as a case-insensitive substring.
    pub manufacturer: Option<String>,
    /// Model, matched as a case-insensitive substring.
    pub model: Option<String>,
    /// How many.
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

/// A parsed BOM.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bom {
    /// Expected components.
    #[serde(default, rename = "component")]
    pub components: Vec<Expected>,
}

/// One line of the check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BomLine {
    /// What the BOM says.
    pub expected: Expected,
    /// How many observed components match.
    pub found: u32,
    /// Locations (or serials) of the matching components.
    pub matched: Vec<String>,
}

impl BomLine {
    /// True when the count is exactly right.
    pub fn ok(&self) -> bool {
        self.found == self.expected.count
    }
}

/// The whole check: per BOM line, and the observed components of checked classes that no line
/// accounts for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BomCheck {
    /// One per BOM line.
    pub lines: Vec<BomLine>,
    /// Observed components of a class the BOM lists that match none of its lines.
    pub unexpected: Vec<Component>,
}

fn class_name(c: &ComponentClass) -> String {
    c.name().to_lowercase()
}

fn contains(hay: &Option<String>, needle: &Option<String>) -> bool {
    match needle {
        None => true,
        Some(n) => hay
            .as_deref()
            .is_some_and(|h| h.to_lowercase().contains(&n.to_lowercase())),
    }
}

fn matches(e: &Expected, c: &Component) -> bool {
    c.class.as_ref().map(class_name).as_deref() == Some(e.class.to_lowercase().as_str())
        && contains(&c.manufacturer, &e.manufacturer)
        && contains(&c.model, &e.model)
}

impl Bom {
    /// Parses `bom.toml`.
    pub fn from_toml(text: &str) -> Result<Bom, BomError> {
        toml::from_str(text).map_err(|e| BomError::Toml(e.to_string()))
    }

    /// Parses `bom.csv` (header `class,manufacturer,model,count`; empty fields allowed).
    pub fn from_csv(text: &str) -> Result<Bom, BomError> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((_, header)) = lines.next() else {
            return Ok(Bom::default());
        };
        let cols: Vec<String> = header.split(',').map(|c| c.trim().to_lowercase()).collect();
        let idx = |name: &str| cols.iter().position(|c| c == name);
        let class_at = idx("class").ok_or(BomError::Csv {
            line: 1,
            reason: "the header needs a `class` column (class,manufacturer,model,count)".into(),
        })?;
        let mut components = Vec::new();
        for (n, line) in lines {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let get = |i: Option<usize>| {
                i.and_then(|i| fields.get(i))
                    .filter(|v| !v.is_empty())
                    .map(|v| v.to_string())
            };
            let class = get(Some(class_at)).ok_or(BomError::Csv {
                line: n + 1,
                reason: "empty class".into(),
            })?;
            let count = match get(idx("count")) {
                None => 1,
                Some(c) => c.parse().map_err(|_| BomError::Csv {
                    line: n + 1,
                    reason: format!("count {c:?} is not a whole number"),
                })?,
            };
            components.push(Expected {
                class,
                manufacturer: get(idx("manufacturer")),
                model: get(idx("model")),
                count,
            });
        }
        Ok(Bom { components })
    }

    /// Checks observed components against the BOM. Each observed component counts for the
    /// first line it matches.
    pub fn check(&self, observed: &[Component]) -> BomCheck {
        let mut used = vec![false; observed.len()];
        let mut lines = Vec::new();
        for e in &self.components {
            let mut found = 0;
            let mut matched = Vec::new();
            for (i, c) in observed.iter().enumerate() {
                if !used.get(i).copied().unwrap_or(true) && matches(e, c) {
                    if let Some(u) = used.get_mut(i) {
                        *u = true;
                    }
                    found += 1;
                    matched.push(
                        c.location
                            .clone()
                            .or_else(|| c.serial.clone())
                            .unwrap_or_else(|| c.source_ref.clone()),
                    );
                }
            }
            lines.push(BomLine {
                expected: e.clone(),
                found,
                matched,
            });
        }
        let classes: Vec<String> = self
            .components
            .iter()
            .map(|e| e.class.to_lowercase())
            .collect();
        let unexpected = observed
            .iter()
            .zip(&used)
            .filter(|(c, u)| {
                !**u && c
                    .class
                    .as_ref()
                    .is_some_and(|k| classes.contains(&class_name(k)))
            })
            .map(|(c, _)| c.clone())
            .collect();
        BomCheck { lines, unexpected }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nic(manufacturer: &str, model: &str, slot: &str) -> Component {
        Component {
            class: Some(ComponentClass::Nic),
            manufacturer: Some(manufacturer.into()),
            model: Some(model.into()),
            location: Some(slot.into()),
            source: "test".into(),
            ..Component::default()
        }
    }

    #[test]
    fn counts_substrings_and_unexpected_parts() {
        let bom = Bom::from_toml("[[component]]\nclass = \"nic\"\nmanufacturer = \"intel\"\nmodel = \"X710\"\ncount = 2\n").unwrap();
        let seen = [
            nic(
                "Intel Corporation",
                "Ethernet Controller X710 for 10GbE SFP+",
                "0000:3b:00.0",
            ),
            nic("Realtek", "RTL8111", "0000:05:00.0"),
        ];
        let r = bom.check(&seen);
        assert_eq!(r.lines[0].found, 1);
        assert!(!r.lines[0].ok());
        assert_eq!(r.unexpected.len(), 1);
        assert_eq!(r.unexpected[0].model.as_deref(), Some("RTL8111"));
        let csv = Bom::from_csv("class,manufacturer,model,count\nnic,Intel,X710,2\nmemory,,,16\n")
            .unwrap();
        assert_eq!(csv.components.len(), 2);
        assert_eq!(csv.components[1].count, 16);
        assert!(Bom::from_csv("class,count\nnic,two\n")
            .unwrap_err()
            .to_string()
            .contains("line 2"));
        assert!(Bom::from_toml("[[component]]\nclass = \"nic\"\ncolour = 1\n").is_err());
    }
}
