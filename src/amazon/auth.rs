//! Login with Amazon: exchanges the refresh token for access tokens, caches them per
//! (client id, refresh token) and refreshes them ahead of expiry.

use crate::error::{Error, Result};
use crate::secret::Secret;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

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

/// The cached access token for one seller authorisation.
#[derive(Debug)]
pub struct Lwa {
    url: String,
    client_id: String,
    client_secret: Secret,
    refresh_token: Secret,
    cached: tokio::sync::Mutex<Option<(Secret, DateTime<Utc>)>>,
}

/// What an LWA answer says.
pub enum Answer {
    /// An access token and how long it lives.
    Token(Secret, Duration),
    /// Transient failure (5xx, 429, unreadable body): try again after a backoff.
    Retry(Error),
}

/// Reads an LWA token answer of HTTP `status`; refused credentials are an [`Error::Auth`].
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
        return Err(Error::Auth(format!(
            "Login with Amazon refused the credentials ({status} {}: {}); check client_id, client_secret and refresh_token",
            e.error.unwrap_or_default(),
            e.error_description.unwrap_or_default()
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
    pub fn new(
        url: String,
        client_id: String,
        client_secret: Secret,
        refresh_token: Secret,
    ) -> Self {
        Lwa {
            url,
            client_id,
            client_secret,
            refresh_token,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// A valid access token: the cached one, or a fresh one (one attempt; the caller retries).
    pub async fn token(&self, http: &reqwest::Client, now: DateTime<Utc>) -> Result<Attempt> {
        let mut cached = self.cached.lock().await;
        if let Some((t, expires)) = cached.as_ref() {
            if *expires - Duration::seconds(AHEAD) > now {
                return Ok(Attempt::Token(t.clone()));
            }
        }
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", self.refresh_token.expose()),
            ("client_id", &self.client_id),
            ("client_secret", self.client_secret.expose()),
        ];
        let resp = match http.post(&self.url).form(&form).send().await {
            Ok(r) => r,
            Err(e) => {
                return Ok(Attempt::Retry(
                    Error::Network(format!("LWA token request failed: {}", e.without_url())),
                    None,
                ))
            }
        };
        let status = resp.status().as_u16();
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return Ok(Attempt::Retry(
                    Error::Network(format!("LWA answer was cut off: {}", e.without_url())),
                    Some(status),
                ))
            }
        };
        let (token, lifetime) = match answer(status, &body)? {
            Answer::Token(token, lifetime) => (token, lifetime),
            Answer::Retry(e) => return Ok(Attempt::Retry(e, Some(status))),
        };
        *cached = Some((token.clone(), now + lifetime));
        Ok(Attempt::Token(token))
    }

    /// Forgets `token` (Amazon said it expired or is invalid) so the next call gets a new one.
    pub async fn invalidate(&self, token: &Secret) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|(t, _)| t == token) {
            *cached = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
