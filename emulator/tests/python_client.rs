//! Real SP-API clients written by others talk to the emulator: python-amazon-sp-api (token
//! exchange, a paged order search, a listings patch and a feed round trip) and Amazon's own
//! SDK, amzn-sp-api (a quantity patched with the product type `PRODUCT`).

mod common;

use common::run_python;
use sellsync_emulator::{Config, Emulator, ListingSeed, OrderSeed, Seller};

#[test]
fn python_amazon_sp_api_completes_a_token_order_search_listings_patch_and_feed_round_trip() {
    let emu = Emulator::start(Config {
        rate_scale: 1000.0,
        ..Config::default()
    })
    .unwrap();
    let seeds: Vec<ListingSeed> = (0..5)
        .map(|i| ListingSeed::new(format!("SKU-{i:04}"), 100, false))
        .collect();
    emu.control().seed_listings(None, &seeds).unwrap();
    emu.control()
        .place_orders(&OrderSeed {
            count: Some(25),
            age_seconds: 600,
            ..Default::default()
        })
        .unwrap();
    run_python(
        "sp_api_roundtrip.py",
        &[&emu.url(), &Seller::demo().seller_id],
    );
    // The emulator saw the client's calls, all within the rate limits.
    let c = emu.control();
    assert!(c.count("lwaToken", 200) >= 1);
    assert_eq!(c.count("searchOrders", 200), 3);
    assert_eq!(c.count("patchListingsItem", 200), 1);
    assert_eq!(c.count("createFeed", 202), 1);
    assert_eq!(c.quantity("SKU-0002"), Some(0));
}

/// Amazon's own SDK (amzn-sp-api) patches a quantity with the product type `PRODUCT` on a
/// listing of another product type, by `merge`, and reads it back with its handling time.
#[test]
fn amazons_own_python_sdk_patches_a_quantity_with_product_type_product() {
    let emu = Emulator::start(Config {
        rate_scale: 1000.0,
        ..Config::default()
    })
    .unwrap();
    let seed = ListingSeed {
        product_type: Some("HOME".into()),
        handling_days: Some(3),
        ..ListingSeed::new("MUG", 4, false)
    };
    emu.control().seed_listings(None, &[seed]).unwrap();
    run_python(
        "amzn_sdk_patch.py",
        &[&emu.url(), &Seller::demo().seller_id, "MUG"],
    );
    assert_eq!(emu.control().count("patchListingsItem", 200), 1);
    assert_eq!(emu.control().quantity("MUG"), Some(17));
}
