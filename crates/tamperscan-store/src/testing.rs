//! Test support: the same test body runs against a SQLite file and, when
//! `TAMPERSCAN_TEST_POSTGRES` names a PostgreSQL database, against a fresh schema in it.

use crate::Store;
use std::hash::{BuildHasher, Hasher};

/// The environment variable naming the PostgreSQL database tests may use.
pub(crate) const POSTGRES_ENV: &str = "TAMPERSCAN_TEST_POSTGRES";

/// A place to open stores in, cleaned up on drop.
pub(crate) struct TestDb {
    target: String,
    /// Keeps the SQLite file's directory alive.
    _dir: Option<tempfile::TempDir>,
    /// For PostgreSQL: the admin connection and the schema to drop at the end.
    admin: Option<(postgres::Client, String)>,
}

impl TestDb {
    /// A SQLite file in a fresh temporary directory.
    pub(crate) fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t.db").display().to_string();
        TestDb {
            target,
            _dir: Some(dir),
            admin: None,
        }
    }

    /// A fresh schema in the database named by `TAMPERSCAN_TEST_POSTGRES`; `None` (after
    /// printing why) when it is unset, a failure when it is unset under `CI`.
    pub(crate) fn postgres(test: &str) -> Option<TestDb> {
        let Ok(url) = std::env::var(POSTGRES_ENV) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but {POSTGRES_ENV} is not: run scripts/postgres-up and export the URL it prints"
            );
            eprintln!(
                "skipping {test} on PostgreSQL: set {POSTGRES_ENV} (see scripts/postgres-up)"
            );
            return None;
        };
        let mut admin = postgres::Client::connect(&url, postgres::NoTls)
            .unwrap_or_else(|e| panic!("{POSTGRES_ENV}={}: {e:?}", crate::redact(&url)));
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos(),
        );
        let schema = format!("t_{:016x}", h.finish());
        admin
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .unwrap();
        let sep = if url.contains('?') { '&' } else { '?' };
        let target = format!("{url}{sep}options=-csearch_path%3D{schema}");
        Some(TestDb {
            target,
            _dir: None,
            admin: Some((admin, schema)),
        })
    }

    /// The path or URL to open.
    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    /// Opens a store here.
    pub(crate) fn open(&self) -> Store {
        Store::open(self.target()).unwrap()
    }

    /// Whether this is PostgreSQL.
    pub(crate) fn is_postgres(&self) -> bool {
        self.admin.is_some()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, schema)) = &mut self.admin {
            let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

/// Runs each named test body `fn(&TestDb)` once on SQLite and once on PostgreSQL.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name(&$crate::testing::TestDb::sqlite());
                }
            )*
        }
        mod on_postgres {
            $(
                #[test]
                fn $name() {
                    if let Some(db) = $crate::testing::TestDb::postgres(stringify!($name)) {
                        super::$name(&db);
                    }
                }
            )*
        }
    };
}
