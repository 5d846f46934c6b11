//! The race for the last unit, measured: how long a stock change takes to reach Amazon while
//! orders, feeds and shipments flow at the same time, and how long shipments wait under a
//! sustained soak.
//!
//! 1. Latency, at Amazon's real rates (rate scale 1, real time): 2,000 SKUs, the background
//!    worker running with its default intervals, 300 orders arriving in the first order search
//!    (placed, then Amazon's clock moved on 5 minutes) and confirmed by the host at once (confirmShipment allows 2 a second, so shipments flow
//!    throughout), a delivery of 200 SKUs every 20 s (bulk feeds, 90 s processing), ordinary
//!    in-store sales on 4 SKUs a second and a sold-out SKU every 2 s. The time of each change
//!    is taken from the emulator's clock; the time Amazon showed no more than the new shelf
//!    from the emulator's log of quantity changes.
//! 2. Shipments soak: the emulator 60x faster (clock and rate limits), buyers placing about 25
//!    orders a real second (1,500 an emulated hour), the worker running with intervals divided by
//!    60, the host booking every order and confirming its package at once. Reported: how long
//!    packages waited between the host's confirmation and Amazon's answer, and the queue.
//! 3. Order placed to host has it: the emulator 60x faster, the worker at its default intervals
//!    divided by 60, an order paid every 30 emulated seconds, the host taking orders as they
//!    come; measured in emulated seconds from the purchase to `order_next`, against the floor of
//!    README's "How soon an order reaches the host" (310 s at the default settings). The
//!    library's clock is the emulator's, as the host's clock runs at Amazon's speed on a till.
//!    Then the same with notifications: `ORDER_CHANGE` through the emulator's SQS queue (goal:
//!    p95 <= 15 s).
//!
//! Run: `cargo bench --bench race` (about 5 minutes; `RACE_SECONDS`, `RACE_SOAK_SECONDS`,
//! `RACE_ORDERS_SECONDS` change the real seconds of each part: 90, 60, 40).

mod common;

use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng};
use sellsync::model::{Component, Shipment, ShipmentItem, SkuMapping, StockLevel};
use sellsync::Engine;
use sellsync_emulator::buyers::BuyersConfig;
use sellsync_emulator::{Config, Emulator, ListingSeed, OrderSeed, Seller};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{percentile, result, size};

fn emulator(scale: f64) -> Emulator {
    Emulator::start(Config {
        rate_scale: scale,
        clock_speed: scale,
        ..Config::default()
    })
    .expect("emulator")
}

/// The library's clock in part 3: the emulator's time. At 60x, the host's clock would let the
/// library's estimate of Amazon's time fall behind by up to a polling interval (Amazon's time
/// is learnt from each answer's `Date` and carried on by the host's clock); on a real till both
/// clocks run at the same speed.
struct EmuClock(std::sync::Arc<Emulator>);

impl std::fmt::Debug for EmuClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmuClock")
    }
}

impl sellsync::clock::Clock for EmuClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.control().now()
    }
}

fn config(emu: &Emulator, dir: &std::path::Path, extra: &str) -> sellsync::Config {
    let s = Seller::demo();
    let config = format!(
        r#"{{"store_path": {:?}, "seller_id": "{}", "marketplace_ids": ["ATVPDKIKX0DER"],
            "endpoint": "{}", "http_allow_insecure_loopback": true,
            "credentials": {{"client_id": "{}", "client_secret": "{}", "refresh_token": "{}"}}{extra}}}"#,
        dir.join("bench.sqlite"),
        s.seller_id,
        emu.url(),
        s.client_id,
        s.client_secret,
        s.refresh_token
    );
    sellsync::Config::from_json(&config).expect("config")
}

fn engine(emu: &Emulator, dir: &std::path::Path, extra: &str) -> Engine {
    Engine::open(config(emu, dir, extra)).expect("open")
}

fn sku(i: usize) -> String {
    format!("SKU-{i:04}")
}

fn level(i: usize, on_hand: i64) -> StockLevel {
    StockLevel {
        host_item: sku(i),
        on_hand,
    }
}

/// The host books an order (acknowledges it) and confirms one package with all of it.
fn book_and_ship(engine: &Engine, doc: &str) -> sellsync::Result<String> {
    let o: serde_json::Value = serde_json::from_str(doc).unwrap();
    let id = o["order_id"].as_str().unwrap().to_string();
    engine.order_ack(&id, "POS")?;
    let items = o["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|it| ShipmentItem {
            order_item_id: it["order_item_id"].as_str().unwrap().into(),
            quantity: it["quantity"].as_i64().unwrap(),
        })
        .collect();
    engine.shipment_confirm(&Shipment {
        order_id: id.clone(),
        package_reference_id: None,
        carrier_code: "UPS".into(),
        carrier_name: None,
        shipping_method: None,
        tracking_number: format!("1Z{}", id.replace('-', "")),
        ship_date: None,
        items,
    })
}

/// Seconds from each fall of a SKU's stock (to `value` at `at`) until Amazon showed no more
/// than that, from the emulator's log of quantity changes (0 when it already did, e.g. because
/// an order had taken the units); and how many never did.
fn latencies(emu: &Emulator, changes: &[(String, DateTime<Utc>, i64)]) -> (Vec<f64>, usize) {
    let log: HashMap<String, Vec<(DateTime<Utc>, i64)>> = emu.control().with_world(|w| {
        let mut m: HashMap<String, Vec<(DateTime<Utc>, i64)>> = HashMap::new();
        for c in w.listings.quantity_log() {
            m.entry(c.sku.clone()).or_default().push((c.time, c.to));
        }
        m
    });
    let mut out = Vec::new();
    let mut missed = 0;
    for (sku, at, value) in changes {
        let entries = log.get(sku).map(Vec::as_slice).unwrap_or_default();
        let before = entries.iter().rev().find(|(t, _)| t <= at).map(|e| e.1);
        if before.is_some_and(|q| q <= *value) {
            out.push(0.0);
            continue;
        }
        match entries.iter().find(|(t, q)| t > at && q <= value) {
            Some((t, _)) => out.push((*t - *at).num_milliseconds() as f64 / 1000.0),
            None => missed += 1,
        }
    }
    (out, missed)
}

fn latency_at_real_rates() {
    const SKUS: usize = 2000;
    let emu = emulator(1.0);
    let c = emu.control();
    let seeds: Vec<ListingSeed> = (0..SKUS)
        .map(|i| ListingSeed::new(sku(i), 0, false))
        .collect();
    c.seed_listings(None, &seeds).unwrap();
    // The first bulk feed of the catalogue is quick; then Amazon's 90 s of processing.
    c.with_world(|w| w.settings.feed_processing_seconds = 2.0);
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&emu, dir.path(), "");
    let maps: Vec<SkuMapping> = (0..SKUS)
        .map(|i| SkuMapping {
            sku: sku(i),
            items: vec![Component {
                host_item: sku(i),
                units: 1,
            }],
            ..Default::default()
        })
        .collect();
    engine.sku_map(&maps).unwrap();
    let mut shelf: Vec<i64> = vec![50; SKUS];
    engine
        .stock_set(&(0..SKUS).map(|i| level(i, 50)).collect::<Vec<_>>())
        .unwrap();
    let settle_until = Instant::now() + Duration::from_secs(120);
    loop {
        engine.sync_now(2, Duration::from_secs(300)).unwrap();
        let counts = engine.core().store.stock_counts().unwrap();
        if counts.out_of_step == 0 && counts.open_feeds == 0 {
            break;
        }
        assert!(Instant::now() < settle_until, "initial sync: {counts:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    c.with_world(|w| w.settings = Default::default());
    // 300 paid orders, then Amazon's clock moves on 5 minutes, so the first order search of
    // the run finds them all.
    c.place_orders(&OrderSeed {
        count: Some(300),
        ..Default::default()
    })
    .unwrap();
    c.advance(chrono::Duration::minutes(5));
    // One order search learns Amazon's moved clock (it finds nothing yet); the worker's first
    // search, at once, finds the orders.
    engine.sync_now(1, Duration::from_secs(60)).unwrap();
    engine.start().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let (mut ordinary, mut urgent) = (Vec::new(), Vec::new());
    let (mut shipped, mut deliveries) = (0, 0);
    let start = Instant::now();
    let run = Duration::from_secs(size("RACE_SECONDS", 90) as u64);
    let mut tick = 0u64;
    while start.elapsed() < run {
        // Orders: book and ship each at once.
        while let Some(doc) = engine.order_next().unwrap() {
            book_and_ship(&engine, &doc).unwrap();
            shipped += 1;
        }
        // Every 250 ms an in-store sale on SKUs 1000..1500; every 2 s a sell-out on 1500..2000;
        // every 20 s a delivery of 200 SKUs of 0..1000.
        let i = 1000 + rng.gen_range(0..500);
        if shelf[i] > 2 {
            shelf[i] -= 1;
            engine.stock_set(&[level(i, shelf[i])]).unwrap();
            ordinary.push((sku(i), c.now(), shelf[i]));
        }
        if tick.is_multiple_of(8) {
            let i = 1500 + (tick as usize / 8) % 500;
            shelf[i] = 0;
            engine.stock_set(&[level(i, 0)]).unwrap();
            urgent.push((sku(i), c.now(), 0));
        }
        if tick % 80 == 40 {
            let from = rng.gen_range(0..800);
            let batch: Vec<StockLevel> = (from..from + 200)
                .map(|i| {
                    shelf[i] += 5;
                    level(i, shelf[i])
                })
                .collect();
            engine.stock_set(&batch).unwrap();
            deliveries += 1;
        }
        tick += 1;
        std::thread::sleep(Duration::from_millis(250));
    }
    // Let the last changes land before reading the log.
    std::thread::sleep(Duration::from_secs(10));
    engine.stop().unwrap();
    let (mut u, u_missed) = latencies(&emu, &urgent);
    let (mut o, o_missed) = latencies(&emu, &ordinary);
    let counts = |op: &str, status: u16| c.count(op, status);
    println!("## Stock change to Amazon, at Amazon's real rates, everything flowing");
    println!(
        "{} s; {} orders booked and shipped, {} deliveries of 200 SKUs (bulk feeds), {} in-store sales (4/s), {} sell-outs",
        run.as_secs(),
        shipped,
        deliveries,
        ordinary.len(),
        urgent.len()
    );
    println!(
        "| fall of the shelf | n | p50 s | p95 s | max s | Amazon still showed more at the end |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, key, goal, v, missed) in [
        ("urgent (sold out)", "urgent", "<= 2", &mut u, u_missed),
        (
            "ordinary (fast lane)",
            "ordinary",
            "<= 10",
            &mut o,
            o_missed,
        ),
    ] {
        let n = v.len();
        let (p50, p95, max) = (percentile(v, 0.5), percentile(v, 0.95), percentile(v, 1.0));
        println!("| {name} | {n} | {p50:.2} | {p95:.2} | {max:.2} | {missed} |");
        let s = "stock change to Amazon";
        result(s, &format!("{key}, p50"), p50, "s", "", "");
        result(s, &format!("{key}, p95"), p95, "s", "", goal);
        result(s, &format!("{key}, max"), max, "s", "", "");
        result(
            s,
            &format!("{key}, never shown"),
            missed as f64,
            "",
            "",
            "<= 0",
        );
    }
    println!(
        "calls: patchListingsItem {}, searchListingsItems {}, createFeed {}, confirmShipment {}, searchOrders {}; 429s: {}",
        counts("patchListingsItem", 200),
        counts("searchListingsItems", 200),
        counts("createFeed", 202),
        counts("confirmShipment", 204),
        counts("searchOrders", 200),
        [
            "patchListingsItem",
            "searchListingsItems",
            "createFeed",
            "confirmShipment",
            "searchOrders",
            "createFeedDocument",
            "getFeed",
        ]
        .iter()
        .map(|op| counts(op, 429))
        .sum::<u64>()
    );
}

fn shipments_soak() {
    const SPEED: f64 = 60.0;
    let emu = emulator(SPEED);
    let c = emu.control();
    let seeds: Vec<ListingSeed> = (0..200)
        .map(|i| ListingSeed::new(sku(i), 1_000_000, false))
        .collect();
    c.seed_listings(None, &seeds).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(
        &emu,
        dir.path(),
        r#","intervals": {"orders_seconds": 2, "stock_seconds": 0.5}, "stock": {"listings_feed_window_seconds": 5}"#,
    );
    // 25 orders a real second are 25 per 60 emulated seconds.
    c.start_buyers(BuyersConfig {
        seller_id: None,
        marketplace_ids: Vec::new(),
        orders_per_hour: 25.0 * 3600.0 / SPEED,
        cancel_request_share: 0.0,
        max_units: 1,
        max_lines: 1,
        return_share: 0.0,
        defect_share: 0.0,
    });
    engine.start().unwrap();
    let run = Duration::from_secs(size("RACE_SOAK_SECONDS", 60) as u64);
    let start = Instant::now();
    let (mut confirmed, mut max_queue) = (0u64, 0u64);
    while start.elapsed() < run {
        let mut took = false;
        while let Some(doc) = engine.order_next().unwrap() {
            took = true;
            if book_and_ship(&engine, &doc).is_ok() {
                confirmed += 1;
            }
        }
        max_queue = max_queue.max(engine.core().store.shipments_waiting().unwrap());
        if !took {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let placed = c.stop_buyers();
    let at_end = engine.core().store.shipments_waiting().unwrap();
    engine.stop().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("bench.sqlite")).unwrap();
    let mut stmt = conn
        .prepare("SELECT created_at, sent_at FROM shipments WHERE sent_at IS NOT NULL")
        .unwrap();
    let mut waits: Vec<f64> = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .map(|r| {
            let (a, b) = r.unwrap();
            let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap();
            (t(&b) - t(&a)).num_milliseconds() as f64 / 1000.0
        })
        .collect();
    println!();
    println!("## Shipments under a sustained soak (emulator {SPEED}x: clock and rate limits)");
    println!(
        "{} s real; buyers placed {placed} orders (~25/s real); the host confirmed {confirmed} packages; {} reached Amazon; queue max {max_queue}, at the end {at_end}",
        run.as_secs(),
        waits.len()
    );
    let (p50, p95, max) = (
        percentile(&mut waits, 0.5),
        percentile(&mut waits, 0.95),
        percentile(&mut waits, 1.0),
    );
    let throttled = c.count("confirmShipment", 429);
    println!(
        "wait from confirmation to Amazon's answer (real seconds): p50 {p50:.2}, p95 {p95:.2}, max {max:.2}; 429s from confirmShipment: {throttled}"
    );
    let s = "shipments soak";
    result(
        s,
        "packages confirmed by the host",
        confirmed as f64,
        "",
        "",
        "",
    );
    let sent = "packages at Amazon";
    result(
        s,
        sent,
        waits.len() as f64,
        "",
        "packages confirmed by the host",
        ">= 0.95x",
    );
    result(s, "queue at the end", at_end as f64, "", "", "");
    result(s, "wait to Amazon's answer, p95 (real s)", p95, "s", "", "");
    result(s, "wait to Amazon's answer, max (real s)", max, "s", "", "");
    result(
        s,
        "429s from confirmShipment",
        throttled as f64,
        "",
        "",
        "<= 0",
    );
}

/// Part 3: from an order's purchase (payment at once) to the host's `order_next`, in emulated
/// seconds; by polling alone, or with notifications (`notify`) through the emulator's queue
/// (each published 2 emulated seconds after the change, the emulator's default).
fn order_to_host(notify: bool) {
    const SPEED: f64 = 60.0;
    const FLOOR: f64 = 120.0 + 10.0 + 180.0;
    const NOTIFIED_GOAL: f64 = 15.0;
    let emu = std::sync::Arc::new(emulator(SPEED));
    let c = emu.control();
    let seeds: Vec<ListingSeed> = (0..50)
        .map(|i| ListingSeed::new(sku(i), 1_000_000, false))
        .collect();
    c.seed_listings(None, &seeds).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut extra = format!(r#","intervals": {{"orders_seconds": {}}}"#, 180.0 / SPEED);
    if notify {
        let (url, _) = c.create_queue("sellsync-notifications").unwrap();
        extra.push_str(&format!(
            r#","notifications": {{"queue_url": "{url}", "region": "us-east-1",
                 "aws_access_key_id": "AKIAEMULATOR00000000",
                 "aws_secret_access_key": "emulator/aws/secret/key/0000000000000000"}}"#
        ));
    }
    let engine = Engine::open_with_clock(
        config(&emu, dir.path(), &extra),
        std::sync::Arc::new(EmuClock(emu.clone())),
    )
    .expect("open");
    if notify {
        engine.notifications_setup().expect("notifications set up");
    }
    engine.start().unwrap();
    let run = Duration::from_secs(size("RACE_ORDERS_SECONDS", 40) as u64);
    // Orders keep coming for the run, then the host waits for the last ones (the floor and a
    // margin in real time).
    let drain = Duration::from_secs_f64(FLOOR * 1.5 / SPEED);
    let start = Instant::now();
    let (mut placed, mut next_order) = (0usize, Instant::now());
    let mut waits = Vec::new();
    while waits.len() < placed || start.elapsed() < run {
        if start.elapsed() > run + drain {
            break;
        }
        if start.elapsed() < run && Instant::now() >= next_order {
            c.place_orders(&OrderSeed::default()).unwrap();
            placed += 1;
            next_order += Duration::from_secs_f64(30.0 / SPEED);
        }
        while let Some(doc) = engine.order_next().unwrap() {
            let o: serde_json::Value = serde_json::from_str(&doc).unwrap();
            let bought =
                DateTime::parse_from_rfc3339(o["purchase_date"].as_str().unwrap()).unwrap();
            waits.push((c.now() - bought.with_timezone(&Utc)).num_milliseconds() as f64 / 1000.0);
            engine
                .order_ack(o["order_id"].as_str().unwrap(), "POS")
                .unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    engine.stop().unwrap();
    let (p50, p95, max) = (
        percentile(&mut waits, 0.5),
        percentile(&mut waits, 0.95),
        percentile(&mut waits, 1.0),
    );
    let missing = placed - waits.len();
    let (how, s, goal) = if notify {
        (
            "with notifications (ORDER_CHANGE through the seller's queue, then getOrder)",
            "order placed to host has it, with notifications",
            NOTIFIED_GOAL,
        )
    } else {
        ("by polling alone", "order placed to host has it", FLOOR)
    };
    println!();
    println!(
        "## Order placed to host has it, {how} (emulator {SPEED}x, worker intervals ÷ {SPEED})"
    );
    println!(
        "{placed} orders paid at once, one every 30 emulated s; emulated seconds from purchase to order_next: p50 {p50:.1}, p95 {p95:.1}, max {max:.1} (goal: {goal:.0}; polling's floor at these settings: {FLOOR:.0} worst case, 220 on average); not handed over by the end: {missing}"
    );
    result(s, "p50 (emulated s)", p50, "s", "", "");
    result(s, "p95 (emulated s)", p95, "s", "", &format!("<= {goal}"));
    let max_goal = if notify {
        String::new()
    } else {
        format!("<= {FLOOR}")
    };
    result(s, "max (emulated s)", max, "s", "", &max_goal);
    result(s, "orders not handed over", missing as f64, "", "", "<= 0");
}

fn main() {
    latency_at_real_rates();
    shipments_soak();
    order_to_host(false);
    order_to_host(true);
}
