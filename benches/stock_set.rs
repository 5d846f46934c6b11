//! Durable stock updates through the C ABI: `sellsync_stock_set` one item per call, and
//! `sellsync_stock_set_batch` with 1,000 items per call, measured side by side in one run
//! (each call returns only once its change is committed with `synchronous=FULL`).
//!
//! Run: `cargo bench --bench stock_set`

use sellsync::ffi::status::SELLSYNC_OK;
use sellsync::ffi::*;
use sellsync_emulator::Seller;
use std::ffi::CString;
use std::time::Instant;

const ITEMS: usize = 1000;

fn open(dir: &std::path::Path) -> *mut SellSync {
    let s = Seller::demo();
    let config = format!(
        r#"{{"store_path": {:?}, "seller_id": "{}", "marketplace_ids": ["ATVPDKIKX0DER"], "endpoint": "http://127.0.0.1:9",
            "http_allow_insecure_loopback": true,
            "credentials": {{"client_id": "{}", "client_secret": "{}", "refresh_token": "{}"}}}}"#,
        dir.join("b.sqlite"),
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
    let mappings: Vec<String> = (0..ITEMS)
        .map(|i| format!(r#"{{"sku":"SKU-{i}","items":[{{"host_item":"I-{i}"}}]}}"#))
        .collect();
    let mapping = CString::new(format!(r#"{{"mappings":[{}]}}"#, mappings.join(","))).unwrap();
    // SAFETY: `h` is open; the JSON is NUL-terminated.
    assert_eq!(
        unsafe { sellsync_sku_map(h, mapping.as_ptr()) },
        SELLSYNC_OK
    );
    h
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    let names: Vec<CString> = (0..ITEMS)
        .map(|i| CString::new(format!("I-{i}")).unwrap())
        .collect();
    let singles = 2000;
    let t = Instant::now();
    for n in 0..singles {
        // SAFETY: `h` is open; the item name is NUL-terminated.
        assert_eq!(
            unsafe { sellsync_stock_set(h, names[n % ITEMS].as_ptr(), (n % 50) as i64) },
            SELLSYNC_OK
        );
    }
    let single = t.elapsed().as_secs_f64();
    let batches = 20;
    let t = Instant::now();
    for b in 0..batches {
        let levels: Vec<String> = (0..ITEMS)
            .map(|i| format!(r#"{{"host_item":"I-{i}","on_hand":{}}}"#, (i + b) % 50))
            .collect();
        let json = CString::new(format!(r#"{{"levels":[{}]}}"#, levels.join(","))).unwrap();
        // SAFETY: `h` is open; the JSON is NUL-terminated.
        assert_eq!(
            unsafe { sellsync_stock_set_batch(h, json.as_ptr()) },
            SELLSYNC_OK
        );
    }
    let batch = t.elapsed().as_secs_f64();
    // SAFETY: `h` is open and used no more.
    assert_eq!(unsafe { sellsync_close(h) }, SELLSYNC_OK);
    let per_single = singles as f64 / single;
    let per_batched = (batches * ITEMS) as f64 / batch;
    println!("durable stock updates through the C ABI ({ITEMS} mapped items, synchronous=FULL)");
    println!("  sellsync_stock_set, one item per call          {per_single:>10.0} updates/s ({:.3} ms per call)", 1e3 / per_single);
    println!("  sellsync_stock_set_batch, 1,000 items per call {per_batched:>10.0} updates/s ({:.1} ms per call)", batch * 1e3 / batches as f64);
    println!(
        "  ratio batch/single                             {:>10.1}x",
        per_batched / per_single
    );
}
