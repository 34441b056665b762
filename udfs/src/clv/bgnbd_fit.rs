//! `bgnbd_fit(frequency, recency, T [, penalizer])`: the BG/NBD model by maximum likelihood.

use datafusion::error::Result;
use datafusion::logical_expr::Documentation;
use datafusion_macros::user_doc;

use super::fit_groups::Fitter;
use super::model::ModelKind;
use super::transactions_model::{self, BTYD_INPUTS, FIT_ARGS};
use crate::math::bgnbd::BgNbd;
use crate::math::customers::Customers;
use crate::math::optimize::Fitted;

const SYNTAX: &str = "bgnbd_fit(frequency, recency, T [, penalizer])";

#[user_doc(
    doc_section(label = "Customer lifetime value functions"),
    description = "Fits the BG/NBD model (Fader, Hardie and Lee 2005) by maximum likelihood to \
    one row per customer, usually from btyd_summary, as lifetimes' BetaGeoFitter does (time \
    rescaled for conditioning, identical customers merged; Newton's method with the analytic \
    Hessian, from a fit to every 8th distinct customer when there are more than 16,384, and \
    L-BFGS from lifetimes' start where Newton's method finds no minimum). \
    Returns a model struct: model, r, alpha, a, b, log_likelihood (of the data, in its units), \
    rows_used, rows_skipped, iterations, converged, penalizer, the standard errors se_r, \
    se_alpha, se_a, se_b (lifetimes' `summary`: inverse observed information, delta method \
    from log-parameters), 95% bounds lower_r .. upper_b (1.96 standard errors either side), \
    and warning (NULL, or why the fit is not to be trusted: a singular information matrix, or \
    an optimizer that stopped without converging); \
    a fit that did not converge, or whose parameters the data do not identify (a singular \
    information matrix, as with customers who never came back), says so: `converged` is false. Rows with a NULL or NaN input are skipped and counted; a negative or \
    fractional frequency, a negative recency, recency after T, or recency other than 0 with \
    frequency 0 is an error. No usable rows give NULL; fewer than 5 are an error. The model \
    is a plain value: store it with COPY ... TO and use it later with p_alive, \
    expected_purchases and cltv.",
    syntax_example = "bgnbd_fit(frequency, recency, T [, penalizer => 0])",
    sql_example = r#"```sql
> SELECT round(m['r'], 3) AS r, round(m['alpha'], 3) AS alpha, round(m['a'], 3) AS a,
         round(m['b'], 3) AS b, round(m['log_likelihood'], 1) AS ll, m['converged'] AS ok
  FROM (SELECT bgnbd_fit(frequency, recency, t) AS m FROM cdnow_summary);
+-------+-------+-------+-------+---------+------+
| r     | alpha | a     | b     | ll      | ok   |
+-------+-------+-------+-------+---------+------+
| 0.243 | 4.414 | 0.793 | 2.426 | -9582.4 | true |
+-------+-------+-------+-------+---------+------+
```"#,
    argument(
        name = "frequency",
        description = "Repeat purchases: purchase periods after the first (btyd_summary's frequency)."
    ),
    argument(
        name = "recency",
        description = "Age at the last purchase: periods from the first purchase to the last."
    ),
    argument(
        name = "T",
        description = "Age: periods from the first purchase to the end of observation."
    ),
    argument(
        name = "penalizer",
        description = "A constant L2 penalty on the parameters, 0 (none) by default, as \
        lifetimes' penalizer_coef."
    )
)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct BgNbdFit;

impl Fitter for BgNbdFit {
    const INPUTS: usize = BTYD_INPUTS;
    const MIN_ROWS: usize = 5;
    const ARGS: &'static [&'static str] = &FIT_ARGS;

    fn syntax(&self) -> &'static str {
        SYNTAX
    }

    fn kind(&self) -> ModelKind {
        ModelKind::BgNbd
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }

    fn admit(&self, row: &[f64]) -> Result<bool> {
        transactions_model::check_customer(SYNTAX, row[0], row[1], row[2])?;
        Ok(true)
    }

    fn fit(&self, rows: &[f64], penalizer: f64) -> Option<Fitted<Vec<f64>>> {
        let customers = Customers::from_rows(
            rows.chunks_exact(BTYD_INPUTS)
                .map(|c| [c[0], c[1], c[2]])
                .collect(),
        );
        BgNbd::fit(&customers, penalizer).map(|f| Fitted {
            params: vec![f.params.r, f.params.alpha, f.params.a, f.params.b],
            log_likelihood: f.log_likelihood,
            iterations: f.iterations,
            converged: f.converged,
            standard_errors: f.standard_errors,
        })
    }
}
