//! Plain references for the fuzz tests: each function's documented semantics written out
//! directly, a `BTreeMap` per group, with none of the accumulators' code.

use std::collections::{BTreeMap, BTreeSet};

use super::data::{MICROS_PER_DAY, Row};

/// One expected cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
}

impl From<Option<i64>> for Cell {
    fn from(value: Option<i64>) -> Self {
        value.map_or(Cell::Null, Cell::Int)
    }
}

impl From<Option<f64>> for Cell {
    fn from(value: Option<f64>) -> Self {
        value.map_or(Cell::Null, Cell::Float)
    }
}

/// Whether the text of a result cell (NULL as `null`) matches `expected`, floats within a
/// relative `tolerance`.
pub fn matches(actual: &str, expected: &Cell, tolerance: f64) -> bool {
    match expected {
        Cell::Null => actual == "null",
        Cell::Int(v) => actual.parse::<i64>() == Ok(*v),
        Cell::Text(v) => actual == v,
        Cell::Float(v) => actual.parse::<f64>().is_ok_and(|a| {
            a == *v || (a - v).abs() <= tolerance * v.abs().max(a.abs()).max(1e-300)
        }),
    }
}

/// An accurate sum: amounts in whole cents (most of the fuzz amounts) add exactly as integer
/// cents; the rest are added plainly.
fn sum_cents(amounts: &[f64]) -> f64 {
    let mut cents: i128 = 0;
    let mut other = 0.0;
    for &a in amounts {
        let c = (a * 100.0).round();
        if (c / 100.0 - a).abs() <= f64::EPSILON * a.abs() * 4.0 {
            cents += c as i128;
        } else {
            other += a;
        }
    }
    cents as f64 / 100.0 + other
}

fn day(ts: i64) -> i64 {
    ts.div_euclid(MICROS_PER_DAY)
}

/// `rfm(ts, amount, as_of)` per customer, as the columns recency_days, frequency,
/// purchase_days, monetary, avg_order_value, first_purchase, last_purchase (microseconds)
/// and tenure_days.
pub fn rfm(
    rows: &[Row],
    ts_of: impl Fn(&Row) -> Option<i64>,
    as_of: i64,
) -> BTreeMap<Option<i64>, Vec<Cell>> {
    let mut groups: BTreeMap<Option<i64>, Vec<(i64, f64)>> = BTreeMap::new();
    for row in rows {
        let entry = groups.entry(row.customer_id).or_default();
        if let (Some(ts), Some(amount)) = (ts_of(row), row.amount)
            && ts < as_of
        {
            entry.push((ts, amount));
        }
    }
    let as_of_day = day(as_of);
    groups
        .into_iter()
        .map(|(customer, orders)| {
            let amounts: Vec<f64> = orders.iter().map(|o| o.1).collect();
            let purchases: Vec<i64> = orders.iter().filter(|o| o.1 >= 0.0).map(|o| o.0).collect();
            let monetary = sum_cents(&amounts);
            let first = purchases.iter().min().copied();
            let last = purchases.iter().max().copied();
            let days: BTreeSet<i64> = purchases.iter().map(|&t| day(t)).collect();
            let n = purchases.len() as i64;
            let cells = vec![
                last.map(|l| as_of_day - day(l)).into(),
                Cell::Int(n),
                Cell::Int(days.len() as i64),
                Cell::Float(monetary),
                (n > 0).then(|| monetary / n as f64).into(),
                first.into(),
                last.into(),
                first.map(|f| as_of_day - day(f)).into(),
            ];
            (customer, cells)
        })
        .collect()
}

/// `btyd_summary(ts, amount, as_of, period)` for 'day' and 'week' periods: frequency,
/// recency, T and monetary_value, all NULL for a customer without purchases up to as_of.
pub fn btyd(rows: &[Row], as_of_day: i64, week: bool) -> BTreeMap<Option<i64>, Vec<Cell>> {
    let start = |d: i64| {
        if week {
            (d + 3).div_euclid(7) * 7 - 3
        } else {
            d
        }
    };
    let length = if week { 7.0 } else { 1.0 };
    let end = start(as_of_day);
    let mut groups: BTreeMap<Option<i64>, BTreeMap<i64, Vec<f64>>> = BTreeMap::new();
    for row in rows {
        let periods = groups.entry(row.customer_id).or_default();
        if let (Some(ts), Some(amount)) = (row.ts, row.amount) {
            let p = start(day(ts));
            if p <= end {
                periods.entry(p).or_default().push(amount);
            }
        }
    }
    groups
        .into_iter()
        .map(|(customer, periods)| {
            let (Some(first), Some(last)) = (periods.keys().next(), periods.keys().last()) else {
                return (customer, vec![Cell::Null; 4]);
            };
            let repeats = periods.len() as i64 - 1;
            let repeat_amounts: Vec<f64> = periods.values().skip(1).flatten().copied().collect();
            let monetary = if repeats > 0 {
                sum_cents(&repeat_amounts) / repeats as f64
            } else {
                0.0
            };
            let cells = vec![
                Cell::Int(repeats),
                Cell::Float((last - first) as f64 / length),
                Cell::Float((end - first) as f64 / length),
                Cell::Float(monetary),
            ];
            (customer, cells)
        })
        .collect()
}

/// `nps(score)` per `customer_id % modulus` (NULL customers in the NULL group).
pub fn nps(rows: &[Row], modulus: i64) -> BTreeMap<Option<i64>, Cell> {
    let mut groups: BTreeMap<Option<i64>, (i64, i64, i64)> = BTreeMap::new();
    for row in rows {
        let counts = groups
            .entry(row.customer_id.map(|c| c.rem_euclid(modulus)))
            .or_default();
        if let Some(score) = row.score {
            counts.0 += 1;
            counts.1 += i64::from(score >= 9);
            counts.2 += i64::from(score <= 6);
        }
    }
    groups
        .into_iter()
        .map(|(key, (n, promoters, detractors))| {
            let cell = if n == 0 {
                Cell::Null
            } else {
                Cell::Float((promoters - detractors) as f64 * 100.0 / n as f64)
            };
            (key, cell)
        })
        .collect()
}

/// `rfm_score`'s rule for one value list: ceil(bins * share of the non-NULL values it is at
/// least as good as), in integers.
pub fn scores(values: &[Option<f64>], bins: i64, lower_is_better: bool) -> Vec<Option<i64>> {
    let known: Vec<f64> = values.iter().flatten().copied().collect();
    let n = known.len() as i64;
    values
        .iter()
        .map(|v| {
            v.map(|v| {
                let at_least_as_good = known
                    .iter()
                    .filter(|&&o| if lower_is_better { o >= v } else { o <= v })
                    .count() as i64;
                (bins * at_least_as_good + n - 1) / n
            })
        })
        .collect()
}

/// `value_tier(spend, high, medium)` for one partition.
pub fn tiers(spend: &[Option<f64>], high: f64, medium: f64) -> Vec<Option<&'static str>> {
    let positive: Vec<f64> = spend
        .iter()
        .flatten()
        .copied()
        .filter(|&s| s > 0.0)
        .collect();
    let total = sum_cents(&positive);
    spend
        .iter()
        .map(|s| {
            s.map(|s| {
                if s <= 0.0 {
                    return "zero";
                }
                let above: Vec<f64> = positive.iter().copied().filter(|&o| o > s).collect();
                let share = sum_cents(&above) / total;
                if share < high {
                    "high"
                } else if share < medium {
                    "medium"
                } else {
                    "low"
                }
            })
        })
        .collect()
}
