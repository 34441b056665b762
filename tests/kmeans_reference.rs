//! The k-means family against scikit-learn 1.9.1 on the CDNOW customers and on a generated
//! lake's customers. Fixtures and the script that made them: `tests/reference/`
//! (`make_kmeans_reference.py`).

use std::collections::HashMap;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::prelude::{CsvReadOptions, SessionContext};
use seglake::SeglakeBuilder;
use seglake_udfs::math::kmeans::lloyd::lloyd;
use seglake_udfs::math::kmeans::quality::{adjusted_rand_index, davies_bouldin, silhouette};
use seglake_udfs::math::kmeans::{Points, Scaling};

const REFERENCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference");

/// The features of each dataset, as SQL over its table, in the script's order.
const CDNOW: &str = "make_array(frequency, recency, monetary_value)";
const GENERATED: &str = "make_array(age, ln(1 + frequency), ln(1 + avg_order_value))";
const CDNOW_RFM: &str =
    "make_array(ln(1 + recency_days), ln(1 + frequency), ln(1 + greatest(monetary, 0)))";

/// Every dataset of the fixtures: its name there, its table and its features.
const DATASETS: [(&str, &str, &str); 3] = [
    ("cdnow", "cdnow", CDNOW),
    ("cdnow_rfm", "rfm_cdnow", CDNOW_RFM),
    ("generated", "generated", GENERATED),
];

async fn session(partitions: usize) -> SessionContext {
    let ctx = SeglakeBuilder::new()
        .target_partitions(partitions)
        .build()
        .await
        .expect("a session");
    for (name, file) in [
        ("cdnow_raw", "cdnow_summary_weeks.csv"),
        ("generated", "kmeans_generated_features.csv"),
        ("rfm_cdnow", "rfm_cdnow.csv"),
        ("transactions_raw", "cdnow_sample_transactions.csv"),
        ("segments_ref", "kmeans_segments_cdnow.csv"),
        ("inertia_ref", "kmeans_inertia.csv"),
        ("lloyd_ref", "kmeans_lloyd_summary.csv"),
        ("labels_ref", "kmeans_lloyd_labels.csv"),
    ] {
        ctx.register_csv(name, format!("{REFERENCE}/{file}"), CsvReadOptions::new())
            .await
            .expect("the fixture reads");
    }
    for view in [
        "CREATE VIEW cdnow AS SELECT * FROM cdnow_raw WHERE customer_id < 100000",
        "CREATE VIEW cdnow_tx AS \
         SELECT customer_id, CAST(date AS TIMESTAMP) AS order_ts, amount FROM transactions_raw",
    ] {
        ctx.sql(view).await.expect("the view");
    }
    ctx
}

async fn batches(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    ctx.sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{sql}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{e}\n{sql}"))
}

/// Every value of column `c` of the result, as f64.
async fn column(ctx: &SessionContext, sql: &str, c: usize) -> Vec<f64> {
    batches(ctx, sql)
        .await
        .iter()
        .flat_map(|b| {
            let values = cast(b.column(c), &DataType::Float64).expect("a number column");
            values.as_primitive::<Float64Type>().values().to_vec()
        })
        .collect()
}

/// Every value of column `c` of the result, as text.
async fn strings(ctx: &SessionContext, sql: &str, c: usize) -> Vec<String> {
    batches(ctx, sql)
        .await
        .iter()
        .flat_map(|b| {
            let values = cast(b.column(c), &DataType::Utf8).expect("a text column");
            let values = values.as_string::<i32>();
            (0..values.len())
                .map(|i| values.value(i).to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Fits for k = 2..8 at once, as the elbow query does: one group per k.
async fn inertias_by_k(ctx: &SessionContext, table: &str, features: &str) -> Vec<f64> {
    let sql = format!(
        "SELECT k, kmeans_fit({features}, k)['inertia'] FROM {table} \
         CROSS JOIN (SELECT unnest(range(2, 9)) AS k) GROUP BY k ORDER BY k"
    );
    column(ctx, &sql, 1).await
}

#[tokio::test]
async fn fits_are_as_good_as_scikit_learn() {
    let ctx = session(2).await;
    for (dataset, table, features) in DATASETS {
        let reference = column(
            &ctx,
            &format!("SELECT inertia FROM inertia_ref WHERE dataset = '{dataset}' ORDER BY k"),
            0,
        )
        .await;
        let ours = inertias_by_k(&ctx, table, features).await;
        assert_eq!(ours.len(), reference.len());
        for (k, (ours, sklearn)) in (2..).zip(ours.iter().zip(&reference)) {
            let excess = (ours - sklearn) / sklearn;
            println!(
                "{dataset} k={k}: inertia {ours:.6} vs scikit-learn {sklearn:.6} ({excess:+.2e})"
            );
            assert!(excess <= 1e-3, "{dataset} k={k}: {ours} vs {sklearn}");
        }
    }
}

/// The standardized rows of a dataset, in file order, as scikit-learn's StandardScaler makes
/// them.
async fn standardized(ctx: &SessionContext, table: &str, features: &str) -> Points {
    let sql = format!(
        "SELECT f[1], f[2], f[3] FROM (SELECT customer_id, {features} AS f FROM {table}) \
         ORDER BY customer_id"
    );
    let columns = [
        column(ctx, &sql, 0).await,
        column(ctx, &sql, 1).await,
        column(ctx, &sql, 2).await,
    ];
    let values = (0..columns[0].len())
        .flat_map(|i| columns.iter().map(move |c| c[i]))
        .collect();
    let points = Points::unweighted(values, 3);
    let scaling = Scaling::standardize(&points);
    points.scaled(&scaling)
}

#[tokio::test]
async fn lloyd_from_fixed_centres_reproduces_scikit_learn() {
    let ctx = session(2).await;
    for (dataset, table, features) in DATASETS {
        let points = standardized(&ctx, table, features).await;
        for k in [4, 5] {
            let filter = format!("dataset = '{dataset}' AND k = {k}");
            let summary = format!(
                "SELECT inertia, iterations, silhouette, davies_bouldin FROM lloyd_ref WHERE {filter}"
            );
            let mut values = Vec::new();
            for c in 0..4 {
                values.push(column(&ctx, &summary, c).await[0]);
            }
            let [inertia, iterations, silhouette_ref, davies_bouldin_ref] = values[..] else {
                panic!("{dataset} k={k}: no reference row");
            };
            let rows = strings(
                &ctx,
                &format!("SELECT init_rows FROM lloyd_ref WHERE {filter}"),
                0,
            )
            .await;
            let start: Vec<f64> = rows[0]
                .split(';')
                .flat_map(|r| points.row(r.parse().expect("a row number")).to_vec())
                .collect();
            let labels: Vec<u32> = column(
                &ctx,
                &format!("SELECT label FROM labels_ref WHERE {filter} ORDER BY row"),
                0,
            )
            .await
            .into_iter()
            .map(|l| l as u32)
            .collect();

            let run = lloyd(&points, start, 300, 0.0, 2);
            let context = format!("{dataset} k={k}");
            assert_eq!(
                run.labels, labels,
                "{context}: every label as scikit-learn's"
            );
            assert_eq!(
                f64::from(run.iterations),
                iterations,
                "{context}: iterations"
            );
            let relative = |ours: f64, reference: f64| ((ours - reference) / reference).abs();
            assert!(
                relative(run.inertia, inertia) < 1e-6,
                "{context}: {} vs {inertia}",
                run.inertia
            );
            let s = silhouette(&points, &labels).expect("a silhouette");
            assert!(
                relative(s, silhouette_ref) < 1e-9,
                "{context}: {s} vs {silhouette_ref}"
            );
            let db = davies_bouldin(&points, &labels).expect("an index");
            assert!(
                relative(db, davies_bouldin_ref) < 1e-9,
                "{context}: Davies-Bouldin {db} vs {davies_bouldin_ref}"
            );
        }
    }
}

#[tokio::test]
async fn personas_of_a_generated_lake_are_recovered_above_chance() {
    let ctx = session(2).await;
    let sql = format!(
        "WITH m AS (SELECT kmeans_fit({GENERATED}, 5) AS model FROM generated) \
         SELECT persona, kmeans_assign(model, {GENERATED}) FROM generated CROSS JOIN m \
         ORDER BY customer_id"
    );
    let personas = strings(&ctx, &sql, 0).await;
    let clusters = column(&ctx, &sql, 1).await;
    let mut ids: HashMap<String, u32> = HashMap::new();
    let truth: Vec<u32> = personas
        .iter()
        .map(|p| {
            let next = ids.len() as u32;
            *ids.entry(p.clone()).or_insert(next)
        })
        .collect();
    let found: Vec<u32> = clusters.iter().map(|&c| c as u32 - 1).collect();
    let ari = adjusted_rand_index(&truth, &found);
    let sklearn = column(
        &ctx,
        "SELECT ari FROM inertia_ref WHERE dataset = 'generated' AND k = 5",
        0,
    )
    .await[0];
    println!("adjusted Rand index against the personas: {ari:.4} (scikit-learn {sklearn:.4})");
    // Chance is 0; the personas overlap in these features, so about 0.18 is what k-means can do.
    assert!(ari > 0.1, "{ari}");
    assert!(ari > sklearn - 0.02, "{ari} vs scikit-learn's {sklearn}");
}

/// The model of `sql`'s single row, as text, to compare models exactly.
async fn model_text(ctx: &SessionContext, sql: &str) -> Vec<String> {
    let batches = batches(ctx, sql).await;
    datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .expect("printable")
        .to_string()
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn partitioning_and_partial_aggregation_do_not_change_the_model() {
    let sql = format!(
        "SELECT k, kmeans_fit({CDNOW}, k, named_struct('seed', 3, 'n_init', 4)) AS model \
         FROM cdnow CROSS JOIN (SELECT unnest(range(2, 6)) AS k) GROUP BY k ORDER BY k"
    );
    let one = model_text(&session(1).await, &sql).await;
    let four = model_text(&session(4).await, &sql).await;
    assert_eq!(one, four);
    // Skipping partial aggregation makes every row its own partial state (convert_to_state).
    let ctx = session(3).await;
    for setting in [
        "SET datafusion.execution.skip_partial_aggregation_probe_rows_threshold = 1",
        "SET datafusion.execution.skip_partial_aggregation_probe_ratio_threshold = 0.0",
        "SET datafusion.execution.batch_size = 100",
    ] {
        ctx.sql(setting).await.expect("a setting");
    }
    assert_eq!(model_text(&ctx, &sql).await, one);
}

#[tokio::test]
async fn a_model_stored_as_parquet_assigns_as_before() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("models").join("cdnow_k4.parquet");
    let path = path.to_str().expect("a UTF-8 path");
    let ctx = session(2).await;
    batches(
        &ctx,
        &format!("COPY (SELECT kmeans_fit({CDNOW}, 4) AS model FROM cdnow) TO '{path}'"),
    )
    .await;

    let later = session(2).await;
    later
        .register_parquet("stored", path, Default::default())
        .await
        .expect("the stored model reads");
    let assign = |models: &str| {
        format!(
            "SELECT customer_id, kmeans_assign(model, {CDNOW}) AS cluster, \
             kmeans_distances(model, {CDNOW}) AS distances FROM cdnow CROSS JOIN ({models}) \
             ORDER BY customer_id"
        )
    };
    let fresh = model_text(
        &ctx,
        &assign(&format!(
            "SELECT kmeans_fit({CDNOW}, 4) AS model FROM cdnow"
        )),
    )
    .await;
    let stored = model_text(&later, &assign("SELECT model FROM stored")).await;
    assert_eq!(fresh, stored);
    let sizes = batches(&later, "SELECT model['sizes'] FROM stored").await;
    let sizes = sizes[0].column(0).as_list::<i32>().value(0);
    let total: i64 = sizes.as_primitive::<Int64Type>().values().iter().sum();
    assert_eq!(total, 2357);
}

/// Runs a built-in saved query on the CDNOW transactions as of 1997-10-01.
async fn saved_query(ctx: &SessionContext, name: &str, extra: &[(&str, &str)]) {
    use seglake::library::{Library, bind};
    let library = Library::load(&[]).expect("the library");
    let given: Vec<(String, String)> = [("as_of", "1997-10-01"), ("transactions", "cdnow_tx")]
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let df = bind(ctx, library.get(name).expect("a built-in query"), &given)
        .await
        .expect("the query binds");
    ctx.register_table("result", df.into_view())
        .expect("the result registers");
}

#[tokio::test]
async fn saved_query_kmeans_elbow_is_as_good_as_scikit_learn() {
    let ctx = session(2).await;
    saved_query(&ctx, "kmeans_elbow", &[]).await;
    let sql = "SELECT o.k, o.inertia, r.inertia, o.customers, o.silhouette, o.davies_bouldin \
               FROM result o JOIN inertia_ref r ON r.dataset = 'cdnow_rfm' AND r.k = o.k \
               ORDER BY o.k";
    let ks = column(&ctx, sql, 0).await;
    assert_eq!(ks, vec![2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    let ours = column(&ctx, sql, 1).await;
    let sklearn = column(&ctx, sql, 2).await;
    for ((k, ours), sklearn) in ks.iter().zip(&ours).zip(&sklearn) {
        assert!(
            (ours - sklearn) / sklearn <= 1e-3,
            "k={k}: {ours} vs {sklearn}"
        );
    }
    assert!(column(&ctx, sql, 3).await.iter().all(|&c| c == 2357.0));
    assert!(
        column(&ctx, sql, 4)
            .await
            .iter()
            .all(|&s| s > 0.0 && s < 1.0)
    );
    assert!(column(&ctx, sql, 5).await.iter().all(|&d| d > 0.0));
}

#[tokio::test]
async fn saved_query_kmeans_segments_profiles_scikit_learns_clusters() {
    let ctx = session(2).await;
    saved_query(&ctx, "kmeans_segments", &[("k", "4")]).await;
    // Our fit lands in a local minimum 8e-5 above scikit-learn's here (k-means has many; the
    // elbow test bounds how much worse ours may be), so a few boundary customers sit in a
    // neighbouring cluster: sizes agree within 3%, profile means and shares within 5%.
    let sql = "SELECT count(*), \
                 max(abs(CAST(o.customers AS DOUBLE) / r.customers - 1)), \
                 max(greatest(abs(o.mean_recency_days / r.mean_recency_days - 1), \
                              abs(o.mean_frequency / r.mean_frequency - 1), \
                              abs(o.mean_monetary / r.mean_monetary - 1), \
                              abs(o.revenue_share / r.revenue_share - 1))), \
                 sum(o.customer_share), sum(o.customers), sum(o.revenue), \
                 (SELECT sum(monetary) FROM rfm_cdnow) \
               FROM result o JOIN segments_ref r USING (cluster)";
    let row: Vec<f64> = {
        let mut row = Vec::new();
        for c in 0..7 {
            row.push(column(&ctx, sql, c).await[0]);
        }
        row
    };
    println!(
        "kmeans_segments vs scikit-learn: sizes within {:.2e}, profile within {:.2e}",
        row[1], row[2]
    );
    assert_eq!(
        row[0], 4.0,
        "four clusters, numbered 1..4 by size as the fixture"
    );
    assert!(row[1] < 0.03, "sizes: {}", row[1]);
    assert!(row[2] < 0.05, "profile: {}", row[2]);
    assert!((row[3] - 1.0).abs() < 1e-12, "customer shares add up to 1");
    assert_eq!(row[4], 2357.0, "every customer with a purchase, once");
    assert!(
        (row[5] / row[6] - 1.0).abs() < 1e-12,
        "revenue: {} vs DuckDB's {}",
        row[5],
        row[6]
    );
}
