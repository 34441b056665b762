//! Results on the REPL's screen: the table fitted to the terminal, the pager, and the last
//! result kept for `\last`.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::Result;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;

use super::{display, pager};
use crate::exec::{PrintOptions, StatementOutcome, peak_memory, write_result};
use crate::output::format::{MaxRows, OutputFormat, WriteSummary};

/// The most of a result `\last` keeps; a larger one is not kept.
const LAST_LIMIT: usize = 256 << 20;

/// How the screen shows results.
#[derive(Debug, Clone, Copy)]
pub struct Screen {
    /// A person at a terminal: fitted tables and the pager.
    pub interactive: bool,
    pub pager: bool,
    /// `\format table-full`: exact values and every column.
    pub full: bool,
}

/// The last result with columns, for `\last`.
#[derive(Debug, Clone)]
pub struct LastResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    bytes: usize,
    /// False when the result outgrew [`LAST_LIMIT`] and was dropped.
    pub kept: bool,
}

impl LastResult {
    fn new(schema: SchemaRef) -> Self {
        Self {
            schema,
            batches: vec![],
            bytes: 0,
            kept: true,
        }
    }

    fn keep(&mut self, batch: &RecordBatch) {
        if !self.kept {
            return;
        }
        self.bytes += batch.get_array_memory_size();
        if self.bytes > LAST_LIMIT {
            self.batches.clear();
            self.kept = false;
        } else {
            self.batches.push(batch.clone());
        }
    }
}

/// Shows a started result and keeps it as the last one (when it has columns).
///
/// # Errors
/// The query's error or a failure writing.
pub async fn show(
    stream: SendableRecordBatchStream,
    print: &PrintOptions,
    screen: Screen,
    last: &mut Option<LastResult>,
    start: Instant,
) -> Result<StatementOutcome> {
    let schema = stream.schema();
    let store = Arc::new(Mutex::new(LastResult::new(Arc::clone(&schema))));
    let tee = Arc::clone(&store);
    let stream = Box::pin(RecordBatchStreamAdapter::new(
        Arc::clone(&schema),
        stream.inspect(move |batch| {
            if let (Ok(batch), Ok(mut store)) = (batch, tee.lock()) {
                store.keep(batch);
            }
        }),
    ));
    let outcome = if print.format == OutputFormat::Table && screen.interactive && !screen.full {
        fitted(stream, print, screen, start).await?
    } else if screen.interactive {
        let mut buffer = Vec::new();
        let outcome = write_result(stream, print, &mut buffer, start).await?;
        pager::show(&String::from_utf8_lossy(&buffer), screen.pager);
        outcome
    } else {
        let mut stdout = std::io::BufWriter::new(std::io::stdout());
        let outcome = write_result(stream, print, &mut stdout, start).await?;
        std::io::Write::flush(&mut stdout)?;
        outcome
    };
    if outcome.has_result
        && let Ok(store) = store.lock()
    {
        *last = Some(store.clone());
    }
    Ok(outcome)
}

/// The table fitted to the terminal: the first `max_rows` rows, counted to the end.
async fn fitted(
    mut stream: SendableRecordBatchStream,
    print: &PrintOptions,
    screen: Screen,
    start: Instant,
) -> Result<StatementOutcome> {
    let schema = stream.schema();
    let mut kept = Vec::new();
    let mut summary = WriteSummary::default();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let room = match print.max_rows {
            MaxRows::Unlimited => batch.num_rows(),
            MaxRows::Limited(limit) => limit.saturating_sub(summary.shown),
        };
        let take = room.min(batch.num_rows());
        if take > 0 {
            kept.push(batch.slice(0, take));
        }
        summary.rows += batch.num_rows();
        summary.shown += take;
    }
    let has_result = !schema.fields().is_empty();
    if has_result {
        page(&schema, &kept, screen)?;
    }
    Ok(StatementOutcome {
        has_result,
        summary,
        elapsed: start.elapsed(),
        peak_memory: peak_memory(),
    })
}

fn page(schema: &SchemaRef, batches: &[RecordBatch], screen: Screen) -> Result<()> {
    let width = pager::terminal_size().map_or(120, |(columns, _)| columns);
    let rendered = display::render(schema, batches, width)?;
    let mut text = rendered.text;
    if !rendered.hidden.is_empty() {
        let count = rendered.hidden.len();
        let plural = if count == 1 { "" } else { "s" };
        text.push_str(&format!(
            "{count} column{plural} hidden to fit the screen ({}): \\format table-full shows every column\n",
            rendered.hidden.join(", ")
        ));
    }
    pager::show(&text, screen.pager);
    Ok(())
}

/// Shows the last result again, every row.
///
/// # Errors
/// When there is none, or it was too large to keep.
pub fn show_last(last: Option<&LastResult>, print: &PrintOptions, screen: Screen) -> Result<usize> {
    use datafusion::error::DataFusionError;
    let last = last.ok_or_else(|| DataFusionError::Plan("no result yet".into()))?;
    if !last.kept {
        return Err(DataFusionError::Plan(format!(
            "the last result was larger than {} MiB and was not kept: run it again",
            LAST_LIMIT >> 20
        )));
    }
    let rows = last.batches.iter().map(RecordBatch::num_rows).sum();
    if print.format == OutputFormat::Table && screen.interactive && !screen.full {
        page(&last.schema, &last.batches, screen)?;
        return Ok(rows);
    }
    let format = if print.format.is_binary() {
        OutputFormat::Table
    } else {
        print.format
    };
    let mut buffer = Vec::new();
    crate::output::format::write_batches(
        Arc::clone(&last.schema),
        &last.batches,
        format,
        MaxRows::Unlimited,
        &mut buffer,
    )?;
    if screen.interactive {
        pager::show(&String::from_utf8_lossy(&buffer), screen.pager);
    } else {
        print!("{}", String::from_utf8_lossy(&buffer));
    }
    Ok(rows)
}
