//! The BG/NBD family (BG/NBD, MBG/NBD): purchase rates ~ Gamma(r, alpha) and a Beta(a, b)
//! dropout after each purchase. Their likelihood with its gradient and Hessian, and the fit
//! the way lifetimes' `BetaGeoFitter` fits (its subclass `ModifiedBetaGeoFitter` included).
//!
//! Per customer with `x` repeat purchases, the last at `t_x`, aged `T`, the log-likelihood is
//! `A(x) + ln(e^a3 + e^a4)` with `a3 = -(r + x) ln(alpha + T)` and
//! `a4 = ln a - ln c - (r + x) ln(alpha + t_x)`, where `A(x)` holds the gamma functions; the
//! dropout term `a4` exists for `x > 0` with `c = b + x - 1` (BG/NBD), and for every customer
//! with `c = b + x` (MBG/NBD, whose customers may also leave at their first purchase).

use super::customers::Customers;
use super::newton::{SecondOrder, minimize_newton};
use super::optimize::{Fitted, Objective, minimize, parallel_sum};
use super::special::{digamma, ln_gamma, trigamma};

/// L-BFGS steps a fit may take when Newton's method did not reach a minimum.
pub const MAX_ITERATIONS: u64 = 1000;

/// Newton steps a fit may take; it usually needs fewer than 15.
const MAX_NEWTON_ITERATIONS: u64 = 100;

/// A model of the BG/NBD family.
pub trait BetaGeometric: Copy + Sync + Sized {
    /// Whether a customer may drop out at the first purchase (MBG/NBD) or only after a repeat
    /// purchase (BG/NBD).
    const DROPS_AT_FIRST_PURCHASE: bool;

    fn from_params(params: [f64; 4]) -> Self;
    fn params(&self) -> [f64; 4];

    /// The total log-likelihood and its derivatives by r, alpha, a and b.
    fn log_likelihood_and_gradient(&self, customers: &Customers) -> [f64; 5] {
        let terms =
            log_likelihood_terms::<false>(self.params(), Self::DROPS_AT_FIRST_PURCHASE, customers);
        let [g0, g1, g2, g3] = terms.gradient;
        [terms.value, g0, g1, g2, g3]
    }
}

/// A total log-likelihood with its gradient and (when asked for) Hessian by r, alpha, a, b.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Terms {
    pub value: f64,
    pub gradient: [f64; 4],
    pub hessian: [[f64; 4]; 4],
}

/// The log-likelihood of `customers` under `[r, alpha, a, b]`, its gradient, and with
/// `HESSIAN` its Hessian (otherwise zeros): no logarithm beyond the value's own.
pub(super) fn log_likelihood_terms<const HESSIAN: bool>(
    [r, alpha, a, b]: [f64; 4],
    drops_at_first: bool,
    customers: &Customers,
) -> Terms {
    // MBG/NBD's gamma functions of b and c are one further on than BG/NBD's.
    let shift = if drops_at_first { 1.0 } else { 0.0 };
    let mut value = 0.0;
    let mut g = [0.0; 4];
    let mut h = [[0.0; 4]; 4];
    // A(x) depends on the frequency alone.
    let ln_alpha = alpha.ln();
    let (ln_gamma_r, ln_gamma_b, ln_gamma_ab) = (ln_gamma(r), ln_gamma(b), ln_gamma(a + b));
    let (digamma_r, digamma_b, digamma_ab) = (digamma(r), digamma(b), digamma(a + b));
    let trigammas = HESSIAN.then(|| (trigamma(r), trigamma(b), trigamma(a + b)));
    for &(x, weight, ..) in &customers.frequency_runs {
        let (bx, abx) = (b + x + shift, a + b + x + shift);
        value += weight
            * (ln_gamma(r + x) - ln_gamma_r + r * ln_alpha + ln_gamma_ab + ln_gamma(bx)
                - ln_gamma_b
                - ln_gamma(abx));
        let digamma_abx = digamma(abx);
        g[0] += weight * (digamma(r + x) - digamma_r + ln_alpha);
        g[1] += weight * r / alpha;
        g[2] += weight * (digamma_ab - digamma_abx);
        g[3] += weight * (digamma_ab + digamma(bx) - digamma_b - digamma_abx);
        if let Some((trigamma_r, trigamma_b, trigamma_ab)) = trigammas {
            let trigamma_abx = trigamma(abx);
            h[0][0] += weight * (trigamma(r + x) - trigamma_r);
            h[0][1] += weight / alpha;
            h[1][1] -= weight * r / (alpha * alpha);
            h[2][2] += weight * (trigamma_ab - trigamma_abx);
            h[2][3] += weight * (trigamma_ab - trigamma_abx);
            h[3][3] += weight * (trigamma_ab + trigamma(bx) - trigamma_b - trigamma_abx);
        }
    }
    // Per run of equal frequency: whether the dropout term exists, ln(a) - ln(c) and 1/c.
    let runs = &customers.frequency_runs;
    let ln_a = a.ln();
    let dropout: Vec<(bool, f64, f64)> = runs
        .iter()
        .map(|&(x, ..)| {
            let c = b + x - 1.0 + shift;
            (drops_at_first || x > 0.0, ln_a - c.ln(), 1.0 / c)
        })
        .collect();
    // [value, d_r, d_alpha, a * d_a, d_b, then the Hessian's upper triangle with the factors
    // of 1/a left out: rr, r alpha, a r, r b, alpha alpha, a alpha, alpha b, a^2 aa (the
    // outer-product part), a ab, bb].
    let sums = parallel_sum(customers.len(), |range| {
        let mut s = [0.0; 15];
        // Customers are sorted by frequency: the run of customer i only moves forward.
        let mut run = runs.partition_point(|&(.., end)| end <= range.start);
        for i in range {
            while runs[run].3 <= i {
                run += 1;
            }
            let (x, t_x, age) = (
                customers.frequency[i],
                customers.recency[i],
                customers.age[i],
            );
            let w = customers.weight[i];
            let rx = r + x;
            let ln_age = (alpha + age).ln();
            let inv_age = 1.0 / (alpha + age);
            let a3 = -rx * ln_age;
            let (has_dropout, dropout_const, inv_c) = dropout[run];
            if !has_dropout {
                s[0] += w * a3;
                s[1] -= w * ln_age;
                s[2] -= w * rx * inv_age;
                if HESSIAN {
                    s[6] -= w * inv_age;
                    s[9] += w * rx * inv_age * inv_age;
                }
                continue;
            }
            let ln_recency = (alpha + t_x).ln();
            let inv_recency = 1.0 / (alpha + t_x);
            let a4 = dropout_const - rx * ln_recency;
            // ln(e^a3 + e^a4) and the two terms' shares of it, from one exp and one log of
            // 1 + the smaller term over the larger (log's absolute error there is ln_1p's, at
            // a fifth of its time).
            let d = a4 - a3;
            let e = (-d.abs()).exp();
            let (big, small) = (1.0 / (1.0 + e), e / (1.0 + e));
            let (p3, p4) = if d <= 0.0 { (big, small) } else { (small, big) };
            s[0] += w * (a3.max(a4) + (1.0 + e).ln());
            s[1] -= w * (p3 * ln_age + p4 * ln_recency);
            s[2] -= w * rx * (p3 * inv_age + p4 * inv_recency);
            s[3] += w * p4;
            s[4] -= w * p4 * inv_c;
            if HESSIAN {
                // p3 ∇²a3 + p4 ∇²a4 + p3 p4 (∇a3 - ∇a4)(∇a3 - ∇a4)ᵀ, with
                // ∇a3 - ∇a4 = (ln_recency - ln_age, rx (inv_recency - inv_age), -1/a, 1/c).
                let q = w * p3 * p4;
                let d0 = ln_recency - ln_age;
                let d1 = rx * (inv_recency - inv_age);
                s[5] += q * d0 * d0;
                s[6] += q * d0 * d1 - w * (p3 * inv_age + p4 * inv_recency);
                s[7] -= q * d0;
                s[8] += q * d0 * inv_c;
                s[9] += q * d1 * d1
                    + w * rx * (p3 * inv_age * inv_age + p4 * inv_recency * inv_recency);
                s[10] -= q * d1;
                s[11] += q * d1 * inv_c;
                s[12] += q;
                s[13] -= q * inv_c;
                s[14] += q * inv_c * inv_c + w * p4 * inv_c * inv_c;
            }
        }
        s
    });
    value += sums[0];
    g[0] += sums[1];
    g[1] += sums[2];
    g[2] += sums[3] / a;
    g[3] += sums[4];
    if HESSIAN {
        h[0][0] += sums[5];
        h[0][1] += sums[6];
        h[0][2] += sums[7] / a;
        h[0][3] += sums[8];
        h[1][1] += sums[9];
        h[1][2] += sums[10] / a;
        h[1][3] += sums[11];
        // p3 p4 / a² from the outer product, -p4 / a² from ∇²a4.
        h[2][2] += (sums[12] - sums[3]) / (a * a);
        h[2][3] += sums[13] / a;
        h[3][3] += sums[14];
        for (i, j) in [(1, 0), (2, 0), (3, 0), (2, 1), (3, 1), (3, 2)] {
            h[i][j] = h[j][i];
        }
    }
    Terms {
        value,
        gradient: g,
        hessian: h,
    }
}

/// Maximum-likelihood fit of a model of the BG/NBD family, with lifetimes' `penalizer_coef`
/// (an L2 penalty on the parameters in rescaled time) and its conditioning: time is rescaled
/// so the oldest customer is 1 period old, and the minimiser works on log-parameters
/// starting at 0. Newton's method with the analytic Hessian; where it does not reach a
/// minimum (data that identify no maximum), L-BFGS from the same start reports how far it
/// ran. `None` for no customers.
pub fn fit_beta_geometric<M: BetaGeometric>(
    customers: &Customers,
    penalizer: f64,
) -> Option<Fitted<M>> {
    let max_age = customers.max_age();
    if customers.is_empty() || max_age <= 0.0 {
        return None;
    }
    let scale = 1.0 / max_age;
    let scaled = customers.rescaled(scale);
    let objective = MeanNegativeLogLikelihood::<M> {
        customers: &scaled,
        penalizer,
        model: std::marker::PhantomData,
    };
    let total_weight = customers.total_weight();
    let start = warm_start::<M>(&scaled, penalizer);
    let newton = minimize_newton(&objective, start, MAX_NEWTON_ITERATIONS);
    let (minimum, standard_errors, log_likelihood) = match newton {
        Some(found) => {
            let params = log_params_to_model::<M>(&found.minimum.theta, scale).params();
            let errors =
                super::standard_errors::from_log_hessian(found.hessian, &params, total_weight);
            // The objective's value is the mean log-likelihood in rescaled time, where each
            // customer's density in t_x and T is (1 / scale)^x times that in the data's time.
            let scaled_params = found.minimum.theta.iter().map(|t| t.exp());
            let penalty = penalizer * scaled_params.map(|p| p * p).sum::<f64>();
            let repeat_purchases: f64 = customers
                .frequency_runs
                .iter()
                .map(|&(x, weight, ..)| x * weight)
                .sum();
            let log_likelihood =
                -(found.minimum.value - penalty) * total_weight + scale.ln() * repeat_purchases;
            (found.minimum, errors, log_likelihood)
        }
        None => {
            let minimum = minimize(&objective, vec![0.0; 4], MAX_ITERATIONS);
            let model = log_params_to_model::<M>(&minimum.theta, scale);
            let (_, _, hessian) = objective.value_gradient_hessian(&minimum.theta);
            let errors =
                super::standard_errors::from_log_hessian(hessian, &model.params(), total_weight);
            let [log_likelihood, ..] = model.log_likelihood_and_gradient(customers);
            (minimum, errors, log_likelihood)
        }
    };
    Some(Fitted {
        standard_errors,
        log_likelihood,
        params: log_params_to_model::<M>(&minimum.theta, scale),
        iterations: minimum.iterations,
        converged: minimum.converged,
    })
}

/// Distinct customers above which a fit starts from a fit to a sample of them.
const WARM_START_ABOVE: usize = 16_384;

/// Where Newton's method starts on `customers` (in rescaled time): lifetimes' start, 0 in
/// every log-parameter, or for many customers the minimum for every 8th of them, from which
/// Newton's steps on all customers need two or three evaluations instead of six to nine.
/// The minimum reached is the same; only the path to it is shorter.
fn warm_start<M: BetaGeometric>(customers: &Customers, penalizer: f64) -> Vec<f64> {
    let lifetimes = vec![0.0; 4];
    if customers.len() <= WARM_START_ABOVE {
        return lifetimes;
    }
    let sample = customers.every_nth(8);
    let objective = MeanNegativeLogLikelihood::<M> {
        customers: &sample,
        penalizer,
        model: std::marker::PhantomData,
    };
    minimize_newton(&objective, lifetimes.clone(), MAX_NEWTON_ITERATIONS)
        .map_or(lifetimes, |found| found.minimum.theta)
}

/// The model of log-parameters fitted in time multiplied by `scale`, in the data's time.
fn log_params_to_model<M: BetaGeometric>(theta: &[f64], scale: f64) -> M {
    let [r, alpha, a, b] = [0, 1, 2, 3].map(|i| theta[i].exp());
    M::from_params([r, alpha / scale, a, b])
}

/// lifetimes' objective: the mean negative log-likelihood of log-parameters plus the penalty.
struct MeanNegativeLogLikelihood<'a, M> {
    customers: &'a Customers,
    penalizer: f64,
    model: std::marker::PhantomData<M>,
}

impl<M: BetaGeometric> MeanNegativeLogLikelihood<'_, M> {
    /// The value, gradient and (with `HESSIAN`) Hessian in log-parameters.
    fn evaluate<const HESSIAN: bool>(&self, theta: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
        let p = [0, 1, 2, 3].map(|i| theta[i].exp());
        let terms = log_likelihood_terms::<HESSIAN>(p, M::DROPS_AT_FIRST_PURCHASE, self.customers);
        let n = self.customers.total_weight();
        let lambda = self.penalizer;
        let value = -terms.value / n + lambda * p.iter().map(|v| v * v).sum::<f64>();
        let gradient = (0..4)
            .map(|k| -terms.gradient[k] * p[k] / n + 2.0 * lambda * p[k] * p[k])
            .collect();
        // d²/dθk dθj of f(e^θ) = p_k p_j f_kj + [k = j] p_k f_k.
        let hessian = if HESSIAN {
            (0..16)
                .map(|kj| {
                    let (k, j) = (kj / 4, kj % 4);
                    let mut v = -terms.hessian[k][j] * p[k] * p[j] / n;
                    if k == j {
                        v += -terms.gradient[k] * p[k] / n + 4.0 * lambda * p[k] * p[k];
                    }
                    v
                })
                .collect()
        } else {
            Vec::new()
        };
        (value, gradient, hessian)
    }
}

impl<M: BetaGeometric> Objective for MeanNegativeLogLikelihood<'_, M> {
    fn value_and_gradient(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let (value, gradient, _) = self.evaluate::<false>(theta);
        (value, gradient)
    }
}

impl<M: BetaGeometric> SecondOrder for MeanNegativeLogLikelihood<'_, M> {
    fn value_gradient_hessian(&self, theta: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
        self.evaluate::<true>(theta)
    }
}

/// The largest differences between the objective's analytic gradient and Hessian at `theta`
/// (penalizer 0.1) and central differences of its value and gradient: for the models' tests.
#[cfg(test)]
pub(crate) fn objective_derivative_errors<M: BetaGeometric>(
    customers: &Customers,
    theta: &[f64],
) -> (f64, f64) {
    let objective = MeanNegativeLogLikelihood::<M> {
        customers,
        penalizer: 0.1,
        model: std::marker::PhantomData,
    };
    let (_, analytic, hessian) = objective.value_gradient_hessian(theta);
    let numeric = super::optimize::numerical_gradient(|t| objective.value_and_gradient(t).0, theta);
    let gradient_error = analytic
        .iter()
        .zip(numeric)
        .map(|(a, n)| (a - n).abs())
        .fold(0.0, f64::max);
    let mut hessian_error = 0.0_f64;
    for k in 0..4 {
        let row =
            super::optimize::numerical_gradient(|t| objective.value_and_gradient(t).1[k], theta);
        for j in 0..4 {
            hessian_error = hessian_error.max((hessian[k * 4 + j] - row[j]).abs());
        }
    }
    (gradient_error, hessian_error)
}
