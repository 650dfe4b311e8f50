//! The labelled captures of `../shared/data/netflows` (labels in `ground_truth.csv`): every
//! positive ranks in the top 5 findings of its dataset, benign datasets raise at most one
//! finding of level medium or higher per host-day, and the RITA-compatible mode reproduces the
//! scores RITA publishes for `rita_proxy_rolling`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use tamperscan_flows::io::read_path;
use tamperscan_net::rita::RitaCompat;
use tamperscan_net::{Context, Level, NetFinding, Options, Scanner};

fn netflows() -> Option<PathBuf> {
    tamperscan_testdata::data_dir().map(|d| d.join("netflows"))
}

/// The files of a dataset: captures rather than their `zeeklike/` conversions, and a labelled
/// copy of a log rather than its unlabelled twin, so that no connection is read twice.
fn dataset_files(dir: &Path) -> Vec<PathBuf> {
    let files = tamperscan_testdata::files_under(dir);
    let has_capture = files
        .iter()
        .any(|f| f.extension().is_some_and(|e| e == "pcap"));
    let labelled: BTreeSet<String> = files
        .iter()
        .filter_map(|f| f.file_name()?.to_str().map(str::to_string))
        .filter(|n| n.contains("label"))
        .map(|n| {
            if n.starts_with("conn") || n.contains("-conn") {
                "conn".into()
            } else {
                n.split('.').next().unwrap_or("").into()
            }
        })
        .collect();
    files
        .into_iter()
        .filter(|f| {
            let s = f.to_string_lossy();
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if has_capture && s.contains("zeeklike") {
                return false;
            }
            let kind = name.split('.').next().unwrap_or("");
            !labelled.contains(kind) || name.contains("label")
        })
        .collect()
}

fn scan(files: &[PathBuf]) -> Vec<NetFinding> {
    let mut scanner = Scanner::new(Context::default(), Options::default());
    for f in files {
        // Files of no known kind (README, labels.config, feature CSVs) are skipped by design.
        let _ = read_path(f, &Default::default(), &mut |r| scanner.add(&r));
    }
    scanner.finish()
}

fn rank_of(findings: &[NetFinding], src: &str, dst: &str) -> Option<usize> {
    findings
        .iter()
        .position(|f| {
            f.src == src
                && (f.dst == dst
                    || f.dst_ips.iter().any(|d| d == dst)
                    || f.fqdn.as_deref() == Some(dst))
        })
        .map(|i| i + 1)
}

#[test]
fn every_positive_ranks_in_the_top_five_of_its_dataset() {
    let Some(root) = netflows() else { return };
    let truth = std::fs::read_to_string(root.join("ground_truth.csv")).unwrap();
    let mut checked = 0;
    for line in truth.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let first = |s: &str| s.split_whitespace().next().unwrap_or("").to_string();
        let (dataset, polarity, src, dst) = (cols[0], cols[2], first(cols[3]), cols[4].to_string());
        let (src, dst) = (
            src.as_str(),
            if dataset.ends_with(".csv") {
                first(&dst)
            } else {
                dst
            },
        );
        if polarity != "positive" || dataset.starts_with("dns_qname_netrack") {
            continue;
        }
        let path = root.join(dataset);
        let files = if path.is_dir() {
            dataset_files(&path)
        } else {
            vec![path.clone()]
        };
        let findings = scan(&files);
        // Anonymised packet CSVs map host i to 10.255.0.i.
        let (src, dsts): (String, Vec<String>) = if dataset.ends_with(".csv") {
            (format!("10.255.0.{src}"), vec![format!("10.255.0.{dst}")])
        } else if dataset.starts_with("dns_tunnel") {
            (src.to_string(), vec!["pirate.sea".to_string()])
        } else {
            (
                src.to_string(),
                dst.split(';').map(|d| d.trim().to_string()).collect(),
            )
        };
        for d in &dsts {
            let rank = rank_of(&findings, &src, d);
            let top: Vec<String> = findings
                .iter()
                .take(6)
                .map(|f| {
                    format!(
                        "{:.3} {} {} -> {} {:?}",
                        f.score,
                        f.kind.name(),
                        f.src,
                        f.dst,
                        f.fqdn
                    )
                })
                .collect();
            assert!(
                rank.is_some_and(|r| r <= 5),
                "{dataset}: {src} -> {d} ranks {rank:?}; top: {top:#?}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 9, "only {checked} positives checked");
}

#[test]
fn benign_datasets_raise_at_most_one_medium_finding_per_host_day() {
    let Some(root) = netflows() else { return };
    for dataset in [
        "stratosphere_008-zeek-mixed",
        "stratosphere_010-zeek-mixed",
        "iot23_honeypot_4_1_philips_hue",
        "rita_proxy_rolling",
        "mgmt_protocols_ndpi",
    ] {
        let findings = scan(&dataset_files(&root.join(dataset)));
        let mut per_host: BTreeMap<&str, (usize, f64, f64)> = BTreeMap::new();
        for f in &findings {
            let e = per_host
                .entry(f.src.as_str())
                .or_insert((0, f64::MAX, f64::MIN));
            if f.severity >= Level::Medium {
                e.0 += 1;
            }
            e.1 = e.1.min(f.evidence.first_seen);
            e.2 = e.2.max(f.evidence.last_seen);
        }
        for (host, (alerts, first, last)) in per_host {
            let days = ((last - first) / 86_400.0).ceil().max(1.0);
            assert!(
                alerts as f64 <= days,
                "{dataset}: {host} raised {alerts} medium+ findings in {days} day(s): {:#?}",
                findings
                    .iter()
                    .filter(|f| f.src == host && f.severity >= Level::Medium)
                    .map(|f| &f.summary)
                    .collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn benign_periodic_traffic_stays_below_medium() {
    // The periodic negatives of the ground truth: Microsoft and ESET update checks, the Hue
    // bridge's hourly cloud polls and NTP. Periodic, and benign: none reaches medium.
    let Some(root) = netflows() else { return };
    for (dataset, src, dst) in [
        (
            "stratosphere_008-zeek-mixed",
            "147.32.81.167",
            "20.199.120.151",
        ),
        (
            "stratosphere_008-zeek-mixed",
            "147.32.81.167",
            "91.228.167.171",
        ),
        (
            "iot23_honeypot_4_1_philips_hue",
            "192.168.1.132",
            "52.215.95.120",
        ),
        (
            "iot23_honeypot_4_1_philips_hue",
            "192.168.1.132",
            "216.239.35.4",
        ),
    ] {
        let findings = scan(&dataset_files(&root.join(dataset)));
        for f in findings.iter().filter(|f| f.src == src && f.dst == dst) {
            assert!(f.severity < Level::Medium, "{dataset}: {}", f.summary);
        }
    }
}

#[test]
fn rita_compatible_mode_matches_ritas_published_scores() {
    let Some(root) = netflows() else { return };
    let mut rita = RitaCompat::default();
    read_path(
        &root.join("rita_proxy_rolling"),
        &Default::default(),
        &mut |r| rita.add(&r),
    )
    .unwrap();
    let beacons = rita.finish();
    let find = |src: &str, to: &str| {
        beacons
            .iter()
            .find(|b| b.src == src && (b.dst == to || b.fqdn == to))
            .unwrap_or_else(|| panic!("{src} -> {to} not scored"))
    };
    // RITA v5 integration/proxy_rolling_test.go: beacon 0.673 (count 1160) and 0.624 (46).
    let dns = find("10.0.0.238", "75.75.75.75");
    assert!((dns.score - 0.673).abs() <= 0.02, "{dns:?}");
    assert_eq!(dns.count, 1160);
    let proxy = find("10.0.0.111", "safebrowsing.googleapis.com:443");
    assert!((proxy.score - 0.624).abs() <= 0.02, "{proxy:?}");
    assert_eq!((proxy.count, proxy.proxy_count), (46, 46));
    // The proxy itself is never a destination.
    assert!(beacons.iter().all(|b| b.dst != "10.0.0.238"));
}

#[test]
fn dns2tcp_names_score_as_a_tunnel_and_plain_browsing_does_not() {
    let Some(root) = netflows() else { return };
    let src: std::net::IpAddr = "10.0.0.1".parse().unwrap();
    for (file, tunnel) in [
        ("dns2tcp_2018-03-23-11-08-11.csv", true),
        ("plain_2018-03-19-19-34-33_part1.csv", false),
    ] {
        let text = std::fs::read_to_string(root.join("dns_qname_netrack").join(file)).unwrap();
        let mut stats = tamperscan_net::dns::DnsStats::default();
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split(',').collect();
            let qtype: u16 = cols[8].parse().unwrap_or(0);
            stats.add(src, cols[1], qtype, None, 0.0);
        }
        let best = stats
            .domains
            .iter()
            .map(|(k, s)| (s.tunnel_score(), k.1.clone()))
            .fold((0.0, String::new()), |a, b| if b.0 > a.0 { b } else { a });
        if tunnel {
            assert_eq!(best.1, "hidemyself.org");
            assert!(best.0 >= 0.6, "{best:?}");
        } else {
            assert!(best.0 < 0.4, "plain browsing scored as a tunnel: {best:?}");
        }
    }
}

/// DGA-like lookups are judged by how word-like the failed domains are: of the thousands of
/// registrable domains in the plain DNS capture (popular sites, CDNs, trackers), only a few
/// percent look random, so a client needs many failed random-looking domains to be flagged;
/// and even if every one of those domains failed, the capture's client would not reach a DGA
/// finding of level medium on its own.
#[test]
fn popular_domains_look_word_like() {
    let Some(root) = netflows() else { return };
    let text = std::fs::read_to_string(
        root.join("dns_qname_netrack")
            .join("plain_2018-03-19-19-34-33_part1.csv"),
    )
    .unwrap();
    let mut labels = BTreeSet::new();
    for line in text.lines().skip(1) {
        let Some(q) = line.split(',').nth(1) else {
            continue;
        };
        let domain = tamperscan_net::dns::base_domain(q);
        if let Some(label) = domain.split('.').next().filter(|_| domain.contains('.')) {
            labels.insert(label.to_string());
        }
    }
    let judged: Vec<f64> = labels
        .iter()
        .filter_map(|l| tamperscan_net::dns::wordlike_share(l))
        .collect();
    assert!(judged.len() > 1000, "{} labels judged", judged.len());
    let random = judged
        .iter()
        .filter(|s| **s < tamperscan_net::dns::WORDLIKE_MIN)
        .count();
    let share = random as f64 / judged.len() as f64;
    assert!(
        share < 0.05,
        "{random} of {} popular domains look random",
        judged.len()
    );
}
