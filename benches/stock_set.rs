//! Stock levels through the C ABI beside bare SQLite doing the same durable write, in one run:
//! `sellsync_stock_set` (one item per call) and `sellsync_stock_set_batch` (1,000 items per
//! call) against one upsert per transaction and 1,000 per transaction on a plain table in WAL
//! mode at the same `synchronous` setting; the same at `"stock": {"durability": "process"}`
//! (`synchronous=NORMAL`); four host threads calling at once (group commit); and the CPU of one
//! call at 1,000 and at 100,000 mapped SKUs. Contenders alternate over three rounds; each line
//! gives the median with min and max.
//!
//! Run: `cargo bench --bench stock_set` (`STOCK_SET_ROUNDS`, `STOCK_SET_SKUS` change the rounds
//! and the larger catalogue).

mod common;

use common::{cpu_seconds, result, size};
use rusqlite::{params, Connection};
use sellsync::ffi::status::SELLSYNC_OK;
use sellsync::ffi::*;
use sellsync_emulator::Seller;
use std::ffi::CString;
use std::path::Path;
use std::time::Instant;

const ITEMS: usize = 1000;
const SINGLES: usize = 1000;
const BATCHES: usize = 10;
const THREADS: usize = 4;

/// A handle with `skus` SKUs mapped one to one to items `I-0..`.
fn open(dir: &Path, name: &str, skus: usize, durability: &str) -> Handle {
    let s = Seller::demo();
    let config = format!(
        r#"{{"store_path": {:?}, "seller_id": "{}", "marketplace_ids": ["ATVPDKIKX0DER"], "endpoint": "http://127.0.0.1:9",
            "http_allow_insecure_loopback": true, "stock": {{"durability": "{durability}"}},
            "credentials": {{"client_id": "{}", "client_secret": "{}", "refresh_token": "{}"}}}}"#,
        dir.join(name),
        s.seller_id,
        s.client_id,
        s.client_secret,
        s.refresh_token
    );
    let config = CString::new(config).unwrap();
    let mut h = std::ptr::null_mut();
    // SAFETY: valid NUL-terminated config and a writable out pointer.
    assert_eq!(
        unsafe { sellsync_open(config.as_ptr(), &mut h) },
        SELLSYNC_OK
    );
    for chunk in (0..skus).collect::<Vec<_>>().chunks(10_000) {
        let mappings: Vec<String> = chunk
            .iter()
            .map(|i| format!(r#"{{"sku":"SKU-{i}","items":[{{"host_item":"I-{i}"}}]}}"#))
            .collect();
        let json = CString::new(format!(r#"{{"mappings":[{}]}}"#, mappings.join(","))).unwrap();
        // SAFETY: `h` is open; the JSON is NUL-terminated.
        assert_eq!(unsafe { sellsync_sku_map(h, json.as_ptr()) }, SELLSYNC_OK);
    }
    let handle = Handle(h);
    // Every item gets a first level, so later calls measure updates.
    handle.batch(0, skus);
    handle
}

/// An open library handle, shared by the bench's threads.
struct Handle(*mut SellSync);
// SAFETY: the C ABI allows one handle to be used from many threads at once.
unsafe impl Sync for Handle {}
unsafe impl Send for Handle {}

impl Handle {
    fn single(&self, names: &[CString], from: usize, calls: usize) {
        for n in from..from + calls {
            // SAFETY: the handle is open; the item name is NUL-terminated.
            let rc = unsafe {
                sellsync_stock_set(self.0, names[n % names.len()].as_ptr(), (n % 50) as i64)
            };
            assert_eq!(rc, SELLSYNC_OK);
        }
    }

    fn batch(&self, round: usize, items: usize) {
        for chunk in (0..items).collect::<Vec<_>>().chunks(ITEMS) {
            let levels: Vec<String> = chunk
                .iter()
                .map(|i| format!(r#"{{"host_item":"I-{i}","on_hand":{}}}"#, (i + round) % 50))
                .collect();
            let json = CString::new(format!(r#"{{"levels":[{}]}}"#, levels.join(","))).unwrap();
            // SAFETY: the handle is open; the JSON is NUL-terminated.
            assert_eq!(
                unsafe { sellsync_stock_set_batch(self.0, json.as_ptr()) },
                SELLSYNC_OK
            );
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle is open and used no more.
        unsafe { sellsync_close(self.0) };
    }
}

/// Bare SQLite: a table of levels in WAL mode at `synchronous`.
fn bare(dir: &Path, name: &str, synchronous: &str) -> Connection {
    let c = Connection::open(dir.join(name)).unwrap();
    c.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
        .unwrap();
    c.pragma_update(None, "synchronous", synchronous).unwrap();
    c.execute_batch(
        "CREATE TABLE stock(host_item TEXT PRIMARY KEY, on_hand INTEGER NOT NULL, updated_at TEXT NOT NULL)",
    )
    .unwrap();
    c
}

/// Upserts `per_tx` levels per transaction, `count` levels in all.
fn bare_upserts(c: &mut Connection, count: usize, per_tx: usize, round: usize) {
    for start in (0..count).step_by(per_tx) {
        let tx = c.transaction().unwrap();
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO stock(host_item, on_hand, updated_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT(host_item) DO UPDATE SET on_hand = excluded.on_hand, updated_at = excluded.updated_at",
                )
                .unwrap();
            for n in start..start + per_tx {
                let now = chrono::Utc::now().to_rfc3339();
                stmt.execute(params![
                    format!("I-{}", n % ITEMS),
                    ((n + round) % 50) as i64,
                    now
                ])
                .unwrap();
            }
        }
        tx.commit().unwrap();
    }
}

/// Per-round rates of one contender.
#[derive(Default)]
struct Rates(Vec<f64>);

impl Rates {
    fn time(&mut self, work: usize, f: impl FnOnce()) {
        let t = Instant::now();
        f();
        self.0.push(work as f64 / t.elapsed().as_secs_f64());
    }
    fn median(&self) -> f64 {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }
    fn line(&self, name: &str, unit: &str) -> String {
        let min = self.0.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self.0.iter().copied().fold(0.0, f64::max);
        format!(
            "| {name} | {:.0} | {min:.0} | {max:.0} | {unit} |",
            self.median()
        )
    }
}

fn main() {
    let rounds = size("STOCK_SET_ROUNDS", 3);
    let big = size("STOCK_SET_SKUS", 100_000);
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<CString> = (0..ITEMS)
        .map(|i| CString::new(format!("I-{i}")).unwrap())
        .collect();
    let full = open(dir.path(), "full.sqlite", ITEMS, "full");
    let process = open(dir.path(), "process.sqlite", ITEMS, "process");
    let mut bare_full = bare(dir.path(), "bare-full.sqlite", "FULL");
    let mut bare_normal = bare(dir.path(), "bare-normal.sqlite", "NORMAL");
    bare_upserts(&mut bare_full, ITEMS, ITEMS, 0);
    bare_upserts(&mut bare_normal, ITEMS, ITEMS, 0);

    let names_of = [
        "sellsync_stock_set, full",
        "bare SQLite, 1 upsert per transaction, FULL",
        "sellsync_stock_set_batch of 1,000, full",
        "bare SQLite, 1,000 upserts per transaction, FULL",
        "sellsync_stock_set, process",
        "bare SQLite, 1 upsert per transaction, NORMAL",
        "sellsync_stock_set from 4 threads at once, full",
    ];
    let mut rates: Vec<Rates> = names_of.iter().map(|_| Rates::default()).collect();
    for round in 1..=rounds {
        rates[0].time(SINGLES, || full.single(&names, round, SINGLES));
        rates[1].time(SINGLES, || bare_upserts(&mut bare_full, SINGLES, 1, round));
        rates[2].time(BATCHES * ITEMS, || {
            for b in 0..BATCHES {
                full.batch(round * BATCHES + b, ITEMS)
            }
        });
        rates[3].time(BATCHES * ITEMS, || {
            bare_upserts(&mut bare_full, BATCHES * ITEMS, ITEMS, round)
        });
        rates[4].time(SINGLES * 10, || process.single(&names, round, SINGLES * 10));
        rates[5].time(SINGLES * 10, || {
            bare_upserts(&mut bare_normal, SINGLES * 10, 1, round)
        });
        rates[6].time(SINGLES * THREADS, || {
            std::thread::scope(|s| {
                for t in 0..THREADS {
                    let (full, names) = (&full, &names);
                    s.spawn(move || full.single(names, t * SINGLES, SINGLES));
                }
            })
        });
    }
    drop((full, process));

    // One call's CPU at 1,000 and at 100,000 mapped SKUs (process durability: no fsync).
    let mut per_call = Vec::new();
    for skus in [1_000, big] {
        let h = open(dir.path(), &format!("size-{skus}.sqlite"), skus, "process");
        let calls = 5_000;
        let before = cpu_seconds();
        h.single(&names, 7, calls);
        per_call.push((skus, (cpu_seconds() - before) / calls as f64 * 1e6));
    }

    println!("stock levels, {rounds} rounds side by side (levels per second: median, min, max)");
    println!();
    println!("| contender | median | min | max | unit |");
    println!("|---|---|---|---|---|");
    for (r, name) in rates.iter().zip(names_of) {
        println!("{}", r.line(name, "levels/s"));
    }
    println!();
    let ratio = |a: usize, b: usize| rates[a].median() / rates[b].median();
    println!(
        "single, full ÷ bare SQLite FULL:        {:.2}x (goal ≥ 0.8x)",
        ratio(0, 1)
    );
    println!(
        "batch, full ÷ bare SQLite FULL:         {:.2}x (goal ≥ 0.5x)",
        ratio(2, 3)
    );
    println!(
        "single, process ÷ bare SQLite NORMAL:   {:.2}x",
        ratio(4, 5)
    );
    println!(
        "single, process:                        {:.0}/s (goal ≥ 50,000/s)",
        rates[4].median()
    );
    println!(
        "4 threads ÷ 1 thread, full:             {:.2}x",
        ratio(6, 0)
    );
    for (skus, us) in &per_call {
        println!("CPU per sellsync_stock_set at {skus:>7} SKUs: {us:.1} µs");
    }
    println!(
        "ratio {big} ÷ 1,000 SKUs:             {:.2}x (goal: independent of size)",
        per_call[1].1 / per_call[0].1
    );

    let s = "stock";
    let keys = [
        "single, full",
        "bare SQLite single, FULL",
        "batch of 1,000, full",
        "bare SQLite batch of 1,000, FULL",
        "single, process",
        "bare SQLite single, NORMAL",
        "single from 4 threads, full",
    ];
    let refs = [
        (keys[1], ">= 0.8x"),
        ("", ""),
        (keys[3], ">= 0.5x"),
        ("", ""),
        (keys[5], ">= 50000"),
        ("", ""),
        (keys[0], ""),
    ];
    for ((r, key), (reference, goal)) in rates.iter().zip(keys).zip(refs) {
        result(s, key, r.median(), "levels/s", reference, goal);
    }
    let small = "CPU per stock_set call, 1,000 SKUs";
    result(s, small, per_call[0].1, "µs", "", "");
    let large = format!("CPU per stock_set call, {big} SKUs");
    result(s, &large, per_call[1].1, "µs", small, "<= 2x");
}
