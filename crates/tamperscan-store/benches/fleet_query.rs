#![allow(clippy::expect_used, clippy::unwrap_used)] // A benchmark stops loudly when its setup fails.
//! Fleet query benchmark: a synthesized fleet of N servers (default 100,000) with 30 components
//! each and a year of history (BMC and BIOS updates rolled out through the year, a share of
//! NICs and drives swapped), loaded into SQLite and, when a URL is given, PostgreSQL; then a
//! blast-radius query answered repeatedly. Prints load times and query medians.
//!
//! cargo bench -p tamperscan-store --bench fleet_query -- [N] [POSTGRES_URL]
//! (the URL may also come from TAMPERSCAN_BENCH_POSTGRES; its database gets a fresh schema)

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tamperscan_store::{query, HistoryRow, Store};

const DAY: u64 = 86_400;
/// A recall of swapped parts (2% of the fleet) and a broad blast radius (15% of the fleet).
const QUERIES: [&str; 2] = [
    "nic.model = BCM57416 since 2026-01-01",
    "board.model = \"X11DPH-T\" and bmc.firmware.version < 1.73 since 2026-06-01",
];

fn at(day: u64) -> SystemTime {
    // 2026-01-01 is day 20,454 since the epoch.
    UNIX_EPOCH + Duration::from_secs((20_454 + day) * DAY)
}

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

/// Every row of the fleet's year: 30 components per server, updates as closed + open rows.
fn history(servers: u64) -> impl Iterator<Item = HistoryRow> {
    const BOARDS: [&str; 5] = [
        "X11DPH-T",
        "X12DPi-NT6",
        "H12SSL-i",
        "X13DEG-OAD",
        "MZ72-HB0",
    ];
    (0..servers).flat_map(|h| {
        let r = mix(h);
        let host = format!("srv{h:06}");
        let board = BOARDS[(r % 5) as usize];
        let row = |class: &str,
                   model: &str,
                   serial: String,
                   fw: Option<String>,
                   loc: Option<String>,
                   from: u64,
                   to: Option<u64>| HistoryRow {
            fleet: "bench".into(),
            host: host.clone(),
            class: class.into(),
            manufacturer: Some("Example".into()),
            model: Some(model.into()),
            serial: Some(serial),
            revision: None,
            firmware_version: fw,
            location: loc,
            source: "smbios".into(),
            evidence_sha256: None,
            collector: "bench".into(),
            first_seen: at(from),
            last_seen: at(to.unwrap_or(364)),
            valid_to: to.map(at),
        };
        let mut rows = vec![row(
            "baseboard",
            board,
            format!("BS{h:08}"),
            None,
            None,
            0,
            None,
        )];
        // BMC firmware: 1.71.11 until the server's update day (most in the year), then 1.73.06.
        let update = 60 + r % 400;
        if update < 365 {
            rows.push(row(
                "bmc",
                "AST2600",
                format!("BMC{h:08}"),
                Some("1.71.11".into()),
                None,
                0,
                Some(update),
            ));
            rows.push(row(
                "bmc",
                "AST2600",
                format!("BMC{h:08}"),
                Some("1.73.06".into()),
                None,
                update,
                None,
            ));
        } else {
            rows.push(row(
                "bmc",
                "AST2600",
                format!("BMC{h:08}"),
                Some("1.71.11".into()),
                None,
                0,
                None,
            ));
        }
        rows.push(row(
            "bios",
            "AMI",
            format!("B{h:08}"),
            Some(if r.is_multiple_of(3) { "3.4" } else { "3.5" }.into()),
            None,
            0,
            None,
        ));
        for c in 0..2 {
            rows.push(row(
                "cpu",
                "Xeon Gold 6338",
                format!("C{h:08}{c}"),
                None,
                Some(format!("CPU{c}")),
                0,
                None,
            ));
        }
        for d in 0..16 {
            rows.push(row(
                "memory",
                "M393A4K40DB3",
                format!("M{h:08}{d:02}"),
                None,
                Some(format!("DIMM{d}")),
                0,
                None,
            ));
        }
        for n in 0..2 {
            // One NIC in 50 was swapped mid-year.
            if n == 0 && r % 50 == 7 {
                rows.push(row(
                    "nic",
                    "X710",
                    format!("N{h:08}{n}"),
                    Some("9.20".into()),
                    Some(format!("NIC{n}")),
                    0,
                    Some(180),
                ));
                rows.push(row(
                    "nic",
                    "BCM57416",
                    format!("R{h:08}{n}"),
                    Some("222.1".into()),
                    Some(format!("NIC{n}")),
                    180,
                    None,
                ));
            } else {
                rows.push(row(
                    "nic",
                    "X710",
                    format!("N{h:08}{n}"),
                    Some("9.20".into()),
                    Some(format!("NIC{n}")),
                    0,
                    None,
                ));
            }
        }
        for s in 0..4 {
            rows.push(row(
                "storage",
                "PM893",
                format!("S{h:08}{s}"),
                Some("JXTC304Q".into()),
                Some(format!("Bay{s}")),
                0,
                None,
            ));
        }
        for p in 0..2 {
            rows.push(row(
                "power_supply",
                "PWS-1K62A",
                format!("P{h:08}{p}"),
                None,
                Some(format!("PSU{p}")),
                0,
                None,
            ));
        }
        rows.push(row(
            "tpm",
            "SLB9670",
            format!("T{h:08}"),
            Some("7.85".into()),
            None,
            0,
            None,
        ));
        rows.push(row(
            "chassis",
            "CSE-829U",
            format!("K{h:08}"),
            None,
            None,
            0,
            None,
        ));
        rows
    })
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn bench(label: &str, mut store: Store, servers: u64) {
    let t = Instant::now();
    let rows = store
        .load_component_history(history(servers))
        .expect("load");
    let load = t.elapsed();
    println!("{label}: loaded {rows} rows in {:.1} s", load.as_secs_f64());
    for q in QUERIES {
        let mut times = Vec::new();
        let mut matched = 0;
        for _ in 0..9 {
            let t = Instant::now();
            let (_, found) = query::evaluate(&mut store, q, Some("bench")).expect("query");
            times.push(t.elapsed());
            matched = found.len();
        }
        println!(
            "{label}: `{q}`: {matched} servers, median {:.1} ms (min {:.1}, max {:.1}, 9 runs)",
            median(times.clone()).as_secs_f64() * 1e3,
            times.iter().min().map_or(0.0, |d| d.as_secs_f64() * 1e3),
            times.iter().max().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let servers: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let url = args
        .get(1)
        .cloned()
        .or_else(|| std::env::var("TAMPERSCAN_BENCH_POSTGRES").ok());
    let dir = std::env::temp_dir().join(format!("tamperscan-bench-query-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = dir.join("bench.db");
    bench("SQLite", Store::open(&db).expect("sqlite"), servers);
    let _ = std::fs::remove_dir_all(&dir);
    match url {
        Some(url) => {
            // A fresh schema per run, so repeated runs do not pile up rows.
            let schema = format!("bench_{}", std::process::id());
            let admin = std::process::Command::new("psql")
                .args([url.as_str(), "-q", "-c", &format!("CREATE SCHEMA {schema}")])
                .status();
            if !admin.is_ok_and(|s| s.success()) {
                eprintln!("PostgreSQL: cannot create schema {schema} with psql at {url}; skipped");
                return;
            }
            let sep = if url.contains('?') { '&' } else { '?' };
            let scoped = format!("{url}{sep}options=-csearch_path%3D{schema}");
            bench(
                "PostgreSQL",
                Store::open(&scoped).expect("postgres"),
                servers,
            );
            let _ = std::process::Command::new("psql")
                .args([
                    url.as_str(),
                    "-q",
                    "-c",
                    &format!("DROP SCHEMA {schema} CASCADE"),
                ])
                .status();
        }
        None => println!("PostgreSQL: skipped (give a URL or set TAMPERSCAN_BENCH_POSTGRES)"),
    }
}
