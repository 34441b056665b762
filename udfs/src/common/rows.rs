//! Walking the rows of an aggregate's `(order_ts, amount)` input.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::datatypes::{Float64Type, TimestampMicrosecondType};

/// True when row `i` passes the optional FILTER clause.
#[inline]
pub fn selected(filter: Option<&BooleanArray>, i: usize) -> bool {
    filter.is_none_or(|f| f.is_valid(i) && f.value(i))
}

/// Calls `add(group, order_ts, amount)` for every row that passes the filter and has both
/// values, with a fast path when there are no NULLs and no filter. Returns false when any call
/// did (the callers' signal for a NaN amount).
#[inline]
pub fn for_each_timed_amount(
    values: &[ArrayRef],
    group_indices: &[usize],
    opt_filter: Option<&BooleanArray>,
    mut add: impl FnMut(usize, i64, f64) -> bool,
) -> bool {
    let ts = values[0].as_primitive::<TimestampMicrosecondType>();
    let amount = values[1].as_primitive::<Float64Type>();
    let mut ok = true;
    if ts.null_count() == 0 && amount.null_count() == 0 && opt_filter.is_none() {
        for ((&group, &t), &a) in group_indices.iter().zip(ts.values()).zip(amount.values()) {
            ok &= add(group, t, a);
        }
    } else {
        for (i, &group) in group_indices.iter().enumerate() {
            if selected(opt_filter, i) && ts.is_valid(i) && amount.is_valid(i) {
                ok &= add(group, ts.value(i), amount.value(i));
            }
        }
    }
    ok
}
