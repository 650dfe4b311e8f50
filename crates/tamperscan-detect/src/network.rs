//! Network: beacons, long connections, large uploads, DNS tunnels and policy violations found
//! in `network/` (see `tamperscan-net`), attached to the host that owns the source address
//! (its `bmc_address`). Only findings of level `low` or above become audit findings; the rest
//! stay in `tamperscan net scan`'s output.

use crate::engine::Detector;
use tamperscan_fleet::Fleet;
use tamperscan_model::{Finding, HostId, Layer, Location, Picture, Reference, Severity};
use tamperscan_net::{Kind, Level, NetFinding};

pub(crate) struct NetworkDetector;

impl Detector for NetworkDetector {
    fn name(&self) -> &'static str {
        "network"
    }

    fn run(&self, fleet: &Fleet) -> Vec<Finding> {
        let Some(scan) = &fleet.network else {
            return Vec::new();
        };
        scan.findings.iter().filter_map(finding).collect()
    }
}

fn finding(f: &NetFinding) -> Option<Finding> {
    let severity = match f.severity {
        Level::Info => return None,
        Level::Low => Severity::Low,
        Level::Medium => Severity::Medium,
        Level::High => Severity::High,
    };
    let host = HostId(f.host.clone()?);
    let reference = if f.reasons.iter().any(|r| r.key == "outside_policy") {
        Reference::Policy {
            name: "policy.allow".into(),
        }
    } else if let Some((talking, total)) = f
        .reasons
        .iter()
        .find(|r| r.key == "rare_among_siblings")
        .and_then(|r| r.counts)
    {
        Reference::Consensus {
            model: f.model.clone().unwrap_or_default(),
            agree: total.saturating_sub(talking),
            total,
        }
    } else {
        Reference::Fleet
    };
    let mut out = Finding::new(
        &host,
        Layer::Network,
        &format!("network.{}", f.kind.name()),
        severity,
        f.summary.clone(),
        "network",
        reference,
    );
    out.location = Location::new(
        "network",
        format!(
            "{} -> {}{}/{}",
            f.src,
            f.fqdn
                .as_deref()
                .map_or(f.dst.clone(), |n| if f.dst == "-" {
                    n.to_string()
                } else {
                    format!("{} ({n})", f.dst)
                }),
            f.dport.map(|p| format!(":{p}")).unwrap_or_default(),
            f.proto
        ),
    );
    out.expected = f
        .reasons
        .iter()
        .find(|r| r.key == "outside_policy")
        .map(|_| "only destinations allowed by [policy] in fleet.toml".to_string());
    out.observed = Some(
        f.reasons
            .iter()
            .filter(|r| r.weight > 0.0)
            .map(|r| r.text.clone())
            .collect::<Vec<_>>()
            .join("; "),
    )
    .filter(|s| !s.is_empty());
    if f.kind == Kind::Beacon {
        let title = format!("{} — score {:.2}", out.location.at, f.score);
        if let Some(svg) =
            tamperscan_net::picture::beacon_svg(&f.times, f.evidence.period_s, &title)
        {
            out.pictures.push(Picture {
                caption: format!("check-ins of {} and the gaps between them", out.location.at),
                media_type: "image/svg+xml".into(),
                data: svg.into_bytes(),
            });
        }
    }
    Some(out)
}
