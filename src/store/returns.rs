//! Buyers' returns as Amazon's returns reports give them: each is kept once, by Amazon's id
//! and SKU, and its `order.returned` event is stored in the same transaction, so a return is
//! handed to the host once, across restarts and reports that overlap.

use super::db::{params, OptionalExtension};
use super::{insert_event, trim_events, ts, Store};
use crate::error::Result;
use crate::model::{Event, Return};
use chrono::{DateTime, Utc};

impl Store {
    /// Keeps the returns not known yet (filling in the order line from the stored order) and
    /// stores an `order.returned` event for each; returns how many were new.
    pub fn record_returns(&self, returns: &[Return], now: DateTime<Utc>) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut new = 0;
        for r in returns {
            let inserted = tx.execute(
                "INSERT INTO returns(return_id, sku, order_id, quantity, seen_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(return_id, sku) DO NOTHING",
                params![r.return_id, r.sku, r.order_id, r.quantity, ts(now)],
            )?;
            if inserted == 0 {
                continue;
            }
            let order_item_id: Option<String> = tx
                .query_row(
                    "SELECT order_item_id FROM order_items WHERE order_id = ?1 AND sku = ?2
                     ORDER BY order_item_id LIMIT 1",
                    params![r.order_id, r.sku],
                    |row| row.get(0),
                )
                .optional()?;
            let mut r = r.clone();
            r.order_item_id = order_item_id;
            insert_event(&tx, &Event::OrderReturned(r), now)?;
            new += 1;
        }
        trim_events(&tx)?;
        tx.commit()?;
        Ok(new)
    }
}
