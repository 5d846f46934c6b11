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
    (
        "notifications",
        include_str!("../spapi-models/notifications.json"),
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

/// The model's path template, HTTP method and operation object for `op`.
pub fn operation_for(op: Op) -> Option<(&'static str, &'static str, &'static Value)> {
    let id = operation_id(op);
    let version = match op {
        Op::GetOrder2026 | Op::SearchOrders => Some("2026-01-01"),
        Op::GetOrder | Op::GetOrders | Op::GetOrderItems | Op::GetOrderAddress => Some("v0"),
        _ => None,
    };
    models()
        .iter()
        .filter(|m| version.is_none_or(|v| m["info"]["version"] == v))
        .find_map(|m| {
            m["paths"].as_object()?.iter().find_map(|(path, item)| {
                item.as_object()?
                    .iter()
                    .find(|(_, o)| o["operationId"] == id)
                    .map(|(method, o)| (path.as_str(), method.as_str(), o))
            })
        })
}

/// The `{name}` placeholders of a path template, in order.
pub fn path_names(template: &str) -> Vec<&str> {
    template
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

fn matches(expected: &Value, ctx: &Ctx<'_>, template: &str, op: &Value) -> bool {
    let Some(params) = expected.get("parameters").and_then(Value::as_object) else {
        return true;
    };
    let body: Option<Value> = serde_json::from_slice(&ctx.body).ok();
    let names = path_names(template);
    params.iter().all(|(name, spec)| {
        // A parameter listed without a value (e.g. `"body": {}`) matches anything.
        let Some(want) = spec.get("value") else {
            return true;
        };
        if let Some(i) = names.iter().position(|n| n == name) {
            return ctx
                .params
                .get(i)
                .is_some_and(|h| want.as_str() == Some(h.as_str()));
        }
        // Examples name the body parameter either as the model does or simply "body".
        let in_body = name == "body"
            || op["parameters"].as_array().is_some_and(|a| {
                a.iter()
                    .any(|p| p["in"] == "body" && p["name"] == name.as_str())
            });
        if in_body {
            return body.as_ref() == Some(want);
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
    let Some((template, _, operation)) = operation_for(op) else {
        return Reply::not_found("No sandbox examples for this operation");
    };
    // The most specific matching example wins (the one giving the most parameter values).
    let mut best: Option<(usize, u16, Option<&Value>)> = None;
    for (status, resp) in operation["responses"].as_object().into_iter().flatten() {
        for case in resp["x-amzn-api-sandbox"]["static"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if matches(&case["request"], ctx, template, operation) {
                let n = case["request"]["parameters"].as_object().map_or(0, |p| {
                    p.values().filter(|v| v.get("value").is_some()).count()
                });
                if best.is_none_or(|(m, _, _)| n > m) {
                    best = Some((n, status.parse().unwrap_or(200), case.get("response")));
                }
            }
        }
    }
    match best {
        Some((_, code, Some(v))) if code != 204 => Reply::json(code, v.clone()),
        Some((_, code, _)) => Reply {
            status: code,
            body: crate::reply::Body::Empty,
        },
        None => Reply::invalid_input("The request does not match any sandbox example"),
    }
}
