//! The second phase of [`RadixAggregateExec`](super::RadixAggregateExec): the rows of one radix
//! partition, from every input, aggregated in one small hash table.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::{Result, internal_err};
use datafusion::execution::memory_pool::MemoryReservation;
use datafusion::logical_expr::{EmitTo, GroupsAccumulator};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::aggregate::AggregateFunctionExpr;
use datafusion::physical_plan::aggregates::group_values::{GroupValues, new_group_values};
use datafusion::physical_plan::aggregates::order::GroupOrdering;
use datafusion::physical_plan::aggregates::{PhysicalGroupBy, evaluate_group_by, evaluate_many};
use datafusion::physical_plan::spill::SpillManager;
use futures::StreamExt;

use super::compact;
use super::dense::{self, DenseKeys};
use super::partition::RadixPart;

/// What is aggregated: DataFusion's group keys, aggregates, their arguments and filters, and
/// the output schema (group columns, then each aggregate's final value).
#[derive(Debug)]
pub(super) struct Aggregation {
    pub(super) group_by: PhysicalGroupBy,
    pub(super) group_schema: SchemaRef,
    pub(super) aggr_expr: Vec<Arc<AggregateFunctionExpr>>,
    pub(super) aggr_args: Vec<Vec<Arc<dyn PhysicalExpr>>>,
    pub(super) filter_expr: Vec<Option<Arc<dyn PhysicalExpr>>>,
    pub(super) schema: SchemaRef,
    /// The input's schema, which rows held compact are widened to.
    pub(super) input_schema: SchemaRef,
    /// The input column of the group key, when there is one `Int64` column key (which may be
    /// numbered by [`DenseKeys`]).
    pub(super) dense_key: Option<usize>,
    /// The group keys' names, for `EXPLAIN`.
    pub(super) keys_display: Vec<String>,
}

/// How a radix partition numbers its groups.
enum Groups {
    /// DataFusion's hash table of group values.
    Hashed(Box<dyn GroupValues>),
    /// A slot per key value (one `Int64` key in a small span).
    Dense(DenseKeys),
}

impl Groups {
    fn len(&self) -> usize {
        match self {
            Self::Hashed(groups) => groups.len(),
            Self::Dense(groups) => groups.len(),
        }
    }

    fn size(&self) -> usize {
        match self {
            Self::Hashed(groups) => groups.size(),
            Self::Dense(groups) => groups.size(),
        }
    }
}

/// One radix partition's group numbering and accumulators.
struct Table {
    groups: Groups,
    accumulators: Vec<Box<dyn GroupsAccumulator>>,
    indices: Vec<usize>,
}

impl Aggregation {
    /// Aggregates one radix partition's rows from every input (in memory and spilled), in the
    /// order the inputs are given. `None` when the partition got no rows.
    /// `slots` are the stream's slots for [`DenseKeys`], all 0, kept from one radix partition
    /// to the next.
    pub(super) async fn aggregate(
        &self,
        parts: Vec<RadixPart>,
        spill: &SpillManager,
        reservation: &MemoryReservation,
        slots: &mut Vec<u32>,
    ) -> Result<Option<RecordBatch>> {
        let span = match self.dense_key {
            Some(column) if parts.iter().all(|p| p.spills.is_empty()) => {
                dense::key_span(parts.iter().flat_map(|p| &p.batches), column)
            }
            _ => None,
        };
        let groups = match span {
            Some((base, span)) => Groups::Dense(DenseKeys::new(std::mem::take(slots), base, span)),
            None => Groups::Hashed(new_group_values(
                Arc::clone(&self.group_schema),
                &GroupOrdering::None,
            )?),
        };
        let mut table = Table {
            groups,
            accumulators: self
                .aggr_expr
                .iter()
                .map(|a| a.create_groups_accumulator())
                .collect::<Result<_>>()?,
            indices: Vec::new(),
        };
        let mut rows = 0;
        for part in parts {
            for batch in &part.batches {
                rows += batch.num_rows();
                self.update(&mut table, batch, reservation)?;
            }
            drop(part.batches);
            drop(part.reservation);
            for file in part.spills {
                let mut stream = spill.read_spill_as_stream(file, None)?;
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    rows += batch.num_rows();
                    self.update(&mut table, &batch, reservation)?;
                }
            }
        }
        let mut columns: Vec<ArrayRef> = match table.groups {
            Groups::Hashed(mut groups) => {
                if rows == 0 || groups.is_empty() {
                    return Ok(None);
                }
                groups.emit(EmitTo::All)?
            }
            Groups::Dense(groups) => {
                let empty = groups.len() == 0;
                let (keys, cleared) = groups.finish();
                *slots = cleared;
                if rows == 0 || empty {
                    return Ok(None);
                }
                vec![keys]
            }
        };
        for accumulator in &mut table.accumulators {
            columns.push(accumulator.evaluate(EmitTo::All)?);
        }
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns)?;
        reservation.free();
        Ok(Some(batch))
    }

    fn update(
        &self,
        table: &mut Table,
        batch: &RecordBatch,
        reservation: &MemoryReservation,
    ) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        match (&mut table.groups, self.dense_key) {
            (Groups::Dense(groups), Some(column)) => {
                groups.intern(batch.column(column), &mut table.indices)?
            }
            (Groups::Hashed(groups), _) => {
                let wide = compact::widen(batch, &self.input_schema)?;
                let keys = evaluate_group_by(&self.group_by, &wide)?;
                let [keys] = keys.as_slice() else {
                    return internal_err!("radix aggregate: grouping sets are not supported");
                };
                groups.intern(keys, &mut table.indices)?;
            }
            (Groups::Dense(_), None) => {
                return internal_err!("radix aggregate: dense groups without a key column");
            }
        }
        let batch = &compact::widen(batch, &self.input_schema)?;
        let groups = table.groups.len();
        let args = evaluate_many(&self.aggr_args, batch)?;
        for ((accumulator, values), filter) in table
            .accumulators
            .iter_mut()
            .zip(&args)
            .zip(&self.filter_expr)
        {
            let filter = match filter {
                Some(expr) => Some(expr.evaluate(batch)?.into_array(batch.num_rows())?),
                None => None,
            };
            accumulator.update_batch(
                values,
                &table.indices,
                filter.as_ref().map(|f| f.as_boolean()),
                groups,
            )?;
        }
        let size = table.groups.size()
            + table.accumulators.iter().map(|a| a.size()).sum::<usize>()
            + table.indices.capacity() * size_of::<usize>();
        reservation.try_resize(size)
    }
}
