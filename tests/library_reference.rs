//! The saved query library against independent DuckDB SQL over the same generated lake.
//! Fixtures and the script that made them: `tests/reference/library/`,
//! `tests/reference/make_library_reference.py` (which names the lake and the parameters).

use std::sync::OnceLock;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::{CsvReadOptions, SessionContext};
use seglake::SeglakeBuilder;
use seglake::generate::{GenOptions, generate};
use seglake::library::{Library, bind};
use tempfile::TempDir;

const REFERENCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/library");

/// The lake of the fixtures, generated once for all tests of this file.
fn lake() -> &'static str {
    static LAKE: OnceLock<(TempDir, String)> = OnceLock::new();
    &LAKE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("a temporary folder");
            let mut options = GenOptions::new(2000, dir.path());
            options.seed = 42;
            options.quiet = true;
            generate(&options).expect("the lake generates");
            let path = dir.path().display().to_string();
            (dir, path)
        })
        .1
}

/// Every cell as text (NULL as None), with the column names.
fn cells(batches: &[RecordBatch]) -> (Vec<String>, Vec<Vec<Option<String>>>) {
    let names = batches
        .first()
        .map(|b| {
            b.schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect()
        })
        .unwrap_or_default();
    let mut rows = Vec::new();
    for batch in batches {
        let columns: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| cast(c, &DataType::Utf8).expect("printable"))
            .collect();
        for i in 0..batch.num_rows() {
            rows.push(
                columns
                    .iter()
                    .map(|c| {
                        c.is_valid(i)
                            .then(|| c.as_string::<i32>().value(i).to_string())
                    })
                    .collect(),
            );
        }
    }
    (names, rows)
}

/// Runs saved query `name` with `params` and checks it against its DuckDB fixture: the same
/// columns and rows in the same order, numbers within 1e-9 relative.
async fn check(name: &str, params: &[(&str, &str)]) {
    check_with(name, params, &[]).await;
}

/// How a column is compared when not to 1e-9.
#[derive(Clone, Copy)]
enum Expect {
    /// Within this relative tolerance.
    Within(f64),
    /// NULL in every row, whatever the fixture says.
    Null,
}

/// As [`check`], with other expectations for some columns.
async fn check_with(name: &str, params: &[(&str, &str)], expectations: &[(&str, Expect)]) {
    let ctx = SeglakeBuilder::new()
        .lake(lake())
        .build()
        .await
        .expect("a session");
    let library = Library::load(&[]).expect("the library");
    let given: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let ours = bind(&ctx, library.get(name).expect("a built-in query"), &given)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let reference = SessionContext::new()
        .read_csv(format!("{REFERENCE}/{name}.csv"), CsvReadOptions::new())
        .await
        .expect("the fixture reads")
        .collect()
        .await
        .expect("the fixture reads");
    let (our_names, our_rows) = cells(&ours);
    let (names, rows) = cells(&reference);
    assert_eq!(our_names, names, "{name}: columns");
    assert_eq!(our_rows.len(), rows.len(), "{name}: rows");
    for (r, (ours, theirs)) in our_rows.iter().zip(&rows).enumerate() {
        for ((column, ours), theirs) in names.iter().zip(ours).zip(theirs) {
            let expect = expectations
                .iter()
                .find(|(c, _)| c == column)
                .map_or(Expect::Within(1e-9), |(_, e)| *e);
            let tolerance = match expect {
                Expect::Within(tolerance) => tolerance,
                Expect::Null => {
                    assert_eq!(ours, &None, "{name} row {r} {column}: expected NULL");
                    continue;
                }
            };
            let same = match (ours, theirs) {
                (Some(a), Some(b)) => match (a.parse::<f64>(), b.parse::<f64>()) {
                    (Ok(x), Ok(y)) => (x - y).abs() <= tolerance * y.abs().max(1.0),
                    _ => a == b,
                },
                (a, b) => a == b,
            };
            assert!(
                same,
                "{name} row {r} {column}: seglake {ours:?}, DuckDB {theirs:?}"
            );
        }
    }
}

#[tokio::test]
async fn cohort_retention() {
    check("retention", &[("as_of", "2024-01-01")]).await;
}

#[tokio::test]
async fn churn_rate() {
    check("churn_rate", &[]).await;
}

#[tokio::test]
async fn purchase_frequency() {
    check("purchase_frequency", &[]).await;
}

#[tokio::test]
async fn average_order_value() {
    check("average_order_value", &[]).await;
}

#[tokio::test]
async fn gross_margin() {
    check("gross_margin", &[]).await;
}

#[tokio::test]
async fn romi_by_campaign() {
    check("romi_by_campaign", &[]).await;
}

#[tokio::test]
async fn response_and_conversion_rates() {
    check("response_and_conversion_rates", &[]).await;
}

#[tokio::test]
async fn nps_by_segment() {
    check("nps_by_segment", &[]).await;
}

#[tokio::test]
async fn satisfaction_by_segment() {
    check("satisfaction_by_segment", &[]).await;
}

#[tokio::test]
async fn engagement_by_segment() {
    check("engagement_by_segment", &[]).await;
}

#[tokio::test]
async fn touchpoints() {
    check("touchpoints", &[]).await;
}

#[tokio::test]
async fn segment_contribution() {
    check("segment_contribution", &[]).await;
}

#[tokio::test]
async fn kpi_dashboard() {
    // The CLV columns come from lifetimes' own fits, which agree with ours to the optimisers'
    // tolerance; the same parameters give the same CLV to 1e-6 (tests/clv_reference.rs). The
    // dominant k-means cluster of each segment must be scikit-learn's.
    check_with(
        "kpi_dashboard",
        &[],
        &[
            ("total_cltv", Expect::Within(1e-5)),
            ("mean_cltv", Expect::Within(1e-5)),
            // scikit-learn's clusters: the same local minimum is not guaranteed (k-means has
            // many), so a few boundary customers may sit in a neighbouring cluster.
            ("kmeans_cluster_share", Expect::Within(0.03)),
        ],
    )
    .await;
}

#[tokio::test]
async fn kpi_dashboard_without_models() {
    check_with(
        "kpi_dashboard",
        &[("models", "false")],
        &[
            ("total_cltv", Expect::Null),
            ("mean_cltv", Expect::Null),
            ("kmeans_cluster", Expect::Null),
            ("kmeans_cluster_share", Expect::Null),
        ],
    )
    .await;
}

#[tokio::test]
async fn segment_migration() {
    check("segment_migration", &[]).await;
}

#[tokio::test]
async fn lifecycle_migration() {
    check("lifecycle_migration", &[]).await;
}

#[tokio::test]
async fn segment_overlap() {
    check("segment_overlap", &[]).await;
}

#[tokio::test]
async fn demographic_profile() {
    check("demographic_profile", &[]).await;
}

#[tokio::test]
async fn geographic_profile() {
    check("geographic_profile", &[]).await;
}

#[tokio::test]
async fn psychographic_profile() {
    check("psychographic_profile", &[]).await;
}

#[tokio::test]
async fn segment_trend() {
    check("segment_trend", &[]).await;
}

#[tokio::test]
async fn overview() {
    check("overview", &[]).await;
}

#[tokio::test]
async fn revenue_concentration() {
    check("revenue_concentration", &[]).await;
}

#[tokio::test]
async fn rfm_grid() {
    check("rfm_grid", &[]).await;
}

#[tokio::test]
async fn cltv_distribution() {
    // lifetimes' own fits agree with ours to the optimisers' tolerance (see kpi_dashboard).
    let cltv = Expect::Within(1e-5);
    check_with(
        "cltv_distribution",
        &[],
        &[
            ("min_cltv", cltv),
            ("p05_cltv", cltv),
            ("p25_cltv", cltv),
            ("median_cltv", cltv),
            ("p75_cltv", cltv),
            ("p95_cltv", cltv),
            ("max_cltv", cltv),
            ("mean_cltv", cltv),
            ("total_cltv", cltv),
        ],
    )
    .await;
}

#[tokio::test]
async fn alive_matrix() {
    // lifetimes' BG/NBD fit on the same weekly summary, evaluated over the same grid.
    check_with(
        "alive_matrix",
        &[],
        &[
            ("p_alive", Expect::Within(1e-5)),
            ("expected_purchases", Expect::Within(1e-5)),
        ],
    )
    .await;
}
