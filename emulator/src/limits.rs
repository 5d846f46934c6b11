//! Amazon's usage plans: one table of every emulated operation with its documented rate and
//! burst, and the token buckets that enforce them per (seller, operation).
//!
//! Source of every number: the "Usage Plan" table in each operation's description in the
//! official models (`spapi-models/*.json`), summarised in the project's reference notes.

use std::collections::HashMap;
use std::time::Instant;

/// Every operation the emulator serves, named as in the official models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// LWA token exchange (not rate limited by a usage plan).
    LwaToken,
    SearchOrders,
    GetOrder2026,
    GetOrders,
    GetOrder,
    GetOrderItems,
    GetOrderAddress,
    ConfirmShipment,
    UpdateShipmentStatus,
    CreateRestrictedDataToken,
    GetMarketplaceParticipations,
    GetListingsItem,
    PutListingsItem,
    PatchListingsItem,
    DeleteListingsItem,
    SearchListingsItems,
    GetInventorySummaries,
    CreateFeedDocument,
    CreateFeed,
    GetFeed,
    GetFeeds,
    CancelFeed,
    GetFeedDocument,
    CreateReport,
    GetReport,
    GetReportDocument,
    CreateDestination,
    GetDestinations,
    GetDestination,
    DeleteDestination,
    CreateSubscription,
    GetSubscription,
    GetSubscriptions,
    GetSubscriptionById,
    DeleteSubscriptionById,
    /// The presigned document upload/download URLs (S3 on Amazon: no usage plan).
    Document,
}

/// (operation, name in the models, rate in requests per second, burst).
const TABLE: &[(Op, &str, f64, u32)] = &[
    (Op::LwaToken, "lwaToken", 0.0, 0),
    (Op::SearchOrders, "searchOrders", 0.0056, 20),
    (Op::GetOrder2026, "getOrder2026", 0.5, 30),
    (Op::GetOrders, "getOrders", 0.0167, 20),
    (Op::GetOrder, "getOrder", 0.5, 30),
    (Op::GetOrderItems, "getOrderItems", 0.5, 30),
    (Op::GetOrderAddress, "getOrderAddress", 0.5, 30),
    (Op::ConfirmShipment, "confirmShipment", 2.0, 10),
    (Op::UpdateShipmentStatus, "updateShipmentStatus", 5.0, 15),
    (
        Op::CreateRestrictedDataToken,
        "createRestrictedDataToken",
        1.0,
        10,
    ),
    (
        Op::GetMarketplaceParticipations,
        "getMarketplaceParticipations",
        0.016,
        15,
    ),
    (Op::GetListingsItem, "getListingsItem", 5.0, 10),
    (Op::PutListingsItem, "putListingsItem", 5.0, 10),
    (Op::PatchListingsItem, "patchListingsItem", 5.0, 5),
    (Op::DeleteListingsItem, "deleteListingsItem", 5.0, 5),
    (Op::SearchListingsItems, "searchListingsItems", 5.0, 5),
    (Op::GetInventorySummaries, "getInventorySummaries", 2.0, 2),
    (Op::CreateFeedDocument, "createFeedDocument", 0.5, 15),
    (Op::CreateFeed, "createFeed", 0.0083, 15),
    (Op::GetFeed, "getFeed", 2.0, 15),
    (Op::GetFeeds, "getFeeds", 0.0222, 10),
    (Op::CancelFeed, "cancelFeed", 2.0, 15),
    (Op::GetFeedDocument, "getFeedDocument", 0.0222, 10),
    (Op::CreateReport, "createReport", 0.0167, 15),
    (Op::GetReport, "getReport", 2.0, 15),
    (Op::GetReportDocument, "getReportDocument", 0.0167, 15),
    (Op::CreateDestination, "createDestination", 1.0, 5),
    (Op::GetDestinations, "getDestinations", 1.0, 5),
    (Op::GetDestination, "getDestination", 1.0, 5),
    (Op::DeleteDestination, "deleteDestination", 1.0, 5),
    (Op::CreateSubscription, "createSubscription", 1.0, 5),
    (Op::GetSubscription, "getSubscription", 1.0, 5),
    (Op::GetSubscriptions, "getSubscriptions", 1.0, 5),
    (Op::GetSubscriptionById, "getSubscriptionById", 1.0, 5),
    (Op::DeleteSubscriptionById, "deleteSubscriptionById", 1.0, 5),
    (Op::Document, "document", 0.0, 0),
];

/// `JSON_LISTINGS_FEED`: at most this many submissions per window per region.
pub const LISTINGS_FEED_MAX: usize = 5;
/// `JSON_LISTINGS_FEED`: the window in seconds (5 minutes).
pub const LISTINGS_FEED_WINDOW_S: f64 = 300.0;

impl Op {
    fn row(self) -> &'static (Op, &'static str, f64, u32) {
        TABLE
            .iter()
            .find(|row| row.0 == self)
            .expect("every Op has a row in TABLE")
    }
    /// The operation's name as in the official models.
    pub fn name(self) -> &'static str {
        self.row().1
    }
    /// Documented sustained rate in requests per second (0 = not limited).
    pub fn rate(self) -> f64 {
        self.row().2
    }
    /// Documented burst.
    pub fn burst(self) -> u32 {
        self.row().3
    }
    /// Looks an operation up by its model name.
    pub fn from_name(name: &str) -> Option<Op> {
        TABLE.iter().find(|row| row.1 == name).map(|row| row.0)
    }
    /// Every operation.
    pub fn all() -> impl Iterator<Item = Op> {
        TABLE.iter().map(|row| row.0)
    }
    /// Whether a usage plan applies.
    pub fn limited(self) -> bool {
        self.rate() > 0.0
    }
    /// The scope of the grantless token the operation needs (the models call these
    /// operations "grantless"); None for an operation a seller authorises.
    pub fn grantless_scope(self) -> Option<&'static str> {
        matches!(
            self,
            Op::CreateDestination
                | Op::GetDestinations
                | Op::GetDestination
                | Op::DeleteDestination
                | Op::GetSubscriptionById
                | Op::DeleteSubscriptionById
        )
        .then_some("sellingpartnerapi::notifications")
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets per (seller, operation), refilled at `rate * scale` per real second.
#[derive(Debug)]
pub struct Buckets {
    scale: f64,
    buckets: HashMap<(String, Op), Bucket>,
    listings_feeds: HashMap<String, Vec<Instant>>,
}

impl Buckets {
    /// New buckets; `scale` multiplies every documented rate.
    pub fn new(scale: f64) -> Self {
        Buckets {
            scale,
            buckets: HashMap::new(),
            listings_feeds: HashMap::new(),
        }
    }

    /// The effective rate for `op`, as reported in `x-amzn-RateLimit-Limit`.
    pub fn effective_rate(&self, op: Op) -> f64 {
        op.rate() * self.scale
    }

    /// Takes one token for `seller` and `op`; false when the bucket is empty (429).
    pub fn take(&mut self, seller: &str, op: Op, now: Instant) -> bool {
        if !op.limited() {
            return true;
        }
        let rate = self.effective_rate(op);
        let burst = f64::from(op.burst());
        let b = self
            .buckets
            .entry((seller.to_string(), op))
            .or_insert(Bucket {
                tokens: burst,
                at: now,
            });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Records a `JSON_LISTINGS_FEED` submission for `seller`'s region; false past 5 per 5 minutes.
    pub fn take_listings_feed(&mut self, seller: &str, now: Instant) -> bool {
        let window = LISTINGS_FEED_WINDOW_S / self.scale;
        let times = self.listings_feeds.entry(seller.to_string()).or_default();
        times.retain(|t| now.saturating_duration_since(*t).as_secs_f64() < window);
        if times.len() >= LISTINGS_FEED_MAX {
            return false;
        }
        times.push(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn every_operation_has_exactly_one_row() {
        for (op, name, _, _) in TABLE {
            assert_eq!(TABLE.iter().filter(|r| r.0 == *op).count(), 1);
            assert_eq!(Op::from_name(name), Some(*op));
        }
    }

    #[test]
    fn bucket_allows_burst_then_refills_at_scaled_rate() {
        let mut b = Buckets::new(1000.0);
        let t0 = Instant::now();
        for _ in 0..10 {
            assert!(b.take("S", Op::ConfirmShipment, t0));
        }
        assert!(!b.take("S", Op::ConfirmShipment, t0));
        // 2 req/s * 1000 = one token every 0.5 ms.
        assert!(b.take("S", Op::ConfirmShipment, t0 + Duration::from_micros(600)));
        assert!(!b.take("S", Op::ConfirmShipment, t0 + Duration::from_micros(600)));
        // Another seller has its own bucket.
        assert!(b.take("T", Op::ConfirmShipment, t0));
    }

    #[test]
    fn listings_feed_limit_is_five_per_window() {
        let mut b = Buckets::new(1.0);
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(b.take_listings_feed("S", t0));
        }
        assert!(!b.take_listings_feed("S", t0 + Duration::from_secs(299)));
        assert!(b.take_listings_feed("S", t0 + Duration::from_secs(301)));
    }
}
