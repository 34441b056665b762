//! Output files that appear whole or not at all.
//!
//! A result is written to a temporary file first: beside the target for a local path (so the
//! final rename stays on one file system and is atomic), or in the temporary folder for a URL,
//! whose object store then receives it in one upload that is only visible once complete.
//! Dropping a [`PendingOutput`] without [`PendingOutput::commit`] leaves nothing behind.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::datasource::listing::ListingTableUrl;
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;
use object_store::ObjectStore;
use object_store::buffered::BufWriter;
use object_store::path::Path as StorePath;
use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;

use crate::lake::has_url_scheme;

pub mod copy;
pub mod folder;
pub mod format;

/// A file being written, and where it goes once complete.
#[derive(Debug)]
pub struct PendingOutput {
    temp: NamedTempFile,
    target: Target,
}

#[derive(Debug)]
enum Target {
    Local(PathBuf),
    Remote(String),
}

impl PendingOutput {
    /// Starts writing an output for `location`, a path or URL.
    ///
    /// # Errors
    /// When the target's folder does not exist or the temporary file cannot be made.
    pub fn create(location: &str) -> Result<Self> {
        if has_url_scheme(location) && !location.starts_with("file:") {
            let temp = NamedTempFile::new().map_err(|e| {
                DataFusionError::Execution(format!("cannot create a temporary file: {e}"))
            })?;
            return Ok(Self {
                temp,
                target: Target::Remote(location.to_string()),
            });
        }
        let path = PathBuf::from(location.strip_prefix("file://").unwrap_or(location));
        if path.is_dir() {
            return Err(DataFusionError::Execution(format!(
                "output '{location}' is a folder: name a file"
            )));
        }
        let folder = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !folder.is_dir() {
            return Err(DataFusionError::Execution(format!(
                "cannot write '{location}': folder '{}' does not exist",
                folder.display()
            )));
        }
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = crate::replace::temp_file_beside(&folder, &file_name).map_err(|e| {
            DataFusionError::Execution(format!("cannot write in '{}': {e}", folder.display()))
        })?;
        Ok(Self {
            temp,
            target: Target::Local(path),
        })
    }

    /// The temporary file to write the result into.
    pub fn file(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// Where the output goes once committed.
    pub fn location(&self) -> String {
        match &self.target {
            Target::Local(path) => path.display().to_string(),
            Target::Remote(url) => url.clone(),
        }
    }

    /// Moves the finished file into place.
    ///
    /// # Errors
    /// When the rename or the upload fails; the target is then left as it was.
    pub async fn commit(mut self, ctx: &SessionContext) -> Result<()> {
        use std::io::Write;
        self.temp.as_file_mut().flush()?;
        match self.target {
            Target::Local(path) => {
                self.temp.persist(&path).map_err(|e| {
                    DataFusionError::Execution(format!(
                        "cannot write '{}': {}",
                        path.display(),
                        e.error
                    ))
                })?;
                Ok(())
            }
            Target::Remote(url) => upload(ctx, self.temp.path(), &url).await,
        }
    }
}

async fn upload(ctx: &SessionContext, file: &Path, location: &str) -> Result<()> {
    let url = ListingTableUrl::parse(location)?;
    let store = ctx.runtime_env().object_store(&url)?;
    upload_file(store, file, url.prefix())
        .await
        .map_err(|e| upload_error(location, e))
}

/// Copies a local file to `path` in `store` as one object, which becomes visible only once
/// complete (a multipart upload is aborted on failure).
///
/// # Errors
/// When the file cannot be read or the store rejects the upload.
pub async fn upload_file(
    store: Arc<dyn ObjectStore>,
    file: &Path,
    path: &StorePath,
) -> std::io::Result<()> {
    let mut writer = BufWriter::new(store, path.clone());
    let mut source = tokio::fs::File::open(file).await?;
    match tokio::io::copy(&mut source, &mut writer).await {
        Ok(_) => writer.shutdown().await,
        Err(e) => {
            let _ = writer.abort().await;
            Err(e)
        }
    }
}

fn upload_error(location: &str, e: std::io::Error) -> DataFusionError {
    DataFusionError::Execution(format!("cannot write '{location}': {}", describe_io(&e)))
}

/// An upload's I/O error; when an object store caused it, explained as one.
pub fn describe_io(e: &std::io::Error) -> String {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<object_store::Error>())
    {
        Some(store) => crate::storage::explain(store),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[tokio::test]
    async fn nothing_appears_until_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        let mut pending = PendingOutput::create(target.to_str().unwrap()).unwrap();
        pending.file().write_all(b"a\n1\n").unwrap();
        assert!(!target.exists());
        pending.commit(&SessionContext::new()).await.unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "a\n1\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn dropped_output_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        let mut pending = PendingOutput::create(target.to_str().unwrap()).unwrap();
        pending.file().write_all(b"partial").unwrap();
        drop(pending);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn missing_folder_is_named() {
        let err = PendingOutput::create("/no/such/folder/out.csv").unwrap_err();
        assert!(
            err.to_string().contains("'/no/such/folder' does not exist"),
            "{err}"
        );
    }
}
