//! Push, not poll: Amazon's notifications (`ORDER_CHANGE`, `LISTINGS_ITEM_MFN_QUANTITY_CHANGE`)
//! through the seller's SQS queue, against the emulator's Notifications API and queue service.

mod common;

use common::*;
use sellsync::Engine;
use sellsync_emulator::stock::Cause;
use sellsync_emulator::{settings::SettingsChange, Config as EmuConfig, Emulator, OrderSeed};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A queue on `emu` and the configuration section that receives from it.
fn notifications_section(emu: &Emulator, quiet_after_seconds: u64) -> String {
    let (url, _arn) = emu
        .control()
        .create_queue("sellsync-notifications")
        .expect("queue");
    format!(
        r#","notifications": {{"queue_url": "{url}", "region": "us-east-1",
             "aws_access_key_id": "AKIAEMULATOR00000000",
             "aws_secret_access_key": "emulator/aws/secret/key/0000000000000000",
             "quiet_after_seconds": {quiet_after_seconds}, "poll_slowdown": 4}}"#
    )
}

/// An emulator whose clock and rate limits run `speed` times faster than Amazon's.
fn fast_emulator(speed: f64) -> Arc<Emulator> {
    Arc::new(
        Emulator::start(EmuConfig {
            rate_scale: speed,
            clock_speed: speed,
            ..EmuConfig::default()
        })
        .expect("emulator"),
    )
}

/// A shop at Amazon's real rates with `listings` listings, notifications set up and the worker
/// running, its order search hourly: only a notification can bring an order in seconds.
fn notified_shop(listings: usize) -> (Emulator, tempfile::TempDir, Engine) {
    let emu = emulator(1.0);
    seed_listings(&emu, listings, 100);
    let dir = tempdir();
    let engine = open(
        &emu,
        &dir,
        &format!(
            r#"{}, "intervals": {{"orders_seconds": 3600}}"#,
            notifications_section(&emu, 300)
        ),
    );
    engine.notifications_setup().unwrap();
    engine.start().unwrap();
    (emu, dir, engine)
}

fn status(engine: &Engine) -> serde_json::Value {
    serde_json::from_str(&engine.status().unwrap()).unwrap()
}

/// Takes what the host has been handed, counting each order id.
fn take(engine: &Engine, seen: &mut HashMap<String, u32>) {
    for o in drain(engine) {
        *seen
            .entry(o["order_id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
}

#[test]
fn setup_creates_the_destination_and_both_subscriptions_once() {
    let emu = emulator(1000.0);
    let dir = tempdir();
    let engine = open(&emu, &dir, &notifications_section(&emu, 300));
    let first: serde_json::Value =
        serde_json::from_str(&engine.notifications_setup().unwrap()).unwrap();
    let again: serde_json::Value =
        serde_json::from_str(&engine.notifications_setup().unwrap()).unwrap();
    assert_eq!(
        first, again,
        "a second set-up reuses what the first created"
    );
    assert_eq!(
        first["queue_arn"],
        "arn:aws:sqs:us-east-1:000000000000:sellsync-notifications"
    );
    assert!(first["destination_id"]
        .as_str()
        .is_some_and(|d| !d.is_empty()));
    for kind in ["ORDER_CHANGE", "LISTINGS_ITEM_MFN_QUANTITY_CHANGE"] {
        assert!(
            first["subscriptions"][kind]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "subscribed to {kind}: {first}"
        );
    }
    // Without the section, set-up says what is missing.
    let plain = open(&emu, &tempdir(), "");
    let e = plain.notifications_setup().unwrap_err();
    assert!(matches!(e, sellsync::Error::InvalidArgument(_)), "{e}");
    assert!(e.to_string().contains("notifications"), "{e}");
}

/// At Amazon's real rate limits and clock, an order placed while the worker runs reaches the
/// host in seconds: the order search could not find it for at least two minutes.
#[test]
fn an_order_reaches_the_host_in_seconds_at_real_rates() {
    let (emu, _dir, engine) = notified_shop(3);
    let placed = emu
        .control()
        .place_orders(&OrderSeed::default())
        .expect("order placed");
    let started = Instant::now();
    let mut seen = HashMap::new();
    wait_until(
        "the order from its notification",
        Duration::from_secs(60),
        || {
            take(&engine, &mut seen);
            seen.contains_key(&placed[0])
        },
    );
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(15),
        "the order took {took:?}; the search alone needs over two minutes"
    );
    // The order's notification may come with others (its quantity change): each is acted on.
    wait_until(
        "every notification acted on",
        Duration::from_secs(10),
        || status(&engine)["notifications"]["pending"] == 0,
    );
    let s = status(&engine);
    assert_eq!(s["notifications"]["flowing"], true, "{s}");
    assert!(s["notifications"]["last_receive_ok_at"].is_string(), "{s}");
    engine.close().unwrap();
}

/// A quantity notification says Amazon sold a unit before the order is visible: a stock
/// change the host reports then never hands that unit back. Read-back is off, so only the
/// notification can know; the v0 order path reads orders only by search, which cannot see the
/// order for two minutes.
#[test]
fn a_quantity_notification_holds_units_sold_before_the_order_is_visible() {
    let emu = emulator(1.0);
    // Real time here: Amazon's delay in applying a patch, shortened to under a second.
    emu.control()
        .set_settings(sellsync_emulator::settings::SettingsChange {
            listing_apply_min_seconds: Some(0.05),
            listing_apply_max_seconds: Some(0.5),
            ..Default::default()
        })
        .unwrap();
    seed_skus(&emu, &["MUG".to_string()], 10, false);
    let dir = tempdir();
    let engine = open(
        &emu,
        &dir,
        &format!(
            r#"{}, "orders_api": "v0", "stock": {{"read_back": false}},
               "intervals": {{"orders_seconds": 3600, "stock_seconds": 3600}}"#,
            notifications_section(&emu, 300)
        ),
    );
    engine.notifications_setup().unwrap();
    engine.sku_map(&[one_to_one("MUG", "4711")]).unwrap();
    engine
        .stock_set(&[sellsync::model::StockLevel {
            host_item: "4711".into(),
            on_hand: 10,
        }])
        .unwrap();
    settle(&emu, &engine);
    engine.start().unwrap();
    emu.control()
        .place_orders(&OrderSeed {
            lines: vec![("MUG".into(), 1)],
            ..OrderSeed::default()
        })
        .unwrap();
    wait_until(
        "the notifications acted on",
        Duration::from_secs(30),
        || {
            let n = &status(&engine)["notifications"];
            n["received"].as_u64() >= Some(2)
                && n["pending"] == 0
                && engine.core().store.stock_counts().unwrap().out_of_step == 0
        },
    );
    assert!(drain(&engine).is_empty(), "the order is not visible yet");
    assert_eq!(
        emu.control().quantity("MUG"),
        Some(9),
        "the unit Amazon's buyer took is not handed back"
    );
    // The till sells two: the shop has 8, of which Amazon's buyer holds one.
    engine
        .stock_set(&[sellsync::model::StockLevel {
            host_item: "4711".into(),
            on_hand: 8,
        }])
        .unwrap();
    wait_until("the push", Duration::from_secs(30), || {
        engine.core().store.stock_counts().unwrap().out_of_step == 0
    });
    landed(&emu);
    let shows = emu.control().quantity("MUG").expect("listing");
    assert_eq!(
        shows, 7,
        "Amazon must show 8 less the unit its buyer took, not 8"
    );
    engine.close().unwrap();
}

/// Half the notifications lost, duplicated or reordered: still every order exactly once (the
/// search catches the lost ones), and Amazon ends at what the shelf says.
#[test]
fn lost_duplicated_and_reordered_notifications_still_give_every_order_exactly_once() {
    const SPEED: f64 = 60.0;
    let emu = fast_emulator(SPEED);
    let skus: Vec<String> = (0..4).map(|i| format!("SKU-{i}")).collect();
    seed_skus(&emu, &skus, 1000, false);
    emu.control()
        .set_settings(SettingsChange {
            notification_lose_rate: Some(0.5),
            notification_duplicate_rate: Some(0.5),
            notification_reorder_rate: Some(0.5),
            notification_delay_rate: Some(0.5),
            notification_extra_delay_seconds: Some(300.0),
            ..SettingsChange::default()
        })
        .unwrap();
    let dir = tempdir();
    let engine = open_on_clock(
        &emu,
        &dir,
        &format!(
            r#"{}, "intervals": {{"orders_seconds": {}, "stock_seconds": {}}}"#,
            notifications_section(&emu, 600),
            180.0 / SPEED,
            30.0 / SPEED
        ),
    );
    engine.notifications_setup().unwrap();
    engine
        .sku_map(
            &skus
                .iter()
                .enumerate()
                .map(|(i, s)| one_to_one(s, &format!("ITEM-{i}")))
                .collect::<Vec<_>>(),
        )
        .unwrap();
    let mut shelf: HashMap<String, i64> = (0..skus.len())
        .map(|i| (format!("ITEM-{i}"), 500))
        .collect();
    let levels = |shelf: &HashMap<String, i64>| {
        shelf
            .iter()
            .map(|(item, on_hand)| sellsync::model::StockLevel {
                host_item: item.clone(),
                on_hand: *on_hand,
            })
            .collect::<Vec<_>>()
    };
    engine.stock_set(&levels(&shelf)).unwrap();
    engine.start().unwrap();
    let mut placed = Vec::new();
    let mut seen: HashMap<String, u32> = HashMap::new();
    for i in 0..30 {
        let sku = &skus[i % skus.len()];
        placed.extend(
            emu.control()
                .place_orders(&OrderSeed {
                    lines: vec![(sku.clone(), 1)],
                    ..OrderSeed::default()
                })
                .unwrap_or_else(|e| {
                    panic!(
                        "order {i} of {sku}: {e}; Amazon's changes: {:?}",
                        emu.control().quantity_log(Some(sku), None)
                    )
                }),
        );
        std::thread::sleep(Duration::from_millis(100));
        take(&engine, &mut seen);
    }
    // The search (every 3 emulated minutes, 12 while notifications flow) finds the lost ones.
    wait_until("every order", Duration::from_secs(120), || {
        take(&engine, &mut seen);
        placed.iter().all(|id| seen.contains_key(id))
    });
    let published = emu.control().notifications();
    let faults = |f: &str| published.iter().filter(|p| p.faults.contains(&f)).count();
    assert!(faults("lost") > 0 && faults("duplicated") > 0 && faults("reordered") > 0);
    for id in &placed {
        assert_eq!(seen[id], 1, "order {id} handed over {} times", seen[id]);
    }
    assert_eq!(seen.len(), placed.len(), "no order but those placed");
    // The first push set each listing to the shelf (1000 down to 500); after it the shelf
    // never rose, so no value sent may hand back units. Amazon applies an accepted value later
    // and overwrites what orders took in between (its habit, not a hand-back): a rise is units
    // handed back only beyond what orders took after the value was accepted.
    for sku in &skus {
        let log = emu.control().quantity_log(Some(sku), None);
        let handed_back: Vec<_> = log
            .iter()
            .filter(|c| c.to > c.from && c.from > 0)
            .filter(|c| {
                let overwritten: i64 = match c.cause {
                    Cause::Patch { accepted } => log
                        .iter()
                        .filter(|o| matches!(o.cause, Cause::Order { .. }))
                        .filter(|o| o.time >= accepted && o.time <= c.time)
                        .map(|o| o.from - o.to)
                        .sum(),
                    _ => 0,
                };
                c.to > c.from + overwritten
            })
            .collect();
        assert!(
            handed_back.is_empty(),
            "{sku}: units handed back: {handed_back:?} in {log:?}"
        );
    }
    // The shop books them (its shelf falls) and Amazon follows the shelf.
    for i in 0..30 {
        *shelf.get_mut(&format!("ITEM-{}", i % skus.len())).unwrap() -= 1;
    }
    engine.stock_set(&levels(&shelf)).unwrap();
    // Under Amazon's late landings a unit may be held as taken by an order not seen (safe: never
    // oversold) until the hold's horizon (`UNSEEN_HORIZON`, an emulated hour, 60 s here): Amazon
    // reaches the shelf within it and a push after it.
    wait_until("Amazon at the shelf", Duration::from_secs(90), || {
        (0..skus.len())
            .all(|i| emu.control().quantity(&skus[i]) == Some(shelf[&format!("ITEM-{i}")]))
    });
    engine.close().unwrap();
}

/// The queue down for an emulated hour: the search takes over at full speed and nothing is
/// missed; when the queue is back, notifications flow again.
#[test]
fn with_the_queue_down_for_an_hour_the_order_search_takes_over() {
    const SPEED: f64 = 360.0;
    let emu = fast_emulator(SPEED);
    seed_listings(&emu, 3, 1000);
    let dir = tempdir();
    let engine = open_on_clock(
        &emu,
        &dir,
        &format!(
            r#"{}, "intervals": {{"orders_seconds": {}}}"#,
            notifications_section(&emu, 1800),
            180.0 / SPEED
        ),
    );
    engine.notifications_setup().unwrap();
    engine.start().unwrap();
    let mut seen = HashMap::new();
    let first = emu.control().place_orders(&OrderSeed::default()).unwrap();
    wait_until("notifications flowing", Duration::from_secs(30), || {
        take(&engine, &mut seen);
        status(&engine)["notifications"]["flowing"] == true
    });
    emu.control().set_queue_down(true);
    let start = emu.control().now();
    let mut placed = first;
    while emu.control().now() - start < chrono::Duration::hours(1) {
        placed.extend(emu.control().place_orders(&OrderSeed::default()).unwrap());
        std::thread::sleep(Duration::from_millis(250)); // 90 emulated seconds between orders
        take(&engine, &mut seen);
    }
    let s = status(&engine);
    assert_eq!(s["notifications"]["flowing"], false, "{s}");
    assert!(s["notifications"]["last_error"].is_string(), "{s}");
    // Everything but the last few minutes' orders came through the search meanwhile.
    let missing = placed.iter().filter(|id| !seen.contains_key(*id)).count();
    assert!(
        missing <= 4,
        "{missing} of {} orders missing while the queue was down",
        placed.len()
    );
    emu.control().set_queue_down(false);
    wait_until(
        "every order, and the queue answering",
        Duration::from_secs(60),
        || {
            take(&engine, &mut seen);
            placed.iter().all(|id| seen.contains_key(id))
                && status(&engine)["notifications"]["last_error"].is_null()
        },
    );
    assert!(seen.values().all(|n| *n == 1), "each order once");
    engine.close().unwrap();
}

/// A buyer's cancellation request reaches the host as an event in seconds, not at the next
/// order search.
#[test]
fn a_buyer_cancellation_request_raises_its_event_in_seconds() {
    let (emu, _dir, engine) = notified_shop(2);
    let placed = emu.control().place_orders(&OrderSeed::default()).unwrap();
    let mut seen = HashMap::new();
    wait_until("the order", Duration::from_secs(30), || {
        take(&engine, &mut seen);
        seen.contains_key(&placed[0])
    });
    events(&engine);
    assert!(emu
        .control()
        .buyer_cancel_request(&placed[0], "Found a better price"));
    let started = Instant::now();
    let mut requested = Vec::new();
    wait_until(
        "order.buyer_cancel_requested",
        Duration::from_secs(60),
        || {
            requested.extend(
                events(&engine)
                    .into_iter()
                    .filter(|e| e["type"] == "order.buyer_cancel_requested"),
            );
            !requested.is_empty()
        },
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        requested[0]["order_id"],
        placed[0].as_str(),
        "{requested:?}"
    );
    engine.close().unwrap();
}

/// `sellsync notifications setup CONFIG` twice (the same ids), then `sellsync status` says
/// whether notifications come.
#[test]
fn the_cli_sets_notifications_up_and_shows_whether_they_flow() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 2, 100);
    let dir = tempdir();
    let store = dir.path().join("store.sqlite");
    let config_file = dir.path().join("sellsync.json");
    std::fs::write(
        &config_file,
        config_json(&emu, &store, &notifications_section(&emu, 300)),
    )
    .unwrap();
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sellsync"))
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "sellsync {args:?}: {text}");
        text
    };
    let config = config_file.to_str().unwrap();
    let first = cli(&["notifications", "setup", config]);
    assert!(first.contains("subscribed   ORDER_CHANGE ("), "{first}");
    assert!(
        first.contains("subscribed   LISTINGS_ITEM_MFN_QUANTITY_CHANGE ("),
        "{first}"
    );
    assert_eq!(
        cli(&["notifications", "setup", config]),
        first,
        "run again: the same"
    );
    let store_arg = store.to_str().unwrap();
    assert!(cli(&["status", store_arg]).contains("notifications  none received"));
    let engine = open(&emu, &dir, &notifications_section(&emu, 300));
    engine.start().unwrap();
    emu.control().place_orders(&OrderSeed::default()).unwrap();
    wait_until("a notification kept", Duration::from_secs(30), || {
        let n = &status(&engine)["notifications"];
        n["received"].as_u64() >= Some(1) && n["last_receive_ok_at"].is_string()
    });
    engine.close().unwrap();
    let line = cli(&["status", store_arg]);
    assert!(line.contains("notifications  queue answering"), "{line}");
}

#[test]
fn two_sellers_on_one_queue_each_get_their_own_orders_in_seconds() {
    use sellsync_emulator::{ListingSeed, Seller};
    let emu = emulator(1.0);
    let demo = Seller::demo();
    let second = Seller {
        seller_id: "A2SECONDSELLER".into(),
        refresh_token: "Atzr|second-seller-authorisation".into(),
        ..Seller::demo()
    };
    emu.control().add_seller(second.clone());
    seed_listings(&emu, 3, 100);
    emu.control()
        .seed_listings(
            Some(&second.seller_id),
            &[ListingSeed::new("SECOND-SKU", 100, false)],
        )
        .unwrap();
    // One queue in the vendor's account for both shops, each searching for orders hourly.
    let extra = format!(
        r#"{}, "intervals": {{"orders_seconds": 3600}}"#,
        notifications_section(&emu, 300)
    );
    let (dir_a, dir_b) = (tempdir(), tempdir());
    let a = open(&emu, &dir_a, &extra);
    let json = config_json(&emu, &dir_b.path().join("store.sqlite"), &extra)
        .replace(&demo.seller_id, &second.seller_id)
        .replace(&demo.refresh_token, &second.refresh_token);
    let b = Engine::open(sellsync::Config::from_json(&json).unwrap()).unwrap();
    for e in [&a, &b] {
        e.notifications_setup().unwrap();
        e.start().unwrap();
    }
    let mut placed = Vec::new();
    for seller in [&demo, &second] {
        for _ in 0..3 {
            placed.extend(
                emu.control()
                    .place_orders(&OrderSeed {
                        seller_id: Some(seller.seller_id.clone()),
                        ..OrderSeed::default()
                    })
                    .expect("order placed"),
            );
        }
    }
    let (of_a, of_b) = placed.split_at(3);
    let started = Instant::now();
    let (mut seen_a, mut seen_b) = (HashMap::new(), HashMap::new());
    wait_until(
        "every order at its own seller's host",
        Duration::from_secs(60),
        || {
            take(&a, &mut seen_a);
            take(&b, &mut seen_b);
            of_a.iter().all(|id| seen_a.contains_key(id))
                && of_b.iter().all(|id| seen_b.contains_key(id))
        },
    );
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "the orders took {took:?}; the search alone needs an hour"
    );
    assert!(of_b.iter().all(|id| !seen_a.contains_key(id)), "{seen_a:?}");
    assert!(of_a.iter().all(|id| !seen_b.contains_key(id)), "{seen_b:?}");
    a.close().unwrap();
    b.close().unwrap();
}
