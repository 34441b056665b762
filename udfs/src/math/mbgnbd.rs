//! The MBG/NBD model (Batislam, Denizel and Filiztekin 2007): BG/NBD whose customers may also
//! drop out right after their first purchase. Likelihood with its gradient, P(alive) and
//! conditional expected purchases, with the same formulas as lifetimes 0.11.3's
//! `ModifiedBetaGeoFitter`, fitted as `BetaGeoFitter` fits.

use super::bgnbd::{BetaGeometric, expected_many, fit_beta_geometric};
use super::customers::Customers;
use super::optimize::{Fitted, parallel_sum};
use super::special::{digamma, ln_gamma, ln_hyp2f1};

/// MBG/NBD parameters: purchase rates ~ Gamma(r, alpha), dropout probability ~ Beta(a, b).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MbgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

impl MbgNbd {
    /// Maximum-likelihood fit, as [`BgNbd::fit`](super::bgnbd::BgNbd::fit). `None` for no
    /// customers.
    pub fn fit(customers: &Customers, penalizer: f64) -> Option<Fitted<Self>> {
        fit_beta_geometric(customers, penalizer)
    }

    /// The log-likelihood of `customers` (weights counted) under these parameters.
    pub fn log_likelihood(&self, customers: &Customers) -> f64 {
        self.log_likelihood_and_gradient(customers)[0]
    }

    /// P(alive): 1 / (1 + a / (b + x) ((alpha + T) / (alpha + t_x))^(r + x)), also for
    /// customers without repeat purchases.
    pub fn p_alive(&self, x: f64, t_x: f64, age: f64) -> f64 {
        let &Self { r, alpha, a, b } = self;
        let log_odds = (a / (b + x)).ln() + (r + x) * ((alpha + age) / (alpha + t_x)).ln();
        // 1 / (1 + e^log_odds), written so that large values cannot overflow.
        if log_odds >= 0.0 {
            let e = (-log_odds).exp();
            e / (1.0 + e)
        } else {
            1.0 / (1.0 + log_odds.exp())
        }
    }

    /// Expected purchases in the next `t` periods of a customer with `x` repeat purchases,
    /// the last at `t_x`, now aged `age`.
    pub fn expected_purchases(&self, t: f64, x: f64, t_x: f64, age: f64) -> f64 {
        let &Self { r, alpha, a, b } = self;
        let z = t / (alpha + age + t);
        let ln_hyp = ln_hyp2f1(r + x, b + x + 1.0, a + b + x, z);
        let first = (a + b + x) / (a - 1.0);
        let second = -(ln_hyp + (r + x) * ((alpha + age) / (alpha + t + age)).ln()).exp_m1();
        let denominator = 1.0 + a / (b + x) * ((alpha + age) / (alpha + t_x)).powf(r + x);
        first * second / denominator
    }

    /// [`Self::expected_purchases`] for each horizon of `ts` into `out`, the hypergeometric
    /// series of all horizons summed together.
    pub fn expected_purchases_many(&self, ts: &[f64], x: f64, t_x: f64, age: f64, out: &mut [f64]) {
        let &Self { r, alpha, a, b } = self;
        let first = (a + b + x) / (a - 1.0);
        let denominator = 1.0 + a / (b + x) * ((alpha + age) / (alpha + t_x)).powf(r + x);
        let hyp = (r + x, b + x + 1.0, a + b + x);
        expected_many(r, alpha, hyp, (first, denominator), ts, x, age, out);
    }
}

impl BetaGeometric for MbgNbd {
    fn from_params([r, alpha, a, b]: [f64; 4]) -> Self {
        Self { r, alpha, a, b }
    }

    fn params(&self) -> [f64; 4] {
        [self.r, self.alpha, self.a, self.b]
    }

    /// lifetimes' A_1 + A_2 + A_3 + logaddexp(A_4, 0) per customer, and its derivatives.
    fn log_likelihood_and_gradient(&self, customers: &Customers) -> [f64; 5] {
        let &Self { r, alpha, a, b } = self;
        let mut total = [0.0; 5];
        // A_1 and A_2 depend on the frequency alone.
        for &(x, weight, _, _) in &customers.frequency_runs {
            let ll = ln_gamma(r + x) - ln_gamma(r)
                + r * alpha.ln()
                + ln_gamma(a + b)
                + ln_gamma(b + x + 1.0)
                - ln_gamma(b)
                - ln_gamma(a + b + x + 1.0);
            let d_r = digamma(r + x) - digamma(r) + alpha.ln();
            let d_alpha = r / alpha;
            let d_a = digamma(a + b) - digamma(a + b + x + 1.0);
            let d_b = digamma(a + b) + digamma(b + x + 1.0) - digamma(b) - digamma(a + b + x + 1.0);
            for (t, v) in total.iter_mut().zip([ll, d_r, d_alpha, d_a, d_b]) {
                *t += weight * v;
            }
        }
        // Per run of equal frequency: ln(a) - ln(b + x), the constant of A_4.
        let runs = &customers.frequency_runs;
        let ln_a = a.ln();
        let dropout: Vec<f64> = runs.iter().map(|&(x, ..)| ln_a - (b + x).ln()).collect();
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
                let ln_alpha_recency = (alpha + t_x).ln();
                let a3 = -(r + x) * ln_alpha_age;
                let a4 = dropout[run] + (r + x) * (ln_alpha_age - ln_alpha_recency);
                // ln(1 + e^a4) and its derivative, the logistic of a4, from one exp.
                let e = (-a4.abs()).exp();
                // ln(1 + e) for e in (0, 1] (see bgnbd.rs).
                let l4 = a4.max(0.0) + (1.0 + e).ln();
                let s = if a4 >= 0.0 {
                    1.0 / (1.0 + e)
                } else {
                    e / (1.0 + e)
                };
                sum[0] += weight * (a3 + l4);
                sum[1] += weight * (-ln_alpha_age + s * (ln_alpha_age - ln_alpha_recency));
                sum[2] += weight
                    * (r + x)
                    * (-1.0 / (alpha + age) + s * (1.0 / (alpha + age) - 1.0 / (alpha + t_x)));
                sum[3] += weight * s / a;
                sum[4] -= weight * s / (b + x);
            }
            sum
        });
        for (t, p) in total.iter_mut().zip(per_customer) {
            *t += p;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::bgnbd::objective_gradient_error;

    fn sample() -> Customers {
        Customers::from_rows(vec![
            [0.0, 0.0, 38.0],
            [2.0, 30.4, 38.9],
            [1.0, 1.7, 38.9],
            [0.0, 0.0, 20.0],
            [5.0, 30.0, 38.0],
            [3.0, 12.1, 35.5],
        ])
    }

    #[test]
    fn analytic_gradient_matches_numerical() {
        let error = objective_gradient_error::<MbgNbd>(&sample(), &[-0.5, 1.2, 0.3, 0.8]);
        assert!(error < 1e-7, "{error}");
    }

    #[test]
    fn a_new_customer_may_already_be_gone() {
        let model = MbgNbd {
            r: 0.525,
            alpha: 6.183,
            a: 0.891,
            b: 1.614,
        };
        // At the first purchase, P(alive) = 1 / (1 + a / b): MBG/NBD's drop at time zero.
        let at_first = model.p_alive(0.0, 0.0, 0.0);
        assert!((at_first - 1.0 / (1.0 + 0.891 / 1.614)).abs() < 1e-15);
        assert_eq!(model.expected_purchases(0.0, 2.0, 10.0, 20.0), 0.0);
        assert!(model.expected_purchases(10.0, 2.0, 10.0, 20.0) > 0.0);
    }
}
