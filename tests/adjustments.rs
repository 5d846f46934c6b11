//! Seller cancellations and refunds reach Amazon through the order feeds, and their outcome
//! comes back as events.

mod common;

use common::*;
use sellsync::model::{Refund, RefundItem};
use sellsync::Engine;
use sellsync_emulator::{CanceledBy, OrderSeed, Status};
use std::time::{Duration, Instant};

/// Runs flow-3 cycles until `n` adjustment outcomes have arrived (bounded); returns the events.
fn outcomes(engine: &Engine, n: usize) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut got = Vec::new();
    while got.len() < n {
        engine.sync_now(8, SYNC).unwrap();
        got.extend(
            events(engine)
                .into_iter()
                .filter(|e| e["type"].as_str().unwrap().starts_with("adjustment.")),
        );
        assert!(
            Instant::now() < deadline,
            "only {} of {n} outcomes",
            got.len()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    got
}

#[test]
fn cancellations_and_refunds_end_in_amazons_state() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 5, 50);
    let ids = emu
        .control()
        .place_orders(&OrderSeed {
            count: Some(4),
            lines: vec![("SKU-0001".into(), 2)],
            age_seconds: 600,
            ..Default::default()
        })
        .unwrap();
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine.sync_now(1, SYNC).unwrap();
    let orders = drain(&engine);
    let item = |id: &str| {
        orders.iter().find(|o| o["order_id"] == id).unwrap()["items"][0]["order_item_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    use sellsync::Error::{InvalidArgument, InvalidState, NotFound};
    assert!(engine.order_cancel(&ids[0], "NoInventory").unwrap());
    assert!(
        !engine.order_cancel(&ids[0], "NoInventory").unwrap(),
        "a second cancel sends nothing more"
    );
    assert!(engine
        .order_cancel(&ids[1], "ShippingAddressUndeliverable")
        .unwrap());
    assert!(
        matches!(engine.order_cancel(&ids[2], "Because"), Err(InvalidArgument(m)) if m.contains("NoInventory"))
    );
    assert!(matches!(
        engine.order_cancel("111-0000000-0000000", "NoInventory"),
        Err(NotFound(_))
    ));
    let refund = |amount: &str| Refund {
        order_id: ids[2].clone(),
        refund_id: None,
        reason: "CustomerReturn".into(),
        items: vec![RefundItem {
            order_item_id: item(&ids[2]),
            amount: amount.into(),
        }],
    };
    assert!(
        matches!(engine.order_refund(&refund("999.00")), Err(InvalidArgument(m)) if m.contains("more than"))
    );
    assert!(matches!(
        engine.order_refund(&refund("-1")),
        Err(InvalidArgument(_))
    ));
    let named = |id: &str, amount: &str| Refund {
        refund_id: Some(id.into()),
        ..refund(amount)
    };
    assert!(engine.order_refund(&named("R-1", "10.01")).unwrap());
    assert!(
        !engine.order_refund(&named("R-1", "10.01")).unwrap(),
        "the same refund_id again sends nothing more"
    );
    assert!(
        matches!(engine.order_refund(&named("R-1", "5.00")), Err(InvalidArgument(m)) if m.contains("another refund"))
    );
    assert!(matches!(
        engine.order_refund(&named("", "5.00")),
        Err(InvalidArgument(_))
    ));
    // The buyer cancels order 3 on Amazon before our cancellation of it arrives: Amazon refuses ours.
    engine.order_cancel(&ids[3], "NoInventory").unwrap();
    assert!(emu
        .control()
        .cancel(&ids[3], CanceledBy::Buyer, "changed mind"));
    let got = outcomes(&engine, 4);
    let done: Vec<_> = got
        .iter()
        .filter(|e| e["type"] == "adjustment.done")
        .collect();
    let failed: Vec<_> = got
        .iter()
        .filter(|e| e["type"] == "adjustment.failed")
        .collect();
    assert_eq!(done.len(), 3, "{got:?}");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["order_id"], ids[3].as_str());
    assert!(failed[0]["message"]
        .as_str()
        .unwrap()
        .contains("cannot be cancelled"));
    for id in &ids[..2] {
        let o = emu.control().order(id).unwrap();
        assert_eq!(
            (o.status, o.canceled_by),
            (Status::Canceled, Some(CanceledBy::Seller))
        );
    }
    let refunds = emu.control().state()["refunds"].clone();
    assert_eq!(refunds.as_array().unwrap().len(), 1);
    assert_eq!(refunds[0]["amount"], "10.01");
    assert_eq!(refunds[0]["reason"], "CustomerReturn");
    // A cancelled order cannot be cancelled again, nor a shipped one.
    engine.sync_now(1, SYNC).unwrap();
    see_orders(&emu, &engine);
    assert!(matches!(
        engine.order_cancel(&ids[3], "NoInventory"),
        Err(InvalidState(_))
    ));
    assert_eq!(
        emu.control().count("createFeed", 202),
        2,
        "all cancellations in one feed, all refunds in another"
    );
}

#[test]
fn a_cancellation_that_costs_the_target_warns_and_at_risk_conditions_arrive_once() {
    let (_emu, _dir, engine, ids, _) = shop_with_orders(10);
    let at_risk = |evs: &[serde_json::Value]| {
        evs.iter()
            .filter(|e| e["type"] == "performance.at_risk")
            .cloned()
            .collect::<Vec<_>>()
    };
    let _ = events(&engine);
    // 1 of 10 orders cancelled by the seller is 10%: the call succeeds, and says so.
    assert!(engine.order_cancel(&ids[0], "NoInventory").unwrap());
    let warned = at_risk(&events(&engine));
    assert_eq!(warned.len(), 1);
    assert_eq!(warned[0]["metric"], "cancellation_rate");
    assert!(
        warned[0]["message"].as_str().unwrap().contains("10.00%"),
        "{warned:?}"
    );
    // The failing metric is reported once, not at every cycle.
    let mut seen = Vec::new();
    for _ in 0..3 {
        engine.sync_now(1 | 8, SYNC).unwrap();
        seen.extend(at_risk(&events(&engine)));
    }
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["marketplace_id"], "ATVPDKIKX0DER");
    let m: serde_json::Value = serde_json::from_str(&engine.metrics("").unwrap()).unwrap();
    let us = m["marketplaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["marketplace_id"] == "ATVPDKIKX0DER")
        .unwrap()
        .clone();
    assert_eq!(us["metrics"][0]["status"], "failing");
    assert_eq!(
        (
            us["metrics"][0]["numerator"].as_u64(),
            us["metrics"][0]["denominator"].as_u64()
        ),
        (Some(1), Some(10))
    );
}

#[test]
fn items_can_be_cancelled_while_the_rest_of_the_order_ships() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 5, 50);
    let id = emu
        .control()
        .place_orders(&OrderSeed {
            lines: vec![("SKU-0001".into(), 2), ("SKU-0002".into(), 1)],
            age_seconds: 600,
            ..Default::default()
        })
        .unwrap()[0]
        .clone();
    let dir = tempdir();
    let engine = open(&emu, &dir, r#","orders": {"overlap_seconds": 3600}"#);
    engine.sync_now(1, SYNC).unwrap();
    let order = drain(&engine).remove(0);
    let item_of = |sku: &str| {
        order["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["sku"] == sku)
            .unwrap()["order_item_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (keep, drop) = (item_of("SKU-0001"), item_of("SKU-0002"));
    assert!(engine
        .order_cancel_items(&id, "NoInventory", std::slice::from_ref(&drop))
        .unwrap());
    assert!(
        !engine
            .order_cancel_items(&id, "NoInventory", std::slice::from_ref(&drop))
            .unwrap(),
        "the same again sends nothing"
    );
    assert!(matches!(
        engine.order_cancel_items(&id, "NoInventory", &["999".into()]),
        Err(sellsync::Error::InvalidArgument(_))
    ));
    let got = outcomes(&engine, 1);
    assert_eq!(got[0]["type"], "adjustment.done", "{got:?}");
    let on_amazon = emu.control().order(&id).unwrap();
    assert_eq!(
        on_amazon.status,
        Status::Unshipped,
        "the rest of the order stands"
    );
    assert_eq!(
        on_amazon
            .items
            .iter()
            .find(|i| i.order_item_id == drop)
            .unwrap()
            .quantity_cancelled,
        1
    );
    // The library learns it once Amazon's search shows the change (two minutes later): the
    // cancelled item cannot be shipped any more.
    see_orders(&emu, &engine);
    let ship = |item: &str, quantity: i64| package(&id, item, quantity);
    assert!(matches!(
        engine.shipment_confirm(&ship(&drop, 1)),
        Err(sellsync::Error::InvalidArgument(_))
    ));
    engine.shipment_confirm(&ship(&keep, 2)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while emu.control().order(&id).unwrap().status != Status::Shipped {
        engine.sync_now(8, SYNC).unwrap();
        assert!(Instant::now() < deadline, "the order did not ship");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_refund_whose_create_feed_answer_was_lost_is_made_once() {
    use sellsync_emulator::{Fault, FaultKind};
    let emu = emulator(1000.0);
    seed_listings(&emu, 5, 50);
    let ids = place_orders(&emu, 2, false, None);
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine.sync_now(1, SYNC).unwrap();
    let orders = drain(&engine);
    for (n, kind) in [FaultKind::Drop, FaultKind::LateAnswer { ms: 10_000 }]
        .into_iter()
        .enumerate()
    {
        let id = &ids[n];
        let order = orders
            .iter()
            .find(|o| o["order_id"] == id.as_str())
            .unwrap();
        engine
            .order_refund(&Refund {
                order_id: id.clone(),
                refund_id: None,
                reason: "CustomerReturn".into(),
                items: vec![RefundItem {
                    order_item_id: order["items"][0]["order_item_id"].as_str().unwrap().into(),
                    amount: "1.00".into(),
                }],
            })
            .unwrap();
        // Amazon creates the feed; its answer never reaches the library.
        emu.control().inject(Fault {
            operation: "createFeed".into(),
            count: 1,
            kind,
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let done = loop {
            // With the orders flow, whose calls carry Amazon's time.
            let _ = engine.sync_now(1 | 8, SYNC);
            let got: Vec<_> = events(&engine)
                .into_iter()
                .filter(|e| e["type"].as_str().unwrap().starts_with("adjustment."))
                .collect();
            if !got.is_empty() {
                break got;
            }
            assert!(Instant::now() < deadline, "no outcome");
            // Amazon's time passes until the lost createFeed is resolved from its list of feeds.
            emu.control().advance(chrono::Duration::seconds(30));
        };
        assert_eq!(done.len(), 1, "{done:?}");
        assert_eq!(done[0]["type"], "adjustment.done", "{done:?}");
        let refunds = emu.control().state()["refunds"].clone();
        let of_order = refunds
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["order_id"] == id.as_str())
            .count();
        assert_eq!(of_order, 1, "refunded {of_order} times: {refunds}");
        assert_eq!(emu.control().count("createFeed", 202), n as u64 + 1);
        assert!(emu.control().count("getFeeds", 200) > n as u64);
    }
}
