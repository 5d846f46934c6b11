//! The flows and their schedule. Each flow is an independent task with its own cadence: orders
//! in, the stock patch lane, the stock feed lane, shipments, cancellations and refunds, and the
//! listings report. A flow waits only for its own operations' rate-limit tokens; no lock is
//! shared between flows, and none is held across another flow's network call. Two runs of the
//! same flow never overlap (the background task's and a host's `sync_now`).

use super::{
    adjustments_out, alerts, faults, listings, orders_in, privacy, shipments_out, stock_out, Core,
};
use crate::amazon::incidents;
use crate::error::{Error, Result};
use crate::model::Event;
use std::sync::Arc;
use std::time::Duration;

/// One independent flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Orders in (Amazon → host).
    Orders,
    /// Urgent stock decreases and small changes, by patchListingsItem.
    StockPatches,
    /// Look-ups, listings feeds in flight, and bulk stock changes by JSON_LISTINGS_FEED.
    StockFeeds,
    /// Shipment confirmations.
    Shipments,
    /// Seller cancellations and refunds (order feeds).
    Adjustments,
    /// The merchant listings report and reconciliation.
    Listings,
    /// Buyer data: deleted when its retention runs out, sealed again during a key rotation.
    Privacy,
}

impl Flow {
    /// Every flow.
    pub const ALL: [Flow; 7] = [
        Flow::Orders,
        Flow::StockPatches,
        Flow::StockFeeds,
        Flow::Shipments,
        Flow::Adjustments,
        Flow::Listings,
        Flow::Privacy,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// The name used in events.
    pub fn name(self) -> &'static str {
        match self {
            Flow::Orders => "orders",
            Flow::StockPatches | Flow::StockFeeds => "stock",
            Flow::Shipments => "shipments",
            Flow::Adjustments => "adjustments",
            Flow::Listings => "listings",
            Flow::Privacy => "privacy",
        }
    }
}

/// What one run of a flow did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CycleReport {
    pub orders: orders_in::Report,
    pub stock: stock_out::Report,
    pub listings: listings::Report,
    pub shipments: shipments_out::Report,
    pub privacy: privacy::Report,
    pub prices: super::prices_out::Report,
}

impl CycleReport {
    fn merge(self, o: CycleReport) -> CycleReport {
        CycleReport {
            orders: if o.orders == orders_in::Report::default() {
                self.orders
            } else {
                o.orders
            },
            stock: self.stock.merge(o.stock),
            listings: if o.listings == listings::Report::default() {
                self.listings
            } else {
                o.listings
            },
            shipments: self.shipments.merge(o.shipments),
            privacy: privacy::Report {
                purged: self.privacy.purged + o.privacy.purged,
                resealed: self.privacy.resealed + o.privacy.resealed,
            },
            prices: super::prices_out::Report {
                sent: self.prices.sent + o.prices.sent,
                applied: self.prices.applied + o.prices.applied,
                refused: self.prices.refused + o.prices.refused,
                to_confirm: self.prices.to_confirm + o.prices.to_confirm,
            },
        }
    }
}

/// Per flow: the lock that keeps its runs apart and the signal that wakes its task.
#[derive(Debug, Default)]
pub struct Flows {
    running: [tokio::sync::Mutex<()>; 7],
    wake: [tokio::sync::Notify; 7],
}

impl Flows {
    /// Wakes a flow's background task (new work for it); remembered if it is busy.
    pub fn wake(&self, flow: Flow) {
        self.wake[flow.index()].notify_one();
    }
}

impl Core {
    /// Runs one flow once (waiting for a run of the same flow in progress), reporting the
    /// faults its calls met (see `faults::report`) and a failure, or a panic, as a
    /// `sync.failed` event.
    pub async fn run_flow(self: &Arc<Core>, flow: Flow, force_report: bool) -> Result<CycleReport> {
        // Only the process holding the lease on a shared store runs the flows.
        self.must_lead()?;
        let core = self.clone();
        let task = tokio::spawn(crate::store::pg::fenced(async move {
            let _one_run = core.flows.running[flow.index()].lock().await;
            incidents::collect(core.run_flow_once(flow, force_report)).await
        }));
        let r = match task.await {
            Ok((r, record)) => {
                faults::report(self, flow, &record, r.is_ok())?;
                r
            }
            Err(e) if e.is_panic() => Err(Error::Internal(format!(
                "the {} flow failed unexpectedly and will be run again",
                flow.name()
            ))),
            Err(_) => Err(Error::Closed),
        };
        if let Err(e) = &r {
            if super::lease::lost(e) {
                self.step_down();
                return r;
            }
            if matches!(e, Error::Credentials(_)) && self.client.authorisation_paused() {
                // One event for the refusal, none for the runs that meet the pause.
                if let Some(message) = self.client.take_pause_notice() {
                    tracing::error!("calls for this account are paused: {message}");
                    self.event(&Event::AuthRevoked { message })?;
                }
            } else if !matches!(e, Error::Closed) {
                tracing::error!(
                    "{} flow failed ({}), tried again at its next run: {e}",
                    flow.name(),
                    crate::status_name(e)
                );
                self.event(&Event::SyncFailed {
                    flow: flow.name().into(),
                    status: crate::status_name(e).into(),
                    message: e.to_string(),
                })?;
            }
        }
        r
    }

    async fn run_flow_once(&self, flow: Flow, force_report: bool) -> Result<CycleReport> {
        let calls_at_start = self.calls();
        let report = self.run_flow_inner(flow, force_report).await?;
        log_run(flow, &report, self.calls() - calls_at_start);
        Ok(report)
    }

    async fn run_flow_inner(&self, flow: Flow, force_report: bool) -> Result<CycleReport> {
        let mut report = CycleReport::default();
        match flow {
            Flow::Orders => {
                let calls_before = self.calls();
                let r = orders_in::run(self).await?;
                report.orders = r;
                self.event(&Event::SyncCompleted {
                    flow: "orders".into(),
                    orders_seen: r.seen,
                    orders_new: r.new,
                    orders_updated: r.updated,
                    api_calls: self.calls() - calls_before,
                })?;
                alerts::run_if_due(self, false)?;
            }
            Flow::StockPatches | Flow::StockFeeds => {
                let r = if flow == Flow::StockPatches {
                    stock_out::run_patches(self).await?
                } else {
                    stock_out::run_feeds(self).await?
                };
                report.stock = r;
                // Prices after the quantities: stock first in patchListingsItem's plan.
                if flow == Flow::StockPatches {
                    report.prices = super::prices_out::run(self).await?;
                }
                if r != stock_out::Report::default() {
                    self.event(&Event::StockSynced {
                        patched: r.patched,
                        feeds_submitted: r.feeds_submitted,
                        messages: r.messages,
                        feeds_finished: r.feeds_finished,
                        rejected: r.rejected,
                    })?;
                }
            }
            Flow::Shipments => {
                report.shipments = shipments_out::run(self).await?;
                let r = report.shipments;
                alerts::run_if_due(self, r.confirmed + r.verified + r.failed > 0)?;
            }
            Flow::Adjustments => adjustments_out::run(self).await?,
            Flow::Privacy => report.privacy = privacy::run(self).await?,
            Flow::Listings => {
                report.listings = listings::run(self, force_report).await?;
                // Drift it found is corrected by the patch lane at once.
                self.flows.wake(Flow::StockPatches);
                self.flows.wake(Flow::StockFeeds);
            }
        }
        Ok(report)
    }

    /// Runs `flows` once each, as a host's `sync_now` asks: orders and listings first (they
    /// change what stock should show), then the outgoing flows side by side. The first
    /// failure is returned once every flow has finished.
    pub async fn cycle(
        self: &Arc<Core>,
        flows: &[Flow],
        force_report: bool,
    ) -> Result<CycleReport> {
        let run = |f: Flow| {
            let core = self.clone();
            async move {
                if flows.contains(&f) {
                    core.run_flow(f, force_report).await
                } else {
                    Ok(CycleReport::default())
                }
            }
        };
        let (orders, listings) = tokio::join!(run(Flow::Orders), run(Flow::Listings));
        let (shipments, adjustments, patches, feeds, privacy) = tokio::join!(
            run(Flow::Shipments),
            run(Flow::Adjustments),
            run(Flow::StockPatches),
            run(Flow::StockFeeds),
            run(Flow::Privacy)
        );
        [
            orders,
            listings,
            shipments,
            adjustments,
            patches,
            feeds,
            privacy,
        ]
        .into_iter()
        .try_fold(CycleReport::default(), |acc, r| Ok(acc.merge(r?)))
    }

    /// The background cadence of a flow (it also runs at once when woken), as of now.
    fn every(&self, flow: Flow) -> Duration {
        let i = &self.config.intervals;
        let seconds = match flow {
            // The safety net is rarer while notifications bring the orders.
            Flow::Orders => match &self.config.notifications {
                Some(n) if super::notifications::flowing(self, self.clock.now()) => {
                    i.orders_seconds * f64::from(n.poll_slowdown)
                }
                _ => i.orders_seconds,
            },
            Flow::Privacy => i.orders_seconds,
            _ => i.stock_seconds,
        };
        // The configuration keeps intervals in range; whatever they are, never panic here.
        Duration::try_from_secs_f64(seconds).unwrap_or(Duration::from_secs(86_400))
    }
}

/// One INFO line per run of a flow: what it did. `calls` counts every SP-API call made during
/// the run (flows running at the same time share the count).
fn log_run(flow: Flow, r: &CycleReport, calls: u64) {
    match flow {
        Flow::Orders => {
            let o = r.orders;
            tracing::info!(
                "orders: {} orders read in {} pages ({} new, {} updated), {calls} API calls",
                o.seen,
                o.pages,
                o.new,
                o.updated
            );
        }
        Flow::StockPatches | Flow::StockFeeds => {
            let s = r.stock;
            if s != super::stock_out::Report::default() || calls > 0 {
                tracing::info!(
                    "stock: {} quantities patched, {} feeds submitted with {} quantities, {} feeds read back, {} rejected, {calls} API calls",
                    s.patched, s.feeds_submitted, s.messages, s.feeds_finished, s.rejected
                );
            } else {
                tracing::debug!("stock: nothing to send");
            }
        }
        Flow::Shipments => {
            let s = r.shipments;
            if s.confirmed + s.verified + s.uncertain + s.failed > 0 || calls > 0 {
                tracing::info!(
                    "shipments: {} confirmed, {} found at Amazon by reading back, {} outcome unknown, {} refused, {calls} API calls",
                    s.confirmed, s.verified, s.uncertain, s.failed
                );
            } else {
                tracing::debug!("shipments: nothing to send");
            }
        }
        Flow::Adjustments => {
            if calls > 0 {
                tracing::info!("cancellations and refunds: {calls} API calls");
            } else {
                tracing::debug!("cancellations and refunds: nothing to send");
            }
        }
        Flow::Privacy => {
            let p = r.privacy;
            if p.purged + p.resealed > 0 {
                tracing::info!(
                    "privacy: buyer data of {} orders deleted, of {} sealed again under the new key",
                    p.purged,
                    p.resealed
                );
            } else {
                tracing::debug!("privacy: nothing due");
            }
        }
        Flow::Listings => {
            let l = r.listings;
            if l.requested || l.listings.is_some() {
                tracing::info!(
                    "listings: report requested {}, {} listings read, {} drifted, {calls} API calls",
                    l.requested,
                    l.listings.map_or("none".into(), |n| n.to_string()),
                    l.drift
                );
            } else {
                tracing::debug!("listings: nothing due");
            }
        }
    }
}

/// The background task of one flow: runs it, then waits for its interval or a wake-up.
/// Failures are reported as events by `run_flow`; the task keeps going until stopped.
pub async fn flow_task(
    core: Arc<Core>,
    flow: Flow,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        // A process that does not hold the lease waits until it takes it over (which wakes
        // every flow).
        if !core.is_leader() {
            tokio::select! {
                _ = core.flows.wake[flow.index()].notified() => continue,
                _ = stopped.wait_for(|s| *s) => return,
                _ = core.closed() => return,
            }
        }
        let mut paused = false;
        let again = match core.run_flow(flow, false).await {
            // A full batch of shipments: there may be more waiting, go on at once.
            Ok(r) => {
                let s = r.shipments;
                flow == Flow::Shipments && s.batch_full && s.confirmed + s.verified > 0
            }
            Err(Error::Closed) => return,
            // Refused credentials paused the calls: wait for new ones (which wake every flow).
            Err(Error::Credentials(_)) => {
                paused = core.client.authorisation_paused();
                false
            }
            Err(_) => false,
        };
        if again {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(core.every(flow)), if !paused => {}
            _ = core.flows.wake[flow.index()].notified() => {}
            _ = stopped.wait_for(|s| *s) => return,
            _ = core.closed() => return,
        }
    }
}
