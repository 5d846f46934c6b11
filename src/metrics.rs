//! Seller performance, computed from the store against Amazon's targets: pre-fulfilment
//! cancellation rate (< 2.5%, 7 days), late shipment rate (< 4%, 10 and 30 days) and the refund
//! rate (seller refunds, 60 days; Amazon's order defect rate counts claims, chargebacks and
//! negative feedback instead, which only Amazon sees: the same 1% is kept as a guide), per
//! marketplace, with what is at risk right now; and beside them Amazon's own figures from its
//! last seller performance report, each with sellsync's count over Amazon's window.

use crate::amazon::account_health::AmazonMetric;
use crate::error::{quote, Error, Result};
use crate::model::Figure;
use crate::store::metrics::Count;
use crate::store::Store;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

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

/// Longest window of a metric, in days.
pub const MAX_DAYS: i64 = 365;
/// Longest `horizon_hours`.
pub const MAX_HORIZON_HOURS: f64 = 8760.0;
/// Most late shipment windows one query may ask for.
pub const MAX_LATE_WINDOWS: usize = 10;

impl Query {
    /// Checks every value against its range (`marketplace_ids` is checked where it is used):
    /// `horizon_hours` 0 to 8760, each window 1 to 365 days, at most 10 late shipment windows.
    pub fn check(&self) -> Result<()> {
        let days = |name: &str, d: i64| {
            if (1..=MAX_DAYS).contains(&d) {
                Ok(())
            } else {
                Err(Error::InvalidArgument(crate::config::range_text(
                    name,
                    1.0,
                    MAX_DAYS as f64,
                    false,
                    true,
                )))
            }
        };
        days("cancellation_days", self.cancellation_days)?;
        days("defect_days", self.defect_days)?;
        if self.late_shipment_days.len() > MAX_LATE_WINDOWS {
            return Err(Error::InvalidArgument(format!(
                "late_shipment_days may name at most {MAX_LATE_WINDOWS} windows, not {}",
                self.late_shipment_days.len()
            )));
        }
        for d in &self.late_shipment_days {
            days("late_shipment_days", *d)?;
        }
        let h = self.horizon_hours;
        if !(h.is_finite() && (0.0..=MAX_HORIZON_HOURS).contains(&h)) {
            return Err(Error::InvalidArgument(crate::config::range_text(
                "horizon_hours",
                0.0,
                MAX_HORIZON_HOURS,
                false,
                false,
            )));
        }
        Ok(())
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

/// One rate with its parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metric {
    /// `cancellation_rate`, `late_shipment_rate` or `refund_rate`.
    pub name: &'static str,
    pub window_days: i64,
    pub numerator: u64,
    pub denominator: u64,
    pub rate: f64,
    pub target: f64,
    /// `ok`, `at_risk` or `failing`.
    pub status: &'static str,
}

impl Metric {
    fn new(name: &'static str, window_days: i64, c: Count, target: f64) -> Metric {
        let rate = if c.denominator == 0 {
            0.0
        } else {
            c.numerator as f64 / c.denominator as f64
        };
        Metric {
            name,
            window_days,
            numerator: c.numerator,
            denominator: c.denominator,
            rate,
            target,
            status: status(rate, target),
        }
    }
}

/// The rates of one marketplace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MarketplaceMetrics {
    pub marketplace_id: String,
    pub metrics: Vec<Metric>,
    /// Amazon's own figures (None: no seller performance report read yet).
    pub amazon: Option<AmazonHealth>,
}

/// Amazon's account health of a marketplace, from its last seller performance report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AmazonHealth {
    pub report_id: String,
    pub read_at: String,
    pub account_status: Option<String>,
    pub account_health_rating: Option<String>,
    pub metrics: Vec<AmazonFigure>,
}

/// One of Amazon's figures with sellsync's count over the same window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AmazonFigure {
    #[serde(flatten)]
    pub amazon: AmazonMetric,
    /// sellsync's count over Amazon's window (None: sellsync counts nothing comparable).
    pub sellsync: Option<Figure>,
    /// Orders Amazon counts that the store does not have.
    pub orders_not_seen: u64,
    /// The two differ by more than `account_health.tolerance`, or Amazon counts orders the
    /// store does not have.
    pub disagrees: bool,
    /// Amazon's rate is on the wrong side of its target.
    pub misses_target: bool,
}

fn parse_window(m: &AmazonMetric) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let t = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    };
    Some((t(&m.from)?, t(&m.to)?))
}

/// sellsync's own count over the window of one of Amazon's figures: the cancellation and late
/// shipment rates as sellsync computes them, and for the seller-fulfilled order defect rate
/// the orders alone (sellsync cannot see claims, chargebacks and feedback). None for the rest.
pub fn own_figure(store: &Store, marketplace_id: &str, m: &AmazonMetric) -> Result<Option<Figure>> {
    let Some((from, to)) = parse_window(m) else {
        return Ok(None);
    };
    let full = |c: Count| Figure {
        numerator: Some(c.numerator),
        denominator: c.denominator,
        rate: Some(if c.denominator == 0 {
            0.0
        } else {
            c.numerator as f64 / c.denominator as f64
        }),
    };
    Ok(match (m.name.as_str(), m.fulfilment.as_deref()) {
        ("cancellation_rate", _) => {
            Some(full(store.cancellation_count(marketplace_id, from, to)?))
        }
        ("late_shipment_rate", _) => {
            Some(full(store.late_shipment_count(marketplace_id, from, to)?))
        }
        ("order_defect_rate", Some("mfn")) => Some(Figure {
            numerator: None,
            denominator: store.refund_count(marketplace_id, from, to)?.denominator,
            rate: None,
        }),
        _ => None,
    })
}

/// One of Amazon's figures beside sellsync's (`tolerance`: see `account_health.tolerance`).
pub fn compare(
    store: &Store,
    marketplace_id: &str,
    m: &AmazonMetric,
    tolerance: f64,
) -> Result<AmazonFigure> {
    let own = own_figure(store, marketplace_id, m)?;
    let orders_not_seen = own
        .as_ref()
        .map_or(0, |f| m.denominator.saturating_sub(f.denominator));
    let differs = own
        .as_ref()
        .and_then(|f| f.rate)
        .is_some_and(|r| (r - m.rate).abs() > tolerance);
    Ok(AmazonFigure {
        amazon: m.clone(),
        sellsync: own,
        orders_not_seen,
        disagrees: differs || orders_not_seen > 0,
        misses_target: m.misses_target(),
    })
}

/// Amazon's stored account health of a marketplace with sellsync's counts beside it.
pub fn amazon_health(
    store: &Store,
    marketplace_id: &str,
    tolerance: f64,
) -> Result<Option<AmazonHealth>> {
    let Some(stored) = store.account_health(marketplace_id)? else {
        return Ok(None);
    };
    let metrics = stored
        .health
        .metrics
        .iter()
        .map(|m| compare(store, marketplace_id, m, tolerance))
        .collect::<Result<_>>()?;
    Ok(Some(AmazonHealth {
        report_id: stored.report_id,
        read_at: stored.read_at,
        account_status: stored.health.account_status,
        account_health_rating: stored.health.account_health_rating,
        metrics,
    }))
}

/// An unshipped order due within the horizon, or overdue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueOrder {
    pub order_id: String,
    pub marketplace_id: String,
    pub latest_ship_date: String,
    pub overdue: bool,
}

/// A SKU for which Amazon shows more than the shop can ship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverShown {
    pub sku: String,
    pub amazon_shows: i64,
    pub should_show: i64,
}

/// What is at risk right now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AtRisk {
    pub orders_due: Vec<DueOrder>,
    pub shipments_waiting: u64,
    pub skus_amazon_shows_more_than_the_shop_has: Vec<OverShown>,
}

/// The metrics document `sellsync_metrics` returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub as_of: String,
    pub marketplaces: Vec<MarketplaceMetrics>,
    pub at_risk: AtRisk,
}

impl Metrics {
    /// The JSON document (the shape `sellsync_metrics` documents).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// Computes the metrics.
pub fn compute(
    store: &Store,
    marketplaces: &[String],
    clock_now: DateTime<Utc>,
    q: &Query,
    tolerance: f64,
) -> Result<Metrics> {
    let now = match &q.now {
        Some(t) => DateTime::parse_from_rfc3339(t)
            .map_err(|e| Error::InvalidArgument(format!("now {} is not ISO 8601: {e}", quote(t))))?
            .with_timezone(&Utc),
        None => clock_now,
    };
    q.check()?;
    let mps = match &q.marketplace_ids {
        Some(ids) => crate::config::marketplace_ids(ids, "marketplace_ids")
            .map_err(Error::InvalidArgument)?,
        None => marketplaces.to_vec(),
    };
    let days = |d: i64| now - Duration::days(d);
    let mut per_marketplace = Vec::new();
    for mp in &mps {
        let mut metrics = vec![Metric::new(
            "cancellation_rate",
            q.cancellation_days,
            store.cancellation_count(mp, days(q.cancellation_days), now)?,
            CANCELLATION_TARGET,
        )];
        for d in &q.late_shipment_days {
            metrics.push(Metric::new(
                "late_shipment_rate",
                *d,
                store.late_shipment_count(mp, days(*d), now)?,
                LATE_SHIPMENT_TARGET,
            ));
        }
        metrics.push(Metric::new(
            "refund_rate",
            q.defect_days,
            store.refund_count(mp, days(q.defect_days), now)?,
            DEFECT_TARGET,
        ));
        per_marketplace.push(MarketplaceMetrics {
            marketplace_id: mp.clone(),
            metrics,
            amazon: amazon_health(store, mp, tolerance)?,
        });
    }
    let horizon = now + Duration::milliseconds((q.horizon_hours * 3_600_000.0) as i64);
    let now_ts = crate::store::ts(now);
    let orders_due = store
        .orders_due(horizon)?
        .into_iter()
        .filter(|(_, mp, _)| mps.contains(mp))
        .map(|(order_id, marketplace_id, latest_ship_date)| DueOrder {
            overdue: latest_ship_date < now_ts,
            order_id,
            marketplace_id,
            latest_ship_date,
        })
        .collect();
    let over = store
        .skus_over_shown()?
        .into_iter()
        .map(|(sku, amazon_shows, should_show)| OverShown {
            sku,
            amazon_shows,
            should_show,
        })
        .collect();
    Ok(Metrics {
        as_of: now_ts,
        marketplaces: per_marketplace,
        at_risk: AtRisk {
            orders_due,
            shipments_waiting: store.shipments_waiting()?,
            skus_amazon_shows_more_than_the_shop_has: over,
        },
    })
}

/// Amazon's marketplaces by id (Amazon's "Marketplace IDs" page): the store's name and the
/// country code.
const MARKETPLACES: &[(&str, &str)] = &[
    ("A2EUQ1WTGCTBG2", "Amazon.ca (CA)"),
    ("ATVPDKIKX0DER", "Amazon.com (US)"),
    ("A1AM78C64UM0Y8", "Amazon.com.mx (MX)"),
    ("A2Q3Y263D00KWC", "Amazon.com.br (BR)"),
    ("A28R8C7NBKEWEA", "Amazon.ie (IE)"),
    ("A1RKKUPIHCS9HS", "Amazon.es (ES)"),
    ("A1F83G8C2ARO7P", "Amazon.co.uk (UK)"),
    ("A13V1IB3VIYZZH", "Amazon.fr (FR)"),
    ("AMEN7PMS3EDWL", "Amazon.com.be (BE)"),
    ("A1805IZSGTT6HS", "Amazon.nl (NL)"),
    ("A1PA6795UKMFR9", "Amazon.de (DE)"),
    ("APJ6JRA9NG5V4", "Amazon.it (IT)"),
    ("A2NODRKZP88ZB9", "Amazon.se (SE)"),
    ("AE08WJ6YKNBMC", "Amazon.co.za (ZA)"),
    ("A1C3SOZRARQ6R3", "Amazon.pl (PL)"),
    ("ARBP9OOSHTCHU", "Amazon.eg (EG)"),
    ("A33AVAJ2PDY3EV", "Amazon.com.tr (TR)"),
    ("A17E79C6D8DWNP", "Amazon.sa (SA)"),
    ("A2VIGQ35RCS4UG", "Amazon.ae (AE)"),
    ("A21TJRUUN4KGV", "Amazon.in (IN)"),
    ("A19VAU5U5O7RUS", "Amazon.sg (SG)"),
    ("A39IBJ37TRP1C6", "Amazon.com.au (AU)"),
    ("A1VC38T7YXB528", "Amazon.co.jp (JP)"),
];

/// A marketplace's store name and country, e.g. "Amazon.com (US)" for `ATVPDKIKX0DER`; None
/// for an id Amazon does not list.
pub fn marketplace_name(id: &str) -> Option<&'static str> {
    MARKETPLACES.iter().find(|(m, _)| *m == id).map(|(_, n)| *n)
}
