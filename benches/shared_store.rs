//! The shared store on PostgreSQL beside the store on SQLite, in one run and at the same
//! settings (`"stock": {"durability": "full"}`, the default; the cluster at its defaults,
//! `fsync` and `synchronous_commit` on):
//!
//! 1. Stock levels from several processes at once: 4 real OS processes (this bench's own
//!    executable run again as a child), each a till on the same PostgreSQL database with no
//!    worker, each calling `stock_set` with one level at a time for its own 100 items (mapped
//!    once before) as fast as it can for `SHARED_STORE_SECONDS`; beside it 1 such process on
//!    PostgreSQL and 1 on a SQLite store file (a SQLite store is not shared between processes).
//!    Reported: levels per second of all processes together.
//! 2. Cost per order: an emulator with `SHARED_STORE_ORDERS` paid orders, its rate limits
//!    x10,000 so that the store dominates, one till: the wall time of `sync_now(FLOW_ORDERS)`
//!    per order, then of `order_next` + `order_ack` per order while taking them all.
//!
//! Contenders alternate over the rounds; each line gives the median with min and max.
//!
//! Run: `SELLSYNC_TEST_PG=postgresql://... cargo bench --bench shared_store` (a cluster from
//! `scripts/pg-cluster start DIR`; `scripts/bench` starts one). `SHARED_STORE_ROUNDS` (3),
//! `SHARED_STORE_SECONDS` (5), `SHARED_STORE_ORDERS` (2,000) change the job.

mod common;

use common::{result, size};
use sellsync::engine::FLOW_ORDERS;
use sellsync::model::{Component, SkuMapping, StockLevel};
use sellsync::store::testing;
use sellsync::Engine;
use sellsync_emulator::{Config as EmuConfig, Emulator, ListingSeed, OrderSeed, Seller};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Items each stock process reports levels for.
const ITEMS: usize = 100;
/// Processes at once on the shared store.
const PROCESSES: usize = 4;
/// Set in a child: the configuration of its till (and the other `CHILD_*` variables).
const CHILD: &str = "SHARED_STORE_CHILD_CONFIG";
const CHILD_PREFIX: &str = "SHARED_STORE_CHILD_PREFIX";
const CHILD_SECONDS: &str = "SHARED_STORE_CHILD_SECONDS";

/// Where a till keeps its store.
#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// The configuration of a till `node` of the demo seller against `endpoint`: a store file in
/// `dir` on SQLite; on PostgreSQL the database `url` (a lease of 3 s, the test key).
fn config(backend: Backend, dir: &Path, url: &str, node: &str, endpoint: &str) -> String {
    let s = Seller::demo();
    let store = match backend {
        Backend::Sqlite => format!(r#""store_path": {:?}"#, dir.join("store.sqlite")),
        Backend::Postgres => format!(
            r#""store": {{"postgres": {url:?}, "lease_seconds": 3, "node": "{node}"}}, "privacy": {{"key": "{}"}}"#,
            testing::TEST_KEY
        ),
    };
    format!(
        r#"{{{store}, "seller_id": "{}", "marketplace_ids": ["ATVPDKIKX0DER"], "endpoint": "{endpoint}",
            "http_allow_insecure_loopback": true,
            "credentials": {{"client_id": "{}", "client_secret": "{}", "refresh_token": "{}"}}}}"#,
        s.seller_id, s.client_id, s.client_secret, s.refresh_token
    )
}

fn open(config: &str) -> Engine {
    Engine::open(sellsync::Config::from_json(config).expect("configuration")).expect("till opens")
}

/// A fresh PostgreSQL database of the test cluster for `dir` (a new temporary directory each
/// time, so a new database).
fn database(dir: &Path) -> String {
    testing::database_for(dir.join("shared").to_str().unwrap())
        .expect("a database in SELLSYNC_TEST_PG")
}

/// The child: opens its till, maps its items and gives each a first level, says `ready`, waits
/// for `go` on stdin, then sets single levels as fast as it can for the given seconds and
/// prints `done LEVELS SECONDS`.
fn child(config: &str) {
    let prefix = std::env::var(CHILD_PREFIX).unwrap();
    let seconds: f64 = std::env::var(CHILD_SECONDS).unwrap().parse().unwrap();
    let till = open(config);
    let items: Vec<String> = (0..ITEMS).map(|i| format!("{prefix}-{i}")).collect();
    let mappings: Vec<SkuMapping> = items
        .iter()
        .map(|item| SkuMapping {
            sku: format!("SKU-{item}"),
            items: vec![Component {
                host_item: item.clone(),
                units: 1,
            }],
            ..Default::default()
        })
        .collect();
    till.sku_map(&mappings).unwrap();
    let first: Vec<StockLevel> = items
        .iter()
        .map(|item| StockLevel {
            host_item: item.clone(),
            on_hand: 50,
        })
        .collect();
    till.stock_set(&first).unwrap();
    let mut out = std::io::stdout();
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "go");
    let (start, budget) = (Instant::now(), Duration::from_secs_f64(seconds));
    let mut n = 0usize;
    while start.elapsed() < budget {
        // Every pass over the items changes each one's level.
        let level = StockLevel {
            host_item: items[n % ITEMS].clone(),
            on_hand: ((n / ITEMS) % 50) as i64,
        };
        till.stock_set(&[level]).unwrap();
        n += 1;
    }
    let took = start.elapsed().as_secs_f64();
    writeln!(out, "done {n} {took}").unwrap();
    out.flush().unwrap();
    drop(till);
}

/// Levels per second of `configs.len()` processes at once, each a child with its own items.
fn stock_processes(configs: &[String], seconds: f64) -> f64 {
    let exe = std::env::current_exe().unwrap();
    let mut children: Vec<_> = configs
        .iter()
        .enumerate()
        .map(|(p, config)| {
            Command::new(&exe)
                .env(CHILD, config)
                .env(CHILD_PREFIX, format!("P{p}"))
                .env(CHILD_SECONDS, seconds.to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("child starts")
        })
        .collect();
    let mut outs: Vec<_> = children
        .iter_mut()
        .map(|c| BufReader::new(c.stdout.take().unwrap()))
        .collect();
    let mut line = String::new();
    for out in &mut outs {
        line.clear();
        out.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "a child failed to open its till");
    }
    // All start at once.
    for c in &mut children {
        writeln!(c.stdin.as_mut().unwrap(), "go").unwrap();
    }
    let mut rate = 0.0;
    for (c, out) in children.iter_mut().zip(&mut outs) {
        line.clear();
        out.read_line(&mut line).unwrap();
        let parts: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(parts.first(), Some(&"done"), "a child failed: {line:?}");
        let levels: f64 = parts[1].parse().unwrap();
        let took: f64 = parts[2].parse().unwrap();
        rate += levels / took;
        assert!(c.wait().unwrap().success());
    }
    rate
}

/// Seconds per order of `sync_now(FLOW_ORDERS)` and of `order_next` + `order_ack`, taking
/// `orders` paid orders from an emulator x10,000 into a fresh store on `backend`.
fn orders(backend: Backend, orders: usize) -> (f64, f64) {
    let emu = Emulator::start(EmuConfig {
        rate_scale: 10_000.0,
        ..EmuConfig::default()
    })
    .unwrap();
    let listings: Vec<ListingSeed> = (0..200)
        .map(|i| ListingSeed::new(format!("SKU-{i:04}"), 100, false))
        .collect();
    emu.control().seed_listings(None, &listings).unwrap();
    let placed = emu
        .control()
        .place_orders(&OrderSeed {
            count: Some(orders),
            age_seconds: 600,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(placed.len(), orders);
    let dir = tempfile::tempdir().unwrap();
    let url = match backend {
        Backend::Postgres => database(dir.path()),
        Backend::Sqlite => String::new(),
    };
    let till = open(&config(backend, dir.path(), &url, "till-1", &emu.url()));
    let t = Instant::now();
    let report = till
        .sync_now(FLOW_ORDERS, Duration::from_secs(600))
        .unwrap();
    let sync = t.elapsed().as_secs_f64();
    assert_eq!(report.orders.new as usize, orders);
    let t = Instant::now();
    let mut taken = 0;
    while let Some(doc) = till.order_next().unwrap() {
        let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
        let id = v["order_id"].as_str().unwrap();
        till.order_ack(id, &format!("HOST-{id}")).unwrap();
        taken += 1;
    }
    let hand = t.elapsed().as_secs_f64();
    assert_eq!(taken, orders);
    (sync / orders as f64, hand / orders as f64)
}

/// Per-round values of one contender.
#[derive(Default)]
struct Values(Vec<f64>);

impl Values {
    fn median(&self) -> f64 {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }
    fn line(&self, name: &str, unit: &str, digits: usize) -> String {
        let min = self.0.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self.0.iter().copied().fold(0.0, f64::max);
        format!(
            "| {name} | {:.digits$} | {min:.digits$} | {max:.digits$} | {unit} |",
            self.median()
        )
    }
}

fn main() {
    if let Ok(config) = std::env::var(CHILD) {
        return child(&config);
    }
    let rounds = size("SHARED_STORE_ROUNDS", 3);
    let seconds = size("SHARED_STORE_SECONDS", 5) as f64;
    let n_orders = size("SHARED_STORE_ORDERS", 2_000);
    // Opening a till reaches no endpoint; an emulator stands for Amazon all the same.
    let emu = Emulator::start(EmuConfig::default()).unwrap();

    let names = [
        "stock_set, 1 process, SQLite",
        "stock_set, 1 process, PostgreSQL",
        "stock_set, 4 processes at once, PostgreSQL",
        "sync_now(FLOW_ORDERS) per order, SQLite",
        "sync_now(FLOW_ORDERS) per order, PostgreSQL",
        "order_next + order_ack per order, SQLite",
        "order_next + order_ack per order, PostgreSQL",
    ];
    let mut values: Vec<Values> = names.iter().map(|_| Values::default()).collect();
    for round in 1..=rounds {
        eprintln!("shared store: round {round}/{rounds}");
        let dir = tempfile::tempdir().unwrap();
        let sqlite = config(Backend::Sqlite, dir.path(), "", "", &emu.url());
        values[0].0.push(stock_processes(&[sqlite], seconds));

        let dir = tempfile::tempdir().unwrap();
        let url = database(dir.path());
        let one = config(Backend::Postgres, dir.path(), &url, "till-1", &emu.url());
        values[1].0.push(stock_processes(&[one], seconds));

        let dir = tempfile::tempdir().unwrap();
        let url = database(dir.path());
        let tills: Vec<String> = (1..=PROCESSES)
            .map(|p| {
                config(
                    Backend::Postgres,
                    dir.path(),
                    &url,
                    &format!("till-{p}"),
                    &emu.url(),
                )
            })
            .collect();
        values[2].0.push(stock_processes(&tills, seconds));

        for (i, backend) in [(0, Backend::Sqlite), (1, Backend::Postgres)] {
            let (sync, hand) = orders(backend, n_orders);
            values[3 + i].0.push(sync * 1e3);
            values[5 + i].0.push(hand * 1e3);
        }
    }

    println!(
        "shared store: PostgreSQL beside SQLite, {rounds} rounds side by side (median, min, max)"
    );
    println!();
    println!(
        "stock levels: one level per stock_set call, {ITEMS} items per process, {seconds} s; \
         orders: {n_orders} orders, emulator rates x10,000"
    );
    println!();
    println!("| contender | median | min | max | unit |");
    println!("|---|---|---|---|---|");
    for (i, (v, name)) in values.iter().zip(names).enumerate() {
        let (unit, digits) = if i < 3 {
            ("levels/s", 0)
        } else {
            ("ms/order", 3)
        };
        println!("{}", v.line(name, unit, digits));
    }
    println!();
    let ratio = |a: usize, b: usize| values[a].median() / values[b].median();
    println!(
        "stock, 4 PostgreSQL processes ÷ 1 SQLite process:   {:.2}x",
        ratio(2, 0)
    );
    println!(
        "stock, 1 PostgreSQL process ÷ 1 SQLite process:     {:.2}x",
        ratio(1, 0)
    );
    println!(
        "stock, 4 PostgreSQL processes ÷ 1 PostgreSQL:       {:.2}x",
        ratio(2, 1)
    );
    println!(
        "sync_now per order, PostgreSQL ÷ SQLite:            {:.2}x",
        ratio(4, 3)
    );
    println!(
        "order_next + order_ack per order, PostgreSQL ÷ SQLite: {:.2}x",
        ratio(6, 5)
    );

    let s = "shared store";
    let keys = [
        "stock_set, 1 process, SQLite",
        "stock_set, 1 process, PostgreSQL",
        "stock_set, 4 processes, PostgreSQL",
        "sync_now per order, SQLite",
        "sync_now per order, PostgreSQL",
        "order_next + order_ack per order, SQLite",
        "order_next + order_ack per order, PostgreSQL",
    ];
    let refs = ["", keys[0], keys[0], "", keys[3], "", keys[5]];
    for (i, ((v, key), reference)) in values.iter().zip(keys).zip(refs).enumerate() {
        let unit = if i < 3 { "levels/s" } else { "ms/order" };
        result(s, key, v.median(), unit, reference, "");
    }
}
