//! The records every reader produces: one shape whatever the source (Zeek log, capture).
//!
//! Times are seconds since the Unix epoch as `f64` (Zeek's `time` type). Records are small and
//! mostly `Copy`-like so that ten million of them stream through without one allocation each;
//! the few strings (`service`, names) are shared `Arc<str>` where they repeat.

use std::net::IpAddr;
use std::sync::Arc;

/// Transport protocol of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP or ICMPv6.
    Icmp,
    /// Anything else, by IP protocol number (0 when the source did not say).
    Other(u8),
}

/// Zeek's `conn_state`, or the closest a capture reader can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnState {
    /// S0: attempt seen, no reply.
    S0,
    /// S1: established, not terminated.
    S1,
    /// SF: normal establishment and termination.
    Sf,
    /// REJ: attempt rejected.
    Rej,
    /// S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR: the rarer states, kept by name.
    Other(ConnStateOther),
    /// OTH or not given.
    Oth,
}

/// The rarer Zeek connection states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnStateOther {
    /// S2.
    S2,
    /// S3.
    S3,
    /// RSTO.
    Rsto,
    /// RSTR.
    Rstr,
    /// RSTOS0.
    Rstos0,
    /// RSTRH.
    Rstrh,
    /// SH.
    Sh,
    /// SHR.
    Shr,
}

/// One connection (Zeek `conn.log` row, or a flow assembled from packets).
#[derive(Debug, Clone, PartialEq)]
pub struct Conn {
    /// First packet's time (seconds since the epoch).
    pub ts: f64,
    /// Originator address (`id.orig_h`).
    pub src: IpAddr,
    /// Originator port (`id.orig_p`); ICMP type for ICMP.
    pub sport: u16,
    /// Responder address (`id.resp_h`).
    pub dst: IpAddr,
    /// Responder port (`id.resp_p`); ICMP code for ICMP.
    pub dport: u16,
    /// Transport protocol.
    pub proto: Proto,
    /// Application protocol Zeek detected (`service`), e.g. `dns`, `ssl`, `http`; shared string.
    pub service: Option<Arc<str>>,
    /// Duration in seconds (0 when unset).
    pub duration: f64,
    /// Payload bytes sent by the originator (`orig_bytes`; 0 when unset).
    pub orig_bytes: u64,
    /// Payload bytes sent by the responder (`resp_bytes`).
    pub resp_bytes: u64,
    /// IP-level bytes sent by the originator (`orig_ip_bytes`).
    pub orig_ip_bytes: u64,
    /// IP-level bytes sent by the responder (`resp_ip_bytes`).
    pub resp_ip_bytes: u64,
    /// Packets sent by the originator.
    pub orig_pkts: u64,
    /// Packets sent by the responder.
    pub resp_pkts: u64,
    /// Connection state.
    pub conn_state: ConnState,
    /// A label column when the log carries one (Stratosphere `label`/`detailedlabel`, IoT-23
    /// `label`/`detailed-label`), joined as `label/detailed` when both are present; shared string.
    pub label: Option<Arc<str>>,
}

/// One DNS transaction (Zeek `dns.log` row, or a query/answer pair from a capture).
#[derive(Debug, Clone, PartialEq)]
pub struct Dns {
    /// Query time.
    pub ts: f64,
    /// Client address.
    pub src: IpAddr,
    /// Server address.
    pub dst: IpAddr,
    /// Server port (53 normally).
    pub dport: u16,
    /// Transport.
    pub proto: Proto,
    /// Query name as written (no trailing dot), lower-cased.
    pub query: String,
    /// Query type number (1 A, 28 AAAA, 16 TXT, 10 NULL, ...), 0 when unknown.
    pub qtype: u16,
    /// Response code (0 NOERROR, 3 NXDOMAIN, ...), `None` when no answer was seen.
    pub rcode: Option<u16>,
    /// Answers as text (addresses, names, TXT strings).
    pub answers: Vec<String>,
}

/// One TLS handshake (Zeek `ssl.log` row, or a ClientHello from a capture).
#[derive(Debug, Clone, PartialEq)]
pub struct Ssl {
    /// Handshake time.
    pub ts: f64,
    /// Client address.
    pub src: IpAddr,
    /// Client port.
    pub sport: u16,
    /// Server address.
    pub dst: IpAddr,
    /// Server port.
    pub dport: u16,
    /// Server Name Indication, lower-cased, when sent.
    pub server_name: Option<String>,
}

/// One HTTP request (Zeek `http.log` row, or a request line + Host header from a capture).
#[derive(Debug, Clone, PartialEq)]
pub struct Http {
    /// Request time.
    pub ts: f64,
    /// Client address.
    pub src: IpAddr,
    /// Client port.
    pub sport: u16,
    /// Server address (a proxy's address when the request went through one).
    pub dst: IpAddr,
    /// Server port.
    pub dport: u16,
    /// Method (`GET`, `CONNECT`, ...).
    pub method: Option<String>,
    /// Host header (or the CONNECT target's host), lower-cased, without port.
    pub host: Option<String>,
    /// Request URI.
    pub uri: Option<String>,
    /// User-Agent header.
    pub user_agent: Option<String>,
    /// Request body bytes.
    pub request_body_len: u64,
    /// Response body bytes.
    pub response_body_len: u64,
    /// A label column when the log carries one (as for [`Conn::label`]).
    pub label: Option<Arc<str>>,
}

/// Any record, for readers that yield mixed logs (a directory, a capture).
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A connection.
    Conn(Conn),
    /// A DNS transaction.
    Dns(Dns),
    /// A TLS handshake.
    Ssl(Ssl),
    /// An HTTP request.
    Http(Http),
}
