//! What each source talked to before: the baseline against which destinations are "first seen".
//!
//! A baseline is built from earlier traffic (any logs or captures the readers take, typically
//! last week's or last month's logs of the same network) or read back from the compact JSON file
//! `net scan --write-baseline` leaves, so that the raw logs need not be kept. It holds, per
//! source, the destination addresses it connected to and the registrable domains it looked up or
//! named (TLS SNI, HTTP Host). A destination is then:
//!
//! - **seen** from this source (by address, or by one of its names' registrable domains);
//! - **seen from other sources** only (new for this source, known on the network);
//! - **never seen**: first seen in this scan.
//!
//! Addresses change behind names (CDNs, cloud load balancers), so a name match counts as seen:
//! a BMC's update server moving to a new address is not "first seen" when its name was.

use crate::context::canonical;
use crate::dns::base_domain;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::net::IpAddr;
use tamperscan_flows::Record;

/// Most (source, destination) and (source, domain) entries a baseline holds; beyond it new
/// entries are dropped and [`Baseline::truncated`] is set (they then count as "first seen", a
/// loud failure rather than a silent one).
pub const MAX_ENTRIES: usize = 4_000_000;

/// The marker key of the JSON file.
const MARKER: &str = "tamperscan_net_baseline";

/// Where a destination stands against the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// This source talked to it (by address or name) in the baseline.
    BySource,
    /// Other sources did; this one did not.
    ByOthers,
    /// Nobody did.
    Never,
}

/// Destinations per source from earlier traffic.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    pairs: HashSet<(IpAddr, IpAddr)>,
    names: HashSet<(IpAddr, String)>,
    dsts: HashSet<IpAddr>,
    domains: HashSet<String>,
    /// Earliest record time, seconds since the epoch (0 when empty).
    pub first: f64,
    /// Latest record time.
    pub last: f64,
    /// Records folded (or, for a file, the records its writer had folded).
    pub records: u64,
    /// Entries were dropped at the limit ([`MAX_ENTRIES`] unless set by [`Baseline::with_limit`]).
    pub truncated: bool,
    limit: Option<usize>,
}

/// The JSON form.
#[derive(Serialize, Deserialize)]
struct File {
    tamperscan_net_baseline: u32,
    first_seen: f64,
    last_seen: f64,
    records: u64,
    #[serde(default)]
    truncated: bool,
    /// `[source, destination address]`.
    pairs: Vec<(IpAddr, IpAddr)>,
    /// `[source, registrable domain]`.
    names: Vec<(IpAddr, String)>,
}

/// A baseline file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("baseline file is not valid: {0}; write it with `tamperscan net scan --write-baseline`")]
pub struct BaselineError(String);

impl Baseline {
    /// Number of (source, destination) and (source, domain) entries.
    pub fn len(&self) -> usize {
        self.pairs.len() + self.names.len()
    }

    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty() && self.names.is_empty()
    }

    fn time(&mut self, ts: f64) {
        if !ts.is_finite() {
            return;
        }
        if self.records == 0 || ts < self.first {
            self.first = ts;
        }
        if ts > self.last {
            self.last = ts;
        }
    }

    /// An empty baseline holding at most `limit` entries.
    pub fn with_limit(limit: usize) -> Baseline {
        Baseline {
            limit: Some(limit),
            ..Baseline::default()
        }
    }

    fn full(&mut self) -> bool {
        if self.len() >= self.limit.unwrap_or(MAX_ENTRIES) {
            self.truncated = true;
        }
        self.truncated
    }

    /// Records that `src` reached address `dst`.
    pub fn add_pair(&mut self, src: IpAddr, dst: IpAddr) {
        let (src, dst) = (canonical(src), canonical(dst));
        if self.pairs.contains(&(src, dst)) || self.full() {
            return;
        }
        self.pairs.insert((src, dst));
        self.dsts.insert(dst);
    }

    /// Records that `src` asked for or named `name` (any name under a registrable domain
    /// counts for the whole domain).
    pub fn add_name(&mut self, src: IpAddr, name: &str) {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() {
            return;
        }
        let domain = if name.parse::<IpAddr>().is_ok() {
            name.as_str()
        } else {
            base_domain(&name)
        };
        let key = (canonical(src), domain.to_string());
        if self.names.contains(&key) || self.full() {
            return;
        }
        self.domains.insert(key.1.clone());
        self.names.insert(key);
    }

    /// Folds one record of earlier traffic.
    pub fn add(&mut self, record: &Record) {
        match record {
            Record::Conn(c) => {
                self.time(c.ts);
                self.add_pair(c.src, c.dst);
            }
            Record::Dns(d) => {
                self.time(d.ts);
                if d.rcode != Some(3) {
                    self.add_name(d.src, &d.query);
                }
            }
            Record::Ssl(s) => {
                self.time(s.ts);
                self.add_pair(s.src, s.dst);
                if let Some(n) = &s.server_name {
                    self.add_name(s.src, n);
                }
            }
            Record::Http(h) => {
                self.time(h.ts);
                self.add_pair(h.src, h.dst);
                if let Some(n) = &h.host {
                    self.add_name(h.src, n);
                }
            }
        }
        self.records += 1;
    }

    /// Adds everything `other` knows.
    pub fn merge(&mut self, other: &Baseline) {
        for &(s, d) in &other.pairs {
            self.add_pair(s, d);
        }
        for (s, n) in &other.names {
            self.add_name(*s, n);
        }
        if other.records > 0 {
            if self.records == 0 || other.first < self.first {
                self.first = other.first;
            }
            self.last = self.last.max(other.last);
        }
        self.records += other.records;
        self.truncated |= other.truncated;
    }

    /// Where destination `dst` (known by `names`) stands for `src`.
    pub fn seen(&self, src: IpAddr, dst: IpAddr, names: &[&str]) -> Seen {
        let (src, dst) = (canonical(src), canonical(dst));
        let domains: Vec<String> = names
            .iter()
            .map(|n| base_domain(&n.trim_end_matches('.').to_ascii_lowercase()).to_string())
            .collect();
        if self.pairs.contains(&(src, dst))
            || domains
                .iter()
                .any(|d| self.names.contains(&(src, d.clone())))
        {
            return Seen::BySource;
        }
        if self.dsts.contains(&dst) || domains.iter().any(|d| self.domains.contains(d)) {
            return Seen::ByOthers;
        }
        Seen::Never
    }

    /// Whether `bytes` look like a baseline file (rather than a log to fold).
    pub fn is_file(bytes: &[u8]) -> bool {
        let head = bytes.get(..bytes.len().min(256)).unwrap_or(bytes);
        head.first() == Some(&b'{') && head.windows(MARKER.len()).any(|w| w == MARKER.as_bytes())
    }

    /// Reads a baseline file.
    ///
    /// # Errors
    /// When it is not JSON of the shape [`Baseline::to_json`] writes, or holds more than
    /// [`MAX_ENTRIES`] entries.
    pub fn from_json(bytes: &[u8]) -> Result<Baseline, BaselineError> {
        let f: File = serde_json::from_slice(bytes).map_err(|e| BaselineError(e.to_string()))?;
        if f.tamperscan_net_baseline != 1 {
            return Err(BaselineError(format!(
                "version {} (this build reads version 1)",
                f.tamperscan_net_baseline
            )));
        }
        if f.pairs.len() + f.names.len() > MAX_ENTRIES {
            return Err(BaselineError(format!(
                "{} entries, over the limit of {MAX_ENTRIES}",
                f.pairs.len() + f.names.len()
            )));
        }
        let mut b = Baseline::default();
        for (s, d) in f.pairs {
            b.add_pair(s, d);
        }
        for (s, n) in f.names {
            b.add_name(s, &n);
        }
        b.first = f.first_seen;
        b.last = f.last_seen;
        b.records = f.records;
        b.truncated = f.truncated;
        Ok(b)
    }

    /// The JSON file, entries sorted so that the same baseline writes the same bytes.
    pub fn to_json(&self) -> Vec<u8> {
        let mut pairs: Vec<(IpAddr, IpAddr)> = self.pairs.iter().copied().collect();
        pairs.sort_unstable();
        let mut names: Vec<(IpAddr, String)> = self.names.iter().cloned().collect();
        names.sort_unstable();
        let f = File {
            tamperscan_net_baseline: 1,
            first_seen: self.first,
            last_seen: self.last,
            records: self.records,
            truncated: self.truncated,
            pairs,
            names,
        };
        // Serialising plain data to a Vec cannot fail.
        serde_json::to_vec(&f).unwrap_or_default()
    }

    /// "from 2026-11-01 to 2026-11-20, 1.2 M records" for reasons.
    pub fn describe(&self) -> String {
        let day = |t: f64| {
            let days = (t / 86_400.0).floor() as i64;
            let (y, m, d) = civil_from_days(days);
            format!("{y:04}-{m:02}-{d:02}")
        };
        format!(
            "the baseline ({} records, {} to {})",
            self.records,
            day(self.first),
            day(self.last)
        )
    }
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn seen_by_address_name_or_not_at_all() {
        let mut b = Baseline::default();
        b.add_pair(ip("10.0.0.1"), ip("192.0.2.10"));
        b.add_name(ip("10.0.0.1"), "updates.vendor.example.com");
        b.add_pair(ip("10.0.0.2"), ip("198.51.100.7"));
        let src = ip("10.0.0.1");
        assert_eq!(b.seen(src, ip("192.0.2.10"), &[]), Seen::BySource);
        // The update server moved behind its name: still known.
        assert_eq!(
            b.seen(src, ip("203.0.113.9"), &["cdn.example.com"]),
            Seen::BySource
        );
        assert_eq!(b.seen(src, ip("198.51.100.7"), &[]), Seen::ByOthers);
        assert_eq!(b.seen(src, ip("203.0.113.66"), &[]), Seen::Never);
        // IPv4-mapped IPv6 is the same address.
        assert_eq!(
            b.seen(ip("::ffff:10.0.0.1"), ip("192.0.2.10"), &[]),
            Seen::BySource
        );
    }

    #[test]
    fn file_round_trip_and_hostile_files() {
        let mut b = Baseline::default();
        b.add_pair(ip("10.0.0.1"), ip("192.0.2.10"));
        b.add_name(ip("10.0.0.1"), "ntp.example.org");
        b.records = 2;
        b.first = 1_700_000_000.0;
        b.last = 1_700_086_400.0;
        let json = b.to_json();
        assert!(Baseline::is_file(&json));
        let back = Baseline::from_json(&json).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back.to_json(), json);
        assert_eq!(
            back.seen(ip("10.0.0.1"), ip("192.0.2.99"), &["pool.example.org"]),
            Seen::BySource
        );
        assert!(b.describe().contains("2023-11-14"), "{}", b.describe());

        for bad in [
            &b"{\"tamperscan_net_baseline\": 2, \"first_seen\": 0, \"last_seen\": 0, \"records\": 0, \"pairs\": [], \"names\": []}"[..],
            b"{\"tamperscan_net_baseline\": 1, \"pairs\": [[\"10.0.0.1\"]]}",
            b"{\"tamperscan_net_baseline\": 1",
            b"",
        ] {
            assert!(Baseline::from_json(bad).is_err());
        }
        assert!(!Baseline::is_file(b"#separator \\x09\n#fields\tts"));
        assert!(!Baseline::is_file(b"{\"ts\":1.0,\"uid\":\"C1\"}"));
    }

    #[test]
    fn entries_are_bounded() {
        let mut b = Baseline::with_limit(1000);
        for i in 0..1010u32 {
            b.add_pair(ip("10.0.0.1"), IpAddr::V4(i.into()));
        }
        assert_eq!(b.len(), 1000);
        assert!(b.truncated);
    }
}
