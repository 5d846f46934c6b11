//! The `sellsync` command-line tool on a real store: performance table, queues, retry and
//! the HTML report.

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
            reason: "CustomerReturn".into(),
            items: vec![RefundItem {
                order_item_id: o["items"][0]["order_item_id"].as_str().unwrap().into(),
                amount: "1.00".into(),
            }],
        })
        .unwrap();
    engine.sync_now(8, SYNC).unwrap();
    let store = dir.path().join("store.sqlite");
    let store = store.to_str().unwrap();

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
    assert!(line("Order defect rate").contains("1/20"));
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

    assert_eq!(cli(&["nonsense", store]).0, 2);
    assert_ne!(cli(&["metrics", "/nonexistent/store.sqlite"]).0, 0);
}
