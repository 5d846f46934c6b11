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
    let shipped = placed
        .iter()
        .filter(|id| campaign::host::fate(id) != campaign::host::Fate::Cancel)
        .count();
    assert_eq!(ships.as_array().unwrap().len(), shipped, "{ships}");
    for s in ships.as_array().unwrap() {
        assert_eq!(s["confirmations"], 1, "{ships}");
    }
}

#[test]
fn a_host_killed_in_each_kind_of_create_feed_gets_each_feed_applied_once() {
    use campaign::host::{fate, Fate, Host};
    use sellsync_emulator::{Fault, FaultKind};
    use std::collections::BTreeSet;
    let dir = common::tempdir();
    let (emu, setup) = campaign::prepare(dir.path(), 3);
    // Orders the host ships, some it cancels and some it refunds after shipping.
    let mut placed: Vec<String> = Vec::new();
    while ![Fate::Cancel, Fate::ShipAndRefund]
        .iter()
        .all(|f| placed.iter().filter(|id| fate(id) == *f).count() >= 2)
    {
        placed.extend(common::place_orders(&emu, 6, false, None));
    }
    // Each run dies while Amazon holds back the answer to a createFeed it applied, until the
    // kills have hit a listings, a cancellation and a refund feed.
    let kinds = [
        "JSON_LISTINGS_FEED",
        "POST_FLAT_FILE_ORDER_ACKNOWLEDGEMENT_DATA",
        "POST_FLAT_FILE_PAYMENT_ADJUSTMENT_DATA",
    ];
    let feeds = |emu: &sellsync_emulator::Emulator| -> BTreeSet<(String, String)> {
        emu.control().with_world(|w| {
            w.feeds
                .values()
                .map(|f| (f.feed_id.clone(), f.feed_type.clone()))
                .collect()
        })
    };
    let mut hit = BTreeSet::new();
    for run in 0..40 {
        if hit.len() == kinds.len() {
            break;
        }
        let before = feeds(&emu);
        emu.control().inject(Fault {
            operation: "createFeed".into(),
            count: 1,
            kind: FaultKind::LateAnswer { ms: 3_000 },
        });
        let mut host = Host::spawn(&setup, "run", run);
        let taken = campaign::wait_taken(&emu, "createFeed", &mut host);
        host.kill();
        emu.control().clear_faults();
        let new: Vec<_> = feeds(&emu).difference(&before).cloned().collect();
        if let (true, [(_, kind)]) = (taken, new.as_slice()) {
            hit.insert(kind.clone());
        }
    }
    assert_eq!(hit.len(), kinds.len(), "kills hit only {hit:?}");
    campaign::past_every_delay(&emu);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let (status, lines) = Host::spawn(&setup, "drain", 99).finish(deadline);
    assert!(
        status.is_some_and(|s| s.success()),
        "{}",
        campaign::host::last_lines(&lines)
    );
    let summary = campaign::journal::summarize(&campaign::journal::read(&setup.journal));
    let (counts, fails) = campaign::checks::check(
        &emu,
        &summary,
        campaign::checks::StoreAt::Sqlite(&campaign::store_path(dir.path())),
        &setup.config,
        campaign::sku_of,
    );
    assert!(fails.is_empty(), "{counts:?}\n{}", fails.join("\n"));
    assert!(
        counts.cancellations >= 2 && counts.refunds >= 2,
        "{counts:?}"
    );
}
