//! The emulated SP-API operations. Each submodule owns one API; `run` dispatches.

mod auth;
mod fba;
mod feeds;
pub(crate) mod listings;
mod notifications;
mod orders;
mod reports;

use crate::limits::Op;
use crate::reply::Reply;
use crate::server::Shared;
use crate::world::{Token, World};
use axum::body::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;

/// Everything an operation sees of its call.
pub struct Ctx<'a> {
    pub world: &'a mut World,
    pub now: DateTime<Utc>,
    /// The authenticated seller ("" for LWA and documents).
    pub seller: String,
    /// The token the call carried (an RDT has `restricted` set).
    pub token: Option<Token>,
    /// HTTP method and path of the call.
    pub method: String,
    pub path: String,
    pub params: Vec<String>,
    pub query: Vec<(String, String)>,
    pub body: Bytes,
    pub content_type: Option<String>,
    pub shared: &'a Shared,
    /// The fault injected for this call, if any.
    pub fault: Option<crate::faults::FaultKind>,
}

impl Ctx<'_> {
    /// A query parameter's value.
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// A list-valued query parameter (comma-separated or repeated).
    pub fn q_list(&self, name: &str) -> Vec<String> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
    /// A date-time query parameter; Err names it when it does not parse.
    pub fn q_time(&self, name: &str) -> Result<Option<DateTime<Utc>>, String> {
        match self.q(name) {
            None => Ok(None),
            Some(v) => parse_time(v)
                .map(Some)
                .ok_or_else(|| format!("{name} is not a valid ISO 8601 date-time: {v}")),
        }
    }
    /// The JSON body as `T`, or `bad` with serde's message.
    pub fn json<T: DeserializeOwned>(&self, bad: fn(&str) -> Reply) -> Result<T, Reply> {
        serde_json::from_slice(&self.body).map_err(|e| bad(&format!("Malformed request body: {e}")))
    }
}

/// Parses an ISO 8601 date-time.
pub fn parse_time(v: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Formats a time as Amazon does (`2024-12-25T02:30:00Z`).
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Applies everything that happens with time: payment authorisation, feed and report processing.
pub fn tick(world: &mut World, now: DateTime<Utc>) {
    world.advance(now);
    listings::land(world, now);
    feeds::tick(world, now);
    reports::tick(world, now);
}

/// 415 when a call with a JSON body does not say `application/json`.
pub fn check_content_type(ctx: &Ctx<'_>, op: Op) -> Option<Reply> {
    let takes_json = matches!(
        op,
        Op::ConfirmShipment
            | Op::UpdateShipmentStatus
            | Op::CreateRestrictedDataToken
            | Op::PutListingsItem
            | Op::PatchListingsItem
            | Op::CreateFeedDocument
            | Op::CreateFeed
            | Op::CreateReport
            | Op::CreateDestination
            | Op::CreateSubscription
    );
    let is_json = ctx
        .content_type
        .as_deref()
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/json"));
    (takes_json && !is_json).then(|| {
        Reply::error(
            415,
            "UnsupportedMediaType",
            "The request's Content-Type header is invalid.",
            "Use Content-Type: application/json",
        )
    })
}

/// Runs one operation.
pub fn run(ctx: &mut Ctx<'_>, op: Op) -> Reply {
    match op {
        Op::LwaToken => auth::lwa_token(ctx),
        Op::CreateRestrictedDataToken => auth::create_rdt(ctx),
        Op::GetMarketplaceParticipations => auth::participations(ctx),
        Op::SearchOrders => orders::search_orders(ctx),
        Op::GetOrder2026 => orders::get_order_2026(ctx),
        Op::GetOrders => orders::get_orders(ctx),
        Op::GetOrder => orders::get_order_v0(ctx),
        Op::GetOrderItems => orders::get_order_items(ctx),
        Op::GetOrderAddress => orders::get_order_address(ctx),
        Op::ConfirmShipment => orders::confirm_shipment(ctx),
        Op::UpdateShipmentStatus => orders::update_shipment_status(ctx),
        Op::GetListingsItem => listings::get(ctx),
        Op::PutListingsItem => listings::put(ctx),
        Op::PatchListingsItem => listings::patch(ctx),
        Op::DeleteListingsItem => listings::delete(ctx),
        Op::SearchListingsItems => listings::search(ctx),
        Op::GetInventorySummaries => fba::summaries(ctx),
        Op::CreateFeedDocument => feeds::create_document(ctx),
        Op::CreateFeed => feeds::create_feed(ctx),
        Op::GetFeed => feeds::get_feed(ctx),
        Op::GetFeeds => feeds::get_feeds(ctx),
        Op::CancelFeed => feeds::cancel_feed(ctx),
        Op::GetFeedDocument => feeds::get_document(ctx, false),
        Op::CreateReport => reports::create_report(ctx),
        Op::GetReport => reports::get_report(ctx),
        Op::GetReportDocument => feeds::get_document(ctx, true),
        Op::CreateDestination => notifications::create_destination(ctx),
        Op::GetDestinations => notifications::get_destinations(ctx),
        Op::GetDestination => notifications::get_destination(ctx),
        Op::DeleteDestination => notifications::delete_destination(ctx),
        Op::CreateSubscription => notifications::create_subscription(ctx),
        Op::GetSubscription => notifications::get_subscription(ctx),
        Op::GetSubscriptions => notifications::get_subscriptions(ctx),
        Op::GetSubscriptionById => notifications::get_subscription_by_id(ctx),
        Op::DeleteSubscriptionById => notifications::delete_subscription_by_id(ctx),
        Op::Document => feeds::document(ctx),
    }
}
