//! Stock out in the store: host stock levels, SKU mappings, the quantity each SKU should show
//! on Amazon, what Amazon is known to show, and the listings feeds in flight.

use super::{ts, Store};
use crate::config::StockConfig;
use crate::error::{Error, Result};
use crate::model::{SkuMapping, StockLevel};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

/// Largest on-hand quantity accepted for one host item.
pub const MAX_ON_HAND: i64 = 1_000_000_000;
/// A value Amazon refused this many times is parked until the SKU's value or mapping changes.
pub const MAX_ATTEMPTS: i64 = 3;

/// A SKU whose quantity on Amazon differs from what it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    pub sku: String,
    pub product_type: String,
    /// What Amazon should show.
    pub desired: i64,
    /// What Amazon is known to show (None: not known yet).
    pub amazon: Option<i64>,
    /// A feed carrying a value for this SKU is still being processed.
    pub in_feed: bool,
    pub urgent_threshold: i64,
}

impl Push {
    /// A decrease to (or below) the urgent threshold: goes out at once, ahead of the bulk feed.
    pub fn is_urgent(&self) -> bool {
        self.desired <= self.urgent_threshold && self.amazon.is_none_or(|a| self.desired < a)
    }
}

/// One message of a submitted listings feed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FeedMessage {
    pub message_id: i64,
    pub sku: String,
    pub quantity: i64,
}

/// Stock-out counts for status and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct StockCounts {
    pub skus: u64,
    pub out_of_step: u64,
    pub in_flight: u64,
    pub open_feeds: u64,
}

fn check_mapping(m: &SkuMapping) -> Result<()> {
    let bad = |what: String| {
        Err(Error::InvalidArgument(format!(
            "mapping of SKU {:?}: {what}",
            m.sku
        )))
    };
    if m.sku.is_empty() || m.sku.len() > 200 {
        return bad("sku must be 1 to 200 characters".into());
    }
    if m.remove {
        return Ok(());
    }
    if !m.fba && m.items.is_empty() {
        return bad("a seller-fulfilled SKU needs at least one host item".into());
    }
    let mut seen = std::collections::HashSet::new();
    for c in &m.items {
        if c.host_item.is_empty() || c.units <= 0 || c.units > 1_000_000 {
            return bad(format!(
                "host item {:?} needs a name and units between 1 and 1000000",
                c.host_item
            ));
        }
        if !seen.insert(&c.host_item) {
            return bad(format!("host item {:?} is listed twice", c.host_item));
        }
    }
    let negative = [m.buffer, m.max_quantity, m.urgent_threshold]
        .iter()
        .flatten()
        .any(|v| *v < 0);
    if negative
        || m.allocation_percent
            .is_some_and(|p| !(0..=100).contains(&p))
    {
        return bad(
            "buffer, max_quantity and urgent_threshold must be >= 0, allocation_percent 0..=100"
                .into(),
        );
    }
    Ok(())
}

impl Store {
    /// Creates, replaces or removes SKU mappings, all or nothing.
    pub fn map_skus(
        &self,
        mappings: &[SkuMapping],
        defaults: &StockConfig,
        now: DateTime<Utc>,
    ) -> Result<()> {
        for m in mappings {
            check_mapping(m)?;
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for m in mappings {
            if m.remove {
                tx.execute("DELETE FROM skus WHERE sku = ?1", [&m.sku])?;
                continue;
            }
            let product_type = m
                .product_type
                .clone()
                .unwrap_or_else(|| defaults.product_type.clone());
            tx.execute(
                "INSERT INTO skus(sku, fba, product_type, buffer, allocation_percent, max_quantity, urgent_threshold,
                                  product_type_explicit, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(sku) DO UPDATE SET fba = excluded.fba,
                     product_type = CASE WHEN excluded.product_type_explicit = 1 OR skus.looked_up = 0
                                         THEN excluded.product_type ELSE skus.product_type END,
                     buffer = excluded.buffer, allocation_percent = excluded.allocation_percent,
                     max_quantity = excluded.max_quantity, urgent_threshold = excluded.urgent_threshold,
                     product_type_explicit = excluded.product_type_explicit,
                     attempts = 0, updated_at = excluded.updated_at",
                params![
                    m.sku,
                    m.fba,
                    product_type,
                    m.buffer,
                    m.allocation_percent,
                    m.max_quantity,
                    m.urgent_threshold,
                    m.product_type.is_some(),
                    ts(now)
                ],
            )?;
            tx.execute("DELETE FROM sku_components WHERE sku = ?1", [&m.sku])?;
            for c in &m.items {
                tx.execute(
                    "INSERT INTO sku_components(sku, host_item, units) VALUES (?1, ?2, ?3)",
                    params![m.sku, c.host_item, c.units],
                )?;
            }
        }
        let skus: Vec<&str> = mappings.iter().map(|m| m.sku.as_str()).collect();
        recompute(&tx, Some(&serde_json::to_string(&skus)?), defaults)?;
        tx.commit()?;
        Ok(())
    }

    /// Records absolute on-hand quantities, all or nothing; every host item must be mapped.
    pub fn set_stock(
        &self,
        levels: &[StockLevel],
        defaults: &StockConfig,
        now: DateTime<Utc>,
    ) -> Result<()> {
        for (i, l) in levels.iter().enumerate() {
            if l.host_item.is_empty() {
                return Err(Error::InvalidArgument(format!(
                    "level {i}: host_item is empty"
                )));
            }
            if !(0..=MAX_ON_HAND).contains(&l.on_hand) {
                return Err(Error::InvalidArgument(format!(
                    "level {i}: on_hand of {:?} is {}, it must be between 0 and {MAX_ON_HAND}",
                    l.host_item, l.on_hand
                )));
            }
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for l in levels {
            let mapped: bool = tx
                .query_row(
                    "SELECT 1 FROM sku_components WHERE host_item = ?1 LIMIT 1",
                    [&l.host_item],
                    |_| Ok(true),
                )
                .optional()?
                .unwrap_or(false);
            if !mapped {
                return Err(Error::NotFound(format!(
                    "host item {:?} is not part of any SKU; map it with sellsync_sku_map first",
                    l.host_item
                )));
            }
            tx.execute(
                "INSERT INTO stock(host_item, on_hand, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(host_item) DO UPDATE SET on_hand = excluded.on_hand, updated_at = excluded.updated_at",
                params![l.host_item, l.on_hand, ts(now)],
            )?;
        }
        let items: Vec<&str> = levels.iter().map(|l| l.host_item.as_str()).collect();
        let skus: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT DISTINCT sku FROM sku_components WHERE host_item IN (SELECT value FROM json_each(?1))",
            )?;
            let rows = stmt.query_map([serde_json::to_string(&items)?], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        recompute(&tx, Some(&serde_json::to_string(&skus)?), defaults)?;
        tx.commit()?;
        Ok(())
    }

    /// Recomputes what every SKU should show (after orders changed the reservations).
    pub fn recompute_all(&self, defaults: &StockConfig) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        recompute(&tx, None, defaults)?;
        tx.commit()?;
        Ok(())
    }

    /// Seller-fulfilled SKUs whose listing has not been looked up on Amazon yet.
    pub fn skus_to_look_up(&self, limit: usize) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT sku FROM skus WHERE fba = 0 AND looked_up = 0 ORDER BY sku LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records what Amazon's listing says: its product type (unless the mapping named one)
    /// and, if nothing was pushed yet, the quantity it shows. None: Amazon has no such listing.
    pub fn record_lookup(
        &self,
        sku: &str,
        found: Option<(Option<String>, Option<i64>)>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let conn = self.conn();
        match found {
            Some((product_type, quantity)) => conn.execute(
                "UPDATE skus SET looked_up = 1,
                     product_type = CASE WHEN product_type_explicit = 0 AND ?2 IS NOT NULL THEN ?2 ELSE product_type END,
                     amazon = CASE WHEN amazon IS NULL AND in_flight_feed IS NULL THEN ?3 ELSE amazon END,
                     amazon_at = CASE WHEN amazon IS NULL AND in_flight_feed IS NULL AND ?3 IS NOT NULL THEN ?4 ELSE amazon_at END
                 WHERE sku = ?1",
                params![sku, product_type, quantity, ts(now)],
            )?,
            None => conn.execute(
                "UPDATE skus SET looked_up = 1, last_error = 'Amazon has no listing for this SKU' WHERE sku = ?1",
                [sku],
            )?,
        };
        Ok(())
    }

    /// SKUs whose quantity on Amazon is not (known to be) what it should be.
    pub fn pending_pushes(&self, defaults: &StockConfig) -> Result<Vec<Push>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT sku, product_type, desired, amazon, in_flight_feed IS NOT NULL, urgent_threshold FROM skus
             WHERE fba = 0 AND desired IS NOT NULL AND (amazon IS NULL OR amazon <> desired) AND attempts < ?1
             ORDER BY sku",
        )?;
        let rows = stmt.query_map([MAX_ATTEMPTS], |r| {
            Ok(Push {
                sku: r.get(0)?,
                product_type: r.get(1)?,
                desired: r.get(2)?,
                amazon: r.get(3)?,
                in_feed: r.get(4)?,
                urgent_threshold: r
                    .get::<_, Option<i64>>(5)?
                    .unwrap_or(defaults.urgent_threshold),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records the outcome of a direct quantity update (patchListingsItem).
    pub fn record_patch(
        &self,
        sku: &str,
        quantity: i64,
        outcome: std::result::Result<(), String>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let conn = self.conn();
        match outcome {
            Ok(()) => conn.execute(
                "UPDATE skus SET amazon = ?2, amazon_at = ?3, attempts = 0, last_error = NULL WHERE sku = ?1",
                params![sku, quantity, ts(now)],
            )?,
            Err(e) => conn.execute(
                "UPDATE skus SET attempts = attempts + 1, last_error = ?2 WHERE sku = ?1",
                params![sku, e],
            )?,
        };
        Ok(())
    }

    /// Records a submitted listings feed and marks its SKUs in flight.
    pub fn record_feed(
        &self,
        feed_id: &str,
        messages: &[FeedMessage],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO feeds(feed_id, feed_type, status, submitted_at, messages) VALUES (?1, 'JSON_LISTINGS_FEED', 'SUBMITTED', ?2, ?3)",
            params![feed_id, ts(now), serde_json::to_string(messages)?],
        )?;
        for m in messages {
            tx.execute(
                "UPDATE skus SET in_flight = ?2, in_flight_feed = ?3 WHERE sku = ?1",
                params![m.sku, m.quantity, feed_id],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Feeds submitted and not yet finished, with their messages.
    pub fn open_feeds(&self) -> Result<Vec<(String, Vec<FeedMessage>)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT feed_id, messages FROM feeds WHERE status = 'SUBMITTED' ORDER BY submitted_at",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        rows.map(|r| {
            let (id, m) = r?;
            Ok((id, serde_json::from_str(&m)?))
        })
        .collect()
    }

    /// How many listings feeds were submitted since `since`.
    pub fn feeds_since(&self, since: DateTime<Utc>) -> Result<u64> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM feeds WHERE submitted_at > ?1",
            [ts(since)],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Records a finished feed: accepted messages are what Amazon shows now; rejected ones
    /// (with Amazon's message) are tried again. A FATAL feed accepts nothing.
    pub fn finish_feed(
        &self,
        feed_id: &str,
        status: &str,
        accepted: &[FeedMessage],
        rejected: &[(FeedMessage, String)],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for m in accepted {
            tx.execute(
                "UPDATE skus SET amazon = ?2, amazon_at = ?3, attempts = 0, last_error = NULL WHERE sku = ?1",
                params![m.sku, m.quantity, ts(now)],
            )?;
        }
        for (m, e) in rejected {
            tx.execute(
                "UPDATE skus SET attempts = attempts + 1, last_error = ?2 WHERE sku = ?1",
                params![m.sku, e],
            )?;
        }
        tx.execute(
            "UPDATE skus SET in_flight = NULL, in_flight_feed = NULL WHERE in_flight_feed = ?1",
            [feed_id],
        )?;
        tx.execute(
            "UPDATE feeds SET status = ?2 WHERE feed_id = ?1",
            params![feed_id, status],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// What a SKU should show and what Amazon is known to show.
    pub fn sku_quantities(&self, sku: &str) -> Result<Option<(Option<i64>, Option<i64>)>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT desired, amazon FROM skus WHERE sku = ?1",
                [sku],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Stock-out counts.
    pub fn stock_counts(&self) -> Result<StockCounts> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*),
                    COALESCE(SUM(fba = 0 AND desired IS NOT NULL AND (amazon IS NULL OR amazon <> desired)), 0),
                    COALESCE(SUM(in_flight_feed IS NOT NULL), 0),
                    (SELECT COUNT(*) FROM feeds WHERE status = 'SUBMITTED')
             FROM skus",
            [],
            |r| {
                Ok(StockCounts {
                    skus: r.get::<_, i64>(0)? as u64,
                    out_of_step: r.get::<_, i64>(1)? as u64,
                    in_flight: r.get::<_, i64>(2)? as u64,
                    open_feeds: r.get::<_, i64>(3)? as u64,
                })
            },
        )?)
    }
}

/// One SKU's policy overrides, whether some item's stock is unknown, and its available units.
type PolicyRow = (
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
    Option<i64>,
);

/// Recomputes `desired` for the SKUs in the JSON array `skus` (all SKUs when None):
/// the minimum over a SKU's host items of (on hand − units reserved by open orders) / units,
/// through the SKU's policy. Open orders are seller-fulfilled, not cancelled, and either not
/// acknowledged by the host or acknowledged after the host last reported that item's stock.
/// A SKU with an item whose stock was never reported stays unknown (nothing is pushed).
fn recompute(tx: &Transaction<'_>, skus: Option<&str>, defaults: &StockConfig) -> Result<()> {
    let rows: Vec<PolicyRow> = {
        let mut stmt = tx.prepare_cached(
            "WITH target AS (SELECT sku FROM skus WHERE ?1 IS NULL OR sku IN (SELECT value FROM json_each(?1))),
             reserved AS (
                SELECT c.host_item AS host_item, SUM(MAX(i.quantity - i.quantity_shipped - i.quantity_cancelled, 0) * c.units) AS units
                FROM order_items i
                JOIN orders o ON o.order_id = i.order_id
                JOIN sku_components c ON c.sku = i.sku
                LEFT JOIN stock s ON s.host_item = c.host_item
                WHERE o.status <> 'CANCELLED' AND o.fulfilled_by = 'MERCHANT'
                  AND (o.acked_at IS NULL OR s.updated_at IS NULL OR o.acked_at > s.updated_at)
                  AND c.host_item IN (SELECT host_item FROM sku_components WHERE sku IN (SELECT sku FROM target))
                GROUP BY c.host_item)
             SELECT k.sku, k.buffer, k.allocation_percent, k.max_quantity, k.urgent_threshold,
                    SUM(s.on_hand IS NULL), MIN((COALESCE(s.on_hand, 0) - COALESCE(r.units, 0)) / c.units)
             FROM skus k
             JOIN target t ON t.sku = k.sku
             JOIN sku_components c ON c.sku = k.sku
             LEFT JOIN stock s ON s.host_item = c.host_item
             LEFT JOIN reserved r ON r.host_item = c.host_item
             WHERE k.fba = 0
             GROUP BY k.sku",
        )?;
        let rows = stmt.query_map([skus], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut update = tx.prepare_cached(
        "UPDATE skus SET desired = ?2, attempts = 0 WHERE sku = ?1 AND desired IS NOT ?2",
    )?;
    for (sku, buffer, allocation, max, urgent, unknown, available) in rows {
        let desired = match (unknown, available) {
            (0, Some(a)) => Some(defaults.policy(buffer, allocation, max, urgent).apply(a)),
            _ => None,
        };
        update.execute(params![sku, desired])?;
    }
    Ok(())
}
