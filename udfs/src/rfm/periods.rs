//! Calendar periods as lifetimes' `summary_data_from_transaction_data` floors them: days,
//! Monday-to-Sunday weeks, and calendar months, numbered by the day they start on.

use std::fmt;
use std::str::FromStr;

/// Microseconds in a day.
pub const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The length pandas divides period differences by, in days: numpy's `timedelta64(1, 'M')` is
/// the mean Gregorian month of 30.436875 days, so monthly recency and T are fractional.
const DAYS_PER_MEAN_MONTH: f64 = 30.436875;

/// A period to floor purchase dates to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    /// The first day (days since 1970-01-01) of the period holding `day`.
    pub fn start_day(self, day: i64) -> i64 {
        match self {
            Self::Day => day,
            // 1970-01-01 was a Thursday: Monday-based weeks start 3 days earlier.
            Self::Week => (day + 3).div_euclid(7) * 7 - 3,
            Self::Month => {
                let (year, month, _) = civil_from_days(day);
                days_from_civil(year, month, 1)
            }
        }
    }

    /// The length of this period in days, as pandas divides by it.
    pub fn days(self) -> f64 {
        match self {
            Self::Day => 1.0,
            Self::Week => 7.0,
            Self::Month => DAYS_PER_MEAN_MONTH,
        }
    }

    /// The time between two period starts, in periods (divided by `multiplier`).
    pub fn between(self, from_start_day: i64, to_start_day: i64, multiplier: f64) -> f64 {
        let days = (to_start_day - from_start_day) as f64;
        match self {
            // Whole days and weeks divide exactly.
            Self::Day | Self::Week => days / self.days() / multiplier,
            // pandas divides nanoseconds by the month's nanoseconds; in seconds the same two
            // integers are exact in f64 and the quotient rounds the same way.
            Self::Month => days * 86_400.0 / (DAYS_PER_MEAN_MONTH * 86_400.0) / multiplier,
        }
    }
}

impl FromStr for Period {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "day" | "d" => Ok(Self::Day),
            "week" | "w" => Ok(Self::Week),
            "month" | "m" => Ok(Self::Month),
            other => Err(format!(
                "unknown period '{other}': expected 'day', 'week' or 'month'"
            )),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        })
    }
}

/// The day number (days since 1970-01-01) of a microsecond timestamp.
pub fn day_of_micros(micros: i64) -> i64 {
    micros.div_euclid(MICROS_PER_DAY)
}

/// Year, month (1..=12) and day of a day number, in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day number of a civil date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for day in -800_000..800_000 {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2024-01-01 was a Monday, 2024-01-07 a Sunday.
        let monday = days_from_civil(2024, 1, 1);
        for day in monday..monday + 7 {
            assert_eq!(Period::Week.start_day(day), monday);
        }
        assert_eq!(Period::Week.start_day(monday - 1), monday - 7);
        // Before the epoch too: 1969-12-29 was a Monday.
        assert_eq!(Period::Week.start_day(-1), -3);
    }

    #[test]
    fn months_start_on_the_first() {
        let day = days_from_civil(2024, 2, 29);
        assert_eq!(Period::Month.start_day(day), days_from_civil(2024, 2, 1));
    }

    #[test]
    fn month_lengths_as_pandas_divides() {
        // lifetimes: (2024-03-01 - 2024-01-01) / np.timedelta64(1, 'M') = 1.9712930450317254
        let from = days_from_civil(2024, 1, 1);
        let to = days_from_civil(2024, 3, 1);
        assert_eq!(
            Period::Month.between(from, to, 1.0),
            1.971_293_045_031_725_4
        );
        assert_eq!(Period::Week.between(0, 63, 1.0), 9.0);
        assert_eq!(Period::Day.between(0, 65, 7.0), 65.0 / 7.0);
    }

    #[test]
    fn parse() {
        assert_eq!("Week".parse(), Ok(Period::Week));
        assert!(
            "year"
                .parse::<Period>()
                .unwrap_err()
                .contains("'day', 'week' or 'month'")
        );
    }

    #[test]
    fn days_of_timestamps() {
        assert_eq!(day_of_micros(0), 0);
        assert_eq!(day_of_micros(-1), -1);
        assert_eq!(day_of_micros(MICROS_PER_DAY - 1), 0);
    }
}
