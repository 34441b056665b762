//! The order rows are written in. `customer` (the default) writes each customer's history
//! together, as the simulation makes it; `time` rewrites the transactions and events in time
//! order across all customers, as an append-only log is: every customer's orders spread over
//! all row groups and files. Same rows, same seed semantics; only the order differs.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use futures::StreamExt;

/// Rows per file of a time-ordered table: a log rolls over to a new file now and then.
const ROWS_PER_FILE: usize = 10 << 20;
/// Memory the sort may use before it spills to the staging folder.
const SORT_MEMORY: usize = 4 << 30;

/// How `seglake gen` orders the transactions and events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Layout {
    /// Customer by customer, as the simulation makes them.
    #[default]
    Customer,
    /// In time order across all customers, as an append-only log.
    Time,
}

/// The tables a time layout reorders, with the columns they are sorted by (time first; the
/// rest make the order total, so it is the same on every run).
const TIME_ORDER: [(&str, &str); 2] = [
    ("transactions", "order_ts, order_id"),
    ("events", "event_ts, customer_id, event_type, channel"),
];

/// Rewrites the time-ordered tables of the lake being built in `staging`.
///
/// # Errors
/// When a table cannot be read, sorted or written.
pub fn reorder(staging: &Path, threads: usize, props: &WriterProperties) -> Result<()> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(threads.max(1))
                    .enable_all()
                    .build()
                    .map_err(|e| {
                        DataFusionError::Execution(format!("cannot start a runtime: {e}"))
                    })?;
                runtime.block_on(async {
                    for (table, order) in TIME_ORDER {
                        sort_table(staging, table, order, props).await?;
                    }
                    Ok(())
                })
            })
            .join()
            .unwrap_or_else(|_| Err(DataFusionError::Execution("the sort thread failed".into())))
    })
}

async fn sort_table(
    staging: &Path,
    table: &str,
    order: &str,
    props: &WriterProperties,
) -> Result<()> {
    let folder = staging.join(table);
    let sorted = staging.join(format!(".{table}-by-time"));
    std::fs::create_dir_all(&sorted).map_err(|e| super::io_error(&sorted, e))?;
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(SORT_MEMORY)))
        .with_temp_file_path(staging)
        .build_arc()?;
    // One sorted partition: its spilled runs merge into one stream (no second merge across
    // partitions), and the merge keeps enough memory for its inputs.
    let mut config = SessionConfig::new().with_target_partitions(1);
    config.options_mut().execution.sort_spill_reservation_bytes = 256 << 20;
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    let location = folder.display().to_string();
    ctx.register_parquet("rows", &location, ParquetReadOptions::default())
        .await?;
    let df = ctx
        .sql(&format!("SELECT * FROM rows ORDER BY {order}"))
        .await?;
    let schema = Arc::new(df.schema().as_arrow().clone());
    let mut stream = df.execute_stream().await?;
    let mut file_index = 0;
    let mut writer: Option<(ArrowWriter<File>, usize)> = None;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let mut offset = 0;
        while offset < batch.num_rows() {
            let (current, rows) = match writer.as_mut() {
                Some(open) => open,
                None => {
                    let path = sorted.join(format!("part-{file_index:05}.parquet"));
                    let file = File::create(&path).map_err(|e| super::io_error(&path, e))?;
                    file_index += 1;
                    let opened = ArrowWriter::try_new(file, schema.clone(), Some(props.clone()))?;
                    writer.insert((opened, 0))
                }
            };
            let take = (ROWS_PER_FILE - *rows).min(batch.num_rows() - offset);
            current.write(&batch.slice(offset, take))?;
            *rows += take;
            offset += take;
            if *rows == ROWS_PER_FILE
                && let Some((full, _)) = writer.take()
            {
                full.close()?;
            }
        }
    }
    if let Some((last, _)) = writer.take() {
        last.close()?;
    }
    if file_index == 0 {
        // No rows: the table is still there, empty, as the customer layout leaves it.
        let path = sorted.join("part-00000.parquet");
        let file = File::create(&path).map_err(|e| super::io_error(&path, e))?;
        ArrowWriter::try_new(file, schema, Some(props.clone()))?.close()?;
    }
    std::fs::remove_dir_all(&folder).map_err(|e| super::io_error(&folder, e))?;
    std::fs::rename(&sorted, &folder).map_err(|e| super::io_error(&folder, e))?;
    Ok(())
}
