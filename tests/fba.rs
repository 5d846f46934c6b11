//! Stock fulfilled by Amazon: its units at Amazon (sellable, inbound, reserved, unfulfillable)
//! are read with each listings report and shown with the listings, and a SKU Amazon fulfils
//! is never sent a seller-fulfilled quantity, even when the host mapped it as its own.

mod common;

use common::*;
use sellsync::model::SkuMapping;
use sellsync_emulator::control::{ListingSeed, OrderSeed};
use sellsync_emulator::stock::FbaStock;
use sellsync_emulator::Emulator;

fn seed(emu: &Emulator) {
    let fba = |sku: &str, quantity: i64, inbound: i64, damaged: i64| ListingSeed {
        fba_stock: Some(FbaStock {
            inbound_shipped: inbound,
            unfulfillable: damaged,
            ..FbaStock::default()
        }),
        ..ListingSeed::new(sku, quantity, true)
    };
    emu.control()
        .seed_listings(
            None,
            &[
                ListingSeed::new("OWN-1", 10, false),
                fba("FBA-1", 30, 12, 2),
                fba("FBA-2", 0, 24, 0),
            ],
        )
        .unwrap();
}

#[test]
fn fba_stock_is_read_with_the_listings_report_and_shown_with_the_listings() {
    let emu = emulator(1000.0);
    seed(&emu);
    // Two units of FBA-1 held for an order whose payment is not authorised yet.
    emu.control()
        .place_orders(&OrderSeed {
            lines: vec![("FBA-1".into(), 2)],
            pending_seconds: Some(3600),
            ..OrderSeed::default()
        })
        .unwrap();
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine
        .sku_map(&[
            one_to_one("OWN-1", "MUG"),
            SkuMapping {
                sku: "FBA-1".into(),
                fba: true,
                ..Default::default()
            },
        ])
        .unwrap();
    pull_listings(&engine);
    assert_eq!(emu.control().count("getInventorySummaries", 200), 1);
    let v: serde_json::Value = serde_json::from_str(&engine.fba_stock().unwrap()).unwrap();
    assert!(v["read_at"].is_string());
    let skus = v["skus"].as_array().unwrap();
    // FBA-2 is not mapped, but its listing is Amazon's: its stock is shown too.
    assert_eq!(skus.len(), 2, "{v}");
    let one = &skus[0];
    assert_eq!(one["sku"], "FBA-1");
    assert_eq!(one["fulfillable"], 28);
    assert_eq!(one["inbound_shipped"], 12);
    assert_eq!(one["reserved"], 2);
    assert_eq!(one["unfulfillable"], 2);
    assert_eq!(one["total"], 28 + 12 + 2 + 2);
    assert_eq!(skus[1]["inbound_shipped"], 24);
    let listings: serde_json::Value = serde_json::from_str(&engine.listings().unwrap()).unwrap();
    for l in listings["listings"].as_array().unwrap() {
        match l["sku"].as_str().unwrap() {
            "OWN-1" => assert!(l["fba_stock"].is_null()),
            sku => assert_eq!(l["fba_stock"]["sku"], sku),
        }
    }
}

#[test]
fn an_fba_sku_mapped_as_seller_fulfilled_is_never_sent_a_quantity() {
    let emu = emulator(1000.0);
    seed(&emu);
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    // The host maps every SKU to its own items, FBA-1 by mistake.
    engine
        .sku_map(&[one_to_one("OWN-1", "MUG"), one_to_one("FBA-1", "CUP")])
        .unwrap();
    engine
        .stock_set(&[level("MUG", 7), level("CUP", 5)])
        .unwrap();
    settle(&emu, &engine);
    assert_eq!(emu.control().quantity("OWN-1"), Some(7));
    let fba = emu.control().listing("FBA-1").unwrap();
    assert!(
        fba.fba && !fba.converted_from_fba,
        "FBA-1 was made seller-fulfilled, its units at Amazon stranded"
    );
    assert_eq!(fba.quantity, 30);
    let said: Vec<_> = events(&engine)
        .into_iter()
        .filter(|e| e["type"] == "sku.fulfilled_by_amazon")
        .collect();
    assert_eq!(said.len(), 1, "{said:?}");
    assert_eq!(said[0]["sku"], "FBA-1");
    // Mapped again the same way, it stays FBA.
    engine.sku_map(&[one_to_one("FBA-1", "CUP")]).unwrap();
    engine.stock_set(&[level("CUP", 9)]).unwrap();
    settle(&emu, &engine);
    assert!(!emu.control().listing("FBA-1").unwrap().converted_from_fba);
}
