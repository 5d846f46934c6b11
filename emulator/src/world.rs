//! The marketplace as Amazon holds it: sellers and their credentials, listings with the
//! quantity Amazon shows, orders with their life cycle, shipments, cancellations, refunds,
//! feeds, reports and documents. Plain data plus the state transitions; no HTTP here.

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

pub use crate::settings::Settings;
pub use crate::stock::{Cause, Listing, Listings, QuantityChange};

/// Upper bound of kept tokens, documents and log entries, so the emulator never grows without bound.
pub const MAX_KEPT: usize = 100_000;

/// Appends to a log that keeps only the [`MAX_KEPT`] newest entries.
pub fn push_bounded<T>(log: &mut VecDeque<T>, entry: T) {
    if log.len() >= MAX_KEPT {
        log.pop_front();
    }
    log.push_back(entry);
}

/// Amazon's answer to a package it cannot add because the order is already fulfilled, and
/// sometimes to a resend of a package it has (selling-partner-api-models #5037, 2025-11).
pub const ALREADY_FULFILLED: &str = "Failed to create package due to not finding a matching \
    package or order already fulfilled. ErrorMessage(errorCode=GeneralError, errorDescription=\
    Unable to find package to update for order (), errorMetric=PackageToUpdateNotFound, \
    packageIndex=null)";

/// A seller account with its LWA application credentials.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Seller {
    /// Merchant token (the `sellerId` of Listings/Feeds).
    pub seller_id: String,
    /// LWA client id of the application the seller authorised.
    pub client_id: String,
    /// LWA client secret.
    pub client_secret: String,
    /// The seller's LWA refresh token.
    pub refresh_token: String,
    /// Marketplaces the seller participates in.
    pub marketplace_ids: Vec<String>,
}

/// Order status, named as in Orders v0 (`OrderStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Pending,
    Unshipped,
    PartiallyShipped,
    Shipped,
    Canceled,
}

impl Status {
    /// v0 `OrderStatus`.
    pub fn v0(self) -> &'static str {
        match self {
            Status::Pending => "Pending",
            Status::Unshipped => "Unshipped",
            Status::PartiallyShipped => "PartiallyShipped",
            Status::Shipped => "Shipped",
            Status::Canceled => "Canceled",
        }
    }
    /// v2026-01-01 `FulfillmentStatus`.
    pub fn v2026(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::Unshipped => "UNSHIPPED",
            Status::PartiallyShipped => "PARTIALLY_SHIPPED",
            Status::Shipped => "SHIPPED",
            Status::Canceled => "CANCELLED",
        }
    }
    /// Parses either naming.
    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Pending,
            Status::Unshipped,
            Status::PartiallyShipped,
            Status::Shipped,
            Status::Canceled,
        ]
        .into_iter()
        .find(|st| st.v0().eq_ignore_ascii_case(s) || st.v2026() == s)
    }
}

/// A postal address (buyer data: only to callers allowed to see it).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Address {
    pub name: String,
    pub line1: String,
    pub city: String,
    pub postal_code: String,
    pub country_code: String,
    pub phone: String,
}

/// One line of an order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrderItem {
    pub order_item_id: String,
    pub sku: String,
    pub asin: String,
    pub title: String,
    pub quantity: i64,
    pub quantity_shipped: i64,
    /// Unit price in minor units (cents).
    pub unit_price_cents: i64,
    /// Quantity Amazon showed for the SKU when the order was placed.
    pub shown_quantity: i64,
    /// The buyer asked to cancel, with this reason.
    pub buyer_cancel_reason: Option<String>,
    /// Units the seller cancelled (item-level cancellation).
    #[serde(default)]
    pub quantity_cancelled: i64,
    /// Tax, shipping, gift wrap and promotions of the line.
    #[serde(default)]
    pub charges: crate::charges::LineCharges,
}

impl OrderItem {
    /// The line's items at their price, in minor units.
    pub fn items_cents(&self) -> i64 {
        self.unit_price_cents * self.quantity
    }
}

/// Who cancelled an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CanceledBy {
    Buyer,
    Seller,
    Amazon,
}

/// An order with its life cycle.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Order {
    pub order_id: String,
    pub seller_id: String,
    pub marketplace_id: String,
    pub created: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
    pub status: Status,
    /// True when Amazon fulfils (FBA, `AFN`).
    pub fulfilled_by_amazon: bool,
    pub earliest_ship: DateTime<Utc>,
    pub latest_ship: DateTime<Utc>,
    pub currency: String,
    pub items: Vec<OrderItem>,
    pub buyer_name: String,
    pub buyer_email: String,
    pub address: Address,
    /// When a pending order becomes unshipped (payment authorised).
    pub pending_until: Option<DateTime<Utc>>,
    pub canceled_by: Option<CanceledBy>,
    pub cancel_reason: Option<String>,
    /// True when some line was ordered beyond the quantity the shop really had
    /// (only known for orders placed by simulated buyers against a shop stock model).
    pub oversold: bool,
    /// Amazon Business, Prime, premium shipping.
    #[serde(default)]
    pub programs: crate::charges::Programs,
    /// The order this one replaces (a replacement order charges nothing).
    #[serde(default)]
    pub replaced_order_id: Option<String>,
    /// Negative feedback, A-to-z claims and chargebacks buyers raised (Amazon's order
    /// defects).
    #[serde(default)]
    pub defects: Vec<crate::health::Defect>,
}

impl Order {
    /// Whether the marketplace's prices include tax.
    pub fn tax_included(&self) -> bool {
        crate::charges::tax_included(crate::marketplace(&self.marketplace_id).0)
    }

    /// What the buyer pays, in minor units: every line's items and charges.
    pub fn total_cents(&self) -> i64 {
        let included = self.tax_included();
        self.items
            .iter()
            .map(|i| i.charges.charged(i.items_cents(), included))
            .sum()
    }
}

/// One confirmed package (confirmShipment or fulfilment feed).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Shipment {
    pub order_id: String,
    pub package_reference_id: String,
    pub carrier_code: String,
    /// The carrier's name, given with carrier code `Other`.
    #[serde(default)]
    pub carrier_name: Option<String>,
    pub tracking_number: String,
    /// Amazon's warning about the tracking number, which it confirmed all the same
    /// (see [`crate::carriers::tracking_warning`]).
    #[serde(default)]
    pub tracking_warning: Option<String>,
    pub items: Vec<(String, i64)>,
    /// When the first confirmation reached Amazon.
    pub first_arrival: DateTime<Utc>,
    /// When the last confirmation reached Amazon (Amazon's lateness is counted from this).
    pub arrival: DateTime<Utc>,
    /// How many times this package was confirmed (1 = exactly once).
    pub confirmations: u32,
    /// Arrived after the order's LatestShipDate.
    pub late: bool,
}

/// A refund applied by a payment adjustment feed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Refund {
    pub order_id: String,
    pub order_item_id: String,
    pub reason: String,
    pub amount: String,
    pub at: DateTime<Utc>,
}

/// A buyer's return of units of one order line.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Return {
    /// Amazon's return authorisation (seller-fulfilled) or license plate (FBA).
    pub rma_id: String,
    pub order_id: String,
    pub sku: String,
    pub asin: String,
    pub title: String,
    pub quantity: i64,
    /// Amazon's reason code, e.g. `NOT_AS_DESCRIBED`.
    pub reason: String,
    pub fba: bool,
    pub requested: DateTime<Utc>,
}

/// Processing status of a feed or report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Processing {
    InQueue,
    InProgress,
    Done,
    Cancelled,
    Fatal,
}

impl Processing {
    /// The model's enum text.
    pub fn as_str(self) -> &'static str {
        match self {
            Processing::InQueue => "IN_QUEUE",
            Processing::InProgress => "IN_PROGRESS",
            Processing::Done => "DONE",
            Processing::Cancelled => "CANCELLED",
            Processing::Fatal => "FATAL",
        }
    }
}

/// A stored document (feed input, feed result, report).
#[derive(Clone, Debug)]
pub struct Document {
    pub content_type: String,
    pub body: Option<Vec<u8>>,
    pub gzip: bool,
    /// The presigned URL stops working at this real instant.
    pub url_expires: std::time::Instant,
}

/// A submitted feed.
#[derive(Clone, Debug)]
pub struct Feed {
    pub feed_id: String,
    pub seller_id: String,
    pub feed_type: String,
    pub marketplace_ids: Vec<String>,
    pub input_document_id: String,
    pub created: DateTime<Utc>,
    pub status: Processing,
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
    pub result_document_id: Option<String>,
    /// Real instants at which processing starts and ends.
    pub start_at: std::time::Instant,
    pub done_at: std::time::Instant,
    /// Processing ends FATAL whatever the input (an injected fault).
    pub doomed: bool,
    /// How many of its valid messages are reported accepted and never applied (an injected
    /// fault).
    pub unapplied: usize,
}

/// A requested report.
#[derive(Clone, Debug)]
pub struct Report {
    pub report_id: String,
    pub seller_id: String,
    pub report_type: String,
    pub marketplace_ids: Vec<String>,
    pub data_start: Option<DateTime<Utc>>,
    pub data_end: Option<DateTime<Utc>>,
    pub created: DateTime<Utc>,
    pub status: Processing,
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
    pub document_id: Option<String>,
    pub start_at: std::time::Instant,
    pub done_at: std::time::Instant,
}

/// An issued access token or Restricted Data Token.
#[derive(Clone, Debug)]
pub struct Token {
    /// The seller who authorised the application ("" for a grantless token).
    pub seller_id: String,
    /// The LWA client id of the application the token was issued to.
    pub client_id: String,
    /// The scope of a grantless token (`client_credentials` grant), e.g.
    /// `sellingpartnerapi::notifications`; None for a seller's token.
    pub grantless_scope: Option<String>,
    pub expires: DateTime<Utc>,
    /// For an RDT: the restricted (method, path) pairs it grants, with data elements.
    pub restricted: Option<Vec<(String, String, Vec<String>)>>,
}

/// What kind of change of an order a notification reports (`OrderChangeType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderChange {
    /// The order was created or its status changed.
    OrderStatusChange,
    /// The buyer asked to cancel.
    BuyerRequestedChange,
}

impl OrderChange {
    /// The model's `OrderChangeTypeEnum` text.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderChange::OrderStatusChange => "OrderStatusChange",
            OrderChange::BuyerRequestedChange => "BuyerRequestedChange",
        }
    }
}

/// An order as it was right after a change, for notifications.
#[derive(Clone, Debug)]
pub struct OrderEvent {
    /// The order after the change.
    pub order: Order,
    /// What changed.
    pub change: OrderChange,
}

/// One line of the call log.
#[derive(Clone, Debug, Serialize)]
pub struct Call {
    pub operation: &'static str,
    pub status: u16,
    pub time: DateTime<Utc>,
}

/// Whole marketplace state.
#[derive(Debug)]
pub struct World {
    pub rng: StdRng,
    pub sellers: Vec<Seller>,
    pub tokens: HashMap<String, Token>,
    /// Listings by (seller id, SKU), with the log of their quantity changes.
    pub listings: Listings,
    pub orders: HashMap<String, Order>,
    /// Each updated order as it was before its last update (one version per order).
    pub previous: HashMap<String, Order>,
    /// Index for searches: (last update, order id).
    pub by_update: BTreeSet<(DateTime<Utc>, String)>,
    /// Index for searches: (creation, order id).
    pub by_creation: BTreeSet<(DateTime<Utc>, String)>,
    /// Pending orders by the time they become unshipped.
    pub pending: BTreeSet<(DateTime<Utc>, String)>,
    pub shipments: BTreeMap<(String, String), Shipment>,
    pub refunds: Vec<Refund>,
    pub returns: Vec<Return>,
    pub feeds: HashMap<String, Feed>,
    pub reports: HashMap<String, Report>,
    pub documents: HashMap<String, Document>,
    pub log: VecDeque<Call>,
    /// Calls per (operation, status) since start (the log keeps only the latest).
    pub counts: BTreeMap<(&'static str, u16), u64>,
    pub next_id: u64,
    /// The account's default handling time: hours between an order's creation and its
    /// LatestShipDate for a listing without a handling time of its own.
    pub handling_hours: i64,
    /// Feed processing and order pending times (settable while running).
    pub settings: Settings,
    /// The application holds the restricted role for shipping addresses (Direct-to-Consumer
    /// Shipping). Without it, createRestrictedDataToken refuses every token naming an address
    /// (400 `InvalidInput`, selling-partner-api-docs #1201, selling-partner-api-models
    /// #1316). Default true.
    pub address_role: bool,
    /// The application holds the Selling Partner Insights role, which the seller performance
    /// report needs. Without it, createReport of that type answers 403 `Unauthorized`.
    /// Default true.
    pub insights_role: bool,
    /// `getOrders` (v0) gives the shipping address its Restricted Data Token grants. False:
    /// it answers without `ShippingAddress`, as Amazon's own examples of the call do, and the
    /// client must ask `getOrderAddress`. Default true.
    pub get_orders_addresses: bool,
    /// Feed processing is held (control API): feeds stay where they are until released.
    pub feeds_held: bool,
    /// Accepted listing patches that have not landed yet.
    pub landing: crate::stock::Landing,
    /// Order changes not yet turned into notifications (bounded like the logs).
    pub order_events: VecDeque<OrderEvent>,
    /// Notification destinations, subscriptions and messages on their way.
    pub notifications: crate::notify::Notifications,
    /// The orders as the searches see them, each change after its search lag.
    pub search: crate::search::SearchIndex,
    /// Draws the search lags (apart from `rng`, so the calls a client makes do not move them).
    search_rng: StdRng,
}

impl World {
    /// An empty marketplace, deterministic for `seed`.
    pub fn new(seed: u64) -> Self {
        World {
            rng: StdRng::seed_from_u64(seed),
            sellers: Vec::new(),
            tokens: HashMap::new(),
            listings: Listings::default(),
            orders: HashMap::new(),
            previous: HashMap::new(),
            by_update: BTreeSet::new(),
            by_creation: BTreeSet::new(),
            pending: BTreeSet::new(),
            shipments: BTreeMap::new(),
            refunds: Vec::new(),
            returns: Vec::new(),
            feeds: HashMap::new(),
            reports: HashMap::new(),
            documents: HashMap::new(),
            log: VecDeque::new(),
            counts: BTreeMap::new(),
            next_id: 1,
            handling_hours: 48,
            address_role: true,
            insights_role: true,
            get_orders_addresses: true,
            settings: Settings::default(),
            feeds_held: false,
            landing: Default::default(),
            order_events: VecDeque::new(),
            notifications: crate::notify::Notifications::new(seed),
            search: Default::default(),
            search_rng: StdRng::seed_from_u64(seed ^ 0x5ea2_c41a),
        }
    }

    /// A fresh numeric id.
    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// A random token of `n` hex characters.
    pub fn random_hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from_digit(self.rng.gen_range(0..16), 16).unwrap_or('0'))
            .collect()
    }

    /// A new order id in Amazon's 3-7-7 format.
    pub fn new_order_id(&mut self) -> String {
        let a: u32 = self.rng.gen_range(100..1000);
        let b: u32 = self.rng.gen_range(0..10_000_000);
        let c: u32 = self.rng.gen_range(0..10_000_000);
        format!("{a:03}-{b:07}-{c:07}")
    }

    /// The seller with this id.
    pub fn seller(&self, seller_id: &str) -> Option<&Seller> {
        self.sellers.iter().find(|s| s.seller_id == seller_id)
    }

    /// Adds or replaces a seller.
    pub fn upsert_seller(&mut self, seller: Seller) {
        self.sellers.retain(|s| s.seller_id != seller.seller_id);
        self.sellers.push(seller);
    }

    /// Records a call in the bounded log and the counters.
    pub fn record(&mut self, operation: &'static str, status: u16, time: DateTime<Utc>) {
        *self.counts.entry((operation, status)).or_default() += 1;
        push_bounded(
            &mut self.log,
            Call {
                operation,
                status,
                time,
            },
        );
    }

    /// Inserts an order and indexes it; the searches see it after its search lag.
    pub fn insert_order(&mut self, order: Order) {
        self.store_order(order, None);
    }

    /// Inserts an order, the searches seeing this version `lag` after its last update (a lag
    /// drawn from the settings when None).
    fn store_order(&mut self, order: Order, lag: Option<Duration>) {
        let lag = lag.unwrap_or_else(|| self.settings.search_lag(&mut self.search_rng));
        self.search.offer(&order, order.last_updated + lag);
        if let Some(old) = self.orders.remove(&order.order_id) {
            self.unindex(&old);
        }
        self.by_update
            .insert((order.last_updated, order.order_id.clone()));
        self.by_creation
            .insert((order.created, order.order_id.clone()));
        if let Some(due) = order.pending_until {
            if order.status == Status::Pending {
                self.pending.insert((due, order.order_id.clone()));
            }
        }
        self.orders.insert(order.order_id.clone(), order);
    }

    fn unindex(&mut self, order: &Order) {
        self.by_update
            .remove(&(order.last_updated, order.order_id.clone()));
        self.by_creation
            .remove(&(order.created, order.order_id.clone()));
        if let Some(due) = order.pending_until {
            self.pending.remove(&(due, order.order_id.clone()));
        }
    }

    /// Applies `change` to an order and moves its last-update time to `now` (strictly later
    /// than before, as Amazon's LastUpdateDate only moves forward).
    pub fn update_order<R>(
        &mut self,
        order_id: &str,
        now: DateTime<Utc>,
        change: impl FnOnce(&mut Order) -> R,
    ) -> Option<R> {
        self.update_order_lagged(order_id, now, None, change)
    }

    /// [`World::update_order`], the searches seeing the change `lag` after it (a lag drawn from
    /// the settings when None).
    fn update_order_lagged<R>(
        &mut self,
        order_id: &str,
        now: DateTime<Utc>,
        lag: Option<Duration>,
        change: impl FnOnce(&mut Order) -> R,
    ) -> Option<R> {
        let mut order = self.orders.remove(order_id)?;
        self.unindex(&order);
        let before = order.clone();
        let r = change(&mut order);
        order.last_updated = now.max(order.last_updated + Duration::seconds(1));
        if order.status != before.status {
            self.order_event(&order, OrderChange::OrderStatusChange);
        }
        let cancel_asked = |o: &Order| o.items.iter().any(|i| i.buyer_cancel_reason.is_some());
        if cancel_asked(&order) && !cancel_asked(&before) {
            self.order_event(&order, OrderChange::BuyerRequestedChange);
        }
        self.previous.insert(order_id.to_string(), before);
        self.store_order(order, lag);
        Some(r)
    }

    /// Records a change of an order for notifications.
    fn order_event(&mut self, order: &Order, change: OrderChange) {
        push_bounded(
            &mut self.order_events,
            OrderEvent {
                order: order.clone(),
                change,
            },
        );
    }

    /// Promotes pending orders whose payment is authorised by `now` (FBA orders ship at once)
    /// and lets the searches see the changes due by `now`.
    pub fn advance(&mut self, now: DateTime<Utc>) {
        self.listings.set_time(now);
        while let Some((due, id)) = self.pending.first().cloned() {
            if due > now {
                break;
            }
            self.promote(&id, due, None);
        }
        self.search.catch_up(now);
    }

    /// A pending order's payment is authorised at `due`; the searches see it after `lag` (drawn
    /// when None).
    fn promote(&mut self, order_id: &str, due: DateTime<Utc>, lag: Option<Duration>) {
        self.pending.remove(&(due, order_id.to_string()));
        self.update_order_lagged(order_id, due, lag, |o| {
            if o.status == Status::Pending {
                o.pending_until = None;
                if o.fulfilled_by_amazon {
                    o.status = Status::Shipped;
                    for it in &mut o.items {
                        it.quantity_shipped = it.quantity;
                    }
                } else {
                    o.status = Status::Unshipped;
                }
            }
        });
    }

    /// Sets the quantity Amazon shows for a SKU, logging the change with its cause.
    /// False when the seller has no such listing.
    pub fn set_quantity(&mut self, seller_id: &str, sku: &str, to: i64, cause: Cause) -> bool {
        let key = (seller_id.to_string(), sku.to_string());
        self.listings
            .edit(&key, cause)
            .map(|mut l| l.quantity = to)
            .is_some()
    }

    /// Places an order for `lines` of (sku, quantity) of `seller` in `marketplace`, decrementing
    /// the quantity Amazon shows; it stays Pending for `pending` (payment authorisation). The
    /// searches see the order, and its payment authorised at once, `search_lag` after each (a
    /// lag drawn from the settings when None). Returns the order id, or None when a SKU is
    /// unknown or Amazon shows less than asked for.
    pub fn place_order(
        &mut self,
        seller_id: &str,
        marketplace_id: &str,
        lines: &[(String, i64)],
        now: DateTime<Utc>,
        pending: Duration,
        search_lag: Option<Duration>,
    ) -> Option<String> {
        let mut items = Vec::new();
        let mut fba = None;
        for (sku, qty) in lines {
            let l = self.listings.get(&(seller_id.to_string(), sku.clone()))?;
            if *qty <= 0 || l.quantity < *qty || fba.is_some_and(|f| f != l.fba) {
                return None;
            }
            fba = Some(l.fba);
            items.push((l.clone(), *qty));
        }
        if items.is_empty() {
            return None;
        }
        // The longest handling time of the order's listings (the account's for a listing
        // without one) sets its latest ship date.
        let handling = items
            .iter()
            .map(|(l, _)| l.handling_days.map_or(self.handling_hours, |d| d * 24))
            .max()
            .unwrap_or(self.handling_hours);
        let order_id = self.new_order_id();
        let n = self.id();
        let programs = crate::charges::programs(n);
        let prices: Vec<(i64, i64)> = items
            .iter()
            .map(|(l, q)| (l.price_in(marketplace_id).0, *q))
            .collect();
        let mut charges =
            crate::charges::for_order(n, crate::marketplace(marketplace_id).0, programs, &prices)
                .into_iter();
        let mut order_items = Vec::new();
        self.listings.set_time(now);
        for (n, (l, qty)) in items.into_iter().enumerate() {
            let cause = Cause::Order {
                order_id: order_id.clone(),
            };
            let key = (seller_id.to_string(), l.sku.clone());
            let left = self.listings.get(&key).map_or(0, |now| now.quantity) - qty;
            self.set_quantity(seller_id, &l.sku, left, cause);
            order_items.push(OrderItem {
                order_item_id: format!("{}{:02}", &order_id.replace('-', "")[3..], n + 1),
                sku: l.sku.clone(),
                asin: l.asin.clone(),
                title: l.title.clone(),
                quantity: qty,
                quantity_shipped: 0,
                unit_price_cents: l.price_in(marketplace_id).0,
                shown_quantity: l.quantity,
                buyer_cancel_reason: None,
                quantity_cancelled: 0,
                charges: charges.next().unwrap_or_default(),
            });
        }
        let currency = self
            .listings
            .get(&(seller_id.to_string(), lines[0].0.clone()))
            .map(|l| l.currency.clone())
            .unwrap_or_else(|| "USD".into());
        let pending_until = now + pending.max(Duration::zero());
        let order = Order {
            order_id: order_id.clone(),
            seller_id: seller_id.to_string(),
            marketplace_id: marketplace_id.to_string(),
            created: now,
            last_updated: now,
            status: Status::Pending,
            fulfilled_by_amazon: fba.unwrap_or(false),
            earliest_ship: now,
            latest_ship: now + Duration::hours(handling),
            currency,
            items: order_items,
            buyer_name: format!("Buyer {n}"),
            buyer_email: format!("buyer{n}@marketplace.amazon.example"),
            address: Address {
                name: format!("Buyer {n}"),
                line1: format!("{} Market Street", 1 + n % 900),
                city: "Seattle".into(),
                postal_code: format!("98{:03}", n % 1000),
                country_code: "US".into(),
                phone: format!("+1-206-555-{:04}", n % 10_000),
            },
            pending_until: Some(pending_until),
            canceled_by: None,
            cancel_reason: None,
            oversold: false,
            programs,
            replaced_order_id: None,
            defects: Vec::new(),
        };
        self.order_event(&order, OrderChange::OrderStatusChange);
        self.store_order(order, search_lag);
        if pending_until <= now {
            self.promote(&order_id, pending_until, search_lag);
        }
        self.advance(now);
        Some(order_id)
    }

    /// The buyer raises a defect on an order (negative feedback, an A-to-z claim, a
    /// chargeback): Amazon counts it in the order defect rate. Each kind counts once an order.
    pub fn add_defect(
        &mut self,
        order_id: &str,
        kind: crate::health::DefectKind,
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        let o = self.orders.get_mut(order_id).ok_or("no such order")?;
        if !o.defects.iter().any(|d| d.kind == kind) {
            o.defects.push(crate::health::Defect { kind, at: now });
        }
        Ok(())
    }

    /// The buyer returns `quantity` units of the order's line of `sku` (default: the first
    /// line, all its shipped units) for `reason`. Only shipped units can be returned.
    pub fn return_items(
        &mut self,
        order_id: &str,
        sku: Option<&str>,
        quantity: Option<i64>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<String, String> {
        let o = self.orders.get(order_id).ok_or("no such order")?;
        let it = o
            .items
            .iter()
            .find(|i| sku.is_none_or(|s| s == i.sku))
            .ok_or("the order has no such line")?;
        let returned: i64 = self
            .returns
            .iter()
            .filter(|r| r.order_id == order_id && r.sku == it.sku)
            .map(|r| r.quantity)
            .sum();
        let quantity = quantity.unwrap_or(it.quantity_shipped - returned);
        if quantity <= 0 || returned + quantity > it.quantity_shipped {
            return Err("only shipped units not returned yet can be returned".into());
        }
        let (sku, asin, title, fba) = (
            it.sku.clone(),
            it.asin.clone(),
            it.title.clone(),
            o.fulfilled_by_amazon,
        );
        let rma_id = if fba {
            format!("LPN{:010}", self.id())
        } else {
            format!("D{:09}", self.id())
        };
        self.returns.push(Return {
            rma_id: rma_id.clone(),
            order_id: order_id.to_string(),
            sku,
            asin,
            title,
            quantity,
            reason: reason.to_string(),
            fba,
            requested: now,
        });
        Ok(rma_id)
    }

    /// Makes an order Amazon's replacement of `original`: it charges the buyer nothing.
    pub fn make_replacement(&mut self, order_id: &str, original: &str, now: DateTime<Utc>) {
        self.update_order(order_id, now, |o| {
            o.replaced_order_id = Some(original.to_string());
            for it in &mut o.items {
                it.unit_price_cents = 0;
                it.charges = Default::default();
            }
        });
    }

    /// Cancels an order (by the buyer, the seller or Amazon). False if it cannot be cancelled.
    pub fn cancel_order(
        &mut self,
        order_id: &str,
        by: CanceledBy,
        reason: &str,
        now: DateTime<Utc>,
    ) -> bool {
        let cancellable = self
            .orders
            .get(order_id)
            .is_some_and(|o| matches!(o.status, Status::Pending | Status::Unshipped));
        if !cancellable {
            return false;
        }
        self.update_order(order_id, now, |o| {
            o.status = Status::Canceled;
            o.pending_until = None;
            o.canceled_by = Some(by);
            o.cancel_reason = Some(reason.to_string());
        });
        true
    }

    /// The seller cancels the unshipped units of some items. When nothing of the order is left
    /// to ship and nothing was shipped, the whole order is cancelled.
    pub fn cancel_items(
        &mut self,
        order_id: &str,
        item_ids: &[String],
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        let order = self.orders.get(order_id).ok_or("order not found")?;
        if !matches!(
            order.status,
            Status::Pending | Status::Unshipped | Status::PartiallyShipped
        ) {
            return Err(format!(
                "Order {order_id} cannot be cancelled in its current status"
            ));
        }
        for id in item_ids {
            let it = order
                .items
                .iter()
                .find(|i| &i.order_item_id == id)
                .ok_or(format!("order item {id} is not in order {order_id}"))?;
            if it.quantity - it.quantity_shipped - it.quantity_cancelled <= 0 {
                return Err(format!("order item {id} has nothing left to cancel"));
            }
        }
        let whole = order.items.iter().all(|i| {
            i.quantity_shipped == 0
                && (item_ids.contains(&i.order_item_id) || i.quantity_cancelled == i.quantity)
        });
        if whole {
            self.cancel_order(order_id, CanceledBy::Seller, reason, now);
            return Ok(());
        }
        self.update_order(order_id, now, |o| {
            for it in o
                .items
                .iter_mut()
                .filter(|i| item_ids.contains(&i.order_item_id))
            {
                it.quantity_cancelled = it.quantity - it.quantity_shipped;
            }
            if o.items
                .iter()
                .all(|i| i.quantity_shipped + i.quantity_cancelled >= i.quantity)
            {
                o.status = Status::Shipped;
            }
        });
        Ok(())
    }

    /// The buyer asks to cancel an unshipped order (`BuyerRequestedCancel`); a pending one is
    /// cancelled at once. False if neither applies.
    pub fn buyer_requests_cancel(
        &mut self,
        order_id: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> bool {
        match self.orders.get(order_id).map(|o| o.status) {
            Some(Status::Pending) => self.cancel_order(order_id, CanceledBy::Buyer, reason, now),
            Some(Status::Unshipped) => {
                self.update_order(order_id, now, |o| {
                    for it in &mut o.items {
                        it.buyer_cancel_reason = Some(reason.to_string());
                    }
                });
                true
            }
            _ => false,
        }
    }

    /// Records a package confirmation. Resending the same package reference overwrites the
    /// earlier one and its arrival time, as Amazon does. A carrier Amazon does not list leaves
    /// the order unconfirmed; a new package for an order with nothing left to ship gets
    /// Amazon's [`ALREADY_FULFILLED`].
    pub fn confirm_package(
        &mut self,
        order_id: &str,
        package_reference_id: &str,
        carrier: (&str, Option<&str>),
        tracking_number: &str,
        items: Vec<(String, i64)>,
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        let (carrier_code, carrier_name) = carrier;
        if let Some(e) = crate::carriers::refusal(carrier_code, carrier_name) {
            return Err(e);
        }
        let order = self.orders.get(order_id).ok_or("order not found")?;
        if order.fulfilled_by_amazon {
            return Err("order is fulfilled by Amazon".into());
        }
        if !matches!(
            order.status,
            Status::Unshipped | Status::PartiallyShipped | Status::Shipped
        ) {
            return Err(format!("order status is {}", order.status.v0()));
        }
        let key = (order_id.to_string(), package_reference_id.to_string());
        let previous = self.shipments.get(&key).cloned();
        if previous.is_none() && order.status == Status::Shipped {
            return Err(ALREADY_FULFILLED.into());
        }
        // Quantities already shipped in other packages of this order.
        let mut shipped: HashMap<String, i64> = HashMap::new();
        for ((oid, pref), s) in &self.shipments {
            if oid == order_id && pref != package_reference_id {
                for (item, q) in &s.items {
                    *shipped.entry(item.clone()).or_default() += q;
                }
            }
        }
        for (item, q) in &items {
            let line = order
                .items
                .iter()
                .find(|i| &i.order_item_id == item)
                .ok_or_else(|| format!("order item {item} is not in order {order_id}"))?;
            let left = line.quantity - line.quantity_cancelled;
            if *q <= 0 || shipped.get(item).copied().unwrap_or(0).saturating_add(*q) > left {
                return Err(format!(
                    "quantity {q} of order item {item} exceeds what is left to ship"
                ));
            }
            *shipped.entry(item.clone()).or_default() += q;
        }
        let late = now > order.latest_ship;
        self.shipments.insert(
            key,
            Shipment {
                order_id: order_id.to_string(),
                package_reference_id: package_reference_id.to_string(),
                carrier_code: carrier_code.to_string(),
                carrier_name: carrier_name.map(str::to_string),
                tracking_number: tracking_number.to_string(),
                tracking_warning: crate::carriers::tracking_warning(carrier_code, tracking_number),
                items,
                first_arrival: previous.as_ref().map(|p| p.first_arrival).unwrap_or(now),
                arrival: now,
                confirmations: previous.map(|p| p.confirmations).unwrap_or(0) + 1,
                late,
            },
        );
        self.update_order(order_id, now, |o| {
            for it in &mut o.items {
                it.quantity_shipped = shipped.get(&it.order_item_id).copied().unwrap_or(0);
            }
            o.status = if o
                .items
                .iter()
                .all(|i| i.quantity_shipped + i.quantity_cancelled >= i.quantity)
            {
                Status::Shipped
            } else {
                Status::PartiallyShipped
            };
        });
        Ok(())
    }

    /// Keeps tokens, documents, feeds and reports within [`MAX_KEPT`] each: expired ones go
    /// first, then the oldest.
    pub fn prune(&mut self, now: DateTime<Utc>) {
        if self.tokens.len() > MAX_KEPT {
            self.tokens.retain(|_, t| t.expires > now);
            // Still too many live ones (a client asking for a token per call): the oldest go.
            trim_oldest(&mut self.tokens, |t| t.expires);
        }
        if self.documents.len() > MAX_KEPT {
            let real = std::time::Instant::now();
            self.documents
                .retain(|_, d| d.url_expires > real || d.body.is_some());
            trim_oldest(&mut self.documents, |d| d.url_expires);
        }
        if self.feeds.len() > MAX_KEPT {
            trim_oldest(&mut self.feeds, |f| f.created);
        }
        if self.reports.len() > MAX_KEPT {
            trim_oldest(&mut self.reports, |r| r.created);
        }
    }
}

/// Removes the entries with the smallest `key` until 90% of [`MAX_KEPT`] remain (so the sort
/// runs once per 10,000 insertions, not on every one).
fn trim_oldest<V, K: Ord + Copy>(map: &mut HashMap<String, V>, key: impl Fn(&V) -> K) {
    let keep = MAX_KEPT / 10 * 9;
    if map.len() <= MAX_KEPT {
        return;
    }
    let mut keys: Vec<(K, String)> = map.iter().map(|(id, v)| (key(v), id.clone())).collect();
    keys.sort();
    for (_, id) in keys.into_iter().take(map.len() - keep) {
        map.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_stay_bounded_even_when_none_expire() {
        let mut w = World::new(1);
        let now = Utc::now();
        for i in 0..(MAX_KEPT + 10) {
            w.tokens.insert(
                format!("t{i}"),
                Token {
                    seller_id: "S".into(),
                    client_id: "C".into(),
                    grantless_scope: None,
                    expires: now + Duration::hours(1) + Duration::seconds(i as i64),
                    restricted: None,
                },
            );
            w.prune(now);
        }
        assert!(w.tokens.len() <= MAX_KEPT);
        assert!(
            w.tokens.contains_key(&format!("t{}", MAX_KEPT + 9)),
            "the newest survive"
        );
    }

    #[test]
    fn shipping_more_than_ordered_is_refused_without_overflow() {
        let mut w = World::new(1);
        let now = Utc::now();
        w.upsert_seller(Seller::demo());
        let seller = Seller::demo().seller_id;
        w.listings.save(
            &seller,
            Listing {
                sku: "A".into(),
                asin: "B0".into(),
                title: "A".into(),
                product_type: "P".into(),
                price_cents: 100,
                currency: "USD".into(),
                quantity: 5,
                fba: false,
                created: now,
                last_updated: now,
                quantity_updates: 0,
                handling_days: None,
                restock_date: None,
                marketplace_ids: Vec::new(),
                fba_stock: Default::default(),
                converted_from_fba: false,
                offers: Default::default(),
            },
            Cause::Control,
        );
        let id = w
            .place_order(
                &seller,
                "ATVPDKIKX0DER",
                &[("A".into(), 2)],
                now,
                Duration::zero(),
                None,
            )
            .unwrap();
        let item = w.orders[&id].items[0].order_item_id.clone();
        assert!(w
            .confirm_package(&id, "1", ("UPS", None), "T", vec![(item.clone(), 1)], now)
            .is_ok());
        assert!(w
            .confirm_package(
                &id,
                "2",
                ("UPS", None),
                "T",
                vec![(item.clone(), i64::MAX)],
                now
            )
            .is_err());
        assert_eq!(w.orders[&id].status, Status::PartiallyShipped);
    }
}
