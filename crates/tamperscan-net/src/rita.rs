//! RITA-compatible beacon scores, for comparing numbers with RITA v5 on the same Zeek logs.
//!
//! This mode reproduces RITA v5's beacon analysis (its `analysis/beacons.go` and the queries
//! that feed it) as one import of everything given, which is what RITA's final hourly import of
//! a rolling dataset sees when the data spans less than a day. It is here for parity checks and
//! for users migrating from RITA; our own ranking ([`crate::scan`]) uses a different model.
//!
//! What it does, in RITA's terms (defaults of RITA v5's configuration):
//! - internal subnets 10/8, 172.16/12, 192.168/16, fd00::/8; multicast, broadcast, loopback and
//!   link-local never included; only internal -> external connections form IP beacons;
//! - SNI beacons from ssl.log `server_name` and http.log `Host` (proxy `CONNECT` requests included,
//!   named `host:port`), each record linked to its conn.log row (we link by the 4-tuple and time;
//!   RITA by Zeek uid) and timed and sized by that row; of several HTTP requests on one
//!   connection only the last counts;
//! - an IP pair any of whose connections belongs to a qualifying SNI beacon is not an IP beacon;
//! - timestamps truncated to whole seconds; bytes are the originator's IP bytes;
//! - a pair needs 4 distinct timestamps and fewer than 86,400 connections;
//! - the window is `[max(lo, hi - 24 h), hi]` over internal -> external connections and proxy
//!   requests; the histogram has 24 bins over that window;
//! - score = 0.25 × (timestamp + data size + duration + histogram), each as in RITA.
//!
//! Not reproduced: open connections (RITA adds none of their timestamps anyway), missing-Host
//! rows (they only raise RITA's distinct-timestamp count), threat-intel and prevalence modifiers.

use crate::context::{canonical, Net};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use tamperscan_flows::model::{Conn, Http, Record, Ssl};

/// One beacon as RITA would score it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RitaBeacon {
    /// `ip` or `sni`.
    pub beacon_type: &'static str,
    /// Source.
    pub src: String,
    /// Destination address (`::` for SNI beacons, as RITA shows them).
    pub dst: String,
    /// SNI / Host (with `:port` for proxy requests), empty for IP beacons.
    pub fqdn: String,
    /// Connections.
    pub count: u64,
    /// Of which through a proxy.
    pub proxy_count: u64,
    /// Beacon score.
    pub score: f64,
    /// Timestamp score.
    pub ts_score: f64,
    /// Data-size score.
    pub ds_score: f64,
    /// Histogram score.
    pub hist_score: f64,
    /// Duration score.
    pub dur_score: f64,
}

#[derive(Clone, Copy)]
struct ConnRow {
    ts: u32,
    bytes: u64,
    unfiltered: bool,
}

#[derive(Default)]
struct Series {
    plain: Vec<(u32, u64)>,
    proxied: Vec<(u32, u64)>,
    uids: HashSet<usize>,
}

/// Collects records and scores them the RITA way.
#[derive(Default)]
pub struct RitaCompat {
    conns: Vec<ConnRow>,
    pairs_of: Vec<(IpAddr, IpAddr)>,
    by_tuple: HashMap<(IpAddr, u16, IpAddr, u16), Vec<usize>>,
    ssl: Vec<Ssl>,
    http: Vec<Http>,
}

fn internal_nets() -> Vec<Net> {
    ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8"]
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect()
}

fn never_included(ip: IpAddr) -> bool {
    [
        "0.0.0.0/32",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "224.0.0.0/4",
        "255.255.255.255/32",
        "::1/128",
        "::/128",
        "fe80::/10",
        "ff00::/8",
    ]
    .iter()
    .filter_map(|s| s.parse::<Net>().ok())
    .any(|n| n.contains(ip))
}

impl RitaCompat {
    /// Folds one record.
    pub fn add(&mut self, record: &Record) {
        match record {
            Record::Conn(c) => self.add_conn(c),
            Record::Ssl(s) => self.ssl.push(s.clone()),
            Record::Http(h) => self.http.push(h.clone()),
            Record::Dns(_) => {}
        }
    }

    fn add_conn(&mut self, c: &Conn) {
        let (src, dst) = (canonical(c.src), canonical(c.dst));
        if never_included(src) || never_included(dst) {
            return;
        }
        let nets = internal_nets();
        let si = nets.iter().any(|n| n.contains(src));
        let di = nets.iter().any(|n| n.contains(dst));
        if !si && !di {
            return;
        }
        let idx = self.conns.len();
        self.conns.push(ConnRow {
            ts: c.ts.max(0.0).min(f64::from(u32::MAX)) as u32,
            bytes: c.orig_ip_bytes,
            unfiltered: si && !di,
        });
        self.pairs_of.push((src, dst));
        self.by_tuple
            .entry((src, c.sport, dst, c.dport))
            .or_default()
            .push(idx);
    }

    /// The conn row a log record belongs to: same 4-tuple, latest start not after the record.
    fn link(&self, src: IpAddr, sport: u16, dst: IpAddr, dport: u16, ts: f64) -> Option<usize> {
        let list = self
            .by_tuple
            .get(&(canonical(src), sport, canonical(dst), dport))?;
        let t = ts.max(0.0) as u32;
        list.iter()
            .copied()
            .filter(|&i| {
                self.conns
                    .get(i)
                    .is_some_and(|c| c.ts <= t.saturating_add(1))
            })
            .max_by_key(|&i| self.conns.get(i).map_or(0, |c| c.ts))
    }

    /// Scores every qualifying pair, highest first.
    pub fn finish(self) -> Vec<RitaBeacon> {
        let nets = internal_nets();
        let is_internal = |ip: IpAddr| nets.iter().any(|n| n.contains(ip));
        let mut sni: HashMap<(IpAddr, String), Series> = HashMap::new();
        let mut lo = u32::MAX;
        let mut hi = 0u32;
        for c in self.conns.iter().filter(|c| c.unfiltered) {
            lo = lo.min(c.ts);
            hi = hi.max(c.ts);
        }
        for s in &self.ssl {
            let (src, dst) = (canonical(s.src), canonical(s.dst));
            let Some(name) = s.server_name.as_deref().filter(|n| !n.is_empty()) else {
                continue;
            };
            if !is_internal(src) || is_internal(dst) {
                continue;
            }
            if let Some(i) = self.link(src, s.sport, dst, s.dport, s.ts) {
                if let Some(c) = self.conns.get(i) {
                    let e = sni.entry((src, name.to_string())).or_default();
                    e.plain.push((c.ts, c.bytes));
                    e.uids.insert(i);
                }
            }
        }
        // Of several requests on one connection, the last one carries the connection.
        let mut last_request: HashMap<usize, &Http> = HashMap::new();
        for h in &self.http {
            if let Some(i) = self.link(h.src, h.sport, h.dst, h.dport, h.ts) {
                let replace = last_request.get(&i).is_none_or(|prev| h.ts >= prev.ts);
                if replace {
                    last_request.insert(i, h);
                }
            }
        }
        for (i, h) in last_request {
            let Some(host) = h.host.as_deref().filter(|n| !n.is_empty()) else {
                continue;
            };
            let (src, dst) = (canonical(h.src), canonical(h.dst));
            let connect = h.method.as_deref() == Some("CONNECT");
            if connect {
                if never_included(src) {
                    continue;
                }
            } else if !is_internal(src) || is_internal(dst) {
                continue;
            }
            let Some(c) = self.conns.get(i) else { continue };
            let name = if connect {
                h.uri
                    .as_deref()
                    .filter(|u| u.contains(':'))
                    .map_or_else(|| format!("{host}:{}", 443), str::to_string)
            } else {
                host.to_string()
            };
            let e = sni.entry((src, name)).or_default();
            if connect {
                e.proxied.push((c.ts, c.bytes));
                lo = lo.min(c.ts);
                hi = hi.max(c.ts);
            } else {
                e.plain.push((c.ts, c.bytes));
            }
            e.uids.insert(i);
        }
        if hi <= lo {
            return Vec::new();
        }
        let window = (lo.max(hi.saturating_sub(86_400)), hi);

        let mut out = Vec::new();
        let mut taken: HashSet<usize> = HashSet::new();
        for ((src, name), mut series) in sni {
            series.plain.sort_unstable();
            series.proxied.sort_unstable();
            let proxy_count = series.proxied.len() as u64;
            // RITA concatenates the two sorted runs (non-proxy, then proxy).
            let rows: Vec<(u32, u64)> = series.plain.into_iter().chain(series.proxied).collect();
            if let Some(b) = score(&rows, window) {
                taken.extend(series.uids.iter().copied());
                out.push(RitaBeacon {
                    beacon_type: "sni",
                    src: src.to_string(),
                    dst: "::".into(),
                    fqdn: name,
                    count: rows.len() as u64,
                    proxy_count,
                    ..b
                });
            }
        }
        // Pair to (timestamp, bytes) rows and whether an SNI beacon took one of its connections.
        type Rows = (Vec<(u32, u64)>, bool);
        let mut ip_pairs: HashMap<(IpAddr, IpAddr), Rows> = HashMap::new();
        for (i, c) in self.conns.iter().enumerate() {
            if !c.unfiltered {
                continue;
            }
            let Some(pair) = self.pairs_of.get(i) else {
                continue;
            };
            let e = ip_pairs.entry(*pair).or_default();
            e.0.push((c.ts, c.bytes));
            if taken.contains(&i) {
                e.1 = true;
            }
        }
        for ((src, dst), (mut rows, excluded)) in ip_pairs {
            if excluded {
                continue;
            }
            rows.sort_unstable();
            if let Some(b) = score(&rows, window) {
                out.push(RitaBeacon {
                    beacon_type: "ip",
                    src: src.to_string(),
                    dst: dst.to_string(),
                    fqdn: String::new(),
                    count: rows.len() as u64,
                    proxy_count: 0,
                    ..b
                });
            }
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.src.cmp(&b.src)));
        out
    }
}

/// Scores one series of (timestamp, bytes); `None` where RITA would skip the pair.
fn score(rows: &[(u32, u64)], (min, max): (u32, u32)) -> Option<RitaBeacon> {
    let distinct: HashSet<u32> = rows.iter().map(|r| r.0).collect();
    if distinct.len() < 4 || rows.len() >= 86_400 {
        return None;
    }
    let ts: Vec<u32> = rows.iter().map(|r| r.0).collect();
    let ts_score = timestamp_score(&ts)?;
    let mut bytes: Vec<f64> = rows.iter().map(|r| r.1 as f64).collect();
    bytes.sort_by(f64::total_cmp);
    let ds_score = stat_score(&bytes, 0.0);
    let mut sorted = ts.clone();
    sorted.sort_unstable();
    let (hist_score, total_bars, longest_run) = histogram_score(min, max, &sorted);
    let first = *sorted.first()?;
    let last = *sorted.last()?;
    if last <= first || max <= min {
        return None;
    }
    let dur_score = if total_bars >= 6 {
        let coverage = ceil3(f64::from(last - first) / f64::from(max - min)).min(1.0);
        let consistency = ceil3(longest_run as f64 / 12.0).min(1.0);
        coverage.max(consistency)
    } else {
        0.0
    };
    let score = round3(0.25 * ts_score + 0.25 * ds_score + 0.25 * dur_score + 0.25 * hist_score);
    Some(RitaBeacon {
        beacon_type: "",
        src: String::new(),
        dst: String::new(),
        fqdn: String::new(),
        count: 0,
        proxy_count: 0,
        score,
        ts_score,
        ds_score,
        hist_score,
        dur_score,
    })
}

fn timestamp_score(ts: &[u32]) -> Option<f64> {
    if ts.len() < 4 {
        return None;
    }
    // Unsigned 32-bit differences in list order, as RITA computes them.
    let mut d: Vec<f64> = ts
        .windows(2)
        .map(|w| f64::from(w[1].wrapping_sub(w[0])))
        .collect();
    if d.iter().filter(|x| **x > 0.0).count() < 3 {
        return None;
    }
    d.sort_by(f64::total_cmp);
    let first = d.iter().position(|x| *x > 0.0).unwrap_or(0);
    Some(stat_score(d.get(first..).unwrap_or(&[]), 1.0))
}

/// RITA's statistical score: mean of a Bowley-skewness score and a MAD score.
fn stat_score(sorted: &[f64], default_mad: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let (q1, q2, q3) = quartiles(sorted);
    let den = q3 - q1;
    let skew = if den >= 10.0 && q2 != q1 && q2 != q3 {
        (q1 + q3 - 2.0 * q2) / den
    } else {
        0.0
    };
    let skew_score = 1.0 - skew.abs();
    let med = median(sorted);
    let mut dev: Vec<f64> = sorted.iter().map(|x| (x - med).abs()).collect();
    dev.sort_by(f64::total_cmp);
    let mad = median(&dev);
    let mut mad_score = if med >= 1.0 {
        (med - mad) / med
    } else {
        default_mad
    };
    if mad_score < 0.0 || mad_score.is_nan() {
        mad_score = 0.0;
    }
    round3((skew_score + mad_score) / 2.0)
}

/// Median of sorted values (the mean of the middle two for even lengths).
fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    if !n.is_multiple_of(2) {
        sorted.get(n / 2).copied().unwrap_or(0.0)
    } else {
        let a = sorted.get(n / 2 - 1).copied().unwrap_or(0.0);
        let b = sorted.get(n / 2).copied().unwrap_or(0.0);
        (a + b) / 2.0
    }
}

/// Quartiles the way RITA's statistics library computes them: halves exclude the middle
/// element when the length is odd.
fn quartiles(sorted: &[f64]) -> (f64, f64, f64) {
    let n = sorted.len();
    let q2 = median(sorted);
    let (lower, upper) = if n.is_multiple_of(2) {
        (sorted.get(..n / 2), sorted.get(n / 2..))
    } else {
        (sorted.get(..(n - 1) / 2), sorted.get(n.div_ceil(2)..))
    };
    (
        median(lower.unwrap_or(&[])),
        q2,
        median(upper.unwrap_or(&[])),
    )
}

/// (histogram score, bars with connections, longest circular run of bars).
fn histogram_score(min: u32, max: u32, sorted: &[u32]) -> (f64, usize, usize) {
    const BINS: usize = 24;
    let step = f64::from(max - min) / BINS as f64;
    let mut hist = [0u64; BINS];
    for &t in sorted {
        let t = f64::from(t);
        let mut bin = 0usize;
        for i in 1..BINS {
            if f64::from(min) + i as f64 * step <= t {
                bin = i;
            }
        }
        if let Some(h) = hist.get_mut(bin) {
            *h += 1;
        }
    }
    let total_bars = hist.iter().filter(|h| **h > 0).count();
    let largest = hist.iter().copied().max().unwrap_or(0);
    let mut run = 0usize;
    let mut longest = 0usize;
    for i in 0..2 * BINS {
        if hist.get(i % BINS).copied().unwrap_or(0) > 0 {
            run += 1;
        } else {
            longest = longest.max(run);
            run = 0;
        }
    }
    longest = longest.max(run).min(BINS);
    let bin_size = (largest as f64 * 0.05).ceil().max(1.0);
    let mut freq: HashMap<u64, u64> = HashMap::new();
    for &h in hist.iter().filter(|h| **h > 0) {
        let key = ((h as f64 / bin_size).floor() * bin_size) as u64;
        *freq.entry(key).or_insert(0) += 1;
    }
    let total: u64 = hist.iter().sum();
    let mean = total as f64 / BINS as f64;
    let cv_score = if mean > 0.0 {
        let var = hist.iter().map(|&h| (h as f64 - mean).powi(2)).sum::<f64>() / BINS as f64;
        let cv = var.sqrt() / mean;
        if cv > 1.0 {
            0.0
        } else {
            round3(1.0 - cv)
        }
    } else {
        0.0
    };
    let mut bimodal = 0.0;
    if total_bars >= 11 {
        let mut counts: Vec<u64> = freq.values().copied().collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let top = counts.first().copied().unwrap_or(0) + counts.get(1).copied().unwrap_or(0);
        bimodal = top as f64 / ((total_bars as f64 - 1.0).max(1.0));
    }
    let bimodal = round3(bimodal).min(1.0);
    (cv_score.max(bimodal), total_bars, longest)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn ceil3(x: f64) -> f64 {
    (x * 1000.0).ceil() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts_from_deltas(deltas: &[u32]) -> Vec<u32> {
        let mut t = 1_000_000u32;
        let mut out = vec![t];
        for d in deltas {
            t += d;
            out.push(t);
        }
        out
    }

    #[test]
    fn statistical_scores_match_ritas_unit_tests() {
        // The values RITA's own unit tests assert for these inputs.
        let alternating: Vec<u32> = (0..20).map(|i| if i % 2 == 0 { 98 } else { 300 }).collect();
        assert_eq!(timestamp_score(&ts_from_deltas(&alternating)), Some(0.746));
        let mixed = ts_from_deltas(&[1, 299, 25, 4975, 90, 2, 42, 500, 1500]);
        assert_eq!(timestamp_score(&mixed), Some(0.083));
        let bytes: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(stat_score(&bytes, 0.0), 0.773);
        assert_eq!(stat_score(&[0.0; 10], 0.0), 0.5);
    }

    #[test]
    fn too_few_timestamps_are_skipped() {
        assert!(score(&[(1, 1), (2, 1), (3, 1)], (0, 100)).is_none());
        assert!(score(&[(5, 1); 10], (0, 100)).is_none());
    }
}
