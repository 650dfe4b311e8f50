//! DNS messages (RFC 1035 §4.1): header, the first question, and the answer section's A,
//! AAAA, CNAME/NS/PTR, TXT and NULL records. Names follow compression pointers (§4.1.4) with a
//! bounded number of hops.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Longest name accepted (RFC 1035 §2.3.4: 255 octets).
const MAX_NAME: usize = 255;
/// Most compression pointers followed in one name.
const MAX_HOPS: usize = 128;
/// Most answers decoded.
const MAX_ANSWERS: usize = 64;
/// Most NULL-record bytes rendered (as hex).
const MAX_NULL_HEX: usize = 255;

/// The parts of a DNS message flows need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    /// Transaction id.
    pub(crate) id: u16,
    /// QR bit: a response.
    pub(crate) response: bool,
    /// RCODE.
    pub(crate) rcode: u16,
    /// First question's name, lower-cased, without the trailing dot.
    pub(crate) qname: String,
    /// First question's type.
    pub(crate) qtype: u16,
    /// Answers as text.
    pub(crate) answers: Vec<String>,
}

/// Why a message did not parse (callers only need to know that it did not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotDns;

fn be16(m: &[u8], at: usize) -> Result<u16, NotDns> {
    let hi = *m.get(at).ok_or(NotDns)?;
    let lo = *m.get(at + 1).ok_or(NotDns)?;
    Ok(u16::from_be_bytes([hi, lo]))
}

/// Parses a DNS message; `Err` for anything that is not one (with exactly one question).
pub(crate) fn parse(m: &[u8]) -> Result<Message, NotDns> {
    let id = be16(m, 0)?;
    let flags = be16(m, 2)?;
    let qd = be16(m, 4)?;
    let an = be16(m, 6)?;
    if qd != 1 || (flags >> 11) & 0xf > 5 {
        return Err(NotDns);
    }
    let (qname, mut pos) = name(m, 12)?;
    let qtype = be16(m, pos)?;
    pos += 4;
    let mut answers = Vec::new();
    for _ in 0..usize::from(an).min(MAX_ANSWERS) {
        let (_, p) = name(m, pos)?;
        let rtype = be16(m, p)?;
        let rdlen = usize::from(be16(m, p + 8)?);
        let start = p + 10;
        let rdata = m.get(start..start + rdlen).ok_or(NotDns)?;
        pos = start + rdlen;
        let text = match rtype {
            1 => <[u8; 4]>::try_from(rdata)
                .ok()
                .map(|a| Ipv4Addr::from(a).to_string()),
            28 => <[u8; 16]>::try_from(rdata)
                .ok()
                .map(|a| Ipv6Addr::from(a).to_string()),
            2 | 5 | 12 => Some(name(m, start)?.0),
            16 => Some(txt(rdata)),
            10 => Some(
                rdata
                    .iter()
                    .take(MAX_NULL_HEX)
                    .map(|b| format!("{b:02x}"))
                    .collect(),
            ),
            _ => None,
        };
        answers.extend(text);
    }
    Ok(Message {
        id,
        response: flags & 0x8000 != 0,
        rcode: flags & 0x000f,
        qname,
        qtype,
        answers,
    })
}

/// TXT character-strings, joined with spaces.
fn txt(rdata: &[u8]) -> String {
    let mut out = Vec::new();
    let mut rest = rdata;
    while let Some((&len, tail)) = rest.split_first() {
        let n = usize::from(len).min(tail.len());
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(tail.get(..n).unwrap_or(tail));
        rest = tail.get(n..).unwrap_or(&[]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads the name at `at`; returns it and the offset just after it (in the original place,
/// not after a pointer's target).
fn name(m: &[u8], at: usize) -> Result<(String, usize), NotDns> {
    let mut out: Vec<u8> = Vec::new();
    let mut pos = at;
    let mut end = None;
    let mut hops = 0;
    loop {
        let len = *m.get(pos).ok_or(NotDns)?;
        match len >> 6 {
            0 => {
                if len == 0 {
                    let after = end.unwrap_or(pos + 1);
                    return Ok((String::from_utf8_lossy(&out).to_lowercase(), after));
                }
                let label = m.get(pos + 1..pos + 1 + usize::from(len)).ok_or(NotDns)?;
                if !out.is_empty() {
                    out.push(b'.');
                }
                out.extend_from_slice(label);
                if out.len() > MAX_NAME {
                    return Err(NotDns);
                }
                pos += 1 + usize::from(len);
            }
            3 => {
                hops += 1;
                if hops > MAX_HOPS {
                    return Err(NotDns);
                }
                end.get_or_insert(pos + 2);
                pos = usize::from(be16(m, pos)? & 0x3fff);
            }
            _ => return Err(NotDns),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A one-question message; `answers` are (type, rdata) with a pointer to the question name.
    pub(crate) fn message(
        id: u16,
        response: bool,
        rcode: u16,
        qname: &str,
        qtype: u16,
        answers: &[(u16, &[u8])],
    ) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(id.to_be_bytes());
        v.extend((if response { 0x8180u16 } else { 0x0100 } | rcode).to_be_bytes());
        v.extend(1u16.to_be_bytes());
        v.extend((answers.len() as u16).to_be_bytes());
        v.extend([0u8; 4]);
        for l in qname.split('.') {
            v.push(l.len() as u8);
            v.extend(l.as_bytes());
        }
        v.push(0);
        v.extend(qtype.to_be_bytes());
        v.extend(1u16.to_be_bytes());
        for (t, rd) in answers {
            v.extend([0xc0, 12]);
            v.extend(t.to_be_bytes());
            v.extend(1u16.to_be_bytes());
            v.extend(60u32.to_be_bytes());
            v.extend((rd.len() as u16).to_be_bytes());
            v.extend(*rd);
        }
        v
    }

    #[test]
    fn answers_and_pointers() {
        let m = message(
            7,
            true,
            0,
            "A.Pirate.Sea",
            10,
            &[
                (1, &[1, 2, 3, 4]),
                (16, b"\x02hi\x02yo"),
                (10, &[0xab]),
                (5, &[0xc0, 12]),
            ],
        );
        let p = parse(&m).unwrap();
        assert_eq!((p.id, p.response, p.rcode, p.qtype), (7, true, 0, 10));
        assert_eq!(p.qname, "a.pirate.sea");
        assert_eq!(p.answers, vec!["1.2.3.4", "hi yo", "ab", "a.pirate.sea"]);
        for cut in 0..m.len() {
            let _ = parse(&m[..cut]);
        }
    }

    #[test]
    fn compression_loop_is_rejected() {
        let mut m = message(1, false, 0, "x", 1, &[]);
        // Point the question name at itself.
        m.truncate(12);
        m.extend([0xc0, 12, 0, 1, 0, 1]);
        assert_eq!(parse(&m), Err(NotDns));
        let long = vec!["a".repeat(63); 5].join(".");
        assert_eq!(parse(&message(1, false, 0, &long, 1, &[])), Err(NotDns));
    }
}
