//! The durable local state: one SQLite file per seller account (WAL, `synchronous=FULL`, so a
//! committed write survives a process crash and a power cut). All SQL lives in this module;
//! every statement is parameterised and every multi-row change is one transaction.

pub mod adjustments;
pub mod listings;
pub mod metrics;
pub mod schema;
pub mod shipments;
pub mod stock;

use crate::error::{quote, Error, Result};
use crate::model::{Event, Order, OrderStatus};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use std::sync::{Mutex, MutexGuard};

/// Most events kept for the host; older ones are dropped first.
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
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) the store at `path` and applies pending migrations.
    pub fn open(path: &str) -> Result<Store> {
        let conn = Connection::open(path)
            .map_err(|e| Error::Store(format!("cannot open store {}: {e}", quote(path))))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Store(format!(
                "store {} cannot use WAL (journal mode {mode})",
                quote(path)
            )));
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")?;
        let store = Store {
            conn: Mutex::new(conn),
        };
        store.migrate()?;
        Ok(store)
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn migrate(&self) -> Result<()> {
        let mut conn = self.conn();
        let version: usize =
            conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
        if version > schema::MIGRATIONS.len() {
            return Err(Error::Store(format!(
                "the store was written by a newer sellsync (schema {version}, this one knows {})",
                schema::MIGRATIONS.len()
            )));
        }
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
            tx.commit()?;
        }
        Ok(())
    }

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

    /// Sets a named watermark.
    pub fn set_watermark(&self, name: &str, value: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO watermarks(name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )?;
        Ok(())
    }

    /// Deletes the watermarks named `prefix` + id for every id not in `keep`.
    pub fn forget_watermarks_except(&self, prefix: &str, keep: &[String]) -> Result<()> {
        let names: Vec<String> = keep.iter().map(|k| format!("{prefix}{k}")).collect();
        self.conn().execute(
            "DELETE FROM watermarks WHERE substr(name, 1, length(?1)) = ?1
               AND name NOT IN (SELECT value FROM json_each(?2))",
            params![prefix, serde_json::to_string(&names)?],
        )?;
        Ok(())
    }

    /// Stores orders read from Amazon in one transaction, de-duplicated by order id and
    /// last-update time, with the events their changes cause.
    pub fn apply_orders(&self, orders: &[Order], now: DateTime<Utc>) -> Result<Applied> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut applied = Applied::default();
        for o in orders {
            apply_order(&tx, o, now, &mut applied)?;
        }
        trim_events(&tx)?;
        tx.commit()?;
        Ok(applied)
    }

    /// Hands out the oldest order ready for the host that `owner` does not hold a live lease on,
    /// and leases it to `owner` until `lease_until`.
    pub fn next_order(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<String>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let found: Option<(String, String)> = tx
            .query_row(
                "SELECT order_id, doc FROM orders
                 WHERE acked_at IS NULL AND ready_seq IS NOT NULL AND status <> 'CANCELLED'
                   AND (lease_owner IS NULL OR lease_owner <> ?1 OR lease_until <= ?2)
                 ORDER BY ready_seq LIMIT 1",
                params![owner, ts(now)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((id, _)) = &found {
            tx.execute(
                "UPDATE orders SET lease_owner = ?1, lease_until = ?2, handed_out = handed_out + 1 WHERE order_id = ?3",
                params![owner, ts(lease_until), id],
            )?;
        }
        tx.commit()?;
        Ok(found.map(|(_, doc)| doc))
    }

    /// Records the host's acknowledgement of an order, with its own reference.
    pub fn ack_order(&self, order_id: &str, host_ref: &str, now: DateTime<Utc>) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        type AckRow = (Option<String>, Option<String>, Option<i64>, String);
        let row: Option<AckRow> = tx
            .query_row(
                "SELECT acked_at, host_ref, ready_seq, status FROM orders WHERE order_id = ?1",
                [order_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        match row {
            None => Err(Error::NotFound(format!(
                "order {} is not known",
                quote(order_id)
            ))),
            Some((Some(_), Some(existing), _, _)) if existing == host_ref => Ok(()),
            Some((Some(_), existing, _, _)) => Err(Error::Conflict(format!(
                "order {} was already acknowledged with another host_ref ({})",
                quote(order_id),
                quote(&existing.unwrap_or_default())
            ))),
            Some((None, _, None, status)) => Err(Error::InvalidState(format!(
                "order {} is {status} and was never handed out",
                quote(order_id)
            ))),
            Some((None, _, Some(_), _)) => {
                tx.execute(
                    "UPDATE orders SET acked_at = ?1, host_ref = ?2, lease_owner = NULL, lease_until = NULL WHERE order_id = ?3",
                    params![ts(now), host_ref, order_id],
                )?;
                tx.commit()?;
                Ok(())
            }
        }
    }

    /// The stored document of an order.
    pub fn order(&self, order_id: &str) -> Result<Option<Order>> {
        let doc: Option<String> = self
            .conn()
            .query_row(
                "SELECT doc FROM orders WHERE order_id = ?1",
                [order_id],
                |r| r.get(0),
            )
            .optional()?;
        doc.map(|d| serde_json::from_str(&d).map_err(Error::from))
            .transpose()
    }

    /// Order counts by delivery state.
    pub fn order_counts(&self) -> Result<OrderCounts> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*),
                    COALESCE(SUM(status IN ('PENDING', 'PENDING_AVAILABILITY')), 0),
                    COALESCE(SUM(acked_at IS NULL AND ready_seq IS NOT NULL AND status <> 'CANCELLED'), 0),
                    COALESCE(SUM(acked_at IS NOT NULL), 0)
             FROM orders",
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

    /// Takes the oldest event, as a JSON document with its `seq` and `time`.
    pub fn pop_event(&self) -> Result<Option<String>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let row: Option<(i64, String, String)> = tx
            .query_row(
                "SELECT seq, time, doc FROM events ORDER BY seq LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((seq, time, doc)) = row else {
            return Ok(None);
        };
        tx.execute("DELETE FROM events WHERE seq = ?1", [seq])?;
        tx.commit()?;
        let mut v: serde_json::Value = serde_json::from_str(&doc)?;
        v["seq"] = seq.into();
        v["time"] = time.into();
        Ok(Some(v.to_string()))
    }

    /// Flushes the WAL into the main file (on close).
    pub fn checkpoint(&self) -> Result<()> {
        self.conn()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
        Ok(())
    }
}

fn insert_event(tx: &Transaction<'_>, event: &Event, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "INSERT INTO events(time, doc) VALUES (?1, ?2)",
        params![ts(now), serde_json::to_string(event)?],
    )?;
    Ok(())
}

fn trim_events(tx: &Transaction<'_>) -> Result<()> {
    tx.execute(
        "DELETE FROM events WHERE seq <= (SELECT MAX(seq) FROM events) - ?1",
        [MAX_EVENTS],
    )?;
    Ok(())
}

struct Stored {
    status: String,
    last_updated: String,
    doc: String,
    ready_seq: Option<i64>,
    acked: bool,
    host_ref: Option<String>,
}

fn apply_order(
    tx: &Transaction<'_>,
    o: &Order,
    now: DateTime<Utc>,
    applied: &mut Applied,
) -> Result<()> {
    let doc = serde_json::to_string(o)?;
    let stored: Option<Stored> = tx
        .query_row(
            "SELECT status, last_updated, doc, ready_seq, acked_at IS NOT NULL, host_ref FROM orders WHERE order_id = ?1",
            [&o.order_id],
            |r| {
                Ok(Stored {
                    status: r.get(0)?,
                    last_updated: r.get(1)?,
                    doc: r.get(2)?,
                    ready_seq: r.get(3)?,
                    acked: r.get(4)?,
                    host_ref: r.get(5)?,
                })
            },
        )
        .optional()?;
    if let Some(s) = &stored {
        if o.last_updated < s.last_updated || (o.last_updated == s.last_updated && doc == s.doc) {
            applied.unchanged += 1;
            return Ok(());
        }
    }
    let becomes_ready =
        o.status.is_ready() && stored.as_ref().is_none_or(|s| s.ready_seq.is_none());
    let ready_seq: Option<i64> = match (&stored, becomes_ready) {
        (Some(s), false) => s.ready_seq,
        (None, false) => None,
        (_, true) => Some(tx.query_row(
            "SELECT COALESCE(MAX(ready_seq), 0) + 1 FROM orders",
            [],
            |r| r.get(0),
        )?),
    };
    tx.execute(
        "INSERT INTO orders(order_id, marketplace_id, status, fulfilled_by, purchase_date, last_updated,
                            latest_ship_date, doc, ready_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(order_id) DO UPDATE SET status = excluded.status, last_updated = excluded.last_updated,
             latest_ship_date = excluded.latest_ship_date, doc = excluded.doc, ready_seq = excluded.ready_seq",
        params![
            o.order_id,
            o.marketplace_id,
            o.status.as_str(),
            serde_json::to_value(o.fulfilled_by)?.as_str().unwrap_or("MERCHANT"),
            o.purchase_date,
            o.last_updated,
            o.latest_ship_date,
            doc,
            ready_seq
        ],
    )?;
    tx.execute("DELETE FROM order_items WHERE order_id = ?1", [&o.order_id])?;
    for it in &o.items {
        tx.execute(
            "INSERT INTO order_items(order_id, order_item_id, sku, quantity, quantity_shipped, quantity_cancelled)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![o.order_id, it.order_item_id, it.sku, it.quantity, it.quantity_shipped, it.quantity_cancelled],
        )?;
    }
    match &stored {
        None => applied.new += 1,
        Some(_) => applied.updated += 1,
    }
    if becomes_ready {
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
    pub events_unread: u64,
}

impl Store {
    /// What is waiting in every queue.
    pub fn queues(&self) -> Result<Queues> {
        Ok(self.conn().query_row(
            "SELECT (SELECT COUNT(*) FROM shipments WHERE state = 'QUEUED'),
                    (SELECT COUNT(*) FROM shipments WHERE state = 'UNCERTAIN'),
                    (SELECT COUNT(*) FROM shipments WHERE state = 'FAILED'),
                    (SELECT COUNT(*) FROM adjustments WHERE state = 'QUEUED'),
                    (SELECT COUNT(*) FROM adjustments WHERE state = 'SUBMITTED'),
                    (SELECT COUNT(*) FROM adjustments WHERE state = 'FAILED'),
                    (SELECT COUNT(*) FROM skus WHERE attempts >= ?1),
                    (SELECT COUNT(*) FROM events)",
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
