//! The shop's own books: the shelf, the Amazon orders it knows of, and what became of each.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

/// Where an Amazon order stands from the shop's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Placed on Amazon, not booked by the shop yet.
    Open,
    /// Booked: its units are off the shelf, waiting to be packed from `ready`.
    Booked { ready: DateTime<Utc> },
    /// Being packed until `done`.
    Packing { done: DateTime<Utc> },
    /// Packed and handed to the carrier at `at` (the policy tells Amazon, now or later).
    Shipped { at: DateTime<Utc> },
    /// The seller cancelled it: the shelf could not fill it when it was booked.
    Cancelled { at: DateTime<Utc> },
}

/// One Amazon order as the shop saw it.
#[derive(Clone, Debug)]
pub struct OrderRec {
    pub order_id: String,
    pub order_item_id: String,
    pub sku: usize,
    pub qty: i64,
    pub placed: DateTime<Utc>,
    /// When payment was authorised (the order turns Unshipped).
    pub unshipped_at: DateTime<Utc>,
    pub latest_ship: DateTime<Utc>,
    /// The shop's free units (shelf minus units of earlier Amazon orders not yet booked)
    /// covered the order when it was placed.
    pub fillable: bool,
    /// What Amazon showed for the SKU when the order was placed.
    pub shown: i64,
    /// The shop's free units when the order was placed.
    pub free: i64,
    /// Amazon had accepted a quantity too low for the order and not applied it yet (its
    /// landing delay): the connector had told Amazon in time.
    pub amazon_late: bool,
    pub state: State,
    /// Shipped and the confirmation handed to Amazon (or its connector).
    pub confirmed: bool,
}

/// A seller cancellation, for the report.
#[derive(Clone, Copy, Debug)]
pub struct Cancellation {
    /// Hours after the start.
    pub hours: f64,
    /// Amazon showed units the shop no longer had, and no value the connector sent had told it
    /// otherwise (a late or wrong push).
    pub connector_fault: bool,
    /// Amazon showed units the shop no longer had because it had not applied yet the lower
    /// value the connector sent before the order.
    pub amazon_late: bool,
    /// The order (index into `Shop::orders`).
    pub order: usize,
}

/// The shop.
#[derive(Debug)]
pub struct Shop {
    pub start: DateTime<Utc>,
    pub initial: Vec<i64>,
    pub shelf: Vec<i64>,
    /// Units sold in the store and delivered, per SKU (for the ledger check).
    pub store_sold: Vec<i64>,
    pub delivered: Vec<i64>,
    /// Units of Amazon orders placed and not yet booked or cancelled, per SKU.
    pub unbooked: Vec<i64>,
    pub orders: Vec<OrderRec>,
    pub by_id: HashMap<String, usize>,
    /// SKUs whose shelf changed since a policy last looked.
    pub changed: Vec<usize>,
    pub store_sales: u64,
    pub store_lost: u64,
    pub amazon_lost: u64,
    pub restocked_units: i64,
    pub cancellations: Vec<Cancellation>,
    /// Bookings that found fewer units on the shelf than they took (must stay 0).
    pub overbooked: u64,
    /// Packers, each free from this time.
    pub packers: Vec<DateTime<Utc>>,
    pub handling: Duration,
    pub pack_time: Duration,
}

/// What booking an order came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Booking {
    Booked,
    /// The shelf cannot fill it: the seller must cancel it on Amazon.
    MustCancel,
    /// Not open any more (already booked, cancelled or shipped).
    AlreadyDone,
}

impl Shop {
    pub fn new(
        start: DateTime<Utc>,
        initial: &[i64],
        packers: u32,
        handling_minutes: f64,
        pack_minutes: f64,
    ) -> Shop {
        Shop {
            start,
            initial: initial.to_vec(),
            shelf: initial.to_vec(),
            store_sold: vec![0; initial.len()],
            delivered: vec![0; initial.len()],
            unbooked: vec![0; initial.len()],
            orders: Vec::new(),
            by_id: HashMap::new(),
            changed: Vec::new(),
            store_sales: 0,
            store_lost: 0,
            amazon_lost: 0,
            restocked_units: 0,
            cancellations: Vec::new(),
            overbooked: 0,
            packers: vec![start; packers as usize],
            handling: minutes(handling_minutes),
            pack_time: minutes(pack_minutes),
        }
    }

    /// Hours since the start.
    pub fn hours(&self, now: DateTime<Utc>) -> f64 {
        (now - self.start).num_milliseconds() as f64 / 3_600_000.0
    }

    /// Units of a SKU the shop has not promised to anyone.
    pub fn free(&self, sku: usize) -> i64 {
        self.shelf[sku] - self.unbooked[sku]
    }

    /// A customer in the shop takes one unit, if there is one.
    pub fn store_sale(&mut self, sku: usize) -> bool {
        if self.shelf[sku] >= 1 {
            self.shelf[sku] -= 1;
            self.store_sold[sku] += 1;
            self.store_sales += 1;
            self.changed.push(sku);
            true
        } else {
            self.store_lost += 1;
            false
        }
    }

    /// A delivery arrives.
    pub fn restock(&mut self, sku: usize, qty: i64) {
        self.shelf[sku] += qty;
        self.delivered[sku] += qty;
        self.restocked_units += qty;
        self.changed.push(sku);
    }

    /// Records an order Amazon took (before the units are counted as promised).
    #[allow(clippy::too_many_arguments)]
    pub fn add_order(
        &mut self,
        order_id: String,
        order_item_id: String,
        sku: usize,
        qty: i64,
        placed: DateTime<Utc>,
        unshipped_at: DateTime<Utc>,
        latest_ship: DateTime<Utc>,
        shown: i64,
        accepted: Option<i64>,
    ) {
        let free = self.free(sku);
        self.unbooked[sku] += qty;
        self.by_id.insert(order_id.clone(), self.orders.len());
        self.orders.push(OrderRec {
            order_id,
            order_item_id,
            sku,
            qty,
            placed,
            unshipped_at,
            latest_ship,
            fillable: free >= qty,
            shown,
            free,
            amazon_late: accepted.is_some_and(|q| q < qty),
            state: State::Open,
            confirmed: false,
        });
    }

    /// The shop books order `i`: takes its units off the shelf, or finds it cannot.
    pub fn book(&mut self, i: usize, now: DateTime<Utc>) -> Booking {
        let (sku, qty) = (self.orders[i].sku, self.orders[i].qty);
        if self.orders[i].state != State::Open {
            return Booking::AlreadyDone;
        }
        self.unbooked[sku] -= qty;
        self.changed.push(sku);
        if self.shelf[sku] >= qty {
            self.shelf[sku] -= qty;
            if self.shelf[sku] < 0 {
                self.overbooked += 1;
            }
            self.orders[i].state = State::Booked {
                ready: now + self.handling,
            };
            Booking::Booked
        } else {
            self.orders[i].state = State::Cancelled { at: now };
            let hours = self.hours(now);
            self.cancellations.push(Cancellation {
                hours,
                connector_fault: !self.orders[i].fillable && !self.orders[i].amazon_late,
                amazon_late: !self.orders[i].fillable && self.orders[i].amazon_late,
                order: i,
            });
            Booking::MustCancel
        }
    }

    /// Orders that turned Unshipped by `now` and are not booked yet, oldest first, from `from`.
    pub fn visible_open(&self, from: usize, now: DateTime<Utc>, age: Duration) -> Vec<usize> {
        (from..self.orders.len())
            .filter(|&i| {
                let o = &self.orders[i];
                o.state == State::Open && o.unshipped_at + age <= now
            })
            .collect()
    }

    /// Packing within opening hours: starts booked orders that are ready on free packers and
    /// returns the orders whose packing finished (now shipped, not yet confirmed).
    pub fn pack(&mut self, now: DateTime<Utc>, open: bool) -> Vec<usize> {
        let mut done = Vec::new();
        for (i, o) in self.orders.iter_mut().enumerate() {
            if let State::Packing { done: at } = o.state {
                if at <= now {
                    o.state = State::Shipped { at };
                    done.push(i);
                }
            }
        }
        if open {
            let mut ready: Vec<(DateTime<Utc>, usize)> = self
                .orders
                .iter()
                .enumerate()
                .filter_map(|(i, o)| match o.state {
                    State::Booked { ready } if ready <= now => Some((ready, i)),
                    _ => None,
                })
                .collect();
            ready.sort();
            let mut ready = ready.into_iter();
            for p in 0..self.packers.len() {
                if self.packers[p] > now {
                    continue;
                }
                let Some((_, i)) = ready.next() else { break };
                let finish = now + self.pack_time;
                self.packers[p] = finish;
                self.orders[i].state = State::Packing { done: finish };
            }
        }
        done
    }
}

impl Shop {
    /// SKUs whose shelf is negative or does not match the start plus deliveries minus store
    /// sales minus booked Amazon units (0 when the books are right).
    pub fn ledger_errors(&self) -> u64 {
        let mut booked = vec![0; self.shelf.len()];
        for o in &self.orders {
            if matches!(
                o.state,
                State::Booked { .. } | State::Packing { .. } | State::Shipped { .. }
            ) {
                booked[o.sku] += o.qty;
            }
        }
        (0..self.shelf.len())
            .filter(|&i| {
                self.shelf[i] < 0
                    || self.initial[i] + self.delivered[i] - self.store_sold[i] - booked[i]
                        != self.shelf[i]
            })
            .count() as u64
    }
}

/// A duration of fractional minutes.
pub fn minutes(m: f64) -> Duration {
    Duration::milliseconds((m * 60_000.0) as i64)
}
