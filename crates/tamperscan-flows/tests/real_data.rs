//! Golden tests over the real telemetry in `shared/data/netflows` (skipped when absent).
// Test helpers outside #[test] functions: a failed read is a failed test.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use tamperscan_flows::io::{read_bytes, read_conn_batches, read_file, read_path};
use tamperscan_flows::zeek::LogKind;
use tamperscan_flows::{Conn, Dns, Mode, Options, Proto, ReadStats, Record, Ssl};

fn netflows() -> Option<PathBuf> {
    tamperscan_testdata::data_dir().map(|d| d.join("netflows"))
}

fn strict() -> Options {
    Options {
        mode: Mode::Strict,
        ..Options::default()
    }
}

fn read(path: &Path) -> (Vec<Record>, ReadStats) {
    let mut out = Vec::new();
    let stats = read_file(path, &strict(), &mut |r| out.push(r))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("{} not recognised", path.display()));
    (out, stats)
}

fn conns(r: &[Record]) -> Vec<&Conn> {
    r.iter()
        .filter_map(|r| {
            if let Record::Conn(c) = r {
                Some(c)
            } else {
                None
            }
        })
        .collect()
}
fn dns(r: &[Record]) -> Vec<&Dns> {
    r.iter()
        .filter_map(|r| {
            if let Record::Dns(c) = r {
                Some(c)
            } else {
                None
            }
        })
        .collect()
}
fn ssl(r: &[Record]) -> Vec<&Ssl> {
    r.iter()
        .filter_map(|r| {
            if let Record::Ssl(c) = r {
                Some(c)
            } else {
                None
            }
        })
        .collect()
}

/// Data lines of a text log (the `grep -vc '^#'` count, blank lines excluded).
fn data_lines(bytes: &[u8]) -> Vec<&[u8]> {
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty() && *l != b"\r" && !l.starts_with(b"#"))
        .collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn every_zeek_log_reads_with_its_row_count() {
    let Some(dir) = netflows() else { return };
    let mut checked = 0;
    for path in tamperscan_testdata::files_under(&dir) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = read_bytes(&path, 1 << 30).unwrap();
        if !bytes.starts_with(b"#separator") {
            continue;
        }
        let mut n = 0u64;
        let res = read_file(&path, &strict(), &mut |_| n += 1).unwrap_or_else(|e| panic!("{e}"));
        let path_kind = bytes
            .split(|&b| b == b'\n')
            .find_map(|l| l.strip_prefix(b"#path\t"))
            .map(|p| String::from_utf8_lossy(p).trim().to_owned());
        let is_ours = match &path_kind {
            Some(p) => LogKind::from_path(p).is_some(),
            None => LogKind::from_file_name(&name).is_some(),
        };
        match res {
            Some(stats) => {
                assert!(is_ours, "{name} read but is {path_kind:?}");
                let expected = data_lines(&bytes).len() as u64;
                assert_eq!(stats.rows_read, expected, "{name}");
                assert_eq!((stats.rows_skipped, n), (0, expected), "{name}");
                checked += 1;
            }
            None => assert!(!is_ours, "{name} skipped"),
        }
    }
    assert!(checked >= 25, "{checked}");
}

#[test]
fn rita_proxy_rolling_directory_with_node_name_column() {
    let Some(dir) = netflows() else { return };
    let mut out = Vec::new();
    let stats = read_path(&dir.join("rita_proxy_rolling"), &strict(), &mut |r| {
        out.push(r)
    })
    .unwrap();
    assert_eq!(stats.files_read.len(), 8, "{:?}", stats.files_read);
    assert_eq!(stats.files_skipped.len(), 7, "{:?}", stats.files_skipped);
    assert!(stats
        .files_skipped
        .iter()
        .any(|(p, _)| p.to_string_lossy().contains("x509.15")));
    let c = conns(&out);
    let mut expected = 0;
    for f in [
        "conn.15_00_00-16_00_00.log.gz",
        "conn.16_00_00-17_00_00.log.gz",
    ] {
        expected +=
            data_lines(&read_bytes(&dir.join("rita_proxy_rolling").join(f), 1 << 30).unwrap())
                .len();
    }
    assert_eq!(c.len(), expected);
    let dns_pair = c
        .iter()
        .filter(|c| c.src == ip("10.0.0.238") && c.dst == ip("75.75.75.75") && c.dport == 53)
        .count();
    assert!(dns_pair > 50, "{dns_pair}");
    let first = c.iter().find(|c| c.ts == 1714417205.459272).unwrap();
    assert_eq!(
        (
            first.sport,
            first.proto,
            first.service.as_deref(),
            first.orig_bytes,
            first.resp_ip_bytes
        ),
        (38239, Proto::Udp, Some("dns"), 191, 375)
    );
    assert!(!ssl(&out).is_empty() && !dns(&out).is_empty());
    assert!(out
        .iter()
        .any(|r| matches!(r, Record::Http(h) if h.method.as_deref() == Some("CONNECT"))));
}

#[test]
fn njrat_flows_in_stratosphere_001() {
    let Some(dir) = netflows() else { return };
    let path = dir.join("stratosphere_001-zeek-scenario-malicious/labeled-conn.log");
    let bytes = read_bytes(&path, 1 << 30).unwrap();
    let expected = data_lines(&bytes)
        .iter()
        .filter(|l| {
            let s = String::from_utf8_lossy(l);
            s.contains("\t192.168.1.115\t")
                && s.contains("\t41.108.179.197\t1177\ttcp\t")
                && s.contains("\tMalicious\t")
        })
        .count();
    assert_eq!(expected, 237);
    let (out, _) = read(&path);
    let c2 = conns(&out)
        .into_iter()
        .filter(|c| {
            c.src == ip("192.168.1.115")
                && c.dst == ip("41.108.179.197")
                && c.dport == 1177
                && c.proto == Proto::Tcp
        })
        .filter(|c| {
            c.label
                .as_deref()
                .is_some_and(|l| l.starts_with("Malicious"))
        })
        .count();
    assert_eq!(c2, expected);
}

#[test]
fn iot23_labels_with_three_space_columns() {
    let Some(dir) = netflows() else { return };
    let (out, stats) = read(&dir.join("iot23_honeypot_4_1_philips_hue/conn.log.labeled"));
    let c = conns(&out);
    assert_eq!(c.len() as u64, stats.rows_read);
    assert!(c.len() > 400);
    assert!(c.iter().all(|c| c.label.as_deref() == Some("benign")));
    assert!(c
        .iter()
        .any(|c| c.dst == ip("52.215.95.120") && c.dport == 80));
}

/// (src, dst, dport, proto) counts of a conn log's rows.
fn tuples(c: &[&Conn]) -> HashMap<(IpAddr, IpAddr, u16, Proto), usize> {
    let mut m = HashMap::new();
    for c in c {
        *m.entry((c.src, c.dst, c.dport, c.proto)).or_insert(0) += 1;
    }
    m
}

#[test]
fn slips_capture_assembles_the_curl_loop() {
    let Some(dir) = netflows() else { return };
    let d = dir.join("slips_test_cc_capture_1");
    let (out, stats) = read(&d.join("test-cc-capture-1.pcap"));
    let (reference, _) = read(&d.join("zeeklike/conn.log"));
    let key = (ip("147.32.80.37"), ip("141.193.213.21"), 443, Proto::Tcp);
    let ours = tuples(&conns(&out)).get(&key).copied().unwrap_or(0);
    let theirs = tuples(&conns(&reference)).get(&key).copied().unwrap_or(0);
    assert_eq!(theirs, 297);
    assert_eq!(ours, theirs, "{stats:?}");
    let sni = ssl(&out)
        .iter()
        .filter(|s| s.dst == key.1 && s.server_name.as_deref() == Some("testing.com"))
        .count();
    assert_eq!(sni, 297);
    let c = conns(&out).into_iter().find(|c| c.dst == key.1).unwrap();
    assert_eq!(c.service.as_deref(), Some("ssl"));
}

#[test]
fn iodine_capture_gives_null_queries_under_pirate_sea() {
    let Some(dir) = netflows() else { return };
    let d = dir.join("dns_tunnel_ndpi_iodine");
    let (out, _) = read(&d.join("dns-tunnel-iodine.pcap"));
    let ours: Vec<_> = dns(&out)
        .into_iter()
        .filter(|q| q.query.ends_with("pirate.sea") && q.qtype == 10)
        .collect();
    let (reference, _) = read(&d.join("zeeklike/dns.log"));
    let theirs = dns(&reference)
        .into_iter()
        .filter(|q| q.query.ends_with("pirate.sea") && q.qtype == 10)
        .count();
    assert_eq!(theirs, 222);
    assert_eq!(ours.len(), theirs);
    assert!(ours
        .iter()
        .all(|q| q.src == ip("10.0.2.30") && q.dst == ip("10.0.2.20") && q.dport == 53));
    assert!(ours.iter().filter(|q| q.rcode.is_some()).count() > 200);
}

#[test]
fn hue_capture_roughly_matches_its_zeeklike_log() {
    let Some(dir) = netflows() else { return };
    let d = dir.join("iot23_honeypot_4_1_philips_hue");
    let (out, _) = read(&d.join("2018-09-14-13-40-25-Philips-Hue-Bridge.pcap"));
    let (reference, _) = read(&d.join("zeeklike/conn.log"));
    let (ours, theirs) = (tuples(&conns(&out)), tuples(&conns(&reference)));
    let (n_ours, n_theirs) = (conns(&out).len(), conns(&reference).len());
    assert!(
        n_ours.abs_diff(n_theirs) * 10 <= n_theirs,
        "{n_ours} vs {n_theirs}"
    );
    let same = theirs.keys().filter(|k| ours.contains_key(k)).count();
    assert!(same * 10 >= theirs.len() * 9, "{same} of {}", theirs.len());
    // tshark also logs SSDP (HTTP over UDP 1900); Zeek and we only log HTTP over TCP.
    let http = out.iter().filter(|r| matches!(r, Record::Http(_))).count();
    let (ref_http, _) = read(&d.join("zeeklike/http.log"));
    let ref_tcp = ref_http
        .iter()
        .filter(|r| matches!(r, Record::Http(h) if h.dport != 1900))
        .count();
    assert_eq!(ref_tcp, 67);
    assert!(
        http * 10 >= ref_tcp * 8 && http <= ref_tcp,
        "{http} of {ref_tcp}"
    );
}

#[test]
fn management_protocols_get_their_service() {
    let Some(dir) = netflows() else { return };
    for (file, service) in [
        ("rmcp.pcap", "ipmi"),
        ("snmp.pcap", "snmp"),
        ("syslog.pcap", "syslog"),
        ("NTPv2.pcap", "ntp"),
    ] {
        let (out, _) = read(&dir.join("mgmt_protocols_ndpi").join(file));
        let c = conns(&out);
        assert!(
            c.iter().any(|c| c.service.as_deref() == Some(service)),
            "{file}: {c:?}"
        );
    }
}

#[test]
fn packet_csvs_rebuild_one_conn_per_syn() {
    let Some(dir) = netflows() else { return };
    for f in ["empire_beaconing_0.csv", "posh_beaconing_0.csv"] {
        let path = dir.join("c2_frameworks_lab_packets").join(f);
        let bytes = read_bytes(&path, 1 << 30).unwrap();
        let syns = data_lines(&bytes)
            .iter()
            .filter(|l| {
                l.starts_with(b"6,")
                    && l.split(|&b| b == b',').skip(2).take(6).eq([
                        &b"0"[..],
                        b"1",
                        b"1",
                        b"1",
                        b"0",
                        b"0",
                    ])
            })
            .count();
        let rows = data_lines(&bytes).len() as u64 - 1;
        let (out, stats) = read(&path);
        assert_eq!(stats.rows_read, rows, "{f}");
        let c = conns(&out);
        let tcp = c
            .iter()
            .filter(|c| c.proto == Proto::Tcp && c.src == ip("10.255.0.0"))
            .count();
        assert!(tcp >= syns && syns > 100, "{f}: {tcp} conns, {syns} SYNs");
        if f.starts_with("posh") {
            assert_eq!(syns, 249);
        }
    }
}

#[test]
fn conn_fast_path_matches_the_record_path() {
    let Some(dir) = netflows() else { return };
    let path = dir.join("stratosphere_008-zeek-mixed/conn.log.labeled");
    let (out, _) = read(&path);
    let mut fast = Vec::new();
    let stats = read_conn_batches(&path, &strict(), &mut |b| fast.extend(b)).unwrap();
    assert_eq!(stats.rows_read as usize, fast.len());
    let slow: Vec<Conn> = conns(&out).into_iter().cloned().collect();
    assert_eq!(fast, slow);
    assert!(fast
        .iter()
        .any(|c| c.label.as_deref() == Some("Benign/ESET")));
}
