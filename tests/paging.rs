//! Page tokens against the emulator: its tokens are base64 holding `+`, `/` and `=`, which
//! the library must percent-encode; an Orders v2026-01-01 token that expired in the middle of
//! a search makes the library read the window again, losing and duplicating nothing.

mod common;

use common::*;
use sellsync_emulator::{Fault, FaultKind};
use std::collections::HashSet;
use std::time::Duration;

/// The order ids of `docs`, each exactly once, are `placed`.
fn assert_each_once(docs: &[serde_json::Value], placed: &[String]) {
    let got: Vec<&str> = docs
        .iter()
        .map(|d| d["order_id"].as_str().unwrap())
        .collect();
    let unique: HashSet<&str> = got.iter().copied().collect();
    assert_eq!(unique.len(), got.len(), "an order was handed out twice");
    assert_eq!(unique, placed.iter().map(String::as_str).collect());
}

#[test]
fn orders_over_pages_whose_tokens_hold_plus_slash_and_equals_arrive_exactly_once() {
    for (api, page_op) in [("2026-01-01", "searchOrders"), ("v0", "getOrders")] {
        let emu = emulator(1000.0);
        seed_listings(&emu, 50, 20);
        let placed = place_orders(&emu, 450, false, None);
        let dir = tempdir();
        let engine = open(&emu, &dir, &format!(r#","orders_api": "{api}""#));
        let report = engine.sync_now(1, SYNC).unwrap();
        assert_eq!(report.orders.pages, 5, "{api}");
        assert_eq!(emu.control().count(page_op, 200), 5, "{api}");
        assert_eq!(
            emu.control().count(page_op, 400),
            0,
            "{api}: a token was refused"
        );
        assert_each_once(&drain(&engine), &placed);
    }
}

#[test]
fn a_token_that_expires_mid_search_restarts_the_window_without_a_gap() {
    let emu = std::sync::Arc::new(emulator(1000.0));
    seed_listings(&emu, 50, 20);
    let placed = place_orders(&emu, 350, false, None);
    let dir = tempdir();
    let engine = std::sync::Arc::new(open(&emu, &dir, ""));
    // The first page is answered late; meanwhile a day passes, and its token expires.
    emu.control().inject(Fault {
        operation: "searchOrders".into(),
        count: 1,
        kind: FaultKind::LateAnswer { ms: 1500 },
    });
    let sync = {
        let engine = engine.clone();
        std::thread::spawn(move || engine.sync_now(1, SYNC))
    };
    wait_until("the first page", Duration::from_secs(10), || {
        emu.control().count("searchOrders", 200) == 1
    });
    emu.control().advance(chrono::Duration::hours(25));
    let report = sync
        .join()
        .unwrap()
        .expect("the search restarts and completes");
    assert_eq!(
        emu.control().count("searchOrders", 400),
        1,
        "one refused token"
    );
    assert_eq!(report.orders.new, 350);
    assert_each_once(&drain(&engine), &placed);
}
