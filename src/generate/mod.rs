//! `seglake gen`: a synthetic customer lake with known truth.
//!
//! Customers are simulated in chunks, each from its own seeded random stream, on every core;
//! chunks are written in order as Parquet row groups, so the same seed and version give the
//! same bytes whatever the thread timing, and memory stays bounded at any scale. The lake is
//! written into a hidden folder first and moved into place when complete.

mod layout;
mod personas;
mod simulate;
mod tables;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use chrono::NaiveDate;
use datafusion::arrow::array::RecordBatch;
use datafusion::error::{DataFusionError, Result};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use layout::Layout;
use seglake_udfs::rfm::periods::{MICROS_PER_DAY, civil_from_days, days_from_civil};
use serde::Serialize;

pub use personas::{Persona, personas};
use simulate::{Campaign, Rows, Simulation, Window};
pub use tables::{TABLES, table_schema, truth_schema};

/// Customers simulated per chunk (one random stream, one unit of parallel work).
const CHUNK: u64 = 8192;
/// Version of the generator's output; a change here changes the bytes for a given seed.
pub const GENERATOR_VERSION: u32 = 1;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    pub customers: u64,
    pub out: PathBuf,
    pub seed: u64,
    pub start: NaiveDate,
    /// The last day of the window (inclusive).
    pub end: NaiveDate,
    pub overwrite: bool,
    pub quiet: bool,
    pub threads: usize,
    /// The order transactions and events are written in.
    pub layout: Layout,
}

impl GenOptions {
    pub fn new(customers: u64, out: impl Into<PathBuf>) -> Self {
        Self {
            customers,
            out: out.into(),
            seed: 42,
            start: NaiveDate::from_ymd_opt(2022, 1, 1).unwrap_or_default(),
            end: NaiveDate::from_ymd_opt(2024, 12, 31).unwrap_or_default(),
            overwrite: false,
            quiet: true,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            layout: Layout::Customer,
        }
    }
}

/// Row counts of a generated lake.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GenSummary {
    pub rows: BTreeMap<String, u64>,
    pub seconds: f64,
}

/// The generating parameters, written to `_truth/params.json`.
#[derive(Serialize)]
struct Params<'a> {
    generator_version: u32,
    seed: u64,
    customers: u64,
    start: String,
    end: String,
    never_buy_share: f64,
    refund_share: f64,
    personas: &'a [Persona],
}

fn days(date: NaiveDate) -> i64 {
    days_from_civil(
        i64::from(chrono::Datelike::year(&date)),
        chrono::Datelike::month(&date),
        chrono::Datelike::day(&date),
    )
}

/// A seed for chunk `index` of stream `stream`, mixed so neighbouring seeds are unrelated
/// (SplitMix64's finaliser).
fn stream_seed(seed: u64, stream: u64, index: u64) -> u64 {
    let mut z = seed
        .wrapping_add(stream.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(index.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One campaign a month, rotating channels.
fn campaigns(seed: u64, window: Window) -> Vec<Campaign> {
    let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(seed, 1, 0));
    let channels = ["email", "social", "sms", "display"];
    let mut out = Vec::new();
    let (mut year, mut month, _) = civil_from_days(window.start.div_euclid(MICROS_PER_DAY));
    loop {
        let start = days_from_civil(year, month, 1) * MICROS_PER_DAY + 9 * 3_600_000_000;
        if start >= window.end {
            return out;
        }
        let id = out.len() as i64 + 1;
        let channel = channels[(id as usize - 1) % channels.len()];
        out.push(Campaign {
            id,
            name: format!("{year}-{month:02} {channel} promotion"),
            channel,
            start,
            end: (start + 14 * MICROS_PER_DAY).min(window.end),
            cost: (2_000.0 + rng.random::<f64>() * 18_000.0).round(),
            contact_rate: if channel == "email" { 0.35 } else { 0.15 },
        });
        (year, month) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
    }
}

/// Generates the lake.
///
/// # Errors
/// When the options are invalid, the target holds tables already (without `overwrite`), or a
/// file cannot be written.
pub fn generate(options: &GenOptions) -> Result<GenSummary> {
    let started = Instant::now();
    if options.customers == 0 {
        return Err(DataFusionError::Plan(
            "--customers must be at least 1".into(),
        ));
    }
    if options.end <= options.start {
        return Err(DataFusionError::Plan(format!(
            "--end ({}) must be after --start ({})",
            options.end, options.start
        )));
    }
    let whole = prepare_target(&options.out, options.overwrite)?;
    let staging = staging_folder(&options.out, whole)?;

    let window = Window {
        start: days(options.start) * MICROS_PER_DAY,
        end: (days(options.end) + 1) * MICROS_PER_DAY,
    };
    let personas = personas();
    let campaigns = campaigns(options.seed, window);
    let simulation = Simulation {
        customers: options.customers,
        window,
        personas: &personas,
        campaigns: &campaigns,
    };

    let mut writers = TableWriters::create(staging.path())?;
    writers.write("campaigns", &tables::campaigns_batch(&campaigns)?)?;
    let progress = progress_bar(options);
    write_chunks(&simulation, options, &mut writers, &progress)?;
    progress.finish_and_clear();
    let rows = writers.close()?;
    if options.layout == Layout::Time {
        layout::reorder(staging.path(), options.threads, &writer_properties())?;
    }

    let params = Params {
        generator_version: GENERATOR_VERSION,
        seed: options.seed,
        customers: options.customers,
        start: options.start.to_string(),
        end: options.end.to_string(),
        never_buy_share: 0.06,
        refund_share: 0.02,
        personas: &personas,
    };
    let json = serde_json::to_string_pretty(&params)
        .map_err(|e| DataFusionError::Execution(e.to_string()))?;
    std::fs::write(
        staging.path().join("_truth").join("params.json"),
        json + "\n",
    )
    .map_err(|e| io_error(staging.path(), e))?;

    if whole {
        // The lake is the folder: it appears (or replaces the previous one) in one step.
        crate::replace::replace(staging.path(), &options.out)
            .map_err(|e| io_error(&options.out, e))?;
    } else {
        // Beside other files, table by table, each in one step.
        for table in TABLES.iter().chain(&["_truth"]) {
            let target = options.out.join(table);
            crate::replace::replace(&staging.path().join(table), &target)
                .map_err(|e| io_error(&target, e))?;
        }
    }
    Ok(GenSummary {
        rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn io_error(path: &Path, e: std::io::Error) -> DataFusionError {
    DataFusionError::Execution(format!("cannot write '{}': {e}", path.display()))
}

/// Checks the target: refuses to mix with an existing lake unless told to replace it. Returns
/// whether the lake can be the whole folder (missing, empty, or holding only a lake seglake
/// wrote and hidden files), so that it is written beside it and put in place in one step;
/// else the tables are written inside it and put in place one by one.
fn prepare_target(out: &Path, overwrite: bool) -> Result<bool> {
    // `.` or `/` cannot be renamed into place.
    let nameable = out.file_name().is_some();
    let entries = match std::fs::read_dir(out) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(nameable),
        Err(e) => return Err(io_error(out, e)),
    };
    let mut only_lake = true;
    for entry in entries {
        let name = entry.map_err(|e| io_error(out, e))?.file_name();
        let name = name.to_string_lossy();
        let lake_part = TABLES.iter().chain(&["_truth"]).any(|t| *t == name);
        if lake_part && !overwrite {
            return Err(DataFusionError::Plan(format!(
                "'{}' already holds a lake (found {name}/): choose another --out or pass \
                 --overwrite",
                out.display()
            )));
        }
        only_lake &= lake_part || name.starts_with('.');
    }
    Ok(only_lake && nameable)
}

/// Where the lake is written before it is put in place: a hidden folder beside `out` when the
/// lake is the whole folder, else inside it. Removed if the run fails, and by a later run if
/// this one is killed.
fn staging_folder(out: &Path, whole: bool) -> Result<crate::replace::Staging> {
    let (parent, prefix) = if whole {
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        std::fs::create_dir_all(&parent).map_err(|e| io_error(&parent, e))?;
        (parent, format!(".{name}.seglake-gen-"))
    } else {
        (out.to_path_buf(), ".seglake-gen-".to_string())
    };
    crate::replace::Staging::new(&parent, &prefix).map_err(|e| io_error(&parent, e))
}

fn progress_bar(options: &GenOptions) -> ProgressBar {
    if options.quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(options.customers);
    let style = ProgressStyle::with_template(
        "{spinner} generating {pos}/{len} customers [{bar:30}] {percent}% ({eta} left)",
    )
    .map(|s| s.progress_chars("=> "));
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar
}

/// Simulates chunks on `options.threads` workers and writes them in chunk order. Workers stay
/// at most a few chunks ahead of the writer, which bounds memory.
fn write_chunks(
    simulation: &Simulation,
    options: &GenOptions,
    writers: &mut TableWriters,
    progress: &ProgressBar,
) -> Result<()> {
    let chunks = options.customers.div_ceil(CHUNK) as usize;
    let threads = options.threads.max(1);
    let ahead = 2 * threads;
    let next = AtomicUsize::new(0);
    let written = (Mutex::new(0usize), Condvar::new());
    let (sender, receiver) = sync_channel::<(usize, Result<Vec<(&str, RecordBatch)>>)>(ahead);

    std::thread::scope(|scope| {
        for _ in 0..threads {
            let sender = sender.clone();
            let (next, written) = (&next, &written);
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    if index >= chunks {
                        return;
                    }
                    {
                        let (lock, ready) = written;
                        let mut done = lock.lock().unwrap_or_else(|e| e.into_inner());
                        while index >= *done + ahead {
                            done = ready.wait(done).unwrap_or_else(|e| e.into_inner());
                        }
                    }
                    let batches = simulate_chunk(simulation, options.seed, index);
                    if sender.send((index, batches)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(sender);

        let mut pending = BTreeMap::new();
        let mut expected = 0;
        let mut result = Ok(());
        for (index, batches) in receiver {
            pending.insert(index, batches);
            while let Some(batches) = pending.remove(&expected) {
                if result.is_ok() {
                    result = batches.and_then(|batches| {
                        for (table, batch) in &batches {
                            writers.write(table, batch)?;
                        }
                        Ok(())
                    });
                }
                expected += 1;
                let first = (expected - 1) as u64 * CHUNK;
                progress.inc(CHUNK.min(options.customers - first));
                let (lock, ready) = &written;
                *lock.lock().unwrap_or_else(|e| e.into_inner()) = expected;
                ready.notify_all();
            }
        }
        result
    })
}

fn simulate_chunk(
    simulation: &Simulation,
    seed: u64,
    index: usize,
) -> Result<Vec<(&'static str, RecordBatch)>> {
    let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(seed, 2, index as u64));
    let mut rows = Rows::default();
    let first = index as u64 * CHUNK + 1;
    let last = (first + CHUNK - 1).min(simulation.customers);
    for id in first..=last {
        simulation.customer(id as i64, &mut rng, &mut rows);
    }
    tables::chunk_batches(rows)
}

/// How every table is written: Snappy, row groups of about 1M rows.
fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(1 << 20))
        .set_created_by(format!("seglake gen v{GENERATOR_VERSION}"))
        .build()
}

/// One Parquet writer per table, plus the truth.
struct TableWriters {
    writers: BTreeMap<&'static str, ArrowWriter<File>>,
    rows: BTreeMap<String, u64>,
}

impl TableWriters {
    fn create(root: &Path) -> Result<Self> {
        let props = writer_properties();
        let mut writers = BTreeMap::new();
        for table in TABLES.iter().copied().chain(["_truth"]) {
            let folder = root.join(table);
            std::fs::create_dir_all(&folder).map_err(|e| io_error(&folder, e))?;
            let (file_name, schema) = if table == "_truth" {
                ("customers.parquet", truth_schema())
            } else {
                ("part-0.parquet", table_schema(table))
            };
            let path = folder.join(file_name);
            let file = File::create(&path).map_err(|e| io_error(&path, e))?;
            writers.insert(
                table,
                ArrowWriter::try_new(file, schema, Some(props.clone()))?,
            );
        }
        Ok(Self {
            writers,
            rows: BTreeMap::new(),
        })
    }

    fn write(&mut self, table: &str, batch: &RecordBatch) -> Result<()> {
        let Some(writer) = self.writers.get_mut(table) else {
            return Err(DataFusionError::Internal(format!("no writer for {table}")));
        };
        writer.write(batch)?;
        *self.rows.entry(table.to_string()).or_default() += batch.num_rows() as u64;
        Ok(())
    }

    fn close(self) -> Result<BTreeMap<String, u64>> {
        for (_, writer) in self.writers {
            writer.close()?;
        }
        Ok(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_seeds_differ() {
        let seeds: std::collections::BTreeSet<u64> =
            (0..1000).map(|i| stream_seed(42, 2, i)).collect();
        assert_eq!(seeds.len(), 1000);
        assert_ne!(stream_seed(42, 1, 0), stream_seed(43, 1, 0));
    }

    #[test]
    fn one_campaign_a_month() {
        let window = Window {
            start: days_from_civil(2022, 1, 1) * MICROS_PER_DAY,
            end: days_from_civil(2023, 1, 1) * MICROS_PER_DAY,
        };
        let campaigns = campaigns(42, window);
        assert_eq!(campaigns.len(), 12);
        assert_eq!(campaigns[0].name, "2022-01 email promotion");
        assert_eq!(campaigns[11].channel, "display");
    }
}
