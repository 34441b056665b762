//! Building list columns (one list of non-null values per row) for results and partial states.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, ListArray};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field};

/// A `List<Float64>` column with one list per row.
pub fn float_lists(rows: Vec<Vec<f64>>) -> ListArray {
    let offsets = OffsetBuffer::from_lengths(rows.iter().map(Vec::len));
    let item = Arc::new(Field::new_list_field(DataType::Float64, false));
    ListArray::new(
        item,
        offsets,
        Arc::new(Float64Array::from(rows.concat())),
        None,
    )
}

/// A `List<Int64>` column with one list per row.
pub fn int_lists(rows: Vec<Vec<i64>>) -> ListArray {
    let offsets = OffsetBuffer::from_lengths(rows.iter().map(Vec::len));
    let item = Arc::new(Field::new_list_field(DataType::Int64, false));
    ListArray::new(
        item,
        offsets,
        Arc::new(Int64Array::from(rows.concat())),
        None,
    )
}

/// The same as [`float_lists`], as an `ArrayRef`.
pub fn float_lists_ref(rows: Vec<Vec<f64>>) -> ArrayRef {
    Arc::new(float_lists(rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Float64Type;

    #[test]
    fn one_list_per_row() {
        let lists = float_lists(vec![vec![1.0, 2.0], vec![], vec![3.0]]);
        assert_eq!(lists.len(), 3);
        assert_eq!(lists.value_length(1), 0);
        assert_eq!(lists.value(2).as_primitive::<Float64Type>().value(0), 3.0);
        assert_eq!(int_lists(vec![vec![4], vec![5, 6]]).value_length(1), 2);
    }
}
