//! The BG/NBD model (Fader, Hardie and Lee 2005, "Counting your customers the easy way"):
//! likelihood with its gradient, the fit, P(alive) and conditional expected purchases, with
//! the same formulas as lifetimes 0.11.3's `BetaGeoFitter`.

use super::beta_geometric::{BetaGeometric, fit_beta_geometric, log_likelihood_terms};
use super::customers::Customers;
use super::optimize::Fitted;
use super::special::{hyp2f1_many, ln_hyp2f1};

/// BG/NBD parameters: purchase rates ~ Gamma(r, alpha), dropout probability ~ Beta(a, b).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

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
    /// observed information, from the analytic Hessian); `None` when these parameters are not
    /// a maximum.
    pub fn standard_errors(&self, customers: &Customers) -> Option<Vec<f64>> {
        let terms = log_likelihood_terms::<true>(self.params(), false, customers);
        let information = terms.hessian.iter().flatten().map(|h| -h).collect();
        super::standard_errors::from_information(information, 4)
    }

    /// The total log-likelihood and its derivatives by r, alpha, a and b.
    pub fn log_likelihood_and_gradient(&self, customers: &Customers) -> [f64; 5] {
        BetaGeometric::log_likelihood_and_gradient(self, customers)
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

impl BetaGeometric for BgNbd {
    const DROPS_AT_FIRST_PURCHASE: bool = false;

    fn from_params([r, alpha, a, b]: [f64; 4]) -> Self {
        Self { r, alpha, a, b }
    }

    fn params(&self) -> [f64; 4] {
        [self.r, self.alpha, self.a, self.b]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::beta_geometric::objective_derivative_errors;

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
    fn analytic_derivatives_match_numerical() {
        for theta in [[-0.5, 1.2, 0.3, 0.8], [0.0; 4], [-2.0, 3.0, -1.0, 2.5]] {
            let (gradient, hessian) = objective_derivative_errors::<BgNbd>(&sample(), &theta);
            assert!(gradient < 1e-7 && hessian < 1e-6, "{gradient} {hessian}");
        }
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
