//! Link, network and transport headers of one captured packet, down to the transport payload.
//!
//! Link types: Ethernet (IEEE 802.3, with stacked 802.1Q/802.1ad tags), raw IP, Linux SLL and
//! SLL2, BSD loopback. IPv4 (RFC 791; non-first fragments are reported, not decoded), IPv6
//! (RFC 8200; extension headers skipped), TCP (RFC 9293), UDP (RFC 768), ICMP/ICMPv6.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::capture::{LinkType, Packet};
use crate::model::Proto;

/// Most VLAN tags or IPv6 extension headers walked.
const MAX_NESTING: usize = 8;

/// TCP flag bits.
pub(crate) mod tcp_flags {
    /// FIN.
    pub(crate) const FIN: u8 = 0x01;
    /// SYN.
    pub(crate) const SYN: u8 = 0x02;
    /// RST.
    pub(crate) const RST: u8 = 0x04;
    /// ACK.
    pub(crate) const ACK: u8 = 0x10;
}

/// A packet decoded down to its transport payload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Decoded<'a> {
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
    pub(crate) proto: Proto,
    /// Source port; ICMP type.
    pub(crate) sport: u16,
    /// Destination port; ICMP code.
    pub(crate) dport: u16,
    /// IP bytes (header included) as the IP header declares.
    pub(crate) ip_len: u64,
    /// Transport payload length as the headers declare.
    pub(crate) payload_len: u64,
    /// The captured part of the transport payload.
    pub(crate) payload: &'a [u8],
    /// TCP flags (0 for other protocols).
    pub(crate) flags: u8,
}

/// Why a packet gave no flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotDecoded {
    /// A non-first IP fragment.
    Fragment,
    /// Not IP, an unknown link type, or headers cut short.
    Other,
}

/// Decodes a packet down to its transport payload.
pub(crate) fn decode<'a>(p: &Packet<'a>) -> Result<Decoded<'a>, NotDecoded> {
    let d = p.data;
    let (ethertype, ip) = match p.link_type {
        LinkType::ETHERNET => {
            let et = be16(d, 12)?;
            skip_vlans(et, d.get(14..).ok_or(NotDecoded::Other)?)?
        }
        LinkType::RAW | LinkType::IPV4 | LinkType::IPV6 => match d.first().map(|b| b >> 4) {
            Some(4) => (0x0800, d),
            Some(6) => (0x86dd, d),
            _ => return Err(NotDecoded::Other),
        },
        LinkType::LINUX_SLL => skip_vlans(be16(d, 14)?, d.get(16..).ok_or(NotDecoded::Other)?)?,
        LinkType::LINUX_SLL2 => skip_vlans(be16(d, 0)?, d.get(20..).ok_or(NotDecoded::Other)?)?,
        LinkType::NULL => {
            let fam = d.get(..4).ok_or(NotDecoded::Other)?;
            // The family is in the capturing host's byte order; the values fit one byte.
            let f = fam.iter().copied().find(|&b| b != 0).unwrap_or(0);
            let rest = d.get(4..).ok_or(NotDecoded::Other)?;
            match f {
                2 => (0x0800, rest),
                24 | 28 | 30 => (0x86dd, rest),
                _ => return Err(NotDecoded::Other),
            }
        }
        _ => return Err(NotDecoded::Other),
    };
    match ethertype {
        0x0800 => ipv4(ip),
        0x86dd => ipv6(ip),
        _ => Err(NotDecoded::Other),
    }
}

fn be16(d: &[u8], at: usize) -> Result<u16, NotDecoded> {
    let b = d.get(at..at + 2).ok_or(NotDecoded::Other)?;
    Ok(u16::from_be_bytes([
        *b.first().ok_or(NotDecoded::Other)?,
        *b.get(1).ok_or(NotDecoded::Other)?,
    ]))
}

/// Walks stacked 802.1Q (0x8100), 802.1ad (0x88a8) and old QinQ (0x9100) tags.
fn skip_vlans(mut et: u16, mut rest: &[u8]) -> Result<(u16, &[u8]), NotDecoded> {
    for _ in 0..MAX_NESTING {
        if !matches!(et, 0x8100 | 0x88a8 | 0x9100) {
            return Ok((et, rest));
        }
        et = be16(rest, 2)?;
        rest = rest.get(4..).ok_or(NotDecoded::Other)?;
    }
    Err(NotDecoded::Other)
}

fn ipv4(ip: &[u8]) -> Result<Decoded<'_>, NotDecoded> {
    let vihl = *ip.first().ok_or(NotDecoded::Other)?;
    let ihl = usize::from(vihl & 0x0f) * 4;
    if vihl >> 4 != 4 || ihl < 20 {
        return Err(NotDecoded::Other);
    }
    let total = usize::from(be16(ip, 2)?);
    let frag = be16(ip, 6)?;
    let proto = *ip.get(9).ok_or(NotDecoded::Other)?;
    let src = Ipv4Addr::from(
        <[u8; 4]>::try_from(ip.get(12..16).ok_or(NotDecoded::Other)?)
            .map_err(|_| NotDecoded::Other)?,
    );
    let dst = Ipv4Addr::from(
        <[u8; 4]>::try_from(ip.get(16..20).ok_or(NotDecoded::Other)?)
            .map_err(|_| NotDecoded::Other)?,
    );
    if frag & 0x1fff != 0 {
        return Err(NotDecoded::Fragment);
    }
    // A zero total length happens with TSO captures; trust the captured length then.
    let total = if total == 0 { ip.len() } else { total };
    let body_len = total.checked_sub(ihl).ok_or(NotDecoded::Other)?;
    let body = ip.get(ihl..).unwrap_or(&[]);
    let body = body.get(..body_len.min(body.len())).unwrap_or(body);
    transport(
        IpAddr::V4(src),
        IpAddr::V4(dst),
        proto,
        total as u64,
        body_len as u64,
        body,
    )
}

fn ipv6(ip: &[u8]) -> Result<Decoded<'_>, NotDecoded> {
    if ip.first().map(|b| b >> 4) != Some(6) {
        return Err(NotDecoded::Other);
    }
    let plen = usize::from(be16(ip, 4)?);
    let mut next = *ip.get(6).ok_or(NotDecoded::Other)?;
    let src = Ipv6Addr::from(
        <[u8; 16]>::try_from(ip.get(8..24).ok_or(NotDecoded::Other)?)
            .map_err(|_| NotDecoded::Other)?,
    );
    let dst = Ipv6Addr::from(
        <[u8; 16]>::try_from(ip.get(24..40).ok_or(NotDecoded::Other)?)
            .map_err(|_| NotDecoded::Other)?,
    );
    let mut rest = ip.get(40..).unwrap_or(&[]);
    rest = rest.get(..plen.min(rest.len())).unwrap_or(rest);
    let mut body_len = plen;
    for _ in 0..MAX_NESTING {
        let hdr_len = match next {
            0 | 43 | 60 => (usize::from(*rest.get(1).ok_or(NotDecoded::Other)?) + 1) * 8,
            51 => (usize::from(*rest.get(1).ok_or(NotDecoded::Other)?) + 2) * 4,
            44 => {
                if be16(rest, 2)? & 0xfff8 != 0 {
                    return Err(NotDecoded::Fragment);
                }
                8
            }
            _ => {
                return transport(
                    IpAddr::V6(src),
                    IpAddr::V6(dst),
                    next,
                    40 + plen as u64,
                    body_len as u64,
                    rest,
                );
            }
        };
        next = *rest.first().ok_or(NotDecoded::Other)?;
        rest = rest.get(hdr_len..).ok_or(NotDecoded::Other)?;
        body_len = body_len.checked_sub(hdr_len).ok_or(NotDecoded::Other)?;
    }
    Err(NotDecoded::Other)
}

fn transport<'a>(
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    ip_len: u64,
    body_len: u64,
    body: &'a [u8],
) -> Result<Decoded<'a>, NotDecoded> {
    let mut d = Decoded {
        src,
        dst,
        proto: Proto::Other(proto),
        sport: 0,
        dport: 0,
        ip_len,
        payload_len: 0,
        payload: &[],
        flags: 0,
    };
    match proto {
        6 => {
            d.proto = Proto::Tcp;
            d.sport = be16(body, 0)?;
            d.dport = be16(body, 2)?;
            let off = usize::from(*body.get(12).ok_or(NotDecoded::Other)? >> 4) * 4;
            if off < 20 {
                return Err(NotDecoded::Other);
            }
            d.flags = *body.get(13).ok_or(NotDecoded::Other)?;
            d.payload_len = body_len.saturating_sub(off as u64);
            d.payload = body.get(off..).unwrap_or(&[]);
        }
        17 => {
            d.proto = Proto::Udp;
            d.sport = be16(body, 0)?;
            d.dport = be16(body, 2)?;
            d.payload_len = u64::from(be16(body, 4)?)
                .saturating_sub(8)
                .min(body_len.saturating_sub(8));
            d.payload = body.get(8..).unwrap_or(&[]);
        }
        1 | 58 => {
            d.proto = Proto::Icmp;
            d.sport = u16::from(*body.first().ok_or(NotDecoded::Other)?);
            d.dport = u16::from(*body.get(1).ok_or(NotDecoded::Other)?);
            d.payload_len = body_len.saturating_sub(8);
            d.payload = body.get(8..).unwrap_or(&[]);
        }
        _ => d.payload_len = body_len,
    }
    let n = usize::try_from(d.payload_len)
        .unwrap_or(usize::MAX)
        .min(d.payload.len());
    d.payload = d.payload.get(..n).unwrap_or(d.payload);
    Ok(d)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An IPv4 packet with a TCP or UDP header and payload.
    pub(crate) fn ipv4_packet(
        src: [u8; 4],
        dst: [u8; 4],
        proto: u8,
        sport: u16,
        dport: u16,
        flags: u8,
        payload: &[u8],
    ) -> Vec<u8> {
        let l4 = match proto {
            6 => {
                let mut t = Vec::new();
                t.extend(sport.to_be_bytes());
                t.extend(dport.to_be_bytes());
                t.extend([0u8; 8]);
                t.push(5 << 4);
                t.push(flags);
                t.extend([0u8; 6]);
                t
            }
            _ => {
                let mut u = Vec::new();
                u.extend(sport.to_be_bytes());
                u.extend(dport.to_be_bytes());
                u.extend(((8 + payload.len()) as u16).to_be_bytes());
                u.extend([0u8; 2]);
                u
            }
        };
        let total = (20 + l4.len() + payload.len()) as u16;
        let mut v = vec![0x45, 0];
        v.extend(total.to_be_bytes());
        v.extend([0, 0, 0, 0, 64, proto, 0, 0]);
        v.extend(src);
        v.extend(dst);
        v.extend(l4);
        v.extend(payload);
        v
    }

    /// Ethernet framing with one 802.1Q tag.
    pub(crate) fn ether_vlan(ip: &[u8]) -> Vec<u8> {
        let mut v = vec![0u8; 12];
        v.extend([0x81, 0x00, 0x00, 0x05, 0x08, 0x00]);
        v.extend(ip);
        v
    }

    #[test]
    fn vlan_tcp_and_fragments() {
        let ip = ipv4_packet(
            [10, 0, 0, 1],
            [10, 0, 0, 2],
            6,
            1234,
            443,
            tcp_flags::SYN,
            b"xy",
        );
        let frame = ether_vlan(&ip);
        let p = Packet {
            ts: 0.0,
            link_type: LinkType::ETHERNET,
            data: &frame,
            orig_len: 0,
        };
        let d = decode(&p).unwrap();
        assert_eq!(
            (d.sport, d.dport, d.flags, d.payload, d.ip_len),
            (1234, 443, tcp_flags::SYN, &b"xy"[..], 42)
        );
        let mut frag = ip.clone();
        frag[6] = 0x00;
        frag[7] = 0x10;
        let p = Packet {
            ts: 0.0,
            link_type: LinkType::RAW,
            data: &frag,
            orig_len: 0,
        };
        assert_eq!(decode(&p), Err(NotDecoded::Fragment));
        for cut in 0..frame.len() {
            let p = Packet {
                ts: 0.0,
                link_type: LinkType::ETHERNET,
                data: &frame[..cut],
                orig_len: 0,
            };
            let _ = decode(&p);
        }
    }
}
