//! The listings Amazon has, the reports requested, and reconciliation of Amazon's quantities
//! against what they should be.

use super::db::{params, OptionalExtension};
use super::fba::{fba_row, FBA_COLUMNS};
use super::{ts, Store};
use crate::error::Result;
use crate::model::Listing;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// A SKU whose quantity on Amazon was not what it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub sku: String,
    pub amazon_showed: i64,
    pub should_show: i64,
}

impl Store {
    /// The report of `report_type` still being processed, with when it was requested.
    pub fn open_report(&self, report_type: &str) -> Result<Option<(String, String)>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT report_id, requested_at FROM reports WHERE report_type = ?1 AND status = 'REQUESTED'
                 ORDER BY requested_at DESC LIMIT 1",
                [report_type],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// When a report of `report_type` was last requested.
    pub fn last_report_at(&self, report_type: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT MAX(requested_at) FROM reports WHERE report_type = ?1",
                [report_type],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// Records a requested report.
    pub fn record_report(
        &self,
        report_id: &str,
        report_type: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO reports(report_id, report_type, status, requested_at) VALUES (?1, ?2, 'REQUESTED', ?3)",
            params![report_id, report_type, ts(now)],
        )?;
        Ok(())
    }

    /// Marks a report finished.
    pub fn finish_report(&self, report_id: &str, status: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE reports SET status = ?2 WHERE report_id = ?1",
            params![report_id, status],
        )?;
        Ok(())
    }

    /// Replaces the listings with a new snapshot (requested at `as_of`) and reconciles: every
    /// seller-fulfilled SKU not pushed since `as_of` takes the quantity Amazon showed as what
    /// Amazon shows. Returns the SKUs where that differs from what they should show.
    pub fn replace_listings(
        &self,
        listings: &[Listing],
        as_of: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Drift>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM listings", [])?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO listings(sku, asin, title, price, quantity, fulfillment_channel, status, seen_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT(sku) DO UPDATE SET asin = excluded.asin, title = excluded.title,
                     price = excluded.price, quantity = excluded.quantity,
                     fulfillment_channel = excluded.fulfillment_channel, status = excluded.status,
                     seen_at = excluded.seen_at",
            )?;
            for l in listings {
                insert.execute(params![
                    l.sku,
                    l.asin,
                    l.title,
                    l.price,
                    l.quantity,
                    l.fulfillment_channel,
                    l.status,
                    ts(now)
                ])?;
            }
        }
        let drift: Vec<(String, i64, Option<i64>)> = {
            let mut stmt = tx.prepare(
                "SELECT s.sku, l.quantity, s.desired FROM skus s JOIN listings l ON l.sku = s.sku
                 WHERE s.fba = 0 AND s.in_flight_feed IS NULL AND l.quantity IS NOT NULL
                   AND (s.amazon_at IS NULL OR s.amazon_at < ?1) AND s.amazon IS NOT l.quantity",
            )?;
            let rows = stmt.query_map([as_of], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (sku, quantity, _) in &drift {
            tx.execute(
                "UPDATE skus SET amazon = ?2, amazon_at = ?3, pushed_for = NULL, orders_took = NULL WHERE sku = ?1",
                params![sku, quantity, as_of],
            )?;
        }
        tx.commit()?;
        Ok(drift
            .into_iter()
            .filter_map(|(sku, showed, desired)| {
                desired.filter(|d| *d != showed).map(|d| Drift {
                    sku,
                    amazon_showed: showed,
                    should_show: d,
                })
            })
            .collect())
    }

    /// The listings with their mapping state, as `sellsync_listings` returns them.
    pub fn listings_view(&self) -> Result<Value> {
        let conn = self.conn();
        let pulled_at: Option<String> =
            conn.query_row("SELECT MAX(seen_at) FROM listings", [], |r| r.get(0))?;
        let mut components: std::collections::HashMap<String, Vec<Value>> = Default::default();
        for row in conn
            .prepare(
                "SELECT c.sku, c.host_item, c.units FROM sku_components c
                 JOIN listings l ON l.sku = c.sku ORDER BY c.sku, c.host_item",
            )?
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?
        {
            let (sku, host_item, units) = row?;
            components
                .entry(sku)
                .or_default()
                .push(json!({"host_item": host_item, "units": units}));
        }
        drop(conn);
        let mut prices = self.prices_by_sku()?;
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT l.sku, l.asin, l.title, l.price, l.quantity, l.fulfillment_channel, l.status,
                    s.sku IS NOT NULL, s.fba, s.desired, f.sku IS NOT NULL, {FBA_COLUMNS}
             FROM listings l LEFT JOIN skus s ON s.sku = l.sku LEFT JOIN fba_stock f ON f.sku = l.sku
             ORDER BY l.sku"
        ))?;
        let listings: Vec<Value> = stmt
            .query_map([], |r| {
                let sku: String = r.get(0)?;
                let items = components.remove(&sku).unwrap_or_default();
                let prices = prices.remove(&sku).unwrap_or_default();
                let fba_stock = match r.get::<_, bool>(10)? {
                    true => json!(fba_row(r, 11)?),
                    false => Value::Null,
                };
                Ok(json!({
                    "sku": sku, "asin": r.get::<_, Option<String>>(1)?,
                    "title": r.get::<_, Option<String>>(2)?, "price": r.get::<_, Option<String>>(3)?,
                    "quantity": r.get::<_, Option<i64>>(4)?, "fulfillment_channel": r.get::<_, Option<String>>(5)?,
                    "status": r.get::<_, Option<String>>(6)?, "mapped": r.get::<_, bool>(7)?,
                    "fba": r.get::<_, Option<bool>>(8)?.unwrap_or(false), "should_show": r.get::<_, Option<i64>>(9)?,
                    "items": items, "fba_stock": fba_stock, "prices": prices,
                }))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let strings = |sql: &str| -> Result<Vec<String>> {
            let mut stmt = conn.prepare(sql)?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        let unmapped_skus = strings(
            "SELECT sku FROM listings WHERE sku NOT IN (SELECT sku FROM skus) ORDER BY sku",
        )?;
        let skus_without_listing = strings(
            "SELECT sku FROM skus WHERE sku NOT IN (SELECT sku FROM listings) ORDER BY sku",
        )?;
        let items_without_listing = strings(
            "SELECT DISTINCT host_item FROM sku_components WHERE host_item NOT IN
                 (SELECT c.host_item FROM sku_components c JOIN listings l ON l.sku = c.sku)
             ORDER BY host_item",
        )?;
        Ok(json!({
            "pulled_at": pulled_at,
            "listings": listings,
            "unmapped_skus": unmapped_skus,
            "skus_without_listing": skus_without_listing,
            "host_items_without_listing": items_without_listing,
        }))
    }
}
