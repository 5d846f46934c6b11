//! The durable local state: one SQLite file per seller account (WAL, `synchronous=FULL`, so a
//! committed write survives a process crash and a power cut; stock levels may be configured to
//! survive a process crash only). All SQL lives in this module; every statement is
//! parameterised and every multi-row change is one transaction. Host calls that change the
//! store go through group commit (`commit`); the hot paths cost the same in a large store as in
//! a small one (`hot_paths` tests it).

pub mod account_health;
pub mod adjustments;
pub mod commit;
pub mod db;
pub mod deliveries;
pub mod fba;
pub mod feed_attempts;
pub mod feed_watch;
pub mod files;
#[cfg(test)]
mod hot_paths;
pub mod lease;
pub mod listings;
pub mod metrics;
pub mod notifications;
pub mod pg;
pub mod prices;
pub mod privacy;
pub mod returns;
pub mod schema;
pub mod seal;
pub mod shipments;
pub mod stock;
#[doc(hidden)]
pub mod testing;

use crate::amazon::limiter::{BucketStore, Operation, SavedBucket};
use crate::error::{quote, Error, Result};
use crate::model::{Event, Order, OrderStatus};
use chrono::{DateTime, SecondsFormat, Utc};
use db::{params, Conn, OptionalExtension, Tx};
use std::sync::{Mutex, MutexGuard};

/// Most unacknowledged events kept for the host: an event is dropped once this many newer ones
/// have been stored while it was still not acknowledged.
pub const MAX_EVENTS: i64 = 100_000;

/// Formats a time the way the store and the documents keep it (sortable text).
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// What applying one order from Amazon changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// Orders not seen before.
    pub new: u64,
    /// Orders whose content changed.
    pub updated: u64,
    /// Orders skipped as already known (same or older version).
    pub unchanged: u64,
    /// Of those, orders older than the stored version (a stale answer).
    pub stale: u64,
    /// SKUs whose quantity for Amazon changed with the orders' reservations.
    pub stock_changed: u64,
}

/// Counts of orders by delivery state.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct OrderCounts {
    pub total: u64,
    pub pending: u64,
    pub waiting_for_host: u64,
    pub acknowledged: u64,
}

/// The store.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Conn>,
    queue: commit::Queue,
    /// The keys buyer data is sealed with.
    keys: std::sync::Arc<privacy::Keys>,
    /// What opening did to buyer data.
    opened: privacy::Opened,
}

impl Store {
    /// Opens (creating if needed) the store at `path` with the default privacy settings (the
    /// key file beside the store).
    pub fn open(path: &str) -> Result<Store> {
        Self::open_with(path, &crate::config::Privacy::default())
    }

    /// Opens (creating if needed) the store at `path`, its files readable by their owner only,
    /// applies pending migrations and sets up the sealing of buyer data as `privacy` says.
    pub fn open_with(path: &str, privacy: &crate::config::Privacy) -> Result<Store> {
        Self::open_inner(path, Some(privacy))
    }

    /// Opens the store for a tool that never reads or writes buyer data (the `sellsync`
    /// command): the key is neither read nor made, so recipients stay sealed.
    pub fn open_without_buyer_data(path: &str) -> Result<Store> {
        Self::open_inner(path, None)
    }

    fn open_inner(path: &str, privacy: Option<&crate::config::Privacy>) -> Result<Store> {
        files::prepare_store(path)?;
        let conn = rusqlite::Connection::open(path)
            .map_err(|e| Error::Store(format!("cannot open store {}: {e}", quote(path))))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Store(format!(
                "store {} cannot use WAL (journal mode {mode})",
                quote(path)
            )));
        }
        // Deleted buyer data is overwritten where that costs no extra writes.
        conn.execute_batch(
            "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=FAST;",
        )?;
        // Every statement of the hot paths stays prepared.
        conn.set_prepared_statement_cache_capacity(128);
        let store = Self::finish_open(Conn::Sqlite(conn), path, privacy)?;
        // SQLite made the -wal and -shm files with the main file's mode; older ones are
        // tightened too.
        files::prepare_store(path)?;
        Ok(store)
    }

    /// Opens the store in the PostgreSQL database at `url` (shared by every process of one
    /// seller account), applying pending migrations; buyer data is sealed with the key
    /// `privacy` gives (it must be given: every process needs the same one).
    pub fn open_postgres(url: &str, privacy: Option<&crate::config::Privacy>) -> Result<Store> {
        let client = pg::Client::connect(url)?;
        Self::finish_open(Conn::Pg(Box::new(client)), "", privacy)
    }

    /// Opens an existing store in the PostgreSQL database at `url` for a tool that never reads
    /// or writes buyer data (the `sellsync` command); a database without a store is an error,
    /// never made into one.
    pub fn open_postgres_without_buyer_data(url: &str) -> Result<Store> {
        let conn = Conn::Pg(Box::new(pg::Client::connect(url)?));
        let present: i64 = conn.query_row(
            "SELECT COUNT(*) FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_name = 'schema_version'",
            [],
            |r| r.get(0),
        )?;
        if present == 0 {
            return Err(Error::NotFound(
                "the PostgreSQL database holds no sellsync store".into(),
            ));
        }
        Self::finish_open(conn, "", None)
    }

    /// Opens the store the configuration names.
    pub fn open_for(config: &crate::config::Config) -> Result<Store> {
        match &config.store.postgres {
            Some(url) => Self::open_postgres(url.expose(), Some(&config.privacy)),
            None => Self::open_with(&config.store_path, &config.privacy),
        }
    }

    fn finish_open(
        mut conn: Conn,
        path: &str,
        privacy: Option<&crate::config::Privacy>,
    ) -> Result<Store> {
        migrate(&mut conn)?;
        let (keys, opened) = match privacy {
            Some(p) => privacy::setup(&mut conn, path, p)?,
            None => (privacy::Keys::none(), privacy::Opened::default()),
        };
        Ok(Store {
            conn: Mutex::new(conn),
            queue: commit::Queue::default(),
            keys: std::sync::Arc::new(keys),
            opened,
        })
    }

    /// Whether the store is on PostgreSQL.
    pub fn is_shared(&self) -> bool {
        self.conn().is_pg()
    }

    /// The rate-limit buckets the last process left.
    pub fn saved_buckets(&self) -> Result<Vec<SavedBucket>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT operation, tokens, rate, at_ms FROM rate_limits")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, f64>(1)?,
                r.get::<_, f64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (name, tokens, rate, at_ms) = row?;
            if let Some(op) = Operation::parse(&name) {
                out.push(SavedBucket {
                    op,
                    tokens,
                    rate,
                    at_ms,
                });
            }
        }
        Ok(out)
    }

    /// The connection, at `synchronous=FULL` (every write outside group commit is fully
    /// durable).
    fn conn(&self) -> MutexGuard<'_, Conn> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let relaxed = || {
            self.queue
                .relaxed
                .swap(false, std::sync::atomic::Ordering::Relaxed)
        };
        if let Some(sqlite) = conn.sqlite().filter(|_| relaxed()) {
            // Should this fail, the connection stays relaxed and says so at the next call.
            if sqlite.pragma_update(None, "synchronous", "FULL").is_err() {
                self.queue
                    .relaxed
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        conn
    }
}

/// Applies the migrations the store has not had yet, each in its own transaction (SQLite
/// counts them in `PRAGMA user_version`, PostgreSQL in `schema_version`, under a lock so that
/// processes starting together migrate once).
fn migrate(conn: &mut Conn) -> Result<()> {
    let pg = conn.is_pg();
    if pg {
        conn.execute_batch(
            "SELECT pg_advisory_lock(7316028715);
             CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL);
             INSERT INTO schema_version SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version);",
        )?;
    }
    let migrated = migrate_locked(conn, pg);
    if pg {
        conn.execute_batch("SELECT pg_advisory_unlock(7316028715)")?;
    }
    migrated
}

fn migrate_locked(conn: &mut Conn, pg: bool) -> Result<()> {
    let version_sql = if pg {
        "SELECT version FROM schema_version"
    } else {
        "PRAGMA user_version"
    };
    let version: usize = conn.query_row(version_sql, [], |r| r.get::<_, i64>(0))? as usize;
    let all = schema::MIGRATIONS.len();
    if version > all {
        return Err(Error::Store(format!(
            "the store was written by a newer sellsync (schema {version}, this one knows {all})"
        )));
    }
    for i in version..all {
        let tx = conn.transaction()?;
        if pg {
            let sql = match i + 1 {
                29 => schema::PG_MIGRATION_29.to_string(),
                _ => db::migration_to_pg(schema::MIGRATIONS[i]),
            };
            tx.execute_batch(&sql)?;
            tx.execute("UPDATE schema_version SET version = ?1", [i as i64 + 1])?;
        } else {
            tx.execute_batch(schema::MIGRATIONS[i])?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        }
        tx.commit()?;
    }
    Ok(())
}

impl Store {
    /// A named watermark.
    pub fn watermark(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT value FROM watermarks WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Sets a named watermark, durably (synced to disk with everything committed before it).
    pub fn set_watermark(&self, name: &str, value: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO watermarks(name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )?;
        Ok(())
    }

    /// Deletes a named watermark.
    pub fn clear_watermark(&self, name: &str) -> Result<()> {
        self.conn()
            .execute("DELETE FROM watermarks WHERE name = ?1", [name])?;
        Ok(())
    }

    /// Deletes the watermarks named `prefix` + id for every id not in `keep`.
    pub fn forget_watermarks_except(&self, prefix: &str, keep: &[String]) -> Result<()> {
        let keep: std::collections::HashSet<String> =
            keep.iter().map(|k| format!("{prefix}{k}")).collect();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let names: Vec<String> = tx
            .prepare("SELECT name FROM watermarks WHERE substr(name, 1, ?2) = ?1")?
            .query_map(params![prefix, prefix.chars().count() as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for name in names.iter().filter(|n| !keep.contains(*n)) {
            tx.execute("DELETE FROM watermarks WHERE name = ?1", [name])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Stores orders read from Amazon in one transaction, de-duplicated by order id and
    /// last-update time, with the events their changes cause, and recomputes what the SKUs of
    /// the changed orders, and every SKU sharing a host item with them (a pack, a kit), should
    /// show on Amazon.
    ///
    /// The transaction survives a crash of the process but is not synced to disk on its own
    /// (no fsync per page): what Amazon told us can be read again until the watermark moves,
    /// and [`Store::set_watermark`] commits with a sync, which makes every page before it
    /// durable too.
    pub fn apply_orders(
        &self,
        orders: impl Into<Vec<Order>>,
        defaults: &crate::config::StockConfig,
        now: DateTime<Utc>,
    ) -> Result<Applied> {
        let (orders, defaults, keys) = (orders.into(), defaults.clone(), self.keys.clone());
        self.write(commit::Durability::Process, move |tx| {
            let mut applied = Applied::default();
            let mut skus = std::collections::BTreeSet::new();
            for o in &orders {
                apply_order(tx, &keys, o, now, &mut applied, &mut skus)?;
            }
            let skus = stock::sharing_items(tx, &skus)?;
            applied.stock_changed =
                stock::recompute(tx, skus.iter().map(String::as_str), &defaults, None)?.len()
                    as u64;
            trim_events(tx)?;
            Ok(applied)
        })
    }

    /// The stored document of an order, with its recipient unless it was purged.
    pub fn order(&self, order_id: &str) -> Result<Option<Order>> {
        let row: Option<(String, Option<Vec<u8>>)> = self
            .conn()
            .query_row(
                "SELECT doc, buyer_sealed FROM orders WHERE order_id = ?1",
                [order_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((doc, sealed)) = row else {
            return Ok(None);
        };
        let mut order: Order = serde_json::from_str(&doc)?;
        if let Some(blob) = sealed {
            self.keys.open_buyer_data(&mut order, &blob);
        }
        Ok(Some(order))
    }

    /// Order counts by delivery state.
    pub fn order_counts(&self) -> Result<OrderCounts> {
        Ok(self.conn().query_row(
            "SELECT (SELECT n FROM tallies WHERE name = 'orders'),
                    (SELECT COUNT(*) FROM orders WHERE status IN ('PENDING', 'PENDING_AVAILABILITY')),
                    (SELECT COUNT(*) FROM orders
                     WHERE acked_at IS NULL AND ready_seq IS NOT NULL AND status <> 'CANCELLED'),
                    (SELECT n FROM tallies WHERE name = 'orders_acked')",
            [],
            |r| {
                Ok(OrderCounts {
                    total: r.get::<_, i64>(0)? as u64,
                    pending: r.get::<_, i64>(1)? as u64,
                    waiting_for_host: r.get::<_, i64>(2)? as u64,
                    acknowledged: r.get::<_, i64>(3)? as u64,
                })
            },
        )?)
    }

    /// Appends an event.
    pub fn push_event(&self, event: &Event, now: DateTime<Utc>) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        insert_event(&tx, event, now)?;
        trim_events(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// Hands out the oldest unacknowledged event that `owner` does not hold a live lease on,
    /// leasing it to `owner` until `lease_until`: its `seq` and its JSON document (with `seq`
    /// and `time`). Without one, the earliest time one of `owner`'s leases runs out, if any.
    pub fn next_event(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<NextEvent> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let row: Option<(i64, String, String)> = tx
            .query_row(
                "SELECT seq, time, doc FROM events
                 WHERE lease_owner IS NULL OR lease_owner <> ?1 OR lease_until <= ?2
                 ORDER BY seq LIMIT 1",
                params![owner, ts(now)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((seq, time, doc)) = row else {
            let due: Option<String> = tx.query_row(
                "SELECT MIN(lease_until) FROM events WHERE lease_owner = ?1",
                [owner],
                |r| r.get(0),
            )?;
            let due = due.and_then(|d| DateTime::parse_from_rfc3339(&d).ok());
            return Ok(NextEvent::None {
                due: due.map(|d| d.with_timezone(&Utc)),
            });
        };
        tx.execute(
            "UPDATE events SET lease_owner = ?1, lease_until = ?2 WHERE seq = ?3",
            params![owner, ts(lease_until), seq],
        )?;
        tx.commit()?;
        let mut v: serde_json::Value = serde_json::from_str(&doc)?;
        v["seq"] = seq.into();
        v["time"] = time.into();
        Ok(NextEvent::Event(seq, v.to_string()))
    }

    /// Acknowledges the event `seq`: it is deleted and never handed out again. Acknowledging
    /// an event already acknowledged (or dropped) succeeds; a `seq` never given out is
    /// `NotFound`.
    pub fn ack_event(&self, seq: i64) -> Result<()> {
        let conn = self.conn();
        if conn.execute("DELETE FROM events WHERE seq = ?1", [seq])? > 0 {
            return Ok(());
        }
        // The highest sequence number ever given.
        let sql = if conn.is_pg() {
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM events_seq_seq"
        } else {
            "SELECT seq FROM sqlite_sequence WHERE name = 'events'"
        };
        let last: i64 = conn
            .query_row(sql, [], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        if seq <= 0 || seq > last {
            return Err(Error::NotFound(format!("event {seq} was never handed out")));
        }
        Ok(())
    }

    /// How many unacknowledged events were dropped since the store was made, because 100,000
    /// newer ones had been stored before they were acknowledged.
    pub fn events_dropped(&self) -> Result<u64> {
        Ok(self
            .watermark(EVENTS_DROPPED)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Flushes the WAL into the main file (on close).
    pub fn checkpoint(&self) -> Result<()> {
        if let Some(c) = self.conn().sqlite() {
            c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
        }
        Ok(())
    }
}

fn insert_event(tx: &Tx<'_>, event: &Event, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "INSERT INTO events(time, doc) VALUES (?1, ?2)",
        params![ts(now), serde_json::to_string(event)?],
    )?;
    Ok(())
}

/// Keeps the events of the newest `MAX_EVENTS` sequence numbers: an event still not
/// acknowledged when that many newer ones exist is dropped, and counted.
fn trim_events(tx: &Tx<'_>) -> Result<()> {
    let dropped = tx.execute(
        "DELETE FROM events WHERE seq <= (SELECT MAX(seq) FROM events) - ?1",
        [MAX_EVENTS],
    )?;
    if dropped > 0 {
        tx.execute(
            "INSERT INTO watermarks(name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = CAST(CAST(watermarks.value AS INTEGER) + ?3 AS TEXT)",
            params![EVENTS_DROPPED, dropped.to_string(), dropped as i64],
        )?;
        tracing::warn!(
            dropped,
            "{dropped} events were dropped unacknowledged: 100,000 newer ones have been stored"
        );
    }
    Ok(())
}

/// The watermark counting dropped events.
const EVENTS_DROPPED: &str = "events_dropped";

/// What `Store::next_event` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextEvent {
    /// An event: its `seq` and its JSON document.
    Event(i64, String),
    /// None now; `due` is when one of the caller's own leases runs out.
    None { due: Option<DateTime<Utc>> },
}

/// Acknowledges one order in `tx`.
struct Stored {
    status: String,
    last_updated: String,
    doc: String,
    ready_seq: Option<i64>,
    acked: bool,
    host_ref: Option<String>,
}

/// The SKUs of a new order, as `apply_order` explains: ?1 the order, ?2 its purchase time
/// plus `BOUNDARY_SLACK`, ?3 less it. The order's units are counted (`orders_took`) where it is
/// clearly after Amazon's last known quantity and nothing was sent, in a feed or held; else an
/// order after (or too close to) that quantity puts the SKU out of step.
static ORDER_SEEN_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let counted = "patch_sent IS NULL AND in_flight_feed IS NULL AND amazon_at < ?3
                   AND (pushed_for IS NULL OR pushed_for = amazon)";
    format!(
        "UPDATE skus SET
             orders_took = CASE WHEN {counted}
                                THEN COALESCE(orders_took, 0)
                                     + (SELECT SUM(i.quantity) FROM order_items i
                                        WHERE i.order_id = ?1 AND i.sku = skus.sku)
                                ELSE orders_took END,
             pushed_for = CASE WHEN pushed_for <> COALESCE(patch_sent, amazon) THEN NULL ELSE pushed_for END,
             recheck_after = CASE WHEN {counted} THEN recheck_after
                                  WHEN amazon_at < ?2 AND (recheck_after IS NULL OR recheck_after < ?2) THEN ?2
                                  ELSE recheck_after END
         WHERE fba = 0 AND sku IN (SELECT sku FROM order_items WHERE order_id = ?1)"
    )
});

/// Stores one order (unless the store has the same or a newer version) and adds the SKUs its
/// old and new items name to `skus`.
fn apply_order(
    tx: &Tx<'_>,
    keys: &privacy::Keys,
    o: &Order,
    now: DateTime<Utc>,
    applied: &mut Applied,
    skus: &mut std::collections::BTreeSet<String>,
) -> Result<()> {
    // The recipient is kept sealed beside the document, never in it.
    let (doc, sealed) = keys.seal_order(o)?;
    let stored: Option<Stored> = tx
        .prepare_cached(
            "SELECT status, last_updated, doc, ready_seq, acked_at IS NOT NULL, host_ref FROM orders WHERE order_id = ?1",
        )?
        .query_row([&o.order_id], |r| {
                Ok(Stored {
                    status: r.get(0)?,
                    last_updated: r.get(1)?,
                    doc: r.get(2)?,
                    ready_seq: r.get(3)?,
                    acked: r.get(4)?,
                    host_ref: r.get(5)?,
                })
        })
        .optional()?;
    if let Some(s) = &stored {
        if o.last_updated < s.last_updated || (o.last_updated == s.last_updated && doc == s.doc) {
            applied.unchanged += 1;
            applied.stale += u64::from(o.last_updated < s.last_updated);
            return Ok(());
        }
    }
    let becomes_ready =
        o.status.is_ready() && stored.as_ref().is_none_or(|s| s.ready_seq.is_none());
    let ready_seq: Option<i64> = match (&stored, becomes_ready) {
        (Some(s), false) => s.ready_seq,
        (None, false) => None,
        (_, true) => Some(
            tx.prepare_cached("SELECT COALESCE(MAX(ready_seq), 0) + 1 FROM orders")?
                .query_row([], |r| r.get(0))?,
        ),
    };
    tx.prepare_cached(
        "INSERT INTO orders(order_id, marketplace_id, status, fulfilled_by, purchase_date, last_updated,
                            latest_ship_date, doc, ready_seq, buyer_sealed, retention_from)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT(order_id) DO UPDATE SET status = excluded.status, last_updated = excluded.last_updated,
             latest_ship_date = excluded.latest_ship_date, doc = excluded.doc, ready_seq = excluded.ready_seq,
             buyer_sealed = CASE WHEN orders.buyer_purged_at IS NOT NULL THEN NULL
                                 ELSE COALESCE(excluded.buyer_sealed, orders.buyer_sealed) END,
             retention_from = COALESCE(orders.retention_from, excluded.retention_from)",
    )?
    .execute(params![
            o.order_id,
            o.marketplace_id,
            o.status.as_str(),
            serde_json::to_value(o.fulfilled_by)?.as_str().unwrap_or("MERCHANT"),
            o.purchase_date,
            o.last_updated,
            o.latest_ship_date,
            doc,
            ready_seq,
            sealed,
            privacy::retention_from(o)
    ])?;
    if stored.is_some() {
        let mut removed =
            tx.prepare_cached("DELETE FROM order_items WHERE order_id = ?1 RETURNING sku")?;
        for sku in removed.query_map([&o.order_id], |r| r.get::<_, Option<String>>(0))? {
            skus.extend(sku?);
        }
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO order_items(order_id, order_item_id, sku, quantity, quantity_shipped, quantity_cancelled)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for it in &o.items {
        insert.execute(params![
            o.order_id,
            it.order_item_id,
            it.sku,
            it.quantity,
            it.quantity_shipped,
            it.quantity_cancelled
        ])?;
        skus.extend(it.sku.clone());
    }
    match &stored {
        None => {
            applied.new += 1;
            // A push that held units back for orders not seen yet (it sent less than it was
            // made for: the value sent, or Amazon's once it landed) is out of date once one of
            // them is seen. An order placed clearly after
            // Amazon's last known quantity, on a SKU with nothing sent, in a feed or held,
            // took its units from that quantity: they are counted (`orders_took`), and the SKU
            // stays in step while it should show what is left, without a read (orders only
            // take units: Amazon shows that or less, and the orders behind less lower what it
            // should show when they are seen). Any other order placed after it (or too close
            // to tell, Amazon's times being to the second) puts the SKU out of step until
            // Amazon's quantity is read (or set) again after that, even when what it should
            // show ends where it was (the host acknowledges the order and reports its shelf
            // before the next push).
            let parsed = DateTime::parse_from_rfc3339(&o.purchase_date)
                .map(|t| t.with_timezone(&Utc))
                .ok();
            let at = |shift: chrono::Duration| {
                parsed.map_or_else(|| o.purchase_date.clone(), |t| ts(t + shift))
            };
            tx.prepare_cached(&ORDER_SEEN_SQL)?.execute(params![
                o.order_id,
                at(stock::BOUNDARY_SLACK),
                at(-stock::BOUNDARY_SLACK)
            ])?;
        }
        Some(_) => applied.updated += 1,
    }
    if becomes_ready {
        deliveries::add_ready(tx, &o.order_id, ready_seq)?;
        insert_event(
            tx,
            &Event::OrderReady {
                order_id: o.order_id.clone(),
                marketplace_id: o.marketplace_id.clone(),
                fulfilled_by: o.fulfilled_by,
            },
            now,
        )?;
    }
    let Some(s) = stored else { return Ok(()) };
    if s.ready_seq.is_none() {
        return Ok(());
    }
    let old_status = OrderStatus::parse(&s.status).unwrap_or(OrderStatus::Pending);
    if old_status != o.status {
        if o.status == OrderStatus::Cancelled {
            deliveries::cancel_deliveries(tx, &o.order_id)?;
        }
        insert_event(
            tx,
            &Event::OrderStatusChanged {
                order_id: o.order_id.clone(),
                old_status,
                new_status: o.status,
                acknowledged: s.acked,
                host_ref: s.host_ref.clone(),
            },
            now,
        )?;
    }
    let was_requested = serde_json::from_str::<Order>(&s.doc)
        .map(|d| d.buyer_cancel_requested)
        .unwrap_or(false);
    if o.buyer_cancel_requested && !was_requested && o.status != OrderStatus::Cancelled {
        let reason = o.items.iter().find_map(|i| i.buyer_cancel_reason.clone());
        insert_event(
            tx,
            &Event::BuyerCancelRequested {
                order_id: o.order_id.clone(),
                reason,
                acknowledged: s.acked,
                host_ref: s.host_ref,
            },
            now,
        )?;
    }
    Ok(())
}

impl Store {
    /// The stored last-update time of each of `order_ids` that is known.
    pub fn known_versions(
        &self,
        order_ids: &[String],
    ) -> Result<std::collections::HashMap<String, String>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT last_updated FROM orders WHERE order_id = ?1")?;
        let mut out = std::collections::HashMap::new();
        for id in order_ids {
            if let Some(v) = stmt.query_row([id], |r| r.get::<_, String>(0)).optional()? {
                out.insert(id.clone(), v);
            }
        }
        Ok(out)
    }
}

/// Counts of everything waiting, for `sellsync status`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Queues {
    pub shipments_queued: u64,
    pub shipments_uncertain: u64,
    pub shipments_failed: u64,
    pub adjustments_queued: u64,
    pub adjustments_in_feeds: u64,
    pub adjustments_failed: u64,
    pub skus_parked: u64,
    /// Events stored and not acknowledged yet (handed out or not).
    pub events_unread: u64,
    /// Events dropped unacknowledged since the store was made (see `MAX_EVENTS`).
    pub events_dropped: u64,
}

impl Store {
    /// What is waiting in every queue.
    pub fn queues(&self) -> Result<Queues> {
        Ok(self.conn().query_row(
            "SELECT (SELECT COUNT(CASE WHEN state = 'QUEUED' THEN 1 END) FROM shipments
                     WHERE state IN ('QUEUED', 'UNCERTAIN')),
                    (SELECT COUNT(CASE WHEN state = 'UNCERTAIN' THEN 1 END) FROM shipments
                     WHERE state IN ('QUEUED', 'UNCERTAIN')),
                    (SELECT COUNT(*) FROM shipments WHERE state = 'FAILED'),
                    (SELECT COUNT(*) FROM adjustments WHERE state = 'QUEUED'),
                    (SELECT COUNT(*) FROM adjustments WHERE state = 'SUBMITTED'),
                    (SELECT COUNT(*) FROM adjustments WHERE state = 'FAILED'),
                    (SELECT COUNT(*) FROM skus WHERE attempts > 0 AND attempts >= ?1),
                    (SELECT n FROM tallies WHERE name = 'events'),
                    COALESCE((SELECT CAST(value AS INTEGER) FROM watermarks WHERE name = 'events_dropped'), 0)",
            [stock::MAX_ATTEMPTS],
            |r| {
                let n = |i: usize| r.get::<_, i64>(i).map(|v| v as u64);
                Ok(Queues {
                    shipments_queued: n(0)?,
                    shipments_uncertain: n(1)?,
                    shipments_failed: n(2)?,
                    adjustments_queued: n(3)?,
                    adjustments_in_feeds: n(4)?,
                    adjustments_failed: n(5)?,
                    skus_parked: n(6)?,
                    events_unread: n(7)?,
                    events_dropped: n(8)?,
                })
            },
        )?)
    }

    /// Puts what Amazon refused back in the queues (after the cause was fixed): failed
    /// shipments and adjustments, parked SKUs. Returns how many.
    pub fn retry_failed(&self) -> Result<u64> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut n = tx.execute(
            "UPDATE shipments SET state = 'QUEUED', last_error = NULL WHERE state = 'FAILED'",
            [],
        )?;
        n += tx.execute("UPDATE adjustments SET state = 'QUEUED', last_error = NULL, feed_id = NULL, record = NULL WHERE state = 'FAILED'", [])?;
        n += tx.execute("UPDATE skus SET attempts = 0 WHERE attempts > 0", [])?;
        tx.commit()?;
        Ok(n as u64)
    }
}

impl BucketStore for Store {
    fn save(&self, b: &SavedBucket) {
        // Written after every SP-API call, so without an fsync of its own: with
        // `synchronous=NORMAL` a WAL commit survives a process crash, which is what matters
        // here (after a power cut Amazon's buckets have refilled anyway); the next FULL commit
        // syncs it too.
        let conn = self.conn();
        let relax = |mode: &str| match conn.sqlite() {
            Some(c) => c.execute_batch(&format!("PRAGMA synchronous={mode}")),
            None => Ok(()),
        };
        let r = relax("NORMAL").and_then(|()| {
            conn.prepare_cached(
                "INSERT INTO rate_limits(operation, tokens, rate, at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(operation) DO UPDATE SET tokens = excluded.tokens,
                     rate = excluded.rate, at_ms = excluded.at_ms",
            )
            .and_then(|mut s| s.execute(params![b.op.name(), b.tokens, b.rate, b.at_ms]))
        });
        let full = relax("FULL");
        if let Err(e) = r.and(full) {
            tracing::warn!(op = ?b.op, "the rate-limit state could not be stored: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counts_of_the_state_agree_with_the_rows_they_count() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_for_test(dir.path().join("s.sqlite").to_str().unwrap()).unwrap();
        let (now, defaults) = (Utc::now(), crate::config::StockConfig::default());
        let order = |n: usize, status: &str| -> Order {
            serde_json::from_value(serde_json::json!({
                "order_id": format!("111-{n:07}-0000000"), "marketplace_id": "ATVPDKIKX0DER",
                "status": status, "fulfilled_by": "MERCHANT",
                "purchase_date": "2026-01-01T10:00:00.000Z",
                "last_updated": format!("2026-01-01T10:00:{n:02}.000Z"),
                "earliest_ship_date": null, "latest_ship_date": "2026-01-03T10:00:00.000Z",
                "currency": "USD", "total": "10.00", "buyer_cancel_requested": false,
                "recipient": null,
                "items": [{"order_item_id": format!("{n}"), "sku": "SKU-1", "asin": null,
                           "title": null, "quantity": 1, "quantity_shipped": 0,
                           "unit_price": "10.00", "line_total": "10.00",
                           "buyer_cancel_requested": false, "buyer_cancel_reason": null}]
            }))
            .unwrap()
        };
        let orders: Vec<Order> = (0..9)
            .map(|n| order(n, ["UNSHIPPED", "PENDING", "UNSHIPPED"][n % 3]))
            .collect();
        store
            .apply_orders(orders.as_slice(), &defaults, now)
            .unwrap();
        for _ in 0..3 {
            let doc = store.next_order("h", now, now).unwrap().unwrap();
            let o: Order = serde_json::from_str(&doc).unwrap();
            store.ack_order(&o.order_id, "POS", now).unwrap();
            // Acknowledged again: counted once.
            store.ack_order(&o.order_id, "POS", now).unwrap();
        }
        let mappings: Vec<crate::model::SkuMapping> = (0..4)
            .map(|i| {
                serde_json::from_value(serde_json::json!({
                    "sku": format!("SKU-{i}"), "items": [{"host_item": format!("I-{i}")}],
                    "remove": i == 3
                }))
                .unwrap()
            })
            .collect();
        store.map_skus(&mappings[..3], &defaults, now).unwrap();
        store.map_skus(&mappings[1..], &defaults, now).unwrap();
        let event = Event::SyncFailed {
            flow: "orders".into(),
            status: "NETWORK".into(),
            message: "test".into(),
        };
        for _ in 0..4 {
            store.push_event(&event, now).unwrap();
        }
        match store.next_event("h", now, now).unwrap() {
            NextEvent::Event(seq, _) => store.ack_event(seq).unwrap(),
            NextEvent::None { .. } => panic!("an event is waiting"),
        }
        let rows = |sql: &str| {
            store
                .conn()
                .query_row(sql, [], |r| r.get::<_, i64>(0))
                .unwrap() as u64
        };
        let orders = store.order_counts().unwrap();
        assert_eq!(
            (orders.total, orders.acknowledged, orders.pending),
            (9, 3, 3),
            "{orders:?}"
        );
        assert_eq!(orders.total, rows("SELECT COUNT(*) FROM orders"));
        assert_eq!(
            orders.acknowledged,
            rows("SELECT COUNT(acked_at) FROM orders")
        );
        assert_eq!(orders.waiting_for_host, 3);
        let stock = store.stock_counts().unwrap();
        assert_eq!(stock.skus, 3);
        assert_eq!(stock.skus, rows("SELECT COUNT(*) FROM skus"));
        let queues = store.queues().unwrap();
        // One acknowledged of the four pushed, beside the orders' own events.
        assert_eq!(queues.events_unread, rows("SELECT COUNT(*) FROM events"));
        assert!(queues.events_unread >= 3);
    }

    #[test]
    fn past_the_bound_the_oldest_unacknowledged_events_are_dropped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_for_test(dir.path().join("s.sqlite").to_str().unwrap()).unwrap();
        let now = Utc::now();
        let event = Event::SyncFailed {
            flow: "orders".into(),
            status: "NETWORK".into(),
            message: "test".into(),
        };
        {
            let mut conn = store.conn();
            let tx = conn.transaction().unwrap();
            for _ in 0..MAX_EVENTS + 5 {
                insert_event(&tx, &event, now).unwrap();
            }
            trim_events(&tx).unwrap();
            tx.commit().unwrap();
        }
        let q = store.queues().unwrap();
        assert_eq!(q.events_unread, MAX_EVENTS as u64);
        assert_eq!(q.events_dropped, 5);
        assert_eq!(store.events_dropped().unwrap(), 5);
        // The oldest left is number 6; a dropped one may still be acknowledged.
        match store.next_event("h", now, now).unwrap() {
            NextEvent::Event(seq, _) => assert_eq!(seq, 6),
            other => panic!("{other:?}"),
        }
        store.ack_event(3).unwrap();
        store.push_event(&event, now).unwrap();
        assert_eq!(store.events_dropped().unwrap(), 6);
    }
}
