//! Seller cancellations and refunds out: queued cancellations go in one
//! `POST_FLAT_FILE_ORDER_ACKNOWLEDGEMENT_DATA` feed, refunds in one
//! `POST_FLAT_FILE_PAYMENT_ADJUSTMENT_DATA` feed; processing reports are read back and each
//! record's outcome arrives as an event. Each feed is sent at most once (`feed_attempts`).

use super::{feed_attempts, Core};
use crate::amazon::{feeds, unless_too_large};
use crate::error::Result;
use crate::model::{Event, Refund};
use crate::store::adjustments::{Kind, Queued};

/// Runs one cycle: reads finished feeds back, then sends what is queued.
pub async fn run(core: &Core) -> Result<()> {
    for feed_id in core.store.open_adjustment_feeds()? {
        let feeds::FeedStatus {
            status, document, ..
        } = feeds::status(&core.client, &feed_id).await?;
        let report = match (status.as_str(), document) {
            ("DONE", Some(doc)) => unless_too_large(feeds::report_bytes(&core.client, &doc).await)?,
            ("DONE" | "FATAL" | "CANCELLED", _) => None,
            _ => continue,
        };
        let outcomes = match report {
            Some(report) => core.store.finish_adjustments(
                &feed_id,
                &feeds::flat_file_errors(&report)?,
                false,
                core.clock.now(),
            )?,
            None => {
                feeds::ended_without_result(&feed_id, &status);
                core.store.finish_adjustments(
                    &feed_id,
                    &Default::default(),
                    true,
                    core.clock.now(),
                )?
            }
        };
        for (kind, order_id, error) in outcomes {
            core.event(&match error {
                None => Event::AdjustmentDone { kind, order_id },
                Some(message) => Event::AdjustmentFailed {
                    kind,
                    order_id,
                    message,
                },
            })?;
        }
    }
    for kind in [Kind::Cancel, Kind::Refund] {
        let feed_type = feed_type(kind);
        if feed_attempts::resolve(core, feed_type).await? {
            continue; // The last feed's createFeed answer was lost: not known yet whether it was taken.
        }
        let queued = core.store.queued_adjustments(kind)?;
        if queued.is_empty() {
            continue;
        }
        let file = match kind {
            Kind::Cancel => cancellation_file(&queued),
            Kind::Refund => refund_file(&queued)?,
        };
        let mut marketplaces: Vec<String> =
            queued.iter().map(|q| q.marketplace_id.clone()).collect();
        marketplaces.sort();
        marketplaces.dedup();
        let ids: Vec<i64> = queued
            .iter()
            .flat_map(|q| std::iter::repeat_n(q.id, records(kind, q)))
            .collect();
        let feed = feed_attempts::Feed {
            feed_type,
            content_type: feeds::TSV,
            marketplace_ids: &marketplaces,
            bytes: file.into_bytes(),
            priority: crate::amazon::Priority::Normal,
        };
        // Sent at most once: a refund whose answer was lost is never sent again unless
        // Amazon's list of feeds shows it was not taken.
        feed_attempts::send(core, feed, |at, now| {
            core.store.begin_adjustments_feed(feed_type, &ids, at, now)
        })
        .await?;
    }
    Ok(())
}

/// The order feed that carries adjustments of `kind`.
fn feed_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Cancel => "POST_FLAT_FILE_ORDER_ACKNOWLEDGEMENT_DATA",
        Kind::Refund => "POST_FLAT_FILE_PAYMENT_ADJUSTMENT_DATA",
    }
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
