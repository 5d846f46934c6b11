//! Listings as Amazon holds them, with the bounded log of every change of a listing's quantity.
//!
//! A listing can only be changed through a [`ListingMut`], which records a change of its
//! quantity, with the cause, when it is dropped: no path (API call, feed, order, control call
//! or a direct edit by Rust code) can change a quantity without it being logged.

use crate::world::push_bounded;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::ops::{Deref, DerefMut};

/// A listing with the quantity Amazon shows.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Listing {
    /// The seller's SKU.
    pub sku: String,
    /// Amazon's product id.
    pub asin: String,
    /// Item name.
    pub title: String,
    /// Product type the listing is validated against.
    pub product_type: String,
    /// Price in minor units.
    pub price_cents: i64,
    /// Currency of the price.
    pub currency: String,
    /// Quantity shown to buyers (seller-fulfilled channel `DEFAULT`).
    pub quantity: i64,
    /// FBA listing (channel `AMAZON_NA`); its quantity is Amazon's, never the seller's.
    pub fba: bool,
    /// When the listing was created.
    pub created: DateTime<Utc>,
    /// When the listing last changed.
    pub last_updated: DateTime<Utc>,
    /// How many times the quantity was set by the seller (patch, put or feed).
    pub quantity_updates: u64,
    /// The listing's handling time (`lead_time_to_ship_max_days` of its `DEFAULT` channel
    /// entry); None: the account's default. A `replace` of `fulfillment_availability` that
    /// does not carry it drops it, as on Amazon.
    #[serde(default)]
    pub handling_days: Option<i64>,
    /// The `restock_date` of its `DEFAULT` channel entry, dropped the same way.
    #[serde(default)]
    pub restock_date: Option<String>,
    /// The marketplaces the seller offers it in; empty: every marketplace. Its one
    /// seller-fulfilled quantity is shared by all of them: Amazon keeps the quantity per seller
    /// and SKU, not per marketplace (selling-partner-api-docs #3167, Amazon staff).
    #[serde(default)]
    pub marketplace_ids: Vec<String>,
    /// An FBA listing's units at Amazon besides those it sells (`quantity`).
    #[serde(default)]
    pub fba_stock: FbaStock,
    /// Was fulfilled by Amazon until the seller wrote a seller-fulfilled quantity to it: Amazon
    /// then sells it as seller-fulfilled and the units at Amazon are stranded.
    #[serde(default)]
    pub converted_from_fba: bool,
    /// The seller's offer per marketplace, as its last `purchasable_offer` set it; a
    /// marketplace without one sells at `price_cents` in its own currency.
    #[serde(default)]
    pub offers: BTreeMap<String, Offer>,
}

/// A seller's offer in one marketplace (`purchasable_offer`), amounts in minor units.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub currency: String,
    /// `our_price`.
    pub price_cents: i64,
    /// `discounted_price`: the sale price and its window (ISO 8601), if any.
    pub sale: Option<(i64, Option<String>, Option<String>)>,
    /// `minimum_seller_allowed_price`.
    pub minimum_cents: Option<i64>,
    /// `maximum_seller_allowed_price`.
    pub maximum_cents: Option<i64>,
}

impl Listing {
    /// The price and currency buyers see in `marketplace_id`.
    pub fn price_in(&self, marketplace_id: &str) -> (i64, String) {
        match self.offers.get(marketplace_id) {
            Some(o) => (o.price_cents, o.currency.clone()),
            None => (
                self.price_cents,
                crate::marketplace(marketplace_id).1.to_string(),
            ),
        }
    }
}

/// Units of an FBA listing at Amazon that it does not sell now.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FbaStock {
    pub inbound_working: i64,
    pub inbound_shipped: i64,
    pub inbound_receiving: i64,
    pub unfulfillable: i64,
    pub researching: i64,
}

impl Listing {
    /// The first of `requested` the listing is offered in.
    pub fn offered_in<'a>(&self, requested: &'a [String]) -> Option<&'a String> {
        requested
            .iter()
            .find(|m| self.marketplace_ids.is_empty() || self.marketplace_ids.contains(m))
    }
}

/// Why a listing's quantity changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum Cause {
    /// `patchListingsItem`, accepted at `accepted` (Amazon's time) and applied now.
    Patch {
        /// When Amazon answered ACCEPTED (the same as the change's time when it applied
        /// inside the call).
        accepted: DateTime<Utc>,
    },
    /// `putListingsItem`.
    Put,
    /// A message of a `JSON_LISTINGS_FEED`.
    Feed {
        /// The feed.
        feed_id: String,
    },
    /// An order took the units.
    Order {
        /// The order.
        order_id: String,
    },
    /// The control API, or a direct edit (as a seller would make in Seller Central).
    Control,
}

/// One change of a listing's quantity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantityChange {
    /// Emulated time of the change.
    pub time: DateTime<Utc>,
    /// The listing's seller.
    pub seller_id: String,
    /// The listing's SKU.
    pub sku: String,
    /// Quantity before (0 for a listing that did not exist).
    pub from: i64,
    /// Quantity after.
    pub to: i64,
    /// Why it changed (`cause`, with `order_id` or `feed_id` where there is one).
    #[serde(flatten)]
    pub cause: Cause,
}

/// One listings patch operation (`/attributes/<name>`), shared by the patch call and feeds.
#[derive(Clone, Debug, Deserialize)]
pub struct Patch {
    pub op: String,
    pub path: String,
    #[serde(default)]
    pub value: Option<serde_json::Value>,
}

/// A `patchListingsItem` Amazon accepted and has not applied yet.
#[derive(Clone, Debug)]
pub struct PendingPatch {
    /// When it lands (wall time: scaled like every processing delay).
    pub due: std::time::Instant,
    /// The listing's (seller id, SKU).
    pub key: (String, String),
    /// The submission's patches, as sent.
    pub patches: Vec<Patch>,
    /// When Amazon accepted them (emulated time).
    pub accepted: DateTime<Utc>,
}

/// Accepted listing changes waiting to land, each SKU's in the order they were accepted.
/// "Accepted does not mean the process is complete" (SP-API docs, "Manage Listings Issues"):
/// Amazon applies a submission later, after seconds to many minutes depending on its load
/// (selling-partner-api-models #4221, Amazon staff; selling-partner-api-docs #2167).
#[derive(Debug, Default)]
pub struct Landing {
    queue: Vec<PendingPatch>,
    /// Listings with an accepted patch that will never land and no later one landed since,
    /// each with how many of its patches accepted before that one are still to land.
    unapplied: BTreeMap<(String, String), usize>,
}

impl Landing {
    /// Queues a patch to land at `due`, or after the SKU's last queued one if that is later.
    pub fn push(&mut self, mut patch: PendingPatch) {
        if let Some(last) = self
            .queue
            .iter()
            .filter(|p| p.key == patch.key)
            .map(|p| p.due)
            .max()
        {
            patch.due = patch.due.max(last);
        }
        let at = self.queue.partition_point(|p| p.due <= patch.due);
        self.queue.insert(at, patch);
    }

    /// The patches due by `now`, in the order they land; each supersedes an unapplied one of
    /// its listing.
    pub fn take_due(&mut self, now: std::time::Instant) -> Vec<PendingPatch> {
        let n = self.queue.partition_point(|p| p.due <= now);
        let due: Vec<PendingPatch> = self.queue.drain(..n).collect();
        for p in &due {
            match self.unapplied.get_mut(&p.key) {
                Some(earlier) if *earlier > 0 => *earlier -= 1,
                _ => self.applied(&p.key),
            }
        }
        due
    }

    /// Notes an accepted patch of `key` that will never land.
    pub fn lose(&mut self, key: (String, String)) {
        let earlier = self.waiting(&key);
        self.unapplied.insert(key, earlier);
    }

    /// Notes a patch of `key` applied that was accepted after the last one lost: it
    /// supersedes that one.
    pub fn applied(&mut self, key: &(String, String)) {
        self.unapplied.remove(key);
    }

    /// Whether the listing `key` has an accepted patch that never landed, and no patch
    /// accepted later landed since.
    pub fn is_unapplied(&self, key: &(String, String)) -> bool {
        self.unapplied.contains_key(key)
    }

    /// Makes the oldest waiting patch due now.
    pub fn hurry_first(&mut self, now: std::time::Instant) {
        if let Some(p) = self.queue.first_mut() {
            p.due = p.due.min(now);
        }
    }

    /// How many accepted patches of the listing `key` have not landed yet.
    pub fn waiting(&self, key: &(String, String)) -> usize {
        self.queue.iter().filter(|p| &p.key == key).count()
    }

    /// Makes every waiting patch due now (each SKU's still in order).
    pub fn hurry(&mut self, now: std::time::Instant) {
        for p in &mut self.queue {
            p.due = p.due.min(now);
        }
    }

    /// The patches accepted for one listing and not landed yet, in the order they land.
    pub fn of<'a>(
        &'a self,
        key: &'a (String, String),
    ) -> impl Iterator<Item = &'a PendingPatch> + 'a {
        self.queue.iter().filter(move |p| &p.key == key)
    }

    /// How many accepted patches have not landed yet.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Nothing waits to land.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// Every seller's listings by (seller id, SKU), and the log of their quantity changes.
#[derive(Debug, Default)]
pub struct Listings {
    map: BTreeMap<(String, String), Listing>,
    log: VecDeque<QuantityChange>,
    /// How many quantity changes were ever logged (the log keeps only the newest).
    logged: u64,
    time: DateTime<Utc>,
}

impl Listings {
    /// Sets the emulated time stamped on the changes that follow.
    pub fn set_time(&mut self, now: DateTime<Utc>) {
        self.time = now;
    }

    /// The listing of (seller id, SKU).
    pub fn get(&self, key: &(String, String)) -> Option<&Listing> {
        self.map.get(key)
    }

    /// Edits a listing directly (cause `control`, like an edit in Seller Central).
    pub fn get_mut(&mut self, key: &(String, String)) -> Option<ListingMut<'_>> {
        self.edit(key, Cause::Control)
    }

    /// Edits a listing; a change of its quantity is logged with `cause`.
    pub fn edit(&mut self, key: &(String, String), cause: Cause) -> Option<ListingMut<'_>> {
        let Listings {
            map,
            log,
            logged,
            time,
        } = self;
        let listing = map.get_mut(key)?;
        Some(ListingMut {
            from: listing.quantity,
            listing,
            seller_id: key.0.clone(),
            cause: Some(cause),
            log,
            logged,
            time: *time,
        })
    }

    /// Creates or replaces the listing of `seller_id` with `listing.sku`.
    pub fn save(&mut self, seller_id: &str, mut listing: Listing, cause: Cause) {
        let key = (seller_id.to_string(), listing.sku.clone());
        let to = listing.quantity;
        listing.quantity = self.map.get(&key).map_or(0, |old| old.quantity);
        self.map.insert(key.clone(), listing);
        if let Some(mut l) = self.edit(&key, cause) {
            l.quantity = to;
        }
    }

    /// Deletes a listing (not a quantity change: the listing is gone).
    pub fn remove(&mut self, key: &(String, String)) -> Option<Listing> {
        self.map.remove(key)
    }

    /// The listings of one seller, by SKU.
    pub fn of_seller<'a>(&'a self, seller_id: &'a str) -> impl Iterator<Item = &'a Listing> + 'a {
        self.map
            .range((seller_id.to_string(), String::new())..)
            .take_while(move |((s, _), _)| s == seller_id)
            .map(|(_, l)| l)
    }

    /// Every listing with its (seller id, SKU).
    pub fn iter(&self) -> impl Iterator<Item = (&(String, String), &Listing)> {
        self.map.iter()
    }

    /// How many listings there are.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when there is no listing.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The kept quantity changes, oldest first (at most [`crate::world::MAX_KEPT`]).
    pub fn quantity_log(&self) -> impl Iterator<Item = &QuantityChange> {
        self.log.iter()
    }

    /// How many quantity changes were ever logged: a cursor for [`Listings::changes_since`].
    pub fn changes_logged(&self) -> u64 {
        self.logged
    }

    /// The changes logged after the cursor `seen` (a value of [`Listings::changes_logged`]),
    /// oldest first, as far as the log still keeps them.
    pub fn changes_since(&self, seen: u64) -> impl Iterator<Item = &QuantityChange> {
        let new = usize::try_from(self.logged.saturating_sub(seen)).unwrap_or(usize::MAX);
        self.log.iter().skip(self.log.len().saturating_sub(new))
    }
}

/// Write access to one listing; dropping it logs a change of the quantity.
pub struct ListingMut<'a> {
    listing: &'a mut Listing,
    seller_id: String,
    from: i64,
    cause: Option<Cause>,
    log: &'a mut VecDeque<QuantityChange>,
    logged: &'a mut u64,
    time: DateTime<Utc>,
}

impl Deref for ListingMut<'_> {
    type Target = Listing;
    fn deref(&self) -> &Listing {
        self.listing
    }
}

impl DerefMut for ListingMut<'_> {
    fn deref_mut(&mut self) -> &mut Listing {
        self.listing
    }
}

impl Drop for ListingMut<'_> {
    fn drop(&mut self) {
        if self.listing.quantity == self.from {
            return;
        }
        let Some(cause) = self.cause.take() else {
            return;
        };
        *self.logged += 1;
        push_bounded(
            self.log,
            QuantityChange {
                time: self.time,
                seller_id: std::mem::take(&mut self.seller_id),
                sku: self.listing.sku.clone(),
                from: self.from,
                to: self.listing.quantity,
                cause,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::MAX_KEPT;

    fn listing(sku: &str, quantity: i64) -> Listing {
        Listing {
            sku: sku.into(),
            asin: "B0".into(),
            title: sku.into(),
            product_type: "P".into(),
            price_cents: 100,
            currency: "USD".into(),
            quantity,
            fba: false,
            created: DateTime::UNIX_EPOCH,
            last_updated: DateTime::UNIX_EPOCH,
            quantity_updates: 0,
            handling_days: None,
            restock_date: None,
            marketplace_ids: Vec::new(),
            fba_stock: Default::default(),
            converted_from_fba: false,
            offers: Default::default(),
        }
    }

    #[test]
    fn every_quantity_change_is_logged_with_its_cause_and_nothing_else_is() {
        let mut l = Listings::default();
        let key = ("S".to_string(), "MUG".to_string());
        l.save("S", listing("MUG", 5), Cause::Control);
        l.save("S", listing("MUG", 5), Cause::Put);
        l.get_mut(&key).unwrap().title = "Mug".into();
        l.get_mut(&key).unwrap().quantity = 40;
        let order = Cause::Order {
            order_id: "111-0000000-0000000".into(),
        };
        l.edit(&key, order.clone()).unwrap().quantity -= 2;
        let log: Vec<_> = l
            .quantity_log()
            .map(|c| (c.from, c.to, c.cause.clone()))
            .collect();
        assert_eq!(
            log,
            vec![
                (0, 5, Cause::Control),
                (5, 40, Cause::Control),
                (40, 38, order)
            ]
        );
        assert_eq!(l.get(&key).unwrap().quantity, 38);
        assert_eq!(l.changes_logged(), 3);
        let since: Vec<i64> = l.changes_since(1).map(|c| c.to).collect();
        assert_eq!(
            since,
            vec![40, 38],
            "changes after the cursor, oldest first"
        );
    }

    #[test]
    fn the_log_keeps_only_the_newest_changes() {
        let mut l = Listings::default();
        let key = ("S".to_string(), "MUG".to_string());
        l.save("S", listing("MUG", 0), Cause::Control);
        for q in 1..=(MAX_KEPT as i64 + 5) {
            l.get_mut(&key).unwrap().quantity = q;
        }
        assert_eq!(l.quantity_log().count(), MAX_KEPT);
        assert_eq!(l.quantity_log().last().unwrap().to, MAX_KEPT as i64 + 5);
        assert_eq!(
            l.quantity_log().next().unwrap().to,
            6,
            "the oldest went first"
        );
    }

    #[test]
    fn a_change_serialises_with_its_cause_and_ids_flat() {
        let c = QuantityChange {
            time: DateTime::UNIX_EPOCH,
            seller_id: "S".into(),
            sku: "MUG".into(),
            from: 3,
            to: 7,
            cause: Cause::Feed {
                feed_id: "42".into(),
            },
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["cause"], "feed");
        assert_eq!(v["feed_id"], "42");
        assert_eq!(v["from"], 3);
        assert!(v.get("order_id").is_none());
    }
}
