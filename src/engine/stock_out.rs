//! Flow 2, stock out: keeps the quantity Amazon shows equal to what the shop can ship.
//!
//! Each cycle: (1) recompute what every SKU should show (orders change reservations);
//! (2) follow the listings feeds in flight and read their processing reports back;
//! (3) push urgent decreases (to zero or the urgent threshold) at once through
//! patchListingsItem; (4) send every other change in one JSON_LISTINGS_FEED, at most 5 per
//! 5 minutes. A SKU whose value changes while a feed carries an older one waits for that feed
//! and is then sent again, so the latest value always wins.

use super::Core;
use crate::amazon::{feeds, listings};
use crate::error::Result;
use crate::model::Event;
use crate::store::stock::FeedMessage;
use chrono::Duration;

/// What one stock cycle did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Quantities set directly (urgent).
    pub patched: u64,
    /// Feeds submitted.
    pub feeds_submitted: u64,
    /// Messages in those feeds.
    pub messages: u64,
    /// Feeds finished and read back.
    pub feeds_finished: u64,
    /// Messages Amazon rejected.
    pub rejected: u64,
}

/// Runs one stock-out cycle.
pub async fn run(core: &Core) -> Result<Report> {
    let mut report = Report::default();
    core.store.recompute_all(&core.config.stock)?;
    look_up_listings(core).await?;
    follow_feeds(core, &mut report).await?;
    let pushes = core.store.pending_pushes(&core.config.stock)?;
    let (urgent, bulk): (Vec<_>, Vec<_>) = pushes.into_iter().partition(|p| p.is_urgent());
    for p in urgent {
        let outcome = listings::patch_quantity(
            &core.client,
            &core.config.seller_id,
            &core.config.marketplace_ids,
            &p.sku,
            &p.product_type,
            p.desired,
        )
        .await?;
        if let Err(message) = &outcome {
            core.event(&Event::StockRejected {
                sku: p.sku.clone(),
                quantity: p.desired,
                message: message.clone(),
            })?;
            report.rejected += 1;
        }
        core.store
            .record_patch(&p.sku, p.desired, outcome, core.clock.now())?;
        report.patched += 1;
    }
    let bulk: Vec<_> = bulk.into_iter().filter(|p| !p.in_feed).collect();
    for chunk in bulk.chunks(feeds::MAX_MESSAGES) {
        let now = core.clock.now();
        let window = Duration::milliseconds(
            (core.config.stock.listings_feed_window_seconds * 1000.0) as i64,
        );
        if core.store.feeds_since(now - window)? >= 5 {
            break; // Amazon's limit for JSON_LISTINGS_FEED: the rest goes in a later cycle.
        }
        let messages: Vec<(FeedMessage, String)> = chunk
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (
                    FeedMessage {
                        message_id: i as i64 + 1,
                        sku: p.sku.clone(),
                        quantity: p.desired,
                    },
                    p.product_type.clone(),
                )
            })
            .collect();
        let document = feeds::listings_feed(&core.config.seller_id, &messages);
        let feed_id = feeds::submit(&core.client, &core.config.marketplace_ids, &document).await?;
        let messages: Vec<FeedMessage> = messages.into_iter().map(|(m, _)| m).collect();
        core.store
            .record_feed(&feed_id, &messages, core.clock.now())?;
        report.feeds_submitted += 1;
        report.messages += messages.len() as u64;
    }
    Ok(report)
}

/// SKUs looked up per cycle (20 per searchListingsItems call).
const LOOKUPS_PER_CYCLE: usize = 1000;

/// Learns each newly mapped SKU's product type and current quantity from its Amazon listing,
/// 20 SKUs per searchListingsItems call, before anything is pushed for it.
async fn look_up_listings(core: &Core) -> Result<()> {
    let skus = core.store.skus_to_look_up(LOOKUPS_PER_CYCLE)?;
    let marketplace = &core.config.marketplace_ids[0];
    // A comma would split the comma-separated identifiers: such SKUs keep the configured type.
    let (plain, odd): (Vec<String>, Vec<String>) = skus.into_iter().partition(|s| !s.contains(','));
    for chunk in plain.chunks(20) {
        let found =
            listings::search_by_skus(&core.client, &core.config.seller_id, marketplace, chunk)
                .await?;
        let now = core.clock.now();
        for sku in chunk {
            let hit = found
                .iter()
                .find(|f| &f.0 == sku)
                .map(|f| (f.1.clone(), f.2));
            core.store.record_lookup(sku, hit, now)?;
        }
    }
    for sku in odd {
        core.store
            .record_lookup(&sku, Some((None, None)), core.clock.now())?;
    }
    Ok(())
}

/// Reads back every finished feed: accepted values are what Amazon shows; rejected ones are
/// reported and tried again.
async fn follow_feeds(core: &Core, report: &mut Report) -> Result<()> {
    for (feed_id, messages) in core.store.open_feeds()? {
        let (status, document) = feeds::status(&core.client, &feed_id).await?;
        match (status.as_str(), document) {
            ("DONE", Some(doc)) => {
                let processing = feeds::report(&core.client, &doc).await?;
                let (accepted, rejected) = feeds::outcome(&messages, &processing);
                for (m, message) in &rejected {
                    core.event(&Event::StockRejected {
                        sku: m.sku.clone(),
                        quantity: m.quantity,
                        message: message.clone(),
                    })?;
                }
                report.rejected += rejected.len() as u64;
                core.store
                    .finish_feed(&feed_id, "DONE", &accepted, &rejected, core.clock.now())?;
            }
            ("DONE" | "FATAL" | "CANCELLED", _) => {
                // Nothing of it can be trusted to have been applied: everything is sent again.
                let rejected: Vec<(FeedMessage, String)> = messages
                    .into_iter()
                    .map(|m| (m, format!("the feed ended {status}")))
                    .collect();
                core.store
                    .finish_feed(&feed_id, &status, &[], &rejected, core.clock.now())?;
            }
            _ => continue,
        }
        report.feeds_finished += 1;
    }
    Ok(())
}
