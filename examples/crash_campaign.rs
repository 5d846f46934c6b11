//! The long crash campaign: `scripts/crash-campaign KILLS [SEED]` (see README.md). Kills the C
//! crash host KILLS times (default 500) and checks the outcome as `tests/crash/main.rs` does;
//! exits 1 on any failure, keeping the store, journal and host output.

#[path = "../tests/common/mod.rs"]
mod common;

#[path = "../tests/crash/campaign/mod.rs"]
mod campaign;

fn main() {
    let mut args = std::env::args().skip(1);
    let kills = args
        .next()
        .map_or(500, |k| k.parse().expect("KILLS is a number"));
    let seed = args
        .next()
        .map_or_else(rand::random, |s| s.parse().expect("SEED is a number"));
    println!("crash campaign: {kills} kills, seed {seed}");
    let dir = common::tempdir();
    let outcome = campaign::run(campaign::Options { kills, seed }, dir.path());
    println!("{outcome}");
    if !outcome.failures.is_empty() {
        let kept = dir.keep();
        eprintln!(
            "FAILED: replay with scripts/crash-campaign {kills} {seed}; store, journal and host output kept in {}",
            kept.display()
        );
        std::process::exit(1);
    }
}
