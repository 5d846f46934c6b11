//! A real SP-API client written by others (python-amazon-sp-api, from PyPI) talks to the
//! emulator: token exchange, a paged order search, a listings patch and a feed round trip.
//! The interpreter is `$SELLSYNC_PYTHON` (set by scripts/test to a virtualenv that has the
//! package), else `python3`.

use sellsync_emulator::{Config, Emulator, ListingSeed, OrderSeed, Seller};
use std::process::Command;

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
    let python = std::env::var("SELLSYNC_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/sp_api_roundtrip.py"
    );
    let out = Command::new(&python)
        .arg(script)
        .arg(emu.url())
        .arg(Seller::demo().seller_id)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("all ok"),
        "python-amazon-sp-api against the emulator failed (install it with scripts/test, or set SELLSYNC_PYTHON):\n{text}"
    );
    // The emulator saw the client's calls, all within the rate limits.
    let c = emu.control();
    assert!(c.count("lwaToken", 200) >= 1);
    assert_eq!(c.count("searchOrders", 200), 3);
    assert_eq!(c.count("patchListingsItem", 200), 1);
    assert_eq!(c.count("createFeed", 202), 1);
    assert_eq!(c.quantity("SKU-0002"), Some(0));
}
