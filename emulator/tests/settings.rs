//! Feed processing and order pending times, set by the library's Config and changed through
//! `/_emulator/settings` while the emulator runs.

mod common;

use common::Api;
use sellsync_emulator::{Config, Settings};
use serde_json::json;

fn create_feed(api: &Api) -> String {
    let seller = sellsync_emulator::Seller::demo().seller_id;
    let feed = json!({"header": {"sellerId": seller, "version": "2.0"}, "messages": [
        {"messageId": 1, "sku": "MUG", "operationType": "PATCH", "productType": "PRODUCT",
         "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                      "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 3}]}]}]});
    let doc = api.upload("application/json", feed.to_string().into_bytes());
    let created = api.call(
        "POST",
        "/feeds/2021-06-30/feeds",
        &[],
        Some(
            &json!({"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": ["ATVPDKIKX0DER"],
                     "inputFeedDocumentId": doc.body["feedDocumentId"]}),
        ),
    );
    assert_eq!(created.status, 202);
    format!(
        "/feeds/2021-06-30/feeds/{}",
        created.body["feedId"].as_str().unwrap()
    )
}

#[test]
fn feed_processing_time_is_settable_while_running() {
    let api = Api::fast();
    assert_eq!(
        api.control("GET", "settings", None),
        json!({"feed_processing_seconds": 90.0, "pending_seconds": 60.0,
               "notification_delay_seconds": 2.0, "notification_lose_rate": 0.0,
               "notification_duplicate_rate": 0.0, "notification_reorder_rate": 0.0,
               "notification_delay_rate": 0.0, "notification_extra_delay_seconds": 300.0,
               "feed_stall_seconds": 0.0, "listing_apply_min_seconds": 0.0,
               "listing_apply_max_seconds": 0.0, "order_search_lag_min_seconds": 0.0,
               "order_search_lag_max_seconds": 0.0, "order_search_late_rate": 0.0,
               "order_search_late_max_seconds": 10_800.0}),
        "defaults"
    );
    api.control(
        "POST",
        "listings",
        Some(json!({"listings": [{"sku": "MUG", "quantity": 9}]})),
    );
    // A feed that takes (1,000,000 / 1000 scale) 1000 seconds is still queued when looked at.
    let set = api.control(
        "POST",
        "settings",
        Some(json!({"feed_processing_seconds": 1_000_000})),
    );
    assert_eq!(set["feed_processing_seconds"], 1_000_000.0);
    assert_eq!(set["pending_seconds"], 60.0, "absent fields stay");
    let slow = create_feed(&api);
    assert_eq!(
        api.call("GET", &slow, &[], None).body["processingStatus"],
        "IN_QUEUE"
    );
    // One that takes no time is done at the next call (once the slow one, which a feed of its
    // type would wait for, is cancelled).
    assert_eq!(api.call("DELETE", &slow, &[], None).status, 200);
    api.control(
        "POST",
        "settings",
        Some(json!({"feed_processing_seconds": 0})),
    );
    let fast = create_feed(&api);
    assert_eq!(
        api.call("GET", &fast, &[], None).body["processingStatus"],
        "DONE"
    );
    assert_eq!(api.emu.control().quantity("MUG"), Some(3));
    for bad in [
        json!({"pending_seconds": -1}),
        json!({"feed_processing_seconds": "fast"}),
        json!({"pending_second": 5}),
        json!({"order_search_late_rate": 2}),
        json!({"order_search_lag_min_seconds": 60}),
    ] {
        let a = api.control_answer("POST", "settings", Some(bad.clone()));
        assert_eq!(a.status, 400, "{bad}");
    }
    assert_eq!(
        api.emu.control().settings().feed_processing_seconds,
        0.0,
        "refused changes change nothing"
    );
}

#[test]
fn orders_stay_pending_for_the_configured_time() {
    let api = Api::start(Config {
        rate_scale: 1000.0,
        settings: Settings {
            pending_seconds: 600.0,
            ..Settings::default()
        },
        ..Config::default()
    });
    assert_eq!(
        api.control("GET", "settings", None)["pending_seconds"],
        600.0
    );
    api.control(
        "POST",
        "listings",
        Some(json!({"listings": [{"sku": "MUG", "quantity": 9}]})),
    );
    let status = |id: &str| api.control("GET", &format!("orders/{id}"), None)["status"].clone();
    let place = || {
        api.control(
            "POST",
            "orders",
            Some(json!({"lines": [["MUG", 1]], "pending": true})),
        )["order_ids"][0]
            .as_str()
            .unwrap()
            .to_string()
    };
    let configured = place();
    api.control("POST", "settings", Some(json!({"pending_seconds": 1800})));
    let changed = place();
    let advance = |s: i64| {
        api.control("POST", "clock", Some(json!({"advance_seconds": s})));
    };
    advance(590);
    assert_eq!(status(&configured), "Pending");
    advance(20);
    assert_eq!(status(&configured), "Unshipped", "authorised after 600 s");
    assert_eq!(status(&changed), "Pending");
    advance(1200);
    assert_eq!(status(&changed), "Unshipped", "authorised after 1800 s");
}
