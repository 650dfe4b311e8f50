//! DNS tunnels and DGA-like lookups, from query names alone.
//!
//! A tunnel carries data in the names it asks for: many distinct, long, high-entropy labels
//! under one domain, often with record types that carry bulk answers (NULL, TXT). Browsing asks
//! for a few dozen names per domain, short and word-like. We measure per (client, domain):
//! distinct names `U`, mean length `L` of the part left of the domain, and the character
//! entropy `H` (bits per character) of all those parts together. `L·H` estimates the bits a
//! name carries; the score rises with the number of distinct names and with bits per name.
//!
//! The domain of a name is its last two labels, or three when the second-to-last is a common
//! second-level label under a two-letter country code (`co.uk`, `com.au`): an approximation of
//! the Public Suffix List that is right for the domains tunnels use.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

/// Distinct names tracked per (client, domain); beyond it only counts grow.
const MAX_TRACKED: usize = 50_000;

/// The registrable domain of a query name (lower-case, no trailing dot).
pub fn base_domain(name: &str) -> &str {
    let name = name.trim_end_matches('.');
    let labels: Vec<usize> = name
        .char_indices()
        .filter(|&(_, c)| c == '.')
        .map(|(i, _)| i)
        .collect();
    let n = labels.len();
    if n < 2 {
        return name;
    }
    // Dots from the right: the last two labels start after labels[n-2].
    let two = labels.get(n - 2).map_or(0, |i| i + 1);
    let tld = name
        .get(labels.get(n - 1).map_or(0, |i| i + 1)..)
        .unwrap_or("");
    let second = name
        .get(two..labels.get(n - 1).copied().unwrap_or(0))
        .unwrap_or("");
    let common_sld = matches!(
        second,
        "co" | "com" | "net" | "org" | "gov" | "edu" | "ac" | "ne" | "or"
    );
    if tld.len() == 2 && common_sld && n >= 3 {
        let three = labels.get(n - 3).map_or(0, |i| i + 1);
        return name.get(three..).unwrap_or(name);
    }
    name.get(two..).unwrap_or(name)
}

/// What was asked under one domain by one client.
#[derive(Debug, Clone, Default)]
pub struct DomainStats {
    /// Queries.
    pub queries: u64,
    /// Distinct full names (exact up to [`MAX_TRACKED`], then a lower bound).
    pub distinct: usize,
    names: HashSet<String>,
    subdomain_chars: u64,
    char_counts: HashMap<char, u64>,
    /// Queries of types that carry bulk data (NULL, TXT, ANY, MX, CNAME, SRV, PRIVATE).
    pub bulk_types: u64,
    /// Queries answered NXDOMAIN.
    pub nxdomain: u64,
    /// First and last query time.
    pub first: f64,
    /// Last query time.
    pub last: f64,
    /// A few example names.
    pub examples: Vec<String>,
}

impl DomainStats {
    /// Adds one query.
    pub fn add(&mut self, name: &str, domain: &str, qtype: u16, rcode: Option<u16>, ts: f64) {
        if self.queries == 0 || ts < self.first {
            self.first = ts;
        }
        if ts > self.last {
            self.last = ts;
        }
        self.queries += 1;
        if matches!(qtype, 10 | 16 | 255 | 15 | 5 | 33 | 65399) {
            self.bulk_types += 1;
        }
        if rcode == Some(3) {
            self.nxdomain += 1;
        }
        if self.names.len() >= MAX_TRACKED || self.names.contains(name) {
            return;
        }
        self.names.insert(name.to_string());
        self.distinct = self.names.len();
        if self.examples.len() < 3 {
            self.examples.push(name.to_string());
        }
        let sub = name
            .strip_suffix(domain)
            .unwrap_or("")
            .trim_end_matches('.');
        for c in sub.chars().filter(|c| *c != '.') {
            self.subdomain_chars += 1;
            *self.char_counts.entry(c.to_ascii_lowercase()).or_insert(0) += 1;
        }
    }

    /// Mean length of the part left of the domain, per distinct name (dots excluded).
    pub fn mean_subdomain_len(&self) -> f64 {
        if self.distinct == 0 {
            return 0.0;
        }
        self.subdomain_chars as f64 / self.distinct as f64
    }

    /// Shannon entropy (bits per character) of the subdomain characters.
    pub fn entropy(&self) -> f64 {
        let total = self.subdomain_chars as f64;
        if total == 0.0 {
            return 0.0;
        }
        self.char_counts
            .values()
            .map(|&c| {
                let p = c as f64 / total;
                -p * p.log2()
            })
            .sum()
    }

    /// Tunnel score in [0, 1]: `(1 - e^(-U/50))` times how far bits per name exceed what a
    /// word-like hostname carries (40 bits: ~10 characters at 4 bits), saturating at 200 bits;
    /// bulk record types alone count as 0.8 of that.
    pub fn tunnel_score(&self) -> f64 {
        if self.distinct < 10 {
            return 0.0;
        }
        let volume = 1.0 - (-(self.distinct as f64) / 50.0).exp();
        let bits = self.mean_subdomain_len() * self.entropy();
        let payload = ((bits - 40.0) / 160.0).clamp(0.0, 1.0);
        let bulk = 0.8 * self.bulk_types as f64 / self.queries.max(1) as f64;
        (volume * payload.max(bulk)).clamp(0.0, 1.0)
    }
}

/// Per (client, domain) statistics for a whole scan.
#[derive(Debug, Default)]
pub struct DnsStats {
    /// (client, domain) to what was asked.
    pub domains: HashMap<(IpAddr, String), DomainStats>,
}

impl DnsStats {
    /// Adds one query.
    pub fn add(&mut self, src: IpAddr, query: &str, qtype: u16, rcode: Option<u16>, ts: f64) {
        let query = query.trim_end_matches('.');
        if query.is_empty() || query.ends_with(".arpa") || query.ends_with(".local") {
            return;
        }
        let domain = base_domain(query).to_string();
        self.domains
            .entry((src, domain.clone()))
            .or_default()
            .add(query, &domain, qtype, rcode, ts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_domains() {
        assert_eq!(base_domain("a.b.example.com"), "example.com");
        assert_eq!(base_domain("example.com."), "example.com");
        assert_eq!(base_domain("com"), "com");
        assert_eq!(base_domain("www.bbc.co.uk"), "bbc.co.uk");
        assert_eq!(base_domain("x.hidemyself.org"), "hidemyself.org");
        assert_eq!(base_domain("paaa.pirate.sea"), "pirate.sea");
    }

    #[test]
    fn tunnel_scores_high_and_browsing_low() {
        let src: IpAddr = "10.0.0.5".parse().unwrap();
        let mut s = DnsStats::default();
        for i in 0..200u32 {
            let label = format!(
                "{:08x}{:08x}{:08x}{:08x}",
                i.wrapping_mul(2654435761),
                i ^ 0x5bd1e995,
                i.wrapping_mul(40503),
                !i
            );
            s.add(
                src,
                &format!("{label}.t.example.net"),
                16,
                Some(0),
                f64::from(i),
            );
        }
        for w in [
            "www", "mail", "api", "static", "cdn", "login", "docs", "img", "news", "shop", "m",
            "blog",
        ] {
            s.add(src, &format!("{w}.example.org"), 1, Some(0), 0.0);
        }
        let tunnel = &s.domains[&(src, "example.net".to_string())];
        let browse = &s.domains[&(src, "example.org".to_string())];
        assert!(tunnel.tunnel_score() > 0.7, "{}", tunnel.tunnel_score());
        assert!(browse.tunnel_score() < 0.1, "{}", browse.tunnel_score());
        assert_eq!(tunnel.bulk_types, 200);
    }

    #[test]
    fn reverse_and_local_names_are_ignored() {
        let mut s = DnsStats::default();
        let src: IpAddr = "10.0.0.5".parse().unwrap();
        s.add(src, "4.3.2.1.in-addr.arpa", 12, Some(0), 0.0);
        s.add(src, "printer.local", 1, Some(0), 0.0);
        s.add(src, "", 1, None, 0.0);
        assert!(s.domains.is_empty());
    }
}
