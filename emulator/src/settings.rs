//! Processing times that tests and demos may change while the emulator runs: how long a feed
//! takes, how long a new order stays Pending, how long a notification takes to reach its queue
//! and how often notifications are lost, duplicated, reordered or delayed, how late an order's
//! changes reach the searches.

use serde::{Deserialize, Serialize};

/// Processing times on Amazon's scale. The defaults are Amazon's habits at a realistic
/// setting; [`Settings::kind`] makes them instant.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Seconds a feed takes from `createFeed` to `DONE` (a third `IN_QUEUE`, the rest
    /// `IN_PROGRESS`), divided by the rate scale. Default 90: Amazon processes a
    /// `JSON_LISTINGS_FEED` in a minute or two.
    pub feed_processing_seconds: f64,
    /// Seconds every feed created from now on stays `IN_PROGRESS` beyond its processing time,
    /// divided by the rate scale; the seller's later feeds of its type queue behind it (see
    /// `api::feeds`). Default 0. Amazon sometimes holds a feed `IN_PROGRESS` for hours or days
    /// (selling-partner-api-models #657, #4354, #2633); the `feed_stall` fault stalls one feed.
    pub feed_stall_seconds: f64,
    /// Emulated seconds a new order stays `Pending` before its payment is authorised (runs on
    /// the emulated clock, so `--clock-speed` scales it). Default 60: a standard order is
    /// usually authorised after about a minute (up to 30 minutes).
    pub pending_seconds: f64,
    /// Emulated seconds between a change (an order's status, a listing's quantity) and its
    /// notification becoming visible in the subscriber's queue. Default 2.
    pub notification_delay_seconds: f64,
    /// Share (0 to 1) of notifications that are never sent.
    pub notification_lose_rate: f64,
    /// Share (0 to 1) of notifications that are sent twice (same `NotificationId`).
    pub notification_duplicate_rate: f64,
    /// Share (0 to 1) of notifications held back and delivered after the next later one to
    /// the same queue.
    pub notification_reorder_rate: f64,
    /// Share (0 to 1) of notifications delivered late, by a random extra delay of up to
    /// [`Settings::notification_extra_delay_seconds`].
    pub notification_delay_rate: f64,
    /// Largest extra delay of a delayed notification, and the longest a held-back one waits
    /// for a later one, in emulated seconds. Default 300.
    pub notification_extra_delay_seconds: f64,
    /// Shortest time between a `patchListingsItem` answered ACCEPTED and its change landing,
    /// in seconds divided by the rate scale (like feed processing). Default 5.
    pub listing_apply_min_seconds: f64,
    /// Longest such time (each patch draws one between the two; a SKU's patches land in the
    /// order they were accepted). Amazon applies accepted changes after seconds to minutes,
    /// depending on its load: default 120. [`Settings::kind`] makes both 0 (applied inside
    /// the call).
    pub listing_apply_max_seconds: f64,
    /// Shortest time, in emulated seconds, between a change of an order (its creation, a status
    /// change, a shipment, a cancellation request: whatever moves its LastUpdateDate) and the
    /// searches (`getOrders`, `searchOrders`) seeing it; `getOrder` by id sees it at once
    /// (selling-partner-api-models #3945). Runs on the emulated clock like
    /// [`Settings::pending_seconds`], not divided by the rate scale: it is a time of Amazon's
    /// clock, against which a client's search window and overlap are reckoned. Default 5.
    pub order_search_lag_min_seconds: f64,
    /// Longest such time of most changes (each change draws one between the two). Orders
    /// usually show in searches within a minute or two (selling-partner-api-docs #2131: "just 3
    /// minutes"; the two-minute rule of docs #326 keeps searches off the newest two): default
    /// 120.
    pub order_search_lag_max_seconds: f64,
    /// Share (0 to 1) of changes that reach the searches hours late instead, after a lag drawn
    /// between [`Settings::order_search_lag_max_seconds`] and
    /// [`Settings::order_search_late_max_seconds`] (jlevers/selling-partner-api #763, 2024;
    /// docs #2131, an hour). Default 0.01: no source gives a share; reported as occasional.
    pub order_search_late_rate: f64,
    /// Longest lag of a late change, in emulated seconds. Default 10800 (3 hours).
    pub order_search_late_max_seconds: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            feed_processing_seconds: 90.0,
            feed_stall_seconds: 0.0,
            pending_seconds: 60.0,
            notification_delay_seconds: 2.0,
            notification_lose_rate: 0.0,
            notification_duplicate_rate: 0.0,
            notification_reorder_rate: 0.0,
            notification_delay_rate: 0.0,
            notification_extra_delay_seconds: 300.0,
            listing_apply_min_seconds: 5.0,
            listing_apply_max_seconds: 120.0,
            order_search_lag_min_seconds: 5.0,
            order_search_lag_max_seconds: 120.0,
            order_search_late_rate: 0.01,
            order_search_late_max_seconds: 10_800.0,
        }
    }
}

/// A change of some settings; absent fields stay as they are.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    /// New [`Settings::feed_processing_seconds`].
    pub feed_processing_seconds: Option<f64>,
    /// New [`Settings::feed_stall_seconds`].
    pub feed_stall_seconds: Option<f64>,
    /// New [`Settings::pending_seconds`].
    pub pending_seconds: Option<f64>,
    /// New [`Settings::notification_delay_seconds`].
    pub notification_delay_seconds: Option<f64>,
    /// New [`Settings::notification_lose_rate`].
    pub notification_lose_rate: Option<f64>,
    /// New [`Settings::notification_duplicate_rate`].
    pub notification_duplicate_rate: Option<f64>,
    /// New [`Settings::notification_reorder_rate`].
    pub notification_reorder_rate: Option<f64>,
    /// New [`Settings::notification_delay_rate`].
    pub notification_delay_rate: Option<f64>,
    /// New [`Settings::notification_extra_delay_seconds`].
    pub notification_extra_delay_seconds: Option<f64>,
    /// New [`Settings::listing_apply_min_seconds`].
    pub listing_apply_min_seconds: Option<f64>,
    /// New [`Settings::listing_apply_max_seconds`].
    pub listing_apply_max_seconds: Option<f64>,
    /// New [`Settings::order_search_lag_min_seconds`].
    pub order_search_lag_min_seconds: Option<f64>,
    /// New [`Settings::order_search_lag_max_seconds`].
    pub order_search_lag_max_seconds: Option<f64>,
    /// New [`Settings::order_search_late_rate`].
    pub order_search_late_rate: Option<f64>,
    /// New [`Settings::order_search_late_max_seconds`].
    pub order_search_late_max_seconds: Option<f64>,
}

impl Settings {
    /// Applies `change` when every given time is a finite number of seconds >= 0 and every
    /// given rate is between 0 and 1; otherwise changes nothing.
    pub fn apply(&mut self, change: SettingsChange) -> Result<(), String> {
        let seconds = |v: Option<f64>, name: &str| match v {
            Some(s) if !(s.is_finite() && s >= 0.0) => {
                Err(format!("{name} must be a number of seconds >= 0"))
            }
            _ => Ok(v),
        };
        let rate = |v: Option<f64>, name: &str| match v {
            Some(r) if !(0.0..=1.0).contains(&r) => {
                Err(format!("{name} must be a share between 0 and 1"))
            }
            _ => Ok(v),
        };
        let c = change;
        let feed = seconds(c.feed_processing_seconds, "feed_processing_seconds")?;
        let stall = seconds(c.feed_stall_seconds, "feed_stall_seconds")?;
        let pending = seconds(c.pending_seconds, "pending_seconds")?;
        let delay = seconds(c.notification_delay_seconds, "notification_delay_seconds")?;
        let extra = seconds(
            c.notification_extra_delay_seconds,
            "notification_extra_delay_seconds",
        )?;
        let lose = rate(c.notification_lose_rate, "notification_lose_rate")?;
        let dup = rate(c.notification_duplicate_rate, "notification_duplicate_rate")?;
        let reorder = rate(c.notification_reorder_rate, "notification_reorder_rate")?;
        let late = rate(c.notification_delay_rate, "notification_delay_rate")?;
        let apply_min = seconds(c.listing_apply_min_seconds, "listing_apply_min_seconds")?;
        let apply_max = seconds(c.listing_apply_max_seconds, "listing_apply_max_seconds")?;
        if apply_min.unwrap_or(self.listing_apply_min_seconds)
            > apply_max.unwrap_or(self.listing_apply_max_seconds)
        {
            return Err(
                "listing_apply_min_seconds must not exceed listing_apply_max_seconds".into(),
            );
        }
        let lag_min = seconds(
            c.order_search_lag_min_seconds,
            "order_search_lag_min_seconds",
        )?;
        let lag_max = seconds(
            c.order_search_lag_max_seconds,
            "order_search_lag_max_seconds",
        )?;
        let late_rate = rate(c.order_search_late_rate, "order_search_late_rate")?;
        let late_max = seconds(
            c.order_search_late_max_seconds,
            "order_search_late_max_seconds",
        )?;
        let (lo, hi, late_hi) = (
            lag_min.unwrap_or(self.order_search_lag_min_seconds),
            lag_max.unwrap_or(self.order_search_lag_max_seconds),
            late_max.unwrap_or(self.order_search_late_max_seconds),
        );
        if lo > hi || hi > late_hi {
            return Err("order_search_lag_min_seconds must not exceed \
                        order_search_lag_max_seconds, nor that order_search_late_max_seconds"
                .into());
        }
        let set = |field: &mut f64, v: Option<f64>| *field = v.unwrap_or(*field);
        set(&mut self.feed_processing_seconds, feed);
        set(&mut self.feed_stall_seconds, stall);
        set(&mut self.pending_seconds, pending);
        set(&mut self.notification_delay_seconds, delay);
        set(&mut self.notification_extra_delay_seconds, extra);
        set(&mut self.notification_lose_rate, lose);
        set(&mut self.notification_duplicate_rate, dup);
        set(&mut self.notification_reorder_rate, reorder);
        set(&mut self.notification_delay_rate, late);
        set(&mut self.listing_apply_min_seconds, apply_min);
        set(&mut self.listing_apply_max_seconds, apply_max);
        set(&mut self.order_search_lag_min_seconds, lag_min);
        set(&mut self.order_search_lag_max_seconds, lag_max);
        set(&mut self.order_search_late_rate, late_rate);
        set(&mut self.order_search_late_max_seconds, late_max);
        Ok(())
    }

    /// These settings without the delays of Amazon's habits that no test of the emulator's own
    /// paths needs: accepted listing patches apply inside the call, and the searches see an
    /// order's changes at once. For fast unit tests only; the demo, the simulation and the
    /// end-to-end tests run with the defaults.
    pub fn kind(self) -> Self {
        Settings {
            listing_apply_min_seconds: 0.0,
            listing_apply_max_seconds: 0.0,
            order_search_lag_min_seconds: 0.0,
            order_search_lag_max_seconds: 0.0,
            order_search_late_rate: 0.0,
            ..self
        }
    }

    /// Draws the time until the searches see one change of an order (see
    /// [`Settings::order_search_lag_min_seconds`]), to the millisecond.
    pub fn search_lag(&self, rng: &mut impl rand::Rng) -> chrono::Duration {
        let (lo, hi) = if rng.gen_bool(self.order_search_late_rate) {
            (
                self.order_search_lag_max_seconds,
                self.order_search_late_max_seconds,
            )
        } else {
            (
                self.order_search_lag_min_seconds,
                self.order_search_lag_max_seconds,
            )
        };
        chrono::Duration::milliseconds((rng.gen_range(lo..=hi) * 1000.0).round() as i64)
    }

    /// The pending time as a duration of emulated time (millisecond precision).
    pub fn pending(&self) -> chrono::Duration {
        chrono::Duration::milliseconds((self.pending_seconds * 1000.0).round() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_sets_only_what_it_names_and_refuses_negative_times() {
        let mut s = Settings::default();
        s.apply(SettingsChange {
            pending_seconds: Some(1800.0),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(s.pending_seconds, 1800.0);
        assert_eq!(s.feed_processing_seconds, 90.0);
        let bad = SettingsChange {
            feed_processing_seconds: Some(5.0),
            pending_seconds: Some(-1.0),
            ..Default::default()
        };
        assert!(s.apply(bad).is_err());
        let bad_rate = SettingsChange {
            notification_delay_seconds: Some(1.0),
            notification_lose_rate: Some(1.5),
            ..Default::default()
        };
        assert!(s.apply(bad_rate).is_err());
        assert_eq!(
            s,
            Settings {
                pending_seconds: 1800.0,
                ..Settings::default()
            },
            "a refused change changes nothing"
        );
    }

    #[test]
    fn search_lags_are_drawn_between_the_bounds_and_kind_has_none() {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let s = Settings {
            order_search_late_rate: 0.5,
            ..Settings::default()
        };
        let lags: Vec<i64> = (0..200)
            .map(|_| s.search_lag(&mut rng).num_seconds())
            .collect();
        assert!(lags.iter().all(|l| (5..=10_800).contains(l)));
        assert!(lags.iter().any(|l| *l > 120) && lags.iter().any(|l| *l <= 120));
        let kind = Settings::default().kind();
        assert!((0..200).all(|_| kind.search_lag(&mut rng).is_zero()));
        let mut s = Settings::default();
        let inverted = SettingsChange {
            order_search_lag_min_seconds: Some(200.0),
            ..Default::default()
        };
        assert!(s.apply(inverted).is_err(), "min above max");
        let short_late = SettingsChange {
            order_search_late_max_seconds: Some(60.0),
            ..Default::default()
        };
        assert!(s.apply(short_late).is_err(), "late below max");
    }
}
