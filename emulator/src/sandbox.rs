//! Static sandbox: answers the official models' `x-amzn-api-sandbox` examples, as Amazon's
//! sandbox endpoints do: a request whose parameters match an example gets that example's
//! response; any other request gets 400.

use crate::api::Ctx;
use crate::limits::Op;
use crate::reply::Reply;
use serde_json::Value;
use std::sync::OnceLock;

/// The models, embedded.
pub const MODELS: &[(&str, &str)] = &[
    ("ordersV0", include_str!("../spapi-models/ordersV0.json")),
    (
        "orders_2026-01-01",
        include_str!("../spapi-models/orders_2026-01-01.json"),
    ),
    (
        "listingsItems_2021-08-01",
        include_str!("../spapi-models/listingsItems_2021-08-01.json"),
    ),
    (
        "feeds_2021-06-30",
        include_str!("../spapi-models/feeds_2021-06-30.json"),
    ),
    (
        "reports_2021-06-30",
        include_str!("../spapi-models/reports_2021-06-30.json"),
    ),
    (
        "tokens_2021-03-01",
        include_str!("../spapi-models/tokens_2021-03-01.json"),
    ),
    (
        "sellers_v1",
        include_str!("../spapi-models/sellers_v1.json"),
    ),
];

/// Every parsed model.
pub fn models() -> &'static Vec<Value> {
    static M: OnceLock<Vec<Value>> = OnceLock::new();
    M.get_or_init(|| {
        MODELS
            .iter()
            .filter_map(|(_, t)| serde_json::from_str(t).ok())
            .collect()
    })
}

/// The operation object (`paths.<p>.<method>`) of a model operation id.
pub fn operation(operation_id: &str) -> Option<&'static Value> {
    models().iter().find_map(|m| {
        m["paths"].as_object()?.values().find_map(|p| {
            p.as_object()?
                .values()
                .find(|op| op["operationId"] == operation_id)
        })
    })
}

/// The model's operation id for `op`.
pub fn operation_id(op: Op) -> &'static str {
    match op {
        Op::GetOrder2026 => "getOrder",
        other => other.name(),
    }
}

fn operation_for(op: Op) -> Option<&'static Value> {
    let id = operation_id(op);
    if op == Op::GetOrder2026 || op == Op::SearchOrders {
        let m = models()
            .iter()
            .find(|m| m["info"]["version"] == "2026-01-01")?;
        return m["paths"]
            .as_object()?
            .values()
            .find_map(|p| p.as_object()?.values().find(|o| o["operationId"] == id));
    }
    if op == Op::GetOrder {
        let m = models().iter().find(|m| m["info"]["version"] == "v0")?;
        return m["paths"]
            .as_object()?
            .values()
            .find_map(|p| p.as_object()?.values().find(|o| o["operationId"] == id));
    }
    operation(id)
}

fn matches(expected: &Value, ctx: &Ctx<'_>, op: &Value) -> bool {
    let Some(params) = expected.get("parameters").and_then(Value::as_object) else {
        return true;
    };
    let body: Option<Value> = serde_json::from_slice(&ctx.body).ok();
    let path_names: Vec<&str> = op["parameters"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    params.iter().all(|(name, spec)| {
        let want = &spec["value"];
        if let Some(i) = path_names.iter().position(|n| n == name) {
            let have = if ctx.params.len() > path_names.len() {
                ctx.params.get(i + ctx.params.len() - path_names.len())
            } else {
                ctx.params.get(i)
            };
            return have.is_some_and(|h| want.as_str() == Some(h.as_str()));
        }
        if let Some(b) = &body {
            if op["parameters"].as_array().is_some_and(|a| {
                a.iter()
                    .any(|p| p["in"] == "body" && p["name"] == name.as_str())
            }) {
                return b == want;
            }
        }
        let have = ctx.q_list(name);
        match want {
            Value::Array(items) => {
                items
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    })
                    .collect::<Vec<_>>()
                    == have
            }
            Value::String(s) => have.len() == 1 && have[0] == *s,
            other => {
                have.len() == 1
                    && serde_json::from_str::<Value>(&have[0]).ok().as_ref() == Some(other)
            }
        }
    })
}

/// Answers `op` from the model's static examples.
pub fn answer(op: Op, ctx: &Ctx<'_>) -> Reply {
    let Some(operation) = operation_for(op) else {
        return Reply::not_found("No sandbox examples for this operation");
    };
    if let Some(responses) = operation["responses"].as_object() {
        for (status, resp) in responses {
            let Some(cases) = resp["x-amzn-api-sandbox"]["static"].as_array() else {
                continue;
            };
            for case in cases {
                if matches(&case["request"], ctx, operation) {
                    let code = status.parse().unwrap_or(200);
                    return match case.get("response") {
                        Some(v) if code != 204 => Reply::json(code, v.clone()),
                        _ => Reply::no_content(),
                    };
                }
            }
        }
    }
    Reply::invalid_input("The request does not match any sandbox example")
}
