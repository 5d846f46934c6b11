//! Stock fulfilled by Amazon: the SKUs Amazon fulfils (whatever the host mapped) are never
//! sent a seller-fulfilled quantity (Amazon would make them seller-fulfilled listings and strand
//! their units at its warehouses), and their inventory at Amazon as `getInventorySummaries`
//! last gave it, for the host to see its whole stock in one place.

use super::db::params;
use super::{ts, Store};
use crate::error::Result;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

/// The watermark of the last FBA stock read.
const FBA_READ: &str = "fba_stock_read";

/// One FBA SKU's units at Amazon.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FbaStock {
    pub sku: String,
    /// Sellable now (what Amazon shows buyers).
    pub fulfillable: i64,
    /// On the way in: shipments being prepared, shipped, being received.
    pub inbound_working: i64,
    pub inbound_shipped: i64,
    pub inbound_receiving: i64,
    /// Held for pending orders and transfers between warehouses.
    pub reserved: i64,
    /// Damaged, defective or expired.
    pub unfulfillable: i64,
    /// Missing or misplaced, being looked for.
    pub researching: i64,
    pub total: i64,
    /// When Amazon last changed it.
    pub amazon_updated: Option<String>,
}

/// The columns of `fba_stock f` that [`fba_row`] reads, in its order.
pub(super) const FBA_COLUMNS: &str = "f.sku, f.fulfillable, f.inbound_working, f.inbound_shipped,
    f.inbound_receiving, f.reserved, f.unfulfillable, f.researching, f.total, f.amazon_updated";

/// One SKU's FBA stock from [`FBA_COLUMNS`] starting at column `at`.
pub(super) fn fba_row(r: &super::db::Row<'_>, at: usize) -> rusqlite::Result<FbaStock> {
    Ok(FbaStock {
        sku: r.get(at)?,
        fulfillable: r.get(at + 1)?,
        inbound_working: r.get(at + 2)?,
        inbound_shipped: r.get(at + 3)?,
        inbound_receiving: r.get(at + 4)?,
        reserved: r.get(at + 5)?,
        unfulfillable: r.get(at + 6)?,
        researching: r.get(at + 7)?,
        total: r.get(at + 8)?,
        amazon_updated: r.get(at + 9)?,
    })
}

impl Store {
    /// Marks `skus`, whose listings Amazon fulfils, as FBA, for good (a later `sku_map`
    /// cannot undo it); returns the SKUs that were not marked yet.
    pub fn mark_fulfilled_by_amazon(&self, skus: &[String]) -> Result<Vec<String>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut newly = Vec::new();
        for sku in skus {
            let n = tx.execute(
                "UPDATE skus SET fba = 1, amazon_fulfils = 1 WHERE sku = ?1 AND amazon_fulfils = 0",
                [sku],
            )?;
            if n > 0 {
                newly.push(sku.clone());
            }
        }
        tx.commit()?;
        Ok(newly)
    }

    /// SKUs whose listing (in the last listings report) Amazon fulfils and that are not marked
    /// FBA yet.
    pub fn unmarked_amazon_listings(&self) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT s.sku FROM skus s JOIN listings l ON l.sku = s.sku
             WHERE s.amazon_fulfils = 0 AND l.fulfillment_channel LIKE 'AMAZON%' ORDER BY s.sku",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every SKU known to be fulfilled by Amazon: mapped so, or so listed.
    pub fn fba_skus(&self) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT sku FROM skus WHERE fba = 1
             UNION SELECT sku FROM listings WHERE fulfillment_channel LIKE 'AMAZON%' ORDER BY 1",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Whether the FBA stock is to be read: there are FBA SKUs, and it was not read since the
    /// last listings report.
    pub fn fba_read_due(&self) -> Result<bool> {
        let read = self.watermark(FBA_READ)?;
        let conn = self.conn();
        let (pulled, any): (Option<String>, bool) = conn.query_row(
            "SELECT (SELECT MAX(seen_at) FROM listings),
                    EXISTS (SELECT 1 FROM skus WHERE fba = 1)
                    OR EXISTS (SELECT 1 FROM listings WHERE fulfillment_channel LIKE 'AMAZON%')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(any && pulled.is_some_and(|p| read.is_none_or(|r| r < p)))
    }

    /// Records that the FBA stock was read at `now`.
    pub fn fba_read(&self, now: DateTime<Utc>) -> Result<()> {
        self.set_watermark(FBA_READ, &ts(now))
    }

    /// Replaces what is known of the FBA stock of `asked` with `found` (a SKU asked for and
    /// not found has none at Amazon).
    pub fn replace_fba_stock(
        &self,
        asked: &[String],
        found: &[FbaStock],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for sku in asked {
            tx.execute("DELETE FROM fba_stock WHERE sku = ?1", [sku])?;
        }
        for s in found.iter().filter(|s| asked.contains(&s.sku)) {
            tx.execute(
                "INSERT INTO fba_stock(sku, fulfillable, inbound_working, inbound_shipped,
                     inbound_receiving, reserved, unfulfillable, researching, total, amazon_updated, read_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT(sku) DO NOTHING",
                params![
                    s.sku,
                    s.fulfillable,
                    s.inbound_working,
                    s.inbound_shipped,
                    s.inbound_receiving,
                    s.reserved,
                    s.unfulfillable,
                    s.researching,
                    s.total,
                    s.amazon_updated,
                    ts(now)
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The FBA stock as `sellsync_fba_stock` returns it.
    pub fn fba_stock_view(&self) -> Result<Value> {
        let conn = self.conn();
        let read_at: Option<String> =
            conn.query_row("SELECT MAX(read_at) FROM fba_stock", [], |r| r.get(0))?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {FBA_COLUMNS} FROM fba_stock f ORDER BY f.sku"
        ))?;
        let skus: Vec<Value> = stmt
            .query_map([], |r| Ok(json!(fba_row(r, 0)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(json!({"read_at": read_at, "skus": skus}))
    }
}
