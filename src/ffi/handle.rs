//! The opaque `SellSync` handle: the engine behind a tombstone that outlives close, an
//! in-flight counter so close waits for running calls, and the fork check.

use crate::engine::Engine;
use crate::error::{Error, Result};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How long close waits for calls still running on other threads.
const CLOSE_WAIT: Duration = Duration::from_secs(60);

/// The handle a host holds. After close only this small shell remains (never freed), so a
/// late call gets `SELLSYNC_ERR_CLOSED` instead of touching freed memory.
pub struct SellSync {
    pid: u32,
    engine: Mutex<Option<Arc<Engine>>>,
    inflight: Mutex<usize>,
    idle: Condvar,
}

/// A call in progress; keeps the engine alive and close waiting, and sends the library's log
/// lines written on the calling thread to the handle's log.
pub struct Call<'a> {
    handle: &'a SellSync,
    /// The engine for this call.
    pub engine: Arc<Engine>,
    _log: tracing::dispatcher::DefaultGuard,
}

impl Drop for Call<'_> {
    fn drop(&mut self) {
        let mut n = lock(&self.handle.inflight);
        *n -= 1;
        if *n == 0 {
            self.handle.idle.notify_all();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SellSync {
    /// Wraps an open engine.
    pub fn new(engine: Engine) -> SellSync {
        SellSync {
            pid: std::process::id(),
            engine: Mutex::new(Some(Arc::new(engine))),
            inflight: Mutex::new(0),
            idle: Condvar::new(),
        }
    }

    fn check_process(&self) -> Result<()> {
        if std::process::id() != self.pid {
            Err(Error::Forked)
        } else {
            Ok(())
        }
    }

    /// Starts a call: fails when closed or in a forked child.
    pub fn enter(&self) -> Result<Call<'_>> {
        self.check_process()?;
        let engine = lock(&self.engine).clone().ok_or(Error::Closed)?;
        *lock(&self.inflight) += 1;
        let _log = tracing::dispatcher::set_default(engine.log_dispatch());
        Ok(Call {
            handle: self,
            engine,
            _log,
        })
    }

    /// Closes: refuses new calls, wakes waiting ones, waits for running ones, then stops
    /// the engine. A second close returns `Closed`.
    pub fn close(&self) -> Result<()> {
        if std::process::id() != self.pid {
            // In a forked child the engine's threads do not exist: leak it rather than join them.
            if let Some(e) = lock(&self.engine).take() {
                std::mem::forget(e);
            }
            return Err(Error::Forked);
        }
        let engine = {
            let guard = lock(&self.engine);
            let engine = guard.as_ref().ok_or(Error::Closed)?;
            if engine.on_callback_thread() {
                return Err(Error::InvalidState(
                    "sellsync_close cannot be called from the event callback".into(),
                ));
            }
            if crate::logging::in_log_callback() {
                return Err(Error::InvalidState(
                    "sellsync_close cannot be called from the log callback".into(),
                ));
            }
            engine.clone()
        };
        engine.begin_close();
        lock(&self.engine).take();
        let n = lock(&self.inflight);
        let (n, timeout) = self
            .idle
            .wait_timeout_while(n, CLOSE_WAIT, |n| *n > 0)
            .unwrap_or_else(|p| p.into_inner());
        drop(n);
        if timeout.timed_out() {
            return Err(Error::InvalidState("calls on other threads did not return within 60 s; the handle is closed but not freed".into()));
        }
        engine.close()
    }
}
