//! Benchmark (c) of the boot issue: a fleet of N hosts (default 100,000), each with a real TCG
//! event log from the shared data set, a TPM quote over its PCRs 0-7 with its own nonce, and
//! its model's learned reference; read and audited in one process, the median of 5 runs.
//!
//! `cargo bench -p tamperscan-cli --bench boot_fleet -- [N]`
//! (writes the fleet under $BENCH_DIR, default /tmp/tamperscan-bench-boot-fleet; logs are hard
//! links, so the disk cost is the small files).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A benchmark: fail loudly.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tamperscan_tcg::AlgId;

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let data = tamperscan_testdata::data_dir().expect("the shared data set is needed");
    let root = PathBuf::from(
        std::env::var("BENCH_DIR").unwrap_or_else(|_| "/tmp/tamperscan-bench-boot-fleet".into()),
    );
    let logs = real_logs(&data.join("eventlogs"));
    eprintln!(
        "{} real logs; writing {n} hosts under {}",
        logs.len(),
        root.display()
    );
    let existing = fs::read_dir(root.join("hosts"))
        .map(|d| d.count())
        .unwrap_or(0);
    if existing == n && root.join("models").is_dir() {
        eprintln!("reusing the fleet already written there");
    } else {
        let t = Instant::now();
        write_fleet(&root, &logs, n);
        eprintln!("fleet written in {:.1} s", t.elapsed().as_secs_f64());
    }

    let mut times = Vec::new();
    let mut findings = 0;
    for run in 0..5 {
        let t = Instant::now();
        let fleet = tamperscan_fleet::load(&root, &|_, _| {}).unwrap();
        let audit = tamperscan_detect::audit(&fleet);
        let secs = t.elapsed().as_secs_f64();
        findings = audit.findings.len();
        let quotes = fleet
            .hosts
            .iter()
            .filter(|h| {
                h.quote
                    .as_ref()
                    .is_some_and(|q| matches!(&q.verdict, Some(Ok(v)) if v.ok()))
            })
            .count();
        eprintln!(
            "run {run}: {secs:.2} s, {} hosts, {quotes} quotes verified, {findings} findings",
            fleet.hosts.len()
        );
        times.push(secs);
    }
    times.sort_by(f64::total_cmp);
    println!("boot fleet benchmark: {n} hosts (log + quote + reference), median {:.2} s of 5 runs (min {:.2}, max {:.2}), {findings} findings", times[2], times[0], times[4]);
}

/// The crypto-agile logs with expected PCRs (the ones every tool can read).
fn real_logs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = tamperscan_testdata::files_under(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".expected.json"))
        .filter(|p| {
            fs::read_to_string(p)
                .unwrap()
                .contains("\"format\": \"crypto-agile\"")
        })
        .map(|p| PathBuf::from(p.to_string_lossy().trim_end_matches(".expected.json")))
        .filter(|p| tamperscan_tcg::parse(&fs::read(p).unwrap()).is_ok_and(|l| l.events.len() > 1))
        .collect();
    out.sort();
    out
}

fn write_fleet(root: &Path, logs: &[PathBuf], n: usize) {
    let _ = fs::remove_dir_all(root);
    fs::create_dir_all(root.join("hosts")).unwrap();
    let mut fleet_toml = String::new();
    // Per model: the PCR digest of its log and its attestation key.
    let mut models = Vec::new();
    for (m, log) in logs.iter().enumerate() {
        fleet_toml.push_str(&format!("[models.m{m:02}]\n"));
        let bytes = fs::read(log).unwrap();
        let (pcrs, _) = tamperscan_tcg::replay(&tamperscan_tcg::parse(&bytes).unwrap());
        let selections = vec![(AlgId::SHA256, (0..8).collect::<Vec<u32>>())];
        let digest =
            tamperscan_tcg::quote::expected_pcr_digest(&selections, &pcrs, AlgId::SHA256).unwrap();
        let secret: [u8; 32] = AlgId::SHA256
            .hash(&[format!("bench key {m}").as_bytes()])
            .unwrap()
            .try_into()
            .unwrap();
        models.push((selections, digest, secret));
    }
    fs::write(root.join("fleet.toml"), fleet_toml).unwrap();
    for i in 0..n {
        let m = i % logs.len();
        let (selections, digest, secret) = &models[m];
        let host = root.join(format!("hosts/h{i:06}"));
        fs::create_dir_all(host.join("boot")).unwrap();
        let nonce = (i as u64).to_be_bytes();
        let known_good = i < 2 * logs.len();
        fs::write(
            host.join("host.toml"),
            format!(
                "model = \"m{m:02}\"\nquote_nonce = \"{}\"\nknown_good = {known_good}\n",
                tamperscan_bytes::hex(&nonce)
            ),
        )
        .unwrap();
        fs::hard_link(&logs[m], host.join("boot/eventlog.bin")).unwrap();
        let attest = tamperscan_tcg::writer::quote_attest(&nonce, selections, digest);
        let (sig, public) = tamperscan_tcg::writer::sign_quote_p256(secret, &attest).unwrap();
        fs::write(host.join("boot/quote.msg"), attest).unwrap();
        fs::write(host.join("boot/quote.sig"), sig).unwrap();
        fs::write(host.join("boot/ak.pub"), public).unwrap();
    }
    // Each model's reference, learned from its known-good hosts as `boot learn` does.
    let fleet = tamperscan_fleet::load(root, &|_, _| {}).unwrap();
    for m in 0..logs.len() {
        let model = format!("m{m:02}");
        let good: Vec<&tamperscan_fleet::Host> = fleet
            .hosts
            .iter()
            .filter(|h| {
                h.config.known_good && h.config.model.as_ref().is_some_and(|(x, _)| *x == model)
            })
            .collect();
        let reference = tamperscan_detect::boot::learn(&good);
        let path = root
            .join("models")
            .join(&model)
            .join(tamperscan_fleet::BOOT_REFERENCE);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, toml::to_string(&reference).unwrap()).unwrap();
    }
}
