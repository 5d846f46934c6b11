//! Orders in against Amazon's rate limits, side by side in one run: sellsync (Orders
//! 2026-01-01 and v0) and the way ERP integrations do it today (a python-amazon-sp-api loop over
//! v0 getOrders + getOrderItems with its retry helper). Each reads the same N orders from its
//! own emulator with rates scaled alike; reported: wall time, the lower bound the usage plans
//! allow, API calls per order and 429s received.
//!
//! Run: `cargo bench --bench orders_in` (scripts/test's virtualenv provides the Python client;
//! or set SELLSYNC_PYTHON).

use sellsync::Engine;
use sellsync_emulator::{Config as EmuConfig, Emulator, ListingSeed, OrderSeed, Seller};
use std::process::Command;
use std::time::{Duration, Instant};

const N: usize = 1000;
const SCALE: f64 = 100.0;

fn emulator() -> Emulator {
    let emu = Emulator::start(EmuConfig {
        rate_scale: SCALE,
        ..EmuConfig::default()
    })
    .unwrap();
    let seeds: Vec<ListingSeed> = (0..200)
        .map(|i| ListingSeed {
            sku: format!("SKU-{i:04}"),
            asin: None,
            title: None,
            quantity: 100,
            price_cents: None,
            fba: false,
            product_type: None,
        })
        .collect();
    emu.control().seed_listings(None, &seeds).unwrap();
    emu.control()
        .place_orders(&OrderSeed {
            count: Some(N),
            age_seconds: 600,
            ..Default::default()
        })
        .unwrap();
    emu
}

fn calls(emu: &Emulator) -> (u64, u64) {
    let counts = emu.control().counts();
    let total = counts
        .iter()
        .filter(|(op, _, _)| op != "lwaToken")
        .map(|(_, _, n)| n)
        .sum();
    let throttled = counts
        .iter()
        .filter(|(_, status, _)| *status == 429)
        .map(|(_, _, n)| n)
        .sum();
    (total, throttled)
}

fn sellsync(api: &str) -> (Duration, u64, u64) {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let s = Seller::demo();
    let config = format!(
        r#"{{"store_path": {:?}, "seller_id": "{}", "marketplace_ids": ["ATVPDKIKX0DER"], "endpoint": "{}",
            "http_allow_insecure_loopback": true, "orders_api": "{api}",
            "credentials": {{"client_id": "{}", "client_secret": "{}", "refresh_token": "{}"}}}}"#,
        dir.path().join("b.sqlite"),
        s.seller_id,
        emu.url(),
        s.client_id,
        s.client_secret,
        s.refresh_token
    );
    let engine = Engine::open(sellsync::Config::from_json(&config).unwrap()).unwrap();
    let t = Instant::now();
    let r = engine.sync_now(1, Duration::from_secs(600)).unwrap();
    let took = t.elapsed();
    assert_eq!(r.orders.new as usize, N);
    let (total, throttled) = calls(&emu);
    (took, total, throttled)
}

fn python() -> Option<(Duration, u64, u64)> {
    let emu = emulator();
    let python =
        std::env::var("SELLSYNC_PYTHON").unwrap_or_else(|_| "target/python-venv/bin/python".into());
    let out = Command::new(&python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/orders_python.py"
        ))
        .arg(emu.url())
        .arg(SCALE.to_string())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let seconds: f64 = text.split("seconds=").nth(1)?.trim().parse().ok()?;
    assert!(text.contains(&format!("orders={N}")), "{text}");
    let (total, throttled) = calls(&emu);
    Some((Duration::from_secs_f64(seconds), total, throttled))
}

fn main() {
    // Lower bounds from the usage plans (rates scaled): searchOrders burst 20 covers N/100 pages;
    // v0 needs N getOrderItems at 0.5/s after a burst of 30.
    let v0_bound = (N as f64 - 30.0).max(0.0) / (0.5 * SCALE);
    println!("orders in: {N} orders, usage-plan rates x{SCALE}");
    println!(
        "  {:<44} {:>9} {:>12} {:>11} {:>6}",
        "client", "seconds", "lower bound", "calls/order", "429s"
    );
    let row = |name: &str, (took, total, throttled): (Duration, u64, u64), bound: f64| {
        println!(
            "  {name:<44} {:>9.2} {bound:>12.2} {:>11.3} {throttled:>6}",
            took.as_secs_f64(),
            total as f64 / N as f64
        );
    };
    row(
        "sellsync, Orders 2026-01-01 searchOrders",
        sellsync("2026-01-01"),
        0.0,
    );
    row("sellsync, Orders v0 + RDT", sellsync("v0"), v0_bound);
    match python() {
        Some(r) => row("python-amazon-sp-api v0 loop, throttle_retry", r, v0_bound),
        None => println!(
            "  python-amazon-sp-api: not available (run scripts/test once, or set SELLSYNC_PYTHON)"
        ),
    }
}
