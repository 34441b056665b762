//! Value tiers by cumulative revenue share (Pareto).
//!
//! Customers are ranked by spend, best first. A customer is `high` while the customers ranked
//! strictly above them hold less than `high_share` of the revenue, `medium` while they hold
//! less than `medium_share`, and `low` after that; customers tied on spend share a tier (the
//! customers above a tie are the same for all of it). Non-positive spend is its own tier,
//! `zero`, and is left out of the revenue total.

pub const HIGH: &str = "high";
pub const MEDIUM: &str = "medium";
pub const LOW: &str = "low";
pub const ZERO: &str = "zero";

/// The tier of each value; `None` stays `None`.
pub fn value_tiers(
    values: &[Option<f64>],
    high_share: f64,
    medium_share: f64,
) -> Vec<Option<&'static str>> {
    let mut positive: Vec<(f64, usize)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.filter(|v| *v > 0.0).map(|v| (v, i)))
        .collect();
    positive.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    let total: f64 = positive.iter().map(|(v, _)| v).sum();

    let mut tiers: Vec<Option<&'static str>> = values.iter().map(|v| v.map(|_| ZERO)).collect();
    let mut above = 0.0;
    let mut start = 0;
    while start < positive.len() {
        let mut end = start + 1;
        while end < positive.len() && positive[end].0 == positive[start].0 {
            end += 1;
        }
        let share_above = above / total;
        let tier = if share_above < high_share {
            HIGH
        } else if share_above < medium_share {
            MEDIUM
        } else {
            LOW
        };
        for &(value, index) in &positive[start..end] {
            tiers[index] = Some(tier);
            above += value;
        }
        start = end;
    }
    tiers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiers(values: &[f64]) -> Vec<&'static str> {
        let values: Vec<Option<f64>> = values.iter().copied().map(Some).collect();
        value_tiers(&values, 0.5, 0.8)
            .into_iter()
            .map(|t| t.unwrap())
            .collect()
    }

    #[test]
    fn pareto_cuts() {
        // Total 100: the 40 spender has 0% above (high), the 30 spender 40% (high, it crosses
        // 50%), the 15 spender 70% (medium), 10 has 85% above (low), 5 has 95% (low).
        assert_eq!(
            tiers(&[10.0, 40.0, 5.0, 30.0, 15.0]),
            vec!["low", "high", "low", "high", "medium"]
        );
    }

    #[test]
    fn ties_share_a_tier_and_non_positive_is_zero() {
        assert_eq!(tiers(&[25.0, 25.0, 25.0, 25.0]), vec!["high"; 4]);
        assert_eq!(tiers(&[0.0, -5.0, 10.0]), vec!["zero", "zero", "high"]);
    }

    #[test]
    fn nulls_stay_null() {
        assert_eq!(
            value_tiers(&[None, Some(1.0)], 0.5, 0.8),
            vec![None, Some("high")]
        );
    }
}
