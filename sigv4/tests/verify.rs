//! `verify` accepts what `sign` produced and refuses anything changed after signing, another
//! key, an unsigned host and a stale or future date.

use chrono::{DateTime, Duration, TimeZone, Utc};
use sellsync_sigv4::{sign, verify, Credentials, Request, VerifyError};

const KEY_ID: &str = "AKIAEMULATOR00000000";
const SECRET: &str = "emulator/aws/secret/key/0000000000000000";

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 30, 0).unwrap()
}

fn creds(token: Option<&str>) -> Credentials {
    Credentials {
        access_key_id: KEY_ID.into(),
        secret_access_key: SECRET.into(),
        session_token: token.map(str::to_string),
    }
}

fn lookup(id: &str) -> Option<String> {
    (id == KEY_ID).then(|| SECRET.to_string())
}

/// A signed SQS call: the headers it sends and its body.
struct Sent {
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Sent {
    fn new(token: Option<&str>) -> Sent {
        let body =
            br#"{"QueueUrl":"http://127.0.0.1:9000/000000000000/orders","MaxNumberOfMessages":10}"#
                .to_vec();
        let mut headers = vec![
            ("Host".to_string(), "127.0.0.1:9000".to_string()),
            (
                "Content-Type".to_string(),
                "application/x-amz-json-1.0".to_string(),
            ),
            (
                "X-Amz-Target".to_string(),
                "AmazonSQS.ReceiveMessage".to_string(),
            ),
        ];
        let added = sign(
            &Request {
                method: "POST",
                path: "/",
                query: "",
                headers: &headers,
                body: &body,
            },
            &creds(token),
            "us-east-1",
            "sqs",
            at(),
        );
        headers.extend(added);
        Sent {
            path: "/".into(),
            query: String::new(),
            headers,
            body,
        }
    }

    fn check(&self, now: DateTime<Utc>) -> Result<sellsync_sigv4::Verified, VerifyError> {
        verify(
            &Request {
                method: "POST",
                path: &self.path,
                query: &self.query,
                headers: &self.headers,
                body: &self.body,
            },
            lookup,
            now,
        )
    }

    fn set(&mut self, name: &str, value: &str) {
        for (n, v) in &mut self.headers {
            if n.eq_ignore_ascii_case(name) {
                *v = value.to_string();
            }
        }
    }
}

#[test]
fn what_sign_produced_verifies_with_or_without_a_session_token() {
    for token in [None, Some("FwoGZXIvYXdzEXAMPLETOKEN")] {
        let who = Sent::new(token).check(at()).unwrap();
        assert_eq!(who.access_key_id, KEY_ID);
        assert_eq!(who.region, "us-east-1");
        assert_eq!(who.service, "sqs");
    }
}

#[test]
fn a_changed_body_header_path_or_query_is_refused() {
    let mut s = Sent::new(None);
    s.body[10] ^= 1;
    assert_eq!(s.check(at()), Err(VerifyError::SignatureMismatch));

    let mut s = Sent::new(None);
    s.set("x-amz-target", "AmazonSQS.DeleteMessageBatch");
    assert_eq!(s.check(at()), Err(VerifyError::SignatureMismatch));

    let mut s = Sent::new(Some("token-one"));
    s.set("x-amz-security-token", "token-two");
    assert_eq!(s.check(at()), Err(VerifyError::SignatureMismatch));

    let mut s = Sent::new(None);
    s.path = "/000000000000/orders".into();
    assert_eq!(s.check(at()), Err(VerifyError::SignatureMismatch));

    let mut s = Sent::new(None);
    s.query = "Action=ReceiveMessage".into();
    assert_eq!(s.check(at()), Err(VerifyError::SignatureMismatch));

    // A header that was not signed may change (a proxy's, a user agent's).
    let mut s = Sent::new(None);
    s.headers.push(("User-Agent".into(), "anything".into()));
    assert!(s.check(at()).is_ok());
}

#[test]
fn another_key_or_an_unknown_key_id_is_refused() {
    let s = Sent::new(None);
    let r = Request {
        method: "POST",
        path: &s.path,
        query: &s.query,
        headers: &s.headers,
        body: &s.body,
    };
    assert_eq!(
        verify(&r, |_| Some("another/secret".into()), at()),
        Err(VerifyError::SignatureMismatch)
    );
    assert_eq!(
        verify(&r, |_| None, at()),
        Err(VerifyError::UnknownAccessKey)
    );
}

#[test]
fn a_date_more_than_15_minutes_away_is_refused() {
    let s = Sent::new(None);
    assert!(s.check(at() + Duration::minutes(15)).is_ok());
    assert!(s.check(at() - Duration::minutes(15)).is_ok());
    assert_eq!(
        s.check(at() + Duration::minutes(15) + Duration::seconds(1)),
        Err(VerifyError::Expired)
    );
    assert_eq!(
        s.check(at() - Duration::minutes(16)),
        Err(VerifyError::Expired)
    );
    // Moving x-amz-date along does not help: it is signed.
    let mut s = Sent::new(None);
    s.set("x-amz-date", "20261126T093100Z");
    assert_eq!(s.check(at()), Err(VerifyError::SignatureMismatch));
}

#[test]
fn malformed_or_missing_authorization_is_refused_without_echoing_it() {
    let mut s = Sent::new(None);
    s.headers.retain(|(n, _)| n != "authorization");
    assert_eq!(s.check(at()), Err(VerifyError::Missing));

    let original = Sent::new(None);
    let authz = original
        .headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .unwrap()
        .1
        .clone();
    for (bad, why) in [
        (
            authz.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"),
            "algorithm",
        ),
        (
            authz.replace("/aws4_request", "/aws5_request"),
            "Credential",
        ),
        (authz.replace("host;", ""), "host"),
        (authz.replace("Signature=", "Signature=zz"), "hex"),
        (
            authz.replace(", SignedHeaders", ", Extra=1, SignedHeaders"),
            "unknown part",
        ),
        (authz.replace("20261126/", "20261125/"), "day"),
    ] {
        let mut s = Sent::new(None);
        s.set("authorization", &bad);
        let e = s.check(at()).unwrap_err();
        assert!(matches!(e, VerifyError::Malformed(_)), "{why}: {e:?}");
        assert_eq!(e.code(), "IncompleteSignature");
        let text = e.to_string();
        assert!(!text.contains(SECRET) && !text.contains(KEY_ID), "{text}");
    }
    // A signed header that is absent.
    let mut s = Sent::new(None);
    s.headers.retain(|(n, _)| n != "Content-Type");
    assert!(matches!(s.check(at()), Err(VerifyError::Malformed(_))));
}

#[test]
fn error_texts_and_codes_never_carry_the_secret() {
    for e in [
        VerifyError::Missing,
        VerifyError::Malformed("x"),
        VerifyError::UnknownAccessKey,
        VerifyError::Expired,
        VerifyError::SignatureMismatch,
    ] {
        let text = format!("{e} {e:?} {}", e.code());
        assert!(!text.contains(SECRET), "{text}");
    }
    assert_eq!(
        VerifyError::SignatureMismatch.code(),
        "SignatureDoesNotMatch"
    );
    assert_eq!(VerifyError::UnknownAccessKey.code(), "InvalidClientTokenId");
}
