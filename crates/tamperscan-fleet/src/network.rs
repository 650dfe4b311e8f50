//! Network evidence: logs and captures read with the fleet's context (its `[policy]`, which
//! address is which host's BMC, which model each host is) and scored by `tamperscan-net`.
//!
//! Used by the audit for `network/` of a fleet directory and by `tamperscan net scan` for any
//! paths. Conn logs take the parallel fast path; everything else streams through one reader.

use crate::config::{FleetConfig, HostConfig};
use std::path::{Path, PathBuf};
use tamperscan_flows::io::{read_conn_batches, read_path};
use tamperscan_flows::{Options as ReadOptions, ReadStats, Record};
use tamperscan_net::context::{Owner, PolicyError};
use tamperscan_net::{Baseline, Context, NetFinding, Options, Scanner};

/// What a network scan read and found.
#[derive(Debug, Clone, Default)]
pub struct NetworkScan {
    /// Findings, most suspicious first.
    pub findings: Vec<NetFinding>,
    /// What the readers did (files, rows, skips).
    pub stats: ReadStats,
    /// Records scored.
    pub records: u64,
    /// What the scan's sources talked to, when asked for (to write a baseline).
    pub destinations: Option<Baseline>,
}

/// What to judge against and what to keep beside the findings.
#[derive(Debug, Default)]
pub struct Extras {
    /// Earlier traffic: destinations no source reached in it are "first seen".
    pub baseline: Option<Baseline>,
    /// Return the scan's destinations as a baseline.
    pub destinations: bool,
}

/// The directory of a fleet's `network/` that holds its baseline (earlier, trusted traffic or
/// baseline files): it is read as history, never scanned as current traffic.
pub const BASELINE_DIR: &str = "baseline";

/// Largest baseline file read (a full baseline of [`tamperscan_net::baseline::MAX_ENTRIES`]
/// entries is about 250 MB of JSON).
const MAX_BASELINE_FILE: u64 = 512 << 20;

/// Reads a baseline from baseline files (`net scan --write-baseline`) and/or earlier logs and
/// captures, given as files or directories.
///
/// # Errors
/// An unreadable path, a malformed baseline file, or a log the readers refuse.
pub fn load_baseline(paths: &[PathBuf]) -> Result<Baseline, tamperscan_flows::Error> {
    let mut baseline = Baseline::default();
    let read_options = ReadOptions::default();
    for path in paths {
        if path.is_file() {
            let mut head = [0u8; 256];
            let n = std::fs::File::open(path)
                .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
                .map_err(|source| tamperscan_flows::Error::Io {
                    file: path.clone(),
                    source,
                })?;
            if Baseline::is_file(head.get(..n).unwrap_or(&[])) {
                let len = std::fs::metadata(path).map_or(0, |m| m.len());
                if len > MAX_BASELINE_FILE {
                    return Err(tamperscan_flows::Error::Limit {
                        file: Some(path.clone()),
                        at: tamperscan_flows::Location::Offset(0),
                        what: "baseline file size",
                        limit: MAX_BASELINE_FILE,
                    });
                }
                let bytes = std::fs::read(path).map_err(|source| tamperscan_flows::Error::Io {
                    file: path.clone(),
                    source,
                })?;
                let b = Baseline::from_json(&bytes).map_err(|e| {
                    tamperscan_flows::Error::UnknownFormat {
                        file: Some(path.clone()),
                        what: e.to_string(),
                    }
                })?;
                baseline.merge(&b);
                continue;
            }
        }
        read_path(path, &read_options, &mut |rec: Record| baseline.add(&rec))?;
    }
    Ok(baseline)
}

/// The network context of a fleet: its `[policy]` and every host's BMC address with the host
/// and model owning it.
pub fn context<'a>(
    config: &FleetConfig,
    hosts: impl IntoIterator<Item = (&'a str, &'a HostConfig)>,
) -> Result<Context, PolicyError> {
    let mut ctx = Context::from_policy(&config.policy)?;
    for (id, host) in hosts {
        if let Some(ip) = host.bmc_address {
            ctx.owners.insert(
                tamperscan_net::context::canonical(ip),
                Owner {
                    host: id.to_string(),
                    model: host.model.as_ref().map(|(m, _)| m.clone()),
                    bmc: true,
                },
            );
        }
    }
    Ok(ctx)
}

/// Whether a file looks like a Zeek conn log by name (`conn.log`, `conn.15:00:00-16:00:00.log.gz`,
/// `conn.log.labeled`): those take the parallel path.
fn is_conn_log(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("conn.") || n == "conn")
}

/// Reads every path (files or directories) and scores what they hold. `progress(records)` is
/// called now and then.
pub fn scan_paths(
    paths: &[PathBuf],
    ctx: Context,
    options: Options,
    progress: &dyn Fn(u64),
) -> Result<NetworkScan, tamperscan_flows::Error> {
    scan_paths_with(paths, ctx, options, Extras::default(), progress)
}

/// [`scan_paths`] against a baseline and/or keeping the destinations.
pub fn scan_paths_with(
    paths: &[PathBuf],
    ctx: Context,
    options: Options,
    extras: Extras,
    progress: &dyn Fn(u64),
) -> Result<NetworkScan, tamperscan_flows::Error> {
    let read_options = ReadOptions::default();
    let mut scanner = Scanner::new(ctx, options);
    if let Some(b) = extras.baseline {
        scanner.set_baseline(b);
    }
    let mut stats = ReadStats::default();
    for path in paths {
        if path.is_file() && is_conn_log(path) {
            // Parsing (on every core) and folding overlap: the reader thread hands batches
            // through a short queue, so memory stays bounded by a few batches.
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<tamperscan_flows::Conn>>(4);
            let opts = &read_options;
            let fast = std::thread::scope(|scope| {
                // The sender moves into the reader thread: the queue closes when it finishes.
                let reader = scope.spawn(move || {
                    read_conn_batches(path, opts, &mut |batch| {
                        // A closed queue means the folding side stopped; the rest is dropped.
                        let _ = tx.send(batch);
                    })
                });
                for batch in rx.iter() {
                    for c in &batch {
                        scanner.add_conn(c);
                    }
                    progress(scanner.records());
                }
                reader.join().unwrap_or_else(|_| {
                    Err(tamperscan_flows::Error::UnknownFormat {
                        file: Some(path.clone()),
                        what: "the reader thread failed".into(),
                    })
                })
            });
            // Not a TSV conn log after all (JSON, a capture): the general reader decides.
            if let Ok(s) = fast {
                stats.merge(s);
                continue;
            }
        }
        let mut n = 0u64;
        let s = read_path(path, &read_options, &mut |rec: Record| {
            scanner.add(&rec);
            n += 1;
            if n.is_multiple_of(65_536) {
                progress(n);
            }
        })?;
        stats.merge(s);
    }
    let records = scanner.records();
    let destinations = extras.destinations.then(|| scanner.destinations());
    Ok(NetworkScan {
        findings: scanner.finish(),
        stats,
        records,
        destinations,
    })
}

/// The `network/` directory of a fleet, when it exists.
pub fn network_dir(root: &Path) -> Option<PathBuf> {
    let dir = root.join("network");
    dir.is_dir().then_some(dir)
}

/// Splits the paths to scan from the baseline: a directory holding a `baseline/` directory is
/// replaced by its other entries, and its `baseline/` goes to the baseline paths.
///
/// # Errors
/// A directory that cannot be listed.
pub fn split_baseline(
    paths: &[PathBuf],
) -> Result<(Vec<PathBuf>, Vec<PathBuf>), tamperscan_flows::Error> {
    let mut scan = Vec::new();
    let mut history = Vec::new();
    for path in paths {
        let base_dir = path.join(BASELINE_DIR);
        if !path.is_dir() || !base_dir.is_dir() {
            scan.push(path.clone());
            continue;
        }
        let io = |source: std::io::Error| tamperscan_flows::Error::Io {
            file: path.clone(),
            source,
        };
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(path).map_err(io)? {
            let entry = entry.map_err(io)?.path();
            if entry != base_dir {
                entries.push(entry);
            }
        }
        entries.sort();
        scan.extend(entries);
        history.push(base_dir);
    }
    Ok((scan, history))
}

/// Scans a fleet's `network/` directory: everything in it but `baseline/`, judged against what
/// `baseline/` holds when it exists.
///
/// # Errors
/// As [`scan_paths_with`] and [`load_baseline`].
pub fn scan_fleet_network(
    dir: &Path,
    ctx: Context,
) -> Result<NetworkScan, tamperscan_flows::Error> {
    let (paths, history) = split_baseline(&[dir.to_path_buf()])?;
    let baseline = if history.is_empty() {
        None
    } else {
        Some(load_baseline(&history)?)
    };
    scan_paths_with(
        &paths,
        ctx,
        Options::default(),
        Extras {
            baseline,
            destinations: false,
        },
        &|_| {},
    )
}
