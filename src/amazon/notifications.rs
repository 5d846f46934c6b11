//! Amazon's notifications through the seller's SQS queue: the Notifications API v1 (a
//! destination for the queue, a subscription per notification type) and the notification
//! documents that arrive as message bodies.
//!
//! Destinations are grantless (the application's own token, scope
//! `sellingpartnerapi::notifications`); subscriptions belong to the seller's authorisation.
//! [`setup`] is idempotent: it reuses what exists and creates only what is missing.

use super::{ApiRequest, Client, Operation};
use crate::error::{quote, Error, Result};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// Sent when an order changes (status, buyer-requested cancellation).
pub const ORDER_CHANGE: &str = "ORDER_CHANGE";
/// Sent when the seller-fulfilled quantity of a listing changes.
pub const LISTINGS_ITEM_MFN_QUANTITY_CHANGE: &str = "LISTINGS_ITEM_MFN_QUANTITY_CHANGE";
/// The notification types [`setup`] subscribes to.
pub const TYPES: [&str; 2] = [ORDER_CHANGE, LISTINGS_ITEM_MFN_QUANTITY_CHANGE];
/// The payload version of both types' subscriptions.
pub const PAYLOAD_VERSION: &str = "1.0";

const DESTINATIONS: &str = "/notifications/v1/destinations";

/// What [`setup`] made sure of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setup {
    /// The destination of the queue.
    pub destination_id: String,
    /// (notification type, subscription id) for each of [`TYPES`].
    pub subscriptions: Vec<(String, String)>,
}

/// The destination id of the queue whose ARN is `queue_arn`: the existing destination of that
/// queue, else a new one named `name` (a 409 Conflict, the destination created meanwhile, is
/// answered by reading the destinations again).
pub async fn ensure_destination(client: &Client, queue_arn: &str, name: &str) -> Result<String> {
    if let Some(id) = find_destination(client, queue_arn).await? {
        return Ok(id);
    }
    let body = json!({
        "resourceSpecification": {"sqs": {"arn": queue_arn}},
        "name": name,
    });
    let req = ApiRequest::post(Operation::CreateDestination, DESTINATIONS, body);
    match client.call(&req).await {
        Ok(v) => v["payload"]["destinationId"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| Error::Network("createDestination answered without destinationId".into())),
        Err(Error::Amazon { status: 409, .. }) => find_destination(client, queue_arn)
            .await?
            .ok_or_else(|| {
                Error::Conflict(format!(
                    "createDestination answered 409 Conflict, yet no destination is for the queue {}",
                    quote(queue_arn)
                ))
            }),
        Err(e) => Err(e),
    }
}

/// The id of the destination whose SQS ARN is `queue_arn`, if any.
async fn find_destination(client: &Client, queue_arn: &str) -> Result<Option<String>> {
    let v = client
        .call(&ApiRequest::get(Operation::GetDestinations, DESTINATIONS))
        .await?;
    Ok(destination_of(&v, queue_arn))
}

/// In a getDestinations answer, the id of the destination of `queue_arn`.
fn destination_of(answer: &Value, queue_arn: &str) -> Option<String> {
    answer["payload"]
        .as_array()?
        .iter()
        .find(|d| d["resource"]["sqs"]["arn"].as_str() == Some(queue_arn))
        .and_then(|d| d["destinationId"].as_str())
        .map(str::to_string)
}

/// The processing directive of a new subscription: ORDER_CHANGE only for status changes and
/// buyer-requested changes (not delivery tips); none for the other types.
fn processing_directive(notification_type: &str) -> Option<Value> {
    (notification_type == ORDER_CHANGE).then(|| {
        json!({"eventFilter": {
            "eventFilterType": ORDER_CHANGE,
            "orderChangeTypes": ["OrderStatusChange", "BuyerRequestedChange"],
        }})
    })
}

/// The subscription id for `notification_type` delivering to `destination_id`: the existing
/// subscription, else a new one (payload version 1.0; a 409 Conflict is answered by reading it
/// again). A subscription that delivers to another destination is an [`Error::Conflict`] that
/// says so: Amazon keeps one subscription per type and application.
pub async fn ensure_subscription(
    client: &Client,
    notification_type: &str,
    destination_id: &str,
) -> Result<String> {
    if let Some(existing) = find_subscription(client, notification_type).await? {
        return same_destination(notification_type, existing, destination_id);
    }
    let mut body = json!({"payloadVersion": PAYLOAD_VERSION, "destinationId": destination_id});
    if let Some(d) = processing_directive(notification_type) {
        body["processingDirective"] = d;
    }
    let req = ApiRequest::post(
        Operation::CreateSubscription,
        subscriptions_path(notification_type),
        body,
    );
    match client.call(&req).await {
        Ok(v) => v["payload"]["subscriptionId"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| {
                Error::Network("createSubscription answered without subscriptionId".into())
            }),
        Err(Error::Amazon { status: 409, .. }) => {
            match find_subscription(client, notification_type).await? {
                Some(existing) => same_destination(notification_type, existing, destination_id),
                None => Err(Error::Conflict(format!(
                    "createSubscription for {notification_type} answered 409 Conflict, yet getSubscription finds none"
                ))),
            }
        }
        Err(e) => Err(e),
    }
}

fn subscriptions_path(notification_type: &str) -> String {
    format!("/notifications/v1/subscriptions/{notification_type}")
}

/// A subscription's id and destination.
struct Subscription {
    id: String,
    destination_id: String,
}

/// The subscription for `notification_type`, None when Amazon answers 404.
async fn find_subscription(
    client: &Client,
    notification_type: &str,
) -> Result<Option<Subscription>> {
    let req = ApiRequest::get(
        Operation::GetSubscription,
        subscriptions_path(notification_type),
    );
    match client.call(&req).await {
        Ok(v) => subscription_of(&v).map(Some),
        Err(Error::Amazon { status: 404, .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The subscription of a getSubscription or createSubscription answer.
fn subscription_of(answer: &Value) -> Result<Subscription> {
    let p = &answer["payload"];
    match (p["subscriptionId"].as_str(), p["destinationId"].as_str()) {
        (Some(id), Some(destination)) => Ok(Subscription {
            id: id.to_string(),
            destination_id: destination.to_string(),
        }),
        _ => Err(Error::Network(
            "getSubscription answered without subscriptionId or destinationId".into(),
        )),
    }
}

fn same_destination(
    notification_type: &str,
    existing: Subscription,
    destination_id: &str,
) -> Result<String> {
    if existing.destination_id == destination_id {
        return Ok(existing.id);
    }
    Err(Error::Conflict(format!(
        "the {notification_type} subscription {} delivers to destination {}, not to {} (the queue of \
         notifications.queue_url): delete that subscription (deleteSubscriptionById) or configure \
         the queue it delivers to",
        quote(&existing.id),
        quote(&existing.destination_id),
        quote(destination_id)
    )))
}

/// Makes sure the queue of `queue_arn` has a destination and that [`TYPES`] are subscribed to
/// it; reuses whatever already exists, so it can run at every start.
pub async fn setup(client: &Client, queue_arn: &str) -> Result<Setup> {
    let queue_name = queue_arn.rsplit(':').next().unwrap_or("");
    let name: String = format!("sellsync-{queue_name}").chars().take(256).collect();
    let destination_id = ensure_destination(client, queue_arn, &name).await?;
    let mut subscriptions = Vec::new();
    for t in TYPES {
        let id = ensure_subscription(client, t, &destination_id).await?;
        subscriptions.push((t.to_string(), id));
    }
    Ok(Setup {
        destination_id,
        subscriptions,
    })
}

/// A received notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notification {
    /// `ORDER_CHANGE`: an order's status changed, or the buyer asked for a change
    /// (cancellation).
    OrderChange {
        /// `NotificationMetadata.NotificationId`.
        notification_id: String,
        /// `Payload.OrderChangeNotification.AmazonOrderId`.
        order_id: String,
        /// `Summary.OrderStatus` (e.g. `Unshipped`, `Canceled`).
        status: Option<String>,
        /// `OrderChangeType`: `OrderStatusChange`, `BuyerRequestedChange` or
        /// `DeliveryTipChange`.
        change_type: Option<String>,
        /// `OrderChangeTrigger.ChangeReason` (e.g. `Buyer Requested Cancel`).
        change_reason: Option<String>,
        /// `OrderChangeTrigger.TimeOfOrderChange`, else the notification's `EventTime`.
        changed_at: Option<DateTime<Utc>>,
        /// `Summary.MarketplaceId`.
        marketplace_id: Option<String>,
        /// `SellerId`: whose order it is.
        seller_id: Option<String>,
    },
    /// `LISTINGS_ITEM_MFN_QUANTITY_CHANGE`: the seller-fulfilled quantity of a listing changed.
    QuantityChange {
        /// `NotificationMetadata.NotificationId`.
        notification_id: String,
        /// `Payload.SellerId`.
        seller_id: String,
        /// `Payload.Sku`.
        sku: String,
        /// `Payload.Quantity`.
        quantity: i64,
        /// `Payload.FulfillmentChannelCode` (`DEFAULT` for the seller's own).
        fulfillment_channel: String,
        /// The notification's `EventTime`.
        changed_at: Option<DateTime<Utc>>,
    },
    /// Any other type.
    Other {
        /// `NotificationMetadata.NotificationId`.
        notification_id: String,
        /// `NotificationType`.
        notification_type: String,
    },
}

impl Notification {
    /// The notification's id (Amazon may deliver one more than once).
    pub fn id(&self) -> &str {
        match self {
            Notification::OrderChange {
                notification_id, ..
            }
            | Notification::QuantityChange {
                notification_id, ..
            }
            | Notification::Other {
                notification_id, ..
            } => notification_id,
        }
    }
}

/// The text at `path` in `v`, or an error naming the field (nothing of the document is quoted:
/// an order notification carries buyer data).
fn text(v: &Value, path: &[&str]) -> Result<String> {
    optional(v, path)?.ok_or_else(|| missing(path))
}

/// `Payload.OrderChangeNotification` followed by `rest`.
fn at<'a>(rest: &[&'a str]) -> Vec<&'a str> {
    ["Payload", "OrderChangeNotification"]
        .into_iter()
        .chain(rest.iter().copied())
        .collect()
}

fn missing(path: &[&str]) -> Error {
    Error::InvalidArgument(format!(
        "the notification has no {} (a string)",
        path.join(".")
    ))
}

/// The text at `path`, None when absent or null; an error when of another type.
fn optional(v: &Value, path: &[&str]) -> Result<Option<String>> {
    let at = path.iter().fold(v, |v, k| &v[*k]);
    match at {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(missing(path)),
    }
}

/// A time of the document: None when absent, null or not an ISO 8601 date and time.
fn time(v: &Value, path: &[&str]) -> Option<DateTime<Utc>> {
    let t = optional(v, path).ok()??;
    DateTime::parse_from_rfc3339(&t)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Reads a notification (an SQS message body): the envelope of every type
/// (`NotificationVersion`, `NotificationType`, `PayloadVersion`, `EventTime`, `Payload`,
/// `NotificationMetadata`) and the payload of `ORDER_CHANGE` and
/// `LISTINGS_ITEM_MFN_QUANTITY_CHANGE`, following Amazon's schemas of both.
pub fn parse(body: &str) -> Result<Notification> {
    let v: Value = serde_json::from_str(body).map_err(|e| {
        Error::InvalidArgument(format!(
            "the notification is not JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    if !v.is_object() {
        return Err(Error::InvalidArgument(
            "the notification is not a JSON object".into(),
        ));
    }
    let notification_type = text(&v, &["NotificationType"])?;
    let notification_id = text(&v, &["NotificationMetadata", "NotificationId"])?;
    if !v["Payload"].is_object() {
        return Err(Error::InvalidArgument(
            "the notification has no Payload (an object)".into(),
        ));
    }
    let event_time = time(&v, &["EventTime"]);
    match notification_type.as_str() {
        ORDER_CHANGE => {
            let o = &v["Payload"]["OrderChangeNotification"];
            if !o.is_object() {
                return Err(Error::InvalidArgument(
                    "the notification has no Payload.OrderChangeNotification (an object)".into(),
                ));
            }
            Ok(Notification::OrderChange {
                notification_id,
                order_id: text(&v, &at(&["AmazonOrderId"]))?,
                status: optional(&v, &at(&["Summary", "OrderStatus"]))?,
                change_type: optional(&v, &at(&["OrderChangeType"]))?,
                change_reason: optional(&v, &at(&["OrderChangeTrigger", "ChangeReason"]))?,
                changed_at: time(&v, &at(&["OrderChangeTrigger", "TimeOfOrderChange"]))
                    .or(event_time),
                marketplace_id: optional(&v, &at(&["Summary", "MarketplaceId"]))?,
                seller_id: optional(&v, &at(&["SellerId"]))?,
            })
        }
        LISTINGS_ITEM_MFN_QUANTITY_CHANGE => {
            let quantity = v["Payload"]["Quantity"].as_i64().ok_or_else(|| {
                Error::InvalidArgument(
                    "the notification has no Payload.Quantity (a whole number)".into(),
                )
            })?;
            Ok(Notification::QuantityChange {
                notification_id,
                seller_id: text(&v, &["Payload", "SellerId"])?,
                sku: text(&v, &["Payload", "Sku"])?,
                quantity,
                fulfillment_channel: text(&v, &["Payload", "FulfillmentChannelCode"])?,
                changed_at: event_time,
            })
        }
        _ => Ok(Notification::Other {
            notification_id,
            notification_type,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Amazon's `OrderChangeNotification.json` schema (its `examples`), as is.
    const ORDER_CHANGE_EXAMPLE: &str = r#"{"NotificationVersion": "1.0", "NotificationType": "ORDER_CHANGE", "PayloadVersion": "1.0", "EventTime": "2020-01-11T00:09:53.109Z", "Payload": {"OrderChangeNotification": {"NotificationLevel": "OrderLevel", "SellerId": "A3TH9S8BH6GOGM", "AmazonOrderId": "903-8868176-2219830", "OrderChangeType": "BuyerRequestedChange", "OrderChangeTrigger": {"TimeOfOrderChange": "2022-11-29T19:42:04.284Z", "ChangeReason": "Buyer Requested Cancel"}, "Summary": {"MarketplaceId": "ATVPDKIKX0DER", "OrderStatus": "Unshipped", "PurchaseDate": "2022-07-13T19:42:04.284Z", "DestinationPostalCode": "48110", "FulfillmentType": "MFN", "OrderType": "StandardOrder", "NumberOfItemsShipped": 0, "NumberOfItemsUnshipped": 10, "EarliestDeliveryDate": "2022-11-07T19:42:04.284Z", "LatestDeliveryDate": "2022-12-07T19:42:04.284Z", "EarliestShipDate": "2022-11-07T19:42:04.284Z", "LatestShipDate": "2022-12-07T19:42:04.284Z", "CancelNotifyDate": "2022-12-07T19:42:04.284Z", "OrderPrograms": ["Business"], "ShippingPrograms": ["EasyShip"], "EasyShipShipmentStatus": "Delivered", "ElectronicInvoiceStatus": "NotFound", "OrderItems": [{"OrderItemId": "OIID34853450", "SellerSKU": "SellerSKUID1", "SupplySourceId": "d7679e14-031b-4ab3-a81b-ec4fc7a460b3", "OrderItemStatus": "Unshipped", "Quantity": 10, "QuantityShipped": 0, "IsBuyerRequestedCancel": true, "ItemEarliestDeliveryDate": "2022-11-07T19:42:04.284Z", "ItemLatestDeliveryDate": "2022-12-07T19:42:04.284Z"}]}}}, "NotificationMetadata": {"ApplicationId": "app-id-d0e9e693-c3ad-4373-979f-ed4ec98dd746", "SubscriptionId": "subscription-id-d0e9e693-c3ad-4373-979f-ed4ec98dd746", "PublishTime": "2020-07-13T19:42:04.284Z", "NotificationId": "d0e9e693-c3ad-4373-979f-ed4ec98dd746"}}"#;

    /// The example of Amazon's `ListingsItemMfnQuantityChange.json` schema (its `examples`).
    const QUANTITY_CHANGE_EXAMPLE: &str = r#"{"NotificationVersion": "1.0", "NotificationType": "LISTINGS_ITEM_MFN_QUANTITY_CHANGE", "PayloadVersion": "1.0", "EventTime": "2021-02-03T18:59:30.194Z", "Payload": {"SellerId": "AXXXXXXXXXXXXX", "FulfillmentChannelCode": "DEFAULT", "Sku": "NLS-SHOES-03", "Quantity": 99}, "NotificationMetadata": {"ApplicationId": "amzn1.sellerapps.app.f1234566-aaec-55a6-b123-bcb752069ec5", "SubscriptionId": "93b098e1-c42-2f45-93a1-78910a6a8369", "PublishTime": "2021-02-03T18:59:48.768Z", "NotificationId": "8e009934-da2c-4f9c-9bc7-93f23b7e1f60"}}"#;

    fn utc(s: &str) -> Option<DateTime<Utc>> {
        Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    #[test]
    fn the_order_change_example_of_amazons_schema() {
        assert_eq!(
            parse(ORDER_CHANGE_EXAMPLE).unwrap(),
            Notification::OrderChange {
                notification_id: "d0e9e693-c3ad-4373-979f-ed4ec98dd746".into(),
                order_id: "903-8868176-2219830".into(),
                status: Some("Unshipped".into()),
                change_type: Some("BuyerRequestedChange".into()),
                change_reason: Some("Buyer Requested Cancel".into()),
                changed_at: utc("2022-11-29T19:42:04.284Z"),
                marketplace_id: Some("ATVPDKIKX0DER".into()),
                seller_id: Some("A3TH9S8BH6GOGM".into()),
            }
        );
    }

    #[test]
    fn a_null_time_of_order_change_falls_back_to_the_event_time() {
        let mut v: Value = serde_json::from_str(ORDER_CHANGE_EXAMPLE).unwrap();
        v["Payload"]["OrderChangeNotification"]["OrderChangeTrigger"]["TimeOfOrderChange"] =
            Value::Null;
        let Notification::OrderChange { changed_at, .. } = parse(&v.to_string()).unwrap() else {
            panic!("an order change");
        };
        assert_eq!(changed_at, utc("2020-01-11T00:09:53.109Z"));
    }

    #[test]
    fn the_quantity_change_example_of_amazons_schema() {
        let n = parse(QUANTITY_CHANGE_EXAMPLE).unwrap();
        assert_eq!(n.id(), "8e009934-da2c-4f9c-9bc7-93f23b7e1f60");
        assert_eq!(
            n,
            Notification::QuantityChange {
                notification_id: "8e009934-da2c-4f9c-9bc7-93f23b7e1f60".into(),
                seller_id: "AXXXXXXXXXXXXX".into(),
                sku: "NLS-SHOES-03".into(),
                quantity: 99,
                fulfillment_channel: "DEFAULT".into(),
                changed_at: utc("2021-02-03T18:59:30.194Z"),
            }
        );
    }

    #[test]
    fn other_types_are_named_and_broken_documents_refused_without_quoting_them() {
        let mut v: Value = serde_json::from_str(QUANTITY_CHANGE_EXAMPLE).unwrap();
        v["NotificationType"] = json!("ANY_OFFER_CHANGED");
        assert_eq!(
            parse(&v.to_string()).unwrap(),
            Notification::Other {
                notification_id: "8e009934-da2c-4f9c-9bc7-93f23b7e1f60".into(),
                notification_type: "ANY_OFFER_CHANGED".into(),
            }
        );
        let broken = |f: &dyn Fn(&mut Value)| {
            let mut v: Value = serde_json::from_str(ORDER_CHANGE_EXAMPLE).unwrap();
            f(&mut v);
            parse(&v.to_string()).unwrap_err().to_string()
        };
        let e = broken(&|v| {
            v["Payload"]["OrderChangeNotification"]
                .as_object_mut()
                .unwrap()
                .remove("AmazonOrderId");
        });
        assert!(
            e.contains("Payload.OrderChangeNotification.AmazonOrderId"),
            "{e}"
        );
        let e = broken(&|v| {
            v["NotificationMetadata"]
                .as_object_mut()
                .unwrap()
                .remove("NotificationId");
        });
        assert!(e.contains("NotificationMetadata.NotificationId"), "{e}");
        let e = broken(&|v| {
            v["Payload"]["OrderChangeNotification"]["Summary"]["OrderStatus"] = json!(7)
        });
        assert!(e.contains("Summary.OrderStatus"), "{e}");
        assert!(!e.contains("48110"), "{e}");
        let mut q: Value = serde_json::from_str(QUANTITY_CHANGE_EXAMPLE).unwrap();
        q["Payload"]["Quantity"] = json!("99");
        assert!(parse(&q.to_string())
            .unwrap_err()
            .to_string()
            .contains("Payload.Quantity"));
        assert!(parse("[1]").is_err());
        assert!(parse("{not json").is_err());
    }

    #[test]
    fn destinations_are_matched_by_queue_arn() {
        let answer = json!({"payload": [
            {"name": "a", "destinationId": "d-1", "resource": {"eventBridge": {"name": "x"}}},
            {"name": "b", "destinationId": "d-2", "resource": {"sqs": {"arn": "arn:aws:sqs:us-east-1:1:other"}}},
            {"name": "c", "destinationId": "d-3", "resource": {"sqs": {"arn": "arn:aws:sqs:us-east-1:1:q"}}},
        ]});
        assert_eq!(
            destination_of(&answer, "arn:aws:sqs:us-east-1:1:q"),
            Some("d-3".into())
        );
        assert_eq!(
            destination_of(&answer, "arn:aws:sqs:us-east-1:1:none"),
            None
        );
        assert_eq!(destination_of(&json!({}), "x"), None);
    }

    #[test]
    fn a_subscription_to_another_destination_is_a_clear_conflict() {
        let s = subscription_of(&json!({"payload": {"subscriptionId": "s-1", "payloadVersion": "1.0", "destinationId": "d-other"}})).unwrap();
        let e = same_destination(ORDER_CHANGE, s, "d-mine").unwrap_err();
        assert!(matches!(e, Error::Conflict(_)), "{e:?}");
        let t = e.to_string();
        assert!(
            t.contains("d-other") && t.contains("d-mine") && t.contains("ORDER_CHANGE"),
            "{t}"
        );
        let s = subscription_of(
            &json!({"payload": {"subscriptionId": "s-1", "destinationId": "d-mine"}}),
        )
        .unwrap();
        assert_eq!(same_destination(ORDER_CHANGE, s, "d-mine").unwrap(), "s-1");
        assert!(subscription_of(&json!({"payload": {}})).is_err());
    }

    /// What the tiny SP-API below holds and saw.
    #[derive(Default)]
    struct Amazon {
        destinations: Vec<Value>,
        subscriptions: Vec<(String, Value)>,
        /// (method, path, access token) of each SP-API call.
        calls: Vec<(String, String, String)>,
        /// Answer the next createDestination with 409, creating it all the same (a race).
        conflict_once: bool,
    }

    /// The answer to one request (method, path, its access token, body).
    fn answer(
        state: &mut Amazon,
        method: &str,
        path: &str,
        token: &str,
        body: &str,
    ) -> (u16, String) {
        if path == "/auth/o2/token" {
            let t = if body.contains("grant_type=client_credentials")
                && body.contains("scope=sellingpartnerapi%3A%3Anotifications")
                && !body.contains("refresh_token")
            {
                "Atza|grantless"
            } else {
                "Atza|seller"
            };
            return (
                200,
                format!(r#"{{"access_token":"{t}","expires_in":3600}}"#),
            );
        }
        state.calls.push((method.into(), path.into(), token.into()));
        let req: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        match (method, path) {
            ("GET", "/notifications/v1/destinations") => {
                (200, json!({"payload": state.destinations}).to_string())
            }
            ("POST", "/notifications/v1/destinations") => {
                let id = format!("dest-{}", state.destinations.len() + 1);
                state
                    .destinations
                    .push(json!({"name": req["name"], "destinationId": id,
                    "resource": {"sqs": {"arn": req["resourceSpecification"]["sqs"]["arn"]}}}));
                if std::mem::take(&mut state.conflict_once) {
                    return (
                        409,
                        r#"{"errors":[{"code":"Conflict","message":"exists"}]}"#.into(),
                    );
                }
                (
                    200,
                    json!({"payload": state.destinations.last()}).to_string(),
                )
            }
            (m, p) if p.starts_with("/notifications/v1/subscriptions/") => {
                let t = p.rsplit('/').next().unwrap().to_string();
                let found = state
                    .subscriptions
                    .iter()
                    .find(|(k, _)| *k == t)
                    .map(|(_, v)| v.clone());
                match (m, found) {
                    ("GET", Some(s)) => (200, json!({"payload": s}).to_string()),
                    ("GET", None) => (
                        404,
                        r#"{"errors":[{"code":"NotFound","message":"none"}]}"#.into(),
                    ),
                    ("POST", None) => {
                        let s = json!({"subscriptionId": format!("sub-{t}"), "payloadVersion": req["payloadVersion"],
                            "destinationId": req["destinationId"], "processingDirective": req["processingDirective"]});
                        state.subscriptions.push((t, s.clone()));
                        (200, json!({"payload": s}).to_string())
                    }
                    _ => (
                        409,
                        r#"{"errors":[{"code":"Conflict","message":"exists"}]}"#.into(),
                    ),
                }
            }
            _ => (404, "{}".into()),
        }
    }

    async fn tiny_amazon(state: std::sync::Arc<std::sync::Mutex<Amazon>>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move {
                    let Some((head, body)) = super::super::test_http::read_request(&mut s).await
                    else {
                        return;
                    };
                    let body = String::from_utf8_lossy(&body).to_string();
                    let mut lines = head.lines();
                    let mut first = lines.next().unwrap().split(' ');
                    let method = first.next().unwrap().to_string();
                    let path = first.next().unwrap().split('?').next().unwrap().to_string();
                    let token = lines
                        .filter_map(|l| l.split_once(':'))
                        .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-access-token"))
                        .map(|(_, v)| v.trim().to_string())
                        .unwrap_or_default();
                    let (status, answer) =
                        answer(&mut state.lock().unwrap(), &method, &path, &token, &body);
                    super::super::test_http::answer(&mut s, status, "application/json", &answer)
                        .await;
                });
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn setup_creates_what_is_missing_with_the_right_tokens_and_is_idempotent() {
        let state = std::sync::Arc::new(std::sync::Mutex::new(Amazon {
            conflict_once: true,
            ..Amazon::default()
        }));
        let endpoint = tiny_amazon(state.clone()).await;
        let config = crate::config::Config::from_json(&format!(
            r#"{{"store_path":"s.sqlite","seller_id":"S","marketplace_ids":["ATVPDKIKX0DER"],
                "credentials":{{"client_id":"c","client_secret":"cs","refresh_token":"Atzr|r"}},
                "endpoint":"{endpoint}","http_allow_insecure_loopback":true,
                "http":{{"max_attempts":1}}}}"#
        ))
        .unwrap();
        let client = Client::new(&config, std::sync::Arc::new(crate::clock::SystemClock)).unwrap();
        let arn = "arn:aws:sqs:us-east-1:000000000000:notifications";
        let first = setup(&client, arn).await.unwrap();
        assert_eq!(first.destination_id, "dest-1");
        assert_eq!(
            first.subscriptions,
            [
                ("ORDER_CHANGE".to_string(), "sub-ORDER_CHANGE".to_string()),
                (
                    "LISTINGS_ITEM_MFN_QUANTITY_CHANGE".to_string(),
                    "sub-LISTINGS_ITEM_MFN_QUANTITY_CHANGE".to_string()
                )
            ]
        );
        // Again: nothing new is created.
        assert_eq!(setup(&client, arn).await.unwrap(), first);
        {
            let s = state.lock().unwrap();
            assert_eq!(s.destinations.len(), 1);
            assert_eq!(s.subscriptions.len(), 2);
            assert_eq!(s.subscriptions[0].1["payloadVersion"], "1.0");
            assert_eq!(
                s.subscriptions[0].1["processingDirective"]["eventFilter"]["eventFilterType"],
                "ORDER_CHANGE"
            );
            assert_eq!(s.destinations[0]["name"], "sellsync-notifications");
            // Destinations with the grantless token, subscriptions with the seller's.
            for (method, path, token) in &s.calls {
                let want = if path.starts_with("/notifications/v1/destinations") {
                    "Atza|grantless"
                } else {
                    "Atza|seller"
                };
                assert_eq!(token, want, "{method} {path}");
            }
            let creates = s.calls.iter().filter(|(m, _, _)| m == "POST").count();
            assert_eq!(creates, 3, "{:?}", s.calls);
        }

        // A subscription that delivers elsewhere is reported, not replaced.
        state.lock().unwrap().subscriptions[0].1["destinationId"] = json!("dest-other");
        let e = setup(&client, arn).await.unwrap_err();
        assert!(matches!(e, Error::Conflict(_)), "{e:?}");
        assert!(e.to_string().contains("dest-other"), "{e}");
    }

    #[test]
    fn order_change_subscriptions_filter_out_delivery_tips() {
        let d = processing_directive(ORDER_CHANGE).unwrap();
        assert_eq!(d["eventFilter"]["eventFilterType"], "ORDER_CHANGE");
        assert_eq!(
            d["eventFilter"]["orderChangeTypes"],
            json!(["OrderStatusChange", "BuyerRequestedChange"])
        );
        assert!(processing_directive(LISTINGS_ITEM_MFN_QUANTITY_CHANGE).is_none());
    }
}
