//! The report: a table for the terminal and a self-contained HTML page with SVG charts.

use crate::profile::Profile;
use crate::run::{verdict, Outcome, CANCELLATION_TARGET, DEFECT_TARGET, LATE_TARGET};
use std::fmt::Write;

fn pct(r: f64) -> String {
    format!("{:.2}%", r * 100.0)
}

/// The header lines: what was simulated.
pub fn header(p: &Profile, seed: u64, speed: f64, counts: (usize, usize, usize)) -> String {
    format!(
        "Shop profile {:?}: {} SKUs, {:.1} simulated hours from {:02}:00 UTC, open {:02}:00-{:02}:00, seed {seed}, speed {speed}x\n\
         Schedule: {} Amazon buyers, {} store customers, {} restock deliveries (the same for every policy)\n",
        p.name, p.skus.count, p.hours, p.start_hour, p.opening.open_hour, p.opening.close_hour,
        counts.0, counts.1, counts.2
    )
}

/// The terminal table.
pub fn table(outcomes: &[Outcome]) -> String {
    let mut s = String::new();
    // Amazon orders short of the oracle's (the bound no connector can beat), when it ran.
    let oracle = outcomes
        .iter()
        .find(|o| o.policy == "oracle" && o.error.is_none())
        .map(|o| o.amazon_orders as i64);
    let _ = writeln!(
        s,
        "{:<24} {:>7} {:>6} {:>6} {:>6} {:>7} {:>7} {:>6} {:>6} {:>6} {:>6} {:>18} {:>18} {:>14} {:>7} {:>8}",
        "policy",
        "orders",
        "vsOra",
        "lostA",
        "lostS",
        "cancel",
        "unprev",
        "amzLate",
        "fault",
        "late",
        "open",
        "cancellation<2.5%",
        "late ship<4%",
        "defect<1%",
        "staff h",
        "API"
    );
    for o in outcomes {
        if let Some(e) = &o.error {
            let _ = writeln!(s, "{:<24} did not run: {e}", o.policy);
            continue;
        }
        let _ = writeln!(
            s,
            "{:<24} {:>7} {:>6} {:>6} {:>6} {:>7} {:>7} {:>6} {:>6} {:>6} {:>6} {:>18} {:>18} {:>14} {:>7.1} {:>8}",
            o.policy,
            o.amazon_orders,
            oracle.map_or(String::new(), |b| format!("{:+}", o.amazon_orders as i64 - b)),
            o.amazon_lost,
            o.store_lost,
            o.seller_cancellations,
            o.unpreventable,
            o.amazon_late,
            o.connector_fault,
            o.late + o.overdue,
            o.open,
            format!(
                "{} {}",
                pct(o.cancellation_rate),
                verdict(o.cancellation_rate, CANCELLATION_TARGET)
            ),
            format!("{} {}", pct(o.late_rate), verdict(o.late_rate, LATE_TARGET)),
            format!("{} {}", pct(o.defect_rate), verdict(o.defect_rate, DEFECT_TARGET)),
            o.staff_hours,
            o.api_calls
        );
    }
    s.push_str(&notes(outcomes));
    s.push_str(
        "\norders: Amazon orders placed; vsOra: Amazon orders beside the oracle's (it knows the shelf and every \
         order at once and sets Amazon without API calls or delay: the bound); lostA/lostS: buyers who left because Amazon showed too little / \
         store customers who found the shelf empty;\ncancel: seller cancellations (booked when the shelf \
         could not fill them), split into unprev (the shop's free units covered the order when it was \
         placed and the store\nsold them before the order was booked: no stock update could have prevented \
         it, only booking sooner or a buffer), amzLate (Amazon showed units the shop no longer had because it had not applied yet the lower \
         value the connector sent before the order: its landing delay) and fault (Amazon showed units the shop no longer had, and the connector \
         had not told it); late: \
         confirmations after the LatestShipDate,\nplus unshipped orders past it; open: unshipped orders \
         still within their handling time at the end. Defect rate: refunds are not simulated.\n",
    );
    s
}

/// API calls per simulated day by operation, for every policy that made calls, beside the
/// operation's usage plan (its sustained rate over a day; `-` where Amazon sets none).
pub fn calls_table(outcomes: &[Outcome], hours: f64) -> String {
    let ran: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.error.is_none() && o.api_calls > 0)
        .collect();
    let mut ops: Vec<&str> = ran
        .iter()
        .flat_map(|o| o.calls.keys().map(String::as_str))
        .collect();
    ops.sort_unstable();
    ops.dedup();
    let days = (hours / 24.0).max(f64::MIN_POSITIVE);
    let mut s = String::new();
    let _ = write!(
        s,
        "\nAPI calls per day by operation\n{:<30} {:>12}",
        "operation", "plan/day"
    );
    for o in &ran {
        let _ = write!(s, " {:>22}", o.policy);
    }
    s.push('\n');
    for op in ops.iter().copied().chain(std::iter::once("total")) {
        let plan = sellsync_emulator::limits::Op::from_name(op)
            .filter(|o| o.limited())
            .map_or("-".to_string(), |o| format!("{:.0}", o.rate() * 86_400.0));
        let _ = write!(s, "{op:<30} {plan:>12}");
        for o in &ran {
            let n = if op == "total" {
                o.api_calls
            } else {
                o.calls.get(op).copied().unwrap_or(0)
            };
            let _ = write!(s, " {:>22.0}", n as f64 / days);
        }
        s.push('\n');
    }
    for o in outcomes {
        if let Some(r) = &o.read_back {
            let _ = writeln!(
                s,
                "{}: {} SKUs read back; the read lowered the value sent {}, found it already shown {}, saw a sent value land {}, changed nothing {}",
                o.policy, r["skus"], r["lowered"], r["already_shown"], r["saw_landing"], r["idle"]
            );
        }
    }
    s
}

/// Warnings about policies whose rates cover fewer decided orders.
pub fn notes(outcomes: &[Outcome]) -> String {
    let mut s = String::new();
    for o in outcomes.iter().filter(|o| o.error.is_none()) {
        if o.unbooked_at_end * 10 > o.amazon_orders {
            let _ = writeln!(
                s,
                "NOTE {}: {} of {} orders were not booked yet at the end; whether they could be filled is not counted, so its cancellation rate is flattered.",
                o.policy, o.unbooked_at_end, o.amazon_orders
            );
        }
    }
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const COLORS: &[&str] = &[
    "#d62728", "#ff7f0e", "#8c564b", "#1f77b4", "#17becf", "#9467bd", "#2ca02c", "#7f7f7f",
];

fn status_color(v: &str) -> &'static str {
    match v {
        "OK" => "#2ca02c",
        "AT RISK" => "#ff9f1c",
        _ => "#d62728",
    }
}

/// A horizontal bar chart of one rate per policy with its target.
fn bars(outcomes: &[&Outcome], rate: fn(&Outcome) -> f64, target: f64, title: &str) -> String {
    let row = 26.0;
    let (left, width) = (200.0, 420.0);
    let h = 40.0 + row * outcomes.len() as f64 + 20.0;
    let max = outcomes
        .iter()
        .map(|o| rate(o))
        .fold(target * 1.5, f64::max);
    let x = |r: f64| left + r / max * width;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{h}" font-family="sans-serif" font-size="12"><text x="4" y="16" font-weight="bold">{}</text>"#,
        left + width + 90.0,
        esc(title)
    );
    for (i, o) in outcomes.iter().enumerate() {
        let y = 30.0 + row * i as f64;
        let r = rate(o);
        let v = verdict(r, target);
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text><rect x="{left}" y="{y}" width="{:.1}" height="{}" fill="{}"/><text x="{:.1}" y="{}">{} {}</text>"#,
            left - 6.0,
            y + 15.0,
            esc(&o.policy),
            (x(r) - left).max(1.0),
            row - 6.0,
            status_color(v),
            x(r) + 4.0,
            y + 15.0,
            pct(r),
            v
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{0:.1}" x2="{0:.1}" y1="24" y2="{1}" stroke="#000" stroke-dasharray="4 3"/><text x="{0:.1}" y="{2}" text-anchor="middle">target {3}</text></svg>"##,
        x(target),
        h - 16.0,
        h - 4.0,
        pct(target)
    );
    s
}

/// Cumulative seller cancellations over simulated time, one line per policy.
fn timeline(outcomes: &[&Outcome], hours: f64) -> String {
    let (left, top, width, height) = (50.0, 30.0, 560.0, 240.0);
    let max = outcomes
        .iter()
        .map(|o| o.seller_cancellations)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let x = |h: f64| left + h / hours.max(1e-9) * width;
    let y = |c: f64| top + height - c / max * height;
    let mut s = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif" font-size="12"><text x="4" y="16" font-weight="bold">Seller cancellations so far, by simulated hour</text><rect x="{left}" y="{top}" width="{width}" height="{height}" fill="none" stroke="#999"/><text x="{left}" y="{}" >0 h</text><text x="{}" y="{}" text-anchor="end">{hours:.0} h</text><text x="{}" y="{}" text-anchor="end">{max}</text><text x="{}" y="{}" text-anchor="end">0</text>"##,
        left + width + 200.0,
        top + height + 30.0,
        top + height + 16.0,
        left + width,
        top + height + 16.0,
        left - 4.0,
        top + 10.0,
        left - 4.0,
        top + height
    );
    for (i, o) in outcomes.iter().enumerate() {
        let n = crate::policies::ALL
            .iter()
            .position(|p| *p == o.policy)
            .unwrap_or(COLORS.len() - 1);
        let c = COLORS[n % COLORS.len()];
        let mut pts = String::new();
        let mut last = 0.0;
        for (h, n) in &o.timeline {
            let _ = write!(
                pts,
                "{:.1},{:.1} {:.1},{:.1} ",
                x(*h),
                y(last),
                x(*h),
                y(*n as f64)
            );
            last = *n as f64;
        }
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{c}" stroke-width="2" points="{pts}"/><rect x="{}" y="{}" width="12" height="12" fill="{c}"/><text x="{}" y="{}">{} ({})</text>"#,
            left + width + 12.0,
            top + 18.0 * i as f64,
            left + width + 30.0,
            top + 10.0 + 18.0 * i as f64,
            esc(&o.policy),
            o.seller_cancellations
        );
    }
    s.push_str("</svg>");
    s
}

/// The HTML page.
pub fn html(p: &Profile, header: &str, outcomes: &[Outcome], note: &str) -> String {
    let ran: Vec<&Outcome> = outcomes.iter().filter(|o| o.error.is_none()).collect();
    let mut rows = String::new();
    for o in outcomes {
        if let Some(e) = &o.error {
            let _ = write!(
                rows,
                "<tr><td>{}</td><td colspan=\"13\">did not run: {}</td></tr>",
                esc(&o.policy),
                esc(e)
            );
            continue;
        }
        let cell = |r: f64, t: f64| {
            let v = verdict(r, t);
            format!(
                "<td style=\"color:{}\">{} {}</td>",
                status_color(v),
                pct(r),
                v
            )
        };
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}{}{}<td>{:.1}</td><td>{}</td></tr>",
            esc(&o.policy),
            o.amazon_orders,
            o.amazon_lost,
            o.store_lost,
            o.seller_cancellations,
            o.unpreventable,
            o.amazon_late,
            o.connector_fault,
            o.late + o.overdue,
            o.open,
            cell(o.cancellation_rate, CANCELLATION_TARGET),
            cell(o.late_rate, LATE_TARGET),
            cell(o.defect_rate, DEFECT_TARGET),
            o.staff_hours,
            o.api_calls
        );
    }
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Seller-outcome simulation: {name}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}table{{border-collapse:collapse;font-size:13px}}td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}td:first-child,th:first-child{{text-align:left}}pre{{white-space:pre-wrap}}</style></head><body>
<h1>Seller-outcome simulation: {name}</h1><p>{desc}</p><pre>{header}</pre>
<table><tr><th>policy</th><th>Amazon orders</th><th>lost Amazon sales</th><th>lost store sales</th><th>seller cancellations</th><th>unpreventable</th><th>Amazon had not applied the connector's lower value</th><th>connector's fault</th><th>late</th><th>open</th><th>cancellation rate (&lt; 2.5%)</th><th>late shipment rate (&lt; 4%)</th><th>defect rate (&lt; 1%)</th><th>staff hours</th><th>API calls</th></tr>{rows}</table>
<pre>{warn}</pre><p>{bars1}</p><p>{bars2}</p><p>{line}</p><pre>{note}</pre></body></html>
"#,
        name = esc(&p.name),
        desc = esc(&p.description),
        header = esc(header),
        bars1 = bars(
            &ran,
            |o| o.cancellation_rate,
            CANCELLATION_TARGET,
            "Pre-fulfilment cancellation rate per policy"
        ),
        bars2 = bars(
            &ran,
            |o| o.late_rate,
            LATE_TARGET,
            "Late shipment rate per policy"
        ),
        line = timeline(&ran, p.hours),
        note = esc(note),
        warn = esc(&notes(outcomes))
    )
}
