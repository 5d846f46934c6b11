//! Events are delivered at least once: an event stays until the host acknowledges it, comes
//! again to a new handle (a new process) at once, and to the same handle after the redelivery
//! time; the callback acknowledges each event when it returns, unless it declined it.

mod common;

use common::*;
use sellsync::clock::ManualClock;
use sellsync::model::Event;
use sellsync::Engine;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn seq(doc: &str) -> i64 {
    let v: serde_json::Value = serde_json::from_str(doc).unwrap();
    v["seq"].as_i64().expect("every event has a seq")
}

/// Takes every event waiting without acknowledging any; returns their numbers.
fn take_unacked(engine: &Engine) -> BTreeSet<i64> {
    let mut out = BTreeSet::new();
    while let Some(e) = engine.event_next(Some(Duration::ZERO)).unwrap() {
        assert!(out.insert(seq(&e)), "one handle gets an event once: {e}");
    }
    out
}

fn failed(n: usize) -> Event {
    Event::SyncFailed {
        flow: "orders".into(),
        status: "NETWORK".into(),
        message: format!("test {n}"),
    }
}

#[test]
fn an_event_not_acknowledged_comes_back_to_a_new_handle_and_an_acknowledged_one_never_does() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 3, 10);
    place_orders(&emu, 3, false, None);
    let dir = tempdir();
    let a = open(&emu, &dir, "");
    a.sync_now(1, SYNC).unwrap();
    let taken = take_unacked(&a);
    assert!(taken.len() >= 4, "3 order.ready and a sync.completed");
    drop(a); // the host "crashed" before acknowledging

    let b = open(&emu, &dir, "");
    let again = take_unacked(&b);
    assert_eq!(
        again, taken,
        "every unacknowledged event comes again, at once"
    );
    // Acknowledge all but the first.
    let first = *again.iter().next().unwrap();
    for s in again.iter().skip(1) {
        b.event_ack(*s).unwrap();
        b.event_ack(*s).unwrap(); // twice is fine
    }
    assert!(matches!(
        b.event_ack(i64::MAX),
        Err(sellsync::Error::NotFound(_))
    ));
    assert!(matches!(
        b.event_ack(0),
        Err(sellsync::Error::InvalidArgument(_))
    ));
    drop(b);

    let c = open(&emu, &dir, "");
    let left = events(&c);
    assert_eq!(
        left.iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![first],
        "only the one not acknowledged comes back"
    );
    drop(c);
    let d = open(&emu, &dir, "");
    assert!(events(&d).is_empty(), "acknowledged events never come back");
}

#[test]
fn the_same_handle_gets_an_unacknowledged_event_again_after_the_redelivery_time() {
    let emu = emulator(1000.0);
    let dir = tempdir();
    let store = dir.path().join("store.sqlite");
    let config = sellsync::Config::from_json(&config_json(
        &emu,
        &store,
        r#", "orders": {"redelivery_seconds": 60}"#,
    ))
    .unwrap();
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let engine = Engine::open_with_clock(config, clock.clone()).unwrap();
    engine.core().event(&failed(1)).unwrap();
    engine.core().event(&failed(2)).unwrap();
    let taken = take_unacked(&engine);
    assert_eq!(taken.len(), 2);
    clock.advance(chrono::Duration::seconds(59));
    assert!(engine.event_next(Some(Duration::ZERO)).unwrap().is_none());
    let second = *taken.iter().nth(1).unwrap();
    engine.event_ack(second).unwrap();
    clock.advance(chrono::Duration::seconds(2));
    let again = take_unacked(&engine);
    assert_eq!(
        again,
        BTreeSet::from([*taken.iter().next().unwrap()]),
        "the unacknowledged one comes again, the acknowledged one does not"
    );
}

#[test]
fn the_callback_acknowledges_each_event_when_it_returns_and_not_when_it_panics() {
    let emu = emulator(1000.0);
    let dir = tempdir();
    let a = open(&emu, &dir, "");
    for n in 0..3 {
        a.core().event(&failed(n)).unwrap();
    }
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = got.clone();
    a.set_event_callback(Some(Box::new(move |e: &str| {
        let mut g = sink.lock().unwrap();
        g.push(e.to_string());
        if e.contains("test 1") {
            drop(g);
            panic!("the host failed to act on this event");
        }
    })))
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while got.lock().unwrap().len() < 3 {
        assert!(
            Instant::now() < deadline,
            "the callback got {:?}",
            got.lock()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    a.set_event_callback(None).unwrap();
    drop(a);
    let b = open(&emu, &dir, "");
    let left = events(&b);
    assert_eq!(
        left.len(),
        1,
        "only the event whose callback panicked comes again: {left:?}"
    );
    assert_eq!(left[0]["message"], "test 1");
}

#[test]
fn an_event_the_callback_declines_comes_again_after_the_redelivery_time() {
    let emu = emulator(1000.0);
    let dir = tempdir();
    let a = Arc::new(open(&emu, &dir, r#", "orders": {"redelivery_seconds": 1}"#));
    for n in 0..3 {
        a.core().event(&failed(n)).unwrap();
    }
    assert!(
        matches!(a.event_decline(1), Err(sellsync::Error::InvalidState(_))),
        "declining is for the callback"
    );
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = got.clone();
    let engine = Arc::downgrade(&a);
    a.set_event_callback(Some(Box::new(move |e: &str| {
        let engine = engine.upgrade().expect("the handle outlives its callback");
        let n = seq(e);
        assert!(matches!(
            engine.event_decline(n + 1000),
            Err(sellsync::Error::InvalidArgument(_))
        ));
        let mut g = sink.lock().unwrap();
        // The host cannot act on "test 1" the first time (its ERP is down).
        if e.contains("test 1") && !g.iter().any(|s| s.contains("test 1")) {
            engine.event_decline(n).unwrap();
        }
        g.push(e.to_string());
    })))
    .unwrap();
    wait_until("the declined event again", Duration::from_secs(20), || {
        got.lock().unwrap().len() >= 4
    });
    a.set_event_callback(None).unwrap();
    let got = got.lock().unwrap();
    assert!(got[3].contains("test 1"), "{got:?}");
    assert_eq!(got.iter().filter(|e| e.contains("test 1")).count(), 2);
    drop(a);
    let b = open(&emu, &dir, "");
    assert!(
        events(&b).is_empty(),
        "handled the second time, the declined event is acknowledged"
    );
}
