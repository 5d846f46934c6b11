//! `sellsync`: reads a seller's store and prints the performance table and the queues, puts
//! refused work back in the queues, writes a one-page HTML performance report, or sets up
//! Amazon's notifications for the seller.
//!
//! ```text
//! sellsync metrics STORE [--now ISO8601] [--json]
//! sellsync status STORE
//! sellsync retry STORE
//! sellsync report STORE OUT.html [--days N] [--now ISO8601]
//! sellsync notifications setup CONFIG.json
//! ```
//! `sellsync --help` and `sellsync COMMAND --help` explain each; exit codes: 0 done, 1 failed
//! (no store, an unreadable store, a file that cannot be written), 2 a usage error.

use chrono::{DateTime, Duration, Utc};
use clap::{Parser, Subcommand};
use sellsync::metrics::{compute, marketplace_name, Query};
use sellsync::store::{ts, Store};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const EXIT_CODES: &str = "Exit codes: 0 done, 1 failed (no store, an unreadable store, a file that cannot be written), 2 a usage error.";

/// Reads a sellsync store: the seller's performance against Amazon's targets, the queues, and
/// an HTML report. The store is the library's `store_path`, or the URL of its `store.postgres`
/// (a shared store); the library may have it open.
#[derive(Parser)]
#[command(name = "sellsync", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Prints the three rates Amazon holds the seller to, per marketplace, and what is at risk now.
    #[command(after_help = EXIT_CODES)]
    Metrics {
        /// The store (the library's `store_path`, or its `store.postgres` URL).
        store: PathBuf,
        /// Evaluate as of this time (ISO 8601, e.g. 2026-11-26T12:00:00Z) instead of now.
        #[arg(long, value_name = "ISO8601")]
        now: Option<String>,
        /// Print the metrics document as JSON instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Prints the counts of orders and stock and every queue.
    #[command(after_help = EXIT_CODES)]
    Status {
        /// The store (the library's `store_path`, or its `store.postgres` URL).
        store: PathBuf,
    },
    /// Puts the work Amazon refused back in the queues: it goes out at the next sync.
    #[command(after_help = EXIT_CODES)]
    Retry {
        /// The store (the library's `store_path`, or its `store.postgres` URL).
        store: PathBuf,
    },
    /// Writes a one-page HTML report: the three rates with their daily trend, and what is at risk.
    #[command(after_help = EXIT_CODES)]
    Report {
        /// The store (the library's `store_path`, or its `store.postgres` URL).
        store: PathBuf,
        /// The HTML file to write.
        out: PathBuf,
        /// Days of history in the charts.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(i64).range(1..=365))]
        days: i64,
        /// Evaluate as of this time (ISO 8601) instead of now, as `metrics --now` does.
        #[arg(long, value_name = "ISO8601")]
        now: Option<String>,
    },
    /// Amazon's notifications (order changes, quantity changes) into the seller's SQS queue.
    #[command(after_help = EXIT_CODES)]
    Notifications {
        #[command(subcommand)]
        command: NotificationsCommand,
    },
}

#[derive(Subcommand)]
enum NotificationsCommand {
    /// Creates (or finds) the destination for the configured queue and the subscriptions to
    /// ORDER_CHANGE and LISTINGS_ITEM_MFN_QUANTITY_CHANGE; safe to run again.
    #[command(after_help = EXIT_CODES)]
    Setup {
        /// The library's configuration document (JSON) with its "notifications" section.
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sellsync: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Opens an existing store, a SQLite file or a PostgreSQL URL (never creating one, never
/// touching its key).
fn open(path: &Path) -> Result<Store, String> {
    if let Some(url) = path
        .to_str()
        .filter(|p| p.starts_with("postgres://") || p.starts_with("postgresql://"))
    {
        return Store::open_postgres_without_buyer_data(url).map_err(|e| e.to_string());
    }
    if !path.exists() {
        return Err(format!("no store at {}", path.display()));
    }
    let path = path.to_str().ok_or("the store's path is not UTF-8")?;
    Store::open_without_buyer_data(path).map_err(|e| e.to_string())
}

/// The time to evaluate at: `--now`, or the clock.
fn evaluated_at(now: Option<&str>) -> Result<DateTime<Utc>, String> {
    now.map_or(Ok(Utc::now()), |t| {
        DateTime::parse_from_rfc3339(t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                format!("--now {t:?} is not an ISO 8601 time such as 2026-11-26T12:00:00Z")
            })
    })
}

/// Marketplaces that have orders in the store.
fn marketplaces(store: &Store) -> Result<Vec<String>, String> {
    store.marketplaces().map_err(|e| e.to_string())
}

fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Metrics { store, now, json } => {
            let store = open(&store)?;
            let at = evaluated_at(now.as_deref())?;
            let m = compute(&store, &marketplaces(&store)?, at, &query(at), tolerance())
                .map_err(|e| e.to_string())?
                .to_json();
            if json {
                println!("{m:#}");
            } else {
                print!("{}", table(&m));
            }
        }
        Command::Status { store } => {
            let store = open(&store)?;
            let orders = store.order_counts().map_err(|e| e.to_string())?;
            let stock = store.stock_counts().map_err(|e| e.to_string())?;
            let queues = store.queues().map_err(|e| e.to_string())?;
            println!("orders     {} stored, {} pending payment, {} waiting for the host, {} acknowledged", orders.total, orders.pending, orders.waiting_for_host, orders.acknowledged);
            println!("stock      {} SKUs, {} out of step with Amazon, {} in a feed in flight ({} feeds), {} parked after refusals", stock.skus, stock.out_of_step, stock.in_flight, stock.open_feeds, queues.skus_parked);
            println!("shipments  {} queued, {} outcome unknown (read back before resending), {} refused by Amazon", queues.shipments_queued, queues.shipments_uncertain, queues.shipments_failed);
            println!(
                "cancels/refunds  {} queued, {} in feeds, {} refused by Amazon",
                queues.adjustments_queued, queues.adjustments_in_feeds, queues.adjustments_failed
            );
            println!(
                "events     {} not yet acknowledged by the host, {} dropped unacknowledged",
                queues.events_unread, queues.events_dropped
            );
            let n = store.notification_counts().map_err(|e| e.to_string())?;
            println!("{}", notifications_line(&n, Utc::now()));
        }
        Command::Notifications {
            command: NotificationsCommand::Setup { config },
        } => {
            let text = std::fs::read_to_string(&config)
                .map_err(|e| format!("cannot read {}: {e}", config.display()))?;
            let config = sellsync::Config::from_json(&text).map_err(|e| e.to_string())?;
            let engine = sellsync::Engine::open(config).map_err(|e| e.to_string())?;
            let setup = engine.notifications_setup().map_err(|e| e.to_string());
            let _ = engine.close();
            let setup: Value = serde_json::from_str(&setup?).map_err(|e| e.to_string())?;
            println!("queue        {}", setup["queue_arn"].as_str().unwrap_or(""));
            println!(
                "destination  {}",
                setup["destination_id"].as_str().unwrap_or("")
            );
            for (kind, id) in setup["subscriptions"].as_object().into_iter().flatten() {
                println!("subscribed   {kind} ({})", id.as_str().unwrap_or(""));
            }
        }
        Command::Retry { store } => {
            let n = open(&store)?.retry_failed().map_err(|e| e.to_string())?;
            println!("{n} refused items put back in the queues; they go out at the next sync");
        }
        Command::Report {
            store,
            out,
            days,
            now,
        } => {
            let store = open(&store)?;
            let at = evaluated_at(now.as_deref())?;
            let html = report(&store, &marketplaces(&store)?, at, days)?;
            std::fs::write(&out, html)
                .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            println!("wrote {}", out.display());
        }
    }
    Ok(())
}

/// One line on the notifications: whether messages come, and the last failure.
fn notifications_line(
    n: &sellsync::store::notifications::NotificationCounts,
    now: DateTime<Utc>,
) -> String {
    let ago = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| {
                format!(
                    "{} s ago",
                    (now - t.with_timezone(&Utc)).num_seconds().max(0)
                )
            })
            .unwrap_or_else(|| "never".into())
    };
    match (&n.last_receive_ok_at, &n.last_error) {
        (None, None) => "notifications  none received (not configured, or the worker has not run)".into(),
        (_, Some(e)) => format!(
            "notifications  FAILING: {e}; last message {}, {} kept (the order search runs at full speed)",
            ago(&n.last_received_at),
            n.received
        ),
        _ => format!(
            "notifications  queue answering (last receive {}), last message {}, {} kept in the last week, {} not acted on yet",
            ago(&n.last_receive_ok_at),
            ago(&n.last_received_at),
            n.received,
            n.pending
        ),
    }
}

/// How far Amazon's and sellsync's rates may differ before they disagree: the configuration's
/// default (the tool reads a store, not a configuration).
fn tolerance() -> f64 {
    sellsync::config::AccountHealth::default().tolerance
}

/// The metrics query as of `at`.
fn query(at: DateTime<Utc>) -> Query {
    Query {
        now: Some(ts(at)),
        ..Query::default()
    }
}

/// A marketplace's heading: its name and country beside its id.
fn heading(mp: &Value) -> String {
    let id = mp["marketplace_id"].as_str().unwrap_or("");
    match marketplace_name(id) {
        Some(name) => format!("{name}, {id}"),
        None => id.to_string(),
    }
}

fn label(name: &str) -> &'static str {
    match name {
        "cancellation_rate" => "Pre-fulfilment cancellation rate",
        "late_shipment_rate" => "Late shipment rate",
        "refund_rate" => "Refund rate (seller refunds)",
        "order_defect_rate" => "Order defect rate",
        "valid_tracking_rate" => "Valid tracking rate",
        _ => "Other",
    }
}

/// An Amazon figure's name, with its fulfilment for the order defect rate.
fn amazon_label(x: &Value) -> String {
    let name = label(x["name"].as_str().unwrap_or(""));
    match x["fulfilment"].as_str() {
        Some("mfn") => format!("{name} (seller-fulfilled)"),
        Some("afn") => format!("{name} (FBA)"),
        _ => name.to_string(),
    }
}

/// `n/d` and the rate of a figure, or `-` where it has none.
fn counts(figure: &Value) -> (String, String) {
    let n = figure["numerator"]
        .as_u64()
        .map_or("-".to_string(), |n| n.to_string());
    let share = figure["rate"]
        .as_f64()
        .map_or("-".to_string(), |r| format!("{:.2}%", r * 100.0));
    (format!("{n}/{}", figure["denominator"]), share)
}

/// One of Amazon's figures and sellsync's over the same window ("-" where it has none).
fn amazon_and_own(x: &Value) -> ((String, String), (String, String)) {
    let own = match &x["sellsync"] {
        Value::Null => ("-".to_string(), "-".to_string()),
        s => counts(s),
    };
    (counts(x), own)
}

/// What is wrong with one of Amazon's figures, if anything.
fn amazon_flags(x: &Value) -> String {
    let mut flags = Vec::new();
    if x["misses_target"] == true {
        flags.push("MISSES TARGET".to_string());
    }
    if x["disagrees"] == true {
        flags.push("DISAGREES".to_string());
    }
    let unseen = x["orders_not_seen"].as_u64().unwrap_or(0);
    if unseen > 0 {
        flags.push(format!("{unseen} orders sellsync never saw"));
    }
    flags.join(", ")
}

/// Amazon's figures of a marketplace beside sellsync's, as text.
fn amazon_table(a: &Value) -> String {
    let mut out = format!(
        "  Amazon's own figures (seller performance report read {}; account {}, health rating {})\n",
        a["read_at"].as_str().unwrap_or(""),
        a["account_status"].as_str().unwrap_or("not given"),
        a["account_health_rating"].as_str().unwrap_or("not given")
    );
    out.push_str(&format!(
        "  {:<44} {:>6} {:>13} {:>8} {:>13} {:>8}  {}\n",
        "metric", "days", "Amazon", "rate", "sellsync", "rate", ""
    ));
    for x in a["metrics"].as_array().into_iter().flatten() {
        let ((amazon, amazon_rate), (own, own_rate)) = amazon_and_own(x);
        out.push_str(&format!(
            "  {:<44} {:>6} {:>13} {:>8} {:>13} {:>8}  {}\n",
            amazon_label(x),
            x["window_days"].as_i64().unwrap_or(0),
            amazon,
            amazon_rate,
            own,
            own_rate,
            amazon_flags(x)
        ));
    }
    out
}

/// The performance table as text.
fn table(m: &Value) -> String {
    let mut out = format!(
        "Seller performance as of {}\n",
        m["as_of"].as_str().unwrap_or("")
    );
    for mp in m["marketplaces"].as_array().into_iter().flatten() {
        out.push_str(&format!("\n{}\n", heading(mp)));
        out.push_str(&format!(
            "  {:<38} {:>6} {:>9} {:>8} {:>8}  {}\n",
            "metric", "days", "orders", "rate", "target", "status"
        ));
        for x in mp["metrics"].as_array().into_iter().flatten() {
            let orders = format!("{}/{}", x["numerator"], x["denominator"]);
            out.push_str(&format!(
                "  {:<38} {:>6} {:>9} {:>7.2}% {:>7.1}%  {}\n",
                label(x["name"].as_str().unwrap_or("")),
                x["window_days"].as_i64().unwrap_or(0),
                orders,
                x["rate"].as_f64().unwrap_or(0.0) * 100.0,
                x["target"].as_f64().unwrap_or(0.0) * 100.0,
                x["status"].as_str().unwrap_or("").to_uppercase()
            ));
        }
        match mp.get("amazon").filter(|a| !a.is_null()) {
            Some(a) => out.push_str(&amazon_table(a)),
            None => out.push_str("  Amazon's own figures: no seller performance report read yet\n"),
        }
    }
    let r = &m["at_risk"];
    out.push_str(&format!(
        "\nAt risk now: {} orders to ship within 24 h or overdue, {} shipments waiting, {} SKUs where Amazon shows more than the shop has\n",
        r["orders_due"].as_array().map_or(0, Vec::len),
        r["shipments_waiting"],
        r["skus_amazon_shows_more_than_the_shop_has"].as_array().map_or(0, Vec::len)
    ));
    for o in r["orders_due"].as_array().into_iter().flatten().take(20) {
        let overdue = if o["overdue"] == true {
            "  OVERDUE"
        } else {
            ""
        };
        out.push_str(&format!(
            "  ship {} by {}{overdue}\n",
            o["order_id"].as_str().unwrap_or(""),
            o["latest_ship_date"].as_str().unwrap_or("")
        ));
    }
    out
}

/// One chart: a metric's daily values (as of the end of each day) against its target.
fn chart(points: &[(DateTime<Utc>, f64)], target: f64) -> String {
    let (w, h, pad) = (560.0, 160.0, 30.0);
    let top = points
        .iter()
        .map(|p| p.1)
        .fold(target * 1.5, f64::max)
        .max(0.0001);
    let x = |i: usize| pad + (w - 2.0 * pad) * i as f64 / (points.len().max(2) - 1) as f64;
    let y = |v: f64| h - pad - (h - 2.0 * pad) * v / top;
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.1)))
        .collect();
    let first = points
        .first()
        .map(|p| p.0.format("%d %b").to_string())
        .unwrap_or_default();
    let last = points
        .last()
        .map(|p| p.0.format("%d %b").to_string())
        .unwrap_or_default();
    format!(
        r##"<svg viewBox="0 0 {w} {h}" width="100%" role="img">
<line x1="{pad}" y1="{ty:.1}" x2="{tx}" y2="{ty:.1}" stroke="#c0392b" stroke-dasharray="6 4"/>
<text x="{tx}" y="{tl:.1}" text-anchor="end" fill="#c0392b" font-size="11">target {tp:.1}%</text>
<polyline fill="none" stroke="#1f6feb" stroke-width="2.5" points="{pts}"/>
<text x="{pad}" y="{hb}" font-size="11" fill="#555">{first}</text><text x="{tx}" y="{hb}" font-size="11" fill="#555" text-anchor="end">{last}</text>
<text x="4" y="{yt:.1}" font-size="11" fill="#555">{topp:.1}%</text><text x="4" y="{yb:.1}" font-size="11" fill="#555">0%</text>
</svg>"##,
        ty = y(target),
        tx = w - pad,
        tl = y(target) - 4.0,
        tp = target * 100.0,
        pts = line.join(" "),
        hb = h - 8.0,
        yt = pad,
        topp = top * 100.0,
        yb = h - pad,
    )
}

/// Text for HTML.
fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Amazon's figures of a marketplace beside sellsync's, as an HTML table.
fn amazon_html(a: &Value) -> String {
    if a.is_null() {
        return "<p class=\"sub\">Amazon's own figures: no seller performance report read yet.</p>"
            .into();
    }
    let mut rows = String::new();
    for x in a["metrics"].as_array().into_iter().flatten() {
        let ((amazon, amazon_rate), (own, own_rate)) = amazon_and_own(x);
        let class = if x["misses_target"] == true {
            " class=\"failing\""
        } else {
            ""
        };
        rows.push_str(&format!(
            "<tr{class}><td>{}</td><td>{} days to {}</td><td>{amazon}</td><td>{amazon_rate}</td><td>{own}</td><td>{own_rate}</td><td>{}</td></tr>",
            html(&amazon_label(x)),
            x["window_days"].as_i64().unwrap_or(0),
            html(x["to"].as_str().unwrap_or("")),
            html(&amazon_flags(x))
        ));
    }
    format!(
        "<h3>Amazon's own figures</h3><p class=\"sub\">Seller performance report read {}; account {}, health rating {}. sellsync's counts are over Amazon's window.</p>\
<table><tr><th>metric</th><th>window</th><th>Amazon</th><th>rate</th><th>sellsync</th><th>rate</th><th></th></tr>{rows}</table>",
        html(a["read_at"].as_str().unwrap_or("")),
        html(a["account_status"].as_str().unwrap_or("not given")),
        html(a["account_health_rating"].as_str().unwrap_or("not given"))
    )
}

/// The one-page HTML report: the three rates against their targets, with their daily trend.
fn report(store: &Store, mps: &[String], now: DateTime<Utc>, days: i64) -> Result<String, String> {
    let at = |d: DateTime<Utc>| {
        compute(store, mps, now, &query(d), tolerance())
            .map(|m| m.to_json())
            .map_err(|e| e.to_string())
    };
    let current = at(now)?;
    let history: Vec<(DateTime<Utc>, Value)> = (0..days)
        .rev()
        .map(|d| now - Duration::days(d))
        .map(|d| at(d).map(|m| (d, m)))
        .collect::<Result<_, _>>()?;
    let mut body = String::new();
    for (mi, mp) in current["marketplaces"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        body.push_str(&format!("<h2>{}</h2><div class=\"grid\">", heading(mp)));
        for (xi, x) in mp["metrics"].as_array().into_iter().flatten().enumerate() {
            if x["name"] == "late_shipment_rate" && x["window_days"] != 10 {
                continue; // one late-shipment chart (10 days) per marketplace keeps the page to one page
            }
            let points: Vec<(DateTime<Utc>, f64)> = history
                .iter()
                .map(|(d, m)| {
                    (
                        *d,
                        m["marketplaces"][mi]["metrics"][xi]["rate"]
                            .as_f64()
                            .unwrap_or(0.0),
                    )
                })
                .collect();
            let status = x["status"].as_str().unwrap_or("ok");
            body.push_str(&format!(
                "<section class=\"card {status}\"><h3>{}</h3><p class=\"value\">{:.2}% <span>{} of {} orders, {} days &middot; target below {:.1}% &middot; {}</span></p>{}</section>",
                label(x["name"].as_str().unwrap_or("")),
                x["rate"].as_f64().unwrap_or(0.0) * 100.0,
                x["numerator"], x["denominator"], x["window_days"],
                x["target"].as_f64().unwrap_or(0.0) * 100.0,
                status.replace('_', " ").to_uppercase(),
                chart(&points, x["target"].as_f64().unwrap_or(0.0))
            ));
        }
        body.push_str("</div>");
        body.push_str(&amazon_html(&mp["amazon"]));
    }
    let r = &current["at_risk"];
    Ok(format!(
        r##"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Seller performance</title>
<style>body{{font-family:system-ui,sans-serif;margin:24px;color:#222}}h1{{margin:0 0 4px}}.sub{{color:#666;margin:0 0 16px}}
.grid{{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,420px),1fr));gap:12px}}.card{{border:1px solid #ddd;border-left:6px solid #2da44e;border-radius:6px;padding:8px 12px}}
.card.at_risk{{border-left-color:#d4a72c}}.card.failing{{border-left-color:#c0392b}}.card h3{{margin:4px 0}}.value{{font-size:26px;margin:4px 0}}.value span{{font-size:13px;color:#666}}
table{{border-collapse:collapse;margin:4px 0 12px}}td,th{{border-bottom:1px solid #ddd;padding:3px 10px;text-align:left}}tr.failing td{{color:#c0392b}}</style></head>
<body><h1>Seller performance</h1><p class="sub">As of {asof}; daily values over the last {days} days.</p>{body}
<h2>At risk now</h2><p>{due} orders to ship within 24 hours or overdue &middot; {waiting} shipment confirmations waiting &middot; {over} SKUs where Amazon shows more than the shop has</p></body></html>"##,
        asof = current["as_of"].as_str().unwrap_or(""),
        due = r["orders_due"].as_array().map_or(0, Vec::len),
        waiting = r["shipments_waiting"],
        over = r["skus_amazon_shows_more_than_the_shop_has"]
            .as_array()
            .map_or(0, Vec::len),
    ))
}
