//! Amazon's account health as its last seller performance report gave it, per marketplace,
//! with the conditions already raised as events: a report's figures and the events they
//! raise are stored in one transaction, so each crossing or disagreement is raised once,
//! across restarts and reports that say the same.

use super::db::{params, OptionalExtension};
use super::{insert_event, trim_events, ts, Store};
use crate::amazon::account_health::MarketplaceHealth;
use crate::error::Result;
use crate::model::Event;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// A condition a report may show: raised as `on` when it starts, as `off` (if any) when it
/// ends.
pub struct Condition {
    /// Names the condition among a marketplace's, e.g. `misses:late_shipment_rate:10`.
    pub key: String,
    pub holds: bool,
    pub on: Event,
    pub off: Option<Event>,
}

/// Amazon's account health of a marketplace as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredHealth {
    pub report_id: String,
    pub read_at: String,
    pub health: MarketplaceHealth,
}

impl Store {
    /// Keeps a marketplace's figures from report `report_id` and stores an event for each
    /// condition that starts (or, with an `off` event, ends) with them. Returns how many events.
    pub fn record_account_health(
        &self,
        report_id: &str,
        health: &MarketplaceHealth,
        conditions: Vec<Condition>,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let before: BTreeSet<String> = tx
            .query_row(
                "SELECT raised FROM account_health WHERE marketplace_id = ?1",
                [&health.marketplace_id],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(|t| serde_json::from_str(&t))
            .transpose()?
            .unwrap_or_default();
        let mut raised = BTreeSet::new();
        let mut events = 0;
        for c in conditions {
            let was = before.contains(&c.key);
            let event = match (was, c.holds) {
                (false, true) => Some(c.on),
                (true, false) => c.off,
                _ => None,
            };
            if let Some(e) = event {
                insert_event(&tx, &e, now)?;
                events += 1;
            }
            if c.holds {
                raised.insert(c.key);
            }
        }
        tx.execute(
            "INSERT INTO account_health(marketplace_id, report_id, read_at, doc, raised) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(marketplace_id) DO UPDATE SET report_id = ?2, read_at = ?3, doc = ?4, raised = ?5",
            params![
                health.marketplace_id,
                report_id,
                ts(now),
                serde_json::to_string(health)?,
                serde_json::to_string(&raised)?
            ],
        )?;
        trim_events(&tx)?;
        tx.commit()?;
        Ok(events)
    }

    /// Amazon's account health of a marketplace, as last read (None: no report read yet).
    pub fn account_health(&self, marketplace_id: &str) -> Result<Option<StoredHealth>> {
        let row: Option<(String, String, String)> = self
            .conn()
            .query_row(
                "SELECT report_id, read_at, doc FROM account_health WHERE marketplace_id = ?1",
                [marketplace_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        row.map(|(report_id, read_at, doc)| {
            Ok(StoredHealth {
                report_id,
                read_at,
                health: serde_json::from_str(&doc)?,
            })
        })
        .transpose()
    }
}
