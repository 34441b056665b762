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

/// Rows from which [`map_numbers_on_cores`] splits a batch over threads.
const PARALLEL_ROWS: usize = 1024;

/// [`map_numbers`] for row functions of much work (`cltv`: thirteen hypergeometric series a
/// row), with the rows of a batch split over the machine's cores: DataFusion evaluates a
/// projection on as many partitions as its input has, and a summary in one file has one.
/// Results and the first error (in row order) are those of [`map_numbers`].
///
/// # Errors
/// The first error `f` returns.
pub fn map_numbers_on_cores<const N: usize>(
    numbers: &[ArrayRef],
    f: impl Fn(usize, [f64; N]) -> Result<Option<f64>> + Sync,
) -> Result<ColumnarValue> {
    let len = numbers.first().map_or(0, |c| c.len());
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(len / PARALLEL_ROWS)
        .max(1);
    if threads == 1 {
        return map_numbers(numbers, f);
    }
    let size = len.div_ceil(threads);
    let f = &f;
    let parts: Vec<Result<ColumnarValue>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..len)
            .step_by(size)
            .map(|start| {
                let slices: Vec<ArrayRef> = numbers
                    .iter()
                    .map(|a| a.slice(start, size.min(len - start)))
                    .collect();
                scope.spawn(move || map_numbers(&slices, |i, row| f(start + i, row)))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| datafusion::common::internal_err!("a row thread panicked"))
            })
            .collect()
    });
    let arrays = parts
        .into_iter()
        .map(|part| match part? {
            ColumnarValue::Array(array) => Ok(array),
            ColumnarValue::Scalar(value) => value.to_array(),
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    let refs: Vec<&dyn Array> = arrays.iter().map(|a| a.as_ref()).collect();
    Ok(ColumnarValue::Array(datafusion::arrow::compute::concat(
        &refs,
    )?))
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

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::common::exec_err;

    fn column(values: impl Iterator<Item = Option<f64>>) -> ArrayRef {
        Arc::new(values.collect::<Float64Array>())
    }

    #[test]
    fn rows_on_cores_are_the_rows_in_order() {
        let n = 10_000;
        let numbers = [
            column((0..n).map(|i| (i % 7 != 3).then_some(f64::from(i)))),
            column((0..n).map(|i| Some(f64::from(i) / 2.0))),
        ];
        let f = |i: usize, [a, b]: [f64; 2]| Ok(Some(a * b + i as f64));
        let (ColumnarValue::Array(one), ColumnarValue::Array(many)) = (
            map_numbers(&numbers, f).unwrap(),
            map_numbers_on_cores(&numbers, f).unwrap(),
        ) else {
            panic!("arrays expected");
        };
        assert_eq!(one.as_ref(), many.as_ref());
        assert_eq!(many.null_count(), n as usize / 7 + 1);
    }

    #[test]
    fn the_first_error_in_row_order_wins() {
        let numbers = [column((0..10_000).map(|i| Some(f64::from(i))))];
        let result = map_numbers_on_cores(&numbers, |_, [v]| {
            if v == 9_000.0 || v == 2_000.0 {
                exec_err!("row {v}")
            } else {
                Ok(Some(v))
            }
        });
        let message = result.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("row 2000"), "{message}");
    }
}
