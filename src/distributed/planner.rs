//! Which queries go to the cluster: those reading the lake.
//!
//! A client session also has tables only it can see: the catalogs BI tools read at connect
//! time (`information_schema`, `pg_catalog`), memory tables, `VALUES`. Their scans cannot be
//! sent to a scheduler (they do not serialise, and the data is here), so a query reading only
//! such tables, or no table at all, is planned and run here; a query reading lake tables
//! (listing tables over files) goes to the cluster. A query mixing the two is refused with
//! an error saying so.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::listing::ListingTable;
use datafusion::datasource::source_as_provider;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::{LogicalPlan, TableScan};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};

/// See the module documentation.
pub struct LakeOnCluster {
    cluster: Arc<dyn QueryPlanner + Send + Sync>,
    local: DefaultPhysicalPlanner,
}

impl std::fmt::Debug for LakeOnCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LakeOnCluster")
            .field("cluster", &self.cluster)
            .finish()
    }
}

impl LakeOnCluster {
    pub fn new(cluster: Arc<dyn QueryPlanner + Send + Sync>) -> Self {
        Self {
            cluster,
            local: DefaultPhysicalPlanner::default(),
        }
    }
}

/// What a plan reads.
#[derive(Debug, Default, PartialEq, Eq)]
struct Reads {
    lake: Option<String>,
    local: Option<String>,
}

fn reads(plan: &LogicalPlan) -> Result<Reads> {
    let mut reads = Reads::default();
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let name = scan.table_name.to_string();
            if is_lake(scan) {
                reads.lake.get_or_insert(name);
            } else {
                reads.local.get_or_insert(name);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(reads)
}

fn is_lake(scan: &TableScan) -> bool {
    source_as_provider(&scan.source)
        .map(|p| p.downcast_ref::<ListingTable>().is_some())
        .unwrap_or(false)
}

#[async_trait]
impl QueryPlanner for LakeOnCluster {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session_state: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // EXPLAIN and DDL wrap the plan that matters; look through them.
        let inner = match logical_plan {
            LogicalPlan::Explain(e) => e.plan.as_ref(),
            LogicalPlan::Analyze(a) => a.input.as_ref(),
            other => other,
        };
        match reads(inner)? {
            Reads { lake: None, .. } => {
                self.local
                    .create_physical_plan(logical_plan, session_state)
                    .await
            }
            Reads {
                lake: Some(_),
                local: None,
            } => {
                self.cluster
                    .create_physical_plan(logical_plan, session_state)
                    .await
            }
            Reads {
                lake: Some(lake),
                local: Some(local),
            } => Err(DataFusionError::Plan(format!(
                "this query reads lake table '{lake}', which the cluster reads, and '{local}', \
                 which only this session has (a catalog, memory table or VALUES): query them \
                 separately, or write '{local}' into the lake"
            ))),
        }
    }
}
