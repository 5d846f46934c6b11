//! Listings feeds that stay unfinished too long: which are late, and the one report of each.

use super::db::params;
use super::{insert_event, trim_events, ts, Store};
use crate::error::Result;
use crate::model::Event;
use chrono::{DateTime, Utc};

/// A listings feed still being processed and not reported late yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LateFeed {
    pub feed_id: String,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
}

impl Store {
    /// The feeds submitted before `before`, still open and not reported late yet.
    pub fn late_feeds(&self, before: DateTime<Utc>) -> Result<Vec<LateFeed>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT feed_id, submitted_at FROM feeds
             WHERE status = 'SUBMITTED' AND feed_type = 'JSON_LISTINGS_FEED' AND late_reported_at IS NULL AND submitted_at < ?1",
        )?;
        let rows = stmt.query_map([ts(before)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        rows.map(|r| {
            let (feed_id, at) = r?;
            let submitted_at =
                DateTime::parse_from_rfc3339(&at).map_or(before, |t| t.with_timezone(&Utc));
            Ok(LateFeed {
                feed_id,
                submitted_at,
            })
        })
        .collect()
    }

    /// Marks a feed reported late and stores `event`, in one transaction, unless it was
    /// reported already. Returns whether it stored the event.
    pub fn report_late_feed(
        &self,
        feed_id: &str,
        event: &Event,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let marked = tx.execute(
            "UPDATE feeds SET late_reported_at = ?2 WHERE feed_id = ?1 AND late_reported_at IS NULL",
            params![feed_id, ts(now)],
        )?;
        if marked > 0 {
            insert_event(&tx, event, now)?;
            trim_events(&tx)?;
        }
        tx.commit()?;
        Ok(marked > 0)
    }
}
