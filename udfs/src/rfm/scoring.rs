//! Quantile scores in which equal values always get equal scores.
//!
//! The rule: a value `v` in a population of `n` values scores `ceil(bins * F(v))`, where
//! `F(v)` is the share of the population that `v` is at least as good as: `#{x <= v} / n` when
//! higher is better, `#{x >= v} / n` when lower is better (recency). It is SQL's
//! `CEIL(bins * CUME_DIST() OVER (ORDER BY v))`. The best value always scores `bins`, every
//! score is at least 1, ties share a score, and with distinct values each score holds `n / bins`
//! of the population. Heavily tied data (many one-time buyers) leaves some scores empty rather
//! than splitting a tie arbitrarily as `NTILE` does.
//!
//! Cut points freeze a population's rule so later values can be scored against it:
//! [`cut_points`] gives `bins - 1` cuts and [`score_with_cuts`] scores any value with them;
//! on the population itself both give exactly [`quantile_scores`].

/// Scores `values` against themselves; `None` stays `None` and is not part of the population.
///
/// # Panics
/// Never; NaN must be rejected by the caller (it has no place in an order).
pub fn quantile_scores(
    values: &[Option<f64>],
    bins: u32,
    lower_is_better: bool,
) -> Vec<Option<u32>> {
    let plain: Vec<f64> = values.iter().map(|v| v.unwrap_or(0.0)).collect();
    scores_where(&plain, |i| values[i].is_some(), bins, lower_is_better)
        .into_iter()
        .zip(values)
        .map(|(score, value)| value.map(|_| score))
        .collect()
}

/// [`quantile_scores`] of the values `i` for which `valid(i)` holds, the others left out of
/// the population and scored 0: the form for an Arrow column's values and validity, with no
/// copy of the column.
pub fn scores_where(
    values: &[f64],
    valid: impl Fn(usize) -> bool + Copy,
    bins: u32,
    lower_is_better: bool,
) -> Vec<u32> {
    counted_scores(values, valid, bins, lower_is_better).unwrap_or_else(|| {
        if bins <= MAX_SELECTED_BINS {
            selected_scores(values, valid, bins, lower_is_better)
        } else {
            sorted_scores(values, valid, bins, lower_is_better)
        }
    })
}

/// The valid values, in order.
fn population(values: &[f64], valid: impl Fn(usize) -> bool) -> impl Iterator<Item = f64> {
    values
        .iter()
        .enumerate()
        .filter(move |(i, _)| valid(*i))
        .map(|(_, &v)| v)
}

/// Up to this many bins, scores come from selecting the values at the bins' ranks instead of
/// sorting the population.
const MAX_SELECTED_BINS: u32 = 16;

/// [`quantile_scores`] in linear time, for any values and a few bins. With `q_s = floor(s * n /
/// bins)` and `t_s` the `(q_s + 1)`-th smallest value (higher is better), a value scores at most
/// `s` exactly when fewer than `q_s + 1` values are at most it, that is when it is below `t_s`;
/// so a value's score is 1 plus the number of thresholds `t_1..t_{bins-1}` it reaches. The
/// thresholds come from one selection each, every one on what the previous left above it.
fn selected_scores(
    values: &[f64],
    valid: impl Fn(usize) -> bool + Copy,
    bins: u32,
    lower_is_better: bool,
) -> Vec<u32> {
    // Adding 0.0 turns -0.0 into 0.0, so that the order below ties them as `==` does.
    let orient = |v: f64| oriented(v, lower_is_better) + 0.0;
    // Sized for every value at once: a filtered iterator would grow it by doubling.
    let mut population_values = Vec::with_capacity(values.len());
    population_values.extend(population(values, valid).map(orient));
    let mut population = population_values;
    let n = population.len();
    if n == 0 {
        return vec![0; values.len()];
    }
    let mut thresholds: Vec<f64> = Vec::with_capacity(bins as usize);
    let mut rest = population.as_mut_slice();
    // The rank (0-based) of rest[0] in the whole population.
    let mut offset = 0;
    for s in 1..bins as usize {
        // s < bins, so q < n.
        let q = ((s as u128 * n as u128) / u128::from(bins)) as usize;
        if q < offset {
            // A rank already selected (fewer values than bins).
            if let Some(&last) = thresholds.last() {
                thresholds.push(last);
            }
            continue;
        }
        let (_, threshold, above) = rest.select_nth_unstable_by(q - offset, f64::total_cmp);
        thresholds.push(*threshold);
        offset = q + 1;
        rest = above;
    }
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let v = orient(v);
            let reached = thresholds.iter().filter(|&&t| v >= t).count() as u32;
            if valid(i) { 1 + reached } else { 0 }
        })
        .collect()
}

/// Whole numbers spanning at most this many values are scored by counting each value instead
/// of sorting: recency in days and order counts always are.
const MAX_COUNTED_SPAN: u64 = 1 << 20;

/// [`quantile_scores`] of whole numbers with a small span, in linear time: the score of a value
/// depends only on how many values are at most (or at least) as good, a running count over
/// the values' span. `None` when the values are not such numbers.
fn counted_scores(
    values: &[f64],
    valid: impl Fn(usize) -> bool + Copy,
    bins: u32,
    lower_is_better: bool,
) -> Option<Vec<u32>> {
    const EXACT: f64 = (1u64 << 53) as f64;
    let (mut min, mut max, mut n) = (i64::MAX, i64::MIN, 0usize);
    for value in population(values, valid) {
        if value.fract() != 0.0 || value.abs() > EXACT {
            return None;
        }
        let value = value as i64;
        min = min.min(value);
        max = max.max(value);
        n += 1;
    }
    if n == 0 || u32::try_from(n).is_err() {
        return None;
    }
    let span = max.abs_diff(min);
    // The counts must stay small beside the values themselves.
    if span >= MAX_COUNTED_SPAN || span as usize > 4 * n {
        return None;
    }
    let mut counts = vec![0u32; span as usize + 1];
    for value in population(values, valid) {
        counts[(value as i64 - min) as usize] += 1;
    }
    // Turn each count into the score of its value, walking from the worst value to the best.
    let mut at_most = 0;
    let mut to_score = |count: &mut u32| {
        at_most += *count as usize;
        *count = score_for_rank(at_most, n, bins);
    };
    if lower_is_better {
        counts.iter_mut().rev().for_each(&mut to_score);
    } else {
        counts.iter_mut().for_each(&mut to_score);
    }
    Some(
        values
            .iter()
            .enumerate()
            .map(|(i, &value)| {
                // A clamped slot for the invalid values, whose value may be anything.
                let slot = (value as i64).saturating_sub(min).clamp(0, span as i64) as usize;
                if valid(i) { counts[slot] } else { 0 }
            })
            .collect(),
    )
}

/// [`quantile_scores`] by sorting: any finite or infinite values.
fn sorted_scores(
    values: &[f64],
    valid: impl Fn(usize) -> bool + Copy,
    bins: u32,
    lower_is_better: bool,
) -> Vec<u32> {
    let mut order: Vec<(f64, usize)> = values
        .iter()
        .enumerate()
        .filter(|(i, _)| valid(*i))
        .map(|(i, &v)| (oriented(v, lower_is_better), i))
        .collect();
    order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let n = order.len();
    let mut scores = vec![0; values.len()];
    let mut start = 0;
    while start < n {
        // The run of values tied with order[start]; all of them are <= its last member.
        let mut end = start + 1;
        while end < n && order[end].0 == order[start].0 {
            end += 1;
        }
        let score = score_for_rank(end, n, bins);
        for &(_, index) in &order[start..end] {
            scores[index] = score;
        }
        start = end;
    }
    scores
}

/// `ceil(bins * at_most / n)` in integers, so no rounding can move a value across a cut.
fn score_for_rank(at_most: usize, n: usize, bins: u32) -> u32 {
    let bins = bins as usize;
    (bins * at_most).div_ceil(n).max(1) as u32
}

/// Maps values so that "higher is better" holds for both directions.
fn oriented(value: f64, lower_is_better: bool) -> f64 {
    if lower_is_better { -value } else { value }
}

/// The `bins - 1` cut points of a population, in the values' own units.
///
/// Cut `s` (1-based) is the last population value whose share `F` is at most `s / bins`, in
/// the order from worst to best; when no value is that bad the cut is the worst possible value
/// (`-inf`, or `+inf` when lower is better), so every value passes it. Returns an empty list
/// for an empty population.
pub fn cut_points(values: &[f64], bins: u32, lower_is_better: bool) -> Vec<f64> {
    let mut sorted: Vec<f64> = values
        .iter()
        .map(|v| oriented(*v, lower_is_better))
        .collect();
    sorted.sort_unstable_by(|a, b| a.total_cmp(b));
    let n = sorted.len();
    if n == 0 {
        return vec![];
    }
    (1..bins as usize)
        .map(|s| {
            // The largest k with bins * k <= s * n counts the values with F <= s / bins; the
            // cut is the k-th value, unless a tie continues past it (F of a tie is its end).
            let mut k = s * n / bins as usize;
            while k > 0 && k < n && sorted[k] == sorted[k - 1] {
                k -= 1;
            }
            let worst_passing = if k > 0 {
                sorted[k - 1]
            } else {
                f64::NEG_INFINITY
            };
            oriented(worst_passing, lower_is_better)
        })
        .collect()
}

/// The score of `value` against frozen cuts: 1 plus the number of cuts it is better than.
pub fn score_with_cuts(value: f64, cuts: &[f64], lower_is_better: bool) -> u32 {
    let better = cuts
        .iter()
        .filter(|&&cut| {
            if lower_is_better {
                value < cut
            } else {
                value > cut
            }
        })
        .count();
    1 + better as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values (0 where missing) and their validity.
    fn split(values: &[Option<f64>]) -> (Vec<f64>, Vec<bool>) {
        values
            .iter()
            .map(|v| (v.unwrap_or(0.0), v.is_some()))
            .unzip()
    }

    #[test]
    fn counting_and_sorting_give_the_same_scores() {
        let mut x: u64 = 99;
        let mut next = |modulo: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % modulo
        };
        for (len, span) in [(1, 1), (7, 3), (500, 40), (2000, 5000), (3000, 2)] {
            let values: Vec<Option<f64>> = (0..len)
                .map(|_| (next(10) > 0).then(|| next(span) as f64 - (span / 2) as f64))
                .collect();
            for bins in [2, 5, 7] {
                for lower in [false, true] {
                    let (plain, valid) = split(&values);
                    let valid = |i: usize| valid[i];
                    let counted =
                        counted_scores(&plain, valid, bins, lower).expect("whole numbers");
                    let sorted = sorted_scores(&plain, valid, bins, lower);
                    assert_eq!(counted, sorted, "{len} {span}");
                }
            }
        }
    }

    #[test]
    fn fractions_and_wide_spans_are_sorted() {
        let counted = |values: &[f64]| counted_scores(values, |_| true, 5, false);
        assert!(counted(&[1.5, 2.0]).is_none());
        assert!(counted(&[0.0, 1e9]).is_none());
        assert!(counted(&[f64::INFINITY]).is_none());
        assert!(counted_scores(&[0.0], |_| false, 5, false).is_none());
        assert_eq!(
            quantile_scores(&[Some(-0.0), Some(0.0), Some(3.0)], 3, false),
            vec![Some(2), Some(2), Some(3)]
        );
    }

    fn scores(values: &[f64], bins: u32, lower: bool) -> Vec<u32> {
        let values: Vec<Option<f64>> = values.iter().copied().map(Some).collect();
        quantile_scores(&values, bins, lower)
            .into_iter()
            .map(|s| s.unwrap())
            .collect()
    }

    #[test]
    fn distinct_values_fill_every_score_evenly() {
        let values: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(
            scores(&values, 5, false),
            vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
        );
        assert_eq!(scores(&values, 5, true), vec![5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
    }

    #[test]
    fn ties_share_a_score() {
        // CUME_DIST of 1 is 6/10: ceil(5 * 0.6) = 3 for all six one-time buyers.
        let values = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 9.0];
        assert_eq!(
            scores(&values, 5, false),
            vec![3, 3, 3, 3, 3, 3, 4, 4, 5, 5]
        );
        assert_eq!(scores(&[7.0; 4], 5, false), vec![5; 4]);
    }

    #[test]
    fn selecting_and_sorting_give_the_same_scores() {
        let mut x: u64 = 7;
        let mut next = |modulo: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % modulo
        };
        for n in [0usize, 1, 2, 3, 4, 7, 10, 11, 100, 1001] {
            for distinct in [2u64, 5, 50, 1_000_000] {
                let values: Vec<Option<f64>> = (0..n)
                    .map(|_| match next(distinct + 6) {
                        0 => None,
                        1 => Some(-0.0),
                        2 => Some(0.0),
                        3 => Some(f64::INFINITY),
                        4 => Some(f64::NEG_INFINITY),
                        v => Some((v as f64 - 20.0) * 0.37),
                    })
                    .collect();
                for bins in [1, 2, 3, 5, 10, 16] {
                    for lower in [false, true] {
                        let plain: Vec<f64> = values.iter().map(|v| v.unwrap_or(0.0)).collect();
                        let valid = |i: usize| values[i].is_some();
                        assert_eq!(
                            selected_scores(&plain, valid, bins, lower),
                            sorted_scores(&plain, valid, bins, lower),
                            "n={n} distinct={distinct} bins={bins} lower={lower}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn nulls_are_left_out_of_the_population() {
        let values = [Some(3.0), None, Some(1.0)];
        assert_eq!(
            quantile_scores(&values, 2, false),
            vec![Some(2), None, Some(1)]
        );
    }

    #[test]
    fn integer_arithmetic_at_the_cut() {
        // 3 of 15 values = exactly 1/5: ceil must not round 1.0000000001 up to 2.
        let values: Vec<f64> = (1..=15).map(f64::from).collect();
        assert_eq!(scores(&values, 5, false)[2], 1);
        assert_eq!(scores(&values, 5, false)[3], 2);
    }

    #[test]
    fn cuts_reproduce_the_scores_on_the_population() {
        let populations: [&[f64]; 4] = [
            &[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 9.0],
            &[5.0, 3.0, 8.0, 1.0, 9.0, 2.0, 7.0],
            &[4.0; 6],
            &[0.5, 0.25, 10.0, 10.0, 3.0, 3.0, 3.0, 100.0, 7.5, 1.0, 2.0],
        ];
        for values in populations {
            for bins in 2..=7 {
                for lower in [false, true] {
                    let cuts = cut_points(values, bins, lower);
                    assert_eq!(cuts.len(), bins as usize - 1);
                    let expected = scores(values, bins, lower);
                    let with_cuts: Vec<u32> = values
                        .iter()
                        .map(|v| score_with_cuts(*v, &cuts, lower))
                        .collect();
                    assert_eq!(with_cuts, expected, "{values:?} bins={bins} lower={lower}");
                }
            }
        }
    }

    #[test]
    fn cuts_score_new_values() {
        let population: Vec<f64> = (1..=10).map(f64::from).collect();
        let cuts = cut_points(&population, 5, false);
        assert_eq!(cuts, vec![2.0, 4.0, 6.0, 8.0]);
        assert_eq!(score_with_cuts(0.0, &cuts, false), 1);
        assert_eq!(score_with_cuts(4.5, &cuts, false), 3);
        assert_eq!(score_with_cuts(1e9, &cuts, false), 5);
        let recency_cuts = cut_points(&population, 5, true);
        assert_eq!(recency_cuts, vec![9.0, 7.0, 5.0, 3.0]);
        assert_eq!(score_with_cuts(0.0, &recency_cuts, true), 5);
        assert_eq!(score_with_cuts(10.0, &recency_cuts, true), 1);
    }

    #[test]
    fn a_tied_population_passes_every_cut() {
        assert_eq!(cut_points(&[4.0; 6], 3, false), vec![f64::NEG_INFINITY; 2]);
        assert_eq!(cut_points(&[4.0; 6], 3, true), vec![f64::INFINITY; 2]);
    }

    #[test]
    fn empty_population_has_no_cuts() {
        assert!(cut_points(&[], 5, false).is_empty());
        assert!(
            quantile_scores(&[None, None], 5, false)
                .iter()
                .all(Option::is_none)
        );
    }
}
