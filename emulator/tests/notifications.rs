//! Notifications API v1, the SQS-compatible queues and the notifications published into them:
//! grantless set-up, conflicts, rate limits, ORDER_CHANGE and LISTINGS_ITEM_MFN_QUANTITY_CHANGE
//! messages valid against the official schemas, each publishing fault, the SQS down switch,
//! and an SQS client nobody here wrote (boto3) against the queues.

mod common;

use common::{Answer, Api};
use jsonschema::{Draft, JSONSchema};
use sellsync_emulator::settings::SettingsChange;
use sellsync_emulator::{CanceledBy, Config, ListingSeed, OrderSeed, Seller};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const DESTINATIONS: &str = "/notifications/v1/destinations";

/// A grantless access token of the demo application.
fn grantless(api: &Api) -> String {
    api.grantless("sellingpartnerapi::notifications")
}

/// One SQS JSON call; its status, body and `x-amzn-query-error` header.
fn sqs(api: &Api, action: &str, body: Value) -> (u16, Value, String) {
    let url = api.emu.url();
    let body = body.to_string();
    let headers = vec![
        (
            "host".to_string(),
            url.trim_start_matches("http://").to_string(),
        ),
        ("x-amz-target".to_string(), format!("AmazonSQS.{action}")),
        (
            "content-type".to_string(),
            "application/x-amz-json-1.0".to_string(),
        ),
    ];
    let signature = sellsync_sigv4::sign(
        &sellsync_sigv4::Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: body.as_bytes(),
        },
        &sellsync_sigv4::Credentials {
            access_key_id: "AKIAEMULATOR00000000".into(),
            secret_access_key: "emulator/aws/secret/key/0000000000000000".into(),
            session_token: None,
        },
        "us-east-1",
        "sqs",
        chrono::Utc::now(),
    );
    let mut request = api.http.post(format!("{url}/"));
    for (name, value) in headers.iter().skip(1).chain(&signature) {
        request = request.header(name.as_str(), value.as_str());
    }
    let r = request.body(body).send().unwrap();
    let status = r.status().as_u16();
    let err = r
        .headers()
        .get("x-amzn-query-error")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, r.json().unwrap_or(Value::Null), err)
}

/// Every message now in the queue at `url`, received (and deleted) in order.
fn drain(api: &Api, url: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let (s, v, _) = sqs(
            api,
            "ReceiveMessage",
            json!({"QueueUrl": url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 0}),
        );
        assert_eq!(s, 200, "{v}");
        let Some(msgs) = v["Messages"].as_array().filter(|m| !m.is_empty()) else {
            return out;
        };
        for m in msgs {
            out.push(serde_json::from_str(m["Body"].as_str().unwrap()).unwrap());
            let h = m["ReceiptHandle"].clone();
            let (s, _, _) = sqs(
                api,
                "DeleteMessage",
                json!({"QueueUrl": url, "ReceiptHandle": h}),
            );
            assert_eq!(s, 200);
        }
    }
}

/// A queue, a destination for it and subscriptions to `types`; the queue's URL.
fn subscribe(api: &Api, types: &[(&str, Option<Value>)]) -> String {
    let (url, arn) = api.emu.control().create_queue("notes").unwrap();
    let g = grantless(api);
    let d = api.call_with(
        "POST",
        DESTINATIONS,
        &[],
        Some(&json!({"name": "q", "resourceSpecification": {"sqs": {"arn": arn}}})),
        &g,
    );
    assert_eq!(d.status, 200, "{}", d.body);
    let id = d.body["payload"]["destinationId"].as_str().unwrap();
    for (t, directive) in types {
        let mut body = json!({"payloadVersion": "1.0", "destinationId": id});
        if let Some(p) = directive {
            body["processingDirective"] = p.clone();
        }
        let a = api.call(
            "POST",
            &format!("/notifications/v1/subscriptions/{t}"),
            &[],
            Some(&body),
        );
        assert_eq!(a.status, 200, "{}", a.body);
    }
    url
}

fn set(api: &Api, change: SettingsChange) {
    api.emu.control().set_settings(change).unwrap();
}

fn no_delay() -> SettingsChange {
    SettingsChange {
        notification_delay_seconds: Some(0.0),
        ..Default::default()
    }
}

/// Waits (bounded) until the control API has published `n` notifications.
fn published(api: &Api, n: usize) -> Vec<sellsync_emulator::notify::Published> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let p = api.emu.control().notifications();
        if p.len() >= n || Instant::now() > deadline {
            return p;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn schema(text: &str) -> JSONSchema {
    let v: Value = serde_json::from_str(text).unwrap();
    JSONSchema::options()
        .with_draft(Draft::Draft7)
        .should_validate_formats(true)
        .compile(&v)
        .unwrap()
}

fn assert_valid(message: &Value) {
    let s = match message["NotificationType"].as_str() {
        Some("ORDER_CHANGE") => {
            schema(include_str!("../spapi-models/OrderChangeNotification.json"))
        }
        Some("LISTINGS_ITEM_MFN_QUANTITY_CHANGE") => schema(include_str!(
            "../spapi-models/ListingsItemMfnQuantityChange.json"
        )),
        other => panic!("unexpected type {other:?}"),
    };
    let errors: Vec<String> = match s.validate(message) {
        Ok(()) => return,
        Err(errors) => errors
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect(),
    };
    panic!("{message} does not match its schema: {errors:?}");
}

fn err_code(a: &Answer) -> &str {
    a.body["errors"][0]["code"].as_str().unwrap_or("")
}

#[test]
fn destinations_need_a_grantless_token_subscriptions_a_sellers_and_repeats_conflict() {
    let api = Api::fast();
    let spec = |arn: &str| json!({"name": "q", "resourceSpecification": {"sqs": {"arn": arn}}});
    let seller_try = api.call(
        "POST",
        DESTINATIONS,
        &[],
        Some(&spec("arn:aws:sqs:us-east-1:000000000000:n")),
    );
    assert_eq!(
        (seller_try.status, err_code(&seller_try)),
        (403, "Unauthorized")
    );
    let g = grantless(&api);
    let missing = api.call_with(
        "POST",
        DESTINATIONS,
        &[],
        Some(&spec("arn:aws:sqs:us-east-1:000000000000:n")),
        &g,
    );
    assert_eq!(missing.status, 400);
    assert!(missing.body["errors"][0]["details"]
        .as_str()
        .unwrap()
        .contains("queue"));
    let (_, arn) = api.emu.control().create_queue("n").unwrap();
    let d = api.call_with("POST", DESTINATIONS, &[], Some(&spec(&arn)), &g);
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(d.body["payload"]["resource"]["sqs"]["arn"], arn.as_str());
    let again = api.call_with("POST", DESTINATIONS, &[], Some(&spec(&arn)), &g);
    assert_eq!((again.status, err_code(&again)), (409, "Conflict"));
    let id = d.body["payload"]["destinationId"]
        .as_str()
        .unwrap()
        .to_string();
    let listed = api.call_with("GET", DESTINATIONS, &[], None, &g);
    assert_eq!(listed.body["payload"].as_array().unwrap().len(), 1);

    let sub_path = "/notifications/v1/subscriptions/ORDER_CHANGE";
    assert_eq!(api.call("GET", sub_path, &[], None).status, 404);
    let body = json!({"payloadVersion": "1.0", "destinationId": id,
        "processingDirective": {"eventFilter": {"eventFilterType": "ORDER_CHANGE", "marketplaceIds": ["ATVPDKIKX0DER"]}}});
    let grantless_try = api.call_with("POST", sub_path, &[], Some(&body), &g);
    assert_eq!(
        grantless_try.status, 403,
        "a grantless token is refused for seller operations"
    );
    let s = api.call("POST", sub_path, &[], Some(&body));
    assert_eq!(s.status, 200, "{}", s.body);
    let sub_id = s.body["payload"]["subscriptionId"]
        .as_str()
        .unwrap()
        .to_string();
    let repeat = api.call("POST", sub_path, &[], Some(&body));
    assert_eq!((repeat.status, err_code(&repeat)), (409, "Conflict"));
    let got = api.call("GET", sub_path, &[], None);
    assert_eq!(got.body["payload"]["subscriptionId"], sub_id.as_str());
    assert_eq!(
        got.body["payload"]["processingDirective"],
        body["processingDirective"]
    );
    let in_use = api.call_with("DELETE", &format!("{DESTINATIONS}/{id}"), &[], None, &g);
    assert_eq!(in_use.status, 403, "a destination with subscriptions stays");
    let by_id = format!("{sub_path}/{sub_id}");
    assert_eq!(
        api.call("GET", &by_id, &[], None).status,
        403,
        "by id is grantless"
    );
    assert_eq!(api.call_with("GET", &by_id, &[], None, &g).status, 200);
    assert_eq!(api.call_with("DELETE", &by_id, &[], None, &g).status, 200);
    assert_eq!(api.call_with("GET", &by_id, &[], None, &g).status, 404);
    assert_eq!(api.call("GET", sub_path, &[], None).status, 404);
    assert_eq!(
        api.call_with("DELETE", &format!("{DESTINATIONS}/{id}"), &[], None, &g)
            .status,
        200
    );
    assert_eq!(
        api.call_with("GET", &format!("{DESTINATIONS}/{id}"), &[], None, &g)
            .status,
        404
    );
}

#[test]
fn the_notifications_api_allows_a_burst_of_5_then_throttles() {
    let api = Api::start(Config::default());
    let g = grantless(&api);
    let statuses: Vec<u16> = (0..7)
        .map(|_| api.call_with("GET", DESTINATIONS, &[], None, &g).status)
        .collect();
    assert_eq!(&statuses[..5], &[200; 5]);
    assert_eq!(statuses[6], 429);
    let a = api.call_with("GET", DESTINATIONS, &[], None, &g);
    assert_eq!(a.status, 429);
    let subs: Vec<u16> = (0..7)
        .map(|_| {
            api.call(
                "GET",
                "/notifications/v1/subscriptions/ORDER_CHANGE",
                &[],
                None,
            )
            .status
        })
        .collect();
    assert_eq!(&subs[..5], &[404; 5]);
    assert_eq!(subs[6], 429);
}

#[test]
fn order_and_quantity_changes_are_published_valid_against_their_schemas() {
    let api = Api::fast();
    set(&api, no_delay());
    let url = subscribe(
        &api,
        &[
            ("ORDER_CHANGE", None),
            ("LISTINGS_ITEM_MFN_QUANTITY_CHANGE", None),
        ],
    );
    let c = api.emu.control();
    c.seed_listings(
        None,
        &[
            ListingSeed::new("MUG", 10, false),
            ListingSeed::new("FBA-1", 10, true),
        ],
    )
    .unwrap();
    let lines = |sku: &str| vec![(sku.to_string(), 2)];
    let a = c
        .place_orders(&OrderSeed {
            lines: lines("MUG"),
            pending_seconds: Some(60),
            ..Default::default()
        })
        .unwrap()[0]
        .clone();
    c.advance(chrono::Duration::seconds(61));
    assert!(c.buyer_cancel_request(&a, "changed my mind"));
    assert!(c.cancel(&a, CanceledBy::Seller, "buyer asked"));
    let b = c
        .place_orders(&OrderSeed {
            lines: lines("MUG"),
            ..Default::default()
        })
        .unwrap()[0]
        .clone();
    let item = c.order(&b).unwrap().items[0].order_item_id.clone();
    let ship = json!({"marketplaceId": "ATVPDKIKX0DER", "packageDetail": {"packageReferenceId": "1",
        "carrierCode": "UPS", "trackingNumber": "1Z", "shipDate": "2026-11-26T10:00:00Z",
        "orderItems": [{"orderItemId": item, "quantity": 2}]}});
    let shipped = api.call(
        "POST",
        &format!("/orders/v0/orders/{b}/shipmentConfirmation"),
        &[],
        Some(&ship),
    );
    assert_eq!(shipped.status, 204);
    let seller = Seller::demo().seller_id;
    let patch = json!({"productType": "PRODUCT", "patches": [{"op": "replace",
        "path": "/attributes/fulfillment_availability",
        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 42}]}]});
    let p = api.call(
        "PATCH",
        &format!("/listings/2021-08-01/items/{seller}/MUG"),
        &[("marketplaceIds", "ATVPDKIKX0DER")],
        Some(&patch),
    );
    assert_eq!(p.status, 200, "{}", p.body);
    c.place_orders(&OrderSeed {
        lines: lines("FBA-1"),
        fba: true,
        ..Default::default()
    })
    .unwrap();

    published(&api, 13);
    std::thread::sleep(Duration::from_millis(100));
    let msgs = drain(&api, &url);
    for m in &msgs {
        assert_valid(m);
        assert_eq!(
            m["NotificationMetadata"]["ApplicationId"],
            "amzn1.sp.solution.emulator"
        );
    }
    let ids: std::collections::HashSet<&str> = msgs
        .iter()
        .map(|m| {
            m["NotificationMetadata"]["NotificationId"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(ids.len(), msgs.len(), "every notification id is unique");
    let order_changes = |id: &str| -> Vec<(String, String)> {
        msgs.iter()
            .map(|m| &m["Payload"]["OrderChangeNotification"])
            .filter(|o| o["AmazonOrderId"] == id)
            .map(|o| {
                (
                    o["OrderChangeType"].as_str().unwrap().to_string(),
                    o["Summary"]["OrderStatus"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let pair = |t: &str, s: &str| (t.to_string(), s.to_string());
    assert_eq!(
        order_changes(&a),
        vec![
            pair("OrderStatusChange", "Pending"),
            pair("OrderStatusChange", "Unshipped"),
            pair("BuyerRequestedChange", "Unshipped"),
            pair("OrderStatusChange", "Canceled"),
        ]
    );
    assert_eq!(
        order_changes(&b),
        vec![
            pair("OrderStatusChange", "Pending"),
            pair("OrderStatusChange", "Unshipped"),
            pair("OrderStatusChange", "Shipped"),
        ]
    );
    let quantities: Vec<(String, i64)> = msgs
        .iter()
        .filter(|m| m["NotificationType"] == "LISTINGS_ITEM_MFN_QUANTITY_CHANGE")
        .map(|m| {
            (
                m["Payload"]["Sku"].as_str().unwrap().to_string(),
                m["Payload"]["Quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    let q = |n: i64| ("MUG".to_string(), n);
    assert_eq!(
        quantities,
        vec![q(10), q(8), q(6), q(42)],
        "seller-fulfilled quantities only"
    );
    assert_eq!(msgs.len(), 4 + 3 + 4 + 2, "the FBA order's two changes too");
}

#[test]
fn an_event_filter_keeps_other_marketplaces_and_change_types_out() {
    let api = Api::fast();
    set(&api, no_delay());
    let filter = json!({"eventFilter": {"eventFilterType": "ORDER_CHANGE",
        "marketplaceIds": ["A2EUQ1WTGCTBG2"], "orderChangeTypes": ["OrderStatusChange"]}});
    let url = subscribe(&api, &[("ORDER_CHANGE", Some(filter))]);
    let c = api.emu.control();
    c.seed_listings(None, &[ListingSeed::new("MUG", 10, false)])
        .unwrap();
    let line = vec![("MUG".to_string(), 1)];
    c.place_orders(&OrderSeed {
        lines: line.clone(),
        ..Default::default()
    })
    .unwrap();
    let ca = c
        .place_orders(&OrderSeed {
            lines: line,
            marketplace_id: Some("A2EUQ1WTGCTBG2".into()),
            pending_seconds: Some(0),
            ..Default::default()
        })
        .unwrap()[0]
        .clone();
    c.buyer_cancel_request(&ca, "no");
    std::thread::sleep(Duration::from_millis(150));
    let msgs = drain(&api, &url);
    assert_eq!(
        msgs.len(),
        2,
        "only the Canadian order's status changes: {msgs:?}"
    );
    assert!(msgs
        .iter()
        .all(|m| m["Payload"]["OrderChangeNotification"]["AmazonOrderId"] == ca.as_str()));
}

/// An emulator with a quantity subscription, no delay and `faults`; one quantity change made.
fn with_faults(faults: SettingsChange) -> (Api, String) {
    let api = Api::fast();
    set(&api, no_delay());
    let url = subscribe(&api, &[("LISTINGS_ITEM_MFN_QUANTITY_CHANGE", None)]);
    set(&api, faults);
    (api, url)
}

fn seed_mug(api: &Api, quantity: i64) {
    api.emu
        .control()
        .seed_listings(None, &[ListingSeed::new("MUG", quantity, false)])
        .unwrap();
}

#[test]
fn a_lost_notification_never_reaches_the_queue() {
    let (api, url) = with_faults(SettingsChange {
        notification_lose_rate: Some(1.0),
        ..Default::default()
    });
    seed_mug(&api, 5);
    let p = published(&api, 1);
    assert_eq!(p[0].faults, vec!["lost"]);
    std::thread::sleep(Duration::from_millis(100));
    assert!(drain(&api, &url).is_empty());
}

#[test]
fn a_duplicated_notification_arrives_twice_with_one_id() {
    let (api, url) = with_faults(SettingsChange {
        notification_duplicate_rate: Some(1.0),
        ..Default::default()
    });
    seed_mug(&api, 5);
    published(&api, 1);
    std::thread::sleep(Duration::from_millis(100));
    let msgs = drain(&api, &url);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0], msgs[1]);
}

#[test]
fn a_reordered_notification_arrives_after_the_next_one() {
    let (api, url) = with_faults(SettingsChange {
        notification_reorder_rate: Some(1.0),
        ..Default::default()
    });
    seed_mug(&api, 5);
    published(&api, 1);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        api.emu.control().queue_depth("notes").unwrap().visible,
        0,
        "held back"
    );
    set(
        &api,
        SettingsChange {
            notification_reorder_rate: Some(0.0),
            ..Default::default()
        },
    );
    seed_mug(&api, 7);
    published(&api, 2);
    std::thread::sleep(Duration::from_millis(100));
    let q: Vec<i64> = drain(&api, &url)
        .iter()
        .map(|m| m["Payload"]["Quantity"].as_i64().unwrap())
        .collect();
    assert_eq!(q, vec![7, 5]);
}

#[test]
fn a_delayed_notification_arrives_only_after_its_extra_delay() {
    let (api, url) = with_faults(SettingsChange {
        notification_delay_rate: Some(1.0),
        notification_extra_delay_seconds: Some(600.0),
        ..Default::default()
    });
    seed_mug(&api, 5);
    published(&api, 1);
    std::thread::sleep(Duration::from_millis(100));
    assert!(drain(&api, &url).is_empty());
    api.emu.control().advance(chrono::Duration::seconds(601));
    assert_eq!(api.emu.control().queue_depth("notes").unwrap().visible, 1);
    assert_eq!(drain(&api, &url)[0]["Payload"]["Quantity"], 5);
}

#[test]
fn notifications_wait_for_the_configured_emulated_delay() {
    let api = Api::fast();
    set(
        &api,
        SettingsChange {
            notification_delay_seconds: Some(120.0),
            ..Default::default()
        },
    );
    subscribe(&api, &[("LISTINGS_ITEM_MFN_QUANTITY_CHANGE", None)]);
    seed_mug(&api, 5);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(api.emu.control().queue_depth("notes").unwrap().visible, 0);
    api.emu.control().advance(chrono::Duration::seconds(121));
    assert_eq!(api.emu.control().queue_depth("notes").unwrap().visible, 1);
}

#[test]
fn sqs_can_be_taken_down_and_errors_have_the_aws_json_shape() {
    let api = Api::fast();
    let (url, _) = api.emu.control().create_queue("q").unwrap();
    let (s, v, e) = sqs(&api, "GetQueueUrl", json!({"QueueName": "nope"}));
    assert_eq!(
        (s, v["__type"].as_str().unwrap()),
        (400, "com.amazonaws.sqs#QueueDoesNotExist")
    );
    assert_eq!(e, "AWS.SimpleQueueService.NonExistentQueue;Sender");
    api.emu.control().set_queue_down(true);
    let (s, v, e) = sqs(
        &api,
        "GetQueueAttributes",
        json!({"QueueUrl": url, "AttributeNames": ["All"]}),
    );
    assert_eq!(
        (s, v["__type"].as_str().unwrap(), e.as_str()),
        (
            503,
            "com.amazonaws.sqs#ServiceUnavailable",
            "ServiceUnavailable;Receiver"
        )
    );
    api.emu.control().set_queue_down(false);
    let (s, v, _) = sqs(
        &api,
        "GetQueueAttributes",
        json!({"QueueUrl": url, "AttributeNames": ["All"]}),
    );
    assert_eq!(s, 200);
    assert_eq!(v["Attributes"]["ApproximateNumberOfMessages"], "0");
    let unsigned = api
        .http
        .post(api.emu.url())
        .header("x-amz-target", "AmazonSQS.ListQueues")
        .header("content-type", "application/x-amz-json-1.0")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 403);
}

#[test]
fn boto3_creates_sends_long_polls_redelivers_and_deletes() {
    let emu = sellsync_emulator::Emulator::start(Config::default()).unwrap();
    common::run_python("sqs_boto3.py", &[&emu.url()]);
}
