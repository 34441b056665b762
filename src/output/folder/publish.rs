//! Publishing a finished result folder to object storage.
//!
//! Object stores have no folders to rename, so a partitioned result cannot appear in one
//! step. What seglake guarantees instead: every object is complete (each is one upload that
//! is only visible once finished); nothing appears under the target while data is still being
//! uploaded (everything goes to a hidden sibling prefix first, then is copied in place by the
//! server, which is quick); objects of an earlier result that the new one does not replace
//! are removed; and `_SUCCESS` is written last, after being removed first, so a reader that
//! waits for it never sees a mixture. If an upload fails, the target is left as it was. A run
//! killed part-way leaves no `_SUCCESS` (or the previous result with its `_SUCCESS`) and its
//! hidden staged objects, which the next complete run of the same target removes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::datasource::listing::ListingTableUrl;
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::output::upload_file;

/// The marker written once a result folder is complete (Spark's and Hadoop's convention).
pub const SUCCESS_MARKER: &str = "_SUCCESS";

/// Uploads every file under `folder` to the object store folder `location`, replacing what
/// was there.
///
/// # Errors
/// When the store cannot be reached or rejects a request; the message names the location.
pub async fn publish(ctx: &SessionContext, folder: &Path, location: &str) -> Result<()> {
    let url = ListingTableUrl::parse(format!("{}/", location.trim_end_matches('/')))?;
    let store = ctx.runtime_env().object_store(&url)?;
    let target = url.prefix().clone();
    let fail = |e: object_store::Error| {
        DataFusionError::Execution(format!(
            "cannot write '{location}': {}",
            crate::storage::explain(&e)
        ))
    };
    let files = local_files(folder)?;
    let staging = staging_prefix(&target);

    let mut staged = Vec::with_capacity(files.len());
    for (file, relative) in &files {
        let path = child(&staging, relative);
        if let Err(e) = upload_file(Arc::clone(&store), file, &path).await {
            delete_all(&store, &staged).await;
            return Err(DataFusionError::Execution(format!(
                "cannot write '{location}': {}",
                crate::output::describe_io(&e)
            )));
        }
        staged.push(path);
    }

    let marker = child(&target, SUCCESS_MARKER);
    let previous: Vec<StorePath> = store
        .list(Some(&target))
        .map_ok(|meta| meta.location)
        .try_collect()
        .await
        .map_err(fail)?;
    if previous.contains(&marker) {
        store.delete(&marker).await.map_err(fail)?;
    }
    let mut placed = Vec::with_capacity(files.len());
    for ((_, relative), from) in files.iter().zip(&staged) {
        let to = child(&target, relative);
        if let Err(e) = store.copy(from, &to).await {
            delete_all(&store, &staged).await;
            return Err(fail(e));
        }
        placed.push(to);
    }
    let placed: HashSet<StorePath> = placed.into_iter().collect();
    let stale: Vec<StorePath> = previous
        .into_iter()
        .filter(|p| !placed.contains(p) && *p != marker)
        .collect();
    delete_all(&store, &stale).await;
    store
        .put(&marker, PutPayload::default())
        .await
        .map_err(fail)?;
    delete_all(&store, &staged).await;
    remove_abandoned_staging(&store, &target).await;
    Ok(())
}

/// Removes what killed runs of the same target staged (best effort). A run that is still
/// uploading to the same target at this moment loses its staging and fails; two writers of
/// one target at once are not supported anyway.
async fn remove_abandoned_staging(store: &Arc<dyn ObjectStore>, target: &StorePath) {
    let Some(name) = target.filename() else {
        return;
    };
    let parent: Vec<_> = target.parts().collect();
    let parent = StorePath::from_iter(parent[..parent.len().saturating_sub(1)].iter().cloned());
    let parent = (!parent.as_ref().is_empty()).then_some(parent);
    let Ok(listing) = store.list_with_delimiter(parent.as_ref()).await else {
        return;
    };
    for prefix in listing.common_prefixes {
        if prefix.filename().and_then(staged_target) != Some(name) {
            continue;
        }
        let objects: Vec<StorePath> = match store
            .list(Some(&prefix))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
        {
            Ok(objects) => objects,
            Err(_) => continue,
        };
        delete_all(store, &objects).await;
    }
}

/// The target name of a staging folder name (`.seglake-staging-NAME-PID-NANOS`).
fn staged_target(folder: &str) -> Option<&str> {
    let rest = folder.strip_prefix(STAGING)?;
    let mut parts = rest.rsplitn(3, '-');
    let (nanos, pid, name) = (parts.next()?, parts.next()?, parts.next()?);
    let numbers =
        pid.bytes().all(|b| b.is_ascii_digit()) && nanos.bytes().all(|b| b.is_ascii_hexdigit());
    numbers.then_some(name)
}

/// Every file under `folder`, with its path relative to it ('/'-separated), in name order.
fn local_files(folder: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| {
            DataFusionError::Execution(format!("cannot read '{}': {e}", dir.display()))
        })?;
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(folder) {
                let relative = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                files.push((path.clone(), relative));
            }
        }
    }
    files.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(files)
}

/// How staging folders' names start.
const STAGING: &str = ".seglake-staging-";

/// A hidden sibling of `target` (readers skip names starting with '.'), unique per run, named
/// after the target so the next run of the same target can remove it if this one is killed.
fn staging_prefix(target: &StorePath) -> StorePath {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let target_name = target.filename().unwrap_or("out");
    let name = format!("{STAGING}{target_name}-{}-{nanos:x}", std::process::id());
    let parts: Vec<_> = target.parts().collect();
    match parts.split_last() {
        Some((_, parent)) => StorePath::from_iter(parent.iter().cloned()).join(name),
        None => StorePath::from(name),
    }
}

/// `base/relative`, keeping names as DataFusion wrote them (its Hive folder names are already
/// escaped, so they must not be escaped twice).
fn child(base: &StorePath, relative: &str) -> StorePath {
    let joined = if base.as_ref().is_empty() {
        relative.to_string()
    } else {
        format!("{base}/{relative}")
    };
    StorePath::parse(&joined).unwrap_or_else(|_| StorePath::from(joined.as_str()))
}

/// Best-effort clean-up: a failed delete leaves a hidden or stale object, not a wrong result.
async fn delete_all(store: &Arc<dyn ObjectStore>, paths: &[StorePath]) {
    for path in paths {
        let _ = store.delete(path).await;
    }
}

#[cfg(test)]
mod tests {
    use object_store::memory::InMemory;

    use super::*;

    /// A session whose `memory://bucket/` is the returned store.
    fn memory_store() -> (Arc<InMemory>, SessionContext) {
        let store = Arc::new(InMemory::new());
        let ctx = SessionContext::new();
        let url = url::Url::parse("memory://bucket/").unwrap();
        ctx.register_object_store(&url, Arc::clone(&store) as Arc<dyn ObjectStore>);
        (store, ctx)
    }

    async fn names(store: &InMemory) -> Vec<String> {
        let mut names: Vec<String> = store
            .list(None)
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
            .unwrap();
        names.sort();
        names
    }

    #[tokio::test]
    async fn replaces_the_previous_result_and_marks_success() {
        let (store, ctx) = memory_store();
        store
            .put(
                &StorePath::from("out/segment=old/part-0.parquet"),
                PutPayload::from("old"),
            )
            .await
            .unwrap();
        store
            .put(&StorePath::from("out/_SUCCESS"), PutPayload::default())
            .await
            .unwrap();
        store
            .put(
                &StorePath::from("other/keep.parquet"),
                PutPayload::from("keep"),
            )
            .await
            .unwrap();

        let dir = tempfile::tempdir().unwrap();
        for (folder, name) in [
            ("segment=a", "part-0.parquet"),
            ("segment=b%20c", "part-0.parquet"),
        ] {
            std::fs::create_dir_all(dir.path().join(folder)).unwrap();
            std::fs::write(dir.path().join(folder).join(name), folder).unwrap();
        }
        publish(&ctx, dir.path(), "memory://bucket/out")
            .await
            .unwrap();
        assert_eq!(
            names(&store).await,
            [
                "other/keep.parquet",
                "out/_SUCCESS",
                "out/segment=a/part-0.parquet",
                "out/segment=b%20c/part-0.parquet",
            ]
        );
    }

    #[test]
    fn staging_is_a_hidden_sibling() {
        let staging = staging_prefix(&StorePath::from("results/daily/out"));
        assert!(
            staging
                .as_ref()
                .starts_with("results/daily/.seglake-staging-")
        );
        let top = staging_prefix(&StorePath::from("out"));
        assert!(top.as_ref().starts_with(".seglake-staging-out-"));
        assert_eq!(staged_target(top.as_ref()), Some("out"));
        assert_eq!(
            staged_target(".seglake-staging-daily-x-12-ff"),
            Some("daily-x")
        );
        assert_eq!(staged_target(".seglake-staging-daily-x"), None);
        assert_eq!(staged_target("daily"), None);
    }

    #[tokio::test]
    async fn the_next_run_removes_what_killed_runs_staged() {
        let (store, ctx) = memory_store();
        for key in [
            "r/.seglake-staging-out-17-abc/a=1/part-0.parquet",
            "r/.seglake-staging-out-2-ff/_SUCCESS",
            "r/.seglake-staging-other-17-abc/part-0.parquet",
        ] {
            store
                .put(&StorePath::from(key), PutPayload::from("x"))
                .await
                .unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("part-0.parquet"), "new").unwrap();
        publish(&ctx, dir.path(), "memory://bucket/r/out")
            .await
            .unwrap();
        assert_eq!(
            names(&store).await,
            [
                "r/.seglake-staging-other-17-abc/part-0.parquet",
                "r/out/_SUCCESS",
                "r/out/part-0.parquet",
            ]
        );
    }
}
