//! Event delivery: waiting in `event_next`, and the optional callback, which runs on one
//! library thread that is not a runtime worker, so it may call back into the library.

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::store::{NextEvent, Store};
use std::cell::RefCell;
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

    /// Waits until something is stored, the handle closes, or `timeout` passes.
    pub fn wait_for_change(&self, timeout: Duration) {
        let g = self.generation.lock().unwrap_or_else(|p| p.into_inner());
        if self.is_closed() {
            return;
        }
        drop(
            self.cond
                .wait_timeout(g, timeout)
                .unwrap_or_else(|p| p.into_inner()),
        );
    }

    /// Whether the handle is closing.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Takes the next event not leased to `lease.owner` (see `Store::next_event`), waiting up
    /// to `timeout` (None: until one comes or the handle closes): its `seq` and document.
    pub fn next(
        &self,
        store: &Store,
        lease: &Lease,
        timeout: Option<Duration>,
        stop: &AtomicBool,
    ) -> Result<Option<(i64, String)>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if self.is_closed() {
                return Err(Error::Closed);
            }
            let seen = *self.generation.lock().unwrap_or_else(|p| p.into_inner());
            let now = lease.clock.now();
            let until = now + lease.duration;
            // Without a new event, wake when one of this handle's own leases runs out.
            let due = match store.next_event(&lease.owner, now, until)? {
                NextEvent::Event(seq, doc) => return Ok(Some((seq, doc))),
                NextEvent::None { due } => due.map(|d| {
                    Instant::now()
                        + (d - now).to_std().unwrap_or_default()
                        + Duration::from_millis(1)
                }),
            };
            if stop.load(Ordering::SeqCst) {
                return Ok(None);
            }
            let g = self.generation.lock().unwrap_or_else(|p| p.into_inner());
            if *g != seen {
                continue;
            }
            // In a shared store another process may add events: look again every half second.
            let poll = store
                .is_shared()
                .then(|| Instant::now() + Duration::from_millis(500));
            let wake = [deadline, due, poll].into_iter().flatten().min();
            match wake {
                None => drop(self.cond.wait(g).unwrap_or_else(|p| p.into_inner())),
                Some(w) => {
                    let left = w.saturating_duration_since(Instant::now());
                    if left.is_zero() && Some(w) == deadline {
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

/// The event a callback on this thread is handling, and whether the host declined it.
struct Handling {
    owner: String,
    seq: i64,
    declined: bool,
}

thread_local! {
    // Clippy for Windows targets asks for the `const` initializer it has.
    #[allow(clippy::missing_const_for_thread_local)]
    static HANDLING: RefCell<Option<Handling>> = const { RefCell::new(None) };
}

/// Declines the event `seq` that the callback of the handle leasing as `owner` is handling on
/// this thread: it is not acknowledged when the callback returns, and comes again when its
/// lease runs out. Outside that callback, `InvalidState`; another event, `InvalidArgument`.
pub fn decline(owner: &str, seq: i64) -> Result<()> {
    HANDLING.with(|h| match h.borrow_mut().as_mut() {
        Some(e) if e.owner == owner && e.seq == seq => {
            e.declined = true;
            Ok(())
        }
        Some(e) if e.owner == owner => Err(Error::InvalidArgument(format!(
            "the callback is handling event {}, not {seq}",
            e.seq
        ))),
        _ => Err(Error::InvalidState(
            "an event is declined from inside the event callback; one taken by \
             sellsync_event_next is declined by not acknowledging it"
                .into(),
        )),
    })
}

/// Runs `callback` on event `seq`; whether it returned without declining the event.
fn handle_one(owner: &str, seq: i64, doc: &str, callback: &mut Callback) -> bool {
    HANDLING.with(|h| {
        *h.borrow_mut() = Some(Handling {
            owner: owner.to_string(),
            seq,
            declined: false,
        })
    });
    // A panicking callback must not take the thread (or the host) down.
    let returned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| callback(doc))).is_ok();
    let declined = HANDLING
        .with(|h| h.borrow_mut().take())
        .is_some_and(|e| e.declined);
    returned && !declined
}

/// Who takes events, and for how long an event handed out stays theirs before it is handed
/// out again (to them) when not acknowledged.
#[derive(Debug, Clone)]
pub struct Lease {
    pub owner: String,
    pub duration: chrono::Duration,
    pub clock: Arc<dyn Clock>,
}

/// The thread that hands events to a callback.
pub struct Dispatcher {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    thread_id: std::thread::ThreadId,
}

impl Dispatcher {
    /// Starts delivering events to `callback`; each is acknowledged when the callback returns
    /// (not when it declined the event or panicked: then it comes again when its lease runs
    /// out).
    pub fn start(
        hub: Arc<Hub>,
        store: Arc<Store>,
        lease: Lease,
        log: tracing::Dispatch,
        mut callback: Callback,
    ) -> Result<Dispatcher> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("sellsync-events".into())
            .spawn(move || {
                let _log = tracing::dispatcher::set_default(&log);
                while !flag.load(Ordering::SeqCst) {
                    match hub.next(&store, &lease, None, &flag) {
                        Ok(Some((seq, e))) => {
                            if !handle_one(&lease.owner, seq, &e, &mut callback) {
                                tracing::info!(
                                    seq,
                                    "event not handled by the callback, it comes again in {} s",
                                    lease.duration.num_seconds()
                                );
                            } else if let Err(e) = store.ack_event(seq) {
                                tracing::warn!(seq, "event not acknowledged, it comes again: {e}");
                            }
                        }
                        Ok(None) => {}
                        Err(Error::Closed) => break,
                        Err(e) => {
                            // The store failed (e.g. the disk is full): say so, and try again
                            // a little later instead of giving the callback up for good.
                            tracing::error!("events cannot be read from the store: {e}");
                            hub.wait_for_change(Duration::from_secs(1));
                        }
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
