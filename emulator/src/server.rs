//! The HTTP front: one dispatcher that routes every call, applies faults, authenticates,
//! rate-limits, runs the operation against the world and writes Amazon's headers.

use crate::api::{self, Ctx};
use crate::clock::Clock;
use crate::control;
use crate::faults::{FaultKind, Faults};
use crate::limits::{Buckets, Op};
use crate::reply::{Body, Reply};
use crate::route::route;
use crate::world::World;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// Largest accepted API request body (Amazon answers 413 above its limits).
pub const MAX_API_BODY: usize = 1 << 20;
/// Largest accepted document upload.
pub const MAX_DOCUMENT_BODY: usize = 64 << 20;

/// State shared by every request.
#[derive(Debug)]
pub struct Shared {
    pub world: Mutex<World>,
    pub buckets: Mutex<Buckets>,
    pub faults: Mutex<Faults>,
    pub clock: Clock,
    /// Multiplies every rate and divides every processing delay.
    pub rate_scale: f64,
    /// Lifetime of issued access tokens, in emulated seconds.
    pub token_lifetime_s: i64,
    /// Answer the models' static sandbox examples instead of the world.
    pub sandbox: bool,
    /// Base URL of this server (for presigned document URLs).
    pub base_url: String,
    /// Simulated buyers, when started.
    pub buyers: Mutex<Option<crate::buyers::Buyers>>,
    /// The queues of the emulator's SQS.
    pub queues: crate::queues::Queues,
    /// The AWS access key pair its SQS accepts.
    pub aws: crate::sqs::AwsCredentials,
}

/// Locks a mutex, carrying on after a panic elsewhere (state stays consistent per call).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The one request handler.
pub async fn dispatch(State(s): State<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let headers = req.headers().clone();
    if let Some(rest) = path.strip_prefix("/_emulator/") {
        let body = match axum::body::to_bytes(req.into_body(), MAX_DOCUMENT_BODY).await {
            Ok(b) => b,
            Err(_) => return respond(&s, Reply::for_status(413), None),
        };
        let reply = control::handle(&s, &method, rest, &query, &body);
        return respond(&s, reply, None);
    }
    if method == "POST" && crate::sqs::is_sqs(&headers) {
        let Ok(body) = axum::body::to_bytes(req.into_body(), MAX_API_BODY).await else {
            return respond(&s, Reply::for_status(413), None);
        };
        return crate::sqs::handle(&s, &method, &path, &query, &headers, &body).await;
    }
    let Some(route) = route(&method, &path) else {
        let reply = Reply::not_found(&format!("No operation at {method} {path}"));
        lock(&s.world).record("unknown", 404, s.clock.now());
        return respond(&s, reply, None);
    };
    let op = route.op;
    let fault = lock(&s.faults).take(op.name());
    match fault {
        Some(FaultKind::Delay { ms }) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        Some(FaultKind::Status { status }) => {
            lock(&s.world).record(op.name(), status, s.clock.now());
            return respond(&s, Reply::for_status(status), Some(op));
        }
        Some(FaultKind::HtmlUnavailable) => {
            lock(&s.world).record(op.name(), 503, s.clock.now());
            return respond(&s, Reply::html_unavailable(), Some(op));
        }
        _ => {}
    }
    let limit = if op == Op::Document {
        MAX_DOCUMENT_BODY
    } else {
        MAX_API_BODY
    };
    let body = match axum::body::to_bytes(req.into_body(), limit).await {
        Ok(b) => b,
        Err(_) => {
            let reply = Reply::error(
                413,
                "RequestEntityTooLarge",
                "The request size exceeded the maximum accepted size.",
                "",
            );
            lock(&s.world).record(op.name(), 413, s.clock.now());
            return respond(&s, reply, Some(op));
        }
    };
    let target = (method, path);
    let reply = call(
        &s,
        op,
        route.params,
        target,
        &query,
        &headers,
        body,
        fault.as_ref(),
    );
    let rate_op = Some(op);
    match fault {
        Some(FaultKind::Drop) => dropped(),
        Some(FaultKind::Truncate) => {
            let mut r = respond(&s, reply, rate_op);
            let bytes = std::mem::take(r.body_mut());
            let full = axum::body::to_bytes(bytes, usize::MAX)
                .await
                .unwrap_or_default();
            let half = Bytes::copy_from_slice(&full[..full.len() / 2]);
            r.headers_mut().remove("content-length");
            *r.body_mut() = axum::body::Body::from(half);
            r
        }
        Some(FaultKind::LateAnswer { ms }) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            respond(&s, reply, rate_op)
        }
        Some(FaultKind::Malformed) => {
            let mut r = respond(&s, reply, rate_op);
            r.headers_mut().remove("content-length");
            *r.body_mut() = axum::body::Body::from("<html><body>502 Bad Gateway</body></html>");
            r
        }
        _ => respond(&s, reply, rate_op),
    }
}

/// Authenticates, rate-limits and runs one operation with the world locked.
#[allow(clippy::too_many_arguments)]
fn call(
    s: &Shared,
    op: Op,
    params: Vec<String>,
    (method, path): (String, String),
    query: &str,
    headers: &HeaderMap,
    body: Bytes,
    fault: Option<&FaultKind>,
) -> Reply {
    let mut world = lock(&s.world);
    let now = s.clock.now();
    api::tick(&mut world, now);
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut ctx = Ctx {
        world: &mut world,
        now,
        seller: String::new(),
        token: None,
        method,
        path,
        params,
        // Decoded as a real server decodes a query: `%XX` escapes, and a raw `+` is a space,
        // so a page token sent without URL-encoding arrives changed.
        query: form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect(),
        body,
        content_type,
        shared: s,
        fault: fault.cloned(),
    };
    let reply = authorize_and_run(&mut ctx, op, headers, fault);
    ctx.world.record(op.name(), reply.status, now);
    ctx.world.prune(now);
    reply
}

fn authorize_and_run(
    ctx: &mut Ctx<'_>,
    op: Op,
    headers: &HeaderMap,
    fault: Option<&FaultKind>,
) -> Reply {
    if matches!(op, Op::LwaToken | Op::Document) {
        return api::run(ctx, op);
    }
    let token_text = headers
        .get("x-amz-access-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if token_text.is_empty() {
        return Reply::error(
            403,
            "Unauthorized",
            "Access to requested resource is denied.",
            "Access token is missing in the request header.",
        );
    }
    let Some(token) = ctx.world.tokens.get(token_text).cloned() else {
        return Reply::unauthorized(
            "The access token you provided is revoked, malformed or invalid.",
        );
    };
    if fault == Some(&FaultKind::ExpiredToken) {
        if let Some(t) = ctx.world.tokens.get_mut(token_text) {
            t.expires = ctx.now;
        }
        return Reply::unauthorized("The access token you provided has expired.");
    }
    if token.expires <= ctx.now {
        return Reply::unauthorized("The access token you provided has expired.");
    }
    if let Some(grants) = &token.restricted {
        if !grants
            .iter()
            .any(|(m, p, _)| *m == ctx.method && *p == ctx.path)
        {
            return Reply::unauthorized(
                "The restricted data token does not grant access to this resource.",
            );
        }
    }
    match (op.grantless_scope(), token.grantless_scope.as_deref()) {
        (Some(needed), Some(scope)) if needed == scope => {}
        (Some(needed), _) => {
            return Reply::unauthorized(&format!(
                "This operation is grantless: call it with an access token of the client_credentials grant with scope {needed}."
            ))
        }
        (None, Some(_)) => {
            return Reply::unauthorized(
                "A grantless access token cannot be used for an operation the selling partner authorises.",
            )
        }
        (None, None) => {}
    }
    // Usage plans count per selling partner and application; a grantless call has no seller.
    let caller = match token.grantless_scope {
        Some(_) => token.client_id.clone(),
        None => token.seller_id.clone(),
    };
    ctx.seller = token.seller_id.clone();
    ctx.token = Some(token);
    let allowed = lock(&ctx.shared.buckets).take(&caller, op, Instant::now());
    if !allowed {
        return Reply::quota_exceeded();
    }
    if ctx.shared.sandbox {
        return crate::sandbox::answer(op, ctx);
    }
    if let Some(r) = api::check_content_type(ctx, op) {
        return r;
    }
    api::run(ctx, op)
}

/// Turns a reply into a response with Amazon's headers. `x-amzn-RateLimit-Limit` goes only
/// with 2xx, 400 and 404: never with a 429 or 5xx, as Amazon sends it only "when available"
/// and clients meet 429s without it (selling-partner-api-docs #592, #86).
fn respond(s: &Shared, reply: Reply, op: Option<Op>) -> Response {
    let mut builder = Response::builder().status(reply.status);
    let date = httpdate::fmt_http_date(s.clock.now().into());
    builder = builder
        .header("date", date)
        .header("x-amzn-RequestId", request_id());
    if reply.status == 413 {
        // The rest of the oversized body was not read: the connection cannot be reused.
        builder = builder.header("connection", "close");
    }
    if let Some(op) = op {
        let limited = op.limited() && matches!(reply.status, 200..=299 | 400 | 404);
        if limited {
            let rate = lock(&s.buckets).effective_rate(op);
            builder = builder.header("x-amzn-RateLimit-Limit", format_rate(rate));
        }
        if reply.status >= 400 {
            builder = builder.header("x-amzn-ErrorType", error_type(reply.status));
        }
    }
    let body = match reply.body {
        Body::Empty => axum::body::Body::empty(),
        Body::Json(v) => {
            builder = builder.header("content-type", "application/json");
            axum::body::Body::from(v.to_string())
        }
        Body::Bytes {
            content_type,
            data,
            content_encoding_gzip,
        } => {
            builder = builder.header("content-type", content_type);
            if content_encoding_gzip {
                builder = builder.header("content-encoding", "gzip");
            }
            axum::body::Body::from(data)
        }
    };
    builder
        .body(body)
        .unwrap_or_else(|_| Response::new(axum::body::Body::empty()))
}

fn error_type(status: u16) -> &'static str {
    match status {
        400 => "ValidationException",
        403 => "AccessDeniedException",
        404 => "ResourceNotFoundException",
        429 => "ThrottlingException",
        _ => "InternalFailure",
    }
}

/// A decimal string such as `2.0` or `5.6`.
pub fn format_rate(rate: f64) -> String {
    let r = (rate * 1e6).round() / 1e6;
    if r.fract() == 0.0 {
        format!("{r:.1}")
    } else {
        format!("{r}")
    }
}

fn request_id() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        rng.gen::<u32>(),
        rng.gen::<u16>(),
        rng.gen::<u16>(),
        rng.gen::<u16>(),
        rng.gen::<u64>() & 0xffff_ffff_ffff
    )
}

/// A response whose body fails half way, so the client sees the connection drop.
fn dropped() -> Response {
    let stream = futures_util::stream::iter(vec![
        Ok(Bytes::from_static(b"{\"partial\":")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection dropped by fault injection",
        )),
    ]);
    let mut r = Response::new(axum::body::Body::from_stream(stream));
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_decimal_strings() {
        assert_eq!(format_rate(2.0), "2.0");
        assert_eq!(format_rate(0.0056 * 1000.0), "5.6");
        assert_eq!(format_rate(0.0167), "0.0167");
    }
}
