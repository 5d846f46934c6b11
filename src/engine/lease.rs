//! Who runs the sync with Amazon when several processes share a store (PostgreSQL): the one
//! holding the lease on the seller account. It renews the lease every third of its length;
//! every other process tries to take it over at the same pace, so a leader that dies (or loses
//! its network) is replaced at most one lease length plus a third later. Every write the
//! leader's flows make is fenced with the lease's epoch (see `store::pg`), so a leader that
//! was paused past its lease cannot overwrite its successor's work.
//!
//! On SQLite the handle holding the store's lock runs the sync ([`StoreLock`]): an exclusive
//! lock on `<store_path>.lock`, which the operating system drops when the process ends however
//! it ends. Other handles on the store (other processes, or other handles in one process: a
//! consumer group, a status tool) serve their host from the store and take the lock over once
//! it is free. No fence is needed there: the lock is held until the holder lets it go or dies,
//! so no two handles ever lead at once.

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
    /// The leadership of a process on a shared store; `None` on SQLite (see [`StoreLock`]).
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

/// The lock on a SQLite store: held by the one handle that runs the sync with Amazon.
#[derive(Debug)]
pub struct StoreLock {
    path: String,
    /// The locked file while this handle holds the lock.
    file: std::sync::Mutex<Option<std::fs::File>>,
    /// The background worker runs: the lock is taken once it is free.
    contending: std::sync::atomic::AtomicBool,
}

/// How often a handle whose worker runs tries to take a lock another handle holds.
const LOCK_RETRY: Duration = Duration::from_secs(1);

impl StoreLock {
    /// The lock of the SQLite store of `config`; `None` on a shared store.
    pub fn new(config: &crate::config::Config) -> Option<StoreLock> {
        config.store.postgres.is_none().then(|| StoreLock {
            path: format!("{}.lock", config.store_path),
            file: std::sync::Mutex::new(None),
            contending: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Whether this handle holds the lock.
    pub fn held(&self) -> bool {
        self.file
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Takes the lock if it is free; whether this handle holds it.
    fn take(&self) -> Result<bool> {
        let mut held = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if held.is_some() {
            return Ok(true);
        }
        let fail = |e: std::io::Error| {
            Error::Store(format!(
                "cannot lock the store ({}): {e}",
                crate::error::quote(&self.path)
            ))
        };
        let open = || {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&self.path)
        };
        let file = match open() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match crate::store::files::create_private(&self.path) {
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => open(),
                    made => made,
                }
            }
            opened => opened,
        }
        .map_err(fail)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(false),
            Err(std::fs::TryLockError::Error(e)) => return Err(fail(e)),
        }
        // Who holds it, for the message another handle gives (best effort: on Windows the
        // lock keeps other processes from reading the file).
        let mut f = &file;
        let _ = f.set_len(0).and_then(|()| {
            std::io::Write::write_all(
                &mut f,
                format!("process {}\n", std::process::id()).as_bytes(),
            )
        });
        *held = Some(file);
        Ok(true)
    }

    /// Lets the lock go (the operating system also does when the process ends).
    pub fn release(&self) {
        self.file.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Who holds the lock, as its file says (when it can be read).
    fn holder(&self) -> Option<String> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        Some(text.trim().to_string()).filter(|t| !t.is_empty())
    }
}

impl Core {
    /// Takes or renews the lease; whether this process runs the sync now. Taking it over
    /// fences this process's writes with the new epoch, starts its rate limits from the
    /// buckets the last leader left and wakes every flow.
    pub fn lead(&self) -> Result<bool> {
        if let Some(k) = &self.store_lock {
            return self.hold_lock(k);
        }
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

    /// Takes the store's lock if it is free (SQLite); whether this handle holds it. Taking it
    /// starts the rate limits from the buckets the last holder left and wakes every flow.
    fn hold_lock(&self, k: &StoreLock) -> Result<bool> {
        if k.held() {
            return Ok(true);
        }
        if !k.take()? {
            return Ok(false);
        }
        self.client.reload_limits(&self.store.saved_buckets()?);
        tracing::info!(
            "this handle holds the lock on the store ({}): it runs the sync with Amazon",
            crate::error::quote(&k.path)
        );
        Flow::ALL.into_iter().for_each(|f| self.flows.wake(f));
        Ok(true)
    }

    /// Whether this handle runs the sync now.
    pub fn is_leader(&self) -> bool {
        self.leadership.as_ref().is_none_or(|l| l.epoch().is_some())
            && self.store_lock.as_ref().is_none_or(StoreLock::held)
    }

    /// Whether the lease or the store's lock is taken over when free (the background worker
    /// runs).
    pub fn contend(&self, on: bool) {
        if let Some(l) = &self.leadership {
            l.contend(on);
        }
        if let Some(k) = &self.store_lock {
            k.contending.store(on, Ordering::SeqCst);
        }
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
        if let Some(k) = &self.store_lock {
            let by = k.holder().map(|h| format!(" ({h})")).unwrap_or_default();
            return Err(Error::InvalidState(format!(
                "another handle{by} holds the lock on this store ({}) and runs the sync with Amazon; this one serves its host from the store and takes over when that one closes",
                crate::error::quote(&k.path)
            )));
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

    /// Gives the lease up (on close, or when the worker stops), so another process takes over
    /// at once.
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
            let leader = self.is_leader();
            let holder = self
                .store_lock
                .as_ref()
                .filter(|_| !leader)
                .and_then(StoreLock::holder);
            return Ok(serde_json::json!({"shared": false, "leader": leader, "holder": holder}));
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
    if let Some(k) = &core.store_lock {
        return lock_task(&core, k).await;
    }
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

/// The task that takes the store's lock once it is free while the background worker runs.
async fn lock_task(core: &Arc<Core>, k: &StoreLock) {
    loop {
        if !k.held() && k.contending.load(Ordering::SeqCst) {
            let c = core.clone();
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || c.lead()).await {
                tracing::warn!("the store's lock could not be taken: {e}");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(LOCK_RETRY) => {}
            _ = core.closed() => return,
        }
    }
}
