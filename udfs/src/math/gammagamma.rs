//! The Gamma-Gamma spend model (Fader, Hardie and Lee 2005, "RFM and CLV"): likelihood with
//! its gradient, the fit and the conditional expected average spend, with the formulas of
//! lifetimes 0.11.3's `GammaGammaFitter`.

use super::optimize::{Fitted, Objective, minimize, parallel_sum};
use super::special::{digamma, ln_gamma};

/// Gamma-Gamma parameters: spend per order ~ Gamma(p, nu), nu ~ Gamma(q, v).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub v: f64,
}

/// Returning customers: repeat purchases `x > 0` and their mean spend `m > 0`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spenders {
    pub frequency: Vec<f64>,
    pub monetary: Vec<f64>,
}

/// Spenders grouped by frequency, with what does not depend on the parameters computed once.
struct Grouped {
    runs: Vec<Run>,
    /// `x m` of every spender, run after run.
    total_spend: Vec<f64>,
}

/// The spenders with one frequency.
struct Run {
    frequency: f64,
    start: usize,
    end: usize,
    sum_ln_monetary: f64,
}

impl Grouped {
    fn new(spenders: &Spenders) -> Self {
        let mut pairs: Vec<(f64, f64)> = spenders
            .frequency
            .iter()
            .copied()
            .zip(spenders.monetary.iter().copied())
            .collect();
        // A canonical order, so the fit does not depend on the order the rows arrived in.
        pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut runs: Vec<Run> = Vec::new();
        let mut total_spend = Vec::with_capacity(pairs.len());
        for (position, &(x, m)) in pairs.iter().enumerate() {
            match runs.last_mut() {
                Some(run) if run.frequency == x => {
                    run.end = position + 1;
                    run.sum_ln_monetary += m.ln();
                }
                _ => runs.push(Run {
                    frequency: x,
                    start: position,
                    end: position + 1,
                    sum_ln_monetary: m.ln(),
                }),
            }
            total_spend.push(x * m);
        }
        Self { runs, total_spend }
    }

    fn len(&self) -> usize {
        self.total_spend.len()
    }
}

/// L-BFGS steps a fit may take.
pub const MAX_ITERATIONS: u64 = 1000;

impl GammaGamma {
    /// Maximum-likelihood fit with lifetimes' L2 penalty, from log-parameters 0.
    ///
    /// Returns `None` for no spenders.
    pub fn fit(spenders: &Spenders, penalizer: f64) -> Option<Fitted<Self>> {
        if spenders.frequency.is_empty() {
            return None;
        }
        let grouped = Grouped::new(spenders);
        let objective = MeanNegativeLogLikelihood {
            spenders: &grouped,
            penalizer,
        };
        let minimum = minimize(&objective, vec![0.0; 3], MAX_ITERATIONS);
        let [p, q, v] = [0, 1, 2].map(|i| minimum.theta[i].exp());
        let params = Self { p, q, v };
        let standard_errors = super::standard_errors::from_log_objective(
            &objective,
            &minimum.theta,
            &[params.p, params.q, params.v],
            grouped.len() as f64,
        );
        Some(Fitted {
            standard_errors,
            log_likelihood: params.grouped_log_likelihood_and_gradient(&grouped)[0],
            params,
            iterations: minimum.iterations,
            converged: minimum.converged,
        })
    }

    /// Asymptotic standard errors of p, q, v as estimated from `spenders` (the inverse
    /// observed information); `None` when these parameters are not a maximum.
    pub fn standard_errors(&self, spenders: &Spenders) -> Option<Vec<f64>> {
        let gradient = |theta: &[f64]| {
            let params = Self {
                p: theta[0],
                q: theta[1],
                v: theta[2],
            };
            params.log_likelihood_and_gradient(spenders)[1..].to_vec()
        };
        super::standard_errors::standard_errors(gradient, &[self.p, self.q, self.v])
    }

    /// The total log-likelihood and its derivatives by p, q and v.
    pub fn log_likelihood_and_gradient(&self, spenders: &Spenders) -> [f64; 4] {
        self.grouped_log_likelihood_and_gradient(&Grouped::new(spenders))
    }

    /// The same from spenders grouped by frequency: the ln-gamma and digamma terms depend only
    /// on the frequency, which takes few distinct values, so each is computed once per value;
    /// per customer only `ln(x m + v)` and `1 / (x m + v)` remain.
    fn grouped_log_likelihood_and_gradient(&self, grouped: &Grouped) -> [f64; 4] {
        let &Self { p, q, v } = self;
        let (ln_gamma_q, digamma_q, ln_v) = (ln_gamma(q), digamma(q), v.ln());
        let mut total = [0.0; 4];
        for run in &grouped.runs {
            let spend = &grouped.total_spend[run.start..run.end];
            let [sum_ln, sum_inverse] = parallel_sum(spend.len(), |range| {
                let mut sums = [0.0; 2];
                for xm in &spend[range] {
                    let t = xm + v;
                    sums[0] += t.ln();
                    sums[1] += 1.0 / t;
                }
                sums
            });
            let (x, n) = (run.frequency, (run.end - run.start) as f64);
            let px = p * x;
            let (ln_x, digamma_pxq) = (x.ln(), digamma(px + q));
            total[0] += n * (ln_gamma(px + q) - ln_gamma(px) - ln_gamma_q + q * ln_v + px * ln_x)
                + (px - 1.0) * run.sum_ln_monetary
                - (px + q) * sum_ln;
            total[1] += x * (n * (digamma_pxq - digamma(px) + ln_x) + run.sum_ln_monetary - sum_ln);
            total[2] += n * (digamma_pxq - digamma_q + ln_v) - sum_ln;
            total[3] += n * q / v - (px + q) * sum_inverse;
        }
        total
    }

    /// The expected mean spend per order of a customer with `x` repeat purchases of mean `m`:
    /// the population mean and the customer's own mean, weighted by the evidence.
    pub fn expected_spend(&self, x: f64, m: f64) -> f64 {
        let &Self { p, q, v } = self;
        let individual_weight = p * x / (p * x + q - 1.0);
        let population_mean = v * p / (q - 1.0);
        (1.0 - individual_weight) * population_mean + individual_weight * m
    }
}

struct MeanNegativeLogLikelihood<'a> {
    spenders: &'a Grouped,
    penalizer: f64,
}

impl Objective for MeanNegativeLogLikelihood<'_> {
    fn value_and_gradient(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let params = [0, 1, 2].map(|i| theta[i].exp());
        let model = GammaGamma {
            p: params[0],
            q: params[1],
            v: params[2],
        };
        let [ll, gradient @ ..] = model.grouped_log_likelihood_and_gradient(self.spenders);
        let n = self.spenders.len() as f64;
        let value = -ll / n + self.penalizer * params.iter().map(|p| p * p).sum::<f64>();
        let gradient = gradient
            .iter()
            .zip(params)
            .map(|(g, p)| -g * p / n + 2.0 * self.penalizer * p * p)
            .collect();
        (value, gradient)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::optimize::numerical_gradient;

    #[test]
    fn grouping_by_frequency_changes_nothing() {
        let spenders = Spenders {
            frequency: vec![3.0, 1.0, 3.0, 7.0, 1.0, 3.0],
            monetary: vec![20.5, 35.0, 12.25, 80.0, 9.5, 41.0],
        };
        let model = GammaGamma {
            p: 6.25,
            q: 3.74,
            v: 15.44,
        };
        // The per-customer log-likelihood, term by term as lifetimes writes it.
        let direct: f64 = spenders
            .frequency
            .iter()
            .zip(&spenders.monetary)
            .map(|(&x, &m)| {
                let (p, q, v) = (model.p, model.q, model.v);
                ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q)
                    + q * v.ln()
                    + (p * x - 1.0) * m.ln()
                    + p * x * x.ln()
                    - (p * x + q) * (x * m + v).ln()
            })
            .sum();
        let [ll, ..] = model.log_likelihood_and_gradient(&spenders);
        assert!(
            (ll - direct).abs() < 1e-10 * direct.abs(),
            "{ll} vs {direct}"
        );
    }

    #[test]
    fn analytic_gradient_matches_numerical() {
        let spenders = Spenders {
            frequency: vec![1.0, 3.0, 7.0, 2.0, 3.0],
            monetary: vec![20.5, 35.0, 12.25, 80.0, 14.0],
        };
        let grouped = Grouped::new(&spenders);
        let objective = MeanNegativeLogLikelihood {
            spenders: &grouped,
            penalizer: 0.01,
        };
        let theta = [1.5, 1.1, 2.7];
        let (_, analytic) = objective.value_and_gradient(&theta);
        let numeric = numerical_gradient(|t| objective.value_and_gradient(t).0, &theta);
        for (a, n) in analytic.iter().zip(numeric) {
            assert!((a - n).abs() < 1e-7, "{a} vs {n}");
        }
    }

    #[test]
    fn expected_spend_shrinks_towards_the_population_mean() {
        let model = GammaGamma {
            p: 6.25,
            q: 3.74,
            v: 15.44,
        };
        let population = 15.44 * 6.25 / 2.74;
        let few = model.expected_spend(1.0, 100.0);
        let many = model.expected_spend(50.0, 100.0);
        assert!(population < few && few < many && many < 100.0);
    }
}
