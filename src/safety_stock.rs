//! Adaptive safety stock (`"buffer": "auto"`): while an Amazon order is not yet visible to the
//! shop (payment, Amazon's two-minute rule, polling), the shop may sell the same units in the
//! store. The buffer holds back the units an item is likely to sell in the store during that
//! window: the `percentile` of a Poisson count at the item's recent in-store sales rate.

/// Shortest stretch a sales rate is taken over, so a first sale does not read as a rush.
pub const MIN_SPAN_SECONDS: f64 = 3_600.0;

/// The smallest `k` with P(X ≤ k) ≥ `p` for X ~ Poisson(`mean`).
pub fn poisson_quantile(mean: f64, p: f64) -> i64 {
    if !(mean.is_finite() && mean > 0.0) {
        return 0;
    }
    let p = p.clamp(0.0, 1.0 - 1e-12);
    let limit = mean + 50.0 * mean.sqrt() + 50.0;
    let (mut k, mut ln_factorial, mut cdf) = (0.0_f64, 0.0_f64, 0.0_f64);
    loop {
        // Each term from logarithms, so a large mean does not underflow exp(-mean).
        cdf += (-mean + k * mean.ln() - ln_factorial).exp();
        if cdf >= p || k >= limit {
            return k as i64;
        }
        k += 1.0;
        ln_factorial += k.ln();
    }
}

/// Units to hold back for an item that sold `units_sold` in the store over `span_seconds`,
/// covering `window_seconds` of sales with probability `percentile`.
pub fn auto_units(units_sold: i64, span_seconds: f64, window_seconds: f64, percentile: f64) -> i64 {
    if units_sold <= 0 {
        return 0;
    }
    let rate = units_sold as f64 / span_seconds.max(MIN_SPAN_SECONDS);
    poisson_quantile(rate * window_seconds, percentile)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_poisson_tables() {
        // P(X <= 0) = e^-0.05 = 0.951 for mean 0.05: nothing held back at 95%.
        assert_eq!(poisson_quantile(0.05, 0.95), 0);
        // Mean 1: P(X <= 2) = 0.920, P(X <= 3) = 0.981.
        assert_eq!(poisson_quantile(1.0, 0.95), 3);
        assert_eq!(poisson_quantile(1.0, 0.90), 2);
        // Mean 10: P(X <= 15) = 0.951, P(X <= 14) = 0.917.
        assert_eq!(poisson_quantile(10.0, 0.95), 15);
        // A large mean neither underflows nor loops: about mean + 1.645 sd.
        let q = poisson_quantile(10_000.0, 0.95);
        assert!((10_160..=10_170).contains(&q), "{q}");
        assert_eq!(poisson_quantile(0.0, 0.95), 0);
        assert_eq!(poisson_quantile(f64::NAN, 0.95), 0);
    }

    #[test]
    fn the_buffer_follows_the_sales_rate() {
        // 12 units an hour, over a 5-minute window: mean 1, so 3 units at 95%.
        assert_eq!(auto_units(24, 7_200.0, 300.0, 0.95), 3);
        // No sales, no buffer; a slow item (1 a day) needs none either.
        assert_eq!(auto_units(0, 7_200.0, 300.0, 0.95), 0);
        assert_eq!(auto_units(14, 14.0 * 86_400.0, 300.0, 0.95), 0);
        // One sale a minute after start is not read as 60 an hour.
        assert_eq!(auto_units(1, 60.0, 300.0, 0.95), 1);
    }
}
