//! Every seglake aggregate reports the memory its state holds (`size()`), so DataFusion's
//! memory pool can spill or refuse before the process is killed. A pool that records the
//! peak of what operators reserve shows each aggregate's state above the same grouping with
//! `count(*)` alone, and that state must be at least what the values held need (bytes per
//! group or per row kept) and at most a small multiple of it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::error::Result;
use datafusion::execution::memory_pool::{MemoryPool, MemoryReservation};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

/// An unlimited pool that remembers the largest total reserved at once.
#[derive(Debug, Default)]
struct PeakPool {
    reserved: AtomicUsize,
    peak: AtomicUsize,
}

impl PeakPool {
    fn add(&self, bytes: usize) {
        let now = self.reserved.fetch_add(bytes, Ordering::SeqCst) + bytes;
        self.peak.fetch_max(now, Ordering::SeqCst);
    }

    fn take_peak(&self) -> usize {
        self.peak.swap(0, Ordering::SeqCst)
    }
}

impl std::fmt::Display for PeakPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "peak pool ({} bytes reserved)", self.reserved())
    }
}

impl MemoryPool for PeakPool {
    fn name(&self) -> &str {
        "peak"
    }

    fn grow(&self, _: &MemoryReservation, additional: usize) {
        self.add(additional);
    }

    fn shrink(&self, _: &MemoryReservation, shrink: usize) {
        self.reserved.fetch_sub(shrink, Ordering::SeqCst);
    }

    fn try_grow(&self, _: &MemoryReservation, additional: usize) -> Result<()> {
        self.add(additional);
        Ok(())
    }

    fn reserved(&self) -> usize {
        self.reserved.load(Ordering::SeqCst)
    }
}

/// Customers (one order each, a distinct day each) and feature rows. The customers are in a
/// scrambled order: written in order, DataFusion knows the file is sorted and aggregates
/// each customer as it ends, holding almost no state (found while writing this test).
const ROWS: usize = 20_000;

async fn session(pool: Arc<PeakPool>, dir: &std::path::Path) -> SessionContext {
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(pool)
        .build_arc()
        .expect("a runtime");
    // One partition, so one accumulator holds every group.
    let config = SessionConfig::new().with_target_partitions(1);
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    seglake_udfs::register_all(&ctx).expect("the functions register");
    let path = dir.join("t.parquet");
    let write = SessionContext::new();
    write
        .sql(&format!(
            "COPY (SELECT (value * 7919) % {ROWS} AS customer_id, \
                    to_timestamp_seconds(1577836800 + value * 86400) AS order_ts, \
                    CAST(value % 97 AS DOUBLE) + 0.5 AS amount, \
                    CAST(value % 11 AS BIGINT) AS score, \
                    CAST(value % 13 AS DOUBLE) AS x, CAST(value % 7 AS DOUBLE) AS y \
                  FROM range({ROWS})) TO '{}' STORED AS PARQUET",
            path.display()
        ))
        .await
        .expect("the fixture plans")
        .collect()
        .await
        .expect("the fixture is written");
    ctx.register_parquet(
        "t",
        path.to_str().expect("UTF-8"),
        ParquetReadOptions::default(),
    )
    .await
    .expect("the table registers");
    ctx
}

async fn peak_of(ctx: &SessionContext, pool: &PeakPool, sql: &str) -> usize {
    pool.take_peak();
    ctx.sql(sql)
        .await
        .expect("the query plans")
        .collect()
        .await
        .expect("the query runs");
    pool.take_peak()
}

#[tokio::test]
async fn aggregates_report_the_memory_their_state_holds() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let pool = Arc::new(PeakPool::default());
    let ctx = session(Arc::clone(&pool), dir.path()).await;

    let grouped = "FROM t GROUP BY customer_id";
    let per_group = peak_of(&ctx, &pool, &format!("SELECT count(*) {grouped}")).await;
    let single = peak_of(&ctx, &pool, "SELECT count(*) FROM t").await;
    // A fitted model in a memory table, so evaluating it reserves only its own state.
    ctx.sql("CREATE TABLE model AS SELECT kmeans_fit(make_array(x, y), 3) AS m FROM t")
        .await
        .expect("the model plans")
        .collect()
        .await
        .expect("the model fits");
    // (query, baseline, bytes the state must hold at least, what it holds)
    let cases = [
        (
            format!("SELECT rfm(order_ts, amount) {grouped}"),
            per_group,
            // purchases, monetary (an exact sum of two f64), first, last: 40 bytes, and a day.
            ROWS * (40 + 4),
            "per customer: counts, sums, first and last, a day",
        ),
        (
            format!("SELECT btyd_summary(order_ts, amount, DATE '2030-01-01') {grouped}"),
            per_group,
            ROWS * (40 + 4),
            "per customer: counts, sums, first and last, a period",
        ),
        (
            format!("SELECT nps(score) {grouped}"),
            per_group,
            ROWS * 24,
            "per customer: three counts",
        ),
        (
            "SELECT rfm_cuts(amount) FROM t".to_string(),
            single,
            ROWS * 8,
            "every value",
        ),
        (
            "SELECT kmeans_fit(make_array(x, y), 3) FROM t".to_string(),
            single,
            ROWS * 2 * 8,
            "every point",
        ),
        (
            "SELECT kmeans_evaluate(m, make_array(x, y)) FROM t CROSS JOIN model".to_string(),
            single,
            ROWS * 2 * 8,
            "every row's features",
        ),
        (
            "SELECT bgnbd_fit(CAST(score AS DOUBLE), 0, 10) FROM t".to_string(),
            single,
            ROWS * 3 * 8,
            "every (frequency, recency, T)",
        ),
    ];
    for (sql, baseline, needed, holds) in cases {
        let peak = peak_of(&ctx, &pool, &sql).await;
        let state = peak.saturating_sub(baseline);
        println!("{sql}: {state} bytes reserved above the baseline for {holds} ({needed} needed)");
        assert!(
            state >= needed,
            "{sql}: reports {state} bytes, but holds {holds}: at least {needed}"
        );
        assert!(
            state <= 16 * needed + (1 << 20),
            "{sql}: reports {state} bytes for {needed} held"
        );
    }
}
