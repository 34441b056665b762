//! Results written as a Hive-partitioned folder (`--partition-by COL`), appearing whole or not
//! at all: the folder is written beside the target under a hidden name and renamed into place.

use std::path::{Path, PathBuf};

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::UInt64Type;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::DataFrame;

use crate::format::OutputFormat;
use crate::lake::has_url_scheme;

/// Writes `df` under `location` partitioned by `columns`; returns the rows written.
///
/// # Errors
/// When the format cannot be partitioned (table, tsv, json arrays), the location is a URL
/// (partitioned output to object storage is not supported yet), a column is missing, or the
/// folder cannot be written; an existing folder at `location` is then left as it was.
pub async fn write_partitioned(
    df: DataFrame,
    format: OutputFormat,
    location: &str,
    columns: &[String],
) -> Result<usize> {
    if has_url_scheme(location) {
        return Err(DataFusionError::Plan(
            "--partition-by writes local folders only for now; give a local --output folder".into(),
        ));
    }
    let target = PathBuf::from(location);
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
    for column in columns {
        df.schema()
            .field_with_unqualified_name(column)
            .map_err(|_| {
                DataFusionError::Plan(format!(
                    "--partition-by {column}: the result has no such column"
                ))
            })?;
    }
    let staging = tempfile::Builder::new()
        .prefix(".seglake-partitioned-")
        .tempdir_in(&parent)
        .map_err(|e| io_error(&parent, e))?;
    let folder = staging.path().join("result");
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
    std::fs::create_dir_all(&folder).map_err(|e| io_error(&folder, e))?;
    replace(&folder, &target, staging.path())?;
    Ok(rows)
}

/// Moves `new` to `target`, replacing an existing folder only once `new` is complete.
fn replace(new: &Path, target: &Path, staging: &Path) -> Result<()> {
    if target.exists() {
        let old = staging.join("previous");
        std::fs::rename(target, &old).map_err(|e| io_error(target, e))?;
        if let Err(e) = std::fs::rename(new, target) {
            let _ = std::fs::rename(&old, target);
            return Err(io_error(target, e));
        }
    } else {
        std::fs::rename(new, target).map_err(|e| io_error(target, e))?;
    }
    Ok(())
}

fn io_error(path: &Path, e: std::io::Error) -> DataFusionError {
    DataFusionError::Execution(format!("cannot write '{}': {e}", path.display()))
}
