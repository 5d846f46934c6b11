//! The race for the last unit: flows that never wait on each other, pushes that never hand
//! back units Amazon already sold, small changes by the fast lane, and the adaptive buffer.

mod common;

use common::*;
use sellsync::model::Buffer;
use sellsync::Engine;
use sellsync_emulator::{Emulator, Fault, FaultKind, OrderSeed};
use std::time::{Duration, Instant};

/// `n` SKUs `SKU-000`.. listed at 0, each its own host item, in step on Amazon at `on_hand`.
fn shop_in_step(n: usize, on_hand: i64) -> (Emulator, tempfile::TempDir, Engine, Vec<String>) {
    let emu = emulator(1000.0);
    let skus: Vec<String> = (0..n).map(|i| format!("SKU-{i:03}")).collect();
    seed_skus(&emu, &skus, 0, false);
    let dir = tempdir();
    let engine = open(
        &emu,
        &dir,
        r#","stock": {"listings_feed_window_seconds": 0.3}, "intervals": {"stock_seconds": 1}"#,
    );
    let maps: Vec<_> = skus.iter().map(|s| one_to_one(s, s)).collect();
    engine.sku_map(&maps).unwrap();
    let all: Vec<_> = skus.iter().map(|s| level(s, on_hand)).collect();
    engine.stock_set(&all).unwrap();
    settle(&emu, &engine);
    (emu, dir, engine, skus)
}

/// Opens the library with the test configuration changed by `edit`.
fn open_with(
    emu: &Emulator,
    dir: &tempfile::TempDir,
    edit: impl FnOnce(&mut serde_json::Value),
) -> Engine {
    let store = dir.path().join("store.sqlite");
    let mut v: serde_json::Value = serde_json::from_str(&config_json(emu, &store, "")).unwrap();
    edit(&mut v);
    Engine::open(sellsync::Config::from_json(&v.to_string()).unwrap()).unwrap()
}

/// A buyer's order of `quantity` units of `sku`, still pending (invisible to order searches).
fn unseen_order(emu: &Emulator, sku: &str, quantity: i64) -> String {
    emu.control()
        .place_orders(&OrderSeed {
            lines: vec![(sku.into(), quantity)],
            pending_seconds: Some(3600),
            ..Default::default()
        })
        .unwrap()
        .remove(0)
}

/// Waits (bounded) until `done` holds; returns how long it took.
fn until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(2));
    }
    start.elapsed()
}

#[test]
fn a_push_never_hands_back_units_amazon_sold_for_orders_not_seen_yet() {
    let (emu, _dir, engine) = mug_in_step(0, 10);
    assert_eq!(emu.control().quantity("MUG"), Some(10));

    // A buyer takes 3 on Amazon; the order is not visible to the shop yet. The shop sells 2
    // in the store and reports 8 on hand: only 5 are really left for Amazon.
    let order = unseen_order(&emu, "MUG", 3);
    assert_eq!(emu.control().quantity("MUG"), Some(7));
    engine.stock_set(&[level("4711", 8)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(5),
        "8 on hand less the 3 Amazon sold: pushing 8 would hand 3 sold units back"
    );

    // Another unseen order of 1, then a delivery of 4 (12 on hand): 12 - 3 - 1 = 8.
    unseen_order(&emu, "MUG", 1);
    engine.stock_set(&[level("4711", 12)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(emu.control().quantity("MUG"), Some(8));

    // The orders become visible: they now hold their units as open orders, and nothing is
    // counted twice once the shop books them and reports its shelf.
    emu.control().advance(chrono::Duration::hours(2));
    emu.control()
        .with_world(|w| w.advance(w.orders[&order].created + chrono::Duration::hours(2)));
    engine.sync_now(1, SYNC).unwrap();
    engine.sync_now(1, SYNC).unwrap();
    settle(&emu, &engine);
    assert_eq!(emu.control().quantity("MUG"), Some(8));
    let taken = drain(&engine);
    assert_eq!(taken.len(), 2, "both orders reached the shop");
    engine.stock_set(&[level("4711", 8)]).unwrap(); // 12 less the 4 booked
    settle(&emu, &engine);
    assert_eq!(emu.control().quantity("MUG"), Some(8));
    engine.stock_set(&[level("4711", 9)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(emu.control().quantity("MUG"), Some(9), "in step again");
}

#[test]
fn small_changes_take_the_fast_lane_and_bulk_takes_a_feed() {
    let (emu, dir, engine, skus) = shop_in_step(120, 5);
    let c = emu.control();
    assert_eq!(
        c.count("createFeed", 202),
        1,
        "120 new SKUs are bulk: one feed"
    );
    let patches_before = c.count("patchListingsItem", 200);
    // Three ordinary changes go out directly, without a feed.
    engine
        .stock_set(&[
            level("SKU-000", 4),
            level("SKU-001", 3),
            level("SKU-002", 6),
        ])
        .unwrap();
    settle(&emu, &engine);
    assert_eq!(c.count("createFeed", 202), 1, "no feed for three changes");
    assert_eq!(c.count("patchListingsItem", 200), patches_before + 3);
    assert_eq!(c.quantity("SKU-002"), Some(6));
    // A delivery of 60 SKUs goes in a feed that Amazon takes its time over; a sale in the
    // store right after it does not wait for that feed.
    c.hold_feeds(true);
    let delivery: Vec<_> = skus[10..70].iter().map(|s| level(s, 8)).collect();
    engine.stock_set(&delivery).unwrap();
    engine.stock_set(&[level("SKU-100", 4)]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    landed(&emu);
    assert_eq!(c.count("createFeed", 202), 2, "the delivery is in a feed");
    assert_eq!(
        c.quantity("SKU-100"),
        Some(4),
        "the sale went out by itself"
    );
    assert_eq!(
        c.quantity("SKU-010"),
        Some(5),
        "the feed is still being processed"
    );
    c.hold_feeds(false);
    settle(&emu, &engine);
    assert_eq!(c.quantity("SKU-010"), Some(8));
    let patches_before = c.count("patchListingsItem", 200);
    // With the fast lane off, the same kind of change waits for a feed.
    drop(engine);
    let engine = open(
        &emu,
        &dir,
        r#","stock": {"listings_feed_window_seconds": 0.3, "fast_lane": false}"#,
    );
    engine.stock_set(&[level("SKU-003", 2)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(c.count("createFeed", 202), 3);
    assert_eq!(c.count("patchListingsItem", 200), patches_before);
    assert_eq!(c.quantity("SKU-003"), Some(2));
}

#[test]
fn urgent_zeros_and_shipments_do_not_wait_for_an_order_search_or_a_feed_in_progress() {
    let (emu, _dir, engine, skus) = shop_in_step(60, 10);
    place_orders(&emu, 1, false, None);
    engine.sync_now(1, SYNC).unwrap();
    let order = drain(&engine).remove(0);
    let (order_id, item) = (
        order["order_id"].as_str().unwrap().to_string(),
        order["items"][0]["order_item_id"]
            .as_str()
            .unwrap()
            .to_string(),
    );

    // Amazon is slow to answer the next order search and the next feed: 5 s each.
    let slow = |operation: &str| Fault {
        operation: operation.into(),
        count: 1,
        kind: FaultKind::Delay { ms: 5000 },
    };
    let c = emu.control();
    c.inject(slow("searchOrders"));
    c.inject(slow("createFeedDocument"));
    let searches = c.count("searchOrders", 200);
    // A bulk change (a feed), then the background worker starts both slow calls.
    engine
        .stock_set(&skus.iter().map(|s| level(s, 9)).collect::<Vec<_>>())
        .unwrap();
    engine.start().unwrap();
    // The last unit of SKU-059 sells in the store, and a package leaves.
    let t = Instant::now();
    engine.stock_set(&[level("SKU-059", 0)]).unwrap();
    engine
        .shipment_confirm(&package(&order_id, &item, 1))
        .unwrap();
    until("the urgent zero", Duration::from_secs(2), || {
        c.quantity("SKU-059") == Some(0)
    });
    until("the shipment", Duration::from_secs(2), || {
        c.count("confirmShipment", 204) == 1
    });
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "neither waited for the 5 s calls: {:?}",
        t.elapsed()
    );
    assert_eq!(
        c.count("searchOrders", 200),
        searches,
        "the order search was still waiting for its answer"
    );
    // The slow calls finish in their own time, and the bulk change lands. The feed may carry
    // SKU-059's older 9 (it was built before the zero came): the zero then follows it again.
    until("the bulk feed", Duration::from_secs(30), || {
        c.quantity("SKU-000") == Some(9)
    });
    until("the zero after the feed", Duration::from_secs(30), || {
        c.quantity("SKU-059") == Some(0)
            && engine.core().store.stock_counts().unwrap().open_feeds == 0
    });
    engine.stop().unwrap();
    assert_eq!(
        c.quantity("SKU-059"),
        Some(0),
        "the feed did not overwrite the zero"
    );
}

#[test]
fn an_automatic_buffer_holds_back_what_the_store_sells_while_orders_are_not_visible() {
    let emu = emulator(1000.0);
    seed_skus(&emu, &["FAST".into(), "SLOW".into()], 0, false);
    let dir = tempdir();
    let engine = open_with(&emu, &dir, |v| {
        v["stock"] = serde_json::json!({"buffer": "auto", "auto_buffer": {"window_seconds": 300}});
    });
    engine
        .sku_map(&[one_to_one("FAST", "fast"), one_to_one("SLOW", "slow")])
        .unwrap();
    engine
        .stock_set(&[level("fast", 40), level("slow", 40)])
        .unwrap();
    settle(&emu, &engine);
    assert_eq!(
        emu.control().quantity("FAST"),
        Some(40),
        "no sales yet, no buffer"
    );
    // An Amazon order of 3 SLOW, booked by the shop, which then reports 37 on hand: the fall
    // is the order's, not an in-store sale.
    emu.control()
        .place_orders(&OrderSeed {
            lines: vec![("SLOW".into(), 3)],
            ..Default::default()
        })
        .unwrap();
    emu.control().advance(chrono::Duration::minutes(5));
    engine.sync_now(1, SYNC).unwrap();
    engine.sync_now(1, SYNC).unwrap();
    assert_eq!(drain(&engine).len(), 1);
    engine.stock_set(&[level("slow", 37)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(
        emu.control().quantity("SLOW"),
        Some(37),
        "no buffer from an order"
    );
    // 24 units sell in the store at once (over the first hour, the shortest span a rate is
    // taken over): 24 an hour is 2 expected in 5 minutes, so 5 are held back at 95%.
    for left in (16..40).rev() {
        engine.stock_set(&[level("fast", left)]).unwrap();
    }
    // One in-store sale of SLOW: one an hour, so 1 is held back at 95% (P(0) is 92%).
    engine.stock_set(&[level("slow", 36)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(emu.control().quantity("FAST"), Some(16 - 5));
    assert_eq!(emu.control().quantity("SLOW"), Some(36 - 1));
    // A SKU can opt out: a fixed buffer of 0 overrides the automatic default.
    let mut fixed = one_to_one("FAST", "fast");
    fixed.buffer = Some(Buffer::Units(0));
    engine.sku_map(&[fixed]).unwrap();
    settle(&emu, &engine);
    assert_eq!(emu.control().quantity("FAST"), Some(16));
}

/// A shop selling host item 4711 as SKU "MUG", which Amazon shows at `amazon` and the shelf
/// holds `shelf` of, in step.
fn mug_in_step(amazon: i64, shelf: i64) -> (Emulator, tempfile::TempDir, Engine) {
    let emu = emulator(1000.0);
    seed_skus(&emu, &["MUG".into()], amazon, false);
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine.sku_map(&[one_to_one("MUG", "4711")]).unwrap();
    engine.stock_set(&[level("4711", shelf)]).unwrap();
    settle(&emu, &engine);
    (emu, dir, engine)
}

/// Amazon keeps one quantity per seller and SKU for every marketplace. A SKU offered only in
/// the second configured marketplace is read back from there too: units an order not seen yet
/// took are not handed back by the next push.
#[test]
fn a_sku_offered_only_in_the_second_marketplace_is_read_back_like_any_other() {
    let emu = emulator(1000.0);
    let canada = "A2EUQ1WTGCTBG2";
    let seed = sellsync_emulator::ListingSeed {
        marketplace_ids: Some(vec![canada.into()]),
        product_type: Some("HOME".into()),
        ..sellsync_emulator::ListingSeed::new("MUG", 10, false)
    };
    emu.control().seed_listings(None, &[seed]).unwrap();
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine.sku_map(&[one_to_one("MUG", "4711")]).unwrap();
    engine.stock_set(&[level("4711", 10)]).unwrap();
    settle(&emu, &engine);
    emu.control()
        .place_orders(&OrderSeed {
            lines: vec![("MUG".into(), 3)],
            pending_seconds: Some(3600),
            marketplace_id: Some(canada.into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(emu.control().quantity("MUG"), Some(7));
    engine.stock_set(&[level("4711", 8)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(5),
        "8 on hand less the 3 Amazon sold in Canada"
    );
}

/// Amazon applies an accepted patch later: a read made before the patch has landed shows the
/// old value less what orders took, and is not taken for units sold since the patch (which
/// would hold them back and starve Amazon of stock).
#[test]
fn a_read_before_its_own_patch_has_landed_is_not_taken_for_units_sold() {
    let (emu, _dir, engine) = mug_in_step(2, 2);
    hold_landing(&emu);
    engine.stock_set(&[level("4711", 10)]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    assert_eq!(emu.control().landing(), 1, "the delivery's 10 is accepted");
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(2),
        "and not applied yet"
    );
    // A sale in the store before it lands: 9 should show. Amazon still shows 2.
    engine.stock_set(&[level("4711", 9)]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    emu.control().land_now();
    // From here patches land as on Amazon again.
    emu.control().set_settings(amazon_landing()).unwrap();
    landed(&emu);
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(9),
        "the 8 units between the accepted 10 and the 2 still shown were not sold"
    );
    // Once landed, Amazon's orders are counted from the landed value.
    let order = unseen_order(&emu, "MUG", 2);
    engine.stock_set(&[level("4711", 8)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(6),
        "8 on hand less the 2 Amazon sold ({order}) for an order not seen yet"
    );
}

/// A value sent and not landed yet lands over whatever Amazon shows: when the shelf comes back
/// to what Amazon still shows, the value waits for it to land and is sent again, rather than
/// taken as shown.
#[test]
fn a_value_still_to_land_is_not_taken_for_what_amazon_shows() {
    let (emu, _dir, engine) = mug_in_step(5, 5);
    hold_landing(&emu);
    // The store sells two; before Amazon applies the 3, they come back (a returned sale).
    engine.stock_set(&[level("4711", 3)]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    engine.stock_set(&[level("4711", 5)]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    let patches = emu.control().count("patchListingsItem", 200);
    emu.control().land_now();
    emu.control().set_settings(amazon_landing()).unwrap();
    settle(&emu, &engine);
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(5),
        "the 3 landed after the read that showed 5: the 5 goes out after it"
    );
    assert_eq!(emu.control().count("patchListingsItem", 200), patches + 1);
}

/// A rise over a value still in flight waits for it to be seen landing: else a read finding
/// Amazon at the earlier value could not tell it landing alone from both landing and an order
/// taking exactly the difference.
#[test]
fn a_rise_waits_for_the_value_in_flight_and_an_order_taking_the_difference_is_held() {
    let (emu, _dir, engine) = mug_in_step(5, 5);
    hold_landing(&emu);
    engine.stock_set(&[level("4711", 6)]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    engine.stock_set(&[level("4711", 9)]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    assert_eq!(emu.control().landing(), 1, "the 9 waits for the 6");
    emu.control().land_now();
    emu.control().set_settings(amazon_landing()).unwrap();
    // A buyer takes 3 (not seen yet), what the 9 would have been above the 6.
    unseen_order(&emu, "MUG", 3);
    settle(&emu, &engine);
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(6),
        "9 on hand less the 3 Amazon sold"
    );
}

/// A decrease Amazon accepted and has not applied yet is on its way: the metrics do not list
/// the SKU among those where Amazon shows more than the shop has; a drift Amazon shows by
/// itself still is listed.
#[test]
fn an_accepted_decrease_on_its_way_is_not_reported_as_amazon_showing_more() {
    let emu = emulator(1000.0);
    seed_skus(&emu, &["MUG".into(), "POT".into()], 5, false);
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine
        .sku_map(&[one_to_one("MUG", "4711"), one_to_one("POT", "0815")])
        .unwrap();
    engine
        .stock_set(&[level("4711", 5), level("0815", 5)])
        .unwrap();
    settle(&emu, &engine);
    let over = |engine: &Engine| -> Vec<String> {
        let m: serde_json::Value = serde_json::from_str(&engine.metrics("{}").unwrap()).unwrap();
        m["at_risk"]["skus_amazon_shows_more_than_the_shop_has"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["sku"].as_str().unwrap().to_string())
            .collect()
    };
    hold_landing(&emu);
    engine.stock_set(&[level("4711", 2)]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    assert_eq!(emu.control().quantity("MUG"), Some(5), "not applied yet");
    assert!(over(&engine).is_empty(), "{:?}", over(&engine));
    // POT is lowered while Amazon refuses every patch: the store only knows Amazon showing 5.
    emu.control().inject(sellsync_emulator::Fault {
        operation: "patchListingsItem".into(),
        count: 100,
        kind: sellsync_emulator::FaultKind::Status { status: 400 },
    });
    engine.stock_set(&[level("0815", 1)]).unwrap();
    let _ = engine.sync_now(2, SYNC);
    assert_eq!(over(&engine), vec!["POT".to_string()]);
}

/// A value that landed without a read seeing it, an hour ago: when the shelf falls back to the
/// value Amazon was last seen showing, Amazon still shows the landed one, and the value is sent.
#[test]
fn a_value_landed_unseen_is_not_taken_for_the_last_value_seen_after_the_hour() {
    let emu = std::sync::Arc::new(emulator(1000.0));
    seed_skus(&emu, &["MUG".into()], 3, false);
    let dir = tempdir();
    let engine = open_on_clock(&emu, &dir, "");
    engine.sku_map(&[one_to_one("MUG", "4711")]).unwrap();
    engine.stock_set(&[level("4711", 3)]).unwrap();
    settle(&emu, &engine);
    engine.stock_set(&[level("4711", 5)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(5),
        "landed, no read since"
    );
    emu.control().advance(chrono::Duration::minutes(61));
    engine.stock_set(&[level("4711", 3)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(emu.control().quantity("MUG"), Some(3));
}

/// A value sent and not landed that an order's units happen to bring Amazon to is not its
/// landing: the listing's date has not moved, so the units count as sold.
#[test]
fn amazon_showing_the_value_sent_before_it_landed_is_not_its_landing() {
    let (emu, _dir, engine) = mug_in_step(9, 9);
    hold_landing(&emu);
    engine.stock_set(&[level("4711", 7)]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    // A buyer takes 2 before the 7 lands: Amazon shows 7, the order is not seen yet.
    unseen_order(&emu, "MUG", 2);
    assert_eq!(emu.control().quantity("MUG"), Some(7));
    engine.stock_set(&[level("4711", 8)]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    emu.control().land_now();
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(6),
        "8 on hand less the 2 Amazon sold for an order not seen yet"
    );
}

/// Reports each of `levels` of the mug's item in turn, each sent by a stock pass of its own.
fn send_each(engine: &Engine, levels: &[i64]) {
    for &on_hand in levels {
        engine.stock_set(&[level("4711", on_hand)]).unwrap();
        engine.sync_now(2, SYNC).unwrap();
    }
}

/// Two values sent within one landing: the first landing, seen by a read before the second
/// lands, is not the second landing with units sold since.
#[test]
fn the_earlier_of_two_values_landing_is_not_taken_for_the_later_one() {
    let (emu, _dir, engine) = mug_in_step(5, 5);
    hold_landing(&emu);
    send_each(&engine, &[8, 9]);
    emu.control().land_first();
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(8),
        "the 9 is still to land"
    );
    engine.stock_set(&[level("4711", 10)]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    emu.control().land_now();
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(10),
        "nothing sold: nothing held"
    );
}

/// Two values sent, the earlier landed and an order took more than the difference: Amazon shows
/// less than both, and the later value may still land over it. It is sent again rather than
/// taken for landed, so what lands last is the shelf.
#[test]
fn a_value_that_may_still_land_over_what_amazon_shows_is_sent_again() {
    let (emu, _dir, engine) = mug_in_step(2, 2);
    hold_landing(&emu);
    send_each(&engine, &[6, 5]);
    emu.control().land_first();
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(6),
        "the 5 is still to land"
    );
    // A buyer takes all 6; the shop sees the order and reports its shelf: nothing left.
    emu.control()
        .place_orders(&OrderSeed {
            lines: vec![("MUG".into(), 6)],
            search_lag_seconds: Some(0.0),
            ..Default::default()
        })
        .unwrap();
    see_orders(&emu, &engine);
    assert_eq!(drain(&engine).len(), 1);
    engine.stock_set(&[level("4711", 0)]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    emu.control().land_now();
    landed(&emu);
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(0),
        "the 5 landed after the read: the shelf's 0 must land after it"
    );
}

/// A value that landed unseen stays what Amazon shows after an order is seen: when the shelf
/// then comes to the value Amazon was last seen showing, the landed value is replaced.
#[test]
fn a_value_landed_unseen_is_replaced_after_an_order_is_seen() {
    let (emu, _dir, engine) = mug_in_step(10, 10);
    emu.control()
        .place_orders(&OrderSeed {
            lines: vec![("MUG".into(), 4)],
            ..Default::default()
        })
        .unwrap();
    emu.control().advance(chrono::Duration::seconds(5));
    engine.stock_set(&[level("4711", 12)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(emu.control().quantity("MUG"), Some(8), "12 less the 4 sold");
    // The order shows; the shop books it and sells two more: 6 left, what Amazon was last
    // seen showing before the 8 landed.
    see_orders(&emu, &engine);
    assert_eq!(drain(&engine).len(), 1);
    engine.stock_set(&[level("4711", 6)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(emu.control().quantity("MUG"), Some(6));
}

/// Without read-back a value sent is still read once to see it land: else, never seen
/// landing, it would be sent again every hour, for ever (under Amazon's landing delay).
#[test]
fn without_read_back_a_value_sent_is_seen_landing_and_not_sent_again_every_hour() {
    let emu = std::sync::Arc::new(emulator(1000.0));
    seed_skus(&emu, &["MUG".into()], 2, false);
    let dir = tempdir();
    let engine = open_on_clock(&emu, &dir, r#","stock": {"read_back": false}"#);
    engine.sku_map(&[one_to_one("MUG", "4711")]).unwrap();
    engine.stock_set(&[level("4711", 9)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(emu.control().quantity("MUG"), Some(9));
    let patches = emu.control().count("patchListingsItem", 200);
    for _ in 0..3 {
        emu.control().advance(chrono::Duration::minutes(61));
        settle(&emu, &engine);
    }
    assert_eq!(emu.control().quantity("MUG"), Some(9));
    assert_eq!(
        emu.control().count("patchListingsItem", 200),
        patches,
        "the value landed: nothing to send again"
    );
}

/// An Amazon order seen on a SKU in step took its units from what Amazon showed: Amazon shows
/// what the shop should show, so the order costs neither a read nor a patch, nor does the shop
/// booking it. An order not seen yet only makes Amazon show less; the next push still reads.
#[test]
fn an_order_seen_on_a_sku_in_step_costs_no_read_and_no_patch() {
    let (emu, _dir, engine) = mug_in_step(10, 10);
    let c = emu.control();
    let calls = || {
        (
            c.count("searchListingsItems", 200),
            c.count("patchListingsItem", 200),
        )
    };
    let before = calls();
    // (An order placed within Amazon's one-second resolution of the read is read for.)
    c.advance(chrono::Duration::seconds(5));
    let late = unseen_order(&emu, "MUG", 1);
    c.place_orders(&OrderSeed {
        lines: vec![("MUG".into(), 2)],
        ..Default::default()
    })
    .unwrap();
    assert_eq!(c.quantity("MUG"), Some(7));
    see_orders(&emu, &engine);
    assert_eq!(drain(&engine).len(), 1);
    settle(&emu, &engine);
    engine.stock_set(&[level("4711", 8)]).unwrap(); // 10 less the 2 booked
    settle(&emu, &engine);
    assert_eq!(calls(), before, "Amazon already shows 8 less the unseen 1");
    assert_eq!(c.quantity("MUG"), Some(7));

    // The late order shows: booked, the shelf is 7, what Amazon shows.
    c.with_world(|w| w.advance(w.orders[&late].created + chrono::Duration::hours(2)));
    c.advance(chrono::Duration::hours(2));
    engine.sync_now(1, SYNC).unwrap();
    engine.sync_now(1, SYNC).unwrap();
    assert_eq!(drain(&engine).len(), 1);
    engine.stock_set(&[level("4711", 7)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(calls().1, before.1, "nothing to send");
    assert_eq!(c.quantity("MUG"), Some(7));

    // A delivery goes out, read first: nothing of what the orders took comes back.
    unseen_order(&emu, "MUG", 2);
    engine.stock_set(&[level("4711", 9)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(
        c.quantity("MUG"),
        Some(7),
        "9 less the 2 Amazon sold unseen"
    );
    assert!(calls().0 > before.0);
}

/// Three values in flight and the oldest lands: a read showing it is that value landing, with
/// the two after it still to land, not units sold (which would hold them back).
#[test]
fn the_oldest_of_three_values_in_flight_landing_is_not_units_sold() {
    let (emu, _dir, engine) = mug_in_step(8, 8);
    hold_landing(&emu);
    send_each(&engine, &[6, 5, 3]);
    emu.control().land_first();
    assert_eq!(emu.control().quantity("MUG"), Some(6));
    engine.stock_set(&[level("4711", 4)]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    emu.control().land_now();
    emu.control().set_settings(amazon_landing()).unwrap();
    settle(&emu, &engine);
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(4),
        "nothing sold: nothing held"
    );
}

/// A value sent with units held for an order not seen yet, still to land when the order is
/// seen: once the host books the order and reports its shelf, the value goes out again without
/// the hold, even though what the SKU should show is back at what the push was made for.
#[test]
fn a_held_value_still_to_land_is_sent_again_once_its_order_is_seen() {
    let (emu, _dir, engine) = mug_in_step(5, 5);
    let c = emu.control();
    hold_landing(&emu);
    c.advance(chrono::Duration::seconds(5));
    c.place_orders(&OrderSeed {
        lines: vec![("MUG".into(), 1)],
        ..Default::default()
    })
    .unwrap();
    c.advance(chrono::Duration::seconds(5));
    // The store sells one: 4 on hand, the order not seen yet: 3 go out.
    engine.stock_set(&[level("4711", 4)]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    assert_eq!(c.landing(), 1);
    see_orders(&emu, &engine);
    assert_eq!(drain(&engine).len(), 1);
    // Booked, and a delivery of one: 4 on hand, all free.
    engine.stock_set(&[level("4711", 4)]).unwrap();
    c.land_now();
    c.set_settings(amazon_landing()).unwrap();
    settle(&emu, &engine);
    assert_eq!(
        c.quantity("MUG"),
        Some(4),
        "the 3 held one unit for the order"
    );
}

/// An urgent zero sent while a feed carrying an older value is processed is still to land when
/// the feed finishes: it stays a value sent, not seen landing. Forgotten, the zero landing later
/// would be read as orders taking the feed's units, held against a delivery for an hour.
#[test]
fn an_urgent_zero_sent_while_a_feed_is_processed_is_not_forgotten_when_the_feed_ends() {
    let (emu, _dir, engine, skus) = shop_in_step(60, 5);
    let c = emu.control();
    c.hold_feeds(true);
    let delivery: Vec<_> = skus.iter().map(|s| level(s, 8)).collect();
    engine.stock_set(&delivery).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    hold_landing(&emu);
    engine.stock_set(&[level("SKU-000", 0)]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    assert_eq!(c.landing(), 1, "the zero is accepted, not applied");
    c.hold_feeds(false);
    until("the feed to be followed", Duration::from_secs(30), || {
        engine.sync_now(2, SYNC).unwrap();
        engine.core().store.stock_counts().unwrap().open_feeds == 0
    });
    assert_eq!(
        c.quantity("SKU-000"),
        Some(8),
        "the feed landed, the zero not yet"
    );
    c.land_now();
    c.set_settings(amazon_landing()).unwrap();
    assert_eq!(c.quantity("SKU-000"), Some(0));
    engine.stock_set(&[level("SKU-000", 6)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(c.quantity("SKU-000"), Some(6), "nothing sold: nothing held");
}
