//! Seller cancellations and refunds waiting for, or sent in, the order feeds.

use super::db::params;
use super::{ts, Store};
use crate::error::{quote, Error, Result};
use crate::model::{FulfilledBy, Order, OrderStatus, Refund, CANCEL_REASONS, REFUND_REASONS};
use chrono::{DateTime, Utc};

/// A cancellation or refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Cancel,
    Refund,
}

impl Kind {
    /// Name in the store and in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Cancel => "CANCEL",
            Kind::Refund => "REFUND",
        }
    }
}

/// One queued cancellation or refund.
#[derive(Debug, Clone)]
pub struct Queued {
    pub id: i64,
    pub order_id: String,
    pub marketplace_id: String,
    pub currency: Option<String>,
    pub doc: String,
}

/// Parses a positive decimal amount with at most two decimals, in cents.
fn cents(amount: &str) -> Option<i64> {
    let (int, frac) = amount.split_once('.').unwrap_or((amount, ""));
    if int.is_empty()
        || frac.len() > 2
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    int.parse::<i64>().ok()?.checked_mul(100)?.checked_add(frac)
}

impl Store {
    fn order_for_adjustment(&self, order_id: &str) -> Result<Order> {
        let order = self
            .order(order_id)?
            .ok_or_else(|| Error::NotFound(format!("order {} is not known", quote(order_id))))?;
        if order.fulfilled_by == FulfilledBy::Amazon {
            return Err(Error::InvalidArgument(format!(
                "order {} is fulfilled by Amazon",
                quote(order_id)
            )));
        }
        Ok(order)
    }

    fn queue(&self, kind: Kind, order_id: &str, doc: String, now: DateTime<Utc>) -> Result<()> {
        self.conn().execute(
            "INSERT INTO adjustments(kind, order_id, doc, state, created_at) VALUES (?1, ?2, ?3, 'QUEUED', ?4)",
            params![kind.as_str(), order_id, doc, ts(now)],
        )?;
        Ok(())
    }

    /// Queues a seller cancellation: of the whole order (`items` empty) or of the unshipped
    /// units of some items. Cancelling the same again is accepted once queued (returns false).
    pub fn add_cancel(
        &self,
        order_id: &str,
        reason: &str,
        items: &[String],
        now: DateTime<Utc>,
    ) -> Result<bool> {
        if !CANCEL_REASONS.contains(&reason) {
            return Err(Error::InvalidArgument(format!(
                "reason {} is not one of Amazon's: {}",
                quote(reason),
                CANCEL_REASONS.join(", ")
            )));
        }
        let order = self.order_for_adjustment(order_id)?;
        let doc = serde_json::json!({"reason": reason, "items": items}).to_string();
        let pending: Vec<String> = self
            .conn()
            .prepare(
                "SELECT doc FROM adjustments WHERE order_id = ?1 AND kind = 'CANCEL' AND state <> 'FAILED'",
            )?
            .query_map([order_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        // A pending cancellation of the whole order, or the very same one.
        let same_pending = pending.iter().any(|d| {
            *d == doc
                || serde_json::from_str::<serde_json::Value>(d)
                    .is_ok_and(|v| v["items"].as_array().is_some_and(|a| a.is_empty()))
        });
        if same_pending {
            return Ok(false);
        }
        let open_status = if items.is_empty() {
            matches!(order.status, OrderStatus::Pending | OrderStatus::Unshipped)
        } else {
            matches!(
                order.status,
                OrderStatus::Pending | OrderStatus::Unshipped | OrderStatus::PartiallyShipped
            )
        };
        if !open_status {
            return Err(Error::InvalidState(format!(
                "order {} is {}: it cannot be cancelled",
                quote(order_id),
                order.status.as_str()
            )));
        }
        for id in items {
            let line = order
                .items
                .iter()
                .find(|l| &l.order_item_id == id)
                .ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "order item {} is not part of order {}",
                        quote(id),
                        quote(order_id)
                    ))
                })?;
            if line.quantity - line.quantity_shipped - line.quantity_cancelled <= 0 {
                return Err(Error::InvalidState(format!(
                    "order item {} has nothing left to cancel",
                    quote(id)
                )));
            }
        }
        self.queue(Kind::Cancel, order_id, doc, now)?;
        Ok(true)
    }

    /// Queues a refund, checked against the order (items, amounts not above the line total).
    /// The same `refund_id` again is accepted once queued (returns false).
    pub fn add_refund(&self, refund: &Refund, now: DateTime<Utc>) -> Result<bool> {
        if !REFUND_REASONS.contains(&refund.reason.as_str()) {
            return Err(Error::InvalidArgument(format!(
                "reason {} is not one of Amazon's: {}",
                quote(&refund.reason),
                REFUND_REASONS.join(", ")
            )));
        }
        if refund.items.is_empty() {
            return Err(Error::InvalidArgument(
                "a refund needs at least one item".into(),
            ));
        }
        let order = self.order_for_adjustment(&refund.order_id)?;
        if let Some(id) = &refund.refund_id {
            if id.is_empty() || id.chars().count() > 64 || id.chars().any(char::is_control) {
                return Err(Error::InvalidArgument(format!(
                    "refund_id {} must be 1 to 64 printable characters",
                    quote(id)
                )));
            }
            if let Some(earlier) = self.refund_named(&refund.order_id, id)? {
                return if earlier == *refund {
                    Ok(false)
                } else {
                    Err(Error::InvalidArgument(format!(
                        "refund_id {} already names another refund of order {}",
                        quote(id),
                        quote(&refund.order_id)
                    )))
                };
            }
        }
        for i in &refund.items {
            let line = order
                .items
                .iter()
                .find(|l| l.order_item_id == i.order_item_id)
                .ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "order item {} is not part of order {}",
                        quote(&i.order_item_id),
                        quote(&refund.order_id)
                    ))
                })?;
            let amount = cents(&i.amount).filter(|c| *c > 0).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "amount {} must be a positive decimal such as \"12.99\"",
                    quote(&i.amount)
                ))
            })?;
            if let Some(total) = line.line_total.as_deref().and_then(cents) {
                if amount > total {
                    return Err(Error::InvalidArgument(format!(
                        "{} is more than the item's total {}",
                        quote(&i.amount),
                        line.line_total.as_deref().unwrap_or("")
                    )));
                }
            }
        }
        self.queue(
            Kind::Refund,
            &refund.order_id,
            serde_json::to_string(refund)?,
            now,
        )?;
        Ok(true)
    }

    /// The refund of `order_id` that the host named `refund_id`, unless it failed.
    fn refund_named(&self, order_id: &str, refund_id: &str) -> Result<Option<Refund>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT doc FROM adjustments WHERE order_id = ?1 AND kind = 'REFUND' AND state <> 'FAILED'",
        )?;
        let docs = stmt
            .query_map([order_id], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for doc in docs {
            let earlier: Refund = serde_json::from_str(&doc)?;
            if earlier.refund_id.as_deref() == Some(refund_id) {
                return Ok(Some(earlier));
            }
        }
        Ok(None)
    }

    /// Queued cancellations or refunds, oldest first.
    pub fn queued_adjustments(&self, kind: Kind) -> Result<Vec<Queued>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT a.id, a.order_id, o.marketplace_id, o.doc, a.doc FROM adjustments a JOIN orders o ON o.order_id = a.order_id
             WHERE a.kind = ?1 AND a.state = 'QUEUED' ORDER BY a.id LIMIT 10000",
        )?;
        let rows = stmt.query_map([kind.as_str()], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        rows.map(|r| {
            let (id, order_id, marketplace_id, order, doc) = r?;
            let order: Order = serde_json::from_str(&order)?;
            Ok(Queued {
                id,
                order_id,
                marketplace_id,
                currency: order.currency,
                doc,
            })
        })
        .collect()
    }

    /// Feeds carrying cancellations or refunds that are not finished.
    pub fn open_adjustment_feeds(&self) -> Result<Vec<String>> {
        let conn = self.conn();
        // Not those of an attempt whose createFeed has no answer yet.
        let mut stmt = conn.prepare(
            "SELECT DISTINCT feed_id FROM adjustments WHERE state = 'SUBMITTED' AND feed_id NOT LIKE ?1 ORDER BY feed_id",
        )?;
        let attempts = format!("{}%", super::feed_attempts::ATTEMPT_PREFIX);
        let rows = stmt.query_map([attempts], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Finishes a feed's records: those in `errors` (by record number) failed, the rest are
    /// done. With `requeue`, nothing can be trusted to have been applied: all are queued again.
    /// Returns (kind, order id, error) per record.
    pub fn finish_adjustments(
        &self,
        feed_id: &str,
        errors: &std::collections::HashMap<usize, String>,
        requeue: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, String, Option<String>)>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let rows: Vec<(i64, String, String, i64)> = {
            let mut stmt = tx.prepare("SELECT id, kind, order_id, record FROM adjustments WHERE feed_id = ?1 AND state = 'SUBMITTED'")?;
            let rows = stmt.query_map([feed_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut out = Vec::new();
        for (id, kind, order_id, record) in rows {
            if requeue {
                tx.execute("UPDATE adjustments SET state = 'QUEUED', feed_id = NULL, record = NULL WHERE id = ?1", [id])?;
                continue;
            }
            let error = errors.get(&(record as usize)).cloned();
            let state = if error.is_some() { "FAILED" } else { "DONE" };
            tx.execute(
                "UPDATE adjustments SET state = ?2, last_error = ?3, done_at = ?4 WHERE id = ?1",
                params![id, state, error, ts(now)],
            )?;
            out.push((kind, order_id, error));
        }
        tx.execute(
            "UPDATE feeds SET status = ?2 WHERE feed_id = ?1",
            params![feed_id, if requeue { "ENDED" } else { "DONE" }],
        )?;
        tx.commit()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::cents;

    #[test]
    fn amounts_are_parsed_exactly() {
        assert_eq!(cents("12.99"), Some(1299));
        assert_eq!(cents("12.9"), Some(1290));
        assert_eq!(cents("7"), Some(700));
        assert_eq!(cents("-1"), None);
        assert_eq!(cents("1.999"), None);
        assert_eq!(cents("abc"), None);
    }
}
