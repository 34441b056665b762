//! [`RadixAggregateExec`]: the execution plan node, its shared run and its output streams.

use std::fmt;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::BatchCoalescer;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result, ScalarValue, internal_err};
use datafusion::execution::TaskContext;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::aggregate::AggregateFunctionExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::aggregates::{
    AggregateExec, AggregateMode, PhysicalGroupBy, aggregate_expressions,
};
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::metrics::{
    BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet, SpillMetrics,
};
use datafusion::physical_plan::spill::SpillManager;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties, SendableRecordBatchStream,
};
use datafusion::physical_plan::{StatisticsArgs, StatisticsContext};
use futures::StreamExt;
use futures::channel::oneshot;

use super::aggregate::Aggregation;
use super::partition::{RadixLayout, RadixPart, partition_input};

/// Radix partitions in all: enough that one partition's hash table and accumulators stay in
/// the CPU's cache for a few million groups, few enough that each gets thousands of rows.
const RADIX_PARTITIONS: usize = 256;

/// A hash aggregation in one phase over radix partitions of its input (see the module
/// documentation of [`super`]).
#[derive(Debug)]
pub struct RadixAggregateExec {
    aggregation: Arc<Aggregation>,
    keys: Vec<Arc<dyn PhysicalExpr>>,
    input: Arc<dyn ExecutionPlan>,
    layout: RadixLayout,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
    run: Arc<Mutex<Option<Arc<Run>>>>,
}

impl RadixAggregateExec {
    /// The node aggregating `input` with the group keys, aggregates and filters of a partial
    /// (or single) aggregate over the same input, into `outputs` partitions hash-partitioned on
    /// the group keys as `RepartitionExec` would.
    pub fn try_new(
        group_by: PhysicalGroupBy,
        aggr_expr: Vec<Arc<AggregateFunctionExpr>>,
        filter_expr: Vec<Option<Arc<dyn PhysicalExpr>>>,
        input: Arc<dyn ExecutionPlan>,
        outputs: usize,
    ) -> Result<Self> {
        if !group_by.is_single() {
            return internal_err!("RadixAggregateExec takes one grouping set");
        }
        let input_schema = input.schema();
        // DataFusion's own node for the same aggregation gives the output schema and
        // equivalences; the partitioning is this node's.
        let single = AggregateExec::try_new(
            AggregateMode::SinglePartitioned,
            group_by.clone(),
            aggr_expr.clone(),
            filter_expr.clone(),
            Arc::clone(&input),
            Arc::clone(&input_schema),
        )?;
        let partitioning = Partitioning::Hash(single.output_group_expr(), outputs.max(1));
        let properties =
            Arc::new(PlanProperties::clone(single.properties()).with_partitioning(partitioning));
        let dense_key = dense_key(&group_by, &input_schema);
        let aggregation = Aggregation {
            dense_key,
            group_schema: group_by.group_schema(&input_schema)?,
            aggr_args: aggregate_expressions(&aggr_expr, &AggregateMode::Partial, 0)?,
            keys_display: group_by
                .expr()
                .iter()
                .map(|(_, name)| name.clone())
                .collect(),
            group_by,
            aggr_expr,
            filter_expr,
            schema: single.schema(),
            input_schema: Arc::clone(&input_schema),
        };
        Ok(Self {
            keys: aggregation.group_by.input_exprs(),
            aggregation: Arc::new(aggregation),
            input,
            layout: RadixLayout::new(outputs, RADIX_PARTITIONS),
            properties,
            metrics: ExecutionPlanMetricsSet::new(),
            run: Arc::new(Mutex::new(None)),
        })
    }

    /// The aggregates this node computes.
    pub fn aggr_expr(&self) -> &[Arc<AggregateFunctionExpr>] {
        &self.aggregation.aggr_expr
    }

    fn with_input(&self, input: Arc<dyn ExecutionPlan>) -> Result<Self> {
        let a = &self.aggregation;
        Self::try_new(
            a.group_by.clone(),
            a.aggr_expr.clone(),
            a.filter_expr.clone(),
            input,
            self.layout.outputs(),
        )
    }
}

impl DisplayAs for RadixAggregateExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let aggr: Vec<&str> = self
            .aggregation
            .aggr_expr
            .iter()
            .map(|a| a.name())
            .collect();
        write!(
            f,
            "RadixAggregateExec: gby=[{}], aggr=[{}], radix_partitions={}",
            self.aggregation.keys_display.join(", "),
            aggr.join(", "),
            self.layout.total()
        )
    }
}

impl ExecutionPlan for RadixAggregateExec {
    fn name(&self) -> &str {
        "RadixAggregateExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        let a = &self.aggregation;
        let exprs = a
            .group_by
            .input_exprs()
            .into_iter()
            .chain(a.aggr_args.iter().flatten().cloned())
            .chain(a.filter_expr.iter().flatten().cloned());
        for expr in exprs {
            if f(&expr)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return internal_err!("RadixAggregateExec takes one child");
        }
        Ok(Arc::new(self.with_input(children.swap_remove(0))?))
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn reset_state(self: Arc<Self>) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(self.with_input(Arc::clone(&self.input))?))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition >= self.layout.outputs() {
            return internal_err!("RadixAggregateExec has no partition {partition}");
        }
        let claim = Claim {
            slot: Arc::clone(&self.run),
            input: Arc::clone(&self.input),
            dense_key: self.aggregation.dense_key,
            keys: self.keys.clone(),
            layout: self.layout,
            metrics: self.metrics.clone(),
            context: Arc::clone(&context),
        };
        let aggregation = Arc::clone(&self.aggregation);
        let schema = Arc::clone(&aggregation.schema);
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let spill = spill_manager(&self.metrics, &context, self.input.schema(), partition);
        let reservation = MemoryConsumer::new(format!("RadixAggregateExec[{partition}]"))
            .register(context.memory_pool());
        let batch_size = context.session_config().batch_size();
        let stream = futures::stream::once(async move {
            // The inputs are started from inside the stream, where a runtime is sure to run.
            let run = claim.run()?;
            let parts = run.parts(partition).await?;
            Ok::<_, DataFusionError>(Output {
                parts: parts.into_iter(),
                coalescer: BatchCoalescer::new(Arc::clone(&aggregation.schema), batch_size.max(1)),
                finished: false,
                aggregation,
                spill,
                reservation,
                baseline,
                slots: Vec::new(),
                _run: run,
            })
        })
        .map(|output| match output {
            Ok(output) => futures::stream::try_unfold(output, Output::next).left_stream(),
            Err(e) => futures::stream::once(async move { Err(e) }).right_stream(),
        })
        .flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// The input column of a `GROUP BY` of one `Int64` column, whose groups [`DenseKeys`] may
/// number.
///
/// [`DenseKeys`]: super::dense::DenseKeys
fn dense_key(group_by: &PhysicalGroupBy, input: &SchemaRef) -> Option<usize> {
    let [(expr, _)] = group_by.expr() else {
        return None;
    };
    let column = expr.downcast_ref::<Column>()?;
    let field = input.fields().get(column.index())?;
    (field.data_type() == &DataType::Int64).then_some(column.index())
}

/// The smallest and largest value of `input`'s column `column` (an `Int64`), when its
/// statistics (a Parquet file's, say) give both.
fn key_range(input: &Arc<dyn ExecutionPlan>, column: usize) -> Option<(i64, i64)> {
    let statistics = StatisticsContext::new()
        .compute(input.as_ref(), &StatisticsArgs::new())
        .ok()?;
    let column = statistics.column_statistics.get(column)?;
    match (column.min_value.get_value()?, column.max_value.get_value()?) {
        (ScalarValue::Int64(Some(min)), ScalarValue::Int64(Some(max))) if min <= max => {
            Some((*min, *max))
        }
        _ => None,
    }
}

fn spill_manager(
    metrics: &ExecutionPlanMetricsSet,
    context: &Arc<TaskContext>,
    schema: SchemaRef,
    partition: usize,
) -> SpillManager {
    SpillManager::new(
        context.runtime_env(),
        SpillMetrics::new(metrics, partition),
        schema,
    )
}

/// What an output partition needs to join (or start) the node's run.
struct Claim {
    slot: Arc<Mutex<Option<Arc<Run>>>>,
    input: Arc<dyn ExecutionPlan>,
    dense_key: Option<usize>,
    keys: Vec<Arc<dyn PhysicalExpr>>,
    layout: RadixLayout,
    metrics: ExecutionPlanMetricsSet,
    context: Arc<TaskContext>,
}

impl Claim {
    /// The run of the node's partitions: started by the first partition polled, and
    /// forgotten once every partition has joined it, so the plan can be executed again.
    fn run(self) -> Result<Arc<Run>> {
        let poisoned = || DataFusionError::Internal("RadixAggregateExec: poisoned run".into());
        let mut slot = self.slot.lock().map_err(|_| poisoned())?;
        let run = match slot.as_ref() {
            Some(run) => Arc::clone(run),
            None => {
                let inputs = (0..self.input.output_partitioning().partition_count())
                    .map(|i| {
                        let stream = self.input.execute(i, Arc::clone(&self.context))?;
                        let reservation =
                            MemoryConsumer::new(format!("RadixAggregateExec input[{i}]"))
                                .with_can_spill(true)
                                .register(self.context.memory_pool());
                        let spill =
                            spill_manager(&self.metrics, &self.context, self.input.schema(), i);
                        Ok((stream, reservation, spill))
                    })
                    .collect::<Result<Vec<_>>>()?;
                // One integer key whose range the statistics know: radix partitions by ranges
                // of key values, so each holds keys close together.
                let layout = match self.dense_key.and_then(|c| key_range(&self.input, c)) {
                    Some((min, max)) => self.layout.with_key_range(min, max),
                    None => self.layout,
                };
                let run = Arc::new(Run::start(inputs, self.keys.clone(), layout));
                *slot = Some(Arc::clone(&run));
                run
            }
        };
        let claimed = {
            let mut claimed = run.claimed.lock().map_err(|_| poisoned())?;
            *claimed += 1;
            *claimed
        };
        if claimed >= self.layout.outputs() {
            *slot = None;
        }
        Ok(run)
    }
}

type Shared<T> = std::result::Result<T, Arc<DataFusionError>>;

/// What an output partition receives: its radix partitions, each as every input read it.
type Delivery = oneshot::Receiver<Shared<Vec<Vec<RadixPart>>>>;

/// One execution of the node: the task reading every input partition into radix partitions,
/// and for each output partition the channel its radix partitions arrive on.
#[derive(Debug)]
struct Run {
    receivers: Vec<Mutex<Option<Delivery>>>,
    claimed: Mutex<usize>,
    _driver: SpawnedTask<()>,
}

impl fmt::Debug for RadixPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RadixPart({} batches, {} spills)",
            self.batches.len(),
            self.spills.len()
        )
    }
}

impl Run {
    fn start(
        inputs: Vec<(SendableRecordBatchStream, MemoryReservation, SpillManager)>,
        keys: Vec<Arc<dyn PhysicalExpr>>,
        layout: RadixLayout,
    ) -> Self {
        let outputs = layout.outputs();
        let (senders, receivers): (Vec<_>, Vec<_>) =
            (0..outputs).map(|_| oneshot::channel()).unzip();
        let driver = SpawnedTask::spawn(async move {
            let tasks: Vec<_> = inputs
                .into_iter()
                .map(|(stream, reservation, spill)| {
                    let keys = keys.clone();
                    SpawnedTask::spawn(partition_input(stream, keys, layout, reservation, spill))
                })
                .collect();
            let mut read = Vec::with_capacity(tasks.len());
            let mut failure = None;
            for task in tasks {
                match task.join_unwind().await {
                    Ok(Ok(parts)) => read.push(parts),
                    Ok(Err(e)) => failure = failure.or(Some(Arc::new(e))),
                    Err(e) => {
                        failure =
                            failure.or(Some(Arc::new(DataFusionError::ExecutionJoin(Box::new(e)))))
                    }
                }
            }
            if let Some(error) = failure {
                for sender in senders {
                    let _ = sender.send(Err(Arc::clone(&error)));
                }
                return;
            }
            // Radix partition `o * per_output + s` belongs to output partition `o`; each gets
            // the parts every input read for it, in input order.
            let mut by_radix: Vec<Vec<RadixPart>> = (0..layout.total())
                .map(|_| Vec::with_capacity(read.len()))
                .collect();
            for parts in read {
                for (radix, part) in parts.into_iter().enumerate() {
                    by_radix[radix].push(part);
                }
            }
            let mut by_radix = by_radix.into_iter();
            for sender in senders {
                let mine: Vec<Vec<RadixPart>> =
                    by_radix.by_ref().take(layout.per_output()).collect();
                let _ = sender.send(Ok(mine));
            }
        });
        Self {
            receivers: receivers.into_iter().map(|r| Mutex::new(Some(r))).collect(),
            claimed: Mutex::new(0),
            _driver: driver,
        }
    }

    /// The radix partitions of output partition `partition`, once every input has been read.
    async fn parts(&self, partition: usize) -> Result<Vec<Vec<RadixPart>>> {
        let receiver = self.receivers[partition]
            .lock()
            .map_err(|_| DataFusionError::Internal("RadixAggregateExec: poisoned run".into()))?
            .take();
        let Some(receiver) = receiver else {
            return internal_err!("RadixAggregateExec: partition {partition} executed twice");
        };
        match receiver.await {
            Ok(Ok(parts)) => Ok(parts),
            Ok(Err(e)) => Err(DataFusionError::Shared(e)),
            Err(_) => internal_err!("RadixAggregateExec: its input task ended early"),
        }
    }
}

/// One output partition's stream: its radix partitions aggregated one after the other, the
/// results gathered into batches of the session's batch size.
struct Output {
    parts: std::vec::IntoIter<Vec<RadixPart>>,
    coalescer: BatchCoalescer,
    finished: bool,
    aggregation: Arc<Aggregation>,
    spill: SpillManager,
    reservation: MemoryReservation,
    baseline: BaselineMetrics,
    /// Slots for group numbers by key value, kept from one radix partition to the next.
    slots: Vec<u32>,
    _run: Arc<Run>,
}

impl Output {
    async fn next(mut self) -> Result<Option<(RecordBatch, Self)>> {
        loop {
            if let Some(batch) = self.coalescer.next_completed_batch() {
                self.baseline.record_output(batch.num_rows());
                return Ok(Some((batch, self)));
            }
            if self.finished {
                self.baseline.done();
                return Ok(None);
            }
            match self.parts.next() {
                Some(radix) => {
                    let timer = self.baseline.elapsed_compute().timer();
                    let batch = self
                        .aggregation
                        .aggregate(radix, &self.spill, &self.reservation, &mut self.slots)
                        .await?;
                    if let Some(batch) = batch {
                        self.coalescer.push_batch(batch)?;
                    }
                    timer.done();
                }
                None => {
                    self.coalescer.finish_buffered_batch()?;
                    self.finished = true;
                }
            }
        }
    }
}
