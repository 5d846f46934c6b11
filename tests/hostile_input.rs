//! Hostile identifiers through every call: SKUs, host items, order ids, item ids and host
//! references with quotes, SQL, control bytes, path separators, `../`, percent signs and 10 KB
//! of text. Each one is stored and sent to Amazon exactly as given (bound SQL parameters,
//! percent-encoded path segments) or refused with a clear error; none changes the schema, runs
//! as SQL, or names a file.

mod common;

use common::*;
use sellsync::model::{Refund, RefundItem, Shipment, ShipmentItem, StockLevel};
use sellsync::Error;

/// Identifiers a careless library would turn into SQL, paths or broken URLs.
fn hostile() -> Vec<String> {
    vec![
        "'; DROP TABLE orders; --".into(),
        "\"quoted\" and 'single'".into(),
        "../../etc/passwd".into(),
        "a/b\\c".into(),
        "x\u{1}y\u{7f}z\u{1b}[31m".into(),
        "%2F..%2Fadmin%00".into(),
        "SKU?x=1&y=2#frag".into(),
        "Ä 😀 ⟨sku⟩".into(),
        " leading and trailing ".into(),
        "x".repeat(10_000),
    ]
}

/// Files in the store's folder.
fn files(dir: &tempfile::TempDir) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn integrity(dir: &tempfile::TempDir) -> (String, i64) {
    let c = rusqlite::Connection::open(dir.path().join("store.sqlite")).unwrap();
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    let tables: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('orders', 'order_items', 'skus', 'stock', 'shipments', 'adjustments', 'events')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    (check, tables)
}

fn refused(r: Result<impl std::fmt::Debug, Error>, what: &str) -> String {
    match r {
        Err(Error::NotFound(m)) | Err(Error::InvalidArgument(m)) => m,
        other => panic!("{what}: expected NotFound or InvalidArgument, got {other:?}"),
    }
}

#[test]
fn hostile_skus_and_items_reach_amazon_exactly_as_given() {
    let emu = emulator(50.0);
    let mut skus = hostile();
    // A SKU longer than Amazon's limits is refused by name, and nothing of its call is kept.
    let long = skus.pop().unwrap();
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    let m = refused(
        engine.sku_map(&[one_to_one("fine", "fine"), one_to_one(&long, "long")]),
        "10 KB SKU",
    );
    assert!(m.contains("1 to 200 characters"), "{m}");
    assert!(m.len() < 400, "the message quotes the SKU shortened: {m}");
    refused(
        engine.stock_set(&[StockLevel {
            host_item: "fine".into(),
            on_hand: 1,
        }]),
        "item of a refused call",
    );
    seed_skus(&emu, &skus, 0, false);
    // The store's lock is made by the first sync.
    let mut before = files(&dir);
    before.push("store.sqlite.lock".into());
    before.sort();
    let maps: Vec<_> = skus
        .iter()
        .map(|s| one_to_one(s, &format!("item {s}")))
        .collect();
    engine.sku_map(&maps).expect("hostile SKUs are plain text");
    let levels: Vec<StockLevel> = skus
        .iter()
        .enumerate()
        .map(|(i, s)| StockLevel {
            host_item: format!("item {s}"),
            on_hand: 3 + i as i64,
        })
        .collect();
    engine.stock_set(&levels).unwrap();
    settle(&emu, &engine);
    for (i, s) in skus.iter().enumerate() {
        assert_eq!(
            emu.control().quantity(s),
            Some(3 + i as i64),
            "Amazon shows the level of SKU {:?}",
            &s[..s.len().min(40)]
        );
    }
    // An item that is not mapped is refused by name, whatever it contains.
    for s in &skus {
        let m = refused(
            engine.stock_set(&[StockLevel {
                host_item: format!("unmapped {s}"),
                on_hand: 1,
            }]),
            "unmapped item",
        );
        assert!(m.contains("not part of any SKU"), "{m}");
    }
    let listings = engine.listings().unwrap();
    for s in &skus {
        assert!(
            listings.contains(&serde_json::to_string(s).unwrap()),
            "listings name SKU {:?} exactly",
            &s[..s.len().min(40)]
        );
    }
    engine.close().unwrap();
    assert_eq!(files(&dir), before, "no file is named after an identifier");
    assert_eq!(integrity(&dir), ("ok".to_string(), 7));
}

#[test]
fn hostile_order_ids_item_ids_and_references_are_refused_or_kept_verbatim() {
    let emu = emulator(50.0);
    seed_listings(&emu, 3, 100);
    place_orders(&emu, 1, false, None);
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine.sync_now(1, SYNC).unwrap();
    let before = files(&dir);
    let doc: serde_json::Value =
        serde_json::from_str(&engine.order_next().unwrap().expect("an order")).unwrap();
    let order_id = doc["order_id"].as_str().unwrap().to_string();
    let item_id = doc["items"][0]["order_item_id"]
        .as_str()
        .unwrap()
        .to_string();
    for bad in hostile() {
        refused(engine.order_ack(&bad, "REF"), "ack of a hostile order id");
        refused(
            engine.shipment_confirm(&package(&bad, &item_id, 1)),
            "shipment of a hostile order id",
        );
        refused(
            engine.shipment_confirm(&Shipment {
                items: vec![ShipmentItem {
                    order_item_id: bad.clone(),
                    quantity: 1,
                }],
                ..package(&order_id, &item_id, 1)
            }),
            "shipment of a hostile item id",
        );
        refused(
            engine.order_cancel(&bad, "NoInventory"),
            "cancel of a hostile order id",
        );
        refused(
            engine.order_refund(&Refund {
                order_id: bad.clone(),
                refund_id: None,
                reason: "CustomerReturn".into(),
                items: vec![RefundItem {
                    order_item_id: item_id.clone(),
                    amount: "1.00".into(),
                }],
            }),
            "refund of a hostile order id",
        );
        assert_eq!(engine.shipments(Some(&bad)).unwrap(), r#"{"shipments":[]}"#);
    }
    // A host reference is the host's own text: kept byte for byte, however odd.
    let odd_ref = hostile().concat();
    engine.order_ack(&order_id, &odd_ref).unwrap();
    let c = rusqlite::Connection::open(dir.path().join("store.sqlite")).unwrap();
    let stored: String = c
        .query_row(
            "SELECT host_ref FROM orders WHERE order_id = ?1",
            [&order_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, odd_ref);
    drop(c);
    engine.close().unwrap();
    assert_eq!(files(&dir), before, "no file is named after an identifier");
    assert_eq!(integrity(&dir), ("ok".to_string(), 7));
}
