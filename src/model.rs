//! Domain types as the host sees them: the order document handed over by
//! `sellsync_order_next`, and events.

use serde::{Deserialize, Serialize};

/// Where an order is in its life, in the Orders API v2026-01-01 names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Pre-order, payment not yet authorised.
    PendingAvailability,
    /// Placed, payment not yet authorised: reserves stock, not handed over.
    Pending,
    /// Ready to ship.
    Unshipped,
    /// Some items shipped.
    PartiallyShipped,
    /// All items shipped.
    Shipped,
    /// Cancelled.
    Cancelled,
    /// Cannot be fulfilled (multi-channel orders).
    Unfulfillable,
}

impl OrderStatus {
    /// Parses either API version's spelling (`UNSHIPPED` or `Unshipped`).
    pub fn parse(s: &str) -> Option<OrderStatus> {
        Some(match s {
            "PENDING_AVAILABILITY" | "PendingAvailability" => OrderStatus::PendingAvailability,
            "PENDING" | "Pending" => OrderStatus::Pending,
            "UNSHIPPED" | "Unshipped" => OrderStatus::Unshipped,
            "PARTIALLY_SHIPPED" | "PartiallyShipped" => OrderStatus::PartiallyShipped,
            "SHIPPED" | "Shipped" | "InvoiceUnconfirmed" => OrderStatus::Shipped,
            "CANCELLED" | "Canceled" => OrderStatus::Cancelled,
            "UNFULFILLABLE" | "Unfulfillable" => OrderStatus::Unfulfillable,
            _ => return None,
        })
    }
    /// The document's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingAvailability => "PENDING_AVAILABILITY",
            OrderStatus::Pending => "PENDING",
            OrderStatus::Unshipped => "UNSHIPPED",
            OrderStatus::PartiallyShipped => "PARTIALLY_SHIPPED",
            OrderStatus::Shipped => "SHIPPED",
            OrderStatus::Cancelled => "CANCELLED",
            OrderStatus::Unfulfillable => "UNFULFILLABLE",
        }
    }
    /// Whether the order is ready to be handed to the host (payment authorised, not cancelled).
    pub fn is_ready(self) -> bool {
        matches!(
            self,
            OrderStatus::Unshipped | OrderStatus::PartiallyShipped | OrderStatus::Shipped
        )
    }
}

/// Who fulfils an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FulfilledBy {
    /// The shop ships it (MFN): it reduces the shop's stock.
    Merchant,
    /// Amazon ships it from its warehouse (FBA): it never touches the shop's stock.
    Amazon,
}

/// A shipping address (buyer data).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub name: Option<String>,
    pub company: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub line3: Option<String>,
    pub city: Option<String>,
    pub district_or_county: Option<String>,
    pub state_or_region: Option<String>,
    pub postal_code: Option<String>,
    pub country_code: Option<String>,
    pub phone: Option<String>,
}

/// One line of an order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderItem {
    /// Amazon's order item id (needed to confirm a shipment).
    pub order_item_id: String,
    /// The seller's SKU.
    pub sku: Option<String>,
    pub asin: Option<String>,
    pub title: Option<String>,
    pub quantity: i64,
    pub quantity_shipped: i64,
    /// Price of one unit, a decimal string (absent while the order is pending).
    pub unit_price: Option<String>,
    /// Price of the line (unit price × quantity), a decimal string.
    pub line_total: Option<String>,
    /// The buyer asked to cancel this line.
    pub buyer_cancel_requested: bool,
    pub buyer_cancel_reason: Option<String>,
    /// Units the seller cancelled (item-level cancellation).
    #[serde(default)]
    pub quantity_cancelled: i64,
    /// The line's charges beyond its price (decimal strings in the order's currency; absent
    /// while the order is pending, as Amazon gives no prices before payment is authorised).
    #[serde(default)]
    pub charges: Option<ItemCharges>,
}

/// What Amazon charged the buyer for one line beyond its price, in the order's currency.
/// Every amount is a decimal string; a discount is a positive amount taken off. Where the
/// marketplace's prices include tax (`Order::tax_included`), the taxes are contained in the
/// amounts (and Amazon often reports them as 0.00).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemCharges {
    /// Tax on the items.
    pub item_tax: String,
    pub shipping_price: String,
    pub shipping_tax: String,
    /// Gift wrap (0 when Amazon does not itemise it: v0 without the buyer-info role).
    pub gift_wrap_price: String,
    pub gift_wrap_tax: String,
    /// Promotions on the items and their shipping, taken off.
    pub discount: String,
    /// Tax on those promotions, taken off.
    pub discount_tax: String,
    /// What the buyer pays for the line: `line_total` + shipping + gift wrap − discount, plus
    /// the taxes less `discount_tax` where prices exclude tax.
    pub charged: String,
    /// Amazon's ids of the promotions applied.
    #[serde(default)]
    pub promotion_ids: Vec<String>,
    #[serde(default)]
    pub is_gift: bool,
    #[serde(default)]
    pub gift_wrap_level: Option<String>,
    /// The buyer's gift message: buyer data, sealed in the store with the recipient and
    /// deleted with it.
    #[serde(default)]
    pub gift_message: Option<String>,
}

/// An Amazon order as handed to the host (`sellsync_order_next`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Amazon's order id (3-7-7).
    pub order_id: String,
    pub marketplace_id: String,
    pub status: OrderStatus,
    pub fulfilled_by: FulfilledBy,
    /// ISO 8601 UTC.
    pub purchase_date: String,
    /// ISO 8601 UTC; Amazon's last change to the order.
    pub last_updated: String,
    /// Ship by this time to count as on time (seller-fulfilled orders).
    pub earliest_ship_date: Option<String>,
    pub latest_ship_date: Option<String>,
    /// The end of Amazon's promised delivery window (ISO 8601 UTC), when Amazon gives one;
    /// buyer data is kept for the retention period after it.
    #[serde(default)]
    pub latest_delivery_date: Option<String>,
    pub currency: Option<String>,
    /// Order total, a decimal string.
    pub total: Option<String>,
    pub items: Vec<OrderItem>,
    /// Shipping address, for seller-fulfilled orders once payment is authorised.
    pub recipient: Option<Address>,
    /// True when the buyer asked to cancel any line.
    pub buyer_cancel_requested: bool,
    /// Whether the marketplace's prices include tax (VAT): all but the US and Canada.
    #[serde(default)]
    pub tax_included: bool,
    /// The part of `total` no line carries (e.g. v0 gift wrap Amazon does not itemise): `total`
    /// less every line's `charged`; "0.00" when the lines add up. Absent while unpriced.
    #[serde(default)]
    pub other_charges: Option<String>,
    /// Amazon's programs for the order.
    #[serde(default)]
    pub is_business: bool,
    #[serde(default)]
    pub is_prime: bool,
    /// Premium (expedited) shipping.
    #[serde(default)]
    pub is_premium: bool,
    /// A replacement Amazon sends for `replaced_order_id`; it charges nothing.
    #[serde(default)]
    pub is_replacement: bool,
    #[serde(default)]
    pub replaced_order_id: Option<String>,
}

/// A rate with its counts, as Amazon or sellsync counts it over one window (`numerator` and
/// `rate` are None where only the orders can be compared: sellsync cannot see Amazon's order
/// defects).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    pub numerator: Option<u64>,
    pub denominator: u64,
    pub rate: Option<f64>,
}

/// Something the host should know about, delivered by `sellsync_event_next` or the callback.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    /// A new order is ready for `sellsync_order_next`.
    #[serde(rename = "order.ready")]
    OrderReady {
        order_id: String,
        marketplace_id: String,
        fulfilled_by: FulfilledBy,
    },
    /// An order's status changed after it became ready for the host (e.g. cancelled by the
    /// buyer or Amazon, or shipped elsewhere).
    #[serde(rename = "order.status_changed")]
    OrderStatusChanged {
        order_id: String,
        old_status: OrderStatus,
        new_status: OrderStatus,
        /// The host had acknowledged the order (it is in the host's system).
        acknowledged: bool,
        host_ref: Option<String>,
    },
    /// Amazon refused an order's shipping address because the application lacks the restricted
    /// role for it (Direct-to-Consumer Shipping): the order is handed over without a recipient
    /// (a token that merely expired is replaced and never gives this).
    #[serde(rename = "order.address_refused")]
    OrderAddressRefused { order_id: String, message: String },
    /// The buyer asked to cancel an order that is ready or handed over.
    #[serde(rename = "order.buyer_cancel_requested")]
    BuyerCancelRequested {
        order_id: String,
        reason: Option<String>,
        acknowledged: bool,
        host_ref: Option<String>,
    },
    /// A sync cycle finished.
    #[serde(rename = "sync.completed")]
    SyncCompleted {
        flow: String,
        orders_seen: u64,
        orders_new: u64,
        orders_updated: u64,
        api_calls: u64,
    },
    /// A stock cycle sent or confirmed quantities.
    #[serde(rename = "stock.synced")]
    StockSynced {
        patched: u64,
        feeds_submitted: u64,
        messages: u64,
        feeds_finished: u64,
        rejected: u64,
    },
    /// Amazon showed a quantity other than the one it should (found by reconciliation
    /// against the listings report); the right one is sent again.
    #[serde(rename = "stock.drift")]
    StockDrift {
        sku: String,
        amazon_showed: i64,
        should_show: i64,
    },
    /// A buyer returned units of an order (from Amazon's returns reports: seller-fulfilled
    /// returns by request date, FBA customer returns), once per return. The host decides to
    /// restock (`sellsync_stock_set`) and to refund (`sellsync_order_refund`).
    #[serde(rename = "order.returned")]
    OrderReturned(Return),
    /// Amazon fulfils this SKU (its listing's channel is Amazon's), though the host mapped it
    /// as seller-fulfilled: sellsync never sends it a quantity (Amazon would turn it into a
    /// seller-fulfilled listing and strand its units at Amazon's warehouses); its stock at
    /// Amazon is in `sellsync_fba_stock`.
    #[serde(rename = "sku.fulfilled_by_amazon")]
    SkuFulfilledByAmazon { sku: String },
    /// Amazon refused a quantity for a SKU; it is sent again at the next cycle.
    #[serde(rename = "stock.rejected")]
    StockRejected {
        sku: String,
        quantity: i64,
        message: String,
    },
    /// A listings feed is not done `stock.feed_late_seconds` after it was submitted (`status`:
    /// Amazon's processing status; `seconds` since submission; `skus` it carries); once per
    /// feed. Amazon holds the seller's later listings feeds behind it; urgent and small changes
    /// still go out by patchListingsItem.
    #[serde(rename = "stock.feed_late")]
    StockFeedLate {
        feed_id: String,
        status: String,
        seconds: i64,
        skus: u64,
    },
    /// Amazon has the shipment confirmation (`late`: it arrived after the LatestShipDate).
    #[serde(rename = "shipment.confirmed")]
    ShipmentConfirmed {
        order_id: String,
        package_reference_id: String,
        late: bool,
        /// The call's answer was lost; Amazon's order showed it had taken effect.
        verified_by_reading_back: bool,
    },
    /// Amazon refused a shipment confirmation; it is not sent again.
    #[serde(rename = "shipment.failed")]
    ShipmentFailed {
        order_id: String,
        package_reference_id: String,
        message: String,
    },
    /// Amazon applied a seller cancellation or refund (`kind` is `CANCEL` or `REFUND`).
    #[serde(rename = "adjustment.done")]
    AdjustmentDone { kind: String, order_id: String },
    /// Amazon refused a seller cancellation or refund.
    #[serde(rename = "adjustment.failed")]
    AdjustmentFailed {
        kind: String,
        order_id: String,
        message: String,
    },
    /// An unshipped order is due within 24 hours (`overdue`: its LatestShipDate has passed);
    /// once each.
    #[serde(rename = "order.due_soon")]
    OrderDueSoon {
        order_id: String,
        latest_ship_date: String,
        overdue: bool,
    },
    /// A seller performance target is at risk or missed (once per condition).
    #[serde(rename = "performance.at_risk")]
    PerformanceAtRisk {
        metric: String,
        marketplace_id: String,
        rate: f64,
        target: f64,
        message: String,
    },
    /// Amazon's figure (its seller performance report) and sellsync's over the same window
    /// differ by more than `account_health.tolerance`, or Amazon counts orders the store does
    /// not have (`orders_not_seen`: orders Amazon counts that sellsync never saw); once until
    /// they agree again.
    #[serde(rename = "account_health.disagrees")]
    AccountHealthDisagrees {
        marketplace_id: String,
        metric: String,
        from: String,
        to: String,
        amazon: Figure,
        sellsync: Figure,
        orders_not_seen: u64,
    },
    /// Amazon refused its seller performance report (403: the application lacks the Selling
    /// Partner Insights role, which the seller grants with the application); it is asked again
    /// every `account_health.interval_seconds`. Once until a report is read.
    #[serde(rename = "account_health.unavailable")]
    AccountHealthUnavailable { message: String },
    /// Amazon's own figure crossed its target (`misses`: it is now on the wrong side; false:
    /// back on the right one); once per crossing.
    #[serde(rename = "account_health.target")]
    AccountHealthTarget {
        marketplace_id: String,
        metric: String,
        /// For the order defect rate: `mfn` or `afn`.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        fulfilment: Option<String>,
        window_days: i64,
        rate: f64,
        target: f64,
        misses: bool,
    },
    /// A sync cycle failed; it is tried again at the next interval.
    #[serde(rename = "sync.failed")]
    SyncFailed {
        flow: String,
        status: String,
        message: String,
    },
    /// Buyer data (recipients) was deleted: `reason` is `retention` (the retention period
    /// after delivery passed) or `key_lost` (the key file was missing and a new key was
    /// started, as `privacy.new_key_if_lost` allows). `orders` counts the orders whose buyer
    /// data went.
    #[serde(rename = "privacy.buyer_data_purged")]
    BuyerDataPurged { orders: u64, reason: String },
    /// Calls of `operation` met a fault (`count` times in one run of `flow`): `fault` says
    /// which (`throttled`, `server_error`, `timeout`, `connection`, `unreadable_answer`,
    /// `token_expired`, `lwa_unavailable`, `feed_fatal`), `next` what the library does
    /// (`retry`, `read_back`, `refresh_token`, `resend`, `next_run`).
    #[serde(rename = "sync.retrying")]
    SyncRetrying {
        flow: String,
        operation: String,
        fault: String,
        http_status: Option<u16>,
        next: String,
        count: u64,
        message: String,
    },
    /// Amazon could not be reached: every attempt of a call failed. Work stays queued.
    #[serde(rename = "amazon.offline")]
    AmazonOffline {
        flow: String,
        operation: String,
        fault: String,
        message: String,
    },
    /// Login with Amazon refused the seller's refresh token (`invalid_grant`, as when the seller
    /// revoked the application: no call is made for the account until
    /// `sellsync_set_credentials` gives new credentials) or the client secret (`invalid_client`:
    /// tried again after a cool-down growing from a minute to an hour). Nothing queued is given
    /// up. Once per refusal; the flows send no `sync.failed` meanwhile.
    #[serde(rename = "auth.revoked")]
    AuthRevoked { message: String },
    /// A price changes by more than `prices.confirm_change_percent` from its reference: it
    /// waits for `sellsync_price_confirm`.
    #[serde(rename = "price.confirmation_needed")]
    PriceConfirmationNeeded {
        sku: String,
        marketplace_id: String,
        currency: String,
        price: String,
        /// The price it is compared with: the last one Amazon accepted, or Amazon's own.
        reference: String,
        change_percent: f64,
    },
    /// Amazon accepted a price (it applies it later).
    #[serde(rename = "price.accepted")]
    PriceAccepted {
        sku: String,
        marketplace_id: String,
        currency: String,
        price: String,
    },
    /// The listing shows a price sent.
    #[serde(rename = "price.applied")]
    PriceApplied {
        sku: String,
        marketplace_id: String,
        currency: String,
        price: String,
    },
    /// A price was not sent, or Amazon refused it.
    #[serde(rename = "price.refused")]
    PriceRefused {
        sku: String,
        marketplace_id: String,
        currency: String,
        price: String,
        /// `currency` (the listing shows another one), `no_listing` or `amazon` (Amazon's
        /// issues in `message`).
        reason: String,
        message: String,
    },
    /// Amazon answered again after being unreachable since `offline_since`.
    #[serde(rename = "amazon.online")]
    AmazonOnline {
        offline_since: String,
        offline_seconds: i64,
    },
}

/// One host item in a SKU: how many of its units one SKU unit consumes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    pub host_item: String,
    #[serde(default = "one")]
    pub units: i64,
}

fn one() -> i64 {
    1
}

/// How one Amazon SKU is made of host items, with its own stock policy
/// (`sellsync_sku_map`). One item with 1 unit is a plain mapping; one item with 6 units a
/// 6-pack; several items a kit. Several SKUs may share a host item (aliases).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkuMapping {
    pub sku: String,
    #[serde(default)]
    pub items: Vec<Component>,
    /// Fulfilled by Amazon: its quantity is Amazon's and is never pushed.
    #[serde(default)]
    pub fba: bool,
    /// The listing's Amazon product type (default: `stock.product_type` of the configuration).
    #[serde(default)]
    pub product_type: Option<String>,
    /// Per-SKU overrides of the configuration's stock policy.
    #[serde(default)]
    pub buffer: Option<Buffer>,
    #[serde(default)]
    pub allocation_percent: Option<i64>,
    #[serde(default)]
    pub max_quantity: Option<i64>,
    #[serde(default)]
    pub urgent_threshold: Option<i64>,
    /// The listing's handling time in days (0 to 30), sent with its quantity (default:
    /// `stock.handling_days`; none there either: Amazon's stays as it is).
    #[serde(default)]
    pub handling_days: Option<i64>,
    /// Removes the SKU's mapping (nothing is pushed for it any more).
    #[serde(default)]
    pub remove: bool,
}

/// Units kept back from Amazon: a fixed number, or `"auto"` (adaptive safety stock: the units
/// likely to sell in the shop while Amazon's orders are not yet visible).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Buffer {
    /// A fixed number of units (≥ 0).
    Units(i64),
    /// From each item's recent in-store sales rate.
    Auto,
}

impl Default for Buffer {
    fn default() -> Self {
        Buffer::Units(0)
    }
}

impl Serialize for Buffer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Buffer::Units(n) => s.serialize_i64(*n),
            Buffer::Auto => s.serialize_str("auto"),
        }
    }
}

impl<'de> Deserialize<'de> for Buffer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Units(i64),
            Word(String),
        }
        match Raw::deserialize(d)? {
            Raw::Units(n) => Ok(Buffer::Units(n)),
            Raw::Word(w) if w == "auto" => Ok(Buffer::Auto),
            Raw::Word(w) => Err(serde::de::Error::custom(format!(
                "buffer must be a number of units or \"auto\", not {}",
                crate::error::quote(&w)
            ))),
        }
    }
}

/// A SKU's price in one marketplace, as the host sets it (`sellsync_price_set`): decimal
/// amounts in the marketplace's currency, a sale price with its window, and the seller's
/// floor and ceiling (kept for later calls that give none).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceSet {
    pub sku: String,
    pub marketplace_id: String,
    pub price: String,
    #[serde(default)]
    pub sale_price: Option<String>,
    #[serde(default)]
    pub sale_start: Option<String>,
    #[serde(default)]
    pub sale_end: Option<String>,
    #[serde(default)]
    pub minimum: Option<String>,
    #[serde(default)]
    pub maximum: Option<String>,
}

/// An absolute on-hand quantity of a host item (`sellsync_stock_set`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockLevel {
    pub host_item: String,
    pub on_hand: i64,
}

/// The stock policy: what share of the shop's stock Amazon may show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Units kept back from Amazon.
    pub buffer: i64,
    /// Share (0..=100) of what is left that Amazon shows.
    pub allocation_percent: i64,
    /// Most Amazon shows, if set.
    pub max_quantity: Option<i64>,
    /// At or below this, a decrease is pushed at once (patch), ahead of the bulk feed.
    pub urgent_threshold: i64,
}

impl Policy {
    /// The quantity Amazon should show when `available` units are free for sale.
    pub fn apply(&self, available: i64) -> i64 {
        let left = available.saturating_sub(self.buffer).max(0);
        let allocated = left.saturating_mul(self.allocation_percent.clamp(0, 100)) / 100;
        self.max_quantity
            .map_or(allocated, |m| allocated.min(m.max(0)))
    }
}

/// A listing as Amazon has it (from the merchant listings report).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    pub sku: String,
    pub asin: Option<String>,
    pub title: Option<String>,
    /// A decimal string.
    pub price: Option<String>,
    /// What Amazon shows (None for listings fulfilled by Amazon).
    pub quantity: Option<i64>,
    /// `DEFAULT` for the shop's own, `AMAZON_NA`/`AMAZON_EU`/... for FBA.
    pub fulfillment_channel: Option<String>,
    pub status: Option<String>,
}

/// A buyer's return of units of one order line, as Amazon's returns reports give it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Return {
    pub order_id: String,
    /// The order line returned, when sellsync has the order.
    pub order_item_id: Option<String>,
    pub sku: String,
    pub quantity: i64,
    /// Amazon's reason code, e.g. `NOT_AS_DESCRIBED`, `DEFECTIVE`.
    pub reason: String,
    /// Amazon's status of the return (seller-fulfilled: `Return request status`; FBA: the
    /// unit's `status`, with its `disposition`).
    pub status: String,
    pub disposition: Option<String>,
    pub fulfilled_by: FulfilledBy,
    /// Amazon's RMA id (seller-fulfilled) or license plate number (FBA).
    pub return_id: String,
    /// When the buyer asked to return it (seller-fulfilled) or FBA received it.
    pub returned_at: String,
}

/// One line of a shipped package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShipmentItem {
    pub order_item_id: String,
    pub quantity: i64,
}

/// A package the host shipped (`sellsync_shipment_confirm`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shipment {
    pub order_id: String,
    /// Positive number unique per order; the next free one when absent.
    #[serde(default)]
    pub package_reference_id: Option<String>,
    /// Amazon's carrier code (e.g. `UPS`, `DHL`), or `Other` with `carrier_name`.
    pub carrier_code: String,
    #[serde(default)]
    pub carrier_name: Option<String>,
    #[serde(default)]
    pub shipping_method: Option<String>,
    pub tracking_number: String,
    /// ISO 8601; now when absent.
    #[serde(default)]
    pub ship_date: Option<String>,
    pub items: Vec<ShipmentItem>,
}

/// Amazon's reasons for a seller cancellation (order acknowledgement feed).
pub const CANCEL_REASONS: &[&str] = &[
    "NoInventory",
    "ShippingAddressUndeliverable",
    "CustomerExchange",
    "BuyerCanceled",
    "GeneralAdjustment",
    "CarrierCreditDecision",
    "RiskAssessmentInformationNotValid",
    "CarrierCoverageFailure",
    "CustomerReturn",
    "MerchandiseNotReceived",
];

/// Amazon's reasons for a refund (payment adjustment feed).
pub const REFUND_REASONS: &[&str] = &[
    "NoInventory",
    "CustomerReturn",
    "GeneralAdjustment",
    "CouldNotShip",
    "DifferentItem",
    "Abandoned",
    "CustomerCancel",
    "PriceError",
    "ProductOutofStock",
    "CustomerAddressIncorrect",
    "Exchange",
    "Other",
    "CarrierCreditDecision",
    "RiskAssessmentInformationNotValid",
    "CarrierCoverageFailure",
    "TransactionRecord",
    "Undeliverable",
    "RefusedDelivery",
];

/// One refunded line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundItem {
    pub order_item_id: String,
    /// The amount refunded for the item's price, a positive decimal string.
    pub amount: String,
}

/// A refund (`sellsync_order_refund`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refund {
    pub order_id: String,
    /// The host's own reference for this refund (1 to 64 characters): the same reference
    /// again, after a crash or a retry, is accepted and sends nothing more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    /// One of Amazon's adjustment reasons (e.g. `CustomerReturn`).
    pub reason: String,
    pub items: Vec<RefundItem>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_subtracts_the_buffer_then_allocates_then_caps() {
        let p = Policy {
            buffer: 2,
            allocation_percent: 50,
            max_quantity: Some(10),
            urgent_threshold: 0,
        };
        assert_eq!(p.apply(100), 10);
        assert_eq!(p.apply(12), 5);
        assert_eq!(p.apply(3), 0);
        assert_eq!(p.apply(-5), 0);
        let all = Policy {
            buffer: 0,
            allocation_percent: 100,
            max_quantity: None,
            urgent_threshold: 0,
        };
        assert_eq!(all.apply(7), 7);
    }
}
