//! Component history: one row per (host, component identity) for as long as it was observed,
//! so that "which hosts had firmware V at any time since D" is one query.
//!
//! A row's identity is its class, location, manufacturer, model, serial, firmware version and
//! revision. A recording that sees the same identity again moves `last_seen`; one that no
//! longer sees it sets `valid_to` (the row is closed, never deleted); a new identity opens a new
//! row. Times are RFC 3339 UTC with seconds ([`crate::rfc3339`]), so text order is time order.

use crate::db::{Db, DbError, Row, Value};
use crate::{rfc3339, Store, StoreError};
use std::collections::HashMap;
use std::time::SystemTime;
use tamperscan_inventory::{Component, ComponentClass};

/// Rows per multi-row `INSERT` of the bulk loader: 15 columns x 500 rows stays well inside
/// SQLite's 32,766 and PostgreSQL's 65,535 parameters per statement.
const ROWS_PER_INSERT: usize = 500;

/// The columns written by inserts, in order.
const INSERT_COLUMNS: &str = "fleet, host, class, manufacturer, model, serial, revision, \
    firmware_version, location, source, evidence_sha256, collector, first_seen, last_seen, valid_to";

/// The number of columns in [`INSERT_COLUMNS`].
const INSERT_WIDTH: usize = 15;

/// The columns read into a [`ComponentRow`], in order.
const SELECT_COLUMNS: &str = "id, fleet, host, class, manufacturer, model, serial, revision, \
    firmware_version, location, source, evidence_sha256, collector, first_seen, last_seen, valid_to";

/// A component field that [`Store::components_matching`] can filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// `manufacturer`.
    Manufacturer,
    /// `model`.
    Model,
    /// `serial`.
    Serial,
    /// `revision`.
    Revision,
    /// `firmware_version`.
    FirmwareVersion,
    /// `location`.
    Location,
}

impl Field {
    /// Every field.
    pub const ALL: [Field; 6] = [
        Field::Manufacturer,
        Field::Model,
        Field::Serial,
        Field::Revision,
        Field::FirmwareVersion,
        Field::Location,
    ];

    /// The field's name, which is also its column (`firmware_version`).
    pub fn name(self) -> &'static str {
        match self {
            Field::Manufacturer => "manufacturer",
            Field::Model => "model",
            Field::Serial => "serial",
            Field::Revision => "revision",
            Field::FirmwareVersion => "firmware_version",
            Field::Location => "location",
        }
    }

    /// The field named `name` (as [`Field::name`] spells it).
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// How a filter compares a field with its value, in SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// Equal (exact, case-sensitive). A missing value never matches.
    Eq,
    /// Not equal (exact, case-sensitive). A missing value matches: it is not the one named.
    Ne,
    /// Contains the value as a substring (case-sensitive, the same on both backends). A missing
    /// value never matches; an empty value matches every present one.
    Contains,
}

/// What [`Store::record_components`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordedComponents {
    /// Rows seen again (`last_seen` moved).
    pub kept: u64,
    /// Rows no longer observed (`valid_to` set).
    pub closed: u64,
    /// Rows inserted for components not seen before.
    pub opened: u64,
}

/// One stored component row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct ComponentRow {
    /// The row's id.
    pub id: i64,
    /// The fleet.
    pub fleet: String,
    /// The host.
    pub host: String,
    /// The class as [`class_name`] spells it (`bmc`, `storage_controller`, `other:Fan`).
    pub class: String,
    /// Manufacturer.
    pub manufacturer: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Hardware revision.
    pub revision: Option<String>,
    /// Firmware version.
    pub firmware_version: Option<String>,
    /// Slot, socket, bay or locator.
    pub location: Option<String>,
    /// The inventory source (`smbios`, `redfish`, ...), as first recorded.
    pub source: String,
    /// SHA-256 of the evidence file the component was read from, as first recorded.
    pub evidence_sha256: Option<String>,
    /// The tool version that first recorded it.
    pub collector: String,
    /// When first observed (RFC 3339).
    pub first_seen: String,
    /// When last observed (RFC 3339).
    pub last_seen: String,
    /// When first no longer observed (RFC 3339); `None` while current.
    pub valid_to: Option<String>,
}

impl ComponentRow {
    /// The value of `field`, for filters the caller applies itself (orderings).
    pub fn field(&self, field: Field) -> Option<&str> {
        match field {
            Field::Manufacturer => self.manufacturer.as_deref(),
            Field::Model => self.model.as_deref(),
            Field::Serial => self.serial.as_deref(),
            Field::Revision => self.revision.as_deref(),
            Field::FirmwareVersion => self.firmware_version.as_deref(),
            Field::Location => self.location.as_deref(),
        }
    }

    fn from_row(r: &Row) -> Result<ComponentRow, DbError> {
        Ok(ComponentRow {
            id: r.int(0)?,
            fleet: r.text(1)?,
            host: r.text(2)?,
            class: r.text(3)?,
            manufacturer: r.opt_text(4)?,
            model: r.opt_text(5)?,
            serial: r.opt_text(6)?,
            revision: r.opt_text(7)?,
            firmware_version: r.opt_text(8)?,
            location: r.opt_text(9)?,
            source: r.text(10)?,
            evidence_sha256: r.opt_text(11)?,
            collector: r.text(12)?,
            first_seen: r.text(13)?,
            last_seen: r.text(14)?,
            valid_to: r.opt_text(15)?,
        })
    }
}

/// One row for the bulk loader ([`Store::load_component_history`]), e.g. a synthetic history
/// for benchmarks or an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// The fleet.
    pub fleet: String,
    /// The host.
    pub host: String,
    /// The class as [`class_name`] spells it.
    pub class: String,
    /// Manufacturer.
    pub manufacturer: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Hardware revision.
    pub revision: Option<String>,
    /// Firmware version.
    pub firmware_version: Option<String>,
    /// Slot, socket, bay or locator.
    pub location: Option<String>,
    /// The inventory source.
    pub source: String,
    /// SHA-256 of the evidence file.
    pub evidence_sha256: Option<String>,
    /// The tool version that collected it.
    pub collector: String,
    /// When first observed.
    pub first_seen: SystemTime,
    /// When last observed.
    pub last_seen: SystemTime,
    /// When first no longer observed; `None` while current.
    pub valid_to: Option<SystemTime>,
}

impl HistoryRow {
    fn into_values(self, out: &mut Vec<Value>) {
        out.extend([
            self.fleet.into(),
            self.host.into(),
            self.class.into(),
            self.manufacturer.into(),
            self.model.into(),
            self.serial.into(),
            self.revision.into(),
            self.firmware_version.into(),
            self.location.into(),
            self.source.into(),
            self.evidence_sha256.into(),
            self.collector.into(),
            rfc3339(self.first_seen).into(),
            rfc3339(self.last_seen).into(),
            self.valid_to.map(rfc3339).into(),
        ]);
    }
}

/// The stored name of a component class: serde's snake_case name (`bmc`, `power_supply`),
/// `other:NAME` for a class the source named itself, `unknown` when the source gave none.
pub fn class_name(class: Option<&ComponentClass>) -> String {
    match class {
        None => "unknown".into(),
        Some(ComponentClass::Other(name)) => format!("other:{name}"),
        Some(c) => c.name().to_string(),
    }
}

/// A component's identity within its host.
type Key = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn key_of(c: &Component) -> Key {
    (
        class_name(c.class.as_ref()),
        c.location.clone(),
        c.manufacturer.clone(),
        c.model.clone(),
        c.serial.clone(),
        c.firmware_version.clone(),
        c.revision.clone(),
    )
}

/// Appends a parameter and returns its placeholder (`$N`).
fn push_param(params: &mut Vec<Value>, v: Value) -> String {
    params.push(v);
    format!("${}", params.len())
}

/// `INSERT INTO components (...) VALUES (...), (...)` for `rows` rows.
fn insert_sql(rows: usize) -> String {
    let mut sql = format!("INSERT INTO components ({INSERT_COLUMNS}) VALUES ");
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..INSERT_WIDTH {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            sql.push_str(&format!("${n}"));
        }
        sql.push(')');
    }
    sql
}

/// Inserts `values` (a multiple of [`INSERT_WIDTH`]) in statements of up to
/// [`ROWS_PER_INSERT`] rows.
fn insert_rows(db: &mut Db, values: &[Value]) -> Result<u64, DbError> {
    let mut inserted = 0;
    for chunk in values.chunks(INSERT_WIDTH * ROWS_PER_INSERT) {
        inserted += db.execute(&insert_sql(chunk.len() / INSERT_WIDTH), chunk)?;
    }
    Ok(inserted)
}

impl Store {
    /// Records the components observed on `hosts` of `fleet` at `at` by `collector` (the tool
    /// version), comparing each host with its current rows: identities seen again get
    /// `last_seen = at`, identities no longer seen get `valid_to = at`, new ones are inserted
    /// with `first_seen = last_seen = at`. Identical components on one host (two DIMMs without
    /// serial or slot) count as a multiset. Hosts not listed are left alone; a host listed with
    /// no components has all its rows closed. One transaction for all hosts.
    ///
    /// Each host is `(host, sha256 of the evidence its inventory came from, components)`.
    pub fn record_components(
        &mut self,
        fleet: &str,
        at: SystemTime,
        collector: &str,
        hosts: &[(&str, Option<&str>, &[Component])],
    ) -> Result<RecordedComponents, StoreError> {
        let at = rfc3339(at);
        let mut done = RecordedComponents::default();
        let mut tx = self.db.begin()?;
        for (host, evidence, components) in hosts {
            let current = tx.query(
                "SELECT id, class, location, manufacturer, model, serial, firmware_version, revision
                 FROM components WHERE host = $1 AND fleet = $2 AND valid_to IS NULL",
                &[(*host).into(), fleet.into()],
            )?;
            let mut open: HashMap<Key, Vec<i64>> = HashMap::new();
            for r in &current {
                let key = (
                    r.text(1)?,
                    r.opt_text(2)?,
                    r.opt_text(3)?,
                    r.opt_text(4)?,
                    r.opt_text(5)?,
                    r.opt_text(6)?,
                    r.opt_text(7)?,
                );
                open.entry(key).or_default().push(r.int(0)?);
            }
            let mut new_values = Vec::new();
            for c in *components {
                let key = key_of(c);
                if open.get_mut(&key).and_then(Vec::pop).is_some() {
                    done.kept += 1;
                    continue;
                }
                let (class, location, manufacturer, model, serial, firmware_version, revision) =
                    key;
                new_values.extend([
                    fleet.into(),
                    (*host).into(),
                    class.into(),
                    manufacturer.into(),
                    model.into(),
                    serial.into(),
                    revision.into(),
                    firmware_version.into(),
                    location.into(),
                    c.source.as_str().into(),
                    (*evidence).into(),
                    collector.into(),
                    at.as_str().into(),
                    at.as_str().into(),
                    Value::Null,
                ]);
            }
            // Close what is gone first, so that only rows still observed move `last_seen`.
            let mut closed = 0;
            for id in open.into_values().flatten() {
                closed += tx.execute(
                    "UPDATE components SET valid_to = $1 WHERE id = $2",
                    &[at.as_str().into(), Value::Int(id)],
                )?;
            }
            done.closed += closed;
            if u64::try_from(current.len()).unwrap_or(u64::MAX) > closed {
                tx.execute(
                    "UPDATE components SET last_seen = $1
                     WHERE host = $2 AND fleet = $3 AND valid_to IS NULL",
                    &[at.as_str().into(), (*host).into(), fleet.into()],
                )?;
            }
            done.opened += insert_rows(&mut tx, &new_values)?;
        }
        tx.commit()?;
        Ok(done)
    }

    /// Inserts many history rows as they are, fast: multi-row `INSERT`s of about 500 rows in
    /// one transaction (for benchmarks and imports). Returns how many rows were inserted.
    pub fn load_component_history(
        &mut self,
        rows: impl Iterator<Item = HistoryRow>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.db.begin()?;
        let mut values = Vec::with_capacity(INSERT_WIDTH * ROWS_PER_INSERT);
        let mut inserted = 0;
        for row in rows {
            row.into_values(&mut values);
            if values.len() >= INSERT_WIDTH * ROWS_PER_INSERT {
                inserted += insert_rows(&mut tx, &values)?;
                values.clear();
            }
        }
        inserted += insert_rows(&mut tx, &values)?;
        tx.commit()?;
        // Fresh statistics, so both planners pick the (class, host) and LOWER(...) indexes
        // for fleet queries instead of scanning a class.
        self.db.execute("ANALYZE components", &[])?;
        Ok(inserted)
    }

    /// Component rows of class `class` (as [`class_name`] spells it) in `fleet` (every fleet
    /// when `None`) that pass every filter and were valid at some time in `[since, now]`
    /// (`valid_to IS NULL OR valid_to >= since`; only current rows when `since` is `None`).
    /// Sorted by host, then id (oldest first).
    pub fn components_matching(
        &mut self,
        fleet: Option<&str>,
        class: &str,
        filters: &[(Field, Op, String)],
        since: Option<SystemTime>,
    ) -> Result<Vec<ComponentRow>, StoreError> {
        let mut sql = format!("SELECT {SELECT_COLUMNS} FROM components WHERE class = $1");
        let mut params: Vec<Value> = vec![class.into()];
        if let Some(fleet) = fleet {
            let p = push_param(&mut params, fleet.into());
            sql.push_str(&format!(" AND fleet = {p}"));
        }
        for (field, op, value) in filters {
            let column = field.name();
            let clause = match op {
                Op::Eq => format!(
                    "{column} = {}",
                    push_param(&mut params, value.as_str().into())
                ),
                Op::Ne => format!(
                    "({column} IS NULL OR {column} <> {})",
                    push_param(&mut params, value.as_str().into())
                ),
                Op::Contains if value.is_empty() => format!("{column} IS NOT NULL"),
                // REPLACE is spelled and behaves the same on both backends (SQLite's `instr`
                // is PostgreSQL's `strpos`; LIKE differs in case sensitivity).
                Op::Contains => format!(
                    "REPLACE({column}, {}, '') <> {column}",
                    push_param(&mut params, value.as_str().into())
                ),
            };
            sql.push_str(" AND ");
            sql.push_str(&clause);
        }
        match since {
            Some(since) => {
                let p = push_param(&mut params, rfc3339(since).into());
                sql.push_str(&format!(" AND (valid_to IS NULL OR valid_to >= {p})"));
            }
            None => sql.push_str(" AND valid_to IS NULL"),
        }
        let rows = self.db.query(&sql, &params)?;
        let mut out = rows
            .iter()
            .map(ComponentRow::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        // Sorted here, not by ORDER BY: PostgreSQL's collation would order text differently.
        out.sort_by(|a, b| (&a.host, a.id).cmp(&(&b.host, b.id)));
        Ok(out)
    }
}

impl Store {
    /// The rows of `class` valid in the window (current rows only without `since`), for
    /// evaluating a condition on `field`. `eq` narrows in SQL to rows whose field equals it, case-insensitively (indexed);
    /// `hosts` keeps only those hosts (looked up through the (class, host) index, 500 at a
    /// time), which is how a conjunction reads only the rows of hosts its first equality left.
    pub fn field_values(
        &mut self,
        fleet: Option<&str>,
        class: &str,
        field: Field,
        eq: Option<&str>,
        since: Option<SystemTime>,
        hosts: Option<&[String]>,
    ) -> Result<Vec<ComponentRow>, StoreError> {
        let chunks: Vec<Option<&[String]>> = match hosts {
            None => vec![None],
            Some(h) => h.chunks(2000).map(Some).collect(),
        };
        let mut out = Vec::new();
        for chunk in chunks {
            let column = field.name();
            let mut params: Vec<Value> = vec![class.into()];
            let mut sql = format!("SELECT {SELECT_COLUMNS} FROM components WHERE class = $1");
            if let Some(chunk) = chunk {
                let marks: Vec<String> = chunk
                    .iter()
                    .map(|h| push_param(&mut params, h.as_str().into()))
                    .collect();
                sql.push_str(&format!(" AND host IN ({})", marks.join(", ")));
            }
            if let Some(fleet) = fleet {
                let p = push_param(&mut params, fleet.into());
                sql.push_str(&format!(" AND fleet = {p}"));
            }
            if let Some(v) = eq {
                let p = push_param(&mut params, v.to_lowercase().into());
                sql.push_str(&format!(" AND LOWER({column}) = {p}"));
            }
            match since {
                Some(since) => {
                    let p = push_param(&mut params, rfc3339(since).into());
                    sql.push_str(&format!(" AND (valid_to IS NULL OR valid_to >= {p})"));
                }
                None => sql.push_str(" AND valid_to IS NULL"),
            }
            for r in self.db.query(&sql, &params)? {
                out.push(ComponentRow::from_row(&r)?);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;
    use std::time::Duration;

    fn t(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000 + secs)
    }

    fn part(class: ComponentClass, location: &str, model: &str, serial: Option<&str>) -> Component {
        Component {
            class: Some(class),
            manufacturer: Some("Acme".into()),
            model: Some(model.into()),
            serial: serial.map(str::to_string),
            location: Some(location.into()),
            source: "smbios".into(),
            ..Component::default()
        }
    }

    fn bmc(fw: &str) -> Component {
        Component {
            firmware_version: Some(fw.into()),
            ..part(ComponentClass::Bmc, "BMC", "AST2600", Some("B1"))
        }
    }

    fn hosts_of(rows: &[ComponentRow]) -> Vec<&str> {
        rows.iter().map(|r| r.host.as_str()).collect()
    }

    fn all_rows(store: &mut Store, class: &str) -> Vec<ComponentRow> {
        store
            .components_matching(None, class, &[], Some(SystemTime::UNIX_EPOCH))
            .unwrap()
    }

    fn seen_again_closed_and_new_components(db: &TestDb) {
        let mut store = db.open();
        let dimm = part(ComponentClass::Memory, "DIMM_A1", "M393", None);
        let first = [
            bmc("1.0"),
            part(ComponentClass::Cpu, "CPU1", "Xeon", Some("C1")),
            dimm.clone(),
            dimm.clone(),
        ];
        let done = store
            .record_components("f", t(0), "tamperscan 0.1", &[("h1", Some("ab"), &first)])
            .unwrap();
        assert_eq!(
            done,
            RecordedComponents {
                kept: 0,
                closed: 0,
                opened: 4
            }
        );
        let second = [
            bmc("1.0"),
            part(ComponentClass::Cpu, "CPU1", "Xeon", Some("C2")),
            dimm.clone(),
        ];
        let done = store
            .record_components("f", t(60), "tamperscan 0.2", &[("h1", Some("cd"), &second)])
            .unwrap();
        assert_eq!(
            done,
            RecordedComponents {
                kept: 2,
                closed: 2,
                opened: 1
            }
        );
        // Recording the same again only moves last_seen.
        let done = store
            .record_components(
                "f",
                t(120),
                "tamperscan 0.2",
                &[("h1", Some("cd"), &second)],
            )
            .unwrap();
        assert_eq!(
            done,
            RecordedComponents {
                kept: 3,
                closed: 0,
                opened: 0
            }
        );
        let bmcs = all_rows(&mut store, "bmc");
        assert_eq!(bmcs.len(), 1);
        let b = &bmcs[0];
        assert_eq!(
            (b.fleet.as_str(), b.host.as_str(), b.class.as_str()),
            ("f", "h1", "bmc")
        );
        assert_eq!(b.manufacturer.as_deref(), Some("Acme"));
        assert_eq!(b.model.as_deref(), Some("AST2600"));
        assert_eq!(b.serial.as_deref(), Some("B1"));
        assert_eq!(b.firmware_version.as_deref(), Some("1.0"));
        assert_eq!(b.location.as_deref(), Some("BMC"));
        assert_eq!(b.revision, None);
        assert_eq!(b.source, "smbios");
        assert_eq!(b.evidence_sha256.as_deref(), Some("ab"));
        assert_eq!(b.collector, "tamperscan 0.1");
        assert_eq!(b.first_seen, "2026-09-21T14:13:20Z");
        assert_eq!(b.last_seen, "2026-09-21T14:15:20Z");
        assert_eq!(b.valid_to, None);
        let dimms = all_rows(&mut store, "memory");
        assert_eq!(dimms.len(), 2);
        let open: Vec<_> = dimms.iter().filter(|r| r.valid_to.is_none()).collect();
        let closed: Vec<_> = dimms.iter().filter(|r| r.valid_to.is_some()).collect();
        assert_eq!((open.len(), closed.len()), (1, 1));
        assert_eq!(open[0].last_seen, "2026-09-21T14:15:20Z");
        assert_eq!(closed[0].last_seen, "2026-09-21T14:13:20Z");
        assert_eq!(closed[0].valid_to.as_deref(), Some("2026-09-21T14:14:20Z"));
        // Current rows only without `since`.
        let current = store
            .components_matching(Some("f"), "memory", &[], None)
            .unwrap();
        assert_eq!(current.len(), 1);
    }

    fn a_swapped_part_closes_the_old_row_and_opens_a_new_one(db: &TestDb) {
        let mut store = db.open();
        let before = [part(
            ComponentClass::Storage,
            "Bay 1",
            "PM9A3",
            Some("S-OLD"),
        )];
        let after = [part(
            ComponentClass::Storage,
            "Bay 1",
            "PM9A3",
            Some("S-NEW"),
        )];
        store
            .record_components("f", t(0), "c", &[("h1", None, &before)])
            .unwrap();
        store
            .record_components("f", t(3600), "c", &[("h1", None, &after)])
            .unwrap();
        let rows = all_rows(&mut store, "storage");
        assert_eq!(rows.len(), 2);
        let old = &rows[0];
        let new = &rows[1];
        assert_eq!(old.serial.as_deref(), Some("S-OLD"));
        assert_eq!(old.first_seen, "2026-09-21T14:13:20Z");
        assert_eq!(old.last_seen, "2026-09-21T14:13:20Z");
        assert_eq!(old.valid_to.as_deref(), Some("2026-09-21T15:13:20Z"));
        assert_eq!(new.serial.as_deref(), Some("S-NEW"));
        assert_eq!(new.first_seen, "2026-09-21T15:13:20Z");
        assert_eq!(new.last_seen, "2026-09-21T15:13:20Z");
        assert_eq!(new.valid_to, None);
        assert_eq!(new.evidence_sha256, None);
        // Which host had serial S-OLD since the swap (inclusive), and after it.
        let filter = [(Field::Serial, Op::Eq, "S-OLD".to_string())];
        let since_swap = store
            .components_matching(Some("f"), "storage", &filter, Some(t(3600)))
            .unwrap();
        assert_eq!(hosts_of(&since_swap), ["h1"]);
        let after_swap = store
            .components_matching(Some("f"), "storage", &filter, Some(t(3601)))
            .unwrap();
        assert!(after_swap.is_empty());
    }

    fn hosts_with_a_firmware_at_any_time_since(db: &TestDb) {
        let mut store = db.open();
        let (old, new) = ([bmc("1.0")], [bmc("2.0")]);
        store
            .record_components(
                "f",
                t(0),
                "c",
                &[("h1", None, &old), ("h2", None, &old), ("h3", None, &old)],
            )
            .unwrap();
        store
            .record_components("g", t(0), "c", &[("h1", None, &old)])
            .unwrap();
        // h1 is updated; h2 is seen unchanged; h3 is not audited this time and stays open.
        store
            .record_components("f", t(100), "c", &[("h1", None, &new), ("h2", None, &old)])
            .unwrap();
        let v1 = [(Field::FirmwareVersion, Op::Eq, "1.0".to_string())];
        let had = |store: &mut Store, since| {
            let rows = store
                .components_matching(Some("f"), "bmc", &v1, since)
                .unwrap();
            rows.iter().map(|r| r.host.clone()).collect::<Vec<_>>()
        };
        assert_eq!(had(&mut store, Some(t(50))), ["h1", "h2", "h3"]);
        assert_eq!(had(&mut store, Some(t(100))), ["h1", "h2", "h3"]);
        assert_eq!(had(&mut store, Some(t(101))), ["h2", "h3"]);
        assert_eq!(had(&mut store, None), ["h2", "h3"]);
        let v2 = [(Field::FirmwareVersion, Op::Eq, "2.0".to_string())];
        let rows = store.components_matching(None, "bmc", &v2, None).unwrap();
        assert_eq!(hosts_of(&rows), ["h1"]);
        assert_eq!(rows[0].first_seen, "2026-09-21T14:15:00Z");
        // Every fleet: the other fleet's h1 still runs 1.0.
        let rows = store
            .components_matching(None, "bmc", &v1, Some(t(101)))
            .unwrap();
        let fleets: Vec<_> = rows
            .iter()
            .map(|r| (r.fleet.as_str(), r.host.as_str()))
            .collect();
        assert_eq!(fleets, [("g", "h1"), ("f", "h2"), ("f", "h3")]);
        // A host listed with nothing has all its rows closed.
        let done = store
            .record_components("f", t(200), "c", &[("h2", None, &[])])
            .unwrap();
        assert_eq!(done.closed, 1);
        assert_eq!(had(&mut store, None), ["h3"]);
    }

    fn filters_eq_ne_contains(db: &TestDb) {
        let mut store = db.open();
        let nics = [
            Component {
                firmware_version: Some("22.31.6".into()),
                revision: Some("A1".into()),
                ..part(ComponentClass::Nic, "NIC1", "ConnectX-6 Dx", Some("MT1"))
            },
            Component {
                manufacturer: Some("O'Brien & Co_".into()),
                ..part(ComponentClass::Nic, "NIC2", "E810-XXV", Some("MT2"))
            },
            Component {
                model: None,
                ..part(ComponentClass::Nic, "NIC3", "", None)
            },
        ];
        store
            .record_components("f", t(0), "c", &[("h1", None, &nics)])
            .unwrap();
        let locs = |store: &mut Store, filters: &[(Field, Op, &str)]| {
            let filters: Vec<_> = filters
                .iter()
                .map(|(f, o, v)| (*f, *o, v.to_string()))
                .collect();
            let rows = store
                .components_matching(Some("f"), "nic", &filters, None)
                .unwrap();
            rows.iter()
                .map(|r| r.location.clone().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(locs(&mut store, &[]), ["NIC1", "NIC2", "NIC3"]);
        assert_eq!(
            locs(&mut store, &[(Field::Model, Op::Eq, "E810-XXV")]),
            ["NIC2"]
        );
        assert_eq!(
            locs(&mut store, &[(Field::Model, Op::Eq, "e810-xxv")]),
            [""; 0]
        );
        assert_eq!(
            locs(&mut store, &[(Field::Model, Op::Ne, "E810-XXV")]),
            ["NIC1", "NIC3"]
        );
        assert_eq!(
            locs(&mut store, &[(Field::Model, Op::Contains, "X-6")]),
            ["NIC1"]
        );
        assert_eq!(
            locs(&mut store, &[(Field::Model, Op::Contains, "x-6")]),
            [""; 0]
        );
        assert_eq!(
            locs(&mut store, &[(Field::Model, Op::Contains, "")]),
            ["NIC1", "NIC2"]
        );
        assert_eq!(
            locs(
                &mut store,
                &[(Field::Manufacturer, Op::Eq, "O'Brien & Co_")]
            ),
            ["NIC2"]
        );
        // Contains is literal: `_` and `%` are no wildcards.
        assert_eq!(
            locs(&mut store, &[(Field::Manufacturer, Op::Contains, "_")]),
            ["NIC2"]
        );
        assert_eq!(
            locs(&mut store, &[(Field::Manufacturer, Op::Contains, "%")]),
            [""; 0]
        );
        assert_eq!(
            locs(
                &mut store,
                &[
                    (Field::Serial, Op::Ne, "MT2"),
                    (Field::FirmwareVersion, Op::Contains, "22."),
                    (Field::Revision, Op::Eq, "A1"),
                ]
            ),
            ["NIC1"]
        );
        assert_eq!(
            locs(&mut store, &[(Field::Serial, Op::Ne, "MT2")]),
            ["NIC1", "NIC3"]
        );
        assert_eq!(
            locs(&mut store, &[(Field::Location, Op::Eq, "NIC3")]),
            ["NIC3"]
        );
        // Another fleet or class sees nothing.
        assert!(store
            .components_matching(Some("other"), "nic", &[], None)
            .unwrap()
            .is_empty());
        assert!(store
            .components_matching(None, "gpu", &[], None)
            .unwrap()
            .is_empty());
        let r = &store.components_matching(None, "nic", &[], None).unwrap()[0];
        assert_eq!(r.field(Field::FirmwareVersion), Some("22.31.6"));
        assert_eq!(r.field(Field::Revision), Some("A1"));
    }

    fn bulk_load_inserts_every_row(db: &TestDb) {
        let mut store = db.open();
        let n = 2 * ROWS_PER_INSERT + 37;
        let rows = (0..n).map(|i| HistoryRow {
            fleet: "bench".into(),
            host: format!("host{:05}", i / 10),
            class: if i % 10 == 0 { "bmc" } else { "memory" }.into(),
            manufacturer: Some("Acme".into()),
            model: Some(format!("M{}", i % 3)),
            serial: Some(format!("S{i}")),
            revision: None,
            firmware_version: Some(if i % 20 == 0 { "1.0" } else { "2.0" }.into()),
            location: Some(format!("slot{}", i % 10)),
            source: "redfish".into(),
            evidence_sha256: None,
            collector: "bench".into(),
            first_seen: t(0),
            last_seen: t(10),
            valid_to: (i % 20 == 0).then(|| t(11)),
        });
        assert_eq!(store.load_component_history(rows).unwrap(), n as u64);
        assert_eq!(store.load_component_history(std::iter::empty()).unwrap(), 0);
        let total = store
            .db
            .query("SELECT COUNT(*) FROM components", &[])
            .unwrap();
        assert_eq!(total[0].int(0).unwrap(), n as i64);
        // Hosts whose BMC ran 1.0 (closed at t(11)): every other host.
        let v1 = [(Field::FirmwareVersion, Op::Eq, "1.0".to_string())];
        let rows = store
            .components_matching(Some("bench"), "bmc", &v1, Some(t(11)))
            .unwrap();
        assert_eq!(rows.len(), n.div_ceil(20));
        assert_eq!(rows[1].host, "host00002");
        assert_eq!(rows[1].serial.as_deref(), Some("S20"));
        assert_eq!(rows[1].valid_to.as_deref(), Some("2026-09-21T14:13:31Z"));
        assert!(store
            .components_matching(Some("bench"), "bmc", &v1, Some(t(12)))
            .unwrap()
            .is_empty());
        let memory = store
            .components_matching(Some("bench"), "memory", &[], None)
            .unwrap();
        assert_eq!(memory.len(), n - n.div_ceil(10));
    }

    on_both_backends!(
        seen_again_closed_and_new_components,
        a_swapped_part_closes_the_old_row_and_opens_a_new_one,
        hosts_with_a_firmware_at_any_time_since,
        filters_eq_ne_contains,
        bulk_load_inserts_every_row,
    );

    #[test]
    fn class_names_are_stable() {
        assert_eq!(class_name(Some(&ComponentClass::Bmc)), "bmc");
        assert_eq!(
            class_name(Some(&ComponentClass::StorageController)),
            "storage_controller"
        );
        assert_eq!(
            class_name(Some(&ComponentClass::PowerSupply)),
            "power_supply"
        );
        assert_eq!(
            class_name(Some(&ComponentClass::Other("Fan".into()))),
            "other:Fan"
        );
        assert_eq!(class_name(None), "unknown");
    }

    #[test]
    fn field_names_round_trip() {
        for f in Field::ALL {
            assert_eq!(Field::from_name(f.name()), Some(f));
        }
        assert_eq!(
            Field::from_name("firmware_version"),
            Some(Field::FirmwareVersion)
        );
        assert_eq!(Field::from_name("id; DROP TABLE components"), None);
    }

    #[test]
    fn insert_sql_numbers_every_parameter() {
        let sql = insert_sql(2);
        assert!(
            sql.ends_with(
                "($16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30)"
            ),
            "{sql}"
        );
    }
}
