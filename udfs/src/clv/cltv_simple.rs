//! `cltv_simple(avg_order_value, purchases_per_period, churn_rate [, margin])`: the historic
//! CLV formula.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use datafusion_macros::user_doc;

use super::rows::{arrays, coerce, map_numbers};
use crate::common::args;

const SYNTAX: &str = "cltv_simple(avg_order_value, purchases_per_period, churn_rate [, margin])";
const NAMES: [&str; 4] = [
    "avg_order_value",
    "purchases_per_period",
    "churn_rate",
    "margin",
];

#[user_doc(
    doc_section(label = "Customer lifetime value functions"),
    description = "The simple historic customer lifetime value, for teams without enough \
    history for a model: avg_order_value * purchases_per_period * margin / churn_rate (the \
    expected lifetime is 1 / churn_rate periods). churn_rate is per period, in (0, 1]; a \
    churn_rate of 0 (nobody left) gives NULL, as the lifetime is unbounded; outside [0, 1] is \
    an error naming the value. NULL inputs give NULL.",
    syntax_example = "cltv_simple(avg_order_value, purchases_per_period, churn_rate [, margin => 1.0])",
    sql_example = r#"```sql
> SELECT cltv_simple(50.0, 2.0, 0.25) AS revenue_clv,
         cltv_simple(50.0, 2.0, 0.25, margin => 0.3) AS margin_clv;
+-------------+------------+
| revenue_clv | margin_clv |
+-------------+------------+
| 400.0       | 120.0      |
+-------------+------------+
```"#,
    argument(name = "avg_order_value", description = "Average revenue per order."),
    argument(
        name = "purchases_per_period",
        description = "Orders per customer per period."
    ),
    argument(
        name = "churn_rate",
        description = "Share of customers lost per period, in (0, 1]."
    ),
    argument(
        name = "margin",
        description = "Gross margin as a share of revenue; 1.0 (revenue) by default."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CltvSimple {
    signature: Signature,
}

impl Default for CltvSimple {
    fn default() -> Self {
        Self::new()
    }
}

impl CltvSimple {
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

/// The simple formula; `None` when churn is 0.
///
/// # Errors
/// When churn is outside [0, 1].
fn simple_clv(aov: f64, per_period: f64, churn: f64, margin: f64) -> Result<Option<f64>> {
    if !(0.0..=1.0).contains(&churn) {
        return exec_err!("{SYNTAX}: churn_rate must be between 0 and 1, got {churn}");
    }
    Ok((churn > 0.0).then(|| aov * per_period * margin / churn))
}

impl ScalarUDFImpl for CltvSimple {
    fn name(&self) -> &str {
        "cltv_simple"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        args::count(SYNTAX, arg_types.len(), 3, 4)?;
        coerce(SYNTAX, &NAMES, arg_types, &[], 4)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = arrays(&args.args, args.number_rows)?;
        if arrays.len() == 4 {
            map_numbers(&arrays, |_, [aov, n, churn, margin]| {
                simple_clv(aov, n, churn, margin)
            })
        } else {
            map_numbers(&arrays, |_, [aov, n, churn]| simple_clv(aov, n, churn, 1.0))
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetime_is_one_over_churn() {
        assert_eq!(simple_clv(50.0, 2.0, 0.25, 1.0).unwrap(), Some(400.0));
        assert_eq!(simple_clv(50.0, 2.0, 0.0, 1.0).unwrap(), None);
        let err = simple_clv(50.0, 2.0, 1.5, 1.0).unwrap_err().to_string();
        assert!(
            err.contains("churn_rate must be between 0 and 1, got 1.5"),
            "{err}"
        );
    }
}
