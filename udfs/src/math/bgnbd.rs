//! The BG/NBD model (Fader, Hardie and Lee 2005, "Counting your customers the easy way"):
//! likelihood with its gradient, the fit, P(alive) and conditional expected purchases, with
//! the same formulas as lifetimes 0.11.3's `BetaGeoFitter`.

use super::customers::Customers;
use super::optimize::{Fitted, Objective, minimize, parallel_sum};
use super::special::{digamma, hyp2f1_many, ln_gamma, ln_hyp2f1};

/// BG/NBD parameters: purchase rates ~ Gamma(r, alpha), dropout probability ~ Beta(a, b).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

/// L-BFGS steps a fit may take.
pub const MAX_ITERATIONS: u64 = 1000;

impl BgNbd {
    /// Maximum-likelihood fit, with lifetimes' `penalizer_coef` (an L2 penalty on the
    /// parameters in rescaled time) and its conditioning: time is rescaled so the oldest
    /// customer is 1 period old, and the optimiser works on log-parameters starting at 0.
    ///
    /// Returns `None` for no customers.
    pub fn fit(customers: &Customers, penalizer: f64) -> Option<Fitted<Self>> {
        fit_beta_geometric(customers, penalizer)
    }

    /// The log-likelihood of `customers` (weights counted) under these parameters.
    pub fn log_likelihood(&self, customers: &Customers) -> f64 {
        let [ll, ..] = self.log_likelihood_and_gradient(customers);
        ll
    }

    /// Asymptotic standard errors of r, alpha, a, b as estimated from `customers` (the inverse
    /// observed information); `None` when these parameters are not a maximum.
    pub fn standard_errors(&self, customers: &Customers) -> Option<Vec<f64>> {
        let gradient = |theta: &[f64]| {
            let params = Self {
                r: theta[0],
                alpha: theta[1],
                a: theta[2],
                b: theta[3],
            };
            params.log_likelihood_and_gradient(customers)[1..].to_vec()
        };
        super::standard_errors::standard_errors(gradient, &[self.r, self.alpha, self.a, self.b])
    }

    /// The total log-likelihood and its derivatives by r, alpha, a and b.
    pub fn log_likelihood_and_gradient(&self, customers: &Customers) -> [f64; 5] {
        let &Self { r, alpha, a, b } = self;
        let mut total = [0.0; 5];
        // The gamma-function terms depend on the frequency alone.
        for &(x, weight, _, _) in &customers.frequency_runs {
            let ll =
                ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + ln_gamma(a + b) + ln_gamma(b + x)
                    - ln_gamma(b)
                    - ln_gamma(a + b + x);
            let d_r = digamma(r + x) - digamma(r) + alpha.ln();
            let d_alpha = r / alpha;
            let d_a = digamma(a + b) - digamma(a + b + x);
            let d_b = digamma(a + b) + digamma(b + x) - digamma(b) - digamma(a + b + x);
            for (t, v) in total.iter_mut().zip([ll, d_r, d_alpha, d_a, d_b]) {
                *t += weight * v;
            }
        }
        // Per run of equal frequency: ln(a) - ln(b + x - 1), the constant of the dropout term.
        let runs = &customers.frequency_runs;
        let ln_a = a.ln();
        let dropout: Vec<f64> = runs
            .iter()
            .map(|&(x, ..)| {
                if x > 0.0 {
                    ln_a - (b + x - 1.0).ln()
                } else {
                    0.0
                }
            })
            .collect();
        let per_customer = parallel_sum(customers.len(), |range| {
            let mut sum = [0.0; 5];
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
                let weight = customers.weight[i];
                let ln_alpha_age = (alpha + age).ln();
                let a3 = -(r + x) * ln_alpha_age;
                let (ll, p3, p4, ln_alpha_recency) = if x > 0.0 {
                    let ln_alpha_recency = (alpha + t_x).ln();
                    let a4 = dropout[run] - (r + x) * ln_alpha_recency;
                    // ln(e^a3 + e^a4) and the two terms' shares of it, from one exp and one
                    // ln_1p of the smaller term over the larger.
                    let d = a4 - a3;
                    let e = (-d.abs()).exp();
                    let (big, small) = (1.0 / (1.0 + e), e / (1.0 + e));
                    // ln(1 + e) for e in (0, 1]: log's absolute error (2e-16) is the same as ln_1p's
                    // there, and glibc's log takes a fifth of ln_1p's time.
                    let ll = a3.max(a4) + (1.0 + e).ln();
                    let (p3, p4) = if d <= 0.0 { (big, small) } else { (small, big) };
                    (ll, p3, p4, ln_alpha_recency)
                } else {
                    (a3, 1.0, 0.0, 0.0)
                };
                sum[0] += weight * ll;
                sum[1] -= weight * (p3 * ln_alpha_age + p4 * ln_alpha_recency);
                sum[2] -= weight * (r + x) * (p3 / (alpha + age) + p4 / (alpha + t_x));
                if x > 0.0 {
                    sum[3] += weight * p4 / a;
                    sum[4] -= weight * p4 / (b + x - 1.0);
                }
            }
            sum
        });
        for (t, p) in total.iter_mut().zip(per_customer) {
            *t += p;
        }
        total
    }

    /// P(alive): the probability that a customer with `x` repeat purchases, the last at
    /// `t_x`, is still active at age `age`.
    pub fn p_alive(&self, x: f64, t_x: f64, age: f64) -> f64 {
        if x == 0.0 {
            return 1.0;
        }
        let &Self { r, alpha, a, b } = self;
        let log_div = (r + x) * ((alpha + age) / (alpha + t_x)).ln() + (a / (b + x - 1.0)).ln();
        // expit(-log_div), written so that large values cannot overflow.
        if log_div >= 0.0 {
            let e = (-log_div).exp();
            e / (1.0 + e)
        } else {
            1.0 / (1.0 + log_div.exp())
        }
    }

    /// Expected purchases in the next `t` periods of a customer with `x` repeat purchases,
    /// the last at `t_x`, now aged `age`.
    pub fn expected_purchases(&self, t: f64, x: f64, t_x: f64, age: f64) -> f64 {
        let &Self { r, alpha, a, b } = self;
        let hyp_a = r + x;
        let hyp_b = b + x;
        let hyp_c = a + b + x - 1.0;
        let z = t / (alpha + age + t);
        let ln_hyp = ln_hyp2f1(hyp_a, hyp_b, hyp_c, z);
        let first = (a + b + x - 1.0) / (a - 1.0);
        let second = -(ln_hyp + (r + x) * ((alpha + age) / (alpha + t + age)).ln()).exp_m1();
        let denominator = if x > 0.0 {
            1.0 + a / (b + x - 1.0) * ((alpha + age) / (alpha + t_x)).powf(r + x)
        } else {
            1.0
        };
        first * second / denominator
    }

    /// [`Self::expected_purchases`] for each horizon of `ts` into `out`, with the
    /// hypergeometric series of all horizons summed together (`cltv` asks for a dozen).
    pub fn expected_purchases_many(&self, ts: &[f64], x: f64, t_x: f64, age: f64, out: &mut [f64]) {
        let &Self { r, alpha, a, b } = self;
        let denominator = if x > 0.0 {
            1.0 + a / (b + x - 1.0) * ((alpha + age) / (alpha + t_x)).powf(r + x)
        } else {
            1.0
        };
        let first = (a + b + x - 1.0) / (a - 1.0);
        let hyp = (r + x, b + x, a + b + x - 1.0);
        expected_many(r, alpha, hyp, (first, denominator), ts, x, age, out);
    }
}

/// `first * (1 - F(z) ((alpha + age) / (alpha + t + age))^(r + x)) / denominator` for each
/// `t` of `ts`, with `F = 2F1(hyp; z)` and `z = t / (alpha + age + t)`: the conditional
/// expected purchases of the BG/NBD family, the series shared by [`hyp2f1_many`] where it can.
#[allow(clippy::too_many_arguments)]
pub(super) fn expected_many(
    r: f64,
    alpha: f64,
    (hyp_a, hyp_b, hyp_c): (f64, f64, f64),
    (first, denominator): (f64, f64),
    ts: &[f64],
    x: f64,
    age: f64,
    out: &mut [f64],
) {
    let zs: Vec<f64> = ts.iter().map(|t| t / (alpha + age + t)).collect();
    let mut hyp = vec![0.0; ts.len()];
    let shared = hyp2f1_many(hyp_a, hyp_b, hyp_c, &zs, &mut hyp);
    for (i, (&t, &z)) in ts.iter().zip(&zs).enumerate() {
        let ln_hyp = if shared {
            hyp[i].ln()
        } else {
            ln_hyp2f1(hyp_a, hyp_b, hyp_c, z)
        };
        let second = -(ln_hyp + (r + x) * ((alpha + age) / (alpha + t + age)).ln()).exp_m1();
        out[i] = first * second / denominator;
    }
}

/// A model of the BG/NBD family (BG/NBD, MBG/NBD): purchase rates ~ Gamma(r, alpha) and a
/// Beta(a, b) dropout, fitted the way lifetimes' `BetaGeoFitter` fits (its subclass
/// `ModifiedBetaGeoFitter` included).
pub trait BetaGeometric: Copy + Sync + Sized {
    fn from_params(params: [f64; 4]) -> Self;
    fn params(&self) -> [f64; 4];
    /// The total log-likelihood and its derivatives by r, alpha, a and b.
    fn log_likelihood_and_gradient(&self, customers: &Customers) -> [f64; 5];
}

impl BetaGeometric for BgNbd {
    fn from_params([r, alpha, a, b]: [f64; 4]) -> Self {
        Self { r, alpha, a, b }
    }

    fn params(&self) -> [f64; 4] {
        [self.r, self.alpha, self.a, self.b]
    }

    fn log_likelihood_and_gradient(&self, customers: &Customers) -> [f64; 5] {
        BgNbd::log_likelihood_and_gradient(self, customers)
    }
}

/// Maximum-likelihood fit of a model of the BG/NBD family, with lifetimes' `penalizer_coef`
/// (an L2 penalty on the parameters in rescaled time) and its conditioning: time is rescaled
/// so the oldest customer is 1 period old, and the optimiser works on log-parameters
/// starting at 0. `None` for no customers.
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
    let minimum = minimize(&objective, vec![0.0; 4], MAX_ITERATIONS);
    let [r, alpha, a, b] = [0, 1, 2, 3].map(|i| minimum.theta[i].exp());
    let params = M::from_params([r, alpha / scale, a, b]);
    let standard_errors = super::standard_errors::from_log_objective(
        &objective,
        &minimum.theta,
        &params.params(),
        customers.total_weight(),
    );
    let [log_likelihood, ..] = params.log_likelihood_and_gradient(customers);
    Some(Fitted {
        standard_errors,
        log_likelihood,
        params,
        iterations: minimum.iterations,
        converged: minimum.converged,
    })
}

/// lifetimes' objective: the mean negative log-likelihood of log-parameters plus the penalty.
struct MeanNegativeLogLikelihood<'a, M> {
    customers: &'a Customers,
    penalizer: f64,
    model: std::marker::PhantomData<M>,
}

impl<M: BetaGeometric> Objective for MeanNegativeLogLikelihood<'_, M> {
    fn value_and_gradient(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let p = [0, 1, 2, 3].map(|i| theta[i].exp());
        let model = M::from_params(p);
        let [ll, gradient @ ..] = model.log_likelihood_and_gradient(self.customers);
        let n = self.customers.total_weight();
        let value = -ll / n + self.penalizer * p.iter().map(|v| v * v).sum::<f64>();
        let gradient = gradient
            .iter()
            .zip(p)
            .map(|(g, v)| -g * v / n + 2.0 * self.penalizer * v * v)
            .collect();
        (value, gradient)
    }
}

/// The largest difference between the objective's analytic gradient at `theta` (penalizer
/// 0.1) and central differences of its value: for the models' tests.
#[cfg(test)]
pub(crate) fn objective_gradient_error<M: BetaGeometric>(
    customers: &Customers,
    theta: &[f64],
) -> f64 {
    let objective = MeanNegativeLogLikelihood::<M> {
        customers,
        penalizer: 0.1,
        model: std::marker::PhantomData,
    };
    let (_, analytic) = objective.value_and_gradient(theta);
    let numeric = super::optimize::numerical_gradient(|t| objective.value_and_gradient(t).0, theta);
    analytic
        .iter()
        .zip(numeric)
        .map(|(a, n)| (a - n).abs())
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Customers {
        Customers::from_rows(vec![
            [0.0, 0.0, 38.0],
            [2.0, 30.4, 38.9],
            [1.0, 1.7, 38.9],
            [0.0, 0.0, 38.9],
            [5.0, 30.0, 38.0],
            [3.0, 12.1, 35.5],
        ])
    }

    #[test]
    fn analytic_gradient_matches_numerical() {
        let error = objective_gradient_error::<BgNbd>(&sample(), &[-0.5, 1.2, 0.3, 0.8]);
        assert!(error < 1e-7, "{error}");
    }

    #[test]
    fn predictions_at_time_zero_and_for_new_customers() {
        let model = BgNbd {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        };
        assert_eq!(model.p_alive(0.0, 0.0, 10.0), 1.0);
        assert_eq!(model.expected_purchases(0.0, 3.0, 5.0, 10.0), 0.0);
        // 21 purchases early on, then silence: almost surely gone, but finite.
        let gone = model.p_alive(21.0, 5.0, 100.0);
        assert!(gone > 0.0 && gone < 1e-9, "{gone}");
    }
}
