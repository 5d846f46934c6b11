//! Two handles on one SQLite store: the one holding the store's lock talks to Amazon, the
//! other is refused with a clear status (and serves its host from the store) until the lock is
//! free: the first closes, or its process dies. In one process and across processes.

mod common;

use common::*;
use sellsync::engine::{FLOW_ALL, FLOW_ORDERS};
use sellsync::{Config, Engine, Error};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

/// What the child process prints once it leads.
const LEADS: &str = "SELLSYNC-CHILD-LEADS";

/// The configuration of a handle on the SQLite store in `dir` (whatever the tests' backend).
fn sqlite_config(emu: &sellsync_emulator::Emulator, dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("store.sqlite");
    config_json_with(
        emu,
        &format!("\"store_path\": {:?}", path.to_str().unwrap()),
        "",
    )
}

fn open_sqlite(emu: &sellsync_emulator::Emulator, dir: &tempfile::TempDir) -> Engine {
    Engine::open(Config::from_json(&sqlite_config(emu, dir)).unwrap()).expect("engine opens")
}

/// Every call the emulator answered.
fn calls(emu: &sellsync_emulator::Emulator) -> u64 {
    emu.control().counts().iter().map(|(_, _, n)| n).sum()
}

fn lease(engine: &Engine) -> serde_json::Value {
    let state: serde_json::Value = serde_json::from_str(&engine.status().unwrap()).unwrap();
    state["lease"].clone()
}

/// Asserts that `engine` is refused the sync because a handle of process `pid` holds the store,
/// and that the refusal made no call to Amazon.
fn refused_for(emu: &sellsync_emulator::Emulator, engine: &Engine, pid: u32) {
    let before = calls(emu);
    match engine.sync_now(FLOW_ALL, SYNC) {
        Err(Error::InvalidState(m)) => {
            assert!(m.contains("holds the lock on this store"), "{m}");
            assert!(m.contains(&format!("process {pid}")), "{m}");
        }
        other => panic!("a second handle on the store ran the sync: {other:?}"),
    }
    assert_eq!(calls(emu), before, "the refused handle called Amazon");
    let lease = lease(engine);
    assert_eq!(lease["leader"], false, "{lease}");
    assert_eq!(lease["holder"], format!("process {pid}"), "{lease}");
}

#[test]
fn a_second_handle_in_one_process_is_refused_the_sync_until_the_first_closes() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 5, 10);
    let placed = place_orders(&emu, 3, false, None);
    let dir = tempdir();
    let first = open_sqlite(&emu, &dir);
    first.sync_now(FLOW_ORDERS, SYNC).unwrap();
    assert_eq!(lease(&first)["leader"], true);
    let second = open_sqlite(&emu, &dir);
    refused_for(&emu, &second, std::process::id());
    // It serves its host from the store meanwhile: the orders the first fetched.
    let mut got: Vec<String> = drain(&second)
        .iter()
        .map(|o| o["order_id"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    let mut want = placed.clone();
    want.sort();
    assert_eq!(got, want);
    // Its worker waits for the lock, and takes it over once the first closes.
    second.start().unwrap();
    assert!(!second.core().is_leader());
    refused_for(&emu, &second, std::process::id());
    first.close().unwrap();
    wait_until(
        "the second handle to take the lock",
        Duration::from_secs(10),
        || second.core().is_leader(),
    );
    second.stop().unwrap();
    see_orders(&emu, &second);
    // The first, opened again, is now the one refused.
    let again = open_sqlite(&emu, &dir);
    refused_for(&emu, &again, std::process::id());
}

/// Run by the cross-process test as its child (does nothing otherwise): opens a handle on the
/// store its configuration names, runs an orders sync, says so, and holds the store until its
/// standard input closes or it is killed.
#[test]
fn child_process_holding_the_store() {
    let Ok(config) = std::env::var("SELLSYNC_TEST_LOCK_CHILD") else {
        return;
    };
    let engine = Engine::open(Config::from_json(&config).unwrap()).unwrap();
    engine.sync_now(FLOW_ORDERS, SYNC).unwrap();
    let mut out = std::io::stdout();
    writeln!(out, "{LEADS}").unwrap();
    out.flush().unwrap();
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    engine.close().unwrap();
}

#[test]
fn a_handle_in_another_process_is_refused_until_that_process_is_killed() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 5, 10);
    place_orders(&emu, 2, false, None);
    let dir = tempdir();
    let config = sqlite_config(&emu, &dir);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_process_holding_the_store", "--nocapture"])
        .env("SELLSYNC_TEST_LOCK_CHILD", &config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(
        lines.any(|l| l.unwrap().contains(LEADS)),
        "the child process ended without leading"
    );
    let engine = Engine::open(Config::from_json(&config).unwrap()).unwrap();
    refused_for(&emu, &engine, child.id());
    engine.start().unwrap();
    // SIGKILL: the child cannot let the lock go; the operating system does.
    child.kill().unwrap();
    child.wait().unwrap();
    wait_until(
        "the handle to take the lock",
        Duration::from_secs(10),
        || engine.core().is_leader(),
    );
    engine.stop().unwrap();
    engine.sync_now(FLOW_ALL, SYNC).unwrap();
    assert_eq!(lease(&engine)["leader"], true);
}
