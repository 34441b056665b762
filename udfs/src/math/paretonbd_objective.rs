//! The Pareto/NBD fit's objective with its analytic gradient.
//!
//! A customer's likelihood holds `A_0 = J(t_x) - J(T)` with
//! `J(q) = 2F1(r+s+x, b; r+s+x+1; (h-l)/(h+q)) / (h+q)^(r+s+x)`, where `h` and `l` are the
//! larger and smaller of alpha and beta and `b` is `r + x` or `s + 1` accordingly. `J` depends
//! on a customer only through `(x, q)`, and far fewer distinct pairs than customers occur
//! (8,793 for 30,950 distinct weekly customers), so each evaluation sums the hypergeometric
//! series once per distinct pair, with their derivatives (`hyp2f1_gradient`), on every core,
//! and then combines them per customer.

use super::customers::Customers;
use super::hyp2f1_gradient::ln_hyp2f1_next_gradient;
use super::optimize::{Objective, parallel_sum_per};
use super::paretonbd::ParetoNbd;
use super::special::{digamma, ln_add_exp, ln_gamma};

/// lifetimes' objective for log-parameters `(ln r, ln alpha, ln s, ln beta)`: the mean negative
/// log-likelihood plus the penalty `penalizer * sum(p^2)` on the total.
pub(super) struct MeanNegativeLogLikelihood<'a> {
    customers: &'a Customers,
    penalizer: f64,
    /// The distinct `(x, q)` of every customer's `(x, t_x)` and `(x, T)`, sorted.
    pairs: Vec<(f64, f64)>,
    /// Each customer's index into `pairs` for `(x, t_x)` and for `(x, T)`.
    at_recency: Vec<usize>,
    at_age: Vec<usize>,
}

/// Pairs a thread takes at least, so small fits stay on one thread.
const PAIRS_PER_THREAD: usize = 512;

/// Customers a thread takes at least (a dozen logarithms and exponentials each).
const CUSTOMERS_PER_THREAD: usize = 4096;

impl<'a> MeanNegativeLogLikelihood<'a> {
    pub(super) fn new(customers: &'a Customers, penalizer: f64) -> Self {
        let n = customers.len();
        let mut pairs: Vec<(f64, f64)> = (0..n)
            .flat_map(|i| {
                let x = customers.frequency[i];
                [(x, customers.recency[i]), (x, customers.age[i])]
            })
            .collect();
        let order = |p: &(f64, f64), q: &(f64, f64)| p.0.total_cmp(&q.0).then(p.1.total_cmp(&q.1));
        pairs.sort_unstable_by(order);
        pairs.dedup_by(|p, q| order(p, q).is_eq());
        let index = |pair: (f64, f64)| pairs.binary_search_by(|p| order(p, &pair)).unwrap_or(0);
        let at_recency = (0..n)
            .map(|i| index((customers.frequency[i], customers.recency[i])))
            .collect();
        let at_age = (0..n)
            .map(|i| index((customers.frequency[i], customers.age[i])))
            .collect();
        Self {
            customers,
            penalizer,
            pairs,
            at_recency,
            at_age,
        }
    }

    /// `ln J` and its gradient by `(r, alpha, s, beta)` for every distinct pair.
    fn ln_j(&self, model: &ParetoNbd) -> Vec<[f64; 5]> {
        let mut out = vec![[0.0; 5]; self.pairs.len()];
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(self.pairs.len() / PAIRS_PER_THREAD)
            .max(1);
        let size = self.pairs.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            for (pairs, out) in self.pairs.chunks(size).zip(out.chunks_mut(size)) {
                scope.spawn(move || {
                    for (&(x, q), slot) in pairs.iter().zip(out) {
                        *slot = ln_j(model, x, q);
                    }
                });
            }
        });
        out
    }

    /// The objective and its gradient by the log-parameters.
    fn evaluate(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let p = [0, 1, 2, 3].map(|i| theta[i].exp());
        let model = ParetoNbd {
            r: p[0],
            alpha: p[1],
            s: p[2],
            beta: p[3],
        };
        let ln_j = self.ln_j(&model);
        let c = self.customers;
        let runs = &c.frequency_runs;
        let [ll, d_r, d_alpha, d_s, d_beta] =
            parallel_sum_per(c.len(), CUSTOMERS_PER_THREAD, |range| {
                let mut total = [0.0; 5];
                // Customers are sorted by frequency: the run of customer i only moves forward.
                let mut at = runs.partition_point(|&(.., end)| end <= range.start);
                let mut run = RunTerms::new(&model, runs[at].0);
                for i in range {
                    if runs[at].3 <= i {
                        while runs[at].3 <= i {
                            at += 1;
                        }
                        run = RunTerms::new(&model, runs[at].0);
                    }
                    let one = run.customer(
                        &model,
                        c.age[i],
                        ln_j[self.at_recency[i]],
                        ln_j[self.at_age[i]],
                    );
                    for (t, v) in total.iter_mut().zip(one) {
                        *t += c.weight[i] * v;
                    }
                }
                total
            });
        let n = c.total_weight();
        let penalty: f64 = p.iter().map(|v| v * v).sum();
        let value = (-ll + self.penalizer * penalty) / n;
        let gradient = [d_r, d_alpha, d_s, d_beta]
            .iter()
            .zip(p)
            .map(|(d, v)| (-d * v + 2.0 * self.penalizer * v * v) / n)
            .collect();
        (value, gradient)
    }
}

impl Objective for MeanNegativeLogLikelihood<'_> {
    fn value_and_gradient(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        self.evaluate(theta)
    }
}

/// `[ln J(q), d/dr, d/dalpha, d/ds, d/dbeta]` for a customer with `x` repeat purchases.
fn ln_j(model: &ParetoNbd, x: f64, q: f64) -> [f64; 5] {
    let &ParetoNbd { r, alpha, s, beta } = model;
    let a = r + s + x;
    let alpha_lower = alpha < beta;
    let (low, high, b) = if alpha_lower {
        (alpha, beta, r + x)
    } else {
        (beta, alpha, s + 1.0)
    };
    let span = high + q;
    let (ln_f, [f_a, f_b, f_z]) = ln_hyp2f1_next_gradient(a, b, (high - low) / span);
    let ln_span = span.ln();
    // z = (high - low) / (high + q): dz/dhigh = (low + q) / span^2, dz/dlow = -1 / span.
    let by_high = f_z * (low + q) / (span * span) - a / span;
    let by_low = -f_z / span;
    let value = ln_f - a * ln_span;
    if alpha_lower {
        [value, f_a + f_b - ln_span, by_low, f_a - ln_span, by_high]
    } else {
        [value, f_a - ln_span, by_high, f_a + f_b - ln_span, by_low]
    }
}

/// The terms of a customer's log-likelihood that depend on `x` alone, and the combination.
struct RunTerms {
    x: f64,
    /// ln Γ(r+x) - ln Γ(r) + r ln alpha + s ln beta and its gradient.
    first: [f64; 5],
    /// ln s - ln(r+s+x) and its gradient.
    ln_share: [f64; 5],
}

impl RunTerms {
    fn new(model: &ParetoNbd, x: f64) -> Self {
        let &ParetoNbd { r, alpha, s, beta } = model;
        let rsx = r + s + x;
        Self {
            x,
            first: [
                ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln(),
                digamma(r + x) - digamma(r) + alpha.ln(),
                r / alpha,
                beta.ln(),
                s / beta,
            ],
            ln_share: [s.ln() - rsx.ln(), -1.0 / rsx, 0.0, 1.0 / s - 1.0 / rsx, 0.0],
        }
    }

    /// `[log-likelihood, its gradient]` of a customer aged `age` whose `ln J` at recency and
    /// at age are `j1` and `j2`.
    fn customer(&self, model: &ParetoNbd, age: f64, j1: [f64; 5], j2: [f64; 5]) -> [f64; 5] {
        let &ParetoNbd { r, alpha, s, beta } = model;
        let (alpha_age, beta_age) = (alpha + age, beta + age);
        let (ln_alpha_age, ln_beta_age) = (alpha_age.ln(), beta_age.ln());
        let alive = [
            -(r + self.x) * ln_alpha_age - s * ln_beta_age,
            -ln_alpha_age,
            -(r + self.x) / alpha_age,
            -ln_beta_age,
            -s / beta_age,
        ];
        let mut out = self.first;
        // ln A_0 = ln(J1 - J2); nothing when the last purchase is at the customer's age.
        let gap = j2[0] - j1[0];
        if gap >= 0.0 {
            for (o, a) in out.iter_mut().zip(alive) {
                *o += a;
            }
            return out;
        }
        let (ratio, one_minus) = (gap.exp(), -gap.exp_m1());
        let mut dropped = [0.0; 5];
        dropped[0] = self.ln_share[0] + j1[0] + one_minus.ln();
        for i in 1..5 {
            dropped[i] = self.ln_share[i] + (j1[i] - ratio * j2[i]) / one_minus;
        }
        let both = ln_add_exp(alive[0], dropped[0]);
        let (w_alive, w_dropped) = ((alive[0] - both).exp(), (dropped[0] - both).exp());
        out[0] += both;
        for i in 1..5 {
            out[i] += w_alive * alive[i] + w_dropped * dropped[i];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customers() -> Customers {
        Customers::from_rows(vec![
            [2.0, 0.7, 0.95],
            [0.0, 0.0, 0.95],
            [0.0, 0.0, 0.95],
            [5.0, 0.92, 1.0],
            [1.0, 0.08, 0.5],
            [12.0, 0.5, 0.6],
            [3.0, 0.3, 0.3],
        ])
    }

    /// Both orders of alpha and beta, and the two nearly equal.
    const POINTS: [[f64; 4]; 3] = [
        [0.55, 0.27, 0.61, 0.3],
        [1.7, 0.036, 0.86, 0.38],
        [0.3, 2.0, 1.4, 0.05],
    ];

    #[test]
    fn value_is_the_log_likelihood() {
        let customers = customers();
        let objective = MeanNegativeLogLikelihood::new(&customers, 0.0);
        for [r, alpha, s, beta] in POINTS {
            let model = ParetoNbd { r, alpha, s, beta };
            let theta = [r, alpha, s, beta].map(f64::ln);
            let (value, _) = objective.value_and_gradient(&theta);
            let expected = -model.log_likelihood(&customers) / customers.total_weight();
            assert!(
                (value - expected).abs() < 1e-12 * expected.abs(),
                "{value} vs {expected}"
            );
        }
    }

    #[test]
    fn gradient_matches_differences() {
        let customers = customers();
        let objective = MeanNegativeLogLikelihood::new(&customers, 0.1);
        for point in POINTS {
            let theta = point.map(f64::ln);
            let (_, gradient) = objective.value_and_gradient(&theta);
            for i in 0..4 {
                let h = 1e-6;
                let mut up = theta;
                let mut down = theta;
                up[i] += h;
                down[i] -= h;
                let expected = (objective.value_and_gradient(&up).0
                    - objective.value_and_gradient(&down).0)
                    / (2.0 * h);
                assert!(
                    (gradient[i] - expected).abs() < 1e-7 * expected.abs().max(1.0),
                    "{point:?} [{i}]: {} vs {expected}",
                    gradient[i]
                );
            }
        }
    }

    #[test]
    fn pairs_are_shared() {
        let customers = customers();
        let objective = MeanNegativeLogLikelihood::new(&customers, 0.0);
        // Six distinct customers; the one whose last purchase is at its age needs one pair.
        assert_eq!(objective.pairs.len(), 2 * 6 - 1);
        for i in 0..customers.len() {
            let (x, q) = objective.pairs[objective.at_age[i]];
            assert_eq!((x, q), (customers.frequency[i], customers.age[i]));
        }
    }
}
