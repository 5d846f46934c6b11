//! The shop's events, drawn up front from the seed so every policy meets the same customers.

use crate::profile::Profile;
use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// What happens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event {
    /// An Amazon buyer wants `qty` units of a SKU.
    Amazon { sku: usize, qty: i64 },
    /// A customer in the shop wants one unit.
    Store { sku: usize },
    /// A supplier delivers units.
    Restock { sku: usize, qty: i64 },
}

/// An event at `at` seconds after the start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scheduled {
    pub at: f64,
    pub event: Event,
}

/// The whole run: the shelf at the start and every event in time order.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pub initial: Vec<i64>,
    pub events: Vec<Scheduled>,
}

impl Schedule {
    /// Number of Amazon buyers, store customers and deliveries.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for e in &self.events {
            match e.event {
                Event::Amazon { .. } => c.0 += 1,
                Event::Store { .. } => c.1 += 1,
                Event::Restock { .. } => c.2 += 1,
            }
        }
        c
    }
}

/// Hour of the day (0-23) of a second after the start.
pub fn hour_of_day(p: &Profile, at: f64) -> u32 {
    ((p.start_hour as f64 + at / 3600.0).floor() as i64).rem_euclid(24) as u32
}

/// Whether the shop is open `at` seconds after the start.
pub fn is_open(p: &Profile, at: f64) -> bool {
    p.opening.is_open_hour(hour_of_day(p, at))
}

/// The next moment at or after `at` when the shop is open.
pub fn next_open(p: &Profile, at: f64) -> f64 {
    if is_open(p, at) {
        return at;
    }
    let abs_hours = p.start_hour as f64 + at / 3600.0;
    let day_start = (abs_hours / 24.0).floor() * 24.0;
    let mut open = day_start + p.opening.open_hour as f64;
    if open < abs_hours {
        open += 24.0;
    }
    (open - p.start_hour as f64) * 3600.0
}

/// Normalised hourly shares; `open_only` drops the closed hours.
fn shares(curve: &[f64], p: &Profile, open_only: bool) -> [f64; 24] {
    let mut s = [0.0; 24];
    for (h, v) in s.iter_mut().enumerate() {
        let base = if curve.len() == 24 { curve[h] } else { 1.0 };
        *v = if open_only && !p.opening.is_open_hour(h as u32) {
            0.0
        } else {
            base
        };
    }
    let total: f64 = s.iter().sum();
    if total > 0.0 {
        for v in &mut s {
            *v /= total;
        }
    }
    s
}

/// Arrival times of a Poisson process whose rate per hour follows `per_hour[hour of day]`.
fn arrivals(rng: &mut StdRng, p: &Profile, per_hour: &[f64; 24]) -> Vec<f64> {
    let end = p.hours * 3600.0;
    let mut out = Vec::new();
    let mut hour_start = 0.0;
    while hour_start < end {
        let rate = per_hour[hour_of_day(p, hour_start) as usize] / 3600.0;
        let hour_end = (hour_start + 3600.0).min(end);
        if rate > 0.0 {
            let mut t = hour_start;
            loop {
                let u: f64 = rng.gen_range(f64::MIN_POSITIVE..1.0);
                t += -u.ln() / rate;
                if t >= hour_end {
                    break;
                }
                out.push(t);
            }
        }
        hour_start += 3600.0;
    }
    out
}

/// Draws the schedule of a profile from `seed`.
pub fn generate(p: &Profile, seed: u64) -> Schedule {
    let mut rng = StdRng::seed_from_u64(seed);
    let n = p.skus.count;
    let initial: Vec<i64> = (0..n)
        .map(|_| rng.gen_range(p.skus.units_min..=p.skus.units_max))
        .collect();
    // Popularity by a shuffled rank, so SKU numbers say nothing about sales.
    let mut ranks: Vec<usize> = (1..=n).collect();
    ranks.shuffle(&mut rng);
    let weights: Vec<f64> = ranks
        .iter()
        .map(|r| 1.0 / (*r as f64).powf(p.skus.popularity_skew))
        .collect();
    let pick = WeightedIndex::new(&weights).expect("positive weights");
    let qty_shares = if p.amazon.quantity_shares.is_empty() {
        vec![1.0]
    } else {
        p.amazon.quantity_shares.clone()
    };
    let pick_qty = WeightedIndex::new(&qty_shares).expect("quantity shares");

    let amazon_rate = shares(&p.amazon.curve, p, false).map(|s| s * p.amazon.orders_per_day);
    let store_rate = shares(&p.store.curve, p, true).map(|s| s * p.store.sales_per_day);
    let mut demand: Vec<Scheduled> = Vec::new();
    for at in arrivals(&mut rng, p, &amazon_rate) {
        let sku = pick.sample(&mut rng);
        let qty = pick_qty.sample(&mut rng) as i64 + 1;
        demand.push(Scheduled {
            at,
            event: Event::Amazon { sku, qty },
        });
    }
    for at in arrivals(&mut rng, p, &store_rate) {
        let sku = pick.sample(&mut rng);
        demand.push(Scheduled {
            at,
            event: Event::Store { sku },
        });
    }
    demand.sort_by(|a, b| a.at.total_cmp(&b.at));

    // Restock deliveries follow a reference shelf that every demand reduces, so they are the
    // same for every policy.
    let end = p.hours * 3600.0;
    let mut reference = initial.clone();
    let mut on_order = vec![false; n];
    let mut deliveries: Vec<Scheduled> = Vec::new();
    let mut pending: Vec<(f64, usize, i64)> = Vec::new();
    let reviews = review_times(p);
    let mut r = 0;
    let mut i = 0;
    loop {
        let next_review = reviews.get(r).copied().unwrap_or(f64::INFINITY);
        let next_demand = demand.get(i).map_or(f64::INFINITY, |d| d.at);
        let t = next_review.min(next_demand);
        if t >= end {
            break;
        }
        pending.retain(|(at, sku, qty)| {
            if *at <= t {
                reference[*sku] += qty;
                on_order[*sku] = false;
                false
            } else {
                true
            }
        });
        if next_review <= next_demand {
            r += 1;
            for sku in 0..n {
                if !on_order[sku] && reference[sku] <= p.restock.reorder_point {
                    let qty = p.restock.order_up_to - reference[sku];
                    if qty > 0 {
                        let at = next_open(p, t + p.restock.lead_time_hours * 3600.0);
                        on_order[sku] = true;
                        pending.push((at, sku, qty));
                        if at < end {
                            deliveries.push(Scheduled {
                                at,
                                event: Event::Restock { sku, qty },
                            });
                        }
                    }
                }
            }
        } else {
            match demand[i].event {
                Event::Amazon { sku, qty } => {
                    if reference[sku] >= qty {
                        reference[sku] -= qty;
                    }
                }
                Event::Store { sku } => {
                    if reference[sku] >= 1 {
                        reference[sku] -= 1;
                    }
                }
                Event::Restock { .. } => {}
            }
            i += 1;
        }
    }
    let mut events = demand;
    events.extend(deliveries);
    events.sort_by(|a, b| a.at.total_cmp(&b.at));
    Schedule { initial, events }
}

/// Stock reviews: at each opening, then every `review_every_minutes` while open.
fn review_times(p: &Profile) -> Vec<f64> {
    let end = p.hours * 3600.0;
    let every = p.restock.review_every_minutes * 60.0;
    let mut out = Vec::new();
    let mut open = next_open(p, 0.0);
    while open < end {
        let abs_hours = p.start_hour as f64 + open / 3600.0;
        let day_start = (abs_hours / 24.0).floor() * 24.0;
        let close = (day_start + p.opening.close_hour as f64 - p.start_hour as f64) * 3600.0;
        let mut t = open;
        while t < close.min(end) {
            out.push(t);
            t += every;
        }
        open = next_open(p, close);
    }
    out
}
