//! Feeds API 2021-06-30 with its documents: the upload URL, feed processing with a delay,
//! `JSON_LISTINGS_FEED` validated against the official schema, the order feeds (cancellation,
//! refund, fulfilment) as flat files, and processing reports in the official shapes.
//!
//! As on Amazon, a seller's feeds of one type are processed one after another: a feed starts
//! only once the one created before it of its type has ended, so a feed held `IN_PROGRESS`
//! (`feed_stall_seconds`, the `feed_stall` fault) holds up the later ones (Feeds API use case
//! guide; selling-partner-api-models #657, #4354, #2633: later feeds wait for days behind a
//! stuck one). The `feed_unapplied` fault ends a listings feed DONE, its report accepting every
//! valid message, with some SKUs unchanged (selling-partner-api-models #5327, Amazon staff). A
//! flat-file order feed that begins with a UTF-8 byte-order mark is not read: its
//! report has one Fatal error 50001 and nothing is applied (selling-partner-api-models #5153,
//! Amazon staff).

use super::listings::{
    apply_attribute, apply_patches, check_product_type, offer_only, patched_attribute, Mode, Patch,
};
use super::{iso, Ctx};

use crate::faults::FaultKind;
use crate::reply::{Body, Reply};
use crate::server::lock;
use crate::world::{CanceledBy, Cause, Document, Feed, Processing, Refund, World};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Presigned URLs expire after 5 minutes (divided by the rate scale).
pub const URL_LIFETIME_S: f64 = 300.0;
/// Documents larger than this are stored gzip-compressed, as Amazon does for large ones.
const GZIP_ABOVE: usize = 64 * 1024;

/// Feed types Amazon removed; a feed of one of these ends FATAL.
const RETIRED: &[&str] = &[
    "POST_PRODUCT_DATA",
    "POST_INVENTORY_AVAILABILITY_DATA",
    "POST_PRODUCT_OVERRIDES_DATA",
    "POST_PRODUCT_PRICING_DATA",
    "POST_PRODUCT_IMAGE_DATA",
    "POST_PRODUCT_RELATIONSHIP_DATA",
    "POST_FLAT_FILE_INVLOADER_DATA",
    "POST_FLAT_FILE_LISTINGS_DATA",
    "POST_FLAT_FILE_BOOKLOADER_DATA",
    "POST_FLAT_FILE_CONVERGENCE_LISTINGS_DATA",
    "POST_FLAT_FILE_PRICEANDQUANTITYONLY_UPDATE_DATA",
    "POST_UIEE_BOOKLOADER_DATA",
];
/// Feed types processed here.
const SUPPORTED: &[&str] = &[
    "JSON_LISTINGS_FEED",
    "POST_FLAT_FILE_ORDER_ACKNOWLEDGEMENT_DATA",
    "POST_FLAT_FILE_PAYMENT_ADJUSTMENT_DATA",
    "POST_FLAT_FILE_FULFILLMENT_DATA",
];
/// Most messages in one `JSON_LISTINGS_FEED`.
pub const MAX_MESSAGES: usize = 25_000;
/// The UTF-8 byte-order mark, which Amazon's flat-file feeds refuse.
const BOM: &[u8] = b"\xEF\xBB\xBF";

fn scaled(ctx_scale: f64, seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds / ctx_scale)
}

/// Stores a document and returns its id.
pub fn store_document(
    world: &mut World,
    content_type: &str,
    data: Option<Vec<u8>>,
    scale: f64,
) -> String {
    let id = format!("amzn1.tortuga.4.na.{}", world.random_hex(32));
    let gzip = data.as_ref().is_some_and(|d| d.len() > GZIP_ABOVE);
    let body = data.map(|d| if gzip { gzip_bytes(&d) } else { d });
    world.documents.insert(
        id.clone(),
        Document {
            content_type: content_type.to_string(),
            body,
            gzip,
            url_expires: Instant::now() + scaled(scale, URL_LIFETIME_S),
        },
    );
    id
}

fn gzip_bytes(d: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(d);
    e.finish().unwrap_or_default()
}

fn url(ctx: &Ctx<'_>, id: &str) -> String {
    format!("{}/_documents/{}", ctx.shared.base_url, id)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateDocument {
    content_type: String,
}

/// `POST /feeds/2021-06-30/documents` → 201 with an upload URL.
pub fn create_document(ctx: &mut Ctx<'_>) -> Reply {
    let req: CreateDocument = match ctx.json(Reply::invalid_400) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if req.content_type.is_empty() {
        return Reply::invalid_400("contentType is required");
    }
    let id = store_document(ctx.world, &req.content_type, None, ctx.shared.rate_scale);
    Reply::json(201, json!({"feedDocumentId": id, "url": url(ctx, &id)}))
}

/// The presigned URL: `PUT` uploads a feed document, `GET` downloads a result or report.
pub fn document(ctx: &mut Ctx<'_>) -> Reply {
    let id = ctx.params[0].clone();
    let s3_error = |status: u16, code: &str, message: &str| {
        Reply {
        status,
        body: Body::Bytes {
            content_type: "application/xml".into(),
            data: format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>").into_bytes(),
            content_encoding_gzip: false,
        },
    }
    };
    let Some(doc) = ctx.world.documents.get_mut(&id) else {
        return s3_error(404, "NoSuchKey", "The specified key does not exist.");
    };
    if Instant::now() > doc.url_expires {
        return s3_error(403, "AccessDenied", "Request has expired");
    }
    if ctx.method == "PUT" {
        if doc.body.is_some() {
            return s3_error(403, "AccessDenied", "The document was already uploaded");
        }
        if ctx.content_type.as_deref() != Some(doc.content_type.as_str()) {
            return s3_error(
                403,
                "SignatureDoesNotMatch",
                "The Content-Type does not match the one given to createFeedDocument",
            );
        }
        doc.body = Some(ctx.body.to_vec());
        return Reply {
            status: 200,
            body: Body::Empty,
        };
    }
    match &doc.body {
        None => s3_error(404, "NoSuchKey", "The document has no content yet."),
        Some(data) => Reply {
            status: 200,
            body: Body::Bytes {
                content_type: doc.content_type.clone(),
                data: data.clone(),
                content_encoding_gzip: false,
            },
        },
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateFeed {
    feed_type: String,
    marketplace_ids: Vec<String>,
    input_feed_document_id: String,
}

/// `POST /feeds/2021-06-30/feeds` → 202.
pub fn create_feed(ctx: &mut Ctx<'_>) -> Reply {
    let req: CreateFeed = match ctx.json(Reply::invalid_400) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if req.marketplace_ids.is_empty() || req.marketplace_ids.len() > 25 {
        return Reply::invalid_400("marketplaceIds must name 1 to 25 marketplaces");
    }
    if !SUPPORTED.contains(&req.feed_type.as_str()) && !RETIRED.contains(&req.feed_type.as_str()) {
        return Reply::invalid_400(&format!("Invalid feedType {}", req.feed_type));
    }
    match ctx.world.documents.get(&req.input_feed_document_id) {
        Some(d) if d.body.is_some() => {}
        _ => return Reply::invalid_400("inputFeedDocumentId does not name an uploaded document"),
    }
    if req.feed_type == "JSON_LISTINGS_FEED"
        && !lock(&ctx.shared.buckets).take_listings_feed(&ctx.seller, Instant::now())
    {
        return Reply::quota_exceeded();
    }
    let id = ctx.world.id().to_string();
    let (scale, real) = (ctx.shared.rate_scale, Instant::now());
    // A third of the processing time in the queue, the rest in progress (and any stall).
    let total = ctx.world.settings.feed_processing_seconds;
    let stall = ctx.world.settings.feed_stall_seconds
        + match ctx.fault {
            Some(FaultKind::FeedStall { seconds }) => seconds as f64,
            _ => 0.0,
        };
    // Processing starts once the seller's previous feed of this type has ended.
    let previous_end = ctx
        .world
        .feeds
        .values()
        .filter(|f| f.seller_id == ctx.seller && f.feed_type == req.feed_type)
        .filter(|f| matches!(f.status, Processing::InQueue | Processing::InProgress))
        .map(|f| f.done_at)
        .max();
    let start_at = (real + scaled(scale, total / 3.0)).max(previous_end.unwrap_or(real));
    ctx.world.feeds.insert(
        id.clone(),
        Feed {
            feed_id: id.clone(),
            seller_id: ctx.seller.clone(),
            feed_type: req.feed_type,
            marketplace_ids: req.marketplace_ids,
            input_document_id: req.input_feed_document_id,
            created: ctx.now,
            status: Processing::InQueue,
            started: None,
            ended: None,
            result_document_id: None,
            start_at,
            done_at: start_at + scaled(scale, total * 2.0 / 3.0 + stall),
            doomed: ctx.fault == Some(FaultKind::FeedFatal),
            unapplied: match ctx.fault {
                Some(FaultKind::FeedUnapplied { messages }) => messages as usize,
                _ => 0,
            },
        },
    );
    Reply::json(202, json!({ "feedId": id }))
}

fn feed_json(f: &Feed) -> Value {
    let mut v = json!({"feedId": f.feed_id, "feedType": f.feed_type, "marketplaceIds": f.marketplace_ids,
                       "createdTime": iso(f.created), "processingStatus": f.status.as_str()});
    if let Some(t) = f.started {
        v["processingStartTime"] = json!(iso(t));
    }
    if let Some(t) = f.ended {
        v["processingEndTime"] = json!(iso(t));
    }
    if let Some(d) = &f.result_document_id {
        v["resultFeedDocumentId"] = json!(d);
    }
    v
}

/// `GET /feeds/2021-06-30/feeds/{feedId}`.
pub fn get_feed(ctx: &mut Ctx<'_>) -> Reply {
    match ctx
        .world
        .feeds
        .get(&ctx.params[0])
        .filter(|f| f.seller_id == ctx.seller)
    {
        Some(f) => Reply::json(200, feed_json(f)),
        None => Reply::not_found(&format!("Feed {} not found", ctx.params[0])),
    }
}

/// `GET /feeds/2021-06-30/feeds`: the seller's feeds, newest first, filtered by `feedTypes`
/// (required unless `nextToken` is given), `marketplaceIds`, `processingStatuses`,
/// `createdSince` (default 90 days ago) and `createdUntil` (default now), `pageSize` (1 to
/// 100, default 10) at a time; `nextToken` must be the only parameter when given.
pub fn get_feeds(ctx: &mut Ctx<'_>) -> Reply {
    // A nextToken carries the first page's filters (as JSON, hex-encoded) and the offset.
    let offset = match ctx.q("nextToken") {
        Some(token) => {
            if ctx.query.len() > 1 {
                return Reply::invalid_400("nextToken must be the only parameter when given");
            }
            let decoded = token.split_once('.').and_then(|(o, f)| {
                let filters = serde_json::from_slice(&hex_decode(f)?).ok()?;
                Some((o.parse::<usize>().ok()?, filters))
            });
            match decoded {
                Some((offset, filters)) => {
                    ctx.query = filters;
                    offset
                }
                None => return Reply::invalid_400("Invalid nextToken"),
            }
        }
        None => 0,
    };
    let types = ctx.q_list("feedTypes");
    if types.is_empty() {
        return Reply::invalid_400("Either feedTypes or nextToken is required");
    }
    let marketplaces = ctx.q_list("marketplaceIds");
    if types.len() > 10 || marketplaces.len() > 10 {
        return Reply::invalid_400("feedTypes and marketplaceIds take 1 to 10 values");
    }
    let statuses = ctx.q_list("processingStatuses");
    let page = match ctx.q("pageSize").map(str::parse::<usize>) {
        None => 10,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return Reply::invalid_400("pageSize must be from 1 to 100"),
    };
    let (since, until) = match (ctx.q_time("createdSince"), ctx.q_time("createdUntil")) {
        (Ok(since), Ok(until)) => (
            since.unwrap_or(ctx.now - chrono::Duration::days(90)),
            until.unwrap_or(ctx.now),
        ),
        (Err(e), _) | (_, Err(e)) => return Reply::invalid_400(&e),
    };
    let mut feeds: Vec<&Feed> = ctx
        .world
        .feeds
        .values()
        .filter(|f| f.seller_id == ctx.seller)
        .filter(|f| types.contains(&f.feed_type))
        .filter(|f| {
            marketplaces.is_empty() || f.marketplace_ids.iter().any(|m| marketplaces.contains(m))
        })
        .filter(|f| statuses.is_empty() || statuses.iter().any(|s| s == f.status.as_str()))
        .filter(|f| f.created >= since && f.created <= until)
        .collect();
    feeds.sort_by(|a, b| b.created.cmp(&a.created).then(b.feed_id.cmp(&a.feed_id)));
    let mut body = json!({"feeds": feeds.iter().skip(offset).take(page).map(|f| feed_json(f)).collect::<Vec<_>>()});
    if feeds.len() > offset + page {
        let filters = serde_json::to_vec(&ctx.query).unwrap_or_default();
        body["nextToken"] = json!(format!("{}.{}", offset + page, hex_encode(&filters)));
    }
    Reply::json(200, body)
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `DELETE /feeds/2021-06-30/feeds/{feedId}`: only a feed still in the queue.
pub fn cancel_feed(ctx: &mut Ctx<'_>) -> Reply {
    let now = ctx.now;
    match ctx
        .world
        .feeds
        .get_mut(&ctx.params[0])
        .filter(|f| f.seller_id == ctx.seller)
    {
        Some(f) if f.status == Processing::InQueue => {
            f.status = Processing::Cancelled;
            f.ended = Some(now);
            Reply::json(200, json!({}))
        }
        Some(_) => Reply::invalid_400("Only feeds in IN_QUEUE can be cancelled"),
        None => Reply::not_found(&format!("Feed {} not found", ctx.params[0])),
    }
}

/// `GET /feeds/2021-06-30/documents/{id}` and `GET /reports/2021-06-30/documents/{id}`.
pub fn get_document(ctx: &mut Ctx<'_>, report: bool) -> Reply {
    let id = ctx.params[0].clone();
    let owned = if report {
        ctx.world
            .reports
            .values()
            .any(|r| r.seller_id == ctx.seller && r.document_id.as_deref() == Some(id.as_str()))
    } else {
        ctx.world.feeds.values().any(|f| {
            f.seller_id == ctx.seller && f.result_document_id.as_deref() == Some(id.as_str())
        })
    };
    let scale = ctx.shared.rate_scale;
    let link = url(ctx, &id);
    match ctx.world.documents.get_mut(&id).filter(|_| owned) {
        Some(doc) => {
            doc.url_expires = Instant::now() + scaled(scale, URL_LIFETIME_S);
            let key = if report {
                "reportDocumentId"
            } else {
                "feedDocumentId"
            };
            let mut v = json!({ key: id, "url": link });
            if doc.gzip {
                v["compressionAlgorithm"] = json!("GZIP");
            }
            Reply::json(200, v)
        }
        None => Reply::not_found(&format!("Document {id} not found")),
    }
}

/// Moves feeds through the queue and processes those whose time has come, each seller's feeds
/// of one type in the order created: one waits while an earlier one is open.
pub fn tick(world: &mut World, now: DateTime<Utc>) {
    if world.feeds_held {
        return;
    }
    let real = Instant::now();
    let mut open: Vec<(DateTime<Utc>, u64, String)> = world
        .feeds
        .values()
        .filter(|f| matches!(f.status, Processing::InQueue | Processing::InProgress))
        .map(|f| {
            (
                f.created,
                f.feed_id.parse().unwrap_or(u64::MAX),
                f.feed_id.clone(),
            )
        })
        .collect();
    open.sort();
    // Seller and feed type of each feed still open after this tick: later ones wait.
    let mut busy = std::collections::HashSet::new();
    for (_, _, id) in open {
        let Some(f) = world.feeds.get_mut(&id) else {
            continue;
        };
        let lane = (f.seller_id.clone(), f.feed_type.clone());
        if busy.contains(&lane) {
            continue;
        }
        if f.status == Processing::InQueue {
            if f.start_at > real {
                busy.insert(lane);
                continue;
            }
            f.status = Processing::InProgress;
            f.started = Some(now);
        }
        if f.done_at > real {
            busy.insert(lane);
            continue;
        }
        let feed = f.clone();
        let input = world
            .documents
            .get(&feed.input_document_id)
            .and_then(|d| d.body.clone())
            .unwrap_or_default();
        let outcome = if feed.doomed || RETIRED.contains(&feed.feed_type.as_str()) {
            None
        } else if feed.feed_type == "JSON_LISTINGS_FEED" {
            listings_feed(world, &feed, &input, now)
                .map(|v| ("application/json", v.to_string().into_bytes()))
        } else {
            Some((
                "text/plain; charset=UTF-8",
                order_feed(world, &feed, &input, now).into_bytes(),
            ))
        };
        let doc = outcome.map(|(ct, data)| store_document(world, ct, Some(data), 1.0));
        if let Some(f) = world.feeds.get_mut(&id) {
            f.status = if doc.is_some() {
                Processing::Done
            } else {
                Processing::Fatal
            };
            f.ended = Some(now);
            f.result_document_id = doc;
        }
    }
}

fn schema(text: &'static str) -> Option<jsonschema::JSONSchema> {
    let v: Value = serde_json::from_str(text).ok()?;
    jsonschema::JSONSchema::compile(&v).ok()
}

fn message_schema() -> Option<&'static jsonschema::JSONSchema> {
    static S: OnceLock<Option<jsonschema::JSONSchema>> = OnceLock::new();
    S.get_or_init(|| {
        schema(include_str!(
            "../../spapi-models/listings-feed-message-schema-v2.json"
        ))
    })
    .as_ref()
}

/// Validates and applies a `JSON_LISTINGS_FEED`; None (FATAL) when the document itself is unusable.
fn listings_feed(
    world: &mut World,
    feed: &Feed,
    input: &[u8],
    now: DateTime<Utc>,
) -> Option<Value> {
    let doc: Value = serde_json::from_slice(input).ok()?;
    let header_ok = doc.pointer("/header/sellerId").and_then(Value::as_str)
        == Some(feed.seller_id.as_str())
        && doc.pointer("/header/version").and_then(Value::as_str) == Some("2.0");
    let messages = doc.get("messages").and_then(Value::as_array)?;
    if !header_ok || messages.is_empty() || messages.len() > MAX_MESSAGES {
        return None;
    }
    let validator = message_schema()?;
    let mut issues = Vec::new();
    let (mut accepted, mut invalid) = (0, 0);
    let mut seen = std::collections::HashSet::new();
    for m in messages {
        let id = m.get("messageId").cloned().unwrap_or(Value::Null);
        let sku = m
            .get("sku")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let mut err = |code: &str, msg: String| {
            issues.push(json!({"messageId": id, "sku": sku, "code": code, "severity": "ERROR", "message": msg}));
        };
        if let Err(errors) = validator.validate(m) {
            let text: Vec<String> = errors
                .map(|e| format!("{} at {}", e, e.instance_path))
                .take(3)
                .collect();
            err(
                "4000001",
                format!("The message does not match the schema: {}", text.join("; ")),
            );
            invalid += 1;
            continue;
        }
        if !seen.insert(id.to_string()) {
            err("4000002", "messageId is not unique in this feed".into());
            invalid += 1;
            continue;
        }
        if accepted < feed.unapplied {
            accepted += 1; // Reported accepted, never applied (fault `feed_unapplied`).
            continue;
        }
        match apply_message(world, feed, &sku, m, now) {
            Ok(()) => accepted += 1,
            Err((code, msg)) => {
                err(&code, msg);
                invalid += 1;
            }
        }
    }
    Some(json!({
        "header": {"sellerId": feed.seller_id, "version": "2.0", "feedId": feed.feed_id},
        "issues": issues,
        "summary": {"errors": invalid, "warnings": 0, "messagesProcessed": messages.len(),
                    "messagesAccepted": accepted, "messagesInvalid": invalid}
    }))
}

fn apply_message(
    world: &mut World,
    feed: &Feed,
    sku: &str,
    m: &Value,
    now: DateTime<Utc>,
) -> Result<(), (String, String)> {
    let (seller, feed_id) = (feed.seller_id.as_str(), feed.feed_id.as_str());
    let key = (seller.to_string(), sku.to_string());
    let op = m.get("operationType").and_then(Value::as_str).unwrap_or("");
    if op == "DELETE" {
        return world
            .listings
            .remove(&key)
            .map(|_| ())
            .ok_or(("NOT_FOUND".into(), format!("SKU '{sku}' has no listing")));
    }
    let current = world
        .listings
        .get(&key)
        .ok_or(("NOT_FOUND".into(), format!("SKU '{sku}' has no listing")))?;
    let product_type = m.get("productType").and_then(Value::as_str).unwrap_or("");
    let attrs = m.get("attributes").and_then(Value::as_object);
    let mut next = match op {
        "PATCH" => {
            let patches: Vec<Patch> =
                serde_json::from_value(m.get("patches").cloned().unwrap_or_default())
                    .map_err(|e| ("INVALID_PATCH".to_string(), e.to_string()))?;
            let names = patches.iter().filter_map(|p| patched_attribute(&p.path));
            check_product_type(current, product_type, offer_only(names))?;
            apply_patches(current, &patches)?
        }
        _ => {
            let names = attrs.into_iter().flat_map(|a| a.keys().map(String::as_str));
            check_product_type(current, product_type, offer_only(names))?;
            let mut l = current.clone();
            for (name, value) in attrs.into_iter().flatten() {
                apply_attribute(&mut l, name, value, Mode::Replace)?;
            }
            l
        }
    };
    next.last_updated = now;
    let cause = Cause::Feed {
        feed_id: feed_id.to_string(),
    };
    world.listings.save(seller, next, cause);
    Ok(())
}

/// Processes a flat-file order feed; returns Amazon's text processing report.
fn order_feed(world: &mut World, feed: &Feed, input: &[u8], now: DateTime<Utc>) -> String {
    if input.starts_with(BOM) {
        // Amazon reads no record of such a file (selling-partner-api-models #5153).
        let error = "0\t\t\t50001\tFatal\tThe file begins with a byte-order mark (BOM) and could \
                     not be processed. Save it as UTF-8 without a BOM and submit it again.";
        return order_report(0, &[error.to_string()]);
    }
    let text = String::from_utf8_lossy(input);
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split('\t')
        .map(|h| h.trim().to_string())
        .collect();
    let mut errors = Vec::new();
    let mut processed = 0;
    for (n, line) in lines.enumerate() {
        processed += 1;
        let cols: Vec<&str> = line.split('\t').collect();
        let col = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .and_then(|i| cols.get(i))
                .map(|s| s.trim())
                .unwrap_or("")
        };
        let order_id = col("order-id").to_string();
        let owned = world
            .orders
            .get(&order_id)
            .is_some_and(|o| o.seller_id == feed.seller_id);
        let result = if !owned {
            Err(format!("Order {order_id} not found"))
        } else {
            match feed.feed_type.as_str() {
                "POST_FLAT_FILE_ORDER_ACKNOWLEDGEMENT_DATA" => {
                    let reason = col("cancellation-reason-code");
                    if reason.is_empty() {
                        Err("cancellation-reason-code is required".into())
                    } else if !col("amazon-order-item-code").is_empty() {
                        world.cancel_items(
                            &order_id,
                            &[col("amazon-order-item-code").to_string()],
                            reason,
                            now,
                        )
                    } else if world.cancel_order(&order_id, CanceledBy::Seller, reason, now) {
                        Ok(())
                    } else {
                        Err(format!(
                            "Order {order_id} cannot be cancelled in its current status"
                        ))
                    }
                }
                "POST_FLAT_FILE_PAYMENT_ADJUSTMENT_DATA" => {
                    let amount = col("item-price-adj");
                    if amount.parse::<f64>().is_err() || col("adjustment-reason-code").is_empty() {
                        Err(
                            "adjustment-reason-code and a numeric item-price-adj are required"
                                .into(),
                        )
                    } else {
                        world.refunds.push(Refund {
                            order_id: order_id.clone(),
                            order_item_id: col("order-item-id").to_string(),
                            reason: col("adjustment-reason-code").to_string(),
                            amount: amount.to_string(),
                            at: now,
                        });
                        Ok(())
                    }
                }
                _ => {
                    let qty = col("quantity").parse::<i64>().unwrap_or(0);
                    let pref = format!("{}", 1 + n);
                    world.confirm_package(
                        &order_id,
                        &pref,
                        (col("carrier-code"), Some(col("carrier-name"))),
                        col("tracking-number"),
                        vec![(col("order-item-id").to_string(), qty)],
                        now,
                    )
                }
            }
        };
        if let Err(e) = result {
            errors.push(format!(
                "{}\t{}\t{}\t25\tError\t{}",
                n + 1,
                order_id,
                col("order-item-id"),
                e
            ));
        }
    }
    order_report(processed, &errors)
}

/// A flat-file processing report: the summary, then one row per failed record.
fn order_report(processed: usize, errors: &[String]) -> String {
    let mut report = format!(
        "Feed Processing Summary:\n\tNumber of records processed\t\t{processed}\n\tNumber of records successful\t\t{}\n\n",
        processed.saturating_sub(errors.len())
    );
    report.push_str(
        "original-record-number\torder-id\torder-item-id\terror-code\terror-type\terror-message\n",
    );
    for e in errors {
        report.push_str(e);
        report.push('\n');
    }
    report
}
