//! Temporary: rank findings for each folder given (Zeek TSV logs, plain or gz).
use std::io::Read;
use tamperscan_net::{Context, Options, Scanner};

fn main() {
    for dir in std::env::args().skip(1) {
        let mut scanner = Scanner::new(Context::default(), Options::default());
        let mut rita = tamperscan_net::rita::RitaCompat::default();
        let p = std::path::PathBuf::from(&dir);
        let mut files: Vec<_> = if p.is_dir() { std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect() } else { dir.split(',').map(std::path::PathBuf::from).collect() };
        files.sort();
        for f in files {
            let mut bytes = std::fs::read(&f).unwrap();
            if bytes.starts_with(&[0x1f, 0x8b]) {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut out).unwrap();
                bytes = out;
            }
            if !bytes.starts_with(b"#separator") { continue; }
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            let r = tamperscan_flows::zeek::parse_log(&bytes, Some(&name), &Default::default(), &mut |rec| { scanner.add(&rec); rita.add(&rec); });
            eprintln!("{name}: {:?}", r.map(|s| s.map(|s| (s.rows_read, s.rows_skipped))));
        }
        println!("== {dir}");
        for f in scanner.finish().iter().take(8) {
            println!("{:.3} {:6} {:16} {} -> {} {:?} {:?} | {}", f.score, f.severity.name(), f.kind.name(), f.src, f.dst, f.fqdn, f.dport, f.reasons.iter().map(|r| r.key).collect::<Vec<_>>().join(","));
            println!("      {}", f.summary);
        }
        for b in rita.finish().iter().take(5) {
            println!("  rita {} {} -> {} {} count {} score {} (ts {} ds {} hist {} dur {})", b.beacon_type, b.src, b.dst, b.fqdn, b.count, b.score, b.ts_score, b.ds_score, b.hist_score, b.dur_score);
        }
    }
}
