//! Per-customer aggregates (`rfm`, `btyd_summary`) run over radix partitions on one machine
//! (`RadixAggregateExec`, planned by the rule `radix_aggregate_per_customer`), in one phase
//! after a repartition on a cluster (`single_phase_per_customer`); other aggregations keep
//! DataFusion's two phases. The answers equal DataFusion's builtins, with and without spilling,
//! and the output stays hash-partitioned as the plan above it expects.

mod common;

use std::sync::Arc;

use common::{query_text, two_partition_session, two_partition_session_with};

use datafusion::execution::SessionStateBuilder;
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::prelude::{SessionConfig, SessionContext};

/// 3,000 purchases and refunds of 101 customers over a year, interleaved in time as an
/// append-only log is, some on the same day.
const TRANSACTIONS: &str = "CREATE TABLE t AS
    SELECT value % 101 AS customer_id,
           CAST(to_timestamp_seconds(1704067200 + value * 10512) AS TIMESTAMP) AS order_ts,
           CASE WHEN value % 11 = 0 THEN -5.0 ELSE (value % 13) * 3.5 END AS amount
    FROM range(3000)";

const RFM_FIELDS: &str = "SELECT customer_id, r['frequency'] AS frequency,
        r['purchase_days'] AS days, r['monetary'] AS monetary, r['last_purchase'] AS last_purchase
     FROM (SELECT customer_id, rfm(order_ts, amount, DATE '2025-01-01') AS r
           FROM t GROUP BY customer_id)
     ORDER BY customer_id";

const BUILTINS: &str = "SELECT customer_id, count(*) FILTER (WHERE amount >= 0) AS frequency,
        count(DISTINCT CAST(order_ts AS DATE)) FILTER (WHERE amount >= 0) AS days,
        sum(amount) AS monetary,
        max(order_ts) FILTER (WHERE amount >= 0) AS last_purchase
     FROM t WHERE order_ts < DATE '2025-01-01' GROUP BY customer_id
     ORDER BY customer_id";

async fn session() -> SessionContext {
    two_partition_session_with(TRANSACTIONS).await
}

/// A two-partition session with seglake's functions and DataFusion's own physical plans (no
/// radix node), the reference the radix node's answers are held to.
fn datafusion_session(config: SessionConfig) -> SessionContext {
    let state = SessionStateBuilder::new()
        .with_config(config.with_target_partitions(2))
        .with_default_features()
        .build();
    let reference = SessionContext::new_with_state(state);
    seglake_udfs::register_all(&reference).unwrap();
    reference
}

/// The aggregation nodes of the physical plan of `sql`, in plan order: `Radix` or the mode of
/// an `AggregateExec`.
async fn aggregations(ctx: &SessionContext, sql: &str) -> Vec<String> {
    let plan = query_text(ctx, &format!("EXPLAIN {sql}")).await;
    let physical = plan.split("physical_plan").nth(1).unwrap_or_default();
    physical
        .lines()
        .filter_map(|line| {
            if line.contains("RadixAggregateExec:") {
                Some("Radix".to_string())
            } else {
                let rest = line.split("AggregateExec: mode=").nth(1)?;
                Some(rest.split(',').next().unwrap_or_default().to_string())
            }
        })
        .collect()
}

#[tokio::test]
async fn per_customer_aggregates_run_over_radix_partitions() {
    let ctx = session().await;
    let rfm = "SELECT customer_id, rfm(order_ts, amount, DATE '2025-01-01') AS r
               FROM t GROUP BY customer_id";
    assert_eq!(aggregations(&ctx, rfm).await, ["Radix"]);
    let summary = "SELECT customer_id, btyd_summary(order_ts, amount, DATE '2025-01-01', 'week')
                   FROM t WHERE amount > 0 GROUP BY customer_id";
    assert_eq!(aggregations(&ctx, summary).await, ["Radix"]);
    // With builtins beside it, the whole aggregation runs over radix partitions.
    let mixed = "SELECT customer_id, rfm(order_ts, amount, DATE '2025-01-01'), sum(amount)
                 FROM t GROUP BY customer_id";
    assert_eq!(aggregations(&ctx, mixed).await, ["Radix"]);
    // rfm without its day sets too (the rfm_segments query).
    let light = "SELECT customer_id, r['frequency'] FROM (
                   SELECT customer_id, rfm(order_ts, amount, DATE '2025-01-01') AS r
                   FROM t GROUP BY customer_id)";
    assert_eq!(aggregations(&ctx, light).await, ["Radix"]);
}

#[tokio::test]
async fn other_aggregations_keep_two_phases() {
    let ctx = session().await;
    let builtins = "SELECT customer_id, sum(amount) FROM t GROUP BY customer_id";
    assert_eq!(
        aggregations(&ctx, builtins).await,
        ["FinalPartitioned", "Partial"]
    );
    // Without GROUP BY there is no repartition to move the rows through.
    let overall = "SELECT rfm(order_ts, amount, DATE '2025-01-01') FROM t";
    assert_eq!(aggregations(&ctx, overall).await, ["Final", "Partial"]);
}

#[tokio::test]
async fn a_cluster_aggregates_the_day_sets_in_one_phase() {
    let config = SessionConfig::new().with_target_partitions(2);
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .with_physical_optimizer_rules(seglake_udfs::cluster_physical_optimizer_rules())
        .build();
    let ctx = SessionContext::new_with_state(state);
    seglake_udfs::register_all(&ctx).unwrap();
    ctx.sql(TRANSACTIONS)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let rfm = "SELECT customer_id, rfm(order_ts, amount, DATE '2025-01-01') AS r
               FROM t GROUP BY customer_id";
    assert_eq!(aggregations(&ctx, rfm).await, ["SinglePartitioned"]);
    let light = "SELECT customer_id, r['frequency'] FROM (
                   SELECT customer_id, rfm(order_ts, amount, DATE '2025-01-01') AS r
                   FROM t GROUP BY customer_id)";
    assert_eq!(
        aggregations(&ctx, light).await,
        ["FinalPartitioned", "Partial"]
    );
    assert_eq!(
        query_text(&ctx, RFM_FIELDS).await,
        query_text(&ctx, BUILTINS).await
    );
}

#[tokio::test]
async fn radix_answers_equal_the_builtins() {
    let ctx = session().await;
    let ours = query_text(&ctx, RFM_FIELDS).await;
    assert_eq!(ours, query_text(&ctx, BUILTINS).await);
    assert!(ours.lines().count() > 100, "{ours}");
}

#[tokio::test]
async fn null_and_composite_keys_and_filters_aggregate_as_datafusion_does() {
    let ctx = session().await;
    // customer_id NULL for every 7th row, a second key, and a FILTER on a builtin beside rfm.
    let sql = "SELECT k, c, r['frequency'] AS frequency, n
         FROM (SELECT CASE WHEN customer_id % 7 = 0 THEN NULL ELSE customer_id END AS k,
                      customer_id % 3 AS c,
                      rfm(order_ts, amount, DATE '2025-01-01') AS r,
                      count(*) FILTER (WHERE amount > 20) AS n
               FROM t GROUP BY 1, 2)
         ORDER BY k NULLS FIRST, c";
    assert_eq!(aggregations(&ctx, sql).await, ["Radix"]);
    let ours = query_text(&ctx, sql).await;
    let reference = query_text(
        &ctx,
        "SELECT CASE WHEN customer_id % 7 = 0 THEN NULL ELSE customer_id END AS k,
                customer_id % 3 AS c,
                count(*) FILTER (WHERE amount >= 0 AND order_ts < DATE '2025-01-01') AS frequency,
                count(*) FILTER (WHERE amount > 20) AS n
         FROM t GROUP BY 1, 2
         ORDER BY k NULLS FIRST, c",
    )
    .await;
    assert_eq!(ours, reference);
    // The NULL customer's three rows come first (NULL prints as blank).
    assert!(
        ours.lines()
            .nth(3)
            .is_some_and(|l| l.starts_with("|     | 0 |")),
        "{ours}"
    );
}

#[tokio::test]
async fn the_output_keeps_the_hash_partitioning_a_join_relies_on() {
    let ctx = session().await;
    // Both sides hash-partitioned on customer_id: a partitioned hash join that finds every
    // customer on both sides only if the radix output is partitioned as DataFusion's.
    ctx.sql("SET datafusion.optimizer.hash_join_single_partition_threshold = 0")
        .await
        .unwrap();
    ctx.sql("SET datafusion.optimizer.hash_join_single_partition_threshold_rows = 0")
        .await
        .unwrap();
    let sql = "SELECT count(*) AS n, sum(a.r['frequency'] - b.f) AS diff
               FROM (SELECT customer_id, rfm(order_ts, amount, DATE '2025-01-01') AS r
                     FROM t GROUP BY customer_id) a
               JOIN (SELECT customer_id, count(*) FILTER (WHERE amount >= 0) AS f
                     FROM t GROUP BY customer_id) b
               ON a.customer_id = b.customer_id";
    let plan = query_text(&ctx, &format!("EXPLAIN {sql}")).await;
    assert!(plan.contains("mode=Partitioned"), "{plan}");
    assert!(plan.contains("RadixAggregateExec"), "{plan}");
    let answer = query_text(&ctx, sql).await;
    assert!(answer.contains("| 101 | 0    |"), "{answer}");
}

fn spilled(plan: &Arc<dyn ExecutionPlan>) -> bool {
    plan.metrics()
        .and_then(|m| m.spill_count())
        .is_some_and(|n| n > 0)
        || plan.children().into_iter().any(spilled)
}

#[tokio::test]
async fn under_a_memory_limit_the_rows_spill_and_the_answer_stays() {
    let rows = "CREATE TABLE t AS
        SELECT value % 5003 AS customer_id,
               CAST(to_timestamp_seconds(1704067200 + value * 157) AS TIMESTAMP) AS order_ts,
               CASE WHEN value % 11 = 0 THEN -5.0 ELSE (value % 13) * 3.5 END AS amount
        FROM range(300000)";
    let sql = "SELECT sum(r['frequency']) AS f, sum(r['purchase_days']) AS d, count(*) AS n
               FROM (SELECT customer_id, rfm(order_ts, amount, DATE '2025-01-01') AS r
                     FROM t GROUP BY customer_id)";
    let unlimited = two_partition_session_with(rows).await;
    let expected = query_text(&unlimited, sql).await;
    assert!(expected.contains("| 5003 |"), "{expected}");

    let limited = seglake::SeglakeBuilder::new()
        .target_partitions(2)
        .memory_limit(3 << 20)
        .build()
        .await
        .unwrap();
    limited.sql(rows).await.unwrap().collect().await.unwrap();
    let plan = limited
        .sql(sql)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let batches = collect(Arc::clone(&plan), limited.task_ctx())
        .await
        .unwrap();
    let answer = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    assert_eq!(answer, expected);
    assert!(spilled(&plan), "the radix partitions spilled under 3 MiB");
}

/// Keys and amounts that only partly fit the radix node's compact storage (keys below 2^32
/// kept in 4 bytes, amounts in whole cents as cents): keys above 2^32, amounts in thousandths,
/// `-0.0` and NULL amounts in some 256-row batches only, so radix partitions hold compact and
/// wide batches side by side, and switch between them.
const MIXED: &str = "CREATE TABLE t AS
    SELECT CASE WHEN value BETWEEN 1000 AND 1299 THEN value % 101 + 5000000000
                ELSE value % 101 END AS customer_id,
           CAST(to_timestamp_seconds(1704067200 + value * 10512) AS TIMESTAMP) AS order_ts,
           CASE WHEN value BETWEEN 2000 AND 2255 THEN value * 0.001
                WHEN value BETWEEN 500 AND 530 THEN -0.0
                WHEN value BETWEEN 2600 AND 2700 THEN NULL
                ELSE (value % 13) * 3.5 - 0.01 END AS amount
    FROM range(3000)";

const MIXED_FIELDS: &str = "SELECT customer_id, r['frequency'] AS frequency,
        r['purchase_days'] AS days, r['monetary'] AS monetary,
        r['first_purchase'] AS first_purchase, r['last_purchase'] AS last_purchase
     FROM (SELECT customer_id, rfm(order_ts, amount, DATE '2025-01-01') AS r
           FROM t GROUP BY customer_id)
     ORDER BY customer_id";

#[tokio::test]
async fn rows_held_compact_and_wide_aggregate_as_datafusion_does() {
    let ours = two_partition_session().await;
    ours.sql("SET datafusion.execution.batch_size = 256")
        .await
        .unwrap();
    ours.sql(MIXED).await.unwrap().collect().await.unwrap();
    assert_eq!(aggregations(&ours, MIXED_FIELDS).await, ["Radix"]);

    // DataFusion's own two-phase plan of the same function: rfm's sum is exact, so the order
    // rows arrive in cannot change a digit.
    let reference = datafusion_session(SessionConfig::new().with_batch_size(256));
    reference.sql(MIXED).await.unwrap().collect().await.unwrap();
    assert_eq!(
        aggregations(&reference, MIXED_FIELDS).await,
        ["FinalPartitioned", "Partial"]
    );

    let answer = query_text(&ours, MIXED_FIELDS).await;
    assert_eq!(answer, query_text(&reference, MIXED_FIELDS).await);
    // Both kinds of key came through: 101 small ones and the large ones of rows 1000-1299.
    assert!(answer.contains("| 5000000000 "), "{answer}");
    assert_eq!(answer.lines().count(), 4 + 101 + 101, "{answer}");
}

/// The same answers as DataFusion's plan over Parquet files, whose statistics give the key's
/// range, so the radix node splits output partitions by ranges of key values and numbers each
/// one's groups by key (dense keys); with NULL keys, negative keys and keys too far apart for
/// dense numbering too, and a log in customer order, whose batches put all their rows in one
/// key range.
#[tokio::test]
async fn parquet_keys_split_by_value_ranges_aggregate_as_datafusion_does() {
    let dir = tempfile::tempdir().unwrap();
    let keys = [
        ("dense", "value % 1009 + 1", 6000, 1009),
        ("negative", "value % 613 - 300", 6000, 613),
        (
            "nulls",
            "CASE WHEN value % 17 = 0 THEN NULL ELSE value % 401 END",
            6000,
            402,
        ),
        ("sparse", "(value % 211) * 1000000007", 6000, 211),
        ("customer_order", "value / 9000", 20000, 3),
    ];
    for (name, key, rows, groups) in keys {
        let folder = format!("{}/{name}", dir.path().display());
        let write = SessionContext::new();
        write
            .sql(&format!(
                "COPY (SELECT {key} AS customer_id,
                        CAST(to_timestamp_seconds(1704067200 + value * 5101) AS TIMESTAMP) AS order_ts,
                        CASE WHEN value % 11 = 0 THEN -5.0 ELSE (value % 13) * 3.5 - 0.01 END AS amount
                      FROM range({rows}))
                 TO '{folder}/' STORED AS PARQUET"
            ))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let table = format!("CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION '{folder}/'");
        let ours = two_partition_session_with(&table).await;
        assert_eq!(aggregations(&ours, MIXED_FIELDS).await, ["Radix"], "{name}");
        let reference = datafusion_session(SessionConfig::new());
        reference
            .sql(&table)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let answer = query_text(&ours, MIXED_FIELDS).await;
        assert_eq!(answer, query_text(&reference, MIXED_FIELDS).await, "{name}");
        assert_eq!(answer.lines().count(), 4 + groups, "{name}: {answer}");
    }
}
