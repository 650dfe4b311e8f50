//! Assembling packets into connections the way Zeek does, plus DNS, TLS SNI and HTTP records
//! from the payloads.
//!
//! - Key: the 5-tuple, whichever direction (ICMP: the address pair).
//! - Originator: the sender of a SYN without ACK (the receiver of a SYN-ACK); otherwise the
//!   first packet's sender, swapped when it sends from a well-known server port and the other
//!   side does not use one.
//! - Zeek's idle timeouts end a connection: TCP 300 s, UDP and ICMP 60 s. A TCP SYN (without
//!   ACK) after a FIN or RST on the same tuple starts a new connection.
//! - Bytes: payload and IP bytes per direction as the headers declare them (Zeek counts TCP
//!   payload by sequence numbers; retransmissions count twice here).
//! - `conn_state`: S0 (no reply), REJ (SYN answered by RST), SF (FIN both ways, or UDP/ICMP
//!   with a reply), RSTO/RSTR (established, then reset), S2/S3 (one FIN), S1 (established,
//!   open), OTH otherwise.
//! - `service`: by content (a DNS message, a TLS ClientHello, an HTTP request), else by port
//!   (53 dns, 123 ntp, 161/162 snmp, 514 syslog, 623/udp ipmi).
//!
//! Conn records come out when a connection ends (timeout, new SYN, eviction, or
//! [`FlowAssembler::finish`]), so they are not in time order. Memory is bounded: at most
//! [`Options::max_flows`] open connections and [`Options::max_pending_dns`] unanswered queries;
//! the least recently active are written out early when full.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use crate::capture::Packet;
use crate::dns_message;
use crate::error::{Options, ReadStats};
use crate::http_request;
use crate::model::{Conn, ConnState, ConnStateOther, Dns, Http, Proto, Record, Ssl};
use crate::packet::{self, tcp_flags, Decoded, NotDecoded};
use crate::tls_client_hello;

/// Zeek's TCP inactivity timeout (s).
const TCP_TIMEOUT: f64 = 300.0;
/// Zeek's UDP and ICMP inactivity timeout (s).
const UDP_TIMEOUT: f64 = 60.0;
/// How often (capture time, s) idle flows are looked for.
const SWEEP_EVERY: f64 = 10.0;
/// Most HTTP requests recorded per connection.
const MAX_HTTP_PER_FLOW: u16 = 1000;

/// Ports a server listens on, for choosing the originator of a flow without a SYN.
fn is_server_port(p: u16) -> bool {
    p < 1024
        || matches!(
            p,
            1433 | 1521 | 1900 | 3306 | 3389 | 5060 | 5353 | 5355 | 5432 | 8080 | 8443
        )
}

/// One endpoint.
type Endpoint = (IpAddr, u16);

/// Direction-free flow key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    proto: Proto,
    lo: Endpoint,
    hi: Endpoint,
}

impl Key {
    fn new(d: &Decoded<'_>) -> Key {
        let (a, b) = match d.proto {
            Proto::Icmp | Proto::Other(_) => ((d.src, 0), (d.dst, 0)),
            _ => ((d.src, d.sport), (d.dst, d.dport)),
        };
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        Key {
            proto: d.proto,
            lo,
            hi,
        }
    }
}

/// One open connection.
#[derive(Debug, Clone)]
struct Flow {
    orig: Endpoint,
    resp: Endpoint,
    proto: Proto,
    first: f64,
    last: f64,
    orig_bytes: u64,
    resp_bytes: u64,
    orig_ip: u64,
    resp_ip: u64,
    orig_pkts: u64,
    resp_pkts: u64,
    syn: bool,
    syn_ack: bool,
    fin_orig: bool,
    fin_resp: bool,
    rst_orig: bool,
    rst_resp: bool,
    client_payload_seen: bool,
    http_requests: u16,
    service: Option<&'static str>,
}

impl Flow {
    fn new(d: &Decoded<'_>, ts: f64) -> Flow {
        let sender = (d.src, d.sport);
        let receiver = (d.dst, d.dport);
        let swap = if d.proto == Proto::Tcp && d.flags & tcp_flags::SYN != 0 {
            d.flags & tcp_flags::ACK != 0
        } else {
            is_server_port(d.sport) && !is_server_port(d.dport)
        };
        let (orig, resp) = if swap {
            (receiver, sender)
        } else {
            (sender, receiver)
        };
        Flow {
            orig,
            resp,
            proto: d.proto,
            first: ts,
            last: ts,
            orig_bytes: 0,
            resp_bytes: 0,
            orig_ip: 0,
            resp_ip: 0,
            orig_pkts: 0,
            resp_pkts: 0,
            syn: false,
            syn_ack: false,
            fin_orig: false,
            fin_resp: false,
            rst_orig: false,
            rst_resp: false,
            client_payload_seen: false,
            http_requests: 0,
            service: None,
        }
    }

    fn timeout(&self) -> f64 {
        if self.proto == Proto::Tcp {
            TCP_TIMEOUT
        } else {
            UDP_TIMEOUT
        }
    }

    fn closed(&self) -> bool {
        (self.fin_orig && self.fin_resp) || self.rst_orig || self.rst_resp
    }

    fn state(&self) -> ConnState {
        if self.proto != Proto::Tcp {
            return if self.resp_pkts == 0 {
                ConnState::S0
            } else {
                ConnState::Sf
            };
        }
        if self.syn && !self.syn_ack {
            if self.rst_resp {
                return ConnState::Rej;
            }
            if self.resp_pkts == 0 {
                return ConnState::S0;
            }
        }
        if !(self.syn && self.syn_ack) {
            return ConnState::Oth;
        }
        match (self.fin_orig, self.fin_resp) {
            (true, true) => ConnState::Sf,
            _ if self.rst_orig => ConnState::Other(ConnStateOther::Rsto),
            _ if self.rst_resp => ConnState::Other(ConnStateOther::Rstr),
            (true, false) => ConnState::Other(ConnStateOther::S2),
            (false, true) => ConnState::Other(ConnStateOther::S3),
            (false, false) => ConnState::S1,
        }
    }

    fn port_service(&self) -> Option<&'static str> {
        let udp = self.proto == Proto::Udp;
        self.service_of_port(self.resp.1, udp)
            .or_else(|| self.service_of_port(self.orig.1, udp))
    }

    fn service_of_port(&self, p: u16, udp: bool) -> Option<&'static str> {
        match p {
            53 | 5353 | 5355 if udp || self.proto == Proto::Tcp => Some("dns"),
            123 if udp => Some("ntp"),
            161 | 162 if udp => Some("snmp"),
            514 if udp => Some("syslog"),
            623 if udp => Some("ipmi"),
            _ => None,
        }
    }

    fn to_conn(&self) -> Conn {
        let service = self
            .service
            .or_else(|| self.port_service())
            .map(Arc::<str>::from);
        Conn {
            ts: self.first,
            src: self.orig.0,
            sport: self.orig.1,
            dst: self.resp.0,
            dport: self.resp.1,
            proto: self.proto,
            service,
            duration: (self.last - self.first).max(0.0),
            orig_bytes: self.orig_bytes,
            resp_bytes: self.resp_bytes,
            orig_ip_bytes: self.orig_ip,
            resp_ip_bytes: self.resp_ip,
            orig_pkts: self.orig_pkts,
            resp_pkts: self.resp_pkts,
            conn_state: self.state(),
            label: None,
        }
    }
}

/// Key of an unanswered DNS query: client, server, transport, transaction id.
type DnsKey = (Endpoint, Endpoint, Proto, u16);

/// An unanswered DNS query.
#[derive(Debug, Clone)]
struct Pending {
    ts: f64,
    query: String,
    qtype: u16,
}

/// Turns packets into [`Record`]s. Push packets in capture order, then call
/// [`FlowAssembler::finish`].
#[derive(Debug)]
pub struct FlowAssembler {
    options: Options,
    flows: HashMap<Key, Flow>,
    pending: HashMap<DnsKey, Pending>,
    last_sweep: f64,
    stats: ReadStats,
}

impl FlowAssembler {
    /// An empty assembler with `options`' bounds.
    pub fn new(options: &Options) -> FlowAssembler {
        FlowAssembler {
            options: options.clone(),
            flows: HashMap::new(),
            pending: HashMap::new(),
            last_sweep: f64::NEG_INFINITY,
            stats: ReadStats::default(),
        }
    }

    /// Adds one packet; records that are complete go to `sink`.
    pub fn push(&mut self, p: &Packet<'_>, sink: &mut dyn FnMut(Record)) {
        let d = match packet::decode(p) {
            Ok(d) => d,
            Err(NotDecoded::Fragment) => {
                self.stats.fragments_skipped += 1;
                return;
            }
            Err(NotDecoded::Other) => {
                self.stats.packets_ignored += 1;
                return;
            }
        };
        self.push_decoded(p.ts, &d, sink);
    }

    /// Adds one already-decoded packet at time `ts`.
    pub(crate) fn push_decoded(&mut self, ts: f64, d: &Decoded<'_>, sink: &mut dyn FnMut(Record)) {
        let d = *d;
        self.stats.rows_read += 1;
        if ts - self.last_sweep >= SWEEP_EVERY || ts < self.last_sweep {
            self.sweep(ts, sink);
        }
        let key = Key::new(&d);
        let syn_only =
            d.proto == Proto::Tcp && d.flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN;
        if let Some(f) = self.flows.get(&key) {
            if ts - f.last > f.timeout() || (syn_only && f.closed()) {
                if let Some(old) = self.flows.remove(&key) {
                    self.emit(Record::Conn(old.to_conn()), sink);
                }
            }
        }
        if !self.flows.contains_key(&key) && self.flows.len() >= self.options.max_flows.max(1) {
            self.evict(sink);
        }
        let flow = self.flows.entry(key).or_insert_with(|| Flow::new(&d, ts));
        flow.last = flow.last.max(ts);
        let from_orig = match d.proto {
            Proto::Icmp | Proto::Other(_) => d.src == flow.orig.0,
            _ => (d.src, d.sport) == flow.orig,
        };
        if from_orig {
            flow.orig_pkts += 1;
            flow.orig_bytes += d.payload_len;
            flow.orig_ip += d.ip_len;
        } else {
            flow.resp_pkts += 1;
            flow.resp_bytes += d.payload_len;
            flow.resp_ip += d.ip_len;
        }
        if d.proto == Proto::Tcp {
            let syn = d.flags & tcp_flags::SYN != 0;
            let ack = d.flags & tcp_flags::ACK != 0;
            if syn && !ack && from_orig {
                flow.syn = true;
            }
            if syn && ack && !from_orig {
                flow.syn_ack = true;
            }
            if d.flags & tcp_flags::FIN != 0 {
                if from_orig {
                    flow.fin_orig = true
                } else {
                    flow.fin_resp = true
                }
            }
            if d.flags & tcp_flags::RST != 0 {
                if from_orig {
                    flow.rst_orig = true
                } else {
                    flow.rst_resp = true
                }
            }
        }
        if d.payload.is_empty() {
            return;
        }
        let (orig, resp) = (flow.orig, flow.resp);
        let mut out: Option<Record> = None;
        let mut dns_msg = None;
        let dns_port = matches!(d.sport, 53 | 5353 | 5355) || matches!(d.dport, 53 | 5353 | 5355);
        if d.proto == Proto::Udp && dns_port {
            dns_msg = dns_message::parse(d.payload).ok();
        } else if d.proto == Proto::Tcp && dns_port {
            // DNS over TCP: a 2-byte length, then the message (whole in this segment only).
            dns_msg = d.payload.get(2..).and_then(|m| dns_message::parse(m).ok());
        } else if d.proto == Proto::Tcp && from_orig {
            let first = !flow.client_payload_seen;
            flow.client_payload_seen = true;
            if first {
                if let Some(sni) = tls_client_hello::client_hello_sni(d.payload) {
                    flow.service = Some("ssl");
                    out = Some(Record::Ssl(Ssl {
                        ts,
                        src: orig.0,
                        sport: orig.1,
                        dst: resp.0,
                        dport: resp.1,
                        server_name: sni,
                    }));
                }
            }
            if out.is_none() && flow.http_requests < MAX_HTTP_PER_FLOW {
                if let Some(r) = http_request::parse(d.payload) {
                    flow.service = Some("http");
                    flow.http_requests += 1;
                    out = Some(Record::Http(Http {
                        ts,
                        src: orig.0,
                        sport: orig.1,
                        dst: resp.0,
                        dport: resp.1,
                        method: Some(r.method),
                        host: r.host,
                        uri: Some(r.uri),
                        user_agent: r.user_agent,
                        request_body_len: 0,
                        response_body_len: 0,
                        label: None,
                    }));
                }
            }
        }
        if let Some(m) = dns_msg {
            flow.service = Some("dns");
            self.dns(&d, ts, m, sink);
        }
        if let Some(r) = out {
            self.emit(r, sink);
        }
    }

    /// Pairs a DNS query with its response.
    fn dns(
        &mut self,
        d: &Decoded<'_>,
        ts: f64,
        m: dns_message::Message,
        sink: &mut dyn FnMut(Record),
    ) {
        let (client, server) = if m.response {
            ((d.dst, d.dport), (d.src, d.sport))
        } else {
            ((d.src, d.sport), (d.dst, d.dport))
        };
        let key = (client, server, d.proto, m.id);
        if !m.response {
            if self.pending.len() >= self.options.max_pending_dns.max(1) {
                self.evict_dns(sink);
            }
            if let Some(old) = self.pending.insert(
                key,
                Pending {
                    ts,
                    query: m.qname,
                    qtype: m.qtype,
                },
            ) {
                // A retransmitted query: the first one goes out unanswered.
                self.emit(Record::Dns(unanswered(&key, old)), sink);
            }
            return;
        }
        let (qts, query, qtype) = match self.pending.remove(&key) {
            Some(p) => (p.ts, p.query, p.qtype),
            None => (ts, m.qname, m.qtype),
        };
        let rec = Dns {
            ts: qts,
            src: client.0,
            dst: server.0,
            dport: server.1,
            proto: d.proto,
            query,
            qtype,
            rcode: Some(m.rcode),
            answers: m.answers,
        };
        self.emit(Record::Dns(rec), sink);
    }

    fn emit(&mut self, r: Record, sink: &mut dyn FnMut(Record)) {
        self.stats.records += 1;
        sink(r);
    }

    /// Writes out flows idle longer than their timeout and queries older than 60 s.
    fn sweep(&mut self, now: f64, sink: &mut dyn FnMut(Record)) {
        self.last_sweep = now;
        let mut n = 0u64;
        self.flows.retain(|_, f| {
            if now - f.last > f.timeout() {
                sink(Record::Conn(f.to_conn()));
                n += 1;
                false
            } else {
                true
            }
        });
        self.pending.retain(|k, p| {
            if now - p.ts > UDP_TIMEOUT {
                sink(Record::Dns(unanswered(k, p.clone())));
                n += 1;
                false
            } else {
                true
            }
        });
        self.stats.records += n;
    }

    /// Writes out the least recently active sixteenth of the flows (at least one).
    fn evict(&mut self, sink: &mut dyn FnMut(Record)) {
        let mut ages: Vec<(f64, Key)> = self.flows.iter().map(|(k, f)| (f.last, *k)).collect();
        let n = (ages.len() / 16).max(1).min(ages.len());
        if n == 0 {
            return;
        }
        ages.select_nth_unstable_by(n - 1, |a, b| a.0.total_cmp(&b.0));
        for (_, k) in ages.iter().take(n) {
            if let Some(f) = self.flows.remove(k) {
                self.stats.flows_evicted += 1;
                self.emit(Record::Conn(f.to_conn()), sink);
            }
        }
    }

    /// Writes out the oldest sixteenth of the pending queries, unanswered.
    fn evict_dns(&mut self, sink: &mut dyn FnMut(Record)) {
        let mut ages: Vec<(f64, DnsKey)> = self.pending.iter().map(|(k, p)| (p.ts, *k)).collect();
        let n = (ages.len() / 16).max(1).min(ages.len());
        if n == 0 {
            return;
        }
        ages.select_nth_unstable_by(n - 1, |a, b| a.0.total_cmp(&b.0));
        for (_, k) in ages.iter().take(n) {
            if let Some(p) = self.pending.remove(k) {
                self.emit(Record::Dns(unanswered(k, p)), sink);
            }
        }
    }

    /// Writes out every open flow and pending query; returns the counts.
    pub fn finish(mut self, sink: &mut dyn FnMut(Record)) -> ReadStats {
        let mut flows: Vec<Flow> = self.flows.drain().map(|(_, f)| f).collect();
        flows.sort_by(|a, b| a.first.total_cmp(&b.first));
        for f in flows {
            self.stats.records += 1;
            sink(Record::Conn(f.to_conn()));
        }
        let mut pending: Vec<(DnsKey, Pending)> = self.pending.drain().collect();
        pending.sort_by(|a, b| a.1.ts.total_cmp(&b.1.ts));
        for (k, p) in pending {
            self.stats.records += 1;
            sink(Record::Dns(unanswered(&k, p)));
        }
        self.stats
    }
}

fn unanswered(k: &DnsKey, p: Pending) -> Dns {
    let (client, server, proto, _) = *k;
    Dns {
        ts: p.ts,
        src: client.0,
        dst: server.0,
        dport: server.1,
        proto,
        query: p.query,
        qtype: p.qtype,
        rcode: None,
        answers: Vec::new(),
    }
}

/// Reads a whole capture held in memory into records. Packets that are not IP, or whose
/// headers are cut short, are counted in [`ReadStats::packets_ignored`].
pub fn parse_capture(
    bytes: &[u8],
    options: &Options,
    sink: &mut dyn FnMut(Record),
) -> Result<ReadStats, crate::Error> {
    let mut a = FlowAssembler::new(options);
    let res = crate::capture::for_each_packet(bytes, |p| a.push(&p, sink));
    match (res, options.mode) {
        (Ok(()), _) => Ok(a.finish(sink)),
        (Err(e), crate::Mode::Strict) => Err(e),
        (Err(e), crate::Mode::Lenient) => {
            // A capture cut short (tcpdump killed) keeps the packets before the cut.
            let mut stats = a.finish(sink);
            stats.skip(&e);
            Ok(stats)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::tests::pcap;
    use crate::packet::tests::{ether_vlan, ipv4_packet};
    use crate::tls_client_hello::tests::client_hello;

    const C: [u8; 4] = [10, 0, 0, 1];
    const S: [u8; 4] = [10, 0, 0, 2];

    fn run(packets: &[(u32, Vec<u8>)]) -> (Vec<Record>, ReadStats) {
        let frames: Vec<(u32, u32, Vec<u8>)> = packets
            .iter()
            .map(|(t, ip)| (*t, 0, ether_vlan(ip)))
            .collect();
        let refs: Vec<(u32, u32, &[u8])> = frames
            .iter()
            .map(|(a, b, c)| (*a, *b, c.as_slice()))
            .collect();
        let bytes = pcap(1, &refs);
        let mut out = Vec::new();
        let stats = parse_capture(
            &bytes,
            &Options {
                mode: crate::Mode::Strict,
                ..Options::default()
            },
            &mut |r| out.push(r),
        )
        .unwrap();
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

    #[test]
    fn tcp_handshake_tls_and_new_syn_after_fin() {
        use tcp_flags::*;
        let ch = client_hello("c2.example");
        let p = vec![
            (1, ipv4_packet(S, C, 6, 443, 40000, SYN | ACK, b"")),
            (1, ipv4_packet(C, S, 6, 40000, 443, SYN, b"")),
            (1, ipv4_packet(S, C, 6, 443, 40000, SYN | ACK, b"")),
            (2, ipv4_packet(C, S, 6, 40000, 443, ACK, &ch)),
            (3, ipv4_packet(C, S, 6, 40000, 443, FIN | ACK, b"")),
            (3, ipv4_packet(S, C, 6, 443, 40000, FIN | ACK, b"")),
            (9, ipv4_packet(C, S, 6, 40000, 443, SYN, b"")),
            (9, ipv4_packet(S, C, 6, 443, 40000, RST | ACK, b"")),
        ];
        let (out, _) = run(&p);
        let ssl: Vec<_> = out
            .iter()
            .filter_map(|r| {
                if let Record::Ssl(s) = r {
                    Some(s)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(ssl.len(), 1);
        assert_eq!(ssl[0].server_name.as_deref(), Some("c2.example"));
        let c = conns(&out);
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].src, c[0].dport), (IpAddr::from(C), 443));
        assert_eq!(c[0].conn_state, ConnState::Sf);
        assert_eq!(c[0].service.as_deref(), Some("ssl"));
        assert_eq!(c[0].orig_bytes, ch.len() as u64);
        assert_eq!((c[0].orig_pkts, c[0].resp_pkts), (3, 3));
        assert_eq!(c[1].conn_state, ConnState::Rej);
    }

    #[test]
    fn udp_dns_pairing_orientation_and_timeout() {
        let q = dns_message::tests::message(9, false, 0, "x.pirate.sea", 10, &[]);
        let a = dns_message::tests::message(9, true, 3, "x.pirate.sea", 10, &[]);
        let p = vec![
            (100, ipv4_packet(S, C, 17, 53, 5555, 0, &a[..0])),
            (101, ipv4_packet(C, S, 17, 5555, 53, 0, &q)),
            (101, ipv4_packet(S, C, 17, 53, 5555, 0, &a)),
            (300, ipv4_packet(C, S, 17, 5555, 53, 0, &q)),
        ];
        let (out, _) = run(&p);
        let dns: Vec<_> = out
            .iter()
            .filter_map(|r| {
                if let Record::Dns(d) = r {
                    Some(d)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(dns.len(), 2);
        assert_eq!(
            (dns[0].qtype, dns[0].rcode, dns[0].ts),
            (10, Some(3), 101.0)
        );
        assert_eq!(dns[1].rcode, None);
        let c = conns(&out);
        assert_eq!(c.len(), 2, "idle timeout splits the flow");
        assert!(c.iter().all(|c| c.src == IpAddr::from(C)
            && c.dport == 53
            && c.service.as_deref() == Some("dns")));
    }

    #[test]
    fn flow_table_is_bounded() {
        let p: Vec<_> = (0..100u16)
            .map(|i| (1, ipv4_packet(C, S, 17, 10000 + i, 9999, 0, b"x")))
            .collect();
        let frames: Vec<(u32, u32, Vec<u8>)> =
            p.iter().map(|(t, ip)| (*t, 0, ether_vlan(ip))).collect();
        let refs: Vec<(u32, u32, &[u8])> = frames
            .iter()
            .map(|(a, b, c)| (*a, *b, c.as_slice()))
            .collect();
        let bytes = pcap(1, &refs);
        let mut n = 0;
        let opts = Options {
            max_flows: 10,
            ..Options::default()
        };
        let stats = parse_capture(&bytes, &opts, &mut |_| n += 1).unwrap();
        assert_eq!(n, 100);
        assert!(stats.flows_evicted >= 90);
    }
}
