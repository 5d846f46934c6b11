//! Handling time: a listing keeps the handling time the seller gave it through any number of
//! stock changes, by patch and by feed (quantities go out by `merge`; a `replace` would drop
//! it on Amazon), and a handling time the host sets reaches Amazon with the quantity.

mod common;

use common::*;
use sellsync::model::{SkuMapping, StockLevel};
use sellsync::Engine;
use sellsync_emulator::{Emulator, ListingSeed, OrderSeed};

/// Stock changes made to one listing by each lane.
const CHANGES: i64 = 1000;

fn seed(emu: &Emulator, sku: &str, handling_days: Option<i64>) {
    let seed = ListingSeed {
        handling_days,
        ..ListingSeed::new(sku, 5, false)
    };
    emu.control().seed_listings(None, &[seed]).unwrap();
}

/// Hours between an order's creation and its latest ship date, for one unit of `sku`.
fn ship_by_hours(emu: &Emulator, sku: &str) -> i64 {
    let ids = emu
        .control()
        .place_orders(&OrderSeed {
            lines: vec![(sku.into(), 1)],
            ..OrderSeed::default()
        })
        .unwrap();
    let order = emu.control().order(&ids[0]).unwrap();
    (order.latest_ship - order.created).num_hours()
}

/// Sets the host item's stock `CHANGES` times, each change pushed before the next.
fn change_stock(emu: &Emulator, engine: &Engine, sku: &str) {
    engine
        .sku_map(&[one_to_one(sku, &format!("I-{sku}"))])
        .unwrap();
    for n in 0..CHANGES {
        let on_hand = 20 + n % 7;
        engine
            .stock_set(&[StockLevel {
                host_item: format!("I-{sku}"),
                on_hand,
            }])
            .unwrap();
        settle(emu, engine);
        assert_eq!(emu.control().quantity(sku), Some(on_hand));
    }
}

#[test]
fn a_listing_keeps_its_handling_time_through_a_thousand_stock_changes_by_patch_and_by_feed() {
    // Feeds take 9 ms here instead of Amazon's minute or two.
    let emu = emulator(10_000.0);
    seed(&emu, "BY-PATCH", Some(3));
    seed(&emu, "BY-FEED", Some(3));
    let before = [
        ship_by_hours(&emu, "BY-PATCH"),
        ship_by_hours(&emu, "BY-FEED"),
    ];
    assert_eq!(
        before,
        [72, 72],
        "the listings' own 3 days, not the account's 2"
    );

    let (d1, d2) = (tempdir(), tempdir());
    let patches = open(&emu, &d1, "");
    change_stock(&emu, &patches, "BY-PATCH");
    let feeds = open(
        &emu,
        &d2,
        r#","stock": {"listings_feed_window_seconds": 0.001, "fast_lane": false}"#,
    );
    change_stock(&emu, &feeds, "BY-FEED");
    assert!(emu.control().count("patchListingsItem", 200) >= CHANGES as u64);
    assert!(emu.control().count("createFeed", 202) >= CHANGES as u64);

    for sku in ["BY-PATCH", "BY-FEED"] {
        let l = emu.control().listing(sku).unwrap();
        assert_eq!(l.handling_days, Some(3), "{sku} kept its handling time");
        assert!(l.quantity_updates >= CHANGES as u64);
    }
    let after = [
        ship_by_hours(&emu, "BY-PATCH"),
        ship_by_hours(&emu, "BY-FEED"),
    ];
    assert_eq!(
        after, before,
        "orders placed after carry the same ship-by date"
    );
}

#[test]
fn a_handling_time_the_host_sets_reaches_amazon_with_the_quantity_and_a_change_alone_is_pushed() {
    let emu = emulator(1000.0);
    seed(&emu, "MADE-TO-ORDER", None);
    seed(&emu, "SHELF", Some(2));
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    let made = |days| SkuMapping {
        handling_days: Some(days),
        ..one_to_one("MADE-TO-ORDER", "WORKSHOP")
    };
    engine
        .sku_map(&[made(5), one_to_one("SHELF", "SHELF-ITEM")])
        .unwrap();
    let level = |item: &str, on_hand| StockLevel {
        host_item: item.into(),
        on_hand,
    };
    engine
        .stock_set(&[level("WORKSHOP", 4), level("SHELF-ITEM", 9)])
        .unwrap();
    settle(&emu, &engine);
    let l = emu.control().listing("MADE-TO-ORDER").unwrap();
    assert_eq!((l.quantity, l.handling_days), (4, Some(5)));
    assert_eq!(ship_by_hours(&emu, "MADE-TO-ORDER"), 5 * 24);
    let shelf = emu.control().listing("SHELF").unwrap();
    assert_eq!(
        (shelf.quantity, shelf.handling_days),
        (9, Some(2)),
        "a SKU without a handling time of its own keeps Amazon's"
    );

    // Only the handling time changes: it goes out (with the quantity, as Amazon requires).
    engine.sku_map(&[made(7)]).unwrap();
    settle(&emu, &engine);
    let l = emu.control().listing("MADE-TO-ORDER").unwrap();
    assert_eq!(l.handling_days, Some(7));
    assert_eq!(l.quantity, 3, "the order above took one unit");
    let patches = emu.control().count("patchListingsItem", 200);
    settle(&emu, &engine);
    assert_eq!(
        emu.control().count("patchListingsItem", 200),
        patches,
        "an accepted handling time is not sent again"
    );
    let bad = engine.sku_map(&[made(31)]).unwrap_err();
    assert!(bad.to_string().contains("handling_days 0 to 30"), "{bad}");
}
