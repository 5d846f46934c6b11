//! Conformance: the library against Amazon's own example answers (the `x-amzn-api-sandbox`
//! examples of the official models in `emulator/spapi-models/`), replayed by a small local
//! server in place of Amazon: addresses that `getOrders` leaves out, orders fulfilled by
//! Amazon, orders of marketplaces not configured, and item answers that name another order.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

type Handler = dyn Fn(&str, &str) -> Value + Send + Sync;

/// A server answering every request with `handler(method, path)` as JSON (status 200, or the
/// answer's `__status` member), recording "METHOD PATH" of each request.
struct Replay {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Replay {
    fn start(handler: Box<Handler>) -> Replay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let handler: Arc<Handler> = Arc::from(handler);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let mut parts = line.split_whitespace();
                let method = parts.next().unwrap_or_default().to_string();
                let target = parts.next().unwrap_or_default().to_string();
                let path = target.split('?').next().unwrap_or_default().to_string();
                let mut length = 0;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                seen.lock().unwrap().push(format!("{method} {path}"));
                let mut answer = handler(&method, &path);
                let status = answer
                    .as_object_mut()
                    .and_then(|o| o.remove("__status"))
                    .and_then(|s| s.as_u64())
                    .unwrap_or(200);
                let answer = answer.to_string();
                let date = httpdate::fmt_http_date(std::time::SystemTime::now());
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                     date: {date}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        Replay { url, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn model(name: &str) -> Value {
    let text = match name {
        "ordersV0" => include_str!("../emulator/spapi-models/ordersV0.json"),
        "orders_2026-01-01" => include_str!("../emulator/spapi-models/orders_2026-01-01.json"),
        "tokens" => include_str!("../emulator/spapi-models/tokens_2021-03-01.json"),
        _ => unreachable!(),
    };
    serde_json::from_str(text).unwrap()
}

/// The response of the `n`th static sandbox example of an operation.
fn example(model_name: &str, path: &str, method: &str, n: usize) -> Value {
    let m = model(model_name);
    let op = &m["paths"][path][method];
    let status = if op["responses"]["200"].is_object() {
        "200"
    } else {
        "201"
    };
    op["responses"][status]["x-amzn-api-sandbox"]["static"][n]["response"].clone()
}

fn lwa() -> Value {
    json!({"access_token": "Atza|replayed", "token_type": "bearer", "expires_in": 3600})
}

/// Amazon's v0 examples: getOrders (two unshipped seller-fulfilled orders without an address),
/// plus the getOrder example of an order fulfilled by Amazon in Germany; getOrderItems and
/// getOrderAddress of order 902-1845936-5435065, answered for whichever order is asked (the
/// items only when `items_for_asked`; else exactly as Amazon's example has them).
fn v0_amazon(items_for_asked: bool) -> Box<Handler> {
    let mut orders = example("ordersV0", "/orders/v0/orders", "get", 0);
    let afn = example("ordersV0", "/orders/v0/orders/{orderId}", "get", 1)["payload"].clone();
    orders["payload"]["Orders"]
        .as_array_mut()
        .unwrap()
        .push(afn);
    let items = example(
        "ordersV0",
        "/orders/v0/orders/{orderId}/orderItems",
        "get",
        0,
    );
    let address = example("ordersV0", "/orders/v0/orders/{orderId}/address", "get", 0);
    let rdt = example(
        "tokens",
        "/tokens/2021-03-01/restrictedDataToken",
        "post",
        1,
    );
    Box::new(move |method, path| {
        let id = path
            .strip_prefix("/orders/v0/orders/")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default()
            .to_string();
        let for_order = |mut v: Value, asked: bool| {
            if asked {
                v["payload"]["AmazonOrderId"] = json!(id);
            }
            v
        };
        match (method, path) {
            ("POST", "/auth/o2/token") => lwa(),
            ("POST", "/tokens/2021-03-01/restrictedDataToken") => rdt.clone(),
            ("GET", "/orders/v0/orders") => orders.clone(),
            (_, p) if p.ends_with("/orderItems") => for_order(items.clone(), items_for_asked),
            (_, p) if p.ends_with("/address") => for_order(address.clone(), true),
            _ => json!({"errors": [{"code": "NotFound", "message": path}]}),
        }
    })
}

fn engine(
    url: &str,
    api: &str,
    marketplaces: &[&str],
    dir: &tempfile::TempDir,
) -> sellsync::Engine {
    let config = json!({
        "store_path": dir.path().join("store.sqlite"),
        "seller_id": "A2DEMOSELLER01",
        "marketplace_ids": marketplaces,
        "endpoint": url,
        "http_allow_insecure_loopback": true,
        "orders_api": api,
        "credentials": {"client_id": "c", "client_secret": "s", "refresh_token": "Atzr|r"},
        "http": {"timeout_ms": 5000, "max_attempts": 2, "backoff_initial_ms": 1, "backoff_max_ms": 5},
    });
    sellsync::Engine::open(sellsync::Config::from_json(&config.to_string()).unwrap()).unwrap()
}

fn drain(engine: &sellsync::Engine) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(doc) = engine.order_next().unwrap() {
        let v: Value = serde_json::from_str(&doc).unwrap();
        engine
            .order_ack(v["order_id"].as_str().unwrap(), "POS")
            .unwrap();
        out.push(v);
    }
    out.sort_by(|a, b| a["order_id"].as_str().cmp(&b["order_id"].as_str()));
    out
}

const SYNC: std::time::Duration = std::time::Duration::from_secs(60);

#[test]
fn v0_orders_without_an_address_get_it_from_get_order_address_with_a_restricted_data_token() {
    let amazon = Replay::start(v0_amazon(true));
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&amazon.url, "v0", &["ATVPDKIKX0DER"], &dir);
    engine.sync_now(1, SYNC).unwrap();
    let docs = drain(&engine);
    let ids: Vec<&str> = docs
        .iter()
        .map(|d| d["order_id"].as_str().unwrap())
        .collect();
    // The order of Amazon.de (not configured) is left out.
    assert_eq!(ids, ["902-1845936-5435065", "902-8745147-1934268"]);
    for d in &docs {
        assert_eq!(d["fulfilled_by"], "MERCHANT");
        assert_eq!(d["recipient"]["postal_code"], "98121-2778", "{d}");
        assert_eq!(d["recipient"]["city"], "SEATTLE");
    }
    let requests = amazon.requests();
    for id in &ids {
        let asked = format!("GET /orders/v0/orders/{id}/address");
        assert!(requests.contains(&asked), "{asked} in {requests:?}");
    }
    assert!(
        !requests.iter().any(|r| r.contains("921-3175655-0452641")),
        "nothing is asked about an order of a marketplace not configured: {requests:?}"
    );
}

#[test]
fn v0_orders_fulfilled_by_amazon_are_handed_over_without_a_recipient_or_an_address_call() {
    let amazon = Replay::start(v0_amazon(true));
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&amazon.url, "v0", &["A1PA6795UKMFR9"], &dir);
    engine.sync_now(1, SYNC).unwrap();
    let docs = drain(&engine);
    assert_eq!(docs.len(), 1, "{docs:?}");
    assert_eq!(docs[0]["order_id"], "921-3175655-0452641");
    assert_eq!(docs[0]["fulfilled_by"], "AMAZON");
    assert!(docs[0]["recipient"].is_null(), "{}", docs[0]);
    let requests = amazon.requests();
    assert!(
        !requests.iter().any(|r| r.ends_with("/address")),
        "{requests:?}"
    );
}

#[test]
fn v0_order_items_answered_for_another_order_are_refused() {
    // Amazon's getOrderItems example names order 902-1845936-5435065 whatever was asked.
    let amazon = Replay::start(v0_amazon(false));
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&amazon.url, "v0", &["ATVPDKIKX0DER"], &dir);
    let err = engine.sync_now(1, SYNC).unwrap_err();
    let m = err.to_string();
    assert!(matches!(err, sellsync::Error::Network(_)), "{m}");
    assert!(
        m.contains("getOrderItems") && m.contains("902-8745147-1934268"),
        "{m}"
    );
    // Nothing of the page was stored, so the next cycle reads it again.
    assert!(engine.order_next().unwrap().is_none());
    assert!(engine
        .core()
        .store
        .order("902-8745147-1934268")
        .unwrap()
        .is_none());
}

#[test]
fn search_orders_examples_keep_configured_marketplaces_and_no_recipient_for_amazon_fulfilled() {
    // The orders of Amazon's three searchOrders examples in one page: fulfilled by Amazon in
    // Japan (with a recipient in Amazon's answer), shipped in the UK, unshipped in Turkey.
    let orders: Vec<Value> = (0..3)
        .flat_map(|n| {
            example("orders_2026-01-01", "/orders/2026-01-01/orders", "get", n)["orders"]
                .as_array()
                .unwrap()
                .clone()
        })
        .collect();
    assert_eq!(orders.len(), 3);
    let page = json!({ "orders": orders });
    let amazon = Replay::start(Box::new(move |method, path| match (method, path) {
        ("POST", "/auth/o2/token") => lwa(),
        ("GET", "/orders/2026-01-01/orders") => page.clone(),
        _ => json!({}),
    }));
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(
        &amazon.url,
        "2026-01-01",
        &["A1VC38T7YXB528", "A2Q3Y263D00KWC"],
        &dir,
    );
    engine.sync_now(1, SYNC).unwrap();
    let docs = drain(&engine);
    let ids: Vec<&str> = docs
        .iter()
        .map(|d| d["order_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["171-2345678-9012345", "250-1234567-8901234"]);
    assert_eq!(docs[1]["fulfilled_by"], "AMAZON");
    assert!(docs[1]["recipient"].is_null(), "{}", docs[1]);
    assert_eq!(docs[0]["fulfilled_by"], "MERCHANT");
    assert!(
        docs[0]["recipient"]["postal_code"].is_string(),
        "{}",
        docs[0]
    );
    assert!(engine
        .core()
        .store
        .order("202-7654321-1098765")
        .unwrap()
        .is_none());
}

#[test]
fn v0_orders_whose_address_amazon_refuses_still_arrive_without_a_recipient() {
    // The application lacks the role for addresses: Amazon refuses the token for them.
    let v0 = v0_amazon(true);
    let amazon = Replay::start(Box::new(move |method, path| {
        if path.ends_with("/address") {
            return json!({"__status": 403, "errors": [{"code": "Unauthorized",
                "message": "Access to requested resource is denied."}]});
        }
        v0(method, path)
    }));
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&amazon.url, "v0", &["ATVPDKIKX0DER"], &dir);
    engine.sync_now(1, SYNC).unwrap();
    let docs = drain(&engine);
    assert_eq!(docs.len(), 2, "{docs:?}");
    assert!(docs.iter().all(|d| d["recipient"].is_null()), "{docs:?}");
}
