//! How good a clustering is: Davies-Bouldin index, silhouette coefficient and the adjusted
//! Rand index, with the definitions scikit-learn's `metrics` use. Points carry weights that
//! count as that many identical rows.

use super::geometry::squared_distance;
use super::points::Points;

/// The clusters that have points, with each one's total weight and mean.
fn cluster_means(points: &Points, labels: &[u32]) -> Vec<Option<(f64, Vec<f64>)>> {
    let dim = points.dim();
    let k = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    let mut clusters: Vec<(f64, Vec<f64>)> = vec![(0.0, vec![0.0; dim]); k];
    for (i, &l) in labels.iter().enumerate() {
        let w = points.weights()[i];
        let (total, sum) = &mut clusters[l as usize];
        *total += w;
        sum.iter_mut()
            .zip(points.row(i))
            .for_each(|(s, x)| *s += w * x);
    }
    clusters
        .into_iter()
        .map(|(total, mut sum)| {
            (total > 0.0).then(|| {
                sum.iter_mut().for_each(|s| *s /= total);
                (total, sum)
            })
        })
        .collect()
}

/// The Davies-Bouldin index: the mean over clusters of the largest `(s_i + s_j) / d_ij`,
/// where `s` is a cluster's mean distance to its centroid (the mean of its points) and `d` the
/// distance between centroids. Lower is better; `None` with fewer than two clusters.
pub fn davies_bouldin(points: &Points, labels: &[u32]) -> Option<f64> {
    let means = cluster_means(points, labels);
    // Labels without points are left out, as if the clusters were renumbered.
    let present: Vec<usize> = (0..means.len()).filter(|&j| means[j].is_some()).collect();
    let clusters: Vec<(f64, Vec<f64>)> = means.into_iter().flatten().collect();
    if clusters.len() < 2 {
        return None;
    }
    let mut spread = vec![0.0; clusters.len()];
    for (i, &l) in labels.iter().enumerate() {
        let c = present.binary_search(&(l as usize)).unwrap_or(0);
        spread[c] += points.weights()[i] * squared_distance(points.row(i), &clusters[c].1).sqrt();
    }
    spread
        .iter_mut()
        .zip(&clusters)
        .for_each(|(s, (total, _))| *s /= total);
    if spread.iter().all(|&s| s == 0.0) {
        return Some(0.0);
    }
    let n = clusters.len();
    let mut total = 0.0;
    for i in 0..n {
        let worst = (0..n)
            .filter(|&j| j != i)
            .map(|j| {
                let d = squared_distance(&clusters[i].1, &clusters[j].1).sqrt();
                if d > 0.0 {
                    (spread[i] + spread[j]) / d
                } else {
                    0.0
                }
            })
            .fold(0.0, f64::max);
        total += worst;
    }
    Some(total / n as f64)
}

/// The mean silhouette coefficient `(b - a) / max(a, b)` over all points, where `a` is a
/// point's mean distance to the rest of its cluster and `b` its smallest mean distance to
/// another cluster; a point alone in its cluster scores 0. Exact: it compares every pair, so
/// callers sample large inputs. `None` unless there are 2 to n-1 clusters.
pub fn silhouette(points: &Points, labels: &[u32]) -> Option<f64> {
    let clusters = cluster_means(points, labels);
    let k = clusters.len();
    let sizes: Vec<f64> = clusters
        .iter()
        .map(|c| c.as_ref().map_or(0.0, |c| c.0))
        .collect();
    let present = sizes.iter().filter(|&&s| s > 0.0).count();
    let total: f64 = sizes.iter().sum();
    if present < 2 || present as f64 >= total {
        return None;
    }
    let n = points.len();
    let w = points.weights();
    // distances[i * k + c]: point i's weighted distance sum to cluster c.
    let mut distances = vec![0.0; n * k];
    for i in 0..n {
        for j in i + 1..n {
            let d = squared_distance(points.row(i), points.row(j)).sqrt();
            distances[i * k + labels[j] as usize] += w[j] * d;
            distances[j * k + labels[i] as usize] += w[i] * d;
        }
    }
    let mut score = 0.0;
    for i in 0..n {
        let own = labels[i] as usize;
        let others = sizes[own] - 1.0;
        if others <= 0.0 {
            continue;
        }
        let a = distances[i * k + own] / others;
        let b = (0..k)
            .filter(|&c| c != own && sizes[c] > 0.0)
            .map(|c| distances[i * k + c] / sizes[c])
            .fold(f64::INFINITY, f64::min);
        let s = if a.max(b) > 0.0 {
            (b - a) / a.max(b)
        } else {
            0.0
        };
        score += w[i] * s;
    }
    Some(score / total)
}

/// The adjusted Rand index of two labelings of the same rows: 1 for identical partitions,
/// about 0 for independent ones.
pub fn adjusted_rand_index(a: &[u32], b: &[u32]) -> f64 {
    let n = a.len().min(b.len());
    let rows = a.iter().map(|&x| x as usize + 1).max().unwrap_or(0);
    let cols = b.iter().map(|&x| x as usize + 1).max().unwrap_or(0);
    let mut table = vec![0.0; rows * cols];
    for (x, y) in a.iter().zip(b) {
        table[*x as usize * cols + *y as usize] += 1.0;
    }
    let pairs = |v: f64| v * (v - 1.0) / 2.0;
    let index: f64 = table.iter().map(|&v| pairs(v)).sum();
    let row_sums: f64 = table
        .chunks(cols.max(1))
        .map(|r| pairs(r.iter().sum()))
        .sum();
    let col_sums: f64 = (0..cols)
        .map(|c| pairs((0..rows).map(|r| table[r * cols + c]).sum()))
        .sum();
    let total = pairs(n as f64);
    if total == 0.0 {
        return 1.0;
    }
    let expected = row_sums * col_sums / total;
    let max = (row_sums + col_sums) / 2.0;
    if max == expected {
        1.0
    } else {
        (index - expected) / (max - expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> Points {
        Points::unweighted(vec![0.0, 1.0, 2.0, 10.0, 11.0], 1)
    }

    #[test]
    fn silhouette_by_hand() {
        // Point 0: a = (1 + 2) / 2 = 1.5, b = (10 + 11) / 2 = 10.5, s = 9 / 10.5.
        // Point 3: a = 1, b = (10 + 9 + 8) / 3 = 9, s = 8 / 9.
        let s = silhouette(&line(), &[0, 0, 0, 1, 1]).unwrap();
        let expected =
            (9.0 / 10.5 + (9.5 - 1.0) / 9.5 + (8.5 - 1.5) / 8.5 + 8.0 / 9.0 + (10.0 - 1.0) / 10.0)
                / 5.0;
        assert!((s - expected).abs() < 1e-15, "{s} vs {expected}");
        assert_eq!(silhouette(&line(), &[0, 0, 0, 0, 0]), None);
    }

    #[test]
    fn weights_count_as_repeated_rows() {
        let repeated = Points::unweighted(vec![0.0, 0.0, 1.0, 5.0, 6.0, 6.0], 1);
        let weighted = Points::new(vec![0.0, 1.0, 5.0, 6.0], 1, vec![2.0, 1.0, 1.0, 2.0]);
        let s1 = silhouette(&repeated, &[0, 0, 0, 1, 1, 1]).unwrap();
        let s2 = silhouette(&weighted, &[0, 0, 1, 1]).unwrap();
        assert!((s1 - s2).abs() < 1e-15);
        let d1 = davies_bouldin(&repeated, &[0, 0, 0, 1, 1, 1]).unwrap();
        let d2 = davies_bouldin(&weighted, &[0, 0, 1, 1]).unwrap();
        assert!((d1 - d2).abs() < 1e-15);
    }

    #[test]
    fn davies_bouldin_by_hand() {
        // Centroids 1 and 10.5; spreads 2/3 and 0.5; distance 9.5.
        let db = davies_bouldin(&line(), &[0, 0, 0, 1, 1]).unwrap();
        assert!((db - (2.0 / 3.0 + 0.5) / 9.5).abs() < 1e-15);
        // A label with no points is left out, as if the clusters were renumbered.
        let gap = davies_bouldin(&line(), &[0, 0, 0, 2, 2]).unwrap();
        assert_eq!(db, gap);
    }

    #[test]
    fn rand_index() {
        assert_eq!(adjusted_rand_index(&[0, 0, 1, 1], &[1, 1, 0, 0]), 1.0);
        // scikit-learn: adjusted_rand_score([0, 0, 1, 1], [0, 0, 1, 2]) = 0.5714285714285715.
        assert!(
            (adjusted_rand_index(&[0, 0, 1, 1], &[0, 0, 1, 2]) - 0.571_428_571_428_571_5).abs()
                < 1e-15
        );
    }
}
