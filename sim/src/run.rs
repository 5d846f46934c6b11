//! One policy against its own emulator: the shop's events in emulated time, then the outcome
//! as Amazon counts it.

use crate::policies::{self, Policy};
use crate::profile::Profile;
use crate::schedule::{self, Event, Schedule};
use crate::shop::{Shop, State};
use chrono::{DateTime, Duration, Timelike, Utc};
use sellsync_emulator::{Config, Emulator, ListingSeed, OrderSeed, Status};
use serde::Serialize;
use std::sync::Arc;

/// What became of one policy.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Outcome {
    pub policy: String,
    /// The policy could not run (e.g. a setting this build of the library does not know).
    pub error: Option<String>,
    pub amazon_orders: u64,
    pub amazon_lost: u64,
    pub store_sales: u64,
    pub store_lost: u64,
    /// Seller cancellations the shop decided (its shelf could not fill the order).
    pub seller_cancellations: u64,
    pub unpreventable: u64,
    /// Amazon had not applied yet the lower value the connector sent before the order.
    pub amazon_late: u64,
    pub connector_fault: u64,
    /// Seller cancellations Amazon had applied by the end (the rest were on their way).
    pub cancellations_at_amazon: u64,
    /// Seller cancellations decided but not yet applied by Amazon at the end.
    pub cancellations_in_flight: u64,
    /// Orders with a shipment confirmation at Amazon.
    pub shipped: u64,
    /// Confirmations that reached Amazon after the LatestShipDate.
    pub late: u64,
    /// Unshipped orders already past their LatestShipDate at the end (Amazon counts them late).
    pub overdue: u64,
    /// Orders still open within their handling time at the end.
    pub open: u64,
    /// Orders the shop had not booked (or cancelled) yet at the end: their fate is not counted.
    pub unbooked_at_end: u64,
    /// Orders neither shipped, cancelled nor open within handling time (must be 0).
    pub unaccounted: u64,
    /// Bookings that took more than the shelf had, and SKUs whose books do not balance (must be 0).
    pub overbooked: u64,
    pub staff_hours: f64,
    pub api_calls: u64,
    /// API calls by operation (named as in Amazon's models), every answer counted.
    pub calls: std::collections::BTreeMap<String, u64>,
    /// Each cancellation the connector caused, with Amazon's changes of its SKU before it.
    pub faults_explained: Vec<String>,
    /// What sellsync's read-backs found, SKU by SKU (sellsync policies only).
    pub read_back: Option<serde_json::Value>,
    pub cancellation_rate: f64,
    pub late_rate: f64,
    pub defect_rate: f64,
    /// (hours after the start, cumulative seller cancellations).
    pub timeline: Vec<(f64, u64)>,
    pub real_seconds: f64,
    pub simulated_hours: f64,
}

/// Amazon's targets.
pub const CANCELLATION_TARGET: f64 = 0.025;
pub const LATE_TARGET: f64 = 0.04;
pub const DEFECT_TARGET: f64 = 0.01;

/// OK, AT RISK (from three quarters of the target) or FAILING.
pub fn verdict(rate: f64, target: f64) -> &'static str {
    if rate >= target {
        "FAILING"
    } else if rate >= 0.75 * target {
        "AT RISK"
    } else {
        "OK"
    }
}

/// How a run is set up.
#[derive(Clone, Debug)]
pub struct Options {
    pub speed: f64,
    pub seed: u64,
    /// Progress bars (one per policy) drawn on stderr; hidden when stderr is not a terminal.
    pub progress: Option<indicatif::MultiProgress>,
}

/// Runs `policy` over `schedule`; never panics on a policy's failure (it is in `error`).
pub fn run(profile: &Profile, schedule: &Schedule, policy: &str, opts: &Options) -> Outcome {
    let started = std::time::Instant::now();
    let mut out = match run_inner(profile, schedule, policy, opts) {
        Ok(o) => o,
        Err(e) => Outcome {
            policy: policy.to_string(),
            error: Some(e),
            ..Outcome::default()
        },
    };
    out.real_seconds = started.elapsed().as_secs_f64();
    out
}

fn make_policy(
    name: &str,
    emu: &Arc<Emulator>,
    profile: &Profile,
    shop: &Shop,
    opts: &Options,
    tag: &str,
) -> Result<Box<dyn Policy>, String> {
    Ok(match name {
        "manual" => Box::new(policies::Manual::new(
            emu.clone(),
            profile.manual.staff,
            profile.manual.minutes_per_order,
        )),
        "csv_hourly" => Box::new(policies::CsvHourly::new(
            emu.clone(),
            shop.start,
            profile.csv.every_minutes,
            profile.csv.staff_minutes_per_import,
            profile.csv.only_when_open,
        )),
        "poll_15min" => Box::new(policies::Poll15::new(emu.clone(), shop, 15.0)?),
        policies::NO_STOCK_SYNC => Box::new(policies::NoStockSync::new(emu.clone(), shop.start)),
        "oracle" => Box::new(policies::Oracle::new(emu.clone())),
        n if policies::sellsync_stock(n).is_some() => Box::new(policies::SellSync::new(
            emu.clone(),
            shop,
            n,
            opts.speed,
            tag,
        )?),
        other => return Err(format!("unknown policy {other}")),
    })
}

/// One policy's bar: simulated hours out of the profile's.
fn progress_bar(
    multi: &indicatif::MultiProgress,
    policy: &str,
    hours: f64,
) -> indicatif::ProgressBar {
    let style = indicatif::ProgressStyle::with_template(
        "{prefix:>26} [{bar:30}] {pos}/{len} h simulated ({elapsed})",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
    .progress_chars("=> ");
    multi
        .add(indicatif::ProgressBar::new(hours.ceil() as u64))
        .with_style(style)
        .with_prefix(policy.to_string())
}

fn run_inner(
    profile: &Profile,
    schedule: &Schedule,
    policy: &str,
    opts: &Options,
) -> Result<Outcome, String> {
    let (base, instant) = policies::base_name(policy);
    let settings = sellsync_emulator::settings::Settings::default();
    let emu = Arc::new(
        Emulator::start(Config {
            rate_scale: opts.speed,
            clock_speed: opts.speed,
            seed: opts.seed,
            settings: if instant { settings.kind() } else { settings },
            ..Config::default()
        })
        .map_err(|e| format!("emulator: {e}"))?,
    );
    let ctl = emu.control();
    ctl.with_world(|w| {
        w.handling_hours = profile.amazon.handling_hours;
        w.settings.pending_seconds = profile.amazon.pending_seconds as f64;
    });
    // Start at the profile's hour of the next day.
    let now = ctl.now();
    let midnight = now
        .with_hour(0)
        .and_then(|t| t.with_minute(0))
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .ok_or("clock")?
        + Duration::days(1);
    ctl.advance(midnight + Duration::hours(i64::from(profile.start_hour)) - now);
    let seeds: Vec<ListingSeed> = schedule
        .initial
        .iter()
        .enumerate()
        .map(|(i, q)| ListingSeed {
            sku: policies::sku_name(i),
            asin: None,
            title: None,
            quantity: *q,
            price_cents: Some(1500),
            fba: false,
            product_type: None,
            handling_days: None,
            marketplace_ids: None,
            fba_stock: None,
        })
        .collect();
    ctl.seed_listings(None, &seeds)?;
    let start = ctl.now();
    let mut shop = Shop::new(
        start,
        &schedule.initial,
        profile.packing.staff,
        profile.packing.handling_minutes,
        profile.packing.minutes_per_order,
    );
    // Each run's store is its own, an @instant run's too.
    let tag = format!("{}{}", opts.seed, if instant { "-instant" } else { "" });
    let mut pol = make_policy(base, &emu, profile, &shop, opts, &tag)?;
    let end_s = profile.hours * 3600.0;
    let tick = std::time::Duration::from_secs_f64((5.0 / opts.speed).clamp(0.002, 0.05));
    let mut next_event = 0;
    let bar = opts
        .progress
        .as_ref()
        .map(|m| progress_bar(m, policy, profile.hours));
    let result = (|| -> Result<DateTime<Utc>, String> {
        loop {
            let now = ctl.now();
            let real_at = (now - start).num_milliseconds() as f64 / 1000.0;
            // The last tick still meets every customer scheduled before the end.
            let at = real_at.min(end_s);
            while let Some(e) = schedule.events.get(next_event) {
                if e.at > at {
                    break;
                }
                next_event += 1;
                match e.event {
                    Event::Amazon { sku, qty } => buyer(&emu, &mut shop, sku, qty)?,
                    Event::Store { sku } => {
                        shop.store_sale(sku);
                    }
                    Event::Restock { sku, qty } => shop.restock(sku, qty),
                }
                pol.after_changes(&mut shop, now)?;
            }
            let open = schedule::is_open(profile, at);
            pol.step(&mut shop, now, open)?;
            for i in shop.pack(now, open) {
                pol.shipped(&mut shop, i, now)?;
            }
            if real_at >= end_s {
                return Ok(now);
            }
            if let Some(bar) = &bar {
                bar.set_position((at / 3600.0) as u64);
            }
            std::thread::sleep(tick);
        }
    })();
    let read_back = pol.read_back();
    pol.finish();
    if let Some(bar) = bar {
        bar.finish();
    }
    let end = result?;
    let mut out = outcome(&emu, &shop, policy, end);
    out.staff_hours = pol.staff_minutes() / 60.0;
    out.read_back = read_back;
    out.simulated_hours = profile.hours;
    drop(pol);
    Ok(out)
}

/// An Amazon buyer: orders if Amazon shows enough, else leaves.
fn buyer(emu: &Emulator, shop: &mut Shop, sku: usize, qty: i64) -> Result<(), String> {
    let ctl = emu.control();
    let accepted = ctl.accepted_quantity(&policies::sku_name(sku));
    let placed = ctl.place_orders(&OrderSeed {
        lines: vec![(policies::sku_name(sku), qty)],
        pending: true,
        ..OrderSeed::default()
    });
    let Ok(ids) = placed else {
        shop.amazon_lost += 1;
        return Ok(());
    };
    let id = ids.into_iter().next().ok_or("no order id")?;
    let o = ctl.order(&id).ok_or("order vanished")?;
    let item = &o.items[0];
    shop.add_order(
        id.clone(),
        item.order_item_id.clone(),
        sku,
        qty,
        o.created,
        o.pending_until.unwrap_or(o.created),
        o.latest_ship,
        item.shown_quantity,
        accepted,
    );
    Ok(())
}

/// The outcome as Amazon counts it, from the emulator's state at `end`.
fn outcome(emu: &Emulator, shop: &Shop, policy: &str, end: DateTime<Utc>) -> Outcome {
    let ctl = emu.control();
    let mut o = Outcome {
        policy: policy.to_string(),
        amazon_orders: shop.orders.len() as u64,
        amazon_lost: shop.amazon_lost,
        store_sales: shop.store_sales,
        store_lost: shop.store_lost,
        seller_cancellations: shop.cancellations.len() as u64,
        unpreventable: shop
            .cancellations
            .iter()
            .filter(|c| !c.connector_fault && !c.amazon_late)
            .count() as u64,
        amazon_late: shop.cancellations.iter().filter(|c| c.amazon_late).count() as u64,
        connector_fault: shop
            .cancellations
            .iter()
            .filter(|c| c.connector_fault)
            .count() as u64,
        overbooked: shop.overbooked + shop.ledger_errors(),
        unbooked_at_end: shop
            .orders
            .iter()
            .filter(|r| r.state == State::Open)
            .count() as u64,
        ..Outcome::default()
    };
    ctl.with_world(|w| {
        for rec in &shop.orders {
            let Some(order) = w.orders.get(&rec.order_id) else {
                o.unaccounted += 1;
                continue;
            };
            let shipments: Vec<_> = w
                .shipments
                .range((rec.order_id.clone(), String::new())..)
                .take_while(|((id, _), _)| *id == rec.order_id)
                .map(|(_, s)| s)
                .collect();
            let cancelled_by_shop = matches!(rec.state, State::Cancelled { .. });
            if order.status == Status::Canceled {
                o.cancellations_at_amazon += 1;
            } else if !shipments.is_empty() {
                o.shipped += 1;
                if shipments.iter().any(|s| s.late) {
                    o.late += 1;
                }
            } else if cancelled_by_shop {
                o.cancellations_in_flight += 1;
            } else if order.latest_ship < end {
                o.overdue += 1;
            } else {
                o.open += 1;
            }
        }
        o.api_calls = w.counts.values().sum();
        for ((op, _status), n) in &w.counts {
            *o.calls.entry(op.to_string()).or_default() += n;
        }
    });
    for c in shop
        .cancellations
        .iter()
        .filter(|c| c.connector_fault || c.amazon_late)
    {
        let r = &shop.orders[c.order];
        let sku = policies::sku_name(r.sku);
        let log = ctl.quantity_log(Some(&sku), Some(r.placed - Duration::minutes(15)));
        let changes: Vec<String> = log
            .iter()
            .filter(|q| q.time <= r.placed + Duration::minutes(5))
            .map(|q| {
                format!(
                    "{} {}->{} {:?}",
                    q.time.format("%H:%M:%S%.3f"),
                    q.from,
                    q.to,
                    q.cause
                )
            })
            .collect();
        o.faults_explained.push(format!(
            "{} order {} of {} x{sku} placed {} (Amazon showed {}, the shop had {} free); Amazon's changes: {}",
            if c.amazon_late { "Amazon late:" } else { "connector:" },
            r.order_id,
            r.qty,
            r.placed.format("%H:%M:%S%.3f"),
            r.shown,
            r.free,
            changes.join("; ")
        ));
    }
    let mut cum = 0;
    o.timeline.push((0.0, 0));
    for c in &shop.cancellations {
        cum += 1;
        o.timeline.push((c.hours, cum));
    }
    o.timeline.push((shop.hours(end), cum));
    o.cancellation_rate = o.seller_cancellations as f64 / (o.amazon_orders.max(1)) as f64;
    o.late_rate = (o.late + o.overdue) as f64 / ((o.shipped + o.overdue).max(1)) as f64;
    o.defect_rate = 0.0;
    o
}
