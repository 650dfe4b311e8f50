//! `tamperscan fleet query EXPR`: which servers have (or had) a part, from the store's
//! component history; a recall list as a table, CSV or JSON.

use anyhow::{bail, Context};
use serde::Serialize;
use std::io::Write;
use std::path::Path;
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
    let (q, found) =
        tamperscan_store::query::evaluate(&mut store, text, fleet).map_err(|e| match e {
            tamperscan_store::query::QueryFailure::Parse(p) => anyhow::anyhow!(
                "{p}\n  {text}\n  {}^",
                " ".repeat(p.column.saturating_sub(1))
            ),
            other => anyhow::anyhow!("{other}"),
        })?;
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
            crate::boot_cmd::write_json(&mut out, &answer)?;
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
