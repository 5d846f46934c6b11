//! Feeds API: submitting a `JSON_LISTINGS_FEED` (document, upload, createFeed), following it,
//! and reading its processing report back.

use super::listings::quantity_patch;
use super::{ApiRequest, Client, Operation, Priority};
use crate::error::{Error, Result};
use crate::store::stock::FeedMessage;
use serde_json::{json, Value};

/// Most messages Amazon accepts in one JSON_LISTINGS_FEED.
pub const MAX_MESSAGES: usize = 25_000;

const JSON: &str = "application/json; charset=UTF-8";
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

/// Uploads and submits a listings feed (bulk priority); returns its feed id. (A listings feed
/// sent twice sets the same quantities twice.)
pub async fn submit(
    client: &Client,
    marketplace_ids: &[String],
    document: &Value,
) -> Result<String> {
    let (feed_id, _) = submit_document(
        client,
        "JSON_LISTINGS_FEED",
        JSON,
        marketplace_ids,
        document.to_string().into_bytes(),
        Priority::Bulk,
    )
    .await?;
    Ok(feed_id)
}

/// Uploads a feed document of `content_type` and submits it as `feed_type`; returns the feed
/// id, and whether createFeed was sent again after an attempt Amazon may have acted on (then
/// an earlier copy of the feed may have been applied too).
pub async fn submit_document(
    client: &Client,
    feed_type: &str,
    content_type: &str,
    marketplace_ids: &[String],
    bytes: Vec<u8>,
    priority: Priority,
) -> Result<(String, bool)> {
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
    let body = json!({"feedType": feed_type, "marketplaceIds": marketplace_ids, "inputFeedDocumentId": doc_id});
    let (feed, repeated) = client
        .call_noting_repeats(
            &ApiRequest::post(Operation::CreateFeed, "/feeds/2021-06-30/feeds", body)
                .with_priority(priority),
        )
        .await?;
    let feed_id = feed_answer(&feed)?;
    Ok((feed_id, repeated))
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
