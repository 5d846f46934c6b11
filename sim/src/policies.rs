//! The ways of connecting the shop and Amazon, side by side.

use crate::shop::{minutes, Booking, Shop, State};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sellsync_emulator::{CanceledBy, Emulator, Seller};
use std::sync::Arc;

/// Every policy `--policies` knows, in report order.
pub const ALL: &[&str] = &[
    "manual",
    "csv_hourly",
    "poll_15min",
    "sellsync",
    "sellsync_notifications",
    "sellsync_no_fast_lane",
    "sellsync_no_read_back",
    "sellsync_no_auto_buffer",
    "oracle",
];

/// A policy name with this suffix runs against an Amazon that applies accepted listing
/// patches inside the call (a reference for what Amazon's delay costs; every other run meets
/// Amazon's 5 to 120 s).
pub const INSTANT: &str = "@instant";

/// The policy a name runs and whether its Amazon applies patches at once.
pub fn base_name(name: &str) -> (&str, bool) {
    match name.strip_suffix(INSTANT) {
        Some(base) => (base, true),
        None => (name, false),
    }
}

/// A planted policy for tests: takes orders every 5 minutes and never updates Amazon's stock.
pub const NO_STOCK_SYNC: &str = "no_stock_sync";

/// The SKU of item number `i`.
pub fn sku_name(i: usize) -> String {
    format!("SKU-{i:05}")
}

/// The POS item of SKU number `i`.
pub fn item_name(i: usize) -> String {
    format!("ITEM-{i:05}")
}

/// One way of connecting the shop and Amazon.
pub trait Policy {
    /// The shelf changed (`shop.changed` names the SKUs); policies that do not react to
    /// single changes just forget them.
    fn after_changes(&mut self, shop: &mut Shop, _now: DateTime<Utc>) -> Result<(), String> {
        shop.changed.clear();
        Ok(())
    }
    /// Takes orders and syncs stock as this policy does, at `now`.
    fn step(&mut self, shop: &mut Shop, now: DateTime<Utc>, open: bool) -> Result<(), String>;
    /// Order `i` was packed and handed to the carrier.
    fn shipped(&mut self, shop: &mut Shop, i: usize, now: DateTime<Utc>) -> Result<(), String>;
    /// Staff time spent on orders and stock so far, in minutes.
    fn staff_minutes(&self) -> f64 {
        0.0
    }
    /// What the library's stock read-backs found (its state's `stock.read_back`), for the
    /// policies that are sellsync; called before `finish`.
    fn read_back(&self) -> Option<serde_json::Value> {
        None
    }
    /// The end of the run.
    fn finish(&mut self) {}
}

/// What Seller Central (a person, or an uploaded file) does directly on Amazon.
pub struct SellerCentral {
    pub emu: Arc<Emulator>,
    seller: String,
}

impl SellerCentral {
    pub fn new(emu: Arc<Emulator>) -> Self {
        SellerCentral {
            emu,
            seller: Seller::demo().seller_id,
        }
    }

    /// Sets what Amazon shows for every SKU to the shelf.
    pub fn set_all(&self, shop: &Shop, now: DateTime<Utc>) {
        self.emu.control().with_world(|w| {
            for (i, q) in shop.shelf.iter().enumerate() {
                if let Some(mut l) = w.listings.get_mut(&(self.seller.clone(), sku_name(i))) {
                    if l.quantity != *q {
                        l.quantity = (*q).max(0);
                        l.quantity_updates += 1;
                        l.last_updated = now;
                    }
                }
            }
        });
    }

    /// Cancels an order as the seller (reason NoInventory).
    pub fn cancel(&self, order_id: &str) {
        self.emu
            .control()
            .cancel(order_id, CanceledBy::Seller, "NoInventory");
    }

    /// Confirms the shipment of order `i`.
    pub fn confirm(&self, shop: &mut Shop, i: usize, now: DateTime<Utc>) -> Result<(), String> {
        let o = &shop.orders[i];
        let r = self.emu.control().with_world(|w| {
            w.confirm_package(
                &o.order_id,
                "1",
                ("UPS", None),
                &tracking(&o.order_id),
                vec![(o.order_item_id.clone(), o.qty)],
                now,
            )
        });
        shop.orders[i].confirmed = true;
        r.map_err(|e| format!("confirming {}: {e}", shop.orders[i].order_id))
    }
}

fn tracking(order_id: &str) -> String {
    format!("1Z{}", order_id.replace('-', ""))
}

/// Books order `i`; cancels it through Seller Central when the shelf cannot fill it.
fn book_or_cancel(sc: &SellerCentral, shop: &mut Shop, i: usize, now: DateTime<Utc>) {
    if shop.book(i, now) == Booking::MustCancel {
        sc.cancel(&shop.orders[i].order_id);
    }
}

/// Staff type each order into the POS; stock is set by hand once a day at opening.
pub struct Manual {
    sc: SellerCentral,
    typists: Vec<Option<(usize, DateTime<Utc>)>>,
    next: usize,
    per_order: Duration,
    per_order_min: f64,
    last_stock_day: Option<NaiveDate>,
    staff_min: f64,
}

impl Manual {
    pub fn new(emu: Arc<Emulator>, staff: u32, minutes_per_order: f64) -> Self {
        Manual {
            sc: SellerCentral::new(emu),
            typists: vec![None; staff as usize],
            next: 0,
            per_order: minutes(minutes_per_order),
            per_order_min: minutes_per_order,
            last_stock_day: None,
            staff_min: 0.0,
        }
    }
}

impl Policy for Manual {
    fn step(&mut self, shop: &mut Shop, now: DateTime<Utc>, open: bool) -> Result<(), String> {
        for t in &mut self.typists {
            if let Some((i, done)) = *t {
                if done <= now {
                    book_or_cancel(&self.sc, shop, i, now);
                    *t = None;
                }
            }
        }
        if !open {
            return Ok(());
        }
        if self.last_stock_day != Some(now.date_naive()) {
            self.last_stock_day = Some(now.date_naive());
            self.sc.set_all(shop, now);
        }
        for t in &mut self.typists {
            if t.is_some() {
                continue;
            }
            match shop.orders.get(self.next) {
                Some(o) if o.unshipped_at <= now => {
                    *t = Some((self.next, now + self.per_order));
                    self.staff_min += self.per_order_min;
                    self.next += 1;
                }
                _ => break,
            }
        }
        Ok(())
    }

    fn shipped(&mut self, shop: &mut Shop, i: usize, now: DateTime<Utc>) -> Result<(), String> {
        self.sc.confirm(shop, i, now)
    }

    fn staff_minutes(&self) -> f64 {
        self.staff_min
    }
}

/// An import every hour: orders at least 2 minutes old are booked, shipments confirmed, and a
/// stock file sets every SKU to the shelf.
pub struct CsvHourly {
    sc: SellerCentral,
    every: Duration,
    next_import: DateTime<Utc>,
    only_when_open: bool,
    per_import: f64,
    staff_min: f64,
    to_confirm: Vec<usize>,
}

impl CsvHourly {
    pub fn new(
        emu: Arc<Emulator>,
        start: DateTime<Utc>,
        every_minutes: f64,
        per_import: f64,
        only_when_open: bool,
    ) -> Self {
        CsvHourly {
            sc: SellerCentral::new(emu),
            every: minutes(every_minutes),
            next_import: start + minutes(every_minutes),
            only_when_open,
            per_import,
            staff_min: 0.0,
            to_confirm: Vec::new(),
        }
    }
}

impl Policy for CsvHourly {
    fn step(&mut self, shop: &mut Shop, now: DateTime<Utc>, open: bool) -> Result<(), String> {
        if now < self.next_import {
            return Ok(());
        }
        while self.next_import <= now {
            self.next_import += self.every;
        }
        if self.only_when_open && !open {
            return Ok(());
        }
        self.staff_min += self.per_import;
        for i in shop.visible_open(0, now, Duration::minutes(2)) {
            book_or_cancel(&self.sc, shop, i, now);
        }
        for i in std::mem::take(&mut self.to_confirm) {
            self.sc.confirm(shop, i, now)?;
        }
        self.sc.set_all(shop, now);
        Ok(())
    }

    fn shipped(&mut self, _shop: &mut Shop, i: usize, _now: DateTime<Utc>) -> Result<(), String> {
        self.to_confirm.push(i);
        Ok(())
    }

    fn staff_minutes(&self) -> f64 {
        self.staff_min
    }
}

/// Planted for tests: takes orders every 5 minutes and never tells Amazon about stock.
pub struct NoStockSync {
    sc: SellerCentral,
    next: DateTime<Utc>,
}

impl NoStockSync {
    pub fn new(emu: Arc<Emulator>, start: DateTime<Utc>) -> Self {
        NoStockSync {
            sc: SellerCentral::new(emu),
            next: start,
        }
    }
}

impl Policy for NoStockSync {
    fn step(&mut self, shop: &mut Shop, now: DateTime<Utc>, _open: bool) -> Result<(), String> {
        if now < self.next {
            return Ok(());
        }
        self.next = now + Duration::minutes(5);
        for i in shop.visible_open(0, now, Duration::zero()) {
            book_or_cancel(&self.sc, shop, i, now);
        }
        Ok(())
    }

    fn shipped(&mut self, shop: &mut Shop, i: usize, now: DateTime<Utc>) -> Result<(), String> {
        self.sc.confirm(shop, i, now)
    }
}

/// The bound no connector can beat: it knows the shelf and every Amazon order the moment it
/// happens, and sets what Amazon shows to the free shelf at once, directly in Amazon's books
/// (no API call, no delay); it books each order as soon as it is paid and confirms each
/// package as it is packed. Its cancellations come only from orders placed at the same moment
/// as a store sale of the last unit, which no connector can prevent.
pub struct Oracle {
    sc: SellerCentral,
}

impl Oracle {
    pub fn new(emu: Arc<Emulator>) -> Self {
        Oracle {
            sc: SellerCentral::new(emu),
        }
    }
}

impl Policy for Oracle {
    fn after_changes(&mut self, shop: &mut Shop, now: DateTime<Utc>) -> Result<(), String> {
        let seller = self.sc.seller.clone();
        let changed: Vec<usize> = shop.changed.drain(..).collect();
        self.sc.emu.control().with_world(|w| {
            for i in changed {
                let free = shop.free(i).max(0);
                if let Some(mut l) = w.listings.get_mut(&(seller.clone(), sku_name(i))) {
                    if l.quantity != free {
                        l.quantity = free;
                        l.last_updated = now;
                    }
                }
            }
        });
        Ok(())
    }

    fn step(&mut self, shop: &mut Shop, now: DateTime<Utc>, _open: bool) -> Result<(), String> {
        for i in shop.visible_open(0, now, Duration::zero()) {
            book_or_cancel(&self.sc, shop, i, now);
        }
        self.after_changes(shop, now)
    }

    fn shipped(&mut self, shop: &mut Shop, i: usize, now: DateTime<Utc>) -> Result<(), String> {
        self.sc.confirm(shop, i, now)
    }
}

/// A connector polling every 15 minutes through the SP-API over HTTP: searchOrders for new
/// orders, confirmShipment for what was packed, patchListingsItem for SKUs whose shelf changed.
pub struct Poll15 {
    sc: SellerCentral,
    http: reqwest::blocking::Client,
    url: String,
    seller: Seller,
    every: Duration,
    next: DateTime<Utc>,
    watermark: DateTime<Utc>,
    pushed: Vec<i64>,
    to_confirm: Vec<usize>,
}

impl Poll15 {
    pub fn new(emu: Arc<Emulator>, shop: &Shop, every_minutes: f64) -> Result<Self, String> {
        let url = emu.url();
        let http = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Poll15 {
            sc: SellerCentral::new(emu),
            http,
            url,
            seller: Seller::demo(),
            every: minutes(every_minutes),
            next: shop.start + minutes(every_minutes),
            watermark: shop.start - Duration::hours(1),
            pushed: shop.shelf.clone(),
            to_confirm: Vec::new(),
        })
    }

    /// One call, retried while throttled or failing (like a connector's HTTP layer).
    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, String> {
        let mut last = String::new();
        for attempt in 0..40 {
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.url))
                .query(query);
            if let Some(t) = token {
                req = req.header("x-amz-access-token", t);
            }
            if let Some(b) = &body {
                req = req.json(b);
            }
            match req.send() {
                Ok(resp) => {
                    let status = resp.status();
                    let text = resp.text().unwrap_or_default();
                    if status.is_success() {
                        return Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null));
                    }
                    last = format!("{status}: {text}");
                    if status.as_u16() != 429 && !status.is_server_error() {
                        return Err(last);
                    }
                }
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(std::time::Duration::from_millis(5 * (attempt + 1).min(20)));
        }
        Err(last)
    }

    fn token(&self) -> Result<String, String> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", self.seller.refresh_token.as_str()),
            ("client_id", self.seller.client_id.as_str()),
            ("client_secret", self.seller.client_secret.as_str()),
        ];
        let resp = self
            .http
            .post(format!("{}/auth/o2/token", self.url))
            .form(&form)
            .send()
            .map_err(|e| e.to_string())?;
        let v: serde_json::Value = resp.json().map_err(|e| e.to_string())?;
        v["access_token"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no access token: {v}"))
    }
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Policy for Poll15 {
    fn step(&mut self, shop: &mut Shop, now: DateTime<Utc>, _open: bool) -> Result<(), String> {
        if now < self.next {
            return Ok(());
        }
        while self.next <= now {
            self.next += self.every;
        }
        let token = self.token()?;
        let mp = self.seller.marketplace_ids[0].clone();
        // Orders: everything updated since the last poll (5 minutes of overlap).
        let mut found = Vec::new();
        let mut page: Option<String> = None;
        let mut before = None;
        loop {
            let mut q = vec![
                ("marketplaceIds", mp.clone()),
                (
                    "lastUpdatedAfter",
                    iso(self.watermark - Duration::minutes(5)),
                ),
                ("fulfillmentStatuses", "UNSHIPPED".to_string()),
                ("fulfilledBy", "MERCHANT".to_string()),
                ("includedData", "FULFILLMENT".to_string()),
                ("maxResultsPerPage", "100".to_string()),
            ];
            if let Some(t) = &page {
                q.push(("paginationToken", t.clone()));
            }
            let v = self.call(
                reqwest::Method::GET,
                "/orders/2026-01-01/orders",
                &q,
                Some(&token),
                None,
            )?;
            for o in v["orders"].as_array().into_iter().flatten() {
                if let Some(id) = o["orderId"].as_str() {
                    found.push(id.to_string());
                }
            }
            if before.is_none() {
                before = v["lastUpdatedBefore"]
                    .as_str()
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| t.with_timezone(&Utc));
            }
            match v["pagination"]["nextToken"].as_str() {
                Some(t) => page = Some(t.to_string()),
                None => break,
            }
        }
        if let Some(b) = before {
            self.watermark = b;
        }
        let mut idx: Vec<usize> = found
            .iter()
            .filter_map(|id| shop.by_id.get(id).copied())
            .collect();
        idx.sort_unstable();
        idx.dedup();
        for i in idx {
            book_or_cancel(&self.sc, shop, i, now);
        }
        // Shipments packed since the last poll.
        for i in std::mem::take(&mut self.to_confirm) {
            let o = &shop.orders[i];
            let body = serde_json::json!({"marketplaceId": mp, "packageDetail": {
                "packageReferenceId": "1", "carrierCode": "UPS", "trackingNumber": tracking(&o.order_id),
                "shipDate": iso(match o.state { State::Shipped { at } => at, _ => now }),
                "orderItems": [{"orderItemId": o.order_item_id, "quantity": o.qty}]}});
            let path = format!("/orders/v0/orders/{}/shipmentConfirmation", o.order_id);
            self.call(reqwest::Method::POST, &path, &[], Some(&token), Some(body))?;
            shop.orders[i].confirmed = true;
        }
        // Stock: the shelf of every SKU that changed since the last push.
        for sku in 0..shop.shelf.len() {
            let q = shop.shelf[sku].max(0);
            if q == self.pushed[sku] {
                continue;
            }
            let body = serde_json::json!({"productType": "PRODUCT", "patches": [{"op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": q}]}]});
            let path = format!(
                "/listings/2021-08-01/items/{}/{}",
                self.seller.seller_id,
                sku_name(sku)
            );
            self.call(
                reqwest::Method::PATCH,
                &path,
                &[("marketplaceIds", mp.clone())],
                Some(&token),
                Some(body),
            )?;
            self.pushed[sku] = q;
        }
        Ok(())
    }

    fn shipped(&mut self, _shop: &mut Shop, i: usize, _now: DateTime<Utc>) -> Result<(), String> {
        self.to_confirm.push(i);
        Ok(())
    }
}

/// The library, with the host acting like a POS.
pub struct SellSync {
    engine: sellsync::Engine,
    next_ref: u64,
    _store: TempStore,
}

/// A store file removed at the end.
struct TempStore(std::path::PathBuf);

impl Drop for TempStore {
    fn drop(&mut self) {
        for ext in ["", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(ext);
            let _ = std::fs::remove_file(p);
        }
    }
}

/// The library's clock: the emulator's emulated time.
pub struct EmuClock(pub Arc<Emulator>);

impl std::fmt::Debug for EmuClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmuClock")
    }
}

impl sellsync::clock::Clock for EmuClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.control().now()
    }
}

/// The `stock` settings of each sellsync policy (without the feed window).
pub fn sellsync_stock(policy: &str) -> Option<&'static str> {
    Some(match policy {
        "sellsync" | "sellsync_notifications" => r#""buffer": "auto""#,
        "sellsync_no_fast_lane" => r#""buffer": "auto", "fast_lane": false"#,
        "sellsync_no_read_back" => r#""buffer": "auto", "read_back": false"#,
        "sellsync_no_auto_buffer" => r#""buffer": 0"#,
        _ => return None,
    })
}

impl SellSync {
    pub fn new(
        emu: Arc<Emulator>,
        shop: &Shop,
        policy: &str,
        speed: f64,
        tag: &str,
    ) -> Result<Self, String> {
        let stock = sellsync_stock(policy).ok_or("not a sellsync policy")?;
        let s = Seller::demo();
        let path = std::env::temp_dir().join(format!(
            "sellsync-sim-{}-{tag}-{policy}.sqlite",
            std::process::id()
        ));
        let store = TempStore(path.clone());
        drop(TempStore(path.clone()));
        let config = serde_json::json!({
            "store_path": path.to_string_lossy(),
            "seller_id": s.seller_id,
            "marketplace_ids": [s.marketplace_ids[0]],
            "endpoint": emu.url(),
            "http_allow_insecure_loopback": true,
            "credentials": {"client_id": s.client_id, "client_secret": s.client_secret, "refresh_token": s.refresh_token},
            // Intervals the worker sleeps run on real time; the listings report and the feed
            // window are timed on the library's clock, which here is the emulated one.
            "intervals": {"orders_seconds": 180.0 / speed, "stock_seconds": 30.0 / speed,
                          "listings_seconds": 21_600.0, "sync_timeout_seconds": 900.0},
            "http": {"timeout_ms": 30_000, "max_attempts": 8,
                     "backoff_initial_ms": ((250.0 / speed).ceil() as u64).max(1),
                     "backoff_max_ms": ((60_000.0 / speed).ceil() as u64).max(10)},
        });
        let mut text = config.to_string();
        text.pop();
        let notify = policy == "sellsync_notifications";
        if notify {
            // Amazon pushes order and quantity changes into the seller's queue.
            let (url, _) = emu.control().create_queue("sellsync-notifications")?;
            text.push_str(&format!(
                r#","notifications": {{"queue_url": "{url}", "region": "us-east-1",
                     "aws_access_key_id": "AKIAEMULATOR00000000",
                     "aws_secret_access_key": "emulator/aws/secret/key/0000000000000000"}}"#
            ));
        }
        text.push_str(&format!(
            r#","stock": {{{stock}, "listings_feed_window_seconds": 300}}}}"#
        ));
        let config = sellsync::Config::from_json(&text)
            .map_err(|e| format!("this build of sellsync refuses the settings {{{stock}}}: {e}"))?;
        let engine = sellsync::Engine::open_with_clock(config, Arc::new(EmuClock(emu)))
            .map_err(|e| format!("open: {e}"))?;
        if notify {
            engine
                .notifications_setup()
                .map_err(|e| format!("notifications set-up: {e}"))?;
        }
        let mappings: Vec<sellsync::model::SkuMapping> = (0..shop.shelf.len())
            .map(|i| sellsync::model::SkuMapping {
                sku: sku_name(i),
                items: vec![sellsync::model::Component {
                    host_item: item_name(i),
                    units: 1,
                }],
                ..Default::default()
            })
            .collect();
        engine
            .sku_map(&mappings)
            .map_err(|e| format!("sku_map: {e}"))?;
        let levels: Vec<sellsync::model::StockLevel> = shop
            .shelf
            .iter()
            .enumerate()
            .map(|(i, q)| sellsync::model::StockLevel {
                host_item: item_name(i),
                on_hand: *q,
            })
            .collect();
        engine
            .stock_set(&levels)
            .map_err(|e| format!("stock_set: {e}"))?;
        engine.start().map_err(|e| format!("start: {e}"))?;
        Ok(SellSync {
            engine,
            next_ref: 1000,
            _store: store,
        })
    }

    fn report(&self, shop: &mut Shop) -> Result<(), String> {
        let mut skus = std::mem::take(&mut shop.changed);
        skus.sort_unstable();
        skus.dedup();
        if skus.is_empty() {
            return Ok(());
        }
        let levels: Vec<sellsync::model::StockLevel> = skus
            .iter()
            .map(|&i| sellsync::model::StockLevel {
                host_item: item_name(i),
                on_hand: shop.shelf[i],
            })
            .collect();
        self.engine
            .stock_set(&levels)
            .map_err(|e| format!("stock_set: {e}"))
    }
}

impl Policy for SellSync {
    fn after_changes(&mut self, shop: &mut Shop, _now: DateTime<Utc>) -> Result<(), String> {
        self.report(shop)
    }

    fn step(&mut self, shop: &mut Shop, now: DateTime<Utc>, _open: bool) -> Result<(), String> {
        while let Some(doc) = self
            .engine
            .order_next()
            .map_err(|e| format!("order_next: {e}"))?
        {
            let v: serde_json::Value = serde_json::from_str(&doc).map_err(|e| e.to_string())?;
            let id = v["order_id"].as_str().unwrap_or_default().to_string();
            let known = shop.by_id.get(&id).copied();
            let host_ref = match known {
                Some(i) => match shop.book(i, now) {
                    Booking::MustCancel => {
                        self.engine
                            .order_cancel(&id, "NoInventory")
                            .map_err(|e| format!("order_cancel: {e}"))?;
                        format!("CANCELLED-{id}")
                    }
                    _ => {
                        self.next_ref += 1;
                        format!("POS-{}", self.next_ref)
                    }
                },
                // Not one of the shop's buyers (cannot happen here): take it and leave it.
                None => format!("UNKNOWN-{id}"),
            };
            self.engine
                .order_ack(&id, &host_ref)
                .map_err(|e| format!("order_ack: {e}"))?;
            if let Some(i) = known {
                shop.changed.push(shop.orders[i].sku);
            }
            self.report(shop)?;
        }
        Ok(())
    }

    fn shipped(&mut self, shop: &mut Shop, i: usize, now: DateTime<Utc>) -> Result<(), String> {
        let o = &shop.orders[i];
        let pkg = sellsync::model::Shipment {
            order_id: o.order_id.clone(),
            package_reference_id: None,
            carrier_code: "UPS".into(),
            carrier_name: None,
            shipping_method: None,
            tracking_number: tracking(&o.order_id),
            ship_date: Some(iso(now)),
            items: vec![sellsync::model::ShipmentItem {
                order_item_id: o.order_item_id.clone(),
                quantity: o.qty,
            }],
        };
        self.engine
            .shipment_confirm(&pkg)
            .map_err(|e| format!("shipment_confirm {}: {e}", o.order_id))?;
        shop.orders[i].confirmed = true;
        Ok(())
    }

    fn read_back(&self) -> Option<serde_json::Value> {
        let state: serde_json::Value = serde_json::from_str(&self.engine.status().ok()?).ok()?;
        Some(state["stock"]["read_back"].clone())
    }

    fn finish(&mut self) {
        let _ = self.engine.close();
    }
}
