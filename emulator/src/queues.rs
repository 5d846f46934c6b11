//! The queues of the emulator's SQS: messages with their visibility timeouts and receive
//! counts, and receivers that wait (long polling) until a message arrives. Plain data plus
//! waiting; the SQS wire protocol is in [`crate::sqs`].
//!
//! Queues run on real time, as SQS does: visibility timeouts and long-poll waits are real
//! seconds whatever the emulated clock's speed.

use md5::{Digest, Md5};
use rand::Rng;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The AWS account the emulator's queues belong to, unless configured otherwise.
pub const DEFAULT_ACCOUNT: &str = "000000000000";
/// The AWS region in the emulator's queue ARNs.
pub const REGION: &str = "us-east-1";
/// SQS's default visibility timeout, in seconds.
pub const DEFAULT_VISIBILITY_S: u64 = 30;
/// SQS's largest visibility timeout (12 hours), in seconds.
pub const MAX_VISIBILITY_S: u64 = 43_200;
/// SQS's longest long-poll wait, in seconds.
pub const MAX_WAIT_S: u64 = 20;
/// Most messages one receive returns.
pub const MAX_RECEIVE: usize = 10;

/// A message in a queue.
#[derive(Clone, Debug)]
pub struct Message {
    /// SQS's message id (a UUID).
    pub message_id: String,
    /// The body as sent.
    pub body: String,
    /// Hex MD5 of the body.
    pub md5: String,
    /// The receipt handle of the latest receive (None before the first).
    pub receipt_handle: Option<String>,
    /// Invisible to receivers until this instant (after a receive).
    pub invisible_until: Option<Instant>,
    /// How many times the message was received.
    pub receive_count: u32,
    /// When it was sent (milliseconds since the Unix epoch, real time).
    pub sent_ms: i64,
    /// When it was first received (milliseconds since the Unix epoch, real time).
    pub first_receive_ms: Option<i64>,
}

impl Message {
    fn visible(&self, now: Instant) -> bool {
        self.invisible_until.is_none_or(|t| t <= now)
    }
}

/// One queue.
#[derive(Debug)]
pub struct Queue {
    /// The queue's name.
    pub name: String,
    /// Default visibility timeout in seconds.
    pub visibility_s: u64,
    /// When the queue was created (seconds since the Unix epoch).
    pub created_s: i64,
    messages: Mutex<VecDeque<Message>>,
    arrived: tokio::sync::Notify,
}

/// How many messages a queue holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Depth {
    /// Messages a receive could return now (`ApproximateNumberOfMessages`).
    pub visible: usize,
    /// Messages received and not yet deleted nor visible again
    /// (`ApproximateNumberOfMessagesNotVisible`).
    pub in_flight: usize,
}

/// What deleting by receipt handle did.
#[derive(Debug, PartialEq, Eq)]
pub enum Deleted {
    /// The message is gone.
    Deleted,
    /// The handle is well formed but not the latest of a message still in the queue (or the
    /// message is already gone): SQS answers success and keeps the message.
    Stale,
    /// The handle is not one SQS could have issued.
    Invalid,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Hex MD5 of a text (SQS's `MD5OfMessageBody`).
pub fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn random_hex(n: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// A random id in UUID form.
pub fn uuid() -> String {
    uuid_form(&random_hex(32))
}

/// 32 hex characters in UUID form (8-4-4-4-12).
pub fn uuid_form(h: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Length of the receipt handles the emulator issues (hex characters).
const HANDLE_LEN: usize = 64;

impl Queue {
    fn new(name: &str) -> Queue {
        Queue {
            name: name.to_string(),
            visibility_s: DEFAULT_VISIBILITY_S,
            created_s: chrono::Utc::now().timestamp(),
            messages: Mutex::new(VecDeque::new()),
            arrived: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Message>> {
        self.messages.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends a message and wakes the receivers waiting on the queue; returns its id.
    pub fn send(&self, body: &str) -> Message {
        let m = Message {
            message_id: uuid(),
            body: body.to_string(),
            md5: md5_hex(body),
            receipt_handle: None,
            invisible_until: None,
            receive_count: 0,
            sent_ms: now_ms(),
            first_receive_ms: None,
        };
        self.lock().push_back(m.clone());
        self.arrived.notify_waiters();
        m
    }

    /// Takes up to `max` visible messages, making each invisible for `visibility` and giving
    /// it a new receipt handle.
    pub fn take(&self, max: usize, visibility: Duration) -> Vec<Message> {
        let now = Instant::now();
        let mut out = Vec::new();
        for m in self.lock().iter_mut() {
            if out.len() >= max {
                break;
            }
            if m.visible(now) {
                m.invisible_until = Some(now + visibility);
                m.receive_count += 1;
                m.first_receive_ms.get_or_insert_with(now_ms);
                m.receipt_handle = Some(random_hex(HANDLE_LEN));
                out.push(m.clone());
            }
        }
        out
    }

    /// Receives up to `max` messages, waiting up to `wait` (real time) for one to become
    /// visible: woken by a send, or when an in-flight message's visibility timeout ends.
    pub async fn receive(&self, max: usize, visibility: Duration, wait: Duration) -> Vec<Message> {
        let deadline = Instant::now() + wait;
        loop {
            let arrived = self.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            let got = self.take(max, visibility);
            let now = Instant::now();
            if !got.is_empty() || now >= deadline {
                return got;
            }
            let next_visible = self
                .lock()
                .iter()
                .filter_map(|m| m.invisible_until)
                .filter(|t| *t > now)
                .min();
            let until = next_visible.map_or(deadline, |t| t.min(deadline));
            let _ = tokio::time::timeout(until - now, arrived).await;
        }
    }

    /// Deletes the message whose latest receipt handle is `handle`.
    pub fn delete(&self, handle: &str) -> Deleted {
        if handle.len() != HANDLE_LEN || !handle.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Deleted::Invalid;
        }
        let mut msgs = self.lock();
        match msgs
            .iter()
            .position(|m| m.receipt_handle.as_deref() == Some(handle))
        {
            Some(i) => {
                msgs.remove(i);
                Deleted::Deleted
            }
            None => Deleted::Stale,
        }
    }

    /// Sets the visibility timeout of the message received with `handle`, counted from now.
    /// False when no message in flight has that handle.
    pub fn change_visibility(&self, handle: &str, visibility: Duration) -> bool {
        let now = Instant::now();
        let changed = self
            .lock()
            .iter_mut()
            .find(|m| m.receipt_handle.as_deref() == Some(handle) && !m.visible(now))
            .map(|m| m.invisible_until = Some(now + visibility))
            .is_some();
        if changed {
            self.arrived.notify_waiters();
        }
        changed
    }

    /// Deletes every message.
    pub fn purge(&self) {
        self.lock().clear();
    }

    /// How many messages are visible and in flight.
    pub fn depth(&self) -> Depth {
        let now = Instant::now();
        let msgs = self.lock();
        let visible = msgs.iter().filter(|m| m.visible(now)).count();
        Depth {
            visible,
            in_flight: msgs.len() - visible,
        }
    }
}

/// Every queue of the emulator's one AWS account, and the switch that takes SQS down.
#[derive(Debug)]
pub struct Queues {
    /// The account id in queue URLs and ARNs.
    pub account: String,
    /// Base URL of queue URLs (the emulator's own).
    pub base_url: String,
    map: Mutex<BTreeMap<String, Arc<Queue>>>,
    down: AtomicBool,
}

/// True for a valid SQS queue name: 1 to 80 letters, digits, `-` and `_` (`.fifo` is not
/// emulated).
pub fn valid_name(name: &str) -> bool {
    (1..=80).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Queues {
    /// No queues yet, in `account`, with URLs under `base_url`.
    pub fn new(account: &str, base_url: &str) -> Queues {
        Queues {
            account: account.to_string(),
            base_url: base_url.to_string(),
            map: Mutex::new(BTreeMap::new()),
            down: AtomicBool::new(false),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Arc<Queue>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates a queue (an existing one is returned as it is).
    pub fn create(&self, name: &str) -> Result<Arc<Queue>, String> {
        if !valid_name(name) {
            return Err(format!(
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length: {name}"
            ));
        }
        Ok(self
            .map()
            .entry(name.to_string())
            .or_insert_with(|| Arc::new(Queue::new(name)))
            .clone())
    }

    /// The queue named `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Queue>> {
        self.map().get(name).cloned()
    }

    /// The names of every queue starting with `prefix`.
    pub fn names(&self, prefix: &str) -> Vec<String> {
        self.map()
            .keys()
            .filter(|n| n.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// The queue's URL: `{base_url}/{account}/{name}`.
    pub fn url(&self, name: &str) -> String {
        format!("{}/{}/{name}", self.base_url, self.account)
    }

    /// The queue's ARN: `arn:aws:sqs:{region}:{account}:{name}`.
    pub fn arn(&self, name: &str) -> String {
        format!("arn:aws:sqs:{REGION}:{}:{name}", self.account)
    }

    /// The queue a URL names (its last path segment, under this account).
    pub fn by_url(&self, url: &str) -> Option<Arc<Queue>> {
        let path = url
            .split("://")
            .nth(1)
            .map_or(url, |rest| rest.find('/').map_or("", |i| &rest[i..]));
        let mut segs = path.trim_matches('/').split('/');
        match (segs.next(), segs.next(), segs.next()) {
            (Some(account), Some(name), None) if account == self.account => self.get(name),
            _ => None,
        }
    }

    /// The queue an ARN names, when it is one of this account's.
    pub fn by_arn(&self, arn: &str) -> Option<Arc<Queue>> {
        let parts: Vec<&str> = arn.split(':').collect();
        match parts.as_slice() {
            ["arn", "aws", "sqs", region, account, name]
                if *region == REGION && *account == self.account =>
            {
                self.get(name)
            }
            _ => None,
        }
    }

    /// Takes SQS down (every request answers 503) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Whether SQS is down.
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_the_known_digest() {
        assert_eq!(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex("hello"), "5d41402abc4b2a76b9719d911017c592");
    }

    #[test]
    fn a_received_message_is_invisible_until_its_timeout_then_redelivered() {
        let q = Queue::new("q");
        q.send("a");
        let got = q.take(10, Duration::from_millis(30));
        assert_eq!(got.len(), 1);
        assert!(q.take(10, Duration::from_secs(30)).is_empty());
        assert_eq!(
            q.depth(),
            Depth {
                visible: 0,
                in_flight: 1
            }
        );
        std::thread::sleep(Duration::from_millis(40));
        let again = q.take(10, Duration::from_secs(30));
        assert_eq!(again[0].receive_count, 2);
        let old = got[0].receipt_handle.clone().unwrap();
        assert_eq!(
            q.delete(&old),
            Deleted::Stale,
            "an old handle deletes nothing"
        );
        assert_eq!(q.delete("nonsense"), Deleted::Invalid);
        let new = again[0].receipt_handle.clone().unwrap();
        assert_eq!(q.delete(&new), Deleted::Deleted);
        assert_eq!(
            q.depth(),
            Depth {
                visible: 0,
                in_flight: 0
            }
        );
    }

    #[test]
    fn urls_and_arns_name_the_queue() {
        let qs = Queues::new(DEFAULT_ACCOUNT, "http://127.0.0.1:1");
        qs.create("n").unwrap();
        assert!(qs.create("bad name").is_err());
        assert_eq!(qs.url("n"), "http://127.0.0.1:1/000000000000/n");
        assert!(qs.by_url(&qs.url("n")).is_some());
        assert!(qs.by_arn(&qs.arn("n")).is_some());
        assert!(qs.by_arn("arn:aws:sqs:us-east-1:111111111111:n").is_none());
    }
}
