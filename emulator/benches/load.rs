//! The emulator's own cost next to what it emulates: with 100,000 listings and 100,000 orders
//! loaded, the time to answer a 100-order searchOrders page over loopback HTTP, side by side
//! with the cheapest call it serves (getMarketplaceParticipations), and its resident memory.
//!
//! Run: `cargo bench -p sellsync-emulator --bench load` (figures go to BENCHMARKS.md;
//! `LOAD_SIZE` changes the 100,000).

#[allow(dead_code)]
#[path = "../../benches/common/report.rs"]
mod report;

use report::{percentile, result, size, status_mib};
use sellsync_emulator::{Config, Emulator, ListingSeed, OrderSeed, Seller};
use std::time::Instant;

fn main() {
    let n = size("LOAD_SIZE", 100_000);
    let rss_before = status_mib("VmRSS:");
    let emu = Emulator::start(Config {
        rate_scale: 1e9,
        ..Config::default()
    })
    .unwrap();
    let t = Instant::now();
    let seeds: Vec<ListingSeed> = (0..n)
        .map(|i| ListingSeed::new(format!("SKU-{i:06}"), 5, false))
        .collect();
    emu.control().seed_listings(None, &seeds).unwrap();
    drop(seeds);
    let placed = emu
        .control()
        .place_orders(&OrderSeed {
            count: Some(n),
            age_seconds: 3600,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(placed.len(), n);
    let load_time = t.elapsed().as_secs_f64();
    let rss_loaded = status_mib("VmRSS:");

    let http = reqwest::blocking::Client::new();
    let s = Seller::demo();
    let token: serde_json::Value = http
        .post(format!("{}/auth/o2/token", emu.url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", s.refresh_token.as_str()),
            ("client_id", s.client_id.as_str()),
            ("client_secret", s.client_secret.as_str()),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();
    let get = |path: &str, query: &[(&str, &str)]| -> (f64, serde_json::Value) {
        let t = Instant::now();
        let v: serde_json::Value = http
            .get(format!("{}{path}", emu.url()))
            .query(query)
            .header("x-amz-access-token", &token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        (t.elapsed().as_secs_f64() * 1e3, v)
    };
    let (mut pages, mut trivial) = (Vec::new(), Vec::new());
    let mut next: Option<String> = None;
    let mut seen = 0;
    let rounds = (n / 100).min(200);
    for _ in 0..rounds {
        let mut q = vec![
            ("lastUpdatedAfter", "2020-01-01T00:00:00Z"),
            (
                "includedData",
                "RECIPIENT,FULFILLMENT,PROCEEDS,CANCELLATION",
            ),
            ("maxResultsPerPage", "100"),
        ];
        if let Some(t) = &next {
            q.push(("paginationToken", t.as_str()));
        }
        let (d, v) = get("/orders/2026-01-01/orders", &q);
        seen += v["orders"].as_array().map_or(0, |a| a.len());
        next = v["pagination"]["nextToken"].as_str().map(str::to_string);
        pages.push(d);
        let (d, _) = get("/sellers/v1/marketplaceParticipations", &[]);
        trivial.push(d);
    }
    assert_eq!(seen, rounds * 100);
    let (p50, p95) = (percentile(&mut pages, 0.5), percentile(&mut pages, 0.95));
    let (t50, t95) = (
        percentile(&mut trivial, 0.5),
        percentile(&mut trivial, 0.95),
    );
    let peak = status_mib("VmHWM:");
    println!("emulator load benchmark ({n} listings, {n} orders; {rounds} pages of 100 orders, interleaved)");
    println!("  seeding time                      {load_time:>8.2} s");
    println!(
        "  resident memory, loaded           {rss_loaded:>8.1} MiB (process grew by {:.1} MiB)",
        rss_loaded - rss_before
    );
    println!("  peak resident memory              {peak:>8.1} MiB");
    println!("  searchOrders page of 100, p50/p95 {p50:>8.2} / {p95:.2} ms");
    println!("  getMarketplaceParticipations p50  {t50:>8.2} / {t95:.2} ms");
    println!("  ratio page/trivial call (p50)     {:>8.1}x", p50 / t50);

    let s = "emulator";
    result(s, "seeding listings and orders", load_time, "s", "", "");
    result(s, "resident memory, loaded", rss_loaded, "MiB", "", "");
    result(s, "peak resident memory", peak, "MiB", "", "");
    result(s, "getMarketplaceParticipations, p50", t50, "ms", "", "");
    let trivial = "getMarketplaceParticipations, p50";
    result(s, "searchOrders page of 100, p50", p50, "ms", trivial, "");
    result(s, "searchOrders page of 100, p95", p95, "ms", "", "");
}
