//! Notifications taken from the seller's queue: kept until what each says has been acted on,
//! so a message is deleted from the queue only once it is here, and one acted on is not acted
//! on again however often Amazon sends it. Only what the library acts on is kept (the kind, the
//! order or SKU, the quantity and the time of the change), never a buyer's data.

use super::db::params;
use super::{ts, Store};
use crate::error::Result;
use chrono::{DateTime, Duration, Utc};

/// How long notifications acted on are kept (to recognise a late duplicate).
pub const KEEP_DONE: Duration = Duration::days(7);

/// What one notification asks the library to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// An order changed on Amazon: read it.
    Order { order_id: String },
    /// A seller-fulfilled listing's quantity changed on Amazon.
    Quantity {
        sku: String,
        quantity: i64,
        changed_at: DateTime<Utc>,
    },
}

/// A stored notification not yet acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub notification_id: String,
    pub work: Work,
}

/// Where the notifications stand, for `sellsync_state` and `sellsync status`.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NotificationCounts {
    /// Notifications taken from the queue (duplicates counted once), kept for `KEEP_DONE`.
    pub received: u64,
    /// Of those, not acted on yet.
    pub pending: u64,
    /// When the last message came from the queue.
    pub last_received_at: Option<String>,
    /// When the queue last answered a receive.
    pub last_receive_ok_at: Option<String>,
    /// Why the last receive failed, when it did (cleared by the next success).
    pub last_error: Option<String>,
}

const LAST_RECEIVED: &str = "notifications.last_received_at";
const LAST_OK: &str = "notifications.last_receive_ok_at";
const LAST_ERROR: &str = "notifications.last_error";

impl Store {
    /// Keeps notifications taken from the queue, durably; one already kept (the same
    /// notification id) is not kept again. Returns how many were new.
    pub fn keep_notifications(
        &self,
        received: &[(String, Work)],
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut new = 0;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO notifications(notification_id, kind, order_id, sku, quantity, changed_at, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
            )?;
            let now = ts(now);
            for (id, work) in received {
                let (kind, order_id, sku, quantity, changed_at) = match work {
                    Work::Order { order_id } => ("order", Some(order_id), None, None, None),
                    Work::Quantity {
                        sku,
                        quantity,
                        changed_at,
                    } => (
                        "quantity",
                        None,
                        Some(sku),
                        Some(quantity),
                        Some(ts(*changed_at)),
                    ),
                };
                new +=
                    insert.execute(params![id, kind, order_id, sku, quantity, changed_at, now])?;
            }
        }
        if !received.is_empty() {
            tx.execute(
                "INSERT INTO watermarks(name, value) VALUES (?1, ?2)
                 ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                params![LAST_RECEIVED, ts(now)],
            )?;
        }
        tx.commit()?;
        Ok(new)
    }

    /// Notifications kept and not acted on yet, oldest first (at most `limit`).
    pub fn pending_notifications(&self, limit: usize) -> Result<Vec<Pending>> {
        let conn = self.conn();
        // In the order received: SQLite's rowid keeps the queue's order within a millisecond;
        // PostgreSQL has none, and the id breaks the tie.
        let mut stmt = conn.prepare_cached(if conn.is_pg() {
            "SELECT notification_id, kind, order_id, sku, quantity, changed_at FROM notifications
             WHERE done_at IS NULL ORDER BY received_at, notification_id LIMIT ?1"
        } else {
            "SELECT notification_id, kind, order_id, sku, quantity, changed_at FROM notifications
             WHERE done_at IS NULL ORDER BY received_at, rowid LIMIT ?1"
        })?;
        let rows = stmt.query_map([limit as i64], |r| {
            let kind: String = r.get(1)?;
            let changed_at: Option<String> = r.get(5)?;
            Ok((
                r.get::<_, String>(0)?,
                kind,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<i64>>(4)?,
                changed_at,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (notification_id, kind, order_id, sku, quantity, changed_at) = row?;
            let work = match (kind.as_str(), order_id, sku, quantity, changed_at) {
                ("order", Some(order_id), ..) => Work::Order { order_id },
                ("quantity", _, Some(sku), Some(quantity), Some(at)) => Work::Quantity {
                    sku,
                    quantity,
                    changed_at: DateTime::parse_from_rfc3339(&at)
                        .map(|t| t.with_timezone(&Utc))
                        .unwrap_or_default(),
                },
                _ => continue,
            };
            out.push(Pending {
                notification_id,
                work,
            });
        }
        Ok(out)
    }

    /// Marks notifications acted on, and forgets those acted on more than `KEEP_DONE` ago.
    pub fn notifications_done(&self, ids: &[String], now: DateTime<Utc>) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut done = tx.prepare_cached(
                "UPDATE notifications SET done_at = ?2 WHERE notification_id = ?1 AND done_at IS NULL",
            )?;
            for id in ids {
                done.execute(params![id, ts(now)])?;
            }
        }
        tx.prepare_cached("DELETE FROM notifications WHERE done_at < ?1")?
            .execute([ts(now - KEEP_DONE)])?;
        tx.commit()?;
        Ok(())
    }

    /// Records the outcome of one receive from the queue.
    pub fn note_receive(
        &self,
        outcome: std::result::Result<(), &str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        match outcome {
            Ok(()) => {
                self.set_watermark(LAST_OK, &ts(now))?;
                self.clear_watermark(LAST_ERROR)
            }
            Err(e) => self.set_watermark(LAST_ERROR, e),
        }
    }

    /// Where the notifications stand.
    pub fn notification_counts(&self) -> Result<NotificationCounts> {
        let (received, pending): (i64, i64) = self.conn().query_row(
            "SELECT (SELECT n FROM tallies WHERE name = 'notifications'),
                    (SELECT COUNT(*) FROM notifications WHERE done_at IS NULL)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(NotificationCounts {
            received: received as u64,
            pending: pending as u64,
            last_received_at: self.watermark(LAST_RECEIVED)?,
            last_receive_ok_at: self.watermark(LAST_OK)?,
            last_error: self.watermark(LAST_ERROR)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_notification_is_kept_once_and_acted_on_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_for_test(dir.path().join("s.sqlite").to_str().unwrap()).unwrap();
        let now = at("2026-11-26T12:00:00Z");
        let order = Work::Order {
            order_id: "111-0000000-0000001".into(),
        };
        let quantity = Work::Quantity {
            sku: "SKU-1".into(),
            quantity: 4,
            changed_at: at("2026-11-26T11:59:58Z"),
        };
        let batch = vec![
            ("n-1".to_string(), order.clone()),
            ("n-2".to_string(), quantity.clone()),
        ];
        assert_eq!(store.keep_notifications(&batch, now).unwrap(), 2);
        // Amazon sends it again: kept once.
        assert_eq!(store.keep_notifications(&batch[..1], now).unwrap(), 0);
        let pending = store.pending_notifications(10).unwrap();
        assert_eq!(
            pending.iter().map(|p| p.work.clone()).collect::<Vec<_>>(),
            vec![order.clone(), quantity]
        );
        store.notifications_done(&["n-1".into()], now).unwrap();
        assert_eq!(store.pending_notifications(10).unwrap().len(), 1);
        // A late duplicate of one acted on is not acted on again.
        assert_eq!(store.keep_notifications(&batch[..1], now).unwrap(), 0);
        assert_eq!(store.pending_notifications(10).unwrap().len(), 1);
        let counts = store.notification_counts().unwrap();
        assert_eq!((counts.received, counts.pending), (2, 1));
        assert_eq!(
            counts.last_received_at.as_deref(),
            Some("2026-11-26T12:00:00.000Z")
        );
        // Forgotten a week after it was acted on.
        store
            .notifications_done(&[], now + KEEP_DONE + Duration::seconds(1))
            .unwrap();
        assert_eq!(store.notification_counts().unwrap().received, 1);
    }
}
