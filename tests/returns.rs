//! Buyers' returns into the POS: seller-fulfilled returns (Amazon's returns report by request
//! date) and FBA customer returns come as `order.returned` events, each once, across restarts
//! and the overlapping reports of later cycles.

mod common;

use common::*;
use sellsync_emulator::control::OrderSeed;
use serde_json::Value;
use std::time::Duration;

/// Runs listings cycles (which read the returns reports) until `n` returns were new.
fn returns_until(engine: &sellsync::Engine, n: u64) {
    let mut got = 0;
    wait_until("the returns", Duration::from_secs(30), || {
        got += engine.sync_now(4, SYNC).unwrap().listings.returns;
        got >= n
    });
}

/// Runs listings cycles until every report asked for has ended (nothing open).
fn reports_done(engine: &sellsync::Engine) -> u64 {
    let mut got = 0;
    wait_until("the returns reports' end", Duration::from_secs(30), || {
        got += engine.sync_now(4, SYNC).unwrap().listings.returns;
        ![
            "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE",
            "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA",
        ]
        .iter()
        .any(|k| engine.core().store.open_report(k).unwrap().is_some())
    });
    got
}

fn returned(engine: &sellsync::Engine) -> Vec<Value> {
    events(engine)
        .into_iter()
        .filter(|e| e["type"] == "order.returned")
        .collect()
}

#[test]
fn each_return_reaches_the_host_once_across_restarts() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 2, 50);
    seed_skus(&emu, &["FBA-1".into()], 20, true);
    let seed = |lines: Vec<(String, i64)>| OrderSeed {
        lines,
        age_seconds: 600,
        search_lag_seconds: Some(0.0),
        ..OrderSeed::default()
    };
    let own = emu
        .control()
        .place_orders(&seed(vec![("SKU-0000".into(), 2), ("SKU-0001".into(), 1)]))
        .unwrap();
    let fba = emu
        .control()
        .place_orders(&seed(vec![("FBA-1".into(), 3)]))
        .unwrap();
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine.sync_now(1, SYNC).unwrap();
    let orders = drain(&engine);
    let mine = orders
        .iter()
        .find(|o| o["order_id"] == own[0].as_str())
        .unwrap();
    let line = &mine["items"][0];
    engine
        .shipment_confirm(&package(
            &own[0],
            line["order_item_id"].as_str().unwrap(),
            2,
        ))
        .unwrap();
    engine.sync_now(8, SYNC).unwrap();
    // Nothing returned yet: the reports end CANCELLED (no data), no event.
    assert_eq!(reports_done(&engine), 0);
    emu.control()
        .return_items(&own[0], Some("SKU-0000"), Some(1), "DEFECTIVE")
        .unwrap();
    emu.control()
        .return_items(&fba[0], None, Some(2), "UNWANTED_ITEM")
        .unwrap();
    returns_until(&engine, 2);
    let got = returned(&engine);
    assert_eq!(got.len(), 2, "{got:?}");
    let m = got
        .iter()
        .find(|e| e["fulfilled_by"] == "MERCHANT")
        .unwrap();
    assert_eq!(m["order_id"], own[0].as_str());
    assert_eq!(m["order_item_id"], line["order_item_id"]);
    assert_eq!(
        (m["sku"].as_str(), m["quantity"].as_i64()),
        (Some("SKU-0000"), Some(1))
    );
    assert_eq!(m["reason"], "DEFECTIVE");
    let f = got.iter().find(|e| e["fulfilled_by"] == "AMAZON").unwrap();
    assert_eq!(
        (f["order_id"].as_str(), f["quantity"].as_i64()),
        (Some(fba[0].as_str()), Some(2))
    );
    assert!(f["order_item_id"].is_string());
    // A later cycle's reports, and a new process's, cover the same returns: none comes again.
    assert_eq!(reports_done(&engine), 0);
    drop(engine);
    let engine = open(&emu, &dir, "");
    assert_eq!(reports_done(&engine), 0);
    assert!(returned(&engine).is_empty());
    // A new return of the same order line does come.
    emu.control()
        .return_items(&own[0], Some("SKU-0000"), Some(1), "NOT_AS_DESCRIBED")
        .unwrap();
    returns_until(&engine, 1);
    assert_eq!(returned(&engine).len(), 1);
}
