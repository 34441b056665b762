//! Lloyd's iterations, step for step as scikit-learn's `_kmeans_single_lloyd`: assign every
//! point to its nearest centre, move each centre to the weighted mean of its points (an empty
//! cluster takes over the point farthest from its centre), stop when no label changes or the
//! centres moved less than the tolerance, then assign once more to the final centres.
//!
//! The assignment skips the points whose centre cannot have changed, with Hamerly's bounds
//! (G. Hamerly, "Making k-means even faster", SDM 2010): each point keeps an upper bound on the
//! distance to its centre and a lower bound on the distance to any other centre; when the
//! upper bound is below the lower one, or below half the distance from its centre to the
//! nearest other centre, the point stays. Bounds move by how far the centres moved, in the
//! next assignment pass as it reads them (no pass of its own). A point
//! that may have changed is assigned by comparing all centres, exactly as without bounds, and
//! a skipped point provably keeps its strictly nearest centre (the comparison keeps a margin
//! of 1e-10 for rounding), so the labels, centres and inertia are those of the plain
//! iterations: only the number of distances computed differs. After a few iterations most
//! points stop moving and most are skipped.

use super::chunks::map_chunks;
use super::geometry::{by_dim, squared_distance, squared_distance_n};
use super::points::Points;

/// The outcome of one run from one set of initial centres.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The final centres, `k` rows of `dim` coordinates.
    pub centers: Vec<f64>,
    /// Each point's cluster, 0-based.
    pub labels: Vec<u32>,
    /// The weighted sum of squared distances from each point to its centre.
    pub inertia: f64,
    pub iterations: u32,
    /// Whether it stopped because it converged rather than at `max_iter`.
    pub converged: bool,
}

/// What one chunk of an assignment pass adds up.
struct Partial {
    sums: Vec<f64>,
    weights: Vec<f64>,
    changed: bool,
}

/// A point's centre and Hamerly's bounds: `upper` at least the distance to its centre,
/// `lower` at most the distance to any other centre (Euclidean, not squared).
#[derive(Debug, Clone, Copy)]
struct Assignment {
    label: u32,
    upper: f64,
    lower: f64,
}

/// The relative margin a bound must clear for a point to be skipped, far above the rounding
/// of the bounds' updates.
const MARGIN: f64 = 1e-10;

/// Runs Lloyd's algorithm from `centers` for at most `max_iter` iterations; it has converged
/// when the summed squared centre shift is at most `tolerance` (absolute, in the points'
/// units) or no label changed.
pub fn lloyd(
    points: &Points,
    mut centers: Vec<f64>,
    max_iter: u32,
    tolerance: f64,
    threads: usize,
) -> Run {
    let dim = points.dim();
    let k = centers.len() / dim;
    let mut assigned = vec![
        Assignment {
            label: u32::MAX,
            upper: f64::INFINITY,
            lower: 0.0,
        };
        points.len()
    ];
    // How far the centres moved in the last iteration, applied to the bounds by the next pass.
    let mut moved = Moves::new(vec![0.0; k]);
    let mut iterations = 0;
    let mut strict = false;
    let mut converged = false;
    while iterations < max_iter {
        iterations += 1;
        let half_gaps = half_gaps(&centers, dim);
        let partials = map_chunks(&mut assigned, threads, |first, chunk| {
            by_dim!(
                dim,
                assign_and_sum(points, &centers, &half_gaps, &moved, first, chunk)
            )
        });
        let mut sums = vec![0.0; k * dim];
        let mut weights = vec![0.0; k];
        let mut changed = false;
        for p in partials {
            sums.iter_mut().zip(&p.sums).for_each(|(s, x)| *s += x);
            weights
                .iter_mut()
                .zip(&p.weights)
                .for_each(|(w, x)| *w += x);
            changed |= p.changed;
        }
        if weights.contains(&0.0) {
            let labels: Vec<u32> = assigned.iter().map(|a| a.label).collect();
            relocate_empty(points, &centers, &labels, &mut sums, &mut weights);
        }
        let mut shift = 0.0;
        let mut moves = vec![0.0; k];
        for (j, w) in weights.iter().enumerate() {
            let row = j * dim..(j + 1) * dim;
            if *w > 0.0 {
                sums[row.clone()].iter_mut().for_each(|s| *s /= w);
            } else {
                // Only possible with zero-weight points: keep the centre where it was.
                sums[row.clone()].copy_from_slice(&centers[row.clone()]);
            }
            let moved = squared_distance(&sums[row.clone()], &centers[row]);
            shift += moved;
            moves[j] = moved.sqrt();
        }
        centers = sums;
        if !changed {
            strict = true;
            converged = true;
            break;
        }
        moved = Moves::new(moves);
        if shift <= tolerance {
            converged = true;
            break;
        }
    }
    if !strict {
        let half_gaps = half_gaps(&centers, dim);
        map_chunks(&mut assigned, threads, |first, chunk| {
            by_dim!(
                dim,
                assign_and_sum(points, &centers, &half_gaps, &moved, first, chunk)
            )
        });
    }
    let labels: Vec<u32> = assigned.iter().map(|a| a.label).collect();
    let inertia = inertia(points, &centers, &labels);
    Run {
        centers,
        labels,
        inertia,
        iterations,
        converged,
    }
}

/// Half the distance from each centre to its nearest other centre.
fn half_gaps(centers: &[f64], dim: usize) -> Vec<f64> {
    let k = centers.len() / dim;
    let row = |j: usize| &centers[j * dim..(j + 1) * dim];
    (0..k)
        .map(|j| {
            let nearest = (0..k)
                .filter(|&other| other != j)
                .map(|other| squared_distance(row(j), row(other)))
                .fold(f64::INFINITY, f64::min);
            nearest.sqrt() / 2.0
        })
        .collect()
}

/// How far each centre moved, and the two largest moves: a point's upper bound grows by its
/// own centre's move, its lower bound shrinks by the largest move of any other centre.
struct Moves {
    moves: Vec<f64>,
    largest: f64,
    second: f64,
    at: usize,
}

impl Moves {
    fn new(moves: Vec<f64>) -> Self {
        let (mut largest, mut second, mut at) = (0.0, 0.0, usize::MAX);
        for (j, &m) in moves.iter().enumerate() {
            if m > largest {
                (second, largest, at) = (largest, m, j);
            } else if m > second {
                second = m;
            }
        }
        Self {
            moves,
            largest,
            second,
            at,
        }
    }

    /// The largest move of a centre other than `j`.
    #[inline]
    fn others(&self, j: usize) -> f64 {
        if j == self.at {
            self.second
        } else {
            self.largest
        }
    }
}

/// Whether a point with these bounds keeps its centre: its upper bound is clearly below the
/// distance to any other centre.
#[inline]
fn stays(upper: f64, limit: f64) -> bool {
    upper < limit * (1.0 - MARGIN)
}

/// Assigns the points of one chunk to their nearest centres and sums them per cluster; `D`
/// as in [`squared_distance_n`] (the feature count, or 0 for any).
fn assign_and_sum<const D: usize>(
    points: &Points,
    centers: &[f64],
    half_gaps: &[f64],
    moved: &Moves,
    first: usize,
    chunk: &mut [Assignment],
) -> Partial {
    // A constant when `D` is, so that the slicing below folds away.
    let dim = if D == 0 { points.dim() } else { D };
    let k = centers.len() / dim;
    let mut partial = Partial {
        sums: vec![0.0; k * dim],
        weights: vec![0.0; k],
        changed: false,
    };
    let values = &points.values()[first * dim..(first + chunk.len()) * dim];
    let weights = &points.weights()[first..first + chunk.len()];
    for ((a, point), &w) in chunk.iter_mut().zip(values.chunks_exact(dim)).zip(weights) {
        let old = a.label;
        let mut keep = false;
        if let Some(&gap) = half_gaps.get(old as usize) {
            let j = old as usize;
            a.upper += moved.moves[j];
            a.lower -= moved.others(j);
            let limit = gap.max(a.lower);
            keep = stays(a.upper, limit);
            if !keep {
                a.upper = squared_distance_n::<D>(point, &centers[j * dim..(j + 1) * dim]).sqrt();
                keep = stays(a.upper, limit);
            }
        }
        if !keep {
            let (j, best, second) = two_nearest::<D>(point, centers, dim);
            a.label = j;
            a.upper = best.sqrt();
            a.lower = second.sqrt();
            partial.changed |= old != j;
        }
        let j = a.label as usize;
        partial.weights[j] += w;
        for (s, x) in partial.sums[j * dim..(j + 1) * dim].iter_mut().zip(point) {
            *s += w * x;
        }
    }
    partial
}

/// The nearest centre (ties to the lower index), its squared distance and the squared
/// distance to the next nearest.
#[inline]
fn two_nearest<const D: usize>(point: &[f64], centers: &[f64], dim: usize) -> (u32, f64, f64) {
    let (mut label, mut best, mut second) = (0, f64::INFINITY, f64::INFINITY);
    for (j, center) in centers.chunks_exact(dim).enumerate() {
        let d = squared_distance_n::<D>(point, center);
        let nearer = d < best;
        second = if nearer { best } else { second.min(d) };
        best = if nearer { d } else { best };
        label = if nearer { j as u32 } else { label };
    }
    (label, best, second)
}

/// Gives each empty cluster the point farthest from its current centre (farthest first, ties
/// to the lower index), moving that point's weight out of its old cluster's sums.
fn relocate_empty(
    points: &Points,
    centers: &[f64],
    labels: &[u32],
    sums: &mut [f64],
    weights: &mut [f64],
) {
    let empty: Vec<usize> = (0..weights.len()).filter(|&j| weights[j] == 0.0).collect();
    if empty.is_empty() {
        return;
    }
    let dim = points.dim();
    let distance = |i: usize| {
        let j = labels[i] as usize;
        squared_distance(points.row(i), &centers[j * dim..(j + 1) * dim])
    };
    let mut far: Vec<(f64, usize)> = (0..points.len())
        .filter(|&i| points.weights()[i] > 0.0)
        .map(|i| (distance(i), i))
        .collect();
    far.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (&j, &(_, i)) in empty.iter().zip(&far) {
        let w = points.weights()[i];
        let old = labels[i] as usize;
        for (d, x) in points.row(i).iter().enumerate() {
            sums[old * dim + d] -= x * w;
            sums[j * dim + d] = x * w;
        }
        weights[old] -= w;
        weights[j] = w;
    }
}

/// The weighted sum of squared distances from each point to its labelled centre.
pub fn inertia(points: &Points, centers: &[f64], labels: &[u32]) -> f64 {
    let dim = points.dim();
    labels
        .iter()
        .enumerate()
        .map(|(i, &j)| {
            let j = j as usize;
            points.weights()[i] * squared_distance(points.row(i), &centers[j * dim..(j + 1) * dim])
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_blobs() -> Points {
        Points::unweighted(
            vec![
                0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 10.0, 10.0, 10.0, 11.0, 11.0, 10.0,
            ],
            2,
        )
    }

    #[test]
    fn converges_on_two_blobs() {
        let run = lloyd(&two_blobs(), vec![0.0, 0.0, 0.0, 1.0], 300, 0.0, 1);
        assert!(run.converged);
        assert_eq!(run.labels, vec![0, 0, 0, 1, 1, 1]);
        let third = 1.0 / 3.0;
        assert_eq!(run.centers, vec![third, third, 10.0 + third, 10.0 + third]);
        // Each blob: squared distances 2/9 + 5/9 + 5/9 = 4/3.
        assert!((run.inertia - 8.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn an_empty_cluster_takes_the_farthest_point() {
        // Both initial centres far away on one side: the second gets no points at first.
        let run = lloyd(&two_blobs(), vec![-5.0, -5.0, -6.0, -6.0], 300, 0.0, 1);
        assert!(run.converged);
        assert_eq!(run.labels, vec![0, 0, 0, 1, 1, 1]);
        assert!((run.inertia - 8.0 / 3.0).abs() < 1e-12);
    }

    /// Plain Lloyd, every distance computed, as the reference for the bounded assignment.
    fn exhaustive(points: &Points, mut centers: Vec<f64>, iterations: u32) -> Vec<f64> {
        use super::super::geometry::nearest;
        let dim = points.dim();
        let k = centers.len() / dim;
        let mut labels = vec![0; points.len()];
        for _ in 0..iterations {
            let mut sums = vec![0.0; k * dim];
            let mut counts = vec![0.0; k];
            for (i, label) in labels.iter_mut().enumerate() {
                *label = nearest(points.row(i), &centers).0;
                counts[*label as usize] += 1.0;
                for (d, x) in points.row(i).iter().enumerate() {
                    sums[*label as usize * dim + d] += x;
                }
            }
            for j in 0..k {
                for d in 0..dim {
                    sums[j * dim + d] /= counts[j];
                }
            }
            centers = sums;
        }
        centers
    }

    #[test]
    fn bounds_give_the_labels_of_every_distance_computed() {
        // Three overlapping 3-feature blobs of distinct points.
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12_345);
        let mut next = || rng.random::<f64>();
        let mut values = Vec::new();
        for i in 0..3000 {
            let centre = (i % 3) as f64 * 1.5;
            for _ in 0..3 {
                values.push(centre + next() + next() - 1.0);
            }
        }
        let points = Points::unweighted(values, 3);
        let start = points
            .row(0)
            .iter()
            .chain(points.row(1))
            .chain(points.row(2));
        let start: Vec<f64> = start.chain(points.row(3)).copied().collect();
        for iterations in [1, 2, 5, 20] {
            let run = lloyd(&points, start.clone(), iterations, 0.0, 1);
            // A run that converged early stops; the reference then runs as many iterations.
            let centers = exhaustive(&points, start.clone(), run.iterations);
            assert_eq!(run.centers, centers, "after {iterations} iterations");
            let reassigned: Vec<u32> = (0..points.len())
                .map(|i| super::super::geometry::nearest(points.row(i), &centers).0)
                .collect();
            assert_eq!(run.labels, reassigned, "after {iterations} iterations");
        }
    }

    #[test]
    fn any_thread_count_gives_the_same_run() {
        let values: Vec<f64> = (0..20_000)
            .map(|i| ((i * 7919) % 1000) as f64 / 100.0)
            .collect();
        let points = Points::unweighted(values, 2);
        let start = vec![0.0, 0.0, 5.0, 5.0, 9.0, 1.0];
        let one = lloyd(&points, start.clone(), 50, 1e-8, 1);
        let three = lloyd(&points, start, 50, 1e-8, 3);
        assert_eq!(one, three);
    }
}
