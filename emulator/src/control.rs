//! The control API: seed sellers, listings and orders; move the clock; start buyers; inject
//! faults; read the marketplace's state and the call log. Served over HTTP under
//! `/_emulator/` and callable from Rust through [`Control`].

use crate::api::{iso, tick};
use crate::buyers::{Buyers, BuyersConfig};
use crate::faults::Fault;
use crate::reply::Reply;
use crate::server::{lock, Shared};
use crate::settings::{Settings, SettingsChange};
use crate::world::{CanceledBy, Cause, Listing, Order, QuantityChange, Seller, Status, World};
use chrono::Duration;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A listing to seed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ListingSeed {
    pub sku: String,
    #[serde(default)]
    pub asin: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    pub quantity: i64,
    /// Price in minor units (default 1999).
    #[serde(default)]
    pub price_cents: Option<i64>,
    #[serde(default)]
    pub fba: bool,
    #[serde(default)]
    pub product_type: Option<String>,
    /// The listing's handling time in days (default: the account's).
    #[serde(default)]
    pub handling_days: Option<i64>,
    /// The marketplaces the listing is offered in (default: every one).
    #[serde(default)]
    pub marketplace_ids: Option<Vec<String>>,
    /// An FBA listing's units at Amazon besides those it sells (default none).
    #[serde(default)]
    pub fba_stock: Option<crate::stock::FbaStock>,
}

impl ListingSeed {
    /// A listing of `sku` showing `quantity`, fulfilled by Amazon when `fba`, with the
    /// emulator's defaults for the rest.
    pub fn new(sku: impl Into<String>, quantity: i64, fba: bool) -> ListingSeed {
        ListingSeed {
            sku: sku.into(),
            asin: None,
            title: None,
            quantity,
            price_cents: None,
            fba,
            product_type: None,
            handling_days: None,
            marketplace_ids: None,
            fba_stock: None,
        }
    }
}

/// Orders to create.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct OrderSeed {
    /// Default: the first seller.
    #[serde(default)]
    pub seller_id: Option<String>,
    /// Default: the seller's first marketplace.
    #[serde(default)]
    pub marketplace_id: Option<String>,
    /// How many orders (default 1).
    #[serde(default)]
    pub count: Option<usize>,
    /// (sku, quantity) lines; default: one random in-stock listing of the right channel.
    #[serde(default)]
    pub lines: Vec<(String, i64)>,
    /// Buy FBA listings (when lines are not given).
    #[serde(default)]
    pub fba: bool,
    /// Leave the orders Pending for the emulator's pending time (default: payment authorised at once).
    #[serde(default)]
    pub pending: bool,
    /// Leave the orders Pending for this many emulated seconds (overrides `pending`).
    #[serde(default)]
    pub pending_seconds: Option<i64>,
    /// Create them this many seconds in the past.
    #[serde(default)]
    pub age_seconds: i64,
    /// The searches see the orders, and their payment authorised at once, this many emulated
    /// seconds after each (0: visible to searches at once) instead of after a lag drawn from
    /// the settings, as Amazon's searches show new orders late
    /// ([`crate::Settings::order_search_lag_min_seconds`]). Later changes meet the drawn lag.
    #[serde(default)]
    pub search_lag_seconds: Option<f64>,
    /// Each order replaces this one (Amazon's replacement order: it charges nothing).
    #[serde(default)]
    pub replaces: Option<String>,
}

/// Typed access to the control API.
pub struct Control<'a> {
    shared: &'a Shared,
}

impl<'a> Control<'a> {
    pub(crate) fn new(shared: &'a Shared) -> Self {
        Control { shared }
    }

    /// Runs `f` on the world, after applying what is due by now.
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut w = lock(&self.shared.world);
        tick(&mut w, self.shared.clock.now());
        f(&mut w)
    }

    /// The emulated time.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.shared.clock.now()
    }

    /// Moves the emulated clock forward.
    pub fn advance(&self, d: Duration) {
        self.shared.clock.advance(d);
        self.with_world(|_| ());
    }

    /// Adds or replaces a seller.
    pub fn add_seller(&self, s: Seller) {
        self.with_world(|w| w.upsert_seller(s));
    }

    /// Replaces the client secret that Login with Amazon accepts for a seller's application
    /// (default: the first seller), as when the developer rotates it or the old one expires:
    /// from now on the old secret is refused with `401 invalid_client`. Access tokens already
    /// issued stay valid until they expire, as at Amazon.
    pub fn set_client_secret(
        &self,
        seller_id: Option<&str>,
        client_secret: &str,
    ) -> Result<(), String> {
        if client_secret.is_empty() {
            return Err("client_secret must not be empty".into());
        }
        self.with_world(|w| {
            let mut seller =
                Self::default_seller(w, &seller_id.map(str::to_string)).ok_or("unknown seller")?;
            seller.client_secret = client_secret.to_string();
            w.upsert_seller(seller);
            Ok(())
        })
    }

    /// The seller (default: the first) revokes the application's authorisation, as in Seller
    /// Central's "Manage your apps": from now on Login with Amazon answers its refresh token
    /// with `400 invalid_grant` (selling-partner-api-docs #2379), and the access tokens issued
    /// for it are refused. Authorising again is [`Control::add_seller`] with a new refresh
    /// token.
    pub fn revoke_authorisation(&self, seller_id: Option<&str>) -> Result<(), String> {
        self.with_world(|w| {
            let mut seller =
                Self::default_seller(w, &seller_id.map(str::to_string)).ok_or("unknown seller")?;
            seller.refresh_token = format!("Atzr|revoked-{}", w.random_hex(16));
            w.tokens
                .retain(|_, t| t.seller_id != seller.seller_id || t.grantless_scope.is_some());
            w.upsert_seller(seller);
            Ok(())
        })
    }

    fn default_seller(w: &World, id: &Option<String>) -> Option<Seller> {
        match id {
            Some(id) => w.seller(id).cloned(),
            None => w.sellers.first().cloned(),
        }
    }

    /// Creates or replaces listings of a seller (default: the first).
    pub fn seed_listings(
        &self,
        seller_id: Option<&str>,
        seeds: &[ListingSeed],
    ) -> Result<usize, String> {
        let now = self.now();
        self.with_world(|w| {
            let seller =
                Self::default_seller(w, &seller_id.map(str::to_string)).ok_or("unknown seller")?;
            for s in seeds {
                if s.quantity < 0 || s.sku.is_empty() {
                    return Err(format!(
                        "listing {:?} needs a SKU and a quantity >= 0",
                        s.sku
                    ));
                }
                let n = w.id();
                w.listings.save(
                    &seller.seller_id,
                    Listing {
                        sku: s.sku.clone(),
                        asin: s.asin.clone().unwrap_or_else(|| format!("B0{n:08}")),
                        title: s.title.clone().unwrap_or_else(|| format!("Item {}", s.sku)),
                        product_type: s.product_type.clone().unwrap_or_else(|| "PRODUCT".into()),
                        price_cents: s.price_cents.unwrap_or(1999),
                        currency: "USD".into(),
                        quantity: s.quantity,
                        fba: s.fba,
                        created: now,
                        last_updated: now,
                        quantity_updates: 0,
                        handling_days: s.handling_days,
                        restock_date: None,
                        marketplace_ids: s.marketplace_ids.clone().unwrap_or_default(),
                        fba_stock: s.fba_stock.clone().unwrap_or_default(),
                        converted_from_fba: false,
                        offers: Default::default(),
                    },
                    Cause::Control,
                );
            }
            Ok(seeds.len())
        })
    }

    /// Places orders; returns their ids (fewer than asked when stock runs out).
    pub fn place_orders(&self, seed: &OrderSeed) -> Result<Vec<String>, String> {
        let at = self.now() - Duration::seconds(seed.age_seconds.max(0));
        let search_lag = match seed.search_lag_seconds {
            Some(s) if !(s.is_finite() && s >= 0.0) => {
                return Err("search_lag_seconds must be a number of seconds >= 0".into())
            }
            s => s.map(|s| Duration::milliseconds((s * 1000.0).round() as i64)),
        };
        self.with_world(|w| {
            let seller = Self::default_seller(w, &seed.seller_id).ok_or("unknown seller")?;
            let mp = seed
                .marketplace_id
                .clone()
                .or_else(|| seller.marketplace_ids.first().cloned())
                .ok_or("no marketplace")?;
            let mut ids = Vec::new();
            // SKUs in stock on the right channel, kept up to date as orders take the last unit.
            let mut avail: Vec<String> = if seed.lines.is_empty() {
                w.listings
                    .of_seller(&seller.seller_id)
                    .filter(|l| l.quantity > 0 && l.fba == seed.fba)
                    .map(|l| l.sku.clone())
                    .collect()
            } else {
                Vec::new()
            };
            let pending = match (seed.pending_seconds, seed.pending) {
                (Some(s), _) => Duration::seconds(s),
                (None, true) => w.settings.pending(),
                (None, false) => Duration::zero(),
            };
            let count = seed.count.unwrap_or(1);
            while ids.len() < count {
                let lines = if seed.lines.is_empty() {
                    if avail.is_empty() {
                        break;
                    }
                    let i = w.rng.gen_range(0..avail.len());
                    let left = w
                        .listings
                        .get(&(seller.seller_id.clone(), avail[i].clone()))
                        .map_or(0, |l| l.quantity);
                    if left <= 1 {
                        let sku = avail.swap_remove(i);
                        if left < 1 {
                            continue;
                        }
                        vec![(sku, 1)]
                    } else {
                        vec![(avail[i].clone(), 1)]
                    }
                } else {
                    seed.lines.clone()
                };
                match w.place_order(&seller.seller_id, &mp, &lines, at, pending, search_lag) {
                    Some(id) => {
                        if let Some(original) = &seed.replaces {
                            w.make_replacement(&id, original, at);
                        }
                        ids.push(id)
                    }
                    None => return Err("a SKU is unknown or Amazon shows less than ordered".into()),
                }
            }
            Ok(ids)
        })
    }

    /// Cancels an order as the buyer, the seller or Amazon.
    pub fn cancel(&self, order_id: &str, by: CanceledBy, reason: &str) -> bool {
        let now = self.now();
        self.with_world(|w| w.cancel_order(order_id, by, reason, now))
    }

    /// The buyer returns units of an order line (see [`World::return_items`]); the return's id.
    pub fn return_items(
        &self,
        order_id: &str,
        sku: Option<&str>,
        quantity: Option<i64>,
        reason: &str,
    ) -> Result<String, String> {
        let now = self.now();
        self.with_world(|w| w.return_items(order_id, sku, quantity, reason, now))
    }

    /// The buyer raises a defect on an order (see [`World::add_defect`]).
    pub fn add_defect(
        &self,
        order_id: &str,
        kind: crate::health::DefectKind,
    ) -> Result<(), String> {
        let now = self.now();
        self.with_world(|w| w.add_defect(order_id, kind, now))
    }

    /// The buyer asks to cancel.
    pub fn buyer_cancel_request(&self, order_id: &str, reason: &str) -> bool {
        let now = self.now();
        self.with_world(|w| w.buyer_requests_cancel(order_id, reason, now))
    }

    /// One order as the emulator holds it.
    pub fn order(&self, order_id: &str) -> Option<Order> {
        self.with_world(|w| w.orders.get(order_id).cloned())
    }

    /// How many accepted listing patches have not landed yet.
    pub fn landing(&self) -> usize {
        self.with_world(|w| w.landing.len())
    }

    /// The quantity a listing of the first seller will show once every patch Amazon accepted
    /// for it has landed; None when none waits.
    pub fn accepted_quantity(&self, sku: &str) -> Option<i64> {
        self.with_world(|w| {
            let key = (w.sellers.first()?.seller_id.clone(), sku.to_string());
            let mut l = w.listings.get(&key)?.clone();
            let mut any = false;
            for p in w.landing.of(&key) {
                any = true;
                if let Ok(next) = crate::api::listings::apply_patches(&l, &p.patches) {
                    l = next;
                }
            }
            any.then_some(l.quantity)
        })
    }

    /// Lands every accepted listing patch now (those the next call or tick sees).
    pub fn land_now(&self) {
        self.with_world(|w| w.landing.hurry(std::time::Instant::now()));
    }

    /// Lands the oldest accepted listing patch now (the next call or tick sees it).
    pub fn land_first(&self) {
        self.with_world(|w| w.landing.hurry_first(std::time::Instant::now()));
    }

    /// How many accepted patches of a SKU of the first seller have not landed yet.
    pub fn landing_of(&self, sku: &str) -> usize {
        self.with_world(|w| {
            w.sellers.first().map_or(0, |s| {
                w.landing.waiting(&(s.seller_id.clone(), sku.to_string()))
            })
        })
    }

    /// Whether a SKU of the first seller has an accepted patch that never landed
    /// (fault `patch_unapplied`) and no patch accepted after it landed since.
    pub fn unapplied(&self, sku: &str) -> bool {
        self.with_world(|w| {
            w.sellers.first().is_some_and(|s| {
                w.landing
                    .is_unapplied(&(s.seller_id.clone(), sku.to_string()))
            })
        })
    }

    /// The listing of a SKU of the first seller, as Amazon holds it.
    pub fn listing(&self, sku: &str) -> Option<Listing> {
        self.with_world(|w| {
            let seller = w.sellers.first()?.seller_id.clone();
            w.listings.get(&(seller, sku.to_string())).cloned()
        })
    }

    /// The quantity Amazon shows for a SKU of the first seller.
    pub fn quantity(&self, sku: &str) -> Option<i64> {
        self.with_world(|w| {
            let seller = w.sellers.first()?.seller_id.clone();
            w.listings
                .get(&(seller, sku.to_string()))
                .map(|l| l.quantity)
        })
    }

    /// The logged changes of listing quantities, oldest first, of one SKU (any when None) and
    /// from a time on (all when None).
    pub fn quantity_log(
        &self,
        sku: Option<&str>,
        since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Vec<QuantityChange> {
        self.with_world(|w| {
            w.listings
                .quantity_log()
                .filter(|c| sku.is_none_or(|s| c.sku == s))
                .filter(|c| since.is_none_or(|t| c.time >= t))
                .cloned()
                .collect()
        })
    }

    /// The current processing times.
    pub fn settings(&self) -> Settings {
        self.with_world(|w| w.settings)
    }

    /// Changes some processing times (see [`Settings::apply`]); returns the new ones.
    pub fn set_settings(&self, change: SettingsChange) -> Result<Settings, String> {
        self.with_world(|w| w.settings.apply(change).map(|()| w.settings))
    }

    /// Creates an SQS queue of the emulator (an existing one is kept); returns its URL and ARN.
    pub fn create_queue(&self, name: &str) -> Result<(String, String), String> {
        let q = &self.shared.queues;
        q.create(name)?;
        Ok((q.url(name), q.arn(name)))
    }

    /// How many messages a queue holds (after delivering the notifications due by now).
    pub fn queue_depth(&self, name: &str) -> Option<crate::queues::Depth> {
        crate::notify::pump(self.shared);
        self.shared.queues.get(name).map(|q| q.depth())
    }

    /// Takes the emulator's SQS down (every SQS request answers 503 `ServiceUnavailable`) or
    /// brings it back. Notifications keep arriving in the queues meanwhile.
    pub fn set_queue_down(&self, down: bool) {
        self.shared.queues.set_down(down);
    }

    /// Every notification published so far (the newest [`crate::world::MAX_KEPT`]), oldest
    /// first, with the faults applied to each, after publishing what is due by now.
    pub fn notifications(&self) -> Vec<crate::notify::Published> {
        crate::notify::pump(self.shared);
        self.with_world(|w| w.notifications.published().cloned().collect())
    }

    /// Holds feed processing (feeds stay in the queue) or releases it; a released feed that
    /// was due finishes at the next call.
    pub fn hold_feeds(&self, hold: bool) {
        self.with_world(|w| w.feeds_held = hold);
    }

    /// Injects a fault.
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared.faults).add(fault);
    }

    /// The faults still pending, with the uses left of each.
    pub fn pending_faults(&self) -> Vec<Fault> {
        lock(&self.shared.faults).pending().to_vec()
    }

    /// Removes every pending fault.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Starts (or reconfigures) simulated buyers.
    pub fn start_buyers(&self, config: BuyersConfig) {
        *lock(&self.shared.buyers) = Some(Buyers::new(config, self.now()));
    }

    /// Stops simulated buyers; returns how many orders they placed.
    pub fn stop_buyers(&self) -> u64 {
        lock(&self.shared.buyers)
            .take()
            .map(|b| b.placed)
            .unwrap_or(0)
    }

    /// Calls per (operation, status) since start.
    pub fn counts(&self) -> Vec<(String, u16, u64)> {
        self.with_world(|w| {
            w.counts
                .iter()
                .map(|((o, s), n)| (o.to_string(), *s, *n))
                .collect()
        })
    }

    /// How many calls of `operation` got `status`.
    pub fn count(&self, operation: &str, status: u16) -> u64 {
        self.with_world(|w| {
            w.counts
                .get(&(operation, status))
                .copied()
                .unwrap_or_else(|| {
                    w.counts
                        .iter()
                        .filter(|((o, s), _)| *o == operation && *s == status)
                        .map(|(_, n)| *n)
                        .sum()
                })
        })
    }

    /// The whole state as JSON (see the README for its fields).
    pub fn state(&self) -> Value {
        let now = self.now();
        self.with_world(|w| {
            let mut by_status = serde_json::Map::new();
            for o in w.orders.values() {
                let e = by_status.entry(o.status.v0()).or_insert(json!(0));
                *e = json!(e.as_u64().unwrap_or(0) + 1);
            }
            json!({
                "now": iso(now),
                "listings": w.listings.iter().map(|((seller, _), l)| json!({
                    "seller_id": seller, "sku": l.sku, "asin": l.asin, "quantity": l.quantity, "fba": l.fba,
                    "price_cents": l.price_cents, "offers": l.offers, "quantity_updates": l.quantity_updates})).collect::<Vec<_>>(),
                "orders": {"total": w.orders.len(), "by_status": by_status},
                "shipments": w.shipments.values().collect::<Vec<_>>(),
                "cancellations": w.orders.values().filter(|o| o.status == Status::Canceled).map(|o| json!({
                    "order_id": o.order_id, "by": o.canceled_by, "reason": o.cancel_reason})).collect::<Vec<_>>(),
                "refunds": w.refunds,
                "returns": w.returns,
                "feeds": w.feeds.values().map(|f| json!({"feed_id": f.feed_id, "feed_type": f.feed_type,
                    "status": f.status.as_str()})).collect::<Vec<_>>(),
                "reports": w.reports.values().map(|r| json!({"report_id": r.report_id,
                    "report_type": r.report_type, "status": r.status.as_str()})).collect::<Vec<_>>(),
                "landing": w.landing.len(),
                "search_behind": w.search.behind(),
            })
        })
    }
}

fn ok(v: Value) -> Reply {
    Reply::json(200, v)
}

fn bad(msg: impl std::fmt::Display) -> Reply {
    Reply::error(400, "InvalidInput", &msg.to_string(), "")
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Reply> {
    serde_json::from_slice(body).map_err(|e| bad(format!("Malformed control request: {e}")))
}

/// Serves `/_emulator/<rest>`.
pub fn handle(shared: &Shared, method: &str, rest: &str, query: &str, body: &[u8]) -> Reply {
    let c = Control::new(shared);
    let q: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let qv = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let segs: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let result: Result<Reply, Reply> = (|| {
        Ok(match (method, segs.as_slice()) {
            ("GET", ["health"]) => ok(json!({"ok": true})),
            ("POST", ["sellers"]) => {
                c.add_seller(parse::<Seller>(body)?);
                ok(json!({"ok": true}))
            }
            ("POST", ["sellers", id, "client-secret"]) => {
                #[derive(Deserialize)]
                struct Req {
                    client_secret: String,
                }
                let r: Req = parse(body)?;
                match c.set_client_secret(Some(id), &r.client_secret) {
                    Ok(()) => ok(json!({"ok": true})),
                    Err(m) if m == "unknown seller" => Reply::not_found("No such seller"),
                    Err(m) => bad(m),
                }
            }
            ("POST", ["sellers", id, "revoke"]) => match c.revoke_authorisation(Some(id)) {
                Ok(()) => ok(json!({"ok": true})),
                Err(_) => Reply::not_found("No such seller"),
            },
            ("POST", ["listings"]) => {
                #[derive(Deserialize)]
                struct Req {
                    seller_id: Option<String>,
                    listings: Vec<ListingSeed>,
                }
                let r: Req = parse(body)?;
                let n = c
                    .seed_listings(r.seller_id.as_deref(), &r.listings)
                    .map_err(bad)?;
                ok(json!({ "seeded": n }))
            }
            ("POST", ["orders"]) => {
                let ids = c.place_orders(&parse::<OrderSeed>(body)?).map_err(bad)?;
                ok(json!({ "order_ids": ids }))
            }
            ("GET", ["orders", id]) => match c.order(id) {
                Some(o) => {
                    let mut v = serde_json::to_value(&o).unwrap_or_default();
                    v["total_cents"] = o.total_cents().into();
                    ok(v)
                }
                None => Reply::not_found("No such order"),
            },
            ("POST", ["orders", id, "cancel"]) => {
                #[derive(Deserialize)]
                struct Req {
                    by: CanceledBy,
                    #[serde(default)]
                    reason: String,
                }
                let r: Req = parse(body)?;
                ok(json!({ "cancelled": c.cancel(id, r.by, &r.reason) }))
            }
            ("POST", ["orders", id, "return"]) => {
                #[derive(Deserialize)]
                struct Ask {
                    #[serde(default)]
                    sku: Option<String>,
                    #[serde(default)]
                    quantity: Option<i64>,
                    #[serde(default = "default_reason")]
                    reason: String,
                }
                fn default_reason() -> String {
                    "NOT_AS_DESCRIBED".into()
                }
                let ask = parse::<Ask>(body)?;
                let rma = c
                    .return_items(id, ask.sku.as_deref(), ask.quantity, &ask.reason)
                    .map_err(bad)?;
                ok(json!({ "rma_id": rma }))
            }
            ("POST", ["orders", id, "defect"]) => {
                #[derive(Deserialize)]
                struct Ask {
                    kind: crate::health::DefectKind,
                }
                let ask = parse::<Ask>(body)?;
                c.add_defect(id, ask.kind).map_err(bad)?;
                ok(json!({ "added": true }))
            }
            ("POST", ["orders", id, "cancel-request"]) => {
                #[derive(Deserialize)]
                struct Req {
                    #[serde(default)]
                    reason: String,
                }
                let r: Req = parse(body)?;
                ok(json!({ "requested": c.buyer_cancel_request(id, &r.reason) }))
            }
            ("GET", ["clock"]) => ok(json!({ "now": iso(c.now()) })),
            ("POST", ["clock"]) => {
                #[derive(Deserialize)]
                struct Req {
                    advance_seconds: Option<f64>,
                    set: Option<String>,
                }
                let r: Req = parse(body)?;
                if let Some(s) = r.advance_seconds {
                    c.advance(Duration::milliseconds((s * 1000.0) as i64));
                }
                if let Some(t) = r.set {
                    shared.clock.set(
                        crate::api::parse_time(&t)
                            .ok_or_else(|| bad("set must be an ISO 8601 date-time"))?,
                    );
                }
                ok(json!({ "now": iso(c.now()) }))
            }
            ("POST", ["feeds", "hold"]) => {
                #[derive(Deserialize)]
                struct Req {
                    hold: bool,
                }
                c.hold_feeds(parse::<Req>(body)?.hold);
                ok(json!({"ok": true}))
            }
            ("POST", ["faults"]) => {
                c.inject(parse::<Fault>(body)?);
                ok(json!({"ok": true}))
            }
            ("GET", ["faults"]) => ok(json!({ "faults": c.pending_faults() })),
            ("DELETE", ["faults"]) => {
                c.clear_faults();
                ok(json!({"ok": true}))
            }
            ("POST", ["buyers"]) => {
                c.start_buyers(parse::<BuyersConfig>(body)?);
                ok(json!({"ok": true}))
            }
            ("DELETE", ["buyers"]) => ok(json!({ "placed": c.stop_buyers() })),
            ("POST", ["queues"]) => {
                #[derive(Deserialize)]
                struct Req {
                    name: String,
                }
                let (url, arn) = c.create_queue(&parse::<Req>(body)?.name).map_err(bad)?;
                ok(json!({ "url": url, "arn": arn }))
            }
            ("POST", ["queues", "down"]) => {
                #[derive(Deserialize)]
                struct Req {
                    down: bool,
                }
                c.set_queue_down(parse::<Req>(body)?.down);
                ok(json!({"ok": true}))
            }
            ("GET", ["queues", name]) => match c.queue_depth(name) {
                Some(d) => ok(json!({ "name": name, "url": shared.queues.url(name),
                    "arn": shared.queues.arn(name), "visible": d.visible, "in_flight": d.in_flight })),
                None => Reply::not_found("No such queue"),
            },
            ("GET", ["notifications"]) => ok(json!({ "notifications": c.notifications() })),
            ("GET", ["state"]) => ok(c.state()),
            ("GET", ["stats"]) => ok(
                json!({ "calls": c.counts().into_iter().map(|(o, s, n)| json!({
                "operation": o, "status": s, "count": n})).collect::<Vec<_>>() }),
            ),
            ("GET", ["settings"]) => ok(json!(c.settings())),
            ("POST", ["settings"]) => {
                let s = c.set_settings(parse(body)?).map_err(bad)?;
                ok(json!(s))
            }
            ("GET", ["quantity-log"]) => {
                let since = match qv("since") {
                    None => None,
                    Some(t) => Some(
                        crate::api::parse_time(&t)
                            .ok_or_else(|| bad("since must be an ISO 8601 date-time"))?,
                    ),
                };
                ok(json!({ "entries": c.quantity_log(qv("sku").as_deref(), since) }))
            }
            ("GET", ["log"]) => {
                let limit = qv("limit")
                    .and_then(|l| l.parse::<usize>().ok())
                    .unwrap_or(1000);
                ok(c.with_world(
                    |w| json!({ "calls": w.log.iter().rev().take(limit).collect::<Vec<_>>() }),
                ))
            }
            _ => Reply::not_found(&format!("No control operation {method} /_emulator/{rest}")),
        })
    })();
    result.unwrap_or_else(|r| r)
}
