//! Amazon's searches show an order's changes late (seconds to hours after them; `getOrder` at
//! once): with notifications off, the hourly reconciliation brings every order and change that
//! the overlap missed to the host exactly once, on the emulated clock, through both Orders API
//! versions; a restart does not reconcile before it is due.
//!
//! Seen red with each bug planted: no reconciliation (`reconcile_due` always false, or a due
//! reconciliation's window not widened) fails the first two tests, the lagged orders never
//! arriving; the reconciliation's time not stored fails the third (every cycle reconciles,
//! the first after the restart too).

mod common;

use common::*;
use sellsync::Engine;
use sellsync_emulator::{settings::SettingsChange, CanceledBy, Emulator, OrderSeed};
use std::collections::HashSet;
use std::sync::Arc;

/// Search lags longer than the overlap (300 s) and the two-minute margin together, so no
/// ordinary cycle's window still holds a change by the time the searches show it.
const LAG: (f64, f64) = (1000.0, 1800.0);

/// The orders interval of the background worker, which the tests follow by hand.
const STEP: i64 = 180;

/// An emulator at 1000x Amazon's rates whose searches lag by [`LAG`], 20 listings, and a
/// handle (no notifications) whose clock is the emulator's, with its store in `dir`.
fn shop(dir: &tempfile::TempDir, extra: &str) -> (Arc<Emulator>, Engine) {
    let emu = Arc::new(emulator(1000.0));
    seed_listings(&emu, 20, 1000);
    emu.control()
        .set_settings(SettingsChange {
            order_search_lag_min_seconds: Some(LAG.0),
            order_search_lag_max_seconds: Some(LAG.1),
            order_search_late_rate: Some(0.0),
            ..Default::default()
        })
        .unwrap();
    let engine = reopen(&emu, dir, extra);
    (emu, engine)
}

fn reopen(emu: &Arc<Emulator>, dir: &tempfile::TempDir, extra: &str) -> Engine {
    let store = dir.path().join("store.sqlite");
    let config = sellsync::Config::from_json(&config_json(emu, &store, extra)).expect("config");
    Engine::open_with_clock(config, Arc::new(EmuClock(emu.clone()))).expect("open")
}

/// `n` orders cycles, one every [`STEP`] emulated seconds, every order handed out taken into
/// `taken`; the cycles' reports.
fn cycles(
    emu: &Emulator,
    engine: &Engine,
    n: usize,
    taken: &mut Vec<serde_json::Value>,
) -> Vec<sellsync::engine::orders_in::Report> {
    (0..n)
        .map(|_| {
            emu.control().advance(chrono::Duration::seconds(STEP));
            let r = engine.sync_now(1, SYNC).unwrap().orders;
            taken.extend(drain(engine));
            r
        })
        .collect()
}

/// Places `count` paid orders now, the searches showing them after the settings' lag or
/// `search_lag_seconds`.
fn place(emu: &Emulator, count: usize, search_lag_seconds: Option<f64>) -> Vec<String> {
    emu.control()
        .place_orders(&OrderSeed {
            count: Some(count),
            search_lag_seconds,
            ..Default::default()
        })
        .unwrap()
}

fn ids(docs: &[serde_json::Value]) -> Vec<String> {
    docs.iter()
        .map(|d| d["order_id"].as_str().unwrap().to_string())
        .collect()
}

fn once_each(docs: &[serde_json::Value]) -> HashSet<String> {
    let got = ids(docs);
    let unique: HashSet<String> = got.iter().cloned().collect();
    assert_eq!(unique.len(), got.len(), "an order was handed out twice");
    unique
}

fn lagging_orders_arrive_once_by_the_reconciliation(api: &str) {
    let dir = tempdir();
    let (emu, engine) = shop(&dir, &format!(r#","orders_api": "{api}""#));
    let mut taken = Vec::new();
    // The first cycle reads the initial lookback and counts as a reconciliation.
    assert!(cycles(&emu, &engine, 1, &mut taken)[0].reconciled);
    let lagging = place(&emu, 150, None);
    let prompt = place(&emu, 3, Some(0.0));
    let hours_late = place(&emu, 1, Some(4.0 * 3600.0));
    // Ordinary cycles bring the orders the searches show at once, and none of the others:
    // by the time the searches show them, they lie before every window.
    let before = cycles(&emu, &engine, 18, &mut taken);
    assert!(before.iter().all(|r| !r.reconciled));
    assert_eq!(once_each(&taken), prompt.iter().cloned().collect());
    // The hourly reconciliation brings them, once.
    let hour = cycles(&emu, &engine, 3, &mut taken);
    let reconciling: Vec<_> = hour.iter().filter(|r| r.reconciled).collect();
    assert_eq!(reconciling.len(), 1, "{hour:?}");
    let got = once_each(&taken);
    assert!(lagging.iter().all(|id| got.contains(id)), "{hour:?}");
    assert!(!got.contains(&hours_late[0]));
    // Cost: the pages of 6 hours of orders (154, two pages of 100) against one page for an
    // ordinary cycle.
    assert_eq!(reconciling[0].pages, 2, "{:?}", reconciling[0]);
    assert!(before.iter().all(|r| r.pages == 1));
    // A change that shows late after hand-over: one event, at the next reconciliation.
    let _ = events(&engine);
    assert!(emu
        .control()
        .cancel(&lagging[0], CanceledBy::Amazon, "Payment failed"));
    let rest = cycles(&emu, &engine, 20 * 4, &mut taken);
    assert_eq!(rest.iter().filter(|r| r.reconciled).count(), 4);
    let changed: Vec<_> = events(&engine)
        .into_iter()
        .filter(|e| e["type"] == "order.status_changed")
        .collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0]["order_id"], lagging[0].as_str());
    assert_eq!(changed[0]["new_status"], "CANCELLED");
    // The order four hours late in the searches arrived too; nothing came twice.
    let all: HashSet<String> = lagging
        .iter()
        .chain(&prompt)
        .chain(&hours_late)
        .cloned()
        .collect();
    assert_eq!(once_each(&taken), all);
    assert_eq!(
        emu.control().count(
            if api == "v0" {
                "getOrders"
            } else {
                "searchOrders"
            },
            429
        ),
        0
    );
}

#[test]
fn orders_shown_late_reach_the_host_once_by_the_reconciliation_with_orders_2026() {
    lagging_orders_arrive_once_by_the_reconciliation("2026-01-01");
}

#[test]
fn orders_shown_late_reach_the_host_once_by_the_reconciliation_with_orders_v0() {
    lagging_orders_arrive_once_by_the_reconciliation("v0");
}

#[test]
fn a_restart_does_not_reconcile_before_it_is_due() {
    let dir = tempdir();
    let (emu, engine) = shop(&dir, "");
    let mut taken = Vec::new();
    cycles(&emu, &engine, 1, &mut taken);
    place(&emu, 150, Some(0.0));
    cycles(&emu, &engine, 5, &mut taken);
    assert_eq!(taken.len(), 150);
    drop(engine);
    let engine = reopen(&emu, &dir, "");
    let after_restart = cycles(&emu, &engine, 1, &mut taken);
    assert!(!after_restart[0].reconciled, "{after_restart:?}");
    assert_eq!(after_restart[0].seen, 0, "{after_restart:?}");
    // Once due, the reconciliation sees the 150 again and hands none of them out.
    let hour = cycles(&emu, &engine, 20, &mut taken);
    let reconciling: Vec<_> = hour.iter().filter(|r| r.reconciled).collect();
    assert_eq!(reconciling.len(), 1, "{hour:?}");
    assert_eq!((reconciling[0].seen, reconciling[0].new), (150, 0));
    assert_eq!(taken.len(), 150);
    // Off: never.
    drop(engine);
    let engine = reopen(&emu, &dir, r#","orders": {"reconcile_seconds": 0}"#);
    let off = cycles(&emu, &engine, 30, &mut taken);
    assert!(off.iter().all(|r| !r.reconciled && r.seen == 0), "{off:?}");
}
