//! Recognising DataFusion's two-phase plan of a per-customer `GROUP BY`, which seglake's
//! physical optimizer rules replace.

use std::sync::Arc;

use datafusion::logical_expr::AggregateUDF;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{ExecutionPlan, Partitioning};

/// When `node` is the final aggregate of
///
/// ```text
/// AggregateExec(FinalPartitioned, G, A)
///   RepartitionExec(Hash(G), n)
///     AggregateExec(Partial, G, A)
/// ```
///
/// with `G` a plain, non-empty `GROUP BY`, no limit on either aggregate, the repartition not
/// preserving order and some aggregate of `A` one that `per_customer` picks: the partial
/// aggregate (its input, keys, aggregates and filters are the whole aggregation) and `n`.
pub fn per_customer_two_phase(
    node: &Arc<dyn ExecutionPlan>,
    per_customer: impl Fn(&AggregateUDF) -> bool,
) -> Option<(&AggregateExec, usize)> {
    let last = node.downcast_ref::<AggregateExec>()?;
    if *last.mode() != AggregateMode::FinalPartitioned || last.limit_options().is_some() {
        return None;
    }
    let repartition = last.input().downcast_ref::<RepartitionExec>()?;
    let Partitioning::Hash(_, partitions) = repartition.partitioning() else {
        return None;
    };
    if repartition.preserve_order() {
        return None;
    }
    let first = repartition.input().downcast_ref::<AggregateExec>()?;
    let plain = *first.mode() == AggregateMode::Partial
        && first.limit_options().is_none()
        && first.group_expr().is_single()
        && !first.group_expr().expr().is_empty();
    (plain && first.aggr_expr().iter().any(|a| per_customer(a.fun())))
        .then_some((first, *partitions))
}
