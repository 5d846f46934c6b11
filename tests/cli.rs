//! The `sellsync` command-line tool on a real store (a SQLite file, or a PostgreSQL URL when
//! the tests run on the shared store): performance table, queues, retry and the HTML report
//! (agreeing with the table as of the same time); help, version, exit codes.

mod common;

use common::*;
use sellsync::model::{Refund, RefundItem};
use std::process::Command;

fn cli(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sellsync"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_tool_prints_performance_and_queues_and_writes_the_html_report() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 10, 50);
    place_orders(&emu, 20, false, None);
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine.sync_now(1, SYNC).unwrap();
    let orders = drain(&engine);
    for o in &orders[..15] {
        let item = o["items"][0]["order_item_id"].as_str().unwrap();
        engine
            .shipment_confirm(&package(
                o["order_id"].as_str().unwrap(),
                item,
                o["items"][0]["quantity"].as_i64().unwrap(),
            ))
            .unwrap();
    }
    engine
        .order_cancel(orders[19]["order_id"].as_str().unwrap(), "NoInventory")
        .unwrap();
    let o = &orders[0];
    engine
        .order_refund(&Refund {
            order_id: o["order_id"].as_str().unwrap().into(),
            refund_id: None,
            reason: "CustomerReturn".into(),
            items: vec![RefundItem {
                order_item_id: o["items"][0]["order_item_id"].as_str().unwrap().into(),
                amount: "1.00".into(),
            }],
        })
        .unwrap();
    engine.sync_now(8, SYNC).unwrap();
    let store =
        sellsync::store::testing::store_locator(dir.path().join("store.sqlite").to_str().unwrap());
    let store = store.as_str();

    let (code, out) = cli(&["metrics", store]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ATVPDKIKX0DER"), "{out}");
    let line = |name: &str| {
        out.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} missing:\n{out}"))
            .to_string()
    };
    assert!(
        line("Pre-fulfilment cancellation rate").contains("1/20"),
        "{out}"
    );
    assert!(
        line("Pre-fulfilment cancellation rate").contains("FAILING"),
        "5% is over the 2.5% target"
    );
    assert!(line("Refund rate").contains("1/20"));
    let (code, json) = cli(&["metrics", store, "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["marketplaces"][0]["metrics"][0]["numerator"], 1);

    let (code, out) = cli(&["status", store]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("orders     20 stored"), "{out}");
    assert!(out.contains("shipments  0 queued"), "{out}");

    let (code, out) = cli(&["retry", store]);
    assert_eq!(code, 0);
    assert!(out.contains("0 refused items"), "{out}");

    let html = dir.path().join("report.html");
    let (code, out) = cli(&["report", store, html.to_str().unwrap(), "--days", "14"]);
    assert_eq!(code, 0, "{out}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(
        page.matches("<svg").count(),
        3,
        "three rates, one chart each"
    );
    assert!(
        page.contains("Pre-fulfilment cancellation rate") && page.contains("target below 2.5%")
    );

    // The report and the table agree as of the same time, here 8 days on, when the 7-day
    // cancellation window has left every order behind (the orders carry Amazon's time).
    let now = sellsync::store::ts(emu.control().now() + chrono::Duration::days(8));
    let (code, json) = cli(&["metrics", store, "--json", "--now", &now]);
    assert_eq!(code, 0, "{json}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let html = dir.path().join("report-now.html");
    let (code, out) = cli(&["report", store, html.to_str().unwrap(), "--now", &now]);
    assert_eq!(code, 0, "{out}");
    let page = std::fs::read_to_string(&html).unwrap();
    // Every card of the report, in order, against the table's figures.
    let cards: Vec<&str> = page
        .split("<p class=\"value\">")
        .skip(1)
        .map(|c| &c[..c.find(" orders").unwrap()])
        .collect();
    let expected: Vec<String> = v["marketplaces"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|mp| mp["metrics"].as_array().unwrap())
        .filter(|x| x["name"] != "late_shipment_rate" || x["window_days"] == 10)
        .map(|x| {
            format!(
                "{:.2}% <span>{} of {}",
                x["rate"].as_f64().unwrap() * 100.0,
                x["numerator"],
                x["denominator"]
            )
        })
        .collect();
    assert_eq!(cards, expected);
    assert_eq!(
        v["marketplaces"][0]["metrics"][0]["denominator"], 0,
        "8 days on, no order is in the cancellation window"
    );
    assert!(page.contains("Amazon.com (US), ATVPDKIKX0DER"));
    let (_, table) = cli(&["metrics", store, "--now", &now]);
    assert!(table.contains("Amazon.com (US), ATVPDKIKX0DER"), "{table}");
    let (code, out) = cli(&[
        "report",
        store,
        html.to_str().unwrap(),
        "--now",
        "yesterday",
    ]);
    assert_eq!(code, 1, "a bad time fails: {out}");
    assert!(out.contains("ISO 8601"), "{out}");

    assert_eq!(cli(&["nonsense", store]).0, 2);
    assert_ne!(cli(&["metrics", "/nonexistent/store.sqlite"]).0, 0);
    if sellsync::store::testing::on_postgres() {
        // A database without a store is an error, and stays without one.
        let empty =
            sellsync::store::testing::store_locator(dir.path().join("no-store").to_str().unwrap());
        for _ in 0..2 {
            let (code, out) = cli(&["status", &empty]);
            assert_eq!(code, 1, "{out}");
            assert!(out.contains("holds no sellsync store"), "{out}");
        }
    }
}

#[test]
fn every_command_has_help_the_tool_has_a_version_and_usage_errors_exit_2() {
    for cmd in [&[][..], &["metrics"], &["status"], &["retry"], &["report"]] {
        let args: Vec<&str> = cmd.iter().copied().chain(["--help"]).collect();
        let (code, out) = cli(&args);
        assert_eq!(code, 0, "{args:?}: {out}");
        assert!(
            out.contains("Usage:") && out.contains("Exit codes"),
            "{args:?}: {out}"
        );
    }
    let (code, out) = cli(&["--version"]);
    assert_eq!(
        (code, out.trim()),
        (0, concat!("sellsync ", env!("CARGO_PKG_VERSION")))
    );
    for bad in [
        &["report", "store.sqlite"][..],
        &["metrics"],
        &["report", "s", "o", "--days", "0"],
    ] {
        let (code, out) = cli(bad);
        assert_eq!(code, 2, "{bad:?}: {out}");
        assert!(
            out.contains("--help"),
            "a usage error points at the help: {out}"
        );
    }
}
