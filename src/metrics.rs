//! Seller performance, computed from the store against Amazon's targets: pre-fulfilment
//! cancellation rate (< 2.5%, 7 days), late shipment rate (< 4%, 10 and 30 days) and order
//! defect rate as this library can see it (seller refunds, < 1%, 60 days), per marketplace,
//! with what is at risk right now.

use crate::error::{Error, Result};
use crate::store::metrics::Count;
use crate::store::Store;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

/// Amazon's targets.
pub const CANCELLATION_TARGET: f64 = 0.025;
/// Late shipment rate target.
pub const LATE_SHIPMENT_TARGET: f64 = 0.04;
/// Order defect rate target.
pub const DEFECT_TARGET: f64 = 0.01;
/// A rate at or above this share of its target is "at risk".
pub const AT_RISK_SHARE: f64 = 0.75;

/// What `sellsync_metrics` is asked (every field optional).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Query {
    /// Evaluate as of this time (ISO 8601; default now).
    pub now: Option<String>,
    /// Marketplaces (default: the configured ones).
    pub marketplace_ids: Option<Vec<String>>,
    /// Unshipped orders due within this many hours are listed as at risk.
    pub horizon_hours: f64,
    pub cancellation_days: i64,
    pub late_shipment_days: Vec<i64>,
    pub defect_days: i64,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            now: None,
            marketplace_ids: None,
            horizon_hours: 24.0,
            cancellation_days: 7,
            late_shipment_days: vec![10, 30],
            defect_days: 60,
        }
    }
}

/// `ok`, `at_risk` or `failing` for a rate against its target.
pub fn status(rate: f64, target: f64) -> &'static str {
    if rate >= target {
        "failing"
    } else if rate >= target * AT_RISK_SHARE {
        "at_risk"
    } else {
        "ok"
    }
}

/// A rate with its parts.
pub fn metric(name: &str, days: i64, c: Count, target: f64) -> Value {
    let rate = if c.denominator == 0 {
        0.0
    } else {
        c.numerator as f64 / c.denominator as f64
    };
    json!({"name": name, "window_days": days, "numerator": c.numerator, "denominator": c.denominator,
           "rate": rate, "target": target, "status": status(rate, target)})
}

/// Computes the metrics document.
pub fn compute(
    store: &Store,
    marketplaces: &[String],
    clock_now: DateTime<Utc>,
    q: &Query,
) -> Result<Value> {
    let now = match &q.now {
        Some(t) => DateTime::parse_from_rfc3339(t)
            .map_err(|e| Error::InvalidArgument(format!("now {t:?} is not ISO 8601: {e}")))?
            .with_timezone(&Utc),
        None => clock_now,
    };
    let windows_ok =
        q.cancellation_days > 0 && q.defect_days > 0 && q.late_shipment_days.iter().all(|d| *d > 0);
    let horizon_ok = q.horizon_hours.is_finite() && q.horizon_hours >= 0.0;
    if !windows_ok || !horizon_ok {
        return Err(Error::InvalidArgument(
            "windows must be positive days and horizon_hours >= 0".into(),
        ));
    }
    let mps = q
        .marketplace_ids
        .clone()
        .unwrap_or_else(|| marketplaces.to_vec());
    let days = |d: i64| now - Duration::days(d);
    let mut per_marketplace = Vec::new();
    for mp in &mps {
        let mut metrics = vec![metric(
            "cancellation_rate",
            q.cancellation_days,
            store.cancellation_count(mp, days(q.cancellation_days), now)?,
            CANCELLATION_TARGET,
        )];
        for d in &q.late_shipment_days {
            metrics.push(metric(
                "late_shipment_rate",
                *d,
                store.late_shipment_count(mp, days(*d), now)?,
                LATE_SHIPMENT_TARGET,
            ));
        }
        metrics.push(metric(
            "order_defect_rate",
            q.defect_days,
            store.refund_count(mp, days(q.defect_days), now)?,
            DEFECT_TARGET,
        ));
        per_marketplace.push(json!({"marketplace_id": mp, "metrics": metrics}));
    }
    let horizon = now + Duration::milliseconds((q.horizon_hours * 3_600_000.0) as i64);
    let due: Vec<Value> = store
        .orders_due(horizon)?
        .into_iter()
        .filter(|(_, mp, _)| mps.contains(mp))
        .map(|(id, mp, lsd)| {
            json!({"order_id": id, "marketplace_id": mp, "latest_ship_date": lsd,
                                    "overdue": lsd < crate::store::ts(now)})
        })
        .collect();
    let over: Vec<Value> = store
        .skus_over_shown()?
        .into_iter()
        .map(|(sku, amazon, should)| json!({"sku": sku, "amazon_shows": amazon, "should_show": should}))
        .collect();
    Ok(json!({
        "as_of": crate::store::ts(now),
        "marketplaces": per_marketplace,
        "at_risk": {
            "orders_due": due,
            "shipments_waiting": store.shipments_waiting()?,
            "skus_amazon_shows_more_than_the_shop_has": over,
        }
    }))
}
