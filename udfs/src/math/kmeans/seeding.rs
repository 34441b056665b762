//! k-means++ seeding (Arthur and Vassilvitskii 2007), greedy as scikit-learn's: each new
//! centre is the best of `2 + ln k` candidates drawn with probability proportional to weight
//! times squared distance to the nearest centre so far.

use rand::Rng;

use super::geometry::squared_distance;
use super::points::Points;

/// `k` initial centres (rows of `points`, one after another). The caller makes sure the
/// points hold at least `k` distinct rows with positive weight.
pub fn kmeans_plus_plus(points: &Points, k: usize, rng: &mut impl Rng) -> Vec<f64> {
    let n = points.len();
    let trials = 2 + (k as f64).ln() as usize;
    let weights = points.weights();
    let first = draw(&cumulative(weights.iter().copied()), rng);
    let mut centers = points.row(first).to_vec();
    let mut closest: Vec<f64> = (0..n)
        .map(|i| squared_distance(points.row(i), points.row(first)))
        .collect();
    let mut candidate_closest = vec![0.0; n];
    let mut best_closest = vec![0.0; n];
    for _ in 1..k {
        let cumulative = cumulative(closest.iter().zip(weights).map(|(d, w)| d * w));
        let mut best: Option<(f64, usize)> = None;
        for _ in 0..trials {
            let candidate = draw(&cumulative, rng);
            let mut potential = 0.0;
            for (i, c) in candidate_closest.iter_mut().enumerate() {
                *c = closest[i].min(squared_distance(points.row(i), points.row(candidate)));
                potential += *c * weights[i];
            }
            if best.is_none_or(|(p, _)| potential < p) {
                best = Some((potential, candidate));
                std::mem::swap(&mut best_closest, &mut candidate_closest);
            }
        }
        if let Some((_, candidate)) = best {
            centers.extend_from_slice(points.row(candidate));
            std::mem::swap(&mut closest, &mut best_closest);
        }
    }
    centers
}

fn cumulative(values: impl Iterator<Item = f64>) -> Vec<f64> {
    values
        .scan(0.0, |sum, v| {
            *sum += v;
            Some(*sum)
        })
        .collect()
}

/// An index drawn with probability proportional to its increment of `cumulative`; an index
/// with a zero increment is never drawn.
fn draw(cumulative: &[f64], rng: &mut impl Rng) -> usize {
    let total = cumulative.last().copied().unwrap_or(0.0);
    let target = rng.random::<f64>() * total;
    cumulative
        .partition_point(|&c| c <= target)
        .min(cumulative.len().saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn picks_distinct_rows_and_never_a_zero_weight_one() {
        let points = Points::new(
            vec![0.0, 0.0, 0.1, 0.0, 10.0, 10.0, 10.0, 10.1, 50.0, 50.0],
            2,
            vec![1.0, 1.0, 1.0, 1.0, 0.0],
        );
        for seed in 0..20 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let centers = kmeans_plus_plus(&points, 2, &mut rng);
            assert_eq!(centers.len(), 4);
            let near = |c: &[f64]| if c[0] < 5.0 { 0 } else { 1 };
            assert_ne!(near(&centers[..2]), near(&centers[2..]), "seed {seed}");
            assert!(centers.iter().all(|&c| c < 50.0));
        }
    }

    #[test]
    fn draw_skips_empty_increments() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..100 {
            assert_eq!(draw(&[0.0, 0.0, 2.0, 2.0], &mut rng), 2);
        }
    }
}
