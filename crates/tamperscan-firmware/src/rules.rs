//! Module rules: a TOML file of conditions on modules (GUID, UI name, hash, byte pattern) with
//! exclusions, and the default set built from publicly documented UEFI implants.
//!
//! Format (documented in the README, version 1):
//!
//! ```toml
//! version = 1
//! [[rule]]
//! id = "example"                 # unique, lowercase
//! severity = "critical"          # critical | high | medium | low | info
//! title = "Short title"
//! why = "Why a match matters."   # optional
//! source = "Who published it"    # optional
//! expect = "absent"              # absent (default: a match is a finding) | present (no match is)
//! guid = "8BE4DF61-93CA-11D2-AA0D-00E098032B8C"
//! name = "SecDxe"                # UI name, case-insensitive
//! sha256 = ["..."]               # stored bytes or decompressed content
//! pattern_hex = "4d5a"           # bytes in the decompressed content
//! pattern_ascii = "text"
//! pattern_utf16 = "text"
//! [[rule.exclude]]               # a module matching any exclusion is not reported
//! guid = "..."
//! ```
//! Every condition given in a rule must hold; an exclusion holds when all of its own given
//! conditions hold.

use crate::manifest::{opt_guid_text, Manifest, Module};
use serde::{Deserialize, Serialize};
use tamperscan_bytes::Guid;

/// The rules tamperscan ships, applied by `firmware check`, `audit` and `demo`.
pub const DEFAULT_RULES: &str = include_str!("../rules/default.toml");

/// Why a rule file was refused.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// Not valid TOML or unknown keys.
    #[error("{0}")]
    Toml(String),
    /// A rule that cannot work as written.
    #[error("rule {id:?}: {reason}")]
    Rule {
        /// The rule's id.
        id: String,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: u32,
    #[serde(default, rename = "rule")]
    rules: Vec<RawRule>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCond {
    guid: Option<String>,
    name: Option<String>,
    #[serde(default)]
    sha256: Vec<String>,
    pattern_hex: Option<String>,
    pattern_ascii: Option<String>,
    pattern_utf16: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    severity: String,
    title: String,
    why: Option<String>,
    source: Option<String>,
    #[serde(default)]
    expect: Option<String>,
    #[serde(flatten)]
    cond: RawCond,
    #[serde(default)]
    exclude: Vec<RawCond>,
}

/// Conditions on one module; all given ones must hold.
#[derive(Debug, Clone, Default)]
pub struct Condition {
    /// FFS GUID.
    pub guid: Option<Guid>,
    /// Name, lower-case.
    pub name: Option<String>,
    /// Any of these sha256 (lowercase hex).
    pub sha256: Vec<String>,
    /// Bytes that must occur in the module's decompressed content.
    pub pattern: Option<Vec<u8>>,
}

impl Condition {
    fn is_empty(&self) -> bool {
        self.guid.is_none()
            && self.name.is_none()
            && self.sha256.is_empty()
            && self.pattern.is_none()
    }

    /// Which conditions hold for `m`, or `None` when one does not.
    pub fn matches(&self, m: &Module) -> Option<Vec<&'static str>> {
        let mut on = Vec::new();
        if let Some(g) = &self.guid {
            if m.guid.as_ref() != Some(g) {
                return None;
            }
            on.push("guid");
        }
        if let Some(n) = &self.name {
            if m.name.as_deref().map(str::to_lowercase).as_deref() != Some(n.as_str()) {
                return None;
            }
            on.push("name");
        }
        if !self.sha256.is_empty() {
            if !self.sha256.iter().any(|h| {
                *h == m.sha256
                    || *h == m.content_sha256
                    || m.pe32_sha256.contains(h)
                    || m.te_sha256.contains(h)
            }) {
                return None;
            }
            on.push("sha256");
        }
        if let Some(p) = &self.pattern {
            if p.is_empty() || !m.content.windows(p.len()).any(|w| w == p.as_slice()) {
                return None;
            }
            on.push("pattern");
        }
        Some(on)
    }
}

/// One rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Unique id.
    pub id: String,
    /// `critical`, `high`, `medium`, `low` or `info`.
    pub severity: String,
    /// Short title.
    pub title: String,
    /// Why a match matters.
    pub why: Option<String>,
    /// Who published what the rule is built from.
    pub source: Option<String>,
    /// True when the module must be present (no match is the finding).
    pub expect_present: bool,
    /// The conditions.
    pub when: Condition,
    /// Exclusions.
    pub exclude: Vec<Condition>,
}

/// A parsed rule file.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// Rules in file order.
    pub rules: Vec<Rule>,
}

/// A rule that fired.
#[derive(Debug, Clone, Serialize)]
pub struct RuleHit {
    /// Rule id.
    pub rule: String,
    /// Rule severity.
    pub severity: String,
    /// Rule title.
    pub title: String,
    /// Why it matters.
    pub why: Option<String>,
    /// Where the rule comes from.
    pub source: Option<String>,
    /// The module's key (absent for a required module that is missing).
    pub key: Option<String>,
    /// The module's GUID.
    #[serde(serialize_with = "opt_guid_text")]
    pub guid: Option<Guid>,
    /// The module's name.
    pub name: Option<String>,
    /// The module's path.
    pub path: Option<String>,
    /// The conditions that held (`guid`, `name`, `sha256`, `pattern`), or `missing`.
    pub matched_on: Vec<&'static str>,
}

fn condition(id: &str, c: RawCond) -> Result<Condition, RuleError> {
    let bad = |reason: String| RuleError::Rule {
        id: id.to_string(),
        reason,
    };
    let guid = c
        .guid
        .map(|g| g.parse::<Guid>().map_err(|e| bad(e.to_string())))
        .transpose()?;
    let mut sha256 = Vec::new();
    for h in c.sha256 {
        let h = h.trim().to_lowercase();
        if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(format!("sha256 {h:?} is not 64 hex digits")));
        }
        sha256.push(h);
    }
    let given = [
        c.pattern_hex.is_some(),
        c.pattern_ascii.is_some(),
        c.pattern_utf16.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(bad(
            "give at most one of pattern_hex, pattern_ascii, pattern_utf16".into(),
        ));
    }
    let pattern = if let Some(h) = c.pattern_hex {
        let compact: String = h.chars().filter(|c| !c.is_whitespace()).collect();
        Some(
            tamperscan_bytes::unhex(&compact)
                .ok_or_else(|| bad(format!("pattern_hex {h:?} is not hex")))?,
        )
    } else if let Some(a) = c.pattern_ascii {
        Some(a.into_bytes())
    } else {
        c.pattern_utf16
            .map(|u| u.encode_utf16().flat_map(u16::to_le_bytes).collect())
    };
    if pattern.as_ref().is_some_and(|p| p.is_empty()) {
        return Err(bad("an empty pattern would match everything".into()));
    }
    Ok(Condition {
        guid,
        name: c.name.map(|n| n.to_lowercase()),
        sha256,
        pattern,
    })
}

impl RuleSet {
    /// Parses a rule file.
    pub fn parse(text: &str) -> Result<RuleSet, RuleError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| RuleError::Toml(e.to_string()))?;
        if raw.version != 1 {
            return Err(RuleError::Toml(format!(
                "rule file version {} is not supported (this tamperscan reads version 1)",
                raw.version
            )));
        }
        let mut seen = std::collections::HashSet::new();
        let mut rules = Vec::new();
        for r in raw.rules {
            if !seen.insert(r.id.clone()) {
                return Err(RuleError::Rule {
                    id: r.id,
                    reason: "the id is used twice".into(),
                });
            }
            if !["critical", "high", "medium", "low", "info"].contains(&r.severity.as_str()) {
                return Err(RuleError::Rule {
                    id: r.id,
                    reason: format!(
                        "severity {:?} is not one of critical, high, medium, low, info",
                        r.severity
                    ),
                });
            }
            let expect_present = match r.expect.as_deref() {
                None | Some("absent") => false,
                Some("present") => true,
                Some(o) => {
                    return Err(RuleError::Rule {
                        id: r.id,
                        reason: format!("expect {o:?} is not absent or present"),
                    })
                }
            };
            let when = condition(&r.id, r.cond)?;
            if when.is_empty() {
                return Err(RuleError::Rule {
                    id: r.id,
                    reason: "a rule needs at least one of guid, name, sha256 or a pattern".into(),
                });
            }
            let exclude = r
                .exclude
                .into_iter()
                .map(|c| condition(&r.id, c))
                .collect::<Result<Vec<_>, _>>()?;
            if exclude.iter().any(Condition::is_empty) {
                return Err(RuleError::Rule {
                    id: r.id,
                    reason: "an empty exclusion would exclude everything".into(),
                });
            }
            rules.push(Rule {
                id: r.id,
                severity: r.severity,
                title: r.title,
                why: r.why,
                source: r.source,
                expect_present,
                when,
                exclude,
            });
        }
        Ok(RuleSet { rules })
    }

    /// The default rule set.
    pub fn default_rules() -> RuleSet {
        // The shipped file is tested to parse; an empty set is the only safe fallback.
        RuleSet::parse(DEFAULT_RULES).unwrap_or_default()
    }

    /// Whether any rule looks inside module contents (the manifest must then keep them).
    pub fn needs_content(&self) -> bool {
        self.rules
            .iter()
            .any(|r| r.when.pattern.is_some() || r.exclude.iter().any(|e| e.pattern.is_some()))
    }

    /// Applies every rule to every module of `m`.
    pub fn check(&self, m: &Manifest) -> Vec<RuleHit> {
        let mut hits = Vec::new();
        for r in &self.rules {
            let mut any = false;
            for module in &m.modules {
                let Some(on) = r.when.matches(module) else {
                    continue;
                };
                if r.exclude.iter().any(|e| e.matches(module).is_some()) {
                    continue;
                }
                any = true;
                if !r.expect_present {
                    hits.push(RuleHit {
                        rule: r.id.clone(),
                        severity: r.severity.clone(),
                        title: r.title.clone(),
                        why: r.why.clone(),
                        source: r.source.clone(),
                        key: Some(module.key.clone()),
                        guid: module.guid,
                        name: module.name.clone(),
                        path: Some(module.path.clone()),
                        matched_on: on,
                    });
                }
            }
            if r.expect_present && !any {
                hits.push(RuleHit {
                    rule: r.id.clone(),
                    severity: r.severity.clone(),
                    title: r.title.clone(),
                    why: r.why.clone(),
                    source: r.source.clone(),
                    key: None,
                    guid: r.when.guid,
                    name: r.when.name.clone(),
                    path: None,
                    matched_on: vec!["missing"],
                });
            }
        }
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{analyze, writer, Limits};

    #[test]
    fn the_default_rules_parse_and_carry_sources() {
        let set = RuleSet::parse(DEFAULT_RULES).unwrap();
        assert!(set.rules.len() >= 10, "{} rules", set.rules.len());
        assert!(
            set.rules.iter().all(|r| r.source.is_some()),
            "every shipped rule names its source"
        );
    }

    fn image(modules: &[(&str, &str, &[u8])]) -> Manifest {
        let files: Vec<Vec<u8>> = modules
            .iter()
            .map(|(g, name, body)| {
                let data =
                    writer::sections(&[writer::section(0x10, body), writer::ui_section(name)]);
                writer::ffs_file(g.parse().unwrap(), 0x07, &data)
            })
            .collect();
        let vol = writer::volume(
            "00000000-1111-4222-8333-444444444444".parse().unwrap(),
            &files,
            0x10000,
        )
        .unwrap();
        analyze(
            &vol,
            Limits {
                keep_content: true,
                ..Limits::default()
            },
        )
    }

    #[test]
    fn conditions_exclusions_and_required_modules() {
        let m = image(&[
            (
                "682894B5-6B70-4EBA-9E90-A607E5676297",
                "SecDxe",
                b"MZ plain",
            ),
            (
                "12345678-1234-4234-8234-123456789ABC",
                "Other",
                b"MZ contains EVIL marker",
            ),
        ]);
        let set = RuleSet::parse(
            r#"
version = 1
[[rule]]
id = "by-guid-and-name"
severity = "critical"
title = "t"
guid = "682894b5-6b70-4eba-9e90-a607e5676297"
name = "secdxe"

[[rule]]
id = "by-pattern"
severity = "high"
title = "t"
pattern_ascii = "EVIL"

[[rule]]
id = "pattern-excluded"
severity = "high"
title = "t"
pattern_ascii = "MZ"
[[rule.exclude]]
name = "Other"
[[rule.exclude]]
name = "SecDxe"

[[rule]]
id = "required"
severity = "medium"
title = "t"
expect = "present"
name = "SecurityStubDxe"
"#,
        )
        .unwrap();
        let hits = set.check(&m);
        let ids: Vec<&str> = hits.iter().map(|h| h.rule.as_str()).collect();
        assert_eq!(ids, ["by-guid-and-name", "by-pattern", "required"]);
        assert_eq!(hits[0].matched_on, ["guid", "name"]);
        assert_eq!(hits[1].name.as_deref(), Some("Other"));
        assert_eq!(hits[2].matched_on, ["missing"]);
        // Without the content kept, a pattern cannot match.
        assert!(set.needs_content());
    }

    #[test]
    fn bad_rule_files_are_refused_with_the_reason() {
        for (text, why) in [
            ("version = 2", "version"),
            ("version = 1\n[[rule]]\nid='a'\nseverity='high'\ntitle='t'", "at least one"),
            ("version = 1\n[[rule]]\nid='a'\nseverity='urgent'\ntitle='t'\nname='x'", "severity"),
            ("version = 1\n[[rule]]\nid='a'\nseverity='high'\ntitle='t'\nguid='nope'", "GUID"),
            ("version = 1\n[[rule]]\nid='a'\nseverity='high'\ntitle='t'\npattern_hex='zz'", "hex"),
            ("version = 1\n[[rule]]\nid='a'\nseverity='high'\ntitle='t'\nname='x'\ncolour='red'", "unknown field"),
            ("version = 1\n[[rule]]\nid='a'\nseverity='high'\ntitle='t'\nname='x'\n[[rule]]\nid='a'\nseverity='high'\ntitle='t'\nname='y'", "twice"),
        ] {
            let e = RuleSet::parse(text).unwrap_err().to_string();
            assert!(e.contains(why), "{text:?}: {e}");
        }
    }
}
