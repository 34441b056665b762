//! Discounted customer lifetime value, as lifetimes 0.11.3's `customer_lifetime_value`: the
//! expected spend per order times the expected purchases in each month, discounted monthly.

/// How many model periods make a month, by the name of the period (lifetimes' factors).
pub fn periods_per_month(period: &str) -> Option<f64> {
    match period {
        "day" => Some(30.0),
        "week" => Some(4.345),
        "month" => Some(1.0),
        "hour" => Some(30.0 * 24.0),
        _ => None,
    }
}

/// The names [`periods_per_month`] knows.
pub const PERIODS: [&str; 4] = ["day", "week", "month", "hour"];

/// The horizons [`discounted_value_of`] needs: `month * periods_per_month` for month 0 ..=
/// `months`.
pub fn horizons(months: u32, periods_per_month: f64) -> Vec<f64> {
    (0..=months)
        .map(|month| f64::from(month) * periods_per_month)
        .collect()
}

/// `sum over months i = 1..=months of spend * (E[X(i f)] - E[X((i-1) f)]) / (1 + d)^i`, where
/// `expected[i]` is the conditional expected number of purchases by `horizons[i]` periods from
/// now (`f` periods a month, see [`horizons`]), all computed at once by the caller.
pub fn discounted_value_of(
    spend: f64,
    discount_rate: f64,
    periods_per_month: f64,
    horizons: &[f64],
    expected: &[f64],
) -> f64 {
    let mut value = 0.0;
    for i in 1..horizons.len().min(expected.len()) {
        // The same floating-point steps as lifetimes, so results agree to the last digits.
        let t = horizons[i];
        value += spend * (expected[i] - expected[i - 1])
            / (1.0 + discount_rate).powf(t / periods_per_month);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    /// lifetimes' loop, month by month, asking for the expected purchases at each horizon.
    fn discounted_value(
        spend: f64,
        months: u32,
        discount_rate: f64,
        periods_per_month: f64,
        expected_purchases: impl Fn(f64) -> f64,
    ) -> f64 {
        let mut value = 0.0;
        let mut previous = expected_purchases(0.0);
        for month in 1..=months {
            let t = f64::from(month) * periods_per_month;
            let by_now = expected_purchases(t);
            value +=
                spend * (by_now - previous) / (1.0 + discount_rate).powf(t / periods_per_month);
            previous = by_now;
        }
        value
    }

    #[test]
    fn steady_purchases_are_discounted_monthly() {
        // One purchase per month at 10 per order, 1% a month, for 2 months.
        let horizons = horizons(2, 4.345);
        let expected: Vec<f64> = horizons.iter().map(|t| t / 4.345).collect();
        let value = discounted_value_of(10.0, 0.01, 4.345, &horizons, &expected);
        assert!((value - (10.0 / 1.01 + 10.0 / 1.01f64.powi(2))).abs() < 1e-12);
    }

    #[test]
    fn from_horizons_is_the_same_value() {
        let expected = |t: f64| (t / 4.345).sqrt();
        let horizons = horizons(12, 4.345);
        let at: Vec<f64> = horizons.iter().map(|&t| expected(t)).collect();
        assert_eq!(
            discounted_value_of(10.0, 0.01, 4.345, &horizons, &at),
            discounted_value(10.0, 12, 0.01, 4.345, expected)
        );
    }

    #[test]
    fn known_periods() {
        assert_eq!(periods_per_month("week"), Some(4.345));
        assert_eq!(periods_per_month("fortnight"), None);
    }
}
