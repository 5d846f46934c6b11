//! Counts behind the seller performance metrics (SQL only; the rates are in `crate::metrics`).

use super::adjustments::Kind;
use super::db::{params, Conn};
use super::{ts, Store};
use crate::error::Result;
use chrono::{DateTime, Utc};

/// A numerator over a denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Count {
    pub numerator: u64,
    pub denominator: u64,
}

fn count(conn: &Conn, sql: &str, p: impl super::db::Params) -> Result<Count> {
    Ok(conn.query_row(sql, p, |r| {
        Ok(Count {
            numerator: r.get::<_, i64>(0)? as u64,
            denominator: r.get::<_, i64>(1)? as u64,
        })
    })?)
}

impl Store {
    /// Seller-fulfilled orders bought in [from, to) in a marketplace, and how many of them the
    /// seller cancelled (a cancellation queued or done; buyer and Amazon cancellations do not count).
    pub fn cancellation_count(
        &self,
        marketplace: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Count> {
        self.adjusted_count(Kind::Cancel, marketplace, from, to)
    }

    /// Seller-fulfilled orders bought in [from, to), and how many the seller refunded.
    pub fn refund_count(
        &self,
        marketplace: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Count> {
        self.adjusted_count(Kind::Refund, marketplace, from, to)
    }

    /// Seller-fulfilled orders bought in [from, to), and how many have an adjustment of `kind`
    /// that Amazon did not refuse.
    fn adjusted_count(
        &self,
        kind: Kind,
        marketplace: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Count> {
        count(
            &self.conn(),
            "SELECT COUNT(CASE WHEN EXISTS (SELECT 1 FROM adjustments a WHERE a.order_id = o.order_id
                                             AND a.kind = ?4 AND a.state <> 'FAILED') THEN 1 END), COUNT(*)
             FROM orders o WHERE o.fulfilled_by = 'MERCHANT' AND o.marketplace_id = ?1
               AND o.purchase_date >= ?2 AND o.purchase_date < ?3",
            params![marketplace, ts(from), ts(to), kind.as_str()],
        )
    }

    /// Seller-fulfilled, not cancelled orders whose LatestShipDate is in [from, to), and how
    /// many of them were late: the first confirmation reached Amazon after the LatestShipDate,
    /// or none had by `to` while the order was still unshipped.
    pub fn late_shipment_count(
        &self,
        marketplace: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Count> {
        count(
            &self.conn(),
            "SELECT COUNT(CASE WHEN (CASE
                        WHEN first_sent IS NOT NULL THEN first_sent > o.latest_ship_date
                        ELSE o.status IN ('UNSHIPPED', 'PARTIALLY_SHIPPED') AND o.latest_ship_date < ?3 END) THEN 1 END),
                    COUNT(*)
             FROM (SELECT o.*, (SELECT MIN(s.sent_at) FROM shipments s WHERE s.order_id = o.order_id AND s.state = 'SENT') AS first_sent
                   FROM orders o) o
             WHERE o.fulfilled_by = 'MERCHANT' AND o.status <> 'CANCELLED' AND o.marketplace_id = ?1
               AND o.latest_ship_date >= ?2 AND o.latest_ship_date < ?3",
            params![marketplace, ts(from), ts(to)],
        )
    }

    /// Unshipped seller-fulfilled orders with no package for Amazon yet whose LatestShipDate is
    /// before `until`: (order id, marketplace, LatestShipDate).
    pub fn orders_due(&self, until: DateTime<Utc>) -> Result<Vec<(String, String, String)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT order_id, marketplace_id, latest_ship_date FROM orders o
             WHERE fulfilled_by = 'MERCHANT' AND status = 'UNSHIPPED' AND latest_ship_date < ?1
               AND NOT EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.order_id AND s.state <> 'FAILED')
             ORDER BY latest_ship_date",
        )?;
        let rows = stmt.query_map([ts(until)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Packages not yet at Amazon.
    pub fn shipments_waiting(&self) -> Result<u64> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM shipments WHERE state IN ('QUEUED', 'UNCERTAIN')",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// SKUs where Amazon was last seen showing more than it should, less what the orders seen
    /// since took: (sku, Amazon's quantity, should show). One with a value sent that Amazon accepted and that is no more than that
    /// is on its way, and not counted.
    pub fn skus_over_shown(&self) -> Result<Vec<(String, i64, i64)>> {
        let conn = self.conn();
        // `amazon > desired` lets the partial index `skus_over_shown` serve the query.
        let mut stmt = conn.prepare(
            "SELECT sku, amazon - COALESCE(orders_took, 0), desired FROM skus
             WHERE fba = 0 AND amazon IS NOT NULL AND desired IS NOT NULL AND amazon > desired
               AND amazon - COALESCE(orders_took, 0) > desired
               AND NOT (patch_sent IS NOT NULL AND patch_sent <= desired AND pushed_for IS NOT NULL AND pushed_for = desired)
             ORDER BY sku",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl Store {
    /// Marketplaces that have orders in the store (one index look-up per marketplace).
    pub fn marketplaces(&self) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "WITH RECURSIVE m(id) AS (
                SELECT MIN(marketplace_id) FROM orders
                UNION ALL
                SELECT (SELECT MIN(marketplace_id) FROM orders WHERE marketplace_id > m.id) FROM m WHERE m.id IS NOT NULL)
             SELECT id FROM m WHERE id IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
