//! Time as the library sees it: injectable, so tests can run days in seconds.

use chrono::{DateTime, Duration, Utc};
use std::sync::Mutex;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told (for tests and simulations).
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock standing at `t`.
    pub fn new(t: DateTime<Utc>) -> Self {
        ManualClock(Mutex::new(t))
    }
    /// Moves the clock by `d`.
    pub fn advance(&self, d: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Amazon's clock as estimated from the `Date` header of its answers, so that a host whose
/// clock is wrong still asks only for what Amazon allows (`lastUpdatedBefore` ≥ 2 minutes
/// before Amazon's now).
#[derive(Debug, Default)]
pub struct ServerClock {
    offset: Mutex<Option<Duration>>,
}

impl ServerClock {
    /// Records that Amazon said `server` when the local clock said `local`.
    pub fn observe(&self, server: DateTime<Utc>, local: DateTime<Utc>) {
        *self.offset.lock().unwrap_or_else(|p| p.into_inner()) = Some(server - local);
    }
    /// Whether Amazon has answered with its time at least once.
    pub fn is_known(&self) -> bool {
        self.offset
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }
    /// Amazon's current time, estimated (the local time until Amazon has answered once).
    pub fn now(&self, local: DateTime<Utc>) -> DateTime<Utc> {
        let offset = *self.offset.lock().unwrap_or_else(|p| p.into_inner());
        local + offset.unwrap_or_else(Duration::zero)
    }
}
