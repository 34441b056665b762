//! Group numbers for one `Int64` key whose values in a radix partition lie in a small span
//! (customer ids numbered from 1, say): a slot per value of the span holds its group, so a
//! row's group is one load, with no hashing or probing.
//!
//! The slots are kept by the output stream from one radix partition to the next, and only the
//! slots of the partition's keys are cleared after it, so the span is zeroed once per stream.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Int64Type, UInt32Type};
use datafusion::common::{Result, internal_err};

/// Spans up to this many values get slots (16 MiB of them per output stream at most).
pub(super) const MAX_SPAN: u64 = 1 << 22;

/// A span is worth its slots when it is at most this many times the partition's rows.
const SPAN_PER_ROW: u64 = 64;

/// The smallest key and the span of the key column `column` over `batches`, when every key is
/// valid and the span is small enough for slots; `None` otherwise.
pub(super) fn key_span<'a>(
    batches: impl IntoIterator<Item = &'a RecordBatch>,
    column: usize,
) -> Option<(i64, usize)> {
    let (mut min, mut max, mut rows) = (i64::MAX, i64::MIN, 0u64);
    for batch in batches {
        let keys = batch.column(column);
        if keys.null_count() > 0 {
            return None;
        }
        let (lo, hi) = match keys.data_type() {
            DataType::Int64 => {
                let keys = keys.as_primitive::<Int64Type>().values();
                keys.iter()
                    .fold((i64::MAX, i64::MIN), |(lo, hi), &k| (lo.min(k), hi.max(k)))
            }
            DataType::UInt32 => {
                let keys = keys.as_primitive::<UInt32Type>().values();
                let (lo, hi) = keys
                    .iter()
                    .fold((u32::MAX, u32::MIN), |(lo, hi), &k| (lo.min(k), hi.max(k)));
                (i64::from(lo), i64::from(hi))
            }
            _ => return None,
        };
        min = min.min(lo);
        max = max.max(hi);
        rows += batch.num_rows() as u64;
    }
    if rows == 0 {
        return None;
    }
    let span = max.abs_diff(min).checked_add(1)?;
    (span <= MAX_SPAN && span <= rows.saturating_mul(SPAN_PER_ROW)).then_some((min, span as usize))
}

/// Groups of the keys `base..base + span`.
pub(super) struct DenseKeys {
    /// `slots[key - base]`: the key's group plus one, 0 while it has none.
    slots: Vec<u32>,
    base: i64,
    /// Each group's key.
    keys: Vec<i64>,
}

impl DenseKeys {
    /// Groups over `slots` (all 0), grown to `span` if needed.
    pub(super) fn new(mut slots: Vec<u32>, base: i64, span: usize) -> Self {
        if slots.len() < span {
            slots.resize(span, 0);
        }
        Self {
            slots,
            base,
            keys: Vec::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(super) fn size(&self) -> usize {
        self.slots.capacity() * size_of::<u32>() + self.keys.capacity() * size_of::<i64>()
    }

    /// The group of every key of `keys` (`Int64` or `UInt32`), new keys getting new groups.
    pub(super) fn intern(&mut self, keys: &ArrayRef, groups: &mut Vec<usize>) -> Result<()> {
        groups.clear();
        groups.reserve(keys.len());
        let fitted = match keys.data_type() {
            DataType::Int64 => self.intern_values(
                keys.as_primitive::<Int64Type>().values().iter().copied(),
                groups,
            ),
            DataType::UInt32 => self.intern_values(
                keys.as_primitive::<UInt32Type>()
                    .values()
                    .iter()
                    .map(|&k| i64::from(k)),
                groups,
            ),
            other => return internal_err!("radix aggregate: dense keys of type {other}"),
        };
        if !fitted {
            return internal_err!("radix aggregate: a key outside the span measured");
        }
        Ok(())
    }

    fn intern_values(&mut self, keys: impl Iterator<Item = i64>, groups: &mut Vec<usize>) -> bool {
        for key in keys {
            let at = key.wrapping_sub(self.base) as u64 as usize;
            let Some(slot) = self.slots.get_mut(at) else {
                return false;
            };
            if *slot == 0 {
                self.keys.push(key);
                *slot = self.keys.len() as u32;
            }
            groups.push(*slot as usize - 1);
        }
        true
    }

    /// Every group's key, in group order; the slots are cleared and handed back.
    pub(super) fn finish(mut self) -> (ArrayRef, Vec<u32>) {
        for &key in &self.keys {
            if let Some(slot) = self
                .slots
                .get_mut(key.wrapping_sub(self.base) as u64 as usize)
            {
                *slot = 0;
            }
        }
        (Arc::new(Int64Array::from(self.keys)), self.slots)
    }
}
