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
use tamperscan_net::{Context, NetFinding, Options, Scanner};

/// What a network scan read and found.
#[derive(Debug, Clone, Default)]
pub struct NetworkScan {
    /// Findings, most suspicious first.
    pub findings: Vec<NetFinding>,
    /// What the readers did (files, rows, skips).
    pub stats: ReadStats,
    /// Records scored.
    pub records: u64,
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
    let read_options = ReadOptions::default();
    let mut scanner = Scanner::new(ctx, options);
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
    Ok(NetworkScan {
        findings: scanner.finish(),
        stats,
        records,
    })
}

/// The `network/` directory of a fleet, when it exists.
pub fn network_dir(root: &Path) -> Option<PathBuf> {
    let dir = root.join("network");
    dir.is_dir().then_some(dir)
}
