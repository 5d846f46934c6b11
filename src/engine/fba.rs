//! Stock fulfilled by Amazon: SKUs Amazon fulfils are marked so (and never sent a quantity),
//! and their inventory at Amazon is read with each listings report.

use super::Core;
use crate::amazon::fba;
use crate::error::{quote, Result};
use crate::model::Event;

/// Marks `skus`, which Amazon fulfils, as FBA; says so once for each the host had mapped as
/// seller-fulfilled.
pub fn mark(core: &Core, skus: &[String]) -> Result<()> {
    for sku in core.store.mark_fulfilled_by_amazon(skus)? {
        tracing::warn!(
            "SKU {} is fulfilled by Amazon: no quantity is sent for it",
            quote(&sku)
        );
        core.event(&Event::SkuFulfilledByAmazon { sku })?;
    }
    Ok(())
}

/// Once after each listings report (again next cycle when it failed): marks the SKUs the
/// report shows Amazon fulfils and reads the inventory at Amazon of every FBA SKU (50 a call,
/// in the pool of the first marketplace).
pub async fn read_if_due(core: &Core) -> Result<()> {
    if !core.store.fba_read_due()? {
        return Ok(());
    }
    mark(core, &core.store.unmarked_amazon_listings()?)?;
    let skus = core.store.fba_skus()?;
    let Some(marketplace) = core.config.marketplace_ids.first() else {
        return Ok(());
    };
    for chunk in skus.chunks(fba::SKUS_PER_CALL) {
        let found = fba::summaries(&core.client, marketplace, chunk).await?;
        core.store
            .replace_fba_stock(chunk, &found, core.clock.now())?;
    }
    core.store.fba_read(core.clock.now())
}
