//! Arguments: what types they coerce to (with an error naming the argument when they cannot),
//! and the values of arguments that must be constant.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Schema, TimeUnit};
use datafusion::common::{ScalarValue, plan_datafusion_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::ColumnarValue;
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::physical_expr::PhysicalExpr;

use crate::rfm::periods::MICROS_PER_DAY;

/// The timestamp type every date or time argument is coerced to.
pub const TIMESTAMP: DataType = DataType::Timestamp(TimeUnit::Microsecond, None);

/// A date or timestamp argument; strings are accepted only where `strings` is true (constant
/// dates such as `'2024-01-01'`).
///
/// # Errors
/// A plan error naming the function's syntax and the argument.
pub fn timestamp(syntax: &str, arg: &str, given: &DataType, strings: bool) -> Result<DataType> {
    match given {
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 | DataType::Null => {
            Ok(TIMESTAMP)
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View if strings => Ok(TIMESTAMP),
        other => plan_err!(
            "{syntax}: {arg} must be a timestamp or a date, got {other}; cast it, e.g. \
             CAST({arg} AS TIMESTAMP)"
        ),
    }
}

/// A numeric argument, computed as Float64.
///
/// # Errors
/// A plan error naming the function's syntax and the argument.
pub fn number(syntax: &str, arg: &str, given: &DataType) -> Result<DataType> {
    if given.is_numeric() || given.is_null() {
        Ok(DataType::Float64)
    } else {
        plan_err!("{syntax}: {arg} must be a number, got {given}")
    }
}

/// An integer argument, computed as Int64.
///
/// # Errors
/// A plan error naming the function's syntax and the argument.
pub fn integer(syntax: &str, arg: &str, given: &DataType) -> Result<DataType> {
    if given.is_integer() || given.is_null() {
        Ok(DataType::Int64)
    } else {
        plan_err!("{syntax}: {arg} must be an integer, got {given}")
    }
}

/// A text argument.
///
/// # Errors
/// A plan error naming the function's syntax and the argument.
pub fn text(syntax: &str, arg: &str, given: &DataType) -> Result<DataType> {
    match given {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
            Ok(DataType::Utf8)
        }
        other => plan_err!("{syntax}: {arg} must be text, got {other}"),
    }
}

/// A boolean argument.
///
/// # Errors
/// A plan error naming the function's syntax and the argument.
pub fn boolean(syntax: &str, arg: &str, given: &DataType) -> Result<DataType> {
    match given {
        DataType::Boolean | DataType::Null => Ok(DataType::Boolean),
        other => plan_err!("{syntax}: {arg} must be true or false, got {other}"),
    }
}

/// Checks the argument count against the function's syntax.
///
/// # Errors
/// A plan error showing the syntax.
pub fn count(syntax: &str, given: usize, min: usize, max: usize) -> Result<()> {
    if (min..=max).contains(&given) {
        Ok(())
    } else if min == max {
        plan_err!("{syntax}: expected {min} arguments, got {given}")
    } else {
        plan_err!("{syntax}: expected {min} to {max} arguments, got {given}")
    }
}

/// The value of an argument that must be the same for every row (a literal or a parameter).
///
/// # Errors
/// A plan error when the argument refers to columns.
pub fn constant(
    syntax: &str,
    arg: &str,
    expr: &Arc<dyn PhysicalExpr>,
    schema: &Schema,
) -> Result<ScalarValue> {
    let not_constant = || {
        plan_datafusion_err!(
            "{syntax}: {arg} must be a constant (a literal or a query parameter), not an \
             expression over columns"
        )
    };
    let batch = RecordBatch::new_empty(Arc::new(schema.clone()));
    match expr.evaluate(&batch) {
        Ok(ColumnarValue::Scalar(value)) => Ok(value),
        Ok(ColumnarValue::Array(_)) | Err(_) => Err(not_constant()),
    }
}

/// The constant value of an aggregate's argument `index`, if it was given.
///
/// # Errors
/// A plan error when the argument refers to columns.
pub fn constant_arg(
    syntax: &str,
    acc_args: &AccumulatorArgs,
    index: usize,
    arg: &str,
) -> Result<Option<ScalarValue>> {
    acc_args
        .exprs
        .get(index)
        .map(|expr| constant(syntax, arg, expr, acc_args.schema))
        .transpose()
}

/// A constant date or timestamp in microseconds since the epoch; `None` for NULL.
///
/// # Errors
/// When the value is not a date or timestamp.
pub fn micros(syntax: &str, arg: &str, value: &ScalarValue) -> Result<Option<i64>> {
    Ok(match value {
        ScalarValue::Date32(days) => days.map(|d| i64::from(d) * MICROS_PER_DAY),
        ScalarValue::Date64(ms) => ms.map(|ms| ms * 1_000),
        ScalarValue::TimestampSecond(v, _) => v.map(|s| s * 1_000_000),
        ScalarValue::TimestampMillisecond(v, _) => v.map(|ms| ms * 1_000),
        ScalarValue::TimestampMicrosecond(v, _) => *v,
        ScalarValue::TimestampNanosecond(v, _) => v.map(|ns| ns.div_euclid(1_000)),
        ScalarValue::Null => None,
        other => {
            return plan_err!(
                "{syntax}: {arg} must be a date or timestamp, got {}",
                other.data_type()
            );
        }
    })
}

/// A constant number as f64; `None` for NULL.
///
/// # Errors
/// When the value is not a number.
pub fn float(syntax: &str, arg: &str, value: &ScalarValue) -> Result<Option<f64>> {
    if value.is_null() {
        return Ok(None);
    }
    match value.cast_to(&DataType::Float64)? {
        ScalarValue::Float64(v) => Ok(v),
        other => plan_err!(
            "{syntax}: {arg} must be a number, got {}",
            other.data_type()
        ),
    }
}

/// A constant integer; `None` for NULL.
///
/// # Errors
/// When the value is not an integer.
pub fn int(syntax: &str, arg: &str, value: &ScalarValue) -> Result<Option<i64>> {
    if value.is_null() {
        return Ok(None);
    }
    if !value.data_type().is_integer() {
        return plan_err!(
            "{syntax}: {arg} must be an integer, got {}",
            value.data_type()
        );
    }
    match value.cast_to(&DataType::Int64)? {
        ScalarValue::Int64(v) => Ok(v),
        other => plan_err!(
            "{syntax}: {arg} must be an integer, got {}",
            other.data_type()
        ),
    }
}

/// A constant string; `None` for NULL.
///
/// # Errors
/// When the value is not text.
pub fn string(syntax: &str, arg: &str, value: &ScalarValue) -> Result<Option<String>> {
    match value {
        ScalarValue::Utf8(v) | ScalarValue::LargeUtf8(v) | ScalarValue::Utf8View(v) => {
            Ok(v.clone())
        }
        ScalarValue::Null => Ok(None),
        other => plan_err!("{syntax}: {arg} must be text, got {}", other.data_type()),
    }
}

/// A constant boolean; `None` for NULL.
///
/// # Errors
/// When the value is not a boolean.
pub fn bool(syntax: &str, arg: &str, value: &ScalarValue) -> Result<Option<bool>> {
    match value {
        ScalarValue::Boolean(v) => Ok(*v),
        ScalarValue::Null => Ok(None),
        other => plan_err!(
            "{syntax}: {arg} must be true or false, got {}",
            other.data_type()
        ),
    }
}

/// The number of score bins, checked to lie in 2..=100.
///
/// # Errors
/// When it is NULL or out of range.
pub fn bins(syntax: &str, value: Option<i64>) -> Result<u32> {
    match value {
        Some(bins @ 2..=100) => Ok(bins as u32),
        Some(other) => plan_err!("{syntax}: bins must be between 2 and 100, got {other}"),
        None => plan_err!("{syntax}: bins must be between 2 and 100, got NULL"),
    }
}

/// The argument arrays of a scalar call, each constant expanded to the call's `rows`
/// (`ColumnarValue::values_to_arrays` makes one row when every argument is a constant,
/// whatever the batch's row count).
///
/// # Errors
/// When an array cannot be made.
pub fn arrays(args: &[ColumnarValue], rows: usize) -> Result<Vec<ArrayRef>> {
    args.iter().map(|a| a.to_array(rows)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_expanded_to_the_call_rows() {
        // values_to_arrays makes one row of all-constant arguments; a UDF that then indexed
        // rows up to the batch's count panicked (found by the SQL fuzz in score_by_cuts).
        let args = [
            ColumnarValue::Scalar(ScalarValue::Float64(Some(55.0))),
            ColumnarValue::Scalar(ScalarValue::Int64(None)),
        ];
        let arrays = arrays(&args, 3).expect("arrays");
        assert!(arrays.iter().all(|a| a.len() == 3));
        assert_eq!(arrays[1].null_count(), 3);
    }

    #[test]
    fn coercion_errors_name_the_argument() {
        let err = timestamp(
            "rfm(order_ts, amount [, as_of])",
            "order_ts",
            &DataType::Utf8,
            false,
        )
        .unwrap_err();
        assert!(err.to_string().contains(
            "rfm(order_ts, amount [, as_of]): order_ts must be a timestamp or a date, got Utf8"
        ));
        assert_eq!(
            timestamp("f", "as_of", &DataType::Utf8, true).unwrap(),
            TIMESTAMP
        );
        assert!(number("f", "amount", &DataType::Boolean).is_err());
        assert_eq!(
            number("f", "amount", &DataType::Int32).unwrap(),
            DataType::Float64
        );
    }

    #[test]
    fn constant_values() {
        assert_eq!(
            micros("f", "x", &ScalarValue::Date32(Some(1))).unwrap(),
            Some(MICROS_PER_DAY)
        );
        assert_eq!(
            micros("f", "x", &ScalarValue::TimestampNanosecond(Some(-1), None)).unwrap(),
            Some(-1)
        );
        assert_eq!(
            int("f", "bins", &ScalarValue::Int32(Some(4))).unwrap(),
            Some(4)
        );
        assert!(int("f", "bins", &ScalarValue::Float64(Some(4.5))).is_err());
        assert_eq!(
            float("f", "x", &ScalarValue::Int64(Some(2))).unwrap(),
            Some(2.0)
        );
    }

    #[test]
    fn bins_range() {
        assert_eq!(bins("f", Some(5)).unwrap(), 5);
        assert!(
            bins("f", Some(1))
                .unwrap_err()
                .to_string()
                .contains("between 2 and 100, got 1")
        );
        assert!(bins("f", Some(101)).is_err());
    }
}
