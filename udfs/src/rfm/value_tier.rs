//! `value_tier(monetary [, high_share, medium_share]) OVER (...)`: Pareto value tiers.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema};
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    Documentation, PartitionEvaluator, Signature, TypeSignature, Volatility, WindowUDFImpl,
};
use datafusion_macros::user_doc;

use super::rfm_score::column_values;
use super::tiers::value_tiers;
use crate::common::args;

const SYNTAX: &str = "value_tier(monetary [, high_share [, medium_share]]) OVER (...)";

#[user_doc(
    doc_section(label = "Customer segmentation functions"),
    description = "The value tier of each row by cumulative revenue share within its window \
    partition: customers ranked by spend, best first, are `high` while the customers above them \
    hold less than `high_share` of the revenue, then `medium` while those above hold less than \
    `medium_share`, then `low`; so the top customers making the first 50% of revenue are high \
    and those up to 80% medium. Customers tied on spend share a tier. Spend of 0 or less is the \
    tier `zero` and is left out of the revenue total; NULL spend gives NULL; NaN is an error.",
    syntax_example = "value_tier(monetary [, high_share [, medium_share]]) OVER ([PARTITION BY ...])",
    sql_example = r#"```sql
> SELECT customer_id, spend, value_tier(spend) OVER () AS tier
  FROM (SELECT customer_id, sum(amount) AS spend FROM transactions GROUP BY customer_id)
  ORDER BY spend DESC;
+-------------+-------+--------+
| customer_id | spend | tier   |
+-------------+-------+--------+
| 3           | 405.0 | high   |
| 1           | 235.5 | medium |
| 4           | 42.0  | low    |
| 2           | 0.0   | zero   |
+-------------+-------+--------+
```"#,
    argument(name = "monetary", description = "Each customer's spend."),
    argument(
        name = "high_share",
        description = "Revenue share of the high tier: a constant in (0, 1]. Default 0.5."
    ),
    argument(
        name = "medium_share",
        description = "Cumulative revenue share up to the end of the medium tier: a constant \
        from high_share to 1. Default 0.8."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ValueTier {
    signature: Signature,
}

impl Default for ValueTier {
    fn default() -> Self {
        Self::new()
    }
}

impl ValueTier {
    pub fn new() -> Self {
        Self {
            signature: Signature {
                type_signature: TypeSignature::UserDefined,
                volatility: Volatility::Immutable,
                parameter_names: Some(
                    ["monetary", "high_share", "medium_share"]
                        .map(String::from)
                        .to_vec(),
                ),
            },
        }
    }
}

impl WindowUDFImpl for ValueTier {
    fn name(&self) -> &str {
        "value_tier"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        args::count(SYNTAX, arg_types.len(), 1, 3)?;
        let names = ["monetary", "high_share", "medium_share"];
        arg_types
            .iter()
            .zip(names)
            .map(|(t, name)| args::number(SYNTAX, name, t))
            .collect()
    }

    fn partition_evaluator(
        &self,
        partition_evaluator_args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        let exprs = partition_evaluator_args.input_exprs();
        let schema = Schema::empty();
        let share = |index: usize, name: &str, default: f64| -> Result<f64> {
            match exprs.get(index) {
                None => Ok(default),
                Some(expr) => {
                    let value = args::constant(SYNTAX, name, expr, &schema)?;
                    match args::float(SYNTAX, name, &value)? {
                        Some(share) => Ok(share),
                        None => plan_err!("{SYNTAX}: {name} is NULL"),
                    }
                }
            }
        };
        let high = share(1, "high_share", 0.5)?;
        let medium = share(2, "medium_share", 0.8)?;
        if !(high > 0.0 && high <= 1.0) {
            return plan_err!("{SYNTAX}: high_share must be in (0, 1], got {high}");
        }
        if !(medium >= high && medium <= 1.0) {
            return plan_err!(
                "{SYNTAX}: medium_share must be between high_share ({high}) and 1, got {medium}"
            );
        }
        Ok(Box::new(ValueTierEvaluator { high, medium }))
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(
            field_args.name(),
            DataType::Utf8,
            true,
        )))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

#[derive(Debug)]
struct ValueTierEvaluator {
    high: f64,
    medium: f64,
}

impl PartitionEvaluator for ValueTierEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], _num_rows: usize) -> Result<ArrayRef> {
        let monetary = column_values(SYNTAX, "monetary", &values[0])?;
        let tiers = value_tiers(&monetary, self.high, self.medium);
        Ok(Arc::new(StringArray::from(tiers)))
    }
}
