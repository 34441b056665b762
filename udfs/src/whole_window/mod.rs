//! Window functions over the whole input (`f(...) OVER ()`) without concatenating the input:
//! a physical optimizer rule and the execution plan node it plans.
//!
//! DataFusion's `WindowAggExec` gathers its input's batches, concatenates every column of them
//! into one batch, evaluates each window function on it, and emits that one batch. For
//! `rfm_score(...) OVER ()` over the customers of a large lake (`rfm_segments`: 2.5M
//! customers at 50M transactions), the input carries each customer's `rfm` struct, and the
//! concatenation with the page faults of its fresh buffers was most of the window's time; the
//! one output batch then left everything after it on one thread.
//!
//! [`WholeWindowExec`] evaluates the functions' arguments on each batch as it arrives, keeps
//! the batches as they are, concatenates only the arguments (three numbers a customer for
//! `rfm_score`), evaluates each function once over all rows, and emits the input batches as
//! they came, each with its slice of every result appended: the same rows and values as
//! `WindowAggExec`, in the same order.
//!
//! The rule [`WholeWindow`] plans it in place of a `WindowAggExec` whose every function is a
//! window function evaluated over its whole partition at once (`PartitionEvaluator::evaluate_all`:
//! no `PARTITION BY`, no `ORDER BY`, no window frame, no rank), as `rfm_score` and
//! `value_tier` are. Other windows keep DataFusion's plan. A Ballista cluster does not plan it
//! (its plan codec cannot send the node to an executor).

mod exec;

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::physical_expr::window::{StandardWindowExpr, WindowExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::windows::WindowAggExec;

pub use exec::WholeWindowExec;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct WholeWindow;

impl PhysicalOptimizerRule for WholeWindow {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let whole = node
                .downcast_ref::<WindowAggExec>()
                .filter(|window| over_whole_input(window));
            Ok(match whole {
                Some(window) => {
                    Transformed::yes(Arc::new(WholeWindowExec::new(Arc::new(window.clone())))
                        as Arc<dyn ExecutionPlan>)
                }
                None => Transformed::no(node),
            })
        })
        .data()
    }

    fn name(&self) -> &str {
        "whole_window"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Whether every function of `window` is evaluated over its whole input at once.
fn over_whole_input(window: &WindowAggExec) -> bool {
    window.partition_keys().is_empty()
        && !window.window_expr().is_empty()
        && window.window_expr().iter().all(evaluated_whole)
}

fn evaluated_whole(expr: &Arc<dyn WindowExpr>) -> bool {
    let Some(standard) = expr.as_any().downcast_ref::<StandardWindowExpr>() else {
        return false;
    };
    if !expr.partition_by().is_empty() || !expr.order_by().is_empty() {
        return false;
    }
    standard
        .get_standard_func_expr()
        .create_evaluator()
        .is_ok_and(|evaluator| !evaluator.uses_window_frame() && !evaluator.include_rank())
}
