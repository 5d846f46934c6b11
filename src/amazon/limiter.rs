//! Client-side rate limiting: one token bucket per operation, seeded from Amazon's documented
//! usage plans and corrected by the `x-amzn-RateLimit-Limit` header, so calls wait for a token
//! instead of provoking 429s.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The SP-API operations the library calls, with Amazon's documented usage plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    SearchOrders,
    GetOrder2026,
    GetOrders,
    GetOrderItems,
    GetOrderAddress,
    ConfirmShipment,
    CreateRestrictedDataToken,
    GetListingsItem,
    PatchListingsItem,
    SearchListingsItems,
    GetInventorySummaries,
    CreateFeedDocument,
    CreateFeed,
    GetFeed,
    GetFeeds,
    GetFeedDocument,
    CreateReport,
    GetReport,
    GetReportDocument,
    GetDestinations,
    CreateDestination,
    DeleteDestination,
    GetSubscription,
    CreateSubscription,
    GetSubscriptionById,
    DeleteSubscriptionById,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 26] = [
        Operation::SearchOrders,
        Operation::GetOrder2026,
        Operation::GetOrders,
        Operation::GetOrderItems,
        Operation::GetOrderAddress,
        Operation::ConfirmShipment,
        Operation::CreateRestrictedDataToken,
        Operation::GetListingsItem,
        Operation::PatchListingsItem,
        Operation::SearchListingsItems,
        Operation::GetInventorySummaries,
        Operation::CreateFeedDocument,
        Operation::CreateFeed,
        Operation::GetFeed,
        Operation::GetFeeds,
        Operation::GetFeedDocument,
        Operation::CreateReport,
        Operation::GetReport,
        Operation::GetReportDocument,
        Operation::GetDestinations,
        Operation::CreateDestination,
        Operation::DeleteDestination,
        Operation::GetSubscription,
        Operation::CreateSubscription,
        Operation::GetSubscriptionById,
        Operation::DeleteSubscriptionById,
    ];

    /// The Notifications API operations (the last of [`Operation::ALL`]).
    pub const NOTIFICATIONS: &'static [Operation] = Self::ALL.as_slice().split_at(19).1;

    /// The LWA scope of a grantless operation (called with a token of the application, not of
    /// the seller's authorisation); None for the others.
    pub fn grantless_scope(self) -> Option<&'static str> {
        match self {
            Operation::GetDestinations
            | Operation::CreateDestination
            | Operation::DeleteDestination
            | Operation::GetSubscriptionById
            | Operation::DeleteSubscriptionById => Some("sellingpartnerapi::notifications"),
            _ => None,
        }
    }

    /// The operation's name as the store keeps it (stable across versions).
    pub fn name(self) -> String {
        format!("{self:?}")
    }

    /// Amazon's name of the operation in its models (`searchOrders`; `getOrder` for the one of
    /// Orders v2026-01-01), as events name it.
    pub fn model_name(self) -> String {
        let name = match self {
            Operation::GetOrder2026 => "GetOrder".to_string(),
            o => format!("{o:?}"),
        };
        let mut chars = name.chars();
        chars
            .next()
            .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
            .unwrap_or_default()
    }

    /// The operation of a stored name.
    pub fn parse(name: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|o| o.name() == name)
    }

    /// (rate in requests per second, burst) from the operation's usage plan in Amazon's models.
    pub fn usage_plan(self) -> (f64, u32) {
        match self {
            Operation::SearchOrders => (0.0056, 20),
            Operation::GetOrder2026 => (0.5, 30),
            Operation::GetOrders => (0.0167, 20),
            Operation::GetOrderItems => (0.5, 30),
            Operation::GetOrderAddress => (0.5, 30),
            Operation::ConfirmShipment => (2.0, 10),
            Operation::CreateRestrictedDataToken => (1.0, 10),
            Operation::GetListingsItem => (5.0, 10),
            Operation::PatchListingsItem => (5.0, 5),
            Operation::SearchListingsItems => (5.0, 5),
            Operation::GetInventorySummaries => (2.0, 2),
            Operation::CreateFeedDocument => (0.5, 15),
            Operation::CreateFeed => (0.0083, 15),
            Operation::GetFeed => (2.0, 15),
            Operation::GetFeeds => (0.0222, 10),
            Operation::GetFeedDocument => (0.0222, 10),
            Operation::CreateReport => (0.0167, 15),
            Operation::GetReport => (2.0, 15),
            Operation::GetReportDocument => (0.0167, 15),
            Operation::GetDestinations
            | Operation::CreateDestination
            | Operation::DeleteDestination
            | Operation::GetSubscription
            | Operation::CreateSubscription
            | Operation::GetSubscriptionById
            | Operation::DeleteSubscriptionById => (1.0, 5),
        }
    }
}

/// Share of the advertised rate the client uses.
const SAFETY: f64 = 0.95;
/// Slowest rate the client takes, in requests per second (one an hour): Amazon's slowest
/// usage plans allow a call every few minutes, and a far slower rate would make a wait too
/// long to represent.
const MIN_RATE: f64 = 1.0 / 3600.0;

/// A rate the client can use: finite and positive, raised to [`MIN_RATE`]; None otherwise.
fn usable_rate(rate: f64) -> Option<f64> {
    (rate.is_finite() && rate > 0.0).then(|| rate.max(MIN_RATE))
}

/// Headroom kept in the bucket, in seconds of refill: requests sent evenly can reach Amazon
/// bunched up by network jitter, and Amazon's bucket must still hold a token for each.
const JITTER: f64 = 0.05;

/// Who gets an operation's tokens first when several flows share its usage plan (createFeed
/// carries both the listings feeds and the order feeds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Priority {
    /// Deadlines depend on it (cancellations, refunds, shipments, urgent stock).
    #[default]
    Normal,
    /// Bulk work: takes a token only while no normal call waits for one.
    Bulk,
}

#[derive(Debug)]
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
    /// Normal-priority callers waiting for a token.
    waiting: u32,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + dt * self.rate).min(self.burst);
        self.at = now;
    }
}

/// An operation's bucket as kept in the store: tokens left at a wall-clock time, and the rate
/// in use (the observed one, once Amazon has said it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SavedBucket {
    pub op: Operation,
    pub tokens: f64,
    pub rate: f64,
    /// Wall-clock time, milliseconds since 1970.
    pub at_ms: i64,
}

/// Where buckets are kept across processes (the store).
pub trait BucketStore: Send + Sync + std::fmt::Debug {
    /// Keeps one bucket's state; called after every change, so it must be cheap.
    fn save(&self, bucket: &SavedBucket);
}

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Buckets as `saved` left them, refilled for the wall-clock time since each was written (the
/// process is new, or the buckets were another's: a monotonic clock means nothing here).
fn buckets_from(saved: &[SavedBucket]) -> HashMap<Operation, Bucket> {
    let now = Instant::now();
    let wall = wall_ms();
    let mut map = HashMap::new();
    for s in saved {
        let (_, burst) = s.op.usage_plan();
        let burst = f64::from(burst);
        let Some(rate) = usable_rate(s.rate).filter(|_| s.tokens.is_finite()) else {
            continue;
        };
        let elapsed = (wall - s.at_ms).max(0) as f64 / 1000.0;
        map.insert(
            s.op,
            Bucket {
                rate,
                burst,
                tokens: (s.tokens.min(burst) + elapsed * rate).min(burst),
                at: now,
                waiting: 0,
            },
        );
    }
    map
}

/// Token buckets per operation.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<Operation, Bucket>>,
    /// Where each change is written, so a new process starts from what Amazon's buckets hold.
    store: Option<Arc<dyn BucketStore>>,
}

impl RateLimiter {
    /// A limiter that starts from `saved` (refilled for the wall-clock time since each was
    /// written: the process is new, so its monotonic clock means nothing) and writes every
    /// change to `store`.
    pub fn persistent(saved: &[SavedBucket], store: Arc<dyn BucketStore>) -> RateLimiter {
        RateLimiter {
            buckets: Mutex::new(buckets_from(saved)),
            store: Some(store),
        }
    }

    /// Starts again from `saved` (a process that takes over the sync from another starts from
    /// the buckets the other left in the shared store).
    pub fn reload(&self, saved: &[SavedBucket]) {
        *self.buckets.lock().unwrap_or_else(|p| p.into_inner()) = buckets_from(saved);
    }

    fn with_bucket<R>(&self, op: Operation, f: impl FnOnce(&mut Bucket) -> R) -> R {
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let b = map.entry(op).or_insert_with(|| {
            let (rate, burst) = op.usage_plan();
            Bucket {
                rate: rate * SAFETY,
                burst: f64::from(burst),
                tokens: f64::from(burst),
                at: now,
                waiting: 0,
            }
        });
        b.refill(now);
        let before = (b.tokens, b.rate);
        let r = f(b);
        if let Some(store) = &self.store {
            // Written under the lock, so the store never goes back to an older state. A
            // refill alone need not be written: the next process refills by the clock.
            if b.tokens < before.0 || b.rate != before.1 {
                store.save(&SavedBucket {
                    op,
                    tokens: b.tokens,
                    rate: b.rate,
                    at_ms: wall_ms(),
                });
            }
        }
        r
    }

    /// Takes a token now, or says how long to wait for one. Once the burst is spent, a little
    /// headroom (at most the burst less one token) stays in the bucket against jitter.
    pub fn try_acquire(&self, op: Operation) -> Result<(), Duration> {
        self.try_acquire_as(op, Priority::Normal)
    }

    /// Like `try_acquire`; a bulk caller is refused while a normal caller waits.
    pub fn try_acquire_as(&self, op: Operation, priority: Priority) -> Result<(), Duration> {
        self.with_bucket(op, |b| {
            let reserve = (b.rate * JITTER).min(b.burst - 1.0).max(0.0);
            let full = b.tokens >= b.burst - 1e-9;
            let yields = priority == Priority::Bulk && b.waiting > 0;
            if yields {
                Err(Duration::from_secs_f64((1.0 / b.rate).clamp(0.0005, 1.0)))
            } else if b.tokens >= 1.0 + reserve || (full && b.tokens >= 1.0) {
                b.tokens -= 1.0;
                Ok(())
            } else {
                let wait = (1.0 + reserve - b.tokens) / b.rate;
                Err(Duration::from_secs_f64(wait.max(0.0005)))
            }
        })
    }

    /// Waits until a token is available and takes it; bulk callers let normal ones go first.
    pub async fn acquire(&self, op: Operation, priority: Priority) {
        let Err(mut wait) = self.try_acquire_as(op, priority) else {
            return;
        };
        let _queued = (priority == Priority::Normal).then(|| Waiting::new(self, op));
        loop {
            tokio::time::sleep(wait).await;
            match self.try_acquire_as(op, priority) {
                Ok(()) => return,
                Err(w) => wait = w,
            }
        }
    }

    /// Adopts the rate Amazon reports in `x-amzn-RateLimit-Limit`.
    pub fn observe_limit(&self, op: Operation, rate: f64) {
        if let Some(rate) = usable_rate(rate * SAFETY) {
            self.with_bucket(op, |b| b.rate = rate);
        }
    }

    /// After a 429: the bucket is empty, whatever the client thought.
    pub fn throttled(&self, op: Operation) {
        self.with_bucket(op, |b| b.tokens = b.tokens.min(0.0));
    }
}

/// Counts a normal caller as waiting while it lives (also when its future is dropped).
struct Waiting<'a> {
    limiter: &'a RateLimiter,
    op: Operation,
}

impl<'a> Waiting<'a> {
    fn new(limiter: &'a RateLimiter, op: Operation) -> Self {
        limiter.with_bucket(op, |b| b.waiting += 1);
        Waiting { limiter, op }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.limiter
            .with_bucket(self.op, |b| b.waiting = b.waiting.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absurdly_slow_rate_waits_about_an_hour_a_token_at_most() {
        // Found by fuzzing: `x-amzn-RateLimit-Limit: 2e-31` made the wait overflow a Duration.
        let l = RateLimiter::default();
        l.observe_limit(Operation::GetFeed, 2e-31);
        let wait = loop {
            if let Err(wait) = l.try_acquire(Operation::GetFeed) {
                break wait;
            }
        };
        assert!(wait <= Duration::from_secs(3601), "{wait:?}");
        let saved = SavedBucket {
            op: Operation::GetFeed,
            tokens: 0.0,
            rate: 1e-300,
            at_ms: wall_ms(),
        };
        #[derive(Debug)]
        struct Nowhere;
        impl BucketStore for Nowhere {
            fn save(&self, _: &SavedBucket) {}
        }
        let l = RateLimiter::persistent(&[saved], Arc::new(Nowhere));
        let wait = l.try_acquire(Operation::GetFeed).unwrap_err();
        assert!(wait <= Duration::from_secs(3601), "{wait:?}");
    }

    #[test]
    fn notifications_operations_allow_one_a_second_burst_five_and_name_their_grant() {
        assert_eq!(Operation::NOTIFICATIONS[0], Operation::GetDestinations);
        assert_eq!(Operation::NOTIFICATIONS.len(), 7);
        for op in Operation::NOTIFICATIONS {
            assert_eq!(op.usage_plan(), (1.0, 5), "{op:?}");
        }
        let grantless: Vec<_> = Operation::NOTIFICATIONS
            .iter()
            .copied()
            .filter(|o| o.grantless_scope().is_some())
            .collect();
        assert_eq!(
            grantless,
            [
                Operation::GetDestinations,
                Operation::CreateDestination,
                Operation::DeleteDestination,
                Operation::GetSubscriptionById,
                Operation::DeleteSubscriptionById
            ]
        );
        assert_eq!(Operation::SearchOrders.grantless_scope(), None);
        assert_eq!(Operation::GetDestinations.model_name(), "getDestinations");
    }

    #[test]
    fn headroom_is_kept_once_the_burst_is_spent() {
        let l = RateLimiter::default();
        l.observe_limit(Operation::GetFeed, 100.0);
        // rate 95/s, burst 15: 50 ms of refill (4.75 tokens) stay as headroom.
        let mut taken = 0;
        while l.try_acquire(Operation::GetFeed).is_ok() {
            taken += 1;
        }
        assert!((9..=11).contains(&taken), "{taken}");
    }

    #[test]
    fn burst_then_wait_proportional_to_the_observed_rate() {
        let l = RateLimiter::default();
        // Burst 10 at 1.9/s, less the headroom (0.1 tokens) that keeps the last one back.
        let mut taken = 0;
        while l.try_acquire(Operation::ConfirmShipment).is_ok() {
            taken += 1;
        }
        assert_eq!(taken, 9);
        // After a 429 the bucket is empty: a full token at the documented rate, about 0.55 s.
        l.throttled(Operation::ConfirmShipment);
        let wait = l.try_acquire(Operation::ConfirmShipment).unwrap_err();
        assert!(
            wait > Duration::from_millis(400) && wait < Duration::from_millis(700),
            "{wait:?}"
        );
        // Amazon says the rate is 2000/s: the wait shrinks accordingly.
        l.observe_limit(Operation::ConfirmShipment, 2000.0);
        let wait = l.try_acquire(Operation::ConfirmShipment).unwrap_err();
        assert!(wait < Duration::from_millis(10), "{wait:?}");
    }

    #[derive(Debug, Default)]
    struct Saved(Mutex<Vec<SavedBucket>>);
    impl BucketStore for Saved {
        fn save(&self, b: &SavedBucket) {
            self.0.lock().unwrap().push(*b);
        }
    }

    #[test]
    fn a_new_limiter_starts_from_the_saved_buckets_refilled_by_the_wall_clock() {
        let store = Arc::new(Saved::default());
        let rate = 0.0056 * SAFETY;
        let saved = [
            // Spent just now: nothing to take.
            SavedBucket {
                op: Operation::SearchOrders,
                tokens: 0.0,
                rate,
                at_ms: wall_ms(),
            },
            // Spent ten minutes ago: about 3 tokens back (1 every ~188 s).
            SavedBucket {
                op: Operation::GetOrders,
                tokens: 0.0,
                rate,
                at_ms: wall_ms() - 600_000,
            },
        ];
        let l = RateLimiter::persistent(&saved, store.clone());
        assert!(l.try_acquire(Operation::SearchOrders).is_err());
        let mut taken = 0;
        while l.try_acquire(Operation::GetOrders).is_ok() {
            taken += 1;
        }
        assert_eq!(taken, 3);
        // Every token taken was written, the last one with what is left.
        let written = store.0.lock().unwrap();
        assert_eq!(written.len(), 3);
        let last = written.last().unwrap();
        assert_eq!(last.op, Operation::GetOrders);
        assert!(last.tokens < 1.0, "{last:?}");
        drop(written);
        // An operation never saved starts full.
        assert!(l.try_acquire(Operation::GetOrderItems).is_ok());
    }

    #[test]
    fn bulk_callers_wait_while_a_normal_caller_waits() {
        let l = RateLimiter::default();
        while l.try_acquire(Operation::CreateFeed).is_ok() {}
        assert!(l
            .try_acquire_as(Operation::CreateFeed, Priority::Bulk)
            .is_err());
        let waiting = Waiting::new(&l, Operation::CreateFeed);
        // Even a refilled bucket goes to the normal caller first.
        l.observe_limit(Operation::CreateFeed, 1000.0);
        std::thread::sleep(Duration::from_millis(20));
        assert!(l
            .try_acquire_as(Operation::CreateFeed, Priority::Bulk)
            .is_err());
        drop(waiting);
        assert!(l
            .try_acquire_as(Operation::CreateFeed, Priority::Bulk)
            .is_ok());
    }
}
