//! The text report: a summary table, then each finding with what a person needs to check it.

use crate::audit_cmd::Outcome;
use crate::term::Style;
use std::fmt::Write;
use tamperscan_model::{Layer, Verdict};

/// Renders the whole text report.
pub fn render(outcome: &Outcome, style: &Style) -> String {
    let audit = &outcome.audit;
    let mut s = String::new();
    let count = |v: Verdict| audit.hosts.iter().filter(|h| h.verdict == v).count();
    let synthetic = if audit.synthetic { " [SYNTHETIC]" } else { "" };
    let _ = writeln!(
        s,
        "{} {}{synthetic}: {} hosts, {} pass, {} suspect, {} fail, {} findings",
        style.bold("fleet"),
        style.bold(&audit.fleet),
        audit.hosts.len(),
        count(Verdict::Pass),
        count(Verdict::Suspect),
        count(Verdict::Fail),
        audit.findings.len()
    );
    if let Some(since) = &outcome.since {
        let _ = writeln!(
            s,
            "since audit #{} ({}): {} new, {} resolved, {} evidence files changed",
            since.previous_id,
            since.previous_at,
            since.new.len(),
            since.resolved.len(),
            since.changed_evidence.len()
        );
    }
    s.push('\n');

    let host_w = audit
        .hosts
        .iter()
        .map(|h| h.id.0.len())
        .max()
        .unwrap_or(0)
        .max(4);
    let model_w = audit
        .hosts
        .iter()
        .map(|h| h.model.as_deref().unwrap_or("-").len())
        .max()
        .unwrap_or(0)
        .max(5);
    let mut header = format!(
        "{:<host_w$}  {:<model_w$}  {:<7}",
        "HOST", "MODEL", "VERDICT"
    );
    for layer in Layer::ALL {
        let _ = write!(header, "  {:>9}", layer.name().to_uppercase());
    }
    let _ = writeln!(s, "{}", style.bold(header.trim_end()));
    for host in &audit.hosts {
        let _ = write!(
            s,
            "{:<host_w$}  {:<model_w$}  {}",
            host.id.0,
            host.model.as_deref().unwrap_or("-"),
            style.verdict(host.verdict, 7)
        );
        for layer in Layer::ALL {
            match host.findings_by_layer.get(&layer) {
                Some(n) => {
                    let _ = write!(s, "  {n:>9}");
                }
                None => {
                    let _ = write!(s, "  {:>9}", style.dim("-"));
                }
            }
        }
        s.push('\n');
    }

    if !audit.findings.is_empty() {
        let _ = writeln!(s, "\n{}", style.bold("findings"));
    }
    let mut current = None;
    for f in &audit.findings {
        if current != Some(&f.host) {
            current = Some(&f.host);
            let verdict = audit
                .hosts
                .iter()
                .find(|h| h.id == f.host)
                .map_or(Verdict::Suspect, |h| h.verdict);
            let _ = writeln!(
                s,
                "\n{} {}",
                style.bold(&f.host.0),
                style.verdict(verdict, 0)
            );
        }
        let new = if outcome.is_new(&f.fingerprint()) == Some(true) {
            " NEW"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "  [{}] {}{new}: {}",
            style.severity(f.severity),
            f.kind,
            f.summary
        );
        if let Some(e) = &f.expected {
            let _ = writeln!(s, "      expected: {e}");
        }
        if let Some(o) = &f.observed {
            let _ = writeln!(s, "      observed: {o}");
        }
        let mut at = f.location.file.clone().unwrap_or_default();
        if !f.location.at.is_empty() {
            if !at.is_empty() {
                at.push_str(" @ ");
            }
            at.push_str(&f.location.at);
        }
        let _ = writeln!(
            s,
            "      {}",
            style.dim(&format!("at {at}; by {}", f.reference))
        );
    }
    if let Some(since) = &outcome.since {
        if !since.resolved.is_empty() {
            let _ = writeln!(s, "\n{}", style.bold("resolved since the previous audit"));
            for r in &since.resolved {
                let _ = writeln!(s, "  {} [{}] {}: {}", r.host, r.severity, r.kind, r.summary);
            }
        }
    }
    if !audit.notes.is_empty() {
        let _ = writeln!(
            s,
            "\n{}",
            style.dim(&format!(
                "{} files not read (see --format json \"notes\" or the HTML report)",
                audit.notes.len()
            ))
        );
    }
    s
}
