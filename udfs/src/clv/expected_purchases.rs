//! `expected_purchases(model, t, frequency, recency, T)`: purchases to expect in the next t
//! periods.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::exec_err;
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

const SYNTAX: &str = "expected_purchases(model, t, frequency, recency, T)";
const NAMES: [&str; 5] = ["model", "t", "frequency", "recency", "T"];

#[user_doc(
    doc_section(label = "Customer lifetime value functions"),
    description = "The conditional expected number of purchases a customer makes in the next \
    t periods, given their history, under a BG/NBD or Pareto/NBD model (lifetimes' \
    conditional_expected_number_of_purchases_up_to_time). NULL model or inputs give NULL; a \
    negative t and impossible inputs (as for the fits) are errors.",
    syntax_example = "expected_purchases(model, t, frequency, recency, T)",
    sql_example = r#"```sql
> WITH m AS (SELECT bgnbd_fit(frequency, recency, t) AS model FROM cdnow_summary)
  SELECT customer_id, round(expected_purchases(model, 39, frequency, recency, t), 4) AS next_39
  FROM cdnow_summary CROSS JOIN m WHERE customer_id <= 3 ORDER BY customer_id;
+-------------+---------+
| customer_id | next_39 |
+-------------+---------+
| 1           | 1.2259  |
| 2           | 0.2033  |
| 3           | 0.1948  |
+-------------+---------+
```"#,
    argument(
        name = "model",
        description = "A model from bgnbd_fit, mbgnbd_fit, paretonbd_fit or bgbb_fit (for which T is the number of opportunities and t counts opportunities)."
    ),
    argument(
        name = "t",
        description = "The horizon, in the model's periods (0 or more)."
    ),
    argument(name = "frequency", description = "Repeat purchases."),
    argument(name = "recency", description = "Age at the last purchase."),
    argument(name = "T", description = "Age at the end of observation.")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ExpectedPurchases {
    signature: Signature,
}

impl Default for ExpectedPurchases {
    fn default() -> Self {
        Self::new()
    }
}

impl ExpectedPurchases {
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

impl ScalarUDFImpl for ExpectedPurchases {
    fn name(&self) -> &str {
        "expected_purchases"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        args::count(SYNTAX, arg_types.len(), 5, 5)?;
        coerce(SYNTAX, &NAMES, arg_types, &[(0, PREDICTION_MODELS)], 5)
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
        map_numbers(&arrays[1..], |i, [t, x, t_x, age]| {
            let Some(model) = models.row(i) else {
                return Ok(None);
            };
            if t < 0.0 {
                return exec_err!("{SYNTAX}: t must be 0 or more, got {t}");
            }
            check_customer(SYNTAX, x, t_x, age)?;
            Ok(Some(model.expected_purchases(t, x, t_x, age)))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
