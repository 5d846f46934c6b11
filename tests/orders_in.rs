//! Orders flow into the host exactly once, through both Orders API versions, across pages,
//! status changes, faults and restarts.

mod common;

use common::*;
use sellsync_emulator::{CanceledBy, Fault, FaultKind, OrderSeed};
use std::collections::HashSet;

fn ids(docs: &[serde_json::Value]) -> Vec<String> {
    docs.iter()
        .map(|d| d["order_id"].as_str().unwrap().to_string())
        .collect()
}

fn assert_exactly(docs: &[serde_json::Value], expected: &[String]) {
    let got = ids(docs);
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "an order was handed out twice");
    let want: HashSet<&String> = expected.iter().collect();
    assert_eq!(unique, want);
}

fn thousand_orders_over_pages(api: &str) {
    let emu = emulator(1000.0);
    seed_listings(&emu, 200, 20);
    let placed = place_orders(&emu, 1000, false, None);
    assert_eq!(placed.len(), 1000);
    let dir = tempdir();
    let engine = open(&emu, &dir, &format!(r#","orders_api": "{api}""#));
    let report = engine.sync_now(1, SYNC).unwrap();
    assert_eq!(report.orders.new, 1000);
    assert!(
        report.orders.pages >= 10,
        "1000 orders need at least 10 pages of 100, got {}",
        report.orders.pages
    );
    let docs = drain(&engine);
    assert_exactly(&docs, &placed);
    // Every document carries what the host needs to fulfil the order.
    for d in &docs {
        assert_eq!(d["status"], "UNSHIPPED");
        assert_eq!(d["fulfilled_by"], "MERCHANT");
        assert!(d["latest_ship_date"].is_string());
        assert!(d["recipient"]["postal_code"].is_string(), "{d}");
        let item = &d["items"][0];
        assert!(item["sku"].as_str().unwrap().starts_with("SKU-"));
        assert!(item["quantity"].as_i64().unwrap() >= 1);
        assert!(item["unit_price"].is_string());
    }
    // A second cycle sees the same orders again (overlap) but hands nothing out twice.
    let again = engine.sync_now(1, SYNC).unwrap();
    assert_eq!(again.orders.new, 0);
    assert!(engine.order_next().unwrap().is_none());
    assert_eq!(
        emu.control().count(
            if api == "v0" {
                "getOrders"
            } else {
                "searchOrders"
            },
            429
        ),
        0
    );
}

#[test]
fn a_thousand_orders_over_many_pages_arrive_exactly_once_with_orders_2026() {
    thousand_orders_over_pages("2026-01-01");
}

#[test]
fn a_thousand_orders_over_many_pages_arrive_exactly_once_with_orders_v0() {
    thousand_orders_over_pages("v0");
}

#[test]
fn pending_orders_wait_and_status_changes_after_hand_over_arrive_as_events() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 10, 50);
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    // A pending order (payment not authorised) is stored but not handed out.
    let pending = emu
        .control()
        .place_orders(&sellsync_emulator::OrderSeed {
            count: Some(1),
            pending: true,
            age_seconds: 150,
            ..Default::default()
        })
        .unwrap();
    let paid = place_orders(&emu, 3, false, None);
    engine.sync_now(1, SYNC).unwrap();
    let first = drain(&engine);
    assert_exactly(&first, &paid);
    // Payment is authorised a minute later; the order is then handed out.
    emu.control().advance(chrono::Duration::minutes(5));
    engine.sync_now(1, SYNC).unwrap();
    engine.sync_now(1, SYNC).unwrap();
    let second = drain(&engine);
    assert_exactly(&second, &pending);
    let _ = events(&engine);
    // After hand-over: the buyer asks to cancel one; Amazon cancels another.
    assert!(emu
        .control()
        .buyer_cancel_request(&paid[0], "Ordered by mistake"));
    assert!(emu
        .control()
        .cancel(&paid[1], CanceledBy::Amazon, "Payment failed"));
    emu.control().advance(chrono::Duration::minutes(5));
    engine.sync_now(1, SYNC).unwrap();
    engine.sync_now(1, SYNC).unwrap();
    let evs = events(&engine);
    let requested: Vec<_> = evs
        .iter()
        .filter(|e| e["type"] == "order.buyer_cancel_requested")
        .collect();
    assert_eq!(requested.len(), 1, "{evs:?}");
    assert_eq!(requested[0]["order_id"], paid[0].as_str());
    assert_eq!(requested[0]["acknowledged"], true);
    assert_eq!(
        requested[0]["host_ref"],
        format!("HOST-{}", paid[0]).as_str()
    );
    let changed: Vec<_> = evs
        .iter()
        .filter(|e| e["type"] == "order.status_changed")
        .collect();
    assert_eq!(changed.len(), 1, "{evs:?}");
    assert_eq!(changed[0]["order_id"], paid[1].as_str());
    assert_eq!(changed[0]["new_status"], "CANCELLED");
    assert_eq!(changed[0]["old_status"], "UNSHIPPED");
    // Events are delivered once.
    assert!(events(&engine)
        .iter()
        .all(|e| e["type"] == "sync.completed"));
    assert!(engine.order_next().unwrap().is_none());
}

#[test]
fn an_order_cancelled_before_hand_over_is_never_handed_out() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 5, 50);
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    let pending = emu
        .control()
        .place_orders(&sellsync_emulator::OrderSeed {
            count: Some(2),
            pending: true,
            age_seconds: 150,
            ..Default::default()
        })
        .unwrap();
    engine.sync_now(1, SYNC).unwrap();
    assert!(
        engine.order_next().unwrap().is_none(),
        "pending orders are not handed out"
    );
    assert!(emu
        .control()
        .cancel(&pending[0], CanceledBy::Buyer, "changed mind"));
    emu.control().advance(chrono::Duration::minutes(5));
    engine.sync_now(1, SYNC).unwrap();
    engine.sync_now(1, SYNC).unwrap();
    let docs = drain(&engine);
    assert_exactly(&docs, &pending[1..]);
}

#[test]
fn fba_and_merchant_orders_from_two_marketplaces_are_told_apart() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 10, 50);
    emu.control()
        .seed_listings(
            None,
            &[sellsync_emulator::ListingSeed::new("FBA-1", 100, true)],
        )
        .unwrap();
    let us_mfn = place_orders(&emu, 5, false, Some("ATVPDKIKX0DER"));
    let ca_mfn = place_orders(&emu, 4, false, Some("A2EUQ1WTGCTBG2"));
    let us_fba = place_orders(&emu, 3, true, Some("ATVPDKIKX0DER"));
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine.sync_now(1, SYNC).unwrap();
    let docs = drain(&engine);
    let all: Vec<String> = us_mfn
        .iter()
        .chain(&ca_mfn)
        .chain(&us_fba)
        .cloned()
        .collect();
    assert_exactly(&docs, &all);
    for d in &docs {
        let id = d["order_id"].as_str().unwrap().to_string();
        if us_fba.contains(&id) {
            assert_eq!(d["fulfilled_by"], "AMAZON");
            assert!(d["recipient"].is_null(), "no address for FBA orders");
        } else {
            assert_eq!(d["fulfilled_by"], "MERCHANT");
        }
        let mp = if ca_mfn.contains(&id) {
            "A2EUQ1WTGCTBG2"
        } else {
            "ATVPDKIKX0DER"
        };
        assert_eq!(d["marketplace_id"], mp);
    }
}

fn faults_lose_and_duplicate_nothing(api: &str, page_op: &str) {
    let emu = emulator(1000.0);
    seed_listings(&emu, 50, 20);
    let dir = tempdir();
    // The overlap reaches back past the orders' age, so the second cycle sees them.
    let engine = open(
        &emu,
        &dir,
        &format!(r#","orders_api": "{api}", "orders": {{"overlap_seconds": 900}}"#),
    );
    // A first cycle learns the usage plans from Amazon's headers and gets a token, as a
    // running installation has; a 429 before that would (rightly) wait Amazon's full period.
    engine.sync_now(1, SYNC).unwrap();
    let placed = place_orders(&emu, 350, false, None);
    let kinds = [
        FaultKind::Status { status: 429 },
        FaultKind::Status { status: 500 },
        FaultKind::Status { status: 503 },
        FaultKind::Drop,
        FaultKind::Truncate,
        FaultKind::Malformed,
        FaultKind::ExpiredToken,
        FaultKind::Delay { ms: 50 },
    ];
    for kind in kinds {
        emu.control().inject(Fault {
            operation: page_op.into(),
            count: 1,
            kind,
        });
    }
    if api == "v0" {
        emu.control().inject(Fault {
            operation: "getOrderItems".into(),
            count: 3,
            kind: FaultKind::Status { status: 503 },
        });
        // getOrders carries the Restricted Data Token; getOrderItems the LWA token.
        emu.control().inject(Fault {
            operation: "getOrderItems".into(),
            count: 1,
            kind: FaultKind::ExpiredToken,
        });
    }
    emu.control().inject(Fault {
        operation: "lwaToken".into(),
        count: 2,
        kind: FaultKind::Status { status: 500 },
    });
    engine.sync_now(1, SYNC).unwrap();
    let docs = drain(&engine);
    assert_exactly(&docs, &placed);
    // Every fault was consumed: the client really went through them.
    assert!(emu.control().count(page_op, 429) >= 1);
    assert!(emu.control().count(page_op, 503) >= 1);
    assert!(emu.control().count(page_op, 403) >= 1, "expired token seen");
    assert!(
        emu.control().count("lwaToken", 500) == 2,
        "LWA outage seen and survived"
    );
}

#[test]
fn injected_faults_lose_and_duplicate_nothing_with_orders_2026() {
    faults_lose_and_duplicate_nothing("2026-01-01", "searchOrders");
}

#[test]
fn injected_faults_lose_and_duplicate_nothing_with_orders_v0() {
    faults_lose_and_duplicate_nothing("v0", "getOrders");
}

#[test]
fn unacknowledged_orders_come_back_after_a_restart_and_acknowledged_ones_never_do() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 10, 50);
    let placed = place_orders(&emu, 6, false, None);
    let dir = tempdir();
    // Takes all six and acknowledges only two; then it stops answering its host (a host that
    // hung or crashed: the handle is never closed while the next one runs).
    let crashed = {
        let engine = open(&emu, &dir, "");
        engine.sync_now(1, SYNC).unwrap();
        let mut taken = Vec::new();
        while let Some(doc) = engine.order_next().unwrap() {
            taken.push(serde_json::from_str::<serde_json::Value>(&doc).unwrap());
        }
        assert_eq!(taken.len(), 6);
        for d in &taken[..2] {
            engine
                .order_ack(d["order_id"].as_str().unwrap(), "POS-1")
                .unwrap();
        }
        engine
    };
    let engine = open(&emu, &dir, "");
    let again = drain(&engine);
    assert_eq!(again.len(), 4);
    let acked_first: HashSet<String> = placed
        .iter()
        .cloned()
        .collect::<HashSet<_>>()
        .difference(&ids(&again).into_iter().collect())
        .cloned()
        .collect();
    assert_eq!(acked_first.len(), 2);
    drop(engine);
    // Closed, the first lets the store's lock go: the next handle runs the sync.
    drop(crashed);
    let engine = open(&emu, &dir, "");
    engine.sync_now(1, SYNC).unwrap();
    assert!(
        engine.order_next().unwrap().is_none(),
        "acknowledged orders never come back"
    );
}

#[test]
fn acknowledgements_are_idempotent_and_conflicts_are_refused() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 3, 50);
    let placed = place_orders(&emu, 1, false, None);
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine.sync_now(1, SYNC).unwrap();
    assert!(engine.order_next().unwrap().is_some());
    engine.order_ack(&placed[0], "R-1").unwrap();
    engine.order_ack(&placed[0], "R-1").unwrap();
    assert!(matches!(
        engine.order_ack(&placed[0], "R-2"),
        Err(sellsync::Error::Conflict(_))
    ));
    assert!(matches!(
        engine.order_ack("111-1111111-1111111", "R-3"),
        Err(sellsync::Error::NotFound(_))
    ));
}

#[test]
fn orders_placed_in_the_last_two_minutes_wait_for_amazons_window() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 3, 50);
    let fresh = emu
        .control()
        .place_orders(&sellsync_emulator::OrderSeed {
            count: Some(2),
            ..Default::default()
        })
        .unwrap();
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine.sync_now(1, SYNC).unwrap();
    assert!(
        engine.order_next().unwrap().is_none(),
        "Amazon does not return orders younger than 2 minutes"
    );
    assert_eq!(
        emu.control().count("searchOrders", 400),
        0,
        "the library never asks for a window Amazon refuses"
    );
    see_orders(&emu, &engine);
    assert_exactly(&drain(&engine), &fresh);
}

#[test]
fn a_steady_state_run_with_buyers_receives_no_429() {
    // Rates 200x Amazon's: searchOrders allows ~1.1 calls per second after its burst of 20.
    let emu = emulator(200.0);
    seed_listings(&emu, 100, 1000);
    place_orders(&emu, 500, false, None);
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    emu.control()
        .start_buyers(sellsync_emulator::buyers::BuyersConfig {
            seller_id: None,
            marketplace_ids: vec![],
            orders_per_hour: 20_000.0,
            cancel_request_share: 0.05,
            max_units: 2,
            max_lines: 1,
            return_share: 0.0,
            defect_share: 0.0,
        });
    let mut cycles = 0;
    while cycles < 40 {
        engine.sync_now(1, SYNC).unwrap();
        cycles += 1;
    }
    emu.control().stop_buyers();
    let searches: u64 = emu.control().count("searchOrders", 200);
    assert!(
        searches > 20,
        "the run went past the burst ({searches} searches)"
    );
    assert_eq!(emu.control().count("searchOrders", 429), 0);
    assert!(drain(&engine).len() >= 500);
}

#[test]
fn wrong_credentials_fail_with_an_auth_error_that_names_no_secret() {
    let emu = emulator(1000.0);
    let dir = tempdir();
    let store = dir.path().join("s.sqlite");
    let text =
        config_json(&emu, &store, "").replace("emulator-client-secret", "wrong-secret-value");
    let engine = sellsync::Engine::open(sellsync::Config::from_json(&text).unwrap()).unwrap();
    let err = engine.sync_now(1, SYNC).unwrap_err();
    assert!(matches!(err, sellsync::Error::Credentials(_)), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("invalid_client"), "{msg}");
    assert!(
        !msg.contains("wrong-secret-value") && !msg.contains("Atzr|"),
        "{msg}"
    );
    let evs = events(&engine);
    assert!(evs
        .iter()
        .any(|e| e["type"] == "auth.revoked"
            && e["message"].as_str().unwrap().contains("client secret")));
    assert!(!serde_json::to_string(&evs)
        .unwrap()
        .contains("wrong-secret-value"));
}

/// A process restarts on a store with a watermark while its clock is an hour behind Amazon's:
/// until Amazon has answered once, its own clock stood in for Amazon's, the window came out
/// empty, no request was made, and so Amazon's time was never learnt and orders stopped.
fn a_restart_behind_amazons_clock(api: &str) {
    let emu = emulator(1000.0);
    seed_listings(&emu, 5, 50);
    let dir = tempdir();
    let extra = format!(r#","orders_api": "{api}""#);
    {
        let engine = open(&emu, &dir, &extra);
        engine.sync_now(1, SYNC).unwrap();
    }
    let placed = emu
        .control()
        .place_orders(&sellsync_emulator::OrderSeed {
            count: Some(2),
            ..Default::default()
        })
        .unwrap();
    // Past Amazon's two-minute rule; the host's clock stays an hour behind Amazon's.
    emu.control().advance(chrono::Duration::minutes(3));
    let clock = std::sync::Arc::new(sellsync::clock::ManualClock::new(
        emu.control().now() - chrono::Duration::hours(1),
    ));
    let store = dir.path().join("store.sqlite");
    let config = sellsync::Config::from_json(&config_json(&emu, &store, &extra)).unwrap();
    let engine = sellsync::Engine::open_with_clock(config, clock).unwrap();
    let mut docs = Vec::new();
    for _ in 0..2 {
        engine.sync_now(1, SYNC).unwrap();
        docs.extend(drain(&engine));
        if !docs.is_empty() {
            break;
        }
    }
    assert_exactly(&docs, &placed);
    let page_op = if api == "v0" {
        "getOrders"
    } else {
        "searchOrders"
    };
    assert_eq!(emu.control().count(page_op, 400), 0, "no window refused");
}

#[test]
fn after_a_restart_with_the_host_clock_an_hour_behind_orders_still_arrive_with_orders_2026() {
    a_restart_behind_amazons_clock("2026-01-01");
}

#[test]
fn after_a_restart_with_the_host_clock_an_hour_behind_orders_still_arrive_with_orders_v0() {
    a_restart_behind_amazons_clock("v0");
}

/// A lagging replica serves each order of a page as it was before its last update: the
/// stored, newer version stays (status and last update), and no event is raised.
fn a_stale_page_rolls_nothing_back(api: &str, page_op: &str) {
    let emu = emulator(1000.0);
    seed_listings(&emu, 5, 50);
    let placed = place_orders(&emu, 3, false, None);
    let dir = tempdir();
    let engine = open(&emu, &dir, &format!(r#","orders_api": "{api}""#));
    engine.sync_now(1, SYNC).unwrap();
    assert_exactly(&drain(&engine), &placed);
    // The buyer cancels one order; the next cycle stores the cancellation.
    assert!(emu
        .control()
        .cancel(&placed[0], CanceledBy::Buyer, "changed mind"));
    emu.control().advance(chrono::Duration::minutes(3));
    // (The first cycle learns that Amazon's clock moved on, the second reads up to it.)
    engine.sync_now(1, SYNC).unwrap();
    engine.sync_now(1, SYNC).unwrap();
    let stored = engine.core().store.order(&placed[0]).unwrap().unwrap();
    assert_eq!(stored.status, sellsync::model::OrderStatus::Cancelled);
    events(&engine);
    // The same window again, served stale (the cancelled order as it was before, unshipped
    // with its older last update), and then newest first.
    for kind in [FaultKind::StalePage, FaultKind::OutOfOrder] {
        emu.control().inject(Fault {
            operation: page_op.into(),
            count: 1,
            kind,
        });
        engine.sync_now(1, SYNC).unwrap();
        let now = engine.core().store.order(&placed[0]).unwrap().unwrap();
        assert_eq!(now.status, stored.status, "rolled back");
        assert_eq!(now.last_updated, stored.last_updated, "rolled back");
        let order_events: Vec<_> = events(&engine)
            .into_iter()
            .filter(|e| e["type"].as_str().unwrap().starts_with("order."))
            .collect();
        assert!(order_events.is_empty(), "{order_events:?}");
    }
    assert!(
        emu.control().count(page_op, 200) >= 4,
        "every cycle read a page"
    );
    assert!(engine.order_next().unwrap().is_none());
}

#[test]
fn a_stale_page_does_not_roll_an_order_back_with_orders_2026() {
    a_stale_page_rolls_nothing_back("2026-01-01", "searchOrders");
}

#[test]
fn a_stale_page_does_not_roll_an_order_back_with_orders_v0() {
    a_stale_page_rolls_nothing_back("v0", "getOrders");
}

#[test]
fn each_consumer_group_gets_every_order_once_and_acknowledges_on_its_own() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 20, 10);
    let placed = place_orders(&emu, 10, false, None);
    let dir = tempdir();
    let till = open(&emu, &dir, "");
    // The warehouse is named before the orders come, the ledger after (it gets those still
    // unshipped then).
    let warehouse = open(&emu, &dir, r#","orders": {"consumer_group": "warehouse"}"#);
    till.sync_now(1, SYNC).unwrap();
    let ledger = open(&emu, &dir, r#","orders": {"consumer_group": "ledger"}"#);
    for handle in [&till, &warehouse, &ledger] {
        let got = drain(handle);
        assert_exactly(&got, &placed);
        assert!(drain(handle).is_empty());
    }
    // Each group got every order although the others had acknowledged them; an
    // acknowledgement is checked within its own group.
    let id = &placed[0];
    assert!(matches!(
        warehouse.order_ack(id, "OTHER"),
        Err(sellsync::Error::Conflict(_))
    ));
    ledger.order_ack(id, &format!("HOST-{id}")).unwrap();
    // Two more orders come; Amazon cancels one before any group took it: no group gets it.
    let more = emu
        .control()
        .place_orders(&OrderSeed {
            count: Some(2),
            ..OrderSeed::default()
        })
        .unwrap();
    // (The library learns Amazon's time from its answers: the second sync searches up to it.)
    see_orders(&emu, &till);
    assert_eq!(
        till.core().store.order_counts().unwrap().waiting_for_host,
        2
    );
    assert!(emu
        .control()
        .cancel(&more[0], CanceledBy::Buyer, "changed mind"));
    see_orders(&emu, &till);
    assert_eq!(
        till.core().store.order_counts().unwrap().waiting_for_host,
        1
    );
    for handle in [&till, &warehouse, &ledger] {
        assert_exactly(&drain(handle), &more[1..]);
    }
}

/// Takes the orders and events of one orders sync with Orders v0 (the emulator shaped by
/// `shape`, a fault injected by `fault`).
fn v0_orders_with(
    shape: impl FnOnce(&mut sellsync_emulator::World),
    fault: Option<Fault>,
) -> (
    Vec<serde_json::Value>,
    Vec<serde_json::Value>,
    sellsync_emulator::Emulator,
) {
    let emu = emulator(1000.0);
    seed_listings(&emu, 5, 50);
    emu.control().with_world(shape);
    let placed = place_orders(&emu, 3, false, None);
    if let Some(f) = fault {
        emu.control().inject(f);
    }
    let dir = tempdir();
    let engine = open(&emu, &dir, r#","orders_api": "v0""#);
    engine.sync_now(1, SYNC).expect("the orders sync succeeds");
    let orders = drain(&engine);
    assert_exactly(&orders, &placed);
    let events = events(&engine);
    (orders, events, emu)
}

#[test]
fn an_expired_restricted_data_token_for_an_address_is_replaced_and_the_address_arrives() {
    // getOrders answers without addresses; the first getOrderAddress finds its token expired.
    let (orders, events, emu) = v0_orders_with(
        |w| w.get_orders_addresses = false,
        Some(Fault {
            operation: "getOrderAddress".into(),
            count: 1,
            kind: FaultKind::ExpiredToken,
        }),
    );
    for o in &orders {
        assert!(o["recipient"].is_object(), "no address: {o}");
    }
    assert!(
        !events.iter().any(|e| e["type"] == "order.address_refused"),
        "{events:?}"
    );
    assert_eq!(emu.control().count("getOrderAddress", 403), 1);
    assert_eq!(emu.control().count("getOrderAddress", 200), 3);
}

#[test]
fn without_the_role_for_addresses_orders_arrive_without_one_and_an_event_says_why() {
    let (orders, events, emu) = v0_orders_with(|w| w.address_role = false, None);
    let refused: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["type"] == "order.address_refused")
        .collect();
    for o in &orders {
        assert!(o["recipient"].is_null(), "an address without the role: {o}");
        let told = refused
            .iter()
            .filter(|e| e["order_id"] == o["order_id"])
            .count();
        assert_eq!(told, 1, "{events:?}");
    }
    assert!(refused[0]["message"]
        .as_str()
        .unwrap()
        .contains("Direct-to-Consumer Shipping role"));
    assert_eq!(emu.control().count("getOrderAddress", 200), 0);
}

#[test]
fn a_sync_that_timed_out_finishes_in_the_background_and_close_stops_one_within_its_bound() {
    use std::time::Instant;
    let emu = emulator(1000.0);
    seed_listings(&emu, 5, 50);
    let placed = place_orders(&emu, 2, false, None);
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    // The search is answered after 2 s: the call times out, the flow goes on.
    emu.control().inject(Fault {
        operation: "searchOrders".into(),
        count: 1,
        kind: FaultKind::Delay { ms: 2_000 },
    });
    let e = engine
        .sync_now(1, std::time::Duration::from_millis(500))
        .unwrap_err();
    assert_eq!(sellsync::status_name(&e), "TIMEOUT", "{e}");
    let mut taken = Vec::new();
    wait_until("the flow's end", std::time::Duration::from_secs(20), || {
        taken.extend(drain(&engine));
        taken.len() >= placed.len()
    });
    assert_exactly(&taken, &placed);
    // A search held for 20 s: close does not wait for it.
    emu.control().inject(Fault {
        operation: "searchOrders".into(),
        count: 1,
        kind: FaultKind::Delay { ms: 20_000 },
    });
    place_orders(&emu, 1, false, None);
    assert!(engine
        .sync_now(1, std::time::Duration::from_millis(500))
        .is_err());
    let closing = Instant::now();
    engine.close().unwrap();
    assert!(
        closing.elapsed() < std::time::Duration::from_secs(7),
        "close took {:?}",
        closing.elapsed()
    );
}
