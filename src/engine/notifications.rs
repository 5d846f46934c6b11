//! Notifications in: Amazon's `ORDER_CHANGE` and `LISTINGS_ITEM_MFN_QUANTITY_CHANGE`, taken
//! from the seller's SQS queue by long polling while the background worker runs.
//!
//! Each message is kept in the store before it is deleted from the queue, and acted on from
//! there: an order change is followed by `getOrder` and the order goes to the host like one a
//! search found (once, however often and in whatever order its notifications come); a quantity
//! change tells at once that Amazon took units, which are held against the shop's stock until
//! their order is seen (see `Store::note_amazon_quantity`). The order search stays the safety
//! net: rarer while notifications flow, at full speed again when they stop (a failed receive,
//! or no message for `quiet_after_seconds`).

use super::{Core, Flow};
use crate::amazon::notifications::{self as amazon_notifications, Notification};
use crate::amazon::{orders, sqs};
use crate::config::OrdersApi;
use crate::error::{Error, Result};
use crate::store::notifications::Work;
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Seconds a receive waits for a message (SQS's longest long poll).
pub const WAIT_SECONDS: u32 = 20;
/// Messages taken per receive (SQS's most).
const BATCH: u32 = 10;
/// Notifications acted on per pass.
const ACT_BATCH: usize = 100;
/// First pause after a failed receive; it doubles up to `MAX_PAUSE`.
const FIRST_PAUSE: Duration = Duration::from_secs(1);
const MAX_PAUSE: Duration = Duration::from_secs(60);

/// Whether notifications are flowing, for the order search's cadence.
#[derive(Debug, Default)]
pub struct Flowing {
    /// When the last message came (ms since the epoch, host's clock; 0: never).
    last_message_ms: AtomicI64,
    /// The last receive failed.
    failing: AtomicBool,
}

impl Flowing {
    /// Whether a message came within `quiet_after` of `now` and the queue answers.
    pub fn is_flowing(&self, now: DateTime<Utc>, quiet_after: chrono::Duration) -> bool {
        let last = self.last_message_ms.load(Ordering::Relaxed);
        !self.failing.load(Ordering::Relaxed)
            && last > 0
            && now.timestamp_millis() - last <= quiet_after.num_milliseconds()
    }
}

/// The background task: receive, keep, delete, act, until the worker stops or the handle
/// closes.
pub async fn task(core: Arc<Core>, mut stopped: tokio::sync::watch::Receiver<bool>) {
    if core.config.notifications.is_none() {
        return;
    }
    // AWS checks signatures against real time, whatever clock the library runs on.
    let real_time = Arc::new(crate::clock::SystemClock);
    let queue = match sqs::Queue::new(&core.config, core.client.http().clone(), real_time) {
        Ok(q) => q,
        Err(e) => {
            tracing::error!("notifications are off: {e}");
            return;
        }
    };
    tracing::info!("notifications: receiving from the seller's queue");
    let mut pause = FIRST_PAUSE;
    loop {
        // On a shared store only the process that runs the sync receives them.
        if !core.is_leader() {
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => continue,
                _ = stopped.wait_for(|s| *s) => return,
                _ = core.closed() => return,
            }
        }
        if let Err(e) = act(&core).await {
            tracing::warn!("notifications: acting on them failed, tried again shortly: {e}");
        }
        let received = tokio::select! {
            r = queue.receive(WAIT_SECONDS, BATCH) => r,
            _ = stopped.wait_for(|s| *s) => return,
            _ = core.closed() => return,
        };
        let now = core.clock.now();
        let was_flowing = flowing(&core, now);
        let outcome = match received {
            Ok(messages) => {
                // The queue answered: said before the messages are acted on.
                core.notifications.failing.store(false, Ordering::Relaxed);
                note_receive(&core, Ok(()), now);
                keep(&core, &queue, messages).await
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => {
                pause = FIRST_PAUSE;
                if was_flowing && !flowing(&core, core.clock.now()) {
                    tracing::info!(
                        "notifications: none for a while; the order search is back at full speed"
                    );
                    core.flows.wake(Flow::Orders);
                }
            }
            Err(e) => {
                let text = e.to_string();
                if !core.notifications.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        "notifications: the queue failed ({text}); the order search is back at full speed"
                    );
                    core.flows.wake(Flow::Orders);
                }
                note_receive(&core, Err(&text), now);
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stopped.wait_for(|s| *s) => return,
                    _ = core.closed() => return,
                }
                pause = (pause * 2).min(MAX_PAUSE);
            }
        }
    }
}

/// Records a receive's outcome for `sellsync_state`; a store that cannot is said in the log
/// (the next receive tries again).
fn note_receive(core: &Core, outcome: std::result::Result<(), &str>, now: DateTime<Utc>) {
    if let Err(e) = core.store.note_receive(outcome, now) {
        tracing::warn!("notifications: the outcome of a receive could not be stored: {e}");
    }
}

/// Whether notifications flow now, as the configuration defines it.
pub fn flowing(core: &Core, now: DateTime<Utc>) -> bool {
    core.config.notifications.as_ref().is_some_and(|cfg| {
        let quiet = i64::try_from(cfg.quiet_after_seconds).unwrap_or(i64::MAX / 1000);
        core.notifications
            .is_flowing(now, chrono::Duration::seconds(quiet))
    })
}

/// What a received message is to this handle.
enum Received {
    /// This seller's: its id and what it asks for (None: nothing this library acts on).
    Mine(String, Option<Work>),
    /// Another seller's (a queue several sellers share): left in the queue for that seller.
    Elsewhere(String),
}

/// Seconds a message for another seller stays invisible before another handle may take it.
const RELEASE_SECONDS: u32 = 1;

/// What a received message asks for.
fn work_of(core: &Core, n: Notification) -> Received {
    let mine = |seller: &str| seller == core.config.seller_id;
    match n {
        Notification::OrderChange {
            seller_id: Some(seller),
            ..
        }
        | Notification::QuantityChange {
            seller_id: seller, ..
        } if !mine(&seller) => Received::Elsewhere(seller),
        Notification::OrderChange {
            notification_id,
            order_id,
            ..
        } => Received::Mine(notification_id, Some(Work::Order { order_id })),
        Notification::QuantityChange {
            notification_id,
            sku,
            quantity,
            changed_at,
            ..
        } => {
            let changed_at = changed_at.unwrap_or_else(|| core.client.amazon_now());
            let work = Work::Quantity {
                sku,
                quantity,
                changed_at,
            };
            Received::Mine(notification_id, Some(work))
        }
        Notification::Other {
            notification_id,
            notification_type,
        } => {
            tracing::debug!("notifications: {notification_type} is not acted on");
            Received::Mine(notification_id, None)
        }
    }
}

/// Keeps what this seller's messages say (durably), then deletes them from the queue; another
/// seller's are made visible again for that seller's handle.
async fn keep(core: &Core, queue: &sqs::Queue, messages: Vec<sqs::Message>) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let mut works = Vec::with_capacity(messages.len());
    let mut handles = Vec::with_capacity(messages.len());
    for m in messages {
        match amazon_notifications::parse(&m.body) {
            Ok(n) => match work_of(core, n) {
                Received::Mine(id, work) => {
                    works.extend(work.map(|w| (id, w)));
                    handles.push(m.receipt_handle);
                }
                Received::Elsewhere(seller) => {
                    tracing::debug!(
                        "notifications: message {} is for seller {}: left in the queue for that seller's handle",
                        crate::error::quote(&m.id),
                        crate::error::quote(&seller)
                    );
                    if let Err(e) = queue.release(&m.receipt_handle, RELEASE_SECONDS).await {
                        // It comes back by itself after the queue's visibility timeout.
                        tracing::warn!("notifications: a message for another seller was not released at once: {e}");
                    }
                }
            },
            // Never acted on, however often it came: deleted, and said so.
            Err(e) => {
                tracing::warn!(
                    "notifications: message {} is not a notification this library reads ({e}); deleted",
                    crate::error::quote(&m.id)
                );
                handles.push(m.receipt_handle);
            }
        }
    }
    let now = core.clock.now();
    core.store.keep_notifications(&works, now)?;
    if !handles.is_empty() {
        // Notifications flow for this seller (not only for others on the queue).
        core.notifications
            .last_message_ms
            .store(now.timestamp_millis().max(1), Ordering::Relaxed);
    }
    queue.delete(&handles).await?;
    act(core).await
}

/// Acts on the notifications kept and not acted on yet: reads the changed orders and notes
/// Amazon's quantities. One that fails stays for the next pass.
pub async fn act(core: &Core) -> Result<()> {
    loop {
        let pending = core.store.pending_notifications(ACT_BATCH)?;
        if pending.is_empty() {
            return Ok(());
        }
        let mut done = Vec::with_capacity(pending.len());
        let mut read = std::collections::HashSet::new();
        let mut stock_changed = false;
        let mut outcome = Ok(());
        for p in pending.iter() {
            match &p.work {
                Work::Order { order_id } => {
                    if read.insert(order_id.clone()) {
                        if let Err(e) = read_order(core, order_id).await {
                            outcome = Err(e);
                            break;
                        }
                    }
                }
                Work::Quantity { sku, .. }
                    if super::lock(&core.patches_in_flight).contains(sku) =>
                {
                    // Perhaps the push's own echo: noted once the push is recorded.
                    continue;
                }
                Work::Quantity {
                    sku,
                    quantity,
                    changed_at,
                } => {
                    stock_changed |= core
                        .store
                        .note_amazon_quantity(sku, *quantity, *changed_at)?
                }
            }
            done.push(p.notification_id.clone());
        }
        core.store.notifications_done(&done, core.clock.now())?;
        if stock_changed {
            core.flows.wake(Flow::StockPatches);
        }
        outcome?;
        if pending.len() < ACT_BATCH || done.is_empty() {
            return Ok(());
        }
    }
}

/// Reads one changed order and takes it in as a search would.
async fn read_order(core: &Core, order_id: &str) -> Result<()> {
    if core.config.orders_api == OrdersApi::V0 {
        // The v0 path reads orders by search only: the search comes at once.
        core.flows.wake(Flow::Orders);
        return Ok(());
    }
    match orders::get_order(&core.client, order_id).await {
        Ok(order) => {
            let mut report = super::orders_in::Report::default();
            super::orders_in::store_page(core, vec![order], &mut report)
        }
        Err(Error::NotFound(_)) | Err(Error::Amazon { status: 404, .. }) => {
            tracing::warn!(
                "notifications: Amazon has no order {} (named by a notification); left to the order search",
                crate::error::quote(order_id)
            );
            Ok(())
        }
        Err(e) => Err(e),
    }
}
