//! Lloyd's iterations, step for step as scikit-learn's `_kmeans_single_lloyd`: assign every
//! point to its nearest centre, move each centre to the weighted mean of its points (an empty
//! cluster takes over the point farthest from its centre), stop when no label changes or the
//! centres moved less than the tolerance, then assign once more to the final centres.

use super::chunks::map_chunks;
use super::geometry::{nearest, squared_distance};
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
    let mut labels = vec![u32::MAX; points.len()];
    let mut iterations = 0;
    let mut strict = false;
    let mut converged = false;
    while iterations < max_iter {
        iterations += 1;
        let partials = map_chunks(&mut labels, threads, |first, labels| {
            assign_and_sum(points, &centers, first, labels)
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
        relocate_empty(points, &centers, &labels, &mut sums, &mut weights);
        let mut shift = 0.0;
        for (j, w) in weights.iter().enumerate() {
            let row = j * dim..(j + 1) * dim;
            if *w > 0.0 {
                sums[row.clone()].iter_mut().for_each(|s| *s /= w);
            } else {
                // Only possible with zero-weight points: keep the centre where it was.
                sums[row.clone()].copy_from_slice(&centers[row.clone()]);
            }
            shift += squared_distance(&sums[row.clone()], &centers[row]);
        }
        centers = sums;
        if !changed {
            strict = true;
            converged = true;
            break;
        }
        if shift <= tolerance {
            converged = true;
            break;
        }
    }
    if !strict {
        map_chunks(&mut labels, threads, |first, labels| {
            for (offset, label) in labels.iter_mut().enumerate() {
                *label = nearest(points.row(first + offset), &centers).0;
            }
        });
    }
    let inertia = inertia(points, &centers, &labels);
    Run {
        centers,
        labels,
        inertia,
        iterations,
        converged,
    }
}

/// Assigns the points of one chunk to their nearest centres and sums them per cluster.
fn assign_and_sum(points: &Points, centers: &[f64], first: usize, labels: &mut [u32]) -> Partial {
    let dim = points.dim();
    let k = centers.len() / dim;
    let mut partial = Partial {
        sums: vec![0.0; k * dim],
        weights: vec![0.0; k],
        changed: false,
    };
    let weights = points.weights();
    for (offset, label) in labels.iter_mut().enumerate() {
        let i = first + offset;
        let point = points.row(i);
        let (j, _) = nearest(point, centers);
        partial.changed |= *label != j;
        *label = j;
        let w = weights[i];
        let j = j as usize;
        partial.weights[j] += w;
        for (s, x) in partial.sums[j * dim..(j + 1) * dim].iter_mut().zip(point) {
            *s += w * x;
        }
    }
    partial
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
