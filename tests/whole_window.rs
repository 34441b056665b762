//! Window functions over the whole input (`rfm_score(...) OVER ()`, `value_tier(...) OVER ()`)
//! run in `WholeWindowExec` (planned by the rule `whole_window`), which concatenates only
//! their arguments: the same rows and values as DataFusion's `WindowAggExec`, over many small
//! batches from two partitions; every other window keeps DataFusion's plan.

mod common;

use common::query_text;

use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

/// 1,000 customers with recency, frequency and monetary values full of ties, some NULL.
const CUSTOMERS: &str = "CREATE TABLE c AS
    SELECT value AS id,
           CAST((value * 37) % 365 AS DOUBLE) AS r,
           CASE WHEN value % 97 = 0 THEN NULL ELSE CAST(1 + value % 9 AS DOUBLE) END AS f,
           CAST((value * 7919) % 1013 AS DOUBLE) / 4.0 AS m
    FROM range(1000)";

/// A session with seglake's functions, 2 partitions and 64-row batches; with seglake's
/// physical optimizer rules, or with DataFusion's alone.
async fn session(ours: bool) -> SessionContext {
    let config = SessionConfig::new()
        .with_target_partitions(2)
        .with_batch_size(64);
    let mut state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features();
    if ours {
        state = state.with_physical_optimizer_rules(seglake_udfs::physical_optimizer_rules());
    }
    let ctx = SessionContext::new_with_state(state.build());
    seglake_udfs::register_all(&ctx).unwrap();
    ctx.sql(CUSTOMERS).await.unwrap().collect().await.unwrap();
    ctx
}

async fn physical_plan(ctx: &SessionContext, sql: &str) -> String {
    let plan = query_text(ctx, &format!("EXPLAIN {sql}")).await;
    plan.split("physical_plan")
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

/// Scores and tiers of every customer, read from a subquery so that its rows arrive in
/// batches from both partitions.
const SCORES: &str = "SELECT id, s['r'] AS r, s['f'] AS f, s['m'] AS m, s['code'] AS code, tier
    FROM (SELECT id, rfm_score(r, f, m, 5) OVER () AS s, value_tier(m) OVER () AS tier
          FROM c WHERE id % 3 <> 1)
    ORDER BY id";

#[tokio::test]
async fn whole_input_windows_equal_datafusion_s() {
    let (ours, theirs) = (session(true).await, session(false).await);
    let plan = physical_plan(&ours, SCORES).await;
    assert!(plan.contains("WholeWindowExec"), "{plan}");
    assert!(!plan.contains("WindowAggExec"), "{plan}");
    let expected = query_text(&theirs, SCORES).await;
    assert!(
        physical_plan(&theirs, SCORES)
            .await
            .contains("WindowAggExec"),
        "the comparison must run DataFusion's node"
    );
    let got = query_text(&ours, SCORES).await;
    assert_eq!(got, expected);
    // 667 customers, all scored.
    assert_eq!(got.lines().count(), 667 + 4, "{got}");
    // No rows: no output, as DataFusion.
    let empty = "SELECT id, rfm_score(r, f, m, 5) OVER () FROM c WHERE id < 0";
    assert_eq!(
        query_text(&ours, empty).await,
        query_text(&theirs, empty).await
    );
}

#[tokio::test]
async fn other_windows_keep_datafusion_s_plan() {
    let ctx = session(true).await;
    for sql in [
        // An aggregate over the whole input, a rank, a partitioned score.
        "SELECT id, sum(m) OVER () FROM c",
        "SELECT id, rank() OVER (ORDER BY m) FROM c",
        "SELECT id, rfm_score(r, f, m, 5) OVER (PARTITION BY id % 2) FROM c",
    ] {
        let plan = physical_plan(&ctx, sql).await;
        assert!(!plan.contains("WholeWindowExec"), "{sql}: {plan}");
    }
}
