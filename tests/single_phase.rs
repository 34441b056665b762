//! `rfm` and `btyd_summary` per customer aggregate in one phase after repartitioning the rows
//! on the group keys (the physical optimizer rule `single_phase_per_customer`); other
//! aggregations keep DataFusion's two phases; the answers equal DataFusion's builtins.

mod common;

use common::{query_text, two_partition_session_with};

use datafusion::prelude::SessionContext;

/// 3,000 purchases and refunds of 101 customers over a year, interleaved in time as an
/// append-only log is, some on the same day.
const TRANSACTIONS: &str = "CREATE TABLE t AS
    SELECT value % 101 AS customer_id,
           CAST(to_timestamp_seconds(1704067200 + value * 10512) AS TIMESTAMP) AS order_ts,
           CASE WHEN value % 11 = 0 THEN -5.0 ELSE (value % 13) * 3.5 END AS amount
    FROM range(3000)";

async fn session() -> SessionContext {
    two_partition_session_with(TRANSACTIONS).await
}

/// The aggregation modes of the physical plan of `sql`, in plan order.
async fn modes(ctx: &SessionContext, sql: &str) -> Vec<String> {
    let plan = query_text(ctx, &format!("EXPLAIN {sql}")).await;
    plan.split("AggregateExec: mode=")
        .skip(1)
        .map(|rest| rest.split(',').next().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn per_customer_aggregates_run_in_one_phase() {
    let ctx = session().await;
    let rfm = "SELECT customer_id, rfm(order_ts, amount, DATE '2025-01-01') AS r
               FROM t GROUP BY customer_id";
    assert_eq!(modes(&ctx, rfm).await, ["SinglePartitioned"]);
    let summary = "SELECT customer_id, btyd_summary(order_ts, amount, DATE '2025-01-01', 'week')
                   FROM t WHERE amount > 0 GROUP BY customer_id";
    assert_eq!(modes(&ctx, summary).await, ["SinglePartitioned"]);
    // With builtins beside it, the whole aggregation runs in one phase.
    let mixed = "SELECT customer_id, rfm(order_ts, amount, DATE '2025-01-01'), sum(amount)
                 FROM t GROUP BY customer_id";
    assert_eq!(modes(&ctx, mixed).await, ["SinglePartitioned"]);
}

#[tokio::test]
async fn other_aggregations_keep_two_phases() {
    let ctx = session().await;
    let builtins = "SELECT customer_id, sum(amount) FROM t GROUP BY customer_id";
    assert_eq!(modes(&ctx, builtins).await, ["FinalPartitioned", "Partial"]);
    // rfm without its day sets (nothing reads purchase_days) has a light partial state.
    let light = "SELECT customer_id, r['frequency'] FROM (
                   SELECT customer_id, rfm(order_ts, amount, DATE '2025-01-01') AS r
                   FROM t GROUP BY customer_id)";
    assert_eq!(modes(&ctx, light).await, ["FinalPartitioned", "Partial"]);
    // Without GROUP BY there is no repartition to move the rows through.
    let overall = "SELECT rfm(order_ts, amount, DATE '2025-01-01') FROM t";
    assert_eq!(modes(&ctx, overall).await, ["Final", "Partial"]);
}

#[tokio::test]
async fn one_phase_answers_equal_the_builtins() {
    let ctx = session().await;
    let ours = query_text(
        &ctx,
        "SELECT customer_id, r['frequency'] AS frequency, r['purchase_days'] AS days,
                r['monetary'] AS monetary, r['last_purchase'] AS last_purchase
         FROM (SELECT customer_id, rfm(order_ts, amount, DATE '2025-01-01') AS r
               FROM t GROUP BY customer_id)
         ORDER BY customer_id",
    )
    .await;
    let reference = query_text(
        &ctx,
        "SELECT customer_id, count(*) FILTER (WHERE amount >= 0) AS frequency,
                count(DISTINCT CAST(order_ts AS DATE)) FILTER (WHERE amount >= 0) AS days,
                sum(amount) AS monetary,
                max(order_ts) FILTER (WHERE amount >= 0) AS last_purchase
         FROM t WHERE order_ts < DATE '2025-01-01' GROUP BY customer_id
         ORDER BY customer_id",
    )
    .await;
    assert_eq!(ours, reference);
    assert!(ours.lines().count() > 100, "{ours}");
}
