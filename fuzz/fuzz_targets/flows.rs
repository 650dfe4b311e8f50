//! Fuzzes tamperscan-flows' byte-level entry points: Zeek TSV and JSON logs, pcap/pcapng
//! captures (through flow assembly), and the lab packet CSV.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tamperscan_flows::{flow, packet_csv, zeek, zeek_json, Mode, Options};

fuzz_target!(|data: &[u8]| {
    for mode in [Mode::Lenient, Mode::Strict] {
        let options = Options {
            mode,
            max_flows: 64,
            max_pending_dns: 16,
            ..Options::default()
        };
        let mut sink = |_r: tamperscan_flows::Record| {};
        let _ = zeek::parse_log(data, Some("conn.log"), &options, &mut sink);
        let _ = zeek::parse_log(data, Some("dns.log"), &options, &mut sink);
        let _ = zeek_json::parse_json_log(data, None, &options, &mut sink);
        let _ = flow::parse_capture(data, &options, &mut sink);
        let _ = packet_csv::parse_packet_csv(data, &options, &mut sink);
        if let Ok(h) = zeek::Header::parse(data) {
            if let Ok(p) = zeek::ConnParser::new(&h, &options) {
                let mut out = Vec::new();
                let _ = p.parse_chunk(data.get(h.len..).unwrap_or(&[]), &mut out);
            }
        }
    }
});
