//! Answers fleet queries (`tamperscan_inventory::query`) from the component history: which
//! servers have, or had since a date, components matching the conditions.

use crate::{ComponentRow, Store, StoreError};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tamperscan_inventory::query::{self, Condition, Field};

/// Why a query could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum QueryFailure {
    /// The query text is wrong (with the column).
    #[error("{0}")]
    Parse(query::QueryError),
    /// The `since` date is out of range.
    #[error("{0} is not a date tamperscan can use")]
    Date(String),
    /// The store failed.
    #[error("{0}")]
    Store(StoreError),
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

fn to_store(f: Field) -> crate::Field {
    match f {
        Field::Manufacturer => crate::Field::Manufacturer,
        Field::Model => crate::Field::Model,
        Field::Serial => crate::Field::Serial,
        Field::Revision => crate::Field::Revision,
        Field::FirmwareVersion => crate::Field::FirmwareVersion,
        Field::Location => crate::Field::Location,
    }
}

/// Matching hosts by (fleet, host), with the components that satisfied a condition.
pub type Matches = BTreeMap<(String, String), Vec<ComponentRow>>;

/// Evaluates a query against the store and returns the matching hosts with their evidence.
pub fn evaluate(
    store: &mut Store,
    text: &str,
    fleet: Option<&str>,
) -> Result<(query::Query, Matches), QueryFailure> {
    let q = query::parse(text).map_err(QueryFailure::Parse)?;
    let since = match &q.since {
        Some(d) => Some(date_start(d).ok_or_else(|| QueryFailure::Date(d.clone()))?),
        None => None,
    };
    // Each class's rows once; conditions are evaluated on them (case-insensitive equality,
    // version order), the store narrowing by class and time window.
    let mut rows_of: BTreeMap<String, Vec<ComponentRow>> = BTreeMap::new();
    for c in q.expr.conditions() {
        if !rows_of.contains_key(&c.class) {
            let rows = store
                .components_matching(fleet, &c.class, &[], since)
                .map_err(QueryFailure::Store)?;
            rows_of.insert(c.class.clone(), rows);
        }
    }
    let key = |r: &ComponentRow| (r.fleet.clone(), r.host.clone());
    let universe: BTreeSet<(String, String)> = rows_of.values().flatten().map(key).collect();
    let mut satisfied: Vec<(&Condition, Matches)> = Vec::new();
    for c in q.expr.conditions() {
        let mut hits: BTreeMap<(String, String), Vec<ComponentRow>> = BTreeMap::new();
        for r in rows_of.get(&c.class).into_iter().flatten() {
            if c.holds(r.field(to_store(c.field))) {
                hits.entry(key(r)).or_default().push(r.clone());
            }
        }
        satisfied.push((c, hits));
    }
    let mut out = BTreeMap::new();
    for host in universe {
        // Conditions are found by identity: the same text twice is two conditions.
        let hits_of = |c: &Condition| {
            satisfied
                .iter()
                .find(|(k, _)| std::ptr::eq(*k, c))
                .map(|(_, m)| m)
        };
        let holds = |c: &Condition| hits_of(c).is_some_and(|m| m.contains_key(&host));
        if q.expr.eval(&holds) {
            let mut evidence: Vec<ComponentRow> = q
                .expr
                .conditions()
                .into_iter()
                .filter_map(|c| hits_of(c).and_then(|m| m.get(&host)))
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
