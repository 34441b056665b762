//! k-means on any finite or infinite features (NaN rows are missing, as `kmeans_fit` skips
//! them) and any options the SQL accepts: a fit or a clear error, labels and sizes that agree,
//! the same clustering when fitted twice, and quality measures in their ranges.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use seglake_udfs::math::kmeans::quality::{davies_bouldin, silhouette};
use seglake_udfs::math::kmeans::{KMeansError, KMeansOptions, Points, fit_kmeans};

#[derive(Debug, Arbitrary)]
struct Input {
    dim: u8,
    values: Vec<f64>,
    /// Small whole numbers, for the many identical rows of RFM scores.
    small: Vec<i8>,
    k: u8,
    standardize: bool,
    seed: u64,
    n_init: u8,
    max_iter: u8,
    tol: u8,
}

fuzz_target!(|input: Input| {
    let dim = usize::from(input.dim % 4) + 1;
    let mut values: Vec<f64> = input.values.iter().copied().take(256 * dim).collect();
    values.extend(input.small.iter().map(|&v| f64::from(v % 4)));
    let rows: Vec<f64> = values
        .chunks_exact(dim)
        .filter(|row| !row.iter().any(|v| v.is_nan()))
        .flatten()
        .copied()
        .collect();
    let options = KMeansOptions {
        k: usize::from(input.k % 10),
        standardize: input.standardize,
        seed: input.seed,
        n_init: u32::from(input.n_init % 4) + 1,
        max_iter: u32::from(input.max_iter % 60) + 1,
        tol: [0.0, 1e-4, 1e-2, 1.0][usize::from(input.tol % 4)],
    };
    let points = Points::distinct(rows, dim);
    let fitted = fit_kmeans(&points, &options);
    let again = fit_kmeans(&points, &options);
    assert_eq!(
        format!("{fitted:?}"),
        format!("{again:?}"),
        "not deterministic"
    );
    let clustering = match fitted {
        Ok(c) => c,
        Err(KMeansError::TooFewClusters(k)) => {
            assert!(options.k < 2, "k = {k}");
            return;
        }
        Err(KMeansError::TooFewPoints { k, distinct }) => {
            assert!(distinct < k && distinct <= points.len());
            return;
        }
    };
    let k = options.k;
    assert_eq!(clustering.k, k);
    assert_eq!(clustering.labels.len(), points.len());
    assert_eq!(clustering.centers.len(), k * dim);
    assert!(clustering.labels.iter().all(|&l| (l as usize) < k));
    let mut sizes = vec![0.0; k];
    for (label, weight) in clustering.labels.iter().zip(points.weights()) {
        sizes[*label as usize] += weight;
    }
    assert_eq!(sizes, clustering.sizes, "sizes are the labels' weights");
    assert!(
        clustering.sizes.windows(2).all(|w| w[0] >= w[1]),
        "clusters numbered by size: {:?}",
        clustering.sizes
    );
    let bounded = points.values().iter().all(|v| v.abs() < 1e100);
    if bounded {
        assert!(
            clustering.inertia.is_finite() && clustering.inertia >= 0.0,
            "inertia {} of bounded points",
            clustering.inertia
        );
    }
    if points.len() <= 512 {
        if let Some(s) = silhouette(&points, &clustering.labels) {
            assert!(
                s.is_nan() || (-1.0 - 1e-12..=1.0 + 1e-12).contains(&s),
                "silhouette {s}"
            );
        }
        if let Some(db) = davies_bouldin(&points, &clustering.labels) {
            assert!(db.is_nan() || db >= 0.0, "davies_bouldin {db}");
        }
    }
});
