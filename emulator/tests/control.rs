//! The control API over HTTP: seeding, clock, buyers, faults, state and the call log.

mod common;

use common::Api;
use sellsync_emulator::Config;
use serde_json::json;

#[test]
fn seeding_orders_and_reading_state_over_http() {
    let api = Api::fast();
    api.control(
        "POST",
        "listings",
        Some(
            json!({"listings": [{"sku": "MUG-1", "quantity": 5}, {"sku": "FBA-1", "quantity": 9, "fba": true}]}),
        ),
    );
    let placed = api.control(
        "POST",
        "orders",
        Some(json!({"lines": [["MUG-1", 2]], "age_seconds": 600})),
    );
    let id = placed["order_ids"][0].as_str().unwrap().to_string();
    let order = api.control("GET", &format!("orders/{id}"), None);
    assert_eq!(
        order["items"][0]["shown_quantity"], 5,
        "the quantity Amazon showed when the order was placed"
    );
    assert_eq!(order["status"], "Unshipped");
    // Amazon shows less after the sale; ordering more than shown is refused.
    let state = api.control("GET", "state", None);
    let mug = state["listings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sku"] == "MUG-1")
        .unwrap()
        .clone();
    assert_eq!(mug["quantity"], 3);
    let too_many = api
        .http
        .post(format!("{}/_emulator/orders", api.emu.url()))
        .body(json!({"lines": [["MUG-1", 4]]}).to_string())
        .send()
        .unwrap();
    assert_eq!(too_many.status().as_u16(), 400);
    assert_eq!(
        api.control(
            "POST",
            &format!("orders/{id}/cancel-request"),
            Some(json!({"reason": "mistake"}))
        )["requested"],
        true
    );
    assert_eq!(
        api.control(
            "POST",
            &format!("orders/{id}/cancel"),
            Some(json!({"by": "seller", "reason": "NoInventory"}))
        )["cancelled"],
        true
    );
    // A buyer's A-to-z claim is an order defect; an unknown kind is refused.
    assert_eq!(
        api.control(
            "POST",
            &format!("orders/{id}/defect"),
            Some(json!({"kind": "claim"}))
        )["added"],
        true
    );
    let bad_kind = api
        .http
        .post(format!("{}/_emulator/orders/{id}/defect", api.emu.url()))
        .body(json!({"kind": "bad_mood"}).to_string())
        .send()
        .unwrap();
    assert_eq!(bad_kind.status().as_u16(), 400);
    assert_eq!(
        api.control("GET", &format!("orders/{id}"), None)["defects"][0]["kind"],
        "claim"
    );
    let state = api.control("GET", "state", None);
    assert_eq!(state["cancellations"][0]["by"], "seller");
    assert_eq!(state["orders"]["by_status"]["Canceled"], 1);
    // The clock moves only forward and only when told (or at the configured speed).
    let before = api.control("GET", "clock", None)["now"]
        .as_str()
        .unwrap()
        .to_string();
    let after = api.control("POST", "clock", Some(json!({"advance_seconds": 3600})))["now"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(after > before);
    let bad = api
        .http
        .post(format!("{}/_emulator/clock", api.emu.url()))
        .body("{\"set\": \"tomorrow\"}")
        .send()
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
}

#[test]
fn faults_apply_to_the_next_n_calls_and_the_log_shows_them() {
    let api = Api::fast();
    api.control(
        "POST",
        "faults",
        Some(
            json!({"operation": "getMarketplaceParticipations", "count": 2, "kind": "status", "status": 503}),
        ),
    );
    let pending = api.control("GET", "faults", None);
    assert_eq!(pending["faults"][0]["count"], 2);
    let path = "/sellers/v1/marketplaceParticipations";
    let codes: Vec<u16> = (0..3)
        .map(|_| api.call("GET", path, &[], None).status)
        .collect();
    assert_eq!(codes, vec![503, 503, 200]);
    let unavailable = api.call("GET", path, &[], None);
    assert_eq!(unavailable.status, 200);
    api.control(
        "POST",
        "faults",
        Some(json!({"operation": "lwaToken", "count": 1, "kind": "status", "status": 503})),
    );
    assert_eq!(
        api.lwa("Atzr|emulator-refresh-token", "emulator-client-secret")
            .status,
        503,
        "LWA down"
    );
    api.control(
        "POST",
        "faults",
        Some(json!({"operation": "*", "count": 5, "kind": "malformed"})),
    );
    api.control("DELETE", "faults", None);
    assert_eq!(
        api.call("GET", path, &[], None).status,
        200,
        "cleared faults do not fire"
    );
    let log = api.control("GET", "log?limit=3", None);
    assert_eq!(log["calls"].as_array().unwrap().len(), 3);
    assert_eq!(log["calls"][0]["operation"], "getMarketplaceParticipations");
    let stats = api.control("GET", "stats", None);
    let n503 = stats["calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["operation"] == "getMarketplaceParticipations" && c["status"] == 503)
        .unwrap()["count"]
        .clone();
    assert_eq!(n503, 2);
    let bad = api
        .http
        .post(format!("{}/_emulator/faults", api.emu.url()))
        .body("{\"operation\": \"x\"}")
        .send()
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let unknown = api
        .http
        .get(format!("{}/_emulator/nothing", api.emu.url()))
        .send()
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
}

#[test]
fn buyers_order_only_what_amazon_shows_and_stop_when_told() {
    // The emulated clock runs 600x faster, so an hour of buying takes six seconds.
    let api = Api::start(Config {
        rate_scale: 1000.0,
        clock_speed: 600.0,
        seed: 7,
        ..Config::default()
    });
    api.control(
        "POST",
        "listings",
        Some(json!({"listings": [{"sku": "A", "quantity": 4}, {"sku": "B", "quantity": 3}]})),
    );
    api.control(
        "POST",
        "buyers",
        Some(json!({"orders_per_hour": 36000, "max_units": 2})),
    );
    // Wait (bounded) until buyers have emptied the shelves as Amazon shows them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let state = api.control("GET", "state", None);
        let shown: i64 = state["listings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["quantity"].as_i64().unwrap())
            .sum();
        if shown == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "buyers did not buy everything shown"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let placed = api.control("DELETE", "buyers", None)["placed"]
        .as_u64()
        .unwrap();
    assert!((2..=7).contains(&placed), "{placed} orders for 7 units");
    // Every unit sold was shown at the time: nothing was oversold by Amazon itself.
    let orders = api
        .emu
        .control()
        .with_world(|w| w.orders.values().cloned().collect::<Vec<_>>());
    let units: i64 = orders
        .iter()
        .flat_map(|o| &o.items)
        .map(|i| i.quantity)
        .sum();
    assert_eq!(units, 7);
    assert!(orders
        .iter()
        .flat_map(|o| &o.items)
        .all(|i| i.quantity <= i.shown_quantity));
}

#[test]
fn a_rotated_client_secret_refuses_the_old_one_and_keeps_issued_tokens() {
    let api = Api::fast();
    let s = sellsync_emulator::Seller::demo();
    api.control(
        "POST",
        &format!("sellers/{}/client-secret", s.seller_id),
        Some(json!({"client_secret": "rotated-secret"})),
    );
    let old = api.lwa(&s.refresh_token, &s.client_secret);
    assert_eq!(old.status, 401, "{:?}", old.body);
    assert_eq!(old.body["error"], "invalid_client");
    let new = api.lwa(&s.refresh_token, "rotated-secret");
    assert_eq!(new.status, 200, "{:?}", new.body);
    // The token issued before the rotation still works until it expires.
    let still = api.call("GET", "/sellers/v1/marketplaceParticipations", &[], None);
    assert_eq!(still.status, 200, "{:?}", still.body);
    let unknown = api
        .http
        .post(format!(
            "{}/_emulator/sellers/NOBODY/client-secret",
            api.emu.url()
        ))
        .body(json!({"client_secret": "x"}).to_string())
        .send()
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
}
