//! Flow 1, orders in: reads orders changed since the watermark (with an overlap), stores them
//! de-duplicated, and moves the watermark only after every page is stored.

use super::Core;
use crate::amazon::orders::{self, Window};
use crate::config::OrdersApi;
use crate::error::{Error, Result};
use crate::secret::Secret;
use chrono::{DateTime, Duration, DurationRound, Utc};

const WATERMARK: &str = "orders.last_updated_before";
/// Amazon requires lastUpdatedBefore at least two minutes before its now; keep a margin.
const LAG: i64 = 130;

/// What one cycle did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub seen: u64,
    pub new: u64,
    pub updated: u64,
    pub pages: u64,
}

fn window(core: &Core) -> Result<Option<Window>> {
    let amazon_now = core.client.amazon_now();
    let before = (amazon_now - Duration::seconds(LAG))
        .duration_trunc(Duration::seconds(1))
        .map_err(|e| Error::Internal(e.to_string()))?;
    let after = match core.store.watermark(WATERMARK)? {
        Some(w) => {
            DateTime::parse_from_rfc3339(&w)
                .map_err(|e| Error::Store(format!("corrupt watermark {w:?}: {e}")))?
                .with_timezone(&Utc)
                - Duration::seconds(i64::from(core.config.orders.overlap_seconds))
        }
        None => before - Duration::hours(i64::from(core.config.orders.initial_lookback_hours)),
    };
    Ok((after < before).then(|| Window {
        after,
        before,
        marketplace_ids: core.config.marketplace_ids.clone(),
    }))
}

/// Runs one orders-in cycle.
pub async fn run(core: &Core) -> Result<Report> {
    let Some(w) = window(core)? else {
        return Ok(Report::default());
    };
    let result = match core.config.orders_api {
        OrdersApi::V2026 => via_2026(core, &w).await,
        OrdersApi::V0 => via_v0(core, &w).await,
    };
    let report = match result {
        // The host's clock may be ahead of Amazon's: Amazon's answer taught us its time, so
        // the window is recomputed once.
        Err(Error::Amazon { status: 400, .. })
            if window(core)?.is_some_and(|w2| w2.before < w.before) =>
        {
            let w2 = window(core)?.ok_or_else(|| Error::Internal("window vanished".into()))?;
            let r = match core.config.orders_api {
                OrdersApi::V2026 => via_2026(core, &w2).await?,
                OrdersApi::V0 => via_v0(core, &w2).await?,
            };
            core.store
                .set_watermark(WATERMARK, &crate::store::ts(w2.before))?;
            return Ok(r);
        }
        other => other?,
    };
    core.store
        .set_watermark(WATERMARK, &crate::store::ts(w.before))?;
    Ok(report)
}

fn store_page(core: &Core, page: &[crate::model::Order], report: &mut Report) -> Result<()> {
    let applied = core.store.apply_orders(page, core.clock.now())?;
    report.pages += 1;
    report.seen += page.len() as u64;
    report.new += applied.new;
    report.updated += applied.updated;
    if applied.new + applied.updated > 0 {
        core.hub.notify();
    }
    Ok(())
}

async fn via_2026(core: &Core, w: &Window) -> Result<Report> {
    let mut report = Report::default();
    let mut token: Option<String> = None;
    loop {
        let (page, next) = orders::search_page(&core.client, w, token.as_deref()).await?;
        store_page(core, &page, &mut report)?;
        match next {
            Some(t) => token = Some(t),
            None => return Ok(report),
        }
    }
}

async fn rdt(core: &Core) -> Result<Secret> {
    let mut cached = core.rdt.lock().await;
    let now = core.clock.now();
    if let Some((t, expires)) = cached.as_ref() {
        if *expires > now + Duration::seconds(300) {
            return Ok(t.clone());
        }
    }
    let (t, lifetime) = orders::orders_rdt(&core.client).await?;
    *cached = Some((t.clone(), now + Duration::seconds(lifetime)));
    Ok(t)
}

async fn via_v0(core: &Core, w: &Window) -> Result<Report> {
    let mut report = Report::default();
    let mut token: Option<String> = None;
    loop {
        let rdt = rdt(core).await?;
        let (raw, next) =
            match orders::get_orders_page(&core.client, w, token.as_deref(), &rdt).await {
                Err(Error::Auth(_)) => {
                    // The RDT expired early: get a new one once.
                    *core.rdt.lock().await = None;
                    let rdt = self::rdt(core).await?;
                    orders::get_orders_page(&core.client, w, token.as_deref(), &rdt).await?
                }
                other => other?,
            };
        let ids: Vec<String> = raw
            .iter()
            .filter_map(|o| o["AmazonOrderId"].as_str().map(str::to_string))
            .collect();
        let known = core.store.known_versions(&ids)?;
        let mut page = Vec::with_capacity(raw.len());
        for o in &raw {
            let id = o["AmazonOrderId"].as_str().unwrap_or_default();
            let updated = o["LastUpdateDate"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| crate::store::ts(t.with_timezone(&Utc)));
            if updated.is_some() && known.get(id) == updated.as_ref() {
                report.seen += 1;
                continue;
            }
            let items = orders::get_order_items(&core.client, id).await?;
            page.push(orders::parse_v0(o, &items)?);
        }
        store_page(core, &page, &mut report)?;
        match next {
            Some(t) => token = Some(t),
            None => return Ok(report),
        }
    }
}
