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
//!   "orders": {"initial_lookback_hours": 168, "overlap_seconds": 300, "redelivery_seconds": 300,
//!              "reconcile_seconds": 3600, "reconcile_lookback_hours": 6},
//!   "intervals": {"orders_seconds": 180},
//!   "http": {"timeout_ms": 30000, "max_attempts": 8, "proxy": null, "use_env_proxy": false,
//!            "extra_root_cert_pem": null},
//!   "endpoint": null,
//!   "http_allow_insecure_loopback": false
//! }
//! ```
//! Unknown fields are refused, so a misspelt setting is an error rather than a silent default.
//!
//! Connections are HTTPS only (TLS 1.2 or later, certificates verified against the built-in
//! roots plus `http.extra_root_cert_pem`), except plain HTTP to loopback with
//! `http_allow_insecure_loopback`. `http.proxy` is an `http://` or `https://` proxy URL
//! (`user:password@` allowed; never shown in a message, a log line or `Debug`).
//! `http.use_env_proxy` (default false) uses the environment's `HTTPS_PROXY`, `HTTP_PROXY`,
//! `ALL_PROXY` and `NO_PROXY` instead; not both. `http.extra_root_cert_pem` is the path of a
//! PEM file of root certificates to trust besides the built-in ones (a proxy that inspects
//! TLS); it must be readable and hold a certificate. The credentials can be replaced while a
//! handle is open ([`CredentialsUpdate`], `sellsync_set_credentials`).
//!
//! Every number has a range; a value outside it is `SELLSYNC_ERR_CONFIG` (a value of the wrong
//! type, e.g. a string for a number, makes the document invalid: `SELLSYNC_ERR_INVALID_ARGUMENT`):
//!
//! | setting | range |
//! |---|---|
//! | `marketplace_ids` | 1 to 50 ids of 1 to 32 ASCII letters and digits; repeats are dropped |
//! | `orders.initial_lookback_hours` | whole, 1 to 8760 (a year) |
//! | `orders.overlap_seconds` | whole, 0 to 86400 |
//! | `orders.reconcile_seconds` | whole, 0 (never) to 604800 (a week) |
//! | `orders.reconcile_lookback_hours` | whole, 1 to 168 (a week) |
//! | `orders.redelivery_seconds` | whole, 1 to 604800 (a week) |
//! | `store.lease_seconds` | 2 to 300 (default 10) |
//! | `intervals.orders_seconds`, `intervals.stock_seconds` | 0.001 to 86400 |
//! | `intervals.listings_seconds` | 0.001 to 604800 |
//! | `intervals.sync_timeout_seconds` | 0.001 to 86400 |
//! | `account_health.interval_seconds` | 0.001 to 604800 (default 21600) |
//! | `account_health.tolerance` | 0 to 1 (default 0.005) |
//! | `prices.confirm_change_percent` | 0 to 1000 (default 20) |
//! | `http.timeout_ms` | whole, 1 to 600000 |
//! | `http.max_attempts` | whole, 1 to 100 |
//! | `http.backoff_initial_ms` | whole, 0 to 600000 |
//! | `http.backoff_max_ms` | whole, 0 to 3600000 |
//! | `http.max_document_bytes` | whole, 1048576 (1 MiB) to 68719476736 (64 GiB); default 268435456 |
//! | `stock.buffer` | whole, 0 to 1000000000, or `"auto"` |
//! | `stock.allocation_percent` | whole, 0 to 100 |
//! | `stock.max_quantity`, `stock.urgent_threshold` | whole, 0 to 1000000000 (`max_quantity` may be null) |
//! | `stock.handling_days` | whole, 0 to 30, or null |
//! | `stock.listings_feed_window_seconds` | 0.001 to 86400 |
//! | `stock.feed_late_seconds` | 1 to 604800 (default 1800) |
//! | `stock.auto_buffer.window_seconds` | 0.001 to 86400, or null |
//! | `stock.auto_buffer.percentile` | 0.5 up to but not including 1 |
//! | `stock.auto_buffer.history_days` | 0.001 to 365 |
//! | `privacy.retention_days` | whole, 1 to 3650; above 30 only with `privacy.legal_hold` |
//!
//! The same table is [`LIMITS`]; a test checks that this comment and the README list each entry.
//!
//! Several processes (tills, stores) of one seller account share a store on PostgreSQL instead
//! of the SQLite file ([`SharedStore`]; then no `store_path`, and `privacy.key` or
//! `privacy.key_file` is required, the same in every process):
//!
//! ```json
//! "store": {"postgres": "postgresql://sellsync:...@db.shop.lan/shop_a2demoseller01?sslmode=require",
//!           "lease_seconds": 10, "node": "till-1"}
//! ```
//! One process holds the lease and runs the sync with Amazon; `node` names the process in the
//! lease (unique per process; default: host name and process id). `orders.consumer_group`
//! names the group a handle takes orders for (each group gets every order once);
//! `stock.amazon_locations` lists the locations whose levels Amazon sells.
//!
//! An optional `notifications` section receives Amazon's notifications (`ORDER_CHANGE`,
//! `LISTINGS_ITEM_MFN_QUANTITY_CHANGE`) from the seller's Amazon SQS queue ([`Notifications`]):
//!
//! ```json
//! "notifications": {
//!   "queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/sellsync-notifications",
//!   "region": "us-east-1",
//!   "aws_access_key_id": "AKIA...", "aws_secret_access_key": "...", "aws_session_token": "...",
//!   "quiet_after_seconds": 300,
//!   "poll_slowdown": 4
//! }
//! ```
//! `queue_url` is the queue's URL (`https://HOST/ACCOUNT/NAME`); `region` may be left out when
//! the host is `sqs.REGION.amazonaws.com`. `aws_session_token` is only for temporary
//! credentials. The secret access key and the session token are secrets: never shown in a
//! message, a log line or `Debug`. The ranges ([`NOTIFICATION_LIMITS`]):
//!
//! | setting | range |
//! |---|---|
//! | `notifications.quiet_after_seconds` | whole, 1 to 86400 (default 300) |
//! | `notifications.poll_slowdown` | whole, 1 to 100 (default 4) |

use crate::error::{quote, Error, Result};
use crate::model::Buffer;
use crate::secret::Secret;
use serde::Deserialize;

/// The range of one numeric setting (the table in this module's documentation).
#[derive(Clone, Copy)]
pub struct Limit {
    /// The setting, e.g. `intervals.orders_seconds`.
    pub path: &'static str,
    /// Smallest value allowed.
    pub min: f64,
    /// Largest value allowed (excluded when `below_max`).
    pub max: f64,
    /// The maximum itself is out of range.
    pub below_max: bool,
    /// Only whole numbers.
    pub whole: bool,
    /// The setting's value in a parsed configuration (None when absent or not a number).
    get: fn(&Config) -> Option<f64>,
}

impl std::fmt::Debug for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.path)
    }
}

impl Limit {
    /// Whether `x` is in range.
    pub fn admits(&self, x: f64) -> bool {
        let below = if self.below_max {
            x < self.max
        } else {
            x <= self.max
        };
        x.is_finite() && x >= self.min && below && (!self.whole || x.fract() == 0.0)
    }

    /// The error for a value out of range (the value itself is not repeated).
    pub fn refusal(&self) -> Error {
        Error::Config(range_text(
            self.path,
            self.min,
            self.max,
            self.below_max,
            self.whole,
        ))
    }
}

/// "PATH must be a whole number from MIN to MAX" (for configuration and query errors alike).
pub fn range_text(path: &str, min: f64, max: f64, below_max: bool, whole: bool) -> String {
    format!(
        "{path} must be {} from {min} {} {max}",
        if whole { "a whole number" } else { "a number" },
        if below_max {
            "up to but not including"
        } else {
            "to"
        }
    )
}

const fn limit(path: &'static str, min: f64, max: f64, get: fn(&Config) -> Option<f64>) -> Limit {
    Limit {
        path,
        min,
        max,
        below_max: false,
        whole: false,
        get,
    }
}

const fn whole(path: &'static str, min: f64, max: f64, get: fn(&Config) -> Option<f64>) -> Limit {
    Limit {
        whole: true,
        ..limit(path, min, max, get)
    }
}

/// Most units a quantity setting may name (the same bound as a host's on-hand quantity).
pub const MAX_UNITS: f64 = 1_000_000_000.0;
/// Most marketplaces a configuration or a query may name (Amazon's own limit per request).
pub const MAX_MARKETPLACES: usize = 50;

/// The range of every numeric setting.
pub const LIMITS: &[Limit] = &[
    whole("orders.initial_lookback_hours", 1.0, 8760.0, |c| {
        Some(f64::from(c.orders.initial_lookback_hours))
    }),
    whole("orders.overlap_seconds", 0.0, 86_400.0, |c| {
        Some(f64::from(c.orders.overlap_seconds))
    }),
    whole("orders.redelivery_seconds", 1.0, 604_800.0, |c| {
        Some(f64::from(c.orders.redelivery_seconds))
    }),
    whole("orders.reconcile_seconds", 0.0, 604_800.0, |c| {
        Some(f64::from(c.orders.reconcile_seconds))
    }),
    whole("orders.reconcile_lookback_hours", 1.0, 168.0, |c| {
        Some(f64::from(c.orders.reconcile_lookback_hours))
    }),
    limit("store.lease_seconds", 2.0, 300.0, |c| c.store.lease_seconds),
    limit("intervals.orders_seconds", 0.001, 86_400.0, |c| {
        Some(c.intervals.orders_seconds)
    }),
    limit("intervals.stock_seconds", 0.001, 86_400.0, |c| {
        Some(c.intervals.stock_seconds)
    }),
    limit("intervals.listings_seconds", 0.001, 604_800.0, |c| {
        Some(c.intervals.listings_seconds)
    }),
    limit("intervals.sync_timeout_seconds", 0.001, 86_400.0, |c| {
        Some(c.intervals.sync_timeout_seconds)
    }),
    limit("account_health.interval_seconds", 0.001, 604_800.0, |c| {
        Some(c.account_health.interval_seconds)
    }),
    limit("account_health.tolerance", 0.0, 1.0, |c| {
        Some(c.account_health.tolerance)
    }),
    limit("prices.confirm_change_percent", 0.0, 1000.0, |c| {
        Some(c.prices.confirm_change_percent)
    }),
    whole("http.timeout_ms", 1.0, 600_000.0, |c| {
        Some(c.http.timeout_ms as f64)
    }),
    whole("http.max_attempts", 1.0, 100.0, |c| {
        Some(f64::from(c.http.max_attempts))
    }),
    whole("http.backoff_initial_ms", 0.0, 600_000.0, |c| {
        Some(c.http.backoff_initial_ms as f64)
    }),
    whole("http.backoff_max_ms", 0.0, 3_600_000.0, |c| {
        Some(c.http.backoff_max_ms as f64)
    }),
    whole(
        "http.max_document_bytes",
        1_048_576.0,
        68_719_476_736.0,
        |c| Some(c.http.max_document_bytes as f64),
    ),
    whole("stock.buffer", 0.0, MAX_UNITS, |c| match c.stock.buffer {
        Buffer::Units(n) => Some(n as f64),
        Buffer::Auto => None,
    }),
    whole("stock.allocation_percent", 0.0, 100.0, |c| {
        Some(c.stock.allocation_percent as f64)
    }),
    whole("stock.max_quantity", 0.0, MAX_UNITS, |c| {
        c.stock.max_quantity.map(|n| n as f64)
    }),
    whole("stock.urgent_threshold", 0.0, MAX_UNITS, |c| {
        Some(c.stock.urgent_threshold as f64)
    }),
    whole("stock.handling_days", 0.0, 30.0, |c| {
        c.stock.handling_days.map(|n| n as f64)
    }),
    limit("stock.listings_feed_window_seconds", 0.001, 86_400.0, |c| {
        Some(c.stock.listings_feed_window_seconds)
    }),
    limit("stock.feed_late_seconds", 1.0, 604_800.0, |c| {
        Some(c.stock.feed_late_seconds)
    }),
    limit("stock.auto_buffer.window_seconds", 0.001, 86_400.0, |c| {
        c.stock.auto_buffer.window_seconds
    }),
    Limit {
        below_max: true,
        ..limit("stock.auto_buffer.percentile", 0.5, 1.0, |c| {
            Some(c.stock.auto_buffer.percentile)
        })
    },
    limit("stock.auto_buffer.history_days", 0.001, 365.0, |c| {
        Some(c.stock.auto_buffer.history_days)
    }),
    whole("privacy.retention_days", 1.0, 3650.0, |c| {
        Some(f64::from(c.privacy.retention_days))
    }),
];

/// The range of every numeric setting of the `notifications` section.
pub const NOTIFICATION_LIMITS: &[Limit] = &[
    whole("notifications.quiet_after_seconds", 1.0, 86_400.0, |c| {
        c.notifications
            .as_ref()
            .map(|n| n.quiet_after_seconds as f64)
    }),
    whole("notifications.poll_slowdown", 1.0, 100.0, |c| {
        c.notifications.as_ref().map(|n| f64::from(n.poll_slowdown))
    }),
];

/// Checks a list of marketplace ids (1 to [`MAX_MARKETPLACES`], each 1 to 32 ASCII letters and
/// digits) and drops repeats, keeping the first of each. `name` names the list in the message.
pub fn marketplace_ids(ids: &[String], name: &str) -> std::result::Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::with_capacity(ids.len().min(MAX_MARKETPLACES));
    for id in ids {
        let ok = (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric());
        if !ok {
            return Err(format!(
                "{name}: {} is not a marketplace id (1 to 32 ASCII letters and digits)",
                quote(id)
            ));
        }
        if !out.contains(id) {
            out.push(id.clone());
        }
    }
    if out.is_empty() || out.len() > MAX_MARKETPLACES {
        return Err(format!(
            "{name} must name 1 to {MAX_MARKETPLACES} different marketplaces, not {}",
            out.len()
        ));
    }
    Ok(out)
}

/// Checks every number of a configuration document against [`LIMITS`] before it is parsed into
/// its types, so a value out of range is a configuration error even when it would not fit them.
fn check_numbers(doc: &serde_json::Value) -> Result<()> {
    for l in LIMITS.iter().chain(NOTIFICATION_LIMITS) {
        let pointer = format!("/{}", l.path.replace('.', "/"));
        if let Some(x) = doc.pointer(&pointer).and_then(serde_json::Value::as_f64) {
            if !l.admits(x) {
                return Err(l.refusal());
            }
        }
    }
    Ok(())
}

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

/// New credentials for an open handle (`sellsync_set_credentials`): the client secret, and
/// the refresh token and client id when they change too.
#[derive(Clone, Debug)]
pub struct CredentialsUpdate {
    /// The new LWA client secret.
    pub client_secret: Secret,
    /// A new refresh token (the seller authorised the application again), if any.
    pub refresh_token: Option<Secret>,
    /// A new client id (another application), if any.
    pub client_id: Option<String>,
}

impl CredentialsUpdate {
    /// Reads `{"client_secret": "...", "refresh_token": "...", "client_id": "..."}` (the last
    /// two optional). Anything else is an [`Error::InvalidArgument`] whose message quotes
    /// nothing of the document, since any part of it may be a secret.
    pub fn from_json(text: &str) -> Result<CredentialsUpdate> {
        const SHAPE: &str = r#"{"client_secret": "...", "refresh_token": "..." (optional), "client_id": "..." (optional)}"#;
        let invalid = |m: String| Error::InvalidArgument(format!("credentials_json {m}"));
        let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            invalid(format!(
                "is not valid JSON (line {}, column {}); expected {SHAPE}",
                e.line(),
                e.column()
            ))
        })?;
        let Some(members) = doc.as_object() else {
            return Err(invalid(format!("must be an object: {SHAPE}")));
        };
        const KNOWN: [&str; 3] = ["client_secret", "refresh_token", "client_id"];
        if members.keys().any(|k| !KNOWN.contains(&k.as_str())) {
            return Err(invalid(format!(
                "may hold only client_secret, refresh_token and client_id: {SHAPE}"
            )));
        }
        let text = |name: &str| -> Result<Option<String>> {
            match members.get(name) {
                None => Ok(None),
                Some(serde_json::Value::String(v)) if !v.is_empty() => Ok(Some(v.clone())),
                Some(_) => Err(invalid(format!("{name} must be a non-empty string"))),
            }
        };
        let client_secret = text("client_secret")?
            .ok_or_else(|| invalid(format!("needs client_secret: {SHAPE}")))?;
        Ok(CredentialsUpdate {
            client_secret: Secret::new(client_secret),
            refresh_token: text("refresh_token")?.map(Secret::new),
            client_id: text("client_id")?,
        })
    }
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
    /// Every this many seconds of Amazon's time one search reaches back
    /// `reconcile_lookback_hours` instead, for the changes Amazon's searches showed later than
    /// the overlap covers (sometimes hours late); 0: never.
    pub reconcile_seconds: u32,
    /// How far a reconciling search reaches back.
    pub reconcile_lookback_hours: u32,
    /// An order handed to the host and not acknowledged is handed out again after this long
    /// (and always after the host process restarts).
    pub redelivery_seconds: u32,
    /// The consumer group this handle takes orders for: each group gets every order once
    /// (e.g. `"warehouse"` beside the tills). Without one, the handle shares the default group,
    /// whose acknowledgements are the bookings the stock counts on.
    pub consumer_group: Option<String>,
}

impl Default for OrdersPolicy {
    fn default() -> Self {
        OrdersPolicy {
            initial_lookback_hours: 168,
            overlap_seconds: 300,
            redelivery_seconds: 300,
            reconcile_seconds: 3600,
            reconcile_lookback_hours: 6,
            consumer_group: None,
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
            orders_seconds: 180.0,
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
    /// The handling time (days from order to dispatch) sent with every quantity when a
    /// mapping does not name one. None: the listing keeps the handling time it has on Amazon
    /// (quantities go out by `merge`, which leaves it alone).
    pub handling_days: Option<i64>,
    /// Amazon accepts at most 5 JSON_LISTINGS_FEED submissions per this window.
    pub listings_feed_window_seconds: f64,
    /// A listings feed not DONE this long after it was submitted is reported once
    /// (`stock.feed_late`): Amazon holds a seller's later feeds of its type behind it.
    pub feed_late_seconds: f64,
    /// Small changes go out at once through patchListingsItem while its usage plan allows;
    /// feeds carry bulk. Off: every change that is not urgent travels in a feed.
    pub fast_lane: bool,
    /// Before a quantity goes out, Amazon's current quantity is read, so units Amazon sold for
    /// orders not visible yet are never handed back.
    pub read_back: bool,
    /// How `"buffer": "auto"` is computed.
    pub auto_buffer: AutoBuffer,
    /// How durable a stock level is when `sellsync_stock_set` returns.
    pub durability: StockDurability,
    /// The locations (stores, warehouses) whose stock Amazon may sell, when levels name one:
    /// an item's quantity for Amazon is the sum of its levels at these locations. Absent: the
    /// sum over every location reported.
    pub amazon_locations: Option<Vec<String>>,
}

/// How durable stock levels are when the call that reports them returns. Acknowledgements,
/// shipments, cancellations and refunds are always fully durable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StockDurability {
    /// Synced to disk: survives a power cut.
    #[default]
    Full,
    /// Survives a crash of the host process; a power cut may lose the last levels, which the
    /// host reports again at start-up (levels are absolute).
    Process,
}

impl Default for StockConfig {
    fn default() -> Self {
        StockConfig {
            buffer: Buffer::Units(0),
            allocation_percent: 100,
            max_quantity: None,
            urgent_threshold: 0,
            product_type: "PRODUCT".into(),
            handling_days: None,
            listings_feed_window_seconds: 300.0,
            feed_late_seconds: 1800.0,
            fast_lane: true,
            read_back: true,
            auto_buffer: AutoBuffer::default(),
            durability: StockDurability::Full,
            amazon_locations: None,
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

/// Days buyer data is kept after delivery, as Amazon's Data Protection Policy allows.
pub const RETENTION_DAYS: u32 = 30;

/// Buyer data in the store: the key it is sealed with and how long it is kept.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Privacy {
    /// The key (32 bytes in base64 or as 64 hexadecimal digits); without it and `key_file`,
    /// the key file beside the store (`<store_path>.key`, made at first open).
    pub key: Option<Secret>,
    /// A file holding the key (which must exist).
    pub key_file: Option<String>,
    /// The key the store was sealed with before `key`: its rows are sealed again under `key`
    /// in the background, a few hundred per transaction.
    pub previous_key: Option<Secret>,
    /// When the key file beside the store is missing although buyer data was sealed with it,
    /// start a new key and drop the old sealed buyer data (otherwise the store is refused).
    pub new_key_if_lost: bool,
    /// Buyer data is deleted this many days after delivery (1 to 30; more only under
    /// `legal_hold`).
    pub retention_days: u32,
    /// A legal obligation to keep buyer data longer than 30 days.
    pub legal_hold: bool,
}

impl Default for Privacy {
    fn default() -> Self {
        Privacy {
            key: None,
            key_file: None,
            previous_key: None,
            new_key_if_lost: false,
            retention_days: RETENTION_DAYS,
            legal_hold: false,
        }
    }
}

impl Privacy {
    /// Checks the settings that are not ranges (the keys' form, one source of the key).
    fn validate(&self) -> Result<()> {
        if self.key.is_some() && self.key_file.is_some() {
            return Err(Error::Config(
                "privacy.key and privacy.key_file cannot both be given".into(),
            ));
        }
        if self.key_file.as_deref() == Some("") {
            return Err(Error::Config("privacy.key_file must name a file".into()));
        }
        if let Some(k) = &self.key {
            crate::store::seal::Key::parse(k.expose(), "privacy.key")?;
        }
        if let Some(k) = &self.previous_key {
            crate::store::seal::Key::parse(k.expose(), "privacy.previous_key")?;
        }
        if self.retention_days > RETENTION_DAYS && !self.legal_hold {
            return Err(Error::Config(format!(
                "privacy.retention_days above {RETENTION_DAYS} needs privacy.legal_hold: true (Amazon allows {RETENTION_DAYS} days after delivery)"
            )));
        }
        Ok(())
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
    /// A proxy for every connection (`http://` or `https://` URL, optionally with
    /// `user:password@`); HTTPS goes through it with CONNECT. Never shown in a log line, an
    /// error or `Debug`.
    pub proxy: Option<Secret>,
    /// Use the proxy that the environment names (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`,
    /// `NO_PROXY`, upper or lower case), read when the handle opens. Off by default, so a
    /// library inside a POS does not change where it connects because of its environment.
    pub use_env_proxy: bool,
    /// Path of a PEM file with one or more root certificates to trust besides the built-in
    /// (Mozilla's) roots, e.g. a corporate proxy's that inspects TLS. Read when the
    /// configuration is checked and when the handle opens.
    pub extra_root_cert_pem: Option<String>,
    /// Largest document (a feed's processing report, a report) downloaded, and largest once
    /// un-gzipped: a larger one is refused (`DocumentTooLarge`), so a few compressed kilobytes
    /// cannot fill the host's memory.
    pub max_document_bytes: u64,
}

/// Default of `http.max_document_bytes`: 256 MiB (a listings report of a million SKUs is
/// about 200 MB).
pub const MAX_DOCUMENT_BYTES: u64 = 256 << 20;

impl Default for Http {
    fn default() -> Self {
        Http {
            timeout_ms: 30_000,
            max_attempts: 8,
            backoff_initial_ms: 250,
            backoff_max_ms: 60_000,
            proxy: None,
            use_env_proxy: false,
            extra_root_cert_pem: None,
            max_document_bytes: MAX_DOCUMENT_BYTES,
        }
    }
}

impl Http {
    /// The proxy URL, checked: an `http` or `https` URL with a host. Messages never quote it
    /// (it may carry a password).
    pub fn proxy_url(&self) -> Result<Option<url::Url>> {
        let Some(p) = &self.proxy else {
            return Ok(None);
        };
        let url = url::Url::parse(p.expose()).map_err(|e| {
            Error::Config(format!(
                "http.proxy is not a URL ({e}); expected http://host:port or https://host:port"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::Config(
                "http.proxy must be an http:// or https:// URL".into(),
            ));
        }
        if url.host().is_none() {
            return Err(Error::Config("http.proxy must name a host".into()));
        }
        Ok(Some(url))
    }

    /// The texts of the proxy URL that must never be shown: its user name and password.
    pub fn proxy_secrets(&self) -> Vec<String> {
        let Ok(Some(url)) = self.proxy_url() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for part in [url.username(), url.password().unwrap_or("")] {
            if !part.is_empty() {
                out.push(part.to_string());
                if let Ok(decoded) = urlencoding_decode(part) {
                    out.push(decoded);
                }
            }
        }
        out
    }

    /// The extra root certificates of `extra_root_cert_pem` (none when it is not set).
    pub fn extra_roots(&self) -> Result<Vec<reqwest::Certificate>> {
        let Some(path) = &self.extra_root_cert_pem else {
            return Ok(Vec::new());
        };
        let fail =
            |why: String| Error::Config(format!("http.extra_root_cert_pem {}: {why}", quote(path)));
        let pem = std::fs::read(path).map_err(|e| fail(format!("cannot be read ({e})")))?;
        use rustls::pki_types::{pem::PemObject, CertificateDer};
        let ders = CertificateDer::pem_slice_iter(&pem)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|_| fail("is not a PEM file of certificates".into()))?;
        if ders.is_empty() {
            return Err(fail(
                "holds no certificate (expected -----BEGIN CERTIFICATE-----)".into(),
            ));
        }
        // Checked as the TLS stack will take them when the handle opens.
        let mut roots = rustls::RootCertStore::empty();
        let mut certs = Vec::with_capacity(ders.len());
        for (n, der) in ders.into_iter().enumerate() {
            roots.add(der.clone()).map_err(|e| {
                fail(format!(
                    "certificate {} of the file is not one TLS can trust as a root ({e})",
                    n + 1
                ))
            })?;
            certs.push(
                reqwest::Certificate::from_der(&der)
                    .map_err(|e| fail(format!("certificate {}: {e}", n + 1)))?,
            );
        }
        Ok(certs)
    }
}

/// A store shared by the processes of one seller account (several tills, several stores).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedStore {
    /// The PostgreSQL database, as a `postgresql://user:password@host:port/database` URL
    /// (`?sslmode=require` for TLS). One database per seller account. Never shown in a
    /// message or a log line.
    #[serde(default)]
    pub postgres: Option<Secret>,
    /// How long the process that runs the sync with Amazon holds the lease without renewing
    /// it (default 10 s): another process takes over at most this long after it stops.
    #[serde(default)]
    pub lease_seconds: Option<f64>,
    /// This process's name in the lease (default: host name and process id).
    #[serde(default)]
    pub node: Option<String>,
}

impl SharedStore {
    /// The lease's length.
    pub fn lease(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.lease_seconds.unwrap_or(10.0))
    }
}

/// Where Amazon's notifications arrive: the seller's Amazon SQS queue, and the AWS credentials
/// that may read it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notifications {
    /// The queue's URL, `https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`.
    pub queue_url: String,
    /// The queue's AWS region; may be left out when the URL's host names it.
    #[serde(default)]
    pub region: Option<String>,
    /// The access key id of an IAM user or role allowed to receive and delete the queue's
    /// messages.
    pub aws_access_key_id: String,
    /// Its secret access key.
    pub aws_secret_access_key: Secret,
    /// The session token of temporary credentials.
    #[serde(default)]
    pub aws_session_token: Option<Secret>,
    /// After this many seconds without a notification, orders are searched at the full rate
    /// again.
    #[serde(default = "Notifications::default_quiet_after_seconds")]
    pub quiet_after_seconds: u64,
    /// While notifications arrive, order searches are this many times rarer.
    #[serde(default = "Notifications::default_poll_slowdown")]
    pub poll_slowdown: u32,
}

impl Notifications {
    fn default_quiet_after_seconds() -> u64 {
        300
    }

    fn default_poll_slowdown() -> u32 {
        4
    }

    /// The AWS region of the queue: `region`, else the one its host names.
    pub fn queue_region(&self) -> Result<String> {
        crate::amazon::sqs::queue_region(&self.queue_url, self.region.as_deref())
    }

    /// The queue's ARN (`arn:aws:sqs:REGION:ACCOUNT:NAME`), which the notification destination
    /// names.
    pub fn queue_arn(&self) -> Result<String> {
        crate::amazon::sqs::queue_arn(&self.queue_url, &self.queue_region()?)
    }

    /// The texts that must never be shown: the secret access key and the session token.
    pub fn secrets(&self) -> Vec<String> {
        [
            Some(&self.aws_secret_access_key),
            self.aws_session_token.as_ref(),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .map(|s| s.expose().to_string())
        .collect()
    }

    /// Checks the section (the numbers are checked with the others, [`NOTIFICATION_LIMITS`]).
    fn validate(&self, config: &Config) -> Result<()> {
        let fail = |m: &str| Err(Error::Config(format!("notifications.{m}")));
        if let Some(r) = &self.region {
            let ok = (1..=32).contains(&r.len())
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                return Err(Error::Config(format!(
                    "notifications.region {} is not an AWS region (e.g. us-east-1)",
                    quote(r)
                )));
            }
        }
        let id = &self.aws_access_key_id;
        if !(16..=128).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return fail(
                "aws_access_key_id must be an AWS access key id (16 to 128 letters and digits, e.g. AKIA...)",
            );
        }
        if self.aws_secret_access_key.is_empty() {
            return fail("aws_secret_access_key is required");
        }
        if self
            .aws_session_token
            .as_ref()
            .is_some_and(Secret::is_empty)
        {
            return fail("aws_session_token must not be empty (leave it out instead)");
        }
        config
            .check_url(&self.queue_url)
            .map_err(|e| Error::Config(format!("notifications.queue_url: {e}")))?;
        self.queue_arn()?;
        Ok(())
    }
}

/// Percent-decodes a URL's user name or password.
fn urlencoding_decode(s: &str) -> std::result::Result<String, std::string::FromUtf8Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
}

/// The whole configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Path of the SQLite store (one file per seller account; created if missing). Not given
    /// when `store.postgres` is.
    #[serde(default)]
    pub store_path: String,
    /// A store shared by several processes (PostgreSQL) instead of the SQLite file.
    #[serde(default)]
    pub store: SharedStore,
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
    /// Buyer data: its key and retention.
    #[serde(default)]
    pub privacy: Privacy,
    /// Amazon's notifications through the seller's SQS queue (optional).
    #[serde(default)]
    pub notifications: Option<Notifications>,
    /// Amazon's own account health (its seller performance report).
    #[serde(default)]
    pub account_health: AccountHealth,
    /// The guard rails of the prices the host sets.
    #[serde(default)]
    pub prices: Prices,
}

/// The guard rails of prices (`sellsync_price_set`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Prices {
    /// A price that differs from the last one Amazon accepted (or, before any, from Amazon's
    /// own) by more than this many percent waits for `sellsync_price_confirm`.
    pub confirm_change_percent: f64,
}

impl Default for Prices {
    fn default() -> Self {
        Prices {
            confirm_change_percent: 20.0,
        }
    }
}

/// How Amazon's seller performance report is read and compared with sellsync's figures.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountHealth {
    /// Seconds between reports (Amazon refreshes its figures about once a day).
    pub interval_seconds: f64,
    /// Amazon's and sellsync's rate over the same window disagree when they differ by more
    /// than this (0.005: half a percentage point).
    pub tolerance: f64,
}

impl Default for AccountHealth {
    fn default() -> Self {
        AccountHealth {
            interval_seconds: 21_600.0,
            tolerance: 0.005,
        }
    }
}

impl Config {
    /// Parses and checks a configuration document.
    pub fn from_json(text: &str) -> Result<Config> {
        if let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) {
            check_numbers(&doc)?;
        }
        let mut c: Config = serde_json::from_str(text).map_err(|e| {
            Error::InvalidArgument(format!(
                "config_json is not a valid configuration: {}",
                crate::error::clip_quoted(&redact_quoted(&e.to_string()))
            ))
        })?;
        c.marketplace_ids =
            marketplace_ids(&c.marketplace_ids, "marketplace_ids").map_err(Error::Config)?;
        c.validate()?;
        Ok(c)
    }

    /// Checks the configuration (ranges, required values, URLs).
    pub(crate) fn validate(&self) -> Result<()> {
        let fail = |m: &str| Err(Error::Config(m.to_string()));
        match (&self.store.postgres, self.store_path.is_empty()) {
            (None, true) => return fail("store_path must name a file (or store.postgres a database)"),
            (Some(_), false) => return fail("give store_path (SQLite) or store.postgres, not both"),
            (Some(_), true) if self.privacy.key.is_none() && self.privacy.key_file.is_none() => {
                return fail("with store.postgres, privacy.key or privacy.key_file must be given (every process sharing the store needs the same key)")
            }
            _ => {}
        }
        if let Some(g) = &self.orders.consumer_group {
            if g.is_empty()
                || g.len() > 64
                || !g
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return fail(
                    "orders.consumer_group must be 1 to 64 ASCII letters, digits, '-', '_' or '.'",
                );
            }
        }

        if self.seller_id.is_empty() {
            return fail("seller_id is required");
        }
        if let Err(m) = marketplace_ids(&self.marketplace_ids, "marketplace_ids") {
            return Err(Error::Config(m));
        }
        if let Some(l) = LIMITS
            .iter()
            .chain(NOTIFICATION_LIMITS)
            .find(|l| (l.get)(self).is_some_and(|x| !l.admits(x)))
        {
            return Err(l.refusal());
        }
        if self.credentials.client_id.is_empty()
            || self.credentials.client_secret.is_empty()
            || self.credentials.refresh_token.is_empty()
        {
            return fail("credentials need client_id, client_secret and refresh_token");
        }
        if self.stock.product_type.is_empty() {
            return fail("stock.product_type must not be empty");
        }
        self.http.proxy_url()?;
        if self.http.proxy.is_some() && self.http.use_env_proxy {
            return fail("set http.proxy or http.use_env_proxy, not both");
        }
        self.http.extra_roots()?;
        self.privacy.validate()?;
        if let Some(n) = &self.notifications {
            n.validate(self)?;
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
                "region must be na, eu or fe, not {}",
                quote(other)
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
            .map_err(|e| Error::Config(format!("{} is not a URL: {e}", quote(text))))?;
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
                        "{} is plain HTTP: only HTTPS is allowed, except to loopback with http_allow_insecure_loopback",
                        quote(text)
                    )))
                }
            }
            other => Err(Error::Config(format!(
                "unsupported URL scheme {}",
                quote(other)
            ))),
        }
    }
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
    fn every_range_is_documented_here_and_in_the_readme() {
        let here = include_str!("config.rs");
        let readme = include_str!("../README.md");
        // A table row names the setting first, or after another one.
        let row = |text: &str, name: &str| {
            text.contains(&format!("| {name}")) || text.contains(&format!(", {name} |"))
        };
        for l in LIMITS.iter().chain(NOTIFICATION_LIMITS) {
            let name = format!("`{}`", l.path);
            assert!(row(here, &name), "{name} in the module doc");
            assert!(row(readme, &name), "{name} in the README");
        }
    }

    #[test]
    fn the_proxy_user_and_password_are_secrets_also_percent_decoded() {
        let c = Config::from_json(&doc(
            r#","http":{"proxy":"http://shop%2Duser:p%40ss-word@proxy.local:3128"}"#,
        ))
        .unwrap();
        let s = c.http.proxy_secrets();
        for part in ["shop%2Duser", "shop-user", "p%40ss-word", "p@ss-word"] {
            assert!(s.iter().any(|x| x == part), "{part} in {s:?}");
        }
        assert!(!format!("{c:?}").contains("ss-word"));
    }

    #[test]
    fn buyer_data_is_kept_longer_than_30_days_only_under_a_legal_hold() {
        let days = |extra: &str| Config::from_json(&doc(&format!(r#","privacy":{{{extra}}}"#)));
        assert_eq!(days("").unwrap().privacy.retention_days, 30);
        assert_eq!(
            days(r#""retention_days":1"#)
                .unwrap()
                .privacy
                .retention_days,
            1
        );
        for refused in [
            r#""retention_days":31"#,
            r#""retention_days":0"#,
            r#""retention_days":3651,"legal_hold":true"#,
        ] {
            assert!(matches!(days(refused), Err(Error::Config(_))), "{refused}");
        }
        let held = days(r#""retention_days":90,"legal_hold":true"#).unwrap();
        assert_eq!(held.privacy.retention_days, 90);
    }

    #[test]
    fn privacy_keys_are_checked_without_being_repeated() {
        let key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let with = |extra: &str| Config::from_json(&doc(&format!(r#","privacy":{{{extra}}}"#)));
        assert!(with(&format!(r#""key":"{key}""#)).is_ok());
        let e = with(r#""key":"too-short-secret""#).unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{e:?}");
        assert!(!e.to_string().contains("too-short-secret"), "{e}");
        let e = with(r#""previous_key":"not-a-key-secret""#).unwrap_err();
        assert!(!e.to_string().contains("not-a-key-secret"), "{e}");
        assert!(with(&format!(r#""key":"{key}","key_file":"k""#)).is_err());
        assert!(format!("{:?}", with(&format!(r#""key":"{key}""#)).unwrap())
            .find(key)
            .is_none());
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

    fn notifications(section: &str) -> Result<Config> {
        Config::from_json(&doc(&format!(r#","notifications":{{{section}}}"#)))
    }

    const QUEUE: &str = r#""queue_url":"https://sqs.us-east-1.amazonaws.com/123456789012/sellsync-notifications","aws_access_key_id":"AKIAIOSFODNN7EXAMPLE","aws_secret_access_key":"aws-secret-4d7f","#;

    #[test]
    fn the_notifications_section_is_optional_with_defaults_and_its_secrets_hidden() {
        assert!(Config::from_json(&doc("")).unwrap().notifications.is_none());
        let c = notifications(&format!(r#"{QUEUE}"aws_session_token":"aws-token-9c2a""#)).unwrap();
        let n = c.notifications.as_ref().unwrap();
        assert_eq!((n.quiet_after_seconds, n.poll_slowdown), (300, 4));
        assert_eq!(n.queue_region().unwrap(), "us-east-1");
        assert_eq!(
            n.queue_arn().unwrap(),
            "arn:aws:sqs:us-east-1:123456789012:sellsync-notifications"
        );
        assert_eq!(n.secrets(), ["aws-secret-4d7f", "aws-token-9c2a"]);
        let d = format!("{c:?}");
        assert!(
            !d.contains("aws-secret-4d7f") && !d.contains("aws-token-9c2a"),
            "{d}"
        );
        let c = notifications(&format!(
            r#"{QUEUE}"region":"us-east-1","quiet_after_seconds":60,"poll_slowdown":1"#
        ))
        .unwrap();
        let n = c.notifications.unwrap();
        assert_eq!((n.quiet_after_seconds, n.poll_slowdown), (60, 1));
    }

    #[test]
    fn notifications_settings_are_checked_with_clear_messages_and_no_secret() {
        let refused = |section: String, says: &str| {
            let e = notifications(&section).unwrap_err();
            assert!(matches!(e, Error::Config(_)), "{section}: {e:?}");
            let t = e.to_string();
            assert!(t.contains(says), "{section}: {t}");
            assert!(!t.contains("aws-secret-4d7f"), "{t}");
        };
        refused(
            format!(r#"{QUEUE}"quiet_after_seconds":0"#),
            "notifications.quiet_after_seconds",
        );
        refused(
            format!(r#"{QUEUE}"quiet_after_seconds":-5"#),
            "notifications.quiet_after_seconds",
        );
        refused(
            format!(r#"{QUEUE}"poll_slowdown":0"#),
            "notifications.poll_slowdown",
        );
        refused(
            format!(r#"{QUEUE}"poll_slowdown":2.5"#),
            "notifications.poll_slowdown",
        );
        refused(
            format!(r#"{QUEUE}"poll_slowdown":101"#),
            "notifications.poll_slowdown",
        );
        refused(
            format!(r#"{QUEUE}"region":"US East""#),
            "notifications.region",
        );
        refused(
            QUEUE.replace("AKIAIOSFODNN7EXAMPLE", "short") + r#""poll_slowdown":2"#,
            "notifications.aws_access_key_id",
        );
        refused(
            QUEUE.replace("aws-secret-4d7f", "") + r#""poll_slowdown":2"#,
            "notifications.aws_secret_access_key",
        );
        refused(
            format!(r#"{QUEUE}"aws_session_token":"""#),
            "notifications.aws_session_token",
        );
        // A host that names no region needs one; a path that is not /ACCOUNT/NAME is refused.
        let local = QUEUE.replace(
            "https://sqs.us-east-1.amazonaws.com/123456789012/sellsync-notifications",
            "https://queue.example.com/000000000000/orders",
        );
        refused(
            format!(r#"{local}"poll_slowdown":2"#),
            "notifications.region is required",
        );
        assert!(notifications(&format!(r#"{local}"region":"eu-west-1""#)).is_ok());
        let bad_path = QUEUE.replace("/123456789012/sellsync-notifications", "/queue");
        refused(format!(r#"{bad_path}"poll_slowdown":2"#), "ACCOUNT/NAME");
        // Plain HTTP only to loopback with the test switch, as everywhere else.
        let plain = QUEUE.replace(
            "https://sqs.us-east-1.amazonaws.com",
            "http://127.0.0.1:9000",
        );
        refused(
            format!(r#"{plain}"region":"us-east-1""#),
            "notifications.queue_url",
        );
        assert!(Config::from_json(&doc(&format!(
            r#","http_allow_insecure_loopback":true,"notifications":{{{plain}"region":"us-east-1"}}"#
        )))
        .is_ok());
        // Unknown keys are refused, without repeating values.
        let e = notifications(&format!(r#"{QUEUE}"pol_slowdown":2"#)).unwrap_err();
        assert!(e.to_string().contains("pol_slowdown"), "{e}");
        assert!(!e.to_string().contains("aws-secret-4d7f"), "{e}");
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
