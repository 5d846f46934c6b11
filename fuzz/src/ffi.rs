//! Target `ffi`: every C ABI function that takes a document or a string, called through its
//! `extern "C"` export on one open handle. The first line of an input names the function; the
//! rest holds its arguments, cut at NUL bytes (a missing one is NULL). Every call must return
//! one of the header's statuses other than INTERNAL, with a message when it fails, and every
//! document handed out must be JSON.

use crate::input::{c_args, ptr, select};
use sellsync::ffi::status::{sellsync_status, SELLSYNC_ERR_INTERNAL, SELLSYNC_OK};
use sellsync::ffi::*;
use std::ffi::{c_char, CStr, CString};
use std::sync::OnceLock;

/// The functions this target calls, by the name an input's first line gives.
pub const FUNCTIONS: &[&str] = &[
    "stock_set_batch",
    "sku_map",
    "shipment_confirm",
    "order_cancel_items",
    "order_refund",
    "metrics",
    "order_ack",
    "order_cancel",
    "stock_set",
    "shipments",
    "purge_buyer_data",
    "set_credentials",
    "price_set",
    "price_confirm",
];

/// The orders the handle's store holds from the start, so documents naming them go deep.
const ORDERS: &str = include_str!("orders.json");
/// SKU mappings and stock the handle starts with.
const SETUP: &[(&str, &str)] = &[
    (
        "sku_map",
        r#"{"mappings": [{"sku": "MUG-6", "items": [{"host_item": "4711", "units": 6}]},
            {"sku": "GIFT", "items": [{"host_item": "4711"}, {"host_item": "0815", "units": 2}]},
            {"sku": "MUG-FBA", "fba": true}]}"#,
    ),
    (
        "stock_set_batch",
        r#"{"levels": [{"host_item": "4711", "on_hand": 40}, {"host_item": "0815", "on_hand": 9}]}"#,
    ),
];

/// This thread's last error message.
pub fn last_error() -> String {
    // SAFETY: the library returns a NUL-terminated string valid until this thread's next call.
    unsafe { CStr::from_ptr(sellsync_last_error()) }
        .to_string_lossy()
        .into_owned()
}

/// Checks a status returned by `function`: one of the header's, not INTERNAL, and a failure
/// comes with a message.
pub fn check(function: &str, status: sellsync_status) {
    let message = last_error();
    assert!(
        (SELLSYNC_OK..=SELLSYNC_ERR_INTERNAL).contains(&status),
        "{function} returned {status}, which is no status of the header"
    );
    assert_ne!(
        status, SELLSYNC_ERR_INTERNAL,
        "{function} failed inside the library: {message}"
    );
    assert!(
        status == SELLSYNC_OK || !message.is_empty(),
        "{function} failed with status {status} and no message"
    );
}

/// Opens a handle on `config`, which must succeed.
pub fn open(config: &str) -> *mut SellSync {
    let c = CString::new(config).expect("no NUL in a JSON document");
    let mut h = std::ptr::null_mut();
    // SAFETY: a NUL-terminated string and a writable pointer, both valid for the call.
    let status = unsafe { sellsync_open(c.as_ptr(), &mut h) };
    assert_eq!(
        status,
        SELLSYNC_OK,
        "a valid configuration did not open: {}",
        last_error()
    );
    h
}

/// The handle all inputs use (its address), opened on first use.
fn handle() -> *mut SellSync {
    static HANDLE: OnceLock<usize> = OnceLock::new();
    *HANDLE.get_or_init(|| setup() as usize) as *mut SellSync
}

fn setup() -> *mut SellSync {
    let store = crate::scratch::path("ffi.sqlite");
    let _ = std::fs::remove_file(&store);
    let config = serde_json::json!({
        "store_path": store,
        "seller_id": "A2FUZZSELLER01",
        "marketplace_ids": ["ATVPDKIKX0DER"],
        "credentials": {"client_id": "fuzz", "client_secret": "fuzz-secret", "refresh_token": "Atzr|fuzz"},
        // Nothing here calls out; if something did, it would find no one.
        "endpoint": "http://127.0.0.1:9",
        "http_allow_insecure_loopback": true,
    })
    .to_string();
    // The orders go in through the library's own reading of Amazon's answer.
    let engine = sellsync::Engine::open(sellsync::Config::from_json(&config).expect("config"))
        .expect("open the store");
    let answer: serde_json::Value = serde_json::from_str(ORDERS).expect("orders.json");
    let (orders, _) = sellsync::amazon::orders::search_answer(&answer).expect("orders.json");
    engine
        .core()
        .store
        .apply_orders(orders, &Default::default(), chrono::Utc::now())
        .expect("store the orders");
    engine.close().expect("close");
    drop(engine);
    let h = open(&config);
    for (function, doc) in SETUP {
        let mut input = format!("{function}\n").into_bytes();
        input.extend_from_slice(doc.as_bytes());
        let status = call(h, &input);
        assert_eq!(status, SELLSYNC_OK, "{function}: {}", last_error());
    }
    h
}

/// Closes the handle (when it was opened); later inputs get SELLSYNC_ERR_CLOSED.
pub fn close() {
    // SAFETY: the handle from sellsync_open; closing twice is allowed.
    let _ = unsafe { sellsync_close(handle()) };
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let _ = call(handle(), data);
}

/// Takes a document handed out through `out`: it must be JSON; frees it.
fn take_doc(function: &str, out: *mut c_char) {
    if out.is_null() {
        return;
    }
    // SAFETY: a NUL-terminated string this library returned.
    let text = unsafe { CStr::from_ptr(out) }.to_owned();
    // SAFETY: returned by the library, freed once.
    unsafe { sellsync_string_free(out) };
    let text = text
        .to_str()
        .unwrap_or_else(|_| panic!("{function} handed out invalid UTF-8"));
    if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
        panic!("{function} handed out a document that is not JSON ({e}): {text}");
    }
}

/// Calls the function an input names; returns its status.
fn call(h: *mut SellSync, data: &[u8]) -> sellsync_status {
    let (index, rest) = select(data, FUNCTIONS);
    let function = FUNCTIONS[index];
    let a = c_args(rest, 2);
    let mut out: *mut c_char = std::ptr::null_mut();
    // SAFETY: `h` is from sellsync_open; every string is NUL-terminated or NULL and lives for the
    // call; `out` is writable.
    let status = unsafe {
        match function {
            "stock_set_batch" => sellsync_stock_set_batch(h, ptr(&a[0])),
            "sku_map" => sellsync_sku_map(h, ptr(&a[0])),
            "shipment_confirm" => sellsync_shipment_confirm(h, ptr(&a[0])),
            "order_cancel_items" => sellsync_order_cancel_items(h, ptr(&a[0])),
            "order_refund" => sellsync_order_refund(h, ptr(&a[0])),
            "metrics" => sellsync_metrics(h, ptr(&a[0]), &mut out),
            "order_ack" => sellsync_order_ack(h, ptr(&a[0]), ptr(&a[1])),
            "order_cancel" => sellsync_order_cancel(h, ptr(&a[0]), ptr(&a[1])),
            "stock_set" => {
                let on_hand = a[1]
                    .as_ref()
                    .and_then(|s| s.to_str().ok()?.trim().parse().ok())
                    .unwrap_or(0);
                sellsync_stock_set(h, ptr(&a[0]), on_hand)
            }
            "shipments" => sellsync_shipments(h, ptr(&a[0]), &mut out),
            "purge_buyer_data" => sellsync_purge_buyer_data(h, ptr(&a[0])),
            "set_credentials" => sellsync_set_credentials(h, ptr(&a[0])),
            "price_set" => sellsync_price_set(h, ptr(&a[0])),
            "price_confirm" => sellsync_price_confirm(h, ptr(&a[0]), ptr(&a[1])),
            _ => unreachable!("every function is listed"),
        }
    };
    check(function, status);
    take_doc(function, out);
    status
}
