//! The crash host's journal, read back: its own record of what it took, acknowledged,
//! shipped, cancelled, refunded and set, in the order it happened (see `tests/c/crash_host.c`).

use std::collections::{HashMap, HashSet};
use std::path::Path;

/// One journal line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Start,
    Took {
        order: String,
        fba: bool,
    },
    Acked {
        order: String,
    },
    Ship {
        order: String,
        package: String,
    },
    ShipOk {
        order: String,
        package: String,
    },
    Set {
        item: String,
        on_hand: i64,
    },
    SetOk {
        item: String,
        on_hand: i64,
    },
    Cancel {
        order: String,
    },
    CancelOk {
        order: String,
    },
    Refund {
        order: String,
    },
    RefundOk {
        order: String,
    },
    /// An adjustment.failed event the host received.
    Failed {
        order: String,
    },
    Drained,
}

/// Parses the journal; a torn last line (a kill in the middle of a write) is left out.
pub fn read(path: &Path) -> Vec<Entry> {
    let text = std::fs::read_to_string(path).expect("journal readable");
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    complete
        .lines()
        .map(|line| parse(line).unwrap_or_else(|| panic!("journal line {line:?} is malformed")))
        .collect()
}

fn parse(line: &str) -> Option<Entry> {
    let w: Vec<&str> = line.split(' ').collect();
    let s = |i: usize| w.get(i).map(|s| s.to_string());
    let n = |i: usize| w.get(i)?.parse::<i64>().ok();
    Some(match w[0] {
        "start" => Entry::Start,
        "took" => Entry::Took {
            order: s(1)?,
            fba: s(3)? == "A",
        },
        "acked" => Entry::Acked { order: s(1)? },
        "ship" => Entry::Ship {
            order: s(1)?,
            package: s(2)?,
        },
        "shipok" => Entry::ShipOk {
            order: s(1)?,
            package: s(2)?,
        },
        "set" => Entry::Set {
            item: s(1)?,
            on_hand: n(2)?,
        },
        "setok" => Entry::SetOk {
            item: s(1)?,
            on_hand: n(2)?,
        },
        "cancel" => Entry::Cancel { order: s(1)? },
        "cancelok" => Entry::CancelOk { order: s(1)? },
        "refund" => Entry::Refund { order: s(1)? },
        "refundok" => Entry::RefundOk { order: s(1)? },
        "failed" => Entry::Failed { order: s(1)? },
        "drained" => Entry::Drained,
        _ => return None,
    })
}

/// What the journal says happened.
#[derive(Debug, Default)]
pub struct Summary {
    /// Orders booked (took), acknowledged or not.
    pub taken: HashSet<String>,
    /// Orders acknowledged (ack returned OK and journaled), with whether Amazon fulfils them.
    pub acked: HashMap<String, bool>,
    /// Orders handed out again after their acknowledgement was journaled.
    pub after_ack: Vec<String>,
    /// Hand-outs of an order already taken and not yet acknowledged (allowed).
    pub redelivered: u64,
    /// Orders whose package the library accepted (shipok).
    pub shipped: HashSet<String>,
    /// Orders the host cancelled or refunded (the call returned OK and was journaled).
    pub cancelled: HashSet<String>,
    pub refunded: HashSet<String>,
    /// Orders of adjustment.failed events.
    pub adjustments_failed: Vec<String>,
    /// Each item's last level set, and whether that call returned OK.
    pub last_level: HashMap<String, (i64, bool)>,
    /// Host processes started.
    pub starts: u64,
    /// The last run drained.
    pub drained: bool,
}

/// Walks the journal in order.
pub fn summarize(entries: &[Entry]) -> Summary {
    let mut s = Summary::default();
    let mut fba_of = HashMap::new();
    for e in entries {
        match e {
            Entry::Start => s.starts += 1,
            Entry::Took { order, fba } => {
                s.taken.insert(order.clone());
                if s.acked.contains_key(order) {
                    s.after_ack.push(order.clone());
                } else if fba_of.insert(order.clone(), *fba).is_some() {
                    s.redelivered += 1;
                }
            }
            Entry::Acked { order } => {
                let fba = fba_of
                    .get(order)
                    .copied()
                    .unwrap_or_else(|| panic!("order {order} acknowledged without being taken"));
                s.acked.insert(order.clone(), fba);
            }
            Entry::ShipOk { order, .. } => {
                s.shipped.insert(order.clone());
            }
            Entry::Set { item, on_hand } => {
                s.last_level.insert(item.clone(), (*on_hand, false));
            }
            Entry::SetOk { item, on_hand } => {
                if let Some(l) = s.last_level.get_mut(item).filter(|l| l.0 == *on_hand) {
                    l.1 = true;
                }
            }
            Entry::CancelOk { order } => {
                s.cancelled.insert(order.clone());
            }
            Entry::RefundOk { order } => {
                s.refunded.insert(order.clone());
            }
            Entry::Failed { order } => s.adjustments_failed.push(order.clone()),
            Entry::Ship { .. } | Entry::Cancel { .. } | Entry::Refund { .. } | Entry::Drained => {}
        }
    }
    s.drained = entries.last() == Some(&Entry::Drained);
    s
}

/// The journals of several tills sharing one seller account as one, and the failures of what
/// must hold across them: no order booked or acknowledged by two tills, no item set by two.
/// The whole drained when every till's last run did.
pub fn merge(tills: &[Summary]) -> (Summary, Vec<String>) {
    let mut all = Summary {
        drained: !tills.is_empty(),
        ..Summary::default()
    };
    let mut fails = Vec::new();
    let mut booked_by: HashMap<&str, usize> = HashMap::new();
    let mut set_by: HashMap<&str, usize> = HashMap::new();
    for (till, s) in tills.iter().enumerate() {
        for order in &s.taken {
            if let Some(other) = booked_by.insert(order, till) {
                fails.push(format!(
                    "order {order} was booked by till {other} and by till {till}"
                ));
            }
        }
        for (order, fba) in &s.acked {
            if all.acked.insert(order.clone(), *fba).is_some() {
                fails.push(format!(
                    "order {order} was acknowledged by more than one till"
                ));
            }
        }
        for item in s.last_level.keys() {
            if let Some(other) = set_by.insert(item, till) {
                fails.push(format!(
                    "item {item} was set by till {other} and by till {till}"
                ));
            }
        }
        all.taken.extend(s.taken.iter().cloned());
        all.after_ack.extend(s.after_ack.iter().cloned());
        all.redelivered += s.redelivered;
        all.shipped.extend(s.shipped.iter().cloned());
        all.cancelled.extend(s.cancelled.iter().cloned());
        all.refunded.extend(s.refunded.iter().cloned());
        all.adjustments_failed
            .extend(s.adjustments_failed.iter().cloned());
        all.last_level.extend(s.last_level.clone());
        all.starts += s.starts;
        all.drained &= s.drained;
    }
    (all, fails)
}
