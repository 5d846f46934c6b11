//! The seller's account health as Amazon computes it (`GET_V2_SELLER_PERFORMANCE_REPORT`,
//! `accountHealthReport-2020-11-18.json`), from the emulator's own orders, per marketplace:
//!
//! - pre-fulfilment cancellation rate: seller-fulfilled orders bought in the last 7 days that
//!   the seller cancelled / those orders (target < 2.5%);
//! - late shipment rate (10 and 30 days, the report's `lateShipmentRate` is the 10-day one):
//!   seller-fulfilled orders not cancelled whose LatestShipDate is in the window and whose
//!   first confirmation reached Amazon after it, or none by now / those orders (< 4%);
//! - order defect rate, seller- and Amazon-fulfilled apart: orders bought in 60 days ending 14
//!   days back (claims and feedback take time) with a negative feedback, an A-to-z claim or a
//!   chargeback / those orders (< 1%). Seller refunds are not defects;
//! - valid tracking rate (30 days, by first confirmation): packages with a tracking number
//!   Amazon did not warn about / packages (> 95%).
//!
//! Amazon's habits kept: every window is whole UTC days ending with the last full day (dates
//! to the minute, `2026-12-06T23:59Z`), whatever dates the request names (models#2165); the
//! cancellation section is named `prefulfillmentCancelRate` as in the model's own example,
//! not `preFulfillmentCancellationRate` as its schema requires; the other listing-policy
//! sections come with no defects.

use crate::world::{CanceledBy, Order, World};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// What makes an order defective in Amazon's order defect rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefectKind {
    NegativeFeedback,
    Claim,
    Chargeback,
}

/// A defect a buyer raised on an order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Defect {
    pub kind: DefectKind,
    pub at: DateTime<Utc>,
}

const CANCEL_TARGET: f64 = 0.025;
const LATE_TARGET: f64 = 0.04;
const DEFECT_TARGET: f64 = 0.01;
const TRACKING_TARGET: f64 = 0.95;
/// Days the order defect window ends before the last full day.
const DEFECT_OFFSET_DAYS: i64 = 14;

/// The listing-level sections Amazon's schema requires, here without defects.
const LISTING_SECTIONS: &[&str] = &[
    "listingPolicyViolations",
    "productAuthenticityCustomerComplaints",
    "productConditionCustomerComplaints",
    "productSafetyCustomerComplaints",
    "receivedIntellectualPropertyComplaints",
    "restrictedProductPolicyViolations",
    "suspectedIntellectualPropertyViolations",
    "foodAndProductSafetyIssues",
    "otherPolicyViolations",
    "documentRequests",
];

/// A window of whole UTC days: `days` ending with the day `end_days_back` before today.
struct Window {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl Window {
    fn new(now: DateTime<Utc>, days: i64, end_days_back: i64) -> Window {
        let today = now.date_naive().and_time(NaiveTime::MIN).and_utc();
        let to = today - Duration::days(end_days_back);
        Window {
            from: to - Duration::days(days),
            to,
        }
    }

    fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t < self.to
    }

    fn json(&self) -> Value {
        let last = self.to - Duration::minutes(1);
        json!({"reportingDateFrom": self.from.format("%Y-%m-%dT%H:%MZ").to_string(),
               "reportingDateTo": last.format("%Y-%m-%dT%H:%MZ").to_string()})
    }
}

fn rate(n: u64, d: u64) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}

/// GOOD or BAD for a rate against its target (`less`: the rate must stay below it).
fn status(rate: f64, target: f64, less: bool) -> &'static str {
    if (less && rate < target) || (!less && rate > target) {
        "GOOD"
    } else {
        "BAD"
    }
}

fn count(n: u64) -> Value {
    json!({"count": n, "status": "NONE"})
}

/// The report's document for `marketplaces` of `seller_id` as of `now`.
pub fn report(
    world: &World,
    seller_id: &str,
    marketplaces: &[String],
    now: DateTime<Utc>,
) -> Value {
    let mut statuses = Vec::new();
    let mut metrics = Vec::new();
    for mp in marketplaces {
        let orders: Vec<&Order> = world
            .orders
            .values()
            .filter(|o| o.seller_id == seller_id && &o.marketplace_id == mp)
            .collect();
        let section = marketplace(world, &orders, now);
        let bad = ["prefulfillmentCancelRate", "lateShipmentRate"]
            .iter()
            .any(|k| section[*k]["status"] == "BAD")
            || section["orderDefectRate"]["mfn"]["status"] == "BAD"
            || section["orderDefectRate"]["afn"]["status"] == "BAD";
        statuses
            .push(json!({"marketplaceId": mp, "status": if bad { "AT_RISK" } else { "NORMAL" }}));
        let mut section = section;
        section["marketplaceId"] = json!(mp);
        metrics.push(section);
    }
    json!({"accountStatuses": statuses, "performanceMetrics": metrics})
}

fn marketplace(world: &World, orders: &[&Order], now: DateTime<Utc>) -> Value {
    let mfn: Vec<&Order> = orders
        .iter()
        .copied()
        .filter(|o| !o.fulfilled_by_amazon)
        .collect();
    // Cancellation: 7 days by purchase date.
    let w = Window::new(now, 7, 0);
    let bought: Vec<&&Order> = mfn.iter().filter(|o| w.contains(o.created)).collect();
    let cancelled = bought
        .iter()
        .filter(|o| o.canceled_by == Some(CanceledBy::Seller))
        .count() as u64;
    let n = bought.len() as u64;
    let r = rate(cancelled, n);
    let cancel = json!({"reportingDateRange": w.json(), "orderCount": n, "cancellationCount": cancelled,
        "status": status(r, CANCEL_TARGET, true), "rate": r, "targetValue": CANCEL_TARGET, "targetCondition": "LESS_THAN"});
    let late = |days: i64| {
        let w = Window::new(now, days, 0);
        let due: Vec<&&Order> = mfn
            .iter()
            .filter(|o| o.canceled_by.is_none() && w.contains(o.latest_ship))
            .collect();
        let late = due
            .iter()
            .filter(|o| match first_confirmation(world, &o.order_id) {
                Some(t) => t > o.latest_ship,
                None => o.latest_ship < now,
            })
            .count() as u64;
        let n = due.len() as u64;
        let r = rate(late, n);
        json!({"reportingDateRange": w.json(), "orderCount": n, "lateShipmentCount": late,
            "status": status(r, LATE_TARGET, true), "rate": r, "targetValue": LATE_TARGET, "targetCondition": "LESS_THAN"})
    };
    let defects = |fba: bool| {
        let w = Window::new(now, 60, DEFECT_OFFSET_DAYS);
        let bought: Vec<&&Order> = orders
            .iter()
            .filter(|o| o.fulfilled_by_amazon == fba && w.contains(o.created))
            .collect();
        let with = |k: DefectKind| {
            bought
                .iter()
                .filter(|o| o.defects.iter().any(|d| d.kind == k))
                .count() as u64
        };
        let defective = bought.iter().filter(|o| !o.defects.is_empty()).count() as u64;
        let n = bought.len() as u64;
        let r = rate(defective, n);
        json!({"reportingDateRange": w.json(), "orderCount": n,
            "orderWithDefects": {"count": defective, "status": status(r, DEFECT_TARGET, true)},
            "claims": count(with(DefectKind::Claim)), "chargebacks": count(with(DefectKind::Chargeback)),
            "negativeFeedback": count(with(DefectKind::NegativeFeedback)),
            "fulfillmentType": if fba { "afn" } else { "mfn" },
            "status": status(r, DEFECT_TARGET, true), "rate": r, "targetValue": DEFECT_TARGET, "targetCondition": "LESS_THAN"})
    };
    let w30 = Window::new(now, 30, 0);
    let packages: Vec<_> = world
        .shipments
        .values()
        .filter(|s| w30.contains(s.first_arrival) && mfn.iter().any(|o| o.order_id == s.order_id))
        .collect();
    let valid = packages
        .iter()
        .filter(|s| !s.tracking_number.is_empty() && s.tracking_warning.is_none())
        .count() as u64;
    let n = packages.len() as u64;
    // No package: nothing to miss.
    let r = if n == 0 { 1.0 } else { rate(valid, n) };
    let tracking = json!({"reportingDateRange": w30.json(), "shipmentCount": n, "validTrackingCount": valid,
        "status": status(r, TRACKING_TARGET, false), "rate": r, "targetValue": TRACKING_TARGET, "targetCondition": "GREATER_THAN"});
    let (late10, late30) = (late(10), late(30));
    let mut v = json!({
        "prefulfillmentCancelRate": cancel,
        "lateShipmentRate": late10.clone(),
        "lateShipmentRateList": [late10, late30],
        "orderDefectRate": {"mfn": defects(false), "afn": defects(true)},
        "validTrackingRate": tracking,
        "warningStates": [],
        "accountHealthRating": {"ahrStatus": "GREAT", "reportingDateRange": Window::new(now, 180, 0).json()},
    });
    let w180 = Window::new(now, 180, 0).json();
    for name in LISTING_SECTIONS {
        v[*name] = json!({"reportingDateRange": w180, "defectsCount": 0, "status": "GOOD",
                          "targetValue": 0, "targetCondition": "EQUALS"});
    }
    v
}

/// When the order's first package confirmation reached Amazon.
fn first_confirmation(world: &World, order_id: &str) -> Option<DateTime<Utc>> {
    world
        .shipments
        .range((order_id.to_string(), String::new())..)
        .take_while(|((o, _), _)| o == order_id)
        .map(|(_, s)| s.first_arrival)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_whole_days_ending_with_the_last_full_day() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T15:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let w = Window::new(now, 7, 0).json();
        assert_eq!(w["reportingDateFrom"], "2026-11-30T00:00Z");
        assert_eq!(w["reportingDateTo"], "2026-12-06T23:59Z");
        let w = Window::new(now, 60, DEFECT_OFFSET_DAYS).json();
        assert_eq!(w["reportingDateTo"], "2026-11-22T23:59Z");
    }
}
