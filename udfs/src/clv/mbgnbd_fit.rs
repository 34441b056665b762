//! `mbgnbd_fit(frequency, recency, T [, penalizer])`: the MBG/NBD model by maximum likelihood.

use datafusion::error::Result;
use datafusion::logical_expr::Documentation;
use datafusion_macros::user_doc;

use super::fit_groups::Fitter;
use super::model::ModelKind;
use super::transactions_model::{self, BTYD_INPUTS, FIT_ARGS};
use crate::math::customers::Customers;
use crate::math::mbgnbd::MbgNbd;
use crate::math::optimize::Fitted;

const SYNTAX: &str = "mbgnbd_fit(frequency, recency, T [, penalizer])";

#[user_doc(
    doc_section(label = "Customer lifetime value functions"),
    description = "Fits the MBG/NBD model (Batislam, Denizel and Filiztekin 2007) by maximum \
    likelihood, as lifetimes' ModifiedBetaGeoFitter: BG/NBD in which a customer may also drop \
    out right after the first purchase, so customers without repeat purchases are not all \
    alive (BG/NBD's P(alive) is 1 for them). Input rules, conditioning, optimiser and the \
    returned struct are bgnbd_fit's (model is 'mbgnbd'; standard errors and bounds included); \
    p_alive, expected_purchases and cltv accept the model and use MBG/NBD's formulas.",
    syntax_example = "mbgnbd_fit(frequency, recency, T [, penalizer => 0])",
    sql_example = r#"```sql
> SELECT round(m['r'], 3) AS r, round(m['alpha'], 3) AS alpha, round(m['a'], 3) AS a,
         round(m['b'], 3) AS b, round(m['log_likelihood'], 1) AS ll, m['converged'] AS ok
  FROM (SELECT mbgnbd_fit(frequency, recency, t) AS m FROM cdnow_summary);
+-------+-------+-------+-------+---------+------+
| r     | alpha | a     | b     | ll      | ok   |
+-------+-------+-------+-------+---------+------+
| 0.525 | 6.183 | 0.891 | 1.614 | -9582.1 | true |
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
pub struct MbgNbdFit;

impl Fitter for MbgNbdFit {
    const INPUTS: usize = BTYD_INPUTS;
    const MIN_ROWS: usize = 5;
    const ARGS: &'static [&'static str] = &FIT_ARGS;

    fn syntax(&self) -> &'static str {
        SYNTAX
    }

    fn kind(&self) -> ModelKind {
        ModelKind::MbgNbd
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
        MbgNbd::fit(&customers, penalizer).map(|f| Fitted {
            params: vec![f.params.r, f.params.alpha, f.params.a, f.params.b],
            log_likelihood: f.log_likelihood,
            iterations: f.iterations,
            converged: f.converged,
            standard_errors: f.standard_errors,
        })
    }
}
