//! What the fleet tells the network layer: which addresses are ours, which are management
//! interfaces, which destinations the policy allows, and which host and model owns an address.
//!
//! Read from the `[policy]` table of `fleet.toml`:
//!
//! ```toml
//! [policy]
//! internal_networks = ["10.0.0.0/8"]          # default: RFC 1918, CGNAT, ULA, link-local
//! management_networks = ["10.20.0.0/16"]      # BMC / IPMI / Redfish plane
//! [[policy.allow]]                            # destinations the management plane may reach
//! dst = "10.20.255.10"                        # an address, a CIDR, a name or "*.example.com"
//! dport = 123                                 # optional
//! proto = "udp"                               # optional: tcp, udp, icmp
//! note = "NTP"
//! ```

use serde::Deserialize;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;
use tamperscan_flows::model::Proto;

/// A network in CIDR notation (`10.0.0.0/8`, `fd00::/8`, or a single address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    /// Whether `ip` lies in this network (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                (u32::from(net) & mask) == (u32::from(ip) & mask)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                (u128::from(net) & mask) == (u128::from(ip) & mask)
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for Net {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an address or CIDR network like 10.0.0.0/8"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: prefix length must be 0..={max}"))?,
        };
        Ok(Net { addr, prefix })
    }
}

/// An IPv4-mapped IPv6 address as IPv4; anything else unchanged.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Where a destination may be: an address/CIDR or a DNS name (`*.` for any subdomain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An address or network.
    Net(Net),
    /// A name, lower-case, matched exactly.
    Name(String),
    /// `*.suffix`: any name ending in `.suffix` (and `suffix` itself).
    Suffix(String),
}

impl Target {
    fn parse(s: &str) -> Target {
        let s = s.trim().trim_end_matches('.').to_ascii_lowercase();
        if let Ok(net) = s.parse::<Net>() {
            return Target::Net(net);
        }
        match s.strip_prefix("*.") {
            Some(suffix) => Target::Suffix(suffix.to_string()),
            None => Target::Name(s),
        }
    }

    fn matches(&self, ip: IpAddr, names: &[&str]) -> bool {
        match self {
            Target::Net(net) => net.contains(ip),
            Target::Name(n) => names.iter().any(|x| x.eq_ignore_ascii_case(n)),
            Target::Suffix(suffix) => names.iter().any(|x| {
                let x = x.to_ascii_lowercase();
                x == *suffix
                    || x.strip_suffix(suffix.as_str())
                        .is_some_and(|head| head.ends_with('.'))
            }),
        }
    }
}

/// One `[[policy.allow]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowRule {
    /// Where.
    pub dst: Target,
    /// Destination port, when restricted.
    pub dport: Option<u16>,
    /// Protocol, when restricted.
    pub proto: Option<Proto>,
    /// Why it is allowed (shown in findings).
    pub note: Option<String>,
}

/// Who owns an address in the fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Host id.
    pub host: String,
    /// Hardware model, when known.
    pub model: Option<String>,
    /// Whether the address is the host's BMC.
    pub bmc: bool,
}

/// The network context of a fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// Our own address space; traffic between two of these is internal.
    pub internal: Vec<Net>,
    /// Management-plane networks (BMC, IPMI, Redfish).
    pub management: Vec<Net>,
    /// Destinations the management plane may reach.
    pub allow: Vec<AllowRule>,
    /// Address to owner (from each host's `bmc_address`).
    pub owners: HashMap<IpAddr, Owner>,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            internal: default_internal(),
            management: Vec::new(),
            allow: Vec::new(),
            owners: HashMap::new(),
        }
    }
}

/// RFC 1918, RFC 6598 (CGNAT), RFC 4193 (ULA), loopback and link-local.
pub fn default_internal() -> Vec<Net> {
    [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    ]
    .iter()
    .filter_map(|s| s.parse().ok())
    .collect()
}

/// An error in the `[policy]` table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fleet.toml [policy]: {0}")]
pub struct PolicyError(pub String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyToml {
    internal_networks: Option<Vec<String>>,
    #[serde(default)]
    management_networks: Vec<String>,
    #[serde(default)]
    allow: Vec<AllowToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowToml {
    dst: String,
    dport: Option<u16>,
    proto: Option<String>,
    note: Option<String>,
}

impl Context {
    /// Reads the `[policy]` table of `fleet.toml` (an empty table gives the defaults).
    pub fn from_policy(table: &toml::Table) -> Result<Context, PolicyError> {
        let raw: PolicyToml = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| PolicyError(e.message().to_string()))?;
        let nets = |list: &[String], what: &str| -> Result<Vec<Net>, PolicyError> {
            list.iter()
                .map(|s| {
                    s.parse::<Net>()
                        .map_err(|e| PolicyError(format!("{what}: {e}")))
                })
                .collect()
        };
        let internal = match &raw.internal_networks {
            Some(list) => nets(list, "internal_networks")?,
            None => default_internal(),
        };
        let management = nets(&raw.management_networks, "management_networks")?;
        let mut allow = Vec::new();
        for a in raw.allow {
            let proto = match a.proto.as_deref().map(str::to_ascii_lowercase).as_deref() {
                None => None,
                Some("tcp") => Some(Proto::Tcp),
                Some("udp") => Some(Proto::Udp),
                Some("icmp") => Some(Proto::Icmp),
                Some(other) => {
                    return Err(PolicyError(format!(
                        "allow dst {:?}: proto {other:?} is not tcp, udp or icmp",
                        a.dst
                    )))
                }
            };
            allow.push(AllowRule {
                dst: Target::parse(&a.dst),
                dport: a.dport,
                proto,
                note: a.note,
            });
        }
        Ok(Context {
            internal,
            management,
            allow,
            owners: HashMap::new(),
        })
    }

    /// Whether `ip` is in our address space.
    pub fn is_internal(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.internal.iter().any(|n| n.contains(ip))
    }

    /// Whether `ip` is a management interface: in a management network or a host's BMC.
    pub fn is_management(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.management.iter().any(|n| n.contains(ip))
            || self.owners.get(&ip).is_some_and(|o| o.bmc)
    }

    /// Whether a policy is declared at all (no policy: nothing is a violation).
    pub fn has_policy(&self) -> bool {
        !self.management.is_empty() || !self.allow.is_empty()
    }

    /// The allow rule that covers this destination, if any.
    pub fn allowed(
        &self,
        dst: IpAddr,
        names: &[&str],
        dport: u16,
        proto: Proto,
    ) -> Option<&AllowRule> {
        let dst = canonical(dst);
        self.allow.iter().find(|r| {
            r.dport.is_none_or(|p| p == dport)
                && r.proto.is_none_or(|p| p == proto)
                && r.dst.matches(dst, names)
        })
    }

    /// The fleet host owning `ip`, if declared.
    pub fn owner(&self, ip: IpAddr) -> Option<&Owner> {
        self.owners.get(&canonical(ip))
    }
}

/// Addresses that are never a beacon's far end: multicast, broadcast, unspecified, and the
/// link-local ranges (their periodic chatter, mDNS, LLMNR, SSDP, router advertisements, is
/// the most regular traffic on any network and never leaves the segment).
pub fn is_local_only(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || v4.is_link_local()
                // A subnet-directed broadcast (NetBIOS, DHCP) in private space.
                || (v4.is_private() && v4.octets().last() == Some(&255))
        }
        IpAddr::V6(v6) => {
            v6.is_multicast()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6 == Ipv6Addr::LOCALHOST
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_contains_and_rejects() {
        let n: Net = "10.20.0.0/16".parse().unwrap();
        assert!(n.contains(ip("10.20.3.4")));
        assert!(!n.contains(ip("10.21.0.1")));
        assert!(n.contains(ip("::ffff:10.20.0.9")));
        let all: Net = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")));
        assert!("10.0.0.0/33".parse::<Net>().is_err());
        assert!("ten/8".parse::<Net>().is_err());
        let v6: Net = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("fe80::1")));
    }

    #[test]
    fn policy_reads_and_matches() {
        let table: toml::Table = toml::from_str(
            r#"
management_networks = ["10.20.0.0/16"]
[[allow]]
dst = "10.20.255.10"
dport = 123
proto = "udp"
note = "NTP"
[[allow]]
dst = "*.vendor.example"
"#,
        )
        .unwrap();
        let ctx = Context::from_policy(&table).unwrap();
        assert!(ctx.is_management(ip("10.20.1.5")));
        assert!(!ctx.is_management(ip("10.30.1.5")));
        assert!(ctx
            .allowed(ip("10.20.255.10"), &[], 123, Proto::Udp)
            .is_some());
        assert!(ctx
            .allowed(ip("10.20.255.10"), &[], 124, Proto::Udp)
            .is_none());
        assert!(ctx
            .allowed(ip("203.0.113.9"), &["fw.vendor.example"], 443, Proto::Tcp)
            .is_some());
        assert!(ctx
            .allowed(ip("203.0.113.9"), &["vendor.example.evil"], 443, Proto::Tcp)
            .is_none());
        assert!(ctx.is_internal(ip("192.168.1.1")));
        assert!(!ctx.is_internal(ip("8.8.8.8")));
    }

    #[test]
    fn policy_errors_name_the_field() {
        let table: toml::Table =
            toml::from_str(r#"management_networks = ["10.0.0.0/40"]"#).unwrap();
        let e = Context::from_policy(&table).unwrap_err().to_string();
        assert!(e.contains("management_networks"), "{e}");
        let table: toml::Table =
            toml::from_str("[[allow]]\ndst = \"1.2.3.4\"\nproto = \"sctp\"").unwrap();
        assert!(Context::from_policy(&table)
            .unwrap_err()
            .to_string()
            .contains("sctp"));
        let table: toml::Table = toml::from_str("managment_networks = []").unwrap();
        assert!(Context::from_policy(&table).is_err());
    }

    #[test]
    fn local_only_addresses() {
        assert!(is_local_only(ip("ff02::1:3")));
        assert!(is_local_only(ip("fe80::1")));
        assert!(is_local_only(ip("224.0.0.252")));
        assert!(is_local_only(ip("255.255.255.255")));
        assert!(!is_local_only(ip("41.108.179.197")));
    }
}
