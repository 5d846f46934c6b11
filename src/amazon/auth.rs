//! Login with Amazon: exchanges the refresh token for access tokens, caches them per
//! (client id, refresh token) and refreshes them ahead of expiry. The credentials can be
//! replaced while the handle is open (Amazon makes every application rotate its client secret
//! every 180 days): see [`Lwa::replace`]. Grantless operations (the Notifications API's
//! destinations) take a token of the application itself, exchanged with
//! `grant_type=client_credentials` for a scope and cached the same way: see
//! [`Lwa::grantless_token`]. When Login with Amazon refuses the seller's refresh token
//! (`invalid_grant`: the seller revoked the application, selling-partner-api-docs #2379), no
//! exchange is tried again until the credentials are replaced; when it refuses the client
//! secret (`invalid_client`: an expired or rotated secret), exchanges wait a cool-down that
//! doubles from a minute to an hour between tries: see [`Lwa::paused`].

use crate::error::{quote, Error, Result};
use crate::secret::Secret;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Refresh this long before Amazon's expiry.
const AHEAD: i64 = 120;

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Secret,
    expires_in: i64,
}

#[derive(Deserialize)]
struct LwaError {
    error: Option<String>,
    error_description: Option<String>,
}

/// The Login-with-Amazon credentials of one seller authorisation.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// LWA client id of the application.
    pub client_id: String,
    /// LWA client secret of the application.
    pub client_secret: Secret,
    /// The seller's refresh token.
    pub refresh_token: Secret,
}

/// The credentials in use, and which authorisation they name.
#[derive(Debug)]
struct Current {
    credentials: Credentials,
    /// Changes when the client id or the refresh token changes: an access token belongs to the
    /// authorisation it was issued for, and is used only while this is the same.
    authorisation: u64,
    /// Counts every replacement of the credentials.
    replacements: u64,
    /// Login with Amazon refused the credentials themselves. Cleared when they are replaced,
    /// and when an exchange after a cool-down succeeds.
    refused: Option<Refusal>,
}

/// A refusal of the seller's credentials by Login with Amazon.
#[derive(Debug)]
struct Refusal {
    message: String,
    /// [`Lwa::take_pause_notice`] gave it out (once for a run of refusals).
    announced: bool,
    /// When an exchange may be tried again: never for a refused refresh token (until the
    /// credentials are replaced), after [`cool_down`] for a refused client secret.
    retry_at: Option<DateTime<Utc>>,
    /// Refusals of the client secret in a row.
    streak: u32,
}

/// The wait after the `streak`-th refusal of the client secret in a row: a minute, doubling up
/// to an hour.
pub fn cool_down(streak: u32) -> Duration {
    Duration::seconds((60i64 << streak.saturating_sub(1).min(6)).min(3600))
}

/// An access token and what it belongs to.
#[derive(Debug)]
struct Cached {
    token: Secret,
    expires: DateTime<Utc>,
    authorisation: u64,
}

/// The cached access tokens for one seller authorisation: the seller's (key None) and the
/// application's grantless ones (key: their scope).
#[derive(Debug)]
pub struct Lwa {
    url: String,
    current: Mutex<Current>,
    cached: tokio::sync::Mutex<HashMap<Option<String>, Cached>>,
}

/// What [`Lwa::replace`] changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replaced {
    /// The client id or the refresh token changed: the cached access token was dropped.
    pub token_dropped: bool,
}

/// What an LWA answer says.
pub enum Answer {
    /// An access token and how long it lives.
    Token(Secret, Duration),
    /// Transient failure (5xx, 429, unreadable body): try again after a backoff.
    Retry(Error),
}

/// Reads an LWA token answer of HTTP `status`; refused credentials are an
/// [`Error::Credentials`] that says what to do.
pub fn answer(status: u16, body: &[u8]) -> Result<Answer> {
    if status >= 500 || status == 429 {
        return Ok(Answer::Retry(Error::Network(format!(
            "LWA answered {status}"
        ))));
    }
    if status != 200 {
        let e: LwaError = serde_json::from_slice(body).unwrap_or(LwaError {
            error: None,
            error_description: None,
        });
        return Err(Error::Credentials(refusal(
            status,
            e.error.as_deref().unwrap_or(""),
            e.error_description.as_deref().unwrap_or(""),
        )));
    }
    match serde_json::from_slice::<TokenResponse>(body) {
        Ok(t) => Ok(Answer::Token(
            t.access_token,
            super::token_lifetime(t.expires_in),
        )),
        Err(_) => Ok(Answer::Retry(Error::Network(
            "LWA answered with an unreadable body".into(),
        ))),
    }
}

/// Login with Amazon's error code in a refusal (`invalid_grant`, `invalid_client`, ...).
fn error_code(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<LwaError>(body).ok()?.error
}

/// The message for credentials Login with Amazon refused: what it said (Amazon's own words,
/// quoted and cut short) and, in plain words, what the seller has to do.
fn refusal(status: u16, error: &str, description: &str) -> String {
    let said = format!("HTTP {status} {}: {}", quote(error), quote(description));
    match error {
        "invalid_scope" | "unauthorized_client" => format!(
            "Login with Amazon refused a grantless token for the application ({said}): the \
             application needs the role of the API it calls (Notifications) in the Solution \
             Provider Portal"
        ),
        "invalid_client" => format!(
            "Login with Amazon refused the application's client secret ({said}). Amazon makes \
             every application rotate its client secret every 180 days, and an old secret stops \
             working when it expires: create the new client secret in the Solution Provider \
             Portal (Developer Central) and pass it to sellsync_set_credentials. Orders, \
             shipments, stock updates, cancellations and refunds stay queued until then"
        ),
        "invalid_grant" => format!(
            "Login with Amazon refused the seller's refresh token ({said}), as when the seller \
             revoked the application: the seller has to authorise the application again, and \
             the new refresh token is passed to sellsync_set_credentials. No call is made for \
             this account until then, and everything queued stays queued"
        ),
        _ => format!(
            "Login with Amazon refused the credentials ({said}); check client_id, client_secret \
             and refresh_token, and pass corrected ones to sellsync_set_credentials"
        ),
    }
}

/// Whether an LWA attempt may be retried.
pub enum Attempt {
    /// A token.
    Token(Secret),
    /// Transient failure (network, 429, 5xx, unreadable answer): try again after a backoff;
    /// with the HTTP status when there was an answer.
    Retry(Error, Option<u16>),
}

impl Lwa {
    /// An authoriser for these credentials.
    pub fn new(url: String, credentials: Credentials) -> Self {
        Lwa {
            url,
            current: Mutex::new(Current {
                credentials,
                authorisation: 0,
                replacements: 0,
                refused: None,
            }),
            cached: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    fn current(&self) -> MutexGuard<'_, Current> {
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the client secret, and the refresh token and client id when given, for every
    /// token exchange from now on; an exchange already under way finishes with the credentials
    /// it started with. The cached access token stays when only the secret changes: the secret
    /// authenticates the application at the token endpoint only, and a token Amazon issued
    /// stays valid until it expires. A new client id or refresh token names another
    /// authorisation, so its access token is dropped (and one an exchange under way brings
    /// back is not kept).
    pub fn replace(
        &self,
        client_secret: Secret,
        refresh_token: Option<Secret>,
        client_id: Option<String>,
    ) -> Replaced {
        let mut cur = self.current();
        let c = &mut cur.credentials;
        let token_dropped = refresh_token
            .as_ref()
            .is_some_and(|r| *r != c.refresh_token)
            || client_id.as_ref().is_some_and(|i| *i != c.client_id);
        c.client_secret = client_secret;
        if let Some(r) = refresh_token {
            c.refresh_token = r;
        }
        if let Some(i) = client_id {
            c.client_id = i;
        }
        if token_dropped {
            cur.authorisation += 1;
        }
        cur.replacements += 1;
        cur.refused = None;
        Replaced { token_dropped }
    }

    /// Whether the seller's token exchanges are paused: Login with Amazon refused the refresh
    /// token (`invalid_grant`) or the client secret (`invalid_client`), and the credentials
    /// were not replaced since. While paused, an exchange fails at once with the same
    /// [`Error::Credentials`], sending nothing; after a refused secret, one is tried again when
    /// its cool-down is over.
    pub fn paused(&self) -> bool {
        self.current().refused.is_some()
    }

    /// The refusal's message, once per pause (for the one event that announces it).
    pub fn take_pause_notice(&self) -> Option<String> {
        match &mut self.current().refused {
            Some(r) if !r.announced => {
                r.announced = true;
                Some(r.message.clone())
            }
            _ => None,
        }
    }

    /// A valid access token of the seller's authorisation: the cached one, or a fresh one
    /// (one attempt; the caller retries).
    pub async fn token(&self, http: &reqwest::Client, now: DateTime<Utc>) -> Result<Attempt> {
        self.obtain(http, None, now).await
    }

    /// A valid grantless access token of the application for `scope` (e.g.
    /// `sellingpartnerapi::notifications`), exchanged with `grant_type=client_credentials` (no
    /// refresh token): the cached one, or a fresh one (one attempt; the caller retries).
    pub async fn grantless_token(
        &self,
        http: &reqwest::Client,
        scope: &str,
        now: DateTime<Utc>,
    ) -> Result<Attempt> {
        self.obtain(http, Some(scope), now).await
    }

    /// The token of the seller's authorisation (`scope` None) or a grantless one for `scope`.
    async fn obtain(
        &self,
        http: &reqwest::Client,
        scope: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Attempt> {
        let mut cached = self.cached.lock().await;
        let key = scope.map(str::to_string);
        let (credentials, authorisation, replacements) = {
            let cur = self.current();
            if let (None, Some(r)) = (scope, &cur.refused) {
                if r.retry_at.is_none_or(|at| now < at) {
                    return Err(Error::Credentials(r.message.clone()));
                }
            }
            (cur.credentials.clone(), cur.authorisation, cur.replacements)
        };
        if let Some(c) = cached.get(&key) {
            if c.authorisation == authorisation && c.expires - Duration::seconds(AHEAD) > now {
                return Ok(Attempt::Token(c.token.clone()));
            }
        }
        let form = token_form(&credentials, scope);
        let resp = match http.post(&self.url).form(&form).send().await {
            Ok(r) => r,
            Err(e) => {
                return Ok(Attempt::Retry(
                    Error::Network(format!(
                        "LWA token request failed: {}",
                        super::transport_text(&e)
                    )),
                    None,
                ))
            }
        };
        let status = resp.status().as_u16();
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return Ok(Attempt::Retry(
                    Error::Network(format!(
                        "LWA answer was cut off: {}",
                        super::transport_text(&e)
                    )),
                    Some(status),
                ))
            }
        };
        let (token, lifetime) = match answer(status, &body) {
            Ok(Answer::Token(token, lifetime)) => (token, lifetime),
            Ok(Answer::Retry(e)) => return Ok(Attempt::Retry(e, Some(status))),
            Err(Error::Credentials(m)) if scope.is_none() => {
                let code = error_code(&body);
                let mut cur = self.current();
                // Not when the credentials were replaced while this exchange was under way.
                if cur.replacements == replacements {
                    let (announced, streak) = cur
                        .refused
                        .as_ref()
                        .map_or((false, 0), |r| (r.announced, r.streak));
                    cur.refused = match code.as_deref() {
                        Some("invalid_grant") => Some(Refusal {
                            message: m.clone(),
                            announced,
                            retry_at: None,
                            streak,
                        }),
                        Some("invalid_client") => Some(Refusal {
                            message: m.clone(),
                            announced,
                            retry_at: Some(now + cool_down(streak + 1)),
                            streak: streak + 1,
                        }),
                        _ => cur.refused.take(),
                    };
                }
                return Err(Error::Credentials(m));
            }
            Err(e) => return Err(e),
        };
        if scope.is_none() {
            // The secret is accepted again (a cool-down was over): the refusal is past.
            self.current().refused = None;
        }
        // Credentials replaced meanwhile for another authorisation: this token is for the
        // call that asked, not for the cache.
        if self.current().authorisation == authorisation {
            cached.insert(
                key,
                Cached {
                    token: token.clone(),
                    expires: now + lifetime,
                    authorisation,
                },
            );
        }
        Ok(Attempt::Token(token))
    }

    /// Forgets `token` (Amazon said it expired or is invalid) so the next call gets a new one.
    pub async fn invalidate(&self, token: &Secret) {
        let mut cached = self.cached.lock().await;
        cached.retain(|_, c| c.token != *token);
    }
}

/// The form of a token exchange: the seller's refresh token, or the client credentials grant
/// for `scope` (a grantless token; no refresh token is sent with a scope).
fn token_form<'a>(credentials: &'a Credentials, scope: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut form = match scope {
        None => vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", credentials.refresh_token.expose()),
        ],
        Some(scope) => vec![("grant_type", "client_credentials"), ("scope", scope)],
    };
    form.push(("client_id", &credentials.client_id));
    form.push(("client_secret", credentials.client_secret.expose()));
    form
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cool_down_after_a_refused_secret_doubles_from_a_minute_to_an_hour() {
        let minutes: Vec<i64> = (1..=9).map(|n| cool_down(n).num_minutes()).collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(cool_down(u32::MAX).num_minutes(), 60);
    }

    #[test]
    fn an_absurd_token_lifetime_is_kept_to_a_day() {
        for expires_in in [i64::MAX, i64::MIN, -1] {
            let body = format!(r#"{{"access_token": "Atza|x", "expires_in": {expires_in}}}"#);
            let Ok(Answer::Token(_, lifetime)) = answer(200, body.as_bytes()) else {
                panic!("no token for expires_in {expires_in}");
            };
            assert!((Duration::zero()..=Duration::days(1)).contains(&lifetime));
            let _ = Utc::now() + lifetime;
        }
    }

    #[test]
    fn a_grantless_exchange_sends_the_scope_and_no_refresh_token() {
        let c = Credentials {
            client_id: "amzn1.application-oa2-client.x".into(),
            client_secret: Secret::new("cs"),
            refresh_token: Secret::new("Atzr|r"),
        };
        let form = token_form(&c, Some("sellingpartnerapi::notifications"));
        assert_eq!(
            form,
            [
                ("grant_type", "client_credentials"),
                ("scope", "sellingpartnerapi::notifications"),
                ("client_id", "amzn1.application-oa2-client.x"),
                ("client_secret", "cs"),
            ]
        );
        let form = token_form(&c, None);
        assert_eq!(form[0], ("grant_type", "refresh_token"));
        assert_eq!(form[1], ("refresh_token", "Atzr|r"));
        assert!(!form.iter().any(|(k, _)| *k == "scope"));
    }

    #[tokio::test]
    async fn seller_and_grantless_tokens_are_cached_apart_until_they_expire() {
        // An LWA that numbers its tokens and records each form it was sent.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/auth/o2/token", listener.local_addr().unwrap());
        let forms = std::sync::Arc::new(Mutex::new(Vec::<String>::new()));
        let seen = forms.clone();
        tokio::spawn(async move {
            let mut n = 0;
            while let Ok((mut s, _)) = listener.accept().await {
                let Some((_, form)) = super::super::test_http::read_request(&mut s).await else {
                    continue;
                };
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&form).to_string());
                n += 1;
                let body = format!(r#"{{"access_token":"Atza|t{n}","expires_in":3600}}"#);
                super::super::test_http::answer(&mut s, 200, "application/json", &body).await;
            }
        });
        let lwa = Lwa::new(
            url,
            Credentials {
                client_id: "cid".into(),
                client_secret: Secret::new("cs"),
                refresh_token: Secret::new("Atzr|r"),
            },
        );
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let now = Utc::now();
        let token = |a: Attempt| match a {
            Attempt::Token(t) => t.expose().to_string(),
            Attempt::Retry(e, _) => panic!("{e}"),
        };
        let scope = "sellingpartnerapi::notifications";
        let seller = token(lwa.token(&http, now).await.unwrap());
        let grantless = token(lwa.grantless_token(&http, scope, now).await.unwrap());
        assert_ne!(seller, grantless);
        // Both cached.
        assert_eq!(token(lwa.token(&http, now).await.unwrap()), seller);
        assert_eq!(
            token(lwa.grantless_token(&http, scope, now).await.unwrap()),
            grantless
        );
        assert_eq!(forms.lock().unwrap().len(), 2);
        let sent = forms.lock().unwrap().clone();
        assert!(sent[0].contains("grant_type=refresh_token"), "{}", sent[0]);
        assert!(
            sent[1].contains("grant_type=client_credentials"),
            "{}",
            sent[1]
        );
        assert!(
            sent[1].contains("scope=sellingpartnerapi%3A%3Anotifications"),
            "{}",
            sent[1]
        );
        assert!(!sent[1].contains("refresh_token"), "{}", sent[1]);
        // Refused: only that one is exchanged again.
        lwa.invalidate(&Secret::new(grantless.clone())).await;
        let again = token(lwa.grantless_token(&http, scope, now).await.unwrap());
        assert_ne!(again, grantless);
        assert_eq!(token(lwa.token(&http, now).await.unwrap()), seller);
        // An hour later (less the margin), both are exchanged again.
        let later = now + Duration::seconds(3600 - AHEAD + 1);
        assert_ne!(
            token(lwa.grantless_token(&http, scope, later).await.unwrap()),
            again
        );
        assert_ne!(token(lwa.token(&http, later).await.unwrap()), seller);
        assert_eq!(forms.lock().unwrap().len(), 5);
    }

    #[test]
    fn a_refused_secret_says_to_rotate_it_with_set_credentials() {
        let body =
            br#"{"error":"invalid_client","error_description":"Client authentication failed"}"#;
        let Err(Error::Credentials(m)) = answer(401, body) else {
            panic!("invalid_client is a credentials error");
        };
        assert!(
            m.contains("client secret") && m.contains("sellsync_set_credentials"),
            "{m}"
        );
        assert!(m.contains("180 days"), "{m}");
        let Err(Error::Credentials(m)) = answer(400, br#"{"error":"invalid_grant"}"#) else {
            panic!("invalid_grant is a credentials error");
        };
        assert!(
            m.contains("refresh token") && m.contains("sellsync_set_credentials"),
            "{m}"
        );
    }
}
