//! `COPY ... TO` a local path, appearing whole or not at all.
//!
//! DataFusion's own `COPY` writes straight to its target: a run killed part-way leaves a
//! truncated file, or a folder with some new files beside the old ones. For a local target,
//! seglake runs the same `COPY` into a hidden folder beside it ([`Staging`]), with the same
//! last path component (so DataFusion writes a file or a folder exactly as it would have),
//! then puts the result in place of the target in one step ([`replace`]); the statement's
//! result (the row count) is returned once the target is in place. A folder target is
//! replaced as a whole, not added to. A killed run's hidden folder is removed by the next
//! `COPY` beside it. Object store targets keep DataFusion's writer: a single file is one
//! upload, visible only once complete.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::LogicalPlan;
use datafusion::logical_expr::dml::CopyTo;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::SessionContext;

use crate::lake::has_url_scheme;
use crate::replace::{Staging, replace};

/// The staging folders' name prefix.
const PREFIX: &str = ".seglake-copy-";

/// Runs `plan`; a `COPY ... TO` a local path is written beside its target and put in place
/// once complete (see the module documentation).
///
/// # Errors
/// Planning and execution errors, and a target that cannot be written or replaced; the target
/// is then as it was.
pub async fn execute(ctx: &SessionContext, plan: LogicalPlan) -> Result<SendableRecordBatchStream> {
    let LogicalPlan::Copy(copy) = plan else {
        return ctx.execute_logical_plan(plan).await?.execute_stream().await;
    };
    let Some(target) = local_target(&copy.output_url) else {
        let plan = LogicalPlan::Copy(copy);
        return ctx.execute_logical_plan(plan).await?.execute_stream().await;
    };
    let fail = |e: std::io::Error| {
        DataFusionError::Execution(format!("cannot write '{}': {e}", copy.output_url))
    };
    let name = target.file_name().ok_or_else(|| {
        DataFusionError::Plan(format!(
            "cannot write '{}': the path names no file or folder",
            copy.output_url
        ))
    })?;
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // DataFusion creates missing parent folders; so does seglake, before staging in them.
    std::fs::create_dir_all(&parent).map_err(fail)?;
    let staging = Staging::new(&parent, PREFIX).map_err(fail)?;
    let staged = staging.path().join(name);
    let mut url = staged.to_string_lossy().into_owned();
    if copy.output_url.ends_with('/') {
        url.push('/');
    }
    let staged_copy = CopyTo {
        output_url: url,
        ..copy.clone()
    };
    let df = ctx
        .execute_logical_plan(LogicalPlan::Copy(staged_copy))
        .await?;
    let schema = Arc::clone(df.schema().inner());
    let batches = df.collect().await?;
    if std::fs::symlink_metadata(&staged).is_ok() {
        replace(&staged, &target).map_err(fail)?;
    }
    drop(staging);
    Ok(Box::pin(RecordBatchStreamAdapter::new(
        schema,
        futures::stream::iter(batches.into_iter().map(Ok)),
    )))
}

/// The local path a `COPY` writes to, or `None` for an object store URL.
fn local_target(url: &str) -> Option<PathBuf> {
    if let Some(path) = url.strip_prefix("file://") {
        return Some(PathBuf::from(path.trim_end_matches('/')));
    }
    if has_url_scheme(url) {
        return None;
    }
    Some(Path::new(url.trim_end_matches('/')).to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_targets_and_urls() {
        assert_eq!(
            local_target("out.parquet"),
            Some(PathBuf::from("out.parquet"))
        );
        assert_eq!(local_target("dir/out/"), Some(PathBuf::from("dir/out")));
        assert_eq!(
            local_target("file:///tmp/x.csv"),
            Some(PathBuf::from("/tmp/x.csv"))
        );
        assert_eq!(local_target("s3://bucket/x.parquet"), None);
    }
}
