//! Prices the host set, per SKU and marketplace, and where each stands: `QUEUED` (to go out),
//! `CONFIRM` (a change too large, waiting for `sellsync_price_confirm`), `ACCEPTED` (Amazon
//! accepted it; read back until its listing shows it), `APPLIED` (the listing shows it) or
//! `REFUSED`. Amounts are in the currency's minor units. An outcome is recorded only while the
//! row still holds the price it is about (the host may have set another meanwhile), with its
//! event in the same transaction. Sending a price twice (a crash before its answer was
//! recorded) sets the same price twice: harmless, so no attempt is recorded before the call.

use super::db::{params, OptionalExtension, Row};
use super::{insert_event, trim_events, ts, Store};
use crate::error::{quote, Error, Result};
use crate::model::Event;
use crate::prices::{as_text, Checked};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// One price as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct PriceRow {
    pub sku: String,
    pub marketplace_id: String,
    pub currency: String,
    pub decimals: u32,
    pub price: i64,
    pub sale: Option<(i64, String, String)>,
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
    pub state: String,
    /// The price the host confirmed (it goes out without asking again).
    pub confirmed: Option<i64>,
    /// The last price Amazon accepted.
    pub accepted: Option<i64>,
    /// What Amazon's listing showed when last read, and in which currency.
    pub amazon: Option<(i64, String)>,
    pub message: Option<String>,
    pub updated_at: String,
}

impl PriceRow {
    /// An amount as text in the row's currency.
    pub fn text(&self, minor: i64) -> String {
        as_text(minor, self.decimals)
    }
}

const COLUMNS: &str = "sku, marketplace_id, currency, price, sale_price, sale_start, sale_end,
    minimum, maximum, state, confirmed, accepted, amazon, amazon_currency, message, updated_at";

fn row(r: &Row<'_>) -> super::db::SqlResult<PriceRow> {
    let marketplace_id: String = r.get(1)?;
    let sale = match (
        r.get::<_, Option<i64>>(4)?,
        r.get::<_, Option<String>>(5)?,
        r.get::<_, Option<String>>(6)?,
    ) {
        (Some(p), Some(from), Some(to)) => Some((p, from, to)),
        _ => None,
    };
    let amazon = match (
        r.get::<_, Option<i64>>(12)?,
        r.get::<_, Option<String>>(13)?,
    ) {
        (Some(p), Some(c)) => Some((p, c)),
        _ => None,
    };
    Ok(PriceRow {
        sku: r.get(0)?,
        decimals: crate::prices::currency(&marketplace_id).map_or(2, |c| c.1),
        marketplace_id,
        currency: r.get(2)?,
        price: r.get(3)?,
        sale,
        minimum: r.get(7)?,
        maximum: r.get(8)?,
        state: r.get(9)?,
        confirmed: r.get(10)?,
        accepted: r.get(11)?,
        amazon,
        message: r.get(14)?,
        updated_at: r.get(15)?,
    })
}

/// What became of a price sent or read back.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// A change too large: waits for the host (`reference` is what it was compared with).
    Confirm {
        reference: i64,
        change_percent: f64,
    },
    Accepted,
    Applied,
    Refused {
        reason: String,
        message: String,
    },
}

impl Store {
    /// The stored price of a SKU in a marketplace.
    pub fn price(&self, sku: &str, marketplace_id: &str) -> Result<Option<PriceRow>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM prices WHERE sku = ?1 AND marketplace_id = ?2"),
                params![sku, marketplace_id],
                row,
            )
            .optional()?)
    }

    /// Stores prices the host set (all or nothing), each queued to go out, or waiting for
    /// the host's confirmation when `confirm` gives its reference and change (its event
    /// stored with it). A SKU must be mapped.
    pub fn set_prices(
        &self,
        prices: &[(Checked, Option<(i64, f64)>)],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for (p, confirm) in prices {
            let mapped: bool = tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM skus WHERE sku = ?1)",
                [&p.sku],
                |r| r.get(0),
            )?;
            if !mapped {
                return Err(Error::InvalidArgument(format!(
                    "SKU {} is not mapped (sellsync_sku_map): its price is not set",
                    quote(&p.sku)
                )));
            }
            let state = if confirm.is_some() {
                "CONFIRM"
            } else {
                "QUEUED"
            };
            let (sale, from, to) = match &p.sale {
                Some((s, f, t)) => (Some(*s), Some(f.as_str()), Some(t.as_str())),
                None => (None, None, None),
            };
            tx.execute(
                "INSERT INTO prices(sku, marketplace_id, currency, price, sale_price, sale_start, sale_end,
                                    minimum, maximum, state, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT(sku, marketplace_id) DO UPDATE SET currency = excluded.currency,
                     price = excluded.price, sale_price = excluded.sale_price,
                     sale_start = excluded.sale_start, sale_end = excluded.sale_end,
                     minimum = excluded.minimum, maximum = excluded.maximum, state = excluded.state,
                     message = NULL, updated_at = excluded.updated_at",
                params![
                    p.sku,
                    p.marketplace_id,
                    p.currency,
                    p.price,
                    sale,
                    from,
                    to,
                    p.minimum,
                    p.maximum,
                    state,
                    ts(now)
                ],
            )?;
            if let Some((reference, change_percent)) = confirm {
                insert_event(
                    &tx,
                    &Event::PriceConfirmationNeeded {
                        sku: p.sku.clone(),
                        marketplace_id: p.marketplace_id.clone(),
                        currency: p.currency.into(),
                        price: as_text(p.price, p.decimals),
                        reference: as_text(*reference, p.decimals),
                        change_percent: *change_percent,
                    },
                    now,
                )?;
            }
        }
        trim_events(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// The host confirms the price waiting for it: it goes out at the next stock run.
    pub fn confirm_price(&self, sku: &str, marketplace_id: &str, now: DateTime<Utc>) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE prices SET state = 'QUEUED', confirmed = price, updated_at = ?3
             WHERE sku = ?1 AND marketplace_id = ?2 AND state = 'CONFIRM'",
            params![sku, marketplace_id, ts(now)],
        )?;
        tx.commit()?;
        if n == 0 {
            return Err(Error::InvalidState(format!(
                "no price of SKU {} in marketplace {} waits for confirmation",
                quote(sku),
                quote(marketplace_id)
            )));
        }
        Ok(())
    }

    /// Up to `limit` prices to send, or accepted within the last hour and to read back,
    /// oldest change first.
    pub fn prices_due(&self, limit: usize, now: DateTime<Utc>) -> Result<Vec<PriceRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM prices WHERE state IN ('QUEUED', 'ACCEPTED')
                 AND (state = 'QUEUED' OR updated_at > ?2)
             ORDER BY updated_at LIMIT ?1"
        ))?;
        let cutoff = ts(now - chrono::Duration::hours(1));
        let rows = stmt.query_map(params![limit as i64, cutoff], row)?;
        Ok(rows.collect::<super::db::SqlResult<_>>()?)
    }

    /// Notes what Amazon's listing shows for a SKU in a marketplace.
    pub fn note_amazon_price(
        &self,
        sku: &str,
        marketplace_id: &str,
        shown: Option<(i64, &str)>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE prices SET amazon = ?3, amazon_currency = ?4 WHERE sku = ?1 AND marketplace_id = ?2",
            params![sku, marketplace_id, shown.map(|s| s.0), shown.map(|s| s.1)],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records what became of `p` (as read before it went out), with its event, unless the host
    /// has set another price since. Returns whether it was recorded.
    pub fn price_outcome(
        &self,
        p: &PriceRow,
        outcome: &Outcome,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let (sku, mp) = (p.sku.clone(), p.marketplace_id.clone());
        let (currency, price) = (p.currency.clone(), p.text(p.price));
        let (state, message, event) = match outcome {
            Outcome::Confirm {
                reference,
                change_percent,
            } => (
                "CONFIRM",
                None,
                Event::PriceConfirmationNeeded {
                    sku,
                    marketplace_id: mp,
                    currency,
                    price,
                    reference: p.text(*reference),
                    change_percent: *change_percent,
                },
            ),
            Outcome::Accepted => (
                "ACCEPTED",
                None,
                Event::PriceAccepted {
                    sku,
                    marketplace_id: mp,
                    currency,
                    price,
                },
            ),
            Outcome::Applied => (
                "APPLIED",
                None,
                Event::PriceApplied {
                    sku,
                    marketplace_id: mp,
                    currency,
                    price,
                },
            ),
            Outcome::Refused { reason, message } => (
                "REFUSED",
                Some(message.clone()),
                Event::PriceRefused {
                    sku,
                    marketplace_id: mp,
                    currency,
                    price,
                    reason: reason.clone(),
                    message: message.clone(),
                },
            ),
        };
        let accepted = matches!(outcome, Outcome::Accepted).then_some(p.price);
        let n = tx.execute(
            "UPDATE prices SET state = ?5, message = ?6, accepted = COALESCE(?7, accepted),
                 updated_at = ?8
             WHERE sku = ?1 AND marketplace_id = ?2 AND price = ?3 AND state = ?4",
            params![
                p.sku,
                p.marketplace_id,
                p.price,
                p.state,
                state,
                message,
                accepted,
                ts(now)
            ],
        )?;
        if n > 0 {
            insert_event(&tx, &event, now)?;
            trim_events(&tx)?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    /// Every price as `sellsync_prices` and the listings document show it, by SKU.
    pub fn prices_by_sku(&self) -> Result<std::collections::BTreeMap<String, Vec<Value>>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM prices ORDER BY sku, marketplace_id"
        ))?;
        let mut out: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
        for r in stmt.query_map([], row)? {
            let p = r?;
            let text = |v: Option<i64>| v.map(|v| p.text(v));
            let doc = json!({
                "marketplace_id": p.marketplace_id, "currency": p.currency,
                "price": p.text(p.price),
                "sale": p.sale.as_ref().map(|(s, from, to)| json!({"price": p.text(*s), "start": from, "end": to})),
                "minimum": text(p.minimum), "maximum": text(p.maximum),
                "state": p.state, "accepted": text(p.accepted),
                "amazon": p.amazon.as_ref().map(|(v, c)| json!({"price": p.text(*v), "currency": c})),
                "message": p.message, "updated_at": p.updated_at,
            });
            out.entry(p.sku.clone()).or_default().push(doc);
        }
        Ok(out)
    }
}
