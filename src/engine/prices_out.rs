//! Prices out (host → Amazon), run by the patch lane after its quantities, so stock goes first
//! in `patchListingsItem`'s usage plan. Each pass reads the offers of the prices due (one
//! `searchListingsItems` per 20 SKUs and marketplace), then per price:
//! - no listing in the marketplace, or a listing showing another currency: refused, and no
//!   price goes out;
//! - a change from the last price Amazon accepted (before any, from Amazon's own) larger than
//!   `prices.confirm_change_percent`, not confirmed by the host: waits for
//!   `sellsync_price_confirm`;
//! - else one `patchListingsItem` of `purchasable_offer`: accepted or refused, with its event.
//!
//! An accepted price is read back by the next passes (for an hour) until the listing shows
//! it: `price.applied`.

use super::Core;
use crate::amazon::listings::{self, Shown};
use crate::error::Result;
use crate::store::prices::{Outcome, PriceRow};
use std::collections::{BTreeMap, HashMap};

/// Prices handled per pass.
const BATCH: usize = 20;

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub sent: u64,
    pub applied: u64,
    pub refused: u64,
    pub to_confirm: u64,
}

/// One pass over the prices due.
pub async fn run(core: &Core) -> Result<Report> {
    let mut report = Report::default();
    let due = core.store.prices_due(BATCH, core.clock.now())?;
    let mut by_marketplace: BTreeMap<String, Vec<PriceRow>> = BTreeMap::new();
    for p in due {
        by_marketplace
            .entry(p.marketplace_id.clone())
            .or_default()
            .push(p);
    }
    for (mp, rows) in by_marketplace {
        // A comma would split the identifiers: such a SKU is read as having no listing.
        let skus: Vec<String> = rows
            .iter()
            .map(|p| p.sku.clone())
            .filter(|s| !s.contains(','))
            .collect();
        let shown: HashMap<String, Shown> =
            listings::search_offers(&core.client, &core.config.seller_id, &mp, &skus)
                .await?
                .into_iter()
                .map(|s| (s.sku.clone(), s))
                .collect();
        for p in rows {
            let s = shown.get(&p.sku);
            let amazon = s.and_then(|s| Some((s.price?, s.currency.as_deref()?)));
            core.store.note_amazon_price(&p.sku, &mp, amazon)?;
            let outcome = match decide(core, &p, s) {
                Some(o) => o,
                None => {
                    report.sent += 1;
                    match listings::patch_price(&core.client, &core.config.seller_id, "PRODUCT", &p)
                        .await?
                    {
                        Ok(()) => Outcome::Accepted,
                        Err(message) => Outcome::Refused {
                            reason: "amazon".into(),
                            message,
                        },
                    }
                }
            };
            match &outcome {
                Outcome::Applied => report.applied += 1,
                Outcome::Refused { .. } => report.refused += 1,
                Outcome::Confirm { .. } => report.to_confirm += 1,
                Outcome::Accepted => {}
            }
            if !matches!(outcome, Outcome::Accepted) || p.state == "QUEUED" {
                core.store.price_outcome(&p, &outcome, core.clock.now())?;
            }
        }
    }
    Ok(report)
}

/// What to do with a price due, given what its listing shows: None sends it.
fn decide(core: &Core, p: &PriceRow, shown: Option<&Shown>) -> Option<Outcome> {
    let shows_it = shown.is_some_and(|s| {
        s.price == Some(p.price) && s.currency.as_deref() == Some(p.currency.as_str())
    });
    if p.state == "ACCEPTED" {
        // Read back: applied once the listing shows it; else looked at again next pass.
        return Some(if shows_it {
            Outcome::Applied
        } else {
            Outcome::Accepted
        });
    }
    let Some(s) = shown else {
        return Some(Outcome::Refused {
            reason: "no_listing".into(),
            message: format!(
                "SKU {} has no listing in marketplace {}",
                crate::error::quote(&p.sku),
                p.marketplace_id
            ),
        });
    };
    if let Some(c) = s.currency.as_deref().filter(|c| *c != p.currency) {
        return Some(Outcome::Refused {
            reason: "currency".into(),
            message: format!(
                "the listing in marketplace {} shows prices in {c}, not {}: nothing was sent",
                p.marketplace_id, p.currency
            ),
        });
    }
    if p.confirmed == Some(p.price) {
        return None;
    }
    let reference = p.accepted.or(s.price.filter(|_| s.currency.is_some()))?;
    let percent = core.config.prices.confirm_change_percent;
    crate::prices::change_to_confirm(p.price, reference, percent).map(|change_percent| {
        Outcome::Confirm {
            reference,
            change_percent,
        }
    })
}
