//! Notifications: the destinations and subscriptions of the Notifications API, and the
//! publishing of `ORDER_CHANGE` and `LISTINGS_ITEM_MFN_QUANTITY_CHANGE` messages into the
//! emulator's SQS queues, after the configured delay and with the configured faults (lost,
//! duplicated, reordered, delayed). Delays run on the emulated clock.

use crate::server::{lock, Shared};
use crate::world::{Order, OrderChange, QuantityChange, World};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::VecDeque;

/// `ORDER_CHANGE`.
pub const ORDER_CHANGE: &str = "ORDER_CHANGE";
/// `LISTINGS_ITEM_MFN_QUANTITY_CHANGE`.
pub const MFN_QUANTITY_CHANGE: &str = "LISTINGS_ITEM_MFN_QUANTITY_CHANGE";
/// The notification types the emulator publishes.
pub const TYPES: &[&str] = &[ORDER_CHANGE, MFN_QUANTITY_CHANGE];

/// A destination (`createDestination`): an SQS queue of an application.
#[derive(Clone, Debug, Serialize)]
pub struct Destination {
    /// Generated id.
    pub destination_id: String,
    /// The developer's name for it.
    pub name: String,
    /// The queue's ARN.
    pub arn: String,
    /// The LWA client id of the application that created it.
    pub client_id: String,
}

/// A subscription (`createSubscription`) of a seller and application to a notification type.
#[derive(Clone, Debug, Serialize)]
pub struct Subscription {
    /// Generated id.
    pub subscription_id: String,
    /// `ORDER_CHANGE` or `LISTINGS_ITEM_MFN_QUANTITY_CHANGE`.
    pub notification_type: String,
    /// `1.0`.
    pub payload_version: String,
    /// Where its notifications go.
    pub destination_id: String,
    /// The model's `processingDirective`, as given.
    pub processing_directive: Option<Value>,
    /// The seller who subscribed.
    pub seller_id: String,
    /// The application (LWA client id).
    pub client_id: String,
}

/// One published notification and what became of it.
#[derive(Clone, Debug, Serialize)]
pub struct Published {
    /// `NotificationMetadata.NotificationId`.
    pub notification_id: String,
    /// The notification type.
    pub notification_type: String,
    /// The seller it is about.
    pub seller_id: String,
    /// The queue it goes to.
    pub queue_arn: String,
    /// The faults applied to it: `lost`, `duplicated`, `reordered`, `delayed`.
    pub faults: Vec<&'static str>,
    /// When it was due in the queue (emulated time; `PublishTime`).
    pub due: DateTime<Utc>,
    /// How many copies reached the queue so far.
    pub delivered: u32,
    /// The message as sent.
    pub message: Value,
}

/// A copy of a message on its way to a queue.
#[derive(Clone, Debug)]
struct InFlight {
    queue_arn: String,
    due: DateTime<Utc>,
    seq: u64,
    /// Held back until a later message reaches the same queue (or this time passes).
    held_until: Option<DateTime<Utc>>,
    /// Index of its record in `published`, counted from the first ever published.
    record: u64,
}

/// Destinations, subscriptions and messages on their way.
#[derive(Debug)]
pub struct Notifications {
    /// Every destination.
    pub destinations: Vec<Destination>,
    /// Every subscription.
    pub subscriptions: Vec<Subscription>,
    in_flight: Vec<InFlight>,
    published: VecDeque<Published>,
    /// How many records were ever published (`published` keeps only the newest).
    records: u64,
    quantity_seen: u64,
    seq: u64,
    rng: StdRng,
}

impl Notifications {
    /// No destinations yet; faults drawn from `seed`.
    pub fn new(seed: u64) -> Self {
        Notifications {
            destinations: Vec::new(),
            subscriptions: Vec::new(),
            in_flight: Vec::new(),
            published: VecDeque::new(),
            records: 0,
            quantity_seen: 0,
            seq: 0,
            rng: StdRng::seed_from_u64(seed ^ 0x6e6f_7469_6679),
        }
    }

    /// A fresh id in UUID form, from the seeded generator.
    pub fn new_id(&mut self) -> String {
        let h: String = (0..32)
            .map(|_| char::from_digit(self.rng.gen_range(0..16), 16).unwrap_or('0'))
            .collect();
        crate::queues::uuid_form(&h)
    }

    /// The published notifications still kept, oldest first.
    pub fn published(&self) -> impl Iterator<Item = &Published> {
        self.published.iter()
    }

    fn record_mut(&mut self, record: u64) -> Option<&mut Published> {
        let first = self.records - self.published.len() as u64;
        let i = record.checked_sub(first)?;
        self.published.get_mut(usize::try_from(i).ok()?)
    }
}

/// The `ApplicationId` of an LWA client id.
pub fn application_id(client_id: &str) -> String {
    format!(
        "amzn1.sp.solution.{}",
        client_id.rsplit('.').next().unwrap_or(client_id)
    )
}

fn ms(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The `OrderChangeNotification` payload of an order right after a change.
pub fn order_change_payload(o: &Order, change: OrderChange) -> Value {
    let unshipped: i64 = o
        .items
        .iter()
        .map(|i| i.quantity - i.quantity_shipped - i.quantity_cancelled)
        .sum();
    let items: Vec<Value> = o
        .items
        .iter()
        .map(|i| {
            json!({
                "OrderItemId": i.order_item_id,
                "SellerSKU": i.sku,
                "SupplySourceId": null,
                "OrderItemStatus": if i.quantity_shipped >= i.quantity { "Shipped" } else { "Unshipped" },
                "Quantity": i.quantity,
                "QuantityShipped": i.quantity_shipped,
                "IsBuyerRequestedCancel": i.buyer_cancel_reason.is_some(),
            })
        })
        .collect();
    let reason = match change {
        OrderChange::OrderStatusChange => "OrderStatusChange",
        OrderChange::BuyerRequestedChange => "Buyer Requested Cancel",
    };
    let mut summary = json!({
        "MarketplaceId": o.marketplace_id,
        "OrderStatus": o.status.v0(),
        "PurchaseDate": ms(o.created),
        "DestinationPostalCode": o.address.postal_code,
        "FulfillmentType": if o.fulfilled_by_amazon { "AFN" } else { "MFN" },
        "OrderType": "StandardOrder",
        "NumberOfItemsShipped": o.items.iter().map(|i| i.quantity_shipped).sum::<i64>(),
        "NumberOfItemsUnshipped": unshipped,
        "OrderItems": items,
    });
    if !o.fulfilled_by_amazon {
        summary["EarliestShipDate"] = json!(ms(o.earliest_ship));
        summary["LatestShipDate"] = json!(ms(o.latest_ship));
    }
    json!({"OrderChangeNotification": {
        "NotificationLevel": "OrderLevel",
        "SellerId": o.seller_id,
        "AmazonOrderId": o.order_id,
        "OrderChangeType": change.as_str(),
        "OrderChangeTrigger": {"TimeOfOrderChange": ms(o.last_updated), "ChangeReason": reason},
        "Summary": summary,
    }})
}

/// The `LISTINGS_ITEM_MFN_QUANTITY_CHANGE` payload of a quantity change.
pub fn quantity_payload(c: &QuantityChange) -> Value {
    json!({"SellerId": c.seller_id, "FulfillmentChannelCode": "DEFAULT", "Sku": c.sku, "Quantity": c.to})
}

/// Whether an `ORDER_CHANGE` subscription's `eventFilter` lets a change through.
fn order_filter_passes(sub: &Subscription, o: &Order, change: OrderChange) -> bool {
    let filter = sub
        .processing_directive
        .as_ref()
        .and_then(|p| p.get("eventFilter"));
    let Some(f) = filter else { return true };
    let listed = |key: &str, value: &str| {
        f.get(key)
            .and_then(Value::as_array)
            .is_none_or(|l| l.is_empty() || l.iter().any(|v| v.as_str() == Some(value)))
    };
    listed("marketplaceIds", &o.marketplace_id) && listed("orderChangeTypes", change.as_str())
}

/// One change to publish: the seller, the type, when it happened, the payload, and the
/// subscription filter for it.
struct Change {
    seller_id: String,
    kind: &'static str,
    at: DateTime<Utc>,
    payload: Value,
    passes: Box<dyn Fn(&Subscription) -> bool>,
}

/// Turns the world's recorded order and quantity changes into messages on their way to the
/// subscribers' queues, drawing each message's faults. A message is due the notification
/// delay after its change, counted from `now` at the latest (an order's last-update time may
/// lie a second ahead, as it only moves forward).
pub fn publish(w: &mut World, now: DateTime<Utc>, arn_of: &dyn Fn(&World, &str) -> Option<String>) {
    let mut changes: Vec<Change> = Vec::new();
    for e in std::mem::take(&mut w.order_events) {
        let (order, change) = (e.order, e.change);
        changes.push(Change {
            seller_id: order.seller_id.clone(),
            kind: ORDER_CHANGE,
            at: order.last_updated,
            payload: order_change_payload(&order, change),
            passes: Box::new(move |s| order_filter_passes(s, &order, change)),
        });
    }
    let seen = w.notifications.quantity_seen;
    w.notifications.quantity_seen = w.listings.changes_logged();
    for c in w.listings.changes_since(seen) {
        let key = (c.seller_id.clone(), c.sku.clone());
        if w.listings.get(&key).is_some_and(|l| l.fba) {
            continue;
        }
        changes.push(Change {
            seller_id: c.seller_id.clone(),
            kind: MFN_QUANTITY_CHANGE,
            at: c.time,
            payload: quantity_payload(c),
            passes: Box::new(|_| true),
        });
    }
    for c in changes {
        let subs: Vec<Subscription> = w
            .notifications
            .subscriptions
            .iter()
            .filter(|s| s.seller_id == c.seller_id && s.notification_type == c.kind)
            .filter(|s| (c.passes)(s))
            .cloned()
            .collect();
        for sub in subs {
            let Some(arn) = arn_of(w, &sub.destination_id) else {
                continue;
            };
            schedule(w, &sub, &c, arn, now);
        }
    }
}

/// Puts one message (one change for one subscription) on its way, with its faults.
fn schedule(w: &mut World, sub: &Subscription, c: &Change, queue_arn: String, now: DateTime<Utc>) {
    let settings = w.settings;
    let n = &mut w.notifications;
    let seconds = |s: f64| Duration::milliseconds((s * 1000.0).round() as i64);
    let mut due = c.at.min(now) + seconds(settings.notification_delay_seconds);
    let mut faults = Vec::new();
    let roll = |rate: f64, rng: &mut StdRng| rate > 0.0 && rng.gen_bool(rate.min(1.0));
    let lost = roll(settings.notification_lose_rate, &mut n.rng);
    let duplicated = roll(settings.notification_duplicate_rate, &mut n.rng);
    let reordered = roll(settings.notification_reorder_rate, &mut n.rng);
    let delayed = roll(settings.notification_delay_rate, &mut n.rng);
    let extra = seconds(settings.notification_extra_delay_seconds);
    if lost {
        faults.push("lost");
    } else {
        if delayed {
            faults.push("delayed");
            let ms = extra.num_milliseconds().max(1);
            due += Duration::milliseconds(n.rng.gen_range(ms / 2..=ms));
        }
        if duplicated {
            faults.push("duplicated");
        }
        if reordered {
            faults.push("reordered");
        }
    }
    let message = json!({
        "NotificationVersion": "1.0",
        "NotificationType": c.kind,
        "PayloadVersion": sub.payload_version,
        "EventTime": ms(c.at),
        "Payload": c.payload,
        "NotificationMetadata": {
            "ApplicationId": application_id(&sub.client_id),
            "SubscriptionId": sub.subscription_id,
            "PublishTime": ms(due),
            "NotificationId": n.new_id(),
        }
    });
    let record = n.records;
    n.records += 1;
    crate::world::push_bounded(
        &mut n.published,
        Published {
            notification_id: message["NotificationMetadata"]["NotificationId"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            notification_type: c.kind.to_string(),
            seller_id: c.seller_id.clone(),
            queue_arn: queue_arn.clone(),
            faults,
            due,
            delivered: 0,
            message,
        },
    );
    if lost {
        return;
    }
    let copies = if duplicated { 2 } else { 1 };
    for copy in 0..copies {
        n.seq += 1;
        n.in_flight.push(InFlight {
            queue_arn: queue_arn.clone(),
            due: due + Duration::milliseconds(copy),
            seq: n.seq,
            held_until: (reordered && copy == 0).then(|| due + extra),
            record,
        });
    }
}

/// Takes the messages due by `now` as (queue ARN, body), in the order they reach their
/// queues: by due time, and a held-back message right after the next later one to its queue.
fn take_due(n: &mut Notifications, now: DateTime<Utc>) -> Vec<(String, String)> {
    let (mut due, rest): (Vec<InFlight>, Vec<InFlight>) = std::mem::take(&mut n.in_flight)
        .into_iter()
        .partition(|m| match m.held_until {
            Some(t) => t <= now,
            None => m.due <= now,
        });
    n.in_flight = rest;
    due.sort_by_key(|m| (m.held_until.unwrap_or(m.due), m.seq));
    let mut out = Vec::new();
    for m in due {
        let Some(p) = n.record_mut(m.record) else {
            continue;
        };
        p.delivered += 1;
        let (arn, body) = (p.queue_arn.clone(), p.message.to_string());
        out.push((arn.clone(), body));
        // Messages held back for this queue follow the later one just delivered.
        let (released, kept): (Vec<InFlight>, Vec<InFlight>) =
            std::mem::take(&mut n.in_flight).into_iter().partition(|h| {
                h.held_until.is_some() && h.queue_arn == arn && h.seq < m.seq && h.due <= now
            });
        n.in_flight = kept;
        for h in released {
            if let Some(p) = n.record_mut(h.record) {
                p.delivered += 1;
                out.push((p.queue_arn.clone(), p.message.to_string()));
            }
        }
    }
    out
}

/// Applies what is due by now: the world's time-driven changes, then publishing, then
/// delivery of due messages into their queues. Called by a background task, and before the
/// emulator answers anything about queues.
pub fn pump(s: &Shared) {
    let now = s.clock.now();
    let mut w = lock(&s.world);
    crate::api::tick(&mut w, now);
    let queues = &s.queues;
    publish(&mut w, now, &|w, destination_id| {
        w.notifications
            .destinations
            .iter()
            .find(|d| d.destination_id == destination_id)
            .map(|d| d.arn.clone())
    });
    for (arn, body) in take_due(&mut w.notifications, now) {
        if let Some(q) = queues.by_arn(&arn) {
            q.send(&body);
        }
    }
}

/// Runs [`pump`] every 20 ms of real time.
pub async fn run(shared: std::sync::Arc<Shared>) {
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        pump(&shared);
    }
}
