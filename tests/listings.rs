//! Listings pull and reconciliation: the merchant listings report gives the seller's listings
//! with their mapping state, and quantities that drifted on Amazon are found and corrected.

mod common;

use common::*;
use sellsync::model::{SkuMapping, StockLevel};
use sellsync::Engine;
use sellsync_emulator::ListingSeed;
use std::time::{Duration, Instant};

fn listing(sku: &str, quantity: i64, fba: bool) -> ListingSeed {
    ListingSeed {
        sku: sku.into(),
        asin: None,
        title: Some(format!("Title {sku}")),
        quantity,
        price_cents: Some(1250),
        fba,
        product_type: None,
        handling_days: None,
        marketplace_ids: None,
        fba_stock: None,
    }
}

/// Requests the listings report and runs cycles until it has been read (bounded).
fn pull(engine: &Engine) -> sellsync::engine::listings::Report {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = engine.sync_now(4, SYNC).unwrap().listings;
        if r.listings.is_some() {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "the listings report never finished"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_listings_report_shows_every_listing_with_its_mapping_state() {
    let emu = emulator(1000.0);
    emu.control()
        .seed_listings(
            None,
            &[
                listing("MUG", 4, false),
                listing("LOOSE", 2, false),
                listing("MUG-FBA", 9, true),
            ],
        )
        .unwrap();
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine
        .sku_map(&[
            one_to_one("MUG", "4711"),
            one_to_one("NOT-LISTED", "0815"),
            SkuMapping {
                sku: "MUG-FBA".into(),
                fba: true,
                ..Default::default()
            },
        ])
        .unwrap();
    let before: serde_json::Value = serde_json::from_str(&engine.listings().unwrap()).unwrap();
    assert!(before["pulled_at"].is_null());
    let r = pull(&engine);
    assert_eq!(r.listings, Some(3));
    let v: serde_json::Value = serde_json::from_str(&engine.listings().unwrap()).unwrap();
    assert!(v["pulled_at"].is_string());
    let mug = v["listings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sku"] == "MUG")
        .unwrap();
    assert_eq!(mug["quantity"], 4);
    assert_eq!(mug["price"], "12.50");
    assert_eq!(mug["mapped"], true);
    assert_eq!(mug["items"][0]["host_item"], "4711");
    let fba = v["listings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sku"] == "MUG-FBA")
        .unwrap();
    assert_eq!(fba["fulfillment_channel"], "AMAZON_NA");
    assert!(fba["quantity"].is_null());
    assert_eq!(v["unmapped_skus"], serde_json::json!(["LOOSE"]));
    assert_eq!(v["skus_without_listing"], serde_json::json!(["NOT-LISTED"]));
    assert_eq!(v["host_items_without_listing"], serde_json::json!(["0815"]));
}

#[test]
fn a_quantity_changed_behind_sellsyncs_back_is_found_by_reconciliation_and_corrected() {
    let emu = emulator(1000.0);
    emu.control()
        .seed_listings(None, &[listing("MUG", 1, false), listing("CUP", 1, false)])
        .unwrap();
    let dir = tempdir();
    let engine = open(
        &emu,
        &dir,
        r#","stock": {"listings_feed_window_seconds": 0.3}"#,
    );
    engine
        .sku_map(&[one_to_one("MUG", "4711"), one_to_one("CUP", "0815")])
        .unwrap();
    engine
        .stock_set(&[
            StockLevel {
                host_item: "4711".into(),
                on_hand: 6,
            },
            StockLevel {
                host_item: "0815".into(),
                on_hand: 3,
            },
        ])
        .unwrap();
    settle(&emu, &engine);
    assert_eq!(emu.control().quantity("MUG"), Some(6));
    // Someone edits the quantity in Seller Central: Amazon now shows 40 MUGs the shop does not have.
    let seller = sellsync_emulator::Seller::demo().seller_id;
    emu.control().with_world(|w| {
        w.listings
            .get_mut(&(seller.clone(), "MUG".to_string()))
            .unwrap()
            .quantity = 40
    });
    // Without reconciliation the library believes Amazon shows 6 and sends nothing.
    engine.sync_now(2, SYNC).unwrap();
    assert_eq!(emu.control().quantity("MUG"), Some(40));
    let r = pull(&engine);
    assert_eq!(r.drift, 1);
    let drift: Vec<_> = events(&engine)
        .into_iter()
        .filter(|e| e["type"] == "stock.drift")
        .collect();
    assert_eq!(drift.len(), 1);
    assert_eq!(
        (
            drift[0]["sku"].as_str(),
            drift[0]["amazon_showed"].as_i64(),
            drift[0]["should_show"].as_i64()
        ),
        (Some("MUG"), Some(40), Some(6))
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while emu.control().quantity("MUG") != Some(6) {
        engine.sync_now(2, SYNC).unwrap();
        assert!(Instant::now() < deadline, "drift not corrected");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        emu.control().quantity("CUP"),
        Some(3),
        "a SKU in step is left alone"
    );
}

/// Amazon keeps one quantity per seller and SKU: a push made for two marketplaces shows the
/// same quantity in both, and the read-back from the first agrees with it.
#[test]
fn one_sku_shows_one_quantity_in_every_marketplace_it_is_pushed_to() {
    let emu = emulator(1000.0);
    seed_skus(&emu, &["MUG".into()], 3, false);
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine.sku_map(&[one_to_one("MUG", "4711")]).unwrap();
    engine
        .stock_set(&[sellsync::model::StockLevel {
            host_item: "4711".into(),
            on_hand: 11,
        }])
        .unwrap();
    settle(&emu, &engine);
    let seller = sellsync_emulator::Seller::demo().seller_id;
    let http = reqwest::blocking::Client::new();
    let token = emu.control().with_world(|w| {
        w.tokens
            .iter()
            .find(|(_, t)| t.seller_id == seller)
            .map(|(k, _)| k.clone())
    });
    for mp in ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"] {
        let url = format!(
            "{}/listings/2021-08-01/items/{seller}/MUG?marketplaceIds={mp}&includedData=fulfillmentAvailability",
            emu.url()
        );
        let v: serde_json::Value = http
            .get(url)
            .header(
                "x-amz-access-token",
                token.clone().expect("the library has a token"),
            )
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(v["fulfillmentAvailability"][0]["quantity"], 11, "{mp}: {v}");
    }
    // The next push reads the SKU back (from the first marketplace) and sees the 11 it sent.
    engine
        .stock_set(&[sellsync::model::StockLevel {
            host_item: "4711".into(),
            on_hand: 12,
        }])
        .unwrap();
    settle(&emu, &engine);
    let known = engine.core().store.amazon_known("MUG").unwrap().unwrap();
    assert_eq!(known.amazon, Some(11), "the read-back agrees");
    assert_eq!(emu.control().quantity("MUG"), Some(12));
}

/// Opens the library with `http.max_document_bytes` at `cap`.
fn open_capped(emu: &sellsync_emulator::Emulator, dir: &tempfile::TempDir, cap: u64) -> Engine {
    let store = dir.path().join("store.sqlite");
    let mut v: serde_json::Value = serde_json::from_str(&config_json(emu, &store, "")).unwrap();
    v["http"]["max_document_bytes"] = cap.into();
    Engine::open(sellsync::Config::from_json(&v.to_string()).unwrap()).unwrap()
}

/// A listings report larger than `http.max_document_bytes` is refused with a clear error,
/// downloaded no further; with room for it, the same report is read.
#[test]
fn a_report_larger_than_the_document_cap_is_refused() {
    let emu = emulator(1000.0);
    let seeds: Vec<_> = (0..8_000)
        .map(|i| ListingSeed {
            title: Some(format!(
                "A long product title, number {i:05}, {}",
                "x".repeat(120)
            )),
            ..listing(&format!("SKU-{i:05}"), 3, false)
        })
        .collect();
    emu.control().seed_listings(None, &seeds).unwrap();
    let dir = tempdir();
    let engine = open_capped(&emu, &dir, 1 << 20);
    let deadline = Instant::now() + Duration::from_secs(30);
    let error = loop {
        match engine.sync_now(4, SYNC) {
            Err(e) => break e.to_string(),
            Ok(r) => assert!(
                r.listings.listings.is_none(),
                "a report above the cap was read"
            ),
        }
        assert!(Instant::now() < deadline, "the report was never refused");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(
        error.contains("DocumentTooLarge") && error.contains("http.max_document_bytes"),
        "{error}"
    );
    // Refused once, the report is read no more (not downloaded again each cycle): the next
    // cycle asks for a new one.
    // (The same cycle may read Amazon's seller performance report: its download is not the
    // refused one's.)
    let health = || {
        let h = engine.core().store.account_health("ATVPDKIKX0DER").unwrap();
        h.map(|h| h.report_id)
    };
    let (downloads, health_before) = (emu.control().count("getReportDocument", 200), health());
    let next = engine.sync_now(4, SYNC).unwrap();
    assert!(next.listings.requested, "{next:?}");
    let health_read = u64::from(health() != health_before);
    assert_eq!(
        emu.control().count("getReportDocument", 200),
        downloads + health_read,
        "the refused report was downloaded again"
    );
    drop(engine);
    let dir = tempdir();
    let engine = open_capped(&emu, &dir, 16 << 20);
    assert_eq!(pull(&engine).listings, Some(seeds.len() as u64));
}
