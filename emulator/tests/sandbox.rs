//! In sandbox mode the emulator answers every static sandbox example of the official models
//! for the operations it serves, exactly as Amazon's sandbox does.

mod common;

use common::Api;
use sellsync_emulator::limits::Op;
use sellsync_emulator::sandbox::{operation_for, path_names};
use sellsync_emulator::Config;
use serde_json::Value;

fn query_value(v: &Value) -> String {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| i.to_string())
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[test]
fn every_static_sandbox_example_is_answered_as_in_the_model() {
    let api = Api::start(Config {
        sandbox: true,
        rate_scale: 1000.0,
        ..Config::default()
    });
    let (mut checked, mut mismatched) = (0, Vec::new());
    for op in Op::all().filter(|op| op.limited()) {
        let Some((template, method, operation)) = operation_for(op) else {
            continue;
        };
        let names = path_names(template);
        let body_name = operation["parameters"].as_array().and_then(|a| {
            a.iter()
                .find(|p| p["in"] == "body")
                .and_then(|p| p["name"].as_str())
        });
        for (status, resp) in operation["responses"].as_object().unwrap() {
            let Some(cases) = resp["x-amzn-api-sandbox"]["static"].as_array() else {
                continue;
            };
            for case in cases {
                let params = case["request"]["parameters"]
                    .as_object()
                    .cloned()
                    .unwrap_or_default();
                let mut path = template.to_string();
                let mut query: Vec<(String, String)> = Vec::new();
                let mut body = None;
                for (name, spec) in &params {
                    let v = &spec["value"];
                    if names.contains(&name.as_str()) {
                        path = path.replace(&format!("{{{name}}}"), v.as_str().unwrap_or(""));
                    } else if Some(name.as_str()) == body_name || name == "body" {
                        body = Some(v.clone());
                    } else {
                        query.push((name.clone(), query_value(v)));
                    }
                }
                if path.contains('{') {
                    continue; // an example that leaves a path parameter open cannot be sent
                }
                let q: Vec<(&str, &str)> = query
                    .iter()
                    .map(|(a, b)| (a.as_str(), b.as_str()))
                    .collect();
                let token = match op.grantless_scope() {
                    Some(scope) => api.grantless(scope),
                    None => api.token.clone(),
                };
                let a = api.call_with(&method.to_uppercase(), &path, &q, body.as_ref(), &token);
                checked += 1;
                let want_status: u16 = status.parse().unwrap();
                let want_body = case.get("response").cloned().unwrap_or(Value::Null);
                if a.status != want_status || (want_status != 204 && a.body != want_body) {
                    mismatched.push(format!(
                        "{} {method} {path} {q:?}: got {} want {want_status}",
                        op.name(),
                        a.status
                    ));
                }
            }
        }
    }
    assert!(checked >= 40, "only {checked} examples exercised");
    assert!(
        mismatched.is_empty(),
        "{} of {checked} examples answered differently:\n{}",
        mismatched.len(),
        mismatched.join("\n")
    );
}

#[test]
fn a_parameter_listed_without_a_value_matches_anything() {
    let api = Api::start(Config {
        sandbox: true,
        rate_scale: 1000.0,
        ..Config::default()
    });
    let example = |op: Op| {
        let (_, _, operation) = operation_for(op).unwrap();
        operation["responses"]["200"]["x-amzn-api-sandbox"]["static"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["request"]["parameters"]["body"] == serde_json::json!({}))
            .unwrap()["response"]
            .clone()
    };
    let q = [("marketplaceIds", "ATVPDKIKX0DER")];
    let body = serde_json::json!({"productType": "HOME", "patches": [{"op": "replace",
        "path": "/attributes/item_name", "value": [{"value": "Mug"}]}]});
    for (method, op, body) in [
        ("GET", Op::GetListingsItem, None),
        ("PUT", Op::PutListingsItem, Some(&body)),
        ("PATCH", Op::PatchListingsItem, Some(&body)),
    ] {
        let any = api.call(method, "/listings/2021-08-01/items/ANY/MUG-1", &q, body);
        assert_eq!(any.status, 200, "{method}: {:?}", any.body);
        assert_eq!(any.body, example(op), "{method}: the catch-all example");
        // An example that gives a value is more specific than the catch-all.
        let bad = api.call(method, "/listings/2021-08-01/items/ANY/BadSKU", &q, body);
        assert_eq!(bad.status, 400, "{method}");
    }
}
