//! A receiver for the seller's Amazon SQS queue, where Amazon delivers the notifications the
//! application subscribed to. It speaks SQS's AWS JSON 1.0 protocol: a signed (SigV4, service
//! `sqs`) `POST` to the queue's endpoint with `X-Amz-Target: AmazonSQS.<Action>` and a JSON
//! body naming the `QueueUrl`.

use super::transport_text;
use crate::clock::Clock;
use crate::config::Config;
use crate::error::{quote, Error, Result};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// Content type of the AWS JSON 1.0 protocol.
const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
/// Longest wait SQS allows for a long poll, in seconds.
pub const MAX_WAIT_SECONDS: u32 = 20;
/// Most messages SQS returns for one receive, and most entries of one batch.
pub const MAX_MESSAGES: u32 = 10;
/// Longest piece of an SQS error message kept in an error.
const MESSAGE_CHARS: usize = 300;

/// One received message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// SQS's id of the message.
    pub id: String,
    /// The handle that deletes it (valid until its visibility timeout ends).
    pub receipt_handle: String,
    /// The message body: a notification document.
    pub body: String,
}

/// The seller's queue and the AWS credentials that read it.
#[derive(Debug)]
pub struct Queue {
    http: reqwest::Client,
    /// The queue URL, as configured.
    url: String,
    /// `scheme://host[:port]/`: where the calls go.
    endpoint: String,
    /// `host[:port]` as sent in the `Host` header (and signed).
    host: String,
    region: String,
    credentials: sellsync_sigv4::Credentials,
    /// Added to a long poll's wait for its request timeout.
    timeout: Duration,
    clock: Arc<dyn Clock>,
}

#[derive(Deserialize)]
struct Received {
    #[serde(rename = "Messages", default)]
    messages: Vec<ReceivedMessage>,
}

#[derive(Deserialize)]
struct ReceivedMessage {
    #[serde(rename = "MessageId")]
    id: String,
    #[serde(rename = "ReceiptHandle")]
    receipt_handle: String,
    #[serde(rename = "Body", default)]
    body: String,
}

#[derive(Deserialize)]
struct BatchResult {
    #[serde(rename = "Successful", default)]
    successful: Vec<Value>,
    #[serde(rename = "Failed", default)]
    failed: Vec<BatchFailure>,
}

#[derive(Deserialize)]
struct BatchFailure {
    #[serde(rename = "Code", default)]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
    #[serde(rename = "SenderFault", default)]
    sender_fault: bool,
}

/// The queue URL parsed: its endpoint, `Host` header, account and name.
struct QueueUrl {
    endpoint: String,
    host: String,
    domain: String,
    account: String,
    name: String,
}

fn parse_url(url: &str) -> Result<QueueUrl> {
    let bad = || {
        Error::Config(format!(
            "the queue URL {} is not of the form https://HOST/ACCOUNT/NAME",
            quote(url)
        ))
    };
    let u = url::Url::parse(url).map_err(|_| bad())?;
    if !matches!(u.scheme(), "https" | "http") || u.query().is_some() {
        return Err(bad());
    }
    let domain = u.host_str().ok_or_else(bad)?.to_ascii_lowercase();
    let host = match u.port() {
        Some(p) => format!("{domain}:{p}"),
        None => domain.clone(),
    };
    let segments: Vec<&str> = u.path().trim_end_matches('/').split('/').skip(1).collect();
    let [account, name] = segments[..] else {
        return Err(bad());
    };
    if account.is_empty() || name.is_empty() {
        return Err(bad());
    }
    Ok(QueueUrl {
        endpoint: format!("{}://{host}/", u.scheme()),
        host,
        domain,
        account: account.to_string(),
        name: name.to_string(),
    })
}

/// The AWS region of a queue: `configured` when given, else the one its host names
/// (`sqs.REGION.amazonaws.com`, or the older `REGION.queue.amazonaws.com`).
pub fn queue_region(url: &str, configured: Option<&str>) -> Result<String> {
    if let Some(r) = configured {
        return Ok(r.to_string());
    }
    let q = parse_url(url)?;
    let d = q.domain.trim_end_matches(".cn");
    let named = d
        .strip_prefix("sqs.")
        .and_then(|r| r.strip_suffix(".amazonaws.com"))
        .or_else(|| d.strip_suffix(".queue.amazonaws.com"))
        .filter(|r| !r.is_empty() && !r.contains('.'));
    named.map(str::to_string).ok_or_else(|| {
        Error::Config(format!(
            "notifications.region is required: the queue URL's host {} does not name a region (sqs.REGION.amazonaws.com)",
            quote(&q.domain)
        ))
    })
}

/// The ARN of the queue at `url` in `region`: `arn:aws:sqs:REGION:ACCOUNT:NAME` from
/// `https://sqs.us-east-1.amazonaws.com/123456789012/name`; any host whose path is
/// `/ACCOUNT/NAME` will do (`aws-cn` for hosts in `amazonaws.com.cn`).
pub fn queue_arn(url: &str, region: &str) -> Result<String> {
    let q = parse_url(url)?;
    let partition = if q.domain.ends_with(".amazonaws.com.cn") {
        "aws-cn"
    } else {
        "aws"
    };
    Ok(format!(
        "arn:{partition}:sqs:{region}:{}:{}",
        q.account, q.name
    ))
}

impl Queue {
    /// The queue of `config`'s `notifications` section, reached through `http` (the SP-API
    /// client's, [`super::Client::http`]); requests are signed at `clock`'s time.
    pub fn new(config: &Config, http: reqwest::Client, clock: Arc<dyn Clock>) -> Result<Queue> {
        let n = config.notifications.as_ref().ok_or_else(|| {
            Error::Config("the configuration has no notifications section".into())
        })?;
        let q = parse_url(&n.queue_url)?;
        Ok(Queue {
            http,
            url: n.queue_url.clone(),
            endpoint: q.endpoint,
            host: q.host,
            region: n.queue_region()?,
            credentials: sellsync_sigv4::Credentials {
                access_key_id: n.aws_access_key_id.clone(),
                secret_access_key: n.aws_secret_access_key.expose().to_string(),
                session_token: n.aws_session_token.as_ref().map(|t| t.expose().to_string()),
            },
            timeout: Duration::from_millis(config.http.timeout_ms),
            clock,
        })
    }

    /// The queue's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The queue's ARN.
    pub fn arn(&self) -> Result<String> {
        queue_arn(&self.url, &self.region)
    }

    /// Receives up to `max` messages (1 to 10), waiting up to `wait_seconds` (0 to 20) for the
    /// first one (a long poll); none when none arrived meanwhile. Received messages stay in the
    /// queue, invisible for its visibility timeout, until [`Queue::delete`] deletes them.
    pub async fn receive(&self, wait_seconds: u32, max: u32) -> Result<Vec<Message>> {
        let wait = wait_seconds.min(MAX_WAIT_SECONDS);
        let body = json!({
            "QueueUrl": self.url,
            "MaxNumberOfMessages": max.clamp(1, MAX_MESSAGES),
            "WaitTimeSeconds": wait,
        });
        let timeout = Duration::from_secs(u64::from(wait)) + self.timeout;
        let answer = self.call("ReceiveMessage", &body, timeout).await?;
        let received: Received = serde_json::from_value(answer).map_err(|_| {
            Error::Network("Amazon SQS answered ReceiveMessage with an unreadable body".into())
        })?;
        Ok(received
            .messages
            .into_iter()
            .map(|m| Message {
                id: m.id,
                receipt_handle: m.receipt_handle,
                body: m.body,
            })
            .collect())
    }

    /// Makes a received message visible again after `seconds` (`ChangeMessageVisibility`),
    /// for another consumer of the queue.
    pub async fn release(&self, receipt_handle: &str, seconds: u32) -> Result<()> {
        let body = json!({
            "QueueUrl": self.url,
            "ReceiptHandle": receipt_handle,
            "VisibilityTimeout": seconds,
        });
        self.call("ChangeMessageVisibility", &body, self.timeout)
            .await
            .map(|_| ())
    }

    /// Deletes the messages of `receipt_handles` (with `DeleteMessageBatch`, ten at a time).
    /// Entries SQS could not delete are an error that says how many and why.
    pub async fn delete(&self, receipt_handles: &[String]) -> Result<()> {
        for chunk in receipt_handles.chunks(MAX_MESSAGES as usize) {
            let entries: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, h)| json!({"Id": i.to_string(), "ReceiptHandle": h}))
                .collect();
            let body = json!({"QueueUrl": self.url, "Entries": entries});
            let answer = self.call("DeleteMessageBatch", &body, self.timeout).await?;
            let result: BatchResult = serde_json::from_value(answer).map_err(|_| {
                Error::Network(
                    "Amazon SQS answered DeleteMessageBatch with an unreadable body".into(),
                )
            })?;
            batch_outcome(chunk.len(), &result, &self.secrets())?;
        }
        Ok(())
    }

    /// The texts that no error may carry.
    fn secrets(&self) -> Vec<&str> {
        let mut s = vec![self.credentials.secret_access_key.as_str()];
        s.extend(self.credentials.session_token.as_deref());
        s
    }

    /// The headers of a call of `action` with `body`, signed at `at`.
    fn headers(
        &self,
        action: &str,
        body: &[u8],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Vec<(String, String)> {
        let mut headers = vec![
            ("host".to_string(), self.host.clone()),
            ("content-type".to_string(), CONTENT_TYPE.to_string()),
            ("x-amz-target".to_string(), format!("AmazonSQS.{action}")),
        ];
        let added = sellsync_sigv4::sign(
            &sellsync_sigv4::Request {
                method: "POST",
                path: "/",
                query: "",
                headers: &headers,
                body,
            },
            &self.credentials,
            &self.region,
            "sqs",
            at,
        );
        headers.extend(added);
        headers
    }

    /// Sends one call; its answer's JSON on success.
    async fn call(&self, action: &str, body: &Value, timeout: Duration) -> Result<Value> {
        let body = body.to_string().into_bytes();
        let mut rb = self.http.post(&self.endpoint).timeout(timeout);
        for (name, value) in self.headers(action, &body, self.clock.now()) {
            rb = rb.header(name, value);
        }
        let resp = rb.body(body).send().await.map_err(|e| {
            Error::Network(format!(
                "Amazon SQS {action} failed: {}",
                transport_text(&e)
            ))
        })?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| {
            Error::Network(format!(
                "Amazon SQS {action}: the answer was cut off: {}",
                transport_text(&e)
            ))
        })?;
        if (200..300).contains(&status) {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(json!({}));
            }
            return serde_json::from_slice(&bytes).map_err(|_| {
                Error::Network(format!(
                    "Amazon SQS answered {action} with a body that is not JSON"
                ))
            });
        }
        Err(sqs_error(action, status, &bytes, &self.secrets()))
    }
}

/// `text` with every secret replaced by `***`, cut to [`MESSAGE_CHARS`] characters.
fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(s, "***");
    }
    match out.char_indices().nth(MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &out[..cut]),
        None => out,
    }
}

/// SQS's JSON error (`{"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "..."}`) as
/// the crate's error: refused credentials are [`Error::Auth`], throttling
/// [`Error::Throttled`], server errors [`Error::Network`] (all three worth another try later),
/// anything else [`Error::Amazon`]. No secret is ever in the text (SQS may quote the request's
/// session token back when a signature does not match).
pub fn sqs_error(action: &str, status: u16, body: &[u8], secrets: &[&str]) -> Error {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let field = |k: &str| v[k].as_str().unwrap_or("").to_string();
    let kind = field("__type");
    let code = kind
        .rsplit('#')
        .next()
        .unwrap_or("")
        .split(':')
        .next()
        .unwrap_or("")
        .to_string();
    let code = if code.is_empty() {
        format!("HTTP{status}")
    } else {
        code
    };
    let message = scrub(&[field("message"), field("Message")].concat(), secrets);
    let said = if message.is_empty() {
        code.clone()
    } else {
        format!("{code}: {message}")
    };
    const CREDENTIALS: [&str; 10] = [
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "UnrecognizedClientException",
        "AccessDenied",
        "AccessDeniedException",
        "ExpiredToken",
        "RequestExpired",
        "InvalidSecurity",
    ];
    if status == 401 || status == 403 || CREDENTIALS.contains(&code.as_str()) {
        let hint = if code == "AccessDenied" || code == "AccessDeniedException" {
            "the AWS credentials are valid but may not use the queue: allow sqs:ReceiveMessage and sqs:DeleteMessage on it"
        } else if code == "RequestExpired" || code == "SignatureDoesNotMatch" {
            "check notifications.aws_secret_access_key, and that this computer's clock is right"
        } else {
            "check notifications.aws_access_key_id, aws_secret_access_key and aws_session_token"
        };
        return Error::Auth(format!("Amazon SQS refused {action} ({said}): {hint}"));
    }
    if status == 429
        || matches!(
            code.as_str(),
            "ThrottlingException" | "RequestThrottled" | "KmsThrottled"
        )
    {
        return Error::Throttled(format!("Amazon SQS {action}: {said}"));
    }
    if status >= 500 {
        return Error::Network(format!(
            "Amazon SQS answered {action} with {status} ({said})"
        ));
    }
    let hint = match code.as_str() {
        "QueueDoesNotExist" | "AWS.SimpleQueueService.NonExistentQueue" => {
            " (check notifications.queue_url and notifications.region)"
        }
        _ => "",
    };
    Error::Amazon {
        status,
        code,
        message: format!("SQS {action}: {message}{hint}"),
    }
}

/// The outcome of one `DeleteMessageBatch` of `sent` entries.
fn batch_outcome(sent: usize, result: &BatchResult, secrets: &[&str]) -> Result<()> {
    let Some(first) = result.failed.first() else {
        if result.successful.len() < sent {
            return Err(Error::Network(format!(
                "Amazon SQS deleted {} of {sent} messages and did not say why",
                result.successful.len()
            )));
        }
        return Ok(());
    };
    let text = format!(
        "{} of {sent} messages were not deleted: {}: {}",
        result.failed.len(),
        first.code,
        scrub(&first.message, secrets)
    );
    if result.failed.iter().all(|f| f.sender_fault) {
        Err(Error::Amazon {
            status: 400,
            code: first.code.clone(),
            message: format!("SQS DeleteMessageBatch: {text}"),
        })
    } else {
        Err(Error::Network(format!(
            "Amazon SQS DeleteMessageBatch: {text}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use chrono::TimeZone;

    const KEY: &str = "AKIAEMULATOR00000000";
    const SECRET: &str = "emulator/aws/secret/key/0000000000000000";
    const TOKEN: &str = "FwoGZXIvYXdzSESSIONTOKEN";

    #[test]
    fn the_arn_names_region_account_and_queue() {
        let url = "https://sqs.us-east-1.amazonaws.com/123456789012/sellsync-notifications";
        assert_eq!(queue_region(url, None).unwrap(), "us-east-1");
        assert_eq!(
            queue_arn(url, "us-east-1").unwrap(),
            "arn:aws:sqs:us-east-1:123456789012:sellsync-notifications"
        );
        // The emulator's queues: any host, path /ACCOUNT/NAME, region from the configuration.
        let local = "http://127.0.0.1:8080/000000000000/orders/";
        assert_eq!(
            queue_arn(local, "eu-west-1").unwrap(),
            "arn:aws:sqs:eu-west-1:000000000000:orders"
        );
        assert!(queue_region(local, None)
            .unwrap_err()
            .to_string()
            .contains("notifications.region is required"));
        assert_eq!(queue_region(local, Some("eu-west-1")).unwrap(), "eu-west-1");
        assert_eq!(
            queue_region("https://eu-west-2.queue.amazonaws.com/1/q", None).unwrap(),
            "eu-west-2"
        );
        assert_eq!(
            queue_arn("https://sqs.cn-north-1.amazonaws.com.cn/1/q", "cn-north-1").unwrap(),
            "arn:aws-cn:sqs:cn-north-1:1:q"
        );
        for bad in [
            "https://sqs.us-east-1.amazonaws.com/123456789012",
            "https://sqs.us-east-1.amazonaws.com/1/2/3",
            "https://sqs.us-east-1.amazonaws.com//q",
            "ftp://sqs.us-east-1.amazonaws.com/1/q",
            "not a url",
        ] {
            assert!(
                matches!(queue_arn(bad, "us-east-1"), Err(Error::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn errors_are_mapped_and_never_carry_the_secret_or_the_token() {
        let secrets = [SECRET, TOKEN];
        let body = format!(
            r#"{{"__type":"com.amazonaws.sqs#SignatureDoesNotMatch","message":"The request signature we calculated does not match. The Canonical String for this request should have been 'POST / x-amz-security-token:{TOKEN}' key {SECRET}"}}"#
        );
        let e = sqs_error("ReceiveMessage", 403, body.as_bytes(), &secrets);
        assert!(matches!(e, Error::Auth(_)), "{e:?}");
        let text = format!("{e} {e:?}");
        assert!(!text.contains(TOKEN) && !text.contains(SECRET), "{text}");
        assert!(text.contains("SignatureDoesNotMatch"), "{text}");

        let e = sqs_error(
            "ReceiveMessage",
            400,
            br#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}"#,
            &secrets,
        );
        match e {
            Error::Amazon {
                status,
                code,
                message,
            } => {
                assert_eq!((status, code.as_str()), (400, "QueueDoesNotExist"));
                assert!(message.contains("does not exist") && message.contains("queue_url"));
            }
            e => panic!("{e:?}"),
        }
        assert!(matches!(
            sqs_error(
                "ReceiveMessage",
                400,
                br#"{"__type":"com.amazonaws.sqs#InvalidClientTokenId","message":"x"}"#,
                &secrets
            ),
            Error::Auth(_)
        ));
        assert!(matches!(
            sqs_error(
                "ReceiveMessage",
                400,
                br#"{"__type":"com.amazonaws.sqs#ThrottlingException"}"#,
                &secrets
            ),
            Error::Throttled(_)
        ));
        assert!(matches!(
            sqs_error("ReceiveMessage", 503, b"<html>", &secrets),
            Error::Network(_)
        ));
        // A huge message is cut short.
        let long = format!(r#"{{"__type":"X","message":"{}"}}"#, "m".repeat(100_000));
        assert!(
            sqs_error("ReceiveMessage", 400, long.as_bytes(), &secrets)
                .to_string()
                .len()
                < 600
        );
    }

    #[test]
    fn failed_batch_entries_are_an_error_that_counts_them() {
        let ok: BatchResult =
            serde_json::from_str(r#"{"Successful":[{"Id":"0"},{"Id":"1"}]}"#).unwrap();
        assert!(batch_outcome(2, &ok, &[]).is_ok());
        let failed: BatchResult = serde_json::from_str(
            r#"{"Successful":[{"Id":"0"}],"Failed":[{"Id":"1","SenderFault":true,"Code":"ReceiptHandleIsInvalid","Message":"bad handle"}]}"#,
        )
        .unwrap();
        let e = batch_outcome(2, &failed, &[]).unwrap_err();
        assert!(
            matches!(&e, Error::Amazon { code, .. } if code == "ReceiptHandleIsInvalid"),
            "{e:?}"
        );
        assert!(e.to_string().contains("1 of 2 messages"), "{e}");
        let server: BatchResult = serde_json::from_str(
            r#"{"Failed":[{"Id":"0","SenderFault":false,"Code":"InternalError","Message":""}]}"#,
        )
        .unwrap();
        assert!(matches!(
            batch_outcome(1, &server, &[]),
            Err(Error::Network(_))
        ));
        let silent: BatchResult = serde_json::from_str(r#"{}"#).unwrap();
        assert!(batch_outcome(1, &silent, &[]).is_err());
    }

    fn config(url: &str, region: Option<&str>, token: bool) -> Config {
        let region = region.map_or(String::new(), |r| format!(r#""region":"{r}","#));
        let token = if token {
            format!(r#","aws_session_token":"{TOKEN}""#)
        } else {
            String::new()
        };
        Config::from_json(&format!(
            r#"{{"store_path":"s.sqlite","seller_id":"S","marketplace_ids":["M"],
                "credentials":{{"client_id":"c","client_secret":"cs","refresh_token":"Atzr|r"}},
                "http_allow_insecure_loopback":true,
                "notifications":{{"queue_url":"{url}",{region}
                  "aws_access_key_id":"{KEY}","aws_secret_access_key":"{SECRET}"{token}}}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn calls_are_signed_for_sqs_in_the_queue_region() {
        let at = chrono::Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
        let c = config(
            "https://sqs.eu-west-1.amazonaws.com/123456789012/q",
            None,
            true,
        );
        let q = Queue::new(&c, reqwest::Client::new(), Arc::new(ManualClock::new(at))).unwrap();
        assert_eq!(q.endpoint, "https://sqs.eu-west-1.amazonaws.com/");
        let body = br#"{"QueueUrl":"x"}"#;
        let headers = q.headers("ReceiveMessage", body, at);
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
                .unwrap()
        };
        assert_eq!(get("host"), "sqs.eu-west-1.amazonaws.com");
        assert_eq!(get("x-amz-target"), "AmazonSQS.ReceiveMessage");
        assert_eq!(get("content-type"), "application/x-amz-json-1.0");
        assert_eq!(get("x-amz-security-token"), TOKEN);
        assert!(get("authorization").contains(
            "Credential=AKIAEMULATOR00000000/20261126/eu-west-1/sqs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,"
        ));
        let who = sellsync_sigv4::verify(
            &sellsync_sigv4::Request {
                method: "POST",
                path: "/",
                query: "",
                headers: &headers,
                body,
            },
            |id| (id == KEY).then(|| SECRET.to_string()),
            at,
        )
        .unwrap();
        assert_eq!(
            (who.region.as_str(), who.service.as_str()),
            ("eu-west-1", "sqs")
        );
        assert!(!format!("{q:?}").contains(SECRET) && !format!("{q:?}").contains(TOKEN));
    }

    /// A one-connection-at-a-time SQS on loopback: checks each request's signature as AWS
    /// does (with the `Host` header as it arrived) and answers with `answers` in turn.
    async fn tiny_sqs(answers: Vec<(u16, String)>) -> (String, Arc<std::sync::Mutex<Vec<Value>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = seen.clone();
        tokio::spawn(async move {
            for (status, answer) in answers {
                let Ok((mut s, _)) = listener.accept().await else {
                    return;
                };
                let (head, body) = super::super::test_http::read_request(&mut s)
                    .await
                    .expect("a request before the connection closed");
                let mut lines = head.lines();
                let request_line = lines.next().unwrap().to_string();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
                    .collect();
                let verified = sellsync_sigv4::verify(
                    &sellsync_sigv4::Request {
                        method: "POST",
                        path: "/",
                        query: "",
                        headers: &headers,
                        body: &body,
                    },
                    |id| (id == KEY).then(|| SECRET.to_string()),
                    chrono::Utc::now(),
                );
                let target = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-target"))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                let mut doc: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                doc["_target"] = json!(target);
                doc["_request_line"] = json!(request_line);
                doc["_verified"] = json!(verified.map(|v| v.service).map_err(|e| e.to_string()));
                record.lock().unwrap().push(doc);
                super::super::test_http::answer(
                    &mut s,
                    status,
                    "application/x-amz-json-1.0",
                    &answer,
                )
                .await;
            }
        });
        (format!("http://{addr}/000000000000/notifications"), seen)
    }

    #[tokio::test]
    async fn receive_and_delete_speak_aws_json_and_sign_what_is_sent() {
        let (url, seen) = tiny_sqs(vec![
            (
                200,
                r#"{"Messages":[{"MessageId":"m1","ReceiptHandle":"h1","MD5OfBody":"x","Body":"{\"a\":1}"}]}"#.into(),
            ),
            (200, "{}".into()),
            (200, r#"{"Successful":[{"Id":"0"}]}"#.into()),
            (
                400,
                r#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}"#.into(),
            ),
        ])
        .await;
        let c = config(&url, Some("us-east-1"), false);
        let http = super::super::http_client(&c).unwrap();
        let q = Queue::new(&c, http, Arc::new(crate::clock::SystemClock)).unwrap();
        assert_eq!(
            q.arn().unwrap(),
            "arn:aws:sqs:us-east-1:000000000000:notifications"
        );
        let got = q.receive(1, 10).await.unwrap();
        assert_eq!(
            got,
            [Message {
                id: "m1".into(),
                receipt_handle: "h1".into(),
                body: r#"{"a":1}"#.into()
            }]
        );
        assert!(q.receive(1, 10).await.unwrap().is_empty());
        q.delete(&["h1".to_string()]).await.unwrap();
        let e = q.receive(0, 1).await.unwrap_err();
        assert!(
            matches!(&e, Error::Amazon { code, .. } if code == "QueueDoesNotExist"),
            "{e:?}"
        );

        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 4);
        for s in &seen {
            assert_eq!(s["_verified"], json!({"Ok": "sqs"}), "{s}");
            assert_eq!(s["QueueUrl"], json!(url));
            assert!(
                s["_request_line"].as_str().unwrap().starts_with("POST / "),
                "{s}"
            );
        }
        assert_eq!(seen[0]["_target"], "AmazonSQS.ReceiveMessage");
        assert_eq!(seen[0]["MaxNumberOfMessages"], 10);
        assert_eq!(seen[0]["WaitTimeSeconds"], 1);
        assert_eq!(seen[2]["_target"], "AmazonSQS.DeleteMessageBatch");
        assert_eq!(
            seen[2]["Entries"],
            json!([{"Id": "0", "ReceiptHandle": "h1"}])
        );
    }
}
