//! Shared set-up of the integration tests: an emulator on loopback and a library handle
//! configured against it, each test with its own store file.
#![allow(dead_code)]

pub mod cc;

use sellsync::model::StockLevel;
use sellsync::Engine;
use sellsync_emulator::settings::SettingsChange;
use sellsync_emulator::{Config as EmuConfig, Emulator, ListingSeed, OrderSeed, Seller};
use std::time::Duration;

/// An emulator whose rate limits run `scale` times faster than Amazon's, applying accepted
/// listing patches 5 to 120 s (scaled) after it answers, as Amazon does.
pub fn emulator(scale: f64) -> Emulator {
    Emulator::start(EmuConfig {
        rate_scale: scale,
        ..EmuConfig::default()
    })
    .expect("emulator starts")
}

/// A temporary directory that lives as long as the test.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// The configuration document for the demo seller against `emu`, its store at `store` (or,
/// with `SELLSYNC_TEST_BACKEND=postgres`, in a PostgreSQL database of its own).
pub fn config_json(emu: &Emulator, store: &std::path::Path, extra: &str) -> String {
    let store = sellsync::store::testing::store_entries(store.to_str().expect("UTF-8 path"));
    config_json_with(emu, &store, extra)
}

/// The configuration of a library handle on `emu` with the store `store_entries` names
/// (`"store_path": ...` or `"store": {...}, "privacy": {...}`), plus `extra`.
pub fn config_json_with(emu: &Emulator, store_entries: &str, extra: &str) -> String {
    let s = Seller::demo();
    let store = store_entries;
    format!(
        r#"{{{store}, "seller_id": "{}", "marketplace_ids": ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"],
            "endpoint": "{}", "http_allow_insecure_loopback": true,
            "credentials": {{"client_id": "{}", "client_secret": "{}", "refresh_token": "{}"}},
            "http": {{"timeout_ms": 5000, "max_attempts": 8, "backoff_initial_ms": 5, "backoff_max_ms": 50}}{extra}}}"#,
        s.seller_id,
        emu.url(),
        s.client_id,
        s.client_secret,
        s.refresh_token
    )
}

/// Opens the library on `emu` with a store in `dir`.
pub fn open(emu: &Emulator, dir: &tempfile::TempDir, extra: &str) -> Engine {
    let store = dir.path().join("store.sqlite");
    let config = sellsync::Config::from_json(&config_json(emu, &store, extra)).expect("config");
    Engine::open(config).expect("engine opens")
}

/// Opens the library on `emu` with a store in `dir`, its clock following the emulator's.
pub fn open_on_clock(
    emu: &std::sync::Arc<Emulator>,
    dir: &tempfile::TempDir,
    extra: &str,
) -> Engine {
    let store = dir.path().join("store.sqlite");
    let config = sellsync::Config::from_json(&config_json(emu, &store, extra)).expect("config");
    Engine::open_with_clock(config, std::sync::Arc::new(EmuClock(emu.clone()))).expect("open")
}

/// Seeds `n` listings `SKU-0000..` with `quantity` each.
pub fn seed_listings(emu: &Emulator, n: usize, quantity: i64) {
    let skus: Vec<String> = (0..n).map(|i| format!("SKU-{i:04}")).collect();
    seed_skus(emu, &skus, quantity, false);
}

/// Seeds listings of `skus`, each showing `quantity` (fulfilled by Amazon when `fba`).
pub fn seed_skus(emu: &Emulator, skus: &[String], quantity: i64, fba: bool) {
    let seeds: Vec<ListingSeed> = skus
        .iter()
        .map(|s| ListingSeed::new(s.clone(), quantity, fba))
        .collect();
    emu.control().seed_listings(None, &seeds).unwrap();
}

/// Places `count` paid orders created 10 minutes ago (visible to searches at once).
pub fn place_orders(
    emu: &Emulator,
    count: usize,
    fba: bool,
    marketplace: Option<&str>,
) -> Vec<String> {
    emu.control()
        .place_orders(&OrderSeed {
            count: Some(count),
            fba,
            age_seconds: 600,
            marketplace_id: marketplace.map(str::to_string),
            search_lag_seconds: Some(0.0),
            ..OrderSeed::default()
        })
        .expect("orders placed")
}

/// Long enough for any sync in these tests.
pub const SYNC: Duration = Duration::from_secs(120);

/// Takes every order the library hands out, acknowledging each; returns the documents.
pub fn drain(engine: &Engine) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    while let Some(doc) = engine.order_next().expect("order_next") {
        let v: serde_json::Value = serde_json::from_str(&doc).expect("order JSON");
        let id = v["order_id"].as_str().expect("order_id").to_string();
        engine.order_ack(&id, &format!("HOST-{id}")).expect("ack");
        out.push(v);
    }
    out
}

/// The `log LEVEL TEXT` lines a C harness printed from the log callback: (level, text).
pub fn log_lines(out: &str) -> Vec<(u8, &str)> {
    out.lines()
        .filter_map(|l| l.strip_prefix("log "))
        .map(|l| {
            let (level, text) = l.split_once(' ').unwrap();
            (level.parse().unwrap(), text)
        })
        .collect()
}

/// Moves Amazon's clock past the two-minute rule and the search lag, then runs the orders flow
/// twice (the second search reaches the Amazon time the first one learnt): every order placed
/// before is seen.
pub fn see_orders(emu: &Emulator, engine: &Engine) {
    emu.control().advance(chrono::Duration::minutes(3));
    engine.sync_now(1, SYNC).unwrap();
    engine.sync_now(1, SYNC).unwrap();
}

/// Every event currently waiting, each acknowledged once taken.
pub fn events(engine: &Engine) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    while let Some(e) = engine.event_next(Some(Duration::ZERO)).expect("event_next") {
        let v: serde_json::Value = serde_json::from_str(&e).expect("event JSON");
        engine
            .event_ack(v["seq"].as_i64().expect("seq"))
            .expect("event_ack");
        out.push(v);
    }
    out
}

/// The host's on-hand quantity of one item.
pub fn level(item: &str, on_hand: i64) -> StockLevel {
    StockLevel {
        host_item: item.into(),
        on_hand,
    }
}

/// A SKU made of one unit of one host item.
pub fn one_to_one(sku: &str, item: &str) -> sellsync::model::SkuMapping {
    sellsync::model::SkuMapping {
        sku: sku.into(),
        items: vec![sellsync::model::Component {
            host_item: item.into(),
            units: 1,
        }],
        ..Default::default()
    }
}

/// Runs stock cycles until nothing is in flight or out of step and Amazon has applied every
/// change it accepted (bounded); returns how many.
pub fn settle(emu: &Emulator, engine: &Engine) -> u32 {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut cycles = 0;
    loop {
        engine.sync_now(2, SYNC).unwrap();
        cycles += 1;
        let c = engine.core().store.stock_counts().unwrap();
        let landing = emu.control().landing();
        if c.open_feeds == 0 && c.out_of_step == 0 && landing == 0 {
            return cycles;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "stock did not settle: {c:?}, {landing} accepted changes not applied"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Patches Amazon accepts from now on land only when the test says so (`land_now`).
pub fn hold_landing(emu: &Emulator) {
    emu.control()
        .set_settings(SettingsChange {
            listing_apply_min_seconds: Some(1e6),
            listing_apply_max_seconds: Some(1e6),
            ..Default::default()
        })
        .unwrap();
}

/// Patches land 5 to 120 s (scaled) after Amazon accepts them, as on Amazon.
pub fn amazon_landing() -> SettingsChange {
    SettingsChange {
        listing_apply_min_seconds: Some(5.0),
        listing_apply_max_seconds: Some(120.0),
        ..Default::default()
    }
}

/// Waits (bounded) until Amazon has applied every listing change it accepted.
pub fn landed(emu: &Emulator) {
    wait_until(
        "accepted listing changes to land",
        Duration::from_secs(30),
        || emu.control().landing() == 0,
    );
}

/// A shop on a fresh emulator (rates 1000x) with `n` paid orders that the host has taken and
/// acknowledged: (emulator, store dir, engine, order ids, order documents).
pub fn shop_with_orders(
    n: usize,
) -> (
    Emulator,
    tempfile::TempDir,
    Engine,
    Vec<String>,
    Vec<serde_json::Value>,
) {
    let emu = emulator(1000.0);
    seed_listings(&emu, 5, 50);
    let ids = emu
        .control()
        .place_orders(&OrderSeed {
            count: Some(n),
            age_seconds: 600,
            search_lag_seconds: Some(0.0),
            ..Default::default()
        })
        .expect("orders placed");
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine.sync_now(1, SYNC).expect("orders sync");
    let docs = drain(&engine);
    (emu, dir, engine, ids, docs)
}

/// A UPS package of `quantity` units of one order item.
pub fn package(order_id: &str, order_item_id: &str, quantity: i64) -> sellsync::model::Shipment {
    sellsync::model::Shipment {
        order_id: order_id.into(),
        package_reference_id: None,
        carrier_code: "UPS".into(),
        carrier_name: None,
        shipping_method: None,
        // A UPS number has 16 characters after "1Z"; an order id has 17 digits.
        tracking_number: format!(
            "1Z{}",
            order_id
                .replace('-', "")
                .chars()
                .skip(1)
                .collect::<String>()
        ),
        ship_date: None,
        items: vec![sellsync::model::ShipmentItem {
            order_item_id: order_item_id.into(),
            quantity,
        }],
    }
}

/// The library's clock as the emulator's time: with the emulator's clock running faster than
/// real time, the library's estimate of Amazon's time would otherwise fall behind between
/// answers (on a real till both clocks run at the same speed).
pub struct EmuClock(pub std::sync::Arc<Emulator>);

impl std::fmt::Debug for EmuClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmuClock")
    }
}

impl sellsync::clock::Clock for EmuClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.control().now()
    }
}

/// Waits (bounded) until `what` holds, polling every few milliseconds; panics naming `name`.
pub fn wait_until(name: &str, limit: Duration, mut what: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !what() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for {name}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs the listings flow until its report is read (bounded).
pub fn pull_listings(engine: &Engine) {
    wait_until("the listings report", Duration::from_secs(30), || {
        engine
            .sync_now(4, SYNC)
            .expect("the listings flow")
            .listings
            .listings
            .is_some()
    });
}
