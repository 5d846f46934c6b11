//! Page tokens and Amazon's error habits: tokens are base64 with `+`, `/` and `=`, refused when
//! sent without URL-encoding; Orders v2026-01-01 tokens expire after 24 hours; a 503 may be an
//! HTML page; a 429 comes without `x-amzn-RateLimit-Limit`.

mod common;

use common::{Answer, Api};
use serde_json::json;

const SO: &str = "/orders/2026-01-01/orders";
const V0: &str = "/orders/v0/orders";
const MP: &str = "ATVPDKIKX0DER";

/// An emulator with 30 paid orders, an hour old.
fn api() -> Api {
    let api = Api::fast();
    api.control(
        "POST",
        "listings",
        Some(json!({"listings": [{"sku": "MUG", "quantity": 100}]})),
    );
    api.control(
        "POST",
        "orders",
        Some(json!({"count": 30, "age_seconds": 3600})),
    );
    api
}

fn since(api: &Api) -> String {
    (api.emu.control().now() - chrono::Duration::hours(2)).to_rfc3339()
}

/// Moves the clock on, with a fresh access token.
fn advance(api: &mut Api, hours: i64) {
    api.emu.control().advance(chrono::Duration::hours(hours));
    let s = sellsync_emulator::Seller::demo();
    let a = api.lwa(&s.refresh_token, &s.client_secret);
    api.token = a.body["access_token"].as_str().unwrap().to_string();
}

/// A GET whose query string is sent exactly as given (no encoding by the client).
fn raw_get(api: &Api, path: &str, query: &str) -> Answer {
    let url = format!("{}{path}?{query}", api.emu.url());
    let resp = api
        .http
        .get(url)
        .header("x-amz-access-token", &api.token)
        .send()
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let raw = resp.bytes().unwrap().to_vec();
    Answer {
        status,
        body: serde_json::from_slice(&raw).unwrap_or_default(),
        headers,
        raw,
    }
}

/// The first searchOrders page of ten: (query, next token).
fn first_page(api: &Api) -> (Vec<(&'static str, String)>, String) {
    let query = vec![
        ("lastUpdatedAfter", since(api)),
        ("maxResultsPerPage", "10".to_string()),
    ];
    let q: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = api.call("GET", SO, &q, None);
    assert_eq!(a.status, 200, "{:?}", a.body);
    let token = a.body["pagination"]["nextToken"]
        .as_str()
        .unwrap()
        .to_string();
    (query, token)
}

/// The NextToken of the first getOrders page of ten.
fn first_v0_token(api: &Api) -> String {
    let a = api.call(
        "GET",
        V0,
        &[
            ("MarketplaceIds", MP),
            ("LastUpdatedAfter", &since(api)),
            ("MaxResultsPerPage", "10"),
        ],
        None,
    );
    a.body["payload"]["NextToken"].as_str().unwrap().to_string()
}

fn next_page(api: &Api, query: &[(&str, String)], token: &str) -> Answer {
    let mut q: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    q.push(("paginationToken", token));
    api.call("GET", SO, &q, None)
}

#[test]
fn a_token_sent_without_url_encoding_is_refused_and_an_encoded_one_pages_on() {
    let api = api();
    let (query, token) = first_page(&api);
    for c in ['+', '/', '='] {
        assert!(token.contains(c), "{token} has no {c}");
    }
    // Unencoded: the `+` arrives as a space, and the token is Amazon's InvalidInput.
    let raw: String = query
        .iter()
        .map(|(k, v)| format!("{k}={}&", v.replace('+', "%2B")))
        .collect();
    let a = raw_get(&api, SO, &format!("{raw}paginationToken={token}"));
    assert_eq!(a.status, 400, "{:?}", a.body);
    assert_eq!(a.body["errors"][0]["code"], "InvalidInput", "{:?}", a.body);
    // Encoded (`+` %2B, `/` %2F, `=` %3D): the next page.
    let a = next_page(&api, &query, &token);
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["orders"].as_array().unwrap().len(), 10);
    // v0's NextToken is alike.
    let next = first_v0_token(&api);
    assert!(next.contains('+'), "{next}");
    let refused = raw_get(&api, V0, &format!("MarketplaceIds={MP}&NextToken={next}"));
    assert_eq!(refused.status, 400, "{:?}", refused.body);
    let paged = api.call(
        "GET",
        V0,
        &[("MarketplaceIds", MP), ("NextToken", &next)],
        None,
    );
    assert_eq!(paged.status, 200, "{:?}", paged.body);
}

#[test]
fn an_orders_2026_token_expires_after_24_hours_and_a_v0_token_does_not() {
    let mut api = api();
    let (query, token) = first_page(&api);
    let v0_token = first_v0_token(&api);
    advance(&mut api, 23);
    assert_eq!(next_page(&api, &query, &token).status, 200);
    advance(&mut api, 2);
    let a = next_page(&api, &query, &token);
    assert_eq!(a.status, 400, "{:?}", a.body);
    assert_eq!(a.body["errors"][0]["code"], "InvalidInput");
    assert!(
        a.body["errors"][0]["details"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{:?}",
        a.body
    );
    let a = api.call(
        "GET",
        V0,
        &[("MarketplaceIds", MP), ("NextToken", &v0_token)],
        None,
    );
    assert_eq!(a.status, 200, "{:?}", a.body);
}

#[test]
fn an_html_503_and_a_429_without_the_rate_limit_header() {
    let api = api();
    api.control(
        "POST",
        "faults",
        Some(json!({"operation": "searchOrders", "count": 1, "kind": "html_unavailable"})),
    );
    let a = api.call("GET", SO, &[("lastUpdatedAfter", &since(&api))], None);
    assert_eq!(a.status, 503);
    assert_eq!(a.headers["content-type"], "text/html");
    assert!(String::from_utf8_lossy(&a.raw).starts_with("<!DOCTYPE html>"));
    api.control(
        "POST",
        "faults",
        Some(json!({"operation": "searchOrders", "count": 1, "kind": "status", "status": 429})),
    );
    let a = api.call("GET", SO, &[("lastUpdatedAfter", &since(&api))], None);
    assert_eq!(a.status, 429);
    assert!(a.headers.get("x-amzn-RateLimit-Limit").is_none());
    let a = api.call("GET", SO, &[("lastUpdatedAfter", &since(&api))], None);
    assert_eq!(a.status, 200);
    assert!(a.headers.get("x-amzn-RateLimit-Limit").is_some());
}

#[test]
fn get_feeds_pages_with_a_token_that_carries_the_filters_and_refuses_bad_queries() {
    let api = Api::fast();
    let doc = api.upload(
        "application/json",
        br#"{"header": {}, "messages": []}"#.to_vec(),
    );
    let mut created = Vec::new();
    for _ in 0..5 {
        let a = api.call(
            "POST",
            "/feeds/2021-06-30/feeds",
            &[],
            Some(
                &json!({"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [MP],
                         "inputFeedDocumentId": doc.body["feedDocumentId"]}),
            ),
        );
        assert_eq!(a.status, 202, "{:?}", a.body);
        created.push(a.body["feedId"].as_str().unwrap().to_string());
    }
    const FEEDS: &str = "/feeds/2021-06-30/feeds";
    let mut listed = Vec::new();
    let mut page = api.call(
        "GET",
        FEEDS,
        &[("feedTypes", "JSON_LISTINGS_FEED"), ("pageSize", "2")],
        None,
    );
    loop {
        assert_eq!(page.status, 200, "{:?}", page.body);
        let feeds = page.body["feeds"].as_array().unwrap();
        assert!(feeds.len() <= 2);
        listed.extend(
            feeds
                .iter()
                .map(|f| f["feedId"].as_str().unwrap().to_string()),
        );
        let Some(token) = page.body["nextToken"].as_str().map(str::to_string) else {
            break;
        };
        let with_more = api.call(
            "GET",
            FEEDS,
            &[("nextToken", &token), ("pageSize", "2")],
            None,
        );
        assert_eq!(with_more.status, 400, "nextToken goes alone");
        page = api.call("GET", FEEDS, &[("nextToken", &token)], None);
    }
    let mut sorted = created.clone();
    sorted.sort();
    let mut got = listed.clone();
    got.sort();
    assert_eq!(got, sorted, "every feed once over the pages");
    assert_eq!(listed.first(), created.last(), "newest first");
    for bad in [
        vec![("pageSize", "2")],
        vec![("feedTypes", "JSON_LISTINGS_FEED"), ("pageSize", "101")],
        vec![
            ("feedTypes", "JSON_LISTINGS_FEED"),
            ("createdSince", "yesterday"),
        ],
        vec![("nextToken", "not-a-token")],
    ] {
        assert_eq!(api.call("GET", FEEDS, &bad, None).status, 400, "{bad:?}");
    }
}
