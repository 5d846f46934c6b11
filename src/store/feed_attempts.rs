//! Feeds being created: what a feed carries is recorded before its createFeed goes out, under
//! a key of its own, so that a createFeed whose answer never came (lost, or the process died)
//! is never taken for one that was not sent. Amazon's list of feeds later tells which it was:
//! the attempt is then renamed to the feed Amazon created, or its work goes back to be sent.
//!
//! Invariants: an attempt's key starts with [`ATTEMPT_PREFIX`] (Amazon's feed ids are
//! numbers); while it is open, its row in `feeds` has status `CREATING`, the SKUs of a listings
//! feed are in flight under the key (no newer value goes out for them), and the refunds and
//! cancellations of an order feed are `SUBMITTED` under the key (none is queued again). At most
//! one attempt per feed type is open at a time (the flows do not start another).

use super::db::{params, OptionalExtension};
use super::stock::FeedMessage;
use super::{ts, Store};
use crate::error::Result;
use chrono::{DateTime, Utc};

/// The start of every attempt's key.
pub const ATTEMPT_PREFIX: &str = "creating:";

/// A createFeed whose outcome is not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub key: String,
    pub feed_type: String,
    /// Amazon's time just before createFeed was sent.
    pub at: DateTime<Utc>,
}

impl Store {
    /// Records, before its createFeed goes out (at Amazon's time `at`, the store's time
    /// `now`), an order feed (`feed_type`) carrying the adjustments `ids` as records 1, 2, ...;
    /// returns the attempt's key.
    pub fn begin_adjustments_feed(
        &self,
        feed_type: &str,
        ids: &[i64],
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let key = attempt_key();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO feeds(feed_id, feed_type, status, submitted_at, messages, attempt_at)
             VALUES (?1, ?2, 'CREATING', ?3, '[]', ?4)",
            params![key, feed_type, ts(now), ts(at)],
        )?;
        for (n, id) in ids.iter().enumerate() {
            tx.execute(
                "UPDATE adjustments SET state = 'SUBMITTED', feed_id = ?2, record = ?3 WHERE id = ?1",
                params![id, key, n as i64 + 1],
            )?;
        }
        tx.commit()?;
        Ok(key)
    }

    /// Records, before its createFeed goes out (at Amazon's time `at`, the store's time
    /// `now`), a listings feed setting `messages`, and puts its SKUs in flight; returns the
    /// attempt's key.
    pub fn begin_listings_feed(
        &self,
        messages: &[FeedMessage],
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let key = attempt_key();
        self.record_feed(&key, "CREATING", Some(at), messages, now)?;
        Ok(key)
    }

    /// The attempts of `feed_type` not resolved yet, oldest first.
    pub fn open_attempts(&self, feed_type: &str) -> Result<Vec<Attempt>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT feed_id, attempt_at FROM feeds WHERE status = 'CREATING' AND feed_type = ?1 ORDER BY submitted_at",
        )?;
        let rows = stmt.query_map([feed_type], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        rows.map(|r| {
            let (key, at) = r?;
            Ok(Attempt {
                key,
                feed_type: feed_type.to_string(),
                at: DateTime::parse_from_rfc3339(&at)
                    .map_err(|e| {
                        crate::error::Error::Store(format!("feed attempt time {at}: {e}"))
                    })?
                    .with_timezone(&Utc),
            })
        })
        .collect()
    }

    /// Whether the store knows Amazon's feed `feed_id` (as a listings feed or as the feed of
    /// an adjustment).
    pub fn knows_feed(&self, feed_id: &str) -> Result<bool> {
        let n: i64 = self.conn().query_row(
            "SELECT (SELECT COUNT(*) FROM feeds WHERE feed_id = ?1)
                  + (SELECT COUNT(*) FROM adjustments WHERE feed_id = ?1)",
            [feed_id],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }

    /// The attempt `key` created Amazon's feed `feed_id`: from now on it is that feed, followed
    /// as any other.
    pub fn attempt_created(&self, key: &str, feed_id: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE feeds SET feed_id = ?2, status = 'SUBMITTED' WHERE feed_id = ?1 AND status = 'CREATING'",
            params![key, feed_id],
        )?;
        tx.execute(
            "UPDATE skus SET in_flight_feed = ?2 WHERE in_flight_feed = ?1",
            params![key, feed_id],
        )?;
        tx.execute(
            "UPDATE adjustments SET feed_id = ?2 WHERE feed_id = ?1 AND state = 'SUBMITTED'",
            params![key, feed_id],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The attempt `key` created no feed: a listings feed's SKUs go out again with their
    /// current values (nothing counts against them: Amazon refused none), an order feed's
    /// adjustments are queued again.
    pub fn attempt_not_created(&self, key: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let messages: Option<String> = tx
            .query_row(
                "SELECT messages FROM feeds WHERE feed_id = ?1 AND status = 'CREATING'",
                [key],
                |r| r.get(0),
            )
            .optional()?;
        let Some(messages) = messages else {
            return Ok(());
        };
        let messages: Vec<FeedMessage> = serde_json::from_str(&messages)?;
        let unsent: Vec<&FeedMessage> = messages.iter().collect();
        super::stock::end_feed(&tx, key, "NOT_CREATED", &unsent)?;
        tx.execute(
            "UPDATE adjustments SET state = 'QUEUED', feed_id = NULL, record = NULL WHERE feed_id = ?1 AND state = 'SUBMITTED'",
            [key],
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// A key no feed id and no other attempt has.
fn attempt_key() -> String {
    format!("{ATTEMPT_PREFIX}{:016x}", rand::random::<u64>())
}
