//! Flow 3, shipments out: sends each confirmed package to Amazon exactly once, closest
//! deadline first. Amazon counts lateness from when a confirmation arrives and a second
//! confirmation of the same package overwrites that time, so a call whose outcome is unknown
//! (timeout, dropped connection, 5xx) is never simply repeated: Amazon's order is read first,
//! and the package is sent again only if Amazon does not have it. Should Amazon refuse that
//! resend (it may answer "already fulfilled" for a package it has), its order is read again:
//! the package is confirmed if the order shows its units shipped, and fails only if not.

use super::Core;
use crate::amazon::orders;
use crate::amazon::Once;
use crate::error::{Error, Result};
use crate::model::Event;
use crate::store::shipments::{Outgoing, ShipmentState};

/// Packages handled per cycle (confirmShipment allows 2 per second, burst 10).
const PER_CYCLE: usize = 500;

/// What one cycle did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub confirmed: u64,
    pub verified: u64,
    pub uncertain: u64,
    pub failed: u64,
    /// The cycle took as many packages as it may: more may be waiting.
    pub batch_full: bool,
}

impl Report {
    /// The sum of two reports.
    pub fn merge(self, o: Report) -> Report {
        Report {
            confirmed: self.confirmed + o.confirmed,
            verified: self.verified + o.verified,
            uncertain: self.uncertain + o.uncertain,
            failed: self.failed + o.failed,
            batch_full: self.batch_full || o.batch_full,
        }
    }
}

/// Runs one shipments cycle: the waiting packages with the closest deadlines.
pub async fn run(core: &Core) -> Result<Report> {
    let mut report = Report::default();
    let batch = core.store.shipments_to_send(PER_CYCLE)?;
    report.batch_full = batch.len() == PER_CYCLE;
    for out in batch {
        if out.uncertain && amazon_has_it(core, &out).await? {
            confirmed(core, &out, true)?;
            report.verified += 1;
            continue;
        }
        let s = &out.shipment;
        // From here until Amazon's answer is recorded the outcome is unknown: should the
        // process die in between, the next one reads Amazon's order before sending again.
        core.store
            .mark_sending(&s.order_id, &out.package_reference_id)?;
        let ship_date = s.ship_date.clone().unwrap_or_default();
        let req = orders::confirm_shipment(
            s,
            &out.package_reference_id,
            &out.marketplace_id,
            &ship_date,
        );
        match core.client.call_at_most_once(&req).await {
            Ok(Once::Done(_)) => {
                confirmed(core, &out, false)?;
                report.confirmed += 1;
            }
            Ok(Once::Uncertain(e)) => {
                core.store.mark_shipment(
                    &s.order_id,
                    &out.package_reference_id,
                    ShipmentState::Uncertain,
                    Some(&e.to_string()),
                    core.clock.now(),
                )?;
                report.uncertain += 1;
            }
            Err(Error::Amazon {
                status,
                code,
                message,
            }) if (400..500).contains(&status) => {
                // A resend after a lost answer may be refused as "already fulfilled"
                // (`PackageToUpdateNotFound`) although the first call arrived: Amazon's order
                // decides, read again now.
                if out.uncertain && amazon_has_it(core, &out).await? {
                    confirmed(core, &out, true)?;
                    report.verified += 1;
                    continue;
                }
                let text = format!("{code}: {message}");
                core.store.mark_shipment(
                    &s.order_id,
                    &out.package_reference_id,
                    ShipmentState::Failed,
                    Some(&text),
                    core.clock.now(),
                )?;
                core.event(&Event::ShipmentFailed {
                    order_id: s.order_id.clone(),
                    package_reference_id: out.package_reference_id.clone(),
                    message: text,
                })?;
                report.failed += 1;
            }
            // Throttled or unreachable after every retry: it surely did not arrive; next cycle.
            Err(e) => {
                core.store
                    .mark_not_sent(&s.order_id, &out.package_reference_id)?;
                return Err(e);
            }
        }
    }
    Ok(report)
}

/// Whether Amazon's order shows this package's units as shipped, on top of the packages
/// Amazon is known to have.
async fn amazon_has_it(core: &Core, out: &Outgoing) -> Result<bool> {
    let s = &out.shipment;
    let fulfilled = orders::fulfilled_quantities(&core.client, &s.order_id).await?;
    let before = core
        .store
        .sent_quantities(&s.order_id, &out.package_reference_id)?;
    Ok(s.items.iter().all(|i| {
        let expected = before.get(&i.order_item_id).copied().unwrap_or(0) + i.quantity;
        fulfilled.get(&i.order_item_id).copied().unwrap_or(0) >= expected
    }))
}

fn confirmed(core: &Core, out: &Outgoing, verified: bool) -> Result<()> {
    let now = core.clock.now();
    let s = &out.shipment;
    core.store.mark_shipment(
        &s.order_id,
        &out.package_reference_id,
        ShipmentState::Sent,
        None,
        now,
    )?;
    let late = out
        .latest_ship_date
        .as_deref()
        .is_some_and(|l| crate::store::ts(now).as_str() > l);
    core.event(&Event::ShipmentConfirmed {
        order_id: s.order_id.clone(),
        package_reference_id: out.package_reference_id.clone(),
        late,
        verified_by_reading_back: verified,
    })
}
