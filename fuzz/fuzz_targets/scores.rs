//! Quantile scores, cut points and value tiers on any values: scores stay in 1..=bins, ties
//! share a score, better values never score lower, and a population scored against its own cut
//! points gets exactly its quantile scores (the promise `rfm_cuts` + `score_by_cuts` make).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use seglake_udfs::rfm::scoring::{cut_points, quantile_scores, score_with_cuts};
use seglake_udfs::rfm::tiers::{HIGH, LOW, MEDIUM, ZERO, value_tiers};

#[derive(Debug, Arbitrary)]
struct Input {
    values: Vec<Option<f64>>,
    /// Whole numbers, to reach the counting path of the scores.
    whole: Vec<Option<i16>>,
    bins: u8,
    lower_is_better: bool,
    probes: Vec<f64>,
    /// value_tier takes 0 < high_share <= medium_share <= 1.
    high_share: u16,
    medium_share: u16,
}

fuzz_target!(|input: Input| {
    // rfm_score and rfm_cuts take bins 2..=100 and reject NaN before scoring.
    let bins = u32::from(input.bins % 99) + 2;
    let lower = input.lower_is_better;
    let mut values: Vec<Option<f64>> = input
        .values
        .iter()
        .map(|v| v.filter(|x| !x.is_nan()))
        .collect();
    values.extend(input.whole.iter().map(|v| v.map(f64::from)));
    check_scores(&values, bins, lower, &input.probes);
    let high = (f64::from(input.high_share) + 1.0) / 65_536.0;
    let medium = high + (1.0 - high) * f64::from(input.medium_share) / 65_535.0;
    check_tiers(&values, high, medium.min(1.0));
});

fn check_scores(values: &[Option<f64>], bins: u32, lower: bool, probes: &[f64]) {
    let scores = quantile_scores(values, bins, lower);
    assert_eq!(scores.len(), values.len());
    let population: Vec<f64> = values.iter().flatten().copied().collect();
    let cuts = cut_points(&population, bins, lower);
    if population.is_empty() {
        assert!(cuts.is_empty());
    } else {
        assert_eq!(cuts.len(), bins as usize - 1);
    }
    let better = |a: f64, b: f64| if lower { a < b } else { a > b };
    for (i, (value, score)) in values.iter().zip(&scores).enumerate() {
        let (Some(value), Some(score)) = (value, score) else {
            assert!(
                value.is_none() && score.is_none(),
                "row {i}: NULL must stay NULL"
            );
            continue;
        };
        assert!(
            (1..=bins).contains(score),
            "score {score} of {value} outside 1..={bins}"
        );
        assert_eq!(
            score_with_cuts(*value, &cuts, lower),
            *score,
            "{value} against its population's cuts {cuts:?}"
        );
        for (other, other_score) in values.iter().zip(&scores).take(64) {
            let (Some(other), Some(other_score)) = (other, other_score) else {
                continue;
            };
            if other == value {
                assert_eq!(score, other_score, "tied values {value} and {other}");
            } else if better(*value, *other) {
                assert!(score >= other_score, "{value} is better than {other}");
            }
        }
    }
    for &probe in probes {
        let score = score_with_cuts(probe, &cuts, lower);
        assert!((1..=bins).contains(&score), "probe {probe} scored {score}");
    }
}

fn check_tiers(values: &[Option<f64>], high: f64, medium: f64) {
    let tiers = value_tiers(values, high, medium);
    assert_eq!(tiers.len(), values.len());
    let rank = |tier: &str| match tier {
        t if t == HIGH => 3,
        t if t == MEDIUM => 2,
        t if t == LOW => 1,
        t if t == ZERO => 0,
        other => panic!("unknown tier {other}"),
    };
    for (value, tier) in values.iter().zip(&tiers).take(256) {
        let (Some(value), Some(tier)) = (value, tier) else {
            assert!(value.is_none() && tier.is_none());
            continue;
        };
        assert_eq!(*value > 0.0, *tier != ZERO, "{value} is in tier {tier}");
        for (other, other_tier) in values.iter().zip(&tiers).take(64) {
            if let (Some(other), Some(other_tier)) = (other, other_tier) {
                if value == other {
                    assert_eq!(tier, other_tier, "tied spend {value}");
                } else if value > other {
                    assert!(rank(tier) >= rank(other_tier), "{value} above {other}");
                }
            }
        }
    }
}
