//! Every executor must have the functions a query uses.
//!
//! An executor that cannot decode a task's plan (a stock Ballista executor has no seglake
//! functions) rejects it, and Ballista then fails the job with "task could not be prepared
//! or was rejected by executor", never saying why. seglake's executors register under an id
//! that names their version (`seglake-VERSION-...`); this rule, run by the scheduler when it
//! plans a query, refuses the query when a live executor is not one of them and the query
//! uses a function beyond the stock registry, naming the function and the executor.

use std::collections::BTreeSet;
use std::sync::Arc;

use ballista_core::registry::BallistaFunctionRegistry;
use ballista_scheduler::cluster::ClusterState;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::expr::WindowFunctionDefinition;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

/// The executor id prefix of this seglake version.
pub fn executor_id_prefix() -> String {
    format!("seglake-{}-", crate::VERSION)
}

/// See the module documentation.
pub struct ExecutorsHaveFunctions {
    cluster: Arc<dyn ClusterState>,
    stock: BallistaFunctionRegistry,
}

impl std::fmt::Debug for ExecutorsHaveFunctions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExecutorsHaveFunctions")
    }
}

impl ExecutorsHaveFunctions {
    pub fn new(cluster: Arc<dyn ClusterState>) -> Self {
        Self {
            cluster,
            stock: BallistaFunctionRegistry::default(),
        }
    }

    /// The live executors that are not seglake executors of this version.
    fn foreign_executors(&self) -> Vec<String> {
        let prefix = executor_id_prefix();
        let mut foreign: Vec<String> = self
            .cluster
            .executor_heartbeats()
            .into_keys()
            .filter(|id| !id.starts_with(&prefix))
            .collect();
        foreign.sort();
        foreign
    }

    /// Functions of the plan a stock executor does not have.
    fn beyond_stock(&self, plan: &LogicalPlan) -> Result<BTreeSet<String>> {
        let mut names = BTreeSet::new();
        plan.apply_with_subqueries(|node| {
            node.apply_expressions(|expr| {
                expr.apply(|e| {
                    let missing = match e {
                        Expr::ScalarFunction(f) => {
                            let name = f.func.name();
                            (!self.stock.scalar_functions.contains_key(name)).then_some(name)
                        }
                        Expr::AggregateFunction(f) => {
                            let name = f.func.name();
                            (!self.stock.aggregate_functions.contains_key(name)).then_some(name)
                        }
                        Expr::WindowFunction(w) => match &w.fun {
                            WindowFunctionDefinition::AggregateUDF(f) => {
                                let name = f.name();
                                (!self.stock.aggregate_functions.contains_key(name)).then_some(name)
                            }
                            WindowFunctionDefinition::WindowUDF(f) => {
                                let name = f.name();
                                (!self.stock.window_functions.contains_key(name)).then_some(name)
                            }
                        },
                        _ => None,
                    };
                    if let Some(name) = missing {
                        names.insert(name.to_string());
                    }
                    Ok(TreeNodeRecursion::Continue)
                })
            })
        })?;
        Ok(names)
    }

    fn describe(&self, id: &str) -> String {
        match futures::executor::block_on(self.cluster.get_executor_metadata(id)) {
            Ok(meta) => format!("{}:{} (id {id})", meta.host, meta.grpc_port),
            Err(_) => format!("id {id}"),
        }
    }
}

impl OptimizerRule for ExecutorsHaveFunctions {
    fn name(&self) -> &str {
        "seglake_executors_have_functions"
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        let foreign = self.foreign_executors();
        let Some(first) = foreign.first() else {
            return Ok(Transformed::no(plan));
        };
        let missing = self.beyond_stock(&plan)?;
        let Some(function) = missing.iter().next() else {
            return Ok(Transformed::no(plan));
        };
        let version = first
            .strip_prefix("seglake-")
            .and_then(|rest| rest.split('-').next())
            .map(|v| format!("seglake {v}"))
            .unwrap_or_else(|| "a stock Ballista executor".to_string());
        Err(DataFusionError::Plan(format!(
            "the cluster's executor {} ({version}) may lack function '{function}' this query \
             uses{}: run `seglake cluster executor` of seglake {} on every executor",
            self.describe(first),
            if missing.len() > 1 {
                format!(" (and {} more)", missing.len() - 1)
            } else {
                String::new()
            },
            crate::VERSION
        )))
    }
}
