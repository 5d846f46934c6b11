//! Feeds API: uploading a feed document, createFeed (at most once), the seller's list of
//! feeds, following a feed, and reading its processing report back.

use super::listings::quantity_patch;
use super::{ApiRequest, Client, Once, Operation, Priority};
use crate::error::{Error, Result};
use crate::store::stock::FeedMessage;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// The feed type of listings feeds.
pub const LISTINGS_FEED: &str = "JSON_LISTINGS_FEED";
/// Most messages Amazon accepts in one JSON_LISTINGS_FEED.
pub const MAX_MESSAGES: usize = 25_000;

/// Content type of the JSON feeds.
pub const JSON: &str = "application/json; charset=UTF-8";
/// Content type of the flat-file (tab-separated) order feeds.
pub const TSV: &str = "text/tab-separated-values; charset=UTF-8";

/// The feed document setting the quantities in `messages`.
pub fn listings_feed(seller_id: &str, messages: &[(FeedMessage, String)]) -> Value {
    let messages: Vec<Value> = messages
        .iter()
        .map(|(m, product_type)| {
            json!({"messageId": m.message_id, "sku": m.sku, "operationType": "PATCH",
                   "productType": product_type, "patches": quantity_patch(m.quantity, m.handling_days)})
        })
        .collect();
    json!({"header": {"sellerId": seller_id, "version": "2.0", "issueLocale": "en_US"}, "messages": messages})
}

/// Uploads a feed document of `content_type`; returns its id (Amazon acts on it only once a
/// createFeed names it).
pub async fn upload_document(
    client: &Client,
    content_type: &str,
    bytes: Vec<u8>,
    priority: Priority,
) -> Result<String> {
    let spec = json!({"contentType": content_type});
    let doc = client
        .call(
            &ApiRequest::post(
                Operation::CreateFeedDocument,
                "/feeds/2021-06-30/documents",
                spec,
            )
            .with_priority(priority),
        )
        .await?;
    let (doc_id, url) = feed_document_answer(&doc)?;
    client.upload(url, content_type, bytes).await?;
    Ok(doc_id.to_string())
}

/// Sends createFeed for an uploaded document, at most once: an attempt Amazon may have taken
/// (a timeout, a dropped connection, a 5xx) is never sent again here; the answer is then
/// `Once::Uncertain` and Amazon's list of feeds ([`created_since`]) says whether it was
/// taken. Done: the feed id. Err: surely not created.
pub async fn create(
    client: &Client,
    feed_type: &str,
    marketplace_ids: &[String],
    document_id: &str,
    priority: Priority,
) -> Result<Once<String>> {
    let body = json!({"feedType": feed_type, "marketplaceIds": marketplace_ids, "inputFeedDocumentId": document_id});
    let req = ApiRequest::post(Operation::CreateFeed, "/feeds/2021-06-30/feeds", body)
        .with_priority(priority);
    Ok(match client.call_at_most_once(&req).await? {
        // Accepted, but without a readable id: created, perhaps; the list of feeds tells.
        Once::Done(feed) => feed_answer(&feed).map_or_else(Once::Uncertain, Once::Done),
        Once::Uncertain(e) => Once::Uncertain(e),
    })
}

/// The seller's feeds of `feed_type` (for `marketplace_ids` when there are at most 10, as
/// getFeeds filters) created since `since` (Amazon's time), oldest first: (feed id, created
/// time). Pages through `nextToken`.
pub async fn created_since(
    client: &Client,
    feed_type: &str,
    marketplace_ids: &[String],
    since: DateTime<Utc>,
) -> Result<Vec<(String, DateTime<Utc>)>> {
    let since = since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut first = ApiRequest::get(Operation::GetFeeds, "/feeds/2021-06-30/feeds")
        .q("feedTypes", feed_type)
        .q("createdSince", since)
        .q("pageSize", "100");
    if (1..=10).contains(&marketplace_ids.len()) {
        first = first.q("marketplaceIds", marketplace_ids.join(","));
    }
    let mut req = first;
    let mut out = Vec::new();
    loop {
        let page = client.call(&req).await?;
        for f in page["feeds"].as_array().into_iter().flatten() {
            let created = f["createdTime"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
            if let (Some(id), Some(created)) = (f["feedId"].as_str(), created) {
                out.push((id.to_string(), created.with_timezone(&Utc)));
            }
        }
        match page["nextToken"].as_str() {
            Some(token) if !token.is_empty() => {
                req = ApiRequest::get(Operation::GetFeeds, "/feeds/2021-06-30/feeds")
                    .q("nextToken", token)
            }
            _ => break,
        }
    }
    out.sort_by_key(|(_, t)| *t);
    Ok(out)
}

/// Reads a `createFeedDocument` answer: the document id and the upload URL.
pub fn feed_document_answer(doc: &Value) -> Result<(&str, &str)> {
    match (doc["feedDocumentId"].as_str(), doc["url"].as_str()) {
        (Some(id), Some(url)) => Ok((id, url)),
        _ => Err(Error::Network(
            "createFeedDocument answered without feedDocumentId or url".into(),
        )),
    }
}

/// Reads a `createFeed` answer: the feed id.
pub fn feed_answer(feed: &Value) -> Result<String> {
    feed["feedId"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| Error::Network("createFeed answered without feedId".into()))
}

/// Where a feed stands (`getFeed`).
pub async fn status(client: &Client, feed_id: &str) -> Result<FeedStatus> {
    let v = client
        .call(&ApiRequest::get(
            Operation::GetFeed,
            format!(
                "/feeds/2021-06-30/feeds/{}",
                super::listings::encode_segment(feed_id)
            ),
        ))
        .await?;
    Ok(status_answer(&v))
}

/// Where a feed stands (a `getFeed` answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedStatus {
    /// `processingStatus`: IN_QUEUE, IN_PROGRESS, DONE, FATAL or CANCELLED.
    pub status: String,
    /// The result (processing report) document, once done.
    pub document: Option<String>,
    /// `processingEndTime` (Amazon's time): everything it applied was applied by then.
    pub ended: Option<chrono::DateTime<chrono::Utc>>,
}

/// Reads a `getFeed` answer.
pub fn status_answer(v: &Value) -> FeedStatus {
    FeedStatus {
        status: v["processingStatus"].as_str().unwrap_or("").to_string(),
        document: v["resultFeedDocumentId"].as_str().map(str::to_string),
        ended: v["processingEndTime"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&chrono::Utc)),
    }
}

/// Records that a feed ended `status` (FATAL, CANCELLED, or DONE without a report): nothing
/// of it was applied, and its content is sent again.
pub fn ended_without_result(feed_id: &str, status: &str) {
    let message = format!(
        "feed {feed_id} ended {status} without applying anything; its content is sent again"
    );
    tracing::warn!("{message}");
    super::incidents::record(super::incidents::Incident {
        operation: "createFeed".into(),
        fault: super::incidents::Fault::FeedFatal,
        http_status: None,
        next: super::incidents::Next::Resend,
        message,
    });
}

/// Downloads a processing report.
pub async fn report_bytes(client: &Client, document_id: &str) -> Result<Vec<u8>> {
    let path = format!(
        "/feeds/2021-06-30/documents/{}",
        super::listings::encode_segment(document_id)
    );
    client
        .fetch_document(Operation::GetFeedDocument, path)
        .await
}

/// Downloads and parses a listings feed's processing report (JSON).
pub async fn report(client: &Client, document_id: &str) -> Result<Value> {
    parse_report(&report_bytes(client, document_id).await?)
}

/// Parses a listings feed's processing report (JSON); one that is not JSON is unreadable and
/// read again later.
pub fn parse_report(bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes).map_err(|e| {
        tracing::warn!("the processing report is not JSON: {e}");
        super::unreadable_document("the processing report")
    })
}

/// The errors of a flat-file feed's processing report, by original record number (1-based).
/// A report without its summary, or with fewer failed records than the summary counts (cut
/// off), cannot be read.
pub fn flat_file_errors(report: &[u8]) -> Result<std::collections::HashMap<usize, String>> {
    let text = String::from_utf8_lossy(report);
    let count = |name: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(name))
            .and_then(|l| {
                l.split('\t')
                    .filter_map(|c| c.trim().parse::<usize>().ok())
                    .next()
            })
    };
    let (Some(processed), Some(successful)) = (
        count("Number of records processed"),
        count("Number of records successful"),
    ) else {
        return Err(super::unreadable_document("the processing report"));
    };
    let errors = flat_file_error_rows(&text);
    if errors.len() < processed.saturating_sub(successful) {
        return Err(super::unreadable_document("the processing report"));
    }
    Ok(errors)
}

fn flat_file_error_rows(text: &str) -> std::collections::HashMap<usize, String> {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.starts_with("original-record-number"));
    let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (record, code, message) = (
        col("original-record-number"),
        col("error-code"),
        col("error-message"),
    );
    lines
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            let n = cells.get(record?)?.trim().parse().ok()?;
            let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).copied().unwrap_or("");
            Some((n, format!("{}: {}", cell(code), cell(message))))
        })
        .collect()
}

/// Splits a feed's messages by its report: those with an ERROR issue are rejected, with its text.
pub fn outcome(
    messages: &[FeedMessage],
    report: &Value,
) -> (Vec<FeedMessage>, Vec<(FeedMessage, String)>) {
    let mut errors: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
    for issue in report["issues"].as_array().into_iter().flatten() {
        if issue["severity"] == "ERROR" {
            if let Some(id) = issue["messageId"].as_i64() {
                let text = format!(
                    "{}: {}",
                    issue["code"].as_str().unwrap_or(""),
                    issue["message"].as_str().unwrap_or("")
                );
                errors.entry(id).or_insert(text);
            }
        }
    }
    let mut accepted = Vec::new();
    let mut rejected = Vec::new();
    for m in messages {
        match errors.remove(&m.message_id) {
            Some(e) => rejected.push((m.clone(), e)),
            None => accepted.push(m.clone()),
        }
    }
    (accepted, rejected)
}
