//! Stock out: the quantity Amazon shows follows the shop's stock, minus open orders, through
//! the policy, in bulk feeds and urgent patches, within Amazon's limits, through faults.

mod common;

use common::*;
use rand::{Rng, SeedableRng};
use sellsync::model::{Buffer, Component, SkuMapping, StockLevel};
use sellsync::Engine;
use sellsync_emulator::{Emulator, Fault, FaultKind, ListingSeed, OrderSeed};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Every change that is not urgent travels in a feed here (the fast lane is tested in
/// `race.rs`).
const STOCK_CONFIG: &str = r#","stock": {"listings_feed_window_seconds": 0.3, "fast_lane": false}"#;

#[test]
fn mapped_quantities_reach_amazon_in_one_feed_and_unchanged_values_are_not_sent_again() {
    let emu = emulator(1000.0);
    let skus: Vec<String> = (0..16).map(|i| format!("SKU-{i:02}")).collect();
    seed_skus(&emu, &skus[..15], 99, false);
    seed_skus(&emu, &skus[15..], 50, true);
    let dir = tempdir();
    let engine = open(&emu, &dir, STOCK_CONFIG);
    let mut mappings: Vec<SkuMapping> = (0..10)
        .map(|i| one_to_one(&skus[i], &format!("ITEM-{i}")))
        .collect();
    mappings.push(SkuMapping {
        sku: skus[10].clone(),
        items: vec![Component {
            host_item: "ITEM-0".into(),
            units: 6,
        }],
        ..Default::default()
    });
    mappings.push(SkuMapping {
        sku: skus[11].clone(),
        items: vec![
            Component {
                host_item: "ITEM-1".into(),
                units: 1,
            },
            Component {
                host_item: "ITEM-2".into(),
                units: 2,
            },
        ],
        ..Default::default()
    });
    mappings.push(SkuMapping {
        sku: skus[12].clone(),
        buffer: Some(Buffer::Units(2)),
        allocation_percent: Some(50),
        ..one_to_one(&skus[12], "ITEM-3")
    });
    mappings.push(SkuMapping {
        sku: skus[13].clone(),
        max_quantity: Some(4),
        ..one_to_one(&skus[13], "ITEM-4")
    });
    mappings.push(one_to_one(&skus[14], "ITEM-UNREPORTED"));
    mappings.push(SkuMapping {
        sku: skus[15].clone(),
        fba: true,
        ..Default::default()
    });
    engine.sku_map(&mappings).unwrap();
    let levels: Vec<StockLevel> = (0..10)
        .map(|i| level(&format!("ITEM-{i}"), 13 + i as i64))
        .collect();
    engine.stock_set(&levels).unwrap();
    settle(&emu, &engine);
    let q = |s: &str| emu.control().quantity(s).unwrap();
    for i in [0, 1, 2, 5, 9] {
        assert_eq!(q(&skus[i]), 13 + i as i64, "one-to-one {}", skus[i]);
    }
    assert_eq!(q(&skus[10]), 13 / 6, "a 6-pack consumes 6 units");
    assert_eq!(
        q(&skus[11]),
        7, // min(14 / 1, 15 / 2)
        "a kit is limited by its scarcest part"
    );
    assert_eq!(q(&skus[12]), (16 - 2) / 2, "buffer, then allocation");
    assert_eq!(q(&skus[13]), 4, "maximum shown");
    assert_eq!(
        q(&skus[14]),
        99,
        "an item whose stock was never reported is not pushed"
    );
    assert_eq!(q(&skus[15]), 50, "FBA quantities are never pushed");
    assert_eq!(
        emu.control().count("createFeed", 202),
        1,
        "every change went out in one feed"
    );
    assert_eq!(emu.control().count("patchListingsItem", 200), 0);
    // The same values again: nothing is sent.
    engine.stock_set(&levels).unwrap();
    settle(&emu, &engine);
    assert_eq!(emu.control().count("createFeed", 202), 1);
    // Coalescing: several changes of one item before a cycle send only the last.
    for v in [7, 3, 11] {
        engine.stock_set(&[level("ITEM-5", v)]).unwrap();
    }
    settle(&emu, &engine);
    assert_eq!(q(&skus[5]), 11);
    assert_eq!(emu.control().count("createFeed", 202), 2);
}

#[test]
fn a_sku_set_to_zero_is_zero_on_amazon_within_one_call_even_while_a_bulk_feed_is_in_flight() {
    let emu = emulator(100.0);
    // Amazon takes a minute or more over a feed: hold processing so the feed is surely in flight.
    emu.control().hold_feeds(true);
    let skus: Vec<String> = (0..2000).map(|i| format!("SKU-{i:04}")).collect();
    seed_skus(&emu, &skus, 5, false);
    let dir = tempdir();
    let engine = open(
        &emu,
        &dir,
        r#","stock": {"listings_feed_window_seconds": 3}"#,
    );
    let mappings: Vec<SkuMapping> = skus
        .iter()
        .enumerate()
        .map(|(i, s)| one_to_one(s, &format!("ITEM-{i}")))
        .collect();
    engine.sku_map(&mappings).unwrap();
    let levels: Vec<StockLevel> = (0..2000).map(|i| level(&format!("ITEM-{i}"), 40)).collect();
    engine.stock_set(&levels).unwrap();
    let r = engine.sync_now(2, SYNC).unwrap();
    assert_eq!((r.stock.feeds_submitted, r.stock.messages), (1, 2000));
    assert_eq!(engine.core().store.stock_counts().unwrap().open_feeds, 1);
    // The shop sells its last ITEM-7 while the big feed (which says 40) is still processing.
    engine.stock_set(&[level("ITEM-7", 0)]).unwrap();
    let patches_before = emu.control().count("patchListingsItem", 200);
    let r = engine.sync_now(2, SYNC).unwrap();
    assert_eq!(r.stock.patched, 1);
    assert_eq!(
        emu.control().count("patchListingsItem", 200),
        patches_before + 1,
        "one rate-limited call"
    );
    landed(&emu);
    assert_eq!(
        emu.control().quantity("SKU-0007"),
        Some(0),
        "zero on Amazon as soon as Amazon applies the patch"
    );
    assert_eq!(
        engine.core().store.stock_counts().unwrap().open_feeds,
        1,
        "the bulk feed was still in flight"
    );
    // When the older feed lands it says 40 again; the library notices and sets zero again.
    emu.control().hold_feeds(false);
    settle(&emu, &engine);
    assert_eq!(emu.control().quantity("SKU-0007"), Some(0));
    assert_eq!(emu.control().quantity("SKU-0008"), Some(40));
}

/// A shop selling one item, host item 4711 as SKU "MUG", with `units` on the shelf and on
/// Amazon.
fn mug_shop(units: i64) -> (Emulator, tempfile::TempDir, Engine) {
    let emu = emulator(1000.0);
    seed_skus(&emu, &["MUG".into()], units, false);
    let dir = tempdir();
    let engine = open(&emu, &dir, STOCK_CONFIG);
    engine.sku_map(&[one_to_one("MUG", "4711")]).unwrap();
    engine.stock_set(&[level("4711", units)]).unwrap();
    settle(&emu, &engine);
    (emu, dir, engine)
}

#[test]
fn unacknowledged_orders_hold_their_units_until_the_host_reports_stock_after_booking() {
    let (emu, _dir, engine) = mug_shop(10);
    assert_eq!(emu.control().quantity("MUG"), Some(10));
    // A buyer orders 3, still pending payment; it becomes visible to the library, which has
    // it (not yet acknowledged by the host) when the shop restocks to 15.
    let ids = emu
        .control()
        .place_orders(&OrderSeed {
            lines: vec![("MUG".into(), 3)],
            pending_seconds: Some(3600),
            ..Default::default()
        })
        .unwrap();
    see_orders(&emu, &engine);
    assert_eq!(engine.core().store.order_counts().unwrap().total, 1);
    engine.stock_set(&[level("4711", 15)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(12),
        "the pending order holds its 3 units"
    );
    // Payment goes through; the POS books the order and acknowledges it: still held until it
    // reports its shelf afterwards.
    emu.control().advance(chrono::Duration::hours(2));
    engine.sync_now(1, SYNC).unwrap();
    engine.sync_now(1, SYNC).unwrap();
    assert!(engine.order_next().unwrap().is_some());
    engine.order_ack(&ids[0], "POS-1").unwrap();
    settle(&emu, &engine);
    assert_eq!(emu.control().quantity("MUG"), Some(12));
    engine.stock_set(&[level("4711", 12)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(emu.control().quantity("MUG"), Some(12));
    engine.stock_set(&[level("4711", 14)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(14),
        "the reservation ended with the report after booking"
    );
}

#[test]
fn bad_stock_input_gets_clear_errors_and_changes_nothing() {
    let emu = emulator(1000.0);
    seed_skus(&emu, &["A".into(), "B".into()], 5, false);
    let dir = tempdir();
    let engine = open(&emu, &dir, STOCK_CONFIG);
    engine
        .sku_map(&[one_to_one("A", "I-A"), one_to_one("B", "I-B")])
        .unwrap();
    engine
        .stock_set(&[level("I-A", 3), level("I-B", 4)])
        .unwrap();
    use sellsync::Error::{InvalidArgument, NotFound};
    assert!(
        matches!(engine.stock_set(&[level("I-A", -1)]), Err(InvalidArgument(m)) if m.contains("-1"))
    );
    assert!(matches!(
        engine.stock_set(&[level("I-A", 2_000_000_000)]),
        Err(InvalidArgument(_))
    ));
    assert!(
        matches!(engine.stock_set(&[level("NOPE", 1)]), Err(NotFound(m)) if m.contains("NOPE"))
    );
    // A batch with one bad level applies none of it.
    assert!(engine
        .stock_set(&[level("I-A", 1), level("NOPE", 1)])
        .is_err());
    assert!(engine
        .stock_set(&[level("I-B", 1), level("I-A", -5)])
        .is_err());
    assert_eq!(
        engine.core().store.sku_quantities("A").unwrap(),
        Some((Some(3), None))
    );
    assert_eq!(
        engine.core().store.sku_quantities("B").unwrap(),
        Some((Some(4), None))
    );
    // Bad mappings.
    for bad in [
        SkuMapping {
            sku: "".into(),
            ..one_to_one("x", "y")
        },
        SkuMapping {
            sku: "C".into(),
            ..Default::default()
        },
        SkuMapping {
            sku: "C".into(),
            items: vec![Component {
                host_item: "I-A".into(),
                units: 0,
            }],
            ..Default::default()
        },
        SkuMapping {
            allocation_percent: Some(101),
            ..one_to_one("C", "I-A")
        },
        SkuMapping {
            buffer: Some(Buffer::Units(-1)),
            ..one_to_one("C", "I-A")
        },
    ] {
        assert!(matches!(
            engine.sku_map(&[one_to_one("D", "I-B"), bad]),
            Err(InvalidArgument(_))
        ));
    }
    assert_eq!(
        engine.core().store.sku_quantities("D").unwrap(),
        None,
        "nothing of a bad batch was applied"
    );
    // Removing a mapping stops pushes for it.
    engine
        .sku_map(&[SkuMapping {
            sku: "B".into(),
            remove: true,
            ..Default::default()
        }])
        .unwrap();
    settle(&emu, &engine);
    assert_eq!(emu.control().quantity("A"), Some(3));
    assert_eq!(emu.control().quantity("B"), Some(5));
}

#[test]
fn feed_faults_end_with_the_right_quantities_and_rejections_reported() {
    let emu = emulator(1000.0);
    let skus: Vec<String> = (0..50).map(|i| format!("SKU-{i:02}")).collect();
    seed_skus(&emu, &skus, 1, false);
    let dir = tempdir();
    let engine = open(&emu, &dir, STOCK_CONFIG);
    let mut mappings: Vec<SkuMapping> = skus
        .iter()
        .enumerate()
        .map(|(i, s)| one_to_one(s, &format!("I-{i}")))
        .collect();
    mappings.push(one_to_one("NOT-ON-AMAZON", "I-X"));
    engine.sku_map(&mappings).unwrap();
    let mut levels: Vec<StockLevel> = (0..50)
        .map(|i| level(&format!("I-{i}"), 20 + i as i64))
        .collect();
    levels.push(level("I-X", 8));
    engine.stock_set(&levels).unwrap();
    let c = emu.control();
    c.inject(Fault {
        operation: "createFeed".into(),
        count: 1,
        kind: FaultKind::FeedFatal,
    });
    c.inject(Fault {
        operation: "getFeed".into(),
        count: 3,
        kind: FaultKind::Status { status: 503 },
    });
    c.inject(Fault {
        operation: "createFeedDocument".into(),
        count: 1,
        kind: FaultKind::Status { status: 500 },
    });
    c.inject(Fault {
        operation: "document".into(),
        count: 1,
        kind: FaultKind::Status { status: 403 },
    });
    c.inject(Fault {
        operation: "getFeedDocument".into(),
        count: 1,
        kind: FaultKind::Drop,
    });
    // A failed upload (the presigned URL refused it, as when it expired) fails that cycle; later ones go on.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let _ = engine.sync_now(2, SYNC);
        let counts = engine.core().store.stock_counts().unwrap();
        if counts.open_feeds == 0
            && counts.out_of_step <= 1
            && emu.control().count("createFeed", 202) >= 2
        {
            break;
        }
        assert!(Instant::now() < deadline, "{counts:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
    for (i, s) in skus.iter().enumerate() {
        assert_eq!(emu.control().quantity(s), Some(20 + i as i64), "{s}");
    }
    let evs = events(&engine);
    let rejected: Vec<_> = evs
        .iter()
        .filter(|e| e["type"] == "stock.rejected")
        .collect();
    assert!(
        rejected.iter().all(|e| e["sku"] == "NOT-ON-AMAZON"),
        "{rejected:?}"
    );
    assert!(!rejected.is_empty());
    assert!(
        evs.iter()
            .any(|e| e["type"] == "sync.failed" && e["flow"] == "stock"),
        "the refused upload was reported"
    );
    assert!(emu.control().state()["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["status"] == "FATAL"));
    // The rejected SKU is parked after a few attempts instead of being sent for ever.
    for _ in 0..5 {
        settle_or_parked(&engine);
    }
    let feeds_before = emu.control().count("createFeed", 202);
    settle_or_parked(&engine);
    assert_eq!(emu.control().count("createFeed", 202), feeds_before);
}

/// The shop's own books: on-hand units per host item, and how SKUs consume them.
struct Shop {
    on_hand: HashMap<String, i64>,
    recipe: HashMap<String, Vec<(String, i64)>>,
}

impl Shop {
    fn expected(&self, sku: &str) -> i64 {
        self.recipe[sku]
            .iter()
            .map(|(item, units)| self.on_hand[item] / units)
            .min()
            .unwrap()
    }
}

#[test]
fn thousands_of_random_changes_over_a_thousand_skus_while_buyers_order_end_exactly_in_step() {
    // Rates 50x Amazon's: a feed takes ~1.2 s, patchListingsItem allows 250 calls a second.
    let emu = emulator(50.0);
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let skus: Vec<String> = (0..1000).map(|i| format!("SKU-{i:04}")).collect();
    seed_skus(&emu, &skus, 3, false);
    let dir = tempdir();
    let engine = open(
        &emu,
        &dir,
        r#","stock": {"listings_feed_window_seconds": 6}, "orders": {"overlap_seconds": 3600}"#,
    );
    // 900 one-to-one SKUs, 50 six-packs of the first 50 items, 50 kits of two items each.
    let mut shop = Shop {
        on_hand: HashMap::new(),
        recipe: HashMap::new(),
    };
    let mut mappings = Vec::new();
    for (i, sku) in skus.iter().enumerate() {
        let recipe: Vec<(String, i64)> = match i {
            0..=899 => vec![(format!("ITEM-{i:04}"), 1)],
            900..=949 => vec![(format!("ITEM-{:04}", i - 900), 6)],
            _ => vec![
                (format!("ITEM-{:04}", 2 * (i - 950)), 1),
                (format!("ITEM-{:04}", 2 * (i - 950) + 1), 1),
            ],
        };
        mappings.push(SkuMapping {
            sku: sku.clone(),
            items: recipe
                .iter()
                .map(|(h, u)| Component {
                    host_item: h.clone(),
                    units: *u,
                })
                .collect(),
            ..Default::default()
        });
        shop.recipe.insert(sku.clone(), recipe);
    }
    engine.sku_map(&mappings).unwrap();
    for i in 0..900 {
        shop.on_hand
            .insert(format!("ITEM-{i:04}"), rng.gen_range(0..30));
    }
    let initial: Vec<StockLevel> = shop.on_hand.iter().map(|(h, q)| level(h, *q)).collect();
    engine.stock_set(&initial).unwrap();
    let mut cycles = settle(&emu, &engine);
    let mut settles = 1;
    let (mut changes, mut orders_booked, mut shared_conflicts) = (initial.len(), 0, 0);
    for _round in 0..8 {
        // The store sells and restocks: 200 random absolute changes, some one by one, some in a batch.
        // (An item already waiting in the batch gets its newer value there, as the batch goes last.)
        let mut batch: HashMap<String, i64> = HashMap::new();
        for k in 0..200 {
            let item = format!("ITEM-{:04}", rng.gen_range(0..900));
            let q = if rng.gen_bool(0.2) {
                0
            } else {
                rng.gen_range(0..40)
            };
            shop.on_hand.insert(item.clone(), q);
            if k % 2 == 0 && !batch.contains_key(&item) {
                engine.stock_set(&[level(&item, q)]).unwrap();
            } else {
                batch.insert(item, q);
            }
            changes += 1;
        }
        let batch: Vec<StockLevel> = batch.iter().map(|(h, q)| level(h, *q)).collect();
        engine.stock_set(&batch).unwrap();
        cycles += settle(&emu, &engine);
        settles += 1;
        // Buyers order what Amazon shows. Amazon must never show a SKU more than the shop
        // could supply as it last told sellsync. (The searches show the orders at once: the
        // round books every order before the next, and Amazon's search lag is the subject of
        // tests/search_lag.rs.)
        let promised: HashMap<String, i64> =
            skus.iter().map(|s| (s.clone(), shop.expected(s))).collect();
        emu.control()
            .place_orders(&OrderSeed {
                count: Some(40),
                search_lag_seconds: Some(0.0),
                ..Default::default()
            })
            .unwrap();
        // Past Amazon's two-minute rule (two searches: the first learns the moved clock).
        see_orders(&emu, &engine);
        // The POS books each order. An item shared by several SKUs (a 6-pack and its single, a
        // kit and its parts) can be sold twice between Amazon taking an order and the order
        // reaching the shop: that is what allocation_percent on shared SKUs is for. An item
        // sold through one SKU only can never go below zero.
        let mut touched = Vec::new();
        while let Some(doc) = engine.order_next().unwrap() {
            let o: serde_json::Value = serde_json::from_str(&doc).unwrap();
            let id = o["order_id"].as_str().unwrap();
            let placed = emu.control().order(id).unwrap();
            for it in o["items"].as_array().unwrap() {
                let sku = it["sku"].as_str().unwrap();
                let qty = it["quantity"].as_i64().unwrap();
                let shown = placed
                    .items
                    .iter()
                    .find(|i| i.sku == sku)
                    .unwrap()
                    .shown_quantity;
                assert!(
                    qty <= shown && shown <= promised[sku],
                    "{sku}: Amazon showed {shown}, the shop had {}",
                    promised[sku]
                );
                for (item, units) in &shop.recipe[sku] {
                    let have = shop.on_hand.get_mut(item).unwrap();
                    *have -= units * qty;
                    if *have < 0 {
                        let sharers = shop
                            .recipe
                            .values()
                            .filter(|r| r.iter().any(|(i, _)| i == item))
                            .count();
                        assert!(sharers > 1, "oversold: order {id} took {item}, sold through one SKU only, below zero");
                        shared_conflicts += 1;
                        *have = 0;
                    }
                    touched.push(item.clone());
                }
            }
            engine.order_ack(id, "POS").unwrap();
            orders_booked += 1;
        }
        let report: Vec<StockLevel> = touched.iter().map(|h| level(h, shop.on_hand[h])).collect();
        engine.stock_set(&report).unwrap();
        cycles += settle(&emu, &engine);
        settles += 1;
    }
    assert!(
        orders_booked > 300,
        "buyers really bought ({orders_booked})"
    );
    for sku in &skus {
        assert_eq!(
            emu.control().quantity(sku),
            Some(shop.expected(sku)),
            "{sku}"
        );
    }
    // Bounds: all changes made between two settles fit in one feed; a second one is needed
    // only for values that changed while the first was in flight. A direct call goes out only
    // for a fall to zero: at most twice per change (again after an older feed landed).
    let feeds = emu.control().count("createFeed", 202);
    let patches = emu.control().count("patchListingsItem", 200);
    assert!(feeds <= 2 * settles, "{feeds} feeds for {settles} settles");
    assert!(
        patches as usize <= 2 * changes,
        "{patches} patches for {changes} changes"
    );
    for op in [
        "createFeed",
        "patchListingsItem",
        "getFeed",
        "createFeedDocument",
        "getFeedDocument",
        "searchOrders",
    ] {
        assert_eq!(emu.control().count(op, 429), 0, "{op} was throttled");
    }
    eprintln!("{changes} stock changes, {orders_booked} orders ({shared_conflicts} shared-item conflicts), {cycles} cycles: {feeds} feeds, {patches} patches");
}

#[test]
fn the_product_type_and_current_quantity_are_learnt_from_amazon_before_the_first_push() {
    let emu = emulator(1000.0);
    let seeds: Vec<ListingSeed> = ["TEA", "POT", "CUP"]
        .iter()
        .map(|s| ListingSeed {
            sku: s.to_string(),
            asin: None,
            title: None,
            quantity: 4,
            price_cents: None,
            fba: false,
            product_type: Some("KITCHEN".into()),
            handling_days: None,
            marketplace_ids: None,
            fba_stock: None,
        })
        .collect();
    emu.control().seed_listings(None, &seeds).unwrap();
    let dir = tempdir();
    let engine = open(&emu, &dir, STOCK_CONFIG);
    engine
        .sku_map(&[
            one_to_one("TEA", "T"),
            one_to_one("POT", "P"),
            SkuMapping {
                product_type: Some("LUGGAGE".into()),
                ..one_to_one("CUP", "C")
            },
        ])
        .unwrap();
    engine
        .stock_set(&[level("T", 9), level("P", 4), level("C", 2)])
        .unwrap();
    for _ in 0..5 {
        settle_or_parked(&engine);
    }
    assert_eq!(
        emu.control().quantity("TEA"),
        Some(9),
        "pushed with the listing's own product type"
    );
    assert_eq!(
        emu.control().count("createFeed", 202),
        3,
        "one feed, then CUP alone twice more before it is parked"
    );
    assert_eq!(
        emu.control().quantity("CUP"),
        Some(4),
        "a wrong product type named in the mapping is refused"
    );
    let rejected: Vec<_> = events(&engine)
        .into_iter()
        .filter(|e| e["type"] == "stock.rejected")
        .collect();
    assert!(
        rejected
            .iter()
            .all(|e| e["sku"] == "CUP" && e["message"].as_str().unwrap().contains("product type")),
        "{rejected:?}"
    );
    // POT: Amazon already showed 4, the shop has 4: nothing was sent for it.
    let feeds: Vec<String> = emu.control().with_world(|w| {
        w.documents
            .values()
            .filter_map(|d| d.body.clone())
            .map(|b| String::from_utf8_lossy(&b).to_string())
            .collect()
    });
    assert!(feeds
        .iter()
        .filter(|d| d.contains("\"messages\""))
        .all(|d| !d.contains("\"POT\"")));
}

fn settle_or_parked(engine: &Engine) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        engine.sync_now(2, SYNC).unwrap();
        if engine.core().store.stock_counts().unwrap().open_feeds == 0 {
            return;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn units_held_back_for_an_order_not_seen_yet_come_back_once_it_is_seen_and_booked() {
    let (emu, _dir, engine) = mug_shop(6);
    assert_eq!(emu.control().quantity("MUG"), Some(6));
    // A buyer takes 4; order searches will not show the order for two minutes.
    let ids = emu
        .control()
        .place_orders(&OrderSeed {
            lines: vec![("MUG".into(), 4)],
            ..Default::default()
        })
        .unwrap();
    engine.stock_set(&[level("4711", 5)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(1),
        "the 4 units Amazon sold are held back"
    );
    // The order is seen; the POS books it and reports its shelf before any stock cycle ran.
    see_orders(&emu, &engine);
    assert!(engine.order_next().unwrap().is_some());
    engine.order_ack(&ids[0], "POS-1").unwrap();
    engine.stock_set(&[level("4711", 5)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(5),
        "nothing is held back once the order is seen and booked"
    );
}

#[test]
fn an_order_booked_and_restocked_before_any_stock_pass_still_brings_amazon_to_the_shelf() {
    let (emu, _dir, engine) = mug_shop(3);
    assert_eq!(emu.control().quantity("MUG"), Some(3));
    // A buyer takes 2: Amazon shows 1. The order is seen by the orders flow alone; the POS
    // books it and restocks to 3 before any stock cycle ran, so what Amazon should show ends
    // where it was before the order.
    let ids = emu
        .control()
        .place_orders(&OrderSeed {
            lines: vec![("MUG".into(), 2)],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(emu.control().quantity("MUG"), Some(1));
    see_orders(&emu, &engine);
    assert!(engine.order_next().unwrap().is_some());
    engine.order_ack(&ids[0], "POS-1").unwrap();
    engine.stock_set(&[level("4711", 3)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(3),
        "Amazon shows the shelf, not the shelf less the order it took"
    );
}

#[test]
fn a_patch_whose_answer_died_with_its_process_is_not_taken_for_units_sold() {
    let (emu, _dir, engine) = mug_shop(10);
    // A process noted it was sending 4 and Amazon applied it; the process died before the
    // answer was recorded, so the store still knows Amazon at 10.
    engine
        .core()
        .store
        .note_sent(&[("MUG", 4, None, &[], None)], emu.control().now())
        .unwrap();
    emu.control().with_world(|w| {
        let seller = w.sellers[0].seller_id.clone();
        w.set_quantity(&seller, "MUG", 4, sellsync_emulator::stock::Cause::Control)
    });
    engine.stock_set(&[level("4711", 6)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(6),
        "the 6 units the lost patch replaced are not held back as sold"
    );
}

#[test]
fn a_feed_created_by_a_process_that_died_before_recording_it_is_not_taken_for_units_sold() {
    let (emu, dir, engine) = mug_shop(10);
    // Amazon creates the feed; its answer is lost and the process dies before it learns more.
    emu.control().inject(Fault {
        operation: "createFeed".into(),
        count: 1,
        kind: FaultKind::Drop,
    });
    engine.stock_set(&[level("4711", 4)]).unwrap();
    let _ = engine.sync_now(2, SYNC);
    assert!(emu.control().pending_faults().is_empty());
    drop(engine);
    let deadline = Instant::now() + Duration::from_secs(30);
    while emu.control().quantity("MUG") != Some(4) {
        assert!(Instant::now() < deadline, "Amazon never applied the feed");
        std::thread::sleep(Duration::from_millis(5));
    }
    // The restarted process (the store still knows Amazon at 10) sees the shop restock to 6;
    // Amazon's time passes until the lost createFeed is resolved from Amazon's list of feeds.
    let engine = open(&emu, &dir, STOCK_CONFIG);
    engine.stock_set(&[level("4711", 6)]).unwrap();
    emu.control().advance(chrono::Duration::minutes(3));
    engine.sync_now(1, SYNC).unwrap(); // the library learns Amazon's time from its answers
    settle(&emu, &engine);
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(6),
        "the 6 units the unrecorded feed replaced are not held back as sold"
    );
    assert_eq!(
        emu.control().count("createFeed", 202),
        2,
        "the lost feed is not sent again"
    );
    assert!(emu.control().count("getFeeds", 200) >= 1);
}

#[test]
fn a_change_amazon_applied_before_a_value_went_out_is_not_that_value_landing() {
    let (emu, _dir, engine) = mug_shop(3);
    hold_landing(&emu);
    let read = emu.control().listing("MUG").unwrap().last_updated;
    // A feed the store never recorded lands 0 (its process died), moving the listing's
    // `lastUpdatedDate`; no read sees it.
    emu.control().advance(chrono::Duration::seconds(3));
    let now = emu.control().now();
    emu.control().with_world(|w| {
        let key = (w.sellers[0].seller_id.clone(), "MUG".to_string());
        let mut mug = w.listings.get_mut(&key).unwrap();
        mug.quantity = 0;
        mug.last_updated = now;
    });
    // Seconds later the shelf is at 1: a process notes 1 going out (its last read from before
    // that feed), Amazon accepts it, and the process dies before recording the answer.
    emu.control().advance(chrono::Duration::seconds(3));
    engine.stock_set(&[level("4711", 1)]).unwrap();
    let sent_at = emu.control().now();
    engine
        .core()
        .store
        .note_sent(&[("MUG", 1, Some(read), &[], None)], sent_at)
        .unwrap();
    emu.control().with_world(|w| {
        w.landing.push(sellsync_emulator::stock::PendingPatch {
            due: std::time::Instant::now() + Duration::from_secs(3600),
            key: (w.sellers[0].seller_id.clone(), "MUG".to_string()),
            patches: vec![serde_json::from_value(serde_json::json!({
                "op": "replace", "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 1}]
            }))
            .unwrap()],
            accepted: sent_at,
        })
    });
    // The last one sells at the counter. The next read finds 0, changed before 1 went out: 1
    // has not landed (it is not 1 landing and an order taking it), so 0 goes out after it.
    engine.stock_set(&[level("4711", 0)]).unwrap();
    engine.sync_now(2, SYNC).unwrap();
    emu.control().set_settings(amazon_landing()).unwrap();
    emu.control().land_now();
    settle(&emu, &engine);
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(0),
        "Amazon sells a mug the shop sold"
    );
}

#[test]
fn units_held_back_for_an_order_that_never_shows_come_back_after_the_horizon() {
    let (emu, _dir, engine) = mug_shop(6);
    // Amazon's quantity falls by 4 with no order the store will ever see in that stretch.
    emu.control().with_world(|w| {
        let seller = w.sellers[0].seller_id.clone();
        w.set_quantity(&seller, "MUG", 2, sellsync_emulator::stock::Cause::Control)
    });
    engine.stock_set(&[level("4711", 5)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(emu.control().quantity("MUG"), Some(1), "4 units held back");
    emu.control().advance(chrono::Duration::minutes(61));
    engine.sync_now(1, SYNC).unwrap(); // the library learns Amazon's time from its answers
    settle(&emu, &engine);
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(5),
        "what was held is released once the stretch is past the horizon"
    );
}

#[test]
fn amazon_sells_the_sum_of_the_locations_the_configuration_names() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 2, 99);
    let dir = tempdir();
    let engine = open(
        &emu,
        &dir,
        r#","stock": {"amazon_locations": ["STORE-1", "WAREHOUSE"]}"#,
    );
    engine
        .sku_map(&[
            one_to_one("SKU-0000", "ITEM-0"),
            one_to_one("SKU-0001", "ITEM-1"),
        ])
        .unwrap();
    let at = |loc: &str, item: &str, n| (Some(loc.to_string()), level(item, n));
    engine
        .stock_set_at(vec![
            at("STORE-1", "ITEM-0", 3),
            at("STORE-2", "ITEM-0", 5),
            at("WAREHOUSE", "ITEM-0", 4),
            (None, level("ITEM-1", 6)),
        ])
        .unwrap();
    settle(&emu, &engine);
    let q = |s: &str| emu.control().quantity(s).unwrap();
    assert_eq!(q("SKU-0000"), 3 + 4, "STORE-2 is not sold online");
    assert_eq!(q("SKU-0001"), 6, "a level without location is the item's");
    // One location sells out: Amazon follows with what the others hold.
    engine
        .stock_set_at(vec![at("STORE-1", "ITEM-0", 0)])
        .unwrap();
    settle(&emu, &engine);
    assert_eq!(q("SKU-0000"), 4);
    assert!(matches!(
        engine.stock_set_at(vec![at("", "ITEM-0", 1)]),
        Err(sellsync::Error::InvalidArgument(_))
    ));
}

/// An Amazon order of one SKU takes units of its host item from every SKU made of that item:
/// once the order is seen, a pack of two lowers too, before the host reports its shelf.
#[test]
fn an_order_seen_lowers_every_sku_sharing_its_host_item() {
    let emu = emulator(1000.0);
    seed_skus(&emu, &["MUG".into(), "MUG-2PK".into()], 0, false);
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    let pack = SkuMapping {
        sku: "MUG-2PK".into(),
        items: vec![Component {
            host_item: "4711".into(),
            units: 2,
        }],
        ..Default::default()
    };
    engine.sku_map(&[one_to_one("MUG", "4711"), pack]).unwrap();
    engine.stock_set(&[level("4711", 6)]).unwrap();
    settle(&emu, &engine);
    assert_eq!(emu.control().quantity("MUG-2PK"), Some(3));
    emu.control()
        .place_orders(&OrderSeed {
            lines: vec![("MUG".into(), 3)],
            ..Default::default()
        })
        .unwrap();
    see_orders(&emu, &engine);
    assert_eq!(drain(&engine).len(), 1);
    settle(&emu, &engine);
    assert_eq!(emu.control().quantity("MUG"), Some(3));
    assert_eq!(
        emu.control().quantity("MUG-2PK"),
        Some(1),
        "6 mugs less the 3 ordered make one pack of two"
    );
}
