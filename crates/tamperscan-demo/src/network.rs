//! The demo fleet's management-plane traffic: a day of Zeek conn and dns logs in which every
//! BMC does what its policy allows (NTP, DNS, syslog, hourly firmware-update checks to the
//! vendor's named server) while the monitoring collector polls each BMC's Redfish every
//! minute, and one BMC, srv-a-04's, with the implanted firmware, also calls an address outside
//! the policy every five minutes with 20% jitter and a few missed beats. `network/baseline/`
//! holds last week's destinations, which the implant's address is not among.

use crate::{write, DemoError, Planted};
use std::fmt::Write as _;
use std::path::Path;
use tamperscan_net::synth::{Rng, CONN_HEADER};

/// The `[policy]` section the demo's `fleet.toml` carries.
pub(crate) const POLICY: &str = "\n[policy]\n\
# The BMCs live in 198.18.0.0/15; the site services in 10.0.0.0/24.\n\
internal_networks = [\"10.0.0.0/8\", \"198.18.0.0/15\"]\n\
management_networks = [\"198.18.0.0/15\"]\n\
[[policy.allow]]\ndst = \"10.0.0.123\"\ndport = 123\nproto = \"udp\"\nnote = \"site NTP\"\n\
[[policy.allow]]\ndst = \"10.0.0.53\"\ndport = 53\nnote = \"site resolver\"\n\
[[policy.allow]]\ndst = \"10.0.0.10\"\nnote = \"monitoring and syslog collector\"\n\
[[policy.allow]]\ndst = \"*.example-systems.example\"\ndport = 443\nproto = \"tcp\"\nnote = \"vendor firmware updates\"\n";

const START: f64 = 1_767_225_600.0; // 2026-01-01T00:00:00Z
const DAY: f64 = 86_400.0;
const VENDOR: &str = "203.0.113.80";
const VENDOR_NAME: &str = "fw.example-systems.example";
/// Where the implant calls (a documentation address, RFC 5737).
const CALLBACK: &str = "203.0.113.66";

struct Row {
    ts: f64,
    line: String,
}

/// Writes `network/conn.log` and `network/dns.log`; plants the beacon.
pub(crate) fn write_network(
    dir: &Path,
    bmcs: &[(String, String)],
    planted: &mut Vec<Planted>,
) -> Result<(), DemoError> {
    let mut rng = Rng::new(2018);
    let mut conns: Vec<Row> = Vec::new();
    let mut dns: Vec<Row> = Vec::new();
    let mut uid = 0u64;
    #[allow(clippy::too_many_arguments)]
    fn conn(
        rows: &mut Vec<Row>,
        rng: &mut Rng,
        uid: &mut u64,
        ts: f64,
        src: &str,
        dst: &str,
        dport: u16,
        udp: bool,
        service: &str,
        out: u64,
        inb: u64,
    ) {
        *uid += 1;
        let uid = *uid;
        let sport = if udp && dport == 123 {
            123
        } else {
            32768 + rng.below(28000) as u16
        };
        let (proto, history) = if udp {
            ("udp", "Dd")
        } else {
            ("tcp", "ShADadFf")
        };
        let duration = if udp {
            0.002
        } else {
            0.05 + rng.next_f64() * 0.4
        };
        let mut line = String::new();
        let _ = write!(
            line,
            "{ts:.6}\tCd{uid:06x}\t{src}\t{sport}\t{dst}\t{dport}\t{proto}\t{service}\t{duration:.6}\t{out}\t{inb}\tSF\t-\t-\t0\t{history}\t2\t{}\t2\t{}\t-",
            out + 56,
            inb + 56
        );
        rows.push(Row { ts, line });
    }
    for (host, ip) in bmcs {
        // NTP every 1,024 s.
        let mut t = START + rng.next_f64() * 1024.0;
        while t < START + DAY {
            conn(
                &mut conns,
                &mut rng,
                &mut uid,
                t,
                ip,
                "10.0.0.123",
                123,
                true,
                "ntp",
                48,
                48,
            );
            t += 1024.0;
        }
        // The collector polls Redfish every minute.
        let mut t = START + rng.next_f64() * 60.0;
        while t < START + DAY {
            let r0 = u64::from(rng.below(600));
            conn(
                &mut conns,
                &mut rng,
                &mut uid,
                t,
                "10.0.0.10",
                ip,
                443,
                false,
                "ssl",
                620,
                2400 + r0,
            );
            t += 60.0 + rng.next_f64() * 0.5;
        }
        // Syslog now and then.
        let mut t = START + rng.exp(900.0);
        while t < START + DAY {
            let r0 = u64::from(rng.below(200));
            conn(
                &mut conns,
                &mut rng,
                &mut uid,
                t,
                ip,
                "10.0.0.10",
                514,
                true,
                "syslog",
                90 + r0,
                0,
            );
            t += rng.exp(900.0);
        }
        // Hourly firmware-update check: a lookup, then HTTPS to the vendor's server.
        let mut t = START + rng.next_f64() * 3600.0;
        while t < START + DAY {
            conn(
                &mut conns,
                &mut rng,
                &mut uid,
                t,
                ip,
                "10.0.0.53",
                53,
                true,
                "dns",
                44,
                60,
            );
            let mut line = String::new();
            uid += 1;
            let _ = write!(
                line,
                "{t:.6}\tCq{uid:06x}\t{ip}\t{}\t10.0.0.53\t53\tudp\t{}\t{VENDOR_NAME}\t1\tC_INTERNET\t1\tA\t0\tNOERROR\t{VENDOR}",
                32768 + rng.below(28000),
                rng.below(65535)
            );
            dns.push(Row { ts: t, line });
            let r0 = u64::from(rng.below(80));
            let r1 = u64::from(rng.below(200));
            conn(
                &mut conns,
                &mut rng,
                &mut uid,
                t + 0.05,
                ip,
                VENDOR,
                443,
                false,
                "ssl",
                900 + r0,
                3100 + r1,
            );
            t += 3600.0 * (1.0 + 0.02 * (2.0 * rng.next_f64() - 1.0));
        }
        // The implant in srv-a-04's BMC firmware calls home every 5 minutes, 20% jitter.
        if host == "srv-a-04" {
            let mut t = START + 7_200.0 + rng.next_f64() * 300.0;
            while t < START + DAY {
                if rng.next_f64() >= 0.05 {
                    let r0 = u64::from(rng.below(40));
                    let r1 = u64::from(rng.below(900));
                    conn(
                        &mut conns,
                        &mut rng,
                        &mut uid,
                        t,
                        ip,
                        CALLBACK,
                        443,
                        false,
                        "ssl",
                        310 + r0,
                        180 + r1,
                    );
                }
                t += 300.0 * (1.0 + 0.2 * (2.0 * rng.next_f64() - 1.0));
            }
            planted.push(Planted {
                host: host.clone(),
                layer: "network".into(),
                kind: "network.beacon".into(),
                description: format!(
                    "its BMC calls {CALLBACK}:443, outside the management policy, every 5 minutes with 20% jitter"
                ),
            });
        }
    }
    conns.sort_by(|a, b| a.ts.total_cmp(&b.ts));
    dns.sort_by(|a, b| a.ts.total_cmp(&b.ts));
    let mut text = CONN_HEADER.to_string();
    for r in &conns {
        text.push_str(&r.line);
        text.push('\n');
    }
    write(dir, "network/conn.log", text.as_bytes())?;
    // Last week's destinations, as `net scan --write-baseline` leaves them: what every BMC
    // reached before the implant woke up. The implant's address is not in it.
    let mut baseline = tamperscan_net::Baseline::default();
    for (_, ip) in bmcs {
        if let Ok(src) = ip.parse() {
            for dst in ["10.0.0.123", "10.0.0.10", "10.0.0.53", VENDOR] {
                if let Ok(dst) = dst.parse() {
                    baseline.add_pair(src, dst);
                }
            }
            baseline.add_name(src, VENDOR_NAME);
        }
    }
    baseline.first = START - 7.0 * DAY;
    baseline.last = START;
    baseline.records = conns.len() as u64 * 7;
    write(dir, "network/baseline/last-week.json", &baseline.to_json())?;
    let mut text = String::from(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n\
         #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tanswers\n\
         #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tvector[string]\n",
    );
    for r in &dns {
        text.push_str(&r.line);
        text.push('\n');
    }
    write(dir, "network/dns.log", text.as_bytes())
}
