//! Prices from the host to Amazon with guard rails: sent after the stock and shown once
//! applied; a price outside the seller's floor and ceiling refused at the call; a large change
//! held for the host's confirmation; nothing sent to a listing showing another currency.

mod common;

use common::*;
use sellsync::model::PriceSet;
use sellsync::Engine;
use sellsync_emulator::Emulator;
use std::time::Duration;

const US: &str = "ATVPDKIKX0DER";
const CA: &str = "A2EUQ1WTGCTBG2";

/// A shop selling host item 4711 as SKU "MUG" at 19.99 on Amazon, 5 on the shelf.
fn mug_shop() -> (Emulator, tempfile::TempDir, Engine) {
    let emu = emulator(1000.0);
    seed_skus(&emu, &["MUG".into()], 5, false);
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine.sku_map(&[one_to_one("MUG", "4711")]).unwrap();
    engine.stock_set(&[level("4711", 5)]).unwrap();
    settle(&emu, &engine);
    (emu, dir, engine)
}

fn price(marketplace_id: &str, price: &str) -> PriceSet {
    PriceSet {
        sku: "MUG".into(),
        marketplace_id: marketplace_id.into(),
        price: price.into(),
        ..Default::default()
    }
}

fn patches(emu: &Emulator) -> u64 {
    emu.control().count("patchListingsItem", 200)
}

/// What Amazon sells the mug at in a marketplace (minor units, currency).
fn amazon_price(emu: &Emulator, marketplace_id: &str) -> (i64, String) {
    emu.control()
        .listing("MUG")
        .unwrap()
        .price_in(marketplace_id)
}

/// The events of one type waiting now.
fn of_type(engine: &Engine, kind: &str) -> Vec<serde_json::Value> {
    events(engine)
        .into_iter()
        .filter(|e| e["type"] == kind)
        .collect()
}

/// The state of the mug's price in a marketplace, as `sellsync_prices` shows it.
fn state(engine: &Engine, marketplace_id: &str) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_str(&engine.prices().unwrap()).unwrap();
    doc["prices"]["MUG"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["marketplace_id"] == marketplace_id)
        .cloned()
        .unwrap_or_default()
}

/// Runs the patch lane until the mug's price in `marketplace_id` is applied (bounded).
fn applied(emu: &Emulator, engine: &Engine, marketplace_id: &str) {
    wait_until("the price to be applied", Duration::from_secs(30), || {
        emu.control().land_now();
        engine.sync_now(2, SYNC).unwrap();
        state(engine, marketplace_id)["state"] == "APPLIED"
    });
}

#[test]
fn a_price_goes_out_in_the_marketplace_s_currency_and_the_listing_shows_it() {
    let (emu, _dir, engine) = mug_shop();
    assert_eq!(amazon_price(&emu, US), (1999, "USD".into()));
    engine
        .price_set(&[price(US, "18.50"), price(CA, "22.99")])
        .unwrap();
    engine.sync_now(2, SYNC).unwrap();
    assert_eq!(patches(&emu), 2, "one patch per marketplace");
    let accepted = of_type(&engine, "price.accepted");
    assert_eq!(accepted.len(), 2, "{accepted:?}");
    applied(&emu, &engine, US);
    applied(&emu, &engine, CA);
    assert_eq!(amazon_price(&emu, US), (1850, "USD".into()));
    assert_eq!(amazon_price(&emu, CA), (2299, "CAD".into()));
    assert_eq!(of_type(&engine, "price.applied").len(), 2);
    // The listings document shows what Amazon has (once the listings are pulled).
    pull_listings(&engine);
    let listings: serde_json::Value = serde_json::from_str(&engine.listings().unwrap()).unwrap();
    let mug = listings["listings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sku"] == "MUG")
        .cloned()
        .expect("the mug's listing");
    let us = mug["prices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["marketplace_id"] == US)
        .cloned()
        .unwrap();
    assert_eq!(us["amazon"]["price"], "18.50", "{us}");
    assert_eq!(us["state"], "APPLIED");
    // Nothing more goes out for prices Amazon shows.
    let before = patches(&emu);
    engine.sync_now(2, SYNC).unwrap();
    assert_eq!(patches(&emu), before);
}

#[test]
fn a_price_outside_the_seller_s_floor_or_ceiling_is_refused_at_the_call() {
    let (emu, _dir, engine) = mug_shop();
    let mut p = price(US, "9.99");
    p.minimum = Some("10.00".into());
    p.maximum = Some("30.00".into());
    let refused = engine.price_set(&[p.clone()]).unwrap_err().to_string();
    assert!(refused.contains("below the seller's minimum"), "{refused}");
    // The floor and ceiling set with a good price hold for later calls that give none.
    p.price = "19.00".into();
    engine.price_set(&[p]).unwrap();
    let refused = engine
        .price_set(&[price(US, "30.01")])
        .unwrap_err()
        .to_string();
    assert!(refused.contains("above the seller's maximum"), "{refused}");
    // All or nothing: a good price beside a bad one is not stored either.
    assert!(engine
        .price_set(&[price(CA, "20.00"), price(US, "5.00")])
        .is_err());
    assert_eq!(state(&engine, CA), serde_json::Value::Null);
    engine.sync_now(2, SYNC).unwrap();
    assert_eq!(patches(&emu), 1, "only 19.00 went out");
    applied(&emu, &engine, US);
    assert_eq!(amazon_price(&emu, US).0, 1900);
}

#[test]
fn a_large_change_waits_for_the_host_s_confirmation() {
    let (emu, _dir, engine) = mug_shop();
    // 1.99 for a mug at 19.99: a slip of a finger.
    engine.price_set(&[price(US, "1.99")]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    assert_eq!(patches(&emu), 0, "a large change went out unconfirmed");
    let asked = of_type(&engine, "price.confirmation_needed");
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0]["reference"], "19.99");
    assert_eq!(asked[0]["change_percent"], 90.0);
    assert_eq!(state(&engine, US)["state"], "CONFIRM");
    engine.sync_now(2, SYNC).unwrap();
    assert_eq!(patches(&emu), 0);
    // Confirmed, it goes out.
    engine.price_confirm("MUG", US).unwrap();
    assert!(
        engine.price_confirm("MUG", US).is_err(),
        "nothing waits now"
    );
    engine.sync_now(2, SYNC).unwrap();
    assert_eq!(patches(&emu), 1);
    applied(&emu, &engine, US);
    assert_eq!(amazon_price(&emu, US).0, 199);
    // Within the share of the last price accepted: out at once. Beyond it: asked at the call.
    engine.price_set(&[price(US, "2.29")]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    assert_eq!(patches(&emu), 2);
    applied(&emu, &engine, US);
    engine.price_set(&[price(US, "19.99")]).unwrap();
    assert_eq!(state(&engine, US)["state"], "CONFIRM");
    assert_eq!(of_type(&engine, "price.confirmation_needed").len(), 1);
}

#[test]
fn no_price_goes_out_to_a_listing_that_shows_another_currency() {
    let (emu, _dir, engine) = mug_shop();
    // The listing in the US shows euros (a listing set up by another tool).
    emu.control().with_world(|w| {
        let key = (w.sellers[0].seller_id.clone(), "MUG".to_string());
        let mut mug = w.listings.get_mut(&key).unwrap();
        mug.offers.insert(
            US.into(),
            sellsync_emulator::stock::Offer {
                currency: "EUR".into(),
                price_cents: 1899,
                ..Default::default()
            },
        );
    });
    engine.price_set(&[price(US, "18.99")]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    assert_eq!(patches(&emu), 0, "a price went out to a listing in euros");
    let refused = of_type(&engine, "price.refused");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["reason"], "currency");
    assert_eq!(state(&engine, US)["state"], "REFUSED");
}
