//! Nothing leaks: with recognisable secrets and buyer data, every error path this test can
//! drive (refused and wrong credentials, Login with Amazon down or answering garbage, cut and
//! malformed answers, an expired token, a panic caught at the C boundary) and the log at its
//! most verbose level, no secret appears in any event, error text, log line, status, metrics,
//! CLI output, HTML report or in the raw bytes of the store and its WAL; and no buyer data
//! appears anywhere but in the order documents handed to the host.

mod common;

use common::*;
use sellsync::model::StockLevel;
use sellsync::Engine;
use sellsync_emulator::{Fault, FaultKind, Seller};
use std::sync::{Arc, Mutex};

/// The secrets: the demo seller's client secret and refresh token, a wrong secret tried, and
/// the prefixes of every access token and refresh token Login with Amazon issues.
fn secrets() -> Vec<String> {
    let s = Seller::demo();
    vec![
        s.client_secret,
        s.refresh_token,
        WRONG_SECRET.into(),
        "Atza|".into(),
        "Atzr|".into(),
    ]
}

const WRONG_SECRET: &str = "wrong-secret-5e1d7c";

/// Parts of the emulator's buyer data: street, phone and e-mail.
const BUYER: &[&str] = &[
    "Market Street",
    "+1-206-555-",
    "@marketplace.amazon.example",
];

/// Everything the library said, kept as text.
#[derive(Default, Clone)]
struct Said(Arc<Mutex<Vec<String>>>);

impl Said {
    fn push(&self, what: &str, text: impl Into<String>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{what}: {}", text.into()));
    }
    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// Opens `config` with every log line at DEBUG going to `said`.
fn open_logged(config: &str, said: &Said) -> Engine {
    let engine = Engine::open(sellsync::Config::from_json(config).unwrap()).unwrap();
    let log = said.clone();
    engine
        .set_log_callback(4, Some(Box::new(move |_, line| log.push("log", line))))
        .unwrap();
    engine
}

/// Runs a sync of every flow and keeps its outcome (or error) as text.
fn sync(engine: &Engine, said: &Said) {
    match engine.sync_now(15, SYNC) {
        Ok(r) => said.push("sync", format!("{r:?}")),
        Err(e) => said.push("error", e.to_string()),
    }
    for e in events(engine) {
        said.push("event", e.to_string());
    }
    said.push("status", engine.status().unwrap());
}

fn fault(emu: &sellsync_emulator::Emulator, operation: &str, kind: FaultKind) {
    emu.control().inject(Fault {
        operation: operation.into(),
        count: 1,
        kind,
    });
}

/// The store file and its WAL, as bytes.
fn store_bytes(dir: &tempfile::TempDir) -> Vec<u8> {
    let mut bytes = Vec::new();
    for name in ["store.sqlite", "store.sqlite-wal"] {
        if let Ok(b) = std::fs::read(dir.path().join(name)) {
            bytes.extend(b);
        }
    }
    bytes
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn no_secret_and_no_buyer_data_leaves_through_any_output() {
    let emu = emulator(50.0);
    seed_listings(&emu, 4, 50);
    place_orders(&emu, 6, false, None);
    let dir = tempdir();
    let store = dir.path().join("store.sqlite");
    let said = Said::default();
    let engine = open_logged(&config_json(&emu, &store, ""), &said);
    let maps: Vec<_> = (0..4)
        .map(|i| one_to_one(&format!("SKU-{i:04}"), &format!("I-{i}")))
        .collect();
    engine.sku_map(&maps).unwrap();
    engine
        .stock_set(&[StockLevel {
            host_item: "I-0".into(),
            on_hand: 7,
        }])
        .unwrap();
    sync(&engine, &said);
    // The order documents handed to the host are the one place buyer data goes.
    let orders = drain(&engine);
    assert_eq!(orders.len(), 6);
    let handed: String = orders.iter().map(|o| o.to_string()).collect();
    for b in BUYER[..2].iter() {
        assert!(handed.contains(b), "the host gets the address ({b})");
    }
    let first = &orders[0];
    let id = first["order_id"].as_str().unwrap();
    let item = first["items"][0]["order_item_id"].as_str().unwrap();
    said.push(
        "shipment",
        engine
            .shipment_confirm(&package(id, item, 1))
            .unwrap_or_else(|e| e.to_string()),
    );
    let second = orders[1]["order_id"].as_str().unwrap();
    said.push(
        "cancel",
        format!("{:?}", engine.order_cancel(second, "NoInventory")),
    );
    sync(&engine, &said);

    // Every fault Amazon or Login with Amazon can throw at the library.
    let kinds = [
        ("lwaToken", FaultKind::Status { status: 401 }),
        ("lwaToken", FaultKind::Status { status: 500 }),
        ("lwaToken", FaultKind::Malformed),
        ("lwaToken", FaultKind::Truncate),
        ("searchOrders", FaultKind::Malformed),
        ("searchOrders", FaultKind::Truncate),
        ("searchOrders", FaultKind::Drop),
        ("searchOrders", FaultKind::ExpiredToken),
        ("searchOrders", FaultKind::Status { status: 400 }),
        ("searchOrders", FaultKind::Status { status: 403 }),
        ("confirmShipment", FaultKind::Status { status: 500 }),
    ];
    place_orders(&emu, 2, false, None);
    for (op, kind) in kinds {
        emu.control().advance(chrono::Duration::minutes(30));
        fault(&emu, op, kind);
        sync(&engine, &said);
    }
    said.push("metrics", engine.metrics("{}").unwrap());
    said.push("listings", engine.listings().unwrap());
    said.push("shipments", engine.shipments(None).unwrap());
    let live = store_bytes(&dir);
    engine.close().unwrap();

    // A wrong client secret, and Login with Amazon out of reach.
    let wrong = config_json(&emu, &dir.path().join("wrong.sqlite"), "").replace(
        &format!("\"{}\"", Seller::demo().client_secret),
        &format!("\"{WRONG_SECRET}\""),
    );
    assert!(wrong.contains(WRONG_SECRET));
    let engine = open_logged(&wrong, &said);
    sync(&engine, &said);
    engine.close().unwrap();
    let down = config_json(&emu, &dir.path().join("down.sqlite"), "")
        .replace(&emu.url(), "http://127.0.0.1:9");
    let engine = open_logged(&down, &said);
    sync(&engine, &said);
    engine.close().unwrap();

    // The CLI over the store: its tables and its HTML report.
    let html = dir.path().join("report.html");
    for args in [
        vec!["metrics", store.to_str().unwrap()],
        vec!["metrics", store.to_str().unwrap(), "--json"],
        vec!["status", store.to_str().unwrap()],
        vec!["report", store.to_str().unwrap(), html.to_str().unwrap()],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sellsync"))
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "sellsync {args:?}");
        said.push("cli", String::from_utf8_lossy(&out.stdout));
        said.push("cli", String::from_utf8_lossy(&out.stderr));
    }
    said.push("html", std::fs::read_to_string(&html).unwrap());

    let all = said.all();
    assert!(
        all.iter().any(|l| l.starts_with("log:")),
        "the log callback was called"
    );
    assert!(
        all.iter()
            .filter(|l| l.starts_with("error:"))
            .any(|l| l.contains("authentication")),
        "the wrong secret was refused"
    );
    for text in &all {
        for s in secrets() {
            assert!(!text.contains(&s), "a secret ({s:.6}…) in {text:.300}");
        }
        for b in BUYER {
            assert!(!text.contains(b), "buyer data ({b}) in {text:.300}");
        }
    }
    let bytes = [live, store_bytes(&dir)].concat();
    assert!(bytes.len() > 4096);
    for s in secrets() {
        assert!(!contains(&bytes, &s), "a secret ({s:.6}…) in the store");
    }
    for b in BUYER {
        assert!(
            !contains(&bytes, b),
            "buyer data ({b}) in clear in the store"
        );
    }
}
