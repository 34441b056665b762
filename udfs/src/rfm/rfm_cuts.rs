//! `rfm_cuts(value [, bins [, lower_is_better]])`: a population's score cut points, frozen so
//! later data can be scored with `score_by_cuts` exactly as `rfm_score` scores the population.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Float64Type};
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, Signature, TypeSignature, Volatility,
};
use datafusion_macros::user_doc;

use super::scoring::cut_points;
use crate::common::args;

const SYNTAX: &str = "rfm_cuts(value [, bins [, lower_is_better]])";

#[user_doc(
    doc_section(label = "Customer segmentation functions"),
    description = "The cut points that score a population the way `rfm_score` does, for \
    scoring later data the same way with `score_by_cuts`: a pipeline freezes this quarter's \
    cuts and scores next quarter's customers with them. Returns a struct `bins`, \
    `lower_is_better` and `cuts` (bins - 1 values, worst to best): a value scores 1 plus the \
    number of cuts it is better than, which on the population itself is exactly its \
    `rfm_score`. NULL values are skipped; NaN is an error; no values gives NULL. The struct is a \
    plain value: store it with `CREATE TABLE ... AS` or `COPY ... TO` Parquet.",
    syntax_example = "rfm_cuts(value [, bins [, lower_is_better]])",
    sql_example = r#"```sql
> SELECT rfm_cuts(amount, 4) AS cuts FROM transactions;
+-------------------------------------------------------------+
| cuts                                                        |
+-------------------------------------------------------------+
| {bins: 4, lower_is_better: false, cuts: [15.0, 42.0, 80.0]} |
+-------------------------------------------------------------+
```"#,
    argument(
        name = "value",
        description = "The values of the population, e.g. monetary."
    ),
    argument(
        name = "bins",
        description = "The number of scores, 2 to 100: a constant. Default 5."
    ),
    argument(
        name = "lower_is_better",
        description = "true for recency, where fewer days is better: a constant. Default false."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RfmCuts {
    signature: Signature,
}

impl Default for RfmCuts {
    fn default() -> Self {
        Self::new()
    }
}

impl RfmCuts {
    pub fn new() -> Self {
        Self {
            signature: Signature {
                type_signature: TypeSignature::UserDefined,
                volatility: Volatility::Immutable,
                parameter_names: Some(
                    ["value", "bins", "lower_is_better"]
                        .map(String::from)
                        .to_vec(),
                ),
            },
        }
    }
}

/// The fields of a cuts struct; `score_by_cuts` reads the same.
pub(crate) fn cuts_fields() -> Fields {
    Fields::from(vec![
        Field::new("bins", DataType::Int32, false),
        Field::new("lower_is_better", DataType::Boolean, false),
        Field::new(
            "cuts",
            DataType::List(Arc::new(Field::new_list_field(DataType::Float64, false))),
            false,
        ),
    ])
}

impl AggregateUDFImpl for RfmCuts {
    fn name(&self) -> &str {
        "rfm_cuts"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        args::count(SYNTAX, arg_types.len(), 1, 3)?;
        let mut coerced = vec![args::number(SYNTAX, "value", &arg_types[0])?];
        if let Some(bins) = arg_types.get(1) {
            coerced.push(args::integer(SYNTAX, "bins", bins)?);
        }
        if let Some(lower) = arg_types.get(2) {
            coerced.push(args::boolean(SYNTAX, "lower_is_better", lower)?);
        }
        Ok(coerced)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(cuts_fields()))
    }

    fn accumulator(&self, acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let constant =
            |index: usize, name: &str| args::constant_arg(SYNTAX, &acc_args, index, name);
        let bins = match constant(1, "bins")? {
            None => 5,
            Some(value) => args::bins(SYNTAX, args::int(SYNTAX, "bins", &value)?)?,
        };
        let lower_is_better = match constant(2, "lower_is_better")? {
            None => false,
            Some(value) => match args::bool(SYNTAX, "lower_is_better", &value)? {
                Some(lower) => lower,
                None => return plan_err!("{SYNTAX}: lower_is_better is NULL"),
            },
        };
        Ok(Box::new(CutsAccumulator {
            bins,
            lower_is_better,
            values: vec![],
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[values]", args.name),
            DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true))),
            true,
        ))])
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

#[derive(Debug)]
struct CutsAccumulator {
    bins: u32,
    lower_is_better: bool,
    values: Vec<f64>,
}

impl CutsAccumulator {
    fn push(&mut self, column: &dyn Array) -> Result<()> {
        let column = column.as_primitive::<Float64Type>();
        for value in column.iter().flatten() {
            if value.is_nan() {
                return exec_err!("{SYNTAX}: value is NaN; every value must be a number");
            }
            self.values.push(value);
        }
        Ok(())
    }
}

impl Accumulator for CutsAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.push(values[0].as_ref())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.values.is_empty() {
            return ScalarValue::try_from(DataType::Struct(cuts_fields()));
        }
        let cuts = cut_points(&self.values, self.bins, self.lower_is_better);
        let cuts = ScalarValue::List(ScalarValue::new_list_nullable(
            &cuts
                .into_iter()
                .map(|c| ScalarValue::Float64(Some(c)))
                .collect::<Vec<_>>(),
            &DataType::Float64,
        ));
        let fields = cuts_fields();
        let columns = vec![
            ScalarValue::Int32(Some(self.bins as i32)).to_array()?,
            ScalarValue::Boolean(Some(self.lower_is_better)).to_array()?,
            datafusion::arrow::compute::cast(&cuts.to_array()?, fields[2].data_type())?,
        ];
        let array = datafusion::arrow::array::StructArray::try_new(fields, columns, None)?;
        Ok(ScalarValue::Struct(Arc::new(array)))
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.values.capacity() * size_of::<f64>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let values: Vec<ScalarValue> = self
            .values
            .iter()
            .map(|v| ScalarValue::Float64(Some(*v)))
            .collect();
        Ok(vec![ScalarValue::List(ScalarValue::new_list_nullable(
            &values,
            &DataType::Float64,
        ))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let lists = states[0].as_list::<i32>();
        for list in lists.iter().flatten() {
            self.push(list.as_ref())?;
        }
        Ok(())
    }
}
