//! A shop profile: the figures of one shop, read from a JSON file.

use serde::{Deserialize, Serialize};

/// Everything the simulation needs to know about a shop.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Short name, shown in the report.
    pub name: String,
    /// One line about the shop.
    #[serde(default)]
    pub description: String,
    /// Simulated duration in hours.
    pub hours: f64,
    /// Hour of the day (UTC, 0-23) at which the simulation starts.
    #[serde(default)]
    pub start_hour: u32,
    /// Default speed-up against real time (emulated clock and Amazon's usage plans).
    #[serde(default = "default_speed")]
    pub speed: f64,
    /// The shop's opening hours (store sales, packing, staff work).
    pub opening: Opening,
    pub skus: Skus,
    pub restock: Restock,
    pub store: Store,
    pub amazon: Amazon,
    pub packing: Packing,
    #[serde(default)]
    pub manual: Manual,
    #[serde(default)]
    pub csv: Csv,
}

fn default_speed() -> f64 {
    720.0
}

/// Opening hours, the same every day: `open_hour <= hour < close_hour` (UTC).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opening {
    pub open_hour: u32,
    pub close_hour: u32,
}

impl Opening {
    /// Whether the shop is open at `hour` (0-23).
    pub fn is_open_hour(&self, hour: u32) -> bool {
        hour >= self.open_hour && hour < self.close_hour
    }
}

/// The assortment.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skus {
    /// Number of SKUs (each one host item, one Amazon listing).
    pub count: usize,
    /// Units on hand at the start, drawn uniformly from `units_min..=units_max`.
    pub units_min: i64,
    pub units_max: i64,
    /// Popularity: SKU of rank r sells in proportion to 1 / r^skew (0 = all alike).
    #[serde(default)]
    pub popularity_skew: f64,
}

/// Restocking: at each review, a SKU at or below `reorder_point` is ordered up to
/// `order_up_to`; the delivery arrives `lead_time_hours` later (within opening hours).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restock {
    pub reorder_point: i64,
    pub order_up_to: i64,
    pub lead_time_hours: f64,
    /// Reviews happen at opening and then every this many minutes while open (1440: once a day).
    #[serde(default = "default_review")]
    pub review_every_minutes: f64,
}

fn default_review() -> f64 {
    1440.0
}

/// Sales in the shop itself (only within opening hours, one unit each).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Store {
    pub sales_per_day: f64,
    /// Share of the day's sales per hour (24 values; closed hours are ignored). Default: even.
    #[serde(default)]
    pub curve: Vec<f64>,
}

/// Amazon buyers (around the clock).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amazon {
    pub orders_per_day: f64,
    /// Share of the day's orders per hour (24 values). Default: even.
    #[serde(default)]
    pub curve: Vec<f64>,
    /// Share of orders for 1, 2, 3, ... units. Default: all single units.
    #[serde(default)]
    pub quantity_shares: Vec<f64>,
    /// LatestShipDate = placed + this many hours.
    pub handling_hours: i64,
    /// Seconds an order stays Pending before payment is authorised.
    #[serde(default = "default_pending")]
    pub pending_seconds: i64,
}

fn default_pending() -> i64 {
    60
}

/// Picking, packing and shipping.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Packing {
    /// People packing at the same time (within opening hours).
    pub staff: u32,
    /// Minutes to pack one order.
    pub minutes_per_order: f64,
    /// Minutes after an order is booked before it can be packed.
    pub handling_minutes: f64,
}

/// The `manual` way: staff type each order into the POS.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Manual {
    pub staff: u32,
    pub minutes_per_order: f64,
}

impl Default for Manual {
    fn default() -> Self {
        Manual {
            staff: 1,
            minutes_per_order: 5.0,
        }
    }
}

/// The `csv_hourly` way: an import of orders and a stock file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Csv {
    pub every_minutes: f64,
    /// Staff time per import.
    pub staff_minutes_per_import: f64,
    /// Imports only run while the shop is open.
    pub only_when_open: bool,
}

impl Default for Csv {
    fn default() -> Self {
        Csv {
            every_minutes: 60.0,
            staff_minutes_per_import: 10.0,
            only_when_open: false,
        }
    }
}

/// The profiles shipped in `sim/profiles/`, by name.
pub fn builtin(name: &str) -> Option<&'static str> {
    match name {
        "realistic" => Some(include_str!("../profiles/realistic.json")),
        "rush" => Some(include_str!("../profiles/rush.json")),
        _ => None,
    }
}

impl Profile {
    /// Reads a profile from JSON text, checking its figures.
    pub fn from_json(text: &str) -> Result<Profile, String> {
        let p: Profile =
            serde_json::from_str(text).map_err(|e| format!("the profile is not valid: {e}"))?;
        p.check()?;
        Ok(p)
    }

    /// A file path, or the name of a shipped profile (`realistic`, `rush`).
    pub fn load(path_or_name: &str) -> Result<Profile, String> {
        match std::fs::read_to_string(path_or_name) {
            Ok(t) => Profile::from_json(&t),
            Err(e) => match builtin(path_or_name) {
                Some(t) => Profile::from_json(t),
                None => Err(format!("cannot read profile {path_or_name}: {e}")),
            },
        }
    }

    fn check(&self) -> Result<(), String> {
        let bad = |m: &str| Err(format!("profile {}: {m}", self.name));
        if self.hours <= 0.0 {
            return bad("hours must be positive");
        }
        if self.skus.count == 0
            || self.skus.units_min < 0
            || self.skus.units_max < self.skus.units_min
        {
            return bad("skus needs count > 0 and 0 <= units_min <= units_max");
        }
        if self.opening.open_hour >= self.opening.close_hour || self.opening.close_hour > 24 {
            return bad("opening needs open_hour < close_hour <= 24");
        }
        for (n, c) in [
            ("store.curve", &self.store.curve),
            ("amazon.curve", &self.amazon.curve),
        ] {
            if !c.is_empty() && (c.len() != 24 || c.iter().any(|v| *v < 0.0)) {
                return bad(&format!("{n} needs 24 shares >= 0"));
            }
        }
        if self.packing.staff == 0 || self.manual.staff == 0 {
            return bad("packing.staff and manual.staff must be at least 1");
        }
        if self.amazon.handling_hours <= 0 || self.speed <= 0.0 {
            return bad("amazon.handling_hours and speed must be positive");
        }
        if self.restock.review_every_minutes <= 0.0 || self.csv.every_minutes <= 0.0 {
            return bad("restock.review_every_minutes and csv.every_minutes must be positive");
        }
        Ok(())
    }
}
