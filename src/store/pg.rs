//! A PostgreSQL connection for the store: tokio-postgres driven on a thread of its own, so any
//! thread (an engine task or a host's thread) can wait for an answer; parameters converted to
//! the types the server inferred; answers returned as SQLite values; the lease a leader writes
//! under checked at the start of its transactions.

use super::db::{Prepared, SqlResult};
use rusqlite::types::{ToSqlOutput, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_postgres::types::{IsNull, Type};

/// A PostgreSQL error, carried inside rusqlite's error type.
#[derive(Debug)]
pub struct PgError(pub String);

impl std::fmt::Display for PgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PostgreSQL: {}", self.0)
    }
}

impl std::error::Error for PgError {}

fn pg_error(e: tokio_postgres::Error) -> rusqlite::Error {
    let text = match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => match std::error::Error::source(&e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    };
    rusqlite::Error::ToSqlConversionFailure(Box::new(PgError(text)))
}

/// The lease a leader writes under: its transactions go on only while the lease row still
/// names it with this epoch and has not expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// The seller account the lease is for.
    pub account: String,
    /// This process's name in the lease.
    pub holder: String,
    /// The epoch the lease had when this process took it.
    pub epoch: i64,
}

tokio::task_local! {
    /// Set while a sync flow runs: its writes depend on the lease.
    static IN_FLOW: ();
}

/// Runs `flow` with its writes fenced by the lease (the host's writes never are).
pub async fn fenced<F: std::future::Future>(flow: F) -> F::Output {
    IN_FLOW.scope((), flow).await
}

/// The message of a write refused because the lease was lost.
pub const LEASE_LOST: &str = "the lease on this seller account was lost";

/// A connection to PostgreSQL, made again when it was lost (a network cut, a server restart):
/// the call that finds it lost fails, the next one connects anew.
pub struct Client {
    config: tokio_postgres::Config,
    tls: bool,
    session: Mutex<Arc<Session>>,
    fence: Mutex<Option<Fence>>,
    /// A transaction is open.
    in_tx: std::sync::atomic::AtomicBool,
}

/// One connection and the statements prepared on it.
struct Session {
    client: tokio_postgres::Client,
    prepared: Prepared,
}

/// The advisory lock every writing transaction holds: the processes sharing a store write one
/// at a time, as on SQLite, so no change is computed from rows another process is changing.
const WRITE_LOCK: i64 = 7_316_028_716;

impl Client {
    /// Connects to `url` (a `postgresql://` URL or key=value string; TLS unless its `sslmode`
    /// is `disable`, the server's certificate checked against the built-in web roots).
    pub fn connect(url: &str) -> crate::error::Result<Client> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
            crate::error::Error::Config(format!("store.postgres is not a PostgreSQL URL: {e}"))
        })?;
        config
            .connect_timeout(Duration::from_secs(10))
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(5))
            .keepalives_interval(Duration::from_secs(2))
            .keepalives_retries(3)
            .tcp_user_timeout(Duration::from_secs(10))
            .application_name("sellsync");
        let tls = config.get_ssl_mode() != tokio_postgres::config::SslMode::Disable;
        let session = Session::open(&config, tls).map_err(|e| {
            crate::error::Error::Store(format!("cannot connect to PostgreSQL: {e}"))
        })?;
        Ok(Client {
            config,
            tls,
            session: Mutex::new(Arc::new(session)),
            fence: Mutex::new(None),
            in_tx: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The live session, connecting again if the last one was lost (not inside a
    /// transaction: that one is gone with its connection).
    fn session(&self) -> SqlResult<Arc<Session>> {
        let mut current = self.session.lock().unwrap_or_else(|p| p.into_inner());
        if current.client.is_closed() && !self.in_tx.load(std::sync::atomic::Ordering::Relaxed) {
            let fresh = Session::open(&self.config, self.tls).map_err(|e| {
                rusqlite::Error::ToSqlConversionFailure(Box::new(PgError(format!(
                    "the connection was lost and cannot be made again: {e}"
                ))))
            })?;
            tracing::info!("the connection to PostgreSQL was made again");
            *current = Arc::new(fresh);
        }
        Ok(current.clone())
    }

    /// Sets (or clears) the lease this connection's transactions check.
    pub fn set_fence(&self, fence: Option<Fence>) {
        *self.fence.lock().unwrap_or_else(|p| p.into_inner()) = fence;
    }

    /// Inside a transaction of a sync flow (see [`fenced`]): fails with [`LEASE_LOST`] unless
    /// the lease set by `set_fence` (if any) still names this process under the same epoch,
    /// and locks its row so no one takes it over before this transaction ends. Whoever takes a
    /// lease over raises its epoch, so a lease that ran out but was not taken over is still
    /// this process's (its renewal may have waited behind this process's own long
    /// transaction).
    pub(super) fn check_fence(&self) -> SqlResult<()> {
        if IN_FLOW.try_with(|_| ()).is_err() {
            return Ok(());
        }
        let fence = self.fence.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(f) = fence else { return Ok(()) };
        let s = self.prepare(
            "SELECT 1 FROM leases WHERE account = ?1 AND holder = ?2 AND epoch = ?3 FOR SHARE",
        )?;
        let rows = self.query(&s, &[&f.account, &f.holder, &f.epoch])?;
        if rows.is_empty() {
            return Err(rusqlite::Error::ToSqlConversionFailure(Box::new(PgError(
                LEASE_LOST.into(),
            ))));
        }
        Ok(())
    }

    /// Begins a transaction that writes alone (it waits for the write lock), checking the
    /// lease first when `fenced`.
    pub(super) fn begin(&self, fenced: bool) -> SqlResult<()> {
        self.batch(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
        ))?;
        self.in_tx.store(true, std::sync::atomic::Ordering::Relaxed);
        if fenced {
            if let Err(e) = self.check_fence() {
                let _ = self.end(false);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Commits or rolls back the open transaction.
    pub(super) fn end(&self, commit: bool) -> SqlResult<()> {
        self.in_tx
            .store(false, std::sync::atomic::Ordering::Relaxed);
        self.batch(if commit { "COMMIT" } else { "ROLLBACK" })
    }

    /// Runs a change: in the open transaction, or else in one of its own that writes alone
    /// under the lease.
    pub(super) fn guarded<T>(&self, f: impl FnOnce() -> SqlResult<T>) -> SqlResult<T> {
        if self.in_tx.load(std::sync::atomic::Ordering::Relaxed) {
            return f();
        }
        self.begin(true)?;
        match f() {
            Ok(v) => self.end(true).map(|()| v),
            Err(e) => {
                let _ = self.end(false);
                Err(e)
            }
        }
    }

    /// Runs a query, guarded as a change when it `writes`.
    pub(super) fn query_guarded(
        &self,
        s: &tokio_postgres::Statement,
        p: &[&dyn rusqlite::ToSql],
        writes: bool,
    ) -> SqlResult<Vec<Vec<Value>>> {
        if writes {
            self.guarded(|| self.query(s, p))
        } else {
            self.query(s, p)
        }
    }

    /// Runs statements without parameters.
    pub fn batch(&self, sql: &str) -> SqlResult<()> {
        let session = self.session()?;
        futures_executor::block_on(session.client.batch_execute(sql)).map_err(pg_error)
    }

    /// The prepared statement for `sql` (SQLite's dialect).
    pub fn prepare(&self, sql: &str) -> SqlResult<tokio_postgres::Statement> {
        let session = self.session()?;
        session.prepared.get(sql, |pg| {
            futures_executor::block_on(session.client.prepare(pg)).map_err(|e| {
                let statement: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
                let cut: String = statement.chars().take(160).collect();
                match pg_error(e) {
                    rusqlite::Error::ToSqlConversionFailure(e) => {
                        rusqlite::Error::ToSqlConversionFailure(Box::new(PgError(format!(
                            "{} in `{cut}`",
                            e.to_string().trim_start_matches("PostgreSQL: ")
                        ))))
                    }
                    other => other,
                }
            })
        })
    }

    /// Runs a statement; the number of rows it changed.
    pub fn execute(
        &self,
        s: &tokio_postgres::Statement,
        p: &[&dyn rusqlite::ToSql],
    ) -> SqlResult<usize> {
        let binds = binds(p)?;
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = binds
            .iter()
            .map(|b| b as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        futures_executor::block_on(self.session()?.client.execute(s, &refs))
            .map(|n| n as usize)
            .map_err(pg_error)
    }

    /// Runs a query; its rows as SQLite values.
    pub fn query(
        &self,
        s: &tokio_postgres::Statement,
        p: &[&dyn rusqlite::ToSql],
    ) -> SqlResult<Vec<Vec<Value>>> {
        let binds = binds(p)?;
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = binds
            .iter()
            .map(|b| b as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        let rows =
            futures_executor::block_on(self.session()?.client.query(s, &refs)).map_err(pg_error)?;
        rows.iter()
            .map(|r| (0..r.len()).map(|i| value(r, i)).collect())
            .collect()
    }
}

impl Session {
    /// Connects, driving the connection on a thread of its own.
    fn open(config: &tokio_postgres::Config, tls: bool) -> Result<Session, String> {
        let config = config.clone();
        let (send, receive) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("sellsync-pg".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = send.send(Err(format!("cannot start a runtime: {e}")));
                        return;
                    }
                };
                rt.block_on(async move {
                    let connected = if tls {
                        config
                            .connect(tls_connector())
                            .await
                            .map(|(c, conn)| (c, Box::pin(conn) as std::pin::Pin<Box<dyn Drive>>))
                    } else {
                        config
                            .connect(tokio_postgres::NoTls)
                            .await
                            .map(|(c, conn)| (c, Box::pin(conn) as std::pin::Pin<Box<dyn Drive>>))
                    };
                    match connected {
                        Ok((client, conn)) => {
                            let _ = send.send(Ok(client));
                            let _ = conn.await;
                        }
                        Err(e) => {
                            let _ = send.send(Err(match pg_error(e) {
                                rusqlite::Error::ToSqlConversionFailure(e) => e.to_string(),
                                e => e.to_string(),
                            }));
                        }
                    }
                });
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        let client = receive
            .recv()
            .map_err(|_| "the connection thread ended".to_string())??;
        Ok(Session {
            client,
            prepared: Prepared::default(),
        })
    }
}

/// What the connection thread drives.
trait Drive: std::future::Future<Output = Result<(), tokio_postgres::Error>> + Send {}
impl<T: std::future::Future<Output = Result<(), tokio_postgres::Error>> + Send> Drive for T {}

fn tls_connector() -> tokio_postgres_rustls::MakeRustlsConnect {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_postgres_rustls::MakeRustlsConnect::new(config)
}

/// A parameter as SQLite would bind it, written in the type PostgreSQL inferred for it.
#[derive(Debug)]
struct Bind(Value);

fn binds(p: &[&dyn rusqlite::ToSql]) -> SqlResult<Vec<Bind>> {
    p.iter()
        .map(|v| {
            Ok(Bind(match v.to_sql()? {
                ToSqlOutput::Borrowed(r) => r.into(),
                ToSqlOutput::Owned(v) => v,
                other => {
                    return Err(rusqlite::Error::ToSqlConversionFailure(Box::new(PgError(
                        format!("unsupported parameter {other:?}"),
                    ))))
                }
            }))
        })
        .collect()
}

impl tokio_postgres::types::ToSql for Bind {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let mismatch = || -> Box<dyn std::error::Error + Sync + Send> {
            Box::new(PgError(format!("cannot bind {:?} as {ty}", self.0)))
        };
        match &self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(n) => match *ty {
                Type::INT8 => n.to_sql(ty, out),
                Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
                Type::BOOL => (*n != 0).to_sql(ty, out),
                Type::FLOAT8 => (*n as f64).to_sql(ty, out),
                Type::FLOAT4 => (*n as f32).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    n.to_string().to_sql(&Type::TEXT, out)
                }
                _ => Err(mismatch()),
            },
            Value::Real(x) => match *ty {
                Type::FLOAT8 => x.to_sql(ty, out),
                Type::FLOAT4 => (*x as f32).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::UNKNOWN => {
                    x.to_string().to_sql(&Type::TEXT, out)
                }
                _ => Err(mismatch()),
            },
            Value::Text(s) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    s.as_str().to_sql(&Type::TEXT, out)
                }
                Type::INT8 => s.parse::<i64>()?.to_sql(ty, out),
                Type::FLOAT8 => s.parse::<f64>()?.to_sql(ty, out),
                Type::BYTEA => s.as_bytes().to_sql(ty, out),
                _ => Err(mismatch()),
            },
            Value::Blob(b) => match *ty {
                Type::BYTEA => b.as_slice().to_sql(ty, out),
                _ => Err(mismatch()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

/// Column `i` of `row` as the SQLite value it stands for.
fn value(row: &tokio_postgres::Row, i: usize) -> SqlResult<Value> {
    /// The column read as `T` (NULL as `Value::Null`), then made a value by `f`.
    fn read<'a, T: tokio_postgres::types::FromSql<'a>>(
        row: &'a tokio_postgres::Row,
        i: usize,
        f: impl FnOnce(T) -> Value,
    ) -> SqlResult<Value> {
        Ok(row
            .try_get::<_, Option<T>>(i)
            .map_err(pg_error)?
            .map_or(Value::Null, f))
    }
    match *row.columns()[i].type_() {
        Type::INT8 => read(row, i, Value::Integer),
        Type::INT4 => read(row, i, |n: i32| Value::Integer(n.into())),
        Type::INT2 => read(row, i, |n: i16| Value::Integer(n.into())),
        Type::BOOL => read(row, i, |b: bool| Value::Integer(b.into())),
        Type::FLOAT8 => read(row, i, Value::Real),
        Type::FLOAT4 => read(row, i, |x: f32| Value::Real(x.into())),
        Type::BYTEA => read(row, i, Value::Blob),
        Type::NUMERIC => read(row, i, |n: Numeric| n.0),
        _ => read(row, i, Value::Text),
    }
}

/// A NUMERIC (what `SUM` of integers gives) as an integer when it is whole, a double when not.
struct Numeric(Value);

impl<'a> tokio_postgres::types::FromSql<'a> for Numeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let word = |k: usize| -> Result<i16, Box<dyn std::error::Error + Sync + Send>> {
            let b = raw.get(k..k + 2).ok_or("short NUMERIC")?;
            Ok(i16::from_be_bytes([b[0], b[1]]))
        };
        let (ndigits, weight, sign) = (word(0)?, word(2)?, word(4)? as u16);
        if sign == 0xC000 {
            return Ok(Numeric(Value::Null));
        }
        let mut whole: i128 = 0;
        let mut fraction = 0f64;
        for d in 0..ndigits.max(0) as usize {
            let digit = i128::from(word(8 + 2 * d)?);
            let power = i32::from(weight) - d as i32;
            if power >= 0 {
                whole = whole
                    .saturating_add(digit.saturating_mul(10_000i128.saturating_pow(power as u32)));
            } else {
                fraction += digit as f64 * 10_000f64.powi(power);
            }
        }
        let negative = sign == 0x4000;
        Ok(Numeric(
            if fraction == 0.0 && i64::try_from(whole).is_ok() {
                let n = whole as i64;
                Value::Integer(if negative { -n } else { n })
            } else {
                let x = whole as f64 + fraction;
                Value::Real(if negative { -x } else { x })
            },
        ))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("pg::Client").finish_non_exhaustive()
    }
}
