//! The packet-level CSV of the C2-frameworks lab (`c2_frameworks_lab_packets`): one row per IP
//! packet with `ip.proto`, `frame.len`, anonymised `src_ip`/`dst_ip` host indices, TCP flag
//! columns (`is_SYN`, `is_ACK`, `is_FIN`, `is_RST`) and `time_since_last`.
//!
//! Rebuilt into connections through [`crate::flow::FlowAssembler`] with these conventions:
//! - host index `i` becomes the address `10.255.0.i` (indices above 255 are errors);
//! - time is [`Options::csv_epoch`] plus the running sum of `time_since_last`;
//! - ports are not in the CSV: a new TCP connection starts at a row with `is_SYN=1, is_ACK=0`
//!   from host 0, and gets client port `49152 + n % 16384` (n counts connections) and server
//!   port 443 (the lab captures are HTTPS); rows of other protocols use port 0;
//! - IP bytes are `frame.len - 14` (Ethernet framing), payload bytes are IP bytes less 40
//!   (IPv4 + TCP headers without options) or less 28 for UDP.

use std::net::{IpAddr, Ipv4Addr};

use crate::error::{bad_row, Error, Location, Options, ReadStats};
use crate::flow::FlowAssembler;
use crate::model::{Proto, Record};
use crate::packet::{tcp_flags, Decoded};
use crate::text;
use crate::zeek::{MAX_FIELDS, MAX_LINE};

/// The columns the reader needs.
const COLUMNS: [&str; 9] = [
    "ip.proto",
    "frame.len",
    "src_ip",
    "dst_ip",
    "is_SYN",
    "is_ACK",
    "is_FIN",
    "is_RST",
    "time_since_last",
];

/// Whether `bytes` start with this CSV's header line.
pub fn is_packet_csv(bytes: &[u8]) -> bool {
    let head = bytes.get(..bytes.len().min(4096)).unwrap_or(bytes);
    let line = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
    COLUMNS.iter().all(|c| {
        line.split(|&b| b == b',')
            .any(|f| text::trim(f) == c.as_bytes())
    })
}

/// Reads a whole packet CSV held in memory into records (see the module doc for the
/// conventions).
pub fn parse_packet_csv(
    bytes: &[u8],
    options: &Options,
    sink: &mut dyn FnMut(Record),
) -> Result<ReadStats, Error> {
    let mut lines = bytes.split(|&b| b == b'\n');
    let header = text::trim(lines.next().unwrap_or(&[]));
    let names: Vec<&[u8]> = header
        .split(|&b| b == b',')
        .map(text::trim)
        .take(MAX_FIELDS + 1)
        .collect();
    if names.len() > MAX_FIELDS {
        return Err(Error::limit(Location::Line(1), "fields", MAX_FIELDS as u64));
    }
    let mut idx = [0usize; COLUMNS.len()];
    for (slot, want) in idx.iter_mut().zip(COLUMNS) {
        *slot = names
            .iter()
            .position(|n| *n == want.as_bytes())
            .ok_or_else(|| {
                Error::malformed(
                    Location::Line(1),
                    format!("expected a packet CSV header with the column {want}"),
                )
            })?;
    }
    let mut asm = FlowAssembler::new(options);
    let mut stats = ReadStats::default();
    let mut t = options.csv_epoch;
    let mut conn_no: u16 = 0;
    let mut fields: Vec<&[u8]> = Vec::with_capacity(names.len());
    for (i, line) in lines.enumerate() {
        let n = i as u64 + 2;
        let line = text::trim(line);
        if line.is_empty() {
            continue;
        }
        if line.len() > MAX_LINE {
            bad_row(
                options.mode,
                &mut stats,
                Error::limit(Location::Line(n), "line length", MAX_LINE as u64),
            )?;
            continue;
        }
        fields.clear();
        fields.extend(line.split(|&b| b == b',').take(MAX_FIELDS + 1));
        let row = (|| -> Result<[f64; COLUMNS.len()], Error> {
            let mut v = [0f64; COLUMNS.len()];
            for ((slot, &col), name) in v.iter_mut().zip(&idx).zip(COLUMNS) {
                let raw = fields.get(col).copied().unwrap_or(b"");
                *slot = text::parse_f64(raw)
                    .filter(|x| *x >= 0.0)
                    .ok_or_else(|| Error::field(n, name, "a non-negative number", raw))?;
            }
            Ok(v)
        })();
        let v = match row {
            Ok(v) => v,
            Err(e) => {
                bad_row(options.mode, &mut stats, e)?;
                continue;
            }
        };
        let [proto, frame_len, src, dst, syn, ack, fin, rst, dt] = v;
        let host = |x: f64, name: &str| -> Result<IpAddr, Error> {
            u8::try_from(x as u64)
                .ok()
                .filter(|_| x.fract() == 0.0)
                .map(|i| IpAddr::V4(Ipv4Addr::new(10, 255, 0, i)))
                .ok_or_else(|| {
                    Error::field(n, name, "a host index 0-255", x.to_string().as_bytes())
                })
        };
        let (s, d) = match (host(src, "src_ip"), host(dst, "dst_ip")) {
            (Ok(s), Ok(d)) => (s, d),
            (Err(e), _) | (_, Err(e)) => {
                bad_row(options.mode, &mut stats, e)?;
                continue;
            }
        };
        t += dt;
        let flags = (if syn > 0.0 { tcp_flags::SYN } else { 0 })
            | (if ack > 0.0 { tcp_flags::ACK } else { 0 })
            | (if fin > 0.0 { tcp_flags::FIN } else { 0 })
            | (if rst > 0.0 { tcp_flags::RST } else { 0 });
        let proto_num = u8::try_from(proto as u64).unwrap_or(0);
        let ip_len = (frame_len as u64).saturating_sub(14);
        let client_side = src == 0.0;
        let (proto, hdr) = match proto_num {
            6 => (Proto::Tcp, 40),
            17 => (Proto::Udp, 28),
            1 | 58 => (Proto::Icmp, 28),
            p => (Proto::Other(p), 20),
        };
        if proto == Proto::Tcp
            && client_side
            && flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN
        {
            conn_no = conn_no.wrapping_add(1);
        }
        let client_port = 49152 + conn_no % 16384;
        let (sport, dport) = match proto {
            Proto::Tcp if client_side => (client_port, 443),
            Proto::Tcp => (443, client_port),
            _ => (0, 0),
        };
        let dec = Decoded {
            src: s,
            dst: d,
            proto,
            sport,
            dport,
            ip_len,
            payload_len: ip_len.saturating_sub(hdr),
            payload: &[],
            flags,
        };
        asm.push_decoded(t, &dec, sink);
    }
    let mut st = asm.finish(sink);
    st.rows_skipped += stats.rows_skipped;
    st.skip_reasons = stats.skip_reasons;
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ConnState;

    #[test]
    fn rebuilds_connections() {
        let t = b"ip.proto,frame.len,src_ip,dst_ip,c2_label,is_SYN,is_ACK,is_RST,is_FIN,is_PSH,is_URG,time_since_last\n\
6,66,0,1,1,1,0,0,0,0,0,0.0\n6,66,1,0,1,1,1,0,0,0,0,0.001\n6,54,0,1,1,0,1,0,0,0,0,0.001\n6,207,0,1,1,0,1,0,0,1,0,0.002\n\
6,54,0,1,1,0,1,0,1,0,0,0.1\n6,54,1,0,1,0,1,0,1,0,0,0.1\n6,66,0,1,1,1,0,0,0,0,0,5.0\n6,66,x,1,1,1,0,0,0,0,0,5.0\n";
        assert!(is_packet_csv(t));
        let mut out = Vec::new();
        let opts = Options {
            csv_epoch: 1000.0,
            ..Options::default()
        };
        let stats = parse_packet_csv(t, &opts, &mut |r| out.push(r)).unwrap();
        assert_eq!(stats.rows_skipped, 1);
        let conns: Vec<_> = out
            .iter()
            .filter_map(|r| {
                if let Record::Conn(c) = r {
                    Some(c)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(conns.len(), 2);
        assert_eq!(conns[0].ts, 1000.0);
        assert_eq!(conns[0].dst, IpAddr::V4(Ipv4Addr::new(10, 255, 0, 1)));
        assert_eq!(
            (conns[0].dport, conns[0].orig_pkts, conns[0].resp_pkts),
            (443, 4, 2)
        );
        assert_eq!(conns[0].conn_state, ConnState::Sf);
        assert_eq!(conns[0].orig_ip_bytes, 52 + 193 + 40 + 40);
        assert!((conns[1].ts - 1005.204).abs() < 1e-9);
        assert_eq!(conns[1].conn_state, ConnState::S0);
    }
}
