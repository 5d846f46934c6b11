//! The SQL connection under the store: SQLite, embedded (the default), or PostgreSQL, shared by
//! several processes. The store's modules are written once, in the SQL both engines speak, and
//! call the connection the way they would call rusqlite; for PostgreSQL each statement is
//! rewritten once (placeholders `?N` become `$N`, `IS [NOT] x` becomes `IS [NOT] DISTINCT
//! FROM x`) and kept prepared, parameters take the types PostgreSQL infers for them, and
//! answers come back as SQLite values, so every reader works on both.

use rusqlite::types::{FromSql, Value, ValueRef};
pub use rusqlite::{params, OptionalExtension, ToSql};
use std::collections::HashMap;
use std::sync::Mutex;

/// The result of a statement (rusqlite's error type on both engines; a PostgreSQL error is
/// carried inside it and shown with its message).
pub type SqlResult<T> = rusqlite::Result<T>;

/// Parameters of a statement: `[a, b]`, `params![a, b]` or `[]`.
pub trait Params {
    /// The parameters in order.
    fn values(&self) -> Vec<&dyn ToSql>;
}

impl Params for &[&dyn ToSql] {
    fn values(&self) -> Vec<&dyn ToSql> {
        self.to_vec()
    }
}

impl Params for [&(dyn ToSql + Send + Sync); 0] {
    fn values(&self) -> Vec<&dyn ToSql> {
        Vec::new()
    }
}

macro_rules! array_params {
    ($($n:literal)*) => {$(
        impl<T: ToSql> Params for [T; $n] {
            fn values(&self) -> Vec<&dyn ToSql> {
                self.iter().map(|v| v as &dyn ToSql).collect()
            }
        }
    )*};
}
array_params!(1 2 3 4 5 6 7 8);

/// A column index (by position).
pub trait Idx {
    /// The position.
    fn position(self) -> usize;
}

impl Idx for usize {
    fn position(self) -> usize {
        self
    }
}

/// One row of an answer.
pub enum Row<'a> {
    /// A row SQLite returned.
    Sqlite(&'a rusqlite::Row<'a>),
    /// A row PostgreSQL returned, as SQLite values.
    Pg(&'a [Value]),
}

impl Row<'_> {
    /// The value of column `idx`, converted as rusqlite converts it.
    pub fn get<I: Idx, T: FromSql>(&self, idx: I) -> SqlResult<T> {
        let i = idx.position();
        match self {
            Row::Sqlite(r) => r.get(i),
            Row::Pg(values) => {
                let value = values
                    .get(i)
                    .ok_or(rusqlite::Error::InvalidColumnIndex(i))?;
                T::column_result(ValueRef::from(value)).map_err(|e| match e {
                    rusqlite::types::FromSqlError::InvalidType => {
                        rusqlite::Error::InvalidColumnType(
                            i,
                            String::new(),
                            ValueRef::from(value).data_type(),
                        )
                    }
                    other => rusqlite::Error::FromSqlConversionFailure(
                        i,
                        ValueRef::from(value).data_type(),
                        Box::new(other),
                    ),
                })
            }
        }
    }
}

/// A connection to one of the two engines.
pub enum Conn {
    /// An embedded SQLite file.
    Sqlite(rusqlite::Connection),
    /// A PostgreSQL server.
    Pg(Box<super::pg::Client>),
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conn::Sqlite(_) => "Conn::Sqlite",
            Conn::Pg(_) => "Conn::Pg",
        })
    }
}

impl Conn {
    /// Whether this is PostgreSQL.
    pub fn is_pg(&self) -> bool {
        matches!(self, Conn::Pg(_))
    }

    /// The SQLite connection, for what only SQLite has (pragmas, checkpoints).
    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Conn::Sqlite(c) => Some(c),
            Conn::Pg(_) => None,
        }
    }

    /// The SQLite connection, to hook into it (tests count its steps).
    pub fn sqlite_mut(&mut self) -> Option<&mut rusqlite::Connection> {
        match self {
            Conn::Sqlite(c) => Some(c),
            Conn::Pg(_) => None,
        }
    }

    /// Runs one or more statements without parameters.
    pub fn execute_batch(&self, sql: &str) -> SqlResult<()> {
        match self {
            Conn::Sqlite(c) => c.execute_batch(sql),
            Conn::Pg(c) => c.batch(sql),
        }
    }

    /// Runs one statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, p: impl Params) -> SqlResult<usize> {
        self.prepare(sql)?.execute(p)
    }

    /// The first row of an answer, mapped by `f` (`QueryReturnedNoRows` when there is none).
    pub fn query_row<T, F>(&self, sql: &str, p: impl Params, f: F) -> SqlResult<T>
    where
        F: FnOnce(&Row<'_>) -> SqlResult<T>,
    {
        self.prepare(sql)?.query_row(p, f)
    }

    /// A statement, prepared once and kept for the next call.
    pub fn prepare_cached(&self, sql: &str) -> SqlResult<Stmt<'_>> {
        match self {
            Conn::Sqlite(c) => c.prepare_cached(sql).map(Stmt::SqliteCached),
            Conn::Pg(c) => Ok(Stmt::Pg(c, c.prepare(sql)?, writes(sql))),
        }
    }

    /// A statement used once.
    pub fn prepare(&self, sql: &str) -> SqlResult<Stmt<'_>> {
        match self {
            Conn::Sqlite(c) => c.prepare(sql).map(Stmt::Sqlite),
            Conn::Pg(c) => Ok(Stmt::Pg(c, c.prepare(sql)?, writes(sql))),
        }
    }

    /// Begins a transaction, rolled back unless committed. On PostgreSQL, it writes alone
    /// (see [`super::pg::Client::begin`]) and first checks the lease this process writes
    /// under, if any (see [`super::pg::Client::set_fence`]).
    pub fn transaction(&mut self) -> SqlResult<Tx<'_>> {
        self.begin(true)
    }

    /// Begins a transaction that no lease guards (the host's own changes).
    pub fn transaction_unfenced(&mut self) -> SqlResult<Tx<'_>> {
        self.begin(false)
    }

    fn begin(&self, fenced: bool) -> SqlResult<Tx<'_>> {
        match self {
            Conn::Sqlite(c) => c.execute_batch("BEGIN")?,
            Conn::Pg(c) => c.begin(fenced)?,
        }
        Ok(Tx {
            conn: self,
            done: false,
        })
    }

    fn end(&self, commit: bool) -> SqlResult<()> {
        match self {
            Conn::Sqlite(c) => c.execute_batch(if commit { "COMMIT" } else { "ROLLBACK" }),
            Conn::Pg(c) => c.end(commit),
        }
    }
}

/// An open transaction: every statement of the connection runs in it until `commit`; dropped
/// uncommitted, it is rolled back.
pub struct Tx<'c> {
    conn: &'c Conn,
    done: bool,
}

impl Tx<'_> {
    /// Commits the transaction.
    pub fn commit(mut self) -> SqlResult<()> {
        self.done = true;
        self.conn.end(true)
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.end(false);
        }
    }
}

/// A prepared statement.
pub enum Stmt<'c> {
    /// SQLite's, from the statement cache.
    SqliteCached(rusqlite::CachedStatement<'c>),
    /// SQLite's, used once.
    Sqlite(rusqlite::Statement<'c>),
    /// PostgreSQL's, and whether it writes.
    Pg(&'c super::pg::Client, tokio_postgres::Statement, bool),
}

impl<'c> Stmt<'c> {
    fn sqlite(&mut self) -> Option<&mut rusqlite::Statement<'c>> {
        match self {
            Stmt::SqliteCached(s) => Some(s),
            Stmt::Sqlite(s) => Some(s),
            Stmt::Pg(..) => None,
        }
    }

    /// Runs the statement; the number of rows it changed.
    pub fn execute(&mut self, p: impl Params) -> SqlResult<usize> {
        let values = p.values();
        if let Some(s) = self.sqlite() {
            return s.execute(&values[..]);
        }
        let Stmt::Pg(c, s, _) = self else {
            unreachable!()
        };
        c.guarded(|| c.execute(s, &values))
    }

    /// Every row of the answer, mapped by `f`.
    pub fn query_map<T, F>(
        &mut self,
        p: impl Params,
        mut f: F,
    ) -> SqlResult<std::vec::IntoIter<SqlResult<T>>>
    where
        F: FnMut(&Row<'_>) -> SqlResult<T>,
    {
        let values = p.values();
        let out: Vec<SqlResult<T>> = if let Some(s) = self.sqlite() {
            let mut rows = s.query(&values[..])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(f(&Row::Sqlite(r)));
            }
            out
        } else {
            let Stmt::Pg(c, s, write) = self else {
                unreachable!()
            };
            c.query_guarded(s, &values, *write)?
                .iter()
                .map(|r| f(&Row::Pg(r)))
                .collect()
        };
        Ok(out.into_iter())
    }

    /// The first row of the answer, mapped by `f` (`QueryReturnedNoRows` when there is none).
    pub fn query_row<T, F>(&mut self, p: impl Params, f: F) -> SqlResult<T>
    where
        F: FnOnce(&Row<'_>) -> SqlResult<T>,
    {
        let values = p.values();
        if let Some(s) = self.sqlite() {
            let mut rows = s.query(&values[..])?;
            return match rows.next()? {
                Some(r) => f(&Row::Sqlite(r)),
                None => Err(rusqlite::Error::QueryReturnedNoRows),
            };
        }
        let Stmt::Pg(c, s, write) = self else {
            unreachable!()
        };
        match c.query_guarded(s, &values, *write)?.first() {
            Some(r) => f(&Row::Pg(r)),
            None => Err(rusqlite::Error::QueryReturnedNoRows),
        }
    }

    /// The rows of the answer, read one by one.
    pub fn query(&mut self, p: impl Params) -> SqlResult<Rows<'_>> {
        let values = p.values();
        match self {
            Stmt::SqliteCached(s) => s.query(&values[..]).map(Rows::Sqlite),
            Stmt::Sqlite(s) => s.query(&values[..]).map(Rows::Sqlite),
            Stmt::Pg(c, s, write) => Ok(Rows::Pg(
                c.query_guarded(s, &values, *write)?.into_iter(),
                None,
            )),
        }
    }

    /// Whether the answer has a row.
    pub fn exists(&mut self, p: impl Params) -> SqlResult<bool> {
        self.query_row(p, |_| Ok(()))
            .optional()
            .map(|r| r.is_some())
    }
}

/// The rows of an answer.
pub enum Rows<'s> {
    /// SQLite's, read as they are stepped through.
    Sqlite(rusqlite::Rows<'s>),
    /// PostgreSQL's, all received; the current one.
    Pg(std::vec::IntoIter<Vec<Value>>, Option<Vec<Value>>),
}

impl Rows<'_> {
    /// The next row, if any (rusqlite's name: a row borrows the answer, so this is no
    /// iterator).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> SqlResult<Option<Row<'_>>> {
        match self {
            Rows::Sqlite(rows) => Ok(rows.next()?.map(Row::Sqlite)),
            Rows::Pg(rest, current) => {
                *current = rest.next();
                Ok(current.as_deref().map(Row::Pg))
            }
        }
    }
}

/// Whether a statement changes rows (it then runs alone on PostgreSQL, see
/// [`super::pg::Client::guarded`]).
fn writes(sql: &str) -> bool {
    let first = sql.split_whitespace().next().unwrap_or("");
    ["INSERT", "UPDATE", "DELETE", "WITH"]
        .iter()
        .any(|w| first.eq_ignore_ascii_case(w))
}

/// Rewrites a statement written for SQLite into PostgreSQL's dialect: `?N` and `?` become
/// `$N`, and `IS x` / `IS NOT x` with anything but NULL become `IS NOT DISTINCT FROM x` /
/// `IS DISTINCT FROM x`. Text in quotes is left alone.
pub fn to_pg(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut next = 0u32;
    let mut chars = sql.char_indices().peekable();
    let mut quoted = false;
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
            out.push(c);
            continue;
        }
        if quoted {
            out.push(c);
            continue;
        }
        if c == '?' {
            let mut digits = String::new();
            while let Some(&(_, d)) = chars.peek() {
                if !d.is_ascii_digit() {
                    break;
                }
                digits.push(d);
                chars.next();
            }
            if digits.is_empty() {
                next += 1;
                digits = next.to_string();
            }
            out.push('$');
            out.push_str(&digits);
            continue;
        }
        if c.is_ascii_whitespace() && upper_at(sql, i + 1, "IS ") {
            let rest = &sql[i + 4..];
            let (not, after) = match rest.get(..4) {
                Some(w) if w.eq_ignore_ascii_case("NOT ") => (true, &rest[4..]),
                _ => (false, rest),
            };
            let operand = after.trim_start();
            if !upper_at(operand, 0, "NULL") {
                out.push_str(if not {
                    " IS DISTINCT FROM "
                } else {
                    " IS NOT DISTINCT FROM "
                });
                let skip = sql.len() - operand.len() - i - 1;
                for _ in 0..skip {
                    chars.next();
                }
                continue;
            }
        }
        out.push(c);
    }
    out
}

fn upper_at(s: &str, at: usize, word: &str) -> bool {
    s.get(at..at + word.len())
        .is_some_and(|w| w.eq_ignore_ascii_case(word))
}

/// Rewrites a migration written for SQLite into PostgreSQL's types: 64-bit integers, doubles,
/// byte strings, and sequences for SQLite's `AUTOINCREMENT` keys.
pub fn migration_to_pg(sql: &str) -> String {
    sql.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
        .replace("INTEGER", "BIGINT")
        .replace("REAL", "DOUBLE PRECISION")
        .replace("BLOB", "BYTEA")
}

/// The prepared statements of a PostgreSQL connection, by their SQLite text.
#[derive(Default)]
pub(super) struct Prepared(Mutex<HashMap<String, tokio_postgres::Statement>>);

impl Prepared {
    /// The statement for `sql`, prepared by `prepare` the first time.
    pub(super) fn get(
        &self,
        sql: &str,
        prepare: impl FnOnce(&str) -> SqlResult<tokio_postgres::Statement>,
    ) -> SqlResult<tokio_postgres::Statement> {
        if let Some(s) = self.lock().get(sql) {
            return Ok(s.clone());
        }
        let s = prepare(&to_pg(sql))?;
        let mut map = self.lock();
        if map.len() >= 512 {
            map.clear();
        }
        map.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, tokio_postgres::Statement>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_null_safe_comparisons_are_rewritten() {
        assert_eq!(
            to_pg("UPDATE s SET a = ?2 WHERE b = ?1 AND c IS NOT ?2 AND d IS NULL AND e IS NOT NULL"),
            "UPDATE s SET a = $2 WHERE b = $1 AND c IS DISTINCT FROM $2 AND d IS NULL AND e IS NOT NULL"
        );
        assert_eq!(to_pg("SELECT ? , ?"), "SELECT $1 , $2");
        assert_eq!(
            to_pg("SELECT 'a?1 IS b' WHERE x IS y"),
            "SELECT 'a?1 IS b' WHERE x IS NOT DISTINCT FROM y"
        );
    }

    #[test]
    fn migrations_take_postgres_types() {
        assert_eq!(
            migration_to_pg("id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER, r REAL, b BLOB"),
            "id BIGSERIAL PRIMARY KEY, n BIGINT, r DOUBLE PRECISION, b BYTEA"
        );
    }
}
