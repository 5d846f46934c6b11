//! Every configuration and query value has a documented range: a value outside it is a clear
//! error (`Config` for the configuration, `InvalidArgument` for a metrics query), never a panic
//! later in a background task or in date arithmetic.

mod common;

use common::*;
use sellsync::Error;

/// A configuration document with `extra` members added at the top level.
fn doc(extra: &str) -> String {
    format!(
        r#"{{"store_path": "s.sqlite", "seller_id": "S", "marketplace_ids": ["ATVPDKIKX0DER"],
            "credentials": {{"client_id": "c", "client_secret": "s", "refresh_token": "Atzr|r"}}{extra}}}"#
    )
}

fn config_error(extra: &str) -> String {
    match sellsync::Config::from_json(&doc(extra)) {
        Err(Error::Config(m)) => m,
        other => panic!("{extra}: expected a configuration error, got {other:?}"),
    }
}

#[test]
fn the_defaults_and_the_edges_of_every_range_are_accepted() {
    sellsync::Config::from_json(&doc("")).unwrap();
    sellsync::Config::from_json(&doc(
        r#","intervals": {"orders_seconds": 86400, "stock_seconds": 0.001, "listings_seconds": 604800,
                          "sync_timeout_seconds": 86400},
           "orders": {"initial_lookback_hours": 8760, "overlap_seconds": 0, "redelivery_seconds": 604800,
                      "reconcile_seconds": 0, "reconcile_lookback_hours": 168},
           "http": {"timeout_ms": 600000, "max_attempts": 100, "backoff_initial_ms": 0, "backoff_max_ms": 3600000},
           "stock": {"buffer": 1000000000, "allocation_percent": 0, "max_quantity": 0,
                     "urgent_threshold": 1000000000, "listings_feed_window_seconds": 86400,
                     "auto_buffer": {"window_seconds": 86400, "percentile": 0.5, "history_days": 365}}"#,
    ))
    .unwrap();
}

#[test]
fn a_huge_interval_is_a_configuration_error_naming_the_setting_and_its_range() {
    // 1e30 seconds made the background task panic in Duration::from_secs_f64.
    for key in [
        "orders_seconds",
        "stock_seconds",
        "listings_seconds",
        "sync_timeout_seconds",
    ] {
        let m = config_error(&format!(r#","intervals": {{"{key}": 1e30}}"#));
        assert!(m.contains(&format!("intervals.{key}")), "{m}");
        assert!(m.contains("0.001"), "the range is stated: {m}");
    }
    config_error(r#","intervals": {"orders_seconds": 0}"#);
    config_error(r#","intervals": {"stock_seconds": -5}"#);
    config_error(r#","intervals": {"listings_seconds": 604801}"#);
}

#[test]
fn negative_fractional_and_huge_whole_numbers_are_configuration_errors() {
    // Negative for a field read as unsigned (was a parse error), a fraction for a count, a
    // float too big for any integer, and a value just past the top of its range.
    let m = config_error(r#","orders": {"overlap_seconds": -1}"#);
    assert!(
        m.contains("orders.overlap_seconds") && m.contains("86400"),
        "{m}"
    );
    let m = config_error(r#","orders": {"reconcile_lookback_hours": 0}"#);
    assert!(
        m.contains("orders.reconcile_lookback_hours") && m.contains("168"),
        "{m}"
    );
    config_error(r#","orders": {"reconcile_seconds": 604801}"#);
    let m = config_error(r#","http": {"max_attempts": 2.5}"#);
    assert!(
        m.contains("http.max_attempts") && m.contains("whole"),
        "{m}"
    );
    let m = config_error(r#","http": {"timeout_ms": 1e30}"#);
    assert!(m.contains("http.timeout_ms"), "{m}");
    config_error(r#","http": {"timeout_ms": 0}"#);
    config_error(r#","http": {"backoff_max_ms": 3600001}"#);
    config_error(r#","orders": {"initial_lookback_hours": 100000}"#);
    config_error(r#","orders": {"initial_lookback_hours": 0}"#);
    config_error(r#","orders": {"redelivery_seconds": 18446744073709551615}"#);
    config_error(r#","stock": {"buffer": 1000000001}"#);
    config_error(r#","stock": {"allocation_percent": 101}"#);
    config_error(r#","stock": {"max_quantity": -1}"#);
    config_error(r#","stock": {"urgent_threshold": 1e12}"#);
    config_error(r#","stock": {"listings_feed_window_seconds": 0}"#);
    config_error(r#","stock": {"auto_buffer": {"percentile": 1.0}}"#);
    config_error(r#","stock": {"auto_buffer": {"history_days": 366}}"#);
    config_error(r#","stock": {"auto_buffer": {"window_seconds": 1e30}}"#);
}

#[test]
fn marketplace_ids_are_limited_checked_and_de_duplicated() {
    let c = sellsync::Config::from_json(&doc("").replace(
        r#"["ATVPDKIKX0DER"]"#,
        r#"["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "ATVPDKIKX0DER"]"#,
    ))
    .unwrap();
    assert_eq!(c.marketplace_ids, ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]);
    let many: Vec<String> = (0..51).map(|i| format!("\"M{i}\"")).collect();
    for ids in [
        format!("[{}]", many.join(",")),
        "[]".to_string(),
        r#"["ATVPDKIKX0DER,A2EUQ1WTGCTBG2"]"#.to_string(),
        r#"[""]"#.to_string(),
    ] {
        let text = doc("").replace(r#"["ATVPDKIKX0DER"]"#, &ids);
        match sellsync::Config::from_json(&text) {
            Err(Error::Config(m)) => assert!(m.contains("marketplace_ids"), "{m}"),
            other => panic!("{ids}: {other:?}"),
        }
    }
    // Fifty repeats of one id are one marketplace.
    let same = vec!["\"ATVPDKIKX0DER\""; 60].join(",");
    let c =
        sellsync::Config::from_json(&doc("").replace(r#"["ATVPDKIKX0DER"]"#, &format!("[{same}]")))
            .unwrap();
    assert_eq!(c.marketplace_ids.len(), 1);
}

#[test]
fn a_value_of_the_wrong_type_makes_the_document_invalid() {
    match sellsync::Config::from_json(&doc(r#","intervals": {"orders_seconds": "soon"}"#)) {
        Err(Error::InvalidArgument(m)) => {
            assert!(m.contains("orders_seconds") || m.contains("string"), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_configuration_changed_after_parsing_is_checked_again_when_opened() {
    let dir = tempdir();
    let store = dir.path().join("s.sqlite");
    let mut c =
        sellsync::Config::from_json(&doc("").replace("s.sqlite", store.to_str().unwrap())).unwrap();
    c.intervals.orders_seconds = 1e30;
    match sellsync::Engine::open(c) {
        Err(Error::Config(m)) => assert!(m.contains("intervals.orders_seconds"), "{m}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened with a 1e30 s interval"),
    }
}

fn metrics_error(engine: &sellsync::Engine, query: &str) -> String {
    match engine.metrics(query) {
        Err(Error::InvalidArgument(m)) => m,
        other => panic!("{query}: expected an invalid argument, got {other:?}"),
    }
}

#[test]
fn metrics_queries_out_of_range_are_invalid_arguments_not_panics() {
    let emu = emulator(1000.0);
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine.metrics("").unwrap();
    engine
        .metrics(r#"{"horizon_hours": 8760, "cancellation_days": 365, "defect_days": 1, "late_shipment_days": [1, 365]}"#)
        .unwrap();
    // Huge windows overflowed chrono's date arithmetic.
    for (query, name) in [
        (r#"{"defect_days": 9223372036854775807}"#, "defect_days"),
        (
            r#"{"cancellation_days": 9223372036854775807}"#,
            "cancellation_days",
        ),
        (
            r#"{"late_shipment_days": [10, 9223372036854775807]}"#,
            "late_shipment_days",
        ),
        (r#"{"horizon_hours": 1e300}"#, "horizon_hours"),
        (r#"{"defect_days": 0}"#, "defect_days"),
        (r#"{"cancellation_days": 366}"#, "cancellation_days"),
        (r#"{"late_shipment_days": [-1]}"#, "late_shipment_days"),
        (r#"{"horizon_hours": -1}"#, "horizon_hours"),
        (
            r#"{"late_shipment_days": [1,2,3,4,5,6,7,8,9,10,11]}"#,
            "late_shipment_days",
        ),
    ] {
        let m = metrics_error(&engine, query);
        assert!(m.contains(name), "{query}: {m}");
    }
    let many: Vec<String> = (0..51).map(|i| format!("\"M{i}\"")).collect();
    let m = metrics_error(
        &engine,
        &format!(r#"{{"marketplace_ids": [{}]}}"#, many.join(",")),
    );
    assert!(m.contains("marketplace_ids") && m.contains("50"), "{m}");
    metrics_error(&engine, r#"{"marketplace_ids": []}"#);
    metrics_error(&engine, r#"{"marketplace_ids": ["A,B"]}"#);
    metrics_error(&engine, r#"{"horizon_hours": "soon"}"#);
    // Repeated marketplaces are counted once.
    let v: serde_json::Value = serde_json::from_str(
        &engine
            .metrics(r#"{"marketplace_ids": ["ATVPDKIKX0DER", "ATVPDKIKX0DER", "ATVPDKIKX0DER"]}"#)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(v["marketplaces"].as_array().unwrap().len(), 1);
}

#[test]
fn errors_about_huge_inputs_quote_only_a_short_prefix() {
    let emu = emulator(1000.0);
    let dir = tempdir();
    let engine = open(&emu, &dir, "");
    engine.sku_map(&[one_to_one("SKU-1", "4711")]).unwrap();
    let huge = "X".repeat(10 * 1024 * 1024);
    let short = |e: Error| {
        let m = e.to_string();
        assert!(m.len() < 1024, "{} bytes: {}…", m.len(), &m[..200]);
        assert!(
            m.contains("XXXX"),
            "the start of the input is still shown: {m}"
        );
        m
    };
    let level = sellsync::model::StockLevel {
        host_item: huge.clone(),
        on_hand: 1,
    };
    let e = engine.stock_set(&[level]).unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e}");
    let m = short(e);
    assert!(m.contains(&format!("{}…", "X".repeat(64))), "{m}");
    short(engine.order_ack(&huge, "POS-1").unwrap_err());
    short(engine.order_cancel(&huge, "NoInventory").unwrap_err());
    short(engine.order_cancel(&huge, &huge).unwrap_err());
    short(
        engine
            .shipment_confirm(&package(&huge, "1", 1))
            .unwrap_err(),
    );
    short(engine.sku_map(&[one_to_one(&huge, "4711")]).unwrap_err());
    short(engine.sku_map(&[one_to_one("SKU-2", &huge)]).unwrap_err());
    // JSON parse errors: an unknown field, a string where a number belongs, an unknown time.
    short(engine.metrics(&format!(r#"{{"{huge}": 1}}"#)).unwrap_err());
    short(
        engine
            .metrics(&format!(r#"{{"horizon_hours": "{huge}"}}"#))
            .unwrap_err(),
    );
    short(
        engine
            .metrics(&format!(r#"{{"now": "{huge}"}}"#))
            .unwrap_err(),
    );
    short(sellsync::Config::from_json(&doc(&format!(r#","{huge}": 1"#))).unwrap_err());
    short(sellsync::Config::from_json(&doc(&format!(r#","region": "{huge}""#))).unwrap_err());
}
