//! The row loop the prediction functions share: numeric columns in, one number out per row,
//! NULL where any input is NULL.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::error::Result;
use datafusion::logical_expr::ColumnarValue;

use super::model::{ModelColumn, ModelKind};
use crate::common::args;

/// Coerces a prediction's arguments: models at `model_args` (of the accepted kinds), numbers
/// elsewhere, up to `numbers_end`; later arguments are left as given.
///
/// # Errors
/// A plan error naming the argument that does not fit.
pub fn coerce(
    syntax: &str,
    names: &[&str],
    arg_types: &[DataType],
    models: &[(usize, &[ModelKind])],
    numbers_end: usize,
) -> Result<Vec<DataType>> {
    arg_types
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if let Some((_, accepted)) = models.iter().find(|(at, _)| *at == i) {
                ModelKind::expect(syntax, names[i], t, accepted)?;
                Ok(t.clone())
            } else if i < numbers_end {
                args::number(syntax, names[i], t)
            } else {
                Ok(t.clone())
            }
        })
        .collect()
}

/// Whether any model argument is a NULL literal, which makes every result NULL.
pub fn null_model(args: &datafusion::logical_expr::ScalarFunctionArgs, models: &[usize]) -> bool {
    models
        .iter()
        .any(|&i| args.arg_fields[i].data_type().is_null())
}

/// A column of `len` NULLs.
pub fn nulls(len: usize) -> ColumnarValue {
    ColumnarValue::Array(Arc::new(Float64Array::new_null(len)))
}

/// Applies `f` to each row of the numeric columns `numbers` (Float64 after coercion); rows
/// with a NULL number are NULL without calling `f`.
///
/// # Errors
/// The first error `f` returns.
pub fn map_numbers<const N: usize>(
    numbers: &[ArrayRef],
    mut f: impl FnMut(usize, [f64; N]) -> Result<Option<f64>>,
) -> Result<ColumnarValue> {
    let columns: Vec<&Float64Array> = numbers
        .iter()
        .map(|a| a.as_primitive::<Float64Type>())
        .collect();
    let len = columns.first().map_or(0, |c| c.len());
    let no_nulls = columns.iter().all(|c| c.null_count() == 0);
    let mut out = Vec::with_capacity(len);
    let mut row = [0.0; N];
    for i in 0..len {
        if !no_nulls && columns.iter().any(|c| c.is_null(i)) {
            out.push(None);
            continue;
        }
        for (r, c) in row.iter_mut().zip(&columns) {
            *r = c.value(i);
        }
        out.push(f(i, row)?);
    }
    Ok(ColumnarValue::Array(Arc::new(Float64Array::from(out))))
}

pub use crate::common::args::arrays;

/// The model column at `index` of `arrays`.
///
/// # Errors
/// When it is not a model of `kind`.
pub fn model(
    syntax: &str,
    arrays: &[ArrayRef],
    index: usize,
    kind: ModelKind,
) -> Result<ModelColumn> {
    ModelColumn::new(syntax, &arrays[index], kind)
}
