//! Compact storage of the rows a radix partition holds: 8-byte values kept in 4 bytes when a
//! batch's values allow it exactly.
//!
//! The radix node holds every input row until the whole input has been read, and writing that
//! memory (first touches, then the stores themselves) is the largest cost it owns on a
//! transaction log in time order. Two kinds of column are common there and fit in half the
//! space:
//!
//! - `Int64` keys and counts between 0 and 2^32 - 1 (customer ids), kept as `UInt32`;
//! - `Float64` amounts with at most two decimals below ±2^31 cents (money), kept as `Int32`
//!   cents, and only when `cents / 100.0` gives back every value bit for bit (so `-0.0`, NaN
//!   and infinities stay as they are).
//!
//! A batch is kept compact only when every value of the column qualifies and it has no NULLs;
//! otherwise it is kept as read. [`widen`] gives back the input's types before the rows are
//! aggregated or spilled.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::kernels::cast::cast;
use datafusion::arrow::datatypes::{
    DataType, Field, Float64Type, Int32Type, Int64Type, Schema, SchemaRef, UInt32Type,
};
use datafusion::common::Result;

/// How a column's values are held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    /// As read.
    Raw,
    /// `Int64` values in `0..2^32`, as `UInt32`.
    Unsigned32,
    /// `Float64` values that are whole cents, as `Int32` cents.
    Cents,
}

impl Encoding {
    /// The encoding worth trying for a column of `data_type`.
    pub(super) fn candidate(data_type: &DataType) -> Self {
        match data_type {
            DataType::Int64 => Self::Unsigned32,
            DataType::Float64 => Self::Cents,
            _ => Self::Raw,
        }
    }

    /// The type the values are held as.
    pub(super) fn stored_type(self, data_type: &DataType) -> DataType {
        match self {
            Self::Raw => data_type.clone(),
            Self::Unsigned32 => DataType::UInt32,
            Self::Cents => DataType::Int32,
        }
    }
}

/// `array`'s values in 4 bytes each, when `encoding` holds every one of them exactly and the
/// array has no NULLs. One pass: values are written while they are checked.
pub(super) fn encode(array: &ArrayRef, encoding: Encoding, out: &mut Vec<u32>) -> bool {
    out.clear();
    if array.null_count() > 0 {
        return false;
    }
    match encoding {
        Encoding::Raw => false,
        Encoding::Unsigned32 => {
            let Some(values) = array.as_primitive_opt::<Int64Type>() else {
                return false;
            };
            let mut fits = true;
            out.extend(values.values().iter().map(|&v| {
                fits &= (v as u64) >> 32 == 0;
                v as u32
            }));
            fits
        }
        Encoding::Cents => {
            let Some(values) = array.as_primitive_opt::<Float64Type>() else {
                return false;
            };
            let mut exact = true;
            out.extend(values.values().iter().map(|&v| {
                let cents = to_cents(v);
                exact &= from_cents(cents).to_bits() == v.to_bits();
                cents as u32
            }));
            exact
        }
    }
}

/// Cents nearest to `value` (ties to even), saturated to `i32`; only exact when
/// [`from_cents`] gives `value` back, which [`encode`] checks.
#[inline]
fn to_cents(value: f64) -> i32 {
    // Adding and subtracting 1.5 * 2^52 rounds to the nearest integer for |x| < 2^51 without
    // a call to `round` (this build targets baseline x86-64); larger values fail the check.
    const ROUND: f64 = 6_755_399_441_055_744.0;
    let scaled = value * 100.0;
    ((scaled + ROUND) - ROUND) as i32
}

#[inline]
fn from_cents(cents: i32) -> f64 {
    f64::from(cents) / 100.0
}

/// `batch` with the types of `schema` again: compact columns widened, others as they are.
pub(super) fn widen(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    if batch.schema_ref() == schema {
        return Ok(batch.clone());
    }
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| -> Result<ArrayRef> {
            Ok(match (column.data_type(), field.data_type()) {
                (held, wanted) if held == wanted => Arc::clone(column),
                (DataType::UInt32, DataType::Int64) => {
                    let keys = column.as_primitive::<UInt32Type>();
                    Arc::new(keys.unary::<_, Int64Type>(i64::from))
                }
                (DataType::Int32, DataType::Float64) => {
                    let cents = column.as_primitive::<Int32Type>();
                    Arc::new(cents.unary::<_, Float64Type>(from_cents))
                }
                (_, wanted) => cast(column, wanted)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

/// The schema of a batch held with `encodings`.
pub(super) fn stored_schema(schema: &SchemaRef, encodings: &[Encoding]) -> SchemaRef {
    if encodings.iter().all(|e| *e == Encoding::Raw) {
        return Arc::clone(schema);
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .zip(encodings)
        .map(|(field, encoding)| {
            field
                .as_ref()
                .clone()
                .with_data_type(encoding.stored_type(field.data_type()))
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array};

    fn round_trip(array: ArrayRef, encoding: Encoding) -> Option<ArrayRef> {
        let mut values = Vec::new();
        if !encode(&array, encoding, &mut values) {
            return None;
        }
        let stored: ArrayRef = match encoding {
            Encoding::Unsigned32 => Arc::new(datafusion::arrow::array::UInt32Array::from(values)),
            _ => Arc::new(datafusion::arrow::array::Int32Array::from(
                values.into_iter().map(|v| v as i32).collect::<Vec<_>>(),
            )),
        };
        let field = Field::new("x", array.data_type().clone(), true);
        let schema = Arc::new(Schema::new(vec![field.clone()]));
        let held = stored_schema(&schema, &[encoding]);
        let batch = RecordBatch::try_new(held, vec![stored]).unwrap();
        Some(Arc::clone(widen(&batch, &schema).unwrap().column(0)))
    }

    #[test]
    fn keys_in_32_bits_round_trip() {
        let keys: ArrayRef = Arc::new(Int64Array::from(vec![0, 1, 813_612, u32::MAX as i64]));
        assert_eq!(
            round_trip(Arc::clone(&keys), Encoding::Unsigned32).as_ref(),
            Some(&keys)
        );
        for outside in [-1, u32::MAX as i64 + 1, i64::MIN] {
            let keys: ArrayRef = Arc::new(Int64Array::from(vec![5, outside]));
            assert!(
                round_trip(keys, Encoding::Unsigned32).is_none(),
                "{outside}"
            );
        }
        let with_null: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None]));
        assert!(round_trip(with_null, Encoding::Unsigned32).is_none());
    }

    #[test]
    fn amounts_in_cents_round_trip_bit_for_bit() {
        let amounts = vec![
            0.0,
            28.0,
            166.88,
            -12.5,
            0.01,
            0.07,
            1234567.89,
            21_474_836.47,
            -21_474_836.48,
        ];
        let array: ArrayRef = Arc::new(Float64Array::from(amounts.clone()));
        let back = round_trip(array, Encoding::Cents).expect("whole cents are kept compact");
        let back = back.as_primitive::<Float64Type>().values();
        for (a, b) in amounts.iter().zip(back.iter()) {
            assert_eq!(a.to_bits(), b.to_bits(), "{a}");
        }
        for outside in [
            -0.0,
            0.001,
            1.0 / 3.0,
            f64::NAN,
            f64::INFINITY,
            21_474_836.48,
            1e300,
            5e-324,
        ] {
            let array: ArrayRef = Arc::new(Float64Array::from(vec![1.25, outside]));
            assert!(round_trip(array, Encoding::Cents).is_none(), "{outside}");
        }
    }
}
