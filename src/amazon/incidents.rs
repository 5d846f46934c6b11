//! What went wrong with Amazon during one run of a flow: each fault a call met (a throttle, a
//! 5xx, a timeout, a dropped or unreadable answer, a refused token, an LWA outage, a feed that
//! ended FATAL) and what the library does about it. The engine runs each flow inside
//! [`collect`] and turns the record into events; outside it, recording does nothing.

use std::cell::RefCell;
use std::future::Future;

/// The kind of fault a call met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// 429: Amazon's usage plan was exhausted.
    Throttled,
    /// 500, 502, 503 or 504.
    ServerError,
    /// No complete answer within `http.timeout_ms`.
    Timeout,
    /// The connection was refused or dropped, or the answer cut off.
    Connection,
    /// An answer that is not the JSON Amazon sends (truncated or garbled).
    UnreadableAnswer,
    /// Amazon refused the access token (expired or revoked).
    TokenExpired,
    /// Login with Amazon could not give an access token (unreachable, 429, 5xx, unreadable).
    LwaUnavailable,
    /// A feed ended FATAL or CANCELLED without applying anything.
    FeedFatal,
}

impl Fault {
    /// The name used in events.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Throttled => "throttled",
            Fault::ServerError => "server_error",
            Fault::Timeout => "timeout",
            Fault::Connection => "connection",
            Fault::UnreadableAnswer => "unreadable_answer",
            Fault::TokenExpired => "token_expired",
            Fault::LwaUnavailable => "lwa_unavailable",
            Fault::FeedFatal => "feed_fatal",
        }
    }

    /// Whether the fault means Amazon cannot be reached (rather than a refusal of the call).
    pub fn unreachable(self) -> bool {
        matches!(
            self,
            Fault::ServerError
                | Fault::Timeout
                | Fault::Connection
                | Fault::UnreadableAnswer
                | Fault::LwaUnavailable
        )
    }
}

/// What the library does after a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Next {
    /// Sends the call again after a backoff.
    Retry,
    /// The call may have taken effect: Amazon's state is read before it is sent again.
    ReadBack,
    /// Gets a new token and sends the call again.
    RefreshToken,
    /// Sends the content again (a feed that applied nothing).
    Resend,
    /// Gives up for this run; the work stays queued and the flow's next run tries again.
    NextRun,
}

impl Next {
    /// The name used in events.
    pub fn name(self) -> &'static str {
        match self {
            Next::Retry => "retry",
            Next::ReadBack => "read_back",
            Next::RefreshToken => "refresh_token",
            Next::Resend => "resend",
            Next::NextRun => "next_run",
        }
    }
}

/// One fault met by one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incident {
    /// Amazon's name of the operation (`searchOrders`, `lwaToken`, ...).
    pub operation: String,
    pub fault: Fault,
    /// The HTTP status of the answer, when there was one.
    pub http_status: Option<u16>,
    pub next: Next,
    /// The error, as in the log (never a secret).
    pub message: String,
}

/// Everything recorded during one run.
#[derive(Debug, Default)]
pub struct Record {
    pub incidents: Vec<Incident>,
    /// Calls Amazon answered with success.
    pub successes: u64,
}

tokio::task_local! {
    static RECORD: RefCell<Record>;
}

/// Runs `f`, recording what its calls to Amazon met.
pub async fn collect<F: Future>(f: F) -> (F::Output, Record) {
    RECORD
        .scope(RefCell::new(Record::default()), async move {
            let out = f.await;
            (out, RECORD.with(|r| r.take()))
        })
        .await
}

/// Records a fault (inside [`collect`]).
pub fn record(incident: Incident) {
    let _ = RECORD.try_with(|r| r.borrow_mut().incidents.push(incident));
}

/// Records a call Amazon answered with success (inside [`collect`]).
pub fn success() {
    let _ = RECORD.try_with(|r| r.borrow_mut().successes += 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_record_holds_what_its_own_run_met_and_nothing_outside_it() {
        record(Incident {
            operation: "outside".into(),
            fault: Fault::Timeout,
            http_status: None,
            next: Next::Retry,
            message: String::new(),
        });
        let ((), r) = collect(async {
            success();
            record(Incident {
                operation: "searchOrders".into(),
                fault: Fault::ServerError,
                http_status: Some(503),
                next: Next::Retry,
                message: "503".into(),
            });
        })
        .await;
        assert_eq!(r.successes, 1);
        assert_eq!(r.incidents.len(), 1);
        assert_eq!(r.incidents[0].operation, "searchOrders");
    }
}
