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

/// Registrable domains tracked per client for DGA-like lookups; beyond it only counts grow.
const MAX_NX_TRACKED: usize = 20_000;

/// The most frequent letter pairs of English text (about the top 150 of Norvig's counts from
/// the Google books corpus). Names people choose (words, brands, abbreviations of words) are
/// mostly made of them; uniformly random letters hit this set about one time in four.
const COMMON_BIGRAMS: &str = "th he in er an re on at en nd ti es or te of ed is it al ar st to \
    nt ng se ha as ou io le ve co me de hi ri ro ic ne ea ra ce li ch ll be ma si om ur ca el ta \
    la ns di fo ho pe ec pr no ct us ac ot il tr ly nc et ut ss so rs un lo wa ge ie wh ee wi em \
    ad ol rt po we na ul ni ts mo ow pa im mi ai sh ir su id os iv ia am fi ci vi pl ig tu ev ld \
    ry mp fe bl ab gh ty op wo sa ay ex ke fr oo av ag if ap gr od bo sp rd do uc bu ei ov by rm \
    ep tt oc fa ef cu rn sc gi da yo cr cl du ga qu ue ff ba ey ls va um pp ua up lu go ht ru ug \
    ds lt pi rc rr eg au ck ew mu br bi pt ak pu ui rg ib tl ny ki rk ys ob mm fu ph og ms ye ud \
    mb ip ub oi rl gu dr hr cc tw ft wn nu af hu nn eo vo rv nf xp gn sm fl";

fn is_common_bigram(a: u8, b: u8) -> bool {
    COMMON_BIGRAMS
        .split_ascii_whitespace()
        .any(|p| p.as_bytes() == [a, b])
}

/// Share of a label's adjacent letter pairs that are common in English (pairs with a digit
/// count as uncommon; hyphens break words). `None` for labels with fewer than 6 pairs, too
/// short to tell.
pub fn wordlike_share(label: &str) -> Option<f64> {
    let mut pairs = 0u32;
    let mut common = 0u32;
    for word in label.split('-') {
        let b = word.as_bytes();
        for w in b.windows(2) {
            if let [x, y] = *w {
                pairs += 1;
                let (x, y) = (x.to_ascii_lowercase(), y.to_ascii_lowercase());
                if x.is_ascii_lowercase() && y.is_ascii_lowercase() && is_common_bigram(x, y) {
                    common += 1;
                }
            }
        }
    }
    (pairs >= 6).then(|| f64::from(common) / f64::from(pairs))
}

/// Below this share of common pairs a label is counted as random-looking. English words and
/// brand names sit near 0.8-1.0; random letters near 0.25, random alphanumerics lower. The
/// midpoint between the two populations.
pub const WORDLIKE_MIN: f64 = 0.5;

/// Failed lookups (NXDOMAIN) of one client across registrable domains: the signature of a
/// domain-generation algorithm, which tries many generated domains until one resolves.
#[derive(Debug, Clone, Default)]
pub struct NxStats {
    /// NXDOMAIN answers.
    pub queries: u64,
    /// Distinct registrable domains that failed (exact up to a bound, then a lower bound).
    pub domains: usize,
    /// Of them, those whose name looks random ([`wordlike_share`] below [`WORDLIKE_MIN`]).
    pub random_looking: usize,
    seen: HashSet<String>,
    /// First failed lookup.
    pub first: f64,
    /// Last failed lookup.
    pub last: f64,
    /// A few random-looking examples.
    pub examples: Vec<String>,
}

impl NxStats {
    fn add(&mut self, domain: &str, ts: f64) {
        if self.queries == 0 || ts < self.first {
            self.first = ts;
        }
        if ts > self.last {
            self.last = ts;
        }
        self.queries += 1;
        if self.seen.len() >= MAX_NX_TRACKED || self.seen.contains(domain) {
            return;
        }
        self.seen.insert(domain.to_string());
        self.domains = self.seen.len();
        let label = domain.split('.').next().unwrap_or(domain);
        if wordlike_share(label).is_some_and(|s| s < WORDLIKE_MIN) {
            self.random_looking += 1;
            if self.examples.len() < 3 {
                self.examples.push(domain.to_string());
            }
        }
    }

    /// DGA evidence in [0, 1]: `1 - e^(-n/20)` over random-looking failed domains, the others
    /// counting 0.3 each (dictionary DGAs make word-like names); nothing below 8 distinct failed
    /// domains, which a typo or a stale configuration does not reach.
    pub fn dga_score(&self) -> f64 {
        if self.domains < 8 || self.random_looking < 4 {
            return 0.0;
        }
        let others = self.domains.saturating_sub(self.random_looking) as f64;
        let n = self.random_looking as f64 + 0.3 * others;
        (1.0 - (-n / 20.0).exp()).clamp(0.0, 1.0)
    }
}

/// Per (client, domain) statistics for a whole scan.
#[derive(Debug, Default)]
pub struct DnsStats {
    /// (client, domain) to what was asked.
    pub domains: HashMap<(IpAddr, String), DomainStats>,
    /// Client to its failed lookups across domains.
    pub nx: HashMap<IpAddr, NxStats>,
}

impl DnsStats {
    /// Adds one query.
    pub fn add(&mut self, src: IpAddr, query: &str, qtype: u16, rcode: Option<u16>, ts: f64) {
        let query = query.trim_end_matches('.');
        if query.is_empty() || query.ends_with(".arpa") || query.ends_with(".local") {
            return;
        }
        let domain = base_domain(query).to_string();
        // Single-label names (browsers' intranet probes, search-list expansions) and failures
        // under the client's own search domains are not what a DGA asks for.
        if rcode == Some(3) && query.contains('.') && domain.contains('.') {
            self.nx.entry(src).or_default().add(&domain, ts);
        }
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
    fn words_and_random_letters_apart() {
        for w in [
            "facebook",
            "microsoft",
            "wikipedia",
            "amazonaws",
            "cloudflare",
            "supermicro",
        ] {
            let s = wordlike_share(w).unwrap();
            assert!(s >= WORDLIKE_MIN, "{w}: {s}");
        }
        for r in [
            "xjqvzkpwmb",
            "qwkzxhvbty",
            "a3f9c2e1b7d4",
            "vkpgzrlqtxw",
            "zxcvqwpmkj",
        ] {
            let s = wordlike_share(r).unwrap();
            assert!(s < WORDLIKE_MIN, "{r}: {s}");
        }
        assert_eq!(wordlike_share("abc"), None);
    }

    #[test]
    fn many_failed_random_domains_score_as_dga() {
        let src: IpAddr = "10.0.0.9".parse().unwrap();
        let mut s = DnsStats::default();
        // A small linear congruential generator stands in for a DGA.
        let mut x: u32 = 12345;
        for i in 0..60 {
            let name: String = (0..12)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    char::from(b'a' + u8::try_from((x >> 16) % 26).unwrap())
                })
                .collect();
            s.add(src, &format!("{name}.com"), 1, Some(3), f64::from(i));
        }
        let nx = &s.nx[&src];
        assert_eq!(nx.domains, 60);
        assert!(nx.random_looking >= 45, "{}", nx.random_looking);
        assert!(nx.dga_score() > 0.85, "{}", nx.dga_score());

        // A resolver search list and a typo: failures, but few domains.
        let other: IpAddr = "10.0.0.10".parse().unwrap();
        for i in 0..100 {
            s.add(other, &format!("host{i}.corp.example.com"), 1, Some(3), 0.0);
        }
        s.add(other, "gooogle.com", 1, Some(3), 0.0);
        s.add(other, "wpad", 1, Some(3), 0.0);
        assert!(s.nx[&other].dga_score() == 0.0);
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
