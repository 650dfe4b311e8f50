use crate::host::HostId;
use crate::layer::Layer;
use serde::Serialize;
use std::fmt;

/// How bad a finding is. Decides the host's [`Verdict`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look; alone it makes a host `suspect`.
    Low,
    /// Unexplained difference; makes a host `suspect`.
    Medium,
    /// A difference that should not exist on a genuine server; makes a host `fail`.
    High,
    /// A known implant or proven tampering; makes a host `fail`.
    Critical,
}

impl Severity {
    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A host's overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No findings.
    Pass,
    /// Only low or medium findings: look before trusting.
    Suspect,
    /// At least one high or critical finding: pull it.
    Fail,
}

impl Verdict {
    /// The verdict that a host with these findings gets.
    pub fn from_findings<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Verdict {
        findings
            .into_iter()
            .map(|f| f.severity)
            .max()
            .map_or(Verdict::Pass, |worst| {
                if worst >= Severity::High {
                    Verdict::Fail
                } else {
                    Verdict::Suspect
                }
            })
    }

    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Suspect => "suspect",
            Verdict::Fail => "fail",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where exactly the difference is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
pub struct Location {
    /// The evidence or configuration file, relative to the fleet directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The place inside it, in the layer's own terms: a GUID path, `PCR0 event 12`, a pixel
    /// box, a component slot, a flow, a TOML key.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub at: String,
}

impl Location {
    /// A location in `file` at `at`.
    pub fn new(file: impl Into<String>, at: impl Into<String>) -> Self {
        Location {
            file: Some(file.into()),
            at: at.into(),
        }
    }
}

/// Which reference said what "should be".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reference {
    /// An explicit golden reference of the model.
    Golden {
        /// Path of the golden file, relative to the fleet directory.
        path: String,
    },
    /// A reference learned from hosts marked known-good.
    Learned {
        /// Path of the learned reference file.
        path: String,
    },
    /// The majority of the host's same-model siblings.
    Consensus {
        /// The model whose hosts were compared.
        model: String,
        /// How many hosts hold the majority value.
        agree: usize,
        /// How many hosts had the measurement.
        total: usize,
    },
    /// The whole fleet (facts that must be unique or consistent fleet-wide).
    Fleet,
    /// A rule of a rule set.
    Rule {
        /// The rule's identifier.
        id: String,
    },
    /// The fleet's policy in `fleet.toml`.
    Policy {
        /// The policy entry.
        name: String,
    },
    /// A rule of a published specification (the TCG PC Client PFP, the UEFI spec).
    Specification {
        /// The specification and section.
        name: String,
    },
    /// The fleet's declared configuration (`fleet.toml`, `models/`).
    Configuration {
        /// The file that declares what should be.
        path: String,
    },
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Golden { path } => write!(f, "golden {path}"),
            Reference::Learned { path } => write!(f, "learned reference {path}"),
            Reference::Consensus {
                model,
                agree,
                total,
            } => {
                write!(f, "consensus of {total} {model} hosts ({agree} agree)")
            }
            Reference::Fleet => f.write_str("fleet-wide uniqueness"),
            Reference::Rule { id } => write!(f, "rule {id}"),
            Reference::Policy { name } => write!(f, "policy {name}"),
            Reference::Specification { name } => write!(f, "specification {name}"),
            Reference::Configuration { path } => write!(f, "configuration {path}"),
        }
    }
}

/// A picture that explains a finding (a board overlay, a beacon timeline), embedded in the HTML
/// report. Not part of the JSON document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Picture {
    /// One line saying what the picture shows.
    pub caption: String,
    /// `image/png` or `image/svg+xml`.
    pub media_type: String,
    /// The encoded image.
    pub data: Vec<u8>,
}

/// One thing that differs from what should be, with everything needed to check it by hand.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Finding {
    /// The host it is about.
    pub host: HostId,
    /// The layer of evidence.
    pub layer: Layer,
    /// A stable, dotted kind (`host.duplicate_identifier`, `firmware.module_added`). Scripts key
    /// on it; it never changes once released.
    pub kind: String,
    /// How bad it is.
    pub severity: Severity,
    /// One human sentence.
    pub summary: String,
    /// What the reference says should be there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What the evidence shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
    /// Where exactly.
    pub location: Location,
    /// Which reference said so.
    pub reference: Reference,
    /// Pictures for the HTML report.
    #[serde(skip)]
    pub pictures: Vec<Picture>,
}

impl Finding {
    /// A finding about `host` in `file`, with no expected or observed value, location detail or
    /// picture yet: detectors fill those in.
    pub fn new(
        host: &HostId,
        layer: Layer,
        kind: &str,
        severity: Severity,
        summary: String,
        file: &str,
        reference: Reference,
    ) -> Finding {
        Finding {
            host: host.clone(),
            layer,
            kind: kind.to_string(),
            severity,
            summary,
            expected: None,
            observed: None,
            location: Location::new(file, ""),
            reference,
            pictures: Vec::new(),
        }
    }

    /// A stable identity of this finding across audits: the same host, kind, location and
    /// observed value give the same fingerprint, so the store can tell new findings from old.
    pub fn fingerprint(&self) -> String {
        // FNV-1a over the identifying fields, separated so that field boundaries matter.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let fields = [
            self.host.0.as_str(),
            self.kind.as_str(),
            self.location.file.as_deref().unwrap_or(""),
            self.location.at.as_str(),
            self.observed.as_deref().unwrap_or(""),
        ];
        for field in fields {
            for byte in field.bytes().chain(std::iter::once(0xff)) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{hash:016x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(severity: Severity, observed: &str) -> Finding {
        Finding {
            host: HostId("h1".into()),
            layer: Layer::Host,
            kind: "host.duplicate_identifier".into(),
            severity,
            summary: "s".into(),
            expected: None,
            observed: Some(observed.into()),
            location: Location::new("hosts/h1/host.toml", "board_serial"),
            reference: Reference::Fleet,
            pictures: Vec::new(),
        }
    }

    #[test]
    fn verdict_follows_worst_severity() {
        assert_eq!(Verdict::from_findings(&[]), Verdict::Pass);
        assert_eq!(
            Verdict::from_findings(&[finding(Severity::Low, "a")]),
            Verdict::Suspect
        );
        assert_eq!(
            Verdict::from_findings(&[finding(Severity::Medium, "a")]),
            Verdict::Suspect
        );
        assert_eq!(
            Verdict::from_findings(&[finding(Severity::Low, "a"), finding(Severity::High, "b")]),
            Verdict::Fail
        );
    }

    #[test]
    fn fingerprint_depends_on_identity_not_wording() {
        let a = finding(Severity::High, "X1");
        let mut b = a.clone();
        b.summary = "reworded".into();
        b.severity = Severity::Low;
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), finding(Severity::High, "X2").fingerprint());
    }

    #[test]
    fn json_shape_is_the_documented_contract() {
        let json = serde_json::to_value(finding(Severity::High, "X1")).unwrap();
        assert_eq!(json["layer"], "host");
        assert_eq!(json["severity"], "high");
        assert_eq!(json["location"]["file"], "hosts/h1/host.toml");
        assert_eq!(json["reference"]["type"], "fleet");
        assert!(json.get("expected").is_none());
        assert!(json.get("pictures").is_none());
    }
}
