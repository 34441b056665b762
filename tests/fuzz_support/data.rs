//! Random transaction logs with the shapes that break aggregates: NULLs, refunds, zero amounts,
//! ties, one huge customer beside many one-order customers, dates before 1970 and far in the
//! future, the same instants with and without a time zone, and features with NaN.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const MICROS_PER_DAY: i64 = 86_400_000_000;
/// The time zone of `order_tz`: a fixed offset, so the reference knows local dates exactly.
pub const ZONE: &str = "+05:30";
pub const ZONE_OFFSET_MICROS: i64 = (5 * 60 + 30) * 60 * 1_000_000;

/// One transaction; every field may be missing.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    pub customer_id: Option<i64>,
    /// Microseconds since 1970-01-01 (UTC, and local time of `order_ts`).
    pub ts: Option<i64>,
    pub amount: Option<f64>,
    pub score: Option<i64>,
    /// A second order time within 2020-2021, as CLV models see real histories.
    pub recent: Option<i64>,
    pub x: Option<f64>,
    pub y: Option<f64>,
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `rows` random transactions from `seed`.
pub fn transactions(seed: u64, rows: usize) -> Vec<Row> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let earliest = days_from_civil(1890, 1, 1);
    let latest = days_from_civil(2199, 12, 31);
    let mut out: Vec<Row> = Vec::with_capacity(rows);
    for _ in 0..rows {
        let customer_id = match rng.random_range(0..100) {
            0 => None,
            // One customer with about a quarter of all rows.
            1..=25 => Some(0),
            // A few dozen regular customers.
            26..=70 => Some(rng.random_range(1..=40)),
            // Many customers with one or two orders.
            _ => Some(rng.random_range(1_000..1_000 + rows as i64)),
        };
        // Each customer lives in its own stretch of time, somewhere in three centuries.
        let home = match customer_id {
            Some(id) => earliest + (id * 7_919).rem_euclid(latest - earliest),
            None => days_from_civil(1969, 12, 1),
        };
        let day = (home + rng.random_range(-400..400)).clamp(earliest, latest);
        let ts = match rng.random_range(0..100) {
            0..=1 => None,
            // Repeated instants: midnight, so orders tie on the day and on the timestamp.
            2..=20 => Some(day * MICROS_PER_DAY),
            _ => Some(day * MICROS_PER_DAY + rng.random_range(0..MICROS_PER_DAY)),
        };
        let amount = match rng.random_range(0..100) {
            0..=2 => None,
            3..=8 => Some(0.0),
            9..=16 => Some(-(rng.random_range(1..5_000) as f64) / 100.0),
            17..=30 => Some(19.99),
            31 => Some(rng.random_range(1.0e9..1.0e12)),
            _ => Some(rng.random_range(1..100_000) as f64 / 100.0),
        };
        let score = match rng.random_range(0..20) {
            0 => None,
            _ => Some(rng.random_range(0..=10)),
        };
        let (x, y) = match rng.random_range(0..50) {
            0 => (None, Some(1.0)),
            1 => (Some(f64::NAN), Some(2.0)),
            2..=9 => (Some(1.5), Some(-2.25)),
            _ => {
                let centre = f64::from(rng.random_range(0..4_u8)) * 5.0;
                (
                    Some(centre + rng.random_range(-1.0..1.0)),
                    Some(-centre + rng.random_range(-1.0..1.0)),
                )
            }
        };
        let recent = ts.map(|_| {
            let start = days_from_civil(2020, 1, 1) + customer_id.unwrap_or(0).rem_euclid(365);
            (start + rng.random_range(0..365)) * MICROS_PER_DAY
        });
        let mut row = Row {
            customer_id,
            ts,
            amount,
            score,
            recent,
            x,
            y,
        };
        // Exact duplicates of an earlier row.
        if !out.is_empty() && rng.random_range(0..25) == 0 {
            row = out[rng.random_range(0..out.len())];
        }
        out.push(row);
    }
    out
}

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Int64, true),
        Field::new(
            "order_ts",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            true,
        ),
        Field::new(
            "order_tz",
            DataType::Timestamp(TimeUnit::Microsecond, Some(ZONE.into())),
            true,
        ),
        Field::new("order_date", DataType::Date32, true),
        Field::new("amount", DataType::Float64, true),
        Field::new("score", DataType::Int64, true),
        Field::new(
            "recent_ts",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            true,
        ),
        Field::new("x", DataType::Float64, true),
        Field::new("y", DataType::Float64, true),
    ]))
}

/// The rows as one batch. `order_tz` holds the same local times as `order_ts`, in [`ZONE`].
pub fn batch(rows: &[Row]) -> RecordBatch {
    let ts: TimestampMicrosecondArray = rows.iter().map(|r| r.ts).collect();
    let tz: TimestampMicrosecondArray = rows
        .iter()
        .map(|r| r.ts.map(|t| t - ZONE_OFFSET_MICROS))
        .collect();
    let date: Date32Array = rows
        .iter()
        .map(|r| r.ts.map(|t| t.div_euclid(MICROS_PER_DAY) as i32))
        .collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|r| r.customer_id).collect::<Int64Array>()),
        Arc::new(ts),
        Arc::new(tz.with_timezone(ZONE)),
        Arc::new(date),
        Arc::new(rows.iter().map(|r| r.amount).collect::<Float64Array>()),
        Arc::new(rows.iter().map(|r| r.score).collect::<Int64Array>()),
        Arc::new(
            rows.iter()
                .map(|r| r.recent)
                .collect::<TimestampMicrosecondArray>(),
        ),
        Arc::new(rows.iter().map(|r| r.x).collect::<Float64Array>()),
        Arc::new(rows.iter().map(|r| r.y).collect::<Float64Array>()),
    ];
    RecordBatch::try_new(schema(), columns).expect("the columns match the schema")
}

/// Writes `rows` shuffled into `files` Parquet files under `dir` with random names (so the
/// listing order is random too) and small, random row groups.
pub fn write_files(dir: &Path, rows: &[Row], files: usize, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut shuffled = rows.to_vec();
    shuffled.shuffle(&mut rng);
    let per_file = shuffled.len().div_ceil(files.max(1));
    std::fs::create_dir_all(dir).expect("the table folder");
    for chunk in shuffled.chunks(per_file.max(1)) {
        let name = format!("part-{:08x}.parquet", rng.random::<u32>());
        let file = std::fs::File::create(dir.join(name)).expect("a Parquet file");
        let properties = WriterProperties::builder()
            .set_max_row_group_row_count(Some(rng.random_range(50..2_000)))
            .build();
        let mut writer =
            ArrowWriter::try_new(file, schema(), Some(properties)).expect("a Parquet writer");
        writer.write(&batch(chunk)).expect("the rows are written");
        writer.close().expect("the file is finished");
    }
}
