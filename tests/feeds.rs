//! Listings feeds as Amazon runs them: one stuck `IN_PROGRESS` (Amazon holds the seller's later
//! listings feeds behind it) is reported late once, across cycles and a reopened store, while
//! urgent and small changes still reach Amazon; once it ends, its older values do not stay.
//! Order feeds go out without a byte-order mark, which Amazon refuses.

mod common;

use common::*;
use sellsync::model::{Refund, RefundItem, SkuMapping, StockLevel};
use sellsync::Engine;
use sellsync_emulator::stock::Cause;
use sellsync_emulator::{Emulator, Fault, FaultKind, Status};
use std::time::Duration;

/// The `stock.feed_late` events waiting, acknowledged.
fn late_events(engine: &Engine) -> Vec<serde_json::Value> {
    events(engine)
        .into_iter()
        .filter(|e| e["type"] == "stock.feed_late")
        .collect()
}

/// The emulator's processing status of its only listings feed.
fn feed_status(emu: &Emulator) -> String {
    let state = emu.control().state();
    let feeds: Vec<&serde_json::Value> = state["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["feed_type"] == "JSON_LISTINGS_FEED")
        .collect();
    assert_eq!(feeds.len(), 1, "{feeds:?}");
    feeds[0]["status"].as_str().unwrap().to_string()
}

#[test]
fn a_stuck_feed_is_reported_late_once_while_urgent_and_small_changes_go_on_and_the_newest_values_win(
) {
    const SKUS: usize = 60;
    let emu = emulator(1000.0);
    let skus: Vec<String> = (0..SKUS).map(|i| format!("SKU-{i:04}")).collect();
    seed_skus(&emu, &skus, 5, false);
    // Two and a half hours of Amazon's time IN_PROGRESS: 9 s at this rate scale.
    emu.control().inject(Fault {
        operation: "createFeed".into(),
        count: 1,
        kind: FaultKind::FeedStall { seconds: 9000 },
    });
    let dir = tempdir();
    let config = r#","stock": {"feed_late_seconds": 1}"#;
    let engine = open(&emu, &dir, config);
    let mappings: Vec<SkuMapping> = skus
        .iter()
        .enumerate()
        .map(|(i, s)| one_to_one(s, &format!("ITEM-{i}")))
        .collect();
    engine.sku_map(&mappings).unwrap();
    let levels: Vec<StockLevel> = (0..SKUS).map(|i| level(&format!("ITEM-{i}"), 40)).collect();
    engine.stock_set(&levels).unwrap();
    let r = engine.sync_now(2, SYNC).unwrap();
    assert_eq!(
        (r.stock.feeds_submitted, r.stock.messages),
        (1, SKUS as u64)
    );

    let mut late = Vec::new();
    wait_until("the stuck feed to be reported late", SYNC, || {
        engine.sync_now(2, SYNC).unwrap();
        late.extend(late_events(&engine));
        !late.is_empty()
    });
    assert_eq!(late.len(), 1, "{late:?}");
    assert_eq!(late[0]["status"], "IN_PROGRESS");
    assert_eq!(late[0]["skus"], SKUS);
    assert!(late[0]["seconds"].as_i64().unwrap() >= 1, "{late:?}");
    engine.sync_now(2, SYNC).unwrap();
    assert_eq!(
        late_events(&engine),
        Vec::<serde_json::Value>::new(),
        "once"
    );
    drop(engine);
    let engine = open(&emu, &dir, config);
    engine.sync_now(2, SYNC).unwrap();
    assert_eq!(
        late_events(&engine),
        Vec::<serde_json::Value>::new(),
        "not again after reopening"
    );

    // The shop sells its last ITEM-7 and gets more ITEM-8 while the feed (40 each) is stuck.
    engine.stock_set(&[level("ITEM-7", 0)]).unwrap();
    engine.stock_set(&[level("ITEM-8", 12)]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    landed(&emu);
    assert_eq!(emu.control().quantity("SKU-0007"), Some(0), "urgent zero");
    assert_eq!(feed_status(&emu), "IN_PROGRESS", "the feed was still stuck");

    settle(&emu, &engine);
    assert_eq!(feed_status(&emu), "DONE");
    let by_feed = emu
        .control()
        .quantity_log(Some("SKU-0007"), None)
        .into_iter()
        .filter(|c| matches!(c.cause, Cause::Feed { .. }))
        .map(|c| (c.from, c.to))
        .collect::<Vec<_>>();
    assert_eq!(
        by_feed,
        [(0, 40)],
        "the feed landed its older value over the zero"
    );
    assert_eq!(
        emu.control().quantity("SKU-0007"),
        Some(0),
        "the newest value wins"
    );
    assert_eq!(emu.control().quantity("SKU-0008"), Some(12));
    assert_eq!(emu.control().quantity("SKU-0009"), Some(40));
    assert!(late_events(&engine).is_empty());
}

#[test]
fn cancellations_and_refunds_go_out_without_a_byte_order_mark_and_amazon_applies_them() {
    // The emulator reads no record of an order feed that begins with one (error 50001).
    let (emu, _dir, engine, ids, docs) = shop_with_orders(2);
    assert!(engine.order_cancel(&ids[0], "NoInventory").unwrap());
    let item = docs
        .iter()
        .find(|o| o["order_id"] == ids[1].as_str())
        .unwrap()["items"][0]["order_item_id"]
        .as_str()
        .unwrap()
        .to_string();
    engine
        .order_refund(&Refund {
            order_id: ids[1].clone(),
            refund_id: None,
            reason: "CustomerReturn".into(),
            items: vec![RefundItem {
                order_item_id: item,
                amount: "1.00".into(),
            }],
        })
        .unwrap();
    wait_until("Amazon to apply both", Duration::from_secs(30), || {
        engine.sync_now(8, SYNC).unwrap();
        let state = emu.control().state();
        emu.control().order(&ids[0]).unwrap().status == Status::Canceled
            && state["refunds"].as_array().unwrap().len() == 1
    });
}
