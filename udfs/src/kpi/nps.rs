//! `nps(score)`: the net promoter score of 0..10 survey answers.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator, Signature,
    TypeSignature, Volatility,
};
use datafusion_macros::user_doc;

use crate::common::args;
use crate::common::rows::selected;
use crate::common::single_group::{GroupState, SingleGroup};

const SYNTAX: &str = "nps(score)";

#[user_doc(
    doc_section(label = "Customer segmentation functions"),
    description = "The net promoter score of survey answers from 0 to 10: the percentage of \
    promoters (9 or 10) minus the percentage of detractors (0 to 6), from -100 to 100. NULL \
    scores are skipped; no scores give NULL; a score outside 0..10 is an error naming it.",
    syntax_example = "nps(score)",
    sql_example = r#"```sql
> SELECT nps(score) AS nps FROM (VALUES (10), (9), (8), (6), (3)) AS t(score);
+-----+
| nps |
+-----+
| 0.0 |
+-----+
```"#,
    argument(name = "score", description = "An integer answer from 0 to 10.")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Nps {
    signature: Signature,
}

impl Default for Nps {
    fn default() -> Self {
        Self::new()
    }
}

impl Nps {
    pub fn new() -> Self {
        Self {
            signature: Signature {
                type_signature: TypeSignature::UserDefined,
                volatility: Volatility::Immutable,
                parameter_names: Some(vec!["score".into()]),
            },
        }
    }
}

impl AggregateUDFImpl for Nps {
    fn name(&self) -> &str {
        "nps"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        args::count(SYNTAX, arg_types.len(), 1, 1)?;
        Ok(vec![args::integer(SYNTAX, "score", &arg_types[0])?])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn accumulator(&self, _acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(SingleGroup::new(NpsGroups::default())))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let name = |field: &str| format!("{}[{field}]", args.name);
        Ok(["answers", "promoters", "detractors"]
            .iter()
            .map(|f| Arc::new(Field::new(name(f), DataType::Int64, false)))
            .collect())
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(NpsGroups::default()))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// Answers, promoters and detractors per group.
#[derive(Debug, Clone, Default)]
struct NpsGroups {
    counts: Vec<[i64; 3]>,
}

/// The counts one score adds: (answers, promoters, detractors).
fn classify(score: i64) -> Result<[i64; 3]> {
    match score {
        9..=10 => Ok([1, 1, 0]),
        7..=8 => Ok([1, 0, 0]),
        0..=6 => Ok([1, 0, 1]),
        other => exec_err!("{SYNTAX}: score {other} is outside 0..10"),
    }
}

impl GroupState for NpsGroups {
    fn resize(&mut self, total_num_groups: usize) {
        if self.counts.len() < total_num_groups {
            self.counts.resize(total_num_groups, [0; 3]);
        }
    }
}

impl GroupsAccumulator for NpsGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        let scores = values[0].as_primitive::<Int64Type>();
        for (i, &group) in group_indices.iter().enumerate() {
            if scores.is_valid(i) && selected(opt_filter, i) {
                let add = classify(scores.value(i))?;
                for (count, add) in self.counts[group].iter_mut().zip(add) {
                    *count += add;
                }
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let counts = emit_to.take_needed(&mut self.counts);
        let scores: Float64Array = counts
            .iter()
            .map(|[n, promoters, detractors]| {
                (*n > 0).then(|| 100.0 * (promoters - detractors) as f64 / *n as f64)
            })
            .collect();
        Ok(Arc::new(scores))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let counts = emit_to.take_needed(&mut self.counts);
        Ok((0..3)
            .map(|k| {
                Arc::new(Int64Array::from_iter_values(counts.iter().map(|c| c[k]))) as ArrayRef
            })
            .collect())
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        let columns: Vec<_> = values
            .iter()
            .map(|v| v.as_primitive::<Int64Type>())
            .collect();
        for (i, &group) in group_indices.iter().enumerate() {
            for (count, column) in self.counts[group].iter_mut().zip(&columns) {
                *count += column.value(i);
            }
        }
        Ok(())
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let scores = values[0].as_primitive::<Int64Type>();
        let mut counts = Vec::with_capacity(scores.len());
        for i in 0..scores.len() {
            counts.push(if scores.is_valid(i) && selected(opt_filter, i) {
                classify(scores.value(i))?
            } else {
                [0; 3]
            });
        }
        Ok((0..3)
            .map(|k| {
                Arc::new(Int64Array::from_iter_values(counts.iter().map(|c| c[k]))) as ArrayRef
            })
            .collect())
    }

    fn size(&self) -> usize {
        self.counts.capacity() * size_of::<[i64; 3]>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promoters_minus_detractors() {
        let mut acc = NpsGroups::default();
        let scores: ArrayRef = Arc::new(Int64Array::from(vec![
            Some(10),
            Some(9),
            Some(8),
            Some(6),
            None,
            Some(0),
        ]));
        acc.update_batch(&[scores], &[0, 0, 0, 0, 0, 1], None, 3)
            .unwrap();
        let result = acc.evaluate(EmitTo::All).unwrap();
        let result = result.as_primitive::<datafusion::arrow::datatypes::Float64Type>();
        assert_eq!(result.value(0), 25.0); // 2 promoters, 1 detractor of 4 answers
        assert_eq!(result.value(1), -100.0);
        assert!(result.is_null(2));
    }

    #[test]
    fn out_of_range_scores_are_errors() {
        let mut acc = NpsGroups::default();
        let scores: ArrayRef = Arc::new(Int64Array::from(vec![11]));
        let err = acc.update_batch(&[scores], &[0], None, 1).unwrap_err();
        assert!(
            err.to_string()
                .contains("nps(score): score 11 is outside 0..10"),
            "{err}"
        );
    }
}
