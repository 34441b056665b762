//! The first phase of [`RadixAggregateExec`](super::RadixAggregateExec): one input partition's
//! rows, split by the hash of their group keys into radix partitions and kept (or spilled) until
//! every input has been read.

use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, UInt32Array};
use datafusion::arrow::compute::{concat_batches, take_record_batch};
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

/// How rows are assigned to radix partitions: the output partition is the one DataFusion's
/// `RepartitionExec` would send the row to (the hash of the group keys with its seed, modulo
/// the number of output partitions), so the operator's output is hash-partitioned exactly as
/// the plan it replaces; the top bits of the same hash split each output partition further.
#[derive(Debug, Clone, Copy)]
pub(super) struct RadixLayout {
    outputs: usize,
    sub_bits: u32,
}

impl RadixLayout {
    /// About `target` radix partitions in all (at least one per output partition).
    pub(super) fn new(outputs: usize, target: usize) -> Self {
        let per_output = (target / outputs.max(1)).max(1);
        let sub_bits = usize::BITS - 1 - per_output.leading_zeros();
        Self {
            outputs: outputs.max(1),
            sub_bits,
        }
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

    #[inline]
    fn partition_of(&self, hash: u64) -> usize {
        let output = (hash % self.outputs as u64) as usize;
        let sub = if self.sub_bits == 0 {
            0
        } else {
            (hash >> (u64::BITS - self.sub_bits)) as usize
        };
        output * self.per_output() + sub
    }
}

/// The rows one input partition sent to one radix partition: compact batches in memory and
/// spill files, with the memory those batches hold.
pub(super) struct RadixPart {
    pub(super) batches: Vec<RecordBatch>,
    pub(super) spills: Vec<Arc<dyn SpillFile>>,
    pub(super) reservation: MemoryReservation,
}

/// Pending rows of one radix partition: slices of reordered input batches, compacted into one
/// batch of their own once they are enough rows.
#[derive(Default)]
struct Pending {
    slices: Vec<RecordBatch>,
    rows: usize,
    /// The share of the reordered batches' memory these slices are counted for.
    bytes: usize,
    batches: Vec<RecordBatch>,
    batch_bytes: usize,
}

/// Rows a radix partition gathers in slices before they are copied into one batch.
const COMPACT_ROWS: usize = 4096;

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
    let mut indices = Vec::new();

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

        // A counting sort of the row numbers by radix partition.
        parts.clear();
        parts.extend(hashes.iter().map(|&h| layout.partition_of(h) as u32));
        counts.iter_mut().for_each(|c| *c = 0);
        for &p in &parts {
            counts[p as usize + 1] += 1;
        }
        for p in 0..total {
            counts[p + 1] += counts[p];
        }
        indices.clear();
        indices.resize(rows, 0u32);
        let mut next = counts.clone();
        for (row, &p) in parts.iter().enumerate() {
            let at = &mut next[p as usize];
            indices[*at] = row as u32;
            *at += 1;
        }
        let sorted = take_record_batch(&batch, &UInt32Array::from(std::mem::take(&mut indices)))?;
        let bytes = sorted.get_array_memory_size();

        if reservation.try_grow(bytes).is_err() {
            spill_all(&schema, &mut pending, &mut spills, &reservation, &spill)?;
            reservation.try_grow(bytes)?;
        }
        for (p, slot) in pending.iter_mut().enumerate() {
            let (start, end) = (counts[p], counts[p + 1]);
            if start == end {
                continue;
            }
            slot.slices.push(sorted.slice(start, end - start));
            slot.rows += end - start;
            slot.bytes += bytes * (end - start) / rows;
            if slot.rows >= COMPACT_ROWS {
                compact(&schema, slot, &reservation)?;
            }
        }
    }

    let mut out = Vec::with_capacity(total);
    for (mut slot, spilled) in pending.into_iter().zip(spills) {
        compact(&schema, &mut slot, &reservation)?;
        let held = slot.batch_bytes.min(reservation.size());
        out.push(RadixPart {
            batches: slot.batches,
            spills: spilled,
            reservation: reservation.split(held),
        });
    }
    Ok(out)
}

/// Copies a partition's pending slices into one batch of its own, so that the reordered input
/// batches they point into can be freed.
fn compact(schema: &SchemaRef, slot: &mut Pending, reservation: &MemoryReservation) -> Result<()> {
    if slot.slices.is_empty() {
        return Ok(());
    }
    let batch = concat_batches(schema, &slot.slices)?;
    let size = batch.get_array_memory_size();
    slot.slices.clear();
    // The slices' share is given back and the copy counted instead; growing past the limit
    // here is at most one compact batch, which the next input batch spills if it must.
    reservation.grow(size);
    reservation.shrink(slot.bytes.min(reservation.size()));
    slot.bytes = 0;
    slot.rows = 0;
    slot.batch_bytes += size;
    slot.batches.push(batch);
    Ok(())
}

/// Writes every radix partition's rows held in memory to a spill file of its own, and gives
/// their memory back.
fn spill_all(
    schema: &SchemaRef,
    pending: &mut [Pending],
    spills: &mut [Vec<Arc<dyn SpillFile>>],
    reservation: &MemoryReservation,
    spill: &SpillManager,
) -> Result<()> {
    for (slot, files) in pending.iter_mut().zip(spills.iter_mut()) {
        if slot.slices.is_empty() && slot.batches.is_empty() {
            continue;
        }
        let mut batches = std::mem::take(&mut slot.batches);
        if !slot.slices.is_empty() {
            batches.push(concat_batches(schema, &slot.slices)?);
            slot.slices.clear();
        }
        if let Some(file) = spill.spill_record_batch_and_finish(&batches, "radix aggregate")? {
            files.push(file);
        }
        slot.rows = 0;
        slot.bytes = 0;
        slot.batch_bytes = 0;
    }
    reservation.free();
    Ok(())
}
