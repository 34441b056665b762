//! `rfm` drops its distinct-day sets only when no part of a query reads `purchase_days` (the
//! optimizer rule `skip_unread_purchase_days`), and answers the same either way.

mod common;

use common::{query_text, two_partition_session_with};

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::prelude::{SessionConfig, SessionContext};
use seglake_udfs::register_functions;
use seglake_udfs::rfm::Rfm;

/// 2,000 purchases and refunds of 37 customers over a year, interleaved in time, some on the
/// same day.
const TRANSACTIONS: &str = "CREATE TABLE t AS
    SELECT value % 37 AS customer_id,
           CAST(to_timestamp_seconds(1704067200 + (value * 7919) % 31536000) AS TIMESTAMP)
             AS order_ts,
           CASE WHEN value % 11 = 0 THEN -5.0 ELSE (value % 13) * 3.5 END AS amount
    FROM range(2000)";

/// The RFM segments query's shape: the struct goes through a CTE alias and a window.
const SEGMENTS: &str = "WITH customer_rfm AS (
      SELECT customer_id, rfm(order_ts, amount, DATE '2025-01-01') AS v FROM t GROUP BY customer_id
    ), scored AS (
      SELECT customer_id, v,
             rfm_score(v['recency_days'], v['frequency'], v['monetary']) OVER () AS s
      FROM customer_rfm WHERE v['frequency'] > 0
    )
    SELECT customer_id, v['recency_days'] AS recency_days, v['monetary'] AS monetary,
           v['first_purchase'] AS first_purchase, s['code'] AS code,
           rfm_segment(s['r'], s['f'], s['m']) AS segment
    FROM scored ORDER BY customer_id";

async fn session() -> SessionContext {
    two_partition_session_with(TRANSACTIONS).await
}

/// A session with seglake's functions but without the rule.
async fn session_without_rule() -> SessionContext {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
    register_functions(&ctx).unwrap();
    with_transactions(ctx).await
}

async fn with_transactions(ctx: SessionContext) -> SessionContext {
    ctx.sql(TRANSACTIONS)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    ctx
}

/// For each `rfm` in the optimized plan of `sql`, whether it counts purchase days.
async fn counts_days(ctx: &SessionContext, sql: &str) -> Vec<bool> {
    let plan = ctx.sql(sql).await.unwrap().into_optimized_plan().unwrap();
    let mut found = vec![];
    plan.apply_with_subqueries(|node: &LogicalPlan| {
        if let LogicalPlan::Aggregate(aggregate) = node {
            for expr in &aggregate.aggr_expr {
                expr.apply(|e| {
                    if let Expr::AggregateFunction(f) = e
                        && let Some(rfm) = f.func.inner().downcast_ref::<Rfm>()
                    {
                        found.push(rfm.counts_purchase_days());
                    }
                    Ok(TreeNodeRecursion::Continue)
                })?;
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .unwrap();
    found
}

#[tokio::test]
async fn queries_that_never_read_purchase_days_skip_the_day_sets() {
    let ctx = session().await;
    assert_eq!(counts_days(&ctx, SEGMENTS).await, [false]);
    let renamed = "WITH a AS (SELECT customer_id, rfm(order_ts, amount, DATE '2025-01-01') AS v
                                FROM t GROUP BY customer_id),
                        b AS (SELECT customer_id, v AS w FROM a)
                   SELECT sum(w['frequency']) FROM b";
    assert_eq!(counts_days(&ctx, renamed).await, [false]);
    let no_group = "SELECT rfm(order_ts, amount, DATE '2025-01-01')['monetary'] FROM t";
    assert_eq!(counts_days(&ctx, no_group).await, [false]);
}

#[tokio::test]
async fn any_read_of_purchase_days_or_of_the_whole_struct_keeps_the_day_sets() {
    let ctx = session().await;
    let rfm = "SELECT customer_id, rfm(order_ts, amount, DATE '2025-01-01') AS v
               FROM t GROUP BY customer_id";
    // (query, whether its rfm must count purchase days)
    for (outer, keeps) in [
        ("SELECT v['purchase_days'] FROM ({rfm})", true),
        ("SELECT customer_id, v FROM ({rfm})", true),
        ("SELECT DISTINCT v FROM ({rfm})", true),
        ("SELECT count(*) FROM ({rfm}) GROUP BY v", true),
        (
            "SELECT CASE WHEN customer_id > 3 THEN v END FROM ({rfm})",
            true,
        ),
        (
            "SELECT w['purchase_days'] FROM (SELECT v AS w FROM ({rfm}))",
            true,
        ),
        (
            "SELECT customer_id FROM ({rfm}) r WHERE r.v['purchase_days'] > 2",
            true,
        ),
        (
            "SELECT count(*) FROM ({rfm}) a JOIN ({rfm}) b ON a.v = b.v",
            true,
        ),
        (
            "SELECT v['frequency'] FROM ({rfm}) UNION ALL SELECT v['purchase_days'] FROM ({rfm})",
            true,
        ),
        // DataFusion pushes the field access into both branches: nothing reads the days.
        (
            "SELECT x['frequency'] FROM (SELECT v AS x FROM ({rfm}) UNION ALL SELECT v FROM ({rfm}))",
            false,
        ),
        (
            "SELECT v['frequency'] FROM ({rfm}) UNION ALL SELECT 1",
            false,
        ),
    ] {
        let sql = outer.replace("{rfm}", rfm);
        let found = counts_days(&ctx, &sql).await;
        assert!(!found.is_empty(), "{sql}");
        assert!(
            found.iter().all(|&counts| counts == keeps),
            "{sql}: {found:?}"
        );
    }
}

#[tokio::test]
async fn answers_are_the_same_with_and_without_the_rule() {
    let with_rule = session().await;
    let without = session_without_rule().await;
    assert_eq!(counts_days(&without, SEGMENTS).await, [true]);
    assert_eq!(
        query_text(&with_rule, SEGMENTS).await,
        query_text(&without, SEGMENTS).await
    );
    let days = "SELECT customer_id, rfm(order_ts, amount, DATE '2025-01-01')['purchase_days'] AS d
                FROM t GROUP BY customer_id ORDER BY customer_id";
    assert_eq!(
        query_text(&with_rule, days).await,
        query_text(&without, days).await
    );
    // Every customer bought on more than one day: the days were counted, not zeroed.
    let fewest = "SELECT min(d) FROM (SELECT rfm(order_ts, amount, DATE '2025-01-01')
                    ['purchase_days'] AS d FROM t GROUP BY customer_id)";
    assert!(!query_text(&with_rule, fewest).await.contains("| 0 "));
}
