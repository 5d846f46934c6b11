//! Every answer the emulator gives, success and error, validates against the response schema
//! the official model declares for that operation and status; feed documents and processing
//! reports validate against the official feed schemas.

mod common;

use common::{Answer, Api};
use jsonschema::{Draft, JSONSchema};
use sellsync_emulator::sandbox::models;
use sellsync_emulator::{Config, ListingSeed, OrderSeed};
use serde_json::{json, Value};

/// The model declaring `template` (with version disambiguation for /orders paths).
fn model_for(template: &str) -> &'static Value {
    models()
        .iter()
        .find(|m| m["paths"].get(template).is_some())
        .unwrap_or_else(|| panic!("no model has {template}"))
}

fn validate_against(schema: &Value, definitions: &Value, instance: &Value) -> Result<(), String> {
    let doc = json!({"allOf": [schema], "definitions": definitions});
    let compiled = JSONSchema::options()
        .with_draft(Draft::Draft4)
        .compile(&doc)
        .map_err(|e| e.to_string())?;
    compiled.validate(instance).map_err(|errs| {
        errs.map(|e| format!("{e} at {}", e.instance_path))
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// Checks an answer against the model's declared response for (template, method, status).
fn check(template: &str, method: &str, a: &Answer) {
    let model = model_for(template);
    let op = &model["paths"][template][method];
    let declared = &op["responses"][a.status.to_string()];
    assert!(
        declared.is_object(),
        "{method} {template} answered {} which the model does not declare: {}",
        a.status,
        a.body
    );
    match declared.get("schema") {
        None => assert!(
            a.raw.is_empty(),
            "{method} {template} {}: the model declares no body",
            a.status
        ),
        Some(schema) => {
            if let Err(e) = validate_against(schema, &model["definitions"], &a.body) {
                panic!(
                    "{method} {template} {} does not match its schema: {e}\nbody: {}",
                    a.status, a.body
                );
            }
        }
    }
    let limited = matches!(a.status, 200..=299 | 400 | 404) && !template.starts_with("/auth");
    if limited {
        let rate = a
            .headers
            .get("x-amzn-RateLimit-Limit")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            rate.parse::<f64>().is_ok_and(|r| r > 0.0),
            "{method} {template} {}: no x-amzn-RateLimit-Limit",
            a.status
        );
    }
    assert!(a.headers.get("x-amzn-RequestId").is_some());
}

fn api() -> Api {
    let api = Api::fast();
    let c = api.emu.control();
    let seeds: Vec<ListingSeed> = (0..30)
        .map(|i| ListingSeed {
            price_cents: Some(999),
            product_type: Some("HOME".into()),
            ..ListingSeed::new(format!("S-{i}"), 40, i >= 28)
        })
        .collect();
    c.seed_listings(None, &seeds).unwrap();
    c.place_orders(&OrderSeed {
        count: Some(12),
        age_seconds: 900,
        ..Default::default()
    })
    .unwrap();
    c.place_orders(&OrderSeed {
        count: Some(3),
        fba: true,
        age_seconds: 900,
        ..Default::default()
    })
    .unwrap();
    c.place_orders(&OrderSeed {
        count: Some(2),
        pending_seconds: Some(3600),
        age_seconds: 150,
        ..Default::default()
    })
    .unwrap();
    api
}

const SO: &str = "/orders/2026-01-01/orders";
const ALL_DATA: &str = "BUYER,RECIPIENT,PROCEEDS,EXPENSE,PROMOTION,CANCELLATION,FULFILLMENT,PACKAGES,TAX,PAYMENT,FULFILLMENT_ORDERS";

#[test]
fn orders_2026_answers_match_the_model() {
    let api = api();
    let a = api.call(
        "GET",
        SO,
        &[
            ("lastUpdatedAfter", "2020-01-01T00:00:00Z"),
            ("includedData", ALL_DATA),
            ("maxResultsPerPage", "5"),
        ],
        None,
    );
    assert_eq!(a.status, 200);
    check(SO, "get", &a);
    assert_eq!(a.body["orders"].as_array().unwrap().len(), 5);
    let token = a.body["pagination"]["nextToken"]
        .as_str()
        .unwrap()
        .to_string();
    let next = api.call(
        "GET",
        SO,
        &[
            ("lastUpdatedAfter", "2020-01-01T00:00:00Z"),
            ("includedData", ALL_DATA),
            ("maxResultsPerPage", "5"),
            ("paginationToken", &token),
        ],
        None,
    );
    check(SO, "get", &next);
    // A changed filter with an old token is refused.
    let bad = api.call(
        "GET",
        SO,
        &[
            ("lastUpdatedAfter", "2021-01-01T00:00:00Z"),
            ("paginationToken", &token),
        ],
        None,
    );
    assert_eq!(bad.status, 400);
    check(SO, "get", &bad);
    let id = a.body["orders"][0]["orderId"].as_str().unwrap().to_string();
    let path = format!("/orders/2026-01-01/orders/{id}");
    let one = api.call("GET", &path, &[("includedData", ALL_DATA)], None);
    assert_eq!(one.status, 200);
    check("/orders/2026-01-01/orders/{orderId}", "get", &one);
    let missing = api.call(
        "GET",
        "/orders/2026-01-01/orders/111-0000000-0000000",
        &[],
        None,
    );
    assert_eq!(missing.status, 404);
    check("/orders/2026-01-01/orders/{orderId}", "get", &missing);
    // Amazon's rules: exactly one of createdAfter/lastUpdatedAfter; before >= 2 minutes ago.
    for q in [
        vec![],
        vec![
            ("createdAfter", "2020-01-01T00:00:00Z"),
            ("lastUpdatedAfter", "2020-01-01T00:00:00Z"),
        ],
    ] {
        let r = api.call("GET", SO, &q, None);
        assert_eq!(r.status, 400);
        check(SO, "get", &r);
        assert_eq!(r.body["errors"][0]["code"], "InvalidInput");
    }
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let late = api.call(
        "GET",
        SO,
        &[
            ("lastUpdatedAfter", "2020-01-01T00:00:00Z"),
            ("lastUpdatedBefore", &now),
        ],
        None,
    );
    assert_eq!(
        late.status, 400,
        "lastUpdatedBefore must be 2 minutes before now"
    );
    for q in [
        vec![
            ("lastUpdatedAfter", "2020-01-01T00:00:00Z"),
            ("maxResultsPerPage", "0"),
        ],
        vec![
            ("lastUpdatedAfter", "2020-01-01T00:00:00Z"),
            ("maxResultsPerPage", "101"),
        ],
        vec![("lastUpdatedAfter", "yesterday")],
        vec![
            ("lastUpdatedAfter", "2020-01-01T00:00:00Z"),
            ("fulfillmentStatuses", "LOST"),
        ],
    ] {
        let r = api.call("GET", SO, &q, None);
        assert_eq!(r.status, 400, "{q:?}");
        check(SO, "get", &r);
    }
    // Pending orders carry no recipient; FBA orders say AMAZON.
    let all = api.call(
        "GET",
        SO,
        &[
            ("lastUpdatedAfter", "2020-01-01T00:00:00Z"),
            ("includedData", ALL_DATA),
        ],
        None,
    );
    let orders = all.body["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 17);
    assert_eq!(
        orders
            .iter()
            .filter(|o| o["fulfillment"]["fulfilledBy"] == "AMAZON")
            .count(),
        3
    );
    for o in orders
        .iter()
        .filter(|o| o["fulfillment"]["fulfillmentStatus"] == "PENDING")
    {
        assert!(o.get("recipient").is_none());
    }
    let fba = api.call(
        "GET",
        SO,
        &[
            ("lastUpdatedAfter", "2020-01-01T00:00:00Z"),
            ("fulfilledBy", "AMAZON"),
        ],
        None,
    );
    assert_eq!(fba.body["orders"].as_array().unwrap().len(), 3);
}

#[test]
fn orders_v0_answers_match_the_model_and_pii_needs_a_restricted_data_token() {
    let api = api();
    let list = api.call(
        "GET",
        "/orders/v0/orders",
        &[
            ("MarketplaceIds", "ATVPDKIKX0DER"),
            ("CreatedAfter", "2020-01-01T00:00:00Z"),
            ("MaxResultsPerPage", "10"),
        ],
        None,
    );
    assert_eq!(list.status, 200);
    check("/orders/v0/orders", "get", &list);
    assert!(list.body["payload"]["NextToken"].is_string());
    assert!(
        list.body["payload"]["Orders"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o.get("ShippingAddress").is_none()),
        "no PII without an RDT"
    );
    let missing_mp = api.call(
        "GET",
        "/orders/v0/orders",
        &[("CreatedAfter", "2020-01-01T00:00:00Z")],
        None,
    );
    assert_eq!(missing_mp.status, 400);
    check("/orders/v0/orders", "get", &missing_mp);
    let order = list.body["payload"]["Orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["OrderStatus"] == "Unshipped")
        .unwrap()
        .clone();
    let id = order["AmazonOrderId"].as_str().unwrap();
    let a = api.call("GET", &format!("/orders/v0/orders/{id}"), &[], None);
    check("/orders/v0/orders/{orderId}", "get", &a);
    let items = api.call(
        "GET",
        &format!("/orders/v0/orders/{id}/orderItems"),
        &[],
        None,
    );
    assert_eq!(items.status, 200);
    check("/orders/v0/orders/{orderId}/orderItems", "get", &items);
    let addr_path = format!("/orders/v0/orders/{id}/address");
    let denied = api.call("GET", &addr_path, &[], None);
    assert_eq!(denied.status, 403);
    check("/orders/v0/orders/{orderId}/address", "get", &denied);
    // An RDT for exactly that path unlocks it.
    let rdt_req = json!({"restrictedResources": [{"method": "GET", "path": addr_path}]});
    let rdt = api.call(
        "POST",
        "/tokens/2021-03-01/restrictedDataToken",
        &[],
        Some(&rdt_req),
    );
    assert_eq!(rdt.status, 200);
    check("/tokens/2021-03-01/restrictedDataToken", "post", &rdt);
    let token = rdt.body["restrictedDataToken"].as_str().unwrap();
    let addr = api.call_with("GET", &addr_path, &[], None, token);
    assert_eq!(addr.status, 200);
    check("/orders/v0/orders/{orderId}/address", "get", &addr);
    assert!(addr.body["payload"]["ShippingAddress"]["PostalCode"].is_string());
    // The RDT works for its path only.
    let other = api.call_with(
        "GET",
        "/orders/v0/orders",
        &[
            ("MarketplaceIds", "ATVPDKIKX0DER"),
            ("CreatedAfter", "2020-01-01T00:00:00Z"),
        ],
        None,
        token,
    );
    assert_eq!(other.status, 403);
    let bad_rdt = api.call(
        "POST",
        "/tokens/2021-03-01/restrictedDataToken",
        &[],
        Some(&json!({"restrictedResources": []})),
    );
    assert_eq!(bad_rdt.status, 400);
    check("/tokens/2021-03-01/restrictedDataToken", "post", &bad_rdt);
    let mp = api.call("GET", "/sellers/v1/marketplaceParticipations", &[], None);
    assert_eq!(mp.status, 200);
    check("/sellers/v1/marketplaceParticipations", "get", &mp);
}

#[test]
fn confirm_shipment_is_recorded_with_its_arrival_and_a_resend_overwrites_it() {
    let api = api();
    let c = api.emu.control();
    let (id, item) = common::one_order(&api, "S-1", 3, 900);
    let path = format!("/orders/v0/orders/{id}/shipmentConfirmation");
    let template = "/orders/v0/orders/{orderId}/shipmentConfirmation";
    let body = |pref: &str, qty: i64| {
        json!({"marketplaceId": "ATVPDKIKX0DER", "packageDetail": {
        "packageReferenceId": pref, "carrierCode": "UPS", "trackingNumber": "1Z999", "shipDate": "2026-11-26T10:00:00Z",
        "orderItems": [{"orderItemId": item, "quantity": qty}]}})
    };
    let first = api.call("POST", &path, &[], Some(&body("1", 1)));
    assert_eq!(first.status, 204, "{}", first.body);
    check(template, "post", &first);
    assert_eq!(
        c.order(&id).unwrap().status,
        sellsync_emulator::Status::PartiallyShipped
    );
    let too_many = api.call("POST", &path, &[], Some(&body("2", 3)));
    assert_eq!(too_many.status, 400);
    check(template, "post", &too_many);
    let bad_date = api.call("POST", &path, &[], Some(&json!({"marketplaceId": "ATVPDKIKX0DER", "packageDetail": {"packageReferenceId": "2", "carrierCode": "UPS", "trackingNumber": "1", "shipDate": "02/21/2022", "orderItems": [{"orderItemId": item, "quantity": 1}]}})));
    assert_eq!(bad_date.status, 400);
    // Resending package 1 overwrites it and counts a second confirmation.
    c.advance(chrono::Duration::minutes(30));
    assert_eq!(
        api.call("POST", &path, &[], Some(&body("1", 1))).status,
        204
    );
    assert_eq!(
        api.call("POST", &path, &[], Some(&body("2", 2))).status,
        204
    );
    let state = c.state();
    let ships: Vec<&Value> = state["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["order_id"] == id.as_str())
        .collect();
    assert_eq!(ships.len(), 2);
    let p1 = ships
        .iter()
        .find(|s| s["package_reference_id"] == "1")
        .unwrap();
    assert_eq!(p1["confirmations"], 2);
    assert_ne!(
        p1["arrival"], p1["first_arrival"],
        "a resend moves Amazon's confirmation time"
    );
    assert_eq!(
        c.order(&id).unwrap().status,
        sellsync_emulator::Status::Shipped
    );
    let upd = api.call(
        "POST",
        &format!("/orders/v0/orders/{id}/shipment"),
        &[],
        Some(&json!({"marketplaceId": "ATVPDKIKX0DER", "shipmentStatus": "PickedUp"})),
    );
    assert_eq!(upd.status, 204);
    check("/orders/v0/orders/{orderId}/shipment", "post", &upd);
}

#[test]
fn confirm_shipment_takes_only_amazons_carrier_codes_and_a_string_package_reference() {
    let api = api();
    let c = api.emu.control();
    let (id, item) = common::one_order(&api, "S-2", 4, 900);
    let path = format!("/orders/v0/orders/{id}/shipmentConfirmation");
    let template = "/orders/v0/orders/{orderId}/shipmentConfirmation";
    let send = |pref: Value, carrier: &str, name: Option<&str>, tracking: &str| {
        let mut package = json!({"packageReferenceId": pref, "carrierCode": carrier,
            "trackingNumber": tracking, "shipDate": "2026-11-26T10:00:00Z",
            "orderItems": [{"orderItemId": item, "quantity": 1}]});
        if let Some(n) = name {
            package["carrierName"] = json!(n);
        }
        let a = api.call(
            "POST",
            &path,
            &[],
            Some(&json!({"marketplaceId": "ATVPDKIKX0DER", "packageDetail": package})),
        );
        check(template, "post", &a);
        a
    };
    // Names that are not Amazon's exact codes leave the order unconfirmed.
    for unlisted in [
        "ups",
        "Royal mail",
        "Purolator",
        "Deutsche Post DHL",
        "Other",
    ] {
        let a = send(json!("1"), unlisted, None, "1Z999AA10123456784");
        assert_eq!(a.status, 400, "{unlisted}: {}", a.body);
        assert_eq!(a.body["errors"][0]["code"], "InvalidInput");
        assert!(
            a.body["errors"][0]["details"]
                .as_str()
                .unwrap()
                .contains("carrier"),
            "{}",
            a.body
        );
    }
    // A JSON number as packageReferenceId is refused with Amazon's invalid-type error.
    let number = send(json!(1), "UPS", None, "1Z999AA10123456784");
    assert_eq!(number.status, 400);
    assert!(number.body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("[packageDetail.packageReferenceId]"));
    assert_eq!(
        c.order(&id).unwrap().status,
        sellsync_emulator::Status::Unshipped
    );
    // Listed codes go through; a tracking number unlike the carrier's only draws a warning.
    for (pref, carrier, name, tracking) in [
        ("1", "UPS", None, "1Z999AA10123456784"),
        ("2", "Royal Mail", None, "1Z999AA10123456784"),
        ("3", "Other", Some("Kurierdienst Meier"), "KM-4711"),
    ] {
        let a = send(json!(pref), carrier, name, tracking);
        assert_eq!(a.status, 204, "{carrier}: {}", a.body);
    }
    let state = c.state();
    let ships: Vec<&Value> = state["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["order_id"] == id.as_str())
        .collect();
    let of = |pref: &str| {
        *ships
            .iter()
            .find(|s| s["package_reference_id"] == pref)
            .unwrap()
    };
    assert_eq!(of("1")["carrier_code"], "UPS");
    assert!(of("1")["tracking_warning"].is_null());
    assert!(of("2")["tracking_warning"]
        .as_str()
        .unwrap()
        .contains("does not match the expected format"));
    assert_eq!(of("3")["carrier_name"], "Kurierdienst Meier");
    assert!(of("3")["tracking_warning"].is_null());
    // Nothing left to ship: a new package gets Amazon's "already fulfilled" answer.
    assert_eq!(
        send(json!("4"), "UPS", None, "1Z999AA10123456785").status,
        204
    );
    let more = send(json!("5"), "UPS", None, "1Z999AA10123456786");
    assert_eq!(more.status, 400);
    assert!(more.body["errors"][0]["details"]
        .as_str()
        .unwrap()
        .contains("PackageToUpdateNotFound"));
}

#[test]
fn listings_items_answers_match_the_model_and_change_what_buyers_see() {
    let api = api();
    let seller = sellsync_emulator::Seller::demo().seller_id;
    let item = format!("/listings/2021-08-01/items/{seller}/S-3");
    let t = "/listings/2021-08-01/items/{sellerId}/{sku}";
    let mp = [
        ("marketplaceIds", "ATVPDKIKX0DER"),
        (
            "includedData",
            "summaries,attributes,issues,offers,fulfillmentAvailability",
        ),
    ];
    let got = api.call("GET", &item, &mp, None);
    assert_eq!(got.status, 200);
    check(t, "get", &got);
    assert_eq!(got.body["fulfillmentAvailability"][0]["quantity"], 40);
    let patch = json!({"productType": "HOME", "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}]}]});
    let p = api.call("PATCH", &item, &mp[..1], Some(&patch));
    assert_eq!(p.status, 200);
    check(t, "patch", &p);
    assert_eq!(p.body["status"], "ACCEPTED");
    assert_eq!(api.emu.control().quantity("S-3"), Some(7));
    let negative = json!({"productType": "HOME", "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": -1}]}]});
    let inv = api.call("PATCH", &item, &mp[..1], Some(&negative));
    check(t, "patch", &inv);
    assert_eq!(inv.body["status"], "INVALID");
    assert_eq!(
        api.emu.control().quantity("S-3"),
        Some(7),
        "an invalid patch changes nothing"
    );
    let fba = api.call(
        "PATCH",
        &format!("/listings/2021-08-01/items/{seller}/S-29"),
        &mp[..1],
        Some(&patch),
    );
    // Amazon takes a seller-fulfilled quantity for an FBA listing and makes it seller-fulfilled,
    // stranding its units at Amazon; a quantity for Amazon's own channel is refused.
    assert_eq!(fba.body["status"], "ACCEPTED");
    let converted = api.emu.control().listing("S-29").unwrap();
    assert!(!converted.fba && converted.converted_from_fba);
    let amazon_channel = json!({"productType": "HOME", "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
        "value": [{"fulfillment_channel_code": "AMAZON_NA", "quantity": 5}]}]});
    let refused = api.call(
        "PATCH",
        &format!("/listings/2021-08-01/items/{seller}/S-28"),
        &mp[..1],
        Some(&amazon_channel),
    );
    assert_eq!(
        refused.body["status"], "INVALID",
        "FBA quantity is Amazon's"
    );
    let wrong_type = json!({"productType": "LUGGAGE", "patches": patch["patches"].clone()});
    let w = api.call("PATCH", &item, &mp[..1], Some(&wrong_type));
    assert_eq!(
        w.body["status"], "INVALID",
        "the product type must be the listing's"
    );
    assert_eq!(api.emu.control().quantity("S-3"), Some(7));
    let put = api.call("PUT", &format!("/listings/2021-08-01/items/{seller}/NEW-1"), &mp[..1], Some(&json!({"productType": "HOME",
        "attributes": {"fulfillment_availability": [{"fulfillment_channel_code": "DEFAULT", "quantity": 3}]}})));
    check(t, "put", &put);
    assert_eq!(api.emu.control().quantity("NEW-1"), Some(3));
    let del = api.call(
        "DELETE",
        &format!("/listings/2021-08-01/items/{seller}/NEW-1"),
        &mp[..1],
        None,
    );
    check(t, "delete", &del);
    assert_eq!(api.emu.control().quantity("NEW-1"), None);
    let missing = api.call(
        "GET",
        &format!("/listings/2021-08-01/items/{seller}/NOPE"),
        &mp,
        None,
    );
    assert_eq!(missing.status, 404);
    check(t, "get", &missing);
    let st = "/listings/2021-08-01/items/{sellerId}";
    let search = api.call(
        "GET",
        &format!("/listings/2021-08-01/items/{seller}"),
        &[
            ("marketplaceIds", "ATVPDKIKX0DER"),
            ("pageSize", "20"),
            ("sortBy", "sku"),
            ("sortOrder", "ASC"),
        ],
        None,
    );
    assert_eq!(search.status, 200);
    check(st, "get", &search);
    assert_eq!(search.body["numberOfResults"], 30);
    assert_eq!(search.body["items"].as_array().unwrap().len(), 20);
    let by_sku = api.call(
        "GET",
        &format!("/listings/2021-08-01/items/{seller}"),
        &[
            ("marketplaceIds", "ATVPDKIKX0DER"),
            ("identifiers", "S-1,S-2"),
            ("identifiersType", "SKU"),
        ],
        None,
    );
    assert_eq!(by_sku.body["numberOfResults"], 2);
    let bad = api.call(
        "GET",
        &format!("/listings/2021-08-01/items/{seller}"),
        &[("marketplaceIds", "ATVPDKIKX0DER"), ("pageSize", "50")],
        None,
    );
    assert_eq!(bad.status, 400);
    check(st, "get", &bad);
}

fn upload_feed(api: &Api, content_type: &str, data: Vec<u8>) -> String {
    let doc = api.upload(content_type, data);
    check("/feeds/2021-06-30/documents", "post", &doc);
    doc.body["feedDocumentId"].as_str().unwrap().to_string()
}

fn download(api: &Api, doc: &Value) -> Vec<u8> {
    let bytes = api
        .http
        .get(doc["url"].as_str().unwrap())
        .send()
        .unwrap()
        .bytes()
        .unwrap()
        .to_vec();
    if doc["compressionAlgorithm"] == "GZIP" {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out)
            .unwrap();
        out
    } else {
        bytes
    }
}

#[test]
fn a_listings_feed_round_trip_applies_good_messages_and_reports_bad_ones_in_the_official_shape() {
    let api = api();
    let seller = sellsync_emulator::Seller::demo().seller_id;
    let feed_doc = json!({"header": {"sellerId": seller, "version": "2.0", "issueLocale": "en_US"}, "messages": [
        {"messageId": 1, "sku": "S-1", "operationType": "PATCH", "productType": "HOME",
         "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability", "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 11}]}]},
        {"messageId": 2, "sku": "S-2", "operationType": "PATCH", "productType": "HOME",
         "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability", "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": -4}]}]},
        {"messageId": 3, "sku": "UNKNOWN", "operationType": "PATCH", "productType": "HOME",
         "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability", "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 1}]}]},
        {"messageId": 4, "sku": "S-4", "operationType": "FROB"}
    ]});
    let schema: Value =
        serde_json::from_str(include_str!("../spapi-models/listings-feed-schema-v2.json")).unwrap();
    let s2_before = api.emu.control().quantity("S-2");
    let id = upload_feed(
        &api,
        "application/json; charset=UTF-8",
        feed_doc.to_string().into_bytes(),
    );
    let created = api.call("POST", "/feeds/2021-06-30/feeds", &[], Some(&json!({"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": ["ATVPDKIKX0DER"], "inputFeedDocumentId": id})));
    assert_eq!(created.status, 202);
    check("/feeds/2021-06-30/feeds", "post", &created);
    let feed_path = format!(
        "/feeds/2021-06-30/feeds/{}",
        created.body["feedId"].as_str().unwrap()
    );
    let feed = api.wait_done(&feed_path);
    assert_eq!(feed["processingStatus"], "DONE");
    check(
        "/feeds/2021-06-30/feeds/{feedId}",
        "get",
        &api.call("GET", &feed_path, &[], None),
    );
    let doc_path = format!(
        "/feeds/2021-06-30/documents/{}",
        feed["resultFeedDocumentId"].as_str().unwrap()
    );
    let doc = api.call("GET", &doc_path, &[], None);
    check("/feeds/2021-06-30/documents/{feedDocumentId}", "get", &doc);
    let report: Value = serde_json::from_slice(&download(&api, &doc.body)).unwrap();
    let report_schema: Value = serde_json::from_str(include_str!(
        "../spapi-models/listings-feed-processing-report-schema-v2.json"
    ))
    .unwrap();
    let compiled = JSONSchema::options().compile(&report_schema).unwrap();
    assert!(
        compiled.is_valid(&report),
        "processing report does not match the official schema: {report}"
    );
    assert_eq!(report["summary"]["messagesAccepted"], 1);
    assert_eq!(report["summary"]["messagesInvalid"], 3);
    assert_eq!(api.emu.control().quantity("S-1"), Some(11));
    assert_eq!(
        api.emu.control().quantity("S-2"),
        s2_before,
        "a rejected message changes nothing"
    );
    // The input was itself checked against the official feed schema (message 4 is invalid there too).
    assert!(!JSONSchema::options()
        .compile(&schema)
        .unwrap()
        .is_valid(&feed_doc));
    let list = api.call(
        "GET",
        "/feeds/2021-06-30/feeds",
        &[("feedTypes", "JSON_LISTINGS_FEED")],
        None,
    );
    check("/feeds/2021-06-30/feeds", "get", &list);
    assert_eq!(list.body["feeds"].as_array().unwrap().len(), 1);
}

#[test]
fn retired_feed_types_end_fatal_and_order_feeds_cancel_and_refund() {
    let api = api();
    let c = api.emu.control();
    let id = upload_feed(&api, "text/xml", b"<AmazonEnvelope/>".to_vec());
    let f = api.call("POST", "/feeds/2021-06-30/feeds", &[], Some(&json!({"feedType": "POST_INVENTORY_AVAILABILITY_DATA", "marketplaceIds": ["ATVPDKIKX0DER"], "inputFeedDocumentId": id})));
    assert_eq!(f.status, 202);
    let feed = api.wait_done(&format!(
        "/feeds/2021-06-30/feeds/{}",
        f.body["feedId"].as_str().unwrap()
    ));
    assert_eq!(feed["processingStatus"], "FATAL");
    let unknown = api.call("POST", "/feeds/2021-06-30/feeds", &[], Some(&json!({"feedType": "NOT_A_FEED", "marketplaceIds": ["ATVPDKIKX0DER"], "inputFeedDocumentId": id})));
    assert_eq!(unknown.status, 400);
    check("/feeds/2021-06-30/feeds", "post", &unknown);
    let orders = c
        .place_orders(&OrderSeed {
            count: Some(2),
            age_seconds: 900,
            ..Default::default()
        })
        .unwrap();
    let item = c.order(&orders[1]).unwrap().items[0].order_item_id.clone();
    let tsv = format!(
        "order-id\tamazon-order-item-code\tcancellation-reason-code\n{}\t\tNoInventory\n",
        orders[0]
    );
    let id = upload_feed(
        &api,
        "text/tab-separated-values; charset=UTF-8",
        tsv.into_bytes(),
    );
    let f = api.call("POST", "/feeds/2021-06-30/feeds", &[], Some(&json!({"feedType": "POST_FLAT_FILE_ORDER_ACKNOWLEDGEMENT_DATA", "marketplaceIds": ["ATVPDKIKX0DER"], "inputFeedDocumentId": id})));
    assert_eq!(
        api.wait_done(&format!(
            "/feeds/2021-06-30/feeds/{}",
            f.body["feedId"].as_str().unwrap()
        ))["processingStatus"],
        "DONE"
    );
    assert_eq!(
        c.order(&orders[0]).unwrap().status,
        sellsync_emulator::Status::Canceled
    );
    assert_eq!(
        c.order(&orders[0]).unwrap().canceled_by,
        Some(sellsync_emulator::CanceledBy::Seller)
    );
    let tsv = format!("order-id\torder-item-id\tadjustment-reason-code\tcurrency\titem-price-adj\n{}\t{item}\tCustomerReturn\tUSD\t9.99\n", orders[1]);
    let id = upload_feed(
        &api,
        "text/tab-separated-values; charset=UTF-8",
        tsv.into_bytes(),
    );
    let f = api.call("POST", "/feeds/2021-06-30/feeds", &[], Some(&json!({"feedType": "POST_FLAT_FILE_PAYMENT_ADJUSTMENT_DATA", "marketplaceIds": ["ATVPDKIKX0DER"], "inputFeedDocumentId": id})));
    api.wait_done(&format!(
        "/feeds/2021-06-30/feeds/{}",
        f.body["feedId"].as_str().unwrap()
    ));
    assert_eq!(c.state()["refunds"][0]["order_id"], orders[1].as_str());
}

#[test]
fn reports_deliver_the_documented_tab_separated_columns() {
    let api = api();
    for (kind, first_col, rows) in [
        ("GET_MERCHANT_LISTINGS_ALL_DATA", "item-name", 30),
        (
            "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
            "amazon-order-id",
            17,
        ),
    ] {
        let r = api.call(
            "POST",
            "/reports/2021-06-30/reports",
            &[],
            Some(&json!({"reportType": kind, "marketplaceIds": ["ATVPDKIKX0DER"]})),
        );
        assert_eq!(r.status, 202);
        check("/reports/2021-06-30/reports", "post", &r);
        let path = format!(
            "/reports/2021-06-30/reports/{}",
            r.body["reportId"].as_str().unwrap()
        );
        let report = api.wait_done(&path);
        check(
            "/reports/2021-06-30/reports/{reportId}",
            "get",
            &api.call("GET", &path, &[], None),
        );
        let doc = api.call(
            "GET",
            &format!(
                "/reports/2021-06-30/documents/{}",
                report["reportDocumentId"].as_str().unwrap()
            ),
            &[],
            None,
        );
        check(
            "/reports/2021-06-30/documents/{reportDocumentId}",
            "get",
            &doc,
        );
        let text = String::from_utf8(download(&api, &doc.body)).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
        assert_eq!(header[0], first_col);
        let body: Vec<&str> = lines.collect();
        assert_eq!(body.len(), rows, "{kind}");
        assert!(body.iter().all(|l| l.split('\t').count() == header.len()));
    }
    let bad = api.call(
        "POST",
        "/reports/2021-06-30/reports",
        &[],
        Some(&json!({"reportType": "NOPE", "marketplaceIds": ["ATVPDKIKX0DER"]})),
    );
    assert_eq!(bad.status, 400);
    check("/reports/2021-06-30/reports", "post", &bad);
}

#[test]
fn auth_errors_and_throttling_use_amazons_shapes() {
    let api = Api::start(Config {
        token_lifetime_s: 60,
        ..Config::default()
    });
    let wrong = api.lwa("Atzr|emulator-refresh-token", "not-the-secret");
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body["error"], "invalid_client");
    let bad_grant = api.lwa(
        "Atzr|revoked",
        &sellsync_emulator::Seller::demo().client_secret,
    );
    assert_eq!(bad_grant.status, 400);
    assert_eq!(bad_grant.body["error"], "invalid_grant");
    let q = [("lastUpdatedAfter", "2020-01-01T00:00:00Z")];
    for token in ["", "Atza|forged"] {
        let a = api.call_with("GET", SO, &q, None, token);
        assert_eq!(a.status, 403);
        check(SO, "get", &a);
        assert_eq!(
            a.body["errors"][0]["message"],
            "Access to requested resource is denied."
        );
        assert!(a.headers.get("x-amzn-RateLimit-Limit").is_none());
    }
    // Tokens expire on the emulator's clock.
    api.emu.control().advance(chrono::Duration::seconds(61));
    let expired = api.call("GET", SO, &q, None);
    assert_eq!(expired.status, 403);
    assert!(expired.body["errors"][0]["details"]
        .as_str()
        .unwrap()
        .contains("expired"));
    // searchOrders: burst 20 at Amazon's real rate, then 429 QuotaExceeded.
    let fresh = api.lwa(
        "Atzr|emulator-refresh-token",
        &sellsync_emulator::Seller::demo().client_secret,
    );
    let token = fresh.body["access_token"].as_str().unwrap();
    for i in 0..20 {
        assert_eq!(
            api.call_with("GET", SO, &q, None, token).status,
            200,
            "call {i} within the burst"
        );
    }
    let throttled = api.call_with("GET", SO, &q, None, token);
    assert_eq!(throttled.status, 429);
    check(SO, "get", &throttled);
    assert_eq!(
        throttled.body,
        json!({"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.", "details": ""}]})
    );
    assert_eq!(api.emu.control().count("searchOrders", 429), 1);
}

#[test]
fn bad_requests_get_amazons_400_404_413_415_and_never_crash_the_emulator() {
    let api = api();
    let unknown = api.call("GET", "/orders/v9/everything", &[], None);
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["errors"][0]["code"], "NotFound");
    let big = json!({"contentType": "x".repeat(2 << 20)});
    let too_big = api.call("POST", "/feeds/2021-06-30/documents", &[], Some(&big));
    assert_eq!(too_big.status, 413);
    let wrong_type = api
        .http
        .post(format!("{}/feeds/2021-06-30/feeds", api.emu.url()))
        .header("x-amz-access-token", &api.token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(wrong_type.status().as_u16(), 415);
    check(
        "/feeds/2021-06-30/feeds",
        "post",
        &Answer {
            status: 415,
            headers: wrong_type.headers().clone(),
            body: serde_json::from_slice(&wrong_type.bytes().unwrap()).unwrap(),
            raw: vec![1],
        },
    );
    for body in ["{", "[]", "null", "{\"feedType\": 5}", "\u{0}\u{1}"] {
        let a = api
            .http
            .post(format!("{}/feeds/2021-06-30/feeds", api.emu.url()))
            .header("x-amz-access-token", &api.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .unwrap();
        assert_eq!(a.status().as_u16(), 400, "{body:?}");
    }
    let garbage = api
        .http
        .post(format!(
            "{}/orders/v0/orders/x/shipmentConfirmation",
            api.emu.url()
        ))
        .header("x-amz-access-token", &api.token)
        .header("content-type", "application/json")
        .body(vec![0xff, 0xfe, 0x00])
        .send()
        .unwrap();
    assert_eq!(garbage.status().as_u16(), 400);
    // Still serving.
    assert_eq!(
        api.call("GET", "/sellers/v1/marketplaceParticipations", &[], None)
            .status,
        200
    );
}

#[test]
fn notifications_api_answers_match_the_model() {
    let api = Api::fast();
    let g = api.grantless("sellingpartnerapi::notifications");
    let (_, arn) = api.emu.control().create_queue("fidelity").unwrap();
    let dests = "/notifications/v1/destinations";
    let dest = "/notifications/v1/destinations/{destinationId}";
    let spec = |arn: &str| json!({"name": "q", "resourceSpecification": {"sqs": {"arn": arn}}});
    let missing = "arn:aws:sqs:us-east-1:000000000000:missing";
    let bad = api.call_with("POST", dests, &[], Some(&spec(missing)), &g);
    assert_eq!(bad.status, 400);
    check(dests, "post", &bad);
    let refused = api.call("POST", dests, &[], Some(&spec(&arn)));
    assert_eq!(refused.status, 403);
    check(dests, "post", &refused);
    let created = api.call_with("POST", dests, &[], Some(&spec(&arn)), &g);
    assert_eq!(created.status, 200);
    check(dests, "post", &created);
    let conflict = api.call_with("POST", dests, &[], Some(&spec(&arn)), &g);
    assert_eq!(conflict.status, 409);
    check(dests, "post", &conflict);
    check(dests, "get", &api.call_with("GET", dests, &[], None, &g));
    let id = created.body["payload"]["destinationId"].as_str().unwrap();
    check(
        dest,
        "get",
        &api.call_with("GET", &format!("{dests}/{id}"), &[], None, &g),
    );
    let none = api.call_with("GET", &format!("{dests}/nope"), &[], None, &g);
    assert_eq!(none.status, 404);
    check(dest, "get", &none);

    let subs = "/notifications/v1/subscriptions/{notificationType}";
    let by_id = "/notifications/v1/subscriptions/{notificationType}/{subscriptionId}";
    let path = "/notifications/v1/subscriptions/ORDER_CHANGE";
    let absent = api.call("GET", path, &[], None);
    assert_eq!(absent.status, 404);
    check(subs, "get", &absent);
    let body = json!({"payloadVersion": "1.0", "destinationId": id, "processingDirective":
        {"eventFilter": {"eventFilterType": "ORDER_CHANGE", "orderChangeTypes": ["OrderStatusChange"]}}});
    let sub = api.call("POST", path, &[], Some(&body));
    assert_eq!(sub.status, 200);
    check(subs, "post", &sub);
    let again = api.call("POST", path, &[], Some(&body));
    assert_eq!(again.status, 409);
    check(subs, "post", &again);
    check(subs, "get", &api.call("GET", path, &[], None));
    check(
        "/notifications/v1/subscriptions",
        "get",
        &api.call("GET", "/notifications/v1/subscriptions", &[], None),
    );
    let sid = sub.body["payload"]["subscriptionId"].as_str().unwrap();
    check(
        by_id,
        "get",
        &api.call_with("GET", &format!("{path}/{sid}"), &[], None, &g),
    );
    let deleted = api.call_with("DELETE", &format!("{path}/{sid}"), &[], None, &g);
    assert_eq!(deleted.status, 200);
    check(by_id, "delete", &deleted);
    let gone = api.call_with("DELETE", &format!("{dests}/{id}"), &[], None, &g);
    assert_eq!(gone.status, 200);
    check(dest, "delete", &gone);
}
