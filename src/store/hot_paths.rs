//! The store's hot paths do not grow with the store: each is measured in SQLite virtual-machine
//! steps (a deterministic count, unlike time) in a small and a large shop, and every statement
//! they run is checked with `EXPLAIN QUERY PLAN` for full scans of the large tables.

use super::deliveries::Taker;
use super::*;
use crate::config::StockConfig;
use crate::model::{OrderStatus, SkuMapping, StockLevel};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The named consumer group of the shops.
const GROUP: &str = "erp";

/// Statements run while tracing is on (expanded with their parameters).
static TRACED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn traced(sql: &str) {
    TRACED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(sql.to_string());
}

/// Tables that grow with the shop; a statement on a hot path may not scan them whole.
const LARGE: &[&str] = &[
    "orders",
    "order_items",
    "skus",
    "sku_components",
    "stock",
    "events",
    "shipments",
    "adjustments",
    "feeds",
    "notifications",
];
/// Partial indexes: scanning one reads only the rows a hot path is after.
const PARTIAL: &[&str] = &[
    "orders_to_deliver",
    "orders_pending",
    "skus_in_feed",
    "skus_parked",
    "shipments_failed",
    "feeds_open",
    "notifications_pending",
    "skus_out_of_step",
    "skus_to_look_up",
    "shipments_to_send",
    "skus_holding",
    "skus_sent",
];

/// Scans in a table's own order that stop at the first row wanted: the oldest event not leased
/// to another handle is found after at most the events other handles hold right now.
const ORDERED_SCANS: &[(&str, &str)] = &[("events", "ORDER BY seq LIMIT 1")];

/// Every how many orders one was cancelled before the host took it (it stays unacknowledged).
const CANCELLED_EVERY: usize = 40;

/// A shop with `skus` SKUs (one item each, all reported) and `orders` orders, handed to the
/// default group and a named one: all but the last 20 shipped and acknowledged by both,
/// except one in `CANCELLED_EVERY`, cancelled before either took it.
fn shop(dir: &tempfile::TempDir, skus: usize, orders: usize) -> Store {
    let store = Store::open(dir.path().join("s.sqlite").to_str().unwrap()).unwrap();
    let defaults = StockConfig::default();
    let now = Utc::now();
    store.name_group(GROUP, now).unwrap();
    let mappings: Vec<SkuMapping> = (0..skus)
        .map(|i| {
            serde_json::from_value(serde_json::json!({
                "sku": format!("SKU-{i}"), "items": [{"host_item": format!("I-{i}")}]
            }))
            .unwrap()
        })
        .collect();
    store.map_skus(&mappings, &defaults, now).unwrap();
    let levels = (0..skus)
        .map(|i| StockLevel {
            host_item: format!("I-{i}"),
            on_hand: 1_000,
        })
        .collect();
    store.set_stock(levels, &defaults, 300.0, now).unwrap();
    let all: Vec<Order> = (0..orders)
        .map(|n| order(n, skus, n + 20 < orders))
        .collect();
    for page in all.chunks(1_000) {
        store.apply_orders(page, &defaults, now).unwrap();
    }
    let cancelled: Vec<Order> = (0..orders.saturating_sub(20))
        .step_by(CANCELLED_EVERY)
        .map(|n| {
            let mut o = order(n, skus, true);
            o.status = OrderStatus::Cancelled;
            o.last_updated = "2026-11-01T11:00:00.000Z".into();
            o.items[0].quantity_shipped = 0;
            o.items[0].quantity_cancelled = 1;
            o
        })
        .collect();
    for page in cancelled.chunks(1_000) {
        store.apply_orders(page, &defaults, now).unwrap();
    }
    // The shipped ones were handed over and acknowledged long ago, and Amazon shows what
    // every SKU should show.
    store
        .conn()
        .execute_batch(&format!(
            "UPDATE orders SET acked_at = '{now}', host_ref = 'POS', handed_out = 1 WHERE status = 'SHIPPED';
             UPDATE deliveries SET acked_at = '{now}', host_ref = 'ERP', handed_out = 1
                WHERE order_id IN (SELECT order_id FROM orders WHERE status = 'SHIPPED');
             UPDATE skus SET looked_up = 1, amazon = desired, pushed_for = desired, orders_took = NULL;",
            now = ts(now)
        ))
        .unwrap();
    store
}

/// Order number `n` for one unit of a SKU among `skus`, shipped or not, with a recipient.
fn order(n: usize, skus: usize, shipped: bool) -> Order {
    let status = if shipped { "SHIPPED" } else { "UNSHIPPED" };
    serde_json::from_value(serde_json::json!({
        "order_id": format!("111-{n:07}-0000000"), "marketplace_id": "ATVPDKIKX0DER",
        "status": status, "fulfilled_by": "MERCHANT",
        "purchase_date": "2026-11-01T10:00:00.000Z", "last_updated": "2026-11-01T10:00:00.000Z",
        "earliest_ship_date": null, "latest_ship_date": "2026-11-03T10:00:00.000Z",
        "currency": "USD", "total": "10.00", "buyer_cancel_requested": false,
        "recipient": {"name": format!("Buyer {n}"), "company": null, "line1": "1 Main St",
                      "line2": null, "line3": null, "city": "Seattle", "district_or_county": null,
                      "state_or_region": "WA", "postal_code": "98101", "country_code": "US",
                      "phone": null},
        "items": [{"order_item_id": format!("{n}"), "sku": format!("SKU-{}", n % skus), "asin": null,
                   "title": null, "quantity": 1, "quantity_shipped": i64::from(shipped),
                   "unit_price": "10.00", "line_total": "10.00",
                   "buyer_cancel_requested": false, "buyer_cancel_reason": null}]
    }))
    .unwrap()
}

/// SQLite VM steps that `work` costs, with every statement it runs traced.
fn steps(store: &Store, work: impl FnOnce()) -> u64 {
    let count = Arc::new(AtomicU64::new(0));
    {
        let mut guard = store.conn();
        let conn = guard.sqlite_mut().expect("SQLite");
        let c = count.clone();
        conn.progress_handler(
            1,
            Some(move || {
                c.fetch_add(1, Ordering::Relaxed);
                false
            }),
        );
        conn.trace(Some(traced));
    }
    work();
    let mut guard = store.conn();
    let conn = guard.sqlite_mut().expect("SQLite");
    conn.progress_handler(0, None::<fn() -> bool>);
    conn.trace(None);
    count.load(Ordering::Relaxed)
}

/// VM steps per unit of each hot path in `store`, whose catalogue has `skus` SKUs and whose
/// order numbers so far end before `next`.
fn costs(store: &Store, skus: usize, next: usize) -> Vec<(&'static str, f64)> {
    let defaults = StockConfig::default();
    let now = Utc::now();
    let new: Vec<Order> = (next..next + 100).map(|n| order(n, skus, false)).collect();
    let apply = steps(store, || {
        store.apply_orders(new.as_slice(), &defaults, now).unwrap();
    });
    let hand_over = steps(store, || {
        for _ in 0..20 {
            let doc = store.next_order("h", now, now).unwrap().unwrap();
            let o: Order = serde_json::from_str(&doc).unwrap();
            store.ack_order(&o.order_id, "POS", now).unwrap();
        }
    });
    let group = Taker {
        owner: "h".into(),
        group: Some(GROUP.into()),
        exclusive: false,
    };
    let hand_over_group = steps(store, || {
        for _ in 0..20 {
            let doc = store.next_order_for(&group, now, now).unwrap().unwrap();
            let o: Order = serde_json::from_str(&doc).unwrap();
            store
                .ack_order_for(Some(GROUP), &o.order_id, "ERP", now)
                .unwrap();
        }
    });
    let stock = steps(store, || {
        for i in 0..20 {
            let level = StockLevel {
                host_item: format!("I-{}", i * 7 % skus),
                on_hand: 900,
            };
            store.set_stock(vec![level], &defaults, 300.0, now).unwrap();
        }
    });
    let lanes = steps(store, || {
        store.release_expired_holds(now).unwrap();
        store.pending_pushes(&defaults).unwrap();
        store.skus_to_look_up(20).unwrap();
    });
    let events = steps(store, || {
        for _ in 0..20 {
            match store.next_event("h", now, now).unwrap() {
                NextEvent::Event(seq, _) => store.ack_event(seq).unwrap(),
                NextEvent::None { .. } => panic!("an event is waiting"),
            }
        }
    });
    // Nothing is due: every shipped order's retention runs until 30 days after 2026-11-01.
    let cutoff = DateTime::parse_from_rfc3339("2026-10-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let purge = steps(store, || {
        assert_eq!(store.purge_due(cutoff, now, 500).unwrap(), 0);
    });
    // What `sellsync_state` and `sellsync status` count.
    let state = steps(store, || {
        store.order_counts().unwrap();
        store.stock_counts().unwrap();
        store.queues().unwrap();
        store.notification_counts().unwrap();
    });
    vec![
        ("storing an order from Amazon", apply as f64 / 100.0),
        ("the handle's state", state as f64),
        (
            "a pass of the buyer data purge with nothing due",
            purge as f64,
        ),
        (
            "handing an order over and its acknowledgement",
            hand_over as f64 / 20.0,
        ),
        (
            "handing an order to a named group and its acknowledgement",
            hand_over_group as f64 / 20.0,
        ),
        ("one stock level", stock as f64 / 20.0),
        (
            "a pass of the stock lanes with nothing to send",
            lanes as f64,
        ),
        (
            "handing an event over and its acknowledgement",
            events as f64 / 20.0,
        ),
    ]
}

#[test]
fn hot_paths_cost_the_same_in_a_large_store_and_never_scan_a_large_table() {
    let (small_dir, large_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let small = shop(&small_dir, 200, 500);
    let large = shop(&large_dir, 1_000, 30_000);
    let at_small = costs(&small, 200, 500);
    TRACED.lock().unwrap_or_else(|p| p.into_inner()).clear();
    let at_large = costs(&large, 1_000, 30_000);
    for ((what, a), (_, b)) in at_small.iter().zip(&at_large) {
        assert!(
            *b <= 2.0 * a.max(1.0),
            "{what}: {b:.0} VM steps with 1,000 SKUs and 30,000 orders (30 a SKU), {a:.0} with 200 and 500"
        );
    }
    let statements: std::collections::BTreeSet<String> =
        std::mem::take(&mut *TRACED.lock().unwrap_or_else(|p| p.into_inner()))
            .into_iter()
            .collect();
    let conn = large.conn();
    let mut checked = 0;
    for sql in statements {
        let head = sql.trim_start().to_ascii_uppercase();
        if ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH"]
            .iter()
            .all(|k| !head.starts_with(k))
        {
            continue;
        }
        checked += 1;
        let mut plan = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let details: Vec<String> = plan
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        for d in details {
            let Some(rest) = d.strip_prefix("SCAN ") else {
                continue;
            };
            let table = rest.split_whitespace().next().unwrap_or("");
            let partial = PARTIAL.iter().any(|i| rest.contains(&format!("INDEX {i}")));
            let ordered = ORDERED_SCANS
                .iter()
                .any(|(t, tail)| *t == table && sql.trim_end().ends_with(tail));
            assert!(
                !LARGE.contains(&table) || partial || ordered,
                "a hot path scans {table}: {d}\n  in: {sql}"
            );
        }
    }
    assert!(checked >= 10, "only {checked} statements were traced");
}
