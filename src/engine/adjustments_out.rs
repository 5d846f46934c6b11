//! Seller cancellations and refunds out: queued cancellations go in one
//! `POST_FLAT_FILE_ORDER_ACKNOWLEDGEMENT_DATA` feed, refunds in one
//! `POST_FLAT_FILE_PAYMENT_ADJUSTMENT_DATA` feed; processing reports are read back and each
//! record's outcome arrives as an event.

use super::Core;
use crate::amazon::{feeds, orders};
use crate::error::Result;
use crate::model::{Event, OrderStatus, Refund};
use crate::store::adjustments::{Kind, Queued};

/// Runs one cycle: reads finished feeds back, then sends what is queued.
pub async fn run(core: &Core) -> Result<()> {
    for feed_id in core.store.open_adjustment_feeds()? {
        let feeds::FeedStatus {
            status, document, ..
        } = feeds::status(&core.client, &feed_id).await?;
        let outcomes = match (status.as_str(), document) {
            ("DONE", Some(doc)) => {
                let report = feeds::report_bytes(&core.client, &doc).await?;
                core.store.finish_adjustments(
                    &feed_id,
                    &feeds::flat_file_errors(&report)?,
                    false,
                    core.clock.now(),
                )?
            }
            ("DONE" | "FATAL" | "CANCELLED", _) => {
                feeds::ended_without_result(&feed_id, &status);
                core.store.finish_adjustments(
                    &feed_id,
                    &Default::default(),
                    true,
                    core.clock.now(),
                )?
            }
            _ => continue,
        };
        let repeated = core.store.watermark(&repeated_key(&feed_id))?.is_some();
        for (kind, order_id, mut error) in outcomes {
            if repeated
                && error.is_some()
                && kind == Kind::Cancel.as_str()
                && cancelled_at_amazon(core, &order_id).await
            {
                // A copy of this feed whose createFeed answer was lost cancelled it first.
                core.store.cancel_found_done(&feed_id, &order_id)?;
                error = None;
            }
            core.event(&match error {
                None => Event::AdjustmentDone { kind, order_id },
                Some(message) => Event::AdjustmentFailed {
                    kind,
                    order_id,
                    message,
                },
            })?;
        }
        if repeated {
            core.store.clear_watermark(&repeated_key(&feed_id))?;
        }
    }
    for kind in [Kind::Cancel, Kind::Refund] {
        let queued = core.store.queued_adjustments(kind)?;
        if queued.is_empty() {
            continue;
        }
        let (feed_type, file) = match kind {
            Kind::Cancel => (
                "POST_FLAT_FILE_ORDER_ACKNOWLEDGEMENT_DATA",
                cancellation_file(&queued),
            ),
            Kind::Refund => (
                "POST_FLAT_FILE_PAYMENT_ADJUSTMENT_DATA",
                refund_file(&queued)?,
            ),
        };
        let mut marketplaces: Vec<String> =
            queued.iter().map(|q| q.marketplace_id.clone()).collect();
        marketplaces.sort();
        marketplaces.dedup();
        let (feed_id, repeated) = feeds::submit_document(
            &core.client,
            feed_type,
            feeds::TSV,
            &marketplaces,
            file.into_bytes(),
            crate::amazon::Priority::Normal,
        )
        .await?;
        let ids: Vec<i64> = queued
            .iter()
            .flat_map(|q| std::iter::repeat_n(q.id, records(kind, q)))
            .collect();
        if repeated {
            core.store.set_watermark(&repeated_key(&feed_id), "1")?;
        }
        core.store.adjustments_submitted(&ids, &feed_id)?;
    }
    Ok(())
}

/// Marks a feed whose createFeed was sent again after an attempt Amazon may have acted on.
fn repeated_key(feed_id: &str) -> String {
    format!("adjustments.repeated.{feed_id}")
}

/// Whether Amazon's order shows the order cancelled (false when it cannot be read: the
/// refusal is reported as it came).
async fn cancelled_at_amazon(core: &Core, order_id: &str) -> bool {
    matches!(
        orders::status(&core.client, order_id).await,
        Ok(Some(OrderStatus::Cancelled))
    )
}

/// How many feed records one queued adjustment takes (a refund: one per item).
fn records(kind: Kind, q: &Queued) -> usize {
    match kind {
        Kind::Cancel => cancelled_items(q).len().max(1),
        Kind::Refund => serde_json::from_str::<Refund>(&q.doc).map_or(1, |r| r.items.len()),
    }
}

/// The items a queued cancellation names (none: the whole order).
fn cancelled_items(q: &Queued) -> Vec<String> {
    serde_json::from_str::<serde_json::Value>(&q.doc)
        .ok()
        .and_then(|v| serde_json::from_value(v["items"].clone()).ok())
        .unwrap_or_default()
}

fn cancellation_file(queued: &[Queued]) -> String {
    let mut out = String::from("order-id\tamazon-order-item-code\tcancellation-reason-code\n");
    for q in queued {
        let reason = serde_json::from_str::<serde_json::Value>(&q.doc)
            .ok()
            .and_then(|v| v["reason"].as_str().map(str::to_string))
            .unwrap_or_default();
        let items = cancelled_items(q);
        if items.is_empty() {
            out.push_str(&format!("{}\t\t{}\n", q.order_id, reason));
        }
        for item in items {
            out.push_str(&format!("{}\t{}\t{}\n", q.order_id, item, reason));
        }
    }
    out
}

fn refund_file(queued: &[Queued]) -> Result<String> {
    let mut out =
        String::from("order-id\torder-item-id\tadjustment-reason-code\tcurrency\titem-price-adj\n");
    for q in queued {
        let r: Refund = serde_json::from_str(&q.doc)?;
        for i in &r.items {
            let currency = q.currency.as_deref().unwrap_or("");
            out.push_str(&format!(
                "{}\t{}\t{}\t{currency}\t{}\n",
                r.order_id, i.order_item_id, r.reason, i.amount
            ));
        }
    }
    Ok(out)
}
