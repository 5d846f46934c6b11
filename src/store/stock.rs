//! Stock out in the store: host stock levels, SKU mappings, the quantity each SKU should show
//! on Amazon, what Amazon is known to show, and the listings feeds in flight.
//!
//! # The accounting, per seller-fulfilled SKU (columns of `skus`)
//!
//! - `desired`: what Amazon should show (the shelf less open orders, through the policy),
//!   recomputed when a level, a mapping, or an order of any SKU made of one of its host items
//!   changes.
//! - `amazon` since `amazon_at` (Amazon's time): the last value Amazon was *seen* showing: read
//!   back, said by a quantity notification, or a feed's accepted value as of its processing end.
//!   A patch Amazon accepted is not a value seen: Amazon applies it later, or never.
//! - `patch_sent` at `patch_sent_at`: a value sent (noted before it goes out) and not seen
//!   landing yet. It is seen landing when a notification shows it, or when a read finds the
//!   listing changed (`lastUpdatedDate`) since the read before it went out (`listing_updated`;
//!   without that read: a read showing it, or showing more than `amazon`), and no more than
//!   it; then what Amazon took counts from the listing's change (else from `patch_sent_at`,
//!   never before `amazon_at`). A read showing it with the date unchanged is orders taking the
//!   units down to it. `patches_before`: the values sent before it and not seen landing then,
//!   oldest first; Amazon applies a SKU's submissions in order, so a change showing exactly
//!   one of them is it landing (and those before it), the rest still to land. A higher value
//!   waits minutes for a lower one in flight (`Push::waits_for_landing`): else Amazon showing
//!   the lower could also be both landing and an order taking exactly the difference (an
//!   order seen placed after the change tells that). A change showing less than all of them
//!   counts from `patch_sent`, the side that holds more (it may hold units no order explains
//!   until `UNSEEN_HORIZON`), and since `patch_sent` may still land over it, the SKU's value
//!   goes out again (it lands last). A
//!   value not seen landing within `UNSEEN_HORIZON` puts the SKU out of step: it is read, and
//!   sent again if it never landed.
//! - `pushed_for`: the `desired` the last accepted push was computed for; the SKU is in step
//!   while `pushed_for - orders_took = desired` and nothing below asks for a read. Without it (an order
//!   seen, a hold or a sent value expired), `amazon = desired` is in step only with nothing
//!   sent and not seen landing: a sent value may have landed over `amazon`.
//! - `orders_took`: the units of the orders seen since `amazon_at` (placed clearly after it)
//!   while nothing was sent, in a feed or held for the SKU: Amazon shows at most `amazon -
//!   orders_took`, and the SKU stays in step while `desired` is that, without a read (an order
//!   not seen yet can only make Amazon show less, and lowers `desired` when it is seen). A
//!   value seen or sent clears it; the stretch read next still counts from `amazon_at`, and
//!   those orders explain their units in it.
//! - `amazon_takes`: stretches between two values seen, each with the units Amazon took in it
//!   (orders). A stretch starts at the value seen last (a sent value once seen landing) and
//!   ends at a read or a notification; each is kept once, and dropped after `UNSEEN_HORIZON`.
//!
//! Invariants every transition keeps:
//! 1. What goes out is `desired` less the held units: Σ over kept stretches of (units taken −
//!    units of the orders seen since that were placed in it), never below 0 (`unseen_in`). A
//!    unit is held only while a stretch shows Amazon took it and no order seen explains it.
//! 2. A read is compared with the value Amazon was last seen showing, or with a sent value
//!    only once that is seen landing: a read made before its own patch landed never counts
//!    the difference to the patch as sold.
//! 3. A newer value is never replaced by an older one: a feed's value counts from its
//!    processing end and gives way to a value seen later; a SKU whose value changes while a
//!    feed carries an older one waits for the feed and is sent again.
//! 4. An order placed after `amazon_at` keeps its SKU out of step (`recheck_after`) until a
//!    value seen later, unless its units are counted in `orders_took`.
//! 5. A value sent that Amazon refused or never received (a patch refused, a feed not
//!    created, a message rejected) gives way to the value sent before it, still in flight, and
//!    keeps its SKU out of step (`recheck_after`) until a value seen later: the read before it
//!    may have seen another value land that the store kept only with the withdrawn one.

use super::commit::Durability;
use super::db::{params, Conn, OptionalExtension, Tx};
use super::{ts, Store};
use crate::config::{StockConfig, StockDurability};
use crate::error::{quote, Error, Result};
use crate::model::{Buffer, SkuMapping, StockLevel};
use chrono::{DateTime, Utc};

/// Largest on-hand quantity accepted for one host item.
pub const MAX_ON_HAND: i64 = 1_000_000_000;
/// A value Amazon refused this many times is parked until the SKU's value or mapping changes.
pub const MAX_ATTEMPTS: i64 = 3;
/// A host call that changes more SKUs than this is bulk: it travels in a feed, and smaller
/// changes travel by the fast lane (about 10 s of patchListingsItem at its sustained rate).
pub const BULK_CHANGE: usize = 50;
/// How `"buffer": "auto"` is kept in the `buffer` column of `skus` (numbers are ≥ 0).
const AUTO_BUFFER: i64 = -1;

/// SKUs whose quantity on Amazon is not (known to be) in step with what they should show: the
/// last push was made for another value (less the units of orders seen since), nothing was
/// pushed and Amazon shows another (or a
/// value sent may have landed over the one it was seen showing), an order seen since shows
/// Amazon took units after its last known value, or the handling time asked for was not
/// accepted with a quantity yet. (The index `skus_out_of_step` has the same condition.)
const OUT_OF_STEP: &str = "fba = 0 AND desired IS NOT NULL
     AND (amazon IS NULL OR desired <> COALESCE(pushed_for, amazon) - COALESCE(orders_took, 0)
          OR recheck_after IS NOT NULL
          OR (pushed_for IS NULL AND patch_sent IS NOT NULL)
          OR (handling_days IS NOT NULL AND (handling_sent IS NULL OR handling_days <> handling_sent)))";

fn buffer_to_db(b: Option<Buffer>) -> Option<i64> {
    b.map(|b| match b {
        Buffer::Units(n) => n,
        Buffer::Auto => AUTO_BUFFER,
    })
}

fn buffer_from_db(b: Option<i64>) -> Option<Buffer> {
    b.map(|n| {
        if n == AUTO_BUFFER {
            Buffer::Auto
        } else {
            Buffer::Units(n)
        }
    })
}

/// What the store knows of a SKU's quantity on Amazon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    /// What Amazon showed when last set or read (None: not known yet).
    pub amazon: Option<i64>,
    /// Since when (Amazon's time).
    pub amazon_at: Option<String>,
    /// A value sent, by a patch or in a feed (its quantity, and when), not seen landing yet.
    pub patch_sent: Option<(i64, String)>,
    /// The listing's `lastUpdatedDate` when it was read before that value went out.
    pub listing_updated: Option<String>,
    /// The values sent before that one and not seen landing when it went out, oldest first:
    /// Amazon applies a SKU's submissions in order, so they may land first.
    pub sent_before: Vec<i64>,
}

/// A value going out for a SKU (`Store::note_sent`): the SKU, the quantity, the listing's
/// `lastUpdatedDate` read just before, the values sent before it not seen landing (oldest
/// first), and when the value in flight was noted as the push was taken (`Push::sent_at`).
pub type Sent<'a> = (
    &'a str,
    i64,
    Option<DateTime<Utc>>,
    &'a [i64],
    Option<&'a str>,
);

/// Most values kept as sent before the one in flight (the oldest are dropped).
pub const MAX_SENT_BEFORE: usize = 8;

/// `Known::sent_before` as stored (comma-separated, oldest first; None: empty).
fn values_to_db(values: &[i64]) -> Option<String> {
    let kept = &values[values.len().saturating_sub(MAX_SENT_BEFORE)..];
    (!kept.is_empty()).then(|| {
        kept.iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    })
}

fn values_from_db(text: Option<String>) -> Vec<i64> {
    text.map(|t| t.split(',').filter_map(|v| v.parse().ok()).collect())
        .unwrap_or_default()
}

/// A quantity Amazon accepted for a SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// What Amazon shows.
    pub quantity: i64,
    /// The desired value it was sent for (it is less by the units held back).
    pub pushed_for: i64,
    /// Since when Amazon shows it (Amazon's time).
    pub at: DateTime<Utc>,
    /// It covers every order placed before this time (Amazon's, as stored): when it was sent,
    /// or read. None: not known.
    pub covers: Option<String>,
    /// The handling time sent with it (None: none was sent).
    pub handling_days: Option<i64>,
    /// Whether Amazon was seen showing it, or only accepted it.
    pub seen: Seen,
}

/// How the store knows a value Amazon accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// A read showed it, or a feed's processing ended with it: Amazon shows it since `at`.
    Shown,
    /// A patch was accepted; Amazon applies it later (seconds to many minutes), or, rarely,
    /// never. Until a read or a quantity notification shows it, the SKU's known value stays
    /// what Amazon was last read showing (`last_read`: quantity and when; None: not read
    /// before the push, the known value stays) and the value is noted as sent.
    Accepted {
        last_read: Option<(i64, DateTime<Utc>)>,
    },
}

/// A SKU whose quantity on Amazon differs from what it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    pub sku: String,
    pub product_type: String,
    /// What Amazon should show.
    pub desired: i64,
    /// What goes out: `desired` less the units Amazon holds for orders not visible yet.
    pub send: i64,
    /// Units held back for orders Amazon took and this store has not seen.
    pub held: i64,
    /// What Amazon showed when it was read just before this push, and when.
    pub shows: Option<(i64, DateTime<Utc>)>,
    /// The listing's `lastUpdatedDate` at that read.
    pub listing_updated: Option<DateTime<Utc>>,
    /// What Amazon took since `amazon_at`, as read before this push.
    pub took: Option<Take>,
    /// What Amazon is known to show (None: not known yet).
    pub amazon: Option<i64>,
    /// Since when Amazon is known to show `amazon`.
    pub amazon_at: Option<String>,
    /// A feed carrying a value for this SKU is still being processed.
    pub in_feed: bool,
    /// Changed as part of a bulk change (it travels in a feed).
    pub bulk: bool,
    pub urgent_threshold: i64,
    /// The handling time to send with the quantity (None: Amazon's stays as it is).
    pub handling_days: Option<i64>,
    /// Amazon accepted `handling_days` already (nothing to send for it alone).
    pub handling_in_step: bool,
    /// A value sent for it that was not seen landing yet.
    pub sent: Option<i64>,
    /// When that value was sent (Amazon's time, as stored).
    pub sent_at: Option<String>,
    /// The values sent before `sent` that may still land ahead of it, oldest first (set by the
    /// read before the push).
    pub sent_before: Vec<i64>,
    /// It waits for `sent` to be seen landing (see `Push::waits_for_landing`).
    pub waits: bool,
}

impl Push {
    /// A decrease to (or below) the urgent threshold: goes out at once, ahead of the bulk feed.
    pub fn is_urgent(&self) -> bool {
        self.desired <= self.urgent_threshold && self.amazon.is_none_or(|a| self.desired < a)
    }

    /// The values that may still land before this one once it is sent, oldest first.
    pub fn in_flight_before(&self) -> Vec<i64> {
        let mut before = self.sent_before.clone();
        before.extend(self.sent.filter(|s| *s != self.send));
        before
    }

    /// Whether this value waits for the one sent before it (`sent`, not seen landing) to be seen
    /// landing: it is higher, and was sent less than `LANDING_WAIT` before `now`. Sent now, a
    /// read finding Amazon at the earlier value could not tell that value landing from both
    /// landing and an order taking exactly the difference (Amazon moves `lastUpdatedDate` only
    /// when it applies a submission), and either reading would be wrong one way: units held for
    /// an order that does not exist, or units shown that an order not seen yet took. Waiting
    /// only shows less for a while (the value in flight is lower); a fall never waits.
    pub fn waits_for_landing(&self, now: DateTime<Utc>) -> bool {
        let recent = self
            .sent_at
            .as_deref()
            .is_some_and(|at| at > super::ts(now - LANDING_WAIT).as_str());
        recent && self.sent.is_some_and(|s| self.send > s)
    }
}

/// One message of a submitted listings feed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FeedMessage {
    pub message_id: i64,
    pub sku: String,
    pub quantity: i64,
    /// The desired value this quantity was computed for.
    #[serde(default)]
    pub pushed_for: Option<i64>,
    /// What Amazon took since the SKU's last known value, read before the feed was sent.
    #[serde(default)]
    pub took: Option<Take>,
    /// When the feed was sent (Amazon's time): the quantity it sets covers every order placed
    /// before then.
    #[serde(default)]
    pub sent_at: Option<String>,
    /// The handling time sent with the quantity.
    #[serde(default)]
    pub handling_days: Option<i64>,
}

/// What Amazon took from a SKU's quantity between two known values: `units` over the stretch
/// `after`..`until` (Amazon's time).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Take {
    pub after: String,
    pub until: String,
    pub units: i64,
    /// The known value the stretch starts from (what Amazon showed at `after`).
    #[serde(default)]
    pub from: Option<i64>,
}

/// How long a value sent and not seen landing makes a higher one wait for it: Amazon applies
/// most accepted changes within minutes; one later than this may never land.
pub const LANDING_WAIT: chrono::Duration = chrono::Duration::minutes(10);
/// How long what Amazon took is kept against orders not seen yet: by then every order placed
/// in it is visible to order searches.
pub const UNSEEN_HORIZON: chrono::Duration = chrono::Duration::hours(1);
/// How much earlier than a stretch's start an order placed in it may be dated (Amazon's times
/// come to the second, and the library's estimate of Amazon's clock is as close).
pub(super) const BOUNDARY_SLACK: chrono::Duration = chrono::Duration::seconds(2);

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
            "mapping of SKU {}: {what}",
            quote(&m.sku)
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
        if c.host_item.is_empty() || c.host_item.len() > 200 || c.units <= 0 || c.units > 1_000_000
        {
            return bad(format!(
                "host item {} needs a name of 1 to 200 characters and units between 1 and 1000000",
                quote(&c.host_item)
            ));
        }
        if !seen.insert(&c.host_item) {
            return bad(format!("host item {} is listed twice", quote(&c.host_item)));
        }
    }
    let units = 0..=MAX_ON_HAND;
    let out_of_range = matches!(m.buffer, Some(Buffer::Units(n)) if !units.contains(&n))
        || [m.max_quantity, m.urgent_threshold]
            .iter()
            .flatten()
            .any(|v| !units.contains(v));
    if out_of_range
        || m.allocation_percent
            .is_some_and(|p| !(0..=100).contains(&p))
        || m.handling_days.is_some_and(|d| !(0..=30).contains(&d))
    {
        return bad(format!(
            "buffer, max_quantity and urgent_threshold must be 0 to {MAX_ON_HAND}, allocation_percent 0 to 100, handling_days 0 to 30"
        ));
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
        let mut remove = tx.prepare_cached("DELETE FROM skus WHERE sku = ?1")?;
        let mut upsert = tx.prepare_cached(
            "INSERT INTO skus(sku, fba, product_type, buffer, allocation_percent, max_quantity, urgent_threshold,
                              product_type_explicit, updated_at, handling_days, handling_explicit)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT(sku) DO UPDATE SET fba = CASE WHEN skus.amazon_fulfils = 1 THEN 1 ELSE excluded.fba END,
                 product_type = CASE WHEN excluded.product_type_explicit = 1 OR skus.looked_up = 0
                                     THEN excluded.product_type ELSE skus.product_type END,
                 buffer = excluded.buffer, allocation_percent = excluded.allocation_percent,
                 max_quantity = excluded.max_quantity, urgent_threshold = excluded.urgent_threshold,
                 product_type_explicit = excluded.product_type_explicit,
                 handling_days = excluded.handling_days, handling_explicit = excluded.handling_explicit,
                 attempts = 0, updated_at = excluded.updated_at",
        )?;
        let mut clear = tx.prepare_cached("DELETE FROM sku_components WHERE sku = ?1")?;
        let mut component = tx.prepare_cached(
            "INSERT INTO sku_components(sku, host_item, units) VALUES (?1, ?2, ?3)",
        )?;
        let at = ts(now);
        for m in mappings {
            if m.remove {
                remove.execute([&m.sku])?;
                continue;
            }
            let product_type = m
                .product_type
                .clone()
                .unwrap_or_else(|| defaults.product_type.clone());
            upsert.execute(params![
                m.sku,
                m.fba,
                product_type,
                buffer_to_db(m.buffer),
                m.allocation_percent,
                m.max_quantity,
                m.urgent_threshold,
                m.product_type.is_some(),
                at,
                m.handling_days.or(defaults.handling_days),
                m.handling_days.is_some()
            ])?;
            clear.execute([&m.sku])?;
            for c in &m.items {
                component.execute(params![m.sku, c.host_item, c.units])?;
            }
        }
        drop((remove, upsert, clear, component));
        let lane = lane_of_call(mappings.len());
        let changed = recompute(&tx, mappings.iter().map(|m| m.sku.as_str()), defaults, lane)?;
        settle_lane(&tx, lane, &changed)?;
        tx.commit()?;
        Ok(())
    }

    /// Records absolute on-hand quantities, all or nothing; every host item must be mapped.
    /// A fall not explained by Amazon orders the host acknowledged since its last report is an
    /// in-store sale: it feeds the item's adaptive buffer, which covers `auto_window_seconds`.
    pub fn set_stock(
        &self,
        levels: Vec<StockLevel>,
        defaults: &StockConfig,
        auto_window_seconds: f64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let located = levels.into_iter().map(|l| (None, l)).collect();
        self.set_stock_at(located, defaults, auto_window_seconds, now)
    }

    /// Records absolute on-hand quantities, each of an item as a whole or at a location (all
    /// or nothing): a located level changes the item's quantity for Amazon to the sum of its
    /// levels at the locations Amazon sells from (`stock.amazon_locations`).
    pub fn set_stock_at(
        &self,
        levels: Vec<(Option<String>, StockLevel)>,
        defaults: &StockConfig,
        auto_window_seconds: f64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        for (i, (location, l)) in levels.iter().enumerate() {
            if location
                .as_ref()
                .is_some_and(|s| s.is_empty() || s.len() > 64)
            {
                return Err(Error::InvalidArgument(format!(
                    "level {i}: location must be 1 to 64 characters"
                )));
            }
            if l.host_item.is_empty() {
                return Err(Error::InvalidArgument(format!(
                    "level {i}: host_item is empty"
                )));
            }
            if !(0..=MAX_ON_HAND).contains(&l.on_hand) {
                return Err(Error::InvalidArgument(format!(
                    "level {i}: on_hand of {} is {}, it must be between 0 and {MAX_ON_HAND}",
                    quote(&l.host_item),
                    l.on_hand
                )));
            }
        }
        let durability = match defaults.durability {
            StockDurability::Full => Durability::Full,
            StockDurability::Process => Durability::Process,
        };
        let defaults = defaults.clone();
        self.write(durability, move |tx| {
            let levels = sum_locations(tx, levels, defaults.amazon_locations.as_deref(), now)?;
            store_levels(tx, &levels, &defaults, auto_window_seconds, now)
        })
    }

    /// Recomputes what every SKU should show (when the handle opens: the configured policy
    /// may have changed since the last process).
    pub fn recompute_all(&self, defaults: &StockConfig) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let skus: Vec<String> = tx
            .prepare("SELECT sku FROM skus WHERE fba = 0")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        recompute(&tx, skus.iter().map(String::as_str), defaults, None)?;
        tx.execute(
            "UPDATE skus SET handling_days = ?1 WHERE handling_explicit = 0",
            [defaults.handling_days],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Puts out of step every SKU last pushed with units held back for orders not seen, once
    /// all the stretches that held them are older than `UNSEEN_HORIZON` (at `now`, Amazon's
    /// time): their orders are visible by then, so it is pushed again without them. So too a
    /// SKU whose patch Amazon accepted that long ago and nothing showed landing: it is read
    /// (also when the shelf is back at the last value seen, which the patch may have landed
    /// over), and sent again if it never landed.
    pub fn release_expired_holds(&self, now: DateTime<Utc>) -> Result<()> {
        let conn = self.conn();
        let horizon = ts(now - UNSEEN_HORIZON);
        conn.prepare_cached(
                "UPDATE skus SET pushed_for = NULL WHERE pushed_for IS NOT NULL AND pushed_for <> amazon
                   AND patch_sent IS NULL
                   AND NOT EXISTS (SELECT 1 FROM amazon_takes t WHERE t.sku = skus.sku AND t.until >= ?1)",
        )?
        .execute([&horizon])?;
        // Out of step even where the shelf is back at the last value seen: the value sent may
        // have landed over it unseen (`OUT_OF_STEP`).
        conn.prepare_cached(
            "UPDATE skus SET pushed_for = NULL WHERE patch_sent IS NOT NULL AND pushed_for IS NOT NULL
               AND in_flight_feed IS NULL AND patch_sent_at < ?1",
        )?
        .execute([&horizon])?;
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
                     product_type = CASE WHEN product_type_explicit = 0 THEN COALESCE(?2, product_type) ELSE product_type END,
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

    /// SKUs whose quantity on Amazon is not (known to be) in step with what they should show,
    /// once their listing was looked up (its product type and quantity).
    pub fn pending_pushes(&self, defaults: &StockConfig) -> Result<Vec<Push>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT sku, product_type, desired, amazon, amazon_at, in_flight_feed IS NOT NULL, urgent_threshold, bulk,
                    handling_days, handling_days IS NULL OR handling_days = handling_sent, patch_sent, patch_sent_at
             FROM skus
             WHERE {OUT_OF_STEP} AND looked_up = 1 AND attempts < ?1
             ORDER BY sku"
        ))?;
        let rows = stmt.query_map([MAX_ATTEMPTS], |r| {
            Ok(Push {
                sku: r.get(0)?,
                product_type: r.get(1)?,
                desired: r.get(2)?,
                send: r.get(2)?,
                held: 0,
                shows: None,
                listing_updated: None,
                took: None,
                amazon: r.get(3)?,
                amazon_at: r.get(4)?,
                in_feed: r.get(5)?,
                urgent_threshold: r
                    .get::<_, Option<i64>>(6)?
                    .unwrap_or(defaults.urgent_threshold),
                bulk: r.get(7)?,
                handling_days: r.get(8)?,
                handling_in_step: r.get::<_, Option<bool>>(9)?.unwrap_or(false),
                sent: r.get(10)?,
                sent_at: r.get(11)?,
                sent_before: Vec::new(),
                waits: false,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Units Amazon took for orders this store has not seen yet. Each stretch between two
    /// known values of the SKU counts what Amazon took then, less the units of the orders seen
    /// since that were placed in it: the stretches kept from earlier pushes and, when Amazon's
    /// quantity was just read (`read`: Amazon showed `amazon` since `amazon_at` and shows
    /// `shows` at `now`), the open one, which is returned to be kept once the next value is
    /// accepted. Stretches older than `UNSEEN_HORIZON` are dropped: their orders are visible.
    pub fn unseen_units(
        &self,
        sku: &str,
        read: Option<(i64, &str, i64)>,
        now: DateTime<Utc>,
    ) -> Result<(i64, Option<Take>)> {
        let conn = self.conn();
        conn.prepare_cached("DELETE FROM amazon_takes WHERE sku = ?1 AND until < ?2")?
            .execute(params![sku, ts(now - UNSEEN_HORIZON)])?;
        let open = read.map(|(amazon, amazon_at, shows)| Take {
            after: amazon_at.to_string(),
            until: ts(now),
            units: amazon - shows,
            from: Some(amazon),
        });
        let mut takes = kept_takes(&conn, sku)?;
        takes.extend(open.clone());
        let unseen = unseen_in(&conn, sku, &takes)?;
        Ok((unseen, open))
    }

    /// Whether an order of the SKU seen here was placed after `at` (Amazon's time).
    pub fn ordered_after(&self, sku: &str, at: DateTime<Utc>) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT 1 FROM orders o JOIN order_items i ON i.order_id = o.order_id
                 WHERE i.sku = ?1 AND o.fulfilled_by = 'MERCHANT' AND o.purchase_date > ?2 AND i.quantity > 0
                 LIMIT 1",
            )?
            .query_row(params![sku, ts(at)], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Amazon says (a `LISTINGS_ITEM_MFN_QUANTITY_CHANGE` notification) that the SKU's quantity
    /// became `quantity` at `at` (Amazon's time). A fall since the last known value is what
    /// Amazon took for orders, kept against orders not seen yet like a read-back's, so no push
    /// hands those units back; a rise puts the SKU out of step, to be pushed again. A value
    /// older than the one known, a rise not clearly newer (within `BOUNDARY_SLACK` of it: an
    /// order's notification arriving after the push that overwrote it), a value for a SKU in
    /// a feed still being processed, or for a SKU not mapped, is ignored. While a value sent is
    /// not seen landing, the notification of that value is its landing (Amazon shows it since
    /// `at`, nothing taken) and any other is ignored. Returns whether anything changed.
    pub fn note_amazon_quantity(
        &self,
        sku: &str,
        quantity: i64,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        /// What the store knows of the SKU: Amazon's quantity, since when, the value it was
        /// pushed for, whether a feed carries it, a value sent and not seen landing, the
        /// units of the orders seen since the known value, and whether values sent before
        /// that one may still land.
        type Known = (
            Option<i64>,
            Option<String>,
            Option<i64>,
            bool,
            Option<(i64, String)>,
            Option<i64>,
            bool,
        );
        let known: Option<Known> = tx
            .query_row(
                "SELECT amazon, amazon_at, pushed_for, in_flight_feed IS NOT NULL, patch_sent, patch_sent_at,
                        orders_took, patches_before IS NOT NULL
                 FROM skus WHERE sku = ?1 AND fba = 0",
                [sku],
                |r| {
                    let sent: Option<i64> = r.get(4)?;
                    let sent_at: Option<String> = r.get(5)?;
                    let (a, b, c, d) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                    Ok((a, b, c, d, sent.zip(sent_at), r.get(6)?, r.get(7)?))
                },
            )
            .optional()?;
        let Some((amazon, amazon_at, pushed_for, in_feed, sent, orders_took, earlier_due)) = known
        else {
            return Ok(false);
        };
        let at_text = ts(at);
        // An accepted patch landing: Amazon shows what it sent since `at`, nothing taken.
        let landed_after = ts(at + BOUNDARY_SLACK);
        if let (false, Some((q, sent_at))) = (in_feed, &sent) {
            if *q != quantity || landed_after < *sent_at || earlier_due {
                // With a value sent and not seen landing, another value is an earlier patch
                // landing or an order's units taken from the old or the new value: which one
                // cannot be told, and the read before the next push settles it. So is the
                // value sent itself while values sent before it may still land: orders may
                // have taken Amazon down to it (forgetting those would book their late
                // landings as units taken).
                return Ok(false);
            }
            tx.prepare_cached(
                "UPDATE skus SET amazon = ?2, amazon_at = ?3, patch_sent = NULL, patch_sent_at = NULL, patches_before = NULL,
                     orders_took = NULL
                 WHERE sku = ?1",
            )?
            .execute(params![sku, quantity, at_text])?;
            tx.commit()?;
            return Ok(true);
        }
        // The known value's time is the library's estimate of Amazon's clock (from its answers'
        // whole-second `Date`): a rise that is not clearly after it is most likely the echo of
        // an order placed before the push that set it (a fall is kept: it may be an order
        // placed just after the push, and holding its units is the safe side).
        let rise = amazon.is_some_and(|a| quantity > a);
        let not_after = if rise {
            ts(at - BOUNDARY_SLACK)
        } else {
            at_text.clone()
        };
        if in_feed
            || amazon_at
                .as_ref()
                .is_some_and(|known_at| *known_at >= not_after)
        {
            return Ok(false);
        }
        if amazon == Some(quantity) {
            return Ok(false);
        }
        // The orders counted since the known value are in the stretch to it now: the push is
        // in step with what they left.
        tx.prepare_cached(
            "UPDATE skus SET amazon = ?2, amazon_at = ?3,
                 pushed_for = pushed_for - COALESCE(orders_took, 0), orders_took = NULL
             WHERE sku = ?1",
        )?
        .execute(params![sku, quantity, at_text])?;
        match (amazon, amazon_at) {
            (Some(before), Some(after)) if quantity < before => {
                tx.prepare_cached(
                    "INSERT INTO amazon_takes(sku, after, until, units, by_notification) VALUES (?1, ?2, ?3, ?4, 1)",
                )?
                .execute(params![sku, after, at_text, before - quantity])?;
                if let Some(pushed_for) = pushed_for {
                    let pushed_for = pushed_for - orders_took.unwrap_or(0);
                    keep_in_step_if_held(&tx, sku, quantity, pushed_for, &at_text)?;
                }
            }
            _ => {
                tx.prepare_cached("UPDATE skus SET pushed_for = NULL WHERE sku = ?1")?
                    .execute([sku])?;
            }
        }
        tx.commit()?;
        Ok(true)
    }

    /// Records the outcome of a direct quantity update (patchListingsItem): on success Amazon
    /// shows `value`, and what Amazon took before (`took`, from the read before the push) is
    /// kept.
    pub fn record_patch(
        &self,
        sku: &str,
        value: &Shown,
        took: Option<&Take>,
        outcome: std::result::Result<(), String>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        match outcome {
            Ok(()) => {
                accept(&tx, sku, value, took, None)?;
            }
            Err(e) => {
                tx.execute(
                    "UPDATE skus SET attempts = attempts + 1, last_error = ?2 WHERE sku = ?1",
                    params![sku, e],
                )?;
                withdraw_sent(&tx, sku, value.quantity)?;
            }
        };
        tx.commit()?;
        Ok(())
    }

    /// Records a listings feed (`status` SUBMITTED, or CREATING under an attempt's key, with
    /// Amazon's time `attempt_at`) and marks its SKUs in flight.
    pub fn record_feed(
        &self,
        feed_id: &str,
        status: &str,
        attempt_at: Option<DateTime<Utc>>,
        messages: &[FeedMessage],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO feeds(feed_id, feed_type, status, submitted_at, messages, attempt_at)
             VALUES (?1, 'JSON_LISTINGS_FEED', ?4, ?2, ?3, ?5)",
            params![
                feed_id,
                ts(now),
                serde_json::to_string(messages)?,
                status,
                attempt_at.map(ts)
            ],
        )?;
        for m in messages {
            tx.execute(
                "UPDATE skus SET in_flight = ?2, in_flight_feed = ?3, orders_took = NULL WHERE sku = ?1",
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
            "SELECT feed_id, messages FROM feeds WHERE status = 'SUBMITTED' AND feed_type = 'JSON_LISTINGS_FEED' ORDER BY submitted_at",
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
            "SELECT COUNT(*) FROM feeds WHERE submitted_at > ?1 AND feed_type = 'JSON_LISTINGS_FEED' AND status <> 'NOT_CREATED'",
            [ts(since)],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Records a finished feed: accepted messages are what Amazon shows since `now` (when the
    /// feed's processing ended), unless a value known from later replaced them (a patch
    /// landing after the feed); rejected ones (with Amazon's message) are tried again. A FATAL
    /// feed accepts nothing. Values sent before the feed and not seen landing are kept, and the
    /// SKU is read again: Amazon does not order a feed after the patches accepted before it, so
    /// they may still land over the feed's value.
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
        // Amazon's end time may come to the second, and the known value's time is an
        // estimate: only a value known from clearly later replaced the feed's.
        let later_than = ts(now + BOUNDARY_SLACK);
        for m in accepted {
            let value = Shown {
                quantity: m.quantity,
                pushed_for: m.pushed_for.unwrap_or(m.quantity),
                at: now,
                covers: m.sent_at.clone(),
                handling_days: m.handling_days,
                seen: Seen::Shown,
            };
            accept(&tx, &m.sku, &value, m.took.as_ref(), Some(&later_than))?;
        }
        for (m, e) in rejected {
            tx.execute(
                "UPDATE skus SET attempts = attempts + 1, last_error = ?2 WHERE sku = ?1",
                params![m.sku, e],
            )?;
        }
        let unsent: Vec<&FeedMessage> = rejected.iter().map(|(m, _)| m).collect();
        end_feed(&tx, feed_id, status, &unsent)?;
        tx.commit()?;
        Ok(())
    }

    /// What Amazon is known to show for a SKU (None: no such SKU).
    pub fn amazon_known(&self, sku: &str) -> Result<Option<Known>> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT amazon, amazon_at, patch_sent, patch_sent_at, listing_updated, patches_before
                 FROM skus WHERE sku = ?1",
            )?
            .query_row([sku], |r| {
                let sent: Option<i64> = r.get(2)?;
                let sent_at: Option<String> = r.get(3)?;
                Ok(Known {
                    amazon: r.get(0)?,
                    amazon_at: r.get(1)?,
                    patch_sent: sent.zip(sent_at),
                    listing_updated: r.get(4)?,
                    sent_before: values_from_db(r.get(5)?),
                })
            })
            .optional()?)
    }

    /// Notes, before they go out, the quantities a patch or a feed sends (Amazon's time
    /// `sent_at`): if the process dies before the outcome is recorded (a lost patch answer, a
    /// feed created but never recorded), the next read that finds Amazon showing one takes it
    /// for the push's own work, not for units sold.
    /// Each entry: the SKU, the quantity sent, the listing's `lastUpdatedDate` as read just
    /// before (a later one shows a submission landed since), and the values sent before it that
    /// the read did not see landing (they may land first).
    pub fn note_sent(&self, sent: &[Sent<'_>], sent_at: DateTime<Utc>) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut note = tx.prepare_cached(
            "UPDATE skus SET patch_sent = ?2, patch_sent_at = ?3, listing_updated = ?4, orders_took = NULL,
                 patches_before = CASE WHEN patch_sent IS NOT NULL AND patch_sent_at IS NOT ?6
                                       THEN COALESCE(?5 || ',', '') || CAST(patch_sent AS TEXT)
                                       ELSE ?5 END
             WHERE sku = ?1",
        )?;
        let at = ts(sent_at);
        // The other lane may have noted a value since this push was taken (a feed, an urgent
        // patch): it goes out before this one.
        for (sku, quantity, updated, before, read_sent) in sent {
            note.execute(params![
                sku,
                quantity,
                at,
                updated.map(ts),
                values_to_db(before),
                read_sent
            ])?;
        }
        drop(note);
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
            &format!(
                "SELECT (SELECT n FROM tallies WHERE name = 'skus'),
                    (SELECT COUNT(*) FROM skus WHERE {OUT_OF_STEP}),
                    (SELECT COUNT(*) FROM skus WHERE in_flight_feed IS NOT NULL),
                    (SELECT COUNT(*) FROM feeds
                     WHERE status IN ('SUBMITTED', 'CREATING') AND feed_type = 'JSON_LISTINGS_FEED')"
            ),
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

/// Per component of a seller-fulfilled SKU (`?1`): the SKU's policy, the component's units, its
/// item's stock and adaptive buffer, and the units of the item's open orders that its on-hand
/// quantity must still cover: seller-fulfilled, not cancelled, with units left to ship, and
/// either not acknowledged by the host or acknowledged after the host last reported that
/// item's stock. Only order items still to ship are read (index `order_items_open`), so the
/// cost does not grow with the order history.
const SKU_PARTS: &str = "SELECT k.buffer, k.allocation_percent, k.max_quantity, k.urgent_threshold,
        c.units, s.on_hand, s.auto_buffer,
        CASE WHEN s.on_hand IS NULL THEN 0 ELSE (
            SELECT COALESCE(SUM((i.quantity - i.quantity_shipped - i.quantity_cancelled) * o_c.units), 0)
            FROM sku_components o_c
            JOIN order_items i ON i.sku = o_c.sku
            JOIN orders o ON o.order_id = i.order_id
            WHERE o_c.host_item = c.host_item AND i.quantity > i.quantity_shipped + i.quantity_cancelled
              AND o.status <> 'CANCELLED' AND o.fulfilled_by = 'MERCHANT'
              AND (o.acked_at IS NULL OR o.acked_at > s.updated_at)) END
     FROM skus k JOIN sku_components c ON c.sku = k.sku LEFT JOIN stock s ON s.host_item = c.host_item
     WHERE k.sku = ?1 AND k.fba = 0";

/// Which lane a host call's changes take: None leaves each SKU's lane as it was (changes that
/// orders cause), Some(bulk) marks the changed SKUs.
type Lane = Option<bool>;

/// Recomputes `desired` for `skus`: the minimum over a SKU's host items of (on hand − units
/// reserved by open orders) / units, through the SKU's policy. A SKU with an item whose stock
/// was never reported stays unknown (nothing is pushed). One statement per SKU reads what it
/// needs through indexes, whatever the size of the catalogue and the order history; one more
/// writes a changed value with its `lane`. Returns the SKUs whose value changed.
pub(super) fn recompute<'a>(
    tx: &Tx<'_>,
    skus: impl IntoIterator<Item = &'a str>,
    defaults: &StockConfig,
    lane: Lane,
) -> Result<Vec<String>> {
    let mut parts_of = tx.prepare_cached(SKU_PARTS)?;
    let mut update = tx.prepare_cached(
        "UPDATE skus SET desired = ?2, attempts = 0, bulk = COALESCE(?3, bulk)
         WHERE sku = ?1 AND desired IS NOT ?2",
    )?;
    let mut changed = Vec::new();
    for sku in skus {
        let mut rows = parts_of.query([sku])?;
        let mut policy = None;
        let mut available: Option<i64> = None;
        let mut auto = 0;
        let mut unknown = false;
        while let Some(r) = rows.next()? {
            if policy.is_none() {
                policy = Some((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?));
            }
            let units: i64 = r.get(4)?;
            let Some(on_hand) = r.get::<_, Option<i64>>(5)? else {
                unknown = true;
                break;
            };
            let held: i64 = r.get(7)?;
            let a = (on_hand - held) / units;
            available = Some(available.map_or(a, |v| v.min(a)));
            auto = auto.max((r.get::<_, Option<i64>>(6)?.unwrap_or(0) + units - 1) / units);
        }
        let Some((buffer, allocation, max, urgent)) = policy else {
            continue;
        };
        let desired = match (unknown, available) {
            (false, Some(a)) => Some(
                defaults
                    .policy(buffer_from_db(buffer), auto, allocation, max, urgent)
                    .apply(a),
            ),
            _ => None,
        };
        if update.execute(params![sku, desired, lane])? > 0 {
            changed.push(sku.to_string());
        }
    }
    Ok(changed)
}

/// `skus` and every SKU sharing a host item with one of them: an order of one takes units
/// every other SKU made of that item can no longer show.
pub(super) fn sharing_items(
    tx: &Tx<'_>,
    skus: &std::collections::BTreeSet<String>,
) -> Result<std::collections::BTreeSet<String>> {
    let mut sharing = tx.prepare_cached(
        "SELECT DISTINCT o.sku FROM sku_components c JOIN sku_components o ON o.host_item = c.host_item
         WHERE c.sku = ?1",
    )?;
    let mut out = skus.clone();
    for sku in skus {
        for other in sharing.query_map([sku], |r| r.get::<_, String>(0))? {
            out.insert(other?);
        }
    }
    Ok(out)
}

/// Keeps the located levels, and gives each item's level for Amazon: as reported, or the sum
/// of its levels at the locations Amazon sells from (`counted`; `None`: all).
fn sum_locations(
    tx: &Tx<'_>,
    levels: Vec<(Option<String>, StockLevel)>,
    counted: Option<&[String]>,
    now: DateTime<Utc>,
) -> Result<Vec<StockLevel>> {
    let mut out = Vec::with_capacity(levels.len());
    for (location, level) in levels {
        let Some(location) = location else {
            out.push(level);
            continue;
        };
        tx.prepare_cached(
            "INSERT INTO stock_locations(host_item, location, on_hand, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(host_item, location) DO UPDATE SET on_hand = excluded.on_hand, updated_at = excluded.updated_at",
        )?
        .execute(params![level.host_item, location, level.on_hand, ts(now)])?;
        let at: Vec<(String, i64)> = tx
            .prepare_cached("SELECT location, on_hand FROM stock_locations WHERE host_item = ?1")?
            .query_map([&level.host_item], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let on_hand = at
            .iter()
            .filter(|(l, _)| counted.is_none_or(|c| c.contains(l)))
            .map(|(_, n)| n)
            .sum();
        out.push(StockLevel {
            host_item: level.host_item,
            on_hand,
        });
    }
    Ok(out)
}

/// A host call named `named` SKUs and changed `changed`: it is bulk (feed lane) when it
/// changed more than `BULK_CHANGE`, else its changes take the fast lane.
fn lane_of_call(named: usize) -> Lane {
    Some(named > BULK_CHANGE)
}

/// Corrects the lane of a call that named more than `BULK_CHANGE` SKUs but changed no more
/// than that: its few changes take the fast lane.
fn settle_lane(tx: &Tx<'_>, lane: Lane, changed: &[String]) -> Result<()> {
    if lane == Some(true) && changed.len() <= BULK_CHANGE {
        let mut stmt = tx.prepare_cached("UPDATE skus SET bulk = 0 WHERE sku = ?1")?;
        for sku in changed {
            stmt.execute([sku])?;
        }
    }
    Ok(())
}

/// A host item's last reported stock.
struct Reported {
    on_hand: i64,
    at: String,
    first_at: Option<String>,
    auto_buffer: i64,
}

/// Stores absolute on-hand quantities in `tx` (every host item must be mapped) and recomputes
/// the SKUs they belong to.
fn store_levels(
    tx: &Tx<'_>,
    levels: &[StockLevel],
    defaults: &StockConfig,
    auto_window_seconds: f64,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut item = tx.prepare_cached(
        "SELECT c.sku, s.on_hand, s.updated_at, s.first_at, s.auto_buffer
         FROM sku_components c LEFT JOIN stock s ON s.host_item = c.host_item WHERE c.host_item = ?1",
    )?;
    let mut store = tx.prepare_cached(
        "INSERT INTO stock(host_item, on_hand, updated_at, first_at, auto_buffer) VALUES (?1, ?2, ?3, ?3, ?4)
         ON CONFLICT(host_item) DO UPDATE SET on_hand = excluded.on_hand, updated_at = excluded.updated_at,
             auto_buffer = excluded.auto_buffer, first_at = COALESCE(stock.first_at, excluded.first_at)",
    )?;
    let at = ts(now);
    let mut skus: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for l in levels {
        let mut mapped = false;
        let mut reported = None;
        let mut rows = item.query([&l.host_item])?;
        while let Some(r) = rows.next()? {
            mapped = true;
            if let (None, Some(on_hand)) = (&reported, r.get::<_, Option<i64>>(1)?) {
                reported = Some(Reported {
                    on_hand,
                    at: r.get(2)?,
                    first_at: r.get(3)?,
                    auto_buffer: r.get(4)?,
                });
            }
            let sku: String = r.get(0)?;
            if !seen.contains(&sku) {
                seen.insert(sku.clone());
                skus.push(sku);
            }
        }
        if !mapped {
            return Err(Error::NotFound(format!(
                "host item {} is not part of any SKU; map it with sellsync_sku_map first",
                quote(&l.host_item)
            )));
        }
        let auto = match reported {
            Some(before) => record_store_sales(tx, l, before, defaults, auto_window_seconds, now)?,
            None => 0,
        };
        store.execute(params![l.host_item, l.on_hand, at, auto])?;
    }
    let lane = lane_of_call(skus.len());
    let changed = recompute(tx, skus.iter().map(String::as_str), defaults, lane)?;
    settle_lane(tx, lane, &changed)
}

/// Books the part of a fall in `level`'s item that Amazon orders acknowledged since the last
/// report do not explain as in-store sales, and returns the item's adaptive buffer (kept as it
/// was when nothing sold).
fn record_store_sales(
    tx: &Tx<'_>,
    level: &StockLevel,
    reported: Reported,
    defaults: &StockConfig,
    window_seconds: f64,
    now: DateTime<Utc>,
) -> Result<i64> {
    let Reported {
        on_hand: before,
        at: reported_at,
        first_at,
        auto_buffer: buffer,
    } = reported;
    if level.on_hand >= before {
        return Ok(buffer);
    }
    let to_orders: i64 = tx
        .prepare_cached(
            "SELECT COALESCE(SUM(CASE WHEN i.quantity > i.quantity_cancelled THEN (i.quantity - i.quantity_cancelled) * c.units ELSE 0 END), 0)
             FROM orders o JOIN order_items i ON i.order_id = o.order_id
             JOIN sku_components c ON c.sku = i.sku AND c.host_item = ?1
             WHERE o.acked_at > ?2 AND o.fulfilled_by = 'MERCHANT' AND o.status <> 'CANCELLED'",
        )?
        .query_row(params![level.host_item, reported_at], |r| r.get(0))?;
    let sold = before - level.on_hand - to_orders;
    if sold <= 0 {
        return Ok(buffer);
    }
    let day = now.timestamp().div_euclid(86_400);
    tx.prepare_cached(
        "INSERT INTO item_sales(host_item, day, units) VALUES (?1, ?2, ?3)
         ON CONFLICT(host_item, day) DO UPDATE SET units = item_sales.units + excluded.units",
    )?
    .execute(params![level.host_item, day, sold])?;
    let a = &defaults.auto_buffer;
    let since_day = day - a.history_days.ceil() as i64;
    let sold: i64 = tx
        .prepare_cached(
            "SELECT COALESCE(SUM(units), 0) FROM item_sales WHERE host_item = ?1 AND day > ?2",
        )?
        .query_row(params![level.host_item, since_day], |r| r.get(0))?;
    let first = first_at
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or(now, |t| t.with_timezone(&Utc));
    let span = ((now - first).num_milliseconds() as f64 / 1000.0).min(a.history_days * 86_400.0);
    Ok(crate::safety_stock::auto_units(
        sold,
        span,
        window_seconds,
        a.percentile,
    ))
}

/// The stretches kept for a SKU.
fn kept_takes(conn: &Conn, sku: &str) -> Result<Vec<Take>> {
    let mut stmt =
        conn.prepare_cached("SELECT after, until, units FROM amazon_takes WHERE sku = ?1")?;
    let rows = stmt.query_map([sku], |r| {
        Ok(Take {
            after: r.get(0)?,
            until: r.get(1)?,
            units: r.get(2)?,
            from: None,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Units of `takes` not explained by the orders of the SKU seen so far. Each seen order is
/// matched with one stretch that contains its purchase time and still has units to explain
/// (the one ending first), so an order near the boundary of two stretches explains one unit,
/// not one in each.
fn unseen_in(conn: &Conn, sku: &str, takes: &[Take]) -> Result<i64> {
    if takes.is_empty() {
        return Ok(0);
    }
    // Amazon's times come to the second: an order placed just after a stretch began may carry
    // a time just before it.
    let mut windows: Vec<(String, &str, i64)> = takes
        .iter()
        .map(|t| {
            let after = DateTime::parse_from_rfc3339(&t.after)
                .map(|a| ts(a.with_timezone(&Utc) - BOUNDARY_SLACK))
                .unwrap_or_else(|_| t.after.clone());
            (after, t.until.as_str(), t.units.max(0))
        })
        .collect();
    // An order goes to the stretch that contains it, has units left and ends first: the
    // matching that explains the most units when stretches overlap.
    windows.sort_by(|a, b| a.1.cmp(b.1).then_with(|| a.0.cmp(&b.0)));
    let from = windows
        .iter()
        .map(|w| w.0.as_str())
        .min()
        .unwrap_or_default();
    let to = windows.iter().map(|w| w.1).max().unwrap_or_default();
    // From the orders placed in the stretches (a few), not from the SKU's whole history (`|| ''`
    // keeps the planner off the SKU index).
    let mut seen = conn.prepare_cached(
        "SELECT o.purchase_date, i.quantity FROM orders o JOIN order_items i ON i.order_id = o.order_id
         WHERE i.sku || '' = ?1 AND o.fulfilled_by = 'MERCHANT' AND o.purchase_date > ?2 AND o.purchase_date <= ?3
         ORDER BY o.purchase_date",
    )?;
    let orders = seen.query_map(params![sku, from, to], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    for order in orders {
        let (placed, mut units) = order?;
        for w in windows.iter_mut() {
            if units == 0 {
                break;
            }
            if w.2 > 0 && placed.as_str() > w.0.as_str() && placed.as_str() <= w.1 {
                let explained = units.min(w.2);
                w.2 -= explained;
                units -= explained;
            }
        }
    }
    Ok(windows.iter().map(|w| w.2).sum())
}

/// Ends feed `feed_id` with `status`: the values of `unsent` are not what was last sent for
/// their SKUs (Amazon did not take them), and its SKUs are no longer in flight.
pub(super) fn end_feed(
    tx: &Tx<'_>,
    feed_id: &str,
    status: &str,
    unsent: &[&FeedMessage],
) -> Result<()> {
    for m in unsent {
        withdraw_sent(tx, &m.sku, m.quantity)?;
    }
    tx.execute(
        "UPDATE skus SET in_flight = NULL, in_flight_feed = NULL WHERE in_flight_feed = ?1",
        [feed_id],
    )?;
    tx.execute(
        "UPDATE feeds SET status = ?2 WHERE feed_id = ?1",
        params![feed_id, status],
    )?;
    Ok(())
}

/// A value noted as sent (`quantity`, still the SKU's `patch_sent`) that Amazon refused or
/// never received: the value sent before it and not seen landing is the one in flight again
/// (it may still land), and the SKU is out of step until a value seen after the withdrawn one
/// was noted. The read before that value may have seen another land without the store
/// keeping it (a landing is kept when its push is accepted), so the known value may be
/// stale and equal to what the SKU should show: only a read settles it.
fn withdraw_sent(tx: &Tx<'_>, sku: &str, quantity: i64) -> Result<()> {
    let row: Option<(Option<String>, Option<String>)> = tx
        .prepare_cached(
            "SELECT patches_before, patch_sent_at FROM skus WHERE sku = ?1 AND patch_sent = ?2",
        )?
        .query_row(params![sku, quantity], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((before, sent_at)) = row else {
        return Ok(());
    };
    let mut before = values_from_db(before);
    let again = before.pop();
    tx.prepare_cached(
        "UPDATE skus SET patch_sent = CAST(?2 AS BIGINT), patches_before = CAST(?3 AS TEXT),
             patch_sent_at = CASE WHEN CAST(?2 AS BIGINT) IS NULL THEN NULL ELSE patch_sent_at END,
             pushed_for = NULL,
             recheck_after = CASE WHEN recheck_after IS NULL OR recheck_after < ?4 THEN ?4 ELSE recheck_after END
         WHERE sku = ?1",
    )?
    .execute(params![sku, again, values_to_db(&before), sent_at])?;
    Ok(())
}

/// Amazon accepted `value`; what it took before is kept, and orders placed before the value
/// was sent no longer put the SKU out of step. When it was sent with units held back for
/// orders not seen then, and some of them were seen meanwhile, the SKU stays out of step: it
/// is pushed again without them. Nothing changes when the SKU's value is known from later than
/// `unless_known_after` (a patch that landed after a feed). For a feed, another value noted as
/// sent (an urgent patch while the feed was processed: a value goes out noted, so a later one
/// replaces the note) stays sent, and the SKU out of step: Amazon
/// may apply it after the feed's value, or may have applied it before and the feed's value over
/// it; the read tells (only a change of the listing after the feed's is that value landing),
/// and the value goes out again.
fn accept(
    tx: &Tx<'_>,
    sku: &str,
    value: &Shown,
    took: Option<&Take>,
    unless_known_after: Option<&str>,
) -> Result<()> {
    let took = took.filter(|t| t.units > 0);
    // The known value is read only where it is needed (not for a plain patch).
    let (amazon, amazon_at): (Option<i64>, Option<String>) =
        if took.is_some() || unless_known_after.is_some() {
            tx.prepare_cached("SELECT amazon, amazon_at FROM skus WHERE sku = ?1")?
                .query_row([sku], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .unwrap_or((None, None))
        } else {
            (None, None)
        };
    if let (Some(known), Some(limit)) = (&amazon_at, unless_known_after) {
        if known.as_str() > limit {
            return Ok(());
        }
    }
    let keep = match took {
        Some(t) => not_yet_kept(tx, sku, t, amazon, amazon_at.as_deref())?,
        None => None,
    };
    match value.seen {
        Seen::Shown => tx.prepare_cached(
            "UPDATE skus SET amazon = ?2, amazon_at = ?3, bulk = 0, attempts = 0, last_error = NULL,
                 orders_took = NULL,
                 pushed_for = CASE WHEN ?7 = 1 AND (patch_sent <> ?2 OR patches_before IS NOT NULL) THEN NULL ELSE CAST(?4 AS BIGINT) END,
                 patch_sent = CASE WHEN ?7 = 1 AND (patch_sent <> ?2 OR patches_before IS NOT NULL) THEN patch_sent END,
                 patches_before = CASE WHEN ?7 = 1 AND (patch_sent <> ?2 OR patches_before IS NOT NULL) THEN patches_before END,
                 patch_sent_at = CASE WHEN ?7 = 1 AND (patch_sent <> ?2 OR patches_before IS NOT NULL) THEN patch_sent_at END,
                 listing_updated = CASE WHEN ?7 = 1 AND (patch_sent <> ?2 OR patches_before IS NOT NULL) THEN ?3 ELSE listing_updated END,
                 handling_sent = COALESCE(?6, handling_sent),
                 recheck_after = CASE WHEN recheck_after < ?5 THEN NULL ELSE recheck_after END
             WHERE sku = ?1",
        )?
        .execute(params![
            sku,
            value.quantity,
            ts(value.at),
            value.pushed_for,
            value.covers,
            value.handling_days,
            i64::from(unless_known_after.is_some())
        ])?,
        // Sent and accepted, not seen: the known value is the last read, the sent one waits
        // to be seen landing (`patch_sent`, noted before it went out).
        Seen::Accepted { last_read } => tx.prepare_cached(
            "UPDATE skus SET amazon = COALESCE(?2, amazon), amazon_at = COALESCE(?3, amazon_at), pushed_for = ?4,
                 orders_took = NULL, bulk = 0, attempts = 0, last_error = NULL,
                 patch_sent = ?7, patch_sent_at = ?5, handling_sent = COALESCE(?6, handling_sent),
                 recheck_after = CASE WHEN recheck_after < ?5 THEN NULL ELSE recheck_after END
             WHERE sku = ?1",
        )?
        .execute(params![
            sku,
            last_read.map(|r| r.0),
            last_read.map(|r| ts(r.1)),
            value.pushed_for,
            value.covers,
            value.handling_days,
            value.quantity
        ])?,
    };
    if let Some(t) = keep {
        tx.prepare_cached(
            "INSERT INTO amazon_takes(sku, after, until, units) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![sku, t.after, t.until, t.units])?;
    }
    keep_in_step_if_held(tx, sku, value.quantity, value.pushed_for, &ts(value.at))
}

/// The part of `took` (read before a push) that no stretch kept since its start covers: a
/// quantity notification that came meanwhile, or, when another value was accepted since the
/// read (the SKU's known `amazon` at `amazon_at` is not the read's; a feed and an urgent patch
/// in flight together), the other push's own read from the same known value, already kept
/// what Amazon took up to its time. None when nothing is left.
fn not_yet_kept(
    tx: &Tx<'_>,
    sku: &str,
    took: &Take,
    amazon: Option<i64>,
    amazon_at: Option<&str>,
) -> Result<Option<Take>> {
    let moved = amazon_at != Some(took.after.as_str())
        || took.from.is_some_and(|from| amazon != Some(from));
    let (units, until, beyond): (i64, Option<String>, bool) = tx
        .prepare_cached(
            "SELECT COALESCE(SUM(units), 0), MAX(until), CASE WHEN COUNT(CASE WHEN until >= ?3 THEN 1 END) > 0 THEN 1 ELSE 0 END FROM amazon_takes
             WHERE sku = ?1 AND (by_notification = 1 OR ?4 = 1) AND after >= ?2",
        )?
        .query_row(params![sku, took.after, took.until, i64::from(moved)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    let Some(until) = until else {
        return Ok(Some(took.clone()));
    };
    if beyond || took.units <= units {
        return Ok(None);
    }
    Ok(Some(Take {
        after: until,
        until: took.until.clone(),
        units: took.units - units,
        from: None,
    }))
}

/// Amazon shows `quantity` (since `at`) for a push made for `pushed_for`: the SKU stays in
/// step only when the difference is the units held for orders not seen yet (now: another push
/// or a notification may have kept what Amazon took after this push was computed); else it is
/// pushed again, after a read even when Amazon shows what it should without the holds.
fn keep_in_step_if_held(
    tx: &Tx<'_>,
    sku: &str,
    quantity: i64,
    pushed_for: i64,
    at: &str,
) -> Result<()> {
    let held = unseen_in(tx, sku, &kept_takes(tx, sku)?)?;
    if (pushed_for - held).max(0) != quantity {
        tx.prepare_cached(
            "UPDATE skus SET pushed_for = NULL,
                 recheck_after = CASE WHEN recheck_after IS NULL OR recheck_after < ?2 THEN ?2 ELSE recheck_after END
             WHERE sku = ?1",
        )?
        .execute(params![sku, at])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Component;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// A store with SKU "MUG" (host item 4711), Amazon known at 5 since `t0`.
    fn mug_store(dir: &std::path::Path, t0: DateTime<Utc>) -> Store {
        let store = Store::open_for_test(dir.join("s.sqlite").to_str().unwrap()).unwrap();
        let mapping = SkuMapping {
            sku: "MUG".into(),
            items: vec![Component {
                host_item: "4711".into(),
                units: 1,
            }],
            ..Default::default()
        };
        store
            .map_skus(&[mapping], &StockConfig::default(), t0)
            .unwrap();
        store
            .record_lookup("MUG", Some((None, Some(5))), t0)
            .unwrap();
        store
    }

    #[test]
    fn a_rise_within_the_clock_slack_of_the_known_value_is_not_newer_and_a_fall_is_held() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = at("2026-11-26T12:00:00Z");
        let store = mug_store(dir.path(), t0);
        // An order's notification from just before the push that set 5 (from 10) arrives
        // after it: its time is within a second of the known value's (an estimate of
        // Amazon's clock), and it shows more than the push set.
        let stale = t0 + chrono::Duration::milliseconds(900);
        assert!(!store.note_amazon_quantity("MUG", 9, stale).unwrap());
        let known = store.amazon_known("MUG").unwrap().unwrap();
        assert_eq!((known.amazon, known.amazon_at), (Some(5), Some(ts(t0))));
        // A fall as close may be an order placed just after the push: its unit is held.
        assert!(store.note_amazon_quantity("MUG", 4, stale).unwrap());
        assert_eq!(store.unseen_units("MUG", None, stale).unwrap().0, 1);
        // A rise clearly later is Amazon's (someone set the listing): it is known.
        let later = t0 + chrono::Duration::seconds(3);
        assert!(store.note_amazon_quantity("MUG", 7, later).unwrap());
    }

    #[test]
    fn a_feed_whose_processing_ended_before_a_later_known_value_does_not_replace_it() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = at("2026-11-26T12:00:00Z");
        let store = mug_store(dir.path(), t0);
        let feed = FeedMessage {
            message_id: 1,
            sku: "MUG".into(),
            quantity: 7,
            pushed_for: Some(7),
            took: None,
            sent_at: Some(ts(t0)),
            handling_days: None,
        };
        store
            .record_feed("F-1", "SUBMITTED", None, std::slice::from_ref(&feed), t0)
            .unwrap();
        // An urgent patch lands 10 s after the feed's processing ended; the feed is read back
        // after that.
        let patched = Shown {
            quantity: 2,
            pushed_for: 2,
            at: t0 + chrono::Duration::seconds(11),
            covers: Some(ts(t0 + chrono::Duration::seconds(11))),
            handling_days: None,
            seen: Seen::Shown,
        };
        store.record_patch("MUG", &patched, None, Ok(())).unwrap();
        let ended = t0 + chrono::Duration::seconds(1);
        store
            .finish_feed("F-1", "DONE", &[feed], &[], ended)
            .unwrap();
        let known = store.amazon_known("MUG").unwrap().unwrap();
        assert_eq!(known.amazon, Some(2), "Amazon shows the later patch");
        assert_eq!(store.stock_counts().unwrap().open_feeds, 0);
    }

    #[test]
    fn two_pushes_read_from_the_same_known_value_keep_what_amazon_took_once() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = at("2026-11-26T12:00:00Z");
        let store = mug_store(dir.path(), t0);
        // An urgent patch and a feed, both read while Amazon was known at 5 since t0, each saw
        // the same unit Amazon took for an order not seen yet.
        let took = |until: &str| Take {
            after: ts(t0),
            until: until.into(),
            units: 1,
            from: Some(5),
        };
        let shown = |quantity, pushed_for, when: &str| Shown {
            quantity,
            pushed_for,
            at: at(when),
            covers: Some(when.into()),
            handling_days: None,
            seen: Seen::Shown,
        };
        let patch_took = took("2026-11-26T12:01:00.000Z");
        store
            .record_patch(
                "MUG",
                &shown(3, 4, "2026-11-26T12:01:00.000Z"),
                Some(&patch_took),
                Ok(()),
            )
            .unwrap();
        let feed = FeedMessage {
            message_id: 1,
            sku: "MUG".into(),
            quantity: 3,
            pushed_for: Some(4),
            took: Some(took("2026-11-26T12:00:30.000Z")),
            sent_at: Some("2026-11-26T12:00:30.000Z".into()),
            handling_days: None,
        };
        store
            .record_feed("F-1", "SUBMITTED", None, std::slice::from_ref(&feed), t0)
            .unwrap();
        store
            .finish_feed("F-1", "DONE", &[feed], &[], at("2026-11-26T12:02:00Z"))
            .unwrap();
        let (held, _) = store
            .unseen_units("MUG", None, at("2026-11-26T12:03:00Z"))
            .unwrap();
        assert_eq!(
            held, 1,
            "the unit Amazon took is held once, not once per push"
        );
    }

    /// MUG at 5 with 8 sent after a read at `t1` and accepted (not seen landing yet).
    fn mug_with_8_in_flight(dir: &std::path::Path, t0: DateTime<Utc>) -> Store {
        let store = mug_store(dir, t0);
        let level = StockLevel {
            host_item: "4711".into(),
            on_hand: 5,
        };
        store
            .set_stock(vec![level], &StockConfig::default(), 0.0, t0)
            .unwrap();
        let t1 = t0 + chrono::Duration::seconds(10);
        store
            .note_sent(&[("MUG", 8, Some(t0), &[], None)], t1)
            .unwrap();
        let accepted = Shown {
            quantity: 8,
            pushed_for: 8,
            at: t1,
            covers: Some(ts(t1)),
            handling_days: None,
            seen: Seen::Accepted {
                last_read: Some((5, t1)),
            },
        };
        store.record_patch("MUG", &accepted, None, Ok(())).unwrap();
        store
    }

    #[test]
    fn a_refused_value_gives_way_to_the_one_sent_before_it_still_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = at("2026-11-26T12:00:00Z");
        let store = mug_with_8_in_flight(dir.path(), t0);
        // A read before 8 landed; 3 goes out after it, and Amazon refuses 3.
        let (t1, t2) = (
            t0 + chrono::Duration::seconds(10),
            t0 + chrono::Duration::seconds(20),
        );
        let read_sent = ts(t1);
        store
            .note_sent(&[("MUG", 3, Some(t0), &[8], Some(&read_sent))], t2)
            .unwrap();
        let refused = Shown {
            quantity: 3,
            pushed_for: 3,
            at: t2,
            covers: Some(ts(t2)),
            handling_days: None,
            seen: Seen::Accepted { last_read: None },
        };
        store
            .record_patch("MUG", &refused, None, Err("refused".into()))
            .unwrap();
        let known = store.amazon_known("MUG").unwrap().unwrap();
        assert_eq!(
            known.patch_sent.map(|s| s.0),
            Some(8),
            "8 may still land over what Amazon shows"
        );
        assert!(known.sent_before.is_empty());
    }

    #[test]
    fn a_notification_of_the_value_sent_while_an_earlier_one_may_still_land_is_not_its_landing() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = at("2026-11-26T12:00:00Z");
        let store = mug_with_8_in_flight(dir.path(), t0);
        let s = |n: i64| t0 + chrono::Duration::seconds(n);
        // 3 goes out after a read that did not see 8 land; Amazon accepts it.
        let read_sent = ts(s(10));
        store
            .note_sent(&[("MUG", 3, Some(t0), &[8], Some(&read_sent))], s(20))
            .unwrap();
        let accepted = Shown {
            quantity: 3,
            pushed_for: 3,
            at: s(20),
            covers: Some(ts(s(20))),
            handling_days: None,
            seen: Seen::Accepted { last_read: None },
        };
        store.record_patch("MUG", &accepted, None, Ok(())).unwrap();
        // Orders take Amazon from 5 down to 3: its notification shows the value sent.
        store.note_amazon_quantity("MUG", 3, s(30)).unwrap();
        let known = store.amazon_known("MUG").unwrap().unwrap();
        assert_eq!(
            (known.patch_sent.map(|p| p.0), known.sent_before),
            (Some(3), vec![8]),
            "orders may have taken Amazon down to 3: 8 and 3 may still land"
        );
    }

    #[test]
    fn a_feed_landing_leaves_a_patch_sent_before_it_to_land_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = at("2026-11-26T12:00:00Z");
        // 8 is patched and accepted, not seen landing; then 4 goes out in a feed.
        let store = mug_with_8_in_flight(dir.path(), t0);
        let s = |n: i64| t0 + chrono::Duration::seconds(n);
        store
            .note_sent(&[("MUG", 4, Some(t0), &[], None)], s(20))
            .unwrap();
        let feed = FeedMessage {
            message_id: 1,
            sku: "MUG".into(),
            quantity: 4,
            pushed_for: Some(4),
            took: None,
            sent_at: Some(ts(s(20))),
            handling_days: None,
        };
        store
            .record_feed("F-1", "SUBMITTED", None, std::slice::from_ref(&feed), s(20))
            .unwrap();
        store
            .finish_feed("F-1", "DONE", &[feed], &[], s(60))
            .unwrap();
        let known = store.amazon_known("MUG").unwrap().unwrap();
        assert_eq!(
            known.amazon,
            Some(4),
            "the feed's value is what Amazon shows now"
        );
        assert_eq!(
            known.sent_before,
            vec![8],
            "8 may still land after the feed: {known:?}"
        );
        assert!(
            store.stock_counts().unwrap().out_of_step > 0,
            "the SKU is read again"
        );
    }

    #[test]
    fn a_listings_feed_never_created_leaves_its_skus_to_be_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = at("2026-11-26T12:00:00Z");
        let store = mug_with_8_in_flight(dir.path(), t0);
        // A read saw 8 land (kept only when the next push is accepted) and 5 was noted for a
        // feed whose createFeed never reached Amazon; meanwhile an order seen let go of the
        // value pushed for, so the known 5 equals what MUG should show.
        let t2 = t0 + chrono::Duration::seconds(20);
        store
            .note_sent(
                &[(
                    "MUG",
                    5,
                    Some(t0 + chrono::Duration::seconds(11)),
                    &[],
                    None,
                )],
                t2,
            )
            .unwrap();
        let message = FeedMessage {
            message_id: 1,
            sku: "MUG".into(),
            quantity: 5,
            pushed_for: Some(5),
            took: None,
            sent_at: Some(ts(t2)),
            handling_days: None,
        };
        let key = store
            .begin_listings_feed(std::slice::from_ref(&message), t2, t2)
            .unwrap();
        store
            .conn()
            .execute("UPDATE skus SET pushed_for = NULL WHERE sku = 'MUG'", [])
            .unwrap();
        store.attempt_not_created(&key).unwrap();
        let pending = store.pending_pushes(&StockConfig::default()).unwrap();
        assert!(
            pending.iter().any(|p| p.sku == "MUG"),
            "Amazon shows 8, the store last knew 5: MUG must be read again"
        );
    }
}
