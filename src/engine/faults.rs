//! Faults met by a run of a flow, told to the host: one `sync.retrying` event per operation,
//! fault and next step, and `amazon.offline` / `amazon.online` when Amazon stops and starts
//! answering (the state is kept in the store, so each comes once, across restarts too).

use super::{Core, Flow};
use crate::amazon::incidents::{Fault, Incident, Next, Record};
use crate::error::Result;
use crate::model::Event;
use chrono::DateTime;
use std::collections::BTreeMap;

/// Watermark holding since when Amazon has not answered.
const OFFLINE_SINCE: &str = "amazon.offline_since";

/// Emits the events for what one run of `flow` met; `ok` when the run succeeded.
pub fn report(core: &Core, flow: Flow, record: &Record, ok: bool) -> Result<()> {
    type Key = (String, Fault, Option<u16>, Next);
    let mut groups: BTreeMap<Key, (u64, &Incident)> = BTreeMap::new();
    for i in &record.incidents {
        let key = (i.operation.clone(), i.fault, i.http_status, i.next);
        let g = groups.entry(key).or_insert((0, i));
        g.0 += 1;
        g.1 = i;
    }
    for ((operation, fault, http_status, next), (count, last)) in groups {
        core.event(&Event::SyncRetrying {
            flow: flow.name().into(),
            operation,
            fault: fault.name().into(),
            http_status,
            next: next.name().into(),
            count,
            message: last.message.clone(),
        })?;
    }
    let lost = if ok {
        None
    } else {
        record
            .incidents
            .iter()
            .rev()
            .find(|i| i.next == Next::NextRun && i.fault.unreachable())
    };
    // Flows report side by side: one at a time decides whether the line changed.
    let _one = core.connectivity.lock().unwrap_or_else(|p| p.into_inner());
    let now = core.clock.now();
    match (lost, core.store.watermark(OFFLINE_SINCE)?) {
        (Some(i), None) => {
            core.store
                .set_watermark(OFFLINE_SINCE, &crate::store::ts(now))?;
            tracing::warn!(
                "Amazon cannot be reached ({}: {}); the work stays queued and is sent when it answers again",
                i.operation,
                i.message
            );
            core.event(&Event::AmazonOffline {
                flow: flow.name().into(),
                operation: i.operation.clone(),
                fault: i.fault.name().into(),
                message: i.message.clone(),
            })?;
        }
        (None, Some(since)) if record.successes > 0 => {
            core.store.clear_watermark(OFFLINE_SINCE)?;
            let seconds = DateTime::parse_from_rfc3339(&since)
                .map(|t| (now - t.to_utc()).num_seconds())
                .unwrap_or(0);
            tracing::info!("Amazon answers again, after {seconds} s offline");
            core.event(&Event::AmazonOnline {
                offline_since: since,
                offline_seconds: seconds,
            })?;
        }
        _ => {}
    }
    Ok(())
}
