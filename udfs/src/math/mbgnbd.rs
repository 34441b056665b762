//! The MBG/NBD model (Batislam, Denizel and Filiztekin 2007): BG/NBD whose customers may also
//! drop out right after their first purchase. Likelihood with its gradient, P(alive) and
//! conditional expected purchases, with the same formulas as lifetimes 0.11.3's
//! `ModifiedBetaGeoFitter`, fitted as `BetaGeoFitter` fits.

use super::beta_geometric::{BetaGeometric, fit_beta_geometric};
use super::bgnbd::expected_many;
use super::customers::Customers;
use super::optimize::Fitted;
use super::special::ln_hyp2f1;

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
        BetaGeometric::log_likelihood_and_gradient(self, customers)[0]
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
    const DROPS_AT_FIRST_PURCHASE: bool = true;

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
            [0.0, 0.0, 20.0],
            [5.0, 30.0, 38.0],
            [3.0, 12.1, 35.5],
        ])
    }

    #[test]
    fn analytic_derivatives_match_numerical() {
        for theta in [[-0.5, 1.2, 0.3, 0.8], [0.0; 4], [-2.0, 3.0, -1.0, 2.5]] {
            let (gradient, hessian) = objective_derivative_errors::<MbgNbd>(&sample(), &theta);
            assert!(gradient < 1e-7 && hessian < 1e-6, "{gradient} {hessian}");
        }
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
