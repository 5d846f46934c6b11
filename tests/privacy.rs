//! Buyer data (the recipient of each order) is sealed at rest, reaches the host whole, is
//! deleted by the background worker when its retention after delivery has run out (not a
//! second sooner), and on the host's request through the C ABI.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::*;
use sellsync::clock::{Clock, ManualClock};
use sellsync::config::StockConfig;
use sellsync::model::Order;
use std::ffi::CString;
use std::sync::Arc;

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn addresses_from_amazon_are_sealed_on_disk_and_reach_the_host_whole() {
    let (_emu, dir, engine, ids, docs) = shop_with_orders(20);
    assert_eq!(docs.len(), ids.len());
    for d in &docs {
        let r = &d["recipient"];
        assert!(r["name"].as_str().unwrap().starts_with("Buyer "), "{d}");
        assert!(
            r["line1"].as_str().unwrap().ends_with("Market Street"),
            "{d}"
        );
        assert!(
            r["phone"].as_str().unwrap().starts_with("+1-206-555-"),
            "{d}"
        );
    }
    engine.close().unwrap();
    let store = dir.path().join("store.sqlite");
    let mut disk = std::fs::read(&store).unwrap();
    disk.extend(std::fs::read(dir.path().join("store.sqlite-wal")).unwrap_or_default());
    for clear in ["Market Street", "+1-206-555-", "Buyer 1"] {
        assert!(
            !contains(&disk, clear),
            "{clear:?} is in the store in clear text"
        );
    }
    assert!(dir.path().join("store.sqlite.key").exists());
}

/// A shipped order of the demo seller with a recipient, as Amazon would give it.
fn shipped_order(n: usize, last_updated: &str) -> Order {
    serde_json::from_value(serde_json::json!({
        "order_id": format!("113-{n:07}-0000000"), "marketplace_id": "ATVPDKIKX0DER",
        "status": "SHIPPED", "fulfilled_by": "MERCHANT",
        "purchase_date": last_updated, "last_updated": last_updated,
        "earliest_ship_date": null, "latest_ship_date": null, "latest_delivery_date": null,
        "currency": "USD", "total": "10.00", "buyer_cancel_requested": false,
        "recipient": {"name": "Jo Buyer", "company": null, "line1": "1 Elm St", "line2": null,
                      "line3": null, "city": "Seattle", "district_or_county": null,
                      "state_or_region": "WA", "postal_code": "98101", "country_code": "US",
                      "phone": null},
        "items": [{"order_item_id": format!("{n}"), "sku": "SKU-0000", "asin": null, "title": null,
                   "quantity": 1, "quantity_shipped": 1, "unit_price": "10.00",
                   "line_total": "10.00", "buyer_cancel_requested": false,
                   "buyer_cancel_reason": null}]
    }))
    .unwrap()
}

#[test]
fn the_worker_deletes_buyer_data_at_the_end_of_its_retention_and_not_a_second_sooner() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 1, 50);
    let dir = tempdir();
    let start: DateTime<Utc> = "2026-03-01T08:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let store = dir.path().join("store.sqlite");
    let config = sellsync::Config::from_json(&config_json(
        &emu,
        &store,
        r#","privacy": {"retention_days": 7}"#,
    ))
    .unwrap();
    let engine = sellsync::Engine::open_with_clock(config, clock.clone()).unwrap();
    let shipped = "2026-03-01T09:00:00.000Z";
    let orders = [
        shipped_order(1, shipped),
        shipped_order(2, "2026-03-02T09:00:00.000Z"),
    ];
    let s = &engine.core().store;
    s.apply_orders(orders.as_slice(), &StockConfig::default(), start)
        .unwrap();
    let has = |o: &Order| s.order(&o.order_id).unwrap().unwrap().recipient.is_some();
    // One second before the end of 7 days after shipment: kept (a cycle runs the purge).
    let due = shipped.parse::<DateTime<Utc>>().unwrap() + Duration::days(7);
    clock.advance(due - Duration::seconds(1) - clock.now());
    engine.sync_now(8, SYNC).unwrap();
    assert!(has(&orders[0]) && has(&orders[1]));
    // At the end: the background worker deletes it and says so.
    clock.advance(Duration::seconds(1));
    engine.start().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let purged = loop {
        let e = engine
            .event_next(Some(std::time::Duration::from_secs(60)))
            .unwrap()
            .expect("an event within a minute");
        let v: serde_json::Value = serde_json::from_str(&e).unwrap();
        engine.event_ack(v["seq"].as_i64().unwrap()).unwrap();
        if v["type"] == "privacy.buyer_data_purged" {
            break v;
        }
        assert!(std::time::Instant::now() < deadline, "no purge event");
    };
    assert_eq!(purged["orders"], 1, "{purged}");
    assert_eq!(purged["reason"], "retention");
    assert!(!has(&orders[0]) && has(&orders[1]));
    // The order and its line stay for the metrics.
    let o = s.order(&orders[0].order_id).unwrap().unwrap();
    assert_eq!(o.items.len(), 1);
    engine.close().unwrap();
}

#[test]
fn the_host_erases_one_buyers_data_through_the_c_abi() {
    use sellsync::ffi::status::{
        SELLSYNC_ERR_INVALID_ARGUMENT, SELLSYNC_ERR_NOT_FOUND, SELLSYNC_OK,
    };
    use sellsync::ffi::*;
    let emu = emulator(1000.0);
    seed_listings(&emu, 5, 50);
    let ids = place_orders(&emu, 2, false, None);
    let dir = tempdir();
    let config = CString::new(config_json(&emu, &dir.path().join("store.sqlite"), "")).unwrap();
    let mut h: *mut SellSync = std::ptr::null_mut();
    // SAFETY: valid strings and out-pointer; the handle is used only while open.
    unsafe {
        assert_eq!(sellsync_open(config.as_ptr(), &mut h), SELLSYNC_OK);
        assert_eq!(sellsync_sync_now(h, SELLSYNC_FLOW_ORDERS), SELLSYNC_OK);
        let id = CString::new(ids[0].clone()).unwrap();
        assert_eq!(sellsync_purge_buyer_data(h, id.as_ptr()), SELLSYNC_OK);
        assert_eq!(sellsync_purge_buyer_data(h, id.as_ptr()), SELLSYNC_OK);
        let unknown = CString::new("999-9999999-9999999").unwrap();
        assert_eq!(
            sellsync_purge_buyer_data(h, unknown.as_ptr()),
            SELLSYNC_ERR_NOT_FOUND
        );
        let empty = CString::new("").unwrap();
        assert_eq!(
            sellsync_purge_buyer_data(h, empty.as_ptr()),
            SELLSYNC_ERR_INVALID_ARGUMENT
        );
        let mut seen = std::collections::HashMap::new();
        loop {
            let mut out: *mut std::ffi::c_char = std::ptr::null_mut();
            assert_eq!(sellsync_order_next(h, &mut out), SELLSYNC_OK);
            if out.is_null() {
                break;
            }
            let doc: serde_json::Value =
                serde_json::from_str(std::ffi::CStr::from_ptr(out).to_str().unwrap()).unwrap();
            sellsync_string_free(out);
            let oid = doc["order_id"].as_str().unwrap().to_string();
            let c = CString::new(oid.clone()).unwrap();
            let r = CString::new("POS").unwrap();
            assert_eq!(sellsync_order_ack(h, c.as_ptr(), r.as_ptr()), SELLSYNC_OK);
            seen.insert(oid, doc["recipient"].clone());
        }
        assert!(seen[&ids[0]].is_null(), "{:?}", seen[&ids[0]]);
        assert!(seen[&ids[1]]["name"].is_string(), "{:?}", seen[&ids[1]]);
        assert_eq!(sellsync_close(h), SELLSYNC_OK);
    }
}

fn purge_events(engine: &sellsync::Engine) -> Vec<serde_json::Value> {
    events(engine)
        .into_iter()
        .filter(|e| e["type"] == "privacy.buyer_data_purged")
        .collect()
}

#[test]
fn a_lost_key_file_is_refused_until_the_host_starts_a_new_key_and_is_told_what_went() {
    let (emu, dir, engine, ids, _docs) = shop_with_orders(4);
    engine.close().unwrap();
    drop(engine);
    std::fs::remove_file(dir.path().join("store.sqlite.key")).unwrap();
    let store = dir.path().join("store.sqlite");
    let refused = sellsync::Config::from_json(&config_json(&emu, &store, ""))
        .and_then(sellsync::Engine::open)
        .err()
        .expect("refused without the key file");
    assert!(matches!(refused, sellsync::Error::Config(_)), "{refused:?}");
    assert!(refused.to_string().contains("4 orders"), "{refused}");
    let engine = open(&emu, &dir, r#","privacy": {"new_key_if_lost": true}"#);
    let purged = purge_events(&engine);
    assert_eq!(purged.len(), 1, "{purged:?}");
    assert_eq!(
        (purged[0]["orders"].as_u64(), purged[0]["reason"].as_str()),
        (Some(4), Some("key_lost"))
    );
    // Orders keep working: they are all still there, acknowledged, without addresses.
    for id in &ids {
        let o = engine.core().store.order(id).unwrap().unwrap();
        assert!(o.recipient.is_none());
    }
    let counts = engine.core().store.order_counts().unwrap();
    assert_eq!(counts.acknowledged, 4);
}

#[test]
fn a_key_rotation_seals_the_store_again_in_the_background_of_a_sync() {
    let (emu, dir, engine, ids, _docs) = shop_with_orders(30);
    engine.close().unwrap();
    drop(engine);
    let old = std::fs::read_to_string(dir.path().join("store.sqlite.key")).unwrap();
    let new = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let rotating = format!(
        r#","privacy": {{"key": "{new}", "previous_key": "{}"}}"#,
        old.trim()
    );
    let engine = open(&emu, &dir, &rotating);
    let state = |e: &sellsync::Engine| -> serde_json::Value {
        serde_json::from_str(&e.status().unwrap()).unwrap()
    };
    assert_eq!(state(&engine)["privacy"]["rotation_pending"], true);
    let report = engine.sync_now(8, SYNC).unwrap();
    assert_eq!(report.privacy.resealed, 30);
    assert_eq!(state(&engine)["privacy"]["rotation_pending"], false);
    engine.close().unwrap();
    drop(engine);
    // The new key alone now opens every order.
    let engine = open(&emu, &dir, &format!(r#","privacy": {{"key": "{new}"}}"#));
    for id in &ids {
        let o = engine.core().store.order(id).unwrap().unwrap();
        assert!(o.recipient.is_some(), "{id}");
    }
}
