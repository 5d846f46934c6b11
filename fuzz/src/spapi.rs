//! Target `spapi`: every SP-API answer the client reads, through the library's own readers.
//! The first line of an input names the answer; for `lwa_token` and `error` the next line is
//! the HTTP status, for `order_items` and `order_address` the order asked for, for the two
//! document answers the rest after the JSON line is the downloaded document, and `headers`
//! holds a `Date` and an `x-amzn-RateLimit-Limit` value on two lines.

use crate::input::{first_line, select};
use chrono::Utc;
use sellsync::amazon::{self, auth, feeds, listings, orders, reports, Operation, Priority};
use serde_json::Value;

/// The answers this target reads, by the name an input's first line gives.
pub const ANSWERS: &[&str] = &[
    "search_orders",
    "get_orders",
    "order_items",
    "order_address",
    "rdt",
    "get_order",
    "patch_listings",
    "search_listings",
    "create_feed_document",
    "create_feed",
    "get_feed",
    "feed_document",
    "create_report",
    "get_report",
    "report_document",
    "lwa_token",
    "error",
    "headers",
];

/// A v0 order every `order_items` page is read into.
const V0_ORDER: &str = r#"{"AmazonOrderId": "902-3159896-1390916", "OrderStatus": "Unshipped",
    "PurchaseDate": "2026-11-26T03:14:00Z", "LastUpdateDate": "2026-11-26T03:15:00Z",
    "FulfillmentChannel": "MFN", "MarketplaceId": "ATVPDKIKX0DER"}"#;

/// Runs one input.
pub fn run(data: &[u8]) {
    let (index, rest) = select(data, ANSWERS);
    match ANSWERS[index] {
        "lwa_token" => {
            let (status, body) = status_and_body(rest);
            if let Ok(auth::Answer::Token(_, lifetime)) = auth::answer(status, body) {
                // As the token cache does.
                let _ = Utc::now() + lifetime;
            }
        }
        "error" => {
            let (status, body) = status_and_body(rest);
            let e = amazon::amazon_error(Operation::GetOrders, status, body);
            let _ = (e.to_string(), sellsync::status_name(&e));
        }
        "headers" => headers(rest),
        "order_items" | "order_address" => {
            let (order_id, body) = first_line(rest);
            let Some(v) = json(body) else { return };
            if ANSWERS[index] == "order_items" {
                if let Ok((items, _)) = orders::items_answer(&order_id, &v) {
                    let order: Value = serde_json::from_str(V0_ORDER).expect("V0_ORDER");
                    let _ = orders::parse_v0(&order, &items);
                }
            } else {
                let _ = orders::address_answer(&order_id, &v);
            }
        }
        "feed_document" | "report_document" => {
            let (meta, document) = first_line(rest);
            let Some(v) = json(meta.as_bytes()) else {
                return;
            };
            let op = if ANSWERS[index] == "feed_document" {
                Operation::GetFeedDocument
            } else {
                Operation::GetReportDocument
            };
            let Ok((_, gzip)) = amazon::document_answer(op, &v) else {
                return;
            };
            let Ok(bytes) = amazon::unpack_document(op, document.to_vec(), gzip, 1 << 20) else {
                return;
            };
            if op == Operation::GetFeedDocument {
                let _ = feeds::parse_report(&bytes);
                let _ = feeds::flat_file_errors(&bytes);
            } else {
                let _ = reports::parse_listings(&bytes);
            }
        }
        name => {
            let Some(v) = json(rest) else { return };
            answer(name, &v);
        }
    }
}

/// Reads a JSON answer as the client does (an unreadable body is retried, not read).
fn json(body: &[u8]) -> Option<Value> {
    serde_json::from_slice(body).ok()
}

fn status_and_body(rest: &[u8]) -> (u16, &[u8]) {
    let (status, body) = first_line(rest);
    (status.trim().parse().unwrap_or(200), body)
}

fn answer(name: &str, v: &Value) {
    match name {
        "search_orders" => {
            let _ = orders::search_answer(v);
        }
        "get_orders" => {
            if let Ok((raw, _)) = orders::orders_page_answer(v) {
                for o in &raw {
                    let _ = orders::needs_address(o);
                    let _ = orders::parse_v0(o, &[]);
                }
            }
        }
        "rdt" => {
            if let Ok((_, lifetime)) = orders::rdt_answer(v) {
                // As the token cache does.
                let _ = Utc::now() + lifetime;
            }
        }
        "get_order" => {
            let _ = orders::fulfilled_answer(v);
        }
        "patch_listings" => {
            let _ = listings::patch_answer(v);
        }
        "search_listings" => {
            let _ = listings::search_answer(v);
        }
        "create_feed_document" => {
            let _ = feeds::feed_document_answer(v);
        }
        "create_feed" => {
            let _ = feeds::feed_answer(v);
        }
        "get_feed" => {
            let _ = feeds::status_answer(v);
        }
        "create_report" => {
            let _ = reports::created_answer(v);
        }
        "get_report" => {
            let _ = reports::status_answer(v);
        }
        other => unreachable!("{other} is read elsewhere"),
    }
}

/// Reads an answer's headers into a rate limiter and Amazon's clock, then takes tokens until
/// the limiter asks to wait, as the client does before its next calls.
fn headers(rest: &[u8]) {
    let text = String::from_utf8_lossy(rest);
    let mut lines = text.lines();
    let (date, rate) = (lines.next(), lines.next());
    let limiter = amazon::RateLimiter::default();
    let clock = sellsync::clock::ServerClock::default();
    let op = Operation::PatchListingsItem;
    amazon::observe_headers(&limiter, &clock, op, date, rate, Utc::now());
    let _ = clock.now(Utc::now());
    for priority in [Priority::Normal, Priority::Bulk] {
        for _ in 0..64 {
            if limiter.try_acquire_as(op, priority).is_err() {
                break;
            }
        }
    }
}
