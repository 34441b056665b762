//! Which file of a folder table stops it from being read. When a folder's schema cannot be
//! inferred, DataFusion's error names neither the file with the corrupt footer nor, for files
//! whose columns disagree, the two files; this finds them, on the error path only. When the
//! store itself failed (a timeout, a reset, a refusal), the files are not read again: that
//! would only repeat the wait, and the store's error already says what went wrong.

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::listing::{ListingOptions, ListingTableUrl};
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use object_store::ObjectMeta;

/// `error` with the file (or the pair of files) behind it named, when one can be found.
pub(super) async fn explain(
    ctx: &SessionContext,
    url: &ListingTableUrl,
    options: &ListingOptions,
    error: DataFusionError,
) -> DataFusionError {
    if is_store_failure(&error) {
        return error;
    }
    match culprit(ctx, url, options).await {
        Ok(Some(message)) => DataFusionError::Plan(message),
        _ => error,
    }
}

/// Whether an object store error is behind `error`.
fn is_store_failure(error: &DataFusionError) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if e.downcast_ref::<object_store::Error>().is_some() {
            return true;
        }
        current = e.source();
    }
    false
}

/// The first file (in name order) that cannot be read alone, or that has a column of another
/// type than the first file has.
async fn culprit(
    ctx: &SessionContext,
    url: &ListingTableUrl,
    options: &ListingOptions,
) -> Result<Option<String>> {
    let state = ctx.state();
    let store = ctx.runtime_env().object_store(url)?;
    let mut files: Vec<ObjectMeta> = url
        .list_all_files(&state, store.as_ref(), &options.file_extension)
        .await?
        .try_collect()
        .await?;
    files.sort_by(|a, b| a.location.cmp(&b.location));
    let mut first: Option<(String, SchemaRef)> = None;
    for meta in files {
        let name = file_name(url, &meta);
        let one = options
            .format
            .infer_schema(&state, &store, std::slice::from_ref(&meta));
        // The Parquet reader can panic on a corrupt footer; that too names the file.
        let schema = match crate::error::catch_panic(one).await {
            Ok(schema) => schema,
            Err(e) => {
                return Ok(Some(format!("{name}: {}", crate::error::describe(&e))));
            }
        };
        match &first {
            None => first = Some((name, schema)),
            Some((first_name, first_schema)) => {
                if let Some(conflict) = conflict(first_name, first_schema, &name, &schema) {
                    return Ok(Some(format!(
                        "{conflict}; every file of a table needs the same type for a column"
                    )));
                }
            }
        }
    }
    Ok(None)
}

/// A file's path inside the table's folder.
fn file_name(url: &ListingTableUrl, meta: &ObjectMeta) -> String {
    match meta.location.prefix_match(url.prefix()) {
        Some(parts) => parts
            .map(|p| p.as_ref().to_string())
            .collect::<Vec<_>>()
            .join("/"),
        None => meta.location.to_string(),
    }
}

/// The first column both files' schemas have with different types, with both named.
fn conflict(
    first_name: &str,
    first: &SchemaRef,
    other_name: &str,
    other: &SchemaRef,
) -> Option<String> {
    other.fields().iter().find_map(|field| {
        let (_, theirs) = first.column_with_name(field.name())?;
        (theirs.data_type() != field.data_type()).then(|| {
            format!(
                "column '{}' is {} in {other_name} but {} in {first_name}",
                field.name(),
                field.data_type(),
                theirs.data_type()
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    #[test]
    fn conflicts_name_the_column_and_types() {
        let a = Arc::new(Schema::new(vec![Field::new(
            "amount",
            DataType::Float64,
            true,
        )]));
        let b = Arc::new(Schema::new(vec![
            Field::new("extra", DataType::Int64, true),
            Field::new("amount", DataType::Utf8, true),
        ]));
        assert_eq!(
            conflict("a.parquet", &a, "b.parquet", &b).as_deref(),
            Some("column 'amount' is Utf8 in b.parquet but Float64 in a.parquet")
        );
        assert_eq!(conflict("a.parquet", &a, "c.parquet", &a), None);
    }

    #[test]
    fn store_failures_are_found_inside_other_errors() {
        let store = object_store::Error::Generic {
            store: "S3",
            source: "operation timed out".into(),
        };
        let wrapped = DataFusionError::ParquetError(Box::new(
            datafusion::parquet::errors::ParquetError::External(Box::new(store)),
        ));
        assert!(is_store_failure(&wrapped.context("inferring the schema")));
        assert!(!is_store_failure(&DataFusionError::Plan(
            "bad footer".into()
        )));
    }
}
