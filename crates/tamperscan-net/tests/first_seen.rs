//! First-seen destinations against a baseline of earlier traffic, and DGA-like lookups, through
//! the whole scanner.
#![allow(clippy::unwrap_used)] // Tests: a failed setup should stop the test loudly.

use std::net::IpAddr;
use tamperscan_flows::model::{Conn, ConnState, Dns, Proto};
use tamperscan_net::context::{Net, Owner};
use tamperscan_net::{Baseline, Context, Kind, Level, Options, Scanner};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn conn(ts: f64, src: &str, dst: &str, dport: u16) -> Conn {
    Conn {
        ts,
        src: ip(src),
        sport: 40000,
        dst: ip(dst),
        dport,
        proto: Proto::Tcp,
        service: None,
        duration: 0.5,
        orig_bytes: 300,
        resp_bytes: 900,
        orig_ip_bytes: 400,
        resp_ip_bytes: 1000,
        orig_pkts: 5,
        resp_pkts: 5,
        conn_state: ConnState::Sf,
        label: None,
    }
}

/// BMCs 10.9.0.1 to .4 known from the inventory, no policy declared.
fn context() -> Context {
    let mut ctx = Context::default();
    for i in 1..=4 {
        ctx.owners.insert(
            ip(&format!("10.9.0.{i}")),
            Owner {
                host: format!("srv-{i}"),
                model: Some("X11".into()),
                bmc: true,
            },
        );
    }
    ctx
}

/// Yesterday every BMC reached the vendor's update server (by name) and an NTP server.
fn yesterday() -> Baseline {
    let mut b = Baseline::default();
    for i in 1..=4 {
        let src = format!("10.9.0.{i}");
        let mut s = Scanner::new(context(), Options::default());
        s.add_conn(&conn(1_700_000_000.0, &src, "192.0.2.10", 443));
        s.add_conn(&conn(1_700_000_100.0, &src, "192.0.2.123", 123));
        s.add_dns(&Dns {
            ts: 1_700_000_000.0,
            src: ip(&src),
            dst: ip("10.9.0.250"),
            dport: 53,
            proto: Proto::Udp,
            query: "fw.vendor.example.com".into(),
            qtype: 1,
            rcode: Some(0),
            answers: vec!["192.0.2.10".into()],
        });
        b.merge(&s.destinations());
    }
    b
}

#[test]
fn a_bmc_reaching_a_destination_nobody_reached_before_is_raised() {
    let base = yesterday();
    assert_eq!(base.len(), 12);
    let json = base.to_json();
    let base = Baseline::from_json(&json).unwrap();

    let mut s = Scanner::new(context(), Options::default());
    s.set_baseline(base);
    let day = 1_700_086_400.0;
    for i in 1..=4 {
        let src = format!("10.9.0.{i}");
        // The update server moved to a new address behind the same name: not new.
        s.add_dns(&Dns {
            ts: day,
            src: ip(&src),
            dst: ip("10.9.0.250"),
            dport: 53,
            proto: Proto::Udp,
            query: "fw.vendor.example.com".into(),
            qtype: 1,
            rcode: Some(0),
            answers: vec!["192.0.2.77".into()],
        });
        s.add_conn(&conn(day + 1.0, &src, "192.0.2.77", 443));
        s.add_conn(&conn(day + 100.0, &src, "192.0.2.123", 123));
    }
    // srv-3's BMC reaches an address no one reached before, a few times.
    for k in 0..3 {
        s.add_conn(&conn(
            day + 500.0 + 7000.0 * f64::from(k),
            "10.9.0.3",
            "203.0.113.66",
            8443,
        ));
    }
    // srv-4's BMC reaches what srv-1 alone reached yesterday? Nobody did; but a destination
    // other BMCs reached is only "new for this source".
    let findings = s.finish();
    let new: Vec<_> = findings
        .iter()
        .filter(|f| f.kind == Kind::NewDestination)
        .collect();
    assert_eq!(new.len(), 1, "{findings:#?}");
    let f = new[0];
    assert_eq!(f.src, "10.9.0.3");
    assert_eq!(f.dst, "203.0.113.66");
    assert_eq!(f.host.as_deref(), Some("srv-3"));
    assert!(f.severity >= Level::Low, "{f:#?}");
    assert!(f.reasons.iter().any(|r| r.key == "first_seen"));
    // Nothing about the update server or NTP rises to low.
    assert!(findings
        .iter()
        .filter(|f| f.dst != "203.0.113.66")
        .all(|f| f.severity < Level::Low));
}

#[test]
fn under_a_policy_the_violation_says_the_destination_is_new() {
    let mut ctx = context();
    ctx.management.push("10.9.0.0/24".parse::<Net>().unwrap());
    let mut s = Scanner::new(ctx, Options::default());
    s.set_baseline(yesterday());
    s.add_conn(&conn(1_700_090_000.0, "10.9.0.3", "203.0.113.66", 8443));
    for i in 1..=4 {
        for k in 0..3 {
            let t = 1_700_090_000.0 + 600.0 * f64::from(k);
            s.add_conn(&conn(t, &format!("10.9.0.{i}"), "192.0.2.123", 123));
        }
        // Internal background (syslog), so that no outside address is most of the traffic.
        for k in 0..10 {
            let t = 1_700_090_000.0 + 300.0 * f64::from(k);
            s.add_conn(&conn(t, &format!("10.9.0.{i}"), "10.9.0.250", 514));
        }
    }
    let findings = s.finish();
    let new = findings
        .iter()
        .find(|f| f.dst == "203.0.113.66")
        .expect("a finding for the new destination");
    assert_eq!(new.kind, Kind::PolicyViolation);
    assert!(new.reasons.iter().any(|r| r.key == "first_seen"));
    let ntp = findings
        .iter()
        .find(|f| f.dst == "192.0.2.123")
        .expect("the NTP server is outside the (empty) policy too");
    assert!(ntp.reasons.iter().any(|r| r.key == "seen_in_baseline"));
    assert!(ntp.score < new.score, "{ntp:#?}\n{new:#?}");
}

#[test]
fn without_a_baseline_nothing_is_first_seen() {
    let mut s = Scanner::new(context(), Options::default());
    s.add_conn(&conn(1.0, "10.9.0.3", "203.0.113.66", 8443));
    let findings = s.finish();
    assert!(findings.iter().all(|f| f.kind != Kind::NewDestination));
}

#[test]
fn a_bmc_failing_to_resolve_generated_domains_is_a_dga_finding() {
    let mut s = Scanner::new(context(), Options::default());
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for k in 0..80 {
        let name: String = (0..11)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b'a' + u8::try_from(x % 26).unwrap())
            })
            .collect();
        s.add_dns(&Dns {
            ts: 1_700_000_000.0 + f64::from(k) * 30.0,
            src: ip("10.9.0.2"),
            dst: ip("10.9.0.250"),
            dport: 53,
            proto: Proto::Udp,
            query: format!("{name}.net"),
            qtype: 1,
            rcode: Some(3),
            answers: Vec::new(),
        });
    }
    let findings = s.finish();
    let dga: Vec<_> = findings.iter().filter(|f| f.kind == Kind::Dga).collect();
    assert_eq!(dga.len(), 1, "{findings:#?}");
    assert_eq!(dga[0].host.as_deref(), Some("srv-2"));
    assert!(dga[0].severity >= Level::Medium, "{:#?}", dga[0]);
    assert_eq!(dga[0].evidence.dns_names, Some(80));
}
