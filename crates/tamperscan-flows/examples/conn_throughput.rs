//! Measures the conn fast path: writes a synthetic Zeek conn log of N rows (default 5,000,000)
//! to a temporary file, then reads it with `io::read_conn_batches` and prints rows/s.
//!
//! `cargo run --release -p tamperscan-flows --example conn_throughput -- 5000000`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::time::Instant;

use tamperscan_flows::io::read_conn_batches;
use tamperscan_flows::Options;

fn main() {
    let rows: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000_000);
    let path =
        std::env::temp_dir().join(format!("tamperscan-conn-bench-{}.log", std::process::id()));
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(w, "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t2024-04-29-15-00-01").unwrap();
        writeln!(w, "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents").unwrap();
        writeln!(w, "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]").unwrap();
        let services = ["dns", "ssl", "http", "-"];
        for i in 0..rows {
            let s = services[(i % 4) as usize];
            writeln!(
                w,
                "{}.{:06}\tC{:017}\t10.0.{}.{}\t{}\t93.184.{}.{}\t443\ttcp\t{s}\t0.{:06}\t{}\t{}\tSF\tT\tF\t0\tShADadFf\t{}\t{}\t{}\t{}\t-",
                1714417137 + i / 100,
                i % 1_000_000,
                i,
                (i / 256) % 256,
                i % 256,
                1024 + i % 60000,
                (i / 7) % 256,
                i % 251,
                i % 999_999,
                i % 5000,
                i % 70000,
                i % 40,
                i % 9000,
                i % 50,
                i % 80000
            )
            .unwrap();
        }
    }
    let size = std::fs::metadata(&path).unwrap().len();
    // Warm the page cache so the measurement is parsing, not the disk.
    let _ = std::fs::read(&path).map(|b| b.len());
    let start = Instant::now();
    let mut n = 0usize;
    let stats = read_conn_batches(&path, &Options::default(), &mut |b| n += b.len()).unwrap();
    let secs = start.elapsed().as_secs_f64();
    std::fs::remove_file(&path).unwrap();
    println!(
        "{n} rows ({} read, {} skipped), {:.0} MB in {secs:.3} s: {:.2} M rows/s, {:.0} MB/s, {} threads",
        stats.rows_read,
        stats.rows_skipped,
        size as f64 / 1e6,
        n as f64 / secs / 1e6,
        size as f64 / secs / 1e6,
        std::thread::available_parallelism().map_or(1, usize::from)
    );
}
