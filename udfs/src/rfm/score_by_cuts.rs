//! `score_by_cuts(value, cuts)`: a score against frozen `rfm_cuts`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Int32Array};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use datafusion_macros::user_doc;

use super::rfm_cuts::cuts_fields;
use super::scoring::score_with_cuts;
use crate::common::args;

const SYNTAX: &str = "score_by_cuts(value, cuts)";

#[user_doc(
    doc_section(label = "Customer segmentation functions"),
    description = "The score of a value against cut points frozen by `rfm_cuts`: 1 plus the \
    number of cuts the value is better than. Scores the population the cuts came from exactly \
    as `rfm_score` does, and scores new values consistently with it. NULL value or cuts give \
    NULL.",
    syntax_example = "score_by_cuts(value, cuts)",
    sql_example = r#"```sql
> SELECT order_id, amount, score_by_cuts(amount, c) AS score
  FROM transactions CROSS JOIN (SELECT rfm_cuts(amount, 4) AS c FROM transactions)
  ORDER BY order_id LIMIT 3;
+----------+--------+-------+
| order_id | amount | score |
+----------+--------+-------+
| 101      | 120.0  | 4     |
| 102      | 35.5   | 2     |
| 103      | 80.0   | 3     |
+----------+--------+-------+
```"#,
    argument(
        name = "value",
        description = "The value to score, e.g. this quarter's monetary."
    ),
    argument(name = "cuts", description = "A struct made by `rfm_cuts`.")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ScoreByCuts {
    signature: Signature,
}

impl Default for ScoreByCuts {
    fn default() -> Self {
        Self::new()
    }
}

impl ScoreByCuts {
    pub fn new() -> Self {
        Self {
            signature: Signature {
                type_signature: TypeSignature::UserDefined,
                volatility: Volatility::Immutable,
                parameter_names: Some(vec!["value".into(), "cuts".into()]),
            },
        }
    }
}

impl ScalarUDFImpl for ScoreByCuts {
    fn name(&self) -> &str {
        "score_by_cuts"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        args::count(SYNTAX, arg_types.len(), 2, 2)?;
        let value = args::number(SYNTAX, "value", &arg_types[0])?;
        let expected = DataType::Struct(cuts_fields());
        match &arg_types[1] {
            DataType::Struct(fields)
                if ["bins", "lower_is_better", "cuts"]
                    .iter()
                    .all(|name| fields.find(name).is_some()) =>
            {
                Ok(vec![value, expected])
            }
            DataType::Null => Ok(vec![value, expected]),
            other => plan_err!(
                "{SYNTAX}: cuts must be a struct made by rfm_cuts (bins, lower_is_better, \
                 cuts), got {other}"
            ),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = crate::common::args::arrays(&args.args, rows)?;
        let values = arrays[0].as_primitive::<Float64Type>();
        let cuts = arrays[1].as_struct();
        let lower = cuts.column(1).as_boolean();
        let lists = cuts.column(2).as_list::<i32>();
        let offsets = lists.value_offsets();
        let points = lists.values().as_primitive::<Float64Type>().values();
        let scores: Int32Array = (0..rows)
            .map(|i| {
                if values.is_null(i) || cuts.is_null(i) || lists.is_null(i) {
                    return None;
                }
                let span = &points[offsets[i] as usize..offsets[i + 1] as usize];
                Some(score_with_cuts(values.value(i), span, lower.value(i)) as i32)
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(scores)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
