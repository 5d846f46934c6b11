//! The shipment confirmation outbox: packages the host shipped, checked against the order,
//! kept until Amazon has them, each sent at most once.

use super::db::{params, OptionalExtension, Tx};
use super::{ts, Store};
use crate::error::{quote, Error, Result};
use crate::model::{FulfilledBy, Order, OrderStatus, Shipment};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;

/// Where a package is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShipmentState {
    /// Waiting to be sent.
    Queued,
    /// Sent, but the answer was lost: Amazon's order is read before sending again.
    Uncertain,
    /// Amazon has it.
    Sent,
    /// Amazon refused it.
    Failed,
}

impl ShipmentState {
    fn as_str(self) -> &'static str {
        match self {
            ShipmentState::Queued => "QUEUED",
            ShipmentState::Uncertain => "UNCERTAIN",
            ShipmentState::Sent => "SENT",
            ShipmentState::Failed => "FAILED",
        }
    }
}

/// A package waiting in the outbox.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub shipment: Shipment,
    pub package_reference_id: String,
    pub marketplace_id: String,
    pub latest_ship_date: Option<String>,
    pub uncertain: bool,
}

fn bad(m: String) -> Error {
    Error::InvalidArgument(m)
}

/// Units of each order item in this order's packages: those Amazon has (`sent_only`) or all
/// not refused; without package `except`.
fn items_in(
    tx: &Tx<'_>,
    order_id: &str,
    sent_only: bool,
    except: Option<&str>,
) -> Result<HashMap<String, i64>> {
    let mut stmt = tx.prepare_cached(
        "SELECT package_reference_id, doc FROM shipments
         WHERE order_id = ?1 AND state <> 'FAILED' AND (?2 = 0 OR state = 'SENT')",
    )?;
    let rows = stmt.query_map(params![order_id, sent_only], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (pref, doc) = row?;
        if Some(pref.as_str()) == except {
            continue;
        }
        let s: Shipment = serde_json::from_str(&doc)?;
        for i in s.items {
            *out.entry(i.order_item_id).or_default() += i.quantity;
        }
    }
    Ok(out)
}

impl Store {
    /// Checks a shipment against its order and queues it, its carrier as Amazon takes it
    /// ([`crate::carriers::to_amazon`]); returns its package reference. The same package again
    /// is accepted (idempotent); a different one under the same reference is a conflict.
    pub fn add_shipment(&self, s: &Shipment, now: DateTime<Utc>) -> Result<String> {
        if s.carrier_code.trim().is_empty() || s.tracking_number.trim().is_empty() {
            return Err(bad("carrier_code and tracking_number are required".into()));
        }
        let (carrier_code, carrier_name) =
            crate::carriers::to_amazon(&s.carrier_code, s.carrier_name.as_deref()).map_err(bad)?;
        if let Some(d) = &s.ship_date {
            DateTime::parse_from_rfc3339(d)
                .map_err(|e| bad(format!("ship_date {} is not ISO 8601: {e}", quote(d))))?;
        }
        if s.items.is_empty() {
            return Err(bad("a shipment needs at least one item".into()));
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let doc: Option<String> = tx
            .query_row(
                "SELECT doc FROM orders WHERE order_id = ?1",
                [&s.order_id],
                |r| r.get(0),
            )
            .optional()?;
        let order: Order = serde_json::from_str(&doc.ok_or_else(|| {
            Error::NotFound(format!("order {} is not known", quote(&s.order_id)))
        })?)?;
        if order.fulfilled_by == FulfilledBy::Amazon {
            return Err(bad(format!(
                "order {} is fulfilled by Amazon",
                quote(&s.order_id)
            )));
        }
        if !matches!(
            order.status,
            OrderStatus::Unshipped | OrderStatus::PartiallyShipped | OrderStatus::Shipped
        ) {
            return Err(Error::InvalidState(format!(
                "order {} is {}",
                quote(&s.order_id),
                order.status.as_str()
            )));
        }
        let pref = match &s.package_reference_id {
            Some(p)
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.starts_with('0') =>
            {
                return Err(bad(format!(
                    "package_reference_id {} must be a positive number",
                    quote(p)
                )))
            }
            Some(p) => p.clone(),
            None => {
                let max: Option<i64> = tx.query_row(
                    "SELECT MAX(CAST(package_reference_id AS INTEGER)) FROM shipments WHERE order_id = ?1",
                    [&s.order_id],
                    |r| r.get(0),
                )?;
                (max.unwrap_or(0) + 1).to_string()
            }
        };
        let stored = Shipment {
            package_reference_id: Some(pref.clone()),
            carrier_code,
            carrier_name,
            ..s.clone()
        };
        let existing: Option<String> = tx
            .query_row(
                "SELECT doc FROM shipments WHERE order_id = ?1 AND package_reference_id = ?2",
                params![s.order_id, pref],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(e) = existing {
            let e: Shipment = serde_json::from_str(&e)?;
            let same = Shipment {
                ship_date: None,
                ..e
            } == Shipment {
                ship_date: None,
                ..stored.clone()
            };
            return if same {
                Ok(pref)
            } else {
                Err(Error::Conflict(format!(
                    "package {pref} of order {} was confirmed with other content",
                    quote(&s.order_id)
                )))
            };
        }
        let ours = items_in(&tx, &s.order_id, false, None)?;
        let mut this: HashMap<&str, i64> = HashMap::new();
        for i in &s.items {
            let line = order
                .items
                .iter()
                .find(|l| l.order_item_id == i.order_item_id)
                .ok_or_else(|| {
                    bad(format!(
                        "order item {} is not part of order {}",
                        quote(&i.order_item_id),
                        quote(&s.order_id)
                    ))
                })?;
            let q = this.entry(&i.order_item_id).or_default();
            *q = q.saturating_add(i.quantity);
            let done = ours
                .get(&i.order_item_id)
                .copied()
                .unwrap_or(0)
                .max(line.quantity_shipped);
            if i.quantity <= 0 || done.saturating_add(*q) > line.quantity - line.quantity_cancelled
            {
                return Err(bad(format!(
                    "order item {}: {} more cannot be shipped ({} ordered, {} shipped already)",
                    quote(&i.order_item_id),
                    i.quantity,
                    line.quantity,
                    done
                )));
            }
        }
        let stored = Shipment {
            ship_date: Some(s.ship_date.clone().unwrap_or_else(|| ts(now))),
            ..stored
        };
        tx.execute(
            "INSERT INTO shipments(order_id, package_reference_id, doc, latest_ship_date, state, created_at)
             VALUES (?1, ?2, ?3, ?4, 'QUEUED', ?5)",
            params![s.order_id, pref, serde_json::to_string(&stored)?, order.latest_ship_date, ts(now)],
        )?;
        tx.commit()?;
        Ok(pref)
    }

    /// Packages still to send, closest deadline first.
    pub fn shipments_to_send(&self, limit: usize) -> Result<Vec<Outgoing>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT s.doc, s.package_reference_id, o.marketplace_id, s.latest_ship_date, s.state = 'UNCERTAIN'
             FROM shipments s JOIN orders o ON o.order_id = s.order_id
             WHERE s.state IN ('QUEUED', 'UNCERTAIN')
             ORDER BY s.latest_ship_date IS NULL, s.latest_ship_date, s.created_at LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
            ))
        })?;
        rows.map(|r| {
            let (doc, package_reference_id, marketplace_id, latest_ship_date, uncertain) = r?;
            Ok(Outgoing {
                shipment: serde_json::from_str(&doc)?,
                package_reference_id,
                marketplace_id,
                latest_ship_date,
                uncertain,
            })
        })
        .collect()
    }

    /// Units per order item in this order's packages Amazon has, not counting `except`.
    pub fn sent_quantities(&self, order_id: &str, except: &str) -> Result<HashMap<String, i64>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        items_in(&tx, order_id, true, Some(except))
    }

    /// Moves a package to `state` (SENT records when; FAILED and UNCERTAIN keep the error).
    pub fn mark_shipment(
        &self,
        order_id: &str,
        pref: &str,
        state: ShipmentState,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.conn().execute(
            "UPDATE shipments SET state = ?3, last_error = ?4, attempts = attempts + CASE WHEN ?3 <> 'SENT' THEN 1 ELSE 0 END,
                 sent_at = CASE WHEN ?3 = 'SENT' THEN ?5 ELSE sent_at END
             WHERE order_id = ?1 AND package_reference_id = ?2",
            params![order_id, pref, state.as_str(), error, ts(now)],
        )?;
        Ok(())
    }

    /// Marks a queued package as on its way (UNCERTAIN, its attempts unchanged), durably,
    /// before it is sent: a process that dies before recording Amazon's answer leaves it
    /// to be read back from Amazon, not sent twice.
    pub fn mark_sending(&self, order_id: &str, pref: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE shipments SET state = 'UNCERTAIN' WHERE order_id = ?1 AND package_reference_id = ?2 AND state = 'QUEUED'",
            params![order_id, pref],
        )?;
        Ok(())
    }

    /// Puts a package marked by `mark_sending` back in the queue: its call surely did not
    /// reach Amazon.
    pub fn mark_not_sent(&self, order_id: &str, pref: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE shipments SET state = 'QUEUED' WHERE order_id = ?1 AND package_reference_id = ?2 AND state = 'UNCERTAIN' AND last_error IS NULL",
            params![order_id, pref],
        )?;
        Ok(())
    }

    /// Packages with their state, of one order or of every order with one not yet at Amazon.
    pub fn shipments_view(&self, order_id: Option<&str>) -> Result<Value> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT order_id, package_reference_id, doc, state, attempts, last_error, latest_ship_date, created_at, sent_at
             FROM shipments WHERE order_id = ?1 OR (?1 IS NULL AND state <> 'SENT')
             ORDER BY latest_ship_date, order_id, CAST(package_reference_id AS INTEGER)",
        )?;
        let rows: Vec<Value> = stmt
            .query_map([order_id], |r| {
                let doc: String = r.get(2)?;
                Ok(json!({
                    "order_id": r.get::<_, String>(0)?, "package_reference_id": r.get::<_, String>(1)?,
                    "shipment": serde_json::from_str::<Value>(&doc).unwrap_or(Value::Null),
                    "state": r.get::<_, String>(3)?, "attempts": r.get::<_, i64>(4)?,
                    "last_error": r.get::<_, Option<String>>(5)?, "latest_ship_date": r.get::<_, Option<String>>(6)?,
                    "queued_at": r.get::<_, String>(7)?, "sent_at": r.get::<_, Option<String>>(8)?,
                }))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(json!({ "shipments": rows }))
    }
}
