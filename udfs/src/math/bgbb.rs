//! The BG/BB model (Fader, Hardie and Shang 2010, "Customer-base analysis in a discrete-time
//! noncontractual setting") for opportunity-based data, such as yearly donations or
//! subscriptions renewed each period: a customer buys at each opportunity with probability
//! p ~ Beta(alpha, beta) while alive and dies after each with probability theta ~ Beta(gamma,
//! delta). Likelihood, fit, P(alive) and conditional expected purchases with the same
//! formulas as lifetimes 0.11.3's `BetaGeoBetaBinomFitter`.

use super::optimize::{Fitted, Objective, minimize, numerical_gradient};
use super::special::{ln_add_exp, ln_gamma};

/// BG/BB parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgBb {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub delta: f64,
}

/// One purchase pattern: `x` purchase opportunities taken, the last at opportunity `t_x`,
/// of `n`, and how many customers share it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pattern {
    pub x: f64,
    pub t_x: f64,
    pub n: f64,
    pub weight: f64,
}

/// Quasi-Newton steps a fit may take.
pub const MAX_ITERATIONS: u64 = 1000;

fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

impl BgBb {
    /// Maximum-likelihood fit as lifetimes': the mean negative log-likelihood (over the total
    /// weight) of log-parameters from 0, plus `penalizer` times the sum of the squared
    /// parameters. The gradient is numerical (the likelihood has a sum over opportunities).
    /// `None` without patterns.
    pub fn fit(patterns: &[Pattern], penalizer: f64) -> Option<Fitted<Self>> {
        let total_weight: f64 = patterns.iter().map(|p| p.weight).sum();
        if patterns.is_empty() || total_weight <= 0.0 {
            return None;
        }
        let objective = MeanNegativeLogLikelihood {
            patterns,
            total_weight,
            penalizer,
        };
        let minimum = minimize(&objective, vec![0.0; 4], MAX_ITERATIONS);
        let [alpha, beta, gamma, delta] = [0, 1, 2, 3].map(|i| minimum.theta[i].exp());
        let params = Self {
            alpha,
            beta,
            gamma,
            delta,
        };
        let standard_errors = super::standard_errors::from_log_values(
            |theta| objective.value(theta),
            &minimum.theta,
            &[alpha, beta, gamma, delta],
            total_weight,
        );
        Some(Fitted {
            standard_errors,
            log_likelihood: params.log_likelihood(patterns),
            params,
            iterations: minimum.iterations,
            converged: minimum.converged,
        })
    }

    /// The log-likelihood of the patterns, weights counted.
    pub fn log_likelihood(&self, patterns: &[Pattern]) -> f64 {
        patterns
            .iter()
            .map(|p| p.weight * self.pattern_log_likelihood(p.x, p.t_x, p.n))
            .sum()
    }

    /// lifetimes' `_loglikelihood` of one pattern: the customer alive through all `n`
    /// opportunities, or dead after opportunity `t_x + j` for some j, with lifetimes' 1e-15
    /// floor under the second sum.
    pub fn pattern_log_likelihood(&self, x: f64, t_x: f64, n: f64) -> f64 {
        let &Self {
            alpha,
            beta,
            gamma,
            delta,
        } = self;
        let (ln_b_ab, ln_b_gd) = (ln_beta(alpha, beta), ln_beta(gamma, delta));
        let alive =
            ln_beta(alpha + x, beta + n - x) - ln_b_ab + ln_beta(gamma, delta + n) - ln_b_gd;
        let mut died = 1e-15;
        let last = (n - t_x - 1.0).max(-1.0) as i64;
        for j in 0..=last {
            let j = j as f64;
            died += (ln_beta(alpha + x, beta + t_x - x + j)
                + ln_beta(gamma + 1.0, delta + t_x + j))
            .exp();
        }
        let died = died.ln() - ln_b_gd - ln_b_ab;
        ln_add_exp(alive, died)
    }

    /// P(alive) at opportunity `n + m` of a customer with pattern (x, t_x, n): lifetimes'
    /// `conditional_probability_alive(m, x, t_x, n)`.
    pub fn p_alive(&self, m: f64, x: f64, t_x: f64, n: f64) -> f64 {
        let &Self {
            alpha,
            beta,
            gamma,
            delta,
        } = self;
        let ln = ln_beta(alpha + x, beta + n - x) - ln_beta(alpha, beta)
            + ln_beta(gamma, delta + n + m)
            - ln_beta(gamma, delta);
        (ln - self.pattern_log_likelihood(x, t_x, n)).exp()
    }

    /// Expected purchases in the next `m` opportunities of a customer with pattern
    /// (x, t_x, n): lifetimes' `conditional_expected_number_of_purchases_up_to_time`.
    pub fn expected_purchases(&self, m: f64, x: f64, t_x: f64, n: f64) -> f64 {
        let &Self {
            alpha,
            beta,
            gamma,
            delta,
        } = self;
        let p1 = (-self.pattern_log_likelihood(x, t_x, n)).exp();
        let p2 = (ln_beta(alpha + x + 1.0, beta + n - x) - ln_beta(alpha, beta)).exp();
        let p3 = delta / (gamma - 1.0) * (ln_gamma(gamma + delta) - ln_gamma(1.0 + delta)).exp();
        let p4 = (ln_gamma(1.0 + delta + n) - ln_gamma(gamma + delta + n)).exp();
        let p5 = (ln_gamma(1.0 + delta + n + m) - ln_gamma(gamma + delta + n + m)).exp();
        p1 * p2 * p3 * (p4 - p5)
    }
}

/// lifetimes' objective: the mean negative log-likelihood of log-parameters plus the penalty.
struct MeanNegativeLogLikelihood<'a> {
    patterns: &'a [Pattern],
    total_weight: f64,
    penalizer: f64,
}

impl MeanNegativeLogLikelihood<'_> {
    fn value(&self, theta: &[f64]) -> f64 {
        let p = [0, 1, 2, 3].map(|i| theta[i].exp());
        let model = BgBb {
            alpha: p[0],
            beta: p[1],
            gamma: p[2],
            delta: p[3],
        };
        -model.log_likelihood(self.patterns) / self.total_weight
            + self.penalizer * p.iter().map(|v| v * v).sum::<f64>()
    }
}

impl Objective for MeanNegativeLogLikelihood<'_> {
    fn value_and_gradient(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        (
            self.value(theta),
            numerical_gradient(|t| self.value(t), theta),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_of_every_pattern_of_one_opportunity_sum_to_one() {
        let model = BgBb {
            alpha: 1.2,
            beta: 0.75,
            gamma: 0.66,
            delta: 2.8,
        };
        // With n = 1: no purchase (x 0), or a purchase at the first opportunity (x 1, t_x 1).
        let total = model.pattern_log_likelihood(0.0, 0.0, 1.0).exp()
            + model.pattern_log_likelihood(1.0, 1.0, 1.0).exp();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
    }

    #[test]
    fn a_customer_who_just_bought_is_alive() {
        let model = BgBb {
            alpha: 1.2,
            beta: 0.75,
            gamma: 0.66,
            delta: 2.8,
        };
        assert!((model.p_alive(0.0, 6.0, 6.0, 6.0) - 1.0).abs() < 1e-12);
        assert!(model.p_alive(0.0, 1.0, 1.0, 6.0) < model.p_alive(0.0, 1.0, 5.0, 6.0));
        assert_eq!(model.expected_purchases(0.0, 1.0, 1.0, 6.0), 0.0);
    }
}
