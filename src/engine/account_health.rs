//! Amazon's own account health: every `account_health.interval_seconds` (on the listings
//! schedule) Amazon's seller performance report is read and kept per marketplace, and an
//! event is raised when one of Amazon's figures crosses its target or disagrees with
//! sellsync's count over the same window (`crate::metrics::compare`).

use super::reports::Followed;
use super::Core;
use crate::amazon::account_health::{self, MarketplaceHealth, SELLER_PERFORMANCE};
use crate::amazon::reports;
use crate::error::{Error, Result};
use crate::metrics::{compare, AmazonFigure};
use crate::model::{Event, Figure};
use crate::store::account_health::Condition;

/// Follows the open report or, when due (or `force` with none open), requests one. Returns
/// how many events the report raised.
pub async fn run(core: &Core, force: bool) -> Result<usize> {
    let (events, ended) = match super::reports::follow(core, SELLER_PERFORMANCE).await? {
        Followed::Done { id, bytes, .. } => {
            let parsed = account_health::parse(&bytes);
            if parsed.is_err() {
                // Not read again: the next report is requested when due.
                core.store.finish_report(&id, "UNUSABLE")?;
            }
            let mut events = 0;
            for h in parsed? {
                let conditions = conditions(core, &h)?;
                events +=
                    core.store
                        .record_account_health(&id, &h, conditions, core.clock.now())?;
            }
            core.store.finish_report(&id, "DONE")?;
            core.store.set_watermark(DENIED, "")?;
            (events, true)
        }
        Followed::Ended => (0, true),
        Followed::InProgress => return Ok(0),
        Followed::NoneOpen => (0, false),
    };
    let every = core.config.account_health.interval_seconds;
    if (force && !ended) || super::reports::due_every(core, SELLER_PERFORMANCE, every)? {
        let mps = &core.config.marketplace_ids;
        match reports::create(&core.client, SELLER_PERFORMANCE, mps).await {
            Ok(id) => core
                .store
                .record_report(&id, SELLER_PERFORMANCE, core.clock.now())?,
            // Refused again after a new token: the application lacks the role.
            Err(Error::Auth(message)) => denied(core, &message)?,
            Err(e) => return Err(e),
        }
    }
    if events > 0 {
        core.hub.notify();
    }
    Ok(events)
}

/// Watermark: Amazon's refusal of the report was raised as an event.
const DENIED: &str = "account_health.denied";

/// Amazon refused the report: noted as a report that ended `DENIED` (the next is asked for
/// when due, not every cycle) and raised once until a report is read.
fn denied(core: &Core, message: &str) -> Result<()> {
    let now = core.clock.now();
    let key = format!("denied:{}", crate::store::ts(now));
    core.store.record_report(&key, SELLER_PERFORMANCE, now)?;
    core.store.finish_report(&key, "DENIED")?;
    tracing::warn!("Amazon refused the seller performance report: {message}");
    if core.store.watermark(DENIED)?.as_deref() != Some("1") {
        core.event(&Event::AccountHealthUnavailable {
            message: format!(
                "Amazon refused its seller performance report ({message}): the application needs the Selling Partner Insights role; Amazon's own figures stay unknown"
            ),
        })?;
        core.store.set_watermark(DENIED, "1")?;
    }
    Ok(())
}

/// Each figure's conditions: it misses its target (an event when it starts and when it ends),
/// and it disagrees with sellsync's (an event when it starts).
fn conditions(core: &Core, h: &MarketplaceHealth) -> Result<Vec<Condition>> {
    let mp = &h.marketplace_id;
    let mut out = Vec::new();
    for m in &h.metrics {
        let f: AmazonFigure = compare(&core.store, mp, m, core.config.account_health.tolerance)?;
        let key = format!(
            "{}:{}:{}",
            m.name,
            m.fulfilment.as_deref().unwrap_or("all"),
            m.window_days
        );
        let target = |misses| Event::AccountHealthTarget {
            marketplace_id: mp.clone(),
            metric: m.name.clone(),
            fulfilment: m.fulfilment.clone(),
            window_days: m.window_days,
            rate: m.rate,
            target: m.target,
            misses,
        };
        out.push(Condition {
            key: format!("misses:{key}"),
            holds: f.misses_target,
            on: target(true),
            off: Some(target(false)),
        });
        if let Some(own) = f.sellsync {
            out.push(Condition {
                key: format!("disagrees:{key}"),
                holds: f.disagrees,
                on: Event::AccountHealthDisagrees {
                    marketplace_id: mp.clone(),
                    metric: m.name.clone(),
                    from: m.from.clone(),
                    to: m.to.clone(),
                    amazon: Figure {
                        numerator: Some(m.numerator),
                        denominator: m.denominator,
                        rate: Some(m.rate),
                    },
                    sellsync: own,
                    orders_not_seen: f.orders_not_seen,
                },
                off: None,
            });
        }
    }
    Ok(out)
}
