//! `paretonbd_fit(frequency, recency, T [, penalizer])`: the Pareto/NBD model by maximum likelihood.

use datafusion::error::Result;
use datafusion::logical_expr::Documentation;
use datafusion_macros::user_doc;

use super::fit_groups::Fitter;
use super::model::ModelKind;
use super::transactions_model::{self, BTYD_INPUTS, FIT_ARGS};
use crate::math::customers::Customers;
use crate::math::optimize::Fitted;
use crate::math::paretonbd::ParetoNbd;

const SYNTAX: &str = "paretonbd_fit(frequency, recency, T [, penalizer])";

#[user_doc(
    doc_section(label = "Customer lifetime value functions"),
    description = "Fits the Pareto/NBD model (Schmittlein, Morrison and Colombo 1987) by \
    maximum likelihood to one row per customer, usually from btyd_summary, as lifetimes' \
    ParetoNBDFitter (time rescaled for conditioning; L-BFGS with an analytic gradient, where \
    lifetimes uses Nelder-Mead from random starting values). As in lifetimes, the penalizer is \
    added to the total rather than the mean negative log-likelihood. Returns a model struct: \
    model, r, alpha, s, beta, log_likelihood, rows_used, rows_skipped, iterations, converged, \
    penalizer, standard errors se_r .. se_beta with 95% bounds lower_r .. upper_beta, and \
    warning, as bgnbd_fit (lifetimes has no summary for this model). Input rules as bgnbd_fit: rows with a NULL or NaN input are skipped and \
    counted; impossible values are errors; no usable rows give NULL; fewer than 5 are an error.",
    syntax_example = "paretonbd_fit(frequency, recency, T [, penalizer => 0])",
    sql_example = r#"```sql
> SELECT round(m['r'], 3) AS r, round(m['alpha'], 3) AS alpha, round(m['s'], 3) AS s,
         round(m['beta'], 3) AS beta, round(m['log_likelihood'], 1) AS ll
  FROM (SELECT paretonbd_fit(frequency, recency, t) AS m FROM cdnow_summary);
+-------+--------+-------+--------+---------+
| r     | alpha  | s     | beta   | ll      |
+-------+--------+-------+--------+---------+
| 0.553 | 10.578 | 0.606 | 11.668 | -9595.0 |
+-------+--------+-------+--------+---------+
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
pub struct ParetoNbdFit;

impl Fitter for ParetoNbdFit {
    const INPUTS: usize = BTYD_INPUTS;
    const MIN_ROWS: usize = 5;
    const ARGS: &'static [&'static str] = &FIT_ARGS;

    fn syntax(&self) -> &'static str {
        SYNTAX
    }

    fn kind(&self) -> ModelKind {
        ModelKind::ParetoNbd
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
        ParetoNbd::fit(&customers, penalizer).map(|f| Fitted {
            params: vec![f.params.r, f.params.alpha, f.params.s, f.params.beta],
            log_likelihood: f.log_likelihood,
            iterations: f.iterations,
            converged: f.converged,
            standard_errors: f.standard_errors,
        })
    }
}
