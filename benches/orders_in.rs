//! Orders in against Amazon's rate limits, side by side in one run: sellsync (Orders
//! 2026-01-01 and v0) and the way ERP integrations do it today (a python-amazon-sp-api loop over
//! v0 getOrders + getOrderItems with its retry helper). Each reads the same N orders from its
//! own emulator with rates scaled alike; reported: wall time, the lower bound the usage plans
//! allow, API calls per 1,000 orders and 429s received.
//!
//! Run: `cargo bench --bench orders_in` (scripts/test's virtualenv provides the Python client;
//! or set SELLSYNC_PYTHON). `ORDERS_IN_ORDERS` (default 10,000) and `ORDERS_IN_SCALE` (the rate
//! scale, default 100) change the job.

mod common;

use common::{result, size};
use sellsync::Engine;
use sellsync_emulator::{Config as EmuConfig, Emulator, ListingSeed, OrderSeed, Seller};
use std::process::Command;
use std::time::{Duration, Instant};

/// Seconds the usage plan of an operation (rate per second and burst at Amazon's real rates)
/// needs at the least for `calls` calls at rate scale `scale`.
fn plan_bound(calls: usize, rate: f64, burst: usize, scale: f64) -> f64 {
    calls.saturating_sub(burst) as f64 / (rate * scale)
}

fn emulator(n: usize, scale: f64) -> Emulator {
    let emu = Emulator::start(EmuConfig {
        rate_scale: scale,
        ..EmuConfig::default()
    })
    .unwrap();
    let seeds: Vec<ListingSeed> = (0..200)
        .map(|i| ListingSeed::new(format!("SKU-{i:04}"), 100, false))
        .collect();
    emu.control().seed_listings(None, &seeds).unwrap();
    emu.control()
        .place_orders(&OrderSeed {
            count: Some(n),
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

fn sellsync(api: &str, n: usize, scale: f64) -> (Duration, u64, u64) {
    let emu = emulator(n, scale);
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
    assert_eq!(r.orders.new as usize, n);
    let (total, throttled) = calls(&emu);
    (took, total, throttled)
}

fn python(n: usize, scale: f64) -> Option<(Duration, u64, u64)> {
    let emu = emulator(n, scale);
    let python =
        std::env::var("SELLSYNC_PYTHON").unwrap_or_else(|_| "target/python-venv/bin/python".into());
    let out = Command::new(&python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/orders_python.py"
        ))
        .arg(emu.url())
        .arg(scale.to_string())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let seconds: f64 = text.split("seconds=").nth(1)?.trim().parse().ok()?;
    assert!(text.contains(&format!("orders={n}")), "{text}");
    let (total, throttled) = calls(&emu);
    Some((Duration::from_secs_f64(seconds), total, throttled))
}

fn main() {
    let n = size("ORDERS_IN_ORDERS", 10_000);
    let scale = size("ORDERS_IN_SCALE", 100) as f64;
    // Lower bounds from the usage plans (rates scaled; pages of 100 orders): 2026-01-01 pages
    // searchOrders (0.0056/s, burst 20); v0 pages getOrders (0.0167/s, burst 20) and needs one
    // getOrderItems per order (0.5/s, burst 30). Operations could run side by side: the bound
    // is the slowest one's.
    let pages = n.div_ceil(100);
    let bound_2026 = plan_bound(pages, 0.0056, 20, scale);
    let bound_v0 = plan_bound(pages, 0.0167, 20, scale).max(plan_bound(n, 0.5, 30, scale));
    println!("orders in: {n} orders, usage-plan rates x{scale}");
    println!(
        "  {:<44} {:>9} {:>12} {:>8} {:>13} {:>6}",
        "client", "seconds", "lower bound", "÷ bound", "calls/1,000", "429s"
    );
    let row = |key: &str, name: &str, r: Option<(Duration, u64, u64)>, bound: f64| {
        let Some((took, total, throttled)) = r else {
            println!("  {name}: not available (run scripts/test once, or set SELLSYNC_PYTHON)");
            return;
        };
        let (secs, per_1000) = (took.as_secs_f64(), total as f64 * 1000.0 / n as f64);
        // Within the burst the bound is 0 and the ratio means nothing.
        let ratio = (bound > 0.0).then(|| secs / bound);
        let shown = ratio.map_or("-".into(), |r| format!("{r:.2}"));
        println!(
            "  {name:<44} {secs:>9.2} {bound:>12.2} {shown:>8} {per_1000:>13.1} {throttled:>6}"
        );
        // Goals for sellsync only; its v0 path is compared with the Python client's time.
        let ours = key.starts_with("sellsync");
        let (s, m) = ("orders in", |what: &str| format!("{key}: {what}"));
        let reference = if key == "sellsync v0" {
            "python v0: seconds"
        } else {
            ""
        };
        result(s, &m("seconds"), secs, "s", reference, "");
        if let Some(r) = ratio {
            result(
                s,
                &m("time ÷ bound"),
                r,
                "x",
                "",
                if ours { "<= 1.2" } else { "" },
            );
        }
        result(s, &m("calls per 1,000 orders"), per_1000, "", "", "");
        result(
            s,
            &m("429s"),
            throttled as f64,
            "",
            "",
            if ours { "<= 0" } else { "" },
        );
    };
    row(
        "sellsync 2026-01-01",
        "sellsync, Orders 2026-01-01 searchOrders",
        Some(sellsync("2026-01-01", n, scale)),
        bound_2026,
    );
    row(
        "sellsync v0",
        "sellsync, Orders v0 + RDT",
        Some(sellsync("v0", n, scale)),
        bound_v0,
    );
    row(
        "python v0",
        "python-amazon-sp-api v0 loop, throttle_retry",
        python(n, scale),
        bound_v0,
    );
}
