//! A whole k-means fit: scaling, `n_init` seeded k-means++ starts each refined by Lloyd's
//! iterations, the run with the lowest inertia kept, and its clusters put in a stable order.

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::chunks::cores;
use super::lloyd::{Run, lloyd};
use super::points::{Points, Scaling, compare_rows};
use super::seeding::kmeans_plus_plus;

/// How to fit.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansOptions {
    pub k: usize,
    /// Z-score every feature (population standard deviation) before clustering.
    pub standardize: bool,
    /// Seeds the random k-means++ starts; the same seed and data give the same clusters.
    pub seed: u64,
    /// Starts to try; the one with the lowest inertia wins.
    pub n_init: u32,
    pub max_iter: u32,
    /// Converged when the summed squared centre shift is at most `tol` times the mean
    /// variance of the (scaled) features, scikit-learn's rule.
    pub tol: f64,
}

impl Default for KMeansOptions {
    fn default() -> Self {
        Self {
            k: 4,
            standardize: true,
            seed: 0,
            n_init: 10,
            max_iter: 300,
            tol: 1e-4,
        }
    }
}

/// Why there is no fit.
#[derive(Debug, Clone, PartialEq)]
pub enum KMeansError {
    /// k below 2.
    TooFewClusters(usize),
    /// Fewer distinct points than clusters.
    TooFewPoints { k: usize, distinct: usize },
}

impl fmt::Display for KMeansError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooFewClusters(k) => write!(f, "k must be 2 or more, got {k}"),
            Self::TooFewPoints { k, distinct } => write!(
                f,
                "k = {k} needs at least {k} distinct points, the data has {distinct}"
            ),
        }
    }
}

impl std::error::Error for KMeansError {}

/// A fitted clustering. Clusters are numbered by size (total weight, largest first), ties
/// by their scaled centre in lexicographic order.
#[derive(Debug, Clone, PartialEq)]
pub struct Clustering {
    pub dim: usize,
    pub k: usize,
    pub scaling: Scaling,
    /// Centres in the scaled space the clustering was made in, `k` rows of `dim`.
    pub scaled_centers: Vec<f64>,
    /// Centres in the original units.
    pub centers: Vec<f64>,
    /// Total weight (rows) of each cluster.
    pub sizes: Vec<f64>,
    /// Weighted sum of squared scaled distances to the assigned centres.
    pub inertia: f64,
    /// Each point's cluster (0-based, in the order above).
    pub labels: Vec<u32>,
    pub iterations: u32,
    pub converged: bool,
}

/// Fits k-means to `points` (usually [`Points::distinct`]).
///
/// # Errors
/// When k is below 2 or the points have fewer than k distinct rows of positive weight.
pub fn fit_kmeans(points: &Points, options: &KMeansOptions) -> Result<Clustering, KMeansError> {
    let k = options.k;
    if k < 2 {
        return Err(KMeansError::TooFewClusters(k));
    }
    let distinct = distinct_weighted_up_to(points, k);
    if distinct < k {
        return Err(KMeansError::TooFewPoints { k, distinct });
    }
    let scaling = if options.standardize {
        Scaling::standardize(points)
    } else {
        Scaling::identity(points.dim())
    };
    let scaled = points.scaled(&scaling);
    let (_, stds) = scaled.moments();
    let mean_variance = stds.iter().map(|s| s * s).sum::<f64>() / stds.len() as f64;
    let tolerance = options.tol * mean_variance;
    let best = best_run(&scaled, options, tolerance);
    Ok(ordered(scaled.dim(), k, scaling, &scaled, best))
}

/// Distinct rows with positive weight (rows that compare equal count once), counted up to
/// `limit`: a fit only needs to know there are k of them, which the first rows usually show,
/// where counting them all would sort every row.
fn distinct_weighted_up_to(points: &Points, limit: usize) -> usize {
    let mut seen: Vec<&[f64]> = Vec::with_capacity(limit);
    for i in 0..points.len() {
        if points.weights()[i] <= 0.0 {
            continue;
        }
        let row = points.row(i);
        if !seen.iter().any(|s| compare_rows(s, row).is_eq()) {
            seen.push(row);
            if seen.len() >= limit {
                break;
            }
        }
    }
    seen.len()
}

/// One start: seeded k-means++, then Lloyd.
fn run(
    points: &Points,
    options: &KMeansOptions,
    tolerance: f64,
    start: u32,
    threads: usize,
) -> Run {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    rng.set_stream(u64::from(start));
    let centers = kmeans_plus_plus(points, options.k, &mut rng);
    lloyd(points, centers, options.max_iter.max(1), tolerance, threads)
}

/// The run with the lowest inertia, ties to the earlier start. Starts run side by side when
/// there are several, otherwise each run's passes are split over the cores; both give the
/// same numbers.
fn best_run(points: &Points, options: &KMeansOptions, tolerance: f64) -> Run {
    let starts = options.n_init.max(1);
    let cores = cores();
    let runs: Vec<(u32, Run)> = if starts > 1 && cores > 1 {
        let next = AtomicU32::new(0);
        let done = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..cores.min(starts as usize) {
                scope.spawn(|| {
                    loop {
                        let start = next.fetch_add(1, Ordering::Relaxed);
                        if start >= starts {
                            break;
                        }
                        let result = run(points, options, tolerance, start, 1);
                        if let Ok(mut done) = done.lock() {
                            done.push((start, result));
                        }
                    }
                });
            }
        });
        done.into_inner().unwrap_or_default()
    } else {
        (0..starts)
            .map(|start| (start, run(points, options, tolerance, start, cores)))
            .collect()
    };
    runs.into_iter()
        .min_by(|(a, ra), (b, rb)| ra.inertia.total_cmp(&rb.inertia).then(a.cmp(b)))
        .map(|(_, r)| r)
        .unwrap_or_else(|| run(points, options, tolerance, 0, cores))
}

/// Renumbers the clusters of `run` by size, then centre, and maps the centres back.
fn ordered(dim: usize, k: usize, scaling: Scaling, points: &Points, run: Run) -> Clustering {
    let mut sizes = vec![0.0; k];
    for (label, w) in run.labels.iter().zip(points.weights()) {
        sizes[*label as usize] += w;
    }
    let center = |j: usize| &run.centers[j * dim..(j + 1) * dim];
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| {
        sizes[b]
            .total_cmp(&sizes[a])
            .then_with(|| compare_rows(center(a), center(b)))
    });
    let mut rank = vec![0u32; k];
    for (new, &old) in order.iter().enumerate() {
        rank[old] = new as u32;
    }
    let scaled_centers: Vec<f64> = order.iter().flat_map(|&j| center(j).to_vec()).collect();
    let mut centers = scaled_centers.clone();
    for row in centers.chunks_exact_mut(dim) {
        scaling.unapply(row);
    }
    Clustering {
        dim,
        k,
        scaling,
        scaled_centers,
        centers,
        sizes: order.iter().map(|&j| sizes[j]).collect(),
        inertia: run.inertia,
        labels: run.labels.iter().map(|&l| rank[l as usize]).collect(),
        iterations: run.iterations,
        converged: run.converged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs() -> Points {
        // Three blobs of 3, 2 and 1 distinct points; the middle one weighs most.
        Points::new(
            vec![
                0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 10.0, 10.0, 10.0, 11.0, 30.0, 0.0,
            ],
            2,
            vec![1.0, 1.0, 1.0, 5.0, 5.0, 1.0],
        )
    }

    #[test]
    fn clusters_are_numbered_by_size() {
        let options = KMeansOptions {
            k: 3,
            standardize: false,
            ..KMeansOptions::default()
        };
        let fit = fit_kmeans(&blobs(), &options).unwrap();
        assert_eq!(fit.sizes, vec![10.0, 3.0, 1.0]);
        assert_eq!(fit.labels, vec![1, 1, 1, 0, 0, 2]);
        assert_eq!(&fit.centers[..2], &[10.0, 10.5]);
        assert!(fit.converged);
        let again = fit_kmeans(&blobs(), &options).unwrap();
        assert_eq!(fit, again, "the same seed gives the same fit");
    }

    #[test]
    fn standardized_centres_come_back_in_original_units() {
        let fit = fit_kmeans(
            &blobs(),
            &KMeansOptions {
                k: 3,
                ..KMeansOptions::default()
            },
        )
        .unwrap();
        assert_eq!(fit.sizes, vec![10.0, 3.0, 1.0]);
        assert!((fit.centers[0] - 10.0).abs() < 1e-12 && (fit.centers[1] - 10.5).abs() < 1e-12);
        assert!(fit.scaling.stds.iter().all(|&s| s > 1.0));
    }

    #[test]
    fn too_few_distinct_points_or_clusters() {
        let points = Points::new(vec![1.0, 1.0, 2.0], 1, vec![1.0, 4.0, 0.0]);
        let options = KMeansOptions {
            k: 2,
            ..KMeansOptions::default()
        };
        assert_eq!(
            fit_kmeans(&points, &options).unwrap_err().to_string(),
            "k = 2 needs at least 2 distinct points, the data has 1"
        );
        let options = KMeansOptions {
            k: 1,
            ..KMeansOptions::default()
        };
        assert_eq!(
            fit_kmeans(&points, &options),
            Err(KMeansError::TooFewClusters(1))
        );
    }
}
