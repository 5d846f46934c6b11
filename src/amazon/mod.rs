//! The SP-API client: LWA tokens, per-operation rate limiting, retries with capped jittered
//! backoff, Amazon's error shapes, and Amazon's clock read from its answers.

pub mod account_health;
pub mod auth;
pub mod charges;
pub mod fba;
pub mod feeds;
pub mod incidents;
pub mod limiter;
pub mod listings;
pub mod notifications;
pub mod orders;
pub mod reports;
pub mod sqs;
#[cfg(test)]
mod test_http;

use crate::clock::{Clock, ServerClock};
use crate::config::{Config, Http};
use crate::error::{Error, Result};
use crate::secret::Secret;
use auth::{Attempt, Lwa};
use incidents::{Fault, Incident, Next};
pub use limiter::{Operation, Priority, RateLimiter};
use rand::Rng;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Longest lifetime of a token that Amazon states (LWA access tokens and Restricted Data
/// Tokens live an hour).
const MAX_TOKEN_LIFETIME_SECONDS: i64 = 86_400;

/// The lifetime of a token that Amazon states in seconds, kept from 0 to a day, so that an
/// absurd `expires_in` neither overflows the clock nor keeps a token forever.
pub fn token_lifetime(seconds: i64) -> chrono::Duration {
    chrono::Duration::seconds(seconds.clamp(0, MAX_TOKEN_LIFETIME_SECONDS))
}

/// One SP-API call.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub op: Operation,
    pub method: reqwest::Method,
    /// Path below the endpoint, e.g. `/orders/2026-01-01/orders`.
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<Value>,
    /// A Restricted Data Token to send instead of the LWA access token.
    pub rdt: Option<Secret>,
    /// Whose turn it is when flows share the operation's usage plan.
    pub priority: Priority,
}

impl ApiRequest {
    /// A GET of `path`.
    pub fn get(op: Operation, path: impl Into<String>) -> Self {
        ApiRequest {
            op,
            method: reqwest::Method::GET,
            path: path.into(),
            query: Vec::new(),
            body: None,
            rdt: None,
            priority: Priority::Normal,
        }
    }
    /// A POST of a JSON body.
    pub fn post(op: Operation, path: impl Into<String>, body: Value) -> Self {
        Self::with_body(op, reqwest::Method::POST, path, body)
    }
    /// A request of any method with a JSON body.
    pub fn with_body(
        op: Operation,
        method: reqwest::Method,
        path: impl Into<String>,
        body: Value,
    ) -> Self {
        ApiRequest {
            op,
            method,
            path: path.into(),
            query: Vec::new(),
            body: Some(body),
            rdt: None,
            priority: Priority::Normal,
        }
    }
    /// Sets the call's priority.
    pub fn with_priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }
    /// Adds a query parameter. Every value is percent-encoded when sent (page tokens are
    /// base64 whose `+`, `/` and `=` must be encoded: a raw `+` reaches Amazon as a space,
    /// selling-partner-api-models #1269).
    pub fn q(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }
}

/// Counters for benchmarks and status.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests sent to SP-API (not LWA).
    pub calls: AtomicU64,
    /// 429 answers received.
    pub throttled: AtomicU64,
    /// Retries after transient failures.
    pub retries: AtomicU64,
}

/// The client of one seller authorisation.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    lwa: Lwa,
    limiter: RateLimiter,
    policy: Http,
    clock: Arc<dyn Clock>,
    /// Amazon's clock, from the `Date` header of its answers.
    pub server_clock: ServerClock,
    /// Counters.
    pub stats: Stats,
}

enum Outcome {
    Done(Value),
    /// A transient failure; `maybe_processed` when Amazon may have acted on the request
    /// (timeout, dropped connection, unreadable answer, 5xx), false when it surely did not
    /// (connection refused, 429).
    Retry {
        error: Error,
        maybe_processed: bool,
        fault: Fault,
        http_status: Option<u16>,
    },
}

/// Records a fault met by a call of `operation`.
fn met(operation: String, fault: Fault, http_status: Option<u16>, next: Next, error: &Error) {
    incidents::record(Incident {
        operation,
        fault,
        http_status,
        next,
        message: error.to_string(),
    });
}

/// The result of a call that must reach Amazon at most once.
#[derive(Debug)]
pub enum Once<T = Value> {
    /// Amazon answered with success.
    Done(T),
    /// The call may or may not have taken effect: read Amazon's state before sending again.
    Uncertain(Error),
}

/// The HTTP client of `config`: its timeouts, HTTPS only (but to loopback with the test
/// switch), TLS 1.2 or later with the built-in roots plus `http.extra_root_cert_pem`, and its
/// proxy. Every connection to Amazon (SP-API, Login with Amazon, documents, SQS) goes through
/// one such client.
pub fn http_client(config: &Config) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_millis(config.http.timeout_ms))
        .connect_timeout(Duration::from_millis(config.http.timeout_ms.min(10_000)))
        .user_agent(concat!(
            "sellsync/",
            env!("CARGO_PKG_VERSION"),
            " (Language=Rust; Platform=native)"
        ))
        // Plain HTTP only to loopback, and only with the test switch (`Config::check_url`).
        .https_only(!config.http_allow_insecure_loopback)
        // TLS 1.2 or later (rustls implements nothing older), certificates verified against
        // Mozilla's roots plus `http.extra_root_cert_pem`.
        .min_tls_version(reqwest::tls::Version::TLS_1_2)
        .tls_built_in_root_certs(true);
    for cert in config.http.extra_roots()? {
        builder = builder.add_root_certificate(cert);
    }
    builder = match config.http.proxy_url()? {
        Some(url) => builder.proxy(
            reqwest::Proxy::all(url)
                .map_err(|_| Error::Config("http.proxy cannot be used as a proxy".into()))?,
        ),
        None if config.http.use_env_proxy => builder,
        // reqwest reads the environment's proxy unless told not to.
        None => builder.no_proxy(),
    };
    builder.build().map_err(|e| {
        Error::Config(format!(
            "cannot build the HTTP client: {}",
            transport_text(&e)
        ))
    })
}

impl Client {
    /// A client for `config`.
    pub fn new(config: &Config, clock: Arc<dyn Clock>) -> Result<Client> {
        let http = http_client(config)?;
        let c = &config.credentials;
        Ok(Client {
            http,
            base: config.api_endpoint()?,
            lwa: Lwa::new(
                config.lwa_url()?,
                auth::Credentials {
                    client_id: c.client_id.clone(),
                    client_secret: c.client_secret.clone(),
                    refresh_token: c.refresh_token.clone(),
                },
            ),
            limiter: RateLimiter::default(),
            policy: config.http.clone(),
            clock,
            server_clock: ServerClock::default(),
            stats: Stats::default(),
        })
    }

    /// Keeps the rate-limit buckets in `store` from now on, starting from the ones it holds
    /// (refilled for the time since), so a new process does not spend tokens that an earlier
    /// one already took from Amazon's buckets.
    pub fn persist_limits(&mut self, store: Arc<crate::store::Store>) -> Result<()> {
        let saved = store.saved_buckets()?;
        self.limiter = RateLimiter::persistent(&saved, store);
        Ok(())
    }

    /// Starts the rate limits again from the buckets another process left in the shared store.
    pub fn reload_limits(&self, saved: &[limiter::SavedBucket]) {
        self.limiter.reload(saved);
    }

    /// Replaces the LWA credentials for every token exchange from now on (see
    /// [`Lwa::replace`]); calls under way finish as they are.
    pub fn set_credentials(
        &self,
        client_secret: Secret,
        refresh_token: Option<Secret>,
        client_id: Option<String>,
    ) -> auth::Replaced {
        self.lwa.replace(client_secret, refresh_token, client_id)
    }

    /// Whether calls are paused because Login with Amazon refused the seller's refresh token
    /// (see [`Lwa::paused`]); replacing the credentials resumes them.
    pub fn authorisation_paused(&self) -> bool {
        self.lwa.paused()
    }

    /// The refusal that paused the calls, once per pause.
    pub fn take_pause_notice(&self) -> Option<String> {
        self.lwa.take_pause_notice()
    }

    /// The HTTP client (shared: cloning it shares its connections).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The clock the client reads.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Amazon's current time, estimated.
    pub fn amazon_now(&self) -> chrono::DateTime<chrono::Utc> {
        self.server_clock.now(self.clock.now())
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.policy.backoff_initial_ms.max(1);
        let cap = self.policy.backoff_max_ms.max(base);
        let exp = base.saturating_mul(1u64 << attempt.min(20)).min(cap);
        Duration::from_millis(rand::thread_rng().gen_range(exp / 2..=exp))
    }

    /// The seller's access token, or the application's grantless one for `scope`.
    async fn access_token(&self, scope: Option<&str>) -> Result<Secret> {
        let mut attempt = 0;
        loop {
            let now = self.clock.now();
            let attempted = match scope {
                None => self.lwa.token(&self.http, now).await?,
                Some(scope) => self.lwa.grantless_token(&self.http, scope, now).await?,
            };
            match attempted {
                Attempt::Token(t) => return Ok(t),
                Attempt::Retry(e, status) => {
                    attempt += 1;
                    let last = attempt >= self.policy.max_attempts;
                    let next = if last { Next::NextRun } else { Next::Retry };
                    met("lwaToken".into(), Fault::LwaUnavailable, status, next, &e);
                    if last {
                        return Err(e);
                    }
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    let wait = self.backoff(attempt);
                    tracing::warn!(
                        "access token: {e}; retrying in {} ms (attempt {} of {})",
                        wait.as_millis(),
                        attempt + 1,
                        self.policy.max_attempts
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Sends `req`, waiting for the rate limiter, refreshing an expired token once, and
    /// retrying 429, 5xx, timeouts, dropped connections and unreadable answers.
    /// Returns the JSON body (Null for 204).
    pub async fn call(&self, req: &ApiRequest) -> Result<Value> {
        match self.call_inner(req, false).await? {
            Once::Done(v) => Ok(v),
            Once::Uncertain(e) => Err(e),
        }
    }

    /// Sends a call that must not take effect twice (confirmShipment: a second confirmation
    /// overwrites Amazon's confirmation time). Retries only what surely did not reach Amazon
    /// (429, connection refused, refused token); anything else that fails is `Uncertain`.
    pub async fn call_at_most_once(&self, req: &ApiRequest) -> Result<Once> {
        self.call_inner(req, true).await
    }

    /// Sends `req` with retries (with `at_most_once`, only of attempts that surely did not
    /// reach Amazon).
    async fn call_inner(&self, req: &ApiRequest, at_most_once: bool) -> Result<Once> {
        let mut attempt = 0;
        let mut refreshed = false;
        loop {
            let waited = std::time::Instant::now();
            self.limiter.acquire(req.op, req.priority).await;
            let waited = waited.elapsed();
            if waited >= Duration::from_secs(1) {
                tracing::info!(
                    "{:?}: waited {:.1} s for Amazon's rate limit",
                    req.op,
                    waited.as_secs_f64()
                );
            }
            let token = match &req.rdt {
                Some(t) => t.clone(),
                None => self.access_token(req.op.grantless_scope()).await?,
            };
            match self.send_once(req, &token).await {
                Ok(Outcome::Done(v)) => {
                    incidents::success();
                    return Ok(Once::Done(v));
                }
                Ok(Outcome::Retry {
                    error,
                    maybe_processed,
                    fault,
                    http_status,
                }) => {
                    let op = req.op.model_name();
                    if at_most_once && maybe_processed {
                        met(op, fault, http_status, Next::ReadBack, &error);
                        return Ok(Once::Uncertain(error));
                    }
                    attempt += 1;
                    let last = attempt >= self.policy.max_attempts;
                    let next = if last { Next::NextRun } else { Next::Retry };
                    met(op, fault, http_status, next, &error);
                    if last {
                        return Err(error);
                    }
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    let wait = self.backoff(attempt);
                    tracing::warn!(
                        "{error}; retrying in {} ms (attempt {} of {})",
                        wait.as_millis(),
                        attempt + 1,
                        self.policy.max_attempts
                    );
                    tokio::time::sleep(wait).await;
                }
                Err(Error::Auth(m)) if !refreshed && req.rdt.is_none() => {
                    // Amazon answers 403 (not 401) for an expired or revoked token: get a new one once.
                    tracing::debug!(op = ?req.op, "access token refused, refreshing: {m}");
                    let e = Error::Auth(m);
                    met(
                        req.op.model_name(),
                        Fault::TokenExpired,
                        None,
                        Next::RefreshToken,
                        &e,
                    );
                    self.lwa.invalidate(&token).await;
                    refreshed = true;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Gets a feed or report document (`op` at `path`), downloads it and unpacks it when
    /// Amazon says it is GZIP-compressed.
    pub async fn fetch_document(&self, op: Operation, path: String) -> Result<Vec<u8>> {
        let doc = self.call(&ApiRequest::get(op, path)).await?;
        let (url, gzip) = document_answer(op, &doc)?;
        let bytes = self.download(url).await?;
        unpack_document(op, bytes, gzip, self.policy.max_document_bytes)
    }

    /// Uploads a document to a presigned URL (no SP-API token), retrying transient failures.
    pub async fn upload(&self, url: &str, content_type: &str, body: Vec<u8>) -> Result<()> {
        self.transfer("uploadDocument", || {
            self.http
                .put(url)
                .header("content-type", content_type)
                .body(body.clone())
        })
        .await
        .map(|_| ())
    }

    /// Downloads a document from a presigned URL, retrying transient failures.
    pub async fn download(&self, url: &str) -> Result<Vec<u8>> {
        self.transfer("downloadDocument", || self.http.get(url))
            .await
    }

    /// Moves a document to or from a presigned URL (`what` names it in events: `uploadDocument`
    /// or `downloadDocument`), retrying transient failures.
    async fn transfer(
        &self,
        what: &str,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Vec<u8>> {
        let mut attempt = 0;
        loop {
            let (outcome, fault, http_status) = match request().send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    match read_capped(resp, self.policy.max_document_bytes).await {
                        Ok(None) => return Err(too_large(what, self.policy.max_document_bytes)),
                        Ok(Some(b)) if (200..300).contains(&status) => {
                            incidents::success();
                            return Ok(b);
                        }
                        Ok(Some(_)) if status < 500 && status != 429 => {
                            return Err(Error::Amazon {
                                status,
                                code: format!("HTTP{status}"),
                                message:
                                    "the document URL refused the transfer (it may have expired)"
                                        .into(),
                            })
                        }
                        Ok(Some(_)) => (
                            Error::Network(format!("document transfer answered {status}")),
                            if status == 429 {
                                Fault::Throttled
                            } else {
                                Fault::ServerError
                            },
                            Some(status),
                        ),
                        Err(e) => {
                            let fault = transport_fault(&e);
                            let error = Error::Network(format!(
                                "document transfer cut off: {}",
                                transport_text(&e)
                            ));
                            (error, fault, Some(status))
                        }
                    }
                }
                Err(e) => {
                    let fault = transport_fault(&e);
                    let error =
                        Error::Network(format!("document transfer failed: {}", transport_text(&e)));
                    (error, fault, None)
                }
            };
            attempt += 1;
            let last = attempt >= self.policy.max_attempts;
            let next = if last { Next::NextRun } else { Next::Retry };
            met(what.into(), fault, http_status, next, &outcome);
            if last {
                return Err(outcome);
            }
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(self.backoff(attempt)).await;
        }
    }

    async fn send_once(&self, req: &ApiRequest, token: &Secret) -> Result<Outcome> {
        let url = format!("{}{}", self.base, req.path);
        let mut rb = self
            .http
            .request(req.method.clone(), &url)
            .query(&req.query)
            .header("x-amz-access-token", token.expose());
        if let Some(b) = &req.body {
            rb = rb
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        self.stats.calls.fetch_add(1, Ordering::Relaxed);
        let started = std::time::Instant::now();
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => {
                // Refused before anything was sent: surely not processed.
                let maybe_processed = !e.is_connect();
                let fault = transport_fault(&e);
                let error = Error::Network(format!(
                    "{:?} {} failed: {}",
                    req.op,
                    req.path,
                    transport_text(&e)
                ));
                return Ok(Outcome::Retry {
                    error,
                    maybe_processed,
                    fault,
                    http_status: None,
                });
            }
        };
        let status = resp.status().as_u16();
        tracing::debug!(
            "{:?} {} {}: {status} in {} ms",
            req.op,
            req.method,
            req.path,
            started.elapsed().as_millis()
        );
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok());
        observe_headers(
            &self.limiter,
            &self.server_clock,
            req.op,
            header("date"),
            header("x-amzn-RateLimit-Limit"),
            self.clock.now(),
        );
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                let fault = transport_fault(&e);
                let error = Error::Network(format!(
                    "{:?}: the answer was cut off: {}",
                    req.op,
                    transport_text(&e)
                ));
                return Ok(Outcome::Retry {
                    error,
                    maybe_processed: true,
                    fault,
                    http_status: Some(status),
                });
            }
        };
        match status {
            200..=299 => {
                if body.is_empty() {
                    return Ok(Outcome::Done(Value::Null));
                }
                match serde_json::from_slice(&body) {
                    Ok(v) => Ok(Outcome::Done(v)),
                    Err(_) => Ok(Outcome::Retry {
                        error: Error::Network(format!(
                            "{:?}: Amazon's answer ({status}, {} bytes) is not valid JSON",
                            req.op,
                            body.len()
                        )),
                        maybe_processed: true,
                        fault: Fault::UnreadableAnswer,
                        http_status: Some(status),
                    }),
                }
            }
            429 => {
                self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                self.limiter.throttled(req.op);
                let error = Error::Throttled(format!("{:?}: QuotaExceeded", req.op));
                Ok(Outcome::Retry {
                    error,
                    maybe_processed: false,
                    fault: Fault::Throttled,
                    http_status: Some(429),
                })
            }
            500 | 502 | 503 | 504 => Ok(Outcome::Retry {
                error: amazon_error(req.op, status, &body),
                maybe_processed: true,
                fault: Fault::ServerError,
                http_status: Some(status),
            }),
            401 | 403 => {
                let e = amazon_error(req.op, status, &body);
                Err(Error::Auth(e.to_string()))
            }
            _ => Err(amazon_error(req.op, status, &body)),
        }
    }
}

/// Records that a document Amazon served cannot be read (cut off or garbled): the flow gives
/// up for this run and reads it again at its next; returns the error to fail with.
pub fn unreadable_document(what: &str) -> Error {
    let error = Error::Network(format!("{what} cannot be read (cut off or garbled)"));
    met(
        "downloadDocument".into(),
        Fault::UnreadableAnswer,
        None,
        Next::NextRun,
        &error,
    );
    error
}

/// Why a request got no (complete) answer, in words: reqwest's text without the URL, then each
/// distinct cause below it (so a refused certificate says why, e.g. `invalid peer certificate:
/// UnknownIssuer`), with every `user:password@` of a URL cut out. A refused certificate adds
/// what to do about a proxy that inspects TLS.
pub fn transport_text(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(&format!(" for url ({url})"), "");
    }
    parts.push(text);
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let t = s.to_string();
        if !t.is_empty() && !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        source = s.source();
    }
    let mut out = without_userinfo(&parts.join(": "));
    if out.contains("certificate") {
        out.push_str(
            " (the server's TLS certificate was refused; if a proxy of this network inspects \
             TLS, give its root certificate in http.extra_root_cert_pem)",
        );
    }
    out
}

/// `text` with the `user:password@` part of every URL in it removed.
pub fn without_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == ')')
            .unwrap_or(tail.len());
        match tail[..authority_end].rfind('@') {
            Some(at) => rest = &tail[at + 1..],
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// The fault of a request that got no complete answer.
fn transport_fault(e: &reqwest::Error) -> Fault {
    if e.is_timeout() {
        Fault::Timeout
    } else {
        Fault::Connection
    }
}

/// Takes Amazon's clock from an answer's `Date` header and the operation's rate from its
/// `x-amzn-RateLimit-Limit` header; unreadable values are ignored.
pub fn observe_headers(
    limiter: &RateLimiter,
    server_clock: &ServerClock,
    op: Operation,
    date: Option<&str>,
    rate: Option<&str>,
    local_now: chrono::DateTime<chrono::Utc>,
) {
    if let Some(t) = date.and_then(|d| httpdate::parse_http_date(d).ok()) {
        server_clock.observe(t.into(), local_now);
    }
    if let Some(rate) = rate.and_then(|v| v.trim().parse::<f64>().ok()) {
        limiter.observe_limit(op, rate);
    }
}

/// Reads a `getFeedDocument` or `getReportDocument` answer: the download URL and whether the
/// document is GZIP-compressed.
pub fn document_answer(op: Operation, doc: &Value) -> Result<(&str, bool)> {
    let url = doc["url"]
        .as_str()
        .ok_or_else(|| Error::Network(format!("{op:?} answered without url")))?;
    Ok((url, doc["compressionAlgorithm"] == "GZIP"))
}

/// A downloaded document as it was before compression, refused above `cap` bytes.
pub fn unpack_document(op: Operation, bytes: Vec<u8>, gzip: bool, cap: u64) -> Result<Vec<u8>> {
    if !gzip {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    let decoder = flate2::read::GzDecoder::new(&bytes[..]);
    std::io::Read::read_to_end(&mut std::io::Read::take(decoder, cap + 1), &mut out).map_err(
        |e| {
            tracing::warn!("{op:?}: the document is not valid gzip: {e}");
            unreadable_document(&format!("{op:?}'s document"))
        },
    )?;
    if out.len() as u64 > cap {
        return Err(too_large(&format!("{op:?}"), cap));
    }
    Ok(out)
}

/// A body read to its end, or None once it passes `cap` bytes (what it says it holds first).
async fn read_capped(
    mut resp: reqwest::Response,
    cap: u64,
) -> std::result::Result<Option<Vec<u8>>, reqwest::Error> {
    if resp.content_length().is_some_and(|n| n > cap) {
        return Ok(None);
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if (out.len() + chunk.len()) as u64 > cap {
            return Ok(None);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Some(out))
}

/// A document read, or `None` when it is larger than `http.max_document_bytes`: such a document
/// is not read again (each cycle would download it again, to refuse it again).
pub fn unless_too_large<T>(read: Result<T>) -> Result<Option<T>> {
    match read {
        Err(e) if is_too_large(&e) => Ok(None),
        r => r.map(Some),
    }
}

/// Whether `e` refused a document larger than `http.max_document_bytes`.
pub fn is_too_large(e: &Error) -> bool {
    matches!(e, Error::Amazon { code, .. } if code == "DocumentTooLarge")
}

/// A document larger than `http.max_document_bytes` (downloaded, or once un-gzipped): refused,
/// not retried.
fn too_large(what: &str, cap: u64) -> Error {
    let error = Error::Amazon {
        status: 200,
        code: "DocumentTooLarge".into(),
        message: format!(
            "{what}: the document is larger than http.max_document_bytes ({cap} bytes)"
        ),
    };
    tracing::warn!("{error}");
    error
}

/// Amazon's `{"errors":[{code, message, details}]}` as an [`Error::Amazon`]. An answer that is
/// not JSON (Amazon's front end may answer a 503 with an HTML page, selling-partner-api-models
/// #4667) is described, never quoted.
pub fn amazon_error(op: Operation, status: u16, body: &[u8]) -> Error {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        let what = if body.trim_ascii_start().starts_with(b"<") {
            "an HTML page"
        } else {
            "a body that is not JSON"
        };
        return Error::Amazon {
            status,
            code: format!("HTTP{status}"),
            message: format!(
                "{op:?}: Amazon answered with {what} ({} bytes) instead of its JSON error",
                body.len()
            ),
        };
    };
    let first = &v["errors"][0];
    let text = |k: &str| first[k].as_str().unwrap_or("").to_string();
    let mut message = text("message");
    let details = text("details");
    if !details.is_empty() {
        message = format!("{message} ({details})");
    }
    Error::Amazon {
        status,
        code: if text("code").is_empty() {
            format!("HTTP{status}")
        } else {
            text("code")
        },
        message: format!("{op:?}: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn a_document_larger_than_the_cap_once_ungzipped_is_refused() {
        let cap = 1 << 20;
        // 64 MiB of zeros compress to about 64 KB.
        let bomb = gzip(&vec![0u8; 64 << 20]);
        assert!(bomb.len() < 100_000, "{}", bomb.len());
        let e = unpack_document(Operation::GetReportDocument, bomb, true, cap).unwrap_err();
        assert!(is_too_large(&e), "{e}");
        assert!(e.to_string().contains("http.max_document_bytes"), "{e}");
        // A refused document is taken as none (the processing reports of stock and order
        // feeds: their work is then treated as a feed that ended without a report).
        assert!(matches!(unless_too_large::<()>(Err(e)), Ok(None)));
        assert!(unless_too_large::<()>(Err(Error::Network("cut off".into()))).is_err());
        let exact = vec![b'x'; cap as usize];
        let out = unpack_document(Operation::GetReportDocument, gzip(&exact), true, cap).unwrap();
        assert_eq!(out, exact, "a document of exactly the cap is read whole");
    }

    #[test]
    fn an_html_error_page_is_described_not_quoted() {
        let page = b"<!DOCTYPE html>\n<html><body><h1>Service Unavailable</h1></body></html>";
        let e = amazon_error(Operation::SearchOrders, 503, page).to_string();
        assert!(e.contains("503") && e.contains("an HTML page"), "{e}");
        assert!(
            !e.contains('<') && !e.contains("Service Unavailable"),
            "{e}"
        );
    }

    #[test]
    fn user_and_password_of_any_url_are_cut_out() {
        assert_eq!(
            without_userinfo("proxy http://shop:pa55@10.0.0.1:3128/x failed"),
            "proxy http://10.0.0.1:3128/x failed"
        );
        assert_eq!(
            without_userinfo("a (https://u:p@h) and https://h2 and http://x:y@z"),
            "a (https://h) and https://h2 and http://z"
        );
        assert_eq!(without_userinfo("no url, an @ sign"), "no url, an @ sign");
    }
}
