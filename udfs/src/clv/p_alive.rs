//! `p_alive(model, frequency, recency, T)`: the probability a customer is still active.

use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use datafusion_macros::user_doc;

use super::purchase_model::{PREDICTION_MODELS, PurchaseModels};
use super::rows::{arrays, coerce, map_numbers, null_model, nulls};
use super::transactions_model::check_customer;
use crate::common::args;

const SYNTAX: &str = "p_alive(model, frequency, recency, T)";
const NAMES: [&str; 4] = ["model", "frequency", "recency", "T"];

#[user_doc(
    doc_section(label = "Customer lifetime value functions"),
    description = "The probability that a customer is still alive (has not dropped out) at the \
    end of observation, under a BG/NBD, MBG/NBD or Pareto/NBD model from bgnbd_fit, \
    mbgnbd_fit or paretonbd_fit, with lifetimes' formulas. Customers without repeat purchases \
    are alive with probability 1 under BG/NBD (not under MBG/NBD). Computed in log space, so extreme customers get tiny but finite values. \
    NULL model or inputs give NULL; impossible inputs (as for the fits) are errors; any other \
    struct as model is a plan-time error.",
    syntax_example = "p_alive(model, frequency, recency, T)",
    sql_example = r#"```sql
> WITH m AS (SELECT bgnbd_fit(frequency, recency, t) AS model FROM cdnow_summary)
  SELECT customer_id, round(p_alive(model, frequency, recency, t), 4) AS p_alive
  FROM cdnow_summary CROSS JOIN m WHERE customer_id <= 3 ORDER BY customer_id;
+-------------+---------+
| customer_id | p_alive |
+-------------+---------+
| 1           | 0.7266  |
| 2           | 0.2122  |
| 3           | 1.0     |
+-------------+---------+
```"#,
    argument(
        name = "model",
        description = "A model from bgnbd_fit, mbgnbd_fit, paretonbd_fit or bgbb_fit (for which T is the number of opportunities and t counts opportunities)."
    ),
    argument(name = "frequency", description = "Repeat purchases."),
    argument(
        name = "recency",
        description = "Age at the last purchase, in the model's periods."
    ),
    argument(name = "T", description = "Age at the end of observation.")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PAlive {
    signature: Signature,
}

impl Default for PAlive {
    fn default() -> Self {
        Self::new()
    }
}

impl PAlive {
    pub fn new() -> Self {
        Self {
            signature: Signature {
                type_signature: TypeSignature::UserDefined,
                volatility: Volatility::Immutable,
                parameter_names: Some(NAMES.map(String::from).to_vec()),
            },
        }
    }
}

impl ScalarUDFImpl for PAlive {
    fn name(&self) -> &str {
        "p_alive"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        args::count(SYNTAX, arg_types.len(), 4, 4)?;
        coerce(SYNTAX, &NAMES, arg_types, &[(0, PREDICTION_MODELS)], 4)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if null_model(&args, &[0]) {
            return Ok(nulls(args.number_rows));
        }
        let arrays = arrays(&args.args, args.number_rows)?;
        let models = PurchaseModels::new(SYNTAX, &arrays[0], args.arg_fields[0].data_type())?;
        map_numbers(&arrays[1..], |i, [x, t_x, age]| {
            let Some(model) = models.row(i) else {
                return Ok(None);
            };
            check_customer(SYNTAX, x, t_x, age)?;
            Ok(Some(model.p_alive(x, t_x, age)))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
