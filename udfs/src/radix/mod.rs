//! Per-customer aggregation over radix partitions: a physical optimizer rule and the
//! execution plan node it plans.
//!
//! DataFusion aggregates `GROUP BY customer_id` with one hash table per partition: a partial
//! aggregate per input partition, a repartition of the partial states, and a final aggregate.
//! With a million customers every table is tens of megabytes, so on a transaction log in time
//! order (each customer's rows spread over the whole file) every row's lookup and every
//! accumulator update is a cache miss, in both phases. [`RadixAggregateExec`] does what
//! DuckDB's radix-partitioned aggregation does:
//!
//! 1. each input partition's rows are split by the hash of their group keys into 256 radix
//!    partitions (a counting sort per batch, then one `take`), kept in memory (in 4 bytes a
//!    value where module `compact` allows) or, when the memory pool says no, spilled to one file per
//!    radix partition;
//! 2. once every input has been read, each radix partition is aggregated in one phase
//!    (`update_batch` on the raw rows, as `AggregateMode::Single` does) with DataFusion's own
//!    groups accumulators, into a table small enough to stay in cache. Groups are numbered by
//!    DataFusion's group values, or, for one `Int64` key whose values in the radix partition
//!    lie in a small span, by a slot per value (module `dense`): with a Parquet input whose
//!    statistics give the key's range, each output partition is split by ranges of key values
//!    rather than by hash bits, so every radix partition's keys lie close together.
//!
//! Radix partitions are assigned to output partitions by the hash and seed DataFusion's
//! `RepartitionExec` uses, so the node's output is hash-partitioned on the group keys exactly
//! as the final aggregate it replaces, and the plan above it stays valid.
//!
//! The rule [`RadixAggregatePerCustomer`] rewrites
//!
//! ```text
//! AggregateExec(FinalPartitioned, G, A)
//!   RepartitionExec(Hash(G), n)
//!     AggregateExec(Partial, G, A)
//!       input
//! ```
//!
//! into `RadixAggregateExec(G, A, n)` over the input when `A` holds one of seglake's
//! per-customer aggregates (`rfm`, `btyd_summary`), every aggregate has a groups accumulator
//! and no `ORDER BY` of its own, and `G` is a plain `GROUP BY`. Other aggregations keep
//! DataFusion's plan: a few groups over many rows are what its partial aggregation is best at.
//! On a cluster, seglake plans [`SinglePhasePerCustomer`](crate::rfm::SinglePhasePerCustomer)
//! instead, whose plans Ballista can send to its executors.

mod aggregate;
mod compact;
mod dense;
mod exec;
mod gather;
mod partition;

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::{ExecutionPlan, InputOrderMode};

pub use exec::RadixAggregateExec;

use crate::common::two_phase::per_customer_two_phase;
use crate::rfm::{BtydSummary, Rfm};

/// See the module documentation.
#[derive(Debug, Default)]
pub struct RadixAggregatePerCustomer;

impl PhysicalOptimizerRule for RadixAggregatePerCustomer {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_down(|node| {
            Ok(match radix(&node)? {
                Some(rewritten) => Transformed::yes(rewritten),
                None => Transformed::no(node),
            })
        })
        .data()
    }

    fn name(&self) -> &str {
        "radix_aggregate_per_customer"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The radix plan for `node`, when it is the final aggregate of a per-customer aggregation
/// (see the module documentation).
fn radix(node: &Arc<dyn ExecutionPlan>) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let Some((first, partitions)) = per_customer_two_phase(node, is_per_customer) else {
        return Ok(None);
    };
    let aggregates = first.aggr_expr();
    if *first.input_order_mode() != InputOrderMode::Linear
        || aggregates
            .iter()
            .any(|a| !a.groups_accumulator_supported() || !a.order_bys().is_empty())
    {
        return Ok(None);
    }
    let radix = RadixAggregateExec::try_new(
        first.group_expr().clone(),
        aggregates.to_vec(),
        first.filter_expr().to_vec(),
        Arc::clone(first.input()),
        partitions,
    )?;
    if radix.schema() != node.schema() {
        return Ok(None);
    }
    Ok(Some(Arc::new(radix)))
}

/// Whether `fun` is one of seglake's per-customer aggregates, whose `GROUP BY` has about as
/// many groups as there are customers.
fn is_per_customer(fun: &datafusion::logical_expr::AggregateUDF) -> bool {
    let inner = fun.inner();
    inner.is::<BtydSummary>() || inner.is::<Rfm>()
}
