//! Buyers' returns into the host: on the listings schedule, Amazon's returns reports of the
//! last 30 days are read (seller-fulfilled returns by request date, and FBA customer returns),
//! and each return not seen before becomes one `order.returned` event.

use super::reports::Followed;
use super::Core;
use crate::amazon::reports::{self, FBA_RETURNS, MFN_RETURNS};
use crate::error::Result;
use chrono::Duration;

/// Days of returns each report covers: reports overlap, the store keeps each return once.
const WINDOW_DAYS: i64 = 30;

/// Runs one returns cycle for each report type: follows its open report or, when due (or
/// `force`), requests one. Returns how many returns were new.
pub async fn run(core: &Core, force: bool) -> Result<usize> {
    let mut new = 0;
    for kind in [MFN_RETURNS, FBA_RETURNS] {
        new += one(core, kind, force).await?;
    }
    if new > 0 {
        core.hub.notify();
    }
    Ok(new)
}

async fn one(core: &Core, kind: &str, force: bool) -> Result<usize> {
    let (new, ended) = match super::reports::follow(core, kind).await? {
        Followed::Done { id, bytes, .. } => {
            let returns = reports::parse_returns(kind, &bytes)?;
            let new = core.store.record_returns(&returns, core.clock.now())?;
            core.store.finish_report(&id, "DONE")?;
            (new, true)
        }
        // CANCELLED: no returns in the window.
        Followed::Ended => (0, true),
        Followed::InProgress => return Ok(0),
        Followed::NoneOpen => (0, false),
    };
    // A report that ended makes way for the next when due (forced only when none was open).
    if (force && !ended) || super::reports::due(core, kind)? {
        let since = core.client.amazon_now() - Duration::days(WINDOW_DAYS);
        let id = reports::create_for(
            &core.client,
            kind,
            &core.config.marketplace_ids,
            Some(since),
        )
        .await?;
        core.store.record_report(&id, kind, core.clock.now())?;
    }
    Ok(new)
}
