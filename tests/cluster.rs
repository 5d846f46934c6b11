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

#[test]
fn four_tills_whose_leader_is_killed_6_times_lose_nothing_and_duplicate_nothing() {
    assert!(
        std::env::var_os("SELLSYNC_TEST_PG").is_some(),
        "SELLSYNC_TEST_PG must name a PostgreSQL cluster for this test: \
         export SELLSYNC_TEST_PG=$(scripts/pg-cluster start /tmp/some-new-dir)"
    );
    let seed = std::env::var("SELLSYNC_CLUSTER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let dir = common::tempdir();
    let outcome = cluster::run(cluster::Options { kills: 6, seed }, dir.path());
    println!("{outcome}");
    if !outcome.failures.is_empty() {
        let kept = dir.keep();
        panic!(
            "replay with SELLSYNC_CLUSTER_SEED={seed}; journals, configurations and till output kept in {}\n{outcome}",
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
