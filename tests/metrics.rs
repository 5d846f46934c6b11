//! Seller performance on constructed histories: exact rates at window edges, per marketplace,
//! with partial shipments, buyer cancellations not counted against the seller.

use chrono::{DateTime, Duration, TimeZone, Utc};
use sellsync::metrics::{compute, Query};
use sellsync::model::{
    FulfilledBy, Order, OrderItem, OrderStatus, Refund, RefundItem, Shipment, ShipmentItem,
};
use sellsync::store::shipments::ShipmentState;
use sellsync::store::{ts, Store};
use serde_json::Value;

/// How far Amazon's and sellsync's rates may differ (the configuration's default).
const TOLERANCE: f64 = 0.005;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

fn order(
    id: &str,
    mp: &str,
    bought: DateTime<Utc>,
    ship_by: DateTime<Utc>,
    status: OrderStatus,
) -> Order {
    Order {
        order_id: id.into(),
        marketplace_id: mp.into(),
        status,
        fulfilled_by: FulfilledBy::Merchant,
        purchase_date: ts(bought),
        last_updated: ts(bought),
        earliest_ship_date: Some(ts(bought)),
        latest_ship_date: Some(ts(ship_by)),
        latest_delivery_date: None,
        currency: Some("EUR".into()),
        total: Some("20.00".into()),
        items: vec![OrderItem {
            order_item_id: format!("{id}-1"),
            sku: Some("SKU".into()),
            asin: None,
            title: None,
            quantity: 2,
            quantity_shipped: 0,
            unit_price: Some("10.00".into()),
            line_total: Some("20.00".into()),
            buyer_cancel_requested: false,
            buyer_cancel_reason: None,
            quantity_cancelled: 0,
            charges: None,
        }],
        recipient: None,
        buyer_cancel_requested: false,
        tax_included: true,
        other_charges: None,
        is_business: false,
        is_prime: false,
        is_premium: false,
        is_replacement: false,
        replaced_order_id: None,
    }
}

fn ship(store: &Store, id: &str, qty: i64, at: DateTime<Utc>) {
    let s = Shipment {
        order_id: id.into(),
        package_reference_id: None,
        carrier_code: "DHL".into(),
        carrier_name: None,
        shipping_method: None,
        tracking_number: "T".into(),
        ship_date: None,
        items: vec![ShipmentItem {
            order_item_id: format!("{id}-1"),
            quantity: qty,
        }],
    };
    let pref = store.add_shipment(&s, at).unwrap();
    store
        .mark_shipment(id, &pref, ShipmentState::Sent, None, at)
        .unwrap();
}

fn rate(m: &Value, mp: &str, name: &str, days: i64) -> (u64, u64, String) {
    let metric = m["marketplaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["marketplace_id"] == mp)
        .unwrap()["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name && x["window_days"] == days)
        .unwrap()
        .clone();
    (
        metric["numerator"].as_u64().unwrap(),
        metric["denominator"].as_u64().unwrap(),
        metric["status"].as_str().unwrap().into(),
    )
}

#[test]
fn rates_are_exact_at_window_edges_per_marketplace() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("m.sqlite").to_str().unwrap()).unwrap();
    let n = now();
    let mut orders = Vec::new();
    // DE: 40 orders in the last 7 days (one exactly at the edge), 2 older ones.
    for i in 0..39 {
        orders.push(order(
            &format!("DE-{i:02}"),
            "DE",
            n - Duration::hours(2 + i * 4),
            n + Duration::days(1),
            OrderStatus::Unshipped,
        ));
    }
    orders.push(order(
        "DE-EDGE",
        "DE",
        n - Duration::days(7),
        n + Duration::days(1),
        OrderStatus::Unshipped,
    ));
    orders.push(order(
        "DE-OLD",
        "DE",
        n - Duration::days(7) - Duration::milliseconds(1),
        n + Duration::days(1),
        OrderStatus::Unshipped,
    ));
    orders.push(order(
        "DE-OLDER",
        "DE",
        n - Duration::days(9),
        n + Duration::days(1),
        OrderStatus::Unshipped,
    ));
    // A buyer's own cancellation: counts in the denominator only.
    orders.push(order(
        "DE-BUYER",
        "DE",
        n - Duration::days(1),
        n + Duration::days(1),
        OrderStatus::Cancelled,
    ));
    // FR: 10 orders.
    for i in 0..10 {
        orders.push(order(
            &format!("FR-{i}"),
            "FR",
            n - Duration::days(1),
            n + Duration::days(1),
            OrderStatus::Unshipped,
        ));
    }
    store
        .apply_orders(orders.as_slice(), &Default::default(), n)
        .unwrap();
    // The seller cancels DE-EDGE (inside) and DE-OLD (outside the 7 days), and FR-0.
    for id in ["DE-EDGE", "DE-OLD", "FR-0"] {
        assert!(store.add_cancel(id, "NoInventory", &[], n).unwrap());
    }
    let m = compute(
        &store,
        &["DE".into(), "FR".into()],
        n,
        &Query::default(),
        TOLERANCE,
    )
    .unwrap()
    .to_json();
    // 1 of 41 = 2.44%: under 2.5%, but over three quarters of it.
    assert_eq!(
        rate(&m, "DE", "cancellation_rate", 7),
        (1, 41, "at_risk".into())
    );
    assert_eq!(
        rate(&m, "FR", "cancellation_rate", 7),
        (1, 10, "failing".into())
    );
    // One more DE cancellation crosses the target: 2 of 41 = 4.9%.
    store.add_cancel("DE-00", "NoInventory", &[], n).unwrap();
    let m = compute(&store, &["DE".into()], n, &Query::default(), TOLERANCE)
        .unwrap()
        .to_json();
    assert_eq!(
        rate(&m, "DE", "cancellation_rate", 7),
        (2, 41, "failing".into())
    );
    // Refunds: the refund rate over 60 days.
    store
        .add_refund(
            &Refund {
                order_id: "DE-01".into(),
                refund_id: None,
                reason: "CustomerReturn".into(),
                items: vec![RefundItem {
                    order_item_id: "DE-01-1".into(),
                    amount: "5.00".into(),
                }],
            },
            n,
        )
        .unwrap();
    let m = compute(&store, &["DE".into()], n, &Query::default(), TOLERANCE)
        .unwrap()
        .to_json();
    assert_eq!(
        rate(&m, "DE", "refund_rate", 60),
        (1, 43, "failing".into()),
        "1 of 43 = 2.3% > 1%"
    );
}

#[test]
fn late_shipments_count_the_first_confirmation_against_the_latest_ship_date() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("m.sqlite").to_str().unwrap()).unwrap();
    let n = now();
    let lsd = |d: i64| n - Duration::days(d);
    let orders = vec![
        order(
            "ON-TIME",
            "US",
            lsd(5) - Duration::days(2),
            lsd(5),
            OrderStatus::Unshipped,
        ),
        order(
            "LATE",
            "US",
            lsd(5) - Duration::days(2),
            lsd(5),
            OrderStatus::Unshipped,
        ),
        order(
            "PARTIAL",
            "US",
            lsd(3) - Duration::days(2),
            lsd(3),
            OrderStatus::Unshipped,
        ),
        order(
            "NEVER",
            "US",
            lsd(2) - Duration::days(2),
            lsd(2),
            OrderStatus::Unshipped,
        ),
        order(
            "OLD-LATE",
            "US",
            lsd(20) - Duration::days(2),
            lsd(20),
            OrderStatus::Unshipped,
        ),
        order(
            "DUE-SOON",
            "US",
            n - Duration::days(1),
            n + Duration::hours(5),
            OrderStatus::Unshipped,
        ),
        order(
            "CANCELLED",
            "US",
            lsd(4) - Duration::days(2),
            lsd(4),
            OrderStatus::Cancelled,
        ),
    ];
    store
        .apply_orders(orders.as_slice(), &Default::default(), n)
        .unwrap();
    ship(&store, "ON-TIME", 2, lsd(5) - Duration::hours(1));
    ship(&store, "LATE", 2, lsd(5) + Duration::seconds(1));
    // A partial shipment on time, the rest late: the first confirmation was on time.
    ship(&store, "PARTIAL", 1, lsd(3) - Duration::hours(3));
    ship(&store, "PARTIAL", 1, lsd(3) + Duration::hours(3));
    ship(&store, "OLD-LATE", 2, lsd(20) + Duration::hours(1));
    let m = compute(&store, &["US".into()], n, &Query::default(), TOLERANCE)
        .unwrap()
        .to_json();
    // 10 days: ON-TIME, LATE, PARTIAL, NEVER (unshipped past its date) = 4 orders, 2 late.
    assert_eq!(
        rate(&m, "US", "late_shipment_rate", 10),
        (2, 4, "failing".into())
    );
    // 30 days adds OLD-LATE.
    assert_eq!(
        rate(&m, "US", "late_shipment_rate", 30),
        (3, 5, "failing".into())
    );
    // At risk now: NEVER is overdue, DUE-SOON is due within 24 hours.
    let due: Vec<(String, bool)> = m["at_risk"]["orders_due"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["order_id"].as_str().unwrap().to_string(),
                o["overdue"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        due,
        vec![("NEVER".to_string(), true), ("DUE-SOON".to_string(), false)]
    );
    // Evaluated 20 days later, everything has left the 10-day window.
    let q = Query {
        now: Some(ts(n + Duration::days(20))),
        ..Query::default()
    };
    let later = compute(&store, &["US".into()], n, &q, TOLERANCE)
        .unwrap()
        .to_json();
    assert_eq!(rate(&later, "US", "late_shipment_rate", 10).1, 0);
}
