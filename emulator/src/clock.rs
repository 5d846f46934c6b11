//! The emulator's clock: wall time that can be set, advanced and sped up, so tests can
//! make hours pass in milliseconds while rate limits keep running on real time.

use chrono::{DateTime, Duration, Utc};
use std::sync::Mutex;
use std::time::Instant;

/// A settable clock. `now = base + (real elapsed since anchor) * speed`.
#[derive(Debug)]
pub struct Clock {
    inner: Mutex<Anchor>,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    base: DateTime<Utc>,
    real: Instant,
    speed: f64,
}

impl Clock {
    /// A clock that starts at the real time and runs at `speed` times real time.
    pub fn new(speed: f64) -> Self {
        Clock {
            inner: Mutex::new(Anchor {
                base: Utc::now(),
                real: Instant::now(),
                speed,
            }),
        }
    }

    fn anchor(&self) -> Anchor {
        *self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The emulated current time.
    pub fn now(&self) -> DateTime<Utc> {
        let a = self.anchor();
        let real = a.real.elapsed().as_secs_f64() * a.speed;
        a.base + Duration::microseconds((real * 1e6) as i64)
    }

    /// Moves the clock forward by `d` (never backwards).
    pub fn advance(&self, d: Duration) {
        let now = self.now();
        self.set(now + d.max(Duration::zero()));
    }

    /// Sets the clock to `t`.
    pub fn set(&self, t: DateTime<Utc>) {
        let mut a = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        a.base = t;
        a.real = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_time_forward_only() {
        let c = Clock::new(1.0);
        let t0 = c.now();
        c.advance(Duration::hours(2));
        assert!(c.now() - t0 >= Duration::hours(2));
        c.advance(Duration::hours(-5));
        assert!(c.now() - t0 >= Duration::hours(2));
    }
}
