//! Listings reads show the live seller-fulfilled quantity, and every change of a quantity is
//! logged with its cause (`GET /_emulator/quantity-log`).

mod common;

use common::Api;
use sellsync_emulator::Seller;
use serde_json::{json, Value};

const MP: &str = "ATVPDKIKX0DER";

fn api() -> Api {
    let api = Api::fast();
    api.control(
        "POST",
        "listings",
        Some(json!({"listings": [
            {"sku": "MUG", "quantity": 5, "product_type": "HOME"},
            {"sku": "POT", "quantity": 7, "product_type": "HOME"}]})),
    );
    api
}

/// The quantity of MUG as getListingsItem and searchListingsItems show it, and whether the
/// search summary says it is buyable.
fn shown(api: &Api) -> (i64, i64, bool) {
    let seller = Seller::demo().seller_id;
    let one = api.call(
        "GET",
        &format!("/listings/2021-08-01/items/{seller}/MUG"),
        &[
            ("marketplaceIds", MP),
            ("includedData", "fulfillmentAvailability"),
        ],
        None,
    );
    assert_eq!(one.status, 200, "{:?}", one.body);
    let found = api.call(
        "GET",
        &format!("/listings/2021-08-01/items/{seller}"),
        &[
            ("marketplaceIds", MP),
            ("identifiersType", "SKU"),
            ("identifiers", "MUG"),
            ("includedData", "summaries,fulfillmentAvailability"),
        ],
        None,
    );
    assert_eq!(found.status, 200, "{:?}", found.body);
    assert_eq!(found.body["numberOfResults"], 1);
    let item = &found.body["items"][0];
    let buyable = item["summaries"][0]["status"]
        .as_array()
        .unwrap()
        .contains(&json!("BUYABLE"));
    (
        one.body["fulfillmentAvailability"][0]["quantity"]
            .as_i64()
            .unwrap(),
        item["fulfillmentAvailability"][0]["quantity"]
            .as_i64()
            .unwrap(),
        buyable,
    )
}

fn order(api: &Api, units: i64) -> String {
    let placed = api.control("POST", "orders", Some(json!({"lines": [["MUG", units]]})));
    placed["order_ids"][0].as_str().unwrap().to_string()
}

fn set_by_patch(api: &Api, quantity: i64) {
    let seller = Seller::demo().seller_id;
    let a = api.call(
        "PATCH",
        &format!("/listings/2021-08-01/items/{seller}/MUG"),
        &[("marketplaceIds", MP)],
        Some(&json!({"productType": "HOME", "patches": [{"op": "replace",
            "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]}]})),
    );
    assert_eq!(a.body["status"], "ACCEPTED", "{:?}", a.body);
}

#[test]
fn listings_reads_show_the_quantity_left_after_each_order() {
    let api = api();
    assert_eq!(shown(&api), (5, 5, true));
    let first = order(&api, 2);
    assert_eq!(shown(&api), (3, 3, true));
    let second = order(&api, 3);
    assert_eq!(shown(&api), (0, 0, false), "sold out: no longer buyable");
    // Each order line records what Amazon showed when it was placed.
    for (id, was) in [(first, 5), (second, 3)] {
        let o = api.control("GET", &format!("orders/{id}"), None);
        assert_eq!(o["items"][0]["shown_quantity"], was, "{id}");
    }
    set_by_patch(&api, 4);
    assert_eq!(shown(&api), (4, 4, true));
}

fn causes(entries: &Value) -> Vec<(String, i64, i64, String)> {
    entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["sku"].as_str().unwrap().to_string(),
                e["from"].as_i64().unwrap(),
                e["to"].as_i64().unwrap(),
                e["cause"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_quantity_change_is_logged_with_its_cause_oldest_first() {
    let api = api();
    let seller = Seller::demo().seller_id;
    let order_id = order(&api, 2);
    // The clock moves on: what follows is "since" this time.
    let since = api.control("POST", "clock", Some(json!({"advance_seconds": 60})))["now"]
        .as_str()
        .unwrap()
        .to_string();
    set_by_patch(&api, 10);
    set_by_patch(&api, 10); // not a change: not logged
    let put = api.call(
        "PUT",
        &format!("/listings/2021-08-01/items/{seller}/MUG"),
        &[("marketplaceIds", MP)],
        Some(
            &json!({"productType": "HOME", "attributes": {"fulfillment_availability":
            [{"fulfillment_channel_code": "DEFAULT", "quantity": 12}]}}),
        ),
    );
    assert_eq!(put.body["status"], "ACCEPTED");
    let feed = json!({"header": {"sellerId": seller, "version": "2.0"}, "messages": [
        {"messageId": 1, "sku": "MUG", "operationType": "PATCH", "productType": "HOME",
         "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                      "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 20}]}]}]});
    let doc = api.upload("application/json", feed.to_string().into_bytes());
    let created = api.call(
        "POST",
        "/feeds/2021-06-30/feeds",
        &[],
        Some(
            &json!({"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [MP],
                     "inputFeedDocumentId": doc.body["feedDocumentId"]}),
        ),
    );
    let feed_id = created.body["feedId"].as_str().unwrap().to_string();
    let done = api.wait_done(&format!("/feeds/2021-06-30/feeds/{feed_id}"));
    assert_eq!(done["processingStatus"], "DONE");
    // A direct edit by Rust code (as in Seller Central) is logged too.
    api.emu.control().with_world(|w| {
        w.listings
            .get_mut(&(seller.clone(), "MUG".to_string()))
            .unwrap()
            .quantity = 25
    });
    let log = api.control("GET", "quantity-log?sku=MUG", None);
    let s = |sku: &str, from, to, cause: &str| (sku.to_string(), from, to, cause.to_string());
    assert_eq!(
        causes(&log),
        vec![
            s("MUG", 0, 5, "control"),
            s("MUG", 5, 3, "order"),
            s("MUG", 3, 10, "patch"),
            s("MUG", 10, 12, "put"),
            s("MUG", 12, 20, "feed"),
            s("MUG", 20, 25, "control"),
        ]
    );
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries[1]["order_id"], order_id.as_str());
    assert_eq!(entries[4]["feed_id"], feed_id.as_str());
    assert!(entries[2].get("order_id").is_none() && entries[2].get("feed_id").is_none());
    assert_eq!(entries[0]["seller_id"], seller.as_str());
    let times: Vec<_> = entries
        .iter()
        .map(|e| chrono::DateTime::parse_from_rfc3339(e["time"].as_str().unwrap()).unwrap())
        .collect();
    assert!(times.windows(2).all(|t| t[0] <= t[1]), "oldest first");
    // Unfiltered, POT's seeding is there too; `since` keeps what came after the clock moved.
    assert_eq!(
        causes(&api.control("GET", "quantity-log", None))[1],
        s("POT", 0, 7, "control")
    );
    let later = api.control(
        "GET",
        &format!("quantity-log?since={}", since.replace('+', "%2B")),
        None,
    );
    assert_eq!(causes(&later), causes(&log)[2..].to_vec());
    let bad = api.control_answer("GET", "quantity-log?since=yesterday", None);
    assert_eq!(bad.status, 400);
}
