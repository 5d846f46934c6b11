//! The C ABI: the only `extern "C"` and `unsafe` code of the library. Every export checks its
//! arguments, runs inside `ffi_entry!` (no panic crosses the boundary) and returns a
//! `sellsync_status`; the message of a failure is in `sellsync_last_error()`.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::undocumented_unsafe_blocks
)]
#![allow(clippy::missing_safety_doc)]

pub mod callback;
pub(crate) mod guard;
pub mod handle;
pub mod status;
pub mod strings;

use crate::config::Config;
use crate::engine::Engine;
use crate::error::Error;
use callback::{
    sellsync_event_callback, sellsync_free_user, sellsync_log_callback, HostCallback,
    HostLogCallback,
};
use guard::ffi_entry;
pub use handle::SellSync;
use status::*;
use std::ffi::{c_char, c_void};
use std::time::Duration;

/// Major version of this header; checked against Cargo.toml by a test.
pub const SELLSYNC_VERSION_MAJOR: u32 = 0;
/// Minor version.
pub const SELLSYNC_VERSION_MINOR: u32 = 1;
/// Patch version.
pub const SELLSYNC_VERSION_PATCH: u32 = 0;
/// MAJOR * 10000 + MINOR * 100 + PATCH.
pub const SELLSYNC_VERSION_NUMBER: u32 = 100;

/// Flow bit for `sellsync_sync_now`: orders in (Amazon → host).
pub const SELLSYNC_FLOW_ORDERS: u32 = 1;
/// Flow bit for `sellsync_sync_now`: stock out (host → Amazon).
pub const SELLSYNC_FLOW_STOCK: u32 = 2;
/// Flow bit for `sellsync_sync_now`: listings pull and reconciliation. Alone, it requests the
/// listings report at once; with other flows, when `intervals.listings_seconds` have passed.
/// A later cycle reads the report when Amazon has made it.
pub const SELLSYNC_FLOW_LISTINGS: u32 = 4;
/// Flow bit for `sellsync_sync_now`: shipment confirmations out (host → Amazon).
pub const SELLSYNC_FLOW_SHIPMENTS: u32 = 8;
/// Every flow.
pub const SELLSYNC_FLOW_ALL: u32 = 15;
const _: () = assert!(
    SELLSYNC_FLOW_ORDERS == crate::engine::FLOW_ORDERS
        && SELLSYNC_FLOW_STOCK == crate::engine::FLOW_STOCK
        && SELLSYNC_FLOW_LISTINGS == crate::engine::FLOW_LISTINGS
        && SELLSYNC_FLOW_SHIPMENTS == crate::engine::FLOW_SHIPMENTS
        && SELLSYNC_FLOW_ALL == crate::engine::FLOW_ALL
);

/// The library's version, e.g. "0.1.0" (static; do not free).
#[no_mangle]
pub extern "C" fn sellsync_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The library's version as MAJOR * 10000 + MINOR * 100 + PATCH, to compare with
/// SELLSYNC_VERSION_NUMBER of the header the host was built with.
#[no_mangle]
pub extern "C" fn sellsync_version_number() -> u32 {
    SELLSYNC_VERSION_NUMBER
}

/// Static text for a status code (never NULL; do not free).
#[no_mangle]
pub extern "C" fn sellsync_status_str(code: sellsync_status) -> *const c_char {
    status::text(code)
}

/// The message of the last failed call on this thread ("" if the last call succeeded). Valid
/// until this thread's next sellsync call; never NULL; never contains a secret.
#[no_mangle]
pub extern "C" fn sellsync_last_error() -> *const c_char {
    status::last_error()
}

/// Frees a string returned through a `char **` argument. NULL is allowed.
#[no_mangle]
pub unsafe extern "C" fn sellsync_string_free(s: *mut c_char) {
    // SAFETY: the host passes NULL or a string this library returned, once.
    let _ = std::panic::catch_unwind(|| unsafe { strings::free(s) });
}

/// Borrows the handle behind `h` for one call.
///
/// # Safety
/// `h` is NULL or a pointer returned by `sellsync_open` (closed handles stay valid).
unsafe fn handle<'a>(h: *const SellSync) -> crate::Result<&'a SellSync> {
    // SAFETY: handles are never freed, so a non-NULL pointer from sellsync_open stays valid.
    unsafe { h.as_ref() }.ok_or_else(|| Error::InvalidArgument("h is NULL".into()))
}

/// Opens a handle for one seller account. `config_json` is the configuration document (see
/// the README); a setting outside its documented range is SELLSYNC_ERR_CONFIG. `*out` is
/// written only on success: after a failure it holds whatever it held before. Creates the
/// store file if missing, and the key file beside it (`<store_path>.key`) when the
/// configuration names no key; both readable by their owner only (0600). A key that does not
/// open the store's buyer data, or a missing key file while the store holds buyer data sealed
/// with it, is SELLSYNC_ERR_CONFIG (see "Security and privacy" in the README).
#[no_mangle]
pub unsafe extern "C" fn sellsync_open(
    config_json: *const c_char,
    out: *mut *mut SellSync,
) -> sellsync_status {
    ffi_entry!({
        // `*out` is left as it is unless the handle opens.
        if out.is_null() {
            return Err(Error::InvalidArgument("out is NULL".into()));
        }
        // SAFETY: `config_json` is NULL or a NUL-terminated string valid for the call.
        let text = unsafe { strings::arg(config_json, "config_json")? };
        let config = Config::from_json(text)?;
        let engine = Engine::open(config)?;
        let h = Box::into_raw(Box::new(SellSync::new(engine)));
        // SAFETY: `out` is non-NULL (checked above) and writable per this function's contract.
        unsafe { *out = h };
        Ok(())
    })
}

/// Closes a handle: stops the worker and the callback thread (calling `free_user`), waits for
/// calls running on other threads (waking any blocked in `sellsync_event_next`), stops flows
/// still running after a sellsync_sync_now that timed out (an HTTP call in flight is dropped;
/// what it changed at Amazon is found again by the next handle, as after a crash), and flushes
/// the store: it returns within about 5 seconds plus the store's flush. The pointer stays
/// valid: later calls return SELLSYNC_ERR_CLOSED, and so does a second close. NULL is a no-op.
/// Must not be called from the event callback.
#[no_mangle]
pub unsafe extern "C" fn sellsync_close(h: *mut SellSync) -> sellsync_status {
    ffi_entry!({
        if h.is_null() {
            return Ok(());
        }
        // SAFETY: non-NULL pointer from sellsync_open.
        unsafe { handle(h)? }.close()
    })
}

/// Replaces the Login-with-Amazon credentials of an open handle, for instance the client
/// secret that Amazon makes every application rotate every 180 days. `credentials_json` is
/// `{"client_secret": "...", "refresh_token": "...", "client_id": "..."}`: `client_secret` is
/// required, `refresh_token` (after the seller authorised the application again) and
/// `client_id` are optional; each given value must be a non-empty string, and no other member
/// is allowed (otherwise SELLSYNC_ERR_INVALID_ARGUMENT; the message never quotes the document).
/// Does not block and sends nothing: calls under way finish with the credentials they started
/// with, and the next token exchange uses the new ones. The access token in hand is kept when
/// only the secret changes (Amazon's access tokens stay valid until they expire) and dropped
/// when the refresh token or client id changes. Nothing queued is lost: orders, shipments,
/// stock, cancellations and refunds held back while Login with Amazon refused the old secret
/// or the refresh token (an `auth.revoked` event) go out at the next sync, at once while the
/// worker runs; the pause, and a refused secret's cool-down, end. The values are kept in memory only: put them in the configuration of the next
/// `sellsync_open`. The strings are copied; the caller may wipe them when this returns.
#[no_mangle]
pub unsafe extern "C" fn sellsync_set_credentials(
    h: *mut SellSync,
    credentials_json: *const c_char,
) -> sellsync_status {
    ffi_entry!({
        // SAFETY: NULL or a NUL-terminated string valid for the call.
        let text = unsafe { strings::arg(credentials_json, "credentials_json")? };
        let update = crate::config::CredentialsUpdate::from_json(text)?;
        // SAFETY: `h` is NULL or from sellsync_open.
        unsafe { handle(h)? }
            .enter()?
            .engine
            .set_credentials(&update)
    })
}

/// Runs the flows in `flows` (SELLSYNC_FLOW_* bits) once each and returns when they are done,
/// at most `intervals.sync_timeout_seconds` later: orders and listings first, then shipments,
/// cancellations, refunds and stock side by side. A flow that the background worker is running
/// at that moment is waited for. Must not be called from an async runtime thread. On a shared
/// store (`store.postgres`) it takes the lease on the seller account if it is free, and fails
/// with SELLSYNC_ERR_INVALID_STATE while another process holds it; on SQLite it takes the
/// store's lock (`<store_path>.lock`) if it is free, and fails with
/// SELLSYNC_ERR_INVALID_STATE while another handle (in this process or another) holds it,
/// without calling Amazon. SELLSYNC_ERR_TIMEOUT: the
/// flows not done yet go on in the background to their end, exactly as if the call had waited
/// (nothing is lost or done twice; a later sellsync_sync_now waits for them, and
/// sellsync_close stops them within its bound).
#[no_mangle]
pub unsafe extern "C" fn sellsync_sync_now(h: *mut SellSync, flows: u32) -> sellsync_status {
    ffi_entry!({
        // SAFETY: `h` is NULL or from sellsync_open.
        let call = unsafe { handle(h)? }.enter()?;
        let timeout =
            Duration::from_secs_f64(call.engine.core().config.intervals.sync_timeout_seconds);
        call.engine.sync_now(flows, timeout).map(|_| ())
    })
}

/// Starts the background worker: every flow runs as its own task at its configured interval,
/// and at once when the host gives it work (a stock change, a shipment, a cancellation), so no
/// flow waits for another's calls or rate limits. Idempotent. On a shared store
/// (`store.postgres`) the flows run only while this process holds the lease on the seller
/// account; the worker takes it over when it runs out. On SQLite they run only while this
/// handle holds the store's lock; the worker takes it within a second of it falling free (the
/// handle holding it closes, stops its worker, or its process ends).
#[no_mangle]
pub unsafe extern "C" fn sellsync_start(h: *mut SellSync) -> sellsync_status {
    ffi_entry!({
        // SAFETY: `h` is NULL or from sellsync_open.
        unsafe { handle(h)? }.enter()?.engine.start()
    })
}

/// Stops the background worker and waits for it. Idempotent.
#[no_mangle]
pub unsafe extern "C" fn sellsync_stop(h: *mut SellSync) -> sellsync_status {
    ffi_entry!({
        // SAFETY: `h` is NULL or from sellsync_open.
        unsafe { handle(h)? }.enter()?.engine.stop()
    })
}

/// Hands out the oldest Amazon order ready for the host as a JSON document in `*order_json`
/// (free it with sellsync_string_free), or NULL when there is none. The same order comes again
/// until it is acknowledged: after `orders.redelivery_seconds`, and at once in a new process.
/// Only paid orders are handed out, each with its prices: every line's `charges` (tax,
/// shipping, gift wrap, promotions, and `charged`, what the buyer pays for the line) plus the
/// order's `other_charges` add up to its `total` (see the README's order document).
#[no_mangle]
pub unsafe extern "C" fn sellsync_order_next(
    h: *mut SellSync,
    order_json: *mut *mut c_char,
) -> sellsync_status {
    ffi_entry!({
        // SAFETY: `order_json` is NULL or writable.
        unsafe { strings::reset_out(order_json, "order_json")? };
        // SAFETY: `h` is NULL or from sellsync_open.
        let doc = unsafe { handle(h)? }.enter()?.engine.order_next()?;
        // SAFETY: checked by reset_out.
        unsafe { strings::write_out(order_json, doc) }
    })
}

/// Acknowledges an order: the host has it, under its own reference `host_ref`. It is never
/// handed out again. Acknowledging again with the same `host_ref` succeeds; with another one
/// it returns SELLSYNC_ERR_CONFLICT. Unknown orders: SELLSYNC_ERR_NOT_FOUND.
#[no_mangle]
pub unsafe extern "C" fn sellsync_order_ack(
    h: *mut SellSync,
    order_id: *const c_char,
    host_ref: *const c_char,
) -> sellsync_status {
    ffi_entry!({
        // SAFETY: NULL or NUL-terminated strings valid for the call.
        let (id, r) = unsafe {
            (
                strings::arg(order_id, "order_id")?,
                strings::arg(host_ref, "host_ref")?,
            )
        };
        // SAFETY: `h` is NULL or from sellsync_open.
        unsafe { handle(h)? }.enter()?.engine.order_ack(id, r)
    })
}

/// Deletes the buyer data (the recipient: name, company, address, phone) of one order at
/// once and for good, as a buyer's erasure request needs: the order and its lines stay, later
/// documents of the order have `"recipient": null`, and a newer version of the order from
/// Amazon does not bring the data back. Durable when it returns. Purging an order again
/// succeeds. Unknown orders: SELLSYNC_ERR_NOT_FOUND; NULL or empty `order_id`:
/// SELLSYNC_ERR_INVALID_ARGUMENT. (Buyer data is also deleted by itself when its retention
/// after delivery, `privacy.retention_days`, has run out.)
#[no_mangle]
pub unsafe extern "C" fn sellsync_purge_buyer_data(
    h: *mut SellSync,
    order_id: *const c_char,
) -> sellsync_status {
    ffi_entry!({
        // SAFETY: NULL or a NUL-terminated string valid for the call.
        let id = unsafe { strings::arg(order_id, "order_id")? };
        // SAFETY: `h` is NULL or from sellsync_open.
        unsafe { handle(h)? }.enter()?.engine.purge_buyer_data(id)
    })
}

/// Hands out the oldest event not yet acknowledged as a JSON document in `*event_json` (free
/// it with sellsync_string_free); its `"seq"` number is what sellsync_event_ack takes. Waits up
/// to `timeout_ms` milliseconds: 0 does not wait, -1 waits until an event arrives or the handle
/// closes (SELLSYNC_ERR_CLOSED). On timeout returns SELLSYNC_OK with NULL.
/// Delivery is at least once: an event stays in the store until it is acknowledged. Handed
/// out, it is leased to this handle: this handle gets it again (before newer ones) only when
/// it is not acknowledged within `orders.redelivery_seconds`; another handle on the same store
/// (a new process after a crash) gets every unacknowledged event again, at once. So act on an
/// event, then acknowledge it; a host may see an event twice (after a crash) and should act
/// idempotently (e.g. by `order_id`). At most 100,000 events wait: an event still not
/// acknowledged when 100,000 newer ones have been stored is dropped (counted as
/// `events_dropped` by sellsync_state). While an event callback is set, events go to the
/// callback instead.
#[no_mangle]
pub unsafe extern "C" fn sellsync_event_next(
    h: *mut SellSync,
    timeout_ms: i32,
    event_json: *mut *mut c_char,
) -> sellsync_status {
    ffi_entry!({
        // SAFETY: `event_json` is NULL or writable.
        unsafe { strings::reset_out(event_json, "event_json")? };
        let timeout = match timeout_ms {
            -1 => None,
            t if t >= 0 => Some(Duration::from_millis(t as u64)),
            t => {
                return Err(Error::InvalidArgument(format!(
                    "timeout_ms must be -1 or >= 0, not {t}"
                )))
            }
        };
        // SAFETY: `h` is NULL or from sellsync_open.
        let doc = unsafe { handle(h)? }.enter()?.engine.event_next(timeout)?;
        // SAFETY: checked by reset_out.
        unsafe { strings::write_out(event_json, doc) }
    })
}

/// Sets (or with `cb` NULL removes) the event callback. It runs on one library thread, never
/// concurrently with itself, and may call back into the library (except sellsync_close and
/// this function). `event_json` lives only for the call. Each event is acknowledged when the
/// callback returns, unless the callback declined it with sellsync_event_decline (a process
/// that dies inside the callback gets the event again in its next process). `free_user(user)` is called exactly once when the callback is replaced, removed
/// or the handle closes (it may be NULL); when the call fails, `free_user` is not called and
/// the host still owns `user`.
#[no_mangle]
pub unsafe extern "C" fn sellsync_set_event_callback(
    h: *mut SellSync,
    cb: sellsync_event_callback,
    user: *mut c_void,
    free_user: sellsync_free_user,
) -> sellsync_status {
    ffi_entry!({
        // SAFETY: `h` is NULL or from sellsync_open.
        let call = unsafe { handle(h)? }.enter()?;
        // Refused before `user` is taken over, so a failed call leaves it with the host.
        call.engine.may_set_event_callback()?;
        let callback = cb.map(|cb| {
            let mut host = HostCallback::new(cb, user, free_user);
            Box::new(move |e: &str| host.call(e)) as crate::engine::events::Callback
        });
        call.engine.set_event_callback(callback)
    })
}

/// Parses a JSON argument, naming it in the error.
fn json_arg<T: serde::de::DeserializeOwned>(text: &str, name: &str) -> crate::Result<T> {
    serde_json::from_str(text).map_err(|e| crate::error::invalid_json(name, &e))
}

/// Sets the absolute on-hand quantity of one host item (0 to 1,000,000,000). Durable when it
/// returns; Amazon is told in the background (at once for a fall to the urgent threshold) or at
/// the next `sellsync_sync_now(h, SELLSYNC_FLOW_STOCK)`. An item that is part of no SKU is
/// SELLSYNC_ERR_NOT_FOUND; a negative or absurd quantity SELLSYNC_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn sellsync_stock_set(
    h: *mut SellSync,
    host_item: *const c_char,
    on_hand: i64,
) -> sellsync_status {
    ffi_entry!({
        // SAFETY: NULL or a NUL-terminated string valid for the call.
        let item = unsafe { strings::arg(host_item, "host_item")? };
        let level = crate::model::StockLevel {
            host_item: item.to_string(),
            on_hand,
        };
        // SAFETY: `h` is NULL or from sellsync_open.
        unsafe { handle(h)? }.enter()?.engine.stock_set(&[level])
    })
}

/// Sets several on-hand quantities at once, all or nothing:
/// `{"levels": [{"host_item": "4711", "on_hand": 12}, ...]}`. A level may name its
/// `"location"` (a store or warehouse): the item's quantity for Amazon is then the sum of its
/// levels at the locations the configuration's `stock.amazon_locations` names (all, if it names
/// none).
#[no_mangle]
pub unsafe extern "C" fn sellsync_stock_set_batch(
    h: *mut SellSync,
    levels_json: *const c_char,
) -> sellsync_status {
    ffi_entry!({
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Batch {
            levels: Vec<Level>,
        }
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Level {
            host_item: String,
            on_hand: i64,
            #[serde(default)]
            location: Option<String>,
        }
        // SAFETY: NULL or a NUL-terminated string valid for the call.
        let text = unsafe { strings::arg(levels_json, "levels_json")? };
        let batch: Batch = json_arg(text, "levels_json")?;
        // SAFETY: `h` is NULL or from sellsync_open.
        unsafe { handle(h)? }.enter()?.engine.stock_set_at(
            batch
                .levels
                .into_iter()
                .map(|l| {
                    let level = crate::model::StockLevel {
                        host_item: l.host_item,
                        on_hand: l.on_hand,
                    };
                    (l.location, level)
                })
                .collect(),
        )
    })
}

/// Creates, replaces or removes SKU mappings, all or nothing:
/// `{"mappings": [{"sku": "MUG-6", "items": [{"host_item": "4711", "units": 6}]},
/// {"sku": "GIFT", "items": [{"host_item": "4711"}, {"host_item": "0815", "units": 2}]},
/// {"sku": "MUG-FBA", "fba": true}, {"sku": "OLD", "remove": true}]}`; optional per SKU:
/// `product_type`, `buffer`, `allocation_percent`, `max_quantity`, `urgent_threshold`,
/// `handling_days` (0 to 30, sent with the quantity; none: Amazon's stays).
#[no_mangle]
pub unsafe extern "C" fn sellsync_sku_map(
    h: *mut SellSync,
    mapping_json: *const c_char,
) -> sellsync_status {
    ffi_entry!({
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Mappings {
            mappings: Vec<crate::model::SkuMapping>,
        }
        // SAFETY: NULL or a NUL-terminated string valid for the call.
        let text = unsafe { strings::arg(mapping_json, "mapping_json")? };
        let m: Mappings = json_arg(text, "mapping_json")?;
        // SAFETY: `h` is NULL or from sellsync_open.
        unsafe { handle(h)? }.enter()?.engine.sku_map(&m.mappings)
    })
}

/// The seller's listings as last pulled from Amazon, with their mapping state, in
/// `*listings_json` (free it with sellsync_string_free):
/// `{"pulled_at": "...", "listings": [{"sku", "asin", "title", "price", "quantity",
/// "fulfillment_channel", "status", "mapped", "fba", "should_show", "items", "fba_stock",
/// "prices"}],
/// "unmapped_skus": [...], "skus_without_listing": [...], "host_items_without_listing": [...]}`;
/// `fba_stock` is the SKU's stock at Amazon (see sellsync_fba_stock) or null; `prices` the
/// prices the host set for it, per marketplace (see sellsync_prices).
#[no_mangle]
pub unsafe extern "C" fn sellsync_listings(
    h: *mut SellSync,
    listings_json: *mut *mut c_char,
) -> sellsync_status {
    ffi_entry!({
        // SAFETY: `listings_json` is NULL or writable.
        unsafe { strings::reset_out(listings_json, "listings_json")? };
        // SAFETY: `h` is NULL or from sellsync_open.
        let doc = unsafe { handle(h)? }.enter()?.engine.listings()?;
        // SAFETY: checked by reset_out.
        unsafe { strings::write_out(listings_json, Some(doc)) }
    })
}

/// The stock at Amazon of the SKUs it fulfils, as last read (with each listings report, by
/// `getInventorySummaries`), in `*fba_json` (free it with sellsync_string_free):
/// `{"read_at": "..." or null, "skus": [{"sku", "fulfillable", "inbound_working",
/// "inbound_shipped", "inbound_receiving", "reserved", "unfulfillable", "researching", "total",
/// "amazon_updated"}]}`. `fulfillable` is what Amazon sells now; the shop's own stock is never
/// sent to these SKUs. A SKU the host mapped as seller-fulfilled whose listing Amazon fulfils
/// is treated as FBA from then on (event `sku.fulfilled_by_amazon`).
#[no_mangle]
pub unsafe extern "C" fn sellsync_fba_stock(
    h: *mut SellSync,
    fba_json: *mut *mut c_char,
) -> sellsync_status {
    ffi_entry!({
        // SAFETY: `fba_json` is NULL or writable.
        unsafe { strings::reset_out(fba_json, "fba_json")? };
        // SAFETY: `h` is NULL or from sellsync_open.
        let doc = unsafe { handle(h)? }.enter()?.engine.fba_stock()?;
        // SAFETY: checked by reset_out.
        unsafe { strings::write_out(fba_json, Some(doc)) }
    })
}

/// Creates what Amazon needs to push this seller's notifications (`ORDER_CHANGE`,
/// `LISTINGS_ITEM_MFN_QUANTITY_CHANGE`) into the queue of the configuration's `notifications`
/// section: the destination and the two subscriptions. Idempotent: what exists is reused. Blocks
/// for the calls; the ids go to `*setup_json` (free it with sellsync_string_free):
/// `{"queue_arn": "...", "destination_id": "...", "subscriptions": {"ORDER_CHANGE": "..."}}`.
/// No `notifications` section: SELLSYNC_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn sellsync_notifications_setup(
    h: *mut SellSync,
    setup_json: *mut *mut c_char,
) -> sellsync_status {
    ffi_entry!({
        // SAFETY: `setup_json` is NULL or writable.
        unsafe { strings::reset_out(setup_json, "setup_json")? };
        // SAFETY: `h` is NULL or from sellsync_open.
        let doc = unsafe { handle(h)? }
            .enter()?
            .engine
            .notifications_setup()?;
        // SAFETY: checked by reset_out.
        unsafe { strings::write_out(setup_json, Some(doc)) }
    })
}

/// Confirms a shipped package; durable when it returns, sent to Amazon exactly once (in the
/// background, closest deadline first, or at `sellsync_sync_now(h, SELLSYNC_FLOW_SHIPMENTS)`):
/// `{"order_id": "...", "package_reference_id": "1", "carrier_code": "UPS", "carrier_name": null,
/// "shipping_method": "Ground", "tracking_number": "1Z...", "ship_date": "2026-11-26T10:00:00Z",
/// "items": [{"order_item_id": "...", "quantity": 1}]}`. `package_reference_id` (the next free
/// number when absent) and `ship_date` (now) may be left out. `carrier_code` is Amazon's code
/// or a name mapped to it, compared without case, spaces and punctuation (`ups` → `UPS`,
/// `fedex` → `FedEx`, `usps` → `USPS`, `Royal Mail`, `DHL Express`, `Deutsche Post`, `Hermes`,
/// `DPD`, `GLS`, `Canada Post`, `Australia Post`, `Japan Post`, `Yamato` → `YamatoTransport`;
/// the list is in the README); any other carrier is sent as "Other" with `carrier_name`, and
/// without a `carrier_name` is SELLSYNC_ERR_INVALID_ARGUMENT, as is "Other" without one.
/// Unknown orders: SELLSYNC_ERR_NOT_FOUND; items not in the order or more than is left to
/// ship: SELLSYNC_ERR_INVALID_ARGUMENT; the same package reference with other content:
/// SELLSYNC_ERR_CONFLICT (the same package again succeeds).
#[no_mangle]
pub unsafe extern "C" fn sellsync_shipment_confirm(
    h: *mut SellSync,
    shipment_json: *const c_char,
) -> sellsync_status {
    ffi_entry!({
        // SAFETY: NULL or a NUL-terminated string valid for the call.
        let text = unsafe { strings::arg(shipment_json, "shipment_json")? };
        let shipment: crate::model::Shipment = json_arg(text, "shipment_json")?;
        // SAFETY: `h` is NULL or from sellsync_open.
        unsafe { handle(h)? }
            .enter()?
            .engine
            .shipment_confirm(&shipment)
            .map(|_| ())
    })
}

/// The packages of one order (`order_id`), or of every order with a package not yet at Amazon
/// (`order_id` NULL), with their state (`QUEUED`, `UNCERTAIN`, `SENT`, `FAILED`), attempts,
/// last error and times, in `*shipments_json` (free it with sellsync_string_free).
#[no_mangle]
pub unsafe extern "C" fn sellsync_shipments(
    h: *mut SellSync,
    order_id: *const c_char,
    shipments_json: *mut *mut c_char,
) -> sellsync_status {
    ffi_entry!({
        // SAFETY: `shipments_json` is NULL or writable.
        unsafe { strings::reset_out(shipments_json, "shipments_json")? };
        let order = if order_id.is_null() {
            None
        } else {
            // SAFETY: non-NULL, NUL-terminated, valid for the call.
            Some(unsafe { strings::arg(order_id, "order_id")? })
        };
        // SAFETY: `h` is NULL or from sellsync_open.
        let doc = unsafe { handle(h)? }.enter()?.engine.shipments(order)?;
        // SAFETY: checked by reset_out.
        unsafe { strings::write_out(shipments_json, Some(doc)) }
    })
}

/// Cancels a whole seller-fulfilled order that is not shipped yet, with one of Amazon's reasons
/// (`NoInventory`, `ShippingAddressUndeliverable`, `CustomerExchange`, `BuyerCanceled`,
/// `GeneralAdjustment`, `CarrierCreditDecision`, `RiskAssessmentInformationNotValid`,
/// `CarrierCoverageFailure`, `CustomerReturn`, `MerchandiseNotReceived`). Durable when it
/// returns; sent in an order acknowledgement feed; the outcome arrives as an `adjustment.done`
/// or `adjustment.failed` event. Cancelling again succeeds and sends nothing more.
#[no_mangle]
pub unsafe extern "C" fn sellsync_order_cancel(
    h: *mut SellSync,
    order_id: *const c_char,
    reason: *const c_char,
) -> sellsync_status {
    ffi_entry!({
        // SAFETY: NULL or NUL-terminated strings valid for the call.
        let (id, why) = unsafe {
            (
                strings::arg(order_id, "order_id")?,
                strings::arg(reason, "reason")?,
            )
        };
        // SAFETY: `h` is NULL or from sellsync_open.
        unsafe { handle(h)? }
            .enter()?
            .engine
            .order_cancel(id, why)
            .map(|_| ())
    })
}

/// Refunds items of an order: `{"order_id": "...", "refund_id": "R-1", "reason":
/// "CustomerReturn", "items": [{"order_item_id": "...", "amount": "12.99"}]}` (amounts in the
/// order's currency, at most the item's total). Durable when it returns; sent in a payment
/// adjustment feed, which goes to Amazon at most once (a feed whose answer was lost is found
/// in Amazon's list of feeds); the outcome arrives as an `adjustment.done` or
/// `adjustment.failed` event. `refund_id` (optional, 1 to 64 characters) is the host's own
/// reference: the same refund again with the same `refund_id`, as a host does after a crash
/// before it noted the call's success, succeeds and sends nothing more; without it, every call
/// is a new refund.
#[no_mangle]
pub unsafe extern "C" fn sellsync_order_refund(
    h: *mut SellSync,
    refund_json: *const c_char,
) -> sellsync_status {
    ffi_entry!({
        // SAFETY: NULL or a NUL-terminated string valid for the call.
        let text = unsafe { strings::arg(refund_json, "refund_json")? };
        let refund: crate::model::Refund = json_arg(text, "refund_json")?;
        // SAFETY: `h` is NULL or from sellsync_open.
        unsafe { handle(h)? }
            .enter()?
            .engine
            .order_refund(&refund)
            .map(|_| ())
    })
}

/// Sets SKUs' prices per marketplace, all or nothing: `{"prices": [{"sku": "MUG",
/// "marketplace_id": "ATVPDKIKX0DER", "price": "15.50", "sale_price": "12.00", "sale_start":
/// "2026-12-24T00:00:00Z", "sale_end": "2026-12-27T00:00:00Z", "minimum": "10.00", "maximum":
/// "40.00"}]}` (decimal amounts in the marketplace's currency; the sale fields together or not
/// at all; `minimum` and `maximum` are the seller's floor and ceiling, kept for later calls
/// that give none). SELLSYNC_ERR_INVALID_ARGUMENT, and nothing stored: a SKU not mapped, a
/// marketplace not in `marketplace_ids`, an amount that is not a price in its currency, a
/// price or sale price below the floor or above the ceiling. A price that differs from the
/// last one Amazon accepted (before any, from the listing's own) by more than
/// `prices.confirm_change_percent` (default 20) is not sent: a `price.confirmation_needed`
/// event asks for sellsync_price_confirm. The others go out with `patchListingsItem` after the
/// stock; a listing that shows another currency gets nothing (`price.refused`). The outcome
/// arrives as `price.accepted`, then `price.applied` once the listing shows it, or
/// `price.refused`. Durable when it returns.
#[no_mangle]
pub unsafe extern "C" fn sellsync_price_set(
    h: *mut SellSync,
    prices_json: *const c_char,
) -> sellsync_status {
    ffi_entry!({
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Prices {
            prices: Vec<crate::model::PriceSet>,
        }
        // SAFETY: NULL or a NUL-terminated string valid for the call.
        let text = unsafe { strings::arg(prices_json, "prices_json")? };
        let p: Prices = json_arg(text, "prices_json")?;
        // SAFETY: `h` is NULL or from sellsync_open.
        unsafe { handle(h)? }.enter()?.engine.price_set(&p.prices)
    })
}

/// Confirms the price of `sku` in `marketplace_id` that waits after a
/// `price.confirmation_needed` event: it goes out with the next stock pass.
/// SELLSYNC_ERR_INVALID_STATE: no price of that SKU waits.
#[no_mangle]
pub unsafe extern "C" fn sellsync_price_confirm(
    h: *mut SellSync,
    sku: *const c_char,
    marketplace_id: *const c_char,
) -> sellsync_status {
    ffi_entry!({
        // SAFETY: NULL or NUL-terminated strings valid for the call.
        let (sku, mp) = unsafe {
            (
                strings::arg(sku, "sku")?,
                strings::arg(marketplace_id, "marketplace_id")?,
            )
        };
        // SAFETY: `h` is NULL or from sellsync_open.
        unsafe { handle(h)? }.enter()?.engine.price_confirm(sku, mp)
    })
}

/// Every price the host set and where it stands, in `*prices_json` (free it with
/// sellsync_string_free): `{"prices": {"MUG": [{"marketplace_id", "currency", "price", "sale",
/// "minimum", "maximum", "state", "accepted", "amazon": {"price", "currency"}, "message",
/// "updated_at"}]}}`; `state` is `QUEUED`, `CONFIRM` (waits for sellsync_price_confirm),
/// `ACCEPTED`, `APPLIED` (the listing shows it) or `REFUSED` (`message` says why); `amazon` is
/// what the listing showed when last read. sellsync_listings shows the same per listing.
#[no_mangle]
pub unsafe extern "C" fn sellsync_prices(
    h: *mut SellSync,
    prices_json: *mut *mut c_char,
) -> sellsync_status {
    ffi_entry!({
        // SAFETY: `prices_json` is NULL or writable.
        unsafe { strings::reset_out(prices_json, "prices_json")? };
        // SAFETY: `h` is NULL or from sellsync_open.
        let doc = unsafe { handle(h)? }.enter()?.engine.prices()?;
        // SAFETY: checked by reset_out.
        unsafe { strings::write_out(prices_json, Some(doc)) }
    })
}

/// Seller performance per marketplace against Amazon's targets, and what is at risk now, in
/// `*metrics_json` (free it with sellsync_string_free). `query_json` may be NULL or
/// `{"now": "...", "marketplace_ids": [...], "horizon_hours": 24, "cancellation_days": 7,
/// "late_shipment_days": [10, 30], "defect_days": 60}` (every field optional; `marketplace_ids`
/// 1 to 50, `horizon_hours` 0 to 8760, at most 10 late shipment windows, every window 1 to 365
/// days; out of range: SELLSYNC_ERR_INVALID_ARGUMENT). Each marketplace has sellsync's own
/// rates (`cancellation_rate`, `late_shipment_rate`, `refund_rate`) and `amazon`: null until
/// Amazon's seller performance report was read, then Amazon's own figures (its order defect
/// rate among them), each with sellsync's count over Amazon's window. See the README.
#[no_mangle]
pub unsafe extern "C" fn sellsync_metrics(
    h: *mut SellSync,
    query_json: *const c_char,
    metrics_json: *mut *mut c_char,
) -> sellsync_status {
    ffi_entry!({
        // SAFETY: `metrics_json` is NULL or writable.
        unsafe { strings::reset_out(metrics_json, "metrics_json")? };
        let query = if query_json.is_null() {
            ""
        } else {
            // SAFETY: non-NULL, NUL-terminated, valid for the call.
            unsafe { strings::arg(query_json, "query_json")? }
        };
        // SAFETY: `h` is NULL or from sellsync_open.
        let doc = unsafe { handle(h)? }.enter()?.engine.metrics(query)?;
        // SAFETY: checked by reset_out.
        unsafe { strings::write_out(metrics_json, Some(doc)) }
    })
}

/// Counts of orders, stock and every queue in `*state_json` (free it with
/// sellsync_string_free): `{"orders": {"total", "pending", "waiting_for_host", "acknowledged"},
/// "stock": {"skus", "out_of_step", "in_flight", "open_feeds", "read_back": {"skus", "lowered",
/// "already_shown", "saw_landing", "idle"}}, "queues": {"shipments_queued",
/// "shipments_uncertain", "shipments_failed", "adjustments_queued", "adjustments_in_feeds",
/// "adjustments_failed", "skus_parked", "events_unread", "events_dropped"}, "privacy":
/// {"rotation_pending"}, "notifications": {"configured", ...}, "lease": {"shared", "leader",
/// "holder", ...}}` (`lease.leader`: this handle runs the sync with Amazon; `lease.holder`: the
/// one that does, when another does; `events_unread`: events not acknowledged yet; `events_dropped`:
/// dropped unacknowledged, see sellsync_event_next; `rotation_pending`: a key rotation is still
/// sealing buyer data again, so `privacy.previous_key` must stay in the configuration;
/// `read_back`: since the handle opened, SKUs whose Amazon quantity was read before a push, and
/// of them those whose read lowered the value sent, found Amazon already showing it, saw a
/// value sent earlier land, or did none of these). Its cost does not grow with the orders and
/// SKUs stored: a host may poll it every second.
#[no_mangle]
pub unsafe extern "C" fn sellsync_state(
    h: *mut SellSync,
    state_json: *mut *mut c_char,
) -> sellsync_status {
    ffi_entry!({
        // SAFETY: `state_json` is NULL or writable.
        unsafe { strings::reset_out(state_json, "state_json")? };
        // SAFETY: `h` is NULL or from sellsync_open.
        let doc = unsafe { handle(h)? }.enter()?.engine.status()?;
        // SAFETY: checked by reset_out.
        unsafe { strings::write_out(state_json, Some(doc)) }
    })
}

/// Cancels the unshipped units of some items of an order: `{"order_id": "...", "reason":
/// "NoInventory", "items": ["<order_item_id>", ...]}` (no items: the whole order). Otherwise as
/// `sellsync_order_cancel`.
#[no_mangle]
pub unsafe extern "C" fn sellsync_order_cancel_items(
    h: *mut SellSync,
    cancel_json: *const c_char,
) -> sellsync_status {
    ffi_entry!({
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Cancel {
            order_id: String,
            reason: String,
            #[serde(default)]
            items: Vec<String>,
        }
        // SAFETY: NULL or a NUL-terminated string valid for the call.
        let text = unsafe { strings::arg(cancel_json, "cancel_json")? };
        let c: Cancel = json_arg(text, "cancel_json")?;
        // SAFETY: `h` is NULL or from sellsync_open.
        unsafe { handle(h)? }
            .enter()?
            .engine
            .order_cancel_items(&c.order_id, &c.reason, &c.items)
            .map(|_| ())
    })
}

/// Acknowledges the event numbered `seq` (the `"seq"` of its document): the host has acted on
/// it, and it is never handed out again, to any handle. Only that event: earlier ones not
/// acknowledged stay (and come again). Durable when it returns. Acknowledging an event again
/// (or one that was dropped) succeeds; `seq` <= 0 is SELLSYNC_ERR_INVALID_ARGUMENT; a number
/// never handed out is SELLSYNC_ERR_NOT_FOUND. Events taken by the event callback are
/// acknowledged by the library when the callback returns (see sellsync_event_decline).
#[no_mangle]
pub unsafe extern "C" fn sellsync_event_ack(h: *mut SellSync, seq: i64) -> sellsync_status {
    ffi_entry!({
        // SAFETY: `h` is NULL or from sellsync_open.
        unsafe { handle(h)? }.enter()?.engine.event_ack(seq)
    })
}

/// Declines the event numbered `seq` that the event callback is handling: called from inside
/// the callback (e.g. when the host could not act on it), the event is not acknowledged when
/// the callback returns and comes again, to this handle, after `orders.redelivery_seconds` (at
/// once to another handle on the same store); newer events come meanwhile. Outside the event
/// callback SELLSYNC_ERR_INVALID_STATE (an event from sellsync_event_next is declined by not
/// acknowledging it); another event's number SELLSYNC_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn sellsync_event_decline(h: *mut SellSync, seq: i64) -> sellsync_status {
    ffi_entry!({
        // SAFETY: `h` is NULL or from sellsync_open.
        unsafe { handle(h)? }.enter()?.engine.event_decline(seq)
    })
}

/// Log level for `sellsync_set_log_callback`: failures (a flow that failed, a call Amazon refused).
pub const SELLSYNC_LOG_ERROR: i32 = 1;
/// Log level: retries, throttling, waits for Amazon's rate limits, things dropped.
pub const SELLSYNC_LOG_WARN: i32 = 2;
/// Log level: what each flow did per run (calls, orders, pushes, shipments), worker start/stop.
pub const SELLSYNC_LOG_INFO: i32 = 3;
/// Log level: every SP-API call with its status and time, token refreshes.
pub const SELLSYNC_LOG_DEBUG: i32 = 4;
const _: () = assert!(
    SELLSYNC_LOG_ERROR == crate::logging::ERROR as i32
        && SELLSYNC_LOG_WARN == crate::logging::WARN as i32
        && SELLSYNC_LOG_INFO == crate::logging::INFO as i32
        && SELLSYNC_LOG_DEBUG == crate::logging::DEBUG as i32
);

/// Sets (or with `cb` NULL removes) the handle's log function: `cb(user, level, message)` gets
/// each line the library writes at `level` or more severe (SELLSYNC_LOG_ERROR 1, _WARN 2,
/// _INFO 3, _DEBUG 4). The library is silent by default and never prints anything itself.
/// `message` is one line of UTF-8 without a trailing newline, living only for the call; it
/// never contains a secret (client secret, refresh token, access token).
/// Threads: `cb` runs on the thread that writes the line: a library thread (the background
/// worker's, the event callback's) or the host's own thread inside a sellsync call; several
/// threads may call it at once, so it must be thread-safe, and it should return quickly (the
/// library waits for it). It must not call sellsync_close or sellsync_set_log_callback
/// (SELLSYNC_ERR_INVALID_STATE); lines the library writes while `cb` runs on that thread are
/// not passed to it. `free_user(user)` (may be NULL) is called exactly once, after the last
/// call of `cb` with that `user`: when the function is replaced or removed (before this call
/// returns) or when the handle closes. A `level` outside 1..4 with a non-NULL `cb` is
/// SELLSYNC_ERR_INVALID_ARGUMENT; when the call fails, `free_user` is not called.
#[no_mangle]
pub unsafe extern "C" fn sellsync_set_log_callback(
    h: *mut SellSync,
    level: i32,
    cb: sellsync_log_callback,
    user: *mut c_void,
    free_user: sellsync_free_user,
) -> sellsync_status {
    ffi_entry!({
        // SAFETY: `h` is NULL or from sellsync_open.
        let call = unsafe { handle(h)? }.enter()?;
        if crate::logging::in_log_callback() {
            return Err(Error::InvalidState(
                "sellsync_set_log_callback cannot be called from the log callback".into(),
            ));
        }
        if cb.is_some() && !(SELLSYNC_LOG_ERROR..=SELLSYNC_LOG_DEBUG).contains(&level) {
            return Err(Error::InvalidArgument(format!(
                "level must be SELLSYNC_LOG_ERROR (1) to SELLSYNC_LOG_DEBUG (4), not {level}"
            )));
        }
        let log = cb.map(|cb| {
            let host = HostLogCallback::new(cb, user, free_user);
            Box::new(move |level: u8, line: &str| host.call(level, line)) as crate::logging::LogFn
        });
        call.engine.set_log_callback(level as u8, log)
    })
}
