//! The `features` argument: a list of numbers per row, e.g. `make_array(r, f, m)`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, ListArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;

use crate::common::rows::selected;

/// The type every features argument is coerced to.
pub fn features_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true)))
}

/// Coerces a features argument: any list of numbers.
///
/// # Errors
/// A plan error naming the argument when it is not a list of numbers.
pub fn coerce(syntax: &str, arg: &str, given: &DataType) -> Result<DataType> {
    match given {
        DataType::List(item) | DataType::LargeList(item) | DataType::FixedSizeList(item, _)
            if item.data_type().is_numeric() || item.data_type().is_null() =>
        {
            Ok(features_type())
        }
        DataType::Null => Ok(features_type()),
        other => plan_err!(
            "{syntax}: {arg} must be a list of numbers such as make_array(recency, frequency, \
             monetary), got {other}"
        ),
    }
}

/// A features column, read row by row without copying.
pub struct FeatureColumn {
    lists: ListArray,
    values: Float64Array,
}

/// What one row holds.
pub enum Features<'a> {
    /// Every element a number.
    Values(&'a [f64]),
    /// The row is NULL or has a NULL or NaN element.
    Missing,
}

impl FeatureColumn {
    /// # Errors
    /// When the array cannot be read as a list of Float64 (only if coercion was bypassed).
    pub fn new(array: &ArrayRef) -> Result<Self> {
        let array = if array.data_type() == &features_type() {
            Arc::clone(array)
        } else {
            cast(array, &features_type())?
        };
        let lists = array.as_list::<i32>().clone();
        let values = lists.values().as_primitive::<Float64Type>().clone();
        Ok(Self { lists, values })
    }

    pub fn len(&self) -> usize {
        self.lists.len()
    }

    /// Row `i`'s features.
    pub fn row(&self, i: usize) -> Features<'_> {
        if self.lists.is_null(i) {
            return Features::Missing;
        }
        let offsets = self.lists.value_offsets();
        let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
        if self
            .values
            .nulls()
            .is_some_and(|n| (start..end).any(|j| n.is_null(j)))
        {
            return Features::Missing;
        }
        let values = &self.values.values()[start..end];
        if values.iter().any(|v| v.is_nan()) {
            Features::Missing
        } else {
            Features::Values(values)
        }
    }

    /// Calls `visit(i, features)` for each row that passes the filter, with `None` for rows
    /// whose features are missing.
    ///
    /// # Errors
    /// The first error `visit` returns.
    pub fn for_each(
        &self,
        filter: Option<&BooleanArray>,
        mut visit: impl FnMut(usize, Option<&[f64]>) -> Result<()>,
    ) -> Result<()> {
        for i in 0..self.len() {
            if selected(filter, i) {
                match self.row(i) {
                    Features::Missing => visit(i, None)?,
                    Features::Values(values) => visit(i, Some(values))?,
                }
            }
        }
        Ok(())
    }
}

/// Checks a row's feature count against the others'.
///
/// # Errors
/// When it differs, or is zero.
pub fn check_dim(syntax: &str, dim: &mut Option<usize>, len: usize) -> Result<()> {
    match *dim {
        _ if len == 0 => exec_err!("{syntax}: features must not be an empty list"),
        Some(d) if d != len => exec_err!(
            "{syntax}: every row's features must have the same length: found {len} after {d}"
        ),
        Some(_) => Ok(()),
        None => {
            *dim = Some(len);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Int64Type;

    #[test]
    fn rows_with_nulls_or_nan_are_missing_and_lengths_must_agree() {
        let lists: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
            Some(vec![Some(1), Some(2)]),
            None,
            Some(vec![Some(3), None]),
            Some(vec![Some(4), Some(5), Some(6)]),
        ]));
        let column = FeatureColumn::new(&lists).unwrap();
        let mut seen = Vec::new();
        let mut dim = None;
        let err = column
            .for_each(None, |i, v| {
                seen.push((i, v.map(<[f64]>::to_vec)));
                v.map_or(Ok(()), |v| check_dim("f(features)", &mut dim, v.len()))
            })
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("every row's features must have the same length: found 3 after 2"),
            "{err}"
        );
        assert_eq!(
            seen,
            vec![
                (0, Some(vec![1.0, 2.0])),
                (1, None),
                (2, None),
                (3, Some(vec![4.0, 5.0, 6.0]))
            ]
        );
        let nan: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(vec![
            Some(vec![Some(f64::NAN)]),
        ]));
        assert!(matches!(
            FeatureColumn::new(&nan).unwrap().row(0),
            Features::Missing
        ));
        assert!(coerce("f", "features", &DataType::Utf8).is_err());
    }
}
