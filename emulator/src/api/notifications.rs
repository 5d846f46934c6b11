//! Notifications API v1: destinations (grantless) and subscriptions.

use super::Ctx;
use crate::notify::{Destination, Subscription, TYPES};
use crate::reply::Reply;
use serde::Deserialize;
use serde_json::{json, Value};

fn conflict(details: &str) -> Reply {
    Reply::error(
        409,
        "Conflict",
        "The requested resource conflict with a resource in the server.",
        details,
    )
}

fn invalid(details: &str) -> Reply {
    Reply::error(400, "InvalidInput", "Invalid Input", details)
}

/// The calling application (LWA client id) of the call's token.
fn client_id(ctx: &Ctx<'_>) -> String {
    ctx.token
        .as_ref()
        .map(|t| t.client_id.clone())
        .unwrap_or_default()
}

fn destination_json(d: &Destination) -> Value {
    json!({"name": d.name, "destinationId": d.destination_id, "resource": {"sqs": {"arn": d.arn}}})
}

fn subscription_json(s: &Subscription) -> Value {
    let mut v = json!({"subscriptionId": s.subscription_id, "payloadVersion": s.payload_version,
                       "destinationId": s.destination_id});
    if let Some(p) = &s.processing_directive {
        v["processingDirective"] = p.clone();
    }
    v
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateDestinationRequest {
    name: String,
    resource_specification: ResourceSpecification,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSpecification {
    sqs: Option<SqsResource>,
    event_bridge: Option<Value>,
}

#[derive(Deserialize)]
struct SqsResource {
    arn: String,
}

/// `POST /notifications/v1/destinations` (grantless).
pub fn create_destination(ctx: &mut Ctx<'_>) -> Reply {
    let req: CreateDestinationRequest = match ctx.json(invalid) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let spec = req.resource_specification;
    let arn = match (spec.sqs, spec.event_bridge) {
        (Some(sqs), None) => sqs.arn,
        (None, Some(_)) => {
            return invalid("EventBridge destinations are not available here; use an SQS queue.")
        }
        _ => return invalid("Specify exactly one resource: sqs or eventBridge."),
    };
    if req.name.is_empty() || req.name.len() > 256 {
        return invalid("name must be 1 to 256 characters long.");
    }
    let app = client_id(ctx);
    let n = &ctx.world.notifications;
    if n.destinations
        .iter()
        .any(|d| d.arn == arn && d.client_id == app)
    {
        return conflict(&format!(
            "A destination with arn {arn} already exists for the application {}",
            crate::notify::application_id(&app)
        ));
    }
    if ctx.shared.queues.by_arn(&arn).is_none() {
        return invalid(&format!(
            "Unable to create destination: the SQS queue {arn} does not exist or the Selling Partner API has no permission to send messages to it."
        ));
    }
    let d = Destination {
        destination_id: ctx.world.notifications.new_id(),
        name: req.name,
        arn,
        client_id: app,
    };
    let body = json!({ "payload": destination_json(&d) });
    ctx.world.notifications.destinations.push(d);
    Reply::json(200, body)
}

/// `GET /notifications/v1/destinations` (grantless).
pub fn get_destinations(ctx: &mut Ctx<'_>) -> Reply {
    let app = client_id(ctx);
    let list: Vec<Value> = ctx
        .world
        .notifications
        .destinations
        .iter()
        .filter(|d| d.client_id == app)
        .map(destination_json)
        .collect();
    Reply::json(200, json!({ "payload": list }))
}

fn destination_index(ctx: &Ctx<'_>) -> Option<usize> {
    let app = client_id(ctx);
    ctx.world
        .notifications
        .destinations
        .iter()
        .position(|d| d.destination_id == ctx.params[0] && d.client_id == app)
}

/// `GET /notifications/v1/destinations/{destinationId}` (grantless).
pub fn get_destination(ctx: &mut Ctx<'_>) -> Reply {
    match destination_index(ctx) {
        Some(i) => Reply::json(
            200,
            json!({ "payload": destination_json(&ctx.world.notifications.destinations[i]) }),
        ),
        None => Reply::not_found(&format!("Destination {} not found", ctx.params[0])),
    }
}

/// `DELETE /notifications/v1/destinations/{destinationId}` (grantless). A destination with
/// subscriptions cannot be deleted.
pub fn delete_destination(ctx: &mut Ctx<'_>) -> Reply {
    let Some(i) = destination_index(ctx) else {
        return Reply::not_found(&format!("Destination {} not found", ctx.params[0]));
    };
    let n = &mut ctx.world.notifications;
    let id = n.destinations[i].destination_id.clone();
    if n.subscriptions.iter().any(|s| s.destination_id == id) {
        return Reply::error(
            403,
            "Unauthorized",
            "The requested action is forbidden.",
            "Destination has subscriptions",
        );
    }
    n.destinations.remove(i);
    Reply::json(200, json!({}))
}

/// The notification type of the path, when the emulator publishes it.
fn notification_type(ctx: &Ctx<'_>) -> Result<String, Reply> {
    let t = ctx.params[0].clone();
    if TYPES.contains(&t.as_str()) {
        Ok(t)
    } else {
        Err(invalid(&format!(
            "Notification type {t} is not supported; supported: {}",
            TYPES.join(", ")
        )))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateSubscriptionRequest {
    payload_version: String,
    destination_id: String,
    processing_directive: Option<Value>,
}

/// Checks a `processingDirective` against the model and the notification type.
fn check_directive(kind: &str, p: &Value) -> Result<(), String> {
    if p.get("filterExpression").is_some() {
        return Err(if p.get("eventFilter").is_some() {
            "eventFilter and filterExpression are mutually exclusive".into()
        } else {
            "filterExpression is not supported by this endpoint; use eventFilter".into()
        });
    }
    let Some(f) = p.get("eventFilter") else {
        return Ok(());
    };
    if f.get("eventFilterType").and_then(Value::as_str) != Some(kind) || kind != "ORDER_CHANGE" {
        return Err(format!(
            "eventFilter.eventFilterType must be given and be a type that takes filters; {kind} does not match"
        ));
    }
    let strings = |key: &str, allowed: Option<&[&str]>| match f.get(key) {
        None => Ok(()),
        Some(Value::Array(a)) => a
            .iter()
            .all(|v| {
                v.as_str()
                    .is_some_and(|s| allowed.is_none_or(|ok| ok.contains(&s)))
            })
            .then_some(())
            .ok_or(format!("eventFilter.{key} has an invalid value")),
        Some(_) => Err(format!("eventFilter.{key} must be an array")),
    };
    strings("marketplaceIds", None)?;
    strings(
        "orderChangeTypes",
        Some(&[
            "BuyerRequestedChange",
            "DeliveryTipChange",
            "OrderStatusChange",
        ]),
    )?;
    if let Some(a) = f.get("aggregationSettings") {
        let period = a.get("aggregationTimePeriod").and_then(Value::as_str);
        if !matches!(period, Some("FiveMinutes" | "TenMinutes")) {
            return Err(
                "aggregationSettings.aggregationTimePeriod must be FiveMinutes or TenMinutes"
                    .into(),
            );
        }
    }
    Ok(())
}

/// `POST /notifications/v1/subscriptions/{notificationType}` (the seller's token).
pub fn create_subscription(ctx: &mut Ctx<'_>) -> Reply {
    let kind = match notification_type(ctx) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let req: CreateSubscriptionRequest = match ctx.json(invalid) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if req.payload_version != "1.0" {
        return invalid(&format!(
            "payloadVersion {} is not valid for {kind}; use 1.0",
            req.payload_version
        ));
    }
    if let Some(p) = &req.processing_directive {
        if let Err(m) = check_directive(&kind, p) {
            return invalid(&m);
        }
    }
    let app = client_id(ctx);
    let seller = ctx.seller.clone();
    let n = &ctx.world.notifications;
    if !n
        .destinations
        .iter()
        .any(|d| d.destination_id == req.destination_id && d.client_id == app)
    {
        return invalid(&format!("Destination {} not found", req.destination_id));
    }
    if n.subscriptions
        .iter()
        .any(|s| s.notification_type == kind && s.seller_id == seller && s.client_id == app)
    {
        return conflict(&format!(
            "A subscription of type {kind} already exists for this selling partner and application"
        ));
    }
    let sub = Subscription {
        subscription_id: ctx.world.notifications.new_id(),
        notification_type: kind,
        payload_version: req.payload_version,
        destination_id: req.destination_id,
        processing_directive: req.processing_directive,
        seller_id: seller,
        client_id: app,
    };
    let body = json!({ "payload": subscription_json(&sub) });
    ctx.world.notifications.subscriptions.push(sub);
    Reply::json(200, body)
}

/// `GET /notifications/v1/subscriptions/{notificationType}` (the seller's token).
pub fn get_subscription(ctx: &mut Ctx<'_>) -> Reply {
    let kind = match notification_type(ctx) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let app = client_id(ctx);
    match ctx
        .world
        .notifications
        .subscriptions
        .iter()
        .find(|s| s.notification_type == kind && s.seller_id == ctx.seller && s.client_id == app)
    {
        Some(s) => Reply::json(200, json!({ "payload": subscription_json(s) })),
        None => Reply::not_found(&format!("No subscription of type {kind} found")),
    }
}

/// `GET /notifications/v1/subscriptions` (the seller's token), optionally of some
/// `notificationTypes`.
pub fn get_subscriptions(ctx: &mut Ctx<'_>) -> Reply {
    let types = ctx.q_list("notificationTypes");
    let app = client_id(ctx);
    let list: Vec<Value> = ctx
        .world
        .notifications
        .subscriptions
        .iter()
        .filter(|s| s.seller_id == ctx.seller && s.client_id == app)
        .filter(|s| types.is_empty() || types.contains(&s.notification_type))
        .map(subscription_json)
        .collect();
    Reply::json(200, json!({ "payload": { "subscriptions": list } }))
}

fn subscription_index(ctx: &Ctx<'_>) -> Option<usize> {
    let app = client_id(ctx);
    ctx.world.notifications.subscriptions.iter().position(|s| {
        s.notification_type == ctx.params[0]
            && s.subscription_id == ctx.params[1]
            && s.client_id == app
    })
}

/// `GET /notifications/v1/subscriptions/{notificationType}/{subscriptionId}` (grantless).
pub fn get_subscription_by_id(ctx: &mut Ctx<'_>) -> Reply {
    match subscription_index(ctx) {
        Some(i) => Reply::json(
            200,
            json!({ "payload": subscription_json(&ctx.world.notifications.subscriptions[i]) }),
        ),
        None => Reply::not_found(&format!("Subscription {} not found", ctx.params[1])),
    }
}

/// `DELETE /notifications/v1/subscriptions/{notificationType}/{subscriptionId}` (grantless).
pub fn delete_subscription_by_id(ctx: &mut Ctx<'_>) -> Reply {
    match subscription_index(ctx) {
        Some(i) => {
            ctx.world.notifications.subscriptions.remove(i);
            Reply::json(200, json!({}))
        }
        None => Reply::not_found(&format!("Subscription {} not found", ctx.params[1])),
    }
}
