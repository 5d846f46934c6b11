//! The client secret is rotated in place: when Login with Amazon refuses the old one, every
//! flow fails with status `AUTH` and a message that says to call `sellsync_set_credentials`,
//! every queue keeps its work, and after the new secret is set the work goes through. No
//! secret appears in a log line, an event or an error message.

mod common;

use common::*;
use sellsync::config::CredentialsUpdate;
use sellsync::engine::FLOW_ALL;
use sellsync::ffi::status::*;
use sellsync::ffi::*;
use sellsync::Engine;
use sellsync_emulator::{OrderSeed, Seller};
use std::ffi::{CStr, CString};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const NEW_SECRET: &str = "amzn1.oa2-cs.v1.rotated-secret-0001";

/// Every line the library logs at DEBUG and above.
fn capture_logs(engine: &Engine) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    engine
        .set_log_callback(
            4,
            Some(Box::new(move |_, line: &str| {
                sink.lock().unwrap().push(line.to_string())
            })),
        )
        .unwrap();
    lines
}

/// Fails if `text` holds a secret: a client secret, a refresh token or an access token.
fn assert_no_secret(text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!text.contains(s), "a secret leaked: {text}");
    }
    for prefix in ["Atza|", "Atzr|"] {
        assert!(!text.contains(prefix), "a token leaked: {text}");
    }
}

fn secrets() -> Vec<&'static str> {
    vec![
        "emulator-client-secret",
        "emulator-refresh-token",
        NEW_SECRET,
        "rotated-secret",
    ]
}

fn update(json: &str) -> CredentialsUpdate {
    CredentialsUpdate::from_json(json).expect("a valid credentials document")
}

/// A paid order of one unit of `sku`, ten minutes old.
fn order_of(emu: &sellsync_emulator::Emulator, sku: &str) -> String {
    emu.control()
        .place_orders(&OrderSeed {
            count: Some(1),
            lines: vec![(sku.into(), 1)],
            age_seconds: 600,
            ..OrderSeed::default()
        })
        .expect("order placed")
        .remove(0)
}

#[test]
fn a_refused_secret_holds_every_queue_until_the_new_one_is_set() {
    let emu = emulator(1000.0);
    seed_skus(&emu, &["MUG-1".into(), "ORDERED".into()], 10, false);
    let first = order_of(&emu, "ORDERED");
    let cancelled = order_of(&emu, "ORDERED");
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    let logs = capture_logs(&engine);
    engine.sku_map(&[one_to_one("MUG-1", "4711")]).unwrap();
    engine
        .stock_set(&[sellsync::model::StockLevel {
            host_item: "4711".into(),
            on_hand: 10,
        }])
        .unwrap();
    engine.sync_now(15, SYNC).unwrap();
    settle(&emu, &engine);
    let taken = drain(&engine);
    assert_eq!(taken.len(), 2);
    let first_doc = taken
        .iter()
        .find(|o| o["order_id"] == first.as_str())
        .unwrap();
    let item = first_doc["items"][0]["order_item_id"]
        .as_str()
        .unwrap()
        .to_string();
    events(&engine);

    // The developer rotates the secret at Amazon; the access token in hand expires.
    emu.control()
        .set_client_secret(None, NEW_SECRET)
        .expect("secret rotated");
    emu.control().advance(chrono::Duration::hours(2));

    // Work arrives on both sides while the library still has the old secret.
    let second = order_of(&emu, "ORDERED");
    engine
        .stock_set(&[sellsync::model::StockLevel {
            host_item: "4711".into(),
            on_hand: 7,
        }])
        .unwrap();
    engine.shipment_confirm(&package(&first, &item, 1)).unwrap();
    engine.order_cancel(&cancelled, "NoInventory").unwrap();

    let e = engine.sync_now(15, SYNC).unwrap_err();
    assert_eq!(sellsync::status_name(&e), "AUTH", "{e}");
    let message = e.to_string();
    assert!(
        message.contains("client secret") && message.contains("sellsync_set_credentials"),
        "the error says what to do: {message}"
    );
    assert_no_secret(&message, &secrets());
    // One event says what to do; no flow raises sync.failed for it.
    let got: Vec<_> = events(&engine)
        .into_iter()
        .inspect(|e| assert_no_secret(&e.to_string(), &secrets()))
        .collect();
    assert!(!got.iter().any(|e| e["type"] == "sync.failed"), "{got:?}");
    let told: Vec<_> = got.iter().filter(|e| e["type"] == "auth.revoked").collect();
    assert_eq!(told.len(), 1, "{got:?}");
    let m = told[0]["message"].as_str().unwrap();
    assert!(
        m.contains("client secret") && m.contains("sellsync_set_credentials"),
        "{m}"
    );
    let refusals = emu.control().count("lwaToken", 401);
    assert_eq!(refusals, 1, "the flows share one refused exchange");

    // Everything waits: nothing reached Amazon, nothing was given up.
    let queues = engine.core().store.queues().unwrap();
    assert_eq!(queues.shipments_queued, 1, "{queues:?}");
    assert_eq!(queues.shipments_failed, 0, "{queues:?}");
    assert_eq!(queues.skus_parked, 0, "{queues:?}");
    assert_eq!(queues.adjustments_queued, 1, "{queues:?}");
    assert_eq!(queues.adjustments_failed, 0, "{queues:?}");
    assert!(engine.core().store.stock_counts().unwrap().out_of_step > 0);
    assert_eq!(emu.control().count("confirmShipment", 204), 0);
    assert_eq!(emu.control().quantity("MUG-1"), Some(10));
    assert!(engine.order_next().unwrap().is_none());
    // Once more, within the cool-down: no exchange is tried, no event, still nothing lost.
    assert!(engine.sync_now(15, SYNC).is_err());
    assert_eq!(emu.control().count("lwaToken", 401), 1);
    assert!(events(&engine).is_empty());
    assert_eq!(engine.core().store.queues().unwrap().shipments_queued, 1);

    engine
        .set_credentials(&update(&format!(r#"{{"client_secret": "{NEW_SECRET}"}}"#)))
        .unwrap();
    engine.sync_now(15, SYNC).expect("the new secret works");
    settle(&emu, &engine);
    let taken = drain(&engine);
    assert_eq!(
        taken
            .iter()
            .map(|o| o["order_id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [second.as_str()],
        "the order placed meanwhile reaches the host"
    );
    assert_eq!(emu.control().count("confirmShipment", 204), 1);
    assert_eq!(emu.control().quantity("MUG-1"), Some(7));
    let queues = engine.core().store.queues().unwrap();
    assert_eq!(queues.shipments_queued + queues.shipments_failed, 0);
    assert_eq!(queues.adjustments_queued + queues.adjustments_failed, 0);
    assert!(emu.control().count("createFeed", 202) >= 1);
    for e in events(&engine) {
        assert_no_secret(&e.to_string(), &secrets());
    }
    drop(engine);
    let logs = logs.lock().unwrap();
    assert!(
        logs.iter().any(|l| l.contains("credentials replaced")),
        "the replacement is logged"
    );
    for line in logs.iter() {
        assert_no_secret(line, &secrets());
    }
}

#[test]
fn a_new_secret_keeps_the_access_token_and_a_new_refresh_token_drops_it() {
    let emu = emulator(1000.0);
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine.sync_now(1, SYNC).unwrap();
    let exchanges = || emu.control().count("lwaToken", 200);
    assert_eq!(exchanges(), 1);

    // Only the secret changes: the access token in hand is still Amazon's, and is used.
    emu.control().set_client_secret(None, NEW_SECRET).unwrap();
    engine
        .set_credentials(&update(&format!(r#"{{"client_secret": "{NEW_SECRET}"}}"#)))
        .unwrap();
    engine.sync_now(1, SYNC).unwrap();
    assert_eq!(exchanges(), 1, "no new token for a new secret alone");

    // The seller authorised again: the old token belongs to the old authorisation.
    emu.control().add_seller(Seller {
        client_secret: NEW_SECRET.into(),
        refresh_token: "Atzr|second-authorisation".into(),
        ..Seller::demo()
    });
    engine
        .set_credentials(&update(&format!(
            r#"{{"client_secret": "{NEW_SECRET}", "refresh_token": "Atzr|second-authorisation"}}"#
        )))
        .unwrap();
    engine.sync_now(1, SYNC).unwrap();
    assert_eq!(
        exchanges(),
        2,
        "a new refresh token gets a new access token"
    );
}

fn last_error() -> String {
    // SAFETY: the library's last error is a valid NUL-terminated string.
    unsafe { CStr::from_ptr(sellsync_last_error()) }
        .to_string_lossy()
        .into_owned()
}

#[test]
fn through_the_c_abi_bad_documents_are_refused_without_echo_and_a_good_one_unblocks_the_sync() {
    let emu = emulator(1000.0);
    // Rotated before the host ever started: it has the old secret.
    emu.control().set_client_secret(None, NEW_SECRET).unwrap();
    seed_listings(&emu, 2, 10);
    place_orders(&emu, 2, false, None);
    let dir = tempdir();
    let config = CString::new(config_json(&emu, &dir.path().join("s.sqlite"), "")).unwrap();
    let mut h = std::ptr::null_mut();
    // SAFETY: valid strings and out-pointer; the handle is used only while open below.
    unsafe {
        assert_eq!(sellsync_open(config.as_ptr(), &mut h), SELLSYNC_OK);
        assert_eq!(
            sellsync_sync_now(h, SELLSYNC_FLOW_ORDERS),
            SELLSYNC_ERR_AUTH
        );
        let m = last_error();
        assert!(m.contains("sellsync_set_credentials"), "{m}");
        assert_no_secret(&m, &secrets());

        assert_eq!(
            sellsync_set_credentials(h, std::ptr::null()),
            SELLSYNC_ERR_INVALID_ARGUMENT
        );
        for bad in [
            "not json Atzr|in-a-syntax-error",
            "{\"client_secret\": \"unterminated-secret",
            "[\"rotated-secret-in-an-array\"]",
            "{}",
            r#"{"refresh_token": "Atzr|without-a-secret"}"#,
            r#"{"client_secret": ""}"#,
            r#"{"client_secret": "rotated-secret-x", "refresh_token": ""}"#,
            r#"{"client_secret": "rotated-secret-x", "client_id": ""}"#,
            r#"{"client_secret": 42}"#,
            r#"{"client_secret": "rotated-secret-x", "Atzr|as-a-member-name": 1}"#,
            r#"{"client_secret": "rotated-secret-x", "refresh_token": ["Atzr|in-a-list"]}"#,
        ] {
            let doc = CString::new(bad).unwrap();
            assert_eq!(
                sellsync_set_credentials(h, doc.as_ptr()),
                SELLSYNC_ERR_INVALID_ARGUMENT,
                "{bad}"
            );
            let m = last_error();
            assert!(m.contains("credentials_json"), "{bad}: {m}");
            assert_no_secret(&m, &secrets());
            assert!(
                !m.contains("in-a-") && !m.contains("without-a-secret"),
                "{m}"
            );
        }
        // Nothing of that was taken.
        assert_eq!(
            sellsync_sync_now(h, SELLSYNC_FLOW_ORDERS),
            SELLSYNC_ERR_AUTH
        );

        let good = CString::new(format!(r#"{{"client_secret": "{NEW_SECRET}"}}"#)).unwrap();
        assert_eq!(
            sellsync_set_credentials(std::ptr::null_mut(), good.as_ptr()),
            SELLSYNC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(sellsync_set_credentials(h, good.as_ptr()), SELLSYNC_OK);
        assert_eq!(sellsync_sync_now(h, SELLSYNC_FLOW_ORDERS), SELLSYNC_OK);
        let mut orders = 0;
        loop {
            let mut doc = std::ptr::null_mut();
            assert_eq!(sellsync_order_next(h, &mut doc), SELLSYNC_OK);
            if doc.is_null() {
                break;
            }
            orders += 1;
            let v: serde_json::Value =
                serde_json::from_str(CStr::from_ptr(doc).to_str().unwrap()).unwrap();
            let id = CString::new(v["order_id"].as_str().unwrap()).unwrap();
            sellsync_string_free(doc);
            let host_ref = CString::new("POS-1").unwrap();
            assert_eq!(
                sellsync_order_ack(h, id.as_ptr(), host_ref.as_ptr()),
                SELLSYNC_OK
            );
        }
        assert_eq!(orders, 2);
        assert_eq!(sellsync_close(h), SELLSYNC_OK);
        assert_eq!(
            sellsync_set_credentials(h, good.as_ptr()),
            SELLSYNC_ERR_CLOSED
        );
    }
}

#[test]
fn a_revoked_authorisation_gives_one_event_pauses_every_call_and_resumes_with_new_credentials() {
    let emu = emulator(1000.0);
    seed_skus(&emu, &["MUG-1".into(), "ORDERED".into()], 10, false);
    let dir = tempdir();
    let engine = open(
        &emu,
        &dir,
        r#","intervals": {"orders_seconds": 0.05, "stock_seconds": 0.05}"#,
    );
    let logs = capture_logs(&engine);
    engine.sku_map(&[one_to_one("MUG-1", "4711")]).unwrap();
    engine.sync_now(1, SYNC).unwrap();
    events(&engine);

    // The seller revokes the application; work arrives meanwhile.
    emu.control().revoke_authorisation(None).unwrap();
    let placed = emu
        .control()
        .place_orders(&OrderSeed {
            lines: vec![("ORDERED".into(), 1)],
            ..OrderSeed::default()
        })
        .unwrap()
        .remove(0);
    emu.control().advance(chrono::Duration::minutes(5));
    engine
        .stock_set(&[sellsync::model::StockLevel {
            host_item: "4711".into(),
            on_hand: 7,
        }])
        .unwrap();
    engine.start().unwrap();
    let mut seen = Vec::new();
    wait_until("the auth.revoked event", Duration::from_secs(20), || {
        seen.extend(events(&engine));
        seen.iter().any(|e| e["type"] == "auth.revoked")
    });
    // The worker runs its flows many intervals over, and nothing goes to Login with Amazon.
    let privacy_runs = || {
        let logs = logs.lock().unwrap();
        logs.iter()
            .filter(|l| l.contains("privacy: nothing due"))
            .count()
    };
    let runs = privacy_runs();
    wait_until("ten more intervals", Duration::from_secs(20), || {
        privacy_runs() >= runs + 10
    });
    let e = engine.sync_now(FLOW_ALL, SYNC).unwrap_err();
    assert_eq!(sellsync::status_name(&e), "AUTH", "{e}");
    assert!(e.to_string().contains("sellsync_set_credentials"), "{e}");
    assert_eq!(
        emu.control().count("lwaToken", 400),
        1,
        "one refused exchange"
    );
    seen.extend(events(&engine));
    let revoked: Vec<_> = seen
        .iter()
        .filter(|e| e["type"] == "auth.revoked")
        .collect();
    assert_eq!(revoked.len(), 1, "{seen:?}");
    let m = revoked[0]["message"].as_str().unwrap();
    assert!(
        m.contains("invalid_grant") && m.contains("sellsync_set_credentials"),
        "{m}"
    );
    assert!(
        !seen.iter().any(|e| e["type"] == "sync.failed"),
        "no sync.failed while paused: {seen:?}"
    );
    assert_eq!(emu.control().quantity("MUG-1"), Some(10));

    // The seller authorises again: the new refresh token resumes every flow.
    let s = Seller::demo();
    emu.control().add_seller(Seller {
        refresh_token: "Atzr|after-revocation".into(),
        ..Seller::demo()
    });
    engine
        .set_credentials(&update(&format!(
            r#"{{"client_secret": "{}", "refresh_token": "Atzr|after-revocation"}}"#,
            s.client_secret
        )))
        .unwrap();
    wait_until(
        "the new quantity at Amazon",
        Duration::from_secs(20),
        || emu.control().quantity("MUG-1") == Some(7),
    );
    wait_until(
        "the order placed meanwhile",
        Duration::from_secs(20),
        || engine.core().store.order(&placed).unwrap().is_some(),
    );
    engine.stop().unwrap();
    assert_eq!(emu.control().count("lwaToken", 400), 1);
    for e in seen.iter().chain(&events(&engine)) {
        assert_no_secret(&e.to_string(), &secrets());
        assert!(!e.to_string().contains("after-revocation"), "{e}");
    }
    for line in logs.lock().unwrap().iter() {
        assert_no_secret(line, &secrets());
    }
}

#[test]
fn while_the_secret_is_refused_token_exchanges_wait_a_cool_down_that_grows() {
    let emu = emulator(1000.0);
    let dir = tempdir();
    let clock = Arc::new(sellsync::clock::ManualClock::new(chrono::Utc::now()));
    let json = config_json(&emu, &dir.path().join("store.sqlite"), "");
    let engine =
        Engine::open_with_clock(sellsync::Config::from_json(&json).unwrap(), clock.clone())
            .unwrap();
    emu.control()
        .set_client_secret(None, NEW_SECRET)
        .expect("secret rotated");
    let refusals_after_sync = || {
        assert!(engine.sync_now(1, SYNC).is_err());
        emu.control().count("lwaToken", 401)
    };
    assert_eq!(refusals_after_sync(), 1);
    // Waits of 1, 2 and 4 minutes: an exchange only once each is over.
    for (seconds, refusals) in [(59, 1), (2, 2), (119, 2), (2, 3), (239, 3), (2, 4)] {
        clock.advance(chrono::Duration::seconds(seconds));
        assert_eq!(refusals_after_sync(), refusals, "after {seconds} s more");
    }
    let got = events(&engine);
    assert_eq!(
        got.iter().filter(|e| e["type"] == "auth.revoked").count(),
        1,
        "one event for the whole refusal: {got:?}"
    );
    assert!(!got.iter().any(|e| e["type"] == "sync.failed"), "{got:?}");
    engine
        .set_credentials(&update(&format!(r#"{{"client_secret": "{NEW_SECRET}"}}"#)))
        .unwrap();
    engine
        .sync_now(1, SYNC)
        .expect("the new secret works at once");
}
