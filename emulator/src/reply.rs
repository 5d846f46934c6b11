//! What a handler answers, and Amazon's error bodies.

use serde_json::{json, Value};

/// A handler's answer before headers and faults are applied.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Body,
}

/// Response body kinds.
#[derive(Debug)]
pub enum Body {
    /// No body (204).
    Empty,
    /// A JSON document.
    Json(Value),
    /// Raw bytes with a content type (documents), optionally gzip-encoded on the wire.
    Bytes {
        content_type: String,
        data: Vec<u8>,
        content_encoding_gzip: bool,
    },
}

impl Reply {
    /// A JSON reply.
    pub fn json(status: u16, v: Value) -> Reply {
        Reply {
            status,
            body: Body::Json(v),
        }
    }
    /// 204 No Content.
    pub fn no_content() -> Reply {
        Reply {
            status: 204,
            body: Body::Empty,
        }
    }
    /// Amazon's `{"errors":[{code,message,details}]}` body.
    pub fn error(status: u16, code: &str, message: &str, details: &str) -> Reply {
        Reply::json(
            status,
            json!({"errors": [{"code": code, "message": message, "details": details}]}),
        )
    }
    /// 400 with the Orders API's code.
    pub fn invalid_input(details: &str) -> Reply {
        Reply::error(400, "InvalidInput", "Invalid Input", details)
    }
    /// 400 with the Listings API's code.
    pub fn bad_request(details: &str) -> Reply {
        Reply::error(400, "BAD_REQUEST", "Invalid input", details)
    }
    /// 400 as the Feeds and Reports APIs give it.
    pub fn invalid_400(details: &str) -> Reply {
        Reply::error(400, "InvalidInput", details, "")
    }
    /// 403 Unauthorized.
    pub fn unauthorized(details: &str) -> Reply {
        Reply::error(
            403,
            "Unauthorized",
            "Access to requested resource is denied.",
            details,
        )
    }
    /// 404 NotFound.
    pub fn not_found(details: &str) -> Reply {
        Reply::error(
            404,
            "NotFound",
            "The requested resource doesn't exist.",
            details,
        )
    }
    /// 429 QuotaExceeded.
    pub fn quota_exceeded() -> Reply {
        Reply::error(
            429,
            "QuotaExceeded",
            "You exceeded your quota for the requested resource.",
            "",
        )
    }
    /// 500 InternalFailure.
    pub fn internal() -> Reply {
        Reply::error(
            500,
            "InternalFailure",
            "We encountered an internal error. Please try again.",
            "",
        )
    }
    /// 503 ServiceUnavailable.
    pub fn unavailable() -> Reply {
        Reply::error(
            503,
            "ServiceUnavailable",
            "Service is temporarily unavailable. Please try again.",
            "",
        )
    }
    /// 503 as an HTML page, the way Amazon's front end answers some outages instead of its JSON
    /// error (selling-partner-api-models #4667).
    pub fn html_unavailable() -> Reply {
        Reply {
            status: 503,
            body: Body::Bytes {
                content_type: "text/html".into(),
                data:
                    b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>\n\
                    <body><h1>Service Unavailable</h1><p>The server is temporarily unable to \
                    service your request. Please try again later.</p></body></html>\n"
                        .to_vec(),
                content_encoding_gzip: false,
            },
        }
    }
    /// The canonical error reply for an arbitrary status code.
    pub fn for_status(status: u16) -> Reply {
        match status {
            400 => Reply::invalid_input("Injected fault"),
            403 => Reply::unauthorized("Injected fault"),
            404 => Reply::not_found("Injected fault"),
            413 => Reply::error(
                413,
                "RequestEntityTooLarge",
                "The request size exceeded the maximum accepted size.",
                "",
            ),
            415 => Reply::error(
                415,
                "UnsupportedMediaType",
                "The request payload is in an unsupported format.",
                "",
            ),
            429 => Reply::quota_exceeded(),
            500 => Reply::internal(),
            503 => Reply::unavailable(),
            s => Reply::error(s, &s.to_string(), "Injected fault", ""),
        }
    }
}
