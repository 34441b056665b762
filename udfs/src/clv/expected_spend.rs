//! `expected_spend(gg_model, frequency, monetary_value)`: the expected mean spend per order.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use datafusion_macros::user_doc;

use super::model::ModelKind;
use super::rows::{arrays, coerce, map_numbers, model, null_model, nulls};
use crate::common::args;
use crate::math::gammagamma::GammaGamma;

const SYNTAX: &str = "expected_spend(gg_model, frequency, monetary_value)";
const NAMES: [&str; 3] = ["gg_model", "frequency", "monetary_value"];

#[user_doc(
    doc_section(label = "Customer lifetime value functions"),
    description = "The conditional expected mean spend per order of a customer under a \
    Gamma-Gamma model from gammagamma_fit: the population mean v*p/(q-1) and the customer's own \
    mean, weighted by w = p*x/(p*x+q-1) (lifetimes' conditional_expected_average_profit). A \
    customer without repeat purchases gets the population mean. NULL model or inputs give \
    NULL; a negative or fractional frequency is an error.",
    syntax_example = "expected_spend(gg_model, frequency, monetary_value)",
    sql_example = r#"```sql
> WITH m AS (SELECT gammagamma_fit(frequency, monetary_value) AS gg FROM cdnow_summary)
  SELECT customer_id, monetary_value,
         round(expected_spend(gg, frequency, monetary_value), 2) AS expected_spend
  FROM cdnow_summary CROSS JOIN m WHERE customer_id <= 3 ORDER BY customer_id;
+-------------+----------------+----------------+
| customer_id | monetary_value | expected_spend |
+-------------+----------------+----------------+
| 1           | 22.35          | 24.66          |
| 2           | 11.77          | 18.91          |
| 3           | 0.0            | 35.17          |
+-------------+----------------+----------------+
```"#,
    argument(name = "gg_model", description = "A model from gammagamma_fit."),
    argument(name = "frequency", description = "Repeat purchases."),
    argument(
        name = "monetary_value",
        description = "Mean spend of the repeat purchases."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ExpectedSpend {
    signature: Signature,
}

impl Default for ExpectedSpend {
    fn default() -> Self {
        Self::new()
    }
}

impl ExpectedSpend {
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

/// The Gamma-Gamma model of a parameter row.
pub fn gamma_gamma([p, q, v]: [f64; 3]) -> GammaGamma {
    GammaGamma { p, q, v }
}

/// Checks a frequency for the spend model.
///
/// # Errors
/// When it is negative or fractional.
pub fn check_frequency(syntax: &str, frequency: f64) -> Result<()> {
    if frequency < 0.0 || frequency.fract() != 0.0 {
        return exec_err!("{syntax}: frequency must be a whole number, 0 or more, got {frequency}");
    }
    Ok(())
}

impl ScalarUDFImpl for ExpectedSpend {
    fn name(&self) -> &str {
        "expected_spend"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        args::count(SYNTAX, arg_types.len(), 3, 3)?;
        coerce(
            SYNTAX,
            &NAMES,
            arg_types,
            &[(0, &[ModelKind::GammaGamma])],
            3,
        )
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if null_model(&args, &[0]) {
            return Ok(nulls(args.number_rows));
        }
        let arrays = arrays(&args.args, args.number_rows)?;
        let models = model(SYNTAX, &arrays, 0, ModelKind::GammaGamma)?;
        map_numbers(&arrays[1..], |i, [x, m]| {
            let Some(params) = models.row::<3>(i) else {
                return Ok(None);
            };
            check_frequency(SYNTAX, x)?;
            Ok(Some(gamma_gamma(params).expected_spend(x, m)))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
