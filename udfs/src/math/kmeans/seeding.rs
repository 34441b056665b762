//! k-means++ seeding (Arthur and Vassilvitskii 2007), greedy as scikit-learn's: each new
//! centre is the best of `2 + ln k` candidates drawn with probability proportional to weight
//! times squared distance to the nearest centre so far.
//!
//! The candidates of a round are drawn first and their potentials summed in one pass over the
//! points (each point read once per round, not once per candidate), then the winner's
//! distances update the nearest-centre distances. With up to 8 features every distance is
//! computed in straight-line code (four candidates per pass, no branch): cheaper than any test
//! that could spare it. With more, a candidate's distance to a point is only computed when the
//! triangle inequality cannot show that the point's nearest centre is nearer (with a margin of
//! 1e-10 for rounding); the skipped terms are the values the comparison would have kept. Both
//! give the same sums, term for term, as computing every distance.

use rand::Rng;

use super::geometry::{by_dim, squared_distance, squared_distance_n};
use super::points::Points;

/// `k` initial centres (rows of `points`, one after another). The caller makes sure the
/// points hold at least `k` distinct rows with positive weight.
pub fn kmeans_plus_plus(points: &Points, k: usize, rng: &mut impl Rng) -> Vec<f64> {
    by_dim!(points.dim(), seed(points, k, rng))
}

/// The relative margin a bound must clear before a distance is left uncomputed.
const MARGIN: f64 = 1e-10;

fn seed<const D: usize>(points: &Points, k: usize, rng: &mut impl Rng) -> Vec<f64> {
    if D == 0 {
        bounded(points, k, rng)
    } else {
        unrolled::<D>(points, k, rng)
    }
}

/// The seeding for 1 to 8 features, where a distance costs less than the bound that would
/// spare it: every candidate's distance is computed, in straight-line code without branches
/// the processor could mispredict. The same sums as [`bounded`], term for term.
fn unrolled<const D: usize>(points: &Points, k: usize, rng: &mut impl Rng) -> Vec<f64> {
    let trials = 2 + (k as f64).ln() as usize;
    let weights = points.weights();
    let values = points.values();
    let first = draw(&cumulative(weights.iter().copied()), rng);
    let mut centers = points.row(first).to_vec();
    let first = points.row(first);
    let mut closest: Vec<f64> = values
        .chunks_exact(D)
        .map(|row| squared_distance_n::<D>(row, first))
        .collect();
    let mut cumulative = Vec::with_capacity(closest.len());
    for _ in 1..k {
        cumulative.clear();
        let mut sum = 0.0;
        cumulative.extend(closest.iter().zip(weights).map(|(d, w)| {
            sum += d * w;
            sum
        }));
        let candidates: Vec<&[f64]> = (0..trials)
            .map(|_| points.row(draw(&cumulative, rng)))
            .collect();
        let mut potentials = vec![0.0; trials];
        // Four candidates at a time, each with its own running sum.
        for group in (0..trials).step_by(4) {
            let group = group..(group + 4).min(trials);
            let rows: Vec<&[f64]> = candidates[group.clone()].to_vec();
            let sums = &mut potentials[group];
            match rows[..] {
                [a, b, c, d] => {
                    let mut s = [0.0; 4];
                    for ((row, &near), &w) in values.chunks_exact(D).zip(&closest).zip(weights) {
                        s[0] += near.min(squared_distance_n::<D>(row, a)) * w;
                        s[1] += near.min(squared_distance_n::<D>(row, b)) * w;
                        s[2] += near.min(squared_distance_n::<D>(row, c)) * w;
                        s[3] += near.min(squared_distance_n::<D>(row, d)) * w;
                    }
                    sums.copy_from_slice(&s);
                }
                _ => {
                    for (sum, candidate) in sums.iter_mut().zip(rows) {
                        for ((row, &near), &w) in values.chunks_exact(D).zip(&closest).zip(weights)
                        {
                            *sum += near.min(squared_distance_n::<D>(row, candidate)) * w;
                        }
                    }
                }
            }
        }
        let winner = candidates[lowest(&potentials)];
        for (row, near) in values.chunks_exact(D).zip(closest.iter_mut()) {
            *near = near.min(squared_distance_n::<D>(row, winner));
        }
        centers.extend_from_slice(winner);
    }
    centers
}

/// The index of the lowest potential, ties to the earlier candidate.
fn lowest(potentials: &[f64]) -> usize {
    let mut best = 0;
    for (t, p) in potentials.iter().enumerate() {
        if *p < potentials[best] {
            best = t;
        }
    }
    best
}

/// The seeding for more than 8 features, where the triangle inequality spares most distances.
fn bounded(points: &Points, k: usize, rng: &mut impl Rng) -> Vec<f64> {
    let n = points.len();
    let trials = 2 + (k as f64).ln() as usize;
    let weights = points.weights();
    let first = draw(&cumulative(weights.iter().copied()), rng);
    let mut centers = points.row(first).to_vec();
    let mut closest: Vec<f64> = (0..n)
        .map(|i| squared_distance(points.row(i), points.row(first)))
        .collect();
    // Each point's nearest centre so far, for the bound below.
    let mut owner = vec![0u32; n];
    let dim = points.dim();
    for _ in 1..k {
        let cumulative = cumulative(closest.iter().zip(weights).map(|(d, w)| d * w));
        let candidates: Vec<usize> = (0..trials).map(|_| draw(&cumulative, rng)).collect();
        // gaps[t][j]: half the distance from candidate t to centre j. A point within r of its
        // centre j, where r is less than that half, is nearer to j than to t (triangle
        // inequality), so its nearest distance stays and t's distance need not be computed.
        let gaps: Vec<Vec<f64>> = candidates
            .iter()
            .map(|&c| {
                centers
                    .chunks_exact(dim)
                    .map(|centre| squared_distance(points.row(c), centre).sqrt() / 2.0)
                    .collect()
            })
            .collect();
        let mut potentials = vec![0.0; trials];
        for (i, (&c, &w)) in closest.iter().zip(weights).enumerate() {
            let row = points.row(i);
            let reach = c.sqrt() * (1.0 + MARGIN);
            let j = owner[i] as usize;
            for ((potential, &candidate), gaps) in potentials.iter_mut().zip(&candidates).zip(&gaps)
            {
                let nearest = if reach < gaps[j] {
                    c
                } else {
                    c.min(squared_distance(row, points.row(candidate)))
                };
                *potential += nearest * w;
            }
        }
        let best = lowest(&potentials);
        let winner = points.row(candidates[best]);
        let label = (centers.len() / dim) as u32;
        for (i, (c, o)) in closest.iter_mut().zip(&mut owner).enumerate() {
            if c.sqrt() * (1.0 + MARGIN) < gaps[best][*o as usize] {
                continue;
            }
            let d = squared_distance(points.row(i), winner);
            if d < *c {
                *c = d;
                *o = label;
            }
        }
        centers.extend_from_slice(winner);
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

    /// Greedy k-means++ computing every distance, one pass per candidate: the reference.
    fn exhaustive(points: &Points, k: usize, rng: &mut impl Rng) -> Vec<f64> {
        use super::super::geometry::squared_distance;
        let n = points.len();
        let trials = 2 + (k as f64).ln() as usize;
        let weights = points.weights();
        let first = draw(&cumulative(weights.iter().copied()), rng);
        let mut centers = points.row(first).to_vec();
        let mut closest: Vec<f64> = (0..n)
            .map(|i| squared_distance(points.row(i), points.row(first)))
            .collect();
        for _ in 1..k {
            let cumulative = cumulative(closest.iter().zip(weights).map(|(d, w)| d * w));
            let mut best: Option<(f64, Vec<f64>, usize)> = None;
            for _ in 0..trials {
                let candidate = draw(&cumulative, rng);
                let next: Vec<f64> = (0..n)
                    .map(|i| closest[i].min(squared_distance(points.row(i), points.row(candidate))))
                    .collect();
                let potential: f64 = next
                    .iter()
                    .zip(weights)
                    .map(|(c, w)| c * w)
                    .fold(0.0, |a, b| a + b);
                if best.as_ref().is_none_or(|(p, _, _)| potential < *p) {
                    best = Some((potential, next, candidate));
                }
            }
            let (_, next, candidate) = best.unwrap();
            closest = next;
            centers.extend_from_slice(points.row(candidate));
        }
        centers
    }

    #[test]
    fn skipping_distances_gives_the_centres_of_computing_them_all() {
        let mut values_rng = ChaCha8Rng::seed_from_u64(99);
        let mut next = || values_rng.random::<f64>();
        for dim in [3, 11] {
            let mut values = Vec::new();
            for i in 0..2000 {
                let centre = (i % 6) as f64 * 4.0;
                for _ in 0..dim {
                    values.push(centre + next());
                }
            }
            let weights = (0..2000).map(|i| 1.0 + (i % 3) as f64).collect();
            let points = Points::new(values, dim, weights);
            for seed in 0..5 {
                for k in [2, 6, 9] {
                    let ours = kmeans_plus_plus(&points, k, &mut ChaCha8Rng::seed_from_u64(seed));
                    let all = exhaustive(&points, k, &mut ChaCha8Rng::seed_from_u64(seed));
                    assert_eq!(ours, all, "dim {dim}, seed {seed}, k {k}");
                }
            }
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
