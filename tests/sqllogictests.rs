//! Runs the SQL behaviour tests `tests/sql/**/*.slt` against a seglake session.
//!
//! Each file gets a fresh session with all of seglake's functions and the small fixture lake
//! `tests/data/lake` (CSV files: customers, transactions, and cdnow_summary, the CDNOW customers
//! in weeks from lifetimes' wheel). Values are printed the same way for every test: NULL as `NULL`, the empty string as `(empty)`, floating point numbers rounded
//! to 12 decimal places with trailing zeros dropped (`20.5`, `100.0`).
//!
//! `cargo test --test sqllogictests -- FILTER` runs the files whose path contains FILTER.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Float32Type, Float64Type};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use seglake::SeglakeBuilder;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType, Runner};

const SQL_DIR: &str = "tests/sql";
const FIXTURE_LAKE: &str = "tests/data/lake";

struct SeglakeDb {
    ctx: SessionContext,
}

#[async_trait]
impl AsyncDB for SeglakeDb {
    type Error = DataFusionError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, DataFusionError> {
        let df = self.ctx.sql(sql).await?;
        let schema = df.schema().inner().clone();
        let batches = df.collect().await?;
        if schema.fields().is_empty() {
            return Ok(DBOutput::StatementComplete(0));
        }
        let types = schema
            .fields()
            .iter()
            .map(|f| column_type(f.data_type()))
            .collect();
        let mut rows = Vec::new();
        for batch in &batches {
            rows.extend(batch_rows(batch)?);
        }
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "seglake"
    }

    async fn sleep(duration: std::time::Duration) {
        tokio::time::sleep(duration).await;
    }
}

fn column_type(data_type: &DataType) -> DefaultColumnType {
    if data_type.is_integer() {
        DefaultColumnType::Integer
    } else if data_type.is_floating() || matches!(data_type, DataType::Decimal128(..)) {
        DefaultColumnType::FloatingPoint
    } else {
        DefaultColumnType::Text
    }
}

fn batch_rows(batch: &RecordBatch) -> Result<Vec<Vec<String>>, DataFusionError> {
    let options = FormatOptions::default().with_null("NULL");
    let columns = batch.columns();
    let formatters = columns
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let mut cells = Vec::with_capacity(columns.len());
        for (column, formatter) in columns.iter().zip(&formatters) {
            let cell = if column.is_null(row) {
                "NULL".to_string()
            } else {
                match column.data_type() {
                    DataType::Float64 => {
                        float_text(column.as_primitive::<Float64Type>().value(row))
                    }
                    DataType::Float32 => {
                        float_text(f64::from(column.as_primitive::<Float32Type>().value(row)))
                    }
                    _ => formatter.value(row).to_string(),
                }
            };
            cells.push(if cell.is_empty() {
                "(empty)".into()
            } else {
                cell
            });
        }
        rows.push(cells);
    }
    Ok(rows)
}

fn float_text(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let text = format!("{value:.12}");
    let trimmed = text.trim_end_matches('0');
    let trimmed = if trimmed.ends_with('.') {
        format!("{trimmed}0")
    } else {
        trimmed.to_string()
    };
    if trimmed == "-0.0" {
        "0.0".into()
    } else {
        trimmed
    }
}

fn slt_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            slt_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "slt") {
            out.push(path);
        }
    }
    Ok(())
}

async fn run_file(path: &Path) -> Result<(), String> {
    let mut runner = Runner::new(|| async {
        let ctx = SeglakeBuilder::new()
            .lake(FIXTURE_LAKE)
            .target_partitions(2)
            .build()
            .await?;
        Ok(SeglakeDb { ctx })
    });
    runner
        .run_file_async(path)
        .await
        .map_err(|e| e.display(true).to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let mut files = Vec::new();
    if let Err(e) = slt_files(Path::new(SQL_DIR), &mut files) {
        eprintln!("cannot list {SQL_DIR}: {e}");
        return ExitCode::FAILURE;
    }
    files.sort();
    files.retain(|f| filters.is_empty() || filters.iter().any(|p| f.to_string_lossy().contains(p)));

    let (mut passed, mut failed) = (0, 0);
    for file in &files {
        match run_file(file).await {
            Ok(()) => {
                passed += 1;
                println!("ok      {}", file.display());
            }
            Err(e) => {
                failed += 1;
                println!("FAILED  {}\n{e}", file.display());
            }
        }
    }
    println!("sqllogictest: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
