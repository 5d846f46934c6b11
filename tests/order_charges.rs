//! An order a till can book without typing: every line's tax, shipping, gift wrap and
//! promotions, and the order's flags, read from either Orders API, adding up to what Amazon
//! charged; a pending order's prices filled in once it is paid; the gift message sealed.

mod common;

use common::*;
use sellsync_emulator::control::OrderSeed;
use sellsync_emulator::Emulator;
use serde_json::Value;

const US: &str = "ATVPDKIKX0DER";
const DE: &str = "A1PA6795UKMFR9";

/// Places `count` orders of three lines each in `marketplace`, paid and visible at once.
fn place(emu: &Emulator, count: usize, marketplace: &str) -> Vec<String> {
    emu.control()
        .place_orders(&OrderSeed {
            count: Some(count),
            marketplace_id: Some(marketplace.into()),
            lines: vec![
                ("SKU-0000".into(), 2),
                ("SKU-0001".into(), 1),
                ("SKU-0002".into(), 3),
            ],
            age_seconds: 600,
            search_lag_seconds: Some(0.0),
            ..OrderSeed::default()
        })
        .unwrap()
}

fn money(cents: i64) -> String {
    format!(
        "{}{}.{:02}",
        if cents < 0 { "-" } else { "" },
        cents.abs() / 100,
        cents.abs() % 100
    )
}

fn cents(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("an amount, not {v}"));
    let (whole, part) = s.trim_start_matches('-').split_once('.').unwrap();
    let c = whole.parse::<i64>().unwrap() * 100 + part.parse::<i64>().unwrap();
    if s.starts_with('-') {
        -c
    } else {
        c
    }
}

/// Checks every handed-out order against what the emulator charged; returns how many lines
/// had a gift message, a promotion, shipping and a shipping discount.
fn check(emu: &Emulator, orders: &[Value], gift_wrap_itemised: bool) -> [usize; 4] {
    let mut seen = [0; 4];
    for doc in orders {
        let id = doc["order_id"].as_str().unwrap();
        let o = emu.control().order(id).unwrap();
        assert_eq!(doc["tax_included"], o.tax_included(), "{id}");
        assert_eq!(doc["is_prime"], o.programs.prime, "{id}");
        assert_eq!(doc["is_business"], o.programs.business, "{id}");
        assert_eq!(doc["is_premium"], o.programs.premium, "{id}");
        assert_eq!(
            cents(&doc["total"]),
            o.total_cents(),
            "{id}: Amazon's total"
        );
        let mut booked = cents(&doc["other_charges"]);
        for (line, it) in doc["items"].as_array().unwrap().iter().zip(&o.items) {
            let c = &line["charges"];
            let w = &it.charges;
            assert_eq!(line["order_item_id"], it.order_item_id.as_str());
            assert_eq!(c["item_tax"], money(w.item_tax), "{id}");
            assert_eq!(c["shipping_price"], money(w.shipping), "{id}");
            assert_eq!(c["shipping_tax"], money(w.shipping_tax), "{id}");
            assert_eq!(
                c["discount"],
                money(w.promotion_discount + w.shipping_discount),
                "{id}"
            );
            assert_eq!(
                c["discount_tax"],
                money(w.promotion_discount_tax + w.shipping_discount_tax),
                "{id}"
            );
            assert_eq!(
                c["promotion_ids"],
                serde_json::json!(w.promotion_ids),
                "{id}"
            );
            assert_eq!(c["is_gift"], w.is_gift(), "{id}");
            let line_charged = w.charged(it.items_cents(), o.tax_included());
            if gift_wrap_itemised {
                assert_eq!(c["gift_wrap_price"], money(w.gift_wrap), "{id}");
                assert_eq!(c["gift_wrap_tax"], money(w.gift_wrap_tax), "{id}");
                assert_eq!(
                    c["gift_message"].as_str(),
                    w.gift_message.as_deref(),
                    "{id}"
                );
                assert_eq!(cents(&c["charged"]), line_charged, "{id}");
            } else {
                // v0 gives gift wrap only in the restricted buyer information: the line
                // charges without it, and the order's other charges carry it.
                let wrap = w.gift_wrap + if o.tax_included() { 0 } else { w.gift_wrap_tax };
                assert_eq!(cents(&c["charged"]), line_charged - wrap, "{id}");
            }
            booked += cents(&c["charged"]);
            seen[0] += usize::from(w.gift_message.is_some());
            seen[1] += usize::from(w.promotion_discount > 0);
            seen[2] += usize::from(w.shipping > 0);
            seen[3] += usize::from(w.shipping_discount > 0);
        }
        assert_eq!(
            booked,
            o.total_cents(),
            "{id}: the lines add up to what Amazon charged"
        );
    }
    seen
}

#[test]
fn every_line_of_a_us_order_books_its_tax_shipping_gift_wrap_and_promotions() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 3, 1000);
    let placed = place(&emu, 30, US);
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine.sync_now(1, SYNC).unwrap();
    let orders = drain(&engine);
    assert_eq!(orders.len(), placed.len());
    let seen = check(&emu, &orders, true);
    assert!(
        seen.iter().all(|n| *n > 0),
        "gift messages, promotions, shipping and free shipping each appear: {seen:?}"
    );
    assert!(orders.iter().all(|o| o["other_charges"] == "0.00"));
    assert!(orders.iter().any(|o| o["is_prime"] == true));
    // The gift message is buyer data: sealed in the store, never in its clear-text document.
    drop(engine);
    let db = rusqlite::Connection::open(dir.path().join("store.sqlite")).unwrap();
    let docs: Vec<String> = db
        .prepare("SELECT doc FROM orders")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(docs.len(), placed.len());
    assert!(docs.iter().all(|d| !d.contains("Happy birthday")));
}

#[test]
fn a_v0_order_adds_up_with_its_gift_wrap_in_other_charges() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 3, 1000);
    place(&emu, 30, US);
    let dir = tempdir();
    let engine = open(&emu, &dir, r#", "orders_api": "v0""#);
    engine.sync_now(1, SYNC).unwrap();
    let orders = drain(&engine);
    let seen = check(&emu, &orders, false);
    assert!(seen[0] > 0, "some gift orders: {seen:?}");
    let gift = orders
        .iter()
        .find(|o| o["items"][0]["charges"]["is_gift"] == true)
        .unwrap();
    assert_ne!(
        gift["other_charges"], "0.00",
        "the gift wrap Amazon did not itemise"
    );
}

#[test]
fn prices_that_include_vat_are_not_taxed_again() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 3, 1000);
    place(&emu, 10, DE);
    let dir = tempdir();
    let store = dir.path().join("store.sqlite");
    let mut config: Value = serde_json::from_str(&config_json(&emu, &store, "")).unwrap();
    config["marketplace_ids"] = serde_json::json!([US, DE]);
    let engine =
        sellsync::Engine::open(sellsync::Config::from_json(&config.to_string()).unwrap()).unwrap();
    engine.sync_now(1, SYNC).unwrap();
    let orders = drain(&engine);
    assert_eq!(orders.len(), 10);
    assert!(orders.iter().all(|o| o["tax_included"] == true));
    check(&emu, &orders, true);
}

#[test]
fn a_pending_order_gets_its_prices_when_it_is_paid_and_a_replacement_charges_nothing() {
    let emu = std::sync::Arc::new(emulator(1000.0));
    seed_listings(&emu, 3, 1000);
    let pending = emu
        .control()
        .place_orders(&OrderSeed {
            lines: vec![("SKU-0000".into(), 1), ("SKU-0001".into(), 2)],
            pending_seconds: Some(3600),
            age_seconds: 600,
            search_lag_seconds: Some(0.0),
            ..OrderSeed::default()
        })
        .unwrap();
    let dir = tempdir();
    let engine = open_on_clock(&emu, &dir, "");
    engine.sync_now(1, SYNC).unwrap();
    assert!(
        drain(&engine).is_empty(),
        "a pending order is not handed out"
    );
    let stored = engine.core().store.order(&pending[0]).unwrap().unwrap();
    assert!(stored
        .items
        .iter()
        .all(|i| i.charges.is_none() && i.line_total.is_none()));
    assert_eq!(stored.other_charges, None);
    emu.control().advance(chrono::Duration::hours(2));
    let replacement = emu
        .control()
        .place_orders(&OrderSeed {
            lines: vec![("SKU-0002".into(), 1)],
            replaces: Some(pending[0].clone()),
            search_lag_seconds: Some(0.0),
            ..OrderSeed::default()
        })
        .unwrap();
    emu.control().advance(chrono::Duration::minutes(5));
    engine.sync_now(1, SYNC).unwrap();
    let orders = drain(&engine);
    assert_eq!(orders.len(), 2, "{orders:?}");
    check(&emu, &orders, true);
    let r = orders
        .iter()
        .find(|o| o["order_id"] == replacement[0].as_str())
        .unwrap();
    assert_eq!(r["is_replacement"], true);
    assert_eq!(r["replaced_order_id"], pending[0].as_str());
    assert_eq!(r["total"], "0.00");
}
