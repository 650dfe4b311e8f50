//! Small allocation-free parsers for the text values of logs and CSVs.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// Parses an unsigned decimal integer (ASCII digits only, no sign, at most 20 digits).
pub(crate) fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &b in s {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// Parses a port or other 16-bit number.
pub(crate) fn parse_u16(s: &[u8]) -> Option<u16> {
    parse_u64(s).and_then(|v| u16::try_from(v).ok())
}

/// Parses a finite floating-point number (`1596790164.509987`, `1e3`).
pub(crate) fn parse_f64(s: &[u8]) -> Option<f64> {
    // Fast path for the common `digits[.digits]` shape with few enough digits to be exact.
    if let Some(v) = parse_simple_decimal(s) {
        return Some(v);
    }
    let s = std::str::from_utf8(s).ok()?;
    let v: f64 = s.trim().parse().ok()?;
    v.is_finite().then_some(v)
}

/// `digits[.digits]` with at most 18 significant digits, else `None` (the caller falls back).
fn parse_simple_decimal(s: &[u8]) -> Option<f64> {
    const POW10: [f64; 10] = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
    let (int, frac) = match memchr::memchr(b'.', s) {
        Some(i) => (s.get(..i)?, s.get(i + 1..)?),
        None => (s, &b""[..]),
    };
    if int.is_empty() || int.len() > 10 || frac.len() > 9 {
        return None;
    }
    let i = parse_u64(int)?;
    if frac.is_empty() {
        return Some(i as f64);
    }
    let f = parse_u64(frac)?;
    let scale = POW10.get(frac.len())?;
    Some(i as f64 + f as f64 / scale)
}

/// Parses an IPv4 or IPv6 address; IPv4 without allocation.
pub(crate) fn parse_ip(s: &[u8]) -> Option<IpAddr> {
    if let Some(v4) = parse_ipv4(s) {
        return Some(IpAddr::V4(v4));
    }
    if s.len() > 64 {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Dotted-quad IPv4.
fn parse_ipv4(s: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split(|&b| b == b'.');
    for o in &mut octets {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 {
            return None;
        }
        *o = u8::try_from(parse_u64(p)?).ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(Ipv4Addr::from(octets))
}

/// Lower-cased UTF-8 (lossy) copy of `s`.
pub(crate) fn lower_string(s: &[u8]) -> String {
    String::from_utf8_lossy(s).to_lowercase()
}

/// UTF-8 (lossy) copy of `s`.
pub(crate) fn string(s: &[u8]) -> String {
    String::from_utf8_lossy(s).into_owned()
}

/// A host as written in a Host header or CONNECT target: port stripped, lower-cased,
/// brackets of an IPv6 literal removed.
pub(crate) fn host_without_port(s: &[u8]) -> String {
    let s = trim(s);
    if let Some(rest) = s.strip_prefix(b"[") {
        let end = memchr::memchr(b']', rest).unwrap_or(rest.len());
        return lower_string(rest.get(..end).unwrap_or(rest));
    }
    let colons = memchr::memchr_iter(b':', s).count();
    if colons == 1 {
        if let Some(i) = memchr::memchr(b':', s) {
            return lower_string(s.get(..i).unwrap_or(s));
        }
    }
    lower_string(s)
}

/// `s` without leading and trailing ASCII whitespace.
pub(crate) fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or(&[])
}

/// A small cache of shared strings so that repeated `service`/`label` values cost no
/// allocation: the last [`Interner::CAP`] distinct values are kept.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    entries: Vec<(Box<[u8]>, Arc<str>)>,
    next: usize,
}

impl Interner {
    /// How many distinct strings are kept.
    const CAP: usize = 64;

    /// The shared string for `bytes` (lossy UTF-8).
    pub(crate) fn get(&mut self, bytes: &[u8]) -> Arc<str> {
        if let Some((_, s)) = self.entries.iter().find(|(k, _)| &**k == bytes) {
            return Arc::clone(s);
        }
        let s: Arc<str> = Arc::from(String::from_utf8_lossy(bytes).as_ref());
        let entry = (Box::from(bytes), Arc::clone(&s));
        if self.entries.len() < Self::CAP {
            self.entries.push(entry);
        } else if let Some(slot) = self.entries.get_mut(self.next) {
            *slot = entry;
            self.next = (self.next + 1) % Self::CAP;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u16(b"65536"), None);
        assert_eq!(parse_f64(b"1596790164.509987"), Some(1596790164.509987));
        assert_eq!(parse_f64(b"0.000010"), Some(0.00001));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b"inf"), None);
        assert_eq!(parse_f64(b"abc"), None);
    }

    #[test]
    fn addresses_and_hosts() {
        assert_eq!(
            parse_ip(b"10.0.0.1"),
            Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
        );
        assert_eq!(parse_ip(b"10.0.0.256"), None);
        assert!(parse_ip(b"fe80::1").is_some());
        assert_eq!(host_without_port(b"Example.COM:8080"), "example.com");
        assert_eq!(host_without_port(b"[2001:db8::1]:80"), "2001:db8::1");
        assert_eq!(host_without_port(b"2001:db8::1"), "2001:db8::1");
    }

    #[test]
    fn interner_shares() {
        let mut i = Interner::default();
        let a = i.get(b"dns");
        let b = i.get(b"dns");
        assert!(Arc::ptr_eq(&a, &b));
        for n in 0..200u32 {
            let _ = i.get(n.to_string().as_bytes());
        }
        assert_eq!(&*i.get(b"dns"), "dns");
    }
}
