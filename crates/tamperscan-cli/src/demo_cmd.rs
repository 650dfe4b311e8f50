//! `tamperscan demo`: write the synthetic fleet, audit it, and check the audit found exactly
//! what was planted.

use crate::audit_cmd::{emit, execute};
use crate::{Format, OutputArgs, EXIT_FINDINGS, EXIT_PASS, EXIT_TROUBLE};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use tamperscan_demo::{write_demo, DemoOptions};

/// Runs the demo.
pub fn run(out: &Path, hosts_per_model: usize, output: &OutputArgs) -> anyhow::Result<u8> {
    let planted = write_demo(out, DemoOptions { hosts_per_model })?;
    eprintln!("wrote the synthetic demo fleet to {}", out.display());
    let mut output = output.clone();
    if output.report.is_none() {
        output.report = Some(out.join("report.html"));
    }
    let Some(outcome) = execute(out, &output)? else {
        return Ok(EXIT_TROUBLE);
    };
    emit(&outcome, &output)?;

    // The self-check: every planted (host, kind) found, and no finding anywhere else.
    let expected: BTreeSet<(&str, &str)> = planted
        .iter()
        .map(|p| (p.host.as_str(), p.kind.as_str()))
        .collect();
    let found: BTreeSet<(&str, &str)> = outcome
        .audit
        .findings
        .iter()
        .map(|f| (f.host.0.as_str(), f.kind.as_str()))
        .collect();
    let missed: Vec<_> = expected.difference(&found).collect();
    let extra: Vec<_> = found.difference(&expected).collect();
    let line = if missed.is_empty() && extra.is_empty() {
        format!(
            "demo check: all {} planted implants found, no false alarm",
            expected.len()
        )
    } else {
        format!("demo check FAILED: missed {missed:?}, unexpected {extra:?}")
    };
    // Keep stdout a single JSON document when asked for JSON.
    if output.format == Format::Json {
        eprintln!("{line}");
    } else {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "\n{line}")?;
    }
    Ok(if missed.is_empty() && extra.is_empty() {
        EXIT_PASS
    } else {
        EXIT_FINDINGS
    })
}
