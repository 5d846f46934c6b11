//! Simulated buyers: they order at a given rate, only what Amazon shows as available, and
//! sometimes ask to cancel.

use crate::health::DefectKind;
use crate::server::{lock, Shared};
use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;

/// How simulated buyers behave.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BuyersConfig {
    /// Seller whose listings they buy (default: the first seller).
    #[serde(default)]
    pub seller_id: Option<String>,
    /// Marketplaces they buy in, chosen at random (default: the seller's).
    #[serde(default)]
    pub marketplace_ids: Vec<String>,
    /// Orders per emulated hour.
    pub orders_per_hour: f64,
    /// Share of orders whose buyer later asks to cancel (0..1).
    #[serde(default)]
    pub cancel_request_share: f64,
    /// Most units of one SKU in one order.
    #[serde(default = "default_max_units")]
    pub max_units: i64,
    /// Most lines (SKUs) in one order: a buyer with a full basket orders up to this many
    /// SKUs of one channel (default 1).
    #[serde(default = "default_max_lines")]
    pub max_lines: usize,
    /// Share of orders a buyer returns (0..1), once shipped, for a reason drawn from
    /// Amazon's codes.
    #[serde(default)]
    pub return_share: f64,
    /// Share of orders on which a buyer raises an order defect (negative feedback, an A-to-z
    /// claim or a chargeback) that Amazon counts in its order defect rate.
    #[serde(default)]
    pub defect_share: f64,
}

fn default_max_units() -> i64 {
    2
}

fn default_max_lines() -> usize {
    1
}

/// Running buyer state.
#[derive(Debug)]
pub struct Buyers {
    config: BuyersConfig,
    last: DateTime<Utc>,
    owed: f64,
    recent: VecDeque<String>,
    /// Orders placed so far.
    pub placed: u64,
}

impl Buyers {
    /// Buyers that start ordering from `now`.
    pub fn new(config: BuyersConfig, now: DateTime<Utc>) -> Self {
        Buyers {
            config,
            last: now,
            owed: 0.0,
            recent: VecDeque::new(),
            placed: 0,
        }
    }
}

/// One step: places the orders owed since the last step.
pub fn step(shared: &Shared) {
    let now = shared.clock.now();
    let mut guard = lock(&shared.buyers);
    let Some(b) = guard.as_mut() else { return };
    let hours = (now - b.last).num_milliseconds().max(0) as f64 / 3_600_000.0;
    b.last = now;
    b.owed += hours * b.config.orders_per_hour;
    let mut world = lock(&shared.world);
    crate::api::tick(&mut world, now);
    let Some(seller) = b
        .config
        .seller_id
        .clone()
        .or_else(|| world.sellers.first().map(|s| s.seller_id.clone()))
    else {
        return;
    };
    let marketplaces = if b.config.marketplace_ids.is_empty() {
        world
            .seller(&seller)
            .map(|s| s.marketplace_ids.clone())
            .unwrap_or_default()
    } else {
        b.config.marketplace_ids.clone()
    };
    while b.owed >= 1.0 && !marketplaces.is_empty() {
        b.owed -= 1.0;
        let available: Vec<(String, i64)> = world
            .listings
            .of_seller(&seller)
            .filter(|l| l.quantity > 0)
            .map(|l| (l.sku.clone(), l.quantity))
            .collect();
        if available.is_empty() {
            break;
        }
        let (sku, shown) = available[world.rng.gen_range(0..available.len())].clone();
        let qty = world
            .rng
            .gen_range(1..=shown.min(b.config.max_units.max(1)));
        let mut lines = vec![(sku, qty)];
        if b.config.max_lines > 1 && world.rng.gen_bool(0.3) {
            let more = world.rng.gen_range(1..b.config.max_lines);
            let fba = |w: &crate::world::World, sku: &str| {
                w.listings
                    .get(&(seller.clone(), sku.to_string()))
                    .map(|l| l.fba)
            };
            let channel = fba(&world, &lines[0].0);
            for _ in 0..more {
                let (s, _) = &available[world.rng.gen_range(0..available.len())];
                if fba(&world, s) == channel && lines.iter().all(|(l, _)| l != s) {
                    lines.push((s.clone(), 1));
                }
            }
        }
        let mp = marketplaces[world.rng.gen_range(0..marketplaces.len())].clone();
        let pending = world.settings.pending();
        if let Some(id) = world.place_order(&seller, &mp, &lines, now, pending, None) {
            b.placed += 1;
            if b.recent.len() >= 1000 {
                b.recent.pop_front();
            }
            b.recent.push_back(id);
        }
        if b.config.return_share > 0.0
            && world.rng.gen_bool(b.config.return_share.clamp(0.0, 1.0))
            && !b.recent.is_empty()
        {
            // A recent order whose units have reached the buyer.
            let i = world.rng.gen_range(0..b.recent.len());
            let id = b.recent[i].clone();
            let reason = [
                "NOT_AS_DESCRIBED",
                "DEFECTIVE",
                "UNWANTED_ITEM",
                "SWITCHEROO",
            ][world.rng.gen_range(0..4)];
            let _ = world.return_items(&id, None, None, reason, now);
        }
        if b.config.defect_share > 0.0
            && world.rng.gen_bool(b.config.defect_share.clamp(0.0, 1.0))
            && !b.recent.is_empty()
        {
            let i = world.rng.gen_range(0..b.recent.len());
            let id = b.recent[i].clone();
            let kind = [
                DefectKind::NegativeFeedback,
                DefectKind::Claim,
                DefectKind::Chargeback,
            ][world.rng.gen_range(0..3)];
            let _ = world.add_defect(&id, kind, now);
        }
        if world
            .rng
            .gen_bool(b.config.cancel_request_share.clamp(0.0, 1.0))
            && !b.recent.is_empty()
        {
            let i = world.rng.gen_range(0..b.recent.len());
            let id = b.recent[i].clone();
            world.buyer_requests_cancel(&id, "BUYER_CANCELLED", now);
        }
    }
}

/// Runs buyers (when configured) every 20 ms of real time until the server stops.
pub async fn run(shared: Arc<Shared>) {
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        step(&shared);
    }
}
