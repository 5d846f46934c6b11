//! Who runs the sync with Amazon when several processes share a store (PostgreSQL): the one
//! holding the lease on the seller account. It renews the lease every third of its length;
//! every other process tries to take it over at the same pace, so a leader that dies (or loses
//! its network) is replaced at most one lease length plus a third later. Every write the
//! leader's flows make is fenced with the lease's epoch (see `store::pg`), so a leader that
//! was paused past its lease cannot overwrite its successor's work. On SQLite, the one process
//! is always the leader.

use super::{Core, Flow};
use crate::error::{Error, Result};
use crate::store::pg::{Fence, LEASE_LOST};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// This process's part in the lease.
#[derive(Debug)]
pub struct Leadership {
    account: String,
    holder: String,
    length: Duration,
    /// The epoch this process holds the lease under; 0 when it does not.
    epoch: AtomicI64,
    /// When the lease was last taken or renewed.
    renewed: std::sync::Mutex<std::time::Instant>,
    /// The background worker runs: the lease is taken over when it runs out (without it, only
    /// `sync_now` takes it).
    contending: std::sync::atomic::AtomicBool,
}

impl Leadership {
    /// The leadership of a process on a shared store; `None` on SQLite.
    pub fn new(config: &crate::config::Config) -> Option<Leadership> {
        config.store.postgres.as_ref()?;
        let holder = config.store.node.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "host".into());
            format!("{host}-{}", std::process::id())
        });
        Some(Leadership {
            account: config.seller_id.clone(),
            holder,
            length: config.store.lease(),
            epoch: AtomicI64::new(0),
            renewed: std::sync::Mutex::new(std::time::Instant::now()),
            contending: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The epoch the lease is held under, if this process holds it.
    pub fn epoch(&self) -> Option<i64> {
        Some(self.epoch.load(Ordering::SeqCst)).filter(|e| *e > 0)
    }

    /// Whether the lease is taken over when free (the background worker runs).
    pub fn contend(&self, on: bool) {
        self.contending.store(on, Ordering::SeqCst);
    }

    /// This process's name in the lease.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    fn fence(&self, epoch: i64) -> Fence {
        Fence {
            account: self.account.clone(),
            holder: self.holder.clone(),
            epoch,
        }
    }
}

impl Core {
    /// Takes or renews the lease; whether this process runs the sync now. Taking it over
    /// fences this process's writes with the new epoch, starts its rate limits from the
    /// buckets the last leader left and wakes every flow.
    pub fn lead(&self) -> Result<bool> {
        let Some(l) = &self.leadership else {
            return Ok(true);
        };
        let mine = l.epoch.load(Ordering::SeqCst);
        let renewed = || *l.renewed.lock().unwrap_or_else(|p| p.into_inner());
        // Renewed a moment ago: still held (the fence guards the writes in any case).
        if mine != 0 && renewed().elapsed() < l.length / 3 {
            return Ok(true);
        }
        let asked = std::time::Instant::now();
        let length = l.length.as_millis() as i64;
        let taken = self.store.take_lease(&l.account, &l.holder, mine, length)?;
        if taken.is_some() {
            *l.renewed.lock().unwrap_or_else(|p| p.into_inner()) = asked;
        }
        match taken {
            Some(epoch) if epoch == mine => Ok(true),
            Some(epoch) => {
                self.store.set_fence(Some(l.fence(epoch)));
                self.client.reload_limits(&self.store.saved_buckets()?);
                l.epoch.store(epoch, Ordering::SeqCst);
                tracing::info!(
                    "{} took the lease on seller account {} (epoch {epoch}): it runs the sync with Amazon",
                    l.holder,
                    l.account
                );
                Flow::ALL.into_iter().for_each(|f| self.flows.wake(f));
                Ok(true)
            }
            None => {
                if mine != 0 {
                    self.step_down();
                }
                Ok(false)
            }
        }
    }

    /// Whether this process runs the sync now (always, on SQLite).
    pub fn is_leader(&self) -> bool {
        self.leadership.as_ref().is_none_or(|l| l.epoch().is_some())
    }

    /// Stops acting as the leader (the lease was lost or given up).
    pub fn step_down(&self) {
        let Some(l) = &self.leadership else { return };
        // The fence stays: a flow still running finds its writes refused.
        if l.epoch.swap(0, Ordering::SeqCst) != 0 {
            tracing::warn!(
                "{} no longer holds the lease on seller account {}: another process runs the sync with Amazon",
                l.holder,
                l.account
            );
        }
    }

    /// Fails unless this process runs the sync (taking the lease if it is free).
    pub fn must_lead(&self) -> Result<()> {
        if self.lead()? {
            return Ok(());
        }
        let by = self
            .leadership
            .as_ref()
            .and_then(|l| self.store.lease_holder(&l.account).ok().flatten())
            .map(|h| format!(" ({}, epoch {})", h.holder, h.epoch))
            .unwrap_or_default();
        Err(Error::InvalidState(format!(
            "another process{by} holds the lease on this seller account and runs the sync with Amazon"
        )))
    }

    /// Gives the lease up (on close), so another process takes over at once.
    pub fn release_lease(&self) -> Result<()> {
        let Some(l) = &self.leadership else {
            return Ok(());
        };
        let epoch = l.epoch.load(Ordering::SeqCst);
        self.step_down();
        if epoch > 0 {
            self.store.release_lease(&l.fence(epoch))?;
        }
        Ok(())
    }

    /// The lease as `sellsync_state` shows it.
    pub fn lease_state(&self) -> Result<serde_json::Value> {
        let Some(l) = &self.leadership else {
            return Ok(serde_json::json!({"shared": false, "leader": true}));
        };
        let held = self.store.lease_holder(&l.account)?;
        Ok(serde_json::json!({
            "shared": true,
            "node": l.holder,
            "leader": l.epoch().is_some(),
            "holder": held.as_ref().map(|h| h.holder.clone()),
            "epoch": held.as_ref().map(|h| h.epoch),
            "expires_in_ms": held.map(|h| h.expires_in_ms),
        }))
    }
}

/// Whether `e` says the lease was lost under a write.
pub fn lost(e: &Error) -> bool {
    matches!(e, Error::InvalidState(m) if m == LEASE_LOST)
}

/// The task that renews the lease while this process holds it (from open to close, so a long
/// `sync_now` keeps it too), and takes it over when it runs out while the background worker
/// runs.
pub async fn task(core: Arc<Core>) {
    let Some(l) = &core.leadership else { return };
    // Renewed a little before the flows' fast path stops trusting the last renewal.
    let every = l.length / 4;
    loop {
        if l.epoch().is_none() && !l.contending.load(Ordering::SeqCst) {
            tokio::select! {
                _ = tokio::time::sleep(every) => continue,
                _ = core.closed() => return,
            }
        }
        let c = core.clone();
        match tokio::task::spawn_blocking(move || c.lead()).await {
            Ok(Err(e)) => {
                tracing::warn!("the lease could not be renewed or taken: {e}");
                if core.leadership.as_ref().and_then(|l| l.epoch()).is_some() {
                    // Unknown whether it is still ours: act as if not, until it is renewed.
                    core.step_down();
                }
            }
            Ok(Ok(_)) => {}
            Err(_) => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = core.closed() => return,
        }
    }
}
