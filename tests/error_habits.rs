//! Errors Amazon really sends, against the emulator: a 503 whose body is an HTML page
//! (selling-partner-api-models #4667) is retried and described in plain words, never quoted;
//! a 429 without `x-amzn-RateLimit-Limit` (selling-partner-api-docs #592, #86) is backed off
//! from all the same.

mod common;

use common::*;
use sellsync_emulator::{Fault, FaultKind};
use std::time::{Duration, Instant};

fn inject(emu: &sellsync_emulator::Emulator, operation: &str, count: u32, kind: FaultKind) {
    emu.control().inject(Fault {
        operation: operation.into(),
        count,
        kind,
    });
}

/// The message of an event or error says "an HTML page" and carries nothing of it.
fn assert_described(text: &str) {
    assert!(text.contains("an HTML page"), "{text}");
    assert!(
        !text.contains('<') && !text.contains("Service Unavailable"),
        "HTML in {text}"
    );
}

#[test]
fn a_503_with_an_html_page_is_retried_and_described_without_its_html() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 5, 20);
    let placed = place_orders(&emu, 3, false, None);
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    inject(&emu, "searchOrders", 2, FaultKind::HtmlUnavailable);
    engine
        .sync_now(1, SYNC)
        .expect("retried after the HTML 503s");
    assert_eq!(drain(&engine).len(), placed.len());
    let evs = events(&engine);
    let retrying = evs
        .iter()
        .find(|e| e["type"] == "sync.retrying" && e["operation"] == "searchOrders")
        .unwrap_or_else(|| panic!("a sync.retrying event: {evs:?}"));
    assert_eq!(retrying["http_status"], 503);
    assert_eq!(retrying["fault"], "server_error");
    assert_eq!(retrying["count"], 2);
    assert_described(retrying["message"].as_str().unwrap());

    // Every attempt an HTML page: the run fails with a clear error, and is tried again.
    inject(&emu, "searchOrders", 8, FaultKind::HtmlUnavailable);
    let e = engine.sync_now(1, SYNC).unwrap_err();
    assert_described(&e.to_string());
    for e in events(&engine) {
        if e["type"] == "sync.failed" || e["type"] == "sync.retrying" {
            assert_described(e["message"].as_str().unwrap());
        }
    }
    engine.sync_now(1, SYNC).expect("Amazon answers again");
}

#[test]
fn a_429_without_the_rate_limit_header_is_backed_off_from() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 5, 20);
    let dir = tempdir();
    let store = dir.path().join("store.sqlite");
    let config = config_json(&emu, &store, "").replace(
        r#""backoff_initial_ms": 5, "backoff_max_ms": 50"#,
        r#""backoff_initial_ms": 300, "backoff_max_ms": 600"#,
    );
    let engine = sellsync::Engine::open(sellsync::Config::from_json(&config).unwrap()).unwrap();
    // A first run learns searchOrders' rate from the header of its answers.
    engine.sync_now(1, SYNC).unwrap();
    events(&engine);
    inject(&emu, "searchOrders", 3, FaultKind::Status { status: 429 });
    let started = Instant::now();
    engine.sync_now(1, SYNC).expect("retried after the 429s");
    let took = started.elapsed();
    // Three backoffs of at least 300 ms each.
    assert!(took >= Duration::from_millis(900), "no backoff: {took:?}");
    assert_eq!(emu.control().count("searchOrders", 429), 3);
    let evs = events(&engine);
    let throttled = evs
        .iter()
        .find(|e| e["type"] == "sync.retrying" && e["fault"] == "throttled")
        .unwrap_or_else(|| panic!("a sync.retrying event: {evs:?}"));
    assert_eq!(throttled["http_status"], 429);
    assert_eq!(throttled["count"], 3);
}
