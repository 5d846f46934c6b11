//! The long cluster campaign: `scripts/cluster-campaign KILLS [SEED]`. Four C tills share one
//! seller account through PostgreSQL (`SELLSYNC_TEST_PG`); their leader is killed KILLS times
//! (default 100) and the outcome checked as `tests/cluster.rs` does; exits 1 on any failure,
//! keeping the journals, configurations and till output.

#[path = "../tests/common/mod.rs"]
mod common;

#[path = "../tests/crash/campaign/mod.rs"]
mod campaign;

use campaign::cluster;

fn main() {
    let mut args = std::env::args().skip(1);
    let kills = args
        .next()
        .map_or(100, |k| k.parse().expect("KILLS is a number"));
    let seed = args
        .next()
        .map_or_else(rand::random, |s| s.parse().expect("SEED is a number"));
    println!("cluster campaign: {kills} kills, seed {seed}");
    let dir = common::tempdir();
    let outcome = cluster::run(cluster::Options { kills, seed }, dir.path());
    println!("{outcome}");
    if !outcome.failures.is_empty() {
        let kept = dir.keep();
        std::fs::write(kept.join("failures.txt"), outcome.failures.join("\n")).unwrap();
        eprintln!(
            "FAILED: replay with scripts/cluster-campaign {kills} {seed}; journals, configurations, till output and every failure (failures.txt) kept in {}",
            kept.display()
        );
        std::process::exit(1);
    }
}
