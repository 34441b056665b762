//! A physical optimizer rule: per-customer aggregates (`rfm`, `btyd_summary`) in one phase
//! after repartitioning the raw rows on the group keys.
//!
//! This is the plan of a Ballista cluster (`crate::cluster_physical_optimizer_rules`), whose
//! plan codec sends only DataFusion's own nodes to the executors; on one machine seglake plans
//! [`RadixAggregateExec`](crate::radix::RadixAggregateExec) instead.
//!
//! DataFusion aggregates in two phases: a partial aggregate per input partition, a hash
//! repartition of the partial states on the group keys, and a final aggregate merging them.
//! That pays when the partial phase reduces the rows. Grouping transactions by customer, it
//! reduces them only when each customer's rows sit together in the files; in a log written
//! in time order every customer's rows are spread over all row groups, and the partial phase
//! either keeps most customers in its table (each partial state then holds only a few rows)
//! or, when its probe sees little reduction, gives up and turns every row into a partial
//! state (`convert_to_state`). For `rfm` and `btyd_summary` that state is wide (a list of
//! purchase days, an exact sum), so it is built, repartitioned as seven columns and merged
//! again for about every row. One phase moves the three raw columns through the
//! repartition instead and aggregates each row once, in the partition that owns its customer.
//!
//! The rule rewrites
//!
//! ```text
//! AggregateExec(FinalPartitioned, G, A)
//!   RepartitionExec(Hash(G), n)
//!     AggregateExec(Partial, G, A)
//!       input
//! ```
//!
//! into `AggregateExec(SinglePartitioned, G, A)` over `RepartitionExec(Hash(G), n)` over the
//! input, when `A` holds one of those aggregates and `G` is a plain `GROUP BY` (no grouping
//! sets). Any other aggregation keeps DataFusion's plan, and so does `rfm` planned without
//! its day sets (see [`SkipUnreadPurchaseDays`](super::SkipUnreadPurchaseDays)): its partial
//! state is light, and on a log in customer order the partial phase shrinks the rows 19-fold.
//! The output schema is the same; a plan whose rewrite would change it is left alone.
//!
//! Measured on a 20M-transaction lake (1.06M customers, 2 threads, `benches/README.md`): `rfm`
//! 1.95 s in two phases, 1.38 s in one on the time-ordered log; 1.03 s and 0.71 s on the
//! customer-ordered one; `rfm` without day sets (the `rfm_segments` query) 1.10 s in two
//! phases and 1.60 s in one on the time-ordered log.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{ExecutionPlan, Partitioning};

use super::{BtydSummary, Rfm};
use crate::common::two_phase::per_customer_two_phase;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct SinglePhasePerCustomer;

impl PhysicalOptimizerRule for SinglePhasePerCustomer {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_down(|node| {
            Ok(match single_phase(&node)? {
                Some(rewritten) => Transformed::yes(rewritten),
                None => Transformed::no(node),
            })
        })
        .data()
    }

    fn name(&self) -> &str {
        "single_phase_per_customer"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The one-phase plan for `node`, when it is the final aggregate of a per-customer
/// aggregation (see the module documentation).
fn single_phase(node: &Arc<dyn ExecutionPlan>) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let Some((first, partitions)) = per_customer_two_phase(node, is_per_customer) else {
        return Ok(None);
    };
    let keys = first.group_expr().input_exprs();
    let rows = Arc::new(RepartitionExec::try_new(
        Arc::clone(first.input()),
        Partitioning::Hash(keys, partitions),
    )?);
    let once = AggregateExec::try_new(
        AggregateMode::SinglePartitioned,
        first.group_expr().clone(),
        first.aggr_expr().to_vec(),
        first.filter_expr().to_vec(),
        rows,
        first.input_schema(),
    )?;
    if once.schema() != node.schema() {
        return Ok(None);
    }
    Ok(Some(Arc::new(once)))
}

/// Whether `fun` is one of the aggregates whose partial state holds a set of days per group:
/// `btyd_summary`, and `rfm` unless it was planned without `purchase_days`, whose light
/// partial state is cheaper to repartition than the rows it sums up.
fn is_per_customer(fun: &datafusion::logical_expr::AggregateUDF) -> bool {
    let inner = fun.inner();
    inner.is::<BtydSummary>()
        || inner
            .downcast_ref::<Rfm>()
            .is_some_and(Rfm::counts_purchase_days)
}
