//! Alerts over the seller's metrics: `order.due_soon` once per order (and once more when it is
//! overdue), `performance.at_risk` once each time a metric turns at risk or failing, and the
//! warning before a seller cancellation that takes the cancellation rate to its target.

use super::Core;
use crate::error::Result;
use crate::metrics::{self, Metrics};
use crate::model::{Event, Order};
use chrono::{DateTime, Duration, Utc};

/// How often the alerts are computed at least: a new order is never due within minutes, and
/// computing the metrics reads every order of their windows (90 days).
pub const ALERTS_EVERY: Duration = Duration::minutes(5);

/// Computes the alerts when `changed` (packages reached Amazon, which may end an order's
/// reminder), on the first run, or once `ALERTS_EVERY` has passed since the last run.
pub fn run_if_due(core: &Core, changed: bool) -> Result<()> {
    let now = core.clock.now();
    {
        let mut last = core.alerts_at.lock().unwrap_or_else(|p| p.into_inner());
        if !changed && last.is_some_and(|t| now - t < ALERTS_EVERY && now >= t) {
            return Ok(());
        }
        *last = Some(now);
    }
    run(core)
}

/// Makes the next cycle compute the alerts (the host changed what the metrics count).
pub fn due_now(core: &Core) {
    *core.alerts_at.lock().unwrap_or_else(|p| p.into_inner()) = None;
}

/// Emits the alerts that the current metrics call for, each once per change.
fn run(core: &Core) -> Result<()> {
    let m: Metrics = metrics::compute(
        &core.store,
        &core.config.marketplace_ids,
        core.clock.now(),
        &metrics::Query::default(),
        core.config.account_health.tolerance,
    )?;
    // An order no longer due (shipped, cancelled) is forgotten.
    let due: Vec<String> = m
        .at_risk
        .orders_due
        .iter()
        .map(|o| o.order_id.clone())
        .collect();
    core.store.forget_watermarks_except("alert.due.", &due)?;
    for o in &m.at_risk.orders_due {
        let key = format!("alert.due.{}", o.order_id);
        let state = if o.overdue { "overdue" } else { "due" };
        if core.store.watermark(&key)?.as_deref() == Some(state) {
            continue;
        }
        core.store.set_watermark(&key, state)?;
        core.event(&Event::OrderDueSoon {
            order_id: o.order_id.clone(),
            latest_ship_date: o.latest_ship_date.clone(),
            overdue: o.overdue,
        })?;
    }
    for mp in &m.marketplaces {
        for metric in &mp.metrics {
            let key = format!(
                "alert.{}.{}.{}",
                metric.name, metric.window_days, mp.marketplace_id
            );
            if core.store.watermark(&key)?.as_deref().unwrap_or("ok") == metric.status {
                continue;
            }
            core.store.set_watermark(&key, metric.status)?;
            if metric.status != "ok" {
                core.event(&Event::PerformanceAtRisk {
                    metric: metric.name.into(),
                    marketplace_id: mp.marketplace_id.clone(),
                    rate: metric.rate,
                    target: metric.target,
                    message: format!(
                        "{} over {} days is {:.2}% ({}; Amazon's target is below {:.1}%)",
                        metric.name,
                        metric.window_days,
                        metric.rate * 100.0,
                        metric.status,
                        metric.target * 100.0
                    ),
                })?;
            }
        }
    }
    Ok(())
}

/// After a seller cancellation: the call succeeds either way, and the seller hears when it
/// takes the cancellation rate to its target or over.
pub fn warn_if_cancellations_cost_the_target(
    core: &Core,
    order: &Order,
    now: DateTime<Utc>,
) -> Result<()> {
    let days = metrics::Query::default().cancellation_days;
    let c =
        core.store
            .cancellation_count(&order.marketplace_id, now - Duration::days(days), now)?;
    let rate = c.numerator as f64 / c.denominator.max(1) as f64;
    if rate < metrics::CANCELLATION_TARGET {
        return Ok(());
    }
    core.event(&Event::PerformanceAtRisk {
        metric: "cancellation_rate".into(),
        marketplace_id: order.marketplace_id.clone(),
        rate,
        target: metrics::CANCELLATION_TARGET,
        message: format!(
            "cancelling {} takes the {days}-day cancellation rate to {:.2}% ({} of {}); Amazon's target is below 2.5%",
            order.order_id,
            rate * 100.0,
            c.numerator,
            c.denominator
        ),
    })
}
