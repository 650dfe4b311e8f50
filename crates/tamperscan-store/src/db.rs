//! One SQL code path over two backends: SQLite (a file) and PostgreSQL (a server).
//!
//! SQL is written once, in the dialect both understand: `$1, $2, ...` placeholders, `ON CONFLICT
//! DO NOTHING`, `RETURNING id`, `BIGINT`. The only per-backend text lives here (placeholder
//! spelling for SQLite, transaction start, pragmas) and in the id column type of the DDL
//! ([`Backend::id_column`]). Values cross the boundary as the tiny [`Value`] enum.

use std::collections::HashMap;
use std::error::Error as _;
use std::fmt;

/// How many prepared statements the PostgreSQL cache keeps before it starts over; the SQL texts
/// of this crate are few, but filter combinations of ad-hoc queries could grow without bound.
const PG_STATEMENT_CACHE: usize = 256;

/// How many prepared statements rusqlite keeps.
const SQLITE_STATEMENT_CACHE: usize = 64;

/// A backend failure: the database's own message, never a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// SQLite said no.
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL (or the connection to it) said no; the text includes the server's message.
    #[error("{message}")]
    Postgres {
        /// The error with its causes and the server's detail and hint.
        message: String,
    },
    /// A value of a type this store does not use (a REAL, a BLOB, a bool column).
    #[error("unexpected value in column {column}: {what}")]
    Value {
        /// The column index.
        column: usize,
        /// What was found and what was expected.
        what: String,
    },
    /// The connection URL could not be understood.
    #[error("{0}")]
    Url(String),
}

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> DbError {
        DbError::Postgres {
            message: postgres_message(&e),
        }
    }
}

/// A PostgreSQL error as one line: the server's severity, message, detail and hint, or the
/// client's description followed by its causes (postgres' own `Display` stops at "db error").
fn postgres_message(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("{}: {}", db.severity(), db.message());
        if let Some(detail) = db.detail() {
            s.push_str(&format!(" ({detail})"));
        }
        if let Some(hint) = db.hint() {
            s.push_str(&format!("; hint: {hint}"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(&format!(": {c}"));
        cause = c.source();
    }
    s
}

/// One SQL value: the store only ever uses 64-bit integers, text and NULL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// SQL NULL (binds as NULL whatever the parameter's type).
    Null,
    /// An integer (`BIGINT`; also binds to `INTEGER`/`INT4` when it fits).
    Int(i64),
    /// Text.
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Value {
        v.map_or(Value::Null, Value::from)
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Value {
        v.map_or(Value::Null, Value::Text)
    }
}

impl rusqlite::types::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

impl postgres::types::ToSql for Value {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::{IsNull, Type};
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            Value::Int(i) if *ty == Type::INT8 => i.to_sql(ty, out),
            Value::Text(s) if *ty == Type::TEXT || *ty == Type::VARCHAR => {
                s.as_str().to_sql(ty, out)
            }
            other => Err(format!("cannot bind {other:?} to a parameter of type {ty}").into()),
        }
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        use postgres::types::Type;
        [Type::INT8, Type::INT4, Type::TEXT, Type::VARCHAR].contains(ty)
    }

    // Written out instead of `to_sql_checked!()` so that NULL binds to a parameter of any type.
    fn to_sql_checked(
        &self,
        ty: &postgres::types::Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        if *self == Value::Null {
            return Ok(postgres::types::IsNull::Yes);
        }
        if !<Value as postgres::types::ToSql>::accepts(ty) {
            return Err(format!("a store value cannot bind to a parameter of type {ty}").into());
        }
        self.to_sql(ty, out)
    }
}

/// One result row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row(pub(crate) Vec<Value>);

impl Row {
    fn get(&self, column: usize) -> Result<&Value, DbError> {
        self.0.get(column).ok_or_else(|| DbError::Value {
            column,
            what: format!("the row has only {} columns", self.0.len()),
        })
    }

    /// The integer in `column`.
    pub(crate) fn int(&self, column: usize) -> Result<i64, DbError> {
        match self.get(column)? {
            Value::Int(i) => Ok(*i),
            other => Err(DbError::Value {
                column,
                what: format!("{other:?}, expected an integer"),
            }),
        }
    }

    /// The integer in `column`, `None` for NULL.
    pub(crate) fn opt_int(&self, column: usize) -> Result<Option<i64>, DbError> {
        match self.get(column)? {
            Value::Null => Ok(None),
            _ => self.int(column).map(Some),
        }
    }

    /// The text in `column`.
    pub(crate) fn text(&self, column: usize) -> Result<String, DbError> {
        match self.get(column)? {
            Value::Text(s) => Ok(s.clone()),
            other => Err(DbError::Value {
                column,
                what: format!("{other:?}, expected text"),
            }),
        }
    }

    /// The text in `column`, `None` for NULL.
    pub(crate) fn opt_text(&self, column: usize) -> Result<Option<String>, DbError> {
        match self.get(column)? {
            Value::Null => Ok(None),
            _ => self.text(column).map(Some),
        }
    }
}

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The DDL type of an auto-assigned 64-bit id column: the one per-backend word of the schema.
    pub(crate) fn id_column(self) -> &'static str {
        match self {
            Backend::Sqlite => "INTEGER PRIMARY KEY",
            Backend::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        }
    }
}

/// A connection to either backend, with its prepared-statement cache.
pub(crate) enum Db {
    /// SQLite (rusqlite caches statements itself, `prepare_cached`).
    Sqlite(rusqlite::Connection),
    /// PostgreSQL with our cache of server-side prepared statements keyed by SQL text.
    Postgres {
        /// The connection (boxed: it is several times the size of a SQLite connection).
        client: Box<postgres::Client>,
        /// Prepared statements by SQL text.
        statements: HashMap<String, postgres::Statement>,
    },
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Db::Sqlite(_) => "Db::Sqlite",
            Db::Postgres { .. } => "Db::Postgres",
        })
    }
}

impl Db {
    /// Wraps a SQLite connection.
    pub(crate) fn sqlite(conn: rusqlite::Connection) -> Db {
        conn.set_prepared_statement_cache_capacity(SQLITE_STATEMENT_CACHE);
        Db::Sqlite(conn)
    }

    /// Wraps a PostgreSQL client.
    pub(crate) fn postgres(client: postgres::Client) -> Db {
        Db::Postgres {
            client: Box::new(client),
            statements: HashMap::new(),
        }
    }

    /// Which backend this is.
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Runs one or more statements without parameters or results (DDL, transaction control).
    pub(crate) fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        match self {
            Db::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            Db::Postgres { client, .. } => Ok(client.batch_execute(sql)?),
        }
    }

    /// Runs one statement that returns no rows; the number of rows it changed.
    pub(crate) fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        match self {
            Db::Sqlite(conn) => {
                let mut stmt = conn.prepare_cached(&sqlite_placeholders(sql))?;
                let n = stmt.execute(rusqlite::params_from_iter(params))?;
                Ok(u64::try_from(n).unwrap_or(u64::MAX))
            }
            Db::Postgres { client, statements } => {
                let stmt = pg_statement(client, statements, sql)?;
                Ok(client.execute(&stmt, &pg_params(params))?)
            }
        }
    }

    /// Runs one statement and returns all its rows.
    pub(crate) fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        match self {
            Db::Sqlite(conn) => {
                let mut stmt = conn.prepare_cached(&sqlite_placeholders(sql))?;
                let columns = stmt.column_count();
                let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    let mut values = Vec::with_capacity(columns);
                    for column in 0..columns {
                        values.push(sqlite_value(row.get_ref(column)?, column)?);
                    }
                    out.push(Row(values));
                }
                Ok(out)
            }
            Db::Postgres { client, statements } => {
                let stmt = pg_statement(client, statements, sql)?;
                let rows = client.query(&stmt, &pg_params(params))?;
                rows.iter().map(pg_row).collect()
            }
        }
    }

    /// Starts a transaction; it rolls back when the returned guard is dropped uncommitted.
    /// SQLite takes the write lock at once (`BEGIN IMMEDIATE`) so that a reader turning writer
    /// never fails with "database is locked" halfway through.
    pub(crate) fn begin(&mut self) -> Result<Tx<'_>, DbError> {
        self.batch(match self.backend() {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        })?;
        Ok(Tx {
            db: self,
            open: true,
        })
    }
}

/// An open transaction; derefs to its [`Db`].
pub(crate) struct Tx<'a> {
    db: &'a mut Db,
    open: bool,
}

impl Tx<'_> {
    /// Commits. On failure the guard stays open and rolls back when dropped.
    pub(crate) fn commit(mut self) -> Result<(), DbError> {
        self.db.batch("COMMIT")?;
        self.open = false;
        Ok(())
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.db
    }
}

impl std::ops::DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut Db {
        self.db
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            // Nothing useful can be done with a failed rollback: the connection is then broken
            // and the next statement reports it.
            let _ = self.db.batch("ROLLBACK");
        }
    }
}

/// `$N` placeholders spelled `?N` for SQLite. SQLite would read `$1` as a *named* parameter and
/// number named parameters in order of first appearance, so `$2 ... $1` would bind the wrong
/// way round; `?N` is positional. Quoted text, quoted identifiers and comments are left alone.
pub(crate) fn sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == '\n' {
                        break;
                    }
                }
            }
            '$' if chars.peek().is_some_and(char::is_ascii_digit) => out.push('?'),
            _ => out.push(c),
        }
    }
    out
}

fn sqlite_value(v: rusqlite::types::ValueRef<'_>, column: usize) -> Result<Value, DbError> {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Ok(Value::Null),
        ValueRef::Integer(i) => Ok(Value::Int(i)),
        ValueRef::Text(t) => std::str::from_utf8(t)
            .map(|s| Value::Text(s.to_string()))
            .map_err(|e| DbError::Value {
                column,
                what: format!("text that is not UTF-8 ({e})"),
            }),
        ValueRef::Real(r) => Err(DbError::Value {
            column,
            what: format!("REAL {r}"),
        }),
        ValueRef::Blob(b) => Err(DbError::Value {
            column,
            what: format!("a BLOB of {} bytes", b.len()),
        }),
    }
}

fn pg_statement(
    client: &mut postgres::Client,
    statements: &mut HashMap<String, postgres::Statement>,
    sql: &str,
) -> Result<postgres::Statement, DbError> {
    if let Some(stmt) = statements.get(sql) {
        return Ok(stmt.clone());
    }
    if statements.len() >= PG_STATEMENT_CACHE {
        statements.clear();
    }
    let stmt = client.prepare(sql)?;
    statements.insert(sql.to_string(), stmt.clone());
    Ok(stmt)
}

fn pg_params(params: &[Value]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

/// A PostgreSQL row read by each column's declared type.
fn pg_row(row: &postgres::Row) -> Result<Row, DbError> {
    use postgres::types::Type;
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let v = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?.map(Value::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?
                .map(|v| Value::Int(i64::from(v)))
        } else if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)?
                .map(|v| Value::Int(i64::from(v)))
        } else if [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME].contains(ty) {
            row.try_get::<_, Option<String>>(i)?.map(Value::Text)
        } else {
            return Err(DbError::Value {
                column: i,
                what: format!("a value of type {ty}"),
            });
        };
        values.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(values))
}

/// Whether `target` names a PostgreSQL server rather than a SQLite file.
pub(crate) fn is_postgres_url(target: &str) -> bool {
    let lower = target.get(..13).unwrap_or(target).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// `target` fit to show: a URL's password (in the user info or a `password=` parameter)
/// replaced by `***`. The user info is taken to end at the *last* `@`, so a password with an
/// unescaped `/`, `?` or `@` is still hidden (at worst more than the password is). Anything
/// that is not a URL is returned as given.
pub fn redact(target: &str) -> String {
    let Some(scheme_end) = target.find("://") else {
        return target.to_string();
    };
    let (scheme, rest) = target.split_at(scheme_end + 3);
    let (userinfo, tail) = match rest.rfind('@') {
        Some(at) => rest.split_at(at),
        None => ("", rest),
    };
    let userinfo = match userinfo.split_once(':') {
        Some((user, _password)) => format!("{user}:***"),
        None => userinfo.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_string(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}{userinfo}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_positional_outside_quotes() {
        assert_eq!(
            sqlite_placeholders("SELECT $2, '$1', \"$3\", $10 -- $4\n, $1"),
            "SELECT ?2, '$1', \"$3\", ?10 -- $4\n, ?1"
        );
        assert_eq!(sqlite_placeholders("a $ b $x"), "a $ b $x");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:s3cr%40t@db.example:5432/x?sslmode=disable&password=p2"),
            "postgres://u:***@db.example:5432/x?sslmode=disable&password=***"
        );
        assert_eq!(redact("postgresql://u@h/x#frag"), "postgresql://u@h/x#frag");
        assert_eq!(redact("postgres://h"), "postgres://h");
        assert_eq!(
            redact("postgres://u:pa/ss?w@rd@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            redact("postgres://h/db?password=x&user=u"),
            "postgres://h/db?password=***&user=u"
        );
        assert_eq!(redact("/var/lib/t.db"), "/var/lib/t.db");
    }

    #[test]
    fn postgres_urls_are_recognized() {
        assert!(is_postgres_url("postgres://h/db"));
        assert!(is_postgres_url("PostgreSQL://h/db"));
        assert!(!is_postgres_url("postgres.db"));
        assert!(!is_postgres_url("./postgres://x"));
        assert!(!is_postgres_url("pé"));
    }
}
