//! The scanner: records in, ranked findings out.
//!
//! [`Scanner::add`] folds each record into per-pair aggregates (bounded by the number of
//! distinct pairs, not of records); [`Scanner::finish`] tests every pair, weighs the context and
//! ranks. How a score is made:
//!
//! `score = evidence × (0.35 + 0.65 × suspicion)`
//!
//! where `evidence` is the detector's own confidence (a beacon's periodicity confidence, a long
//! connection's duration, a tunnel's volume and payload) and `suspicion = 1 - Π(1 - wᵢ)` over the
//! context reasons that apply (direct-to-IP, unusual port, IP-literal Host, management interface
//! outside policy, rare among siblings, ...), halved when many of our hosts use the destination.
//! Periodicity alone therefore tops out at 0.35 (`info`): a workstation's update check is
//! periodic, and so is NTP. A management interface calling an address outside its policy on a
//! schedule reaches 0.9 (`high`).

use crate::baseline::{Baseline, Seen};
use crate::context::{canonical, is_local_only, Context};
use crate::dns::DnsStats;
use crate::finding::{Evidence, Kind, Level, NetFinding, Reason};
use crate::periodicity::{periodicity, Periodicity, MIN_CHECKINS};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use tamperscan_flows::model::{Conn, Dns, Http, Proto, Record, Ssl};

/// The share of suspicion-free evidence that still counts.
const BASE: f64 = 0.35;
/// Names remembered per address.
const MAX_NAMES: usize = 4;
/// Sources remembered per destination (for prevalence).
const MAX_SOURCES: usize = 256;
/// Bytes sent to one outside destination from which an upload is worth a look.
const UPLOAD_MIN: u64 = 10 << 20;
/// Check-in times kept per finding for pictures.
const MAX_TIMES: usize = 5_000;

/// Scanner settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Fewest check-ins for a beacon.
    pub min_checkins: usize,
    /// Total connection time from which a pair is a long connection, seconds.
    pub long_connection_s: f64,
    /// Findings scoring below this are dropped (0 keeps everything).
    pub min_score: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            min_checkins: MIN_CHECKINS,
            long_connection_s: 3600.0,
            min_score: 0.2,
        }
    }
}

/// Ports whose service is well known (a beacon on another port is a reason).
pub fn well_known_port(port: u16, proto: Proto) -> bool {
    match proto {
        Proto::Tcp => matches!(
            port,
            20..=23
                | 25
                | 53
                | 80
                | 88
                | 110
                | 123
                | 135
                | 139
                | 143
                | 389
                | 443
                | 445
                | 465
                | 587
                | 636
                | 853
                | 993
                | 995
                | 1433
                | 3306
                | 3389
                | 5432
                | 5900
                | 8080
                | 8443
        ),
        Proto::Udp => matches!(
            port,
            53 | 67
                | 68
                | 123
                | 137
                | 138
                | 161
                | 162
                | 443
                | 500
                | 514
                | 623
                | 1900
                | 3478
                | 4500
                | 5353
                | 5355
        ),
        Proto::Icmp => true,
        Proto::Other(_) => false,
    }
}

/// A fast non-cryptographic hasher for the per-record maps (FxHash's multiply-rotate): the keys
/// are addresses and ports, so no adversary can choose collisions that matter more than any
/// other traffic they could send.
#[derive(Default, Clone, Copy)]
struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            for (w, b) in word.iter_mut().zip(chunk) {
                *w = *b;
            }
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fx>>;
type FxSet<K> = HashSet<K, std::hash::BuildHasherDefault<Fx>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct PairKey {
    src: IpAddr,
    dst: IpAddr,
    dport: u16,
    proto: Proto,
}

#[derive(Debug, Default)]
struct PairAgg {
    times: Vec<f64>,
    count: u64,
    bytes_out: u64,
    bytes_in: u64,
    duration: f64,
    longest: f64,
    first: f64,
    last: f64,
}

impl PairAgg {
    fn add(&mut self, ts: f64, out: u64, inb: u64, duration: f64) {
        self.add_totals(ts, out, inb, duration);
        self.times.push(ts);
    }

    fn add_totals(&mut self, ts: f64, out: u64, inb: u64, duration: f64) {
        if self.count == 0 || ts < self.first {
            self.first = ts;
        }
        let end = ts + duration;
        if end > self.last {
            self.last = end;
        }
        self.count += 1;
        self.bytes_out = self.bytes_out.saturating_add(out);
        self.bytes_in = self.bytes_in.saturating_add(inb);
        self.duration += duration;
        self.longest = self.longest.max(duration);
    }
}

#[derive(Debug, Default)]
struct NameAgg {
    pair: PairAgg,
    dsts: Vec<IpAddr>,
    dport: u16,
    ip_literal: bool,
    proxied: bool,
}

/// Folds records and produces findings.
#[derive(Debug)]
pub struct Scanner {
    ctx: Context,
    options: Options,
    /// Pair to its index in `pair_keys`/`pair_stats`.
    pairs: FxMap<PairKey, u32>,
    pair_keys: Vec<PairKey>,
    /// Per-pair totals (their `times` stay empty: times live in `events`).
    pair_stats: Vec<PairAgg>,
    /// (pair index, start time) of every connection, grouped by pair only at the end: one
    /// allocation for all pairs instead of one per pair.
    events: Vec<(u32, f64)>,
    /// (src, name) from TLS SNI and HTTP Host.
    names: HashMap<(IpAddr, String), NameAgg>,
    /// Address to names it is known by (DNS answers, SNI, Host).
    known_as: HashMap<IpAddr, Vec<String>>,
    dns: DnsStats,
    conns: u64,
    records: u64,
    /// Sources whose DNS lookups (with answers) are visible: only for them does an unnamed
    /// destination mean something.
    dns_clients: HashSet<IpAddr>,
    /// Earlier traffic, for first-seen destinations.
    baseline: Option<Baseline>,
}

impl Scanner {
    /// A scanner with the fleet's context.
    pub fn new(ctx: Context, options: Options) -> Scanner {
        Scanner {
            ctx,
            options,
            pairs: FxMap::default(),
            pair_keys: Vec::new(),
            pair_stats: Vec::new(),
            events: Vec::new(),
            names: HashMap::new(),
            known_as: HashMap::new(),
            dns: DnsStats::default(),
            conns: 0,
            records: 0,
            dns_clients: HashSet::new(),
            baseline: None,
        }
    }

    /// Judges destinations against earlier traffic: a destination no source reached in the
    /// baseline is "first seen" (a reason on every finding about it, and a finding of its own
    /// when a management interface reaches it).
    pub fn set_baseline(&mut self, baseline: Baseline) {
        self.baseline = Some(baseline);
    }

    /// What this scan's sources talked to, as a baseline for later scans (`--write-baseline`).
    pub fn destinations(&self) -> Baseline {
        let mut b = Baseline::default();
        for k in &self.pair_keys {
            b.add_pair(k.src, k.dst);
        }
        for (src, name) in self.names.keys() {
            b.add_name(*src, name);
        }
        for (src, domain) in self.dns.domains.keys() {
            b.add_name(*src, domain);
        }
        let mut first = f64::INFINITY;
        let mut last = f64::NEG_INFINITY;
        for a in self
            .pair_stats
            .iter()
            .chain(self.names.values().map(|n| &n.pair))
        {
            if a.count > 0 {
                first = first.min(a.first);
                last = last.max(a.last);
            }
        }
        if first.is_finite() {
            b.first = first;
            b.last = last;
        }
        b.records = self.records;
        b
    }

    /// Records folded so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Folds one record.
    pub fn add(&mut self, record: &Record) {
        match record {
            Record::Conn(c) => self.add_conn(c),
            Record::Dns(d) => self.add_dns(d),
            Record::Ssl(s) => self.add_ssl(s),
            Record::Http(h) => self.add_http(h),
        }
    }

    /// Folds one connection.
    pub fn add_conn(&mut self, c: &Conn) {
        self.records += 1;
        self.conns += 1;
        let src = canonical(c.src);
        let dst = canonical(c.dst);
        let key = PairKey {
            src,
            dst,
            dport: c.dport,
            proto: c.proto,
        };
        let out = if c.orig_ip_bytes > 0 {
            c.orig_ip_bytes
        } else {
            c.orig_bytes
        };
        let inb = if c.resp_ip_bytes > 0 {
            c.resp_ip_bytes
        } else {
            c.resp_bytes
        };
        let duration = if c.duration.is_finite() && c.duration > 0.0 {
            c.duration
        } else {
            0.0
        };
        let next = self.pair_keys.len();
        let idx = *self.pairs.entry(key).or_insert_with(|| {
            // More than 4 billion pairs would exhaust memory long before this saturates.
            u32::try_from(next).unwrap_or(u32::MAX)
        });
        if idx as usize == next {
            self.pair_keys.push(key);
            self.pair_stats.push(PairAgg::default());
        }
        if let Some(agg) = self.pair_stats.get_mut(idx as usize) {
            agg.add_totals(c.ts, out, inb, duration);
            self.events.push((idx, c.ts));
        }
    }

    fn remember_name(&mut self, ip: IpAddr, name: &str) {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() || name.parse::<IpAddr>().is_ok() {
            return;
        }
        let list = self.known_as.entry(canonical(ip)).or_default();
        if list.len() < MAX_NAMES && !list.contains(&name) {
            list.push(name);
        }
    }

    /// Folds one DNS transaction.
    pub fn add_dns(&mut self, d: &Dns) {
        self.records += 1;
        self.dns
            .add(canonical(d.src), &d.query, d.qtype, d.rcode, d.ts);
        for a in &d.answers {
            if let Ok(ip) = a.trim().parse::<IpAddr>() {
                if self.dns_clients.len() < 1_000_000 {
                    self.dns_clients.insert(canonical(d.src));
                }
                let q = d.query.clone();
                self.remember_name(ip, &q);
            }
        }
    }

    fn add_name(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        dport: u16,
        name: &str,
        ts: f64,
        http: Option<&Http>,
    ) {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() {
            return;
        }
        let ip_literal = name.parse::<IpAddr>().is_ok();
        let connect = http.is_some_and(|h| h.method.as_deref() == Some("CONNECT"));
        // A name seen on the way to one of our own addresses names a proxy, not the far end.
        if !ip_literal && !connect && !self.ctx.is_internal(dst) {
            self.remember_name(dst, &name);
        }
        let agg = self.names.entry((canonical(src), name)).or_default();
        let (out, inb) = http.map_or((0, 0), |h| (h.request_body_len, h.response_body_len));
        agg.pair.add(ts, out, inb, 0.0);
        agg.dport = dport;
        agg.ip_literal = ip_literal;
        let dst = canonical(dst);
        if agg.dsts.len() < 8 && !agg.dsts.contains(&dst) {
            agg.dsts.push(dst);
        }
        if http.is_some_and(|h| h.method.as_deref() == Some("CONNECT")) {
            agg.proxied = true;
        }
    }

    /// Folds one TLS handshake.
    pub fn add_ssl(&mut self, s: &Ssl) {
        self.records += 1;
        if let Some(name) = &s.server_name {
            let name = name.clone();
            self.add_name(s.src, s.dst, s.dport, &name, s.ts, None);
        }
    }

    /// Folds one HTTP request.
    pub fn add_http(&mut self, h: &Http) {
        self.records += 1;
        if let Some(host) = &h.host {
            let host = host.clone();
            self.add_name(h.src, h.dst, h.dport, &host, h.ts, Some(h));
        }
    }

    /// Tests every pair and ranks the findings, most suspicious first.
    pub fn finish(self) -> Vec<NetFinding> {
        let view = View::new(&self);
        let mut findings: Vec<NetFinding> = Vec::new();

        // Name beacons (TLS SNI / HTTP Host), which also cover the address pairs they explain.
        let name_keys: Vec<(&(IpAddr, String), &NameAgg)> = self.names.iter().collect();
        let name_found: Vec<NetFinding> = name_keys
            .par_iter()
            .filter_map(|(key, agg)| view.name_beacon(&key.0, &key.1, agg))
            .collect();
        let mut covered: HashSet<(IpAddr, IpAddr)> = HashSet::new();
        for f in &name_found {
            if f.severity >= Level::Low || f.score >= self.options.min_score {
                if let Ok(src) = f.src.parse::<IpAddr>() {
                    for d in &f.dst_ips {
                        if let Ok(d) = d.parse::<IpAddr>() {
                            covered.insert((src, d));
                        }
                    }
                }
            }
        }
        findings.extend(name_found);

        // Group the connection times by pair (a counting sort) for the pairs that can beacon.
        let min = self.options.min_checkins.max(1) as u64;
        let mut offsets: Vec<usize> = Vec::with_capacity(self.pair_stats.len() + 1);
        let mut total = 0usize;
        for agg in &self.pair_stats {
            offsets.push(total);
            if agg.count >= min {
                total += agg.count as usize;
            }
        }
        offsets.push(total);
        let mut grouped = vec![0f64; total];
        let mut fill = offsets.clone();
        for &(idx, ts) in &self.events {
            let i = idx as usize;
            if self.pair_stats.get(i).is_some_and(|a| a.count >= min) {
                if let Some(pos) = fill.get_mut(i) {
                    if let Some(t) = grouped.get_mut(*pos) {
                        *t = ts;
                    }
                    *pos += 1;
                }
            }
        }
        let pair_found: Vec<Vec<NetFinding>> = (0..self.pair_keys.len())
            .into_par_iter()
            .filter_map(|i| {
                let key = self.pair_keys.get(i)?;
                let agg = self.pair_stats.get(i)?;
                let times = match (offsets.get(i), offsets.get(i + 1)) {
                    (Some(&a), Some(&b)) => grouped.get(a..b).unwrap_or(&[]),
                    _ => &[],
                };
                Some(view.pair_findings(key, agg, times, &covered))
            })
            .collect();
        findings.extend(pair_found.into_iter().flatten());

        for ((src, domain), stats) in &self.dns.domains {
            if let Some(f) = view.tunnel(*src, domain, stats) {
                findings.push(f);
            }
        }
        for (src, nx) in &self.dns.nx {
            if let Some(f) = view.dga(*src, nx) {
                findings.push(f);
            }
        }

        findings.retain(|f| f.score >= self.options.min_score);
        findings.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(
                    b.evidence
                        .log10_p
                        .unwrap_or(0.0)
                        .total_cmp(&a.evidence.log10_p.unwrap_or(0.0))
                        .reverse(),
                )
                .then(b.evidence.connections.cmp(&a.evidence.connections))
                .then(a.src.cmp(&b.src))
                .then(a.dst.cmp(&b.dst))
        });
        findings
    }
}

/// Read-only facts derived once from the aggregates.
struct View<'a> {
    scan: &'a Scanner,
    /// Addresses that are the capture's own hosts although public (half the connections or more).
    sensors: HashSet<IpAddr>,
    /// Destination to the internal sources that reach it.
    sources: FxMap<IpAddr, FxSet<IpAddr>>,
    internal_sources: usize,
    /// Model to its hosts' addresses seen as sources.
    model_sources: HashMap<String, HashSet<IpAddr>>,
}

impl<'a> View<'a> {
    fn new(scan: &'a Scanner) -> View<'a> {
        // Connections per address, to find the monitored hosts of a capture taken on public
        // addresses: any address in half the connections or more.
        let mut seen: FxMap<IpAddr, u64> = FxMap::default();
        for (key, agg) in scan.pair_keys.iter().zip(&scan.pair_stats) {
            *seen.entry(key.src).or_insert(0) += agg.count;
            if key.dst != key.src {
                *seen.entry(key.dst).or_insert(0) += agg.count;
            }
        }
        let sensors = seen
            .into_iter()
            .filter(|(_, n)| *n * 2 >= scan.conns && scan.conns > 0)
            .map(|(ip, _)| ip)
            .collect();
        let mut view = View {
            scan,
            sensors,
            sources: FxMap::default(),
            internal_sources: 0,
            model_sources: HashMap::new(),
        };
        let mut all_sources: FxSet<IpAddr> = FxSet::default();
        for key in &scan.pair_keys {
            if !view.is_ours(key.src) {
                continue;
            }
            all_sources.insert(key.src);
            let set = view.sources.entry(key.dst).or_default();
            if set.len() < MAX_SOURCES {
                set.insert(key.src);
            }
            if let Some(model) = scan.ctx.owner(key.src).and_then(|o| o.model.clone()) {
                view.model_sources.entry(model).or_default().insert(key.src);
            }
        }
        view.internal_sources = all_sources.len();
        view
    }

    fn is_ours(&self, ip: IpAddr) -> bool {
        self.scan.ctx.is_internal(ip) || self.sensors.contains(&ip)
    }

    fn names_of(&self, ip: IpAddr) -> Vec<&str> {
        self.scan
            .known_as
            .get(&ip)
            .map(|v| v.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// Context reasons for traffic from `src` to `dst`.
    fn reasons(
        &self,
        src: IpAddr,
        dst: IpAddr,
        dport: u16,
        proto: Proto,
        names: &[&str],
        ip_literal_host: bool,
    ) -> (Vec<Reason>, bool) {
        let ctx = &self.scan.ctx;
        let mut reasons = Vec::new();
        let external = !self.is_ours(dst);
        let mut allowed_mgmt = false;
        if ctx.is_management(src) {
            match ctx.allowed(dst, names, dport, proto) {
                Some(rule) => {
                    allowed_mgmt = true;
                    reasons.push(Reason {
                        key: "allowed_by_policy",
                        weight: -1.0,
                        text: format!(
                            "the management-plane policy allows it{}",
                            rule.note
                                .as_ref()
                                .map(|n| format!(" ({n})"))
                                .unwrap_or_default()
                        ),
                        counts: None,
                    });
                }
                None if ctx.has_policy() => reasons.push(Reason {
                    key: "outside_policy",
                    weight: 0.9,
                    text: "a management interface talks to a destination its policy does not allow"
                        .into(),
                    counts: None,
                }),
                None => reasons.push(Reason {
                    key: "management_interface",
                    weight: 0.5,
                    text: "the source is a management interface (no policy declared)".into(),
                    counts: None,
                }),
            }
        }
        if external && names.is_empty() && !ip_literal_host && self.scan.dns_clients.contains(&src)
        {
            reasons.push(Reason {
                key: "direct_to_ip",
                weight: 0.35,
                text: "no DNS answer, TLS SNI or HTTP Host names the destination".into(),
                counts: None,
            });
        }
        if ip_literal_host {
            reasons.push(Reason {
                key: "ip_literal_host",
                weight: 0.4,
                text: "the HTTP Host / SNI is a bare IP address".into(),
                counts: None,
            });
        }
        if external && !well_known_port(dport, proto) {
            reasons.push(Reason {
                key: "unusual_port",
                weight: 0.35,
                text: format!(
                    "port {dport}/{} is not a common service port",
                    proto_name(proto)
                ),
                counts: None,
            });
        }
        if let Some(model) = ctx.owner(src).and_then(|o| o.model.as_deref()) {
            if let Some(siblings) = self.model_sources.get(model) {
                let n = siblings.len();
                let talking = siblings
                    .iter()
                    .filter(|s| self.sources.get(&dst).is_some_and(|set| set.contains(s)))
                    .count();
                if n >= 3 && talking * 4 <= n {
                    reasons.push(Reason {
                        key: "rare_among_siblings",
                        weight: 0.5,
                        text: format!("{talking} of {n} {model} hosts talk to it"),
                        counts: Some((talking, n)),
                    });
                }
            }
        }
        if let (Some(b), true) = (&self.scan.baseline, external) {
            match b.seen(src, dst, names) {
                Seen::Never => reasons.push(Reason {
                    key: "first_seen",
                    weight: 0.45,
                    text: format!("no source reached it in {}", b.describe()),
                    counts: None,
                }),
                Seen::ByOthers => reasons.push(Reason {
                    key: "new_for_source",
                    weight: 0.25,
                    text: format!(
                        "other sources reached it in {}, this one did not",
                        b.describe()
                    ),
                    counts: None,
                }),
                Seen::BySource => reasons.push(Reason {
                    key: "seen_in_baseline",
                    weight: -0.3,
                    text: format!("this source reached it in {}", b.describe()),
                    counts: None,
                }),
            }
        }
        let prevalence = self.sources.get(&dst).map_or(0, |s| s.len());
        if external && self.internal_sources >= 5 && prevalence == 1 {
            reasons.push(Reason {
                key: "unique_destination",
                weight: 0.2,
                text: format!(
                    "no other of our {} sources talks to it",
                    self.internal_sources
                ),
                counts: None,
            });
        }
        if prevalence >= 3
            && prevalence * 10 >= self.internal_sources.max(1)
            && !ctx.is_management(src)
        {
            reasons.push(Reason {
                key: "common_destination",
                weight: -0.5,
                text: format!("{prevalence} of our sources talk to it"),
                counts: None,
            });
        }
        (reasons, allowed_mgmt)
    }

    fn pair_findings(
        &self,
        key: &PairKey,
        agg: &PairAgg,
        times: &[f64],
        covered: &HashSet<(IpAddr, IpAddr)>,
    ) -> Vec<NetFinding> {
        let mut out = Vec::new();
        if is_local_only(key.dst) || is_local_only(key.src) {
            return out;
        }
        // Inbound traffic (someone outside calling one of ours) is not ours to beacon.
        if !self.is_ours(key.src) {
            return out;
        }
        let ctx = &self.scan.ctx;
        let min_score = self.scan.options.min_score;
        // The periodicity test first: a beacon can score at most its confidence.
        let periodic = if agg.count as usize >= self.scan.options.min_checkins
            && !covered.contains(&(key.src, key.dst))
        {
            let mut times = times.to_vec();
            times.sort_by(f64::total_cmp);
            periodicity(&times)
                .filter(|p| p.confidence() >= min_score)
                .map(|p| (p, times))
        } else {
            None
        };
        let long = agg.longest >= self.scan.options.long_connection_s && key.proto != Proto::Icmp;
        let upload = agg.bytes_out >= UPLOAD_MIN
            && agg.bytes_out >= 4 * agg.bytes_in
            && !self.is_ours(key.dst);
        let policy_relevant =
            (ctx.has_policy() || self.scan.baseline.is_some()) && ctx.is_management(key.src);
        if periodic.is_none() && !long && !upload && !policy_relevant {
            return out;
        }
        let names = self.names_of(key.dst);
        let (reasons, allowed) =
            self.reasons(key.src, key.dst, key.dport, key.proto, &names, false);
        let fqdn = names.first().map(|s| s.to_string());
        let mut made = false;
        if let Some((p, times)) = periodic {
            let f = self.beacon(
                key.src,
                Some(key.dst),
                fqdn.clone(),
                Some(key.dport),
                key.proto,
                agg,
                &p,
                reasons.clone(),
                allowed,
                times,
            );
            made = f.severity >= Level::Low;
            out.push(f);
        }
        // Long connections, uploads and policy violations share everything but kind, evidence
        // and sentence.
        let plain = |kind: Kind, evidence: f64, summary: String| {
            let score = combine(evidence, &reasons, allowed);
            NetFinding {
                kind,
                src: key.src.to_string(),
                dst: key.dst.to_string(),
                dst_ips: Vec::new(),
                fqdn: fqdn.clone(),
                dport: Some(key.dport),
                proto: proto_name(key.proto),
                score,
                severity: Level::from_score(score),
                host: self.host_of(key.src),
                model: self.model_of(key.src),
                summary,
                reasons: reasons.clone(),
                evidence: self.evidence(agg, None, key.dst),
                times: Vec::new(),
            }
        };
        let shown = display_dst(key.dst, fqdn.as_deref());
        // A single connection open for hours (a tunnel, a reverse shell); many short ones that
        // add up are a beacon's business, not this detector's.
        if long {
            let evidence = (0.5 + (agg.longest / self.scan.options.long_connection_s).log2() / 8.0)
                .clamp(0.0, 1.0);
            out.push(plain(
                Kind::LongConnection,
                evidence,
                format!(
                    "{} held a connection to {shown}:{} open for {:.1} h ({} connections in all)",
                    key.src,
                    key.dport,
                    agg.longest / 3600.0,
                    agg.count
                ),
            ));
            made = true;
        }
        // Exfiltration: at least 10 MiB out to one outside destination, four times what came back.
        if upload {
            let evidence =
                (0.5 + (agg.bytes_out as f64 / UPLOAD_MIN as f64).log2() / 8.0).clamp(0.0, 1.0);
            out.push(plain(
                Kind::LargeUpload,
                evidence,
                format!(
                    "{} sent {:.1} MiB to {shown}:{} and received {:.1} MiB ({} connections)",
                    key.src,
                    agg.bytes_out as f64 / 1048576.0,
                    key.dport,
                    agg.bytes_in as f64 / 1048576.0,
                    agg.count
                ),
            ));
            made = true;
        }
        let has = |k: &str| reasons.iter().any(|r| r.key == k);
        if !made && has("outside_policy") {
            out.push(plain(
                Kind::PolicyViolation,
                0.9,
                format!(
                    "management interface {} reached {shown}:{}/{} outside its policy ({} connections)",
                    key.src,
                    key.dport,
                    proto_name(key.proto),
                    agg.count
                ),
            ));
        } else if !made && !allowed && has("first_seen") && ctx.is_management(key.src) {
            out.push(plain(
                Kind::NewDestination,
                0.7,
                format!(
                    "management interface {} reached {shown}:{}/{}, which no source reached in the baseline ({} connections)",
                    key.src,
                    key.dport,
                    proto_name(key.proto),
                    agg.count
                ),
            ));
        }
        out
    }

    fn name_beacon(&self, src: &IpAddr, name: &str, agg: &NameAgg) -> Option<NetFinding> {
        if (agg.pair.count as usize) < self.scan.options.min_checkins || !self.is_ours(*src) {
            return None;
        }
        let literal: Option<IpAddr> = name.parse().ok();
        if literal.is_some_and(is_local_only) || agg.dsts.iter().any(|d| is_local_only(*d)) {
            return None;
        }
        let mut times = agg.pair.times.clone();
        times.sort_by(f64::total_cmp);
        let p = periodicity(&times)?;
        let dst = agg.dsts.first().copied();
        let ip = dst.unwrap_or(*src);
        let proto = Proto::Tcp;
        let (mut reasons, allowed) = if agg.ip_literal {
            self.reasons(*src, literal.unwrap_or(ip), agg.dport, proto, &[], true)
        } else {
            self.reasons(*src, ip, agg.dport, proto, &[name], false)
        };
        if agg.proxied {
            reasons.push(Reason {
                key: "through_proxy",
                weight: 0.0,
                text: "requests go through an HTTP proxy (CONNECT)".into(),
                counts: None,
            });
        }
        let mut f = self.beacon(
            *src,
            dst,
            Some(name.to_string()),
            Some(agg.dport),
            proto,
            &agg.pair,
            &p,
            reasons,
            allowed,
            times,
        );
        f.dst_ips = agg.dsts.iter().map(ToString::to_string).collect();
        if agg.proxied {
            f.dst = "-".into();
        }
        Some(f)
    }

    #[allow(clippy::too_many_arguments)]
    fn beacon(
        &self,
        src: IpAddr,
        dst: Option<IpAddr>,
        fqdn: Option<String>,
        dport: Option<u16>,
        proto: Proto,
        agg: &PairAgg,
        p: &Periodicity,
        reasons: Vec<Reason>,
        allowed: bool,
        mut times: Vec<f64>,
    ) -> NetFinding {
        let score = combine(p.confidence(), &reasons, allowed);
        let shown = match (dst, fqdn.as_deref()) {
            (Some(d), name) => display_dst(d, name),
            (None, Some(n)) => n.to_string(),
            (None, None) => "-".into(),
        };
        let summary = format!(
            "{src} calls {shown}{} every {} ({} check-ins, {:.0}% on the beat, jitter {:.0}%, p = 1e{:.0})",
            dport.map(|p| format!(":{p}")).unwrap_or_default(),
            human_period(p.period),
            p.checkins,
            100.0 * p.on_beat as f64 / p.gaps.max(1) as f64,
            100.0 * p.jitter,
            p.log10_p
        );
        times.truncate(MAX_TIMES);
        NetFinding {
            kind: Kind::Beacon,
            src: src.to_string(),
            dst: dst.map_or_else(|| "-".to_string(), |d| d.to_string()),
            dst_ips: Vec::new(),
            fqdn,
            dport,
            proto: proto_name(proto),
            score,
            severity: Level::from_score(score),
            host: self.host_of(src),
            model: self.model_of(src),
            summary,
            reasons,
            evidence: self.evidence(agg, Some(p), dst.unwrap_or(src)),
            times,
        }
    }

    fn evidence(&self, agg: &PairAgg, p: Option<&Periodicity>, dst: IpAddr) -> Evidence {
        Evidence {
            connections: agg.count,
            checkins: p.map(|p| p.checkins),
            period_s: p.map(|p| round3(p.period)),
            interval_median_s: p.map(|p| round3(p.gap_median)),
            interval_mad_s: p.map(|p| round3(p.gap_mad)),
            jitter: p.map(|p| round3(p.jitter)),
            on_beat: p.map(|p| round3(p.on_beat as f64 / p.gaps.max(1) as f64)),
            missed_beats: p.map(|p| p.missed_beats),
            log10_p: p.map(|p| round3(p.log10_p)),
            bytes_out: agg.bytes_out,
            bytes_in: agg.bytes_in,
            duration_s: round3(agg.duration),
            longest_s: round3(agg.longest),
            first_seen: agg.first,
            last_seen: agg.last,
            sources_for_destination: self.sources.get(&dst).map_or(0, |s| s.len()),
            ..Evidence::default()
        }
    }

    fn tunnel(
        &self,
        src: IpAddr,
        domain: &str,
        stats: &crate::dns::DomainStats,
    ) -> Option<NetFinding> {
        let evidence = stats.tunnel_score();
        if evidence <= 0.0 {
            return None;
        }
        let mut reasons = vec![Reason {
            key: "encoded_names",
            weight: 0.6,
            text: format!(
                "{} distinct names, {:.0} characters each left of {domain}, {:.2} bits per character",
                stats.distinct,
                stats.mean_subdomain_len(),
                stats.entropy()
            ),
            counts: None,
        }];
        if stats.bulk_types * 2 >= stats.queries {
            reasons.push(Reason {
                key: "bulk_record_types",
                weight: 0.3,
                text: format!(
                    "{} of {} queries ask for NULL/TXT/MX/CNAME-type records",
                    stats.bulk_types, stats.queries
                ),
                counts: None,
            });
        }
        Some(self.dns_finding(
            Kind::DnsTunnel,
            src,
            Some(domain.to_string()),
            evidence,
            reasons,
            format!(
                "{src} asked {} distinct encoded-looking names under {domain} ({} queries)",
                stats.distinct, stats.queries
            ),
            Evidence {
                connections: stats.queries,
                first_seen: stats.first,
                last_seen: stats.last,
                dns_names: Some(stats.distinct),
                dns_mean_length: Some(round3(stats.mean_subdomain_len())),
                dns_entropy: Some(round3(stats.entropy())),
                examples: stats.examples.clone(),
                ..Evidence::default()
            },
        ))
    }

    fn dga(&self, src: IpAddr, nx: &crate::dns::NxStats) -> Option<NetFinding> {
        let evidence = nx.dga_score();
        if evidence <= 0.0 {
            return None;
        }
        let reasons = vec![Reason {
            key: "generated_names",
            weight: 0.6,
            text: format!(
                "{} of {} failed domains look machine-generated (few common letter pairs)",
                nx.random_looking, nx.domains
            ),
            counts: Some((nx.random_looking, nx.domains)),
        }];
        Some(self.dns_finding(
            Kind::Dga,
            src,
            None,
            evidence,
            reasons,
            format!(
                "{src} failed to resolve {} distinct domains ({} random-looking, {} NXDOMAIN answers), as malware does that generates domains until one answers",
                nx.domains, nx.random_looking, nx.queries
            ),
            Evidence {
                connections: nx.queries,
                first_seen: nx.first,
                last_seen: nx.last,
                dns_names: Some(nx.domains),
                examples: nx.examples.clone(),
                ..Evidence::default()
            },
        ))
    }

    /// A finding about what a client asks its resolver (tunnels, DGAs): no destination address,
    /// port 53, raised when the client is a management interface.
    #[allow(clippy::too_many_arguments)]
    fn dns_finding(
        &self,
        kind: Kind,
        src: IpAddr,
        fqdn: Option<String>,
        evidence_score: f64,
        mut reasons: Vec<Reason>,
        summary: String,
        evidence: Evidence,
    ) -> NetFinding {
        if self.scan.ctx.is_management(src) {
            reasons.push(Reason {
                key: "management_interface",
                weight: 0.5,
                text: "the source is a management interface".into(),
                counts: None,
            });
        }
        let score = combine(evidence_score, &reasons, false);
        NetFinding {
            kind,
            src: src.to_string(),
            dst: "-".into(),
            dst_ips: Vec::new(),
            fqdn,
            dport: Some(53),
            proto: "dns".into(),
            score,
            severity: Level::from_score(score),
            host: self.host_of(src),
            model: self.model_of(src),
            summary,
            reasons,
            evidence,
            times: Vec::new(),
        }
    }

    fn host_of(&self, ip: IpAddr) -> Option<String> {
        self.scan.ctx.owner(ip).map(|o| o.host.clone())
    }

    fn model_of(&self, ip: IpAddr) -> Option<String> {
        self.scan.ctx.owner(ip).and_then(|o| o.model.clone())
    }
}

/// `evidence × (BASE + (1 - BASE) × suspicion)`; an allowed management destination keeps a
/// tenth of the evidence.
fn combine(evidence: f64, reasons: &[Reason], allowed: bool) -> f64 {
    let mut keep = 1.0;
    let mut damp = 1.0;
    for r in reasons {
        if r.weight > 0.0 {
            keep *= 1.0 - r.weight.min(1.0);
        } else if r.weight < 0.0 {
            damp *= 1.0 + r.weight.max(-1.0);
        }
    }
    let suspicion = (1.0 - keep) * damp;
    let mut score = evidence * (BASE + (1.0 - BASE) * suspicion);
    if allowed {
        score *= 0.1;
    }
    round3(score.clamp(0.0, 1.0))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn display_dst(dst: IpAddr, name: Option<&str>) -> String {
    match name {
        Some(n) if n != dst.to_string() => format!("{dst} ({n})"),
        _ => dst.to_string(),
    }
}

/// `tcp`, `udp`, `icmp` or the number.
pub fn proto_name(p: Proto) -> String {
    match p {
        Proto::Tcp => "tcp".into(),
        Proto::Udp => "udp".into(),
        Proto::Icmp => "icmp".into(),
        Proto::Other(n) => n.to_string(),
    }
}

/// `42 s`, `5.0 min`, `1.5 h`.
pub fn human_period(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.1} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}
