//! The emulator's own cost next to what it emulates: with 100,000 listings and 100,000 orders
//! loaded, the time to answer a 100-order searchOrders page over loopback HTTP, side by side
//! with the cheapest call it serves (getMarketplaceParticipations), and its resident memory.
//!
//! Run: `cargo bench -p sellsync-emulator --bench load` (figures go to BENCHMARKS.md).

use sellsync_emulator::{Config, Emulator, ListingSeed, OrderSeed, Seller};
use std::time::{Duration, Instant};

const N: usize = 100_000;

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let rss_before = rss_kib("VmRSS:");
    let emu = Emulator::start(Config {
        rate_scale: 1e9,
        ..Config::default()
    })
    .unwrap();
    let t = Instant::now();
    let seeds: Vec<ListingSeed> = (0..N)
        .map(|i| ListingSeed {
            sku: format!("SKU-{i:06}"),
            asin: None,
            title: None,
            quantity: 5,
            price_cents: None,
            fba: false,
            product_type: None,
        })
        .collect();
    emu.control().seed_listings(None, &seeds).unwrap();
    drop(seeds);
    let placed = emu
        .control()
        .place_orders(&OrderSeed {
            count: Some(N),
            age_seconds: 3600,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(placed.len(), N);
    let load_time = t.elapsed();
    let rss_loaded = rss_kib("VmRSS:");

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
    let get = |path: &str, query: &[(&str, &str)]| -> (Duration, serde_json::Value) {
        let t = Instant::now();
        let v: serde_json::Value = http
            .get(format!("{}{path}", emu.url()))
            .query(query)
            .header("x-amz-access-token", &token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        (t.elapsed(), v)
    };
    let (mut pages, mut trivial) = (Vec::new(), Vec::new());
    let mut next: Option<String> = None;
    let mut seen = 0;
    for _ in 0..200 {
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
    assert_eq!(seen, 200 * 100);
    let (p50, p95) = (percentile(&mut pages, 0.5), percentile(&mut pages, 0.95));
    let (t50, t95) = (
        percentile(&mut trivial, 0.5),
        percentile(&mut trivial, 0.95),
    );
    println!(
        "emulator load benchmark ({N} listings, {N} orders; 200 pages of 100 orders, interleaved)"
    );
    println!(
        "  seeding time                      {:>8.2} s",
        load_time.as_secs_f64()
    );
    println!(
        "  resident memory, loaded           {:>8.1} MiB (process grew by {:.1} MiB)",
        rss_loaded as f64 / 1024.0,
        (rss_loaded - rss_before) as f64 / 1024.0
    );
    println!(
        "  peak resident memory              {:>8.1} MiB",
        rss_kib("VmHWM:") as f64 / 1024.0
    );
    println!(
        "  searchOrders page of 100, p50/p95 {:>8.2} / {:.2} ms",
        p50.as_secs_f64() * 1e3,
        p95.as_secs_f64() * 1e3
    );
    println!(
        "  getMarketplaceParticipations p50  {:>8.2} / {:.2} ms",
        t50.as_secs_f64() * 1e3,
        t95.as_secs_f64() * 1e3
    );
    println!(
        "  ratio page/trivial call (p50)     {:>8.1}x",
        p50.as_secs_f64() / t50.as_secs_f64()
    );
}
