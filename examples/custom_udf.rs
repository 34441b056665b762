//! Embedding seglake and adding a function of your own next to seglake's.
//!
//! Run with `cargo run --example custom_udf`. It defines `margin_rate(revenue, cost)`, builds
//! a seglake session with it, and queries a small in-memory table.

use datafusion::arrow::array::Float64Array;
use datafusion::arrow::compute::kernels::cmp::eq;
use datafusion::arrow::compute::kernels::numeric::{div, sub};
use datafusion::arrow::compute::nullif;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use seglake::SeglakeBuilder;

/// `margin_rate(revenue, cost)`: (revenue - cost) / revenue, NULL when revenue is 0 or NULL.
#[derive(Debug, PartialEq, Eq, Hash)]
struct MarginRate {
    signature: Signature,
}

impl MarginRate {
    fn new() -> Self {
        Self {
            // Any numeric arguments are cast to Float64 by the planner.
            signature: Signature::uniform(2, vec![DataType::Float64], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for MarginRate {
    fn name(&self) -> &str {
        "margin_rate"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        // Vectorised Arrow kernels: NULLs propagate, and a zero revenue becomes NULL first so
        // the division never sees it.
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let (revenue, cost) = (&arrays[0], &arrays[1]);
        let zero = Float64Array::new_scalar(0.0);
        let revenue = nullif(revenue, &eq(revenue, &zero)?)?;
        let margin = div(&sub(&revenue, cost)?, &revenue)?;
        Ok(ColumnarValue::Array(margin))
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let ctx = SeglakeBuilder::new()
        .udf(ScalarUDF::from(MarginRate::new()))
        .build()
        .await?;
    ctx.sql(
        "SELECT category, round(margin_rate(sum(amount), sum(cost)), 3) AS margin \
         FROM (VALUES ('books', 35.5, 20.0), ('books', 15.0, 9.0), ('home', 80.0, 50.0), \
                      ('gifts', 0.0, 0.0)) AS t(category, amount, cost) \
         GROUP BY category ORDER BY category",
    )
    .await?
    .show()
    .await?;
    Ok(())
}
