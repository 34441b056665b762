//! `rfm_score(recency_days, frequency, monetary [, bins]) OVER (...)`: quantile scores of each
//! row against its window partition, ties never split.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array, StructArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Float64Type};
use datafusion::common::{exec_datafusion_err, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    Documentation, PartitionEvaluator, Signature, TypeSignature, Volatility, WindowUDFImpl,
};
use datafusion_macros::user_doc;

use super::scoring::quantile_scores;
use crate::common::args;

const SYNTAX: &str = "rfm_score(recency_days, frequency, monetary [, bins]) OVER (...)";

#[user_doc(
    doc_section(label = "Customer segmentation functions"),
    description = "RFM scores of each row against its window partition: `r`, `f` and `m` from 1 \
    to `bins`, `bins` best, and `code` = r*100 + f*10 + m. Scores are quantiles in which equal \
    values always get equal scores: a value scores ceil(bins * share of the partition it is at \
    least as good as), i.e. `CEIL(bins * CUME_DIST() OVER (ORDER BY value))`, with lower recency \
    better; `code` is NULL when bins is above 9. The best value scores `bins`, every score is at least 1, and with distinct values \
    each score holds the same number of rows; heavily tied values (many one-time buyers) share \
    one score and leave others empty instead of being split arbitrarily as NTILE does. A NULL \
    input gives a NULL score (and code) and is left out of that score's population; NaN is an \
    error. `rfm_cuts` and `score_by_cuts` freeze the same rule for later data.",
    syntax_example = "rfm_score(recency_days, frequency, monetary [, bins]) OVER ([PARTITION BY ...])",
    sql_example = r#"```sql
> SELECT customer_id, rfm_score(v['recency_days'], v['frequency'], v['monetary']) OVER () AS score
  FROM (SELECT customer_id, rfm(order_ts, amount, DATE '2024-01-01') AS v
        FROM transactions GROUP BY customer_id)
  ORDER BY customer_id;
+-------------+-------------------------------+
| customer_id | score                         |
+-------------+-------------------------------+
| 1           | {r: 4, f: 5, m: 4, code: 454} |
| 2           | {r: 2, f: 3, m: 2, code: 232} |
| 3           | {r: 5, f: 5, m: 5, code: 555} |
| 4           | {r: 3, f: 3, m: 3, code: 333} |
+-------------+-------------------------------+
```"#,
    argument(
        name = "recency_days",
        description = "Days since the last purchase: lower is better."
    ),
    argument(name = "frequency", description = "Purchases: higher is better."),
    argument(name = "monetary", description = "Spend: higher is better."),
    argument(
        name = "bins",
        description = "The number of scores, 2 to 100: a constant. Default 5 (quintiles)."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RfmScore {
    signature: Signature,
}

impl Default for RfmScore {
    fn default() -> Self {
        Self::new()
    }
}

impl RfmScore {
    pub fn new() -> Self {
        Self {
            signature: Signature {
                type_signature: TypeSignature::UserDefined,
                volatility: Volatility::Immutable,
                parameter_names: Some(
                    ["recency_days", "frequency", "monetary", "bins"]
                        .map(String::from)
                        .to_vec(),
                ),
            },
        }
    }
}

pub(crate) fn score_fields() -> Fields {
    Fields::from(vec![
        Field::new("r", DataType::Int32, true),
        Field::new("f", DataType::Int32, true),
        Field::new("m", DataType::Int32, true),
        Field::new("code", DataType::Int32, true),
    ])
}

impl WindowUDFImpl for RfmScore {
    fn name(&self) -> &str {
        "rfm_score"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        args::count(SYNTAX, arg_types.len(), 3, 4)?;
        let mut coerced = vec![
            args::number(SYNTAX, "recency_days", &arg_types[0])?,
            args::number(SYNTAX, "frequency", &arg_types[1])?,
            args::number(SYNTAX, "monetary", &arg_types[2])?,
        ];
        if let Some(bins) = arg_types.get(3) {
            coerced.push(args::integer(SYNTAX, "bins", bins)?);
        }
        Ok(coerced)
    }

    fn partition_evaluator(
        &self,
        partition_evaluator_args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        let bins = match partition_evaluator_args.input_exprs().get(3) {
            None => 5,
            Some(expr) => {
                let schema = datafusion::arrow::datatypes::Schema::empty();
                let value = args::constant(SYNTAX, "bins", expr, &schema)?;
                args::bins(SYNTAX, args::int(SYNTAX, "bins", &value)?)?
            }
        };
        Ok(Box::new(RfmScoreEvaluator { bins }))
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(
            field_args.name(),
            DataType::Struct(score_fields()),
            false,
        )))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

#[derive(Debug)]
struct RfmScoreEvaluator {
    bins: u32,
}

/// The values of a Float64 column, with NaN rejected.
pub(crate) fn column_values(
    syntax: &str,
    name: &str,
    column: &ArrayRef,
) -> Result<Vec<Option<f64>>> {
    let values = column.as_primitive::<Float64Type>();
    if values.values().iter().any(|v| v.is_nan()) {
        let nan_at_valid =
            (0..values.len()).any(|i| values.is_valid(i) && values.value(i).is_nan());
        if nan_at_valid {
            return exec_err!("{syntax}: {name} is NaN; every value must be a number");
        }
    }
    Ok(values.iter().collect())
}

/// Partitions at least this large score their three columns on separate threads: `OVER ()`
/// is one partition, which DataFusion evaluates on one thread.
const PARALLEL_ROWS: usize = 50_000;

impl PartitionEvaluator for RfmScoreEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let recency = column_values(SYNTAX, "recency_days", &values[0])?;
        let frequency = column_values(SYNTAX, "frequency", &values[1])?;
        let monetary = column_values(SYNTAX, "monetary", &values[2])?;
        let bins = self.bins;
        let (r, f, m) = if num_rows >= PARALLEL_ROWS {
            std::thread::scope(|scope| {
                let r = scope.spawn(|| quantile_scores(&recency, bins, true));
                let f = scope.spawn(|| quantile_scores(&frequency, bins, false));
                let m = quantile_scores(&monetary, bins, false);
                let joined = |handle: std::thread::ScopedJoinHandle<'_, Vec<Option<u32>>>| {
                    handle
                        .join()
                        .map_err(|_| exec_datafusion_err!("{SYNTAX}: scoring a column failed"))
                };
                Ok::<_, datafusion::error::DataFusionError>((joined(r)?, joined(f)?, m))
            })?
        } else {
            (
                quantile_scores(&recency, bins, true),
                quantile_scores(&frequency, bins, false),
                quantile_scores(&monetary, bins, false),
            )
        };
        // Three digits only make a code while every score is one digit.
        let digits = self.bins <= 9;
        let code: Int32Array = r
            .iter()
            .zip(&f)
            .zip(&m)
            .map(|((&r, &f), &m)| {
                let code = r? * 100 + f? * 10 + m?;
                digits.then_some(code as i32)
            })
            .collect();
        let as_array = |scores: Vec<Option<u32>>| -> ArrayRef {
            Arc::new(
                scores
                    .into_iter()
                    .map(|s| s.map(|s| s as i32))
                    .collect::<Int32Array>(),
            )
        };
        Ok(Arc::new(StructArray::try_new(
            score_fields(),
            vec![as_array(r), as_array(f), as_array(m), Arc::new(code)],
            None,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::Float64Array;

    use super::*;

    #[test]
    fn large_partitions_score_the_same_in_parallel() {
        let n = PARALLEL_ROWS + 7;
        let column = |f: fn(usize) -> f64| -> ArrayRef {
            Arc::new(Float64Array::from_iter_values((0..n).map(f)))
        };
        let values = [
            column(|i| (i * 7919 % 365) as f64),
            column(|i| (i % 13) as f64),
            column(|i| (i * 104_729 % 10_007) as f64 / 3.0),
        ];
        let result = RfmScoreEvaluator { bins: 5 }
            .evaluate_all(&values, n)
            .unwrap();
        let scores = result.as_struct();
        let expected_r = quantile_scores(&column_values(SYNTAX, "r", &values[0]).unwrap(), 5, true);
        let r = scores
            .column(0)
            .as_primitive::<datafusion::arrow::datatypes::Int32Type>();
        assert!((0..n).all(|i| Some(r.value(i) as u32) == expected_r[i]));
        let code = scores
            .column(3)
            .as_primitive::<datafusion::arrow::datatypes::Int32Type>();
        assert_eq!(code.len(), n);
        assert_eq!(code.null_count(), 0);
    }
}
