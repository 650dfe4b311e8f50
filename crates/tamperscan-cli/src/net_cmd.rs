//! `tamperscan net scan`: network logs and captures in, ranked findings out.

use crate::boot_cmd::write_json;
use crate::html::esc;
use crate::{Format, EXIT_FINDINGS, EXIT_PASS};
use anyhow::{bail, Context as _};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use tamperscan_fleet::network::{context, load_baseline, scan_paths_with, split_baseline, Extras};
use tamperscan_fleet::{parse_fleet_toml, parse_host_toml, HostConfig};
use tamperscan_net::rita::{RitaBeacon, RitaCompat};
use tamperscan_net::{Context, Level, NetFinding, Options};

/// What `net scan` was asked.
pub struct ScanArgs<'a> {
    /// Logs, captures or directories.
    pub paths: &'a [PathBuf],
    /// A fleet directory whose policy and hosts give context.
    pub fleet: Option<&'a Path>,
    /// Output format.
    pub format: Format,
    /// RITA-compatible scores instead of ours.
    pub rita: bool,
    /// Keep findings of every score (not only >= 0.2).
    pub all: bool,
    /// Write an HTML page with timelines here.
    pub html: Option<&'a Path>,
    /// Earlier traffic or baseline files.
    pub baseline: &'a [PathBuf],
    /// Write the merged baseline here.
    pub write_baseline: Option<&'a Path>,
    /// No progress.
    pub quiet: bool,
}

/// The fleet context from a fleet directory: `fleet.toml`'s `[policy]` and each
/// `hosts/<dir>/host.toml`'s `bmc_address` and model. Evidence is not read.
pub fn fleet_context(dir: &Path) -> anyhow::Result<Context> {
    let fleet_toml = dir.join("fleet.toml");
    let config = match std::fs::read(&fleet_toml) {
        Ok(bytes) => parse_fleet_toml(&bytes, &fleet_toml)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!(
                "{} has no fleet.toml: is it a fleet directory?",
                dir.display()
            )
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", fleet_toml.display())),
    };
    let mut hosts: Vec<(String, HostConfig)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir.join("hosts")) {
        let mut dirs: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for d in dirs.into_iter().take(1_000_000) {
            let path = d.join("host.toml");
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let cfg = parse_host_toml(&bytes, &path)?;
            let id = cfg.id.clone().unwrap_or_else(|| {
                d.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
            hosts.push((id, cfg));
        }
    }
    Ok(context(
        &config,
        hosts.iter().map(|(id, c)| (id.as_str(), c)),
    )?)
}

fn spinner(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} reading {pos} records {per_sec}") {
        bar.set_style(style);
    }
    bar
}

#[derive(Serialize)]
struct ScanDoc<'a> {
    findings: &'a [NetFinding],
    records: u64,
    files_read: Vec<String>,
    files_skipped: Vec<(String, String)>,
    rows_skipped: u64,
}

#[derive(Serialize)]
struct RitaDoc<'a> {
    mode: &'static str,
    beacons: &'a [RitaBeacon],
}

/// Runs `net scan`.
pub fn scan(args: &ScanArgs<'_>) -> anyhow::Result<u8> {
    for p in args.paths {
        if !p.exists() {
            bail!("{} does not exist", p.display());
        }
    }
    if args.rita {
        return rita(args);
    }
    let ctx = match args.fleet {
        Some(dir) => fleet_context(dir)?,
        None => Context::default(),
    };
    let options = Options {
        min_score: if args.all {
            0.0
        } else {
            Options::default().min_score
        },
        ..Options::default()
    };
    for p in args.baseline {
        if !p.exists() {
            bail!("baseline {} does not exist", p.display());
        }
    }
    // A directory with a `baseline/` inside (a fleet's `network/`) brings its own history.
    let (paths, mut history) = split_baseline(args.paths).map_err(|e| anyhow::anyhow!("{e}"))?;
    history.extend(args.baseline.iter().cloned());
    let baseline = if history.is_empty() {
        None
    } else {
        let b = load_baseline(&history).map_err(|e| anyhow::anyhow!("baseline: {e}"))?;
        if b.truncated && !args.quiet {
            eprintln!(
                "warning: the baseline reached its limit of {} entries; later destinations count as first seen",
                tamperscan_net::baseline::MAX_ENTRIES
            );
        }
        Some(b)
    };
    let kept = args
        .write_baseline
        .map(|_| baseline.clone().unwrap_or_default());
    let bar = spinner(args.quiet);
    let extras = Extras {
        baseline,
        destinations: args.write_baseline.is_some(),
    };
    let result = scan_paths_with(&paths, ctx, options, extras, &|n| bar.set_position(n));
    bar.finish_and_clear();
    let scan = result.map_err(|e| anyhow::anyhow!("{e}"))?;
    if let (Some(path), Some(mut merged)) = (args.write_baseline, kept) {
        if let Some(now) = &scan.destinations {
            merged.merge(now);
        }
        std::fs::write(path, merged.to_json())
            .with_context(|| format!("cannot write {}", path.display()))?;
        if !args.quiet {
            eprintln!(
                "baseline of {} destinations written to {}",
                merged.len(),
                path.display()
            );
        }
    }
    if scan.records == 0 {
        bail!(
            "no records read: give Zeek conn/dns/ssl/http logs (TSV or JSON, plain or .gz), pcap/pcapng captures or directories of them{}",
            if scan.stats.files_skipped.is_empty() {
                String::new()
            } else {
                format!(
                    " (skipped: {})",
                    scan.stats
                        .files_skipped
                        .iter()
                        .take(3)
                        .map(|(f, why)| format!("{}: {why}", f.display()))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            }
        );
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Json => write_json(
            &mut out,
            &ScanDoc {
                findings: &scan.findings,
                records: scan.records,
                files_read: scan
                    .stats
                    .files_read
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect(),
                files_skipped: scan
                    .stats
                    .files_skipped
                    .iter()
                    .map(|(p, w)| (p.display().to_string(), w.clone()))
                    .collect(),
                rows_skipped: scan.stats.rows_skipped,
            },
        )?,
        Format::Text => {
            writeln!(
                out,
                "{} records read; {} findings (levels: {} high, {} medium, {} low, {} info)",
                scan.records,
                scan.findings.len(),
                count(&scan.findings, Level::High),
                count(&scan.findings, Level::Medium),
                count(&scan.findings, Level::Low),
                count(&scan.findings, Level::Info),
            )?;
            for (i, f) in scan.findings.iter().enumerate() {
                writeln!(
                    out,
                    "{:>3}. {:.2} {:<6} {:<16} {}",
                    i + 1,
                    f.score,
                    f.severity.name(),
                    f.kind.name(),
                    f.summary
                )?;
                let why: Vec<&str> = f
                    .reasons
                    .iter()
                    .filter(|r| r.weight > 0.0)
                    .map(|r| r.text.as_str())
                    .collect();
                if !why.is_empty() {
                    writeln!(out, "       because: {}", why.join("; "))?;
                }
                if let Some(h) = &f.host {
                    writeln!(
                        out,
                        "       host: {h}{}",
                        f.model
                            .as_deref()
                            .map(|m| format!(" ({m})"))
                            .unwrap_or_default()
                    )?;
                }
            }
            if scan.stats.rows_skipped > 0 {
                writeln!(
                    out,
                    "{} malformed rows skipped, e.g. {}",
                    scan.stats.rows_skipped,
                    scan.stats.skip_reasons.first().map_or("", String::as_str)
                )?;
            }
        }
    }
    if let Some(path) = args.html {
        std::fs::write(path, html(&scan.findings))
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("timelines written to {}", path.display());
    }
    let alert = scan.findings.iter().any(|f| f.severity >= Level::Low);
    Ok(if alert { EXIT_FINDINGS } else { EXIT_PASS })
}

fn count(findings: &[NetFinding], level: Level) -> usize {
    findings.iter().filter(|f| f.severity == level).count()
}

fn rita(args: &ScanArgs<'_>) -> anyhow::Result<u8> {
    let mut compat = RitaCompat::default();
    let options = tamperscan_flows::Options::default();
    for p in args.paths {
        tamperscan_flows::io::read_path(p, &options, &mut |r| compat.add(&r))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let beacons = compat.finish();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Json => write_json(
            &mut out,
            &RitaDoc {
                mode: "rita-v5-compatible",
                beacons: &beacons,
            },
        )?,
        Format::Text => {
            writeln!(
                out,
                "RITA v5-compatible beacon scores ({} pairs)",
                beacons.len()
            )?;
            for b in &beacons {
                let dst = if b.fqdn.is_empty() {
                    b.dst.clone()
                } else {
                    b.fqdn.clone()
                };
                writeln!(
                    out,
                    "{:.3} {:<3} {} -> {} count {} (ts {:.3} ds {:.3} hist {:.3} dur {:.3})",
                    b.score,
                    b.beacon_type,
                    b.src,
                    dst,
                    b.count,
                    b.ts_score,
                    b.ds_score,
                    b.hist_score,
                    b.dur_score
                )?;
            }
        }
    }
    Ok(if beacons.is_empty() {
        EXIT_PASS
    } else {
        EXIT_FINDINGS
    })
}

/// A page with every finding and each beacon's timeline.
fn html(findings: &[NetFinding]) -> String {
    let mut s = String::from("<!doctype html><meta charset=\"utf-8\"><title>tamperscan net scan</title><style>body{font-family:sans-serif;max-width:980px;margin:2em auto}div.f{border-top:1px solid #ccc;padding:.6em 0}.high{color:#b00}.medium{color:#d35400}.low{color:#7f8c8d}</style><h1>tamperscan net scan</h1>");
    for (i, f) in findings.iter().enumerate().take(200) {
        s.push_str(&format!(
            "<div class=f><b>{}. <span class={}>{} {:.2}</span> {}</b><br>{}<br><small>{}</small>",
            i + 1,
            f.severity.name(),
            f.severity.name(),
            f.score,
            f.kind.name(),
            esc(&f.summary),
            esc(&f
                .reasons
                .iter()
                .map(|r| r.text.as_str())
                .collect::<Vec<_>>()
                .join("; "))
        ));
        if let Some(svg) = tamperscan_net::picture::beacon_svg(
            &f.times,
            f.evidence.period_s,
            &format!("{} -> {}", f.src, f.fqdn.as_deref().unwrap_or(&f.dst)),
        ) {
            s.push_str("<br>");
            s.push_str(&svg);
        }
        s.push_str("</div>");
    }
    s
}
