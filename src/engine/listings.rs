//! Flow 4, listings: pulls the merchant listings report on a schedule, keeps the seller's
//! listings for `sellsync_listings`, and reconciles the quantities Amazon shows with what they
//! should be, so drift (an edit in Seller Central, a lost update) is found and corrected.

use super::Core;
use crate::amazon::reports::{self, MERCHANT_LISTINGS};
use crate::error::Result;
use crate::model::Event;
use chrono::{DateTime, Duration, Utc};

/// What one listings cycle did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// A report was requested.
    pub requested: bool,
    /// Listings read from a finished report (None: none finished this cycle).
    pub listings: Option<u64>,
    /// SKUs whose quantity on Amazon was wrong.
    pub drift: u64,
}

/// Runs one listings cycle: follows the open report or, when due (or `force`), requests one.
pub async fn run(core: &Core, force: bool) -> Result<Report> {
    let mut report = Report::default();
    if let Some((id, requested_at)) = core.store.open_report(MERCHANT_LISTINGS)? {
        let (status, document) = reports::status(&core.client, &id).await?;
        match (status.as_str(), document) {
            ("DONE", Some(doc)) => {
                let listings =
                    reports::parse_listings(&reports::document(&core.client, &doc).await?)?;
                let drift =
                    core.store
                        .replace_listings(&listings, &requested_at, core.clock.now())?;
                for d in &drift {
                    core.event(&Event::StockDrift {
                        sku: d.sku.clone(),
                        amazon_showed: d.amazon_showed,
                        should_show: d.should_show,
                    })?;
                }
                core.store.finish_report(&id, "DONE")?;
                report.listings = Some(listings.len() as u64);
                report.drift = drift.len() as u64;
            }
            ("DONE" | "FATAL" | "CANCELLED", _) => core.store.finish_report(&id, &status)?,
            _ => {}
        }
        return Ok(report);
    }
    let every = Duration::milliseconds((core.config.intervals.listings_seconds * 1000.0) as i64);
    let last = core.store.last_report_at(MERCHANT_LISTINGS)?;
    let due = last
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .is_none_or(|t| t.with_timezone(&Utc) + every <= core.clock.now());
    if force || due {
        let id = reports::create(
            &core.client,
            MERCHANT_LISTINGS,
            &core.config.marketplace_ids,
        )
        .await?;
        core.store
            .record_report(&id, MERCHANT_LISTINGS, core.clock.now())?;
        report.requested = true;
    }
    Ok(report)
}
