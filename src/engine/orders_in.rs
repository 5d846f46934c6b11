//! Flow 1, orders in: reads orders changed since the watermark (with an overlap), stores them
//! de-duplicated, and moves the watermark only after every page is stored.
//!
//! Amazon's searches show an order's changes late, usually within a minute or two and
//! sometimes hours late, while `getOrder` finds the order at once (jlevers/selling-partner-api
//! #763, selling-partner-api-models #3945). A change that shows later than the overlap covers
//! would be missed by the searches for good (notifications are hints, and may be lost or not
//! set up), so every `orders.reconcile_seconds` of Amazon's time one cycle reconciles: its
//! search reaches back `orders.reconcile_lookback_hours` (default 6, past the hours-late habit)
//! and pages through it like any cycle, the orders already stored unchanged being skipped. Its
//! cost is the pages of the wider window, about one per 100 orders changed in it: a shop of
//! 1,000 orders a day, each changed twice or thrice in its first hours, has some 300 to 500
//! orders in 6 hours, so 3 to 5 pages an hour instead of 1 (50 to 100 calls a day, against
//! the 480 a day `searchOrders` sustains; v0's `getOrders` sustains 1,440 and asks
//! `getOrderItems` only for orders changed). Every call waits on the rate limiter as any other.

use super::Core;
use crate::amazon::incidents;
use crate::amazon::orders::{self, Window};
use crate::config::OrdersApi;
use crate::error::{Error, Result};
use crate::secret::Secret;
use chrono::{DateTime, Duration, DurationRound, Utc};

const WATERMARK: &str = "orders.last_updated_before";
/// Amazon's time up to which the last reconciling search read (see the module's comment).
const RECONCILED: &str = "orders.last_reconciled";
/// Amazon requires lastUpdatedBefore at least two minutes before its now; keep a margin.
const LAG: i64 = 130;
/// When Amazon's first answer shows its time this many seconds ahead of the host's, the
/// cycle reads on up to Amazon's time at once (less, and the next cycle catches up anyway).
const READ_ON: i64 = 60;

/// What one cycle did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub seen: u64,
    pub new: u64,
    pub updated: u64,
    pub pages: u64,
    /// The cycle's search reached back `orders.reconcile_lookback_hours`.
    pub reconciled: bool,
}

impl Report {
    fn add(self, o: Report) -> Report {
        Report {
            seen: self.seen + o.seen,
            new: self.new + o.new,
            updated: self.updated + o.updated,
            pages: self.pages + o.pages,
            reconciled: self.reconciled || o.reconciled,
        }
    }
}

/// A time kept in the watermarks table.
fn mark(core: &Core, name: &str) -> Result<Option<DateTime<Utc>>> {
    core.store
        .watermark(name)?
        .map(|w| {
            DateTime::parse_from_rfc3339(&w)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    Error::Store(format!(
                        "corrupt watermark {}: {e}",
                        crate::error::quote(&w)
                    ))
                })
        })
        .transpose()
}

/// Whether a cycle whose search ends at `before` reconciles: `orders.reconcile_seconds` have
/// passed since the last reconciliation (or none is recorded, or its mark is ahead of Amazon's
/// time, as when the host's clock stood in for it).
fn reconcile_due(core: &Core, before: DateTime<Utc>) -> Result<bool> {
    let every = core.config.orders.reconcile_seconds;
    if every == 0 {
        return Ok(false);
    }
    Ok(match mark(core, RECONCILED)? {
        None => true,
        Some(last) => {
            before - last >= Duration::seconds(i64::from(every))
                || last > before + Duration::seconds(READ_ON)
        }
    })
}

/// The search window: from the watermark less the overlap to Amazon's time less two minutes
/// (as far as it is known), reaching back `orders.reconcile_lookback_hours` when a
/// reconciliation is due (the first cycle reads `orders.initial_lookback_hours` and counts as
/// one). Never empty: when the watermark is ahead of that (the host's clock stood in for
/// Amazon's, or the store came from elsewhere), the window still reaches back the overlap (at
/// least a second), so a request is made and Amazon's answer corrects the time.
fn window(core: &Core) -> Result<(Window, bool)> {
    let amazon_now = core.client.amazon_now();
    let before = (amazon_now - Duration::seconds(LAG))
        .duration_trunc(Duration::seconds(1))
        .map_err(|e| Error::Internal(e.to_string()))?;
    let overlap = Duration::seconds(i64::from(core.config.orders.overlap_seconds));
    let floor = before - overlap.max(Duration::seconds(1));
    let reconciles = reconcile_due(core, before)?;
    let after = match mark(core, WATERMARK)? {
        Some(mark) => {
            // (Before Amazon's first answer the host's clock stands in, which `run` corrects.)
            if mark > before + Duration::seconds(5) && core.client.server_clock.is_known() {
                tracing::warn!(
                    "the orders watermark {} is ahead of Amazon's time less two minutes ({}); \
                     reading from {} instead",
                    crate::store::ts(mark),
                    crate::store::ts(before),
                    crate::store::ts(floor)
                );
            }
            let after = (mark - overlap).min(floor);
            if reconciles {
                let lookback =
                    Duration::hours(i64::from(core.config.orders.reconcile_lookback_hours));
                after.min(before - lookback)
            } else {
                after
            }
        }
        None => before - Duration::hours(i64::from(core.config.orders.initial_lookback_hours)),
    };
    let w = Window {
        after,
        before,
        marketplace_ids: core.config.marketplace_ids.clone(),
    };
    Ok((w, reconciles))
}

/// After every page of `w` is stored: moves the watermark to its end, and records a
/// reconciliation.
fn finish(core: &Core, w: &Window, reconciled: bool, report: &mut Report) -> Result<()> {
    core.store
        .set_watermark(WATERMARK, &crate::store::ts(w.before))?;
    if reconciled {
        core.store
            .set_watermark(RECONCILED, &crate::store::ts(w.before))?;
        report.reconciled = true;
        tracing::info!(
            "orders: reconciled from {} ({} orders seen over {} pages)",
            crate::store::ts(w.after),
            report.seen,
            report.pages
        );
    }
    Ok(())
}

async fn search(core: &Core, w: &Window) -> Result<Report> {
    match core.config.orders_api {
        OrdersApi::V2026 => via_2026(core, w).await,
        OrdersApi::V0 => via_v0(core, w).await,
    }
}

/// Runs one orders-in cycle.
///
/// Until Amazon has answered once, its time is estimated by the host's clock. Amazon's first
/// answer corrects it, and the window is computed again: a host clock ahead of Amazon's made
/// Amazon refuse the window (400), which is retried once with the corrected one; a host clock
/// behind Amazon's made the window end too early, so reading goes on up to the corrected end in
/// the same cycle (when it is more than a minute).
pub async fn run(core: &Core) -> Result<Report> {
    let knew_amazons_time = core.client.server_clock.is_known();
    let (w, reconciles) = window(core)?;
    let mut report = match search(core, &w).await {
        Err(Error::Amazon { status: 400, .. }) if window(core)?.0.before < w.before => {
            let (w2, reconciles) = window(core)?;
            let mut r = search(core, &w2).await?;
            finish(core, &w2, reconciles, &mut r)?;
            return Ok(r);
        }
        other => other?,
    };
    finish(core, &w, reconciles, &mut report)?;
    if knew_amazons_time || !core.client.server_clock.is_known() {
        return Ok(report);
    }
    let (w2, reconciles) = window(core)?;
    if w2.before - w.before <= Duration::seconds(READ_ON) {
        return Ok(report);
    }
    let mut more = search(core, &w2).await?;
    finish(core, &w2, reconciles, &mut more)?;
    Ok(report.add(more))
}

/// Whether an order belongs to a configured marketplace: orders of any other marketplace are
/// left out (Amazon answers only for the marketplaces asked for, but a seller's account may
/// hold more).
fn configured(core: &Core, marketplace_id: &str) -> bool {
    let ours = core
        .config
        .marketplace_ids
        .iter()
        .any(|m| m == marketplace_id);
    if !ours {
        tracing::debug!(
            "left out an order of marketplace {}, which is not configured",
            crate::error::quote(marketplace_id)
        );
    }
    ours
}

pub(super) fn store_page(
    core: &Core,
    mut page: Vec<crate::model::Order>,
    report: &mut Report,
) -> Result<()> {
    page.retain(|o| configured(core, &o.marketplace_id));
    let seen = page.len() as u64;
    let applied = core
        .store
        .apply_orders(page, &core.config.stock, core.clock.now())?;
    report.pages += 1;
    report.seen += seen;
    report.new += applied.new;
    report.updated += applied.updated;
    if applied.stale > 0 {
        tracing::info!(
            "orders: {} orders came older than the store has them (a stale page); the newer versions are kept",
            applied.stale
        );
    }
    if applied.new + applied.updated > 0 {
        core.hub.notify();
    }
    if applied.stock_changed > 0 {
        core.flows.wake(super::Flow::StockPatches);
        core.flows.wake(super::Flow::StockFeeds);
    }
    Ok(())
}

/// Whether a search starts its window again after Amazon refused a next page with 400: a
/// page token stops working after a while (Orders v2026-01-01 tokens expire after 24 hours,
/// Orders API migration guide), and reading the window again from its start is the one way on
/// without a gap (the pages already stored are de-duplicated). Once per search; a refusal of
/// the first page, or a second one, fails the run.
fn restart_window<T>(page: &Result<T>, token: &Option<String>, restarted: &mut bool) -> bool {
    let refused = matches!(page, Err(Error::Amazon { status: 400, .. }));
    if !refused || token.is_none() || *restarted {
        return false;
    }
    if let Err(e) = page {
        tracing::warn!("orders: Amazon refused the next page's token ({e}); reading the window again from its start");
    }
    *restarted = true;
    true
}

async fn via_2026(core: &Core, w: &Window) -> Result<Report> {
    let mut report = Report::default();
    let mut token: Option<String> = None;
    let mut restarted = false;
    loop {
        let page = orders::search_page(&core.client, w, token.as_deref()).await;
        if restart_window(&page, &token, &mut restarted) {
            token = None;
            continue;
        }
        let (page, next) = page?;
        store_page(core, page, &mut report)?;
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
    *cached = Some((t.clone(), now + lifetime));
    Ok(t)
}

/// Whether Amazon's refusal says the application lacks the restricted role for the data (not
/// that a token expired): createRestrictedDataToken answers 400 `InvalidInput` "Application
/// does not have access to ..." or 403.
fn role_refused(e: &Error) -> bool {
    match e {
        Error::Amazon {
            status: 400,
            code,
            message,
        } => code == "InvalidInput" && message.contains("have access"),
        Error::Auth(m) => !m.contains("expired"),
        _ => false,
    }
}

async fn via_v0(core: &Core, w: &Window) -> Result<Report> {
    let mut report = Report::default();
    let mut token: Option<String> = None;
    let mut restarted = false;
    loop {
        // Without the role for addresses, the orders are read without them.
        let rdt = match rdt(core).await {
            Ok(t) => Some(t),
            Err(e) if role_refused(&e) => None,
            Err(e) => return Err(e),
        };
        let page =
            match orders::get_orders_page(&core.client, w, token.as_deref(), rdt.as_ref()).await {
                Err(Error::Auth(m)) if rdt.is_some() => {
                    // The RDT expired early: get a new one once.
                    incidents::record(incidents::Incident {
                        operation: "getOrders".into(),
                        fault: incidents::Fault::TokenExpired,
                        http_status: None,
                        next: incidents::Next::RefreshToken,
                        message: m,
                    });
                    *core.rdt.lock().await = None;
                    let rdt = self::rdt(core).await?;
                    orders::get_orders_page(&core.client, w, token.as_deref(), Some(&rdt)).await
                }
                other => other,
            };
        if restart_window(&page, &token, &mut restarted) {
            token = None;
            continue;
        }
        let (raw, next) = page?;
        let raw: Vec<serde_json::Value> = raw
            .into_iter()
            .filter(|o| configured(core, o["MarketplaceId"].as_str().unwrap_or_default()))
            .collect();
        let ids: Vec<String> = raw
            .iter()
            .filter_map(|o| o["AmazonOrderId"].as_str().map(str::to_string))
            .collect();
        let known = core.store.known_versions(&ids)?;
        let mut changed = Vec::with_capacity(raw.len());
        for o in raw {
            let id = o["AmazonOrderId"].as_str().unwrap_or_default();
            let updated = o["LastUpdateDate"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| crate::store::ts(t.with_timezone(&Utc)));
            if updated.is_some() && known.get(id) == updated.as_ref() {
                report.seen += 1;
                continue;
            }
            changed.push(o);
        }
        let refused = add_addresses(core, &mut changed).await?;
        let mut page = Vec::with_capacity(changed.len());
        for o in &changed {
            let id = o["AmazonOrderId"].as_str().unwrap_or_default();
            let items = orders::get_order_items(&core.client, id).await?;
            page.push(orders::parse_v0(o, &items)?);
        }
        store_page(core, page, &mut report)?;
        for (order_id, message) in refused {
            core.event(&crate::model::Event::OrderAddressRefused { order_id, message })?;
        }
        match next {
            Some(t) => token = Some(t),
            None => return Ok(report),
        }
    }
}

/// Fills in the shipping address of seller-fulfilled orders that `getOrders` answered without
/// one (as Amazon's own examples do), through `getOrderAddress` with a Restricted Data Token
/// for up to 50 orders at a time. A token Amazon calls expired is replaced once per chunk.
/// When Amazon refuses the address because the application lacks the role for it, the orders
/// go to the host without a recipient: returns them, with Amazon's words, for an event each.
async fn add_addresses(
    core: &Core,
    orders: &mut [serde_json::Value],
) -> Result<Vec<(String, String)>> {
    let missing: Vec<usize> = (0..orders.len())
        .filter(|&i| orders::needs_address(&orders[i]))
        .collect();
    let mut refused = Vec::new();
    for chunk in missing.chunks(orders::RDT_RESOURCES) {
        let ids: Vec<String> = chunk
            .iter()
            .map(|&i| {
                orders[i]["AmazonOrderId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        match addresses(core, &ids).await {
            Ok(found) => {
                for (&i, address) in chunk.iter().zip(found) {
                    if let Some(a) = address {
                        orders[i]["ShippingAddress"] = a;
                    }
                }
            }
            Err(e) if role_refused(&e) => {
                tracing::warn!(
                    "{} seller-fulfilled orders go to the host without a shipping address: Amazon \
                     refused it ({e}); the application needs the Direct-to-Consumer Shipping role",
                    ids.len()
                );
                let message = format!(
                    "Amazon refused the shipping address ({e}); the application needs the \
                     Direct-to-Consumer Shipping role, and the seller must authorise it again"
                );
                refused.extend(ids.into_iter().map(|id| (id, message.clone())));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(refused)
}

/// The addresses of `ids` (at most 50) by `getOrderAddress`, under one Restricted Data Token,
/// replaced once if Amazon answers that it expired.
async fn addresses(core: &Core, ids: &[String]) -> Result<Vec<Option<serde_json::Value>>> {
    let mut rdt = orders::address_rdt(&core.client, ids).await?;
    let mut renewed = false;
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        let address = match orders::get_order_address(&core.client, id, &rdt).await {
            Err(Error::Auth(m)) if !renewed && m.contains("expired") => {
                incidents::record(incidents::Incident {
                    operation: "getOrderAddress".into(),
                    fault: incidents::Fault::TokenExpired,
                    http_status: None,
                    next: incidents::Next::RefreshToken,
                    message: m,
                });
                renewed = true;
                rdt = orders::address_rdt(&core.client, ids).await?;
                orders::get_order_address(&core.client, id, &rdt).await?
            }
            other => other?,
        };
        found.push(address);
    }
    Ok(found)
}
