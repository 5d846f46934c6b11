//! The fault matrix: every SP-API operation the library calls × every fault the emulator
//! injects. A cell gives the library work that makes it call the operation, injects the fault
//! for the next calls of it, runs sync cycles until the work is done, and checks that it
//! converged, that nothing was lost or done twice, and that an event (or, for a stale page, a
//! log line) named the operation and the fault. Cells that cannot apply are skipped by the
//! table, each with its reason.
//!
//! Each scenario is one shop on one emulator: a first round without faults learns Amazon's
//! usage plans, then every cell is a round of new work on a handle opened afresh on the same
//! store (so its access token and Restricted Data Token are fetched again, as after a restart).

mod common;

use common::*;
use sellsync::model::StockLevel;
use sellsync::Engine;
use sellsync_emulator::{CanceledBy, Emulator, Fault, FaultKind, OrderSeed};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The client's timeout in the matrix; delays and late answers last three times as long.
const TIMEOUT_MS: u64 = 500;

/// A fault as the matrix injects it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Inject {
    S429,
    S500,
    S503,
    Delay,
    Drop,
    Truncate,
    Malformed,
    ExpiredToken,
    LateAnswer,
    FeedFatal,
    StalePage,
}

const FAULTS: [Inject; 11] = [
    Inject::S429,
    Inject::S500,
    Inject::S503,
    Inject::Delay,
    Inject::Drop,
    Inject::Truncate,
    Inject::Malformed,
    Inject::ExpiredToken,
    Inject::LateAnswer,
    Inject::FeedFatal,
    Inject::StalePage,
];

impl Inject {
    fn kind(self) -> FaultKind {
        let late = TIMEOUT_MS * 3;
        match self {
            Inject::S429 => FaultKind::Status { status: 429 },
            Inject::S500 => FaultKind::Status { status: 500 },
            Inject::S503 => FaultKind::Status { status: 503 },
            Inject::Delay => FaultKind::Delay { ms: late },
            Inject::Drop => FaultKind::Drop,
            Inject::Truncate => FaultKind::Truncate,
            Inject::Malformed => FaultKind::Malformed,
            Inject::ExpiredToken => FaultKind::ExpiredToken,
            Inject::LateAnswer => FaultKind::LateAnswer { ms: late },
            Inject::FeedFatal => FaultKind::FeedFatal,
            Inject::StalePage => FaultKind::StalePage,
        }
    }

    /// How many calls the fault hits.
    fn uses(self) -> u32 {
        match self {
            Inject::Delay | Inject::LateAnswer | Inject::FeedFatal | Inject::StalePage => 1,
            _ => 2,
        }
    }

    /// The fault classes a `sync.retrying` event may give it.
    fn classes(self) -> &'static [&'static str] {
        match self {
            Inject::S429 => &["throttled"],
            Inject::S500 | Inject::S503 => &["server_error"],
            Inject::Delay | Inject::LateAnswer => &["timeout"],
            Inject::Drop | Inject::Truncate => &["connection", "unreadable_answer"],
            Inject::Malformed => &["unreadable_answer"],
            Inject::ExpiredToken => &["token_expired"],
            Inject::FeedFatal => &["feed_fatal"],
            Inject::StalePage => &[],
        }
    }
}

/// What the library is given to do, so that it calls an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    /// New orders to take and a buyer cancellation, by Orders v2026-01-01.
    Orders2026,
    /// The same by Orders v0 (getOrders with a Restricted Data Token, getOrderItems; getOrders
    /// answers without addresses, so they come by getOrderAddress).
    OrdersV0,
    /// A package to confirm.
    Shipment,
    /// A stock change by the fast lane (read-back and patch).
    StockPatch,
    /// Stock changes by a listings feed.
    StockFeed,
    /// A seller cancellation (order acknowledgement feed).
    Cancel,
    /// A refund (payment adjustment feed).
    Refund,
    /// The merchant listings report.
    ListingsReport,
}

/// One operation: its emulator name, the names events give it, and how to make the library call it.
struct Op {
    emulator: &'static str,
    events: &'static [&'static str],
    scenario: Scenario,
}

const fn op(emulator: &'static str, events: &'static [&'static str], scenario: Scenario) -> Op {
    Op {
        emulator,
        events,
        scenario,
    }
}

const DOCUMENT: &[&str] = &["uploadDocument", "downloadDocument"];

/// Every operation the library calls, with the scenario that makes it call it.
const OPS: &[Op] = &[
    op("lwaToken", &["lwaToken"], Scenario::Orders2026),
    op("searchOrders", &["searchOrders"], Scenario::Orders2026),
    op("getOrders", &["getOrders"], Scenario::OrdersV0),
    op("getOrderItems", &["getOrderItems"], Scenario::OrdersV0),
    op("getOrderAddress", &["getOrderAddress"], Scenario::OrdersV0),
    op(
        "createRestrictedDataToken",
        &["createRestrictedDataToken"],
        Scenario::OrdersV0,
    ),
    op("confirmShipment", &["confirmShipment"], Scenario::Shipment),
    op("getOrder2026", &["getOrder"], Scenario::Shipment),
    op(
        "searchListingsItems",
        &["searchListingsItems"],
        Scenario::StockPatch,
    ),
    op(
        "patchListingsItem",
        &["patchListingsItem"],
        Scenario::StockPatch,
    ),
    op(
        "createFeedDocument",
        &["createFeedDocument"],
        Scenario::StockFeed,
    ),
    op("document", DOCUMENT, Scenario::StockFeed),
    op("createFeed", &["createFeed"], Scenario::StockFeed),
    op("getFeed", &["getFeed"], Scenario::StockFeed),
    op("getFeedDocument", &["getFeedDocument"], Scenario::StockFeed),
    op(
        "createFeedDocument",
        &["createFeedDocument"],
        Scenario::Cancel,
    ),
    op("document", DOCUMENT, Scenario::Cancel),
    op("createFeed", &["createFeed"], Scenario::Cancel),
    op("getFeed", &["getFeed"], Scenario::Cancel),
    op("getFeedDocument", &["getFeedDocument"], Scenario::Cancel),
    op(
        "createFeedDocument",
        &["createFeedDocument"],
        Scenario::Refund,
    ),
    op("document", DOCUMENT, Scenario::Refund),
    op("createFeed", &["createFeed"], Scenario::Refund),
    op("getFeeds", &["getFeeds"], Scenario::Refund),
    op("getFeed", &["getFeed"], Scenario::Refund),
    op("getFeedDocument", &["getFeedDocument"], Scenario::Refund),
    op("createReport", &["createReport"], Scenario::ListingsReport),
    op("getReport", &["getReport"], Scenario::ListingsReport),
    op(
        "getReportDocument",
        &["getReportDocument"],
        Scenario::ListingsReport,
    ),
    op("document", DOCUMENT, Scenario::ListingsReport),
    op(
        "getInventorySummaries",
        &["getInventorySummaries"],
        Scenario::ListingsReport,
    ),
];

/// Operations of the library's client that no scenario makes it call, and why.
const NOT_CALLED: &[(&str, &str)] = &[
    ("getListingsItem", "the library never calls it"),
    (
        "getDestinations",
        "Notifications API: called only by the set-up (tests/notifications.rs), which fails with \
         the call's own error and is run again by hand",
    ),
    (
        "createDestination",
        "Notifications API set-up, as getDestinations",
    ),
    ("deleteDestination", "the library never calls it"),
    (
        "getSubscription",
        "Notifications API set-up, as getDestinations",
    ),
    (
        "createSubscription",
        "Notifications API set-up, as getDestinations",
    ),
    ("getSubscriptionById", "the library never calls it"),
    ("deleteSubscriptionById", "the library never calls it"),
];

/// Why a cell does not apply, or None when it runs.
fn skip(op: &Op, f: Inject) -> Option<&'static str> {
    match (op.emulator, f) {
        ("createFeed", Inject::FeedFatal) => None,
        (_, Inject::FeedFatal) => Some("only createFeed starts a feed"),
        ("searchOrders" | "getOrders", Inject::StalePage) => None,
        ("getOrder2026", Inject::StalePage) => Some(
            "read only after a lost answer, so never on its own; a stale read there, and the \
             resend it leads to, is tests/shipments.rs's case",
        ),
        (_, Inject::StalePage) => Some("only orders can be stale"),
        ("lwaToken" | "document", Inject::ExpiredToken) => {
            Some("the call carries no SP-API access token")
        }
        ("confirmShipment", Inject::Truncate | Inject::Malformed) => {
            Some("confirmShipment answers 204 without a body: nothing to cut off or garble")
        }
        _ => None,
    }
}

/// Flow bits of a scenario.
fn flows(s: Scenario) -> u32 {
    match s {
        Scenario::Orders2026 | Scenario::OrdersV0 => 1,
        Scenario::StockPatch | Scenario::StockFeed => 2,
        Scenario::ListingsReport => 4,
        Scenario::Shipment | Scenario::Cancel | Scenario::Refund => 8,
    }
}

const SKUS: usize = 5;

fn item(i: usize) -> String {
    format!("ITEM-{i}")
}

/// Whether a round's work is done, given the events of the round so far; Err when something
/// went wrong that waiting cannot mend.
type Done = Box<dyn Fn(&Shop, &[Value]) -> Result<bool, String>>;

/// One shop on its own emulator, taken through rounds of work.
struct Shop {
    scenario: Scenario,
    emu: Emulator,
    dir: tempfile::TempDir,
    engine: Option<Engine>,
    logs: Arc<Mutex<Vec<String>>>,
    /// Orders the host has taken (order ids), for exactly-once checks.
    taken: BTreeSet<String>,
    /// Orders taken and not cancelled, oldest first.
    open_orders: Vec<String>,
    /// Orders placed, to be taken.
    placed: BTreeSet<String>,
    /// Taken order documents still free for a shipment or a cancellation.
    spare: Vec<Value>,
    round: i64,
}

impl Shop {
    fn new(scenario: Scenario) -> Shop {
        let emu = emulator(1000.0);
        // Changes reach the searches within two minutes, none hours late: each round waits for
        // its own changes (the hours-late habit is the subject of tests/search_lag.rs).
        emu.control()
            .set_settings(sellsync_emulator::settings::SettingsChange {
                order_search_late_rate: Some(0.0),
                ..Default::default()
            })
            .unwrap();
        seed_listings(&emu, 40, 50);
        if scenario == Scenario::ListingsReport {
            // Their stock at Amazon is read with each report (getInventorySummaries).
            seed_skus(&emu, &["FBA-0".into(), "FBA-1".into()], 5, true);
        }
        if scenario == Scenario::OrdersV0 {
            emu.control().with_world(|w| w.get_orders_addresses = false);
        }
        let mut shop = Shop {
            scenario,
            emu,
            dir: tempdir(),
            engine: None,
            logs: Arc::default(),
            taken: BTreeSet::new(),
            open_orders: Vec::new(),
            placed: BTreeSet::new(),
            spare: Vec::new(),
            round: 0,
        };
        shop.reopen();
        match scenario {
            Scenario::Shipment | Scenario::Cancel | Scenario::Refund => {
                let placed = place_orders(&shop.emu, 60, false, None);
                shop.engine().sync_now(1, SYNC).expect("orders sync");
                shop.spare = drain(shop.engine());
                assert_eq!(shop.spare.len(), placed.len());
            }
            Scenario::StockPatch | Scenario::StockFeed => {
                let e = shop.engine();
                let maps: Vec<_> = (0..SKUS)
                    .map(|i| one_to_one(&format!("SKU-{i:04}"), &item(i)))
                    .collect();
                e.sku_map(&maps).unwrap();
                e.stock_set(&levels(30)).unwrap();
                settle(&shop.emu, e);
            }
            _ => {}
        }
        // A first round without faults: the handle learns Amazon's usage plans.
        if let Err(e) = shop.round(None) {
            panic!("{scenario:?}: the round without faults failed: {e}");
        }
        shop
    }

    fn engine(&self) -> &Engine {
        self.engine.as_ref().expect("open")
    }

    /// Closes the handle and opens a new one on the same store.
    fn reopen(&mut self) {
        self.engine = None;
        let store = self.dir.path().join("store.sqlite");
        let mut v: Value = serde_json::from_str(&config_json(&self.emu, &store, "")).unwrap();
        v["http"]["timeout_ms"] = TIMEOUT_MS.into();
        v["orders"] = serde_json::json!({"overlap_seconds": 900});
        match self.scenario {
            Scenario::OrdersV0 => v["orders_api"] = "v0".into(),
            Scenario::StockFeed => {
                v["stock"] =
                    serde_json::json!({"fast_lane": false, "listings_feed_window_seconds": 1})
            }
            _ => {}
        }
        let engine = Engine::open(sellsync::Config::from_json(&v.to_string()).unwrap()).unwrap();
        let logs = self.logs.clone();
        engine
            .set_log_callback(
                3,
                Some(Box::new(move |_, line: &str| {
                    logs.lock().unwrap().push(line.to_string())
                })),
            )
            .unwrap();
        self.engine = Some(engine);
    }

    /// Gives the library new work; returns what must hold once it is done.
    fn work(&mut self) -> Done {
        self.round += 1;
        let round = self.round;
        let c = self.emu.control();
        match self.scenario {
            Scenario::Orders2026 | Scenario::OrdersV0 => {
                // The buyer cancels an order taken before; new orders come.
                let cancelled = self.open_orders.pop();
                if let Some(id) = &cancelled {
                    assert!(c.cancel(id, CanceledBy::Buyer, "changed mind"));
                    c.advance(chrono::Duration::minutes(3));
                }
                self.placed.extend(place_orders(&self.emu, 3, false, None));
                Box::new(move |shop: &Shop, _: &[Value]| {
                    let store = &shop.engine().core().store;
                    let cancelled_stored = cancelled.as_ref().is_none_or(|id| {
                        store.order(id).unwrap().unwrap().status
                            == sellsync::model::OrderStatus::Cancelled
                    });
                    Ok(cancelled_stored && shop.placed.is_subset(&shop.taken))
                })
            }
            Scenario::Shipment => {
                let o = self.spare.pop().expect("an order to ship");
                let id = o["order_id"].as_str().unwrap().to_string();
                let item = o["items"][0]["order_item_id"].as_str().unwrap();
                let q = o["items"][0]["quantity"].as_i64().unwrap();
                self.engine()
                    .shipment_confirm(&package(&id, item, q))
                    .unwrap();
                Box::new(move |shop: &Shop, evs: &[Value]| {
                    let state = shop.emu.control().state();
                    let ships: Vec<&Value> = state["shipments"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|s| s["order_id"] == id.as_str())
                        .collect();
                    if ships.iter().any(|s| s["confirmations"] != 1) || ships.len() > 1 {
                        return Err(format!("confirmed more than once: {ships:?}"));
                    }
                    let view: Value =
                        serde_json::from_str(&shop.engine().shipments(Some(&id)).unwrap()).unwrap();
                    let confirmed = evs
                        .iter()
                        .filter(|e| e["type"] == "shipment.confirmed" && e["order_id"] == *id)
                        .count();
                    Ok(ships.len() == 1
                        && view["shipments"][0]["state"] == "SENT"
                        && confirmed == 1)
                })
            }
            Scenario::StockPatch | Scenario::StockFeed => {
                let level = 100 + round;
                let levels = if self.scenario == Scenario::StockPatch {
                    vec![StockLevel {
                        host_item: item(0),
                        on_hand: level,
                    }]
                } else {
                    levels(level)
                };
                self.engine().stock_set(&levels).unwrap();
                Box::new(move |shop: &Shop, _: &[Value]| {
                    let c = shop.engine().core().store.stock_counts().unwrap();
                    let all = (0..SKUS).all(|i| {
                        let want = if i == 0 || shop.scenario == Scenario::StockFeed {
                            level
                        } else {
                            30
                        };
                        shop.emu.control().quantity(&format!("SKU-{i:04}")) == Some(want)
                    });
                    Ok(all && c.open_feeds == 0 && c.out_of_step == 0)
                })
            }
            Scenario::Cancel => {
                let o = self.spare.pop().expect("an order to cancel");
                let id = o["order_id"].as_str().unwrap().to_string();
                assert!(self.engine().order_cancel(&id, "NoInventory").unwrap());
                Box::new(move |shop: &Shop, evs: &[Value]| {
                    let done = evs
                        .iter()
                        .filter(|e| e["order_id"] == *id && e["type"] == "adjustment.done")
                        .count();
                    if evs
                        .iter()
                        .any(|e| e["order_id"] == *id && e["type"] == "adjustment.failed")
                    {
                        return Err(format!("the cancellation of {id} failed: {evs:?}"));
                    }
                    let status = shop.emu.control().order(&id).map(|o| o.status);
                    Ok(done == 1 && status == Some(sellsync_emulator::Status::Canceled))
                })
            }
            Scenario::Refund => {
                let o = self.spare.pop().expect("an order to refund");
                let id = o["order_id"].as_str().unwrap().to_string();
                let item = o["items"][0]["order_item_id"].as_str().unwrap().to_string();
                self.engine()
                    .order_refund(&sellsync::model::Refund {
                        order_id: id.clone(),
                        refund_id: None,
                        reason: "CustomerReturn".into(),
                        items: vec![sellsync::model::RefundItem {
                            order_item_id: item,
                            amount: "1.00".into(),
                        }],
                    })
                    .unwrap();
                Box::new(move |shop: &Shop, evs: &[Value]| {
                    let of_order = |t: &str| {
                        evs.iter()
                            .filter(|e| e["order_id"] == *id && e["type"] == t)
                            .count()
                    };
                    if of_order("adjustment.failed") > 0 {
                        return Err(format!("the refund of {id} failed: {evs:?}"));
                    }
                    let state = shop.emu.control().state();
                    let refunds = state["refunds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|r| r["order_id"] == *id)
                        .count();
                    if refunds > 1 || of_order("adjustment.done") > 1 {
                        return Err(format!("{id} refunded {refunds} times: {evs:?}"));
                    }
                    Ok(refunds == 1 && of_order("adjustment.done") == 1)
                })
            }
            Scenario::ListingsReport => {
                let before = pulled_at(self.engine());
                Box::new(move |shop: &Shop, _: &[Value]| {
                    let v: Value =
                        serde_json::from_str(&shop.engine().listings().unwrap()).unwrap();
                    let n = v["listings"].as_array().map_or(0, Vec::len);
                    if v["pulled_at"] != before && n != 42 {
                        return Err(format!("the report was read with {n} of 42 listings"));
                    }
                    // And the FBA stock after it.
                    let fba: Value =
                        serde_json::from_str(&shop.engine().fba_stock().unwrap()).unwrap();
                    let read_after = v["pulled_at"].is_string()
                        && fba["read_at"].as_str() >= v["pulled_at"].as_str();
                    let skus = fba["skus"].as_array().map_or(0, Vec::len);
                    if read_after && skus != 2 {
                        return Err(format!("the FBA stock was read with {skus} of 2 SKUs"));
                    }
                    Ok(v["pulled_at"] != before && read_after)
                })
            }
        }
    }

    /// One round of new work, with a fault on one operation; Err says what went wrong.
    fn round(&mut self, fault: Option<(&Op, Inject)>) -> Result<(), String> {
        self.logs.lock().unwrap().clear();
        let done = self.work();
        let mut evs = Vec::new();
        if let Some((op, f)) = fault {
            if f == Inject::StalePage {
                // A page is stale against what the library already has.
                let _ = self.engine().sync_now(1, SYNC);
                self.take(&mut evs)?;
            }
            // An operation called only after a lost answer: the answer is lost first.
            let lost = match op.emulator {
                "getOrder2026" => Some("confirmShipment"),
                "getFeeds" => Some("createFeed"),
                _ => None,
            };
            if let Some(lost) = lost {
                self.emu.control().inject(Fault {
                    operation: lost.into(),
                    count: 1,
                    kind: FaultKind::Drop,
                });
            }
            self.emu.control().inject(Fault {
                operation: op.emulator.into(),
                count: f.uses(),
                kind: f.kind(),
            });
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        // A feed whose createFeed may have been taken is resolved from Amazon's list of feeds
        // once no createFeed can still be on its way: Amazon's time passes while the work waits.
        // (The orders flow runs too: its calls carry Amazon's time to the library.)
        let resolves_later =
            fault.is_some_and(|(op, _)| matches!(op.emulator, "createFeed" | "getFeeds"));
        let flows = flows(self.scenario) | if resolves_later { 1 } else { 0 };
        let mut waited_since = Instant::now();
        loop {
            let _ = self.engine().sync_now(flows, SYNC);
            self.take(&mut evs)?;
            if done(self, &evs)? {
                break;
            }
            if resolves_later && waited_since.elapsed() > Duration::from_millis(300) {
                self.emu.control().advance(chrono::Duration::minutes(1));
                waited_since = Instant::now();
            }
            if Instant::now() > deadline {
                let stock = self.engine().core().store.stock_counts().unwrap();
                let landing = self.emu.control().landing();
                let shown: Vec<Option<i64>> = (0..SKUS)
                    .map(|i| self.emu.control().quantity(&format!("SKU-{i:04}")))
                    .collect();
                let known = self.engine().core().store.amazon_known("SKU-0000").unwrap();
                let log: Vec<_> = self
                    .emu
                    .control()
                    .quantity_log(Some("SKU-0000"), None)
                    .into_iter()
                    .rev()
                    .take(4)
                    .map(|c| (c.time, c.from, c.to))
                    .collect();
                return Err(format!(
                    "did not converge; stock {stock:?}, Amazon shows {shown:?}, {landing} patches to land; \
                     SKU-0000 known {known:?}, last changes {log:?}; events: {evs:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let left = self.emu.control().pending_faults();
        self.emu.control().clear_faults();
        let Some((op, f)) = fault else {
            return Ok(());
        };
        let hit = left
            .iter()
            .find(|p| p.operation == op.emulator)
            .map_or(f.uses(), |p| f.uses() - p.count);
        if hit == 0 {
            return Err("the fault never hit a call".into());
        }
        if f == Inject::StalePage {
            let logs = self.logs.lock().unwrap();
            return if logs.iter().any(|l| l.contains("stale page")) {
                Ok(())
            } else {
                Err(format!(
                    "no log line says a stale page was ignored: {logs:?}"
                ))
            };
        }
        let told = evs.iter().any(|e| {
            e["type"] == "sync.retrying"
                && op.events.iter().any(|o| e["operation"] == *o)
                && (op.emulator == "lwaToken" || f.classes().iter().any(|k| e["fault"] == *k))
        });
        if !told {
            return Err(format!(
                "no event named the operation and the fault: {evs:?}"
            ));
        }
        Ok(())
    }

    /// Takes the orders and events waiting, checking that no order comes twice.
    fn take(&mut self, evs: &mut Vec<Value>) -> Result<(), String> {
        for o in drain(self.engine()) {
            let id = o["order_id"].as_str().unwrap().to_string();
            if !self.taken.insert(id.clone()) {
                return Err(format!("order {id} was handed out twice"));
            }
            if self.scenario == Scenario::OrdersV0
                && o["fulfilled_by"] == "MERCHANT"
                && o["recipient"].is_null()
            {
                return Err(format!("order {id} was handed out without its address"));
            }
            self.open_orders.push(id);
        }
        evs.extend(events(self.engine()));
        Ok(())
    }
}

fn levels(on_hand: i64) -> Vec<StockLevel> {
    (0..SKUS)
        .map(|i| StockLevel {
            host_item: item(i),
            on_hand,
        })
        .collect()
}

fn pulled_at(engine: &Engine) -> Value {
    let v: Value = serde_json::from_str(&engine.listings().unwrap()).unwrap();
    v["pulled_at"].clone()
}

/// Runs every cell of `scenario`'s operations; fails naming every cell that failed.
fn run_matrix(scenario: Scenario) {
    let mut shop = Shop::new(scenario);
    let mut failed = Vec::new();
    let mut ran = 0;
    for op in OPS.iter().filter(|o| o.scenario == scenario) {
        for f in FAULTS {
            if skip(op, f).is_some() {
                continue;
            }
            shop.reopen();
            let cell = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                shop.round(Some((op, f)))
            }));
            ran += 1;
            let error = match cell {
                Ok(Ok(())) => continue,
                Ok(Err(e)) => e,
                Err(p) => p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default(),
            };
            shop.emu.control().clear_faults();
            failed.push(format!("{scenario:?} × {} × {f:?}: {error}", op.emulator));
        }
    }
    assert!(ran > 0);
    assert!(
        failed.is_empty(),
        "{} of {ran} cells failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

#[test]
fn the_table_covers_every_operation_and_every_fault() {
    // Every operation of the library's client is in the table or said not to be called.
    for o in sellsync::amazon::Operation::ALL {
        let name = o.model_name();
        let in_table = OPS.iter().any(|op| op.events.contains(&name.as_str()));
        let explained = NOT_CALLED.iter().any(|(n, _)| *n == name);
        assert!(in_table || explained, "{name} is not in the fault matrix");
    }
    // Every fault runs somewhere; every skip has its reason.
    for f in FAULTS {
        assert!(
            OPS.iter().any(|op| skip(op, f).is_none()),
            "{f:?} runs in no cell"
        );
    }
    let cells = OPS.len() * FAULTS.len();
    let skipped = OPS
        .iter()
        .flat_map(|op| FAULTS.iter().filter_map(move |f| skip(op, *f)))
        .count();
    assert!(cells - skipped >= 150, "{} cells run", cells - skipped);
}

#[test]
fn orders_2026_and_lwa() {
    run_matrix(Scenario::Orders2026);
}

#[test]
fn orders_v0() {
    run_matrix(Scenario::OrdersV0);
}

#[test]
fn shipment_confirmations() {
    run_matrix(Scenario::Shipment);
}

#[test]
fn stock_patches() {
    run_matrix(Scenario::StockPatch);
}

#[test]
fn stock_feeds() {
    run_matrix(Scenario::StockFeed);
}

#[test]
fn cancellations() {
    run_matrix(Scenario::Cancel);
}

#[test]
fn refunds() {
    run_matrix(Scenario::Refund);
}

#[test]
fn listings_report() {
    run_matrix(Scenario::ListingsReport);
}

#[test]
fn hours_offline_the_host_keeps_working_and_the_queues_drain_in_deadline_order() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 40, 50);
    // Orders placed over a day: their LatestShipDates differ.
    for age in (0..8).map(|i| 600 + i * 9_000) {
        emu.control()
            .place_orders(&OrderSeed {
                count: Some(1),
                age_seconds: age,
                ..Default::default()
            })
            .unwrap();
    }
    let dir = tempdir();
    let clock = Arc::new(sellsync::clock::ManualClock::new(emu.control().now()));
    let json = config_json(
        &emu,
        &dir.path().join("store.sqlite"),
        r#","orders": {"initial_lookback_hours": 72}"#,
    );
    let engine =
        Engine::open_with_clock(sellsync::Config::from_json(&json).unwrap(), clock.clone())
            .unwrap();
    engine.sync_now(1, SYNC).unwrap();
    let mut orders = drain(&engine);
    assert_eq!(orders.len(), 8);
    let maps: Vec<_> = (0..SKUS)
        .map(|i| one_to_one(&format!("SKU-{i:04}"), &item(i)))
        .collect();
    engine.sku_map(&maps).unwrap();
    engine.stock_set(&levels(20)).unwrap();
    settle(&emu, &engine);
    events(&engine);

    // The line goes down: every call, LWA's too, answers 503, for six hours.
    emu.control().inject(Fault {
        operation: "*".into(),
        count: 1_000_000,
        kind: FaultKind::Status { status: 503 },
    });
    // The host ships in its own order, latest deadline first, and cancels two orders.
    orders.sort_by_key(|o| std::cmp::Reverse(o["latest_ship_date"].as_str().unwrap().to_string()));
    let (cancel, ship) = orders.split_at(2);
    let id = |o: &Value| o["order_id"].as_str().unwrap().to_string();
    let mut evs = Vec::new();
    for (hour, o) in ship.iter().enumerate() {
        clock.advance(chrono::Duration::hours(1));
        emu.control().advance(chrono::Duration::hours(1));
        let level = StockLevel {
            host_item: item(hour % SKUS),
            on_hand: 10 + hour as i64,
        };
        engine.stock_set(&[level]).unwrap();
        let line = &o["items"][0];
        let pkg = package(
            &id(o),
            line["order_item_id"].as_str().unwrap(),
            line["quantity"].as_i64().unwrap(),
        );
        engine.shipment_confirm(&pkg).unwrap();
        if let Some(c) = cancel.get(hour) {
            assert!(engine.order_cancel(&id(c), "NoInventory").unwrap());
        }
        assert!(
            engine.sync_now(sellsync::engine::FLOW_ALL, SYNC).is_err(),
            "Amazon is down"
        );
        evs.extend(events(&engine));
    }
    let count = |evs: &[Value], t: &str| evs.iter().filter(|e| e["type"] == t).count();
    assert_eq!(count(&evs, "amazon.offline"), 1, "said once: {evs:?}");
    assert!(evs.iter().any(|e| e["type"] == "sync.retrying"
        && e["operation"] == "lwaToken"
        && e["fault"] == "lwa_unavailable"
        && e["next"] == "next_run"));
    assert!(count(&evs, "sync.failed") >= 6);
    // Everything waits in the store.
    let waiting: Value = serde_json::from_str(&engine.shipments(None).unwrap()).unwrap();
    assert_eq!(
        waiting["shipments"].as_array().unwrap().len(),
        6,
        "{waiting}"
    );
    assert!(engine.core().store.stock_counts().unwrap().out_of_step > 0);
    assert!(emu.control().state()["shipments"]
        .as_array()
        .unwrap()
        .is_empty());

    // The line is back.
    emu.control().clear_faults();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let _ = engine.sync_now(sellsync::engine::FLOW_ALL, SYNC);
        evs.extend(events(&engine));
        let waiting: Value = serde_json::from_str(&engine.shipments(None).unwrap()).unwrap();
        let stock = engine.core().store.stock_counts().unwrap();
        if waiting["shipments"].as_array().unwrap().is_empty()
            && count(&evs, "adjustment.done") == 2
            && stock.out_of_step == 0
            && stock.open_feeds == 0
            && emu.control().landing() == 0
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the queues did not drain: {waiting} {stock:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let online: Vec<&Value> = evs
        .iter()
        .filter(|e| e["type"] == "amazon.online")
        .collect();
    assert_eq!(online.len(), 1, "{evs:?}");
    assert!(
        online[0]["offline_seconds"].as_i64().unwrap() >= 5 * 3600,
        "{:?}",
        online[0]
    );
    // Everything reached Amazon, once.
    let c = emu.control();
    for i in 0..SKUS {
        let want = (0..ship.len())
            .filter(|h| h % SKUS == i)
            .map(|h| 10 + h as i64)
            .next_back();
        let sku = format!("SKU-{i:04}");
        assert_eq!(c.quantity(&sku), Some(want.unwrap_or(20)), "{sku}");
    }
    for o in cancel {
        assert_eq!(
            c.order(&id(o)).unwrap().status,
            sellsync_emulator::Status::Canceled
        );
    }
    let state = c.state();
    let mut ships: Vec<&Value> = state["shipments"].as_array().unwrap().iter().collect();
    assert_eq!(ships.len(), 6);
    assert!(ships.iter().all(|s| s["confirmations"] == 1), "{ships:?}");
    // Closest deadline first, though the host shipped them the other way round.
    ships.sort_by_key(|s| s["first_arrival"].as_str().unwrap().to_string());
    let deadlines: Vec<_> = ships
        .iter()
        .map(|s| {
            c.order(s["order_id"].as_str().unwrap())
                .unwrap()
                .latest_ship
        })
        .collect();
    let arrivals: BTreeSet<&str> = ships
        .iter()
        .map(|s| s["first_arrival"].as_str().unwrap())
        .collect();
    assert!(arrivals.len() > 1, "arrival times tell the order apart");
    for (i, j) in (0..ships.len()).flat_map(|i| (i + 1..ships.len()).map(move |j| (i, j))) {
        if ships[i]["first_arrival"] != ships[j]["first_arrival"] {
            assert!(
                deadlines[i] <= deadlines[j],
                "sent in deadline order: {deadlines:?}"
            );
        }
    }
}
