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

/// The conditions of a pure conjunction (`a and b and c`), or `None`.
fn conjunction(e: &query::Expr) -> Option<Vec<&Condition>> {
    match e {
        query::Expr::Cond(c) => Some(vec![c]),
        query::Expr::And(a, b) => {
            let mut v = conjunction(a)?;
            v.extend(conjunction(b)?);
            Some(v)
        }
        _ => None,
    }
}

/// Evaluates a query against the store and returns the matching hosts with the component rows
/// that satisfied its conditions.
///
/// Each condition reads only id, host and the tested field of the rows of its class in the
/// time window; equality is narrowed in SQL (case-insensitive, indexed). In a pure
/// conjunction, the first equality condition also narrows every other condition to the hosts
/// that satisfy it (a semi-join), so `board.model = X and bmc.firmware < V` reads the BMC rows
/// of X boards only. Version order and `~` are evaluated here, the same on both backends.
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
    let conditions = q.expr.conditions();
    // In a pure conjunction, the first equality is read first; the other conditions then read
    // only the hosts it left (a recall of one board model reads that model's BMC rows only).
    let anchor: Option<&Condition> =
        conjunction(&q.expr).and_then(|all| all.into_iter().find(|c| c.op == query::Op::Eq));
    let mut order: Vec<&Condition> = Vec::new();
    order.extend(anchor);
    order.extend(
        conditions
            .iter()
            .copied()
            .filter(|c| !anchor.is_some_and(|a| std::ptr::eq(a, *c))),
    );
    let key = |v: &ComponentRow| (v.fleet.clone(), v.host.clone());
    let mut universe: BTreeSet<(String, String)> = BTreeSet::new();
    let mut satisfied: Vec<(&Condition, Matches)> = Vec::new();
    let mut narrowed: Option<Vec<String>> = None;
    for c in order {
        let eq = (c.op == query::Op::Eq).then_some(c.value.as_str());
        let values = store
            .field_values(
                fleet,
                &c.class,
                to_store(c.field),
                eq,
                since,
                narrowed.as_deref(),
            )
            .map_err(QueryFailure::Store)?;
        let mut hits: Matches = BTreeMap::new();
        for v in values {
            universe.insert(key(&v));
            if c.holds(v.field(to_store(c.field))) {
                hits.entry(key(&v)).or_default().push(v);
            }
        }
        if anchor.is_some_and(|a| std::ptr::eq(a, c)) {
            let mut hosts: Vec<String> = hits.keys().map(|(_, h)| h.clone()).collect();
            hosts.dedup();
            narrowed = Some(hosts);
        }
        satisfied.push((c, hits));
    }
    // Conditions are found by identity: the same text twice is two conditions.
    let hits_of = |c: &Condition| {
        satisfied
            .iter()
            .find(|(k, _)| std::ptr::eq(*k, c))
            .map(|(_, m)| m)
    };
    let mut out: Matches = BTreeMap::new();
    for host in universe {
        let holds = |c: &Condition| hits_of(c).is_some_and(|m| m.contains_key(&host));
        if q.expr.eval(&holds) {
            let mut evidence: Vec<ComponentRow> = conditions
                .iter()
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
