//! Asymptotic standard errors of maximum-likelihood estimates: the square roots of the
//! diagonal of the inverse observed information (minus the Hessian of the log-likelihood),
//! with the Hessian from central differences of the analytic gradient.

/// Standard errors at the estimate `at`, given the gradient of the total log-likelihood.
/// `None` when the information matrix is not positive definite (not a maximum).
pub fn standard_errors(gradient: impl Fn(&[f64]) -> Vec<f64>, at: &[f64]) -> Option<Vec<f64>> {
    let n = at.len();
    // information[i * n + j]: minus the second derivative by parameters i and j.
    let mut information = vec![0.0; n * n];
    for j in 0..n {
        let h = 1e-5 * at[j].abs().max(1e-8);
        let mut up = at.to_vec();
        let mut down = at.to_vec();
        up[j] += h;
        down[j] -= h;
        let (g_up, g_down) = (gradient(&up), gradient(&down));
        for (i, (u, d)) in g_up.iter().zip(&g_down).enumerate().take(n) {
            information[i * n + j] = -(u - d) / (2.0 * h);
        }
    }
    let symmetric: Vec<f64> = (0..n * n)
        .map(|ij| (information[ij] + information[(ij % n) * n + ij / n]) / 2.0)
        .collect();
    let covariance = invert(symmetric, n)?;
    (0..n)
        .map(|i| {
            let v = covariance[i * n + i];
            (v > 0.0 && v.is_finite()).then(|| v.sqrt())
        })
        .collect()
}

/// The inverse of a small `n` by `n` matrix (row after row) by Gauss-Jordan elimination with
/// partial pivoting; `None` when it is singular.
fn invert(mut m: Vec<f64>, n: usize) -> Option<Vec<f64>> {
    let mut inverse: Vec<f64> = (0..n * n)
        .map(|ij| f64::from(u8::from(ij / n == ij % n)))
        .collect();
    let swap_rows = |m: &mut Vec<f64>, a: usize, b: usize| {
        for j in 0..n {
            m.swap(a * n + j, b * n + j);
        }
    };
    for col in 0..n {
        let pivot =
            (col..n).max_by(|&a, &b| m[a * n + col].abs().total_cmp(&m[b * n + col].abs()))?;
        let value = m[pivot * n + col];
        if value.abs() < 1e-300 || !value.is_finite() {
            return None;
        }
        swap_rows(&mut m, col, pivot);
        swap_rows(&mut inverse, col, pivot);
        for j in 0..n {
            m[col * n + j] /= value;
            inverse[col * n + j] /= value;
        }
        for row in (0..n).filter(|&r| r != col) {
            let factor = m[row * n + col];
            for j in 0..n {
                m[row * n + j] -= factor * m[col * n + j];
                inverse[row * n + j] -= factor * inverse[col * n + j];
            }
        }
    }
    Some(inverse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_mean_and_variance() {
        // n draws from N(mu, s2): the MLE's standard errors are sqrt(s2 / n) and s2 sqrt(2 / n).
        let (n, mu, s2) = (400.0, 3.0, 2.0);
        // Sufficient statistics of a sample whose mean is mu and variance s2.
        let gradient = |theta: &[f64]| {
            let (m, v) = (theta[0], theta[1]);
            let ss = n * (s2 + (mu - m) * (mu - m));
            vec![n * (mu - m) / v, -n / (2.0 * v) + ss / (2.0 * v * v)]
        };
        let se = standard_errors(gradient, &[mu, s2]).unwrap();
        assert!((se[0] - (s2 / n).sqrt()).abs() < 1e-6, "{se:?}");
        assert!((se[1] - s2 * (2.0 / n).sqrt()).abs() < 1e-6, "{se:?}");
    }

    #[test]
    fn a_minimum_has_no_standard_errors() {
        assert_eq!(standard_errors(|t: &[f64]| vec![t[0]], &[0.0]), None);
    }
}
