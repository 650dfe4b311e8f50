//! The store of record: every audit, the evidence it observed (path, size, SHA-256) and the
//! findings it raised, with timestamps, so that each audit can say what is new since the last.
//!
//! **Invariant:** this is the only crate that knows SQL. Rows are append-only: an audit never
//! changes what an earlier audit recorded.
#![forbid(unsafe_code)]

use rusqlite::{params, Connection, OptionalExtension};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::SystemTime;
use tamperscan_model::{EvidenceItem, EvidenceStatus, Finding, HostId};

/// A store failure, named with the database path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be opened or created.
    #[error("cannot open store {path}: {source}")]
    Open {
        /// The database file.
        path: String,
        /// The reason.
        source: rusqlite::Error,
    },
    /// The database was written by a newer tamperscan.
    #[error("store {path} has schema version {found}; this tamperscan knows up to {known}: upgrade tamperscan or use another --db")]
    TooNew {
        /// The database file.
        path: String,
        /// Its schema version.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// A query failed.
    #[error("store query failed: {0}")]
    Query(#[from] rusqlite::Error),
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

/// The SQLite store.
pub struct Store {
    conn: Connection,
}

const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE audits (
    id INTEGER PRIMARY KEY,
    fleet TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    host_count INTEGER NOT NULL,
    finding_count INTEGER NOT NULL
);
CREATE INDEX audits_fleet ON audits (fleet, id);
CREATE TABLE observations (
    audit_id INTEGER NOT NULL REFERENCES audits (id),
    host TEXT NOT NULL,
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT,
    format TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (audit_id, path)
);
CREATE INDEX observations_sha256 ON observations (sha256);
CREATE TABLE findings (
    audit_id INTEGER NOT NULL REFERENCES audits (id),
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
"#];

impl Store {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let shown = path.display().to_string();
        let open_err = |source| StoreError::Open {
            path: shown.clone(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(open_err)?;
        let mut store = Store { conn };
        store.migrate(&shown)?;
        Ok(store)
    }

    fn migrate(&mut self, shown: &str) -> Result<(), StoreError> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                path: shown.to_string(),
                found: version,
                known,
            });
        }
        let tx = self.conn.transaction()?;
        for (i, sql) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(version).unwrap_or(0))
        {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records an audit and compares it with the previous audit of the same fleet.
    pub fn record(
        &mut self,
        audit: &AuditRecord<'_>,
    ) -> Result<(i64, Option<SinceLast>), StoreError> {
        let tx = self.conn.transaction()?;
        let previous: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, finished_at FROM audits WHERE fleet = ?1 ORDER BY id DESC LIMIT 1",
                params![audit.fleet],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        tx.execute(
            "INSERT INTO audits (fleet, started_at, finished_at, tool_version, host_count, finding_count)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                audit.fleet,
                rfc3339(audit.started_at),
                rfc3339(audit.finished_at),
                audit.tool_version,
                audit.hosts.len() as i64,
                audit.findings.len() as i64
            ],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut obs = tx.prepare(
                "INSERT OR IGNORE INTO observations (audit_id, host, path, kind, size, sha256, format, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for (host, items) in audit.hosts {
                for item in *items {
                    let kind = serde_json::to_string(&item.kind).unwrap_or_default();
                    obs.execute(params![
                        id,
                        host.0,
                        item.path,
                        kind,
                        i64::try_from(item.size).unwrap_or(i64::MAX),
                        item.sha256,
                        item.format,
                        status_name(&item.status)
                    ])?;
                }
            }
            let mut fnd = tx.prepare(
                "INSERT OR IGNORE INTO findings (audit_id, host, fingerprint, layer, kind, severity, summary, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for f in audit.findings {
                let detail = serde_json::to_string(f).unwrap_or_default();
                fnd.execute(params![
                    id,
                    f.host.0,
                    f.fingerprint(),
                    f.layer.name(),
                    f.kind,
                    f.severity.name(),
                    f.summary,
                    detail
                ])?;
            }
        }
        let since = match previous {
            Some((prev_id, prev_at)) => Some(compare(&tx, prev_id, prev_at, id)?),
            None => None,
        };
        tx.commit()?;
        Ok((id, since))
    }

    /// `(fleet, host, path)` of every evidence file that had SHA-256 `sha256` in any recorded
    /// audit: the first fleet question ("which servers share this?").
    pub fn hosts_with_evidence_hash(
        &self,
        sha256: &str,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT a.fleet, o.host, o.path FROM observations o JOIN audits a ON a.id = o.audit_id
             WHERE o.sha256 = ?1 ORDER BY 1, 2, 3",
        )?;
        let rows = stmt.query_map(params![sha256.to_ascii_lowercase()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn compare(
    tx: &rusqlite::Transaction<'_>,
    prev: i64,
    prev_at: String,
    now: i64,
) -> Result<SinceLast, StoreError> {
    let findings_of = |audit: i64| -> Result<BTreeMap<String, StoredFinding>, rusqlite::Error> {
        let mut stmt = tx.prepare(
            "SELECT host, kind, severity, summary, fingerprint FROM findings WHERE audit_id = ?1",
        )?;
        let rows = stmt.query_map(params![audit], |r| {
            Ok(StoredFinding {
                host: r.get(0)?,
                kind: r.get(1)?,
                severity: r.get(2)?,
                summary: r.get(3)?,
                fingerprint: r.get(4)?,
            })
        })?;
        rows.map(|r| r.map(|f| (f.fingerprint.clone(), f)))
            .collect()
    };
    let evidence_of =
        |audit: i64| -> Result<BTreeMap<(String, String), Option<String>>, rusqlite::Error> {
            let mut stmt =
                tx.prepare("SELECT host, path, sha256 FROM observations WHERE audit_id = ?1")?;
            let rows =
                stmt.query_map(params![audit], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?;
            rows.collect()
        };
    let before = findings_of(prev)?;
    let after = findings_of(now)?;
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
    let ev_before = evidence_of(prev)?;
    let ev_after = evidence_of(now)?;
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

    #[test]
    fn second_audit_reports_new_resolved_and_changed() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let h1 = HostId("h1".into());
        let h2 = HostId("h2".into());
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_790_000_000);

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
        let mut store = Store::open(&db).unwrap();
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
        let mut store = Store::open(&db).unwrap();
        let (id2, since) = store.record(&rec2).unwrap();
        assert!(id2 > id1);
        let since = since.unwrap();
        assert_eq!(since.previous_id, id1);
        assert_eq!(since.previous_at, "2026-09-21T14:13:20Z");
        assert_eq!(since.new, [second[1].fingerprint()].into_iter().collect());
        assert_eq!(since.resolved.len(), 1);
        assert_eq!(since.resolved[0].kind, "host.b");
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
    }

    #[test]
    fn other_fleets_are_not_compared() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
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
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        Store::open(&db)
            .unwrap()
            .conn
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let err = Store::open(&db).err().unwrap();
        assert!(err.to_string().contains("schema version 99"), "{err}");
    }

    #[test]
    fn garbage_database_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        std::fs::write(&db, vec![0x42u8; 8192]).unwrap();
        let err = Store::open(&db).err().unwrap();
        assert!(err.to_string().contains("t.db"), "{err}");
    }
}
