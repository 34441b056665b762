//! The first phase of [`RadixAggregateExec`](super::RadixAggregateExec): one input partition's
//! rows, split by the hash of their group keys into radix partitions and kept (or spilled) until
//! every input has been read.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::Int64Type;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::Result;
use datafusion::common::hash_utils::create_hashes;
use datafusion::execution::memory_pool::MemoryReservation;
use datafusion::execution::{SendableRecordBatchStream, SpillFile};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr_common::utils::evaluate_expressions_to_arrays;
use datafusion::physical_plan::repartition::REPARTITION_RANDOM_STATE;
use datafusion::physical_plan::spill::SpillManager;
use futures::StreamExt;

use super::compact;
use super::gather::{Gather, Scratch, Source};

/// How rows are assigned to radix partitions: the output partition is the one DataFusion's
/// `RepartitionExec` would send the row to (the hash of the group keys with its seed, modulo
/// the number of output partitions), so the operator's output is hash-partitioned exactly as
/// the plan it replaces. Each output partition is split further by the top bits of the same
/// hash or, for one integer key whose range the input's statistics give, by ranges of key
/// values, so that each radix partition's keys lie close together (see
/// [`DenseKeys`](super::dense::DenseKeys)).
#[derive(Debug, Clone, Copy)]
pub(super) struct RadixLayout {
    outputs: usize,
    sub_bits: u32,
    ranges: Option<KeyRanges>,
}

/// Radix partition `s` of an output partition takes the keys `base + s * 2^shift ..` (the
/// first and last also take any below or above).
#[derive(Debug, Clone, Copy)]
struct KeyRanges {
    base: i64,
    shift: u32,
}

impl RadixLayout {
    /// About `target` radix partitions in all (at least one per output partition).
    pub(super) fn new(outputs: usize, target: usize) -> Self {
        let per_output = (target / outputs.max(1)).max(1);
        let sub_bits = usize::BITS - 1 - per_output.leading_zeros();
        Self {
            outputs: outputs.max(1),
            sub_bits,
            ranges: None,
        }
    }

    /// The layout splitting each output partition by ranges of the key values `min..=max`.
    pub(super) fn with_key_range(self, min: i64, max: i64) -> Self {
        let span = max.abs_diff(min);
        // The smallest ranges of a power-of-two width that cover the span in `per_output`.
        let shift = (0..64)
            .find(|shift| (span >> shift) < self.per_output() as u64)
            .unwrap_or(63);
        Self {
            ranges: Some(KeyRanges { base: min, shift }),
            ..self
        }
    }

    /// Whether rows are split by key values, and so need [`partition_of_key`](Self::partition_of_key).
    pub(super) fn by_key(&self) -> bool {
        self.ranges.is_some()
    }

    pub(super) fn outputs(&self) -> usize {
        self.outputs
    }

    pub(super) fn per_output(&self) -> usize {
        1 << self.sub_bits
    }

    pub(super) fn total(&self) -> usize {
        self.outputs * self.per_output()
    }

    /// The output partition `RepartitionExec` picks: the remainder of the hash, a mask for
    /// the usual power-of-two counts.
    #[inline]
    fn output_of(&self, hash: u64) -> usize {
        if self.outputs.is_power_of_two() {
            (hash & (self.outputs as u64 - 1)) as usize
        } else {
            (hash % self.outputs as u64) as usize
        }
    }

    #[inline]
    pub(super) fn partition_of(&self, hash: u64) -> usize {
        let sub = if self.sub_bits == 0 {
            0
        } else {
            (hash >> (u64::BITS - self.sub_bits)) as usize
        };
        self.output_of(hash) * self.per_output() + sub
    }

    /// The radix partition of a row with `hash` and key `key` (`None` for a NULL key) when
    /// rows are split by key values.
    #[inline]
    pub(super) fn partition_of_key(&self, hash: u64, key: Option<i64>) -> usize {
        let sub = match (self.ranges, key) {
            (Some(ranges), Some(key)) => {
                let offset = if key <= ranges.base {
                    0
                } else {
                    key.abs_diff(ranges.base)
                };
                ((offset >> ranges.shift) as usize).min(self.per_output() - 1)
            }
            _ => 0,
        };
        self.output_of(hash) * self.per_output() + sub
    }
}

/// The rows one input partition sent to one radix partition: compact batches in memory and
/// spill files, with the memory those batches hold.
pub(super) struct RadixPart {
    pub(super) batches: Vec<RecordBatch>,
    pub(super) spills: Vec<Arc<dyn SpillFile>>,
    pub(super) reservation: MemoryReservation,
}

/// Rows of one radix partition read so far: gathered rows and the batches made of them.
#[derive(Default)]
struct Pending {
    gather: Gather,
    batches: Vec<RecordBatch>,
    batch_bytes: usize,
}

impl Pending {
    fn bytes(&self) -> usize {
        self.gather.bytes() + self.batch_bytes
    }

    /// Turns the gathered rows into a batch of their own.
    fn seal(&mut self, schema: &SchemaRef) -> Result<()> {
        if let Some(batch) = self.gather.finish(schema)? {
            self.batch_bytes += batch.get_array_memory_size();
            self.batches.push(batch);
        }
        Ok(())
    }
}

/// Rows a radix partition gathers before they become a batch.
const BATCH_ROWS: usize = 4096;

/// Reads `input` to its end and splits its rows by radix partition.
pub(super) async fn partition_input(
    mut input: SendableRecordBatchStream,
    keys: Vec<Arc<dyn PhysicalExpr>>,
    layout: RadixLayout,
    reservation: MemoryReservation,
    spill: SpillManager,
) -> Result<Vec<RadixPart>> {
    let schema = input.schema();
    let total = layout.total();
    let mut pending: Vec<Pending> = (0..total).map(|_| Pending::default()).collect();
    let mut spills: Vec<Vec<Arc<dyn SpillFile>>> = (0..total).map(|_| Vec::new()).collect();
    let mut hashes = Vec::new();
    let mut parts = Vec::new();
    let mut counts = vec![0usize; total + 1];
    let mut next = vec![0usize; total + 1];
    let mut indices: Vec<u32> = Vec::new();
    let mut scratch = Scratch::default();

    while let Some(batch) = input.next().await {
        let batch = batch?;
        let rows = batch.num_rows();
        if rows == 0 {
            continue;
        }
        let key_arrays = evaluate_expressions_to_arrays(&keys, &batch)?;
        hashes.clear();
        hashes.resize(rows, 0);
        create_hashes(
            &key_arrays,
            REPARTITION_RANDOM_STATE.random_state(),
            &mut hashes,
        )?;

        // A counting sort of the row numbers by radix partition, then one `take`: each radix
        // partition's rows of the batch are then one run.
        parts.clear();
        match key_arrays
            .first()
            .and_then(|k| k.as_primitive_opt::<Int64Type>())
        {
            Some(keys) if layout.by_key() && keys.null_count() == 0 => parts.extend(
                hashes
                    .iter()
                    .zip(keys.values())
                    .map(|(&h, &key)| layout.partition_of_key(h, Some(key)) as u32),
            ),
            Some(keys) if layout.by_key() => parts.extend(
                hashes
                    .iter()
                    .zip(keys)
                    .map(|(&h, key)| layout.partition_of_key(h, key) as u32),
            ),
            _ => parts.extend(hashes.iter().map(|&h| layout.partition_of(h) as u32)),
        }
        counts.iter_mut().for_each(|c| *c = 0);
        for &p in &parts {
            counts[p as usize + 1] += 1;
        }
        for p in 0..total {
            counts[p + 1] += counts[p];
        }
        indices.clear();
        indices.resize(rows, 0);
        next.copy_from_slice(&counts);
        for (row, &p) in parts.iter().enumerate() {
            let at = &mut next[p as usize];
            indices[*at] = row as u32;
            *at += 1;
        }
        let order = UInt32Array::from(std::mem::take(&mut indices));
        let sorted = take_record_batch(&batch, &order)?;
        indices = order
            .into_parts()
            .1
            .into_inner()
            .into_vec()
            .unwrap_or_default();
        let data: Vec<_> = sorted.columns().iter().map(|c| c.to_data()).collect();
        let source = Source::new(&sorted, &data, scratch.encode(&sorted));

        for (p, slot) in pending.iter_mut().enumerate() {
            let (mut start, end) = (counts[p], counts[p + 1]);
            if start < end && !slot.gather.accepts(&source) {
                // Values that do not fit a compact column start a batch of their own.
                slot.seal(&schema)?;
            }
            while start < end {
                // Sealed before a run would overflow the gather's buffers, so they never grow;
                // a run longer than a batch (a key range on a log in customer order) is split.
                if slot.gather.rows() + (end - start) > BATCH_ROWS {
                    slot.seal(&schema)?;
                }
                let stop = end.min(start + BATCH_ROWS);
                slot.gather.append(&source, start, stop, BATCH_ROWS);
                start = stop;
            }
        }
        let held: usize = pending.iter().map(Pending::bytes).sum();
        if reservation.try_resize(held).is_err() {
            // Half the rows held go to disk, the largest radix partitions first; all of
            // them when that is not enough.
            let kept = spill_largest(&schema, &mut pending, &mut spills, held / 2, &spill)?;
            if reservation.try_resize(kept).is_err() {
                let kept = spill_largest(&schema, &mut pending, &mut spills, 0, &spill)?;
                // What is left are the gathers' buffers, a few rows per radix partition.
                if reservation.try_resize(kept).is_err() {
                    reservation.free();
                }
            }
        }
    }

    let mut out = Vec::with_capacity(total);
    for (mut slot, spilled) in pending.into_iter().zip(spills) {
        slot.seal(&schema)?;
        let held = slot.batch_bytes.min(reservation.size());
        out.push(RadixPart {
            batches: slot.batches,
            spills: spilled,
            reservation: reservation.split(held),
        });
    }
    Ok(out)
}

/// Writes radix partitions' rows held in memory to a spill file each, the largest first,
/// until the rows still held take at most `target` bytes. Gives the bytes still held.
fn spill_largest(
    schema: &SchemaRef,
    pending: &mut [Pending],
    spills: &mut [Vec<Arc<dyn SpillFile>>],
    target: usize,
    spill: &SpillManager,
) -> Result<usize> {
    let mut held: usize = pending.iter().map(Pending::bytes).sum();
    let mut order: Vec<usize> = (0..pending.len()).collect();
    order.sort_by_key(|&p| std::cmp::Reverse(pending[p].bytes()));
    for p in order {
        if held <= target {
            break;
        }
        let slot = &mut pending[p];
        let before = slot.bytes();
        slot.seal(schema)?;
        if slot.batches.is_empty() {
            continue;
        }
        let batches = std::mem::take(&mut slot.batches)
            .iter()
            .map(|b| compact::widen(b, schema))
            .collect::<Result<Vec<_>>>()?;
        if let Some(file) = spill.spill_record_batch_and_finish(&batches, "radix aggregate")? {
            spills[p].push(file);
        }
        slot.batch_bytes = 0;
        held = held + slot.bytes() - before;
    }
    Ok(held)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radix_partitions_refine_the_repartition_remainder() {
        for (outputs, target, per_output) in
            [(2, 256, 128), (3, 256, 64), (1, 256, 256), (16, 8, 1)]
        {
            let layout = RadixLayout::new(outputs, target);
            assert_eq!(layout.per_output(), per_output, "{outputs} outputs");
            assert_eq!(layout.total(), outputs * per_output);
            let mut seen = vec![false; layout.total()];
            for i in 0..20_000u64 {
                let hash = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i << 7);
                let radix = layout.partition_of(hash);
                // The output partition is the one RepartitionExec picks: hash % outputs.
                assert_eq!(radix / per_output, (hash % outputs as u64) as usize);
                seen[radix] = true;
            }
            assert!(seen.iter().all(|s| *s), "every radix partition gets rows");
        }
    }

    #[test]
    fn key_ranges_keep_the_repartition_remainder_and_split_by_value() {
        let layout = RadixLayout::new(2, 256).with_key_range(1, 1_000_000);
        assert!(layout.by_key());
        let mut last_sub = 0;
        for key in (1..=1_000_000i64).step_by(997) {
            let hash = (key as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let radix = layout.partition_of_key(hash, Some(key));
            assert_eq!(radix / 128, (hash % 2) as usize, "the output is the hash's");
            let sub = radix % 128;
            assert!(sub >= last_sub, "ranges follow the key order");
            last_sub = sub;
        }
        assert!(
            last_sub >= 64,
            "the span is spread over the ranges: {last_sub}"
        );
        // Keys outside the statistics' range and NULL keys still get a partition.
        for key in [i64::MIN, 0, 2_000_000, i64::MAX] {
            assert!(layout.partition_of_key(7, Some(key)) < layout.total());
        }
        assert_eq!(layout.partition_of_key(6, None), 0);
        assert_eq!(layout.partition_of_key(7, None), 128);
        // A span of one value, and the widest span.
        assert_eq!(
            RadixLayout::new(2, 256)
                .with_key_range(5, 5)
                .partition_of_key(1, Some(5)),
            128
        );
        let widest = RadixLayout::new(2, 256).with_key_range(i64::MIN, i64::MAX);
        assert_eq!(widest.partition_of_key(0, Some(i64::MAX)), 127);
        assert_eq!(widest.partition_of_key(0, Some(i64::MIN)), 0);
    }
}
