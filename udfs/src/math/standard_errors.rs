//! Asymptotic standard errors of maximum-likelihood estimates: the square roots of the
//! diagonal of the inverse observed information (minus the Hessian of the log-likelihood),
//! with the Hessian from central differences of the analytic gradient.

use super::optimize::Objective;

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
    from_information(information, n)
}

/// Standard errors from the `n` by `n` observed information (minus the log-likelihood's
/// Hessian, row after row); `None` when it is not positive definite.
pub fn from_information(information: Vec<f64>, n: usize) -> Option<Vec<f64>> {
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

/// Standard errors as lifetimes' `summary` defines them for a fit that minimised `objective`
/// (the negative log-likelihood over `total_weight`, plus any penalty) in log-parameters:
/// `theta` the minimum, `params` the fitted parameters in their own units. The covariance of
/// the log-parameters is the inverse Hessian of the objective over the total weight (the
/// inverse observed information of the whole sample), and the delta method scales each
/// variance by the parameter squared. The Hessian is taken by central differences of the
/// objective's gradient.
///
/// `None` when the Hessian is singular or not positive on its diagonal's inverse (the minimum
/// is not one, or a parameter is not identified by the data).
pub fn from_log_objective(
    objective: &impl Objective,
    theta: &[f64],
    params: &[f64],
    total_weight: f64,
) -> Option<Vec<f64>> {
    const STEP: f64 = 1e-4;
    let n = theta.len();
    let mut hessian = vec![0.0; n * n];
    for j in 0..n {
        let mut up = theta.to_vec();
        let mut down = theta.to_vec();
        up[j] += STEP;
        down[j] -= STEP;
        let (_, g_up) = objective.value_and_gradient(&up);
        let (_, g_down) = objective.value_and_gradient(&down);
        for i in 0..n {
            hessian[i * n + j] = (g_up[i] - g_down[i]) / (2.0 * STEP);
        }
    }
    from_log_hessian(hessian, params, total_weight)
}

/// The standard errors of `params` from the Hessian (row after row) of a mean objective in
/// their logarithms, as [`from_log_objective`] defines them.
pub fn from_log_hessian(hessian: Vec<f64>, params: &[f64], total_weight: f64) -> Option<Vec<f64>> {
    let n = params.len();
    let symmetric: Vec<f64> = (0..n * n)
        .map(|ij| (hessian[ij] + hessian[(ij % n) * n + ij / n]) / 2.0)
        .collect();
    let covariance = invert(symmetric, n)?;
    (0..n)
        .map(|i| {
            let v = covariance[i * n + i] / total_weight;
            (v > 0.0 && v.is_finite()).then(|| params[i].abs() * v.sqrt())
        })
        .collect()
}

/// The inverse of a small `n` by `n` matrix (row after row) by Gauss-Jordan elimination with
/// partial pivoting; `None` when it is singular.
fn invert(mut m: Vec<f64>, n: usize) -> Option<Vec<f64>> {
    let scale = m.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
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
        // A pivot this small beside the matrix is rounding left of a zero: singular.
        if value.abs() <= 1e-12 * scale || !value.is_finite() {
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

    /// The mean negative log-likelihood of n draws from N(mu, s2) in (mu, ln s2)... written in
    /// log-parameters as (ln mu, ln s2) for a positive mean.
    struct Normal {
        n: f64,
        mu: f64,
        s2: f64,
    }

    impl Objective for Normal {
        fn value_and_gradient(&self, theta: &[f64]) -> (f64, Vec<f64>) {
            let (m, v) = (theta[0].exp(), theta[1].exp());
            let ss = self.s2 + (self.mu - m) * (self.mu - m);
            let value = 0.5 * v.ln() + ss / (2.0 * v);
            // d/d ln m and d/d ln v of the mean negative log-likelihood.
            let gradient = vec![-(self.mu - m) / v * m, (0.5 - ss / (2.0 * v))];
            let _ = self.n;
            (value, gradient)
        }
    }

    #[test]
    fn log_parameter_errors_are_the_delta_method() {
        let (n, mu, s2) = (400.0, 3.0, 2.0);
        let objective = Normal { n, mu, s2 };
        let theta = [mu.ln(), s2.ln()];
        let se = from_log_objective(&objective, &theta, &[mu, s2], n).unwrap();
        assert!((se[0] - (s2 / n).sqrt()).abs() < 1e-7, "{se:?}");
        assert!((se[1] - s2 * (2.0 / n).sqrt()).abs() < 1e-7, "{se:?}");
    }

    /// A likelihood of the sum of two parameters only: they are not identified separately.
    struct Unidentified;

    impl Objective for Unidentified {
        fn value_and_gradient(&self, theta: &[f64]) -> (f64, Vec<f64>) {
            // Rounding makes the differences not quite equal: singular all the same.
            let x = 0.1 * theta[0] + 0.3 * theta[1] / 3.0;
            (x * x, vec![0.2 * x, 0.2 * x])
        }
    }

    #[test]
    fn an_unidentified_parameter_has_no_standard_errors() {
        assert_eq!(
            from_log_objective(&Unidentified, &[0.0, 0.0], &[1.0, 1.0], 10.0),
            None
        );
    }

    #[test]
    fn a_minimum_has_no_standard_errors() {
        assert_eq!(standard_errors(|t: &[f64]| vec![t[0]], &[0.0]), None);
    }
}
