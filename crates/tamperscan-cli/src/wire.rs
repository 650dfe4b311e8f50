//! The JSON document of `tamperscan audit --format json` (schema `tamperscan.audit/1`, in the
//! README). Scripts depend on it: add fields, never rename or remove them.

use crate::audit_cmd::Outcome;
use serde::Serialize;
use std::collections::BTreeMap;
use tamperscan_model::{EvidenceItem, Finding, Layer, Severity, Verdict};
use tamperscan_store::rfc3339;

/// The schema identifier in every document.
pub const SCHEMA: &str = "tamperscan.audit/1";

#[derive(Serialize)]
pub struct Document<'a> {
    schema: &'static str,
    tool: Tool,
    fleet: FleetInfo<'a>,
    audit: AuditInfo,
    summary: Summary,
    hosts: Vec<HostEntry<'a>>,
    findings: Vec<FindingEntry<'a>>,
    since_last: Option<SinceLastEntry<'a>>,
    notes: Vec<NoteEntry<'a>>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct FleetInfo<'a> {
    name: &'a str,
    path: String,
    synthetic: bool,
}

#[derive(Serialize)]
struct AuditInfo {
    id: Option<i64>,
    started_at: String,
    finished_at: String,
}

#[derive(Serialize)]
struct Summary {
    hosts: usize,
    pass: usize,
    suspect: usize,
    fail: usize,
    findings: usize,
    by_layer: BTreeMap<Layer, usize>,
    by_severity: BTreeMap<Severity, usize>,
}

#[derive(Serialize)]
struct HostEntry<'a> {
    id: &'a str,
    model: Option<&'a str>,
    verdict: Verdict,
    findings_by_layer: &'a BTreeMap<Layer, usize>,
    evidence: &'a [EvidenceItem],
}

#[derive(Serialize)]
struct FindingEntry<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    fingerprint: String,
    new: Option<bool>,
}

#[derive(Serialize)]
struct SinceLastEntry<'a> {
    previous_audit: i64,
    previous_at: &'a str,
    new_findings: usize,
    resolved: Vec<Resolved<'a>>,
    changed_evidence: Vec<Changed<'a>>,
}

#[derive(Serialize)]
struct Resolved<'a> {
    host: &'a str,
    kind: &'a str,
    severity: &'a str,
    summary: &'a str,
    fingerprint: &'a str,
}

#[derive(Serialize)]
struct Changed<'a> {
    host: &'a str,
    path: &'a str,
    before: Option<&'a str>,
    after: Option<&'a str>,
}

#[derive(Serialize)]
struct NoteEntry<'a> {
    path: &'a str,
    message: &'a str,
}

/// Builds the document for `outcome`.
pub fn document(outcome: &Outcome) -> Document<'_> {
    let audit = &outcome.audit;
    let count = |v: Verdict| audit.hosts.iter().filter(|h| h.verdict == v).count();
    let mut by_layer = BTreeMap::new();
    let mut by_severity = BTreeMap::new();
    for f in &audit.findings {
        *by_layer.entry(f.layer).or_insert(0) += 1;
        *by_severity.entry(f.severity).or_insert(0) += 1;
    }
    Document {
        schema: SCHEMA,
        tool: Tool {
            name: "tamperscan",
            version: env!("CARGO_PKG_VERSION"),
        },
        fleet: FleetInfo {
            name: &audit.fleet,
            path: outcome.root.display().to_string(),
            synthetic: audit.synthetic,
        },
        audit: AuditInfo {
            id: outcome.audit_id,
            started_at: rfc3339(outcome.started_at),
            finished_at: rfc3339(outcome.finished_at),
        },
        summary: Summary {
            hosts: audit.hosts.len(),
            pass: count(Verdict::Pass),
            suspect: count(Verdict::Suspect),
            fail: count(Verdict::Fail),
            findings: audit.findings.len(),
            by_layer,
            by_severity,
        },
        hosts: audit
            .hosts
            .iter()
            .map(|h| HostEntry {
                id: &h.id.0,
                model: h.model.as_deref(),
                verdict: h.verdict,
                findings_by_layer: &h.findings_by_layer,
                evidence: &h.evidence,
            })
            .collect(),
        findings: audit
            .findings
            .iter()
            .map(|f| {
                let fingerprint = f.fingerprint();
                FindingEntry {
                    finding: f,
                    new: outcome.is_new(&fingerprint),
                    fingerprint,
                }
            })
            .collect(),
        since_last: outcome.since.as_ref().map(|s| SinceLastEntry {
            previous_audit: s.previous_id,
            previous_at: &s.previous_at,
            new_findings: s.new.len(),
            resolved: s
                .resolved
                .iter()
                .map(|r| Resolved {
                    host: &r.host,
                    kind: &r.kind,
                    severity: &r.severity,
                    summary: &r.summary,
                    fingerprint: &r.fingerprint,
                })
                .collect(),
            changed_evidence: s
                .changed_evidence
                .iter()
                .map(|c| Changed {
                    host: &c.host,
                    path: &c.path,
                    before: c.before.as_deref(),
                    after: c.after.as_deref(),
                })
                .collect(),
        }),
        notes: audit
            .notes
            .iter()
            .map(|n| NoteEntry {
                path: &n.path,
                message: &n.message,
            })
            .collect(),
    }
}
