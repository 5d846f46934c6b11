//! The crash campaign: a C host doing continuous work through the library (orders taken,
//! journaled and acknowledged, packages confirmed, stock set) is killed with SIGKILL at random
//! moments, many of them inside a stock call or while an HTTP call is in flight, and started
//! again; then buyers stop, one last run drains everything, and Amazon, the host's journal and
//! the store are checked (see `checks`). Shared by `tests/crash/main.rs` (a short run) and
//! `examples/crash_campaign.rs` (`scripts/crash-campaign KILLS [SEED]`). `cluster` runs the
//! same host as four tills sharing one seller account and kills the leader.

// Shared by several test binaries and examples, each using a part of it.
#![allow(dead_code)]

pub mod checks;
pub mod cluster;
pub mod host;
pub mod journal;

use host::{Host, Setup};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sellsync_emulator::buyers::BuyersConfig;
use sellsync_emulator::{Config, Emulator, Fault, FaultKind, ListingSeed};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// Emulated time and Amazon's rate limits run this many times faster than real ones.
pub const SPEED: f64 = 60.0;
/// Seller-fulfilled SKUs (one host item each) and SKUs fulfilled by Amazon.
pub const ITEMS: usize = 60;
pub const FBA: usize = 4;
/// Orders the buyers place per real second.
const ORDERS_PER_SECOND: f64 = 4.0;
/// How long an aimed HTTP call stays in flight (its answer is held back this long).
const IN_FLIGHT_MS: u64 = 400;
/// The library's settings: intervals divided by the speed, no buffer, no maximum.
const SETTINGS: &str = r#", "intervals": {"orders_seconds": 3, "stock_seconds": 0.5, "listings_seconds": 360},
    "stock": {"buffer": 0, "allocation_percent": 100, "max_quantity": null, "listings_feed_window_seconds": 5}"#;

/// What to run.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub kills: u32,
    pub seed: u64,
}

/// What a campaign did and found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub seed: u64,
    pub kills: u32,
    /// Kills while a stock call the host began had not returned to it.
    pub in_stock_set: u32,
    /// Kills while an HTTP call was in flight at Amazon, per operation.
    pub in_http: BTreeMap<String, u32>,
    pub counts: checks::Counts,
    pub starts: u64,
    pub wall: Duration,
    pub failures: Vec<String>,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let http: u32 = self.in_http.values().sum();
        let c = &self.counts;
        writeln!(
            f,
            "crash campaign (seed {}): {} kills ({} in a stock call, {} during an HTTP call {:?}), {} host starts",
            self.seed, self.kills, self.in_stock_set, http, self.in_http, self.starts
        )?;
        writeln!(
            f,
            "  {} orders ({} fulfilled by Amazon), {} redelivered before their ack, {} packages confirmed, \
             {} confirmed more than once, {} cancellations, {} refunds ({} refunded more than once), \
             {} SKUs with {} units still held back, {} failures, {:.1} s",
            c.orders,
            c.fba_orders,
            c.redelivered_before_ack,
            c.shipments,
            c.duplicate_confirmations,
            c.cancellations,
            c.refunds,
            c.duplicate_refunds,
            c.held_skus,
            c.held_units,
            self.failures.len(),
            self.wall.as_secs_f64()
        )?;
        for fail in self.failures.iter().take(20) {
            writeln!(f, "  FAIL {fail}")?;
        }
        Ok(())
    }
}

/// Where a kill is aimed.
enum Aim {
    /// Right after the host announced its n-th stock call.
    StockCall(usize),
    /// While the next call of this operation is in flight, with this fault keeping it there.
    Http(&'static str, FaultKind),
    /// After this many milliseconds.
    Time(u64),
}

/// Operations a kill is aimed at. Calls that change something at Amazon are held after they
/// were applied (the answer is lost with the process); reads may be held before. createFeed
/// carries listings, cancellation and refund feeds alike.
fn http_aim(rng: &mut StdRng) -> Aim {
    let late = FaultKind::LateAnswer { ms: IN_FLIGHT_MS };
    let delay = FaultKind::Delay { ms: IN_FLIGHT_MS };
    let choices = [
        ("confirmShipment", late.clone()),
        ("confirmShipment", late.clone()),
        ("confirmShipment", late.clone()),
        ("createFeed", late.clone()),
        ("createFeed", late.clone()),
        ("createFeed", late.clone()),
        ("patchListingsItem", late.clone()),
        ("patchListingsItem", late.clone()),
        ("patchListingsItem", late.clone()),
        ("searchOrders", late),
        ("searchOrders", delay.clone()),
        ("searchListingsItems", delay),
    ];
    let (op, kind) = choices[rng.gen_range(0..choices.len())].clone();
    Aim::Http(op, kind)
}

/// Seller-fulfilled SKU of a host item (`ITEM-07` → `CRASH-07`).
pub fn sku_of(item: &str) -> String {
    item.replacen("ITEM-", "CRASH-", 1)
}

/// The campaign's emulator: its speed, seed and listings (no buyers yet).
fn start_emulator(seed: u64) -> Emulator {
    // Amazon's habits (patches landing late, the search lag), but no order hours late in
    // searches: the drain waits minutes.
    let emu = Emulator::start(Config {
        rate_scale: SPEED,
        clock_speed: SPEED,
        seed,
        settings: sellsync_emulator::Settings {
            order_search_late_rate: 0.0,
            ..sellsync_emulator::Settings::default()
        },
        ..Config::default()
    })
    .expect("emulator starts");
    let seeds: Vec<ListingSeed> = (0..ITEMS)
        .map(|i| ListingSeed::new(format!("CRASH-{i:02}"), 10, false))
        .chain((0..FBA).map(|i| ListingSeed::new(format!("CRASH-FBA-{i}"), 1_000_000, true)))
        .collect();
    emu.control().seed_listings(None, &seeds).unwrap();
    emu
}

/// The library's store of a campaign in `work`.
pub fn store_path(work: &Path) -> std::path::PathBuf {
    work.join("store.sqlite")
}

/// An emulator with the campaign's listings (no buyers yet) and the host built, configured
/// with a store, journal and stderr file in `work`.
pub fn prepare(work: &Path, seed: u64) -> (Emulator, Setup) {
    let emu = start_emulator(seed);
    let setup = Setup {
        exe: host::build(&work.join("crash_host")),
        config: work.join("config.json"),
        journal: work.join("journal.txt"),
        items: ITEMS,
        fba: FBA,
        till: 0,
        tills: 1,
        stderr: work.join("host-stderr.txt"),
    };
    std::fs::write(
        &setup.config,
        crate::common::config_json(&emu, &store_path(work), SETTINGS),
    )
    .unwrap();
    (emu, setup)
}

/// Runs a campaign in `work` (store, journal, host binary and its stderr go there).
pub fn run(opts: Options, work: &Path) -> Outcome {
    let started = Instant::now();
    let mut out = Outcome {
        seed: opts.seed,
        ..Outcome::default()
    };
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let (emu, setup) = prepare(work, opts.seed);
    let store = store_path(work);
    start_buyers(&emu);
    while out.kills < opts.kills && out.failures.is_empty() {
        let aim = match rng.gen_range(0..10) {
            0..=3 => Aim::StockCall(rng.gen_range(1..=40)),
            4..=7 => http_aim(&mut rng),
            _ => Aim::Time(rng.gen_range(20..=2000)),
        };
        let delay = rng.gen_range(0..IN_FLIGHT_MS / 2);
        let mut host = Host::spawn(&setup, "run", rng.gen());
        let in_flight = match &aim {
            Aim::StockCall(n) => {
                host.wait_for(
                    host::STOCK_BEGIN,
                    *n,
                    Instant::now() + Duration::from_secs(10),
                );
                None
            }
            Aim::Http(op, kind) => {
                emu.control().inject(Fault {
                    operation: op.to_string(),
                    count: 1,
                    kind: kind.clone(),
                });
                let taken = wait_taken(&emu, op, &mut host);
                if taken {
                    std::thread::sleep(Duration::from_millis(delay));
                }
                taken.then_some(*op)
            }
            Aim::Time(ms) => {
                std::thread::sleep(Duration::from_millis(*ms));
                None
            }
        };
        if let Some(status) = host.exited() {
            out.failures.push(format!(
                "the host ended by itself ({status}) in run {}: see {}",
                out.kills + 1,
                setup.stderr.display()
            ));
            break;
        }
        let lines = host.kill();
        emu.control().clear_faults();
        out.kills += 1;
        if host::died_in_stock_call(&lines) {
            out.in_stock_set += 1;
        }
        if let Some(op) = in_flight {
            *out.in_http.entry(op.to_string()).or_default() += 1;
        }
    }
    emu.control().stop_buyers();
    past_every_delay(&emu);
    if out.failures.is_empty() {
        let (status, lines) = Host::spawn(&setup, "drain", rng.gen())
            .finish(Instant::now() + Duration::from_secs(300));
        if !status.is_some_and(|s| s.success()) || !lines.iter().any(|l| l == "drained") {
            out.failures.push(format!(
                "the draining run ended with {status:?}: {}; see {}",
                host::last_lines(&lines),
                setup.stderr.display()
            ));
        }
        let summary = journal::summarize(&journal::read(&setup.journal));
        out.starts = summary.starts;
        let (counts, fails) = checks::check(
            &emu,
            &summary,
            checks::StoreAt::Sqlite(&store),
            &setup.config,
            sku_of,
        );
        out.counts = counts;
        out.failures.extend(fails);
    }
    out.wall = started.elapsed();
    out
}

/// Starts the campaign's buyers.
fn start_buyers(emu: &Emulator) {
    emu.control().start_buyers(BuyersConfig {
        seller_id: None,
        marketplace_ids: Vec::new(),
        orders_per_hour: ORDERS_PER_SECOND * 3600.0 / SPEED,
        cancel_request_share: 0.0,
        max_units: 2,
        max_lines: 1,
        return_share: 0.0,
        defect_share: 0.0,
    });
}

/// Polls until the fault injected for `op` was taken by a call (true), the host ended, or
/// 5 s passed.
pub fn wait_taken(emu: &Emulator, op: &str, host: &mut Host) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && host.exited().is_none() {
        if !emu
            .control()
            .pending_faults()
            .iter()
            .any(|f| f.operation == op)
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

/// Moves Amazon's clock past the two-minute rule, every order's pending time and the search
/// lag (none hours late here), so the draining run finds every order.
pub fn past_every_delay(emu: &Emulator) {
    let lag = emu.control().settings().order_search_lag_max_seconds;
    emu.control()
        .advance(chrono::Duration::minutes(5) + chrono::Duration::seconds(lag.ceil() as i64));
}
