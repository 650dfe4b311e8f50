//! A generator of realistic Zeek `conn.log` traffic with planted beacons, for benchmarks, the
//! demo and tests. Deterministic for a seed; writes to any `Write` (the caller opens files).
//!
//! The background is what a management network and an office beside it carry:
//! - workstations browsing: sessions at random times, each a burst of connections to
//!   destinations drawn from a Zipf popularity over tens of thousands of addresses, with a DNS
//!   lookup to the resolver first;
//! - benign periodic traffic: every workstation's hourly update check to a handful of vendor
//!   addresses (shared by all), NTP from every BMC to the internal time server every 1,024 s,
//!   and the monitoring collector polling each BMC's Redfish every 60 s;
//! - planted beacons: a source (a BMC or a workstation) calling a rare outside address on a
//!   schedule with jitter and missed beats. Their truth is returned.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    /// Approximate number of rows.
    pub rows: u64,
    /// Workstations.
    pub workstations: u32,
    /// BMCs (management interfaces, in 10.20.0.0/16).
    pub bmcs: u32,
    /// Planted beacons.
    pub beacons: u32,
    /// Hours covered.
    pub hours: u32,
    /// First timestamp.
    pub start: f64,
    /// Seed.
    pub seed: u64,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            rows: 100_000,
            workstations: 200,
            bmcs: 100,
            beacons: 5,
            hours: 24,
            start: 1_767_225_600.0,
            seed: 2018,
        }
    }
}

/// A planted beacon.
#[derive(Debug, Clone, PartialEq)]
pub struct Planted {
    /// Source.
    pub src: IpAddr,
    /// Destination.
    pub dst: IpAddr,
    /// Port.
    pub dport: u16,
    /// Period, seconds.
    pub period: f64,
    /// Relative jitter (uniform ±).
    pub jitter: f64,
    /// Rows written.
    pub rows: u64,
}

/// A deterministic xorshift generator.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded (a zero seed is replaced).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: u32) -> u32 {
        (self.next_f64() * f64::from(n)) as u32 % n.max(1)
    }
    /// Exponential with the given mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.next_f64()).ln()
    }
}

struct Row {
    ts: f64,
    src: Ipv4Addr,
    sport: u16,
    dst: Ipv4Addr,
    dport: u16,
    udp: bool,
    service: &'static str,
    duration: f64,
    out: u64,
    inb: u64,
}

fn workstation(i: u32) -> Ipv4Addr {
    Ipv4Addr::new(10, 1, (i / 250) as u8, (i % 250 + 1) as u8)
}

/// The address of BMC number `i` (10.20.x.y).
pub fn bmc(i: u32) -> Ipv4Addr {
    Ipv4Addr::new(10, 20, (i / 250) as u8, (i % 250 + 1) as u8)
}

fn external(rank: u32) -> Ipv4Addr {
    // Spread popular destinations over public-looking space (never 10/8 etc.).
    let x = rank.wrapping_mul(2_654_435_761);
    Ipv4Addr::new(
        23 + (x >> 24) as u8 % 100,
        (x >> 16) as u8,
        (x >> 8) as u8,
        x as u8 | 1,
    )
}

const RESOLVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 53);
const NTP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 123);
const COLLECTOR: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 10);

/// The header of a Zeek conn.log.
pub const CONN_HEADER: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n";

/// Writes a conn.log of about `cfg.rows` rows; returns the planted beacons.
pub fn write_conn_log(w: &mut impl Write, cfg: &SynthConfig) -> std::io::Result<Vec<Planted>> {
    let mut rng = Rng::new(cfg.seed);
    let span = f64::from(cfg.hours.max(1)) * 3600.0;
    let ws = cfg.workstations.max(1);
    // Fixed periodic background per hour.
    let periodic_per_hour = f64::from(ws) + f64::from(cfg.bmcs) * (3600.0 / 1024.0 + 60.0);
    let budget_per_hour = cfg.rows as f64 / f64::from(cfg.hours.max(1));
    // Browsing fills the rest: a session averages 8 connections plus one DNS lookup each.
    let sessions_per_hour = ((budget_per_hour - periodic_per_hour).max(0.0) / 16.0).max(1.0);

    let mut planted: Vec<Planted> = (0..cfg.beacons)
        .map(|i| {
            let from_bmc = i % 2 == 0 && cfg.bmcs > 0;
            let src = if from_bmc {
                bmc(rng.below(cfg.bmcs))
            } else {
                workstation(rng.below(ws))
            };
            Planted {
                src: IpAddr::V4(src),
                dst: IpAddr::V4(Ipv4Addr::new(
                    185,
                    100 + (i % 50) as u8,
                    rng.below(250) as u8 + 1,
                    rng.below(250) as u8 + 1,
                )),
                dport: if i % 3 == 0 { 8443 } else { 443 },
                period: [60.0, 300.0, 900.0, 120.0, 600.0][i as usize % 5],
                jitter: [0.1, 0.2, 0.3][i as usize % 3],
                rows: 0,
            }
        })
        .collect();
    let mut next_beat: Vec<f64> = planted
        .iter()
        .map(|p| cfg.start + rng.next_f64() * p.period)
        .collect();
    let mut next_update: Vec<f64> = (0..ws)
        .map(|_| cfg.start + rng.next_f64() * 3600.0)
        .collect();
    let mut next_ntp: Vec<f64> = (0..cfg.bmcs)
        .map(|_| cfg.start + rng.next_f64() * 1024.0)
        .collect();
    let mut next_poll: Vec<f64> = (0..cfg.bmcs)
        .map(|_| cfg.start + rng.next_f64() * 60.0)
        .collect();

    w.write_all(CONN_HEADER.as_bytes())?;
    let mut uid: u64 = 0;
    let mut rows: Vec<Row> = Vec::new();
    let mut line = String::with_capacity(256);
    for hour in 0..cfg.hours.max(1) {
        let h0 = cfg.start + f64::from(hour) * 3600.0;
        let h1 = h0 + 3600.0;
        rows.clear();
        // Browsing sessions.
        let sessions = (sessions_per_hour * (0.8 + 0.4 * rng.next_f64())) as u32;
        for _ in 0..sessions {
            let src = workstation(rng.below(ws));
            let mut t = h0 + rng.next_f64() * 3600.0;
            let n = 1 + rng.below(15);
            for _ in 0..n {
                // Zipf-like: rank = floor(50000^u) favours small ranks.
                let rank = 50_000f64.powf(rng.next_f64()) as u32;
                let dst = external(rank);
                rows.push(Row {
                    ts: t,
                    src,
                    sport: 49152 + rng.below(16000) as u16,
                    dst: RESOLVER,
                    dport: 53,
                    udp: true,
                    service: "dns",
                    duration: 0.01 + rng.next_f64() * 0.05,
                    out: 40 + u64::from(rng.below(30)),
                    inb: 80 + u64::from(rng.below(200)),
                });
                let https = rng.next_f64() < 0.85;
                rows.push(Row {
                    ts: t + 0.02,
                    src,
                    sport: 49152 + rng.below(16000) as u16,
                    dst,
                    dport: if https { 443 } else { 80 },
                    udp: false,
                    service: if https { "ssl" } else { "http" },
                    duration: rng.exp(8.0),
                    out: 300 + u64::from(rng.below(3000)),
                    inb: 1000 + (rng.exp(40_000.0) as u64),
                });
                t += 0.1 + rng.exp(4.0);
            }
        }
        // Hourly update checks to one of five vendor addresses.
        for (i, next) in next_update.iter_mut().enumerate() {
            while *next < h1 {
                let src = workstation(i as u32);
                rows.push(Row {
                    ts: *next,
                    src,
                    sport: 49152 + rng.below(16000) as u16,
                    dst: external(i as u32 % 5),
                    dport: 443,
                    udp: false,
                    service: "ssl",
                    duration: 0.4 + rng.next_f64(),
                    out: 900 + u64::from(rng.below(50)),
                    inb: 4200 + u64::from(rng.below(300)),
                });
                *next += 3600.0 * (1.0 + 0.02 * (2.0 * rng.next_f64() - 1.0));
            }
        }
        for (i, next) in next_ntp.iter_mut().enumerate() {
            while *next < h1 {
                rows.push(Row {
                    ts: *next,
                    src: bmc(i as u32),
                    sport: 123,
                    dst: NTP,
                    dport: 123,
                    udp: true,
                    service: "ntp",
                    duration: 0.001,
                    out: 48,
                    inb: 48,
                });
                *next += 1024.0;
            }
        }
        for (i, next) in next_poll.iter_mut().enumerate() {
            while *next < h1 {
                rows.push(Row {
                    ts: *next,
                    src: COLLECTOR,
                    sport: 49152 + rng.below(16000) as u16,
                    dst: bmc(i as u32),
                    dport: 443,
                    udp: false,
                    service: "ssl",
                    duration: 0.2 + 0.1 * rng.next_f64(),
                    out: 700,
                    inb: 2600 + u64::from(rng.below(400)),
                });
                *next += 60.0 + rng.next_f64();
            }
        }
        for (p, next) in planted.iter_mut().zip(next_beat.iter_mut()) {
            while *next < h1 {
                if rng.next_f64() >= 0.1 {
                    let (IpAddr::V4(src), IpAddr::V4(dst)) = (p.src, p.dst) else {
                        break;
                    };
                    rows.push(Row {
                        ts: *next,
                        src,
                        sport: 49152 + rng.below(16000) as u16,
                        dst,
                        dport: p.dport,
                        udp: false,
                        service: "ssl",
                        duration: 0.3 + 0.2 * rng.next_f64(),
                        out: 400 + u64::from(rng.below(120)),
                        inb: 300 + u64::from(rng.below(2000)),
                    });
                    p.rows += 1;
                }
                *next += p.period * (1.0 + p.jitter * (2.0 * rng.next_f64() - 1.0));
            }
        }
        rows.retain(|r| r.ts < h1 && r.ts - cfg.start < span);
        rows.sort_by(|a, b| a.ts.total_cmp(&b.ts));
        for r in &rows {
            uid += 1;
            line.clear();
            use std::fmt::Write as _;
            let (proto, state, history) = if r.udp {
                ("udp", "SF", "Dd")
            } else {
                ("tcp", "SF", "ShADadFf")
            };
            let (op, rp) = (r.out / 500 + 2, r.inb / 1200 + 2);
            let _ = writeln!(
                line,
                "{:.6}\tC{uid:x}\t{}\t{}\t{}\t{}\t{proto}\t{}\t{:.6}\t{}\t{}\t{state}\t-\t-\t0\t{history}\t{op}\t{}\t{rp}\t{}\t-",
                r.ts, r.src, r.sport, r.dst, r.dport, r.service, r.duration, r.out, r.inb,
                r.out + 40 * op, r.inb + 40 * rp
            );
            w.write_all(line.as_bytes())?;
        }
    }
    w.write_all(b"#close\t2026-01-02-00-00-00\n")?;
    Ok(planted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_about_the_requested_rows_with_truth() {
        let cfg = SynthConfig {
            rows: 20_000,
            beacons: 3,
            bmcs: 5,
            workstations: 50,
            ..SynthConfig::default()
        };
        let mut out = Vec::new();
        let planted = write_conn_log(&mut out, &cfg).unwrap();
        let text = String::from_utf8(out).unwrap();
        let rows = text.lines().filter(|l| !l.starts_with('#')).count() as f64;
        assert!((rows / 20_000.0 - 1.0).abs() < 0.25, "{rows}");
        assert_eq!(planted.len(), 3);
        assert!(planted.iter().all(|p| p.rows > 50), "{planted:?}");
        let first = planted.first().unwrap();
        assert!(text.contains(&format!("\t{}\t", first.dst)));
    }
}
