//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`) for requests signed in the `Authorization`
//! header: [`sign`] adds the headers that authenticate a request, [`verify`] checks a signed
//! request the way an AWS service does.
//!
//! The algorithm, step by step (AWS's "Create a signed AWS API request"):
//!
//! 1. The canonical request: method, canonical URI, canonical query string, canonical headers,
//!    signed header names and the hex SHA-256 of the body, one per line ([`canonical_request`]).
//! 2. The string to sign: the algorithm, the request time, the credential scope
//!    (`DATE/REGION/SERVICE/aws4_request`) and the hex SHA-256 of the canonical request
//!    ([`string_to_sign`]).
//! 3. The signing key: HMAC-SHA256 chained over the date, region, service and `aws4_request`,
//!    starting from `"AWS4" + secret` ([`signing_key`]).
//! 4. The signature: the hex HMAC-SHA256 of the string to sign under the signing key, sent as
//!    `Authorization: AWS4-HMAC-SHA256 Credential=KEYID/SCOPE, SignedHeaders=..., Signature=...`.
//!
//! The canonical URI follows the rules for every service but S3: the path is normalised
//! (`.` and `..` segments resolved, repeated slashes collapsed) and each segment URI-encoded
//! once more. Secrets never appear in `Debug` output or in an error.

use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The signing algorithm's name, first word of the `Authorization` header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// How far the request time (`x-amz-date`) may be from the verifier's clock, in minutes, as
/// AWS allows.
pub const MAX_SKEW_MINUTES: i64 = 15;

/// Format of `x-amz-date` (ISO 8601 basic, UTC).
const AMZ_DATE: &str = "%Y%m%dT%H%M%SZ";

/// Everything but the unreserved characters `A-Z a-z 0-9 - . _ ~` is percent-encoded.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// AWS credentials: an access key and, for temporary credentials, a session token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The access key id (`AKIA...`, `ASIA...`): not secret, it names the key.
    pub access_key_id: String,
    /// The secret access key: only ever used to derive signing keys.
    pub secret_access_key: String,
    /// The session token of temporary credentials, sent as `x-amz-security-token`.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// A request to sign or to check.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// The path as sent (URI-encoded once, e.g. `/123456789012/my%20queue`); `/` when empty.
    pub path: &'a str,
    /// The raw query string without `?`, as sent; may be empty.
    pub query: &'a str,
    /// The headers, names in any case. [`sign`] signs every one of them, so pass only those
    /// that reach the server unchanged (`host` must be one); [`verify`] uses those that the
    /// `Authorization` header names.
    pub headers: &'a [(String, String)],
    /// The body, exactly as sent.
    pub body: &'a [u8],
}

/// A canonical request (step 1), and the names of the headers it signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Canonical {
    /// The canonical request's text.
    pub text: String,
    /// The signed header names, lower case, sorted, joined with `;`.
    pub signed_headers: String,
}

/// The canonical request of `req`, over all of its headers (step 1).
pub fn canonical_request(req: &Request) -> Canonical {
    canonical(req, |_| true)
}

/// The canonical request over the headers that `keep` accepts (by lower-case name).
fn canonical(req: &Request, keep: impl Fn(&str) -> bool) -> Canonical {
    // Lower-case names, sorted; a name given more than once keeps its values in order.
    let mut headers: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in req.headers {
        let name = name.trim().to_ascii_lowercase();
        if !keep(&name) {
            continue;
        }
        let value = collapse_spaces(value);
        match headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => headers.push((name, vec![value])),
        }
    }
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let mut text = String::new();
    text.push_str(req.method);
    text.push('\n');
    text.push_str(&canonical_uri(req.path));
    text.push('\n');
    text.push_str(&canonical_query(req.query));
    text.push('\n');
    for (name, values) in &headers {
        text.push_str(name);
        text.push(':');
        text.push_str(&values.join(","));
        text.push('\n');
    }
    text.push('\n');
    let signed_headers = headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    text.push_str(&signed_headers);
    text.push('\n');
    text.push_str(&hex::encode(Sha256::digest(req.body)));
    Canonical {
        text,
        signed_headers,
    }
}

/// A header value trimmed, with every run of spaces and tabs inside it made one space.
fn collapse_spaces(value: &str) -> String {
    value
        .split([' ', '\t'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The path normalised (RFC 3986 dot segments removed, empty segments dropped) and each
/// segment URI-encoded.
fn canonical_uri(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    let raw: Vec<&str> = path.split('/').collect();
    for s in &raw {
        match *s {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::from("/");
    out.push_str(
        &segments
            .iter()
            .map(|s| utf8_percent_encode(s, ENCODE).to_string())
            .collect::<Vec<_>>()
            .join("/"),
    );
    let ends_in_directory = matches!(raw.last(), Some(&"") | Some(&".") | Some(&".."));
    if !segments.is_empty() && ends_in_directory {
        out.push('/');
    }
    out
}

/// The query's parameters decoded, encoded the canonical way, sorted by name then value.
fn canonical_query(query: &str) -> String {
    let encode = |s: &str| {
        let bytes: Vec<u8> = percent_decode_str(s).collect();
        percent_encoding::percent_encode(&bytes, ENCODE).to_string()
    };
    let mut params: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (encode(k), encode(v)),
            None => (encode(p), String::new()),
        })
        .collect();
    params.sort();
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The credential scope: `YYYYMMDD/REGION/SERVICE/aws4_request`.
pub fn scope(at: DateTime<Utc>, region: &str, service: &str) -> String {
    format!("{}/{region}/{service}/aws4_request", at.format("%Y%m%d"))
}

/// The string to sign for a canonical request's text at `at` in `scope` (step 2).
pub fn string_to_sign(at: DateTime<Utc>, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        at.format(AMZ_DATE),
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The signing key of `secret` for a day (`YYYYMMDD`), region and service (step 3).
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// Signs `req` with `creds` for `region` and `service` at `at`, and returns the headers to add
/// to it: `x-amz-date`, `x-amz-security-token` (with a session token; it is signed too) and
/// `authorization`. An `x-amz-date`, `x-amz-security-token` or `authorization` among
/// `req.headers` is left out of the signature: the ones returned replace it.
pub fn sign(
    req: &Request,
    creds: &Credentials,
    region: &str,
    service: &str,
    at: DateTime<Utc>,
) -> Vec<(String, String)> {
    let mut added = vec![("x-amz-date".to_string(), at.format(AMZ_DATE).to_string())];
    if let Some(token) = &creds.session_token {
        added.push(("x-amz-security-token".to_string(), token.clone()));
    }
    let replaced = |name: &str| {
        ["x-amz-date", "x-amz-security-token", "authorization"]
            .iter()
            .any(|r| name.trim().eq_ignore_ascii_case(r))
    };
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .filter(|(n, _)| !replaced(n))
        .cloned()
        .chain(added.iter().cloned())
        .collect();
    let full = Request {
        headers: &headers,
        ..*req
    };
    let canonical = canonical_request(&full);
    let scope = scope(at, region, service);
    let sts = string_to_sign(at, &scope, &canonical.text);
    let key = signing_key(
        &creds.secret_access_key,
        &at.format("%Y%m%d").to_string(),
        region,
        service,
    );
    let signature = hex::encode(hmac(&key, sts.as_bytes()));
    added.push((
        "authorization".to_string(),
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
            creds.access_key_id, canonical.signed_headers
        ),
    ));
    added
}

/// Who signed a request that [`verify`] accepted, and for what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The access key id that signed it.
    pub access_key_id: String,
    /// The region of its credential scope.
    pub region: String,
    /// The service of its credential scope.
    pub service: String,
}

/// Why [`verify`] refused a request. The texts name what is wrong, never a secret or a
/// signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyError {
    /// No `Authorization` header.
    Missing,
    /// The `Authorization` header or `x-amz-date` is not of SigV4's form, or a header it
    /// names as signed is absent; says which.
    Malformed(&'static str),
    /// No secret is known for the access key id.
    UnknownAccessKey,
    /// `x-amz-date` is more than [`MAX_SKEW_MINUTES`] from the verifier's clock.
    Expired,
    /// The signature is not the one the secret gives for this request.
    SignatureMismatch,
}

impl VerifyError {
    /// The AWS error code that a service answers for this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::Missing => "MissingAuthenticationToken",
            VerifyError::Malformed(_) => "IncompleteSignature",
            VerifyError::UnknownAccessKey => "InvalidClientTokenId",
            VerifyError::Expired => "RequestExpired",
            VerifyError::SignatureMismatch => "SignatureDoesNotMatch",
        }
    }
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyError::Missing => f.write_str("the request is not signed (no Authorization header)"),
            VerifyError::Malformed(what) => write!(f, "the request's signature is malformed: {what}"),
            VerifyError::UnknownAccessKey => {
                f.write_str("the security token included in the request is invalid (unknown access key id)")
            }
            VerifyError::Expired => write!(
                f,
                "the request's x-amz-date is more than {MAX_SKEW_MINUTES} minutes from the server's time"
            ),
            VerifyError::SignatureMismatch => f.write_str(
                "the request signature calculated does not match the signature provided; check the secret access key and the signing method",
            ),
        }
    }
}

impl std::error::Error for VerifyError {}

/// The value of the header `name` (case-insensitive); the first when repeated.
fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// Checks a signed request as an AWS service does: parses its `Authorization` header, finds the
/// secret of its access key id with `lookup`, recomputes the signature over the headers it
/// names (which must include `host` and `x-amz-date`) and compares the two in constant time.
/// A request whose `x-amz-date` is more than [`MAX_SKEW_MINUTES`] from `now`, or whose
/// credential scope is of another day than its `x-amz-date`, is refused.
pub fn verify(
    req: &Request,
    lookup: impl Fn(&str) -> Option<String>,
    now: DateTime<Utc>,
) -> Result<Verified, VerifyError> {
    use VerifyError::Malformed;
    let authorization = header(req, "authorization").ok_or(VerifyError::Missing)?;
    let fields = authorization
        .strip_prefix(ALGORITHM)
        .filter(|rest| rest.starts_with(' '))
        .ok_or(Malformed("the algorithm is not AWS4-HMAC-SHA256"))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for field in fields.split(',') {
        match field.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => return Err(Malformed("the Authorization header has an unknown part")),
        }
    }
    let credential = credential.ok_or(Malformed("no Credential"))?;
    let signed = signed.ok_or(Malformed("no SignedHeaders"))?;
    let signature = signature.ok_or(Malformed("no Signature"))?;
    let parts: Vec<&str> = credential.split('/').collect();
    let [key_id, date, region, service, "aws4_request"] = parts[..] else {
        return Err(Malformed(
            "Credential is not KEYID/DATE/REGION/SERVICE/aws4_request",
        ));
    };
    if key_id.is_empty() || region.is_empty() || service.is_empty() {
        return Err(Malformed("Credential has an empty part"));
    }
    let amz_date = header(req, "x-amz-date").ok_or(Malformed("no x-amz-date header"))?;
    let at = NaiveDateTime::parse_from_str(amz_date, AMZ_DATE)
        .map_err(|_| Malformed("x-amz-date is not YYYYMMDDTHHMMSSZ"))?
        .and_utc();
    if at.format("%Y%m%d").to_string() != date {
        return Err(Malformed(
            "the Credential's date is not the day of x-amz-date",
        ));
    }
    if (now - at).num_seconds().abs() > MAX_SKEW_MINUTES * 60 {
        return Err(VerifyError::Expired);
    }
    let names: Vec<&str> = signed.split(';').collect();
    if names
        .iter()
        .any(|n| n.is_empty() || *n != n.to_ascii_lowercase())
    {
        return Err(Malformed("SignedHeaders is not a list of lower-case names"));
    }
    if !names.windows(2).all(|w| w[0] < w[1]) {
        return Err(Malformed("SignedHeaders is not sorted"));
    }
    for required in ["host", "x-amz-date"] {
        if !names.contains(&required) {
            return Err(Malformed("host and x-amz-date must be signed"));
        }
    }
    if names.iter().any(|n| header(req, n).is_none()) {
        return Err(Malformed("a header named in SignedHeaders is absent"));
    }
    let signature = hex::decode(signature)
        .ok()
        .filter(|s| s.len() == 32)
        .ok_or(Malformed("Signature is not 64 hex digits"))?;
    let secret = lookup(key_id).ok_or(VerifyError::UnknownAccessKey)?;
    let canonical = canonical(req, |n| names.contains(&n));
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let sts = string_to_sign(at, &scope, &canonical.text);
    let key = signing_key(&secret, date, region, service);
    let mut mac = HmacSha256::new_from_slice(&key).expect("HMAC accepts any key length");
    mac.update(sts.as_bytes());
    // `verify_slice` compares in constant time.
    mac.verify_slice(&signature)
        .map_err(|_| VerifyError::SignatureMismatch)?;
    Ok(Verified {
        access_key_id: key_id.to_string(),
        region: region.to_string(),
        service: service.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_and_encoded_once_more() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/a/b/.."), "/a/");
        assert_eq!(canonical_uri("/a/./b"), "/a/b");
        assert_eq!(canonical_uri("/../a"), "/a");
        assert_eq!(canonical_uri("/my%20queue"), "/my%2520queue");
    }

    #[test]
    fn query_values_are_decoded_then_encoded_the_canonical_way() {
        assert_eq!(canonical_query("b=2&a=%7e&a=1"), "a=1&a=~&b=2");
        assert_eq!(canonical_query("k=a+b&flag"), "flag=&k=a%2Bb");
        assert_eq!(canonical_query(""), "");
    }

    #[test]
    fn debug_never_shows_the_secret_or_the_token() {
        let c = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "very/secret/key".into(),
            session_token: Some("session-token-value".into()),
        };
        let d = format!("{c:?}");
        assert!(d.contains("AKIDEXAMPLE"), "{d}");
        assert!(
            !d.contains("very/secret") && !d.contains("session-token"),
            "{d}"
        );
    }
}
