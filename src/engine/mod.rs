//! Orchestration: the handle's runtime, the sync cycles, the background worker, order
//! delivery to the host and events. The same blocking API backs the C ABI, the Rust tests and
//! the demo.

pub mod account_health;
pub mod adjustments_out;
pub mod alerts;
pub mod events;
pub mod faults;
pub mod fba;
pub mod feed_attempts;
pub mod lease;
pub mod listings;
pub mod notifications;
pub mod orders_in;
pub mod prices_out;
pub mod privacy;
pub mod reports;
pub mod returns;
pub mod scheduler;
pub mod shipments_out;
pub mod stock_out;

use crate::amazon::Client;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::error::{quote, Error, Result};
use crate::model::Event;
use crate::secret::Secret;
use crate::store::Store;
use chrono::{DateTime, Duration, Utc};
use events::{Callback, Dispatcher, Hub};
use scheduler::Flows;
pub use scheduler::{CycleReport, Flow};
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
    /// Per flow: its run lock and its wake-up signal.
    pub flows: Flows,
    /// The host's log function, if it set one.
    pub log: Arc<crate::logging::LogSink>,
    /// When the alerts were last computed.
    pub alerts_at: Mutex<Option<DateTime<Utc>>>,
    /// Held while deciding whether Amazon went offline or came back (see `faults`).
    pub connectivity: Mutex<()>,
    /// Whether notifications are flowing (the order search is rarer while they do).
    pub notifications: notifications::Flowing,
    /// SKUs whose quantity is being set on Amazon right now: a quantity notification for one
    /// waits until the push is recorded (it may be the push's own echo).
    pub patches_in_flight: Mutex<std::collections::HashSet<String>>,
    /// What the stock read-backs found since the handle opened.
    pub read_backs: stock_out::ReadBacks,
    /// This process's part in the lease on a shared store (`None` on SQLite).
    pub leadership: Option<lease::Leadership>,
    /// The lock on a SQLite store (`None` on a shared store).
    pub store_lock: Option<lease::StoreLock>,
    /// Set when the handle closes; wakes every wait.
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl Core {
    fn calls(&self) -> u64 {
        self.client
            .stats
            .calls
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Stores an event and wakes whoever waits for one.
    pub fn event(&self, e: &Event) -> Result<()> {
        self.store.push_event(e, self.clock.now())?;
        self.hub.notify();
        Ok(())
    }

    pub(crate) async fn closed(&self) {
        let mut rx = self.shutdown.subscribe();
        let _ = rx.wait_for(|closing| *closing).await;
    }
}

struct Worker {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
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
    /// This handle's `tracing` dispatcher (feeding `core.log`), the default on its threads.
    dispatch: tracing::Dispatch,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Engine {
    /// Opens a handle with the system clock.
    pub fn open(config: Config) -> Result<Engine> {
        Self::open_with_clock(config, Arc::new(SystemClock))
    }

    /// Opens a handle with an injected clock.
    pub fn open_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Engine> {
        // A configuration changed after `Config::from_json` is checked again.
        config.validate()?;
        let mut secrets = vec![
            config.credentials.client_secret.expose().to_string(),
            config.credentials.refresh_token.expose().to_string(),
        ];
        secrets.extend(config.http.proxy_secrets());
        secrets.extend(config.notifications.iter().flat_map(|n| n.secrets()));
        let p = &config.privacy;
        secrets.extend(
            [&p.key, &p.previous_key]
                .into_iter()
                .flatten()
                .map(|k| k.expose().trim().to_string()),
        );
        crate::logging::install_panic_hook();
        let log = Arc::new(crate::logging::LogSink::new(secrets));
        let dispatch = crate::logging::dispatch(log.clone());
        let store = Arc::new(Store::open_for(&config)?);
        let dropped = store.opened().dropped_for_lost_key;
        if dropped > 0 {
            store.push_event(
                &Event::BuyerDataPurged {
                    orders: dropped,
                    reason: "key_lost".into(),
                },
                clock.now(),
            )?;
        }
        // The stock policy may have changed since the last process.
        store.recompute_all(&config.stock)?;
        let on_start = dispatch.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sellsync-rt")
            // The handle's log is the default on its own threads for their whole life (the
            // guard is never dropped; the threads end with the runtime).
            .on_thread_start(move || {
                std::mem::forget(tracing::dispatcher::set_default(&on_start));
            })
            .enable_all()
            .build()
            .map_err(|e| Error::Internal(format!("cannot start the runtime: {e}")))?;
        let mut client = Client::new(&config, clock.clone())?;
        client.persist_limits(store.clone())?;
        let (shutdown, _) = tokio::sync::watch::channel(false);
        let mut owner = format!("{:016x}", rand::random::<u64>());
        if let Some(l) = lease::Leadership::new(&config) {
            if let Some(other) = store.other_account(&config.seller_id)? {
                return Err(Error::Config(format!(
                    "the database in store.postgres is the store of seller account {}: give each seller account a database of its own",
                    quote(&other)
                )));
            }
            // A till's handles are named after it, so that one restarting gets back at once
            // the orders its last run held.
            let till = format!("{}:", l.holder());
            owner = format!("{till}{owner}");
            store.take_back_order_leases(&till, &owner)?;
        }
        if let Some(g) = &config.orders.consumer_group {
            store.name_group(g, clock.now())?;
        }
        let core = Arc::new(Core {
            leadership: lease::Leadership::new(&config),
            store_lock: lease::StoreLock::new(&config),
            config,
            clock,
            store,
            client,
            hub: Arc::new(Hub::default()),
            rdt: tokio::sync::Mutex::new(None),
            flows: Flows::default(),
            log,
            alerts_at: Mutex::new(None),
            connectivity: Mutex::new(()),
            notifications: notifications::Flowing::default(),
            patches_in_flight: Mutex::new(std::collections::HashSet::new()),
            read_backs: stock_out::ReadBacks::default(),
            shutdown,
        });
        // On a shared store: the lease is renewed while held, from now until close.
        runtime.spawn(lease::task(core.clone()));
        Ok(Engine {
            core,
            runtime: Mutex::new(Some(runtime)),
            worker: Mutex::new(None),
            dispatcher: Mutex::new(None),
            owner,
            host_waits: AtomicBool::new(false),
            dispatch,
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

    /// Runs the flows in `flows` (bit flags) once each and returns when they are done,
    /// waiting at most `timeout`.
    pub fn sync_now(&self, flows: u32, timeout: std::time::Duration) -> Result<CycleReport> {
        if flows == 0 || flows & !FLOW_ALL != 0 {
            return Err(Error::InvalidArgument(format!(
                "flows {flows:#x} names no known flow (known: {FLOW_ALL:#x})"
            )));
        }
        let mut selected = Vec::new();
        for (bit, parts) in [
            (FLOW_ORDERS, &[Flow::Orders][..]),
            (FLOW_STOCK, &[Flow::StockPatches, Flow::StockFeeds][..]),
            (FLOW_LISTINGS, &[Flow::Listings][..]),
            (FLOW_SHIPMENTS, &[Flow::Shipments, Flow::Adjustments][..]),
        ] {
            if flows & bit != 0 {
                selected.extend_from_slice(parts);
            }
        }
        // Buyer data whose retention ran out goes with every cycle, whatever flows it names.
        selected.push(Flow::Privacy);
        let core = self.core.clone();
        self.block_on(async move {
            // Asked for listings alone: pull now; with other flows: when due.
            tokio::time::timeout(timeout, core.cycle(&selected, flows == FLOW_LISTINGS))
                .await
                .map_err(|_| {
                    Error::Timeout(format!(
                        "the sync did not finish within {} ms",
                        timeout.as_millis()
                    ))
                })?
        })
    }

    /// Starts the background worker: one task per flow, each on its own cadence (intervals
    /// from the configuration) and woken at once by new work for it. Idempotent.
    pub fn start(&self) -> Result<()> {
        let mut worker = lock(&self.worker);
        if worker.is_some() {
            return Ok(());
        }
        let handle = lock(&self.runtime)
            .as_ref()
            .map(|r| r.handle().clone())
            .ok_or(Error::Closed)?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let tasks = Flow::ALL
            .into_iter()
            .map(|flow| {
                handle.spawn(scheduler::flow_task(
                    self.core.clone(),
                    flow,
                    stopped.clone(),
                ))
            })
            .chain(self.core.config.notifications.is_some().then(|| {
                handle.spawn(crate::store::pg::fenced(notifications::task(
                    self.core.clone(),
                    stopped.clone(),
                )))
            }))
            .collect();
        *worker = Some(Worker { stop, tasks });
        self.core.contend(true);
        // On SQLite the store's lock is taken at once when free (the lock task retries).
        if self.core.store_lock.is_some() {
            if let Err(e) = self.core.lead() {
                tracing::warn!("the store's lock could not be taken: {e}");
            }
        }
        tracing::info!("background worker started");
        Ok(())
    }

    /// Stops the background worker and waits for it (runs in flight are let finish for up to
    /// 30 s, then abandoned). Idempotent.
    pub fn stop(&self) -> Result<()> {
        let Some(w) = lock(&self.worker).take() else {
            return Ok(());
        };
        let _ = w.stop.send(true);
        self.core.contend(false);
        self.block_on(async move {
            let aborts: Vec<_> = w.tasks.iter().map(|t| t.abort_handle()).collect();
            let all = async {
                for t in w.tasks {
                    let _ = t.await;
                }
            };
            if tokio::time::timeout(std::time::Duration::from_secs(30), all)
                .await
                .is_err()
            {
                aborts.iter().for_each(|a| a.abort());
            }
            tracing::info!("background worker stopped");
            Ok(())
        })?;
        // Another process's worker takes the sync over at once.
        if let Some(k) = &self.core.store_lock {
            k.release();
        }
        self.core.release_lease()
    }

    /// Replaces the Login-with-Amazon client secret (and the refresh token and client id when
    /// given) of the open handle. Nothing is sent to Amazon here: calls under way finish with
    /// what they have, and the next token exchange uses the new credentials. The cached
    /// access token is kept when only the secret changes (an access token stays valid until it
    /// expires, whichever secret obtained it) and dropped when the client id or refresh token
    /// changes (it belongs to the old authorisation). Calls paused after a refused refresh
    /// token (`auth.revoked`) resume. Nothing queued is touched; every flow is
    /// woken so that work held back by refused credentials goes out at once when the worker
    /// runs. The new values are kept in memory only: the host passes them in the configuration
    /// of its next `open`.
    pub fn set_credentials(&self, update: &crate::config::CredentialsUpdate) -> Result<()> {
        self.check_open()?;
        self.core.log.add_secrets(
            [Some(&update.client_secret), update.refresh_token.as_ref()]
                .into_iter()
                .flatten()
                .map(|s| s.expose().to_string()),
        );
        let replaced = self.core.client.set_credentials(
            update.client_secret.clone(),
            update.refresh_token.clone(),
            update.client_id.clone(),
        );
        // To this handle's log also when called from Rust rather than through the C ABI.
        tracing::dispatcher::with_default(&self.dispatch, || {
            tracing::info!(
                "credentials replaced (client secret{}{}); the cached access token is {}",
                if update.refresh_token.is_some() {
                    ", refresh token"
                } else {
                    ""
                },
                if update.client_id.is_some() {
                    ", client id"
                } else {
                    ""
                },
                if replaced.token_dropped {
                    "dropped"
                } else {
                    "kept"
                }
            )
        });
        for flow in Flow::ALL {
            self.core.flows.wake(flow);
        }
        Ok(())
    }

    /// The next order ready for the host, as a JSON document, or None.
    pub fn order_next(&self) -> Result<Option<String>> {
        self.check_open()?;
        let now = self.core.clock.now();
        let lease = now + Duration::seconds(i64::from(self.core.config.orders.redelivery_seconds));
        let taker = crate::store::deliveries::Taker {
            owner: self.owner.clone(),
            group: self.core.config.orders.consumer_group.clone(),
            exclusive: self.core.config.store.postgres.is_some(),
        };
        self.core.store.next_order_for(&taker, now, lease)
    }

    /// Records that the host took `order_id` as `host_ref`: it is never handed out again.
    pub fn order_ack(&self, order_id: &str, host_ref: &str) -> Result<()> {
        self.check_open()?;
        if order_id.is_empty() || host_ref.is_empty() {
            return Err(Error::InvalidArgument(
                "order_id and host_ref must not be empty".into(),
            ));
        }
        self.core.store.ack_order_for(
            self.core.config.orders.consumer_group.as_deref(),
            order_id,
            host_ref,
            self.core.clock.now(),
        )
    }

    /// Records absolute on-hand quantities (all or nothing); they go to Amazon with the next
    /// stock cycle, at once when the worker runs.
    pub fn stock_set(&self, levels: &[crate::model::StockLevel]) -> Result<()> {
        let located = levels.iter().map(|l| (None, l.clone())).collect();
        self.stock_set_at(located)
    }

    /// Records absolute on-hand quantities, each of an item as a whole (`None`) or at a
    /// location (a store, a warehouse), all or nothing; Amazon's quantity of an item with
    /// located levels is their sum over `stock.amazon_locations`.
    pub fn stock_set_at(
        &self,
        levels: Vec<(Option<String>, crate::model::StockLevel)>,
    ) -> Result<()> {
        self.check_open()?;
        self.core.store.set_stock_at(
            levels,
            &self.core.config.stock,
            self.core.config.auto_buffer_window(),
            self.core.clock.now(),
        )?;
        self.wake_stock();
        Ok(())
    }

    /// Creates, replaces or removes SKU mappings (all or nothing).
    pub fn sku_map(&self, mappings: &[crate::model::SkuMapping]) -> Result<()> {
        self.check_open()?;
        self.core
            .store
            .map_skus(mappings, &self.core.config.stock, self.core.clock.now())?;
        self.wake_stock();
        Ok(())
    }

    /// Checks a shipped package against its order and queues its confirmation; returns its
    /// package reference. Sent in the background, or at the next shipments cycle.
    pub fn shipment_confirm(&self, s: &crate::model::Shipment) -> Result<String> {
        self.check_open()?;
        let pref = self.core.store.add_shipment(s, self.core.clock.now())?;
        self.core.flows.wake(Flow::Shipments);
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
        alerts::due_now(&self.core);
        if let (true, Some(order)) = (queued, self.core.store.order(order_id)?) {
            alerts::warn_if_cancellations_cost_the_target(&self.core, &order, now)?;
        }
        self.core.flows.wake(Flow::Adjustments);
        Ok(queued)
    }

    fn wake_stock(&self) {
        self.core.flows.wake(Flow::StockPatches);
        self.core.flows.wake(Flow::StockFeeds);
    }

    /// Queues a refund; false when its `refund_id` was queued before (nothing more is sent).
    pub fn order_refund(&self, refund: &crate::model::Refund) -> Result<bool> {
        self.check_open()?;
        let queued = self.core.store.add_refund(refund, self.core.clock.now())?;
        if queued {
            alerts::due_now(&self.core);
            self.core.flows.wake(Flow::Adjustments);
        }
        Ok(queued)
    }

    /// Counts of orders, stock and every queue, as a JSON document.
    pub fn status(&self) -> Result<String> {
        self.check_open()?;
        let store = &self.core.store;
        let mut stock = serde_json::to_value(store.stock_counts()?)?;
        stock["read_back"] = self.core.read_backs.json();
        Ok(serde_json::json!({
            "orders": store.order_counts()?,
            "stock": stock,
            "queues": store.queues()?,
            "privacy": {"rotation_pending": store.rotation_pending()?},
            "notifications": self.notifications_state()?,
            "lease": self.core.lease_state()?,
        })
        .to_string())
    }

    /// Where notifications stand: configured or not, flowing or not, and the store's counts.
    fn notifications_state(&self) -> Result<serde_json::Value> {
        let core = &self.core;
        if core.config.notifications.is_none() {
            return Ok(serde_json::json!({"configured": false}));
        }
        let mut v = serde_json::to_value(core.store.notification_counts()?)?;
        v["configured"] = true.into();
        v["flowing"] = notifications::flowing(core, core.clock.now()).into();
        Ok(v)
    }

    /// Creates what Amazon needs to send this seller's notifications to the configured queue:
    /// the destination and the subscriptions to `ORDER_CHANGE` and
    /// `LISTINGS_ITEM_MFN_QUANTITY_CHANGE`. Idempotent: what exists is reused. Returns a JSON
    /// document with the destination's and subscriptions' ids.
    pub fn notifications_setup(&self) -> Result<String> {
        self.check_open()?;
        let core = self.core.clone();
        let cfg = core.config.notifications.clone().ok_or_else(|| {
            Error::InvalidArgument(
                "notifications are not configured: add a \"notifications\" section with the queue"
                    .into(),
            )
        })?;
        self.block_on(async move {
            let region = crate::amazon::sqs::queue_region(&cfg.queue_url, cfg.region.as_deref())?;
            let arn = crate::amazon::sqs::queue_arn(&cfg.queue_url, &region)?;
            let setup = crate::amazon::notifications::setup(&core.client, &arn).await?;
            let subscriptions: serde_json::Map<String, serde_json::Value> = setup
                .subscriptions
                .into_iter()
                .map(|(kind, id)| (kind, id.into()))
                .collect();
            Ok(serde_json::json!({
                "queue_arn": arn,
                "destination_id": setup.destination_id,
                "subscriptions": subscriptions,
            })
            .to_string())
        })
    }

    /// Whether `set_event_callback` may be called now: not after close, not from inside the
    /// callback.
    pub fn may_set_event_callback(&self) -> Result<()> {
        self.check_open()?;
        if lock(&self.dispatcher)
            .as_ref()
            .is_some_and(|d| d.is_current())
        {
            return Err(Error::InvalidState(
                "the event callback cannot be replaced from inside the callback".into(),
            ));
        }
        Ok(())
    }

    /// Deletes the buyer data (recipient) of one order at once and for good; the order and
    /// its lines stay. An unknown order is `NotFound`.
    pub fn purge_buyer_data(&self, order_id: &str) -> Result<()> {
        self.check_open()?;
        if order_id.is_empty() {
            return Err(Error::InvalidArgument("order_id must not be empty".into()));
        }
        self.core
            .store
            .purge_buyer_data(order_id, self.core.clock.now())
    }

    /// Seller performance as a JSON document (see `crate::metrics`); `query` may be empty.
    pub fn metrics(&self, query: &str) -> Result<String> {
        self.check_open()?;
        let q: crate::metrics::Query = if query.trim().is_empty() {
            crate::metrics::Query::default()
        } else {
            serde_json::from_str(query).map_err(|e| crate::error::invalid_json("query_json", &e))?
        };
        Ok(crate::metrics::compute(
            &self.core.store,
            &self.core.config.marketplace_ids,
            self.core.clock.now(),
            &q,
            self.core.config.account_health.tolerance,
        )?
        .to_json()
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

    /// Sets SKUs' prices per marketplace (all or nothing): each is checked against the
    /// seller's floor and ceiling and refused outside them; one that changes by more than
    /// `prices.confirm_change_percent` from the last price Amazon accepted waits for
    /// `price_confirm` (a `price.confirmation_needed` event); the others go out after the
    /// stock in the patch lane.
    pub fn price_set(&self, prices: &[crate::model::PriceSet]) -> Result<()> {
        self.check_open()?;
        let config = &self.core.config;
        let mut checked = Vec::with_capacity(prices.len());
        for p in prices {
            let stored = self.core.store.price(&p.sku, &p.marketplace_id)?;
            let kept = stored
                .as_ref()
                .map_or((None, None), |s| (s.minimum, s.maximum));
            let c = crate::prices::check(p, &config.marketplace_ids, kept)?;
            let reference = stored.as_ref().and_then(|s| {
                s.accepted
                    .or(s.amazon.as_ref().filter(|a| a.1 == c.currency).map(|a| a.0))
            });
            let confirm = reference.and_then(|r| {
                crate::prices::change_to_confirm(c.price, r, config.prices.confirm_change_percent)
                    .map(|change| (r, change))
            });
            checked.push((c, confirm));
        }
        self.core
            .store
            .set_prices(&checked, self.core.clock.now())?;
        if checked.iter().any(|(_, c)| c.is_some()) {
            self.core.hub.notify();
        }
        self.core.flows.wake(Flow::StockPatches);
        Ok(())
    }

    /// The host confirms the price of `sku` in `marketplace_id` that waits for it.
    pub fn price_confirm(&self, sku: &str, marketplace_id: &str) -> Result<()> {
        self.check_open()?;
        self.core
            .store
            .confirm_price(sku, marketplace_id, self.core.clock.now())?;
        self.core.flows.wake(Flow::StockPatches);
        Ok(())
    }

    /// Every price the host set and where it stands, by SKU (JSON).
    pub fn prices(&self) -> Result<String> {
        self.check_open()?;
        Ok(serde_json::json!({"prices": self.core.store.prices_by_sku()?}).to_string())
    }

    /// The stock at Amazon of the SKUs it fulfils, as last read (JSON).
    pub fn fba_stock(&self) -> Result<String> {
        self.check_open()?;
        Ok(self.core.store.fba_stock_view()?.to_string())
    }

    /// The next event not acknowledged yet, waiting up to `timeout` (None: until one arrives
    /// or the handle closes). It is leased to this handle: handed out again (first) when not
    /// acknowledged within `orders.redelivery_seconds`, and at once to any other handle.
    pub fn event_next(&self, timeout: Option<std::time::Duration>) -> Result<Option<String>> {
        self.check_open()?;
        Ok(self
            .core
            .hub
            .next(
                &self.core.store,
                &self.event_lease(),
                timeout,
                &self.host_waits,
            )?
            .map(|(_, doc)| doc))
    }

    /// Acknowledges the event `seq` (from its document): it is never handed out again.
    pub fn event_ack(&self, seq: i64) -> Result<()> {
        self.check_open()?;
        if seq <= 0 {
            return Err(Error::InvalidArgument(format!(
                "seq must be a positive event number, not {seq}"
            )));
        }
        self.core.store.ack_event(seq)
    }

    /// Declines the event `seq` the event callback is handling (called from inside it): not
    /// acknowledged when the callback returns, it comes again within `redelivery_seconds`.
    pub fn event_decline(&self, seq: i64) -> Result<()> {
        self.check_open()?;
        events::decline(&self.owner, seq)
    }

    fn event_lease(&self) -> events::Lease {
        events::Lease {
            owner: self.owner.clone(),
            duration: Duration::seconds(i64::from(self.core.config.orders.redelivery_seconds)),
            clock: self.core.clock.clone(),
        }
    }

    /// Sends events to `callback` (on a library thread) instead of `event_next`, acknowledging
    /// each when the callback returns; None removes it.
    pub fn set_event_callback(&self, callback: Option<Callback>) -> Result<()> {
        self.may_set_event_callback()?;
        let mut d = lock(&self.dispatcher);
        if let Some(old) = d.take() {
            old.stop(&self.core.hub);
        }
        if let Some(cb) = callback {
            *d = Some(Dispatcher::start(
                self.core.hub.clone(),
                self.core.store.clone(),
                self.event_lease(),
                self.dispatch.clone(),
                cb,
            )?);
        }
        Ok(())
    }

    /// This handle's `tracing` dispatcher; the C ABI makes it the default for each call.
    pub fn log_dispatch(&self) -> &tracing::Dispatch {
        &self.dispatch
    }

    /// Sends the library's log lines at `level` (1 ERROR to 4 DEBUG) and above to `log`,
    /// on whichever thread writes them; None silences the log (the default).
    pub fn set_log_callback(&self, level: u8, log: Option<crate::logging::LogFn>) -> Result<()> {
        self.check_open()?;
        self.core.log.set(level, log)
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
        if crate::logging::in_log_callback() {
            return Err(Error::InvalidState(
                "sellsync_close cannot be called from the log callback".into(),
            ));
        }
        self.begin_close();
        if let Some(w) = lock(&self.worker).take() {
            let _ = w.stop.send(true);
            w.tasks.iter().for_each(|t| t.abort());
        }
        if let Some(d) = lock(&self.dispatcher).take() {
            d.stop(&self.core.hub);
        }
        if let Err(e) = self.core.release_lease() {
            tracing::warn!("the lease could not be given up (it runs out by itself): {e}");
        }
        let checkpoint = self.core.store.checkpoint();
        if let Some(rt) = lock(&self.runtime).take() {
            rt.shutdown_timeout(std::time::Duration::from_secs(5));
        }
        // Only now that none of its tasks runs may another handle lead.
        if let Some(k) = &self.core.store_lock {
            k.release();
        }
        // No library thread writes lines any more: release the host's log function.
        let _ = self.core.log.set(0, None);
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
