//! The Pareto/NBD model (Schmittlein, Morrison and Colombo 1987): likelihood, fit, P(alive)
//! and conditional expected purchases, with the formulas of lifetimes 0.11.3's
//! `ParetoNBDFitter`.

use super::customers::Customers;
use super::optimize::{Fitted, minimize, parallel_sum};
use super::paretonbd_objective::MeanNegativeLogLikelihood;
use super::special::{ln_add_exp, ln_gamma, ln_hyp2f1_next, ln_sub_exp};

/// Pareto/NBD parameters: purchase rates ~ Gamma(r, alpha), dropout rates ~ Gamma(s, beta).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParetoNbd {
    pub r: f64,
    pub alpha: f64,
    pub s: f64,
    pub beta: f64,
}

/// L-BFGS steps a fit may take.
pub const MAX_ITERATIONS: u64 = 1000;

impl ParetoNbd {
    /// Maximum-likelihood fit with lifetimes' penalty (on the total negative log-likelihood)
    /// and conditioning (time rescaled so the
    /// oldest customer is 1 period old; log-parameters start at 0), minimised by L-BFGS with
    /// the likelihood's analytic gradient (`paretonbd_objective`).
    ///
    /// Returns `None` for no customers.
    pub fn fit(customers: &Customers, penalizer: f64) -> Option<Fitted<Self>> {
        let max_age = customers.max_age();
        if customers.is_empty() || max_age <= 0.0 {
            return None;
        }
        let scale = 1.0 / max_age;
        let scaled = customers.rescaled(scale);
        let objective = MeanNegativeLogLikelihood::new(&scaled, penalizer);
        let minimum = minimize(&objective, vec![0.0; 4], MAX_ITERATIONS);
        let [r, alpha, s, beta] = [0, 1, 2, 3].map(|i| minimum.theta[i].exp());
        let params = Self {
            r,
            alpha: alpha / scale,
            s,
            beta: beta / scale,
        };
        let mut log_likelihood = params.log_likelihood(customers);
        if log_likelihood.is_nan() {
            // Where alpha or beta is vanishingly small beside the other, a hypergeometric
            // argument rounds to 1 in one unit of time but not in the other. The likelihood is
            // a density of purchase times, so in the fit's rescaled time it differs by
            // x ln(scale) per customer.
            let rescaled = Self { r, alpha, s, beta };
            let purchases: f64 = (0..customers.len())
                .map(|i| customers.weight[i] * customers.frequency[i])
                .sum();
            log_likelihood = rescaled.log_likelihood(&scaled) + purchases * scale.ln();
        }
        let standard_errors = super::standard_errors::from_log_objective(
            &objective,
            &minimum.theta,
            &[params.r, params.alpha, params.s, params.beta],
            customers.total_weight(),
        );
        Some(Fitted {
            standard_errors,
            log_likelihood,
            params,
            iterations: minimum.iterations,
            converged: minimum.converged,
        })
    }

    /// The log-likelihood of `customers` (weights counted) under these parameters.
    pub fn log_likelihood(&self, customers: &Customers) -> f64 {
        let [ll] = parallel_sum(customers.len(), |range| {
            [range
                .map(|i| {
                    customers.weight[i]
                        * self.customer_log_likelihood(
                            customers.frequency[i],
                            customers.recency[i],
                            customers.age[i],
                        )
                })
                .sum()]
        });
        ll
    }

    /// One customer's log-likelihood.
    pub fn customer_log_likelihood(&self, x: f64, t_x: f64, age: f64) -> f64 {
        let &Self { r, alpha, s, beta } = self;
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln();
        let a2 = ln_add_exp(
            -(r + x) * (alpha + age).ln() - s * (beta + age).ln(),
            s.ln() + self.ln_a0(x, t_x, age) - (r + s + x).ln(),
        );
        a1 + a2
    }

    /// `ln A_0` of the likelihood, choosing the hypergeometric form that converges.
    fn ln_a0(&self, x: f64, t_x: f64, age: f64) -> f64 {
        let &Self { r, alpha, s, beta } = self;
        let (low, high, t) = if alpha < beta {
            (alpha, beta, r + x)
        } else {
            (beta, alpha, s + 1.0)
        };
        let rsx = r + s + x;
        let q1 = high + t_x;
        let q2 = high + age;
        let ln_p1 = ln_hyp2f1_next(rsx, t, (high - low) / q1);
        let ln_p2 = ln_hyp2f1_next(rsx, t, (high - low) / q2);
        ln_sub_exp(ln_p1 + rsx * q2.ln(), ln_p2 + rsx * q1.ln()) - rsx * (q1 * q2).ln()
    }

    /// P(alive) of a customer with `x` repeat purchases, the last at `t_x`, aged `age`.
    pub fn p_alive(&self, x: f64, t_x: f64, age: f64) -> f64 {
        let &Self { r, alpha, s, beta } = self;
        let exponent = s.ln() - (r + s + x).ln()
            + (r + x) * (alpha + age).ln()
            + s * (beta + age).ln()
            + self.ln_a0(x, t_x, age);
        1.0 / (1.0 + exponent.exp())
    }

    /// Expected purchases in the next `t` periods.
    pub fn expected_purchases(&self, t: f64, x: f64, t_x: f64, age: f64) -> f64 {
        let &Self { r, alpha, s, beta } = self;
        let likelihood = self.customer_log_likelihood(x, t_x, age);
        let first = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln()
            - (r + x) * (alpha + age).ln()
            - s * (beta + age).ln();
        let second = (r + x).ln() + (beta + age).ln() - (alpha + age).ln();
        let ratio = (beta + age) / (beta + age + t);
        // (1 - ratio^(s-1)) / (s-1), whose limit at s = 1 is -ln(ratio).
        let third = if (s - 1.0).abs() < 1e-12 {
            (-ratio.ln()).ln()
        } else {
            ((1.0 - ratio.powf(s - 1.0)) / (s - 1.0)).ln()
        };
        (first + second + third - likelihood).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CDNOW: ParetoNbd = ParetoNbd {
        r: 0.55,
        alpha: 10.58,
        s: 0.61,
        beta: 11.67,
    };

    #[test]
    fn alive_when_the_last_purchase_is_now() {
        assert_eq!(CDNOW.p_alive(3.0, 20.0, 20.0), 1.0);
    }

    #[test]
    fn expected_purchases_grow_with_the_horizon() {
        let short = CDNOW.expected_purchases(1.0, 2.0, 30.0, 38.0);
        let long = CDNOW.expected_purchases(39.0, 2.0, 30.0, 38.0);
        assert!(0.0 < short && short < long, "{short} {long}");
        assert!(CDNOW.expected_purchases(0.0, 2.0, 30.0, 38.0).abs() < 1e-15);
    }

    #[test]
    fn dropout_shape_of_one_uses_the_limit() {
        let model = ParetoNbd { s: 1.0, ..CDNOW };
        let at_one = model.expected_purchases(10.0, 2.0, 30.0, 38.0);
        let near = ParetoNbd {
            s: 1.0 + 1e-7,
            ..CDNOW
        }
        .expected_purchases(10.0, 2.0, 30.0, 38.0);
        assert!((at_one - near).abs() < 1e-6, "{at_one} {near}");
    }

    #[test]
    fn a_fit_without_repeat_purchases_ends() {
        // Found by the SQL fuzz: with no repeat purchases the likelihood has no maximum, the
        // rates drift apart and the hypergeometric argument nears 1, where its series needed
        // millions of terms per customer (the fit ran for hours).
        let rows: Vec<[f64; 3]> = (0..300).map(|i| [0.0, 0.0, f64::from(i % 5)]).collect();
        let fitted = ParetoNbd::fit(&Customers::from_rows(rows), 0.0).expect("a fit");
        assert!(fitted.log_likelihood.is_finite(), "{fitted:?}");
        // The supremum is 0 (no purchases, with certainty); the fit gets within a hair of it.
        assert!(fitted.log_likelihood > -1e-3, "{fitted:?}");
    }

    #[test]
    fn a_fit_of_purchases_all_at_the_first_instant_ends() {
        // Found by the SQL fuzz: repeat purchases with recency 0 make the likelihood unbounded
        // (r and 1/alpha grow without end); at r ~ 1e16 the series for z ~ 6e-4 grew for
        // 1e13 terms and a group's fit took minutes. It now ends, not converged.
        let rows: Vec<[f64; 3]> = (0..100)
            .map(|i| [f64::from(i * 7 % 11), 0.0, f64::from(i % 5)])
            .collect();
        let fitted = ParetoNbd::fit(&Customers::from_rows(rows), 0.0).expect("a fit");
        assert!(!fitted.converged, "{fitted:?}");
    }

    /// Found by `cargo fuzz` (fuzz/fuzz_targets/btyd.rs): heavy buyers over short spans and one
    /// customer whose purchases are all at the first instant. The line search tried s near
    /// 1e23, where every hypergeometric series ran to its 10M-term limit: the fit took minutes
    /// for 6 customers. Those evaluations now end at once, and the fit ends where it did.
    #[test]
    fn hopeless_series_end_at_once() {
        let customers = Customers::from_rows(vec![
            [15.0, 79.0, 170.0],
            [15.0, 49.0, 136.0],
            [15.0, 35.0, 130.0],
            [37.0, 51.0, 117.0],
            [18.0, 193.0, 218.0],
            [5.0, 0.0, 0.0],
        ]);
        for _ in 0..1000 {
            assert!(ln_hyp2f1_next(1.09e23, 15.0, 1.0 - 5e-15).is_nan());
        }
        let fitted = ParetoNbd::fit(&customers, 0.0).expect("a fit");
        // As good a fit as the one reached before, when it took 116 s (numerical gradient):
        // the likelihood has no maximum here (alpha drifts to 0), so the parameters where the
        // fit stops differ by 1e-6, the log-likelihood by less than 1e-9.
        let before = ParetoNbd {
            r: 0.003826010102532711,
            alpha: 1.072386606777065e-6,
            s: 11.136883415547258,
            beta: 217.0344139525844,
        }
        .log_likelihood(&customers);
        let got = fitted.log_likelihood;
        assert!(got >= before - 1e-9 * before.abs(), "{got} vs {before}");
        assert!(
            (fitted.params.s - 11.136883415547258).abs() < 1e-4,
            "{fitted:?}"
        );
    }

    /// Rescaled time changes the log-likelihood by x ln(scale) per customer, which the fit
    /// uses where the likelihood in the data's own units rounds to NaN.
    #[test]
    fn log_likelihood_in_rescaled_time() {
        let customers = Customers::from_rows(vec![
            [2.0, 30.0, 38.0],
            [0.0, 0.0, 38.0],
            [5.0, 36.0, 39.0],
            [1.0, 3.0, 20.0],
        ]);
        let model = ParetoNbd {
            r: 0.55,
            alpha: 10.6,
            s: 0.61,
            beta: 11.7,
        };
        let scale = 1.0 / 39.0;
        let rescaled = ParetoNbd {
            alpha: model.alpha * scale,
            beta: model.beta * scale,
            ..model
        };
        let direct = model.log_likelihood(&customers);
        let via = rescaled.log_likelihood(&customers.rescaled(scale)) + 8.0 * scale.ln();
        assert!(
            (direct - via).abs() < 1e-12 * direct.abs(),
            "{direct} vs {via}"
        );
    }

    /// Found by `cargo fuzz`: the fit ended at alpha 2.5e-15 with beta 39, where the
    /// likelihood of the customer whose purchases are all at the first instant rounds to NaN.
    #[test]
    fn a_fit_reports_a_finite_log_likelihood() {
        let customers = Customers::from_rows(vec![
            [15.0, 119.0, 135.0],
            [15.0, 119.0, 135.0],
            [15.0, 159.0, 287.0],
            [15.0, 119.0, 135.0],
            [37.0, 0.0, 0.0],
        ]);
        let fitted = ParetoNbd::fit(&customers, 0.0).expect("a fit");
        assert!(fitted.log_likelihood.is_finite(), "{fitted:?}");
    }
}
