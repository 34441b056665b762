//! The points k-means works on: identical rows merged into weights, in a canonical order so a
//! fit does not depend on the order its rows arrived in, and z-score scaling.

use std::cmp::Ordering;

/// Points of `dim` coordinates each, row after row, with a weight per point.
#[derive(Debug, Clone, PartialEq)]
pub struct Points {
    values: Vec<f64>,
    dim: usize,
    weights: Vec<f64>,
}

impl Points {
    /// Points with explicit weights.
    ///
    /// # Panics
    /// When `values` does not hold `weights.len()` rows of `dim` coordinates (a caller's bug).
    pub fn new(values: Vec<f64>, dim: usize, weights: Vec<f64>) -> Self {
        assert!(dim > 0 && values.len() == weights.len() * dim);
        Self {
            values,
            dim,
            weights,
        }
    }

    /// Every row with weight 1, in the given order.
    pub fn unweighted(values: Vec<f64>, dim: usize) -> Self {
        let n = values.len() / dim.max(1);
        Self::new(values, dim, vec![1.0; n])
    }

    /// The distinct rows of `values` (rows of `dim` coordinates), sorted lexicographically,
    /// each weighted by how often it occurs. Row order in, and so partitioning, cannot change
    /// a fit that starts from these points.
    pub fn distinct(mut values: Vec<f64>, dim: usize) -> Self {
        for v in &mut values {
            // -0.0 and 0.0 are the same point.
            *v += 0.0;
        }
        let n = values.len() / dim.max(1);
        let row = |i: usize| &values[i * dim..(i + 1) * dim];
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_unstable_by(|&a, &b| compare_rows(row(a), row(b)));
        let mut distinct = Vec::with_capacity(values.len());
        let mut weights: Vec<f64> = Vec::new();
        let mut last: Option<usize> = None;
        for i in order {
            match last {
                Some(l) if row(l) == row(i) => {
                    if let Some(w) = weights.last_mut() {
                        *w += 1.0;
                    }
                }
                _ => {
                    distinct.extend_from_slice(row(i));
                    weights.push(1.0);
                    last = Some(i);
                }
            }
        }
        Self::new(distinct, dim, weights)
    }

    pub fn len(&self) -> usize {
        self.weights.len()
    }

    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }

    pub fn values(&self) -> &[f64] {
        &self.values
    }

    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    pub fn total_weight(&self) -> f64 {
        self.weights.iter().sum()
    }

    /// The weighted mean and population standard deviation of every coordinate.
    pub fn moments(&self) -> (Vec<f64>, Vec<f64>) {
        let total = self.total_weight();
        let mut means = vec![0.0; self.dim];
        for (i, w) in self.weights.iter().enumerate() {
            for (m, x) in means.iter_mut().zip(self.row(i)) {
                *m += w * x;
            }
        }
        means.iter_mut().for_each(|m| *m /= total);
        let mut variances = vec![0.0; self.dim];
        for (i, w) in self.weights.iter().enumerate() {
            for ((v, x), m) in variances.iter_mut().zip(self.row(i)).zip(&means) {
                *v += w * (x - m) * (x - m);
            }
        }
        let stds = variances.iter().map(|v| (v / total).sqrt()).collect();
        (means, stds)
    }

    /// The points mapped through `scaling`.
    pub fn scaled(&self, scaling: &Scaling) -> Self {
        let mut values = self.values.clone();
        for row in values.chunks_exact_mut(self.dim) {
            scaling.apply(row);
        }
        Self::new(values, self.dim, self.weights.clone())
    }
}

/// Lexicographic order of two rows (total order on floats).
pub fn compare_rows(a: &[f64], b: &[f64]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.total_cmp(y))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// A per-coordinate affine map `(x - mean) / std`: z-scores, or the identity.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaling {
    pub means: Vec<f64>,
    pub stds: Vec<f64>,
}

impl Scaling {
    /// No scaling: means 0, standard deviations 1.
    pub fn identity(dim: usize) -> Self {
        Self {
            means: vec![0.0; dim],
            stds: vec![1.0; dim],
        }
    }

    /// Z-scores with the population standard deviation of `points`, as scikit-learn's
    /// `StandardScaler`; a constant coordinate is centred but not scaled (its std is taken as 1).
    pub fn standardize(points: &Points) -> Self {
        let (means, stds) = points.moments();
        let stds = stds
            .into_iter()
            .map(|s| if s > 0.0 && s.is_finite() { s } else { 1.0 })
            .collect();
        Self { means, stds }
    }

    /// Maps a row in original units to scaled units, in place.
    pub fn apply(&self, row: &mut [f64]) {
        for ((x, m), s) in row.iter_mut().zip(&self.means).zip(&self.stds) {
            *x = (*x - m) / s;
        }
    }

    /// Maps a row in scaled units back to original units, in place.
    pub fn unapply(&self, row: &mut [f64]) {
        for ((x, m), s) in row.iter_mut().zip(&self.means).zip(&self.stds) {
            *x = *x * s + m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_rows_are_sorted_and_weighted() {
        let points = Points::distinct(vec![2.0, 1.0, 0.0, -0.0, 2.0, 1.0, 0.0, 5.0], 2);
        assert_eq!(points.values(), &[0.0, 0.0, 0.0, 5.0, 2.0, 1.0]);
        assert_eq!(points.weights(), &[1.0, 1.0, 2.0]);
    }

    #[test]
    fn standardizing_gives_zero_mean_unit_std() {
        let points = Points::distinct(vec![1.0, 7.0, 2.0, 7.0, 3.0, 7.0, 3.0, 7.0], 2);
        let scaling = Scaling::standardize(&points);
        // Rows 1, 2, 3, 3: mean 2.25, population variance 0.6875.
        assert_eq!(scaling.means, vec![2.25, 7.0]);
        assert!((scaling.stds[0] - 0.6875_f64.sqrt()).abs() < 1e-15);
        assert_eq!(scaling.stds[1], 1.0, "a constant column is not scaled");
        let scaled = points.scaled(&scaling);
        let (means, stds) = scaled.moments();
        assert!(means[0].abs() < 1e-15 && (stds[0] - 1.0).abs() < 1e-15);
        let mut row = scaled.row(0).to_vec();
        scaling.unapply(&mut row);
        assert!((row[0] - 1.0).abs() < 1e-15 && row[1] == 7.0);
    }
}
