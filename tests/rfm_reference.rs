//! The RFM family against reference libraries on the CDNOW sample (2,357 customers, 6,919
//! transactions). The fixtures and the script that made them are in `tests/reference/`:
//! lifetimes 0.11.3 for `btyd_summary`, DuckDB SQL with the documented rules for `rfm`,
//! `rfm_score` and `value_tier`.

mod common;

use common::{query_text, two_partition_session};

use datafusion::prelude::{CsvReadOptions, SessionContext};
use seglake::SeglakeBuilder;

const REFERENCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference");

async fn session() -> SessionContext {
    let ctx = two_partition_session().await;
    for (name, file) in [
        ("cdnow", "cdnow_sample_transactions.csv"),
        ("btyd_ref", "btyd_summary_cdnow.csv"),
        ("rfm_ref", "rfm_cdnow.csv"),
        ("holdout_day_ref", "btyd_holdout_cdnow_day.csv"),
        ("holdout_week_ref", "btyd_holdout_cdnow_week.csv"),
    ] {
        ctx.register_csv(name, format!("{REFERENCE}/{file}"), CsvReadOptions::new())
            .await
            .expect("the fixture reads");
    }
    ctx
}

/// Runs `sql`, which must return one row of counts, and returns them.
async fn counts(ctx: &SessionContext, sql: &str) -> Vec<i64> {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let batch = &batches[0];
    (0..batch.num_columns())
        .map(|c| {
            datafusion::arrow::array::AsArray::as_primitive::<
                datafusion::arrow::datatypes::Int64Type,
            >(batch.column(c))
            .value(0)
        })
        .collect()
}

#[tokio::test]
async fn btyd_summary_equals_lifetimes_on_cdnow() {
    let ctx = session().await;
    for period in ["day", "week"] {
        for end in ["1997-09-30", "1998-06-30"] {
            let ours = format!(
                "SELECT customer_id, s['frequency'] AS frequency, s['recency'] AS recency, \
                        s['T'] AS t, s['monetary_value'] AS monetary_value \
                 FROM (SELECT customer_id, \
                         btyd_summary(CAST(date AS DATE), amount, DATE '{end}', '{period}') AS s \
                       FROM cdnow GROUP BY customer_id)"
            );
            let reference =
                format!("SELECT * FROM btyd_ref WHERE period = '{period}' AND \"end\" = '{end}'");
            // Frequency, recency and T exact; monetary value within 1e-9.
            let mismatches = format!(
                "SELECT o.customer_id, o.frequency, r.frequency AS ref_frequency, o.recency, \
                        r.recency AS ref_recency, o.t, r.\"T\" AS ref_t, o.monetary_value, \
                        r.monetary_value AS ref_monetary_value \
                 FROM ({ours}) o FULL JOIN ({reference}) r USING (customer_id) \
                 WHERE (o.frequency IS DISTINCT FROM r.frequency) \
                    OR (o.recency IS DISTINCT FROM CAST(r.recency AS DOUBLE)) \
                    OR (o.t IS DISTINCT FROM CAST(r.\"T\" AS DOUBLE)) \
                    OR NOT abs(o.monetary_value - r.monetary_value) <= 1e-9"
            );
            let [rows, bad] = counts(
                &ctx,
                &format!(
                    "SELECT (SELECT count(*) FROM ({reference})) AS n, (SELECT count(*) FROM ({mismatches})) AS bad"
                ),
            )
            .await[..] else {
                panic!("two counts")
            };
            assert_eq!(
                rows, 2357,
                "{period} {end}: every customer buys in the first quarter"
            );
            assert_eq!(
                bad,
                0,
                "{period} {end}: rows that differ from lifetimes:\n{}",
                query_text(&ctx, &format!("{mismatches} LIMIT 5")).await
            );
        }
    }
}

/// `btyd_calibration_holdout` against lifetimes' `calibration_and_holdout_data` on the CDNOW
/// transactions (calibration to 1997-09-30, holdout to 1998-06-30), in days and weeks:
/// frequencies, recency, T and duration exact, monetary values within 1e-9.
#[tokio::test]
async fn calibration_and_holdout_equal_lifetimes_on_cdnow() {
    let ctx = session().await;
    for period in ["day", "week"] {
        let ours = format!(
            "SELECT customer_id, s['frequency_cal'] AS frequency_cal, s['recency_cal'] AS \
                    recency_cal, s['T_cal'] AS t_cal, s['monetary_value_cal'] AS mv_cal, \
                    s['frequency_holdout'] AS frequency_holdout, s['monetary_value_holdout'] \
                    AS mv_holdout, s['duration_holdout'] AS duration_holdout \
             FROM (SELECT customer_id, btyd_calibration_holdout(CAST(date AS DATE), amount, \
                     DATE '1997-09-30', DATE '1998-06-30', '{period}') AS s \
                   FROM cdnow GROUP BY customer_id)"
        );
        let reference = format!("SELECT * FROM holdout_{period}_ref");
        let mismatches = format!(
            "SELECT * FROM ({ours}) o FULL JOIN ({reference}) r USING (customer_id) \
             WHERE (o.frequency_cal IS DISTINCT FROM r.frequency_cal) \
                OR (o.recency_cal IS DISTINCT FROM CAST(r.recency_cal AS DOUBLE)) \
                OR (o.t_cal IS DISTINCT FROM CAST(r.\"T_cal\" AS DOUBLE)) \
                OR NOT (abs(o.mv_cal - r.monetary_value_cal) <= 1e-9) \
                OR (o.frequency_holdout IS DISTINCT FROM r.frequency_holdout) \
                OR NOT (abs(o.mv_holdout - r.monetary_value_holdout) <= 1e-9) \
                OR (o.duration_holdout IS DISTINCT FROM CAST(r.duration_holdout AS DOUBLE))"
        );
        let [rows, held, bad] = counts(
            &ctx,
            &format!(
                "SELECT (SELECT count(*) FROM ({reference})) AS n, \
                        (SELECT count(*) FROM ({reference}) WHERE frequency_holdout > 0) AS held, \
                        (SELECT count(*) FROM ({mismatches})) AS bad"
            ),
        )
        .await[..] else {
            panic!("three counts")
        };
        assert_eq!(
            rows, 2357,
            "{period}: every customer buys before the calibration end"
        );
        assert!(held > 400, "{period}: {held} customers buy in the holdout");
        assert_eq!(
            bad,
            0,
            "{period}: rows that differ from lifetimes:\n{}",
            query_text(&ctx, &format!("{mismatches} LIMIT 5")).await
        );
    }
}

#[tokio::test]
async fn rfm_scores_and_tiers_equal_duckdb_on_cdnow() {
    let ctx = session().await;
    let ours = "
        WITH c AS (
          SELECT customer_id, rfm(CAST(date AS DATE), amount, DATE '1997-10-01') AS v
          FROM cdnow GROUP BY customer_id)
        SELECT customer_id, v['recency_days'] AS recency_days, v['frequency'] AS frequency,
               v['purchase_days'] AS purchase_days, v['monetary'] AS monetary,
               v['tenure_days'] AS tenure_days, s['r'] AS r, s['f'] AS f, s['m'] AS m, tier
        FROM (SELECT customer_id, v,
                     rfm_score(v['recency_days'], v['frequency'], v['monetary']) OVER () AS s,
                     value_tier(v['monetary']) OVER () AS tier
              FROM c)";
    let mismatches = format!(
        "SELECT o.*, r.* FROM ({ours}) o FULL JOIN rfm_ref r USING (customer_id)
         WHERE (o.recency_days IS DISTINCT FROM r.recency_days)
            OR (o.frequency IS DISTINCT FROM r.frequency)
            OR (o.purchase_days IS DISTINCT FROM r.purchase_days)
            OR (o.tenure_days IS DISTINCT FROM r.tenure_days)
            OR NOT abs(o.monetary - r.monetary) <= 1e-9
            OR (o.r IS DISTINCT FROM r.r) OR (o.f IS DISTINCT FROM r.f) OR (o.m IS DISTINCT FROM r.m)
            OR (o.tier IS DISTINCT FROM r.tier)"
    );
    let [rows, bad] = counts(
        &ctx,
        &format!("SELECT (SELECT count(*) FROM rfm_ref) AS n, (SELECT count(*) FROM ({mismatches})) AS bad"),
    )
    .await[..] else {
        panic!("two counts")
    };
    assert_eq!(rows, 2357);
    assert_eq!(
        bad,
        0,
        "rows that differ from DuckDB:\n{}",
        query_text(&ctx, &format!("{mismatches} LIMIT 5")).await
    );
}

#[tokio::test]
async fn scores_follow_the_cume_dist_rule_on_a_generated_lake() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = seglake::generate::GenOptions::new(3000, dir.path());
    options.threads = 2;
    seglake::generate::generate(&options).unwrap();
    let ctx = SeglakeBuilder::new()
        .lake(dir.path().display().to_string())
        .build()
        .await
        .unwrap();
    // The rule stated independently with DataFusion's own CUME_DIST window function.
    let mismatches = "
        WITH c AS (
          SELECT customer_id, v['recency_days'] AS rec, v['frequency'] AS f, v['monetary'] AS m
          FROM (SELECT customer_id, rfm(order_ts, amount, DATE '2024-07-01') AS v
                FROM transactions GROUP BY customer_id)
          WHERE v['frequency'] > 0)
        SELECT count(*) AS bad, (SELECT count(*) FROM c) AS n FROM (
          SELECT rfm_score(rec, f, m) OVER () AS s,
                 CAST(CEIL(5 * CUME_DIST() OVER (ORDER BY rec DESC)) AS INT) AS r_ref,
                 CAST(CEIL(5 * CUME_DIST() OVER (ORDER BY f)) AS INT) AS f_ref,
                 CAST(CEIL(5 * CUME_DIST() OVER (ORDER BY m)) AS INT) AS m_ref
          FROM c)
        WHERE s['r'] <> r_ref OR s['f'] <> f_ref OR s['m'] <> m_ref";
    let [bad, n] = counts(&ctx, mismatches).await[..] else {
        panic!("two counts")
    };
    assert!(n > 2000, "most customers bought by mid-2024: {n}");
    assert_eq!(bad, 0);
}
