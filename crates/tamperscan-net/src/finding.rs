//! The findings `net scan` prints: the wire shape scripts read (`--format json`).

use serde::Serialize;

/// How loud a network finding is. `Info` findings are listed but never raise an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Context only.
    Info,
    /// Worth a look.
    Low,
    /// Unexplained; look today.
    Medium,
    /// Should not exist on a genuine management plane.
    High,
}

impl Level {
    /// From a score in [0, 1]: >= 0.8 high, >= 0.6 medium, >= 0.4 low, else info.
    pub fn from_score(score: f64) -> Level {
        if score >= 0.8 {
            Level::High
        } else if score >= 0.6 {
            Level::Medium
        } else if score >= 0.4 {
            Level::Low
        } else {
            Level::Info
        }
    }

    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
        }
    }
}

/// What kind of network finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Periodic check-ins from one source to one destination.
    Beacon,
    /// A connection (or a pair's connections) open for a long time.
    LongConnection,
    /// Much more data sent to one outside destination than received from it.
    LargeUpload,
    /// Data carried in DNS query names.
    DnsTunnel,
    /// A management interface talking to a destination its policy does not allow.
    PolicyViolation,
    /// Many failed lookups of random-looking domains: a domain-generation algorithm.
    Dga,
    /// An outside destination not seen in the baseline (earlier traffic) from a management
    /// interface.
    NewDestination,
}

impl Kind {
    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Beacon => "beacon",
            Kind::LongConnection => "long_connection",
            Kind::LargeUpload => "large_upload",
            Kind::DnsTunnel => "dns_tunnel",
            Kind::PolicyViolation => "policy_violation",
            Kind::Dga => "dga",
            Kind::NewDestination => "new_destination",
        }
    }
}

/// One reason that raised (or lowered) a finding's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// Stable key (`direct_to_ip`, `unusual_port`, `outside_policy`, ...).
    pub key: &'static str,
    /// Weight in [0, 1] (negative: lowers suspicion).
    pub weight: f64,
    /// A sentence.
    pub text: String,
    /// For rarity reasons: (hosts that do it, hosts compared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<(usize, usize)>,
}

/// The numbers behind a finding.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Evidence {
    /// Connections (or requests, or queries).
    pub connections: u64,
    /// Check-ins after merging near-simultaneous connections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkins: Option<usize>,
    /// Estimated period, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_s: Option<f64>,
    /// Median gap between check-ins, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_median_s: Option<f64>,
    /// Median absolute deviation of the gaps, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_mad_s: Option<f64>,
    /// Median relative deviation from the beat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jitter: Option<f64>,
    /// Share of gaps on the beat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_beat: Option<f64>,
    /// Beats missed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missed_beats: Option<u64>,
    /// log10 of the periodicity test's p-value under a Poisson null.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log10_p: Option<f64>,
    /// Bytes sent by the source.
    pub bytes_out: u64,
    /// Bytes received by the source.
    pub bytes_in: u64,
    /// Total connection time, seconds.
    pub duration_s: f64,
    /// Longest single connection, seconds.
    pub longest_s: f64,
    /// First seen, seconds since the epoch.
    pub first_seen: f64,
    /// Last seen, seconds since the epoch.
    pub last_seen: f64,
    /// Internal sources that talk to this destination.
    pub sources_for_destination: usize,
    /// DNS: distinct names, mean length left of the domain, entropy in bits per character.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_names: Option<usize>,
    /// DNS: mean subdomain length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_mean_length: Option<f64>,
    /// DNS: entropy, bits per character.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_entropy: Option<f64>,
    /// DNS: example names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
}

/// One network finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetFinding {
    /// What.
    pub kind: Kind,
    /// Source address.
    pub src: String,
    /// Destination address (`-` when the finding is about a name only, e.g. through a proxy).
    pub dst: String,
    /// Destination addresses when several serve the name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dst_ips: Vec<String>,
    /// Destination name (DNS answer, TLS SNI, HTTP Host, tunnelled domain) when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fqdn: Option<String>,
    /// Destination port, when one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dport: Option<u16>,
    /// `tcp`, `udp`, `icmp`, `dns`, or the protocol number.
    pub proto: String,
    /// Suspicion in [0, 1]; findings are ranked by it.
    pub score: f64,
    /// Level derived from the score.
    pub severity: Level,
    /// Fleet host that owns the source, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Its model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// One sentence.
    pub summary: String,
    /// Why the score is what it is.
    pub reasons: Vec<Reason>,
    /// The numbers.
    pub evidence: Evidence,
    /// Check-in times (seconds since the epoch, at most 5,000) for timelines; not in JSON.
    #[serde(skip)]
    pub times: Vec<f64>,
}
