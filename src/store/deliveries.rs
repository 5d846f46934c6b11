//! Handing orders to the host: each ready order goes to one taker of each consumer group at a
//! time, leased until it is acknowledged or the lease runs out (then it is handed out again).
//! The default group's delivery state is in `orders` (its acknowledgements are the bookings
//! the stock counts on); each named group has its own in `deliveries`.
//!
//! On SQLite (one process) an order leased to one handle is handed at once to any other
//! handle that asks (a host that restarted has a new handle). On a shared store several tills
//! ask at once, so a live lease is respected (`exclusive`); a till that restarts under the same
//! `store.node` gets its earlier leases back at once ([`Store::take_back_order_leases`]).

use super::db::{params, OptionalExtension, Tx};
use super::{commit, ts, Store};
use crate::error::{quote, Error, Result};
use chrono::{DateTime, Utc};

/// Who takes orders.
#[derive(Debug, Clone)]
pub struct Taker {
    /// The handle (its leases).
    pub owner: String,
    /// Its consumer group (`None`: the default one).
    pub group: Option<String>,
    /// Whether another handle's live lease is respected (a shared store).
    pub exclusive: bool,
}

impl Store {
    /// Hands out the oldest order ready for the host that `owner` does not hold a live lease on,
    /// and leases it to `owner` until `lease_until` (the default group, one process).
    pub fn next_order(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<String>> {
        let taker = Taker {
            owner: owner.into(),
            group: None,
            exclusive: false,
        };
        self.next_order_for(&taker, now, lease_until)
    }

    /// Hands out the oldest order ready for `taker`'s group that is not leased (to `taker`, or
    /// to anyone when `exclusive`), and leases it to `taker` until `lease_until`.
    pub fn next_order_for(
        &self,
        taker: &Taker,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<String>> {
        let taker = taker.clone();
        // A lease lost to a power cut only means the order is handed out again, which is
        // allowed until it is acknowledged: no fsync of its own.
        let found = self.write(commit::Durability::Process, move |tx| {
            let (pick, lease) = match &taker.group {
                None => (
                    "SELECT order_id, doc, buyer_sealed FROM orders
                     WHERE acked_at IS NULL AND ready_seq IS NOT NULL AND status <> 'CANCELLED'
                       AND (lease_owner IS NULL OR lease_until <= ?2 OR (?3 = 0 AND lease_owner <> ?1)
                            OR lease_owner = ?1 || ':back')
                     ORDER BY ready_seq LIMIT 1",
                    "UPDATE orders SET lease_owner = ?1, lease_until = ?2, handed_out = handed_out + 1
                     WHERE order_id = ?3",
                ),
                Some(_) => (
                    "SELECT d.order_id, o.doc, o.buyer_sealed FROM deliveries d
                     JOIN orders o ON o.order_id = d.order_id
                     WHERE d.grp = ?4 AND d.acked_at IS NULL AND d.cancelled = 0
                       AND (d.lease_owner IS NULL OR d.lease_until <= ?2 OR (?3 = 0 AND d.lease_owner <> ?1)
                            OR d.lease_owner = ?1 || ':back')
                     ORDER BY d.ready_seq LIMIT 1",
                    "UPDATE deliveries SET lease_owner = ?1, lease_until = ?2, handed_out = handed_out + 1
                     WHERE order_id = ?3 AND grp = ?4",
                ),
            };
            let group = taker.group.as_deref().unwrap_or("");
            let mut pick = tx.prepare_cached(pick)?;
            let found: Option<(String, String, Option<Vec<u8>>)> = if taker.group.is_some() {
                pick.query_row(
                    params![taker.owner, ts(now), taker.exclusive, group],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
            } else {
                pick.query_row(params![taker.owner, ts(now), taker.exclusive], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
            }
            .optional()?;
            if let Some((id, _, _)) = &found {
                let mut lease = tx.prepare_cached(lease)?;
                if taker.group.is_some() {
                    lease.execute(params![taker.owner, ts(lease_until), id, group])?;
                } else {
                    lease.execute(params![taker.owner, ts(lease_until), id])?;
                }
            }
            Ok(found)
        })?;
        found
            .map(|(_, doc, sealed)| self.with_buyer_data(doc, sealed))
            .transpose()
    }

    /// Records the host's acknowledgement of an order, with its own reference (the default
    /// group).
    pub fn ack_order(&self, order_id: &str, host_ref: &str, now: DateTime<Utc>) -> Result<()> {
        self.ack_order_for(None, order_id, host_ref, now)
    }

    /// Records the acknowledgement of an order for `group` (`None`: the default one).
    pub fn ack_order_for(
        &self,
        group: Option<&str>,
        order_id: &str,
        host_ref: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (order_id, host_ref) = (order_id.to_string(), host_ref.to_string());
        let group = group.map(str::to_string);
        self.write(commit::Durability::Full, move |tx| {
            ack(tx, group.as_deref(), &order_id, &host_ref, now)
        })
    }

    /// Names a consumer group: from now on it gets every order that becomes ready, and at once
    /// the orders still waiting to ship. Naming it again changes nothing.
    pub fn name_group(&self, group: &str, now: DateTime<Utc>) -> Result<()> {
        let group = group.to_string();
        self.write(commit::Durability::Full, move |tx| {
            let new = tx.execute(
                "INSERT INTO consumer_groups(name, named_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![group, ts(now)],
            )?;
            if new > 0 {
                tx.execute(
                    "INSERT INTO deliveries(grp, order_id, ready_seq)
                     SELECT ?1, order_id, ready_seq FROM orders
                     WHERE ready_seq IS NOT NULL AND status IN ('UNSHIPPED', 'PARTIALLY_SHIPPED')",
                    [&group],
                )?;
            }
            Ok(())
        })
    }

    /// Gives the leases on orders held by the earlier handles of this till (`owner_prefix`
    /// starts their owner names) to its new handle `owner`, which gets them again at once.
    /// Other tills still wait for the leases to run out: the till's last run may have booked
    /// an order and died before acknowledging it, and acknowledges it when it restarts.
    pub fn take_back_order_leases(&self, owner_prefix: &str, owner: &str) -> Result<()> {
        let (prefix, owner) = (owner_prefix.to_string(), owner.to_string());
        self.write(commit::Durability::Full, move |tx| {
            for table in ["orders", "deliveries"] {
                tx.execute(
                    &format!(
                        "UPDATE {table} SET lease_owner = ?3 || ':back'
                         WHERE lease_owner IS NOT NULL AND substr(lease_owner, 1, ?2) = ?1"
                    ),
                    params![prefix, prefix.chars().count() as i64, owner],
                )?;
            }
            Ok(())
        })
    }
}

/// An order Amazon cancelled is handed to no group any more (its deliveries leave the index
/// of those to hand out).
pub(super) fn cancel_deliveries(tx: &Tx<'_>, order_id: &str) -> Result<()> {
    tx.prepare_cached("UPDATE deliveries SET cancelled = 1 WHERE order_id = ?1")?
        .execute([order_id])?;
    Ok(())
}

/// A ready order gets a delivery in every named group.
pub(super) fn add_ready(tx: &Tx<'_>, order_id: &str, ready_seq: Option<i64>) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO deliveries(grp, order_id, ready_seq) SELECT name, ?1, ?2 FROM consumer_groups
         WHERE true ON CONFLICT DO NOTHING",
    )?
    .execute(params![order_id, ready_seq])?;
    Ok(())
}

fn ack(
    tx: &Tx<'_>,
    group: Option<&str>,
    order_id: &str,
    host_ref: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    type AckRow = (Option<String>, Option<String>, Option<i64>, String);
    let row: Option<AckRow> = match group {
        None => tx
            .prepare_cached(
                "SELECT acked_at, host_ref, ready_seq, status FROM orders WHERE order_id = ?1",
            )?
            .query_row([order_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            }),
        Some(g) => tx
            .prepare_cached(
                "SELECT d.acked_at, d.host_ref, d.ready_seq, o.status FROM orders o
                 LEFT JOIN deliveries d ON d.order_id = o.order_id AND d.grp = ?2
                 WHERE o.order_id = ?1",
            )?
            .query_row([order_id, g], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            }),
    }
    .optional()?;
    match row {
        None => Err(Error::NotFound(format!(
            "order {} is not known",
            quote(order_id)
        ))),
        Some((Some(_), Some(existing), _, _)) if existing == host_ref => Ok(()),
        Some((Some(_), existing, _, _)) => Err(Error::Conflict(format!(
            "order {} was already acknowledged with another host_ref ({})",
            quote(order_id),
            quote(&existing.unwrap_or_default())
        ))),
        Some((None, _, None, status)) => Err(Error::InvalidState(format!(
            "order {} is {status} and was never handed out{}",
            quote(order_id),
            group
                .map(|g| format!(" to group {}", quote(g)))
                .unwrap_or_default()
        ))),
        Some((None, _, Some(_), _)) => {
            match group {
                None => tx
                    .prepare_cached(
                        "UPDATE orders SET acked_at = ?1, host_ref = ?2, lease_owner = NULL, lease_until = NULL
                         WHERE order_id = ?3",
                    )?
                    .execute(params![ts(now), host_ref, order_id])?,
                Some(g) => tx
                    .prepare_cached(
                        "UPDATE deliveries SET acked_at = ?1, host_ref = ?2, lease_owner = NULL, lease_until = NULL
                         WHERE order_id = ?3 AND grp = ?4",
                    )?
                    .execute(params![ts(now), host_ref, order_id, g])?,
            };
            Ok(())
        }
    }
}
