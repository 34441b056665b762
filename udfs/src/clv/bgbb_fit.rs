//! `bgbb_fit(frequency, recency, n_periods [, weight])`: the BG/BB model by maximum likelihood.

use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::logical_expr::Documentation;
use datafusion_macros::user_doc;

use super::fit_groups::Fitter;
use super::model::ModelKind;
use super::transactions_model;
use crate::math::bgbb::{BgBb, Pattern};
use crate::math::optimize::Fitted;

const SYNTAX: &str = "bgbb_fit(frequency, recency, n_periods [, weight])";

#[user_doc(
    doc_section(label = "Customer lifetime value functions"),
    description = "Fits the BG/BB model (Fader, Hardie and Shang 2010) by maximum likelihood, \
    as lifetimes' BetaGeoBetaBinomFitter (the example is the donations data lifetimes ships), \
    for discrete, opportunity-based data: yearly \
    donations, subscriptions renewed each period, events held on fixed dates. Each row is a \
    customer (or, with `weight`, that many customers sharing the pattern): `frequency` \
    opportunities taken, the last at opportunity `recency`, of `n_periods`. Returns a model \
    struct: model ('bgbb'), alpha, beta (purchase probability ~ Beta(alpha, beta)), gamma, \
    delta (dropout probability ~ Beta(gamma, delta)), log_likelihood, rows_used, \
    rows_skipped, iterations, converged, penalizer (always 0), standard errors and 95% bounds \
    (se_alpha .. upper_delta) and warning, as bgnbd_fit. p_alive(model, frequency, recency, \
    n_periods) and expected_purchases(model, m, frequency, recency, n_periods) (the next m \
    opportunities) accept the model. Rows with a NULL or NaN input, or weight 0, are skipped; \
    fractional or impossible values are errors. Fewer than 2 usable rows are an error. \
    lifetimes adds 1e-15 under one of the likelihood's sums, which outweighs it for customers \
    with dozens of opportunities (lifetimes' fit diverges on its own simulator with up to 52); \
    bgbb_fit sums it relative to its first term instead, and agrees with lifetimes wherever \
    that floor is negligible (the donations data: within 1e-6).",
    syntax_example = "bgbb_fit(frequency, recency, n_periods [, weight])",
    sql_example = r#"```sql
> SELECT round(m['alpha'], 3) AS alpha, round(m['beta'], 3) AS beta,
         round(m['gamma'], 3) AS gamma, round(m['delta'], 3) AS delta
  FROM (SELECT bgbb_fit(x, t_x, n, donors) AS m FROM (VALUES
    (0, 0, 6, 3464), (1, 1, 6, 1091), (1, 2, 6, 277), (1, 3, 6, 129), (1, 4, 6, 78),
    (1, 5, 6, 119), (1, 6, 6, 129), (2, 2, 6, 613), (2, 3, 6, 255), (2, 4, 6, 155),
    (2, 5, 6, 173), (2, 6, 6, 234), (3, 3, 6, 322), (3, 4, 6, 181), (3, 5, 6, 225),
    (3, 6, 6, 357), (4, 4, 6, 240), (4, 5, 6, 284), (4, 6, 6, 512), (5, 5, 6, 335),
    (5, 6, 6, 728), (6, 6, 6, 1203)) AS donations(x, t_x, n, donors));
+-------+------+-------+-------+
| alpha | beta | gamma | delta |
+-------+------+-------+-------+
| 1.204 | 0.75 | 0.657 | 2.783 |
+-------+------+-------+-------+
```"#,
    argument(
        name = "frequency",
        description = "Opportunities taken (donations made, renewals)."
    ),
    argument(
        name = "recency",
        description = "The opportunity of the last purchase, 1 to n_periods (0 without any)."
    ),
    argument(name = "n_periods", description = "Opportunities the customer had."),
    argument(
        name = "weight",
        description = "How many customers share this row's pattern, 1 by default."
    )
)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct BgBbFit;

impl Fitter for BgBbFit {
    const INPUTS: usize = 4;
    const MIN_ROWS: usize = 2;
    const ARGS: &'static [&'static str] = &["frequency", "recency", "n_periods", "weight"];
    const REQUIRED_INPUTS: usize = 3;
    const PENALIZER: bool = false;

    fn syntax(&self) -> &'static str {
        SYNTAX
    }

    fn kind(&self) -> ModelKind {
        ModelKind::BgBb
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }

    fn admit(&self, row: &[f64]) -> Result<bool> {
        let [x, t_x, n, weight] = [row[0], row[1], row[2], row[3]];
        transactions_model::check_customer(SYNTAX, x, t_x, n)?;
        for (name, value) in [("recency", t_x), ("n_periods", n)] {
            if value.fract() != 0.0 || !value.is_finite() {
                return exec_err!(
                    "{SYNTAX}: {name} must be a whole number of periods, got {value}"
                );
            }
        }
        if x > t_x {
            return exec_err!(
                "{SYNTAX}: frequency ({x}) is more than recency ({t_x}): a customer cannot take \
                 more opportunities than the last one taken"
            );
        }
        if !(weight >= 0.0 && weight.is_finite()) {
            return exec_err!("{SYNTAX}: weight must be 0 or more, got {weight}");
        }
        Ok(weight > 0.0)
    }

    fn fit(&self, rows: &[f64], _penalizer: f64) -> Option<Fitted<Vec<f64>>> {
        let patterns: Vec<Pattern> = rows
            .chunks_exact(Self::INPUTS)
            .map(|c| Pattern {
                x: c[0],
                t_x: c[1],
                n: c[2],
                weight: c[3],
            })
            .collect();
        BgBb::fit(&patterns, 0.0).map(|f| Fitted {
            params: vec![
                f.params.alpha,
                f.params.beta,
                f.params.gamma,
                f.params.delta,
            ],
            log_likelihood: f.log_likelihood,
            iterations: f.iterations,
            converged: f.converged,
            standard_errors: f.standard_errors,
        })
    }
}
