//! The short cluster campaign: four C tills share one seller account through PostgreSQL; the
//! leader is killed with SIGKILL 6 times, another till takes the lease within 30 s each time,
//! then everything drains: every order booked and acknowledged by exactly one till, every
//! package confirmed exactly once, Amazon showing the shared shelf, no answer 429, the store
//! intact. Needs `SELLSYNC_TEST_PG` (`scripts/pg-cluster start DIR` prints one).
//! `scripts/cluster-campaign KILLS [SEED]` runs a long one.

#[path = "common/mod.rs"]
mod common;

#[path = "crash/campaign/mod.rs"]
mod campaign;

use campaign::cluster;
use std::time::Duration;

/// Panics with a clear message without a PostgreSQL cluster.
fn need_pg() {
    assert!(
        std::env::var_os("SELLSYNC_TEST_PG").is_some(),
        "SELLSYNC_TEST_PG must name a PostgreSQL cluster for this test: \
         export SELLSYNC_TEST_PG=$(scripts/pg-cluster start /tmp/some-new-dir)"
    );
}

#[test]
fn four_tills_whose_leader_is_killed_6_times_lose_nothing_and_duplicate_nothing() {
    need_pg();
    let seed = std::env::var("SELLSYNC_CLUSTER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let dir = common::tempdir();
    let outcome = cluster::run(cluster::Options { kills: 6, seed }, dir.path());
    println!("{outcome}");
    if !outcome.failures.is_empty() {
        let kept = dir.keep();
        std::fs::write(kept.join("failures.txt"), outcome.failures.join("\n")).unwrap();
        panic!(
            "replay with SELLSYNC_CLUSTER_SEED={seed}; journals, configurations, till output and every failure (failures.txt) kept in {}\n{outcome}",
            kept.display()
        );
    }
    assert_eq!(outcome.kills, 6);
    assert_eq!(outcome.failovers.len(), 6, "{outcome}");
    assert!(
        outcome.failover_max() < Duration::from_secs(30),
        "a failover took {:?}: {outcome}",
        outcome.failover_max()
    );
    assert_eq!(outcome.responses_429, 0, "{outcome}");
    assert!(
        outcome.counts.orders > 0 && outcome.counts.shipments > 0,
        "{outcome}"
    );
}

/// What the campaign found first, in two calls: an order one till took and has not
/// acknowledged yet is not another till's to take.
#[test]
fn an_order_handed_to_one_till_is_not_handed_to_another_while_the_first_holds_it() {
    need_pg();
    let emu = common::emulator(1000.0);
    common::seed_listings(&emu, 5, 10);
    let placed = common::place_orders(&emu, 2, false, None);
    let dir = common::tempdir();
    let url = sellsync::store::testing::database_for(dir.path().join("store").to_str().unwrap())
        .expect("test database");
    let till = |node: &str| {
        let config = sellsync::Config::from_json(&cluster::config(&emu, &url, node)).unwrap();
        sellsync::Engine::open(config).expect("till opens")
    };
    let (a, b) = (till("till-a"), till("till-b"));
    a.sync_now(1, common::SYNC).unwrap();
    let id = |doc: String| {
        let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
        v["order_id"].as_str().unwrap().to_string()
    };
    let held = id(a.order_next().unwrap().expect("an order for till-a"));
    let mut to_b = Vec::new();
    while let Some(doc) = b.order_next().unwrap() {
        to_b.push(id(doc));
        if to_b.len() > placed.len() {
            break;
        }
    }
    assert!(
        !to_b.contains(&held),
        "order {held}, handed to till-a and not acknowledged, was handed to till-b too: {to_b:?}"
    );
    assert_eq!(to_b.len(), 1, "{to_b:?}");
}
