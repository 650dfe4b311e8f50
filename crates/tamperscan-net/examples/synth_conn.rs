//! Writes a synthetic Zeek conn.log for benchmarks: `synth_conn ROWS OUT [BEACONS]`.
//! Prints the planted beacons (the truth) to stderr.

use std::io::{BufWriter, Write};
use tamperscan_net::synth::{write_conn_log, SynthConfig};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let rows: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let out = args.next().unwrap_or_else(|| "conn.log".into());
    let beacons: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let cfg = SynthConfig {
        rows,
        // Scale the office with the volume so browsing dominates, as in a real network.
        workstations: (rows / 5_000).clamp(50, 20_000) as u32,
        bmcs: (rows / 50_000).clamp(5, 2_000) as u32,
        beacons,
        ..SynthConfig::default()
    };
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
    let planted = write_conn_log(&mut w, &cfg)?;
    w.flush()?;
    for p in planted {
        eprintln!(
            "planted {} -> {}:{} every {} s (jitter {}), {} rows",
            p.src, p.dst, p.dport, p.period, p.jitter, p.rows
        );
    }
    Ok(())
}
