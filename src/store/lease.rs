//! The lease on the seller account in a shared store (PostgreSQL): which process runs the sync
//! with Amazon, under which epoch, until when. Times are the database's clock, so the
//! processes' own clocks do not matter.

use super::pg::Fence;
use super::Store;
use crate::error::Result;

/// The database's clock in milliseconds since 1970.
const NOW_MS: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

/// Who holds the lease.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Holder {
    /// The holder's name (`store.node`).
    pub holder: String,
    /// The lease's epoch: one more at every change of holder.
    pub epoch: i64,
    /// Milliseconds until the lease runs out unless renewed (negative: it has run out).
    pub expires_in_ms: i64,
}

impl Store {
    /// Takes the lease for `holder`, or renews it if `holder` holds it under `epoch`, for
    /// `lease_ms`. Returns the epoch it is held under, or `None` while another holder has it.
    /// Whoever takes it over gets a higher epoch than any before, so writes fenced with an
    /// older one fail; a holder that restarts (the same name, another epoch) takes its lease
    /// back at once.
    pub fn take_lease(
        &self,
        account: &str,
        holder: &str,
        epoch: i64,
        lease_ms: i64,
    ) -> Result<Option<i64>> {
        let mut conn = self.conn();
        // Not fenced: this is how the fence is set up.
        let tx = conn.transaction_unfenced()?;
        let sql = format!(
            "INSERT INTO leases(account, holder, epoch, expires_ms) VALUES (?1, ?2, 1, {NOW_MS} + ?3)
             ON CONFLICT(account) DO UPDATE SET
                 epoch = CASE WHEN leases.holder = excluded.holder AND leases.epoch = ?4
                              THEN leases.epoch ELSE leases.epoch + 1 END,
                 holder = excluded.holder, expires_ms = excluded.expires_ms
             WHERE leases.expires_ms <= {NOW_MS} OR leases.holder = excluded.holder
             RETURNING epoch"
        );
        let epoch = tx
            .prepare_cached(&sql)?
            .query_map(super::db::params![account, holder, lease_ms, epoch], |r| {
                r.get(0)
            })?
            .next()
            .transpose()?;
        tx.commit()?;
        Ok(epoch)
    }

    /// Gives the lease up at once (a clean close), so another process takes over without
    /// waiting for it to run out.
    pub fn release_lease(&self, fence: &Fence) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_unfenced()?;
        tx.execute(
            "UPDATE leases SET expires_ms = 0 WHERE account = ?1 AND holder = ?2 AND epoch = ?3",
            super::db::params![fence.account, fence.holder, fence.epoch],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Who holds the lease on `account` (if anyone ever did).
    pub fn lease_holder(&self, account: &str) -> Result<Option<Holder>> {
        let conn = self.conn();
        let holder = conn
            .prepare_cached(&format!(
                "SELECT holder, epoch, expires_ms - {NOW_MS} FROM leases WHERE account = ?1"
            ))?
            .query_map([account], |r| {
                Ok(Holder {
                    holder: r.get(0)?,
                    epoch: r.get(1)?,
                    expires_in_ms: r.get(2)?,
                })
            })?
            .next()
            .transpose()?;
        Ok(holder)
    }

    /// Sets (or clears) the lease this process's writes are fenced with.
    pub fn set_fence(&self, fence: Option<Fence>) {
        if let super::db::Conn::Pg(c) = &*self.conn() {
            c.set_fence(fence);
        }
    }
}
