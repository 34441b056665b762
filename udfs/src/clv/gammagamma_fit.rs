//! `gammagamma_fit(frequency, monetary_value [, penalizer])`: the Gamma-Gamma spend model.

use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::logical_expr::Documentation;
use datafusion_macros::user_doc;

use super::fit_groups::Fitter;
use super::model::ModelKind;
use crate::math::gammagamma::{GammaGamma, Spenders};
use crate::math::optimize::Fitted;

const SYNTAX: &str = "gammagamma_fit(frequency, monetary_value [, penalizer])";

#[user_doc(
    doc_section(label = "Customer lifetime value functions"),
    description = "Fits the Gamma-Gamma spend model (Fader, Hardie and Lee 2005) by maximum \
    likelihood, as lifetimes' GammaGammaFitter, to returning customers: rows with frequency > \
    0 and a positive monetary_value are used, the others (first-time buyers, net refunds) and \
    rows with a NULL or NaN input are skipped and counted in rows_skipped. A negative or \
    fractional frequency is an error. Returns a model struct: model, p, q, v, log_likelihood, \
    rows_used, rows_skipped, iterations, converged, penalizer, standard errors se_p, se_q, \
    se_v with 95% bounds lower_p .. upper_v, and warning, as bgnbd_fit. No usable rows give NULL; \
    fewer than 4 are an error.",
    syntax_example = "gammagamma_fit(frequency, monetary_value [, penalizer => 0])",
    sql_example = r#"```sql
> SELECT round(m['p'], 2) AS p, round(m['q'], 2) AS q, round(m['v'], 2) AS v,
         m['rows_used'] AS used, m['rows_skipped'] AS skipped
  FROM (SELECT gammagamma_fit(frequency, monetary_value) AS m FROM cdnow_summary);
+------+------+-------+------+---------+
| p    | q    | v     | used | skipped |
+------+------+-------+------+---------+
| 6.25 | 3.74 | 15.45 | 946  | 1411    |
+------+------+-------+------+---------+
```"#,
    argument(
        name = "frequency",
        description = "Repeat purchases (btyd_summary's frequency)."
    ),
    argument(
        name = "monetary_value",
        description = "Mean spend of the repeat purchases (btyd_summary's monetary_value)."
    ),
    argument(
        name = "penalizer",
        description = "A constant L2 penalty on the parameters, 0 (none) by default, as \
        lifetimes' penalizer_coef."
    )
)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct GammaGammaFit;

impl Fitter for GammaGammaFit {
    const INPUTS: usize = 2;
    const MIN_ROWS: usize = 4;
    const ARGS: &'static [&'static str] = &["frequency", "monetary_value", "penalizer"];

    fn syntax(&self) -> &'static str {
        SYNTAX
    }

    fn kind(&self) -> ModelKind {
        ModelKind::GammaGamma
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }

    fn admit(&self, row: &[f64]) -> Result<bool> {
        let (frequency, monetary) = (row[0], row[1]);
        if frequency < 0.0 || frequency.fract() != 0.0 {
            return exec_err!(
                "{SYNTAX}: frequency must be a whole number, 0 or more, got {frequency}"
            );
        }
        Ok(frequency > 0.0 && monetary > 0.0)
    }

    fn fit(&self, rows: &[f64], penalizer: f64) -> Option<Fitted<Vec<f64>>> {
        let spenders = Spenders {
            frequency: rows.iter().step_by(2).copied().collect(),
            monetary: rows.iter().skip(1).step_by(2).copied().collect(),
        };
        GammaGamma::fit(&spenders, penalizer).map(|f| Fitted {
            params: vec![f.params.p, f.params.q, f.params.v],
            log_likelihood: f.log_likelihood,
            iterations: f.iterations,
            converged: f.converged,
            standard_errors: f.standard_errors,
        })
    }
}
