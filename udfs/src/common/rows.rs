//! Walking the rows of an aggregate's `(order_ts, amount)` input.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::datatypes::{Float64Type, TimestampMicrosecondType};

/// True when row `i` passes the optional FILTER clause.
#[inline]
pub fn selected(filter: Option<&BooleanArray>, i: usize) -> bool {
    filter.is_none_or(|f| f.is_valid(i) && f.value(i))
}

/// Per-group state fed one `(order_ts, amount)` row at a time.
pub trait TimedAmountSink {
    /// Asks for the state of `group` to be brought into cache: called a few rows before
    /// [`add`](Self::add) reaches that group, since customers' rows arrive in no particular
    /// order and each row's state is otherwise a cache miss.
    fn prefetch(&self, group: usize);

    /// Adds one row; `false` when the row is rejected (the callers' signal for a NaN amount).
    fn add(&mut self, group: usize, order_ts: i64, amount: f64) -> bool;
}

/// How many rows ahead group state is prefetched: far enough to hide a memory access.
const PREFETCH_AHEAD: usize = 16;

/// Feeds `sink` every row that passes the filter and has both values, with a fast path when
/// there are no NULLs and no filter. Returns false when any `add` did.
#[inline]
pub fn for_each_timed_amount(
    values: &[ArrayRef],
    group_indices: &[usize],
    opt_filter: Option<&BooleanArray>,
    sink: &mut impl TimedAmountSink,
) -> bool {
    let ts = values[0].as_primitive::<TimestampMicrosecondType>();
    let amount = values[1].as_primitive::<Float64Type>();
    let mut ok = true;
    let fast = ts.null_count() == 0 && amount.null_count() == 0 && opt_filter.is_none();
    for (i, &group) in group_indices.iter().enumerate() {
        if let Some(&ahead) = group_indices.get(i + PREFETCH_AHEAD) {
            sink.prefetch(ahead);
        }
        if fast || (selected(opt_filter, i) && ts.is_valid(i) && amount.is_valid(i)) {
            ok &= sink.add(group, ts.value(i), amount.value(i));
        }
    }
    ok
}

/// Brings `items[index]` into cache, if it exists; a hint that never faults.
#[inline(always)]
pub fn prefetch<T>(items: &[T], index: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(item) = items.get(index) {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: prefetching reads nothing into the program and cannot fault; the address
        // is that of a live element.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(item).cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (items, index);
}
