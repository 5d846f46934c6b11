//! The orders as Amazon's searches (`getOrders`, `searchOrders`) see them. Amazon's searches
//! run on an index that takes in an order's changes late: usually within a minute or two,
//! sometimes hours late (jlevers/selling-partner-api #763, 2024; selling-partner-api-docs
//! #2131), while `getOrder` finds the order by id at once (selling-partner-api-models #3945,
//! 2024-06). Each version of an order (its creation and every change that moves its
//! LastUpdateDate) becomes visible to searches at its own time; until then a search shows the
//! order as it was at its newest visible version, or not at all if none is visible yet.

use crate::world::Order;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Versions of orders by when the searches see them.
#[derive(Debug, Default)]
pub struct SearchIndex {
    /// Per order, the newest version visible to searches.
    visible: HashMap<String, Order>,
    /// (last update, order id) of the visible versions.
    by_update: BTreeSet<(DateTime<Utc>, String)>,
    /// (creation, order id) of the visible versions.
    by_creation: BTreeSet<(DateTime<Utc>, String)>,
    /// Versions not visible yet, by (when they become visible, arrival).
    due: BTreeMap<(DateTime<Utc>, u64), Order>,
    arrivals: u64,
}

impl SearchIndex {
    /// Takes in a version of an order that the searches see from `at` on.
    pub fn offer(&mut self, order: &Order, at: DateTime<Utc>) {
        self.arrivals += 1;
        self.due.insert((at, self.arrivals), order.clone());
    }

    /// Makes visible the versions due by `now`. A version older than the one visible (its
    /// change reached the index after a later one) is dropped: the index keeps the newest.
    pub fn catch_up(&mut self, now: DateTime<Utc>) {
        while let Some(entry) = self.due.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let order = entry.remove();
            let id = order.order_id.clone();
            if let Some(old) = self.visible.get(&id) {
                if old.last_updated > order.last_updated {
                    continue;
                }
                self.by_update.remove(&(old.last_updated, id.clone()));
                self.by_creation.remove(&(old.created, id.clone()));
            }
            self.by_update.insert((order.last_updated, id.clone()));
            self.by_creation.insert((order.created, id.clone()));
            self.visible.insert(id, order);
        }
    }

    /// The version of an order the searches see.
    pub fn get(&self, order_id: &str) -> Option<&Order> {
        self.visible.get(order_id)
    }

    /// (last update, order id) of every visible order, for searches by update.
    pub fn by_update(&self) -> &BTreeSet<(DateTime<Utc>, String)> {
        &self.by_update
    }

    /// (creation, order id) of every visible order, for searches by creation.
    pub fn by_creation(&self) -> &BTreeSet<(DateTime<Utc>, String)> {
        &self.by_creation
    }

    /// How many versions the searches do not see yet.
    pub fn behind(&self) -> usize {
        self.due.len()
    }
}
