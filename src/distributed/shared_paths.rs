//! A lake on a local path must be visible to the cluster, not only to the client.
//!
//! A client sends a table as its location, and the scheduler lists the files there itself.
//! When the path exists only on the client's machine, that listing finds nothing and the
//! query would answer over an empty table, silently. This rule runs on the scheduler and
//! refuses such a plan, naming the table and the path. Lakes in object storage (`s3://`,
//! `gs://`, `az://`, `http(s)://`) are read by the same URL everywhere and are not checked.
//! Executors read the files the scheduler listed; one that cannot fails its task with an
//! error naming the file.

use std::path::PathBuf;

use datafusion::common::tree_node::{Transformed, TreeNodeRecursion};
use datafusion::datasource::listing::ListingTable;
use datafusion::datasource::source_as_provider;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{LogicalPlan, TableScan};
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

/// See the module documentation.
#[derive(Debug, Default)]
pub struct LakePathsVisible;

impl OptimizerRule for LakePathsVisible {
    fn name(&self) -> &str {
        "seglake_lake_paths_visible"
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        let mut missing = None;
        plan.apply_with_subqueries(|node| {
            if let LogicalPlan::TableScan(scan) = node
                && let Some(path) = invisible_path(scan)
            {
                missing = Some((scan.table_name.to_string(), path));
                return Ok(TreeNodeRecursion::Stop);
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
        match missing {
            None => Ok(Transformed::no(plan)),
            Some((table, path)) => Err(DataFusionError::Plan(format!(
                "table '{table}' reads '{}', which the cluster's scheduler cannot see: on a \
                 cluster the lake must be in object storage (s3://, gs://, az://, https://) or \
                 on a file system mounted at the same path on the client, the scheduler and \
                 every executor",
                path.display()
            ))),
        }
    }
}

/// The first local folder or file of a listing table that does not exist here.
fn invisible_path(scan: &TableScan) -> Option<PathBuf> {
    let provider = source_as_provider(&scan.source).ok()?;
    let listing = provider.downcast_ref::<ListingTable>()?;
    listing.table_paths().iter().find_map(|table_path| {
        let url = url::Url::parse(table_path.as_str()).ok()?;
        if url.scheme() != "file" {
            return None;
        }
        let path = url.to_file_path().ok()?;
        // A glob's folder is what must exist: /lake/tx/*.parquet -> /lake/tx
        let folder = path
            .ancestors()
            .find(|p| !p.to_string_lossy().contains(['*', '?', '[']))?
            .to_path_buf();
        (!folder.exists()).then_some(folder)
    })
}
