//! The configuration: one JSON document given to `sellsync_open`.
//!
//! ```json
//! {
//!   "store_path": "shop.sqlite",
//!   "seller_id": "A2DEMOSELLER01",
//!   "marketplace_ids": ["ATVPDKIKX0DER"],
//!   "region": "na",
//!   "credentials": {"client_id": "...", "client_secret": "...", "refresh_token": "Atzr|..."},
//!   "orders_api": "2026-01-01",
//!   "orders": {"initial_lookback_hours": 168, "overlap_seconds": 300, "redelivery_seconds": 300},
//!   "intervals": {"orders_seconds": 120},
//!   "http": {"timeout_ms": 30000, "max_attempts": 8},
//!   "endpoint": null,
//!   "http_allow_insecure_loopback": false
//! }
//! ```
//! Unknown fields are refused, so a misspelt setting is an error rather than a silent default.

use crate::error::{Error, Result};
use crate::model::Buffer;
use crate::secret::Secret;
use serde::Deserialize;

/// Login-with-Amazon credentials of the seller's authorisation.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// LWA client id of the application.
    pub client_id: String,
    /// LWA client secret.
    pub client_secret: Secret,
    /// The seller's refresh token (`Atzr|...`).
    pub refresh_token: Secret,
}

/// Which Orders API reads orders.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum OrdersApi {
    /// Orders API v2026-01-01 `searchOrders` with `includedData` (the default).
    #[default]
    #[serde(rename = "2026-01-01")]
    V2026,
    /// Orders API v0 `getOrders` + `getOrderItems`, addresses through a Restricted Data Token.
    /// Amazon retires it on 27 March 2027.
    #[serde(rename = "v0")]
    V0,
}

/// How orders are read.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrdersPolicy {
    /// How far back the first sync looks.
    pub initial_lookback_hours: u32,
    /// How far each search reaches back before the last watermark (Amazon's data settles late).
    pub overlap_seconds: u32,
    /// An order handed to the host and not acknowledged is handed out again after this long
    /// (and always after the host process restarts).
    pub redelivery_seconds: u32,
}

impl Default for OrdersPolicy {
    fn default() -> Self {
        OrdersPolicy {
            initial_lookback_hours: 168,
            overlap_seconds: 300,
            redelivery_seconds: 300,
        }
    }
}

/// Intervals of the background worker.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Intervals {
    /// Seconds between order searches (Amazon allows searchOrders about once per 3 minutes
    /// sustained, with a burst of 20).
    pub orders_seconds: f64,
    /// Seconds between cycles of stock, shipments, cancellations and refunds (what the host
    /// queues goes out at once while the worker runs, whatever this says).
    pub stock_seconds: f64,
    /// Seconds between listings reports (reconciliation of Amazon's quantities).
    pub listings_seconds: f64,
    /// Longest a `sellsync_sync_now` call may take before it returns `SELLSYNC_ERR_TIMEOUT`.
    pub sync_timeout_seconds: f64,
}

impl Default for Intervals {
    fn default() -> Self {
        Intervals {
            orders_seconds: 120.0,
            stock_seconds: 30.0,
            listings_seconds: 21_600.0,
            sync_timeout_seconds: 900.0,
        }
    }
}

/// Stock policy defaults and the bulk feed's limits.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StockConfig {
    /// Units kept back from Amazon per SKU: a number, or `"auto"` (see `auto_buffer`).
    pub buffer: Buffer,
    /// Share (0..=100) of the rest that Amazon shows.
    pub allocation_percent: i64,
    /// Most Amazon shows per SKU (none if absent).
    pub max_quantity: Option<i64>,
    /// At or below this quantity, a decrease goes out at once through patchListingsItem.
    pub urgent_threshold: i64,
    /// Product type sent with quantity updates when a mapping does not name one.
    pub product_type: String,
    /// Amazon accepts at most 5 JSON_LISTINGS_FEED submissions per this window.
    pub listings_feed_window_seconds: f64,
    /// Small changes go out at once through patchListingsItem while its usage plan allows;
    /// feeds carry bulk. Off: every change that is not urgent travels in a feed.
    pub fast_lane: bool,
    /// Before a quantity goes out, Amazon's current quantity is read, so units Amazon sold for
    /// orders not visible yet are never handed back.
    pub read_back: bool,
    /// How `"buffer": "auto"` is computed.
    pub auto_buffer: AutoBuffer,
}

impl Default for StockConfig {
    fn default() -> Self {
        StockConfig {
            buffer: Buffer::Units(0),
            allocation_percent: 100,
            max_quantity: None,
            urgent_threshold: 0,
            product_type: "PRODUCT".into(),
            listings_feed_window_seconds: 300.0,
            fast_lane: true,
            read_back: true,
            auto_buffer: AutoBuffer::default(),
        }
    }
}

/// Adaptive safety stock: per host item, the units that sell in the shop during Amazon's
/// order-visibility window with this probability (a Poisson count at the item's recent
/// in-store sales rate).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AutoBuffer {
    /// The window in seconds (default: 190 s of payment and Amazon's 2-minute rule plus
    /// `intervals.orders_seconds`).
    pub window_seconds: Option<f64>,
    /// The probability that the buffer covers the shop's sales in the window (0.5..1).
    pub percentile: f64,
    /// Days of in-store sales the rate is taken from.
    pub history_days: f64,
}

impl Default for AutoBuffer {
    fn default() -> Self {
        AutoBuffer {
            window_seconds: None,
            percentile: 0.95,
            history_days: 14.0,
        }
    }
}

impl StockConfig {
    /// The policy of a SKU: its overrides over these defaults; `auto_units` is what an
    /// automatic buffer comes to for this SKU.
    pub fn policy(
        &self,
        buffer: Option<Buffer>,
        auto_units: i64,
        allocation: Option<i64>,
        max: Option<i64>,
        urgent: Option<i64>,
    ) -> crate::model::Policy {
        crate::model::Policy {
            buffer: match buffer.unwrap_or(self.buffer) {
                Buffer::Units(n) => n,
                Buffer::Auto => auto_units,
            },
            allocation_percent: allocation.unwrap_or(self.allocation_percent),
            max_quantity: max.or(self.max_quantity),
            urgent_threshold: urgent.unwrap_or(self.urgent_threshold),
        }
    }
}

/// HTTP behaviour.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Http {
    /// Timeout of one request.
    pub timeout_ms: u64,
    /// Attempts per call before an error is returned (429, 5xx, timeouts, dropped connections).
    pub max_attempts: u32,
    /// First backoff; doubles per attempt, with jitter.
    pub backoff_initial_ms: u64,
    /// Longest backoff.
    pub backoff_max_ms: u64,
}

impl Default for Http {
    fn default() -> Self {
        Http {
            timeout_ms: 30_000,
            max_attempts: 8,
            backoff_initial_ms: 250,
            backoff_max_ms: 60_000,
        }
    }
}

/// The whole configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Path of the SQLite store (one file per seller account; created if missing).
    pub store_path: String,
    /// The seller's merchant token.
    pub seller_id: String,
    /// Marketplaces to sync.
    pub marketplace_ids: Vec<String>,
    /// `na`, `eu` or `fe` (selects Amazon's endpoint).
    #[serde(default)]
    pub region: Option<String>,
    /// Explicit SP-API endpoint instead of the region's (e.g. the emulator's URL).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Explicit LWA token URL (default: Amazon's, or `<endpoint>/auth/o2/token` with `endpoint`).
    #[serde(default)]
    pub lwa_endpoint: Option<String>,
    /// LWA credentials.
    pub credentials: Credentials,
    /// Which Orders API to use.
    #[serde(default)]
    pub orders_api: OrdersApi,
    /// How orders are read.
    #[serde(default)]
    pub orders: OrdersPolicy,
    /// Background worker intervals.
    #[serde(default)]
    pub intervals: Intervals,
    /// HTTP behaviour.
    #[serde(default)]
    pub http: Http,
    /// Stock policy defaults.
    #[serde(default)]
    pub stock: StockConfig,
    /// Allow plain HTTP, to 127.0.0.1/::1/localhost only (for the emulator in tests).
    #[serde(default)]
    pub http_allow_insecure_loopback: bool,
}

impl Config {
    /// Parses and checks a configuration document.
    pub fn from_json(text: &str) -> Result<Config> {
        let c: Config = serde_json::from_str(text).map_err(|e| {
            Error::InvalidArgument(format!(
                "config_json is not a valid configuration: {}",
                redact_quoted(&e.to_string())
            ))
        })?;
        c.validate()?;
        Ok(c)
    }

    fn validate(&self) -> Result<()> {
        let fail = |m: &str| Err(Error::Config(m.to_string()));
        if self.store_path.is_empty() {
            return fail("store_path must name a file");
        }
        if self.seller_id.is_empty() {
            return fail("seller_id is required");
        }
        if self.marketplace_ids.is_empty() {
            return fail("marketplace_ids must name at least one marketplace");
        }
        if self.credentials.client_id.is_empty()
            || self.credentials.client_secret.is_empty()
            || self.credentials.refresh_token.is_empty()
        {
            return fail("credentials need client_id, client_secret and refresh_token");
        }
        if self.http.max_attempts == 0 || self.http.timeout_ms == 0 {
            return fail("http.max_attempts and http.timeout_ms must be positive");
        }
        let i = &self.intervals;
        if ![
            i.orders_seconds,
            i.stock_seconds,
            i.listings_seconds,
            i.sync_timeout_seconds,
        ]
        .into_iter()
        .all(positive)
        {
            return fail("intervals must be positive");
        }
        let s = &self.stock;
        let bad_numbers = matches!(s.buffer, Buffer::Units(n) if n < 0)
            || !(0..=100).contains(&s.allocation_percent)
            || s.max_quantity.is_some_and(|m| m < 0)
            || s.urgent_threshold < 0;
        if bad_numbers {
            return fail("stock: buffer, max_quantity and urgent_threshold must be >= 0 and allocation_percent 0..=100");
        }
        if s.product_type.is_empty() || !positive(s.listings_feed_window_seconds) {
            return fail("stock: product_type must not be empty and listings_feed_window_seconds must be positive");
        }
        let a = &s.auto_buffer;
        let window_ok = a
            .window_seconds
            .is_none_or(|w| positive(w) && w <= 86_400.0);
        let auto_ok = window_ok
            && (0.5..1.0).contains(&a.percentile)
            && positive(a.history_days)
            && a.history_days <= 365.0;
        if !auto_ok {
            return fail("stock.auto_buffer: window_seconds must be in (0, 86400], percentile in [0.5, 1) and history_days in (0, 365]");
        }
        for url in [Some(self.api_endpoint()?), self.lwa_url().ok()]
            .into_iter()
            .flatten()
        {
            self.check_url(&url)?;
        }
        Ok(())
    }

    /// Seconds of the order-visibility window an automatic buffer covers.
    pub fn auto_buffer_window(&self) -> f64 {
        self.stock
            .auto_buffer
            .window_seconds
            .unwrap_or(190.0 + self.intervals.orders_seconds)
    }

    /// The SP-API base URL.
    pub fn api_endpoint(&self) -> Result<String> {
        if let Some(e) = &self.endpoint {
            return Ok(e.trim_end_matches('/').to_string());
        }
        match self.region.as_deref().unwrap_or("na") {
            "na" => Ok("https://sellingpartnerapi-na.amazon.com".into()),
            "eu" => Ok("https://sellingpartnerapi-eu.amazon.com".into()),
            "fe" => Ok("https://sellingpartnerapi-fe.amazon.com".into()),
            other => Err(Error::Config(format!(
                "region must be na, eu or fe, not {other:?}"
            ))),
        }
    }

    /// The LWA token URL.
    pub fn lwa_url(&self) -> Result<String> {
        Ok(match (&self.lwa_endpoint, &self.endpoint) {
            (Some(l), _) => l.clone(),
            (None, Some(_)) => format!("{}/auth/o2/token", self.api_endpoint()?),
            (None, None) => "https://api.amazon.com/auth/o2/token".into(),
        })
    }

    fn check_url(&self, text: &str) -> Result<()> {
        let url = url::Url::parse(text)
            .map_err(|e| Error::Config(format!("{text:?} is not a URL: {e}")))?;
        match url.scheme() {
            "https" => Ok(()),
            "http" => {
                let loopback = match url.host() {
                    Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                    Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                    Some(url::Host::Domain(d)) => d == "localhost",
                    None => false,
                };
                if loopback && self.http_allow_insecure_loopback {
                    Ok(())
                } else {
                    Err(Error::Config(format!(
                        "{text:?} is plain HTTP: only HTTPS is allowed, except to loopback with http_allow_insecure_loopback"
                    )))
                }
            }
            other => Err(Error::Config(format!("unsupported URL scheme {other:?}"))),
        }
    }
}

/// True for a finite number above zero (false for NaN).
fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

/// Replaces every double-quoted value in a parser message, which could be a misplaced secret.
pub fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for (i, part) in message.split('"').enumerate() {
        out.push_str(if i % 2 == 1 { "\"…\"" } else { part });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(extra: &str) -> String {
        format!(
            r#"{{"store_path":"s.sqlite","seller_id":"S","marketplace_ids":["M"],
                "credentials":{{"client_id":"c","client_secret":"secret-value","refresh_token":"Atzr|r"}}{extra}}}"#
        )
    }

    #[test]
    fn plain_http_is_refused_unless_loopback_and_allowed() {
        assert!(Config::from_json(&doc(r#","endpoint":"http://127.0.0.1:9""#)).is_err());
        assert!(Config::from_json(&doc(
            r#","endpoint":"http://10.0.0.1:9","http_allow_insecure_loopback":true"#
        ))
        .is_err());
        assert!(Config::from_json(&doc(
            r#","endpoint":"http://127.0.0.1:9","http_allow_insecure_loopback":true"#
        ))
        .is_ok());
        assert!(Config::from_json(&doc("")).is_ok());
    }

    #[test]
    fn unknown_fields_and_bad_regions_are_errors_without_secrets() {
        let e = Config::from_json(&doc(r#","regoin":"eu""#))
            .unwrap_err()
            .to_string();
        assert!(e.contains("regoin"), "{e}");
        assert!(!e.contains("secret-value"));
        assert!(Config::from_json(&doc(r#","region":"xx""#)).is_err());
        let e = Config::from_json(&doc(r#","http":{"timeout_ms":"Atzr|misplaced"}"#))
            .unwrap_err()
            .to_string();
        assert!(!e.contains("misplaced"), "{e}");
    }
}
