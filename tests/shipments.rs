//! Shipment confirmations reach Amazon exactly once, closest deadline first, through faults
//! that leave the outcome of a call unknown.

mod common;

use common::*;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use sellsync::model::Shipment;
use sellsync::Engine;
use sellsync_emulator::{CanceledBy, Fault, FaultKind, OrderSeed};
use std::time::{Duration, Instant};

fn shipment(order: &serde_json::Value, pref: Option<&str>, quantity: i64) -> Shipment {
    let id = order["order_id"].as_str().unwrap();
    let item = order["items"][0]["order_item_id"].as_str().unwrap();
    Shipment {
        package_reference_id: pref.map(str::to_string),
        shipping_method: Some("Ground".into()),
        ..package(id, item, quantity)
    }
}

/// Runs shipment cycles until no package waits (bounded).
fn send_all(engine: &Engine) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let _ = engine.sync_now(8, SYNC);
        let pending: serde_json::Value =
            serde_json::from_str(&engine.shipments(None).unwrap()).unwrap();
        let waiting = pending["shipments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["state"] != "FAILED")
            .count();
        if waiting == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{waiting} packages still waiting"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn five_hundred_packages_in_random_deadline_order_arrive_exactly_once_through_faults() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 100, 100);
    // Orders placed over two days, so their LatestShipDates differ (visible to searches at
    // once: Amazon's search lag is the subject of tests/search_lag.rs).
    for age in (0..10).map(|i| 600 + i * 17_000) {
        emu.control()
            .place_orders(&OrderSeed {
                count: Some(50),
                age_seconds: age,
                search_lag_seconds: Some(0.0),
                ..Default::default()
            })
            .unwrap();
    }
    let dir = tempdir();
    let engine = open(&emu, &dir, r#","orders": {"initial_lookback_hours": 72}"#);
    engine.sync_now(1, SYNC).unwrap();
    let mut orders = drain(&engine);
    assert_eq!(orders.len(), 500);
    orders.shuffle(&mut rand::rngs::StdRng::seed_from_u64(5));
    for o in &orders {
        let q = o["items"][0]["quantity"].as_i64().unwrap();
        engine.shipment_confirm(&shipment(o, None, q)).unwrap();
    }
    let c = emu.control();
    for (kind, count) in [
        (FaultKind::Drop, 5),
        (FaultKind::Truncate, 3),
        (FaultKind::Malformed, 3),
        (FaultKind::Status { status: 500 }, 3),
        (FaultKind::Status { status: 503 }, 3),
        (FaultKind::Status { status: 429 }, 3),
        (FaultKind::ExpiredToken, 2),
        (FaultKind::Delay { ms: 30 }, 2),
    ] {
        c.inject(Fault {
            operation: "confirmShipment".into(),
            count,
            kind,
        });
    }
    c.inject(Fault {
        operation: "getOrder2026".into(),
        count: 2,
        kind: FaultKind::Status { status: 503 },
    });
    send_all(&engine);
    let state = c.state();
    let ships = state["shipments"].as_array().unwrap();
    assert_eq!(ships.len(), 500);
    assert!(
        ships.iter().all(|s| s["confirmations"] == 1),
        "a package was confirmed twice"
    );
    assert!(ships.iter().all(|s| s["late"] == false));
    let evs = events(&engine);
    let confirmed: Vec<_> = evs
        .iter()
        .filter(|e| e["type"] == "shipment.confirmed")
        .collect();
    assert_eq!(confirmed.len(), 500);
    let verified = confirmed
        .iter()
        .filter(|e| e["verified_by_reading_back"] == true)
        .count();
    // The 5 dropped connections lost answers after Amazon had acted: read back, not resent.
    // The 500s and 503s came before Amazon acted: read back, then sent again. (A 204 has no
    // body to truncate or garble.)
    assert_eq!(verified, 5);
    assert!(
        c.count("getOrder2026", 200) >= 11,
        "every unknown outcome was read back"
    );
    // The first packages to reach Amazon were those with the closest deadline.
    let mut by_arrival: Vec<&serde_json::Value> = ships.iter().collect();
    by_arrival.sort_by(|a, b| {
        a["first_arrival"]
            .as_str()
            .cmp(&b["first_arrival"].as_str())
    });
    let deadline_of = |s: &serde_json::Value| {
        c.order(s["order_id"].as_str().unwrap())
            .unwrap()
            .latest_ship
    };
    let first: Vec<_> = by_arrival[..40].iter().map(|s| deadline_of(s)).collect();
    let last: Vec<_> = by_arrival[460..].iter().map(|s| deadline_of(s)).collect();
    assert!(
        first.iter().max() < last.iter().min(),
        "closest deadlines first"
    );
    assert_eq!(c.state()["orders"]["by_status"]["Shipped"], 500);
}

#[test]
fn shipments_are_checked_against_the_order_before_they_are_accepted() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 3, 50);
    emu.control()
        .place_orders(&OrderSeed {
            lines: vec![("SKU-0000".into(), 3)],
            age_seconds: 600,
            ..Default::default()
        })
        .unwrap();
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine.sync_now(1, SYNC).unwrap();
    let o = drain(&engine).remove(0);
    use sellsync::Error::{Conflict, InvalidArgument, NotFound};
    // Partial shipments: 1 + 2 of 3.
    assert_eq!(
        engine.shipment_confirm(&shipment(&o, None, 1)).unwrap(),
        "1"
    );
    assert!(
        matches!(engine.shipment_confirm(&shipment(&o, None, 3)), Err(InvalidArgument(m)) if m.contains("cannot be shipped"))
    );
    assert_eq!(
        engine.shipment_confirm(&shipment(&o, None, 2)).unwrap(),
        "2"
    );
    assert!(
        matches!(
            engine.shipment_confirm(&shipment(&o, None, 1)),
            Err(InvalidArgument(_))
        ),
        "nothing left to ship"
    );
    // The same package again is fine; other content under its reference is not.
    assert_eq!(
        engine
            .shipment_confirm(&shipment(&o, Some("1"), 1))
            .unwrap(),
        "1"
    );
    let mut other = shipment(&o, Some("1"), 1);
    other.tracking_number = "DIFFERENT".into();
    assert!(matches!(engine.shipment_confirm(&other), Err(Conflict(_))));
    let mut unknown = shipment(&o, None, 1);
    unknown.order_id = "111-0000000-0000000".into();
    assert!(matches!(
        engine.shipment_confirm(&unknown),
        Err(NotFound(_))
    ));
    let mut wrong_item = shipment(&o, Some("9"), 1);
    wrong_item.items[0].order_item_id = "999".into();
    assert!(matches!(
        engine.shipment_confirm(&wrong_item),
        Err(InvalidArgument(_))
    ));
    for bad in [
        Shipment {
            tracking_number: " ".into(),
            ..shipment(&o, Some("9"), 1)
        },
        Shipment {
            carrier_code: "Other".into(),
            ..shipment(&o, Some("9"), 1)
        },
        Shipment {
            package_reference_id: Some("0x1".into()),
            ..shipment(&o, None, 1)
        },
        Shipment {
            ship_date: Some("yesterday".into()),
            ..shipment(&o, Some("9"), 1)
        },
    ] {
        assert!(
            matches!(engine.shipment_confirm(&bad), Err(InvalidArgument(_))),
            "{bad:?}"
        );
    }
    send_all(&engine);
    let ships = emu.control().state()["shipments"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(ships.len(), 2);
    assert!(ships.iter().all(|s| s["confirmations"] == 1));
    let view: serde_json::Value = serde_json::from_str(
        &engine
            .shipments(Some(o["order_id"].as_str().unwrap()))
            .unwrap(),
    )
    .unwrap();
    assert!(view["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["state"] == "SENT" && s["sent_at"].is_string()));
}

#[test]
fn a_confirmation_amazon_refuses_is_reported_and_not_sent_again() {
    let (emu, _dir, engine, ids, orders) = shop_with_orders(2);
    for o in &orders {
        engine.shipment_confirm(&shipment(o, None, 1)).unwrap();
    }
    // Amazon cancels one order before the confirmation goes out.
    assert!(emu
        .control()
        .cancel(&ids[0], CanceledBy::Amazon, "fraud check"));
    send_all(&engine);
    let calls = emu.control().count("confirmShipment", 400);
    send_all(&engine);
    assert_eq!(
        emu.control().count("confirmShipment", 400),
        calls,
        "not sent again"
    );
    let failed: Vec<_> = events(&engine)
        .into_iter()
        .filter(|e| e["type"] == "shipment.failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["order_id"], ids[0].as_str());
    let view: serde_json::Value = serde_json::from_str(&engine.shipments(None).unwrap()).unwrap();
    assert_eq!(view["shipments"][0]["state"], "FAILED");
    assert!(view["shipments"][0]["last_error"]
        .as_str()
        .unwrap()
        .contains("InvalidInput"));
}

#[test]
fn carriers_reach_amazon_as_its_codes_and_an_unknown_one_without_a_name_is_refused() {
    // What hosts pass, what Amazon's record of the package must show.
    let cases = [
        ("ups", "UPS", None),
        ("Royal Mail", "Royal Mail", None),
        ("DHL Express", "DHL Express", None),
        ("fedex", "FedEx", None),
        ("usps", "USPS", None),
        ("deutsche post", "Deutsche Post", None),
        ("Yamato", "YamatoTransport", None),
        ("Kurier Meier", "Other", Some("Kurier Meier")),
    ];
    let (emu, _dir, engine, _ids, orders) = shop_with_orders(cases.len());
    let unknown = Shipment {
        carrier_code: "Kurier Meier".into(),
        ..shipment(&orders[0], None, 1)
    };
    match engine.shipment_confirm(&unknown) {
        Err(e @ sellsync::Error::InvalidArgument(_)) => {
            assert_eq!(sellsync::status_name(&e), "INVALID_ARGUMENT");
            let m = e.to_string();
            assert!(
                m.contains("\"Kurier Meier\"") && m.contains("carrier_name"),
                "{m}"
            );
        }
        other => panic!("an unknown carrier without a name was not refused: {other:?}"),
    }
    for (o, (given, _, name)) in orders.iter().zip(cases) {
        let s = Shipment {
            carrier_code: given.into(),
            carrier_name: name.map(str::to_string),
            ..shipment(o, None, 1)
        };
        engine.shipment_confirm(&s).unwrap();
        // The same package again, spelled as Amazon does, is the same package.
        let code = sellsync::carriers::amazon_code(given).unwrap_or(given);
        let again = Shipment {
            carrier_code: code.into(),
            package_reference_id: Some("1".into()),
            ..s
        };
        assert_eq!(engine.shipment_confirm(&again).unwrap(), "1");
    }
    send_all(&engine);
    assert!(!events(&engine)
        .iter()
        .any(|e| e["type"] == "shipment.failed"));
    let state = emu.control().state();
    for (o, (given, code, name)) in orders.iter().zip(cases) {
        let ship = state["shipments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["order_id"] == o["order_id"])
            .unwrap_or_else(|| panic!("{given}: no package at Amazon"));
        assert_eq!(ship["carrier_code"], code, "{given}");
        assert_eq!(ship["carrier_name"].as_str(), name, "{given}");
        // Sent as a string: Amazon refuses a JSON number.
        assert_eq!(ship["package_reference_id"], "1");
        assert_eq!(ship["confirmations"], 1);
    }
    // Every code a name maps to is one Amazon takes.
    for code in sellsync::carriers::codes() {
        assert!(sellsync_emulator::carriers::is_known(code), "{code}");
    }
}

#[test]
fn an_already_fulfilled_answer_to_a_resend_is_success_once_amazons_order_shows_it_shipped() {
    let (emu, _dir, engine, _ids, orders) = shop_with_orders(1);
    let id = orders[0]["order_id"].as_str().unwrap().to_string();
    let q = orders[0]["items"][0]["quantity"].as_i64().unwrap();
    engine
        .shipment_confirm(&shipment(&orders[0], None, q))
        .unwrap();
    let c = emu.control();
    // The first call arrives but its answer is lost; the order read next lags behind, so the
    // package is sent again, and Amazon refuses that resend as already fulfilled.
    for (operation, kind) in [
        ("confirmShipment", FaultKind::Drop),
        ("getOrder2026", FaultKind::StalePage),
        ("confirmShipment", FaultKind::AlreadyFulfilled),
    ] {
        c.inject(Fault {
            operation: operation.into(),
            count: 1,
            kind,
        });
    }
    send_all(&engine);
    assert_eq!(c.count("confirmShipment", 400), 1, "the resend was refused");
    let evs = events(&engine);
    assert!(
        !evs.iter().any(|e| e["type"] == "shipment.failed"),
        "{evs:?}"
    );
    let confirmed: Vec<_> = evs
        .iter()
        .filter(|e| e["type"] == "shipment.confirmed")
        .collect();
    assert_eq!(confirmed.len(), 1);
    assert_eq!(confirmed[0]["verified_by_reading_back"], true);
    let view: serde_json::Value =
        serde_json::from_str(&engine.shipments(Some(&id)).unwrap()).unwrap();
    assert_eq!(view["shipments"][0]["state"], "SENT");
    let ships = c.state()["shipments"].as_array().unwrap().clone();
    assert_eq!(ships.len(), 1, "no second package");
    assert_eq!(ships[0]["confirmations"], 1);
}

#[test]
fn orders_close_to_their_ship_by_date_are_announced_once() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 3, 50);
    let place = |age_hours: i64| {
        emu.control()
            .place_orders(&OrderSeed {
                count: Some(1),
                age_seconds: age_hours * 3600,
                ..Default::default()
            })
            .unwrap()[0]
            .clone()
    };
    // LatestShipDate is 48 hours after the order: due in 18 hours, overdue by 2, and far off.
    let (soon, late, fine) = (place(30), place(50), place(1));
    let dir = tempdir();
    let engine = open(&emu, &dir, r#","orders": {"initial_lookback_hours": 72}"#);
    let mut due = Vec::new();
    for _ in 0..3 {
        engine.sync_now(1, SYNC).unwrap();
        due.extend(
            events(&engine)
                .into_iter()
                .filter(|e| e["type"] == "order.due_soon"),
        );
    }
    let got: Vec<(String, bool)> = due
        .iter()
        .map(|e| {
            (
                e["order_id"].as_str().unwrap().to_string(),
                e["overdue"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.contains(&(soon.clone(), false)) && got.contains(&(late.clone(), true)));
    assert!(!got.iter().any(|(id, _)| *id == fine));
    // Once shipped, an order is no longer due and its reminder is forgotten.
    assert!(engine
        .core()
        .store
        .watermark(&format!("alert.due.{soon}"))
        .unwrap()
        .is_some());
    let doc: serde_json::Value = serde_json::from_str(
        &engine
            .core()
            .store
            .order(&soon)
            .unwrap()
            .map(|o| serde_json::to_string(&o).unwrap())
            .unwrap(),
    )
    .unwrap();
    engine
        .shipment_confirm(&shipment(
            &doc,
            None,
            doc["items"][0]["quantity"].as_i64().unwrap(),
        ))
        .unwrap();
    engine.sync_now(1 | 8, SYNC).unwrap();
    assert!(engine
        .core()
        .store
        .watermark(&format!("alert.due.{soon}"))
        .unwrap()
        .is_none());
    assert!(engine
        .core()
        .store
        .watermark(&format!("alert.due.{late}"))
        .unwrap()
        .is_some());
}

#[test]
fn a_confirmation_answered_after_the_timeout_reaches_amazon_exactly_once() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 3, 50);
    let placed = place_orders(&emu, 1, false, None);
    let dir = tempdir();
    let store = dir.path().join("store.sqlite");
    let mut v: serde_json::Value = serde_json::from_str(&config_json(&emu, &store, "")).unwrap();
    v["http"]["timeout_ms"] = 400.into();
    let engine = Engine::open(sellsync::Config::from_json(&v.to_string()).unwrap()).unwrap();
    engine.sync_now(1, SYNC).unwrap();
    let docs = drain(&engine);
    assert_eq!(docs.len(), 1);
    let id = placed[0].as_str();
    // Amazon applies the confirmation, then answers only after the library gave up waiting.
    emu.control().inject(Fault {
        operation: "confirmShipment".into(),
        count: 1,
        kind: FaultKind::LateAnswer { ms: 2_000 },
    });
    engine
        .shipment_confirm(&shipment(&docs[0], None, 1))
        .unwrap();
    send_all(&engine);
    let ships = emu.control().state()["shipments"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(ships.len(), 1, "{ships:?}");
    assert_eq!(ships[0]["order_id"], id);
    assert_eq!(
        ships[0]["confirmations"], 1,
        "the package was confirmed once, not sent again after the timeout"
    );
    let view: serde_json::Value =
        serde_json::from_str(&engine.shipments(Some(id)).unwrap()).unwrap();
    assert_eq!(view["shipments"][0]["state"], "SENT", "{view}");
    let confirmed: Vec<_> = events(&engine)
        .into_iter()
        .filter(|e| e["type"] == "shipment.confirmed")
        .collect();
    assert_eq!(confirmed.len(), 1, "{confirmed:?}");
    assert_eq!(
        confirmed[0]["verified_by_reading_back"], true,
        "the outcome was read back from Amazon"
    );
}
