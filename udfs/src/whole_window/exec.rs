//! [`WholeWindowExec`]: `WindowAggExec`'s whole-input window functions, with only their
//! arguments concatenated (see the module documentation).

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch};
use datafusion::arrow::compute::concat;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, internal_datafusion_err, internal_err};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::window::{StandardWindowExpr, WindowExpr};
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::windows::WindowAggExec;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, PlanProperties,
    SendableRecordBatchStream,
};
use futures::{StreamExt, TryStreamExt};

/// The window of a `WindowAggExec` whose functions all see the whole input at once, evaluated
/// without concatenating the input's columns.
#[derive(Debug)]
pub struct WholeWindowExec {
    /// The node this one replaces: its functions, input, schema and properties.
    window: Arc<WindowAggExec>,
    metrics: ExecutionPlanMetricsSet,
}

impl WholeWindowExec {
    /// In place of `window`, whose functions the rule checked (`super::over_whole_input`).
    pub fn new(window: Arc<WindowAggExec>) -> Self {
        Self {
            window,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl DisplayAs for WholeWindowExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let functions: Vec<String> = self
            .window
            .window_expr()
            .iter()
            .map(|expr| expr.name().to_string())
            .collect();
        write!(f, "WholeWindowExec: wdw=[{}]", functions.join(", "))
    }
}

impl ExecutionPlan for WholeWindowExec {
    fn name(&self) -> &str {
        "WholeWindowExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.window.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![self.window.input()]
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        vec![Distribution::SinglePartition]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        for expr in self
            .window
            .window_expr()
            .iter()
            .flat_map(|w| w.expressions())
        {
            if f(&expr)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let window = Arc::clone(&self.window).replace_children(children, options)?;
        let Some(window) = window.downcast_ref::<WindowAggExec>() else {
            return internal_err!("WholeWindowExec: its window changed kind");
        };
        Ok(Arc::new(Self::new(Arc::new(window.clone()))))
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
        Ok(Arc::new(Self::new(Arc::clone(&self.window))))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return internal_err!("WholeWindowExec has one partition, not {partition}");
        }
        let input = self.window.input().execute(partition, context)?;
        let functions = self.window.window_expr().to_vec();
        let schema = self.schema();
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let output = Arc::clone(&schema);
        let stream = futures::stream::once(async move {
            let mut input = input;
            let mut batches = Vec::new();
            // arguments[function][argument][batch]
            let mut arguments: Vec<Vec<Vec<ArrayRef>>> = vec![Vec::new(); functions.len()];
            while let Some(batch) = input.next().await {
                let batch = batch?;
                let _timer = baseline.elapsed_compute().timer();
                for (function, args) in functions.iter().zip(&mut arguments) {
                    let values = function.evaluate_args(&batch)?;
                    args.resize_with(values.len(), Vec::new);
                    for (arg, value) in args.iter_mut().zip(values) {
                        arg.push(value);
                    }
                }
                batches.push(batch);
            }
            let timer = baseline.elapsed_compute().timer();
            let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
            let results = if rows == 0 {
                Vec::new()
            } else {
                functions
                    .iter()
                    .zip(arguments)
                    .map(|(function, args)| evaluate_whole(function, args, rows))
                    .collect::<Result<Vec<_>>>()?
            };
            timer.done();
            let mut offset = 0;
            let batches = batches
                .into_iter()
                .filter(|b| b.num_rows() > 0)
                .map(move |batch| {
                    let n = batch.num_rows();
                    let mut columns = batch.columns().to_vec();
                    columns.extend(results.iter().map(|result| result.slice(offset, n)));
                    offset += n;
                    let batch = RecordBatch::try_new(Arc::clone(&output), columns)?;
                    baseline.record_output(batch.num_rows());
                    Ok(batch)
                });
            Ok::<_, datafusion::error::DataFusionError>(futures::stream::iter(batches))
        })
        .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// `function` over all `rows`, from its arguments' arrays batch after batch.
fn evaluate_whole(
    function: &Arc<dyn WindowExpr>,
    args: Vec<Vec<ArrayRef>>,
    rows: usize,
) -> Result<ArrayRef> {
    let standard = function
        .as_any()
        .downcast_ref::<StandardWindowExpr>()
        .ok_or_else(|| {
            internal_datafusion_err!("WholeWindowExec: {} is not a window UDF", function.name())
        })?;
    let values = args
        .iter()
        .map(|chunks| {
            let arrays: Vec<&dyn Array> = chunks.iter().map(|a| a.as_ref()).collect();
            concat(&arrays)
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut evaluator = standard.get_standard_func_expr().create_evaluator()?;
    let result = evaluator.evaluate_all(&values, rows)?;
    if result.len() != rows {
        return internal_err!(
            "WholeWindowExec: {} gave {} values for {rows} rows",
            function.name(),
            result.len()
        );
    }
    Ok(result)
}
