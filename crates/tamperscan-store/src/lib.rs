//! The store of record: every audit, the evidence it observed (path, size, SHA-256) and the
//! findings it raised, with timestamps, so that each audit can say what is new since the last;
//! and the history of every host's hardware components, so that a fleet can ask which hosts had
//! a part or a firmware version at any time since a date.
//!
//! The store is a SQLite file or a PostgreSQL database ([`Store::open`] takes a path or a
//! `postgres://` URL); both run the same SQL through one small internal layer.
//!
//! **Invariant:** this is the only crate that knows SQL. Rows are append-only: an audit never
//! changes what an earlier audit recorded, and component rows are never deleted (only their
//! `last_seen` and `valid_to` move).
#![forbid(unsafe_code)]

#[cfg(test)]
#[macro_use]
mod testing;

mod components;
mod db;
pub mod query;

pub use components::{class_name, ComponentRow, Field, HistoryRow, Op, RecordedComponents};
pub use db::{redact, DbError};

use db::{Backend, Db, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, SystemTime};
use tamperscan_model::{EvidenceItem, EvidenceStatus, Finding, HostId};

/// A store failure, named with the store's path or URL (passwords never shown).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be opened, created or brought up to date.
    #[error("cannot open store {target}: {source}")]
    Open {
        /// The database file or URL (password redacted).
        target: String,
        /// The reason.
        source: DbError,
    },
    /// The database was written by a newer tamperscan.
    #[error("store {target} has schema version {found}; this tamperscan knows up to {known}: upgrade tamperscan or use another --db")]
    TooNew {
        /// The database file or URL (password redacted).
        target: String,
        /// Its schema version.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// A query failed.
    #[error("store query failed: {0}")]
    Query(#[from] DbError),
}

/// One audit to record.
#[derive(Debug, Clone, Copy)]
pub struct AuditRecord<'a> {
    /// The fleet's name: audits of the same fleet are compared with each other.
    pub fleet: &'a str,
    /// When the audit started.
    pub started_at: SystemTime,
    /// When it finished.
    pub finished_at: SystemTime,
    /// The tamperscan version that ran it.
    pub tool_version: &'a str,
    /// The hosts audited, with their evidence.
    pub hosts: &'a [(&'a HostId, &'a [EvidenceItem])],
    /// Every finding.
    pub findings: &'a [Finding],
}

/// A finding as the store remembers it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoredFinding {
    /// The host.
    pub host: String,
    /// Its stable kind.
    pub kind: String,
    /// Its severity name.
    pub severity: String,
    /// Its sentence.
    pub summary: String,
    /// Its fingerprint.
    pub fingerprint: String,
}

/// An evidence file whose bytes changed between two audits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EvidenceChange {
    /// The host.
    pub host: String,
    /// The evidence path.
    pub path: String,
    /// SHA-256 before (`None`: absent or unread).
    pub before: Option<String>,
    /// SHA-256 now (`None`: absent or unread).
    pub after: Option<String>,
}

/// What changed since the previous audit of the same fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinceLast {
    /// The previous audit's id.
    pub previous_id: i64,
    /// When it finished (RFC 3339).
    pub previous_at: String,
    /// Fingerprints of findings that the previous audit did not have.
    pub new: BTreeSet<String>,
    /// Findings of the previous audit that are gone.
    pub resolved: Vec<StoredFinding>,
    /// Evidence whose bytes changed, appeared or disappeared.
    pub changed_evidence: Vec<EvidenceChange>,
}

/// The store: a SQLite file or a PostgreSQL database.
#[derive(Debug)]
pub struct Store {
    db: Db,
    /// What [`Store::open`] was given, password redacted.
    target: String,
}

/// The schema, one migration per version. `{id}` is the auto-assigned id column type, the only
/// per-backend text ([`Backend::id_column`]). Version 1 is the schema of the first SQLite
/// stores (then tracked in `PRAGMA user_version`); never edit a released migration.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE audits (
    id {id},
    fleet TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    host_count BIGINT NOT NULL,
    finding_count BIGINT NOT NULL
);
CREATE INDEX audits_fleet ON audits (fleet, id);
CREATE TABLE observations (
    audit_id BIGINT NOT NULL REFERENCES audits (id),
    host TEXT NOT NULL,
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT,
    format TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (audit_id, path)
);
CREATE INDEX observations_sha256 ON observations (sha256);
CREATE TABLE findings (
    audit_id BIGINT NOT NULL REFERENCES audits (id),
    host TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    layer TEXT NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    summary TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (audit_id, fingerprint)
);
CREATE INDEX findings_kind ON findings (kind);
"#,
    r#"
CREATE TABLE components (
    id {id},
    fleet TEXT NOT NULL,
    host TEXT NOT NULL,
    class TEXT NOT NULL,
    manufacturer TEXT,
    model TEXT,
    serial TEXT,
    revision TEXT,
    firmware_version TEXT,
    location TEXT,
    source TEXT NOT NULL,
    evidence_sha256 TEXT,
    collector TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    valid_to TEXT
);
CREATE INDEX components_fleet_class_model ON components (fleet, class, model);
CREATE INDEX components_fleet_class_firmware ON components (fleet, class, firmware_version);
CREATE INDEX components_serial ON components (serial);
CREATE INDEX components_host ON components (host);
"#,
    // Case-insensitive lookups (fleet queries compare text as people type it).
    r#"
CREATE INDEX components_class_lower_model ON components (class, LOWER(model));
CREATE INDEX components_class_lower_serial ON components (class, LOWER(serial));
CREATE INDEX components_class_lower_manufacturer ON components (class, LOWER(manufacturer));
CREATE INDEX components_class_lower_firmware ON components (class, LOWER(firmware_version));
CREATE INDEX components_class_host ON components (class, host);
"#,
];

/// The table that records which migrations ran, on both backends.
const SCHEMA_VERSION_DDL: &str = "CREATE TABLE IF NOT EXISTS schema_version (
    version BIGINT NOT NULL PRIMARY KEY,
    applied_at TEXT NOT NULL,
    tool_version TEXT NOT NULL
)";

/// Serializes concurrent migrations of one PostgreSQL database (an arbitrary constant key).
const PG_MIGRATION_LOCK: i64 = 0x7461_6d70_6572;

impl Store {
    /// Opens (creating if needed) the store at `target` and brings its schema up to date.
    ///
    /// `target` is a SQLite file path, or a `postgres://` / `postgresql://` URL (any
    /// rust-postgres connection parameter may follow `?`, e.g. `options=-csearch_path%3Dtamper`
    /// to use a schema other than `public`; no TLS). Errors name the target without its
    /// password.
    pub fn open<T: AsRef<OsStr> + ?Sized>(target: &T) -> Result<Store, StoreError> {
        let target = target.as_ref();
        match target.to_str() {
            Some(url) if db::is_postgres_url(url) => Store::open_postgres(url),
            _ => Store::open_sqlite(Path::new(target)),
        }
    }

    fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        let shown = path.display().to_string();
        let open_err = |source: rusqlite::Error| StoreError::Open {
            target: shown.clone(),
            source: source.into(),
        };
        let conn = rusqlite::Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(open_err)?;
        let mut store = Store {
            db: Db::sqlite(conn),
            target: shown,
        };
        store.migrate()?;
        Ok(store)
    }

    fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let shown = redact(url);
        let open_err = |source: DbError| StoreError::Open {
            target: shown.clone(),
            source,
        };
        let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| {
            let e = DbError::from(e);
            open_err(DbError::Url(format!("not a PostgreSQL URL: {e}")))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("tamperscan");
        }
        let client = config
            .connect(postgres::NoTls)
            .map_err(|e| open_err(e.into()))?;
        let mut store = Store {
            db: Db::postgres(client),
            target: shown,
        };
        store.migrate()?;
        Ok(store)
    }

    /// The file or URL this store was opened from, password redacted.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The schema version this build brings stores up to.
    pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

    /// Brings the schema up to date in one transaction, or refuses a store from a newer build.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let target = self.target.clone();
        let open_err = |source: DbError| StoreError::Open {
            target: target.clone(),
            source,
        };
        let backend = self.db.backend();
        let mut tx = self.db.begin().map_err(open_err)?;
        if backend == Backend::Postgres {
            tx.execute(
                "SELECT pg_advisory_xact_lock($1)",
                &[Value::Int(PG_MIGRATION_LOCK)],
            )
            .map_err(open_err)?;
        }
        tx.batch(SCHEMA_VERSION_DDL).map_err(open_err)?;
        let recorded = tx
            .query("SELECT MAX(version) FROM schema_version", &[])
            .map_err(open_err)?
            .first()
            .map(|r| r.opt_int(0))
            .transpose()
            .map_err(open_err)?
            .flatten()
            .unwrap_or(0);
        // Stores written before `schema_version` existed kept their version in the SQLite
        // header; this build keeps it there too, so older builds still refuse newer stores.
        let legacy = match backend {
            Backend::Sqlite => tx
                .query("PRAGMA user_version", &[])
                .map_err(open_err)?
                .first()
                .map(|r| r.int(0))
                .transpose()
                .map_err(open_err)?
                .unwrap_or(0),
            Backend::Postgres => 0,
        };
        let found = recorded.max(legacy);
        let known = Store::SCHEMA_VERSION;
        if found > known {
            return Err(StoreError::TooNew {
                target: self.target.clone(),
                found,
                known,
            });
        }
        let now = rfc3339(SystemTime::now());
        let tool = concat!("tamperscan-store ", env!("CARGO_PKG_VERSION"));
        for version in recorded + 1..=legacy {
            tx.execute(
                "INSERT INTO schema_version (version, applied_at, tool_version) VALUES ($1, $2, $3)",
                &[Value::Int(version), now.as_str().into(), "PRAGMA user_version".into()],
            )
            .map_err(open_err)?;
        }
        for (version, sql) in (1i64..).zip(MIGRATIONS).skip_while(|(v, _)| *v <= found) {
            tx.batch(&sql.replace("{id}", backend.id_column()))
                .map_err(open_err)?;
            tx.execute(
                "INSERT INTO schema_version (version, applied_at, tool_version) VALUES ($1, $2, $3)",
                &[Value::Int(version), now.as_str().into(), tool.into()],
            )
            .map_err(open_err)?;
        }
        if backend == Backend::Sqlite && legacy != known {
            tx.batch(&format!("PRAGMA user_version = {known}"))
                .map_err(open_err)?;
        }
        tx.commit().map_err(open_err)
    }

    /// Records an audit and compares it with the previous audit of the same fleet.
    pub fn record(
        &mut self,
        audit: &AuditRecord<'_>,
    ) -> Result<(i64, Option<SinceLast>), StoreError> {
        let mut tx = self.db.begin()?;
        let previous = tx
            .query(
                "SELECT id, finished_at FROM audits WHERE fleet = $1 ORDER BY id DESC LIMIT 1",
                &[audit.fleet.into()],
            )?
            .first()
            .map(|r| Ok::<_, DbError>((r.int(0)?, r.text(1)?)))
            .transpose()?;
        let inserted = tx.query(
            "INSERT INTO audits (fleet, started_at, finished_at, tool_version, host_count, finding_count)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[
                audit.fleet.into(),
                rfc3339(audit.started_at).into(),
                rfc3339(audit.finished_at).into(),
                audit.tool_version.into(),
                Value::Int(count(audit.hosts.len())),
                Value::Int(count(audit.findings.len())),
            ],
        )?;
        let id = match inserted.first() {
            Some(row) => row.int(0)?,
            None => {
                return Err(DbError::Value {
                    column: 0,
                    what: "INSERT ... RETURNING id returned no row".into(),
                }
                .into())
            }
        };
        for (host, items) in audit.hosts {
            for item in *items {
                let kind = serde_json::to_string(&item.kind).unwrap_or_default();
                tx.execute(
                    "INSERT INTO observations (audit_id, host, path, kind, size, sha256, format, status)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                    &[
                        Value::Int(id),
                        host.0.as_str().into(),
                        item.path.as_str().into(),
                        kind.into(),
                        Value::Int(i64::try_from(item.size).unwrap_or(i64::MAX)),
                        item.sha256.as_deref().into(),
                        item.format.as_str().into(),
                        status_name(&item.status).into(),
                    ],
                )?;
            }
        }
        for f in audit.findings {
            let detail = serde_json::to_string(f).unwrap_or_default();
            tx.execute(
                "INSERT INTO findings (audit_id, host, fingerprint, layer, kind, severity, summary, detail)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                &[
                    Value::Int(id),
                    f.host.0.as_str().into(),
                    f.fingerprint().into(),
                    f.layer.name().into(),
                    f.kind.as_str().into(),
                    f.severity.name().into(),
                    f.summary.as_str().into(),
                    detail.into(),
                ],
            )?;
        }
        let since = match previous {
            Some((prev_id, prev_at)) => Some(compare(&mut tx, prev_id, prev_at, id)?),
            None => None,
        };
        tx.commit()?;
        Ok((id, since))
    }

    /// `(fleet, host, path)` of every evidence file that had SHA-256 `sha256` in any recorded
    /// audit, sorted: the first fleet question ("which servers share this?").
    pub fn hosts_with_evidence_hash(
        &mut self,
        sha256: &str,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = self.db.query(
            "SELECT DISTINCT a.fleet, o.host, o.path FROM observations o JOIN audits a ON a.id = o.audit_id
             WHERE o.sha256 = $1",
            &[sha256.to_ascii_lowercase().into()],
        )?;
        let mut out = rows
            .iter()
            .map(|r| Ok((r.text(0)?, r.text(1)?, r.text(2)?)))
            .collect::<Result<Vec<_>, DbError>>()?;
        // Sorted here, not by ORDER BY: PostgreSQL's collation would order text differently.
        out.sort();
        Ok(out)
    }
}

/// A length as a SQL integer.
fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn compare(db: &mut Db, prev: i64, prev_at: String, now: i64) -> Result<SinceLast, StoreError> {
    let mut findings_of = |audit: i64| -> Result<BTreeMap<String, StoredFinding>, DbError> {
        db.query(
            "SELECT host, kind, severity, summary, fingerprint FROM findings WHERE audit_id = $1",
            &[Value::Int(audit)],
        )?
        .iter()
        .map(|r| {
            let f = StoredFinding {
                host: r.text(0)?,
                kind: r.text(1)?,
                severity: r.text(2)?,
                summary: r.text(3)?,
                fingerprint: r.text(4)?,
            };
            Ok((f.fingerprint.clone(), f))
        })
        .collect()
    };
    let before = findings_of(prev)?;
    let after = findings_of(now)?;
    let mut evidence_of =
        |audit: i64| -> Result<BTreeMap<(String, String), Option<String>>, DbError> {
            db.query(
                "SELECT host, path, sha256 FROM observations WHERE audit_id = $1",
                &[Value::Int(audit)],
            )?
            .iter()
            .map(|r| Ok(((r.text(0)?, r.text(1)?), r.opt_text(2)?)))
            .collect()
        };
    let ev_before = evidence_of(prev)?;
    let ev_after = evidence_of(now)?;
    let new = after
        .keys()
        .filter(|k| !before.contains_key(*k))
        .cloned()
        .collect();
    let resolved = before
        .iter()
        .filter(|(k, _)| !after.contains_key(*k))
        .map(|(_, f)| f.clone())
        .collect();
    let keys: BTreeSet<&(String, String)> = ev_before.keys().chain(ev_after.keys()).collect();
    let changed_evidence = keys
        .into_iter()
        .filter_map(|key| {
            let b = ev_before.get(key).cloned().flatten();
            let a = ev_after.get(key).cloned().flatten();
            let present_b = ev_before.contains_key(key);
            let present_a = ev_after.contains_key(key);
            (b != a || present_a != present_b).then(|| EvidenceChange {
                host: key.0.clone(),
                path: key.1.clone(),
                before: b,
                after: a,
            })
        })
        .collect();
    Ok(SinceLast {
        previous_id: prev,
        previous_at: prev_at,
        new,
        resolved,
        changed_evidence,
    })
}

fn status_name(status: &EvidenceStatus) -> &'static str {
    match status {
        EvidenceStatus::Read => "read",
        EvidenceStatus::TooLarge { .. } => "too_large",
        EvidenceStatus::WrongFormat { .. } => "wrong_format",
        EvidenceStatus::Unreadable { .. } => "unreadable",
    }
}

/// RFC 3339 UTC with seconds.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;
    use tamperscan_model::{EvidenceKind, Layer, Location, Reference, Severity};

    fn finding(host: &HostId, kind: &str) -> Finding {
        Finding {
            host: host.clone(),
            layer: Layer::Host,
            kind: kind.into(),
            severity: Severity::High,
            summary: format!("{kind} on {host}"),
            expected: None,
            observed: None,
            location: Location::default(),
            reference: Reference::Fleet,
            pictures: Vec::new(),
        }
    }

    fn item(path: &str, sha: &str) -> EvidenceItem {
        EvidenceItem {
            kind: EvidenceKind::FirmwareImage { name: "bmc".into() },
            path: path.into(),
            size: 4,
            sha256: Some(sha.into()),
            format: "unknown".into(),
            status: EvidenceStatus::Read,
        }
    }

    fn versions(store: &mut Store) -> Vec<i64> {
        let rows = store
            .db
            .query("SELECT version FROM schema_version ORDER BY version", &[])
            .unwrap();
        rows.iter().map(|r| r.int(0).unwrap()).collect()
    }

    fn second_audit_reports_new_resolved_and_changed(db: &TestDb) {
        let h1 = HostId("h1".into());
        let h2 = HostId("h2".into());
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);

        let ev1 = [item("hosts/h1/firmware/bmc.bin", "aa")];
        let ev2 = [item("hosts/h2/firmware/bmc.bin", "bb")];
        let hosts = [(&h1, &ev1[..]), (&h2, &ev2[..])];
        let first = [finding(&h1, "host.a"), finding(&h2, "host.b")];
        let rec = AuditRecord {
            fleet: "f",
            started_at: now,
            finished_at: now,
            tool_version: "t",
            hosts: &hosts,
            findings: &first,
        };
        let mut store = db.open();
        let (id1, since) = store.record(&rec).unwrap();
        assert!(since.is_none());

        let ev1b = [item("hosts/h1/firmware/bmc.bin", "cc")];
        let hosts2 = [(&h1, &ev1b[..]), (&h2, &ev2[..])];
        let second = [finding(&h1, "host.a"), finding(&h1, "host.c")];
        let rec2 = AuditRecord {
            hosts: &hosts2,
            findings: &second,
            ..rec
        };
        drop(store);
        let mut store = db.open();
        let (id2, since) = store.record(&rec2).unwrap();
        assert!(id2 > id1);
        let since = since.unwrap();
        assert_eq!(since.previous_id, id1);
        assert_eq!(since.previous_at, "2026-09-21T14:13:20Z");
        assert_eq!(since.new, [second[1].fingerprint()].into_iter().collect());
        assert_eq!(since.resolved.len(), 1);
        assert_eq!(since.resolved[0].kind, "host.b");
        assert_eq!(since.resolved[0].summary, "host.b on h2");
        assert_eq!(
            since.changed_evidence,
            [EvidenceChange {
                host: "h1".into(),
                path: "hosts/h1/firmware/bmc.bin".into(),
                before: Some("aa".into()),
                after: Some("cc".into())
            }]
        );
        let sharing = store.hosts_with_evidence_hash("BB").unwrap();
        assert_eq!(
            sharing,
            [(
                "f".to_string(),
                "h2".to_string(),
                "hosts/h2/firmware/bmc.bin".to_string()
            )]
        );
        // A duplicate path within one audit is ignored, not an error (ON CONFLICT DO NOTHING).
        let dup = [item("p", "dd"), item("p", "ee")];
        let hosts3 = [(&h1, &dup[..])];
        let (_, since) = store
            .record(&AuditRecord {
                hosts: &hosts3,
                findings: &[],
                ..rec
            })
            .unwrap();
        assert_eq!(since.unwrap().resolved.len(), 2);
        assert_eq!(
            store.hosts_with_evidence_hash("dd").unwrap(),
            [("f".to_string(), "h1".to_string(), "p".to_string())]
        );
        assert!(store.hosts_with_evidence_hash("ee").unwrap().is_empty());
    }

    fn other_fleets_are_not_compared(db: &TestDb) {
        let mut store = db.open();
        let t = SystemTime::UNIX_EPOCH;
        let rec = AuditRecord {
            fleet: "a",
            started_at: t,
            finished_at: t,
            tool_version: "t",
            hosts: &[],
            findings: &[],
        };
        store.record(&rec).unwrap();
        let (_, since) = store.record(&AuditRecord { fleet: "b", ..rec }).unwrap();
        assert!(since.is_none());
        let (_, since) = store.record(&rec).unwrap();
        assert_eq!(since.unwrap().previous_at, "1970-01-01T00:00:00Z");
    }

    fn migrations_are_recorded_once(db: &TestDb) {
        let mut store = db.open();
        assert_eq!(versions(&mut store), [1, 2, 3]);
        drop(store);
        let mut store = db.open();
        assert_eq!(versions(&mut store), [1, 2, 3]);
        if !db.is_postgres() {
            let v = store.db.query("PRAGMA user_version", &[]).unwrap();
            assert_eq!(v[0].int(0).unwrap(), 3);
        }
    }

    fn a_newer_schema_is_refused(db: &TestDb) {
        let mut store = db.open();
        store
            .db
            .execute(
                "INSERT INTO schema_version (version, applied_at, tool_version) VALUES ($1, $2, $3)",
                &[Value::Int(99), "2030-01-01T00:00:00Z".into(), "future".into()],
            )
            .unwrap();
        drop(store);
        let err = Store::open(db.target()).err().unwrap();
        assert!(
            matches!(
                err,
                StoreError::TooNew {
                    found: 99,
                    known: 3,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("schema version 99"), "{err}");
    }

    fn placeholders_bind_by_number_not_by_appearance(db: &TestDb) {
        let mut store = db.open();
        let rows = store
            .db
            .query(
                "SELECT CAST($2 AS TEXT), CAST($1 AS TEXT), CAST($3 AS BIGINT) + CAST($3 AS BIGINT)",
                &["one".into(), "two".into(), Value::Int(21)],
            )
            .unwrap();
        assert_eq!(
            rows[0].0,
            [
                Value::Text("two".into()),
                Value::Text("one".into()),
                Value::Int(42)
            ]
        );
        // INT4 parameters and columns, and NULL bound to a parameter of any type.
        let rows = store
            .db
            .query(
                "SELECT CAST($1 AS INTEGER), CAST($2 AS BIGINT), CAST($3 AS TEXT)",
                &[Value::Int(7), Value::Null, Value::Null],
            )
            .unwrap();
        assert_eq!(rows[0].0, [Value::Int(7), Value::Null, Value::Null]);
        // Too few parameters is an error, not a silent NULL.
        assert!(store
            .db
            .query("SELECT CAST($1 AS TEXT), CAST($2 AS TEXT)", &["x".into()])
            .is_err());
    }

    fn a_dropped_transaction_rolls_back(db: &TestDb) {
        let mut store = db.open();
        let t = SystemTime::UNIX_EPOCH;
        let rec = AuditRecord {
            fleet: "a",
            started_at: t,
            finished_at: t,
            tool_version: "t",
            hosts: &[],
            findings: &[],
        };
        {
            let mut tx = store.db.begin().unwrap();
            tx.execute(
                "INSERT INTO audits (fleet, started_at, finished_at, tool_version, host_count, finding_count)
                 VALUES ($1, $2, $2, $3, $4, $4)",
                &["a".into(), "x".into(), "t".into(), Value::Int(0)],
            )
            .unwrap();
        }
        let (_, since) = store.record(&rec).unwrap();
        assert!(since.is_none(), "the uncommitted audit must not exist");
        // A failed statement inside a transaction leaves the store usable.
        {
            let mut tx = store.db.begin().unwrap();
            assert!(tx
                .execute("INSERT INTO nowhere VALUES ($1)", &[Value::Int(1)])
                .is_err());
        }
        assert!(store.record(&rec).unwrap().1.is_some());
    }

    fn statements_are_prepared_once(db: &TestDb) {
        let mut store = db.open();
        let sql = "SELECT COUNT(*) FROM audits WHERE fleet = $1";
        let cached = |store: &Store| match &store.db {
            Db::Postgres { statements, .. } => statements.len(),
            Db::Sqlite(_) => 0,
        };
        store.db.query(sql, &["a".into()]).unwrap();
        let after_first = cached(&store);
        for fleet in ["b", "c"] {
            let rows = store.db.query(sql, &[fleet.into()]).unwrap();
            assert_eq!(rows[0].int(0).unwrap(), 0);
        }
        assert_eq!(cached(&store), after_first);
        if db.is_postgres() {
            assert!(after_first >= 1);
        }
    }

    on_both_backends!(
        statements_are_prepared_once,
        second_audit_reports_new_resolved_and_changed,
        other_fleets_are_not_compared,
        migrations_are_recorded_once,
        a_newer_schema_is_refused,
        placeholders_bind_by_number_not_by_appearance,
        a_dropped_transaction_rolls_back,
    );

    /// The schema exactly as the first SQLite builds wrote it.
    const OLD_SQLITE_V1: &str = r#"
CREATE TABLE audits (id INTEGER PRIMARY KEY, fleet TEXT NOT NULL, started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL, tool_version TEXT NOT NULL, host_count INTEGER NOT NULL,
    finding_count INTEGER NOT NULL);
CREATE INDEX audits_fleet ON audits (fleet, id);
CREATE TABLE observations (audit_id INTEGER NOT NULL REFERENCES audits (id), host TEXT NOT NULL,
    path TEXT NOT NULL, kind TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT,
    format TEXT NOT NULL, status TEXT NOT NULL, PRIMARY KEY (audit_id, path));
CREATE INDEX observations_sha256 ON observations (sha256);
CREATE TABLE findings (audit_id INTEGER NOT NULL REFERENCES audits (id), host TEXT NOT NULL,
    fingerprint TEXT NOT NULL, layer TEXT NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL,
    summary TEXT NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (audit_id, fingerprint));
CREATE INDEX findings_kind ON findings (kind);
PRAGMA user_version = 1;
"#;

    #[test]
    fn a_store_written_by_the_first_sqlite_builds_keeps_working() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(OLD_SQLITE_V1).unwrap();
            conn.execute(
                "INSERT INTO audits VALUES (7, 'f', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z', 'old', 1, 1)",
                [],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO observations VALUES (7, 'h1', 'hosts/h1/bmc.bin', '{}', 4, 'aa', 'unknown', 'read')",
                [],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO findings VALUES (7, 'h1', 'fp-old', 'host', 'host.old', 'high', 'old on h1', '{}')",
                [],
            )
            .unwrap();
        }
        let mut store = Store::open(&path).unwrap();
        assert_eq!(versions(&mut store), [1, 2, 3]);
        let h1 = HostId("h1".into());
        let ev = [item("hosts/h1/bmc.bin", "bb")];
        let hosts = [(&h1, &ev[..])];
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        let (id, since) = store
            .record(&AuditRecord {
                fleet: "f",
                started_at: t,
                finished_at: t,
                tool_version: "new",
                hosts: &hosts,
                findings: &[],
            })
            .unwrap();
        assert_eq!(id, 8);
        let since = since.unwrap();
        assert_eq!(since.previous_id, 7);
        assert_eq!(since.previous_at, "2026-01-01T00:01:00Z");
        assert_eq!(since.resolved[0].fingerprint, "fp-old");
        assert_eq!(since.changed_evidence[0].before.as_deref(), Some("aa"));
        assert_eq!(since.changed_evidence[0].after.as_deref(), Some("bb"));
        drop(store);
        // An older build reads the header version and refuses, as it should.
        let conn = rusqlite::Connection::open(&path).unwrap();
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, Store::SCHEMA_VERSION);
    }

    #[test]
    fn a_newer_sqlite_header_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        drop(Store::open(&db).unwrap());
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = Store::open(&db).err().unwrap();
        assert!(err.to_string().contains("schema version 99"), "{err}");
        assert!(err.to_string().contains("t.db"), "{err}");
    }

    #[test]
    fn garbage_database_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        std::fs::write(&db, vec![0x42u8; 8192]).unwrap();
        let err = Store::open(&db).err().unwrap();
        assert!(err.to_string().contains("t.db"), "{err}");
        assert!(err.to_string().contains("not a database"), "{err}");
    }

    #[test]
    fn unreachable_postgres_is_named_without_its_password() {
        let err = Store::open("postgres://scott:tiger@127.0.0.1:1/db?connect_timeout=5")
            .err()
            .unwrap();
        let text = err.to_string();
        assert!(
            text.starts_with("cannot open store postgres://scott:***@127.0.0.1:1/db"),
            "{text}"
        );
        assert!(text.contains("error connecting to server"), "{text}");
        assert!(!text.contains("tiger"), "{text}");
        assert!(!format!("{err:?}").contains("tiger"));
    }

    #[test]
    fn malformed_postgres_urls_are_named_without_their_password() {
        for url in [
            "postgres://scott:tiger@127.0.0.1:notaport/db",
            "postgresql://scott:tiger@h/db?password=tiger&sslmode=bogus",
            "postgres://scott:tiger@h/db?nosuchoption=1",
        ] {
            let err = Store::open(url).err().unwrap();
            let text = err.to_string();
            assert!(text.contains("not a PostgreSQL URL"), "{text}");
            assert!(text.contains("scott:***@"), "{text}");
            assert!(!text.contains("tiger"), "{text}");
        }
    }

    #[test]
    fn a_missing_postgres_database_is_a_clear_error() {
        let Some(db) = TestDb::postgres("a_missing_postgres_database_is_a_clear_error") else {
            return;
        };
        let mut config: postgres::Config = db.target().parse().unwrap();
        config.dbname("tamperscan_no_such_database");
        config.password("tiger");
        let host = match &config.get_hosts()[0] {
            postgres::config::Host::Tcp(h) => h.clone(),
            _ => return,
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let user = config.get_user().unwrap_or("postgres").to_string();
        let url = format!("postgres://{user}:tiger@{host}:{port}/tamperscan_no_such_database");
        let err = Store::open(&url).err().unwrap();
        let text = err.to_string();
        assert!(text.contains("tamperscan_no_such_database"), "{text}");
        assert!(text.contains("does not exist"), "{text}");
        assert!(!text.contains("tiger"), "{text}");
    }
}
