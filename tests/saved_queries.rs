//! The saved query library: each built-in query gives the expected result on the sample lake
//! with its parameters bound as typed values.

use datafusion::arrow::util::pretty::pretty_format_batches;
use seglake::SeglakeBuilder;
use seglake::library::{Library, bind};

const LAKE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/lake");

/// Runs a built-in saved query on the sample lake with its parameters bound as `seglake run`
/// binds them.
async fn run(name: &str, as_of: &str) -> String {
    let library = Library::load(&[]).unwrap();
    let query = library.get(name).unwrap();
    assert!(
        query
            .params_summary()
            .starts_with("as_of DATE = 2024-01-01"),
        "{name}"
    );
    let ctx = SeglakeBuilder::new().lake(LAKE).build().await.unwrap();
    let given = [("as_of".to_string(), as_of.to_string())];
    let batches = bind(&ctx, query, &given)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    pretty_format_batches(&batches).unwrap().to_string()
}

#[tokio::test]
async fn rfm_segments() {
    let table = run("rfm_segments", "2024-01-01").await;
    // Four customers bought before 2024-01-01 (customer 5 never did). Recency 108, 315, 8, 184
    // days scores r = 4, 2, 5, 3; frequencies 3, 1, 3, 1 share f = 5 and 3; monetary
    // 235.5, 0, 405, 42 scores 4, 2, 5, 3 (ceil(5 * k / 4)).
    let expected = "\
+-------------+--------------+-----------+----------+-----------------+---------------------+---------------------+---+---+---+----------+----------------+
| customer_id | recency_days | frequency | monetary | avg_order_value | first_purchase      | last_purchase       | r | f | m | rfm_code | segment        |
+-------------+--------------+-----------+----------+-----------------+---------------------+---------------------+---+---+---+----------+----------------+
| 1           | 108          | 3         | 235.5    | 78.5            | 2023-01-12T10:00:00 | 2023-09-15T16:00:00 | 4 | 5 | 4 | 454      | loyal          |
| 2           | 315          | 1         | 0.0      | 0.0             | 2023-02-20T09:00:00 | 2023-02-20T09:00:00 | 2 | 3 | 2 | 232      | at_risk        |
| 3           | 8            | 3         | 405.0    | 135.0           | 2023-03-05T13:00:00 | 2023-12-24T10:00:00 | 5 | 5 | 5 | 555      | champions      |
| 4           | 184          | 1         | 42.0     | 42.0            | 2023-07-01T20:00:00 | 2023-07-01T20:00:00 | 3 | 3 | 3 | 333      | need_attention |
+-------------+--------------+-----------+----------+-----------------+---------------------+---------------------+---+---+---+----------+----------------+";
    assert_eq!(table, expected);
}

#[tokio::test]
async fn rfm_segment_summary() {
    let table = run("rfm_segment_summary", "2024-01-01").await;
    // Revenue 405 + 235.5 + 42 + 0 = 682.5: champions hold 405 / 682.5 = 0.5934... Each rule is
    // the standard map's (see the map's definition in rfm_segment's documentation).
    let expected = "\
+----------------+--------------+-----------+----------------+---------+---------------------+-------------------+----------------+---------------+
| segment        | rule         | customers | customer_share | revenue | revenue_share       | mean_recency_days | mean_frequency | mean_monetary |
+----------------+--------------+-----------+----------------+---------+---------------------+-------------------+----------------+---------------+
| champions      | r 5, f 4-5   | 1         | 0.25           | 405.0   | 0.5934065934065934  | 8.0               | 3.0            | 405.0         |
| loyal          | r 3-4, f 4-5 | 1         | 0.25           | 235.5   | 0.34505494505494505 | 108.0             | 3.0            | 235.5         |
| need_attention | r 3, f 3     | 1         | 0.25           | 42.0    | 0.06153846153846154 | 184.0             | 1.0            | 42.0          |
| at_risk        | r 1-2, f 3-4 | 1         | 0.25           | 0.0     | 0.0                 | 315.0             | 1.0            | 0.0           |
+----------------+--------------+-----------+----------------+---------+---------------------+-------------------+----------------+---------------+";
    assert_eq!(table, expected);
}

#[tokio::test]
async fn table_parameters_do_not_change_the_callers_session() {
    let library = Library::load(&[]).unwrap();
    let query = library.get("rfm_segments").unwrap();
    let ctx = SeglakeBuilder::new().lake(LAKE).build().await.unwrap();
    ctx.sql("CREATE VIEW few AS SELECT * FROM transactions WHERE customer_id = 3")
        .await
        .unwrap();
    let given = [("transactions".to_string(), "few".to_string())];
    let batches = bind(&ctx, query, &given)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
    // The session's own `transactions` is still the whole table.
    let all = ctx
        .sql("SELECT count(*) FROM transactions")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(
        pretty_format_batches(&all)
            .unwrap()
            .to_string()
            .lines()
            .nth(3),
        Some("| 9        |")
    );
}

#[tokio::test]
async fn lifecycle_stages() {
    let table = run("lifecycle_stages", "2024-01-01").await;
    // By hand, as of 2024-01-01: customer 1 last bought 2023-09-15 (108 days: at_risk);
    // 2 on 2023-02-20 (315: churned); 3 on 2023-12-24 (8 days, first 2023-03-05, 3 purchases
    // and 405 spend in the year: active, not loyal); 4 on 2023-07-01 (184: churned); 5 never
    // bought (prospect).
    let expected = "\
+----------+-----------+-------+
| stage    | customers | share |
+----------+-----------+-------+
| prospect | 1         | 0.2   |
| active   | 1         | 0.2   |
| at_risk  | 1         | 0.2   |
| churned  | 2         | 0.4   |
+----------+-----------+-------+";
    assert_eq!(table, expected);
}

#[tokio::test]
async fn value_tiers() {
    // Spend before 2024-01-01: customer 3 405.0, 1 235.5, 4 42.0, 2 0.0 (a purchase and its
    // refund), 5 none; total 682.5. Customer 3 alone passes 50% (high); 1 has 59% above it
    // (medium); 4 has 94% above (low); 2 and 5 spent nothing (zero).
    let table = run("value_tiers", "2024-01-01").await;
    let expected = "\
+--------+-----------+----------------+---------+---------------------+
| tier   | customers | customer_share | revenue | revenue_share       |
+--------+-----------+----------------+---------+---------------------+
| high   | 1         | 0.2            | 405.0   | 0.5934065934065934  |
| medium | 1         | 0.2            | 235.5   | 0.34505494505494505 |
| low    | 1         | 0.2            | 42.0    | 0.06153846153846154 |
| zero   | 2         | 0.4            | 0.0     | 0.0                 |
+--------+-----------+----------------+---------+---------------------+";
    assert_eq!(table, expected);

    // With a 70% high share, customer 1 (59% above it) is high too.
    let library = Library::load(&[]).unwrap();
    let ctx = SeglakeBuilder::new().lake(LAKE).build().await.unwrap();
    let given = [("high_share".to_string(), "0.7".to_string())];
    let batches = bind(&ctx, library.get("value_tiers").unwrap(), &given)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let text = pretty_format_batches(&batches).unwrap().to_string();
    assert!(
        text.contains("| high | 2         | 0.4            | 640.5   |"),
        "{text}"
    );
}

/// A lake whose customers table lacks columns a query needs still lists the library (BI tools
/// browse it at connect time); reading that view gives the planning error.
#[tokio::test]
async fn library_views_list_on_any_lake() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    let ctx = datafusion::prelude::SessionContext::new();
    for sql in [
        format!("COPY (SELECT 1 AS customer_id, 'north' AS region) TO '{root}/customers.parquet'"),
        format!(
            "COPY (SELECT 1 AS order_id, 1 AS customer_id, TIMESTAMP '2023-05-01 10:00:00' AS \
             order_ts, 20.5 AS amount, 10.0 AS cost, 'web' AS channel, 'books' AS category) \
             TO '{root}/transactions.parquet'"
        ),
    ] {
        ctx.sql(&sql).await.unwrap().collect().await.unwrap();
    }
    let ctx = SeglakeBuilder::new().lake(&root).build().await.unwrap();
    let listed = ctx
        .sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'library' \
             AND table_name IN ('demographic_profile', 'rfm_segments', 'nps_by_segment') \
             ORDER BY 1",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let listed = pretty_format_batches(&listed).unwrap().to_string();
    // nps_by_segment needs a surveys table the lake lacks, so it is not offered.
    assert!(listed.contains("demographic_profile") && listed.contains("rfm_segments"));
    assert!(!listed.contains("nps_by_segment"), "{listed}");
    let err = ctx
        .sql("SELECT * FROM library.demographic_profile")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("query demographic_profile"), "{err}");
    assert!(err.contains("No field named c.signup_ts"), "{err}");
}
