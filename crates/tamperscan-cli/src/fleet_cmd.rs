//! `tamperscan fleet query EXPR`: which servers have (or had) a part, from the store's
//! component history; a recall list as a table, CSV or JSON.

use anyhow::{bail, Context};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tamperscan_inventory::query::{self, Condition, Field};
use tamperscan_store::{ComponentRow, Store};

/// Output of `fleet query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QueryFormat {
    /// A table for people
    Text,
    /// One JSON document
    Json,
    /// A recall list: one row per matching component of a matching host
    Csv,
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` (already checked by the parser) as the start of that day, UTC.
pub fn date_start(date: &str) -> Option<SystemTime> {
    let y: i64 = date.get(0..4)?.parse().ok()?;
    let m: i64 = date.get(5..7)?.parse().ok()?;
    let d: i64 = date.get(8..10)?.parse().ok()?;
    let days = u64::try_from(days_from_civil(y, m, d)).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(days * 86_400))
}

fn to_store(f: Field) -> tamperscan_store::Field {
    match f {
        Field::Manufacturer => tamperscan_store::Field::Manufacturer,
        Field::Model => tamperscan_store::Field::Model,
        Field::Serial => tamperscan_store::Field::Serial,
        Field::Revision => tamperscan_store::Field::Revision,
        Field::FirmwareVersion => tamperscan_store::Field::FirmwareVersion,
        Field::Location => tamperscan_store::Field::Location,
    }
}

#[derive(Debug, Serialize)]
struct Answer<'a> {
    schema: &'static str,
    query: &'a str,
    since: Option<&'a str>,
    hosts: Vec<HostAnswer>,
}

#[derive(Debug, Serialize)]
struct HostAnswer {
    host: String,
    fleet: String,
    /// The components that satisfied a condition (the evidence for the recall).
    components: Vec<ComponentRow>,
}

/// Matching hosts by (fleet, host), with the components that satisfied a condition.
pub type Matches = BTreeMap<(String, String), Vec<ComponentRow>>;

/// Evaluates a query against the store and returns the matching hosts with their evidence.
pub fn evaluate(
    store: &mut Store,
    text: &str,
    fleet: Option<&str>,
) -> anyhow::Result<(query::Query, Matches)> {
    let q = query::parse(text).map_err(|e| {
        anyhow::anyhow!(
            "{e}\n  {text}\n  {}^",
            " ".repeat(e.column.saturating_sub(1))
        )
    })?;
    let since = match &q.since {
        Some(d) => {
            Some(date_start(d).with_context(|| format!("{d} is not a date tamperscan can use"))?)
        }
        None => None,
    };
    // Each class's rows once; conditions are evaluated on them (case-insensitive equality,
    // version order), the store narrowing by class and time window.
    let mut rows_of: BTreeMap<String, Vec<ComponentRow>> = BTreeMap::new();
    for c in q.expr.conditions() {
        if !rows_of.contains_key(&c.class) {
            let rows = store.components_matching(fleet, &c.class, &[], since)?;
            rows_of.insert(c.class.clone(), rows);
        }
    }
    let key = |r: &ComponentRow| (r.fleet.clone(), r.host.clone());
    let universe: BTreeSet<(String, String)> = rows_of.values().flatten().map(key).collect();
    let mut satisfied: BTreeMap<*const Condition, BTreeMap<(String, String), Vec<ComponentRow>>> =
        BTreeMap::new();
    for c in q.expr.conditions() {
        let mut hits: BTreeMap<(String, String), Vec<ComponentRow>> = BTreeMap::new();
        for r in rows_of.get(&c.class).into_iter().flatten() {
            if c.holds(r.field(to_store(c.field))) {
                hits.entry(key(r)).or_default().push(r.clone());
            }
        }
        satisfied.insert(c as *const Condition, hits);
    }
    let mut out = BTreeMap::new();
    for host in universe {
        let holds = |c: &Condition| {
            satisfied
                .get(&(c as *const Condition))
                .is_some_and(|m| m.contains_key(&host))
        };
        if q.expr.eval(&holds) {
            let mut evidence: Vec<ComponentRow> = q
                .expr
                .conditions()
                .into_iter()
                .filter_map(|c| {
                    satisfied
                        .get(&(c as *const Condition))
                        .and_then(|m| m.get(&host))
                })
                .flatten()
                .cloned()
                .collect();
            evidence.sort_by_key(|r| r.id);
            evidence.dedup_by_key(|r| r.id);
            out.insert(host, evidence);
        }
    }
    Ok((q, out))
}

fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// `fleet query EXPR --db PATH|URL`.
pub fn run(text: &str, db: &Path, fleet: Option<&str>, format: QueryFormat) -> anyhow::Result<u8> {
    let shown = tamperscan_store::redact(&db.to_string_lossy());
    if !db.to_string_lossy().contains("://") && !db.exists() {
        bail!("no store at {shown}: audit the fleet first (tamperscan audit FLEET_DIR records into FLEET_DIR/tamperscan.db) or pass --db");
    }
    let mut store = Store::open(db).with_context(|| format!("cannot open the store {shown}"))?;
    let (q, found) = evaluate(&mut store, text, fleet)?;
    let matched = !found.is_empty();
    let mut out = std::io::stdout().lock();
    match format {
        QueryFormat::Json => {
            let answer = Answer {
                schema: "tamperscan.fleet.query/1",
                query: text,
                since: q.since.as_deref(),
                hosts: found
                    .into_iter()
                    .map(|((fleet, host), components)| HostAnswer {
                        host,
                        fleet,
                        components,
                    })
                    .collect(),
            };
            serde_json::to_writer_pretty(&mut out, &answer)?;
            writeln!(out)?;
        }
        QueryFormat::Csv => {
            writeln!(out, "fleet,host,class,manufacturer,model,serial,revision,firmware_version,location,first_seen,last_seen,valid_to")?;
            for ((fleet, host), rows) in &found {
                for r in rows {
                    let o = |v: &Option<String>| csv_field(v.as_deref().unwrap_or(""));
                    writeln!(
                        out,
                        "{},{},{},{},{},{},{},{},{},{},{},{}",
                        csv_field(fleet),
                        csv_field(host),
                        csv_field(&r.class),
                        o(&r.manufacturer),
                        o(&r.model),
                        o(&r.serial),
                        o(&r.revision),
                        o(&r.firmware_version),
                        o(&r.location),
                        r.first_seen,
                        r.last_seen,
                        o(&r.valid_to)
                    )?;
                }
            }
        }
        QueryFormat::Text => {
            writeln!(
                out,
                "{} host(s) match{}",
                found.len(),
                q.since
                    .as_ref()
                    .map(|d| format!(" since {d}"))
                    .unwrap_or_default()
            )?;
            for ((fleet, host), rows) in &found {
                writeln!(out, "{host} ({fleet})")?;
                for r in rows {
                    writeln!(
                        out,
                        "  {} {} {} serial {} firmware {} at {}, seen {} .. {}",
                        r.class,
                        r.manufacturer.as_deref().unwrap_or("-"),
                        r.model.as_deref().unwrap_or("-"),
                        r.serial.as_deref().unwrap_or("-"),
                        r.firmware_version.as_deref().unwrap_or("-"),
                        r.location.as_deref().unwrap_or("-"),
                        r.first_seen,
                        r.valid_to.as_deref().unwrap_or("now")
                    )?;
                }
            }
        }
    }
    Ok(if matched {
        crate::EXIT_FINDINGS
    } else {
        crate::EXIT_PASS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(
            date_start("2026-01-01"),
            UNIX_EPOCH.checked_add(Duration::from_secs(20_454 * 86_400))
        );
    }
}
