//! Orchestration: the handle's runtime, the sync cycles, the background worker, order
//! delivery to the host and events. The same blocking API backs the C ABI, the Rust tests and
//! the demo.

pub mod adjustments_out;
pub mod events;
pub mod listings;
pub mod orders_in;
pub mod shipments_out;
pub mod stock_out;

use crate::amazon::Client;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::Event;
use crate::secret::Secret;
use crate::store::Store;
use chrono::{DateTime, Duration, Utc};
use events::{Callback, Dispatcher, Hub};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

/// Flow bit: orders in (Amazon → host).
pub const FLOW_ORDERS: u32 = 1;
/// Flow bit: stock out (host → Amazon).
pub const FLOW_STOCK: u32 = 2;
/// Flow bit: listings pull and reconciliation (a report is requested when due, or at once
/// when this is asked for with `sync_now`).
pub const FLOW_LISTINGS: u32 = 4;
/// Flow bit: shipment confirmations out (host → Amazon).
pub const FLOW_SHIPMENTS: u32 = 8;
/// Every flow this version implements.
pub const FLOW_ALL: u32 = FLOW_ORDERS | FLOW_STOCK | FLOW_LISTINGS | FLOW_SHIPMENTS;

/// What one sync cycle did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CycleReport {
    pub orders: orders_in::Report,
    pub stock: stock_out::Report,
    pub listings: listings::Report,
    pub shipments: shipments_out::Report,
}

/// State shared by the handle and its background tasks.
#[derive(Debug)]
pub struct Core {
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    pub store: Arc<Store>,
    pub client: Client,
    pub hub: Arc<Hub>,
    /// Cached Restricted Data Token for v0 getOrders.
    pub rdt: tokio::sync::Mutex<Option<(Secret, DateTime<Utc>)>>,
    /// Serialises sync cycles (host-driven and background).
    cycle: tokio::sync::Mutex<()>,
    /// Set when the handle closes; wakes every wait.
    shutdown: tokio::sync::watch::Sender<bool>,
    /// Signalled when the host changes stock or mappings or confirms a shipment.
    work_queued: tokio::sync::Notify,
}

impl Core {
    /// Runs the flows in `flows` once, reporting failures and results as events.
    pub async fn cycle(&self, flows: u32) -> Result<CycleReport> {
        self.cycle_with(flows, false).await
    }

    /// Runs a cycle; `force_report` requests a listings report even when none is due.
    async fn cycle_with(&self, flows: u32, force_report: bool) -> Result<CycleReport> {
        let _one_at_a_time = self.cycle.lock().await;
        let mut report = CycleReport::default();
        if flows & FLOW_LISTINGS != 0 {
            // Before stock, so drift it finds is corrected in the same cycle.
            report.listings =
                self.report_failure("listings", listings::run(self, force_report).await)?;
        }
        if flows & FLOW_ORDERS != 0 {
            let calls_before = self.calls();
            let r = self.report_failure("orders", orders_in::run(self).await)?;
            report.orders = r;
            self.event(&Event::SyncCompleted {
                flow: "orders".into(),
                orders_seen: r.seen,
                orders_new: r.new,
                orders_updated: r.updated,
                api_calls: self.calls() - calls_before,
            })?;
        }
        if flows & FLOW_SHIPMENTS != 0 {
            // Before the rest: confirmations have deadlines.
            report.shipments = self.report_failure("shipments", shipments_out::run(self).await)?;
            self.report_failure("adjustments", adjustments_out::run(self).await)?;
        }
        if flows & (FLOW_ORDERS | FLOW_SHIPMENTS) != 0 {
            self.alert()?;
        }
        if flows & FLOW_STOCK != 0 {
            let r = self.report_failure("stock", stock_out::run(self).await)?;
            report.stock = r;
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
        Ok(report)
    }

    /// Emits `performance.at_risk` once each time a metric turns at risk or failing.
    fn alert(&self) -> Result<()> {
        let q = crate::metrics::Query::default();
        let m = crate::metrics::compute(
            &self.store,
            &self.config.marketplace_ids,
            self.clock.now(),
            &q,
        )?;
        // Unshipped orders due within the horizon or overdue: once when due soon, once when
        // overdue; an order no longer due (shipped, cancelled) is forgotten.
        let due: Vec<String> = m["at_risk"]["orders_due"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["order_id"].as_str().map(str::to_string))
            .collect();
        self.store.forget_watermarks_except("alert.due.", &due)?;
        for o in m["at_risk"]["orders_due"].as_array().into_iter().flatten() {
            let order_id = o["order_id"].as_str().unwrap_or_default();
            let overdue = o["overdue"] == true;
            let key = format!("alert.due.{order_id}");
            let state = if overdue { "overdue" } else { "due" };
            if self.store.watermark(&key)?.as_deref() == Some(state) {
                continue;
            }
            self.store.set_watermark(&key, state)?;
            self.event(&Event::OrderDueSoon {
                order_id: order_id.into(),
                latest_ship_date: o["latest_ship_date"].as_str().unwrap_or_default().into(),
                overdue,
            })?;
        }
        for mp in m["marketplaces"].as_array().into_iter().flatten() {
            let marketplace = mp["marketplace_id"].as_str().unwrap_or_default();
            for metric in mp["metrics"].as_array().into_iter().flatten() {
                let (name, days) = (
                    metric["name"].as_str().unwrap_or_default(),
                    metric["window_days"].as_i64().unwrap_or(0),
                );
                let status = metric["status"].as_str().unwrap_or("ok");
                let key = format!("alert.{name}.{days}.{marketplace}");
                if self.store.watermark(&key)?.as_deref().unwrap_or("ok") == status {
                    continue;
                }
                self.store.set_watermark(&key, status)?;
                if status != "ok" {
                    let (rate, target) = (
                        metric["rate"].as_f64().unwrap_or(0.0),
                        metric["target"].as_f64().unwrap_or(0.0),
                    );
                    self.event(&Event::PerformanceAtRisk {
                        metric: name.into(),
                        marketplace_id: marketplace.into(),
                        rate,
                        target,
                        message: format!("{name} over {days} days is {:.2}% ({status}; Amazon's target is below {:.1}%)", rate * 100.0, target * 100.0),
                    })?;
                }
            }
        }
        Ok(())
    }

    fn calls(&self) -> u64 {
        self.client
            .stats
            .calls
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Turns a failed flow into a `sync.failed` event, passing the error on.
    fn report_failure<T>(&self, flow: &str, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            self.event(&Event::SyncFailed {
                flow: flow.into(),
                status: crate::status_name(e).into(),
                message: e.to_string(),
            })?;
        }
        r
    }

    /// Stores an event and wakes whoever waits for one.
    pub fn event(&self, e: &Event) -> Result<()> {
        self.store.push_event(e, self.clock.now())?;
        self.hub.notify();
        Ok(())
    }

    async fn closed(&self) {
        let mut rx = self.shutdown.subscribe();
        let _ = rx.wait_for(|closing| *closing).await;
    }
}

struct Worker {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// One open connection between a host and a seller account.
pub struct Engine {
    core: Arc<Core>,
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
    worker: Mutex<Option<Worker>>,
    dispatcher: Mutex<Option<Dispatcher>>,
    /// Identifies this handle's leases on orders handed out.
    owner: String,
    /// The stop flag of `event_next` callers, who stop only when the handle closes.
    host_waits: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Engine {
    /// Opens a handle with the system clock.
    pub fn open(config: Config) -> Result<Engine> {
        Self::open_with_clock(config, Arc::new(SystemClock))
    }

    /// Opens a handle with an injected clock.
    pub fn open_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Engine> {
        let store = Arc::new(Store::open(&config.store_path)?);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sellsync-rt")
            .enable_all()
            .build()
            .map_err(|e| Error::Internal(format!("cannot start the runtime: {e}")))?;
        let client = Client::new(&config, clock.clone())?;
        let (shutdown, _) = tokio::sync::watch::channel(false);
        let owner = format!("{:016x}", rand::random::<u64>());
        Ok(Engine {
            core: Arc::new(Core {
                config,
                clock,
                store,
                client,
                hub: Arc::new(Hub::default()),
                rdt: tokio::sync::Mutex::new(None),
                cycle: tokio::sync::Mutex::new(()),
                shutdown,
                work_queued: tokio::sync::Notify::new(),
            }),
            runtime: Mutex::new(Some(runtime)),
            worker: Mutex::new(None),
            dispatcher: Mutex::new(None),
            owner,
            host_waits: AtomicBool::new(false),
        })
    }

    /// The shared state (for tests and tools).
    pub fn core(&self) -> &Arc<Core> {
        &self.core
    }

    fn block_on<T>(&self, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::InvalidState(
                "sellsync must not be called from an async runtime thread".into(),
            ));
        }
        let handle = lock(&self.runtime)
            .as_ref()
            .map(|r| r.handle().clone())
            .ok_or(Error::Closed)?;
        let core = self.core.clone();
        handle.block_on(async move {
            tokio::select! {
                r = f => r,
                _ = core.closed() => Err(Error::Closed),
            }
        })
    }

    /// Runs one blocking cycle of the flows in `flows` (bit flags), waiting at most `timeout`.
    pub fn sync_now(&self, flows: u32, timeout: std::time::Duration) -> Result<CycleReport> {
        if flows == 0 || flows & !FLOW_ALL != 0 {
            return Err(Error::InvalidArgument(format!(
                "flows {flows:#x} names no known flow (known: {FLOW_ALL:#x})"
            )));
        }
        let core = self.core.clone();
        self.block_on(async move {
            // Asked for listings alone: pull now; with other flows: when due.
            tokio::time::timeout(timeout, core.cycle_with(flows, flows == FLOW_LISTINGS))
                .await
                .map_err(|_| {
                    Error::Timeout(format!(
                        "the sync did not finish within {} ms",
                        timeout.as_millis()
                    ))
                })?
        })
    }

    /// Starts the background worker (intervals from the configuration). Idempotent.
    pub fn start(&self) -> Result<()> {
        let mut worker = lock(&self.worker);
        if worker.is_some() {
            return Ok(());
        }
        let handle = lock(&self.runtime)
            .as_ref()
            .map(|r| r.handle().clone())
            .ok_or(Error::Closed)?;
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let core = self.core.clone();
        let task = handle.spawn(async move {
            let every = |s: f64| std::time::Duration::from_secs_f64(s);
            let (orders_every, stock_every) = (
                every(core.config.intervals.orders_seconds),
                every(core.config.intervals.stock_seconds),
            );
            let now = tokio::time::Instant::now();
            let (mut orders_due, mut stock_due) = (now, now);
            loop {
                let now = tokio::time::Instant::now();
                let mut flows = 0;
                if now >= orders_due {
                    flows |= FLOW_ORDERS;
                    orders_due = now + orders_every;
                }
                if now >= stock_due {
                    // The listings flow asks for a report only when one is due.
                    flows |= FLOW_STOCK | FLOW_LISTINGS | FLOW_SHIPMENTS;
                    stock_due = now + stock_every;
                }
                if flows != 0 {
                    // Failures are reported as events by the cycle; the worker keeps going.
                    let _ = core.cycle(flows).await;
                }
                tokio::select! {
                    _ = tokio::time::sleep_until(orders_due.min(stock_due)) => {}
                    // A stock change: run the stock flow now (urgent decreases go out at once).
                    _ = core.work_queued.notified() => stock_due = tokio::time::Instant::now(),
                    _ = stopped.wait_for(|s| *s) => return,
                    _ = core.closed() => return,
                }
            }
        });
        *worker = Some(Worker { stop, task });
        Ok(())
    }

    /// Stops the background worker and waits for it (a cycle in flight is let finish for up to
    /// 30 s, then abandoned). Idempotent.
    pub fn stop(&self) -> Result<()> {
        let Some(w) = lock(&self.worker).take() else {
            return Ok(());
        };
        let _ = w.stop.send(true);
        let task = w.task;
        self.block_on(async move {
            let abort = task.abort_handle();
            if tokio::time::timeout(std::time::Duration::from_secs(30), task)
                .await
                .is_err()
            {
                abort.abort();
            }
            Ok(())
        })
    }

    /// The next order ready for the host, as a JSON document, or None.
    pub fn order_next(&self) -> Result<Option<String>> {
        self.check_open()?;
        let now = self.core.clock.now();
        let lease = now + Duration::seconds(i64::from(self.core.config.orders.redelivery_seconds));
        self.core.store.next_order(&self.owner, now, lease)
    }

    /// Records that the host took `order_id` as `host_ref`: it is never handed out again.
    pub fn order_ack(&self, order_id: &str, host_ref: &str) -> Result<()> {
        self.check_open()?;
        if order_id.is_empty() || host_ref.is_empty() {
            return Err(Error::InvalidArgument(
                "order_id and host_ref must not be empty".into(),
            ));
        }
        self.core
            .store
            .ack_order(order_id, host_ref, self.core.clock.now())
    }

    /// Records absolute on-hand quantities (all or nothing); they go to Amazon with the next
    /// stock cycle, at once when the worker runs.
    pub fn stock_set(&self, levels: &[crate::model::StockLevel]) -> Result<()> {
        self.check_open()?;
        self.core
            .store
            .set_stock(levels, &self.core.config.stock, self.core.clock.now())?;
        self.core.work_queued.notify_one();
        Ok(())
    }

    /// Creates, replaces or removes SKU mappings (all or nothing).
    pub fn sku_map(&self, mappings: &[crate::model::SkuMapping]) -> Result<()> {
        self.check_open()?;
        self.core
            .store
            .map_skus(mappings, &self.core.config.stock, self.core.clock.now())?;
        self.core.work_queued.notify_one();
        Ok(())
    }

    /// Checks a shipped package against its order and queues its confirmation; returns its
    /// package reference. Sent in the background, or at the next shipments cycle.
    pub fn shipment_confirm(&self, s: &crate::model::Shipment) -> Result<String> {
        self.check_open()?;
        let pref = self.core.store.add_shipment(s, self.core.clock.now())?;
        self.core.work_queued.notify_one();
        Ok(pref)
    }

    /// Queues a seller cancellation of a whole order with one of Amazon's reasons. Returns
    /// false when one was already queued or done.
    pub fn order_cancel(&self, order_id: &str, reason: &str) -> Result<bool> {
        self.order_cancel_items(order_id, reason, &[])
    }

    /// Queues a seller cancellation of the unshipped units of some items of an order (all of
    /// it when `items` is empty). Returns false when the same was already queued or done.
    pub fn order_cancel_items(
        &self,
        order_id: &str,
        reason: &str,
        items: &[String],
    ) -> Result<bool> {
        self.check_open()?;
        let now = self.core.clock.now();
        let queued = self.core.store.add_cancel(order_id, reason, items, now)?;
        if let (true, Some(order)) = (queued, self.core.store.order(order_id)?) {
            self.warn_if_cancellations_cost_the_target(&order, now)?;
        }
        self.core.work_queued.notify_one();
        Ok(queued)
    }

    /// After a seller cancellation: the call succeeds either way, and the seller hears when it
    /// takes the cancellation rate to its target or over.
    fn warn_if_cancellations_cost_the_target(
        &self,
        order: &crate::model::Order,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let days = crate::metrics::Query::default().cancellation_days;
        let c = self.core.store.cancellation_count(
            &order.marketplace_id,
            now - Duration::days(days),
            now,
        )?;
        let rate = c.numerator as f64 / c.denominator.max(1) as f64;
        if rate < crate::metrics::CANCELLATION_TARGET {
            return Ok(());
        }
        self.core.event(&Event::PerformanceAtRisk {
            metric: "cancellation_rate".into(),
            marketplace_id: order.marketplace_id.clone(),
            rate,
            target: crate::metrics::CANCELLATION_TARGET,
            message: format!(
                "cancelling {} takes the {days}-day cancellation rate to {:.2}% ({} of {}); Amazon's target is below 2.5%",
                order.order_id,
                rate * 100.0,
                c.numerator,
                c.denominator
            ),
        })
    }

    /// Queues a refund.
    pub fn order_refund(&self, refund: &crate::model::Refund) -> Result<()> {
        self.check_open()?;
        self.core.store.add_refund(refund, self.core.clock.now())?;
        self.core.work_queued.notify_one();
        Ok(())
    }

    /// Counts of orders, stock and every queue, as a JSON document.
    pub fn status(&self) -> Result<String> {
        self.check_open()?;
        let store = &self.core.store;
        Ok(serde_json::json!({
            "orders": store.order_counts()?,
            "stock": store.stock_counts()?,
            "queues": store.queues()?,
        })
        .to_string())
    }

    /// Seller performance as a JSON document (see `crate::metrics`); `query` may be empty.
    pub fn metrics(&self, query: &str) -> Result<String> {
        self.check_open()?;
        let q: crate::metrics::Query = if query.trim().is_empty() {
            crate::metrics::Query::default()
        } else {
            serde_json::from_str(query)
                .map_err(|e| Error::InvalidArgument(format!("query_json is not valid: {e}")))?
        };
        Ok(crate::metrics::compute(
            &self.core.store,
            &self.core.config.marketplace_ids,
            self.core.clock.now(),
            &q,
        )?
        .to_string())
    }

    /// Packages with their state: of one order, or every one not yet at Amazon (JSON).
    pub fn shipments(&self, order_id: Option<&str>) -> Result<String> {
        self.check_open()?;
        Ok(self.core.store.shipments_view(order_id)?.to_string())
    }

    /// The listings as last pulled, with their mapping state (JSON).
    pub fn listings(&self) -> Result<String> {
        self.check_open()?;
        Ok(self.core.store.listings_view()?.to_string())
    }

    /// The next event, waiting up to `timeout` (None: until one arrives or the handle closes).
    pub fn event_next(&self, timeout: Option<std::time::Duration>) -> Result<Option<String>> {
        self.check_open()?;
        self.core
            .hub
            .next(&self.core.store, timeout, &self.host_waits)
    }

    /// Sends events to `callback` (on a library thread) instead of `event_next`; None removes it.
    pub fn set_event_callback(&self, callback: Option<Callback>) -> Result<()> {
        self.check_open()?;
        let mut d = lock(&self.dispatcher);
        if d.as_ref().is_some_and(|d| d.is_current()) {
            return Err(Error::InvalidState(
                "the event callback cannot be replaced from inside the callback".into(),
            ));
        }
        if let Some(old) = d.take() {
            old.stop(&self.core.hub);
        }
        if let Some(cb) = callback {
            *d = Some(Dispatcher::start(
                self.core.hub.clone(),
                self.core.store.clone(),
                cb,
            )?);
        }
        Ok(())
    }

    /// Whether the caller is the event callback's thread.
    pub fn on_callback_thread(&self) -> bool {
        lock(&self.dispatcher)
            .as_ref()
            .is_some_and(|d| d.is_current())
    }

    fn check_open(&self) -> Result<()> {
        if self.core.hub.is_closed() {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    /// Wakes every waiting call and refuses new waits; the first step of closing.
    pub fn begin_close(&self) {
        let _ = self.core.shutdown.send(true);
        self.core.hub.close();
    }

    /// Stops the worker and the callback thread, flushes the store and stops the runtime.
    pub fn close(&self) -> Result<()> {
        if self.on_callback_thread() {
            return Err(Error::InvalidState(
                "sellsync_close cannot be called from the event callback".into(),
            ));
        }
        self.begin_close();
        if let Some(w) = lock(&self.worker).take() {
            let _ = w.stop.send(true);
            w.task.abort();
        }
        if let Some(d) = lock(&self.dispatcher).take() {
            d.stop(&self.core.hub);
        }
        let checkpoint = self.core.store.checkpoint();
        if let Some(rt) = lock(&self.runtime).take() {
            rt.shutdown_timeout(std::time::Duration::from_secs(5));
        }
        checkpoint
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if lock(&self.runtime).is_some() {
            let _ = self.close();
        }
    }
}
