//! Amazon's own account health beside sellsync's figures: the seller performance report is
//! read, its figures are shown in `sellsync_metrics`, `sellsync metrics` and the HTML report
//! with sellsync's count over Amazon's window, and a figure that crosses its target or
//! disagrees with sellsync's (an order Amazon counts that sellsync never saw) is an event,
//! once, across restarts.

mod common;

use common::*;
use sellsync_emulator::control::OrderSeed;
use sellsync_emulator::health::DefectKind;
use serde_json::Value;
use std::time::Duration;

const REPORT: &str = "GET_V2_SELLER_PERFORMANCE_REPORT";
const US: &str = "ATVPDKIKX0DER";
const DAY: i64 = 86_400;

/// Runs listings cycles until a seller performance report other than `after` was read.
fn health_read(engine: &sellsync::Engine, after: Option<&str>) -> String {
    let mut read = None;
    wait_until(
        "a seller performance report read",
        Duration::from_secs(30),
        || {
            engine.sync_now(4, SYNC).unwrap();
            read = engine.core().store.account_health(US).unwrap();
            read.as_ref()
                .is_some_and(|h| Some(h.report_id.as_str()) != after)
        },
    );
    read.unwrap().report_id
}

fn metrics(engine: &sellsync::Engine) -> Value {
    serde_json::from_str(&engine.metrics("").unwrap()).unwrap()
}

/// Amazon's figure `name` (of `fulfilment`, and `days` long when given) in the US section.
fn figure<'a>(m: &'a Value, name: &str, fulfilment: Option<&str>, days: Option<i64>) -> &'a Value {
    let us = m["marketplaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["marketplace_id"] == US)
        .unwrap();
    us["amazon"]["metrics"]
        .as_array()
        .unwrap_or_else(|| panic!("no Amazon figures: {us}"))
        .iter()
        .find(|x| {
            x["name"] == name
                && x["fulfilment"].as_str() == fulfilment
                && days.is_none_or(|d| x["window_days"] == d)
        })
        .unwrap_or_else(|| panic!("no {name} in {us}"))
}

fn of_type(events: &[Value], kind: &str) -> Vec<Value> {
    events
        .iter()
        .filter(|e| e["type"] == kind)
        .cloned()
        .collect()
}

#[test]
fn amazons_figures_show_beside_sellsyncs_and_what_they_disagree_on_is_an_event_once() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 3, 500);
    let seed = |count, age_days: i64, lag: f64| OrderSeed {
        count: Some(count),
        lines: vec![("SKU-0000".into(), 1)],
        age_seconds: age_days * DAY,
        search_lag_seconds: Some(lag),
        ..OrderSeed::default()
    };
    // Ten orders three days old (in the 7-day cancellation and 10-day late shipment windows,
    // unshipped past their ship-by date: late for both), twenty 20 days old (in the order
    // defect window, which ends 14 days back), and one three days old that no search shows.
    let recent = emu.control().place_orders(&seed(10, 3, 0.0)).unwrap();
    let older = emu.control().place_orders(&seed(20, 20, 0.0)).unwrap();
    emu.control().place_orders(&seed(1, 3, 1e9)).unwrap();
    emu.control()
        .add_defect(&older[0], DefectKind::Claim)
        .unwrap();
    let dir = tempdir();
    let extra = r#","orders": {"initial_lookback_hours": 1000}"#;
    let engine = open(&emu, &dir, extra);
    engine.sync_now(1, SYNC).unwrap();
    assert_eq!(drain(&engine).len(), 30);
    assert!(engine.order_cancel(&recent[0], "NoInventory").unwrap());
    wait_until(
        "the cancellation at Amazon",
        Duration::from_secs(30),
        || {
            let done = emu
                .control()
                .order(&recent[0])
                .unwrap()
                .canceled_by
                .is_some();
            if !done {
                engine.sync_now(8, SYNC).unwrap();
            }
            done
        },
    );
    // The order search brings the cancellation into the store.
    see_orders(&emu, &engine);
    drain(&engine);
    events(&engine);

    let first = health_read(&engine, None);
    let m = metrics(&engine);
    // Amazon counts the order no search showed; sellsync over the same window does not.
    let cancel = figure(&m, "cancellation_rate", None, None);
    assert_eq!(
        (cancel["numerator"].as_u64(), cancel["denominator"].as_u64()),
        (Some(1), Some(11)),
        "{cancel}"
    );
    assert_eq!(cancel["window_days"], 7);
    assert_eq!(
        (
            cancel["sellsync"]["numerator"].as_u64(),
            cancel["sellsync"]["denominator"].as_u64()
        ),
        (Some(1), Some(10))
    );
    assert_eq!(cancel["orders_not_seen"], 1);
    assert_eq!(cancel["disagrees"], true);
    // Late shipment: the nine unshipped recent orders, and the unseen one, are late.
    let late = figure(&m, "late_shipment_rate", None, Some(10));
    assert_eq!(
        (late["numerator"].as_u64(), late["denominator"].as_u64()),
        (Some(10), Some(10))
    );
    assert_eq!(late["sellsync"]["denominator"], 9);
    assert_eq!(late["misses_target"], true);
    // Amazon's order defect rate counts the claim; sellsync sees the same orders and no
    // defect (only Amazon knows of claims), and its own refund rate is a figure of its own.
    let odr = figure(&m, "order_defect_rate", Some("mfn"), None);
    assert_eq!(
        (odr["numerator"].as_u64(), odr["denominator"].as_u64()),
        (Some(1), Some(20)),
        "{odr}"
    );
    assert_eq!(odr["defects"]["claims"], 1);
    assert_eq!(odr["sellsync"]["denominator"], 20);
    assert!(odr["sellsync"]["numerator"].is_null());
    assert_eq!(
        (odr["misses_target"].as_bool(), odr["disagrees"].as_bool()),
        (Some(true), Some(false))
    );
    let own: Vec<&str> = m["marketplaces"][0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["name"].as_str())
        .collect();
    assert!(
        own.contains(&"refund_rate") && !own.contains(&"order_defect_rate"),
        "{own:?}"
    );

    let got = events(&engine);
    let disagrees = of_type(&got, "account_health.disagrees");
    let c = disagrees
        .iter()
        .find(|e| e["metric"] == "cancellation_rate")
        .unwrap_or_else(|| panic!("{got:?}"));
    assert_eq!(
        (
            c["orders_not_seen"].as_u64(),
            c["amazon"]["denominator"].as_u64()
        ),
        (Some(1), Some(11))
    );
    assert_eq!(c["marketplace_id"], US);
    let targets = of_type(&got, "account_health.target");
    assert!(
        targets.iter().any(|e| e["metric"] == "order_defect_rate"
            && e["fulfilment"] == "mfn"
            && e["misses"] == true),
        "{targets:?}"
    );
    assert!(targets.iter().all(|e| e["misses"] == true));

    // The next report says the same: no event again, nor after a restart.
    let second = health_read(&engine, Some(&first));
    assert!(of_type(&events(&engine), "account_health.disagrees").is_empty());
    drop(engine);
    let engine = open(&emu, &dir, extra);
    health_read(&engine, Some(&second));
    let again = events(&engine);
    assert!(
        again
            .iter()
            .all(|e| !e["type"].as_str().unwrap().starts_with("account_health")),
        "{again:?}"
    );

    // The command-line tool and the HTML report show Amazon's figures beside sellsync's.
    drop(engine);
    let store = dir.path().join("store.sqlite");
    if std::env::var("SELLSYNC_TEST_BACKEND").is_err() {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sellsync"))
            .arg("metrics")
            .arg(&store)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("Amazon's own figures"), "{text}");
        // Amazon's count (with the order sellsync never saw) first, sellsync's beside it.
        let cancellations = text
            .lines()
            .find(|l| l.contains("Pre-fulfilment cancellation rate") && l.contains("DISAGREES"))
            .unwrap_or_else(|| panic!("{text}"));
        let (amazon, own) = (cancellations.find(" 1/11 "), cancellations.find(" 1/10 "));
        assert!(
            amazon.is_some() && own.is_some() && amazon < own,
            "{cancellations}"
        );
        assert!(text.contains("1 orders sellsync never saw"), "{text}");
        assert!(
            text.contains("Order defect rate (seller-fulfilled)"),
            "{text}"
        );
        let html = dir.path().join("report.html");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sellsync"))
            .arg("report")
            .arg(&store)
            .arg(&html)
            .output()
            .unwrap();
        assert!(out.status.success());
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(
            page.contains("Amazon's own figures") && page.contains("MISSES TARGET"),
            "{page}"
        );
    }
}

#[test]
fn the_report_is_requested_once_per_interval() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 1, 10);
    let dir = tempdir();
    let engine = open(
        &emu,
        &dir,
        r#","account_health": {"interval_seconds": 3600}"#,
    );
    let requested = || {
        emu.control().with_world(|w| {
            w.reports
                .values()
                .filter(|r| r.report_type == REPORT)
                .count()
        })
    };
    // The worker's cycles (listings with other flows: reports when due) ask for one report
    // and read it; more cycles within the hour ask for none.
    wait_until("a report read", Duration::from_secs(30), || {
        let read = engine.core().store.account_health(US).unwrap().is_some();
        if !read {
            engine.sync_now(4 | 1, SYNC).unwrap();
        }
        read
    });
    for _ in 0..5 {
        engine.sync_now(4 | 1, SYNC).unwrap();
    }
    assert_eq!(requested(), 1);
    // With no order, every figure is within its target: no event.
    assert!(of_type(&events(&engine), "account_health.target").is_empty());
}

#[test]
fn a_report_amazon_refuses_for_a_missing_role_is_one_event_and_asked_again_when_due() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 1, 10);
    emu.control().with_world(|w| w.insights_role = false);
    let dir = tempdir();
    let engine = open(
        &emu,
        &dir,
        r#","account_health": {"interval_seconds": 3600}"#,
    );
    // The worker's cycles go on (no failure) and ask once within the interval (a 403 is
    // first taken for an expired token: asked twice, with a new token the second time).
    for _ in 0..5 {
        engine.sync_now(4 | 1, SYNC).unwrap();
    }
    assert_eq!(emu.control().count("createReport", 403), 2);
    let got = events(&engine);
    let refused = of_type(&got, "account_health.unavailable");
    assert_eq!(refused.len(), 1, "{got:?}");
    assert!(refused[0]["message"]
        .as_str()
        .unwrap()
        .contains("Selling Partner Insights"));
    assert!(of_type(&got, "sync.failed").is_empty(), "{got:?}");
    assert!(metrics(&engine)["marketplaces"][0]["amazon"].is_null());
    // Asked for again (a host's listings pull): refused again, no second event.
    engine.sync_now(4, SYNC).unwrap();
    assert_eq!(emu.control().count("createReport", 403), 4);
    assert!(of_type(&events(&engine), "account_health.unavailable").is_empty());
}
