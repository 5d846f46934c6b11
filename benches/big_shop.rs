//! A big shop end to end: 100,000 SKUs mapped in one `sellsync_sku_map` call and reported in
//! one `sellsync_stock_set_batch` call, then 100,000 Amazon orders taken in (Orders 2026-01-01)
//! in ten waves and handed over (`sellsync_order_next` + `sellsync_order_ack`). The emulator
//! runs in a child process, so the CPU time and the peak resident memory measured are the
//! host's and the library's alone. The CPU per order is given for the second and the last wave
//! (the first one costs less: it needs one sync where the others need two, the first of which
//! learns that Amazon's clock moved on an hour), so growth with the store shows.
//!
//! Run: `cargo bench --bench big_shop` (`BIG_SHOP_SKUS`, `BIG_SHOP_ORDERS` change the sizes).

mod common;

use common::{cpu_seconds, result, size, status_mib};
use sellsync::ffi::status::SELLSYNC_OK;
use sellsync::ffi::*;
use sellsync_emulator::{Config as EmuConfig, Emulator, ListingSeed, OrderSeed, Seller};
use std::ffi::{CStr, CString};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The child: an emulator with the shop's listings and fast rate limits; prints its URL, then
/// for each line `N` on its stdin moves its clock an hour on, places N orders 400 s in the past
/// (a realistic spread: a wave is an hour of trade) and answers `placed`, until its stdin
/// closes.
fn emulator_child(skus: usize) {
    let emu = Emulator::start(EmuConfig {
        rate_scale: 2_000.0,
        ..EmuConfig::default()
    })
    .unwrap();
    let seeds: Vec<ListingSeed> = (0..skus)
        .map(|i| ListingSeed::new(format!("SKU-{i}"), 1_000_000, false))
        .collect();
    emu.control().seed_listings(None, &seeds).unwrap();
    println!("{}", emu.url());
    for line in std::io::stdin().lines() {
        let count = line.unwrap().trim().parse().unwrap();
        emu.control().advance(chrono::Duration::hours(1));
        emu.control()
            .place_orders(&OrderSeed {
                count: Some(count),
                age_seconds: 400,
                ..Default::default()
            })
            .unwrap();
        println!("placed");
    }
}

/// Orders in the store.
fn total_orders(h: *mut SellSync) -> usize {
    let mut json = std::ptr::null_mut();
    // SAFETY: `h` is open; `json` is a writable out pointer.
    ok(unsafe { sellsync_state(h, &mut json) }, "state");
    // SAFETY: the library's string, freed right after.
    let state: serde_json::Value =
        serde_json::from_str(&unsafe { CStr::from_ptr(json) }.to_string_lossy()).unwrap();
    // SAFETY: owned by the library, freed once.
    unsafe { sellsync_string_free(json) };
    state["orders"]["total"].as_u64().unwrap() as usize
}

fn ok(rc: i32, what: &str) {
    if rc != SELLSYNC_OK {
        // SAFETY: the library's message for this thread, valid until its next call.
        let msg = unsafe { CStr::from_ptr(sellsync_last_error()) };
        panic!("{what}: {rc} {}", msg.to_string_lossy());
    }
}

fn main() {
    let skus = size("BIG_SHOP_SKUS", 100_000);
    let orders = size("BIG_SHOP_ORDERS", 100_000);
    if std::env::var("BIG_SHOP_ROLE").as_deref() == Ok("emulator") {
        return emulator_child(skus);
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env("BIG_SHOP_ROLE", "emulator")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut to_child = child.stdin.take().unwrap();
    let mut from_child = BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    from_child.read_line(&mut url).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let s = Seller::demo();
    let config = CString::new(format!(
        r#"{{"store_path": {:?}, "seller_id": "{}", "marketplace_ids": ["ATVPDKIKX0DER"], "endpoint": "{}",
            "http_allow_insecure_loopback": true, "orders": {{"initial_lookback_hours": 2}},
            "credentials": {{"client_id": "{}", "client_secret": "{}", "refresh_token": "{}"}}}}"#,
        dir.path().join("big.sqlite"),
        s.seller_id,
        url.trim(),
        s.client_id,
        s.client_secret,
        s.refresh_token
    ))
    .unwrap();
    let base_rss = status_mib("VmHWM:");
    let mut h = std::ptr::null_mut();
    // SAFETY: valid NUL-terminated config and a writable out pointer.
    ok(unsafe { sellsync_open(config.as_ptr(), &mut h) }, "open");

    let t = Instant::now();
    let mapping = CString::new(format!(
        r#"{{"mappings":[{}]}}"#,
        (0..skus)
            .map(|i| format!(r#"{{"sku":"SKU-{i}","items":[{{"host_item":"I-{i}"}}]}}"#))
            .collect::<Vec<_>>()
            .join(",")
    ))
    .unwrap();
    // SAFETY: `h` is open; the JSON is NUL-terminated.
    ok(unsafe { sellsync_sku_map(h, mapping.as_ptr()) }, "sku_map");
    drop(mapping);
    let levels = CString::new(format!(
        r#"{{"levels":[{}]}}"#,
        (0..skus)
            .map(|i| format!(r#"{{"host_item":"I-{i}","on_hand":{}}}"#, 5 + i % 20))
            .collect::<Vec<_>>()
            .join(",")
    ))
    .unwrap();
    // SAFETY: `h` is open; the JSON is NUL-terminated.
    ok(
        unsafe { sellsync_stock_set_batch(h, levels.as_ptr()) },
        "stock_set_batch",
    );
    drop(levels);
    let catalogue = t.elapsed().as_secs_f64();
    let rss_catalogue = status_mib("VmHWM:");

    // Orders in, in ten waves: each wave is placed, then synced until the store has it.
    let wave = orders / 10;
    let mut per_wave = Vec::new();
    let (cpu_start, t) = (cpu_seconds(), Instant::now());
    for w in 1..=10 {
        writeln!(to_child, "{wave}").unwrap();
        let mut answer = String::new();
        from_child.read_line(&mut answer).unwrap();
        let before = cpu_seconds();
        loop {
            // SAFETY: `h` is open.
            ok(
                unsafe { sellsync_sync_now(h, SELLSYNC_FLOW_ORDERS) },
                "sync_now",
            );
            if total_orders(h) >= w * wave {
                break;
            }
        }
        per_wave.push((cpu_seconds() - before) / wave as f64);
    }
    let cpu_in = (cpu_seconds() - cpu_start) / (10 * wave) as f64;
    let wall_in = t.elapsed().as_secs_f64();

    // Hand-over: next + ack for every order.
    let (cpu_start, t) = (cpu_seconds(), Instant::now());
    let mut handed = 0;
    loop {
        let mut json = std::ptr::null_mut();
        // SAFETY: `h` is open; `json` is a writable out pointer.
        ok(unsafe { sellsync_order_next(h, &mut json) }, "order_next");
        if json.is_null() {
            break;
        }
        // SAFETY: the library's string, freed right after.
        let doc: serde_json::Value =
            serde_json::from_str(&unsafe { CStr::from_ptr(json) }.to_string_lossy()).unwrap();
        // SAFETY: owned by the library, freed once.
        unsafe { sellsync_string_free(json) };
        let id = CString::new(doc["order_id"].as_str().unwrap()).unwrap();
        let host_ref = CString::new(format!("POS-{handed}")).unwrap();
        // SAFETY: `h` is open; both strings are NUL-terminated.
        ok(
            unsafe { sellsync_order_ack(h, id.as_ptr(), host_ref.as_ptr()) },
            "ack",
        );
        handed += 1;
    }
    let cpu_out = (cpu_seconds() - cpu_start) / handed.max(1) as f64;
    let wall_out = t.elapsed().as_secs_f64();
    // SAFETY: `h` is open and used no more.
    ok(unsafe { sellsync_close(h) }, "close");
    drop(to_child);
    let _ = child.wait();

    let peak = status_mib("VmHWM:");
    println!("big shop: {skus} SKUs, {orders} orders (host process only; emulator in a child)");
    println!();
    println!("| measure | value | goal |");
    println!("|---|---|---|");
    println!(
        "| map {skus} SKUs in one call + report their stock in one call | {catalogue:.1} s | |"
    );
    println!("| peak RSS after the catalogue (process before open: {base_rss:.1} MiB) | {rss_catalogue:.1} MiB | ≤ 64 MiB |");
    println!(
        "| CPU per order taken in, all | {:.1} µs ({wall_in:.0} s wall) | ≤ 20 µs |",
        cpu_in * 1e6
    );
    println!(
        "| CPU per order taken in, last wave ÷ second wave ({wave} each) | {:.1} µs ÷ {:.1} µs = {:.2}x | flat |",
        per_wave[9] * 1e6,
        per_wave[1] * 1e6,
        per_wave[9] / per_wave[1]
    );
    println!("| CPU per order handed over and acknowledged ({handed}) | {:.1} µs ({wall_out:.0} s wall, fsync each) | |", cpu_out * 1e6);
    println!("| peak RSS, whole run | {peak:.1} MiB | ≤ 64 MiB |");

    let s = "big shop";
    result(
        s,
        "catalogue: map + stock in one call each",
        catalogue,
        "s",
        "",
        "",
    );
    result(
        s,
        "peak RSS after the catalogue",
        rss_catalogue,
        "MiB",
        "",
        "<= 64",
    );
    result(s, "CPU per order taken in", cpu_in * 1e6, "µs", "", "<= 20");
    let second = "CPU per order taken in, second wave";
    result(s, second, per_wave[1] * 1e6, "µs", "", "");
    let last = "CPU per order taken in, last wave";
    result(s, last, per_wave[9] * 1e6, "µs", second, "<= 2x");
    result(s, "orders taken in, wall", wall_in, "s", "", "");
    let handover = "CPU per order handed over and acknowledged";
    result(s, handover, cpu_out * 1e6, "µs", "", "");
    result(s, "peak RSS, whole run", peak, "MiB", "", "<= 64");
}
