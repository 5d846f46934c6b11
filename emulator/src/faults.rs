//! Faults injected for the next N calls of an operation.

use serde::{Deserialize, Serialize};

/// What goes wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this status and Amazon's error body for it, without processing the call.
    Status { status: u16 },
    /// Wait this many milliseconds, then process the call normally.
    Delay { ms: u64 },
    /// Process the call, then drop the connection before the response is complete.
    Drop,
    /// Process the call, then send only the first half of the body.
    Truncate,
    /// Process the call, then send a body that is not JSON.
    Malformed,
    /// Expire the caller's access token and answer 403 as Amazon does for an expired token.
    ExpiredToken,
    /// (createFeed) Accept the feed, then end its processing FATAL without applying anything.
    FeedFatal,
    /// (createFeed) Accept the feed and hold it `IN_PROGRESS` this many seconds (divided by the
    /// rate scale) beyond its processing time, holding up the seller's later feeds of its type,
    /// as Amazon sometimes does for hours or days (selling-partner-api-models #657, #4354,
    /// #2633).
    FeedStall { seconds: u64 },
    /// (createFeed) Process a `JSON_LISTINGS_FEED` as usual, but leave its first `messages`
    /// valid messages unapplied while its report counts them accepted, without an issue: the
    /// feed ends DONE with those SKUs unchanged (selling-partner-api-models #5327, 2026-07,
    /// Amazon staff).
    FeedUnapplied { messages: u32 },
    /// (patchListingsItem) Accept the patch (`ACCEPTED`, no issue) and never apply it, as an
    /// accepted submission on Amazon may end in an issue later ("Manage Listings Issues"); a
    /// later patch of the SKU that lands supersedes it.
    PatchUnapplied,
    /// (searchOrders, getOrders, getOrder2026) Serve each order of the page (or the one order)
    /// as it was before its last update (older last-update time and status), as a lagging
    /// replica would.
    StalePage,
    /// (searchOrders, getOrders) List the page's orders newest update first.
    OutOfOrder,
    /// (confirmShipment) Answer 400 with Amazon's "order already fulfilled"
    /// (`PackageToUpdateNotFound`) error without processing the call, as Amazon may answer a
    /// resend of a package it already has (selling-partner-api-models #5037).
    AlreadyFulfilled,
    /// Answer 503 with an HTML error page (`content-type: text/html`) instead of Amazon's JSON
    /// error, without processing the call, as Amazon's front end sometimes answers
    /// (selling-partner-api-models #4667, 2025-03).
    HtmlUnavailable,
    /// Process the call, then answer only after this many milliseconds (a client that times
    /// out has nonetheless had its call applied).
    LateAnswer { ms: u64 },
}

/// A fault for the next `count` calls of `operation` (a model operation name, `lwaToken`,
/// or `*` for any).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub operation: String,
    pub count: u32,
    #[serde(flatten)]
    pub kind: FaultKind,
}

/// Pending faults, first match wins.
#[derive(Debug, Default)]
pub struct Faults {
    pending: Vec<Fault>,
}

impl Faults {
    /// Adds a fault.
    pub fn add(&mut self, fault: Fault) {
        if fault.count > 0 {
            self.pending.push(fault);
        }
    }
    /// Removes every pending fault.
    pub fn clear(&mut self) {
        self.pending.clear();
    }
    /// Faults still pending.
    pub fn pending(&self) -> &[Fault] {
        &self.pending
    }
    /// Takes one use of the first fault matching `operation`.
    pub fn take(&mut self, operation: &str) -> Option<FaultKind> {
        let i = self
            .pending
            .iter()
            .position(|f| f.operation == operation || f.operation == "*")?;
        let f = &mut self.pending[i];
        f.count -= 1;
        let kind = f.kind.clone();
        if f.count == 0 {
            self.pending.remove(i);
        }
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_applies_exactly_count_times_to_its_operation() {
        let mut f = Faults::default();
        f.add(
            serde_json::from_str(
                r#"{"operation":"getOrders","count":2,"kind":"status","status":503}"#,
            )
            .unwrap(),
        );
        assert_eq!(f.take("searchOrders"), None);
        assert_eq!(f.take("getOrders"), Some(FaultKind::Status { status: 503 }));
        assert_eq!(f.take("getOrders"), Some(FaultKind::Status { status: 503 }));
        assert_eq!(f.take("getOrders"), None);
    }
}
