//! Event delivery: waiting in `event_next`, and the optional callback, which runs on one
//! library thread that is not a runtime worker, so it may call back into the library.

use crate::error::{Error, Result};
use crate::store::Store;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A host callback for events; gets each event's JSON document.
pub type Callback = Box<dyn FnMut(&str) + Send>;

/// Wakes waiters when events arrive or the handle closes.
#[derive(Debug, Default)]
pub struct Hub {
    generation: Mutex<u64>,
    cond: Condvar,
    closed: AtomicBool,
}

impl Hub {
    /// Something was stored: wake every waiter.
    pub fn notify(&self) {
        let mut g = self.generation.lock().unwrap_or_else(|p| p.into_inner());
        *g += 1;
        self.cond.notify_all();
    }

    /// The handle is closing: wake every waiter for good.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.notify();
    }

    /// Whether the handle is closing.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Takes the next event, waiting up to `timeout` (None: until one comes or the handle closes).
    pub fn next(
        &self,
        store: &Store,
        timeout: Option<Duration>,
        stop: &AtomicBool,
    ) -> Result<Option<String>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if self.is_closed() {
                return Err(Error::Closed);
            }
            let seen = *self.generation.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(e) = store.pop_event()? {
                return Ok(Some(e));
            }
            if stop.load(Ordering::SeqCst) {
                return Ok(None);
            }
            let g = self.generation.lock().unwrap_or_else(|p| p.into_inner());
            if *g != seen {
                continue;
            }
            match deadline {
                None => drop(self.cond.wait(g).unwrap_or_else(|p| p.into_inner())),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(None);
                    }
                    drop(
                        self.cond
                            .wait_timeout(g, left)
                            .unwrap_or_else(|p| p.into_inner()),
                    );
                }
            }
        }
    }
}

/// The thread that hands events to a callback.
pub struct Dispatcher {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    thread_id: std::thread::ThreadId,
}

impl Dispatcher {
    /// Starts delivering events to `callback`.
    pub fn start(hub: Arc<Hub>, store: Arc<Store>, mut callback: Callback) -> Result<Dispatcher> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("sellsync-events".into())
            .spawn(move || {
                while !flag.load(Ordering::SeqCst) {
                    match hub.next(&store, None, &flag) {
                        Ok(Some(e)) => {
                            // A panicking callback must not take the thread (or the host) down.
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                callback(&e)
                            }));
                        }
                        Ok(None) => {}
                        Err(_) => break,
                    }
                }
                drop(callback);
            })
            .map_err(|e| Error::Internal(format!("cannot start the event thread: {e}")))?;
        let thread_id = thread.thread().id();
        Ok(Dispatcher {
            stop,
            thread: Some(thread),
            thread_id,
        })
    }

    /// Whether the caller is this dispatcher's thread (a callback).
    pub fn is_current(&self) -> bool {
        std::thread::current().id() == self.thread_id
    }

    /// Stops the thread and drops the callback (which releases the host's user data).
    pub fn stop(mut self, hub: &Hub) {
        self.stop.store(true, Ordering::SeqCst);
        hub.notify();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
