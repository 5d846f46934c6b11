//! Faults that catch a client trusting an old page, the order of a page, a timeout, or
//! Amazon's refusal of a package it has: `stale_page`, `out_of_order`, `late_answer` and
//! `already_fulfilled`.

mod common;

use common::Api;
use sellsync_emulator::OrderSeed;
use serde_json::{json, Value};

const SO: &str = "/orders/2026-01-01/orders";
const V0: &str = "/orders/v0/orders";

fn api() -> Api {
    let api = Api::fast();
    api.control(
        "POST",
        "listings",
        Some(json!({"listings": [{"sku": "MUG", "quantity": 50}]})),
    );
    api
}

fn hour_ago(api: &Api) -> String {
    (api.emu.control().now() - chrono::Duration::hours(1)).to_rfc3339()
}

/// (order id, status, last update) of each order of a searchOrders page.
fn search(api: &Api) -> Vec<(String, String, String)> {
    let a = api.call(
        "GET",
        SO,
        &[
            ("lastUpdatedAfter", &hour_ago(api)),
            ("includedData", "FULFILLMENT"),
        ],
        None,
    );
    assert_eq!(a.status, 200, "{:?}", a.body);
    rows(
        &a.body["orders"],
        "orderId",
        "/fulfillment/fulfillmentStatus",
        "lastUpdatedTime",
    )
}

/// (order id, status, last update) of each order of a v0 getOrders page.
fn get_orders(api: &Api) -> Vec<(String, String, String)> {
    let a = api.call(
        "GET",
        V0,
        &[
            ("MarketplaceIds", "ATVPDKIKX0DER"),
            ("LastUpdatedAfter", &hour_ago(api)),
        ],
        None,
    );
    assert_eq!(a.status, 200, "{:?}", a.body);
    rows(
        &a.body["payload"]["Orders"],
        "AmazonOrderId",
        "/OrderStatus",
        "LastUpdateDate",
    )
}

fn rows(orders: &Value, id: &str, status: &str, updated: &str) -> Vec<(String, String, String)> {
    orders
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let text = |v: &Value| v.as_str().unwrap().to_string();
            (
                text(&o[id]),
                text(o.pointer(status).unwrap()),
                text(&o[updated]),
            )
        })
        .collect()
}

fn fault(api: &Api, operation: &str, kind: Value) {
    let mut f = json!({"operation": operation, "count": 1});
    f.as_object_mut()
        .unwrap()
        .extend(kind.as_object().unwrap().clone());
    api.control("POST", "faults", Some(f));
}

#[test]
fn a_stale_page_serves_each_order_as_it_was_before_its_last_update() {
    let api = api();
    // Placed 10 minutes ago, its payment authorised a minute later: now Unshipped.
    let id = api
        .emu
        .control()
        .place_orders(&OrderSeed {
            lines: vec![("MUG".into(), 1)],
            pending_seconds: Some(60),
            age_seconds: 600,
            ..Default::default()
        })
        .unwrap()
        .remove(0);
    let fresh = search(&api);
    assert_eq!(fresh.len(), 1);
    assert_eq!(
        (fresh[0].0.as_str(), fresh[0].1.as_str()),
        (id.as_str(), "UNSHIPPED")
    );
    fault(&api, "searchOrders", json!({"kind": "stale_page"}));
    let stale = search(&api);
    assert_eq!(stale[0].0, id);
    assert_eq!(stale[0].1, "PENDING", "the status before the last update");
    assert!(
        stale[0].2 < fresh[0].2,
        "{stale:?} is not older than {fresh:?}"
    );
    assert_eq!(search(&api), fresh, "only the next page is stale");
    let fresh_v0 = get_orders(&api);
    assert_eq!(fresh_v0[0].1, "Unshipped");
    fault(&api, "getOrders", json!({"kind": "stale_page"}));
    let stale_v0 = get_orders(&api);
    assert_eq!(stale_v0[0].1, "Pending");
    assert!(stale_v0[0].2 < fresh_v0[0].2);
}

#[test]
fn an_out_of_order_page_lists_the_newest_update_first() {
    let api = api();
    let c = api.emu.control();
    for age in [900, 600, 300] {
        c.place_orders(&OrderSeed {
            lines: vec![("MUG".into(), 1)],
            age_seconds: age,
            ..Default::default()
        })
        .unwrap();
    }
    let times = |page: &[(String, String, String)]| -> Vec<String> {
        page.iter().map(|r| r.2.clone()).collect()
    };
    let ordered = times(&search(&api));
    assert_eq!(ordered.len(), 3);
    assert!(ordered.windows(2).all(|w| w[0] < w[1]), "{ordered:?}");
    let reversed: Vec<String> = ordered.iter().rev().cloned().collect();
    fault(&api, "searchOrders", json!({"kind": "out_of_order"}));
    assert_eq!(times(&search(&api)), reversed);
    fault(&api, "getOrders", json!({"kind": "out_of_order"}));
    assert_eq!(times(&get_orders(&api)), reversed);
    assert_eq!(times(&search(&api)), ordered, "only the next page");
}

#[test]
fn a_late_answer_comes_after_the_call_was_applied() {
    let api = api();
    let c = api.emu.control();
    let (id, item) = common::one_order(&api, "MUG", 1, 600);
    let body = json!({"marketplaceId": "ATVPDKIKX0DER", "packageDetail": {
        "packageReferenceId": "1", "carrierCode": "UPS", "trackingNumber": "1Z999",
        "shipDate": api.emu.control().now().to_rfc3339(),
        "orderItems": [{"orderItemId": item, "quantity": 1}]}});
    let path = format!("{V0}/{id}/shipmentConfirmation");
    fault(
        &api,
        "confirmShipment",
        json!({"kind": "late_answer", "ms": 1500}),
    );
    let impatient = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let err = impatient
        .post(format!("{}{path}", api.emu.url()))
        .header("x-amz-access-token", &api.token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    let confirmations = || {
        c.with_world(|w| {
            w.shipments
                .values()
                .filter(|s| s.order_id == id)
                .map(|s| s.confirmations)
                .sum::<u32>()
        })
    };
    assert_eq!(confirmations(), 1, "applied although the client gave up");
    // A client that takes the timeout for "not sent" and resends is counted.
    assert_eq!(api.call("POST", &path, &[], Some(&body)).status, 204);
    assert_eq!(confirmations(), 2);
}

#[test]
fn a_stale_order_read_and_an_already_fulfilled_resend_hide_a_package_amazon_has() {
    let api = api();
    let c = api.emu.control();
    let (id, item) = common::one_order(&api, "MUG", 1, 600);
    let body = json!({"marketplaceId": "ATVPDKIKX0DER", "packageDetail": {
        "packageReferenceId": "1", "carrierCode": "UPS", "trackingNumber": "1Z999AA10123456784",
        "shipDate": c.now().to_rfc3339(),
        "orderItems": [{"orderItemId": item, "quantity": 1}]}});
    let path = format!("{V0}/{id}/shipmentConfirmation");
    assert_eq!(api.call("POST", &path, &[], Some(&body)).status, 204);
    let status = |api: &Api| {
        let a = api.call(
            "GET",
            &format!("{SO}/{id}"),
            &[("includedData", "FULFILLMENT")],
            None,
        );
        a.body["order"]["fulfillment"]["fulfillmentStatus"].clone()
    };
    fault(&api, "getOrder2026", json!({"kind": "stale_page"}));
    assert_eq!(status(&api), "UNSHIPPED", "a lagging replica");
    assert_eq!(status(&api), "SHIPPED");
    fault(
        &api,
        "confirmShipment",
        json!({"kind": "already_fulfilled"}),
    );
    let resend = api.call("POST", &path, &[], Some(&body));
    assert_eq!(resend.status, 400);
    assert!(resend.body["errors"][0]["details"]
        .as_str()
        .unwrap()
        .contains("PackageToUpdateNotFound"));
    let confirmations: u32 = c.with_world(|w| w.shipments.values().map(|s| s.confirmations).sum());
    assert_eq!(confirmations, 1, "the refused resend changed nothing");
}
