//! One report of a type at a time, on the listings schedule: following the open report to its
//! document, and whether the next is due. Shared by the listings, returns and seller
//! performance reports.

use super::Core;
use crate::amazon::is_too_large;
use crate::amazon::reports;
use crate::error::Result;
use chrono::{DateTime, Duration, Utc};

/// Where the report of a type stands.
pub enum Followed {
    /// None is open.
    NoneOpen,
    /// Amazon is still making it.
    InProgress,
    /// It ended without a document (`FATAL`, `CANCELLED`: e.g. no data) and is closed.
    Ended,
    /// Done: its document, for the caller to read and then close with `finish_report`.
    Done {
        id: String,
        requested_at: String,
        bytes: Vec<u8>,
    },
}

/// Follows the open report of `report_type`. A document refused for its size closes the
/// report (`TOO_LARGE`: read no more, the next is requested when due) and is the error.
pub async fn follow(core: &Core, report_type: &str) -> Result<Followed> {
    let Some((id, requested_at)) = core.store.open_report(report_type)? else {
        return Ok(Followed::NoneOpen);
    };
    let (status, document) = reports::status(&core.client, &id).await?;
    match (status.as_str(), document) {
        ("DONE", Some(doc)) => match reports::document(&core.client, &doc).await {
            Err(e) if is_too_large(&e) => {
                core.store.finish_report(&id, "TOO_LARGE")?;
                Err(e)
            }
            r => Ok(Followed::Done {
                id,
                requested_at,
                bytes: r?,
            }),
        },
        ("DONE" | "FATAL" | "CANCELLED", _) => {
            core.store.finish_report(&id, &status)?;
            Ok(Followed::Ended)
        }
        _ => Ok(Followed::InProgress),
    }
}

/// Whether a report of `report_type` is due: none was requested within
/// `intervals.listings_seconds`.
pub fn due(core: &Core, report_type: &str) -> Result<bool> {
    due_every(core, report_type, core.config.intervals.listings_seconds)
}

/// Whether a report of `report_type` is due: none was requested within `seconds`.
pub fn due_every(core: &Core, report_type: &str, seconds: f64) -> Result<bool> {
    let every = Duration::milliseconds((seconds * 1000.0) as i64);
    Ok(core
        .store
        .last_report_at(report_type)?
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .is_none_or(|t| t.with_timezone(&Utc) + every <= core.clock.now()))
}
