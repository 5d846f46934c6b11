//! Processing times that tests and demos may change while the emulator runs: how long a feed
//! takes and how long a new order stays Pending.

use serde::{Deserialize, Serialize};

/// Processing times on Amazon's scale.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Seconds a feed takes from `createFeed` to `DONE` (a third `IN_QUEUE`, the rest
    /// `IN_PROGRESS`), divided by the rate scale. Default 90: Amazon processes a
    /// `JSON_LISTINGS_FEED` in a minute or two.
    pub feed_processing_seconds: f64,
    /// Emulated seconds a new order stays `Pending` before its payment is authorised (runs on
    /// the emulated clock, so `--clock-speed` scales it). Default 60: a standard order is
    /// usually authorised after about a minute (up to 30 minutes).
    pub pending_seconds: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            feed_processing_seconds: 90.0,
            pending_seconds: 60.0,
        }
    }
}

/// A change of some settings; absent fields stay as they are.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    /// New [`Settings::feed_processing_seconds`].
    pub feed_processing_seconds: Option<f64>,
    /// New [`Settings::pending_seconds`].
    pub pending_seconds: Option<f64>,
}

impl Settings {
    /// Applies `change` when every given value is a finite number of seconds >= 0.
    pub fn apply(&mut self, change: SettingsChange) -> Result<(), String> {
        let valid = |v: Option<f64>, name: &str| match v {
            Some(s) if !(s.is_finite() && s >= 0.0) => {
                Err(format!("{name} must be a number of seconds >= 0"))
            }
            _ => Ok(v),
        };
        let feed = valid(change.feed_processing_seconds, "feed_processing_seconds")?;
        let pending = valid(change.pending_seconds, "pending_seconds")?;
        self.feed_processing_seconds = feed.unwrap_or(self.feed_processing_seconds);
        self.pending_seconds = pending.unwrap_or(self.pending_seconds);
        Ok(())
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
        };
        assert!(s.apply(bad).is_err());
        assert_eq!(
            s,
            Settings {
                feed_processing_seconds: 90.0,
                pending_seconds: 1800.0
            },
            "a refused change changes nothing"
        );
    }
}
