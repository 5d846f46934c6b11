//! An SQS-compatible endpoint on the emulator's own port, speaking the AWS JSON 1.0 protocol
//! as current AWS SDKs do: `POST /` (or to a queue URL) with `X-Amz-Target: AmazonSQS.<Action>`,
//! `Content-Type: application/x-amz-json-1.0` and a JSON body; errors as
//! `{"__type": "com.amazonaws.sqs#<Code>", "message": ...}` with the `x-amzn-query-error`
//! header. Requests must carry an AWS Signature V4 `Authorization` header of the emulator's
//! access key (see [`authenticate`]).

use crate::queues::{self, Deleted, Message, Queue};
use crate::server::Shared;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// The content type of the AWS JSON 1.0 protocol.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// The AWS access key pair the emulator's SQS accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsCredentials {
    /// Access key id (the `Credential=` of the `Authorization` header).
    pub access_key_id: String,
    /// Secret access key (signs requests).
    pub secret_access_key: String,
}

impl Default for AwsCredentials {
    /// The emulator's public test credentials.
    fn default() -> Self {
        AwsCredentials {
            access_key_id: "AKIAEMULATOR00000000".into(),
            secret_access_key: "emulator/aws/secret/key/0000000000000000".into(),
        }
    }
}

/// An SQS error: HTTP status, the code (`__type` and `x-amzn-query-error`) and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqsError {
    /// HTTP status.
    pub status: u16,
    /// The error shape's name in `__type` (e.g. `QueueDoesNotExist`).
    pub shape: &'static str,
    /// The query-protocol code in `x-amzn-query-error` (e.g. `AWS.SimpleQueueService.NonExistentQueue`).
    pub query_code: &'static str,
    /// Human-readable message.
    pub message: String,
}

impl SqsError {
    fn new(status: u16, shape: &'static str, query_code: &'static str, message: &str) -> Self {
        SqsError {
            status,
            shape,
            query_code,
            message: message.to_string(),
        }
    }
    fn no_queue() -> Self {
        Self::new(
            400,
            "QueueDoesNotExist",
            "AWS.SimpleQueueService.NonExistentQueue",
            "The specified queue does not exist.",
        )
    }
    fn invalid(message: &str) -> Self {
        Self::new(
            400,
            "InvalidParameterValue",
            "InvalidParameterValue",
            message,
        )
    }
    fn receipt_handle(handle: &str) -> Self {
        Self::new(
            400,
            "ReceiptHandleIsInvalid",
            "ReceiptHandleIsInvalid",
            &format!("The input receipt handle \"{handle}\" is not a valid receipt handle."),
        )
    }
    fn unavailable() -> Self {
        Self::new(
            503,
            "ServiceUnavailable",
            "ServiceUnavailable",
            "Service is unable to handle request.",
        )
    }
    /// Whether the client or the service is at fault (`x-amzn-query-error`'s second part).
    fn fault(&self) -> &'static str {
        if self.status >= 500 {
            "Receiver"
        } else {
            "Sender"
        }
    }
}

/// Whether a request is meant for SQS (its `X-Amz-Target` names an SQS action).
pub fn is_sqs(headers: &HeaderMap) -> bool {
    target(headers).is_some()
}

fn target(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.strip_prefix("AmazonSQS."))
}

/// Authenticates an SQS request as AWS does: its AWS Signature V4 (`Authorization` header and
/// `x-amz-date`) must be made with the emulator's access key and secret over this very request
/// (method, path, query, signed headers, body), at most 15 minutes from the real clock (SQS
/// runs on real time, not on the emulated clock). Refusals carry AWS's codes:
/// `MissingAuthenticationToken`, `IncompleteSignature`, `InvalidClientTokenId`,
/// `RequestExpired`, `SignatureDoesNotMatch`.
pub fn authenticate(
    credentials: &AwsCredentials,
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), SqsError> {
    let headers: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let request = sellsync_sigv4::Request {
        method,
        path,
        query,
        headers: &headers,
        body,
    };
    let lookup = |key_id: &str| {
        (key_id == credentials.access_key_id).then(|| credentials.secret_access_key.clone())
    };
    match sellsync_sigv4::verify(&request, lookup, chrono::Utc::now()) {
        Ok(_) => Ok(()),
        Err(e) => {
            let message = match &e {
                sellsync_sigv4::VerifyError::UnknownAccessKey => {
                    "The security token included in the request is invalid.".to_string()
                }
                other => other.to_string(),
            };
            Err(SqsError::new(403, e.code(), e.code(), &message))
        }
    }
}

/// Serves one SQS request.
pub async fn handle(
    s: &Shared,
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let result = async {
        if s.queues.is_down() {
            return Err(SqsError::unavailable());
        }
        authenticate(&s.aws, method, path, query, headers, body)?;
        let action = target(headers).unwrap_or("");
        let req: Map<String, Value> = if body.is_empty() {
            Map::new()
        } else {
            serde_json::from_slice(body)
                .map_err(|e| SqsError::invalid(&format!("Malformed request body: {e}")))?
        };
        crate::notify::pump(s);
        run(s, action, &req, path).await
    }
    .await;
    let b = Response::builder()
        .header("content-type", CONTENT_TYPE)
        .header("x-amzn-RequestId", queues::uuid());
    let (b, body) = match result {
        Ok(v) => (b.status(200), v),
        Err(e) => (
            b.status(e.status).header(
                "x-amzn-query-error",
                format!("{};{}", e.query_code, e.fault()),
            ),
            json!({"__type": format!("com.amazonaws.sqs#{}", e.shape), "message": e.message}),
        ),
    };
    b.body(axum::body::Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(axum::body::Body::empty()))
}

fn str_field<'a>(req: &'a Map<String, Value>, name: &str) -> Result<&'a str, SqsError> {
    req.get(name).and_then(Value::as_str).ok_or_else(|| {
        SqsError::invalid(&format!("The request must contain the parameter {name}."))
    })
}

fn int_field(
    req: &Map<String, Value>,
    name: &str,
    range: (u64, u64),
) -> Result<Option<u64>, SqsError> {
    match req.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if n >= range.0 && n <= range.1 => Ok(Some(n)),
            _ => Err(SqsError::invalid(&format!(
                "Value {v} for parameter {name} is invalid. Reason: Must be between {} and {}, if provided.",
                range.0, range.1
            ))),
        },
    }
}

/// The queue named by the request's `QueueUrl` (or, failing that, the path it was posted to).
fn queue_of(s: &Shared, req: &Map<String, Value>, path: &str) -> Result<Arc<Queue>, SqsError> {
    match req.get("QueueUrl").and_then(Value::as_str) {
        Some(url) => s.queues.by_url(url),
        None => s.queues.by_url(path),
    }
    .ok_or_else(SqsError::no_queue)
}

fn message_json(m: &Message, attributes: &[String]) -> Value {
    let mut v = json!({
        "MessageId": m.message_id,
        "ReceiptHandle": m.receipt_handle,
        "MD5OfBody": m.md5,
        "Body": m.body,
    });
    let all = attributes.iter().any(|a| a == "All");
    let wants = |a: &str| all || attributes.iter().any(|x| x == a);
    let mut attrs = Map::new();
    if wants("ApproximateReceiveCount") {
        attrs.insert(
            "ApproximateReceiveCount".into(),
            json!(m.receive_count.to_string()),
        );
    }
    if wants("SentTimestamp") {
        attrs.insert("SentTimestamp".into(), json!(m.sent_ms.to_string()));
    }
    if wants("ApproximateFirstReceiveTimestamp") {
        if let Some(t) = m.first_receive_ms {
            attrs.insert(
                "ApproximateFirstReceiveTimestamp".into(),
                json!(t.to_string()),
            );
        }
    }
    if !attrs.is_empty() {
        v["Attributes"] = Value::Object(attrs);
    }
    v
}

fn names(req: &Map<String, Value>, fields: &[&str]) -> Vec<String> {
    fields
        .iter()
        .filter_map(|f| req.get(*f).and_then(Value::as_array))
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

async fn run(
    s: &Shared,
    action: &str,
    req: &Map<String, Value>,
    path: &str,
) -> Result<Value, SqsError> {
    let qs = &s.queues;
    Ok(match action {
        "CreateQueue" => {
            let name = str_field(req, "QueueName")?;
            qs.create(name).map_err(|m| SqsError::invalid(&m))?;
            json!({"QueueUrl": qs.url(name)})
        }
        "GetQueueUrl" => {
            let name = str_field(req, "QueueName")?;
            qs.get(name).ok_or_else(SqsError::no_queue)?;
            json!({"QueueUrl": qs.url(name)})
        }
        "ListQueues" => {
            let prefix = req
                .get("QueueNamePrefix")
                .and_then(Value::as_str)
                .unwrap_or("");
            let urls: Vec<String> = qs.names(prefix).iter().map(|n| qs.url(n)).collect();
            json!({"QueueUrls": urls})
        }
        "GetQueueAttributes" => {
            let q = queue_of(s, req, path)?;
            let wanted = names(req, &["AttributeNames"]);
            let all = wanted.iter().any(|a| a == "All");
            let d = q.depth();
            let every = [
                ("ApproximateNumberOfMessages", d.visible.to_string()),
                (
                    "ApproximateNumberOfMessagesNotVisible",
                    d.in_flight.to_string(),
                ),
                ("ApproximateNumberOfMessagesDelayed", "0".to_string()),
                ("QueueArn", qs.arn(&q.name)),
                ("VisibilityTimeout", q.visibility_s.to_string()),
                ("CreatedTimestamp", q.created_s.to_string()),
                ("ReceiveMessageWaitTimeSeconds", "0".to_string()),
            ];
            let attrs: Map<String, Value> = every
                .into_iter()
                .filter(|(k, _)| all || wanted.iter().any(|w| w == k))
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            json!({"Attributes": attrs})
        }
        "SendMessage" => {
            let q = queue_of(s, req, path)?;
            let body = str_field(req, "MessageBody")?;
            if body.is_empty() || body.len() > 262_144 {
                return Err(SqsError::invalid(
                    "The message body must be 1 to 262,144 bytes long.",
                ));
            }
            let m = q.send(body);
            json!({"MD5OfMessageBody": m.md5, "MessageId": m.message_id})
        }
        "ReceiveMessage" => {
            let q = queue_of(s, req, path)?;
            let max = int_field(req, "MaxNumberOfMessages", (1, queues::MAX_RECEIVE as u64))?
                .unwrap_or(1);
            let wait = int_field(req, "WaitTimeSeconds", (0, queues::MAX_WAIT_S))?.unwrap_or(0);
            let vis = int_field(req, "VisibilityTimeout", (0, queues::MAX_VISIBILITY_S))?
                .unwrap_or(q.visibility_s);
            let attributes = names(req, &["AttributeNames", "MessageSystemAttributeNames"]);
            let got = q
                .receive(
                    max as usize,
                    Duration::from_secs(vis),
                    Duration::from_secs(wait),
                )
                .await;
            let msgs: Vec<Value> = got.iter().map(|m| message_json(m, &attributes)).collect();
            if msgs.is_empty() {
                json!({})
            } else {
                json!({"Messages": msgs})
            }
        }
        "DeleteMessage" => {
            let q = queue_of(s, req, path)?;
            let handle = str_field(req, "ReceiptHandle")?;
            if q.delete(handle) == Deleted::Invalid {
                return Err(SqsError::receipt_handle(handle));
            }
            json!({})
        }
        "DeleteMessageBatch" => {
            let q = queue_of(s, req, path)?;
            let entries = batch_entries(req)?;
            let (mut ok, mut failed) = (Vec::new(), Vec::new());
            for e in entries {
                let id = e.get("Id").and_then(Value::as_str).unwrap_or("");
                let handle = e.get("ReceiptHandle").and_then(Value::as_str).unwrap_or("");
                if q.delete(handle) == Deleted::Invalid {
                    let err = SqsError::receipt_handle(handle);
                    failed.push(json!({"Id": id, "SenderFault": true,
                        "Code": err.shape, "Message": err.message}));
                } else {
                    ok.push(json!({"Id": id}));
                }
            }
            json!({"Successful": ok, "Failed": failed})
        }
        "ChangeMessageVisibility" => {
            let q = queue_of(s, req, path)?;
            let handle = str_field(req, "ReceiptHandle")?;
            let vis = int_field(req, "VisibilityTimeout", (0, queues::MAX_VISIBILITY_S))?
                .ok_or_else(|| {
                    SqsError::invalid("The request must contain the parameter VisibilityTimeout.")
                })?;
            if !q.change_visibility(handle, Duration::from_secs(vis)) {
                return Err(SqsError::receipt_handle(handle));
            }
            json!({})
        }
        "PurgeQueue" => {
            queue_of(s, req, path)?.purge();
            json!({})
        }
        other => {
            return Err(SqsError::new(
                400,
                "UnsupportedOperation",
                "AWS.SimpleQueueService.UnsupportedOperation",
                &format!("The action {other} is not supported by this endpoint."),
            ))
        }
    })
}

fn batch_entries(req: &Map<String, Value>) -> Result<&Vec<Value>, SqsError> {
    let entries = req
        .get("Entries")
        .and_then(Value::as_array)
        .ok_or_else(|| SqsError::invalid("The request must contain the parameter Entries."))?;
    if entries.is_empty() {
        return Err(SqsError::new(
            400,
            "EmptyBatchRequest",
            "AWS.SimpleQueueService.EmptyBatchRequest",
            "There should be at least one DeleteMessageBatchRequestEntry in the request.",
        ));
    }
    if entries.len() > 10 {
        return Err(SqsError::new(
            400,
            "TooManyEntriesInBatchRequest",
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            "Maximum number of entries per request are 10.",
        ));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The headers of a `POST /` with `body`, signed with `key_id` and `secret` at `at`.
    fn signed(
        key_id: &str,
        secret: &str,
        body: &[u8],
        at: chrono::DateTime<chrono::Utc>,
    ) -> HeaderMap {
        let base = vec![
            ("host".to_string(), "127.0.0.1:9".to_string()),
            (
                "content-type".to_string(),
                "application/x-amz-json-1.0".to_string(),
            ),
        ];
        let request = sellsync_sigv4::Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &base,
            body,
        };
        let creds = sellsync_sigv4::Credentials {
            access_key_id: key_id.into(),
            secret_access_key: secret.into(),
            session_token: None,
        };
        let added = sellsync_sigv4::sign(&request, &creds, "us-east-1", "sqs", at);
        let mut h = HeaderMap::new();
        for (n, v) in base.iter().chain(&added) {
            h.insert(
                axum::http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn authentication_verifies_the_signature_of_the_known_key() {
        let c = AwsCredentials::default();
        let now = chrono::Utc::now();
        let body = br#"{"QueueUrl":"x"}"#;
        let ok = signed(&c.access_key_id, &c.secret_access_key, body, now);
        assert!(authenticate(&c, "POST", "/", "", &ok, body).is_ok());
        let shape = |h: &HeaderMap, body: &[u8]| {
            authenticate(&c, "POST", "/", "", h, body)
                .unwrap_err()
                .shape
        };
        // Another body than the one signed, another secret, another key, an old signature.
        assert_eq!(shape(&ok, br#"{"QueueUrl":"y"}"#), "SignatureDoesNotMatch");
        let wrong_secret = signed(&c.access_key_id, "not-the-secret", body, now);
        assert_eq!(shape(&wrong_secret, body), "SignatureDoesNotMatch");
        let wrong_key = signed("AKIAOTHER", &c.secret_access_key, body, now);
        assert_eq!(shape(&wrong_key, body), "InvalidClientTokenId");
        let old = signed(
            &c.access_key_id,
            &c.secret_access_key,
            body,
            now - chrono::Duration::minutes(20),
        );
        assert_eq!(shape(&old, body), "RequestExpired");
        let none = HeaderMap::new();
        let e = authenticate(&c, "POST", "/", "", &none, b"").unwrap_err();
        assert_eq!((e.status, e.shape), (403, "MissingAuthenticationToken"));
        assert_eq!(e.fault(), "Sender");
    }
}
