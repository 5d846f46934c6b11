//! The real Amazon's habits where its models are silent, each as the emulator reproduces it:
//! a `replace` of `fulfillment_availability` drops the handling time, `merge` keeps it; offer
//! attributes are accepted under the product type `PRODUCT`; a listings feed's PATCH needs
//! `fulfillment_channel_code`; a seller's feeds of one type run one after another; a flat-file
//! order feed with a byte-order mark is not read; a listings feed may end DONE accepting a
//! message it never applied; an accepted patch may never land; the order searches see an
//! order's changes late, `getOrder` at once.

mod common;

use common::Api;
use sellsync_emulator::{Fault, FaultKind, OrderSeed, Seller, Status};
use serde_json::{json, Value};

const MP: &str = "ATVPDKIKX0DER";

/// An emulator with MUG (product type HOME, quantity 5, handling time 3 days).
fn api() -> Api {
    let api = Api::fast();
    api.control(
        "POST",
        "listings",
        Some(json!({"listings": [
            {"sku": "MUG", "quantity": 5, "product_type": "HOME", "handling_days": 3}]})),
    );
    api
}

fn patch(api: &Api, product_type: &str, op: &str, attribute: &str, value: Value) -> Value {
    let seller = Seller::demo().seller_id;
    let body = json!({"productType": product_type,
        "patches": [{"op": op, "path": format!("/attributes/{attribute}"), "value": value}]});
    let a = api.call(
        "PATCH",
        &format!("/listings/2021-08-01/items/{seller}/MUG"),
        &[("marketplaceIds", MP)],
        Some(&body),
    );
    assert_eq!(a.status, 200, "{:?}", a.body);
    a.body
}

fn quantity(q: i64) -> Value {
    json!([{"fulfillment_channel_code": "DEFAULT", "quantity": q}])
}

/// MUG's handling time as getListingsItem's attributes show it, and the hours between a new
/// order's creation and its latest ship date.
fn handling(api: &Api) -> (Option<i64>, i64) {
    let seller = Seller::demo().seller_id;
    let got = api.call(
        "GET",
        &format!("/listings/2021-08-01/items/{seller}/MUG"),
        &[("marketplaceIds", MP), ("includedData", "attributes")],
        None,
    );
    let days = got.body["attributes"]["fulfillment_availability"][0]["lead_time_to_ship_max_days"]
        .as_i64();
    let ids = api.control("POST", "orders", Some(json!({"lines": [["MUG", 1]]})));
    let id = ids["order_ids"][0].as_str().unwrap().to_string();
    let order = api.emu.control().order(&id).unwrap();
    (days, (order.latest_ship - order.created).num_hours())
}

#[test]
fn a_replace_of_the_quantity_drops_the_handling_time_and_a_merge_keeps_it() {
    let api = api();
    assert_eq!(handling(&api), (Some(3), 72));
    let merged = patch(
        &api,
        "HOME",
        "merge",
        "fulfillment_availability",
        quantity(9),
    );
    assert_eq!(merged["status"], "ACCEPTED");
    assert_eq!(api.emu.control().quantity("MUG"), Some(9));
    assert_eq!(
        handling(&api),
        (Some(3), 72),
        "merge keeps the handling time"
    );
    let replaced = patch(
        &api,
        "HOME",
        "replace",
        "fulfillment_availability",
        quantity(9),
    );
    assert_eq!(replaced["status"], "ACCEPTED");
    assert_eq!(
        handling(&api),
        (None, 48),
        "replace drops it: the account's 2 days"
    );
    let with_lead = json!([{"fulfillment_channel_code": "DEFAULT", "quantity": 9,
                            "lead_time_to_ship_max_days": 4}]);
    patch(&api, "HOME", "merge", "fulfillment_availability", with_lead);
    assert_eq!(handling(&api), (Some(4), 96));
    let no_channel = patch(
        &api,
        "HOME",
        "merge",
        "fulfillment_availability",
        json!([{"quantity": 1}]),
    );
    assert_eq!(no_channel["status"], "INVALID");
}

#[test]
fn offer_attributes_are_accepted_under_product_and_others_are_not() {
    let api = api();
    let q = patch(
        &api,
        "PRODUCT",
        "merge",
        "fulfillment_availability",
        quantity(2),
    );
    assert_eq!(q["status"], "ACCEPTED", "{q}");
    assert_eq!(api.emu.control().quantity("MUG"), Some(2));
    let name = patch(
        &api,
        "PRODUCT",
        "replace",
        "item_name",
        json!([{"value": "Big mug"}]),
    );
    assert_eq!(
        name["status"], "INVALID",
        "item_name is not an offer attribute"
    );
    assert_eq!(name["issues"][0]["code"], "PRODUCT_TYPE_MISMATCH");
    let other = patch(
        &api,
        "LUGGAGE",
        "merge",
        "fulfillment_availability",
        quantity(1),
    );
    assert_eq!(
        other["status"], "INVALID",
        "another product type is refused"
    );
}

#[test]
fn a_listings_feed_patch_needs_its_channel_and_a_merge_keeps_the_handling_time() {
    let api = api();
    let seller = Seller::demo().seller_id;
    let message = |id: i64, entry: Value| {
        json!({"messageId": id, "sku": "MUG", "operationType": "PATCH", "productType": "PRODUCT",
               "patches": [{"op": "merge", "path": "/attributes/fulfillment_availability", "value": [entry]}]})
    };
    let feed = json!({"header": {"sellerId": seller, "version": "2.0"}, "messages": [
        message(1, json!({"quantity": 30})),
        message(2, json!({"fulfillment_channel_code": "DEFAULT", "quantity": 8}))]});
    let done = run_feed(
        &api,
        "JSON_LISTINGS_FEED",
        "application/json",
        feed.to_string(),
    );
    assert_eq!(done["processingStatus"], "DONE");
    let text = report(&api, &done);
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["summary"]["messagesInvalid"], 1, "{report}");
    assert_eq!(report["issues"][0]["messageId"], 1);
    assert_eq!(api.emu.control().quantity("MUG"), Some(8));
    assert_eq!(handling(&api), (Some(3), 72));
}

/// Uploads `data` and creates a feed of `feed_type` with it; the feed's path.
fn submit(api: &Api, feed_type: &str, content_type: &str, data: String) -> String {
    let doc = api.upload(content_type, data.into_bytes());
    let created = api.call(
        "POST",
        "/feeds/2021-06-30/feeds",
        &[],
        Some(&json!({"feedType": feed_type, "marketplaceIds": [MP],
                     "inputFeedDocumentId": doc.body["feedDocumentId"]})),
    );
    assert_eq!(created.status, 202, "{:?}", created.body);
    format!(
        "/feeds/2021-06-30/feeds/{}",
        created.body["feedId"].as_str().unwrap()
    )
}

/// Submits a feed and waits (bounded) until its processing ends; the feed.
fn run_feed(api: &Api, feed_type: &str, content_type: &str, data: String) -> Value {
    api.wait_done(&submit(api, feed_type, content_type, data))
}

/// The processing report of a feed that is done.
fn report(api: &Api, done: &Value) -> String {
    let doc = api.call(
        "GET",
        &format!(
            "/feeds/2021-06-30/documents/{}",
            done["resultFeedDocumentId"].as_str().unwrap()
        ),
        &[],
        None,
    );
    reqwest::blocking::get(doc.body["url"].as_str().unwrap())
        .unwrap()
        .text()
        .unwrap()
}

/// A listings feed setting MUG's quantity.
fn mug_feed(q: i64) -> String {
    let seller = Seller::demo().seller_id;
    json!({"header": {"sellerId": seller, "version": "2.0"}, "messages": [
        {"messageId": 1, "sku": "MUG", "operationType": "PATCH", "productType": "PRODUCT",
         "patches": [{"op": "merge", "path": "/attributes/fulfillment_availability",
                      "value": quantity(q)}]}]})
    .to_string()
}

#[test]
fn a_feed_starts_only_after_the_sellers_previous_feed_of_its_type_has_ended() {
    let api = api();
    // An hour of Amazon's time (3.6 s at this rate scale) stuck IN_PROGRESS.
    api.emu.control().inject(Fault {
        operation: "createFeed".into(),
        count: 1,
        kind: FaultKind::FeedStall { seconds: 3600 },
    });
    let first = submit(&api, "JSON_LISTINGS_FEED", "application/json", mug_feed(30));
    let second = submit(&api, "JSON_LISTINGS_FEED", "application/json", mug_feed(8));
    let second = api.wait_done(&second);
    let first = api.call("GET", &first, &[], None).body;
    assert_eq!(first["processingStatus"], "DONE", "{first}");
    assert_eq!(second["processingStatus"], "DONE", "{second}");
    let time = |f: &Value, key: &str| {
        chrono::DateTime::parse_from_rfc3339(f[key].as_str().unwrap()).unwrap()
    };
    assert!(
        time(&second, "processingStartTime") >= time(&first, "processingEndTime"),
        "the second feed started while the first was in progress: {first} {second}"
    );
    assert_eq!(
        api.emu.control().quantity("MUG"),
        Some(8),
        "applied in order"
    );
}

#[test]
fn a_flat_file_order_feed_with_a_byte_order_mark_fails_with_error_50001() {
    let api = api();
    let ids = api
        .emu
        .control()
        .place_orders(&OrderSeed {
            count: Some(2),
            lines: vec![("MUG".into(), 1)],
            ..OrderSeed::default()
        })
        .unwrap();
    let file = |id: &str| {
        format!("order-id\tamazon-order-item-code\tcancellation-reason-code\n{id}\t\tNoInventory\n")
    };
    let feed = |data: String| {
        run_feed(
            &api,
            "POST_FLAT_FILE_ORDER_ACKNOWLEDGEMENT_DATA",
            "text/tab-separated-values; charset=UTF-8",
            data,
        )
    };
    let status = |id: &str| api.emu.control().order(id).unwrap().status;
    let done = feed(format!("\u{feff}{}", file(&ids[0])));
    let text = report(&api, &done);
    assert!(text.contains("Number of records processed\t\t0"), "{text}");
    assert!(text.contains("\t50001\tFatal\t"), "{text}");
    assert_ne!(status(&ids[0]), Status::Canceled, "nothing applied");
    // The same file without the mark is applied.
    let done = feed(file(&ids[1]));
    assert!(!report(&api, &done).contains("50001"));
    assert_eq!(status(&ids[1]), Status::Canceled);
}

#[test]
fn a_listings_feed_may_end_done_accepting_a_message_it_never_applied() {
    let api = api();
    api.emu.control().inject(Fault {
        operation: "createFeed".into(),
        count: 1,
        kind: FaultKind::FeedUnapplied { messages: 1 },
    });
    let done = run_feed(&api, "JSON_LISTINGS_FEED", "application/json", mug_feed(30));
    assert_eq!(done["processingStatus"], "DONE");
    let report: Value = serde_json::from_str(&report(&api, &done)).unwrap();
    assert_eq!(report["summary"]["messagesAccepted"], 1, "{report}");
    assert_eq!(report["issues"], json!([]));
    assert_eq!(api.emu.control().quantity("MUG"), Some(5), "not applied");
    // The next feed is applied.
    run_feed(&api, "JSON_LISTINGS_FEED", "application/json", mug_feed(30));
    assert_eq!(api.emu.control().quantity("MUG"), Some(30));
}

/// Quantity is per seller and SKU: a listing offered only in Canada is found there, by
/// getListingsItem and by a search naming both marketplaces, and not in the US.
#[test]
fn a_listing_offered_in_one_marketplace_is_found_only_where_it_is_offered() {
    let api = Api::fast();
    const CA: &str = "A2EUQ1WTGCTBG2";
    api.control(
        "POST",
        "listings",
        Some(json!({"listings": [{"sku": "MUG", "quantity": 5, "marketplace_ids": [CA]}]})),
    );
    let seller = Seller::demo().seller_id;
    let get = |mp: &str| {
        api.call(
            "GET",
            &format!("/listings/2021-08-01/items/{seller}/MUG"),
            &[("marketplaceIds", mp)],
            None,
        )
    };
    assert_eq!(get(MP).status, 404);
    let found = get(CA);
    assert_eq!(found.status, 200);
    assert_eq!(found.body["summaries"][0]["marketplaceId"], CA);
    let search = |mps: &str| {
        api.call(
            "GET",
            &format!("/listings/2021-08-01/items/{seller}"),
            &[
                ("marketplaceIds", mps),
                ("identifiers", "MUG"),
                ("identifiersType", "SKU"),
            ],
            None,
        )
        .body["numberOfResults"]
            .as_u64()
    };
    assert_eq!(search(MP), Some(0));
    assert_eq!(search(&format!("{MP},{CA}")), Some(1));
}

/// (order id, status in the v2026 spelling) of each order a search lists.
type Listed = Vec<(String, String)>;

/// The orders both searches list by last update since an hour ago: (searchOrders, getOrders).
fn searched(api: &Api) -> (Listed, Listed) {
    let since = (api.emu.control().now() - chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let v2026 = api.call(
        "GET",
        "/orders/2026-01-01/orders",
        &[
            ("lastUpdatedAfter", since.as_str()),
            ("marketplaceIds", MP),
            ("includedData", "FULFILLMENT"),
        ],
        None,
    );
    assert_eq!(v2026.status, 200, "{:?}", v2026.body);
    let v0 = api.call(
        "GET",
        "/orders/v0/orders",
        &[("LastUpdatedAfter", since.as_str()), ("MarketplaceIds", MP)],
        None,
    );
    assert_eq!(v0.status, 200, "{:?}", v0.body);
    let list = |orders: &Value, id: &str, status: &dyn Fn(&Value) -> String| {
        orders
            .as_array()
            .unwrap()
            .iter()
            .map(|o| (o[id].as_str().unwrap().to_string(), status(o)))
            .collect::<Vec<_>>()
    };
    (
        list(&v2026.body["orders"], "orderId", &|o| {
            o["fulfillment"]["fulfillmentStatus"]
                .as_str()
                .unwrap()
                .into()
        }),
        list(&v0.body["payload"]["Orders"], "AmazonOrderId", &|o| {
            Status::parse(o["OrderStatus"].as_str().unwrap())
                .unwrap()
                .v2026()
                .into()
        }),
    )
}

#[test]
fn the_searches_see_an_order_and_each_change_only_after_its_lag_and_get_order_at_once() {
    let api = api();
    api.control(
        "POST",
        "settings",
        Some(
            json!({"order_search_lag_min_seconds": 300, "order_search_lag_max_seconds": 300,
                    "order_search_late_rate": 0}),
        ),
    );
    let c = api.emu.control();
    let placed = |lag: Option<f64>| {
        c.place_orders(&OrderSeed {
            lines: vec![("MUG".into(), 1)],
            search_lag_seconds: lag,
            ..Default::default()
        })
        .unwrap()[0]
            .clone()
    };
    let id = placed(None);
    let at_once = placed(Some(0.0));
    let by_id = api.call("GET", &format!("/orders/2026-01-01/orders/{id}"), &[], None);
    assert_eq!(by_id.status, 200, "getOrder finds the new order at once");
    let items = api.call(
        "GET",
        &format!("/orders/v0/orders/{id}/orderItems"),
        &[],
        None,
    );
    assert_eq!(items.status, 200);
    // Past the two-minute rule, the searches list only the order asked to be visible at once.
    c.advance(chrono::Duration::seconds(180));
    let shown = vec![(at_once.clone(), "UNSHIPPED".to_string())];
    assert_eq!(searched(&api), (shown.clone(), shown));
    c.advance(chrono::Duration::seconds(119));
    assert_eq!(searched(&api).0.len(), 1, "the lag has not passed");
    c.advance(chrono::Duration::seconds(3));
    let (v2026, v0) = searched(&api);
    assert_eq!(v2026, v0, "both Orders APIs search the same index");
    assert!(
        v2026.contains(&(id.clone(), "UNSHIPPED".into())),
        "{v2026:?}"
    );
    // A cancellation: getOrder shows it at once, the searches the order as it was until the
    // cancellation's own lag has passed.
    assert!(c.cancel(&id, sellsync_emulator::CanceledBy::Amazon, "Payment failed"));
    let by_id = api.call(
        "GET",
        &format!("/orders/2026-01-01/orders/{id}"),
        &[("includedData", "FULFILLMENT")],
        None,
    );
    assert_eq!(
        by_id.body["order"]["fulfillment"]["fulfillmentStatus"],
        "CANCELLED"
    );
    c.advance(chrono::Duration::seconds(299));
    assert!(searched(&api).1.contains(&(id.clone(), "UNSHIPPED".into())));
    assert_eq!(api.control("GET", "state", None)["search_behind"], 1);
    c.advance(chrono::Duration::seconds(2));
    let (v2026, v0) = searched(&api);
    assert_eq!(v2026, v0);
    assert!(v2026.contains(&(id, "CANCELLED".into())), "{v2026:?}");
}

#[test]
fn an_accepted_patch_may_never_land_until_a_later_one_does() {
    let api = api();
    let c = api.emu.control();
    c.inject(Fault {
        operation: "patchListingsItem".into(),
        count: 1,
        kind: FaultKind::PatchUnapplied,
    });
    let accepted = patch(
        &api,
        "PRODUCT",
        "merge",
        "fulfillment_availability",
        quantity(9),
    );
    assert_eq!(accepted["status"], "ACCEPTED");
    assert_eq!(accepted["issues"], json!([]));
    assert_eq!(
        (c.quantity("MUG"), c.landing()),
        (Some(5), 0),
        "never lands"
    );
    assert!(c.unapplied("MUG"));
    patch(
        &api,
        "PRODUCT",
        "merge",
        "fulfillment_availability",
        quantity(7),
    );
    assert_eq!(c.quantity("MUG"), Some(7));
    assert!(!c.unapplied("MUG"), "the later patch superseded it");
}
