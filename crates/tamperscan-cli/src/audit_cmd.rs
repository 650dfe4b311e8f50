//! `tamperscan audit`: read, judge, record, report.

use crate::{html, text, wire, Format, OutputArgs, EXIT_FINDINGS, EXIT_PASS, EXIT_TROUBLE};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use tamperscan_detect::Audit;
use tamperscan_model::{EvidenceItem, HostId};
use tamperscan_store::{AuditRecord, SinceLast, Store};

/// Everything one audit produced.
pub struct Outcome {
    /// The fleet directory.
    pub root: PathBuf,
    /// The judgement.
    pub audit: Audit,
    /// The store's id of this audit.
    pub audit_id: Option<i64>,
    /// What changed since the previous audit of this fleet.
    pub since: Option<SinceLast>,
    /// When it started and finished.
    pub started_at: SystemTime,
    /// When it finished.
    pub finished_at: SystemTime,
}

impl Outcome {
    /// True when `fingerprint` was not in the previous audit (`None` when there was none).
    pub fn is_new(&self, fingerprint: &str) -> Option<bool> {
        self.since.as_ref().map(|s| s.new.contains(fingerprint))
    }
}

/// Runs `tamperscan audit DIR`.
pub fn run(dir: &Path, output: &OutputArgs) -> anyhow::Result<u8> {
    let Some(outcome) = execute(dir, output)? else {
        return Ok(EXIT_TROUBLE);
    };
    emit(&outcome, output)?;
    Ok(exit_code(&outcome))
}

/// 0 when nothing was found, 1 otherwise.
pub fn exit_code(outcome: &Outcome) -> u8 {
    if outcome.audit.findings.is_empty() {
        EXIT_PASS
    } else {
        EXIT_FINDINGS
    }
}

/// Reads and audits the fleet and records the audit. `None` when the fleet's configuration is
/// broken (the errors have been printed).
pub fn execute(dir: &Path, output: &OutputArgs) -> anyhow::Result<Option<Outcome>> {
    let started_at = SystemTime::now();
    let bar = progress_bar(output.quiet);
    let fleet = match tamperscan_fleet::load(dir, &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    }) {
        Ok(fleet) => fleet,
        Err(errors) => {
            bar.finish_and_clear();
            for e in &errors.0 {
                eprintln!("error: {e}");
            }
            eprintln!(
                "tamperscan: {} problem(s) in the fleet configuration; fix them and run again",
                errors.0.len()
            );
            return Ok(None);
        }
    };
    bar.set_message("judging");
    let audit = tamperscan_detect::audit(&fleet);
    bar.finish_and_clear();
    let finished_at = SystemTime::now();

    let mut outcome = Outcome {
        root: dir.to_path_buf(),
        audit,
        audit_id: None,
        since: None,
        started_at,
        finished_at,
    };
    if !output.no_store {
        let db = output
            .db
            .clone()
            .unwrap_or_else(|| dir.join("tamperscan.db"));
        let shown = tamperscan_store::redact(&db.to_string_lossy());
        let mut store = Store::open(&db).with_context(|| {
            format!("cannot record the audit in {shown}; pass --db PATH|URL to keep the store elsewhere, or --no-store")
        })?;
        let evidence: Vec<(&HostId, &[EvidenceItem])> = outcome
            .audit
            .hosts
            .iter()
            .map(|h| (&h.id, h.evidence.as_slice()))
            .collect();
        let record = AuditRecord {
            fleet: &outcome.audit.fleet,
            started_at,
            finished_at,
            tool_version: env!("CARGO_PKG_VERSION"),
            hosts: &evidence,
            findings: &outcome.audit.findings,
        };
        let (id, since) = store
            .record(&record)
            .with_context(|| format!("cannot record the audit in {shown}"))?;
        // Each host's components, so the store can answer "which servers had X, since when".
        let inventories: Vec<(&str, Option<&str>, &[tamperscan_inventory::Component])> = fleet
            .hosts
            .iter()
            .filter_map(|h| {
                let inv = h.inventory.as_ref()?;
                let sha = h
                    .evidence
                    .iter()
                    .find(|e| e.path == inv.path)
                    .and_then(|e| e.sha256.as_deref());
                Some((h.id.0.as_str(), sha, inv.components.as_slice()))
            })
            .collect();
        if !inventories.is_empty() {
            store
                .record_components(
                    &outcome.audit.fleet,
                    finished_at,
                    concat!("tamperscan ", env!("CARGO_PKG_VERSION")),
                    &inventories,
                )
                .with_context(|| format!("cannot record the inventory in {shown}"))?;
        }
        outcome.audit_id = Some(id);
        outcome.since = since;
    }
    Ok(Some(outcome))
}

/// Writes the stdout document and, if asked, the HTML report.
pub fn emit(outcome: &Outcome, output: &OutputArgs) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match output.format {
        Format::Text => {
            let style = crate::term::Style::for_stdout();
            out.write_all(text::render(outcome, &style).as_bytes())?;
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &wire::document(outcome))?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    if let Some(path) = &output.report {
        std::fs::write(path, html::render(outcome))
            .with_context(|| format!("cannot write the report to {}", path.display()))?;
        eprintln!("report written to {}", path.display());
    }
    Ok(())
}

fn progress_bar(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} reading evidence {bar:30} {pos}/{len} hosts {msg}")
    {
        bar.set_style(style);
    }
    bar
}
