//! Results written as a Hive-partitioned folder (`--partition-by COL`), appearing whole or not
//! at all: a local folder is written beside the target under a hidden name and renamed into
//! place; for object storage, see [`publish`].

mod publish;

use std::path::{Path, PathBuf};

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::UInt64Type;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::{DataFrame, SessionContext};

use crate::lake::has_url_scheme;
use crate::output::format::OutputFormat;

/// Writes `df` under `location` partitioned by `columns`; returns the rows written.
///
/// # Errors
/// When the format cannot be partitioned (table, tsv, json arrays), a column is missing, or the
/// folder cannot be written; an existing folder at `location` is then left as it was.
pub async fn write_partitioned(
    ctx: &SessionContext,
    df: DataFrame,
    format: OutputFormat,
    location: &str,
    columns: &[String],
) -> Result<usize> {
    check_columns(&df, columns)?;
    if has_url_scheme(location) && !location.starts_with("file:") {
        let staging = tempfile::Builder::new()
            .prefix(".seglake-partitioned-")
            .tempdir()
            .map_err(|e| io_error(&std::env::temp_dir(), e))?;
        let folder = staging.path().join("result");
        let rows = write_folder(df, format, &folder, columns).await?;
        publish::publish(ctx, &folder, location).await?;
        return Ok(rows);
    }
    let target = PathBuf::from(location.strip_prefix("file://").unwrap_or(location));
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(DataFusionError::Plan(format!(
            "cannot write '{location}': folder '{}' does not exist",
            parent.display()
        )));
    }
    let staging = crate::replace::Staging::new(&parent, ".seglake-partitioned-")
        .map_err(|e| io_error(&parent, e))?;
    let folder = staging.path().join("result");
    let rows = write_folder(df, format, &folder, columns).await?;
    replace(&folder, &target)?;
    Ok(rows)
}

fn check_columns(df: &DataFrame, columns: &[String]) -> Result<()> {
    for column in columns {
        df.schema()
            .field_with_unqualified_name(column)
            .map_err(|_| {
                DataFusionError::Plan(format!(
                    "--partition-by {column}: the result has no such column"
                ))
            })?;
    }
    Ok(())
}

/// Writes `df` as a Hive-partitioned folder at `folder` (created even when the result is
/// empty); returns the rows written.
async fn write_folder(
    df: DataFrame,
    format: OutputFormat,
    folder: &Path,
    columns: &[String],
) -> Result<usize> {
    let path = format!("{}/", folder.display());
    let options = DataFrameWriteOptions::new().with_partition_by(columns.to_vec());
    let counts = match format {
        OutputFormat::Parquet => df.write_parquet(&path, options, None).await?,
        OutputFormat::Csv => df.write_csv(&path, options, None).await?,
        OutputFormat::Ndjson => df.write_json(&path, options, None).await?,
        other => {
            return Err(DataFusionError::Plan(format!(
                "--partition-by writes parquet, csv or ndjson, not {other}"
            )));
        }
    };
    let rows = counts
        .iter()
        .filter(|b| b.num_columns() > 0)
        .map(|b| {
            b.column(0)
                .as_primitive::<UInt64Type>()
                .iter()
                .flatten()
                .sum::<u64>()
        })
        .sum::<u64>() as usize;
    std::fs::create_dir_all(folder).map_err(|e| io_error(folder, e))?;
    Ok(rows)
}

/// Moves `new` to `target` in one step once `new` is complete (see [`crate::replace`]).
fn replace(new: &Path, target: &Path) -> Result<()> {
    crate::replace::replace(new, target).map_err(|e| io_error(target, e))
}

fn io_error(path: &Path, e: std::io::Error) -> DataFusionError {
    DataFusionError::Execution(format!("cannot write '{}': {e}", path.display()))
}
