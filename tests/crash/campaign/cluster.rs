//! The cluster campaign: four C crash hosts (`tills`, nodes `till-0`..`till-3`) share one seller
//! account through one PostgreSQL database, each with its own journal and its own part of the
//! shelf. Exactly one of them (the leader, named in the `leases` table) runs the sync with
//! Amazon; it is killed with SIGKILL again and again, and the time until another till holds
//! the lease is measured before the killed till starts again. Then buyers stop, every till is
//! killed, each till's journal is recovered and drained in turn, and the outcome is checked as
//! the crash campaign's is (see `checks`), across the four journals (`journal::merge`), with
//! no answer 429 from Amazon. Shared by `tests/cluster.rs` (a short run) and
//! `examples/cluster_campaign.rs` (`scripts/cluster-campaign KILLS [SEED]`).

use super::host::{self, Host, Setup};
use super::{checks, journal};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::types::Value;
use sellsync_emulator::{Emulator, Seller};
use std::path::Path;
use std::time::{Duration, Instant};

/// Tills sharing the seller account.
pub const TILLS: usize = 4;
/// The lease's length.
pub const LEASE_SECONDS: u32 = 3;
/// How long a failover may take before the campaign gives up on it.
const FAILOVER_LIMIT: Duration = Duration::from_secs(60);
/// How often the `leases` table is read while a failover is measured.
const POLL: Duration = Duration::from_millis(25);

pub use super::Options;

/// What a cluster campaign did and found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub seed: u64,
    /// Leaders killed.
    pub kills: u32,
    /// For each kill: from the kill until another till held the lease under a higher epoch.
    pub failovers: Vec<Duration>,
    pub counts: checks::Counts,
    /// Till processes started (runs, recoveries and drains).
    pub starts: u64,
    /// Answers 429 (too many requests) from Amazon during the whole campaign.
    pub responses_429: u64,
    /// The recovery and drain runs after the last kill.
    pub drain: Duration,
    pub wall: Duration,
    pub failures: Vec<String>,
}

impl Outcome {
    /// The failover time below which a share `q` (0 to 1) of them lie (nearest rank).
    pub fn failover_quantile(&self, q: f64) -> Duration {
        let mut sorted = self.failovers.clone();
        sorted.sort();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    /// The longest failover.
    pub fn failover_max(&self) -> Duration {
        self.failovers.iter().max().copied().unwrap_or_default()
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.counts;
        writeln!(
            f,
            "cluster campaign (seed {}): {} tills, {} leaders killed, failover p50 {:.2} s, p95 {:.2} s, max {:.2} s, {} till starts",
            self.seed,
            TILLS,
            self.kills,
            self.failover_quantile(0.50).as_secs_f64(),
            self.failover_quantile(0.95).as_secs_f64(),
            self.failover_max().as_secs_f64(),
            self.starts
        )?;
        writeln!(
            f,
            "  {} orders ({} fulfilled by Amazon), {} redelivered before their ack, {} packages confirmed, \
             {} confirmed more than once, {} SKUs with {} units still held back, {} answers 429, {} failures, {:.1} s ({:.1} s draining)",
            c.orders,
            c.fba_orders,
            c.redelivered_before_ack,
            c.shipments,
            c.duplicate_confirmations,
            c.held_skus,
            c.held_units,
            self.responses_429,
            self.failures.len(),
            self.wall.as_secs_f64(),
            self.drain.as_secs_f64()
        )?;
        for fail in self.failures.iter().take(20) {
            writeln!(f, "  FAIL {fail}")?;
        }
        Ok(())
    }
}

/// A till's name in the lease.
pub fn node(till: usize) -> String {
    format!("till-{till}")
}

/// The configuration of a process named `node` on the shared database `url`: the crash
/// campaign's settings, the store on PostgreSQL with the lease and the privacy key.
pub fn config(emu: &Emulator, url: &str, node: &str) -> String {
    let store = format!(
        r#""store": {{"postgres": {url:?}, "lease_seconds": {LEASE_SECONDS}, "node": {node:?}}},
            "privacy": {{"key": "{}"}}"#,
        sellsync::store::testing::TEST_KEY
    );
    crate::common::config_json_with(emu, &store, super::SETTINGS)
}

/// The lease on the seller account as the database has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub holder: String,
    pub epoch: i64,
    pub expires_ms: i64,
    /// The database's clock when it was read (ms since 1970).
    pub now_ms: i64,
}

impl Lease {
    /// Whether it has not run out.
    pub fn live(&self) -> bool {
        self.expires_ms > self.now_ms
    }
}

/// Reads the `leases` table.
pub struct Leases {
    client: sellsync::store::pg::Client,
    account: String,
}

impl Leases {
    pub fn connect(url: &str) -> Leases {
        Leases {
            client: sellsync::store::pg::Client::connect(url).expect("the database connects"),
            account: Seller::demo().seller_id,
        }
    }

    /// The lease on the seller account; None before the first process took one (or made
    /// the table).
    pub fn read(&self) -> Option<Lease> {
        let s = self
            .client
            .prepare(
                "SELECT holder, epoch, expires_ms,
                        (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT
                 FROM leases WHERE account = ?1",
            )
            .ok()?;
        let rows = self.client.query(&s, &[&self.account]).ok()?;
        match rows.first()?.as_slice() {
            [Value::Text(holder), Value::Integer(epoch), Value::Integer(expires_ms), Value::Integer(now_ms)] => {
                Some(Lease {
                    holder: holder.clone(),
                    epoch: *epoch,
                    expires_ms: *expires_ms,
                    now_ms: *now_ms,
                })
            }
            other => panic!("unexpected leases row {other:?}"),
        }
    }

    /// Polls until the lease satisfies `ok` (Some) or `limit` passed (None).
    pub fn wait(&self, limit: Duration, ok: impl Fn(&Lease) -> bool) -> Option<(Lease, Instant)> {
        let deadline = Instant::now() + limit;
        loop {
            let lease = self.read();
            let at = Instant::now();
            if let Some(l) = lease.filter(&ok) {
                return Some((l, at));
            }
            if at > deadline {
                return None;
            }
            std::thread::sleep(POLL);
        }
    }
}

/// The till named `holder`.
fn till_of(holder: &str) -> Option<usize> {
    (0..TILLS).find(|i| node(*i) == holder)
}

/// Runs a campaign in `work` (journals, configurations, host binary and output go there; the
/// store is a fresh database of the cluster `SELLSYNC_TEST_PG` names).
pub fn run(opts: Options, work: &Path) -> Outcome {
    let started = Instant::now();
    let mut out = Outcome {
        seed: opts.seed,
        ..Outcome::default()
    };
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let emu = super::start_emulator(opts.seed);
    let url =
        sellsync::store::testing::database_for(work.join("store").to_str().expect("UTF-8 path"))
            .expect("a database of its own");
    let exe = host::build(&work.join("crash_host"));
    let setups: Vec<Setup> = (0..TILLS)
        .map(|till| {
            let setup = Setup {
                exe: exe.clone(),
                config: work.join(format!("{}.json", node(till))),
                journal: work.join(format!("{}-journal.txt", node(till))),
                items: super::ITEMS,
                fba: super::FBA,
                till,
                tills: TILLS,
                stderr: work.join(format!("{}-stderr.txt", node(till))),
            };
            std::fs::write(&setup.config, config(&emu, &url, &node(till))).unwrap();
            setup
        })
        .collect();
    let checker = work.join("checker.json");
    std::fs::write(&checker, config(&emu, &url, "checker")).unwrap();

    super::start_buyers(&emu);
    let mut tills: Vec<Option<Host>> = setups
        .iter()
        .map(|s| Some(Host::spawn(s, "run", rng.gen())))
        .collect();
    let leases = Leases::connect(&url);
    while out.kills < opts.kills && out.failures.is_empty() {
        if leases
            .wait(FAILOVER_LIMIT, |l| l.live() && till_of(&l.holder).is_some())
            .is_none()
        {
            out.failures.push(format!(
                "no till held the lease within {} s (kill {}); last lease {:?}",
                FAILOVER_LIMIT.as_secs(),
                out.kills + 1,
                leases.read()
            ));
            break;
        }
        std::thread::sleep(Duration::from_millis(rng.gen_range(1_000..=4_000)));
        out.failures
            .extend(ended_by_themselves(&mut tills, &setups));
        if !out.failures.is_empty() {
            break;
        }
        let Some((old, killed)) = leases.read().filter(Lease::live).and_then(|l| {
            let till = till_of(&l.holder)?;
            Some((l, till))
        }) else {
            continue; // the lease ran out or moved in the meantime: wait for a leader again
        };
        let host = tills[killed].take().expect("the leader runs");
        let kill_at = Instant::now();
        host.kill();
        out.kills += 1;
        let taken = leases.wait(FAILOVER_LIMIT, |l| {
            l.live() && l.holder != old.holder && l.epoch > old.epoch
        });
        match taken {
            Some((_, at)) => out.failovers.push(at - kill_at),
            None => out.failures.push(format!(
                "kill {}: no other till took the lease of {} (epoch {}) within {} s; last lease {:?}",
                out.kills,
                old.holder,
                old.epoch,
                FAILOVER_LIMIT.as_secs(),
                leases.read()
            )),
        }
        tills[killed] = Some(Host::spawn(&setups[killed], "run", rng.gen()));
    }
    emu.control().stop_buyers();
    for host in tills.iter_mut().filter_map(Option::take) {
        host.kill();
    }
    super::past_every_delay(&emu);
    if out.failures.is_empty() {
        let draining = Instant::now();
        out.failures.extend(drain(&setups, &mut rng));
        out.drain = draining.elapsed();
        let summaries: Vec<journal::Summary> = setups
            .iter()
            .map(|s| journal::summarize(&journal::read(&s.journal)))
            .collect();
        let (summary, fails) = journal::merge(&summaries);
        out.failures.extend(fails);
        out.starts = summary.starts;
        let (counts, fails) = checks::check(
            &emu,
            &summary,
            checks::StoreAt::Postgres(&url),
            &checker,
            super::sku_of,
        );
        out.counts = counts;
        out.failures.extend(fails);
    }
    let too_many: Vec<(String, u64)> = emu
        .control()
        .counts()
        .into_iter()
        .filter(|(_, status, _)| *status == 429)
        .map(|(op, _, n)| (op, n))
        .collect();
    out.responses_429 = too_many.iter().map(|(_, n)| n).sum();
    if out.responses_429 > 0 {
        out.failures.push(format!(
            "Amazon answered 429 (too many requests): {too_many:?}"
        ));
    }
    out.wall = started.elapsed();
    out
}

/// One failure for each till that ended by itself (it runs until killed).
fn ended_by_themselves(tills: &mut [Option<Host>], setups: &[Setup]) -> Vec<String> {
    let mut fails = Vec::new();
    for (till, host) in tills.iter_mut().enumerate() {
        if let Some(status) = host.as_mut().and_then(Host::exited) {
            fails.push(format!(
                "{} ended by itself ({status}): see {}",
                node(till),
                setups[till].stderr.display()
            ));
        }
    }
    fails
}

/// After the last kill: every till finishes what its journal says it began (an order a dead
/// till took but did not acknowledge is leased to it, and only its journal knows it); then each
/// till drains in turn, taking every order left; a till that drains reports its part of the
/// shelf, but a till draining after it may still book an order for it (an order Amazon showed
/// late), so every till drains a second time, reporting its shelf after every order was
/// acknowledged. One failure per run that did not end well.
fn drain(setups: &[Setup], rng: &mut StdRng) -> Vec<String> {
    let mut fails = Vec::new();
    let drained = Some("drained");
    for (mode, marker) in [("recover", None), ("drain", drained), ("drain", drained)] {
        for (till, setup) in setups.iter().enumerate() {
            let (status, lines) = Host::spawn(setup, mode, rng.gen())
                .finish(Instant::now() + Duration::from_secs(300));
            let ok = status.is_some_and(|s| s.success())
                && marker.is_none_or(|m| lines.iter().any(|l| l == m));
            if !ok {
                fails.push(format!(
                    "the {mode} run of {} ended with {status:?}: {}; see {}",
                    node(till),
                    super::host::last_lines(&lines),
                    setup.stderr.display()
                ));
            }
        }
    }
    fails
}
