//! The privacy flow: deletes buyer data whose retention has run out (the retention counts
//! from delivery; see `store::privacy`), and seals buyer data again under a new key while a
//! key rotation runs. Each step is a transaction of a few hundred rows; the flow runs in the
//! background worker at the orders' cadence and with every `sync_now`.

use super::Core;
use crate::error::Result;
use crate::model::Event;
use crate::store::privacy::BATCH;
use chrono::Duration;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Orders whose buyer data was deleted.
    pub purged: u64,
    /// Orders whose buyer data was sealed again under the new key.
    pub resealed: u64,
}

/// Runs the privacy flow once.
pub async fn run(core: &Core) -> Result<Report> {
    let mut report = Report::default();
    let now = core.clock.now();
    let cutoff = now - Duration::days(i64::from(core.config.privacy.retention_days));
    loop {
        let n = core.store.purge_due(cutoff, now, BATCH)?;
        report.purged += n;
        if n < BATCH as u64 {
            break;
        }
        // Let other work at the store in between batches.
        tokio::task::yield_now().await;
    }
    if report.purged > 0 {
        tracing::info!(
            "privacy: the buyer data of {} orders delivered more than {} days ago was deleted",
            report.purged,
            core.config.privacy.retention_days
        );
        core.event(&Event::BuyerDataPurged {
            orders: report.purged,
            reason: "retention".into(),
        })?;
    }
    loop {
        let (n, done) = core.store.rotate_batch(BATCH)?;
        report.resealed += n;
        if done {
            break;
        }
        tokio::task::yield_now().await;
    }
    Ok(report)
}
