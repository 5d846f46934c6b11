//! The short crash campaign: a C host killed about 25 times with SIGKILL (in stock calls, during
//! HTTP calls, at random), restarted each time, then drained; every order handed over and
//! acknowledged exactly once, every package confirmed exactly once, Amazon showing every last
//! stock level, the store intact. `scripts/crash-campaign KILLS [SEED]` runs a long one.

#[path = "../common/mod.rs"]
mod common;

mod campaign;

#[test]
fn a_host_killed_25_times_loses_nothing_and_duplicates_nothing() {
    let seed = std::env::var("SELLSYNC_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let dir = common::tempdir();
    let outcome = campaign::run(campaign::Options { kills: 25, seed }, dir.path());
    println!("{outcome}");
    if !outcome.failures.is_empty() {
        let kept = dir.keep();
        panic!(
            "replay with SELLSYNC_CRASH_SEED={seed}; store, journal and host output kept in {}\n{outcome}",
            kept.display()
        );
    }
    assert_eq!(outcome.kills, 25);
    assert!(outcome.in_stock_set > 0, "no kill landed in a stock call");
    assert!(
        !outcome.in_http.is_empty(),
        "no kill landed during an HTTP call"
    );
    assert!(
        outcome.counts.orders > 0 && outcome.counts.shipments > 0,
        "{outcome}"
    );
}

#[test]
fn a_host_killed_while_amazon_applies_its_confirmation_gets_it_confirmed_once() {
    use sellsync_emulator::{Fault, FaultKind};
    let dir = common::tempdir();
    let (emu, setup) = campaign::prepare(dir.path(), 1);
    let placed = common::place_orders(&emu, 3, false, None);
    // Amazon applies the first confirmation at once and answers 3 s later; the host dies first.
    emu.control().inject(Fault {
        operation: "confirmShipment".into(),
        count: 1,
        kind: FaultKind::LateAnswer { ms: 3_000 },
    });
    let mut host = campaign::host::Host::spawn(&setup, "run", 1);
    assert!(campaign::wait_taken(&emu, "confirmShipment", &mut host));
    host.kill();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let (status, lines) = campaign::host::Host::spawn(&setup, "drain", 2).finish(deadline);
    assert!(status.is_some_and(|s| s.success()), "{lines:?}");
    let ships = emu.control().state()["shipments"].clone();
    assert_eq!(ships.as_array().unwrap().len(), placed.len(), "{ships}");
    for s in ships.as_array().unwrap() {
        assert_eq!(s["confirmations"], 1, "{ships}");
    }
}
