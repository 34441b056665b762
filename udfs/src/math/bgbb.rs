//! The BG/BB model (Fader, Hardie and Shang 2010, "Customer-base analysis in a discrete-time
//! noncontractual setting") for opportunity-based data, such as yearly donations or
//! subscriptions renewed each period: a customer buys at each opportunity with probability
//! p ~ Beta(alpha, beta) while alive and dies after each with probability theta ~ Beta(gamma,
//! delta). Likelihood, fit, P(alive) and conditional expected purchases with the same
//! formulas as lifetimes 0.11.3's `BetaGeoBetaBinomFitter`.

use super::optimize::{Fitted, Objective, minimize, parallel_sum_per};
use super::special::{digamma, ln_add_exp, ln_gamma};

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
    /// parameters, with the likelihood's analytic gradient. Identical patterns are merged
    /// first. `None` without patterns.
    pub fn fit(patterns: &[Pattern], penalizer: f64) -> Option<Fitted<Self>> {
        let patterns = merged(patterns);
        let total_weight: f64 = patterns.iter().map(|p| p.weight).sum();
        if patterns.is_empty() || total_weight <= 0.0 {
            return None;
        }
        let objective = MeanNegativeLogLikelihood {
            patterns: &patterns,
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
        let standard_errors = super::standard_errors::from_log_objective(
            &objective,
            &minimum.theta,
            &[alpha, beta, gamma, delta],
            total_weight,
        );
        Some(Fitted {
            standard_errors,
            log_likelihood: params.log_likelihood(&patterns),
            params,
            iterations: minimum.iterations,
            converged: minimum.converged,
        })
    }

    /// The log-likelihood of the patterns (weights counted) and its derivatives by alpha,
    /// beta, gamma and delta. The terms of the sum over the opportunities after the last
    /// purchase follow from the first by `B(a, b + 1) = B(a, b) b / (a + b)`, and their
    /// digammas by `psi(z + 1) = psi(z) + 1 / z`: one set of ln-gammas per pattern.
    pub fn log_likelihood_and_gradient(&self, patterns: &[Pattern]) -> [f64; 5] {
        let &Self {
            alpha,
            beta,
            gamma,
            delta,
        } = self;
        let (ln_b_ab, ln_b_gd) = (ln_beta(alpha, beta), ln_beta(gamma, delta));
        let (psi_ab, psi_gd) = (digamma(alpha + beta), digamma(gamma + delta));
        // d ln B(alpha, beta) and d ln B(gamma, delta) by each parameter.
        let d_ab = [digamma(alpha) - psi_ab, digamma(beta) - psi_ab];
        let d_gd = [digamma(gamma) - psi_gd, digamma(delta) - psi_gd];
        let psi_gamma_1 = digamma(gamma + 1.0);
        parallel_sum_per(patterns.len(), PATTERNS_PER_THREAD, |range| {
            let mut total = [0.0; 5];
            for p in &patterns[range] {
                let (x, t_x, n) = (p.x, p.t_x, p.n);
                // Alive through all n opportunities.
                let psi_ax = digamma(alpha + x);
                let psi_abn = digamma(alpha + beta + n);
                let psi_gdn = digamma(gamma + delta + n);
                let alive = ln_beta(alpha + x, beta + n - x) - ln_b_ab + ln_beta(gamma, delta + n)
                    - ln_b_gd;
                let d_alive = [
                    psi_ax - psi_abn - d_ab[0],
                    digamma(beta + n - x) - psi_abn - d_ab[1],
                    psi_gd - psi_gdn,
                    digamma(delta + n) - psi_gdn - d_gd[1],
                ];
                // Dead after opportunity t_x + j, j = 0 ..= n - t_x - 1: terms
                // B(alpha + x, v_j) B(gamma + 1, g_j) with v_j = beta + t_x - x + j,
                // u_j = alpha + v_j + x, g_j = delta + t_x + j and h_j = gamma + 1 + g_j.
                let (mut v, mut g) = (beta + t_x - x, delta + t_x);
                let (mut u, mut h) = (alpha + x + v, gamma + 1.0 + g);
                // The terms relative to the first (they shrink), so none underflows.
                let ln_first = ln_beta(alpha + x, v) + ln_beta(gamma + 1.0, g);
                let mut term = 1.0;
                let (mut psi_u, mut psi_v, mut psi_g, mut psi_h) =
                    (digamma(u), digamma(v), digamma(g), digamma(h));
                let mut sum = 0.0;
                let mut sums = [0.0; 4];
                let last = (n - t_x - 1.0).max(-1.0) as i64;
                for _ in 0..=last {
                    sum += term;
                    sums[0] += term * psi_u;
                    sums[1] += term * psi_v;
                    sums[2] += term * psi_g;
                    sums[3] += term * psi_h;
                    term *= v * g / (u * h);
                    psi_u += 1.0 / u;
                    psi_v += 1.0 / v;
                    psi_g += 1.0 / g;
                    psi_h += 1.0 / h;
                    (u, v, g, h) = (u + 1.0, v + 1.0, g + 1.0, h + 1.0);
                }
                if sum == 0.0 {
                    // Bought at the last opportunity: alive throughout.
                    total[0] += p.weight * alive;
                    for i in 0..4 {
                        total[i + 1] += p.weight * d_alive[i];
                    }
                    continue;
                }
                let died = ln_first + sum.ln() - ln_b_gd - ln_b_ab;
                let d_died = [
                    psi_ax - sums[0] / sum - d_ab[0],
                    (sums[1] - sums[0]) / sum - d_ab[1],
                    psi_gamma_1 - sums[3] / sum - d_gd[0],
                    (sums[2] - sums[3]) / sum - d_gd[1],
                ];
                let ll = ln_add_exp(alive, died);
                let (w_alive, w_died) = ((alive - ll).exp(), (died - ll).exp());
                total[0] += p.weight * ll;
                for i in 0..4 {
                    total[i + 1] += p.weight * (w_alive * d_alive[i] + w_died * d_died[i]);
                }
            }
            total
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
    /// opportunities, or dead after opportunity `t_x + j` for some j. lifetimes adds 1e-15
    /// under the second sum, which swamps it when its terms are that small (customers with
    /// dozens of opportunities: its fit then diverges, as on its own simulator with up to 52);
    /// here the sum is taken relative to its first term, which cannot underflow.
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
        let last = (n - t_x - 1.0).max(-1.0) as i64;
        if last < 0 {
            return alive;
        }
        let (mut v, mut g) = (beta + t_x - x, delta + t_x);
        let ln_first = ln_beta(alpha + x, v) + ln_beta(gamma + 1.0, g);
        let (mut term, mut sum) = (1.0, 0.0);
        for _ in 0..=last {
            sum += term;
            term *= v * g / ((alpha + x + v) * (gamma + 1.0 + g));
            (v, g) = (v + 1.0, g + 1.0);
        }
        ln_add_exp(alive, ln_first + sum.ln() - ln_b_gd - ln_b_ab)
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

/// Patterns a thread takes at least (each walks up to n opportunities).
const PATTERNS_PER_THREAD: usize = 1024;

/// The patterns with identical ones merged (weights added), sorted.
fn merged(patterns: &[Pattern]) -> Vec<Pattern> {
    let mut sorted = patterns.to_vec();
    let key = |p: &Pattern| [p.x, p.t_x, p.n];
    sorted.sort_by(|a, b| {
        key(a)
            .iter()
            .zip(key(b))
            .map(|(x, y)| x.total_cmp(&y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut out: Vec<Pattern> = Vec::with_capacity(sorted.len());
    for p in sorted {
        match out.last_mut() {
            Some(last) if key(last) == key(&p) => last.weight += p.weight,
            _ => out.push(p),
        }
    }
    out
}

/// lifetimes' objective: the mean negative log-likelihood of log-parameters plus the penalty.
struct MeanNegativeLogLikelihood<'a> {
    patterns: &'a [Pattern],
    total_weight: f64,
    penalizer: f64,
}

impl Objective for MeanNegativeLogLikelihood<'_> {
    fn value_and_gradient(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let p = [0, 1, 2, 3].map(|i| theta[i].exp());
        let model = BgBb {
            alpha: p[0],
            beta: p[1],
            gamma: p[2],
            delta: p[3],
        };
        let [ll, gradient @ ..] = model.log_likelihood_and_gradient(self.patterns);
        let w = self.total_weight;
        let value = -ll / w + self.penalizer * p.iter().map(|v| v * v).sum::<f64>();
        let gradient = gradient
            .iter()
            .zip(p)
            .map(|(d, v)| -d * v / w + 2.0 * self.penalizer * v * v)
            .collect();
        (value, gradient)
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

    fn patterns() -> Vec<Pattern> {
        [
            (0.0, 0.0, 6.0, 3464.0),
            (1.0, 1.0, 6.0, 1091.0),
            (1.0, 4.0, 6.0, 120.0),
            (3.0, 5.0, 6.0, 177.0),
            (6.0, 6.0, 6.0, 1203.0),
            (2.0, 6.0, 6.0, 301.0),
            (0.0, 0.0, 1.0, 40.0),
            (1.0, 1.0, 1.0, 22.0),
            (7.0, 20.0, 52.0, 3.0),
        ]
        .map(|(x, t_x, n, weight)| Pattern { x, t_x, n, weight })
        .to_vec()
    }

    #[test]
    fn value_is_the_pattern_likelihood_and_gradient_its_derivative() {
        let patterns = patterns();
        for model in [
            BgBb {
                alpha: 1.2,
                beta: 0.75,
                gamma: 0.66,
                delta: 2.8,
            },
            BgBb {
                alpha: 0.05,
                beta: 7.0,
                gamma: 3.0,
                delta: 0.2,
            },
        ] {
            let [ll, gradient @ ..] = model.log_likelihood_and_gradient(&patterns);
            let expected = model.log_likelihood(&patterns);
            assert!(
                (ll - expected).abs() < 1e-12 * expected.abs(),
                "{ll} vs {expected}"
            );
            let params = [model.alpha, model.beta, model.gamma, model.delta];
            for i in 0..4 {
                let at = |by: f64| {
                    let mut q = params;
                    q[i] += by;
                    let m = BgBb {
                        alpha: q[0],
                        beta: q[1],
                        gamma: q[2],
                        delta: q[3],
                    };
                    m.log_likelihood(&patterns)
                };
                let h = 1e-6 * params[i];
                let numeric = (at(h) - at(-h)) / (2.0 * h);
                assert!(
                    (gradient[i] - numeric).abs() < 1e-6 * numeric.abs().max(1.0),
                    "{model:?} [{i}]: {} vs {numeric}",
                    gradient[i]
                );
            }
        }
    }

    #[test]
    fn identical_patterns_are_merged() {
        let mut patterns = patterns();
        patterns.extend(patterns.clone());
        let merged = merged(&patterns);
        assert_eq!(merged.len(), 9);
        assert!(merged.iter().all(|p| {
            patterns
                .iter()
                .filter(|q| {
                    **q == Pattern {
                        weight: q.weight,
                        ..*p
                    }
                })
                .count()
                == 2
        }));
        assert_eq!(merged.iter().map(|p| p.weight).sum::<f64>(), 2.0 * 6421.0);
    }

    /// The probabilities of every purchase sequence over `n` opportunities sum to 1: a
    /// pattern (x, t_x) stands for C(t_x - 1, x - 1) sequences. With 40 opportunities, the
    /// terms of many patterns' second sum are far below lifetimes' 1e-15 floor: with it (as
    /// lifetimes 0.11.3's `_loglikelihood` computes) the total is 1.00133.
    #[test]
    fn probabilities_of_every_sequence_of_forty_opportunities_sum_to_one() {
        let model = BgBb {
            alpha: 1.2,
            beta: 0.75,
            gamma: 0.66,
            delta: 2.8,
        };
        let n = 40.0;
        let ln_choose =
            |k: f64, j: f64| ln_gamma(k + 1.0) - ln_gamma(j + 1.0) - ln_gamma(k - j + 1.0);
        let mut total = model.pattern_log_likelihood(0.0, 0.0, n).exp();
        for t_x in 1..=40 {
            for x in 1..=t_x {
                let (x, t_x) = (f64::from(x), f64::from(t_x));
                total +=
                    (ln_choose(t_x - 1.0, x - 1.0) + model.pattern_log_likelihood(x, t_x, n)).exp();
            }
        }
        assert!((total - 1.0).abs() < 1e-10, "{total}");
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
