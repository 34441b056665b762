//! `rfm_score(recency_days, frequency, monetary [, bins]) OVER (...)`: quantile scores of each
//! row against its window partition, ties never split.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int32Array, StructArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Float64Type};
use datafusion::common::{exec_datafusion_err, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    Documentation, PartitionEvaluator, Signature, TypeSignature, Volatility, WindowUDFImpl,
};
use datafusion_macros::user_doc;

use super::scoring::scores_where;
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
    Ok(checked_column(syntax, name, column)?.iter().collect())
}

/// A Float64 column, with NaN rejected at its valid rows.
fn checked_column<'a>(syntax: &str, name: &str, column: &'a ArrayRef) -> Result<&'a Float64Array> {
    let values = column.as_primitive::<Float64Type>();
    if values.values().iter().any(|v| v.is_nan()) {
        let nan_at_valid =
            (0..values.len()).any(|i| values.is_valid(i) && values.value(i).is_nan());
        if nan_at_valid {
            return exec_err!("{syntax}: {name} is NaN; every value must be a number");
        }
    }
    Ok(values)
}

/// The scores of a column's valid values (0 at its nulls), read in place.
fn score_column(column: &Float64Array, bins: u32, lower_is_better: bool) -> Vec<u32> {
    match column.nulls() {
        None => scores_where(column.values(), |_| true, bins, lower_is_better),
        Some(nulls) => scores_where(
            column.values(),
            |i| nulls.is_valid(i),
            bins,
            lower_is_better,
        ),
    }
}

/// An Int32 column of `values` with the given nulls (scores and codes are far below
/// `i32::MAX`; collected from a `Vec<u32>` in place, without a copy).
fn int32_array(values: Vec<u32>, nulls: Option<NullBuffer>) -> ArrayRef {
    let values: Vec<i32> = values.into_iter().map(|v| v as i32).collect();
    Arc::new(Int32Array::new(values.into(), nulls))
}

/// Partitions at least this large score their three columns on separate threads: `OVER ()`
/// is one partition, which DataFusion evaluates on one thread.
const PARALLEL_ROWS: usize = 50_000;

impl PartitionEvaluator for RfmScoreEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let recency = checked_column(SYNTAX, "recency_days", &values[0])?;
        let frequency = checked_column(SYNTAX, "frequency", &values[1])?;
        let monetary = checked_column(SYNTAX, "monetary", &values[2])?;
        let bins = self.bins;
        let (r, f, m) = if num_rows >= PARALLEL_ROWS {
            std::thread::scope(|scope| {
                let r = scope.spawn(|| score_column(recency, bins, true));
                let f = scope.spawn(|| score_column(frequency, bins, false));
                let m = score_column(monetary, bins, false);
                let joined = |handle: std::thread::ScopedJoinHandle<'_, Vec<u32>>| {
                    handle
                        .join()
                        .map_err(|_| exec_datafusion_err!("{SYNTAX}: scoring a column failed"))
                };
                Ok::<_, datafusion::error::DataFusionError>((joined(r)?, joined(f)?, m))
            })?
        } else {
            (
                score_column(recency, bins, true),
                score_column(frequency, bins, false),
                score_column(monetary, bins, false),
            )
        };
        // Three digits only make a code while every score is one digit.
        let code_nulls = if self.bins <= 9 {
            NullBuffer::union(
                NullBuffer::union(recency.nulls(), frequency.nulls()).as_ref(),
                monetary.nulls(),
            )
        } else {
            Some(NullBuffer::new_null(num_rows))
        };
        let code = r
            .iter()
            .zip(&f)
            .zip(&m)
            .map(|((&r, &f), &m)| r.wrapping_mul(100).wrapping_add(f * 10).wrapping_add(m))
            .collect();
        Ok(Arc::new(StructArray::try_new(
            score_fields(),
            vec![
                int32_array(r, recency.nulls().cloned()),
                int32_array(f, frequency.nulls().cloned()),
                int32_array(m, monetary.nulls().cloned()),
                int32_array(code, code_nulls),
            ],
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
        let recency = column_values(SYNTAX, "r", &values[0]).unwrap();
        let expected_r = super::super::scoring::quantile_scores(&recency, 5, true);
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
