//! Flow 4, listings: pulls the merchant listings report on a schedule, keeps the seller's
//! listings for `sellsync_listings`, and reconciles the quantities Amazon shows with what they
//! should be, so drift (an edit in Seller Central, a lost update) is found and corrected.

use super::reports::Followed;
use super::Core;
use crate::amazon::reports::{self, MERCHANT_LISTINGS};
use crate::error::Result;
use crate::model::Event;

/// What one listings cycle did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// A report was requested.
    pub requested: bool,
    /// Listings read from a finished report (None: none finished this cycle).
    pub listings: Option<u64>,
    /// SKUs whose quantity on Amazon was wrong.
    pub drift: u64,
    /// Buyers' returns not seen before.
    pub returns: u64,
    /// Events Amazon's seller performance report raised.
    pub account_health: u64,
}

/// Runs one listings cycle: the listings report, then (once after each report) the stock at
/// Amazon of FBA SKUs, then the returns reports and Amazon's seller performance report.
pub async fn run(core: &Core, force: bool) -> Result<Report> {
    let mut report = listings_report(core, force).await?;
    super::fba::read_if_due(core).await?;
    report.returns = super::returns::run(core, force).await? as u64;
    report.account_health = super::account_health::run(core, force).await? as u64;
    Ok(report)
}

/// Follows the open listings report or, when due (or `force`), requests one.
async fn listings_report(core: &Core, force: bool) -> Result<Report> {
    let mut report = Report::default();
    match super::reports::follow(core, MERCHANT_LISTINGS).await? {
        Followed::Done {
            id,
            requested_at,
            bytes,
        } => {
            let listings = reports::parse_listings(&bytes)?;
            let drift = core
                .store
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
            return Ok(report);
        }
        Followed::InProgress | Followed::Ended => return Ok(report),
        Followed::NoneOpen => {}
    }
    if force || super::reports::due(core, MERCHANT_LISTINGS)? {
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
