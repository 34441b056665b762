//! Fuzz: every seglake aggregate and window function gives the same answer however the rows
//! arrive (1, 2, 7 or 16 partitions; batches of 1, 7, 1024 or 8192 rows; the rows shuffled
//! over several Parquet files; partial aggregation skipped or not; under memory limits that
//! make the final aggregation spill), bit for bit, and the answer a plain reference written
//! here gives (a `BTreeMap` per group; floats within 1e-12 relative, as the reference adds
//! in another order).
//!
//! Random lakes come from fixed seeds; `SEGLAKE_FUZZ_SEEDS=N` runs N seeds instead of two
//! (the longer run of `benches/README.md`).

mod common;
mod fuzz_support;

use std::collections::BTreeMap;
use std::path::Path;

use common::batch_rows;
use fuzz_support::data::{self, MICROS_PER_DAY, Row, ZONE_OFFSET_MICROS, days_from_civil};
use fuzz_support::reference::{self, Cell, matches};
use fuzz_support::{Layout, run};
use tempfile::TempDir;

/// Lake copies with the rows shuffled over files; copy 0 is one file in generation order.
const COPIES: usize = 3;
const ROWS: usize = 2_500;
const TOLERANCE: f64 = 1e-12;

/// The seeds of this run: two by default, `SEGLAKE_FUZZ_SEEDS` of them when set.
fn seeds() -> Vec<u64> {
    let n = std::env::var("SEGLAKE_FUZZ_SEEDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_u64);
    (1..=n).collect()
}

/// A lake of `ROWS` random rows: copy 0 one file, copies 1.. the rows over 2-5 files.
fn lake(seed: u64) -> (TempDir, Vec<Row>) {
    let rows = data::transactions(seed, ROWS);
    let dir = tempfile::tempdir().expect("a temporary folder");
    data::write_files(&dir.path().join("copy0"), &rows, 1, seed);
    for copy in 1..=COPIES {
        let files = 1 + copy + (seed as usize % 2);
        data::write_files(
            &dir.path().join(format!("copy{copy}")),
            &rows,
            files,
            seed * 100 + copy as u64,
        );
    }
    (dir, rows)
}

/// The rows `sql` gives in the baseline layout, after checking every layout of the sweep
/// gives exactly the same text; and how many of the spilling layouts really spilled.
async fn same_everywhere(lake: &Path, sql: &str) -> (Vec<Vec<String>>, usize) {
    let base = run(lake, &Layout::BASELINE, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}\nfails: {e}"));
    let expected = batch_rows(&base.batches, "null");
    let mut spilled = 0;
    for layout in Layout::sweep(COPIES) {
        let outcome = run(lake, &layout, sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}\nfails under {layout:?}: {e}"));
        spilled += usize::from(outcome.spilled);
        let rows = batch_rows(&outcome.batches, "null");
        assert_eq!(
            rows.len(),
            expected.len(),
            "{sql}\nrow count under {layout:?}"
        );
        if let Some((i, (got, want))) = rows
            .iter()
            .zip(&expected)
            .enumerate()
            .find(|(_, (a, b))| a != b)
        {
            panic!(
                "{sql}\nrow {i} differs under {layout:?} (memory limit {:?}):\n  got  {got:?}\n  want {want:?}",
                outcome.memory_limit
            );
        }
    }
    (expected, spilled)
}

/// Asserts that `sql` fails in every layout with one line containing `fragment`.
async fn same_error_everywhere(lake: &Path, sql: &str, fragment: &str) {
    for layout in std::iter::once(Layout::BASELINE).chain(Layout::sweep(COPIES)) {
        match run(lake, &layout, sql).await {
            Ok(_) => panic!("{sql}\nanswers under {layout:?}; expected an error"),
            Err(e) => {
                let message = e.to_string();
                assert!(
                    message.contains(fragment) && !message.trim().contains('\n'),
                    "{sql}\nunder {layout:?}: {message}"
                );
            }
        }
    }
}

/// Checks result rows keyed by their first column against a reference keyed the same way
/// (NULL key first, as `ORDER BY 1 NULLS FIRST` sorts).
fn check_reference(what: &str, rows: &[Vec<String>], expected: &BTreeMap<Option<i64>, Vec<Cell>>) {
    assert_eq!(rows.len(), expected.len(), "{what}: groups");
    for (row, (key, cells)) in rows.iter().zip(expected) {
        let key_text = key.map_or("null".to_string(), |k| k.to_string());
        assert_eq!(row[0], key_text, "{what}: group order");
        for (i, (actual, want)) in row[1..].iter().zip(cells).enumerate() {
            assert!(
                matches(actual, want, TOLERANCE),
                "{what}: group {key_text}, column {}: got {actual}, reference {want:?}",
                i + 1
            );
        }
    }
}

fn as_of_day() -> i64 {
    days_from_civil(2150, 6, 1)
}

const AS_OF: &str = "TIMESTAMP '2150-06-01 00:00:00'";

/// How a column's timestamps relate to the generated ones.
type Shift = fn(i64) -> i64;

fn rfm_fields(ts: &str) -> String {
    format!(
        "SELECT customer_id, v['recency_days'], v['frequency'], v['purchase_days'], \
           v['monetary'], v['avg_order_value'], CAST(v['first_purchase'] AS BIGINT), \
           CAST(v['last_purchase'] AS BIGINT), v['tenure_days'] \
         FROM (SELECT customer_id, rfm({ts}, amount, {AS_OF}) AS v FROM t GROUP BY customer_id) \
         ORDER BY customer_id NULLS FIRST"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfm_is_the_same_however_rows_arrive_and_matches_the_reference() {
    for seed in seeds() {
        let (dir, rows) = lake(seed);
        let as_of = as_of_day() * MICROS_PER_DAY;
        let mut spilled = 0;
        // Timestamps; the same local times in a time zone (taken as the UTC instants they
        // are, as a cast to a timestamp without a time zone gives them); and dates.
        let shifts: [(&str, Shift); 3] = [
            ("order_ts", |t| t),
            ("order_tz", |t| t - ZONE_OFFSET_MICROS),
            ("order_date", |t| {
                t.div_euclid(MICROS_PER_DAY) * MICROS_PER_DAY
            }),
        ];
        for (ts, shift) in shifts {
            let (result, s) = same_everywhere(dir.path(), &rfm_fields(ts)).await;
            spilled += s;
            let expected = reference::rfm(&rows, |r| r.ts.map(shift), as_of);
            check_reference(&format!("rfm({ts}), seed {seed}"), &result, &expected);
        }
        // The whole struct, and the variant without day sets (no field reads purchase_days).
        for sql in [
            format!(
                "SELECT customer_id, rfm(order_ts, amount, {AS_OF}) FROM t \
                 GROUP BY customer_id ORDER BY customer_id NULLS FIRST"
            ),
            "SELECT customer_id, v['recency_days'], v['frequency'], v['monetary'] \
             FROM (SELECT customer_id, rfm(order_ts, amount, DATE '1969-06-30') AS v \
                   FROM t GROUP BY customer_id) ORDER BY customer_id NULLS FIRST"
                .to_string(),
        ] {
            spilled += same_everywhere(dir.path(), &sql).await.1;
        }
        assert!(spilled > 0, "seed {seed}: no layout spilled");
        same_error_everywhere(
            dir.path(),
            &format!("SELECT customer_id, rfm(order_ts, x, {AS_OF}) FROM t GROUP BY customer_id"),
            "NaN",
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn btyd_summary_is_the_same_however_rows_arrive_and_matches_the_reference() {
    for seed in seeds() {
        let (dir, rows) = lake(seed);
        for (period, week) in [("day", false), ("week", true)] {
            let sql = format!(
                "SELECT customer_id, s['frequency'], s['recency'], s['T'], s['monetary_value'] \
                 FROM (SELECT customer_id, \
                         btyd_summary(order_ts, amount, DATE '2150-06-01', '{period}') AS s \
                       FROM t GROUP BY customer_id) ORDER BY customer_id NULLS FIRST"
            );
            let (result, spilled) = same_everywhere(dir.path(), &sql).await;
            assert!(spilled > 0, "seed {seed}, {period}: no layout spilled");
            let expected = reference::btyd(&rows, as_of_day(), week);
            check_reference(
                &format!("btyd_summary {period}, seed {seed}"),
                &result,
                &expected,
            );
        }
        same_everywhere(
            dir.path(),
            "SELECT customer_id, btyd_summary(order_tz, amount, DATE '1970-01-01', 'month'), \
                    btyd_summary(order_date, amount, DATE '2199-12-31', 'day', 7) \
             FROM t GROUP BY customer_id ORDER BY customer_id NULLS FIRST",
        )
        .await;
        // The calibration/holdout split, whose state is btyd_summary's and the holdout's: a
        // calibration end at a customer's midnight ties, customers on both sides of it.
        same_everywhere(
            dir.path(),
            "SELECT customer_id, \
                    btyd_calibration_holdout(order_ts, amount, DATE '1969-12-15', \
                                             DATE '2150-06-01', 'week'), \
                    btyd_calibration_holdout(order_date, amount, TIMESTAMP '1970-02-01 12:00:00', \
                                             DATE '1971-01-01', 'month', 2) \
             FROM t GROUP BY customer_id ORDER BY customer_id NULLS FIRST",
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nps_and_rfm_cuts_are_the_same_however_rows_arrive() {
    for seed in seeds() {
        let (dir, rows) = lake(seed);
        let (result, _) = same_everywhere(
            dir.path(),
            "SELECT customer_id % 13 AS g, nps(score) FROM t GROUP BY 1 ORDER BY 1 NULLS FIRST",
        )
        .await;
        let expected: BTreeMap<Option<i64>, Vec<Cell>> = reference::nps(&rows, 13)
            .into_iter()
            .map(|(k, v)| (k, vec![v]))
            .collect();
        check_reference(&format!("nps, seed {seed}"), &result, &expected);

        // The cuts score their own population exactly as rfm_score does.
        let (result, _) = same_everywhere(
            dir.path(),
            "WITH c AS (SELECT rfm_cuts(amount) AS up, rfm_cuts(amount, 4, true) AS down FROM t) \
             SELECT amount, score_by_cuts(amount, up), score_by_cuts(amount, down) \
             FROM (SELECT DISTINCT amount FROM t) CROSS JOIN c ORDER BY amount NULLS FIRST",
        )
        .await;
        let amounts: Vec<Option<f64>> = rows.iter().map(|r| r.amount).collect();
        let up = reference::scores(&amounts, 5, false);
        let down = reference::scores(&amounts, 4, true);
        // Keyed by the amount's bits (+0 for -0, as DISTINCT takes them as one).
        let key = |a: Option<f64>| a.map(|a| (a + 0.0).to_bits());
        let mut by_amount: BTreeMap<Option<u64>, (Option<i64>, Option<i64>)> = BTreeMap::new();
        for ((&a, u), d) in amounts.iter().zip(up).zip(down) {
            by_amount.insert(key(a), (u, d));
        }
        for row in &result {
            let amount = (row[0] != "null").then(|| row[0].parse::<f64>().expect("an amount"));
            let (u, d) = by_amount[&key(amount)];
            assert!(
                matches(&row[1], &u.into(), 0.0) && matches(&row[2], &d.into(), 0.0),
                "rfm_cuts, seed {seed}: amount {} scores {:?}, rfm_score's rule gives {u:?} {d:?}",
                row[0],
                &row[1..]
            );
        }
        same_everywhere(
            dir.path(),
            "SELECT customer_id % 3 AS g, rfm_cuts(amount), rfm_cuts(amount, 4, true), \
                    rfm_cuts(amount, 100), rfm_cuts(CAST(score AS DOUBLE), 2) \
             FROM t GROUP BY 1 ORDER BY 1 NULLS FIRST",
        )
        .await;
        same_error_everywhere(dir.path(), "SELECT rfm_cuts(x) FROM t", "NaN").await;
        same_error_everywhere(dir.path(), "SELECT nps(score + 1) FROM t", "11").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn score_windows_are_the_same_however_rows_arrive_and_match_the_reference() {
    for seed in seeds() {
        let (dir, _) = lake(seed);
        let sql = format!(
            "WITH r AS (SELECT customer_id, rfm(order_ts, amount, {AS_OF}) AS v \
                        FROM t GROUP BY customer_id), \
                  s AS (SELECT customer_id, v, \
                          rfm_score(v['recency_days'], v['frequency'], v['monetary']) OVER () AS a, \
                          rfm_score(v['recency_days'], v['frequency'], v['monetary'], 3) \
                            OVER (PARTITION BY customer_id % 3) AS b, \
                          value_tier(v['monetary']) OVER () AS tier, \
                          value_tier(v['monetary'], 0.3, 0.9) OVER (PARTITION BY customer_id % 2) \
                            AS tier2 FROM r) \
             SELECT customer_id, v['recency_days'], v['frequency'], v['monetary'], \
                    a['r'], a['f'], a['m'], a['code'], b['r'], b['f'], b['m'], tier, tier2 \
             FROM s ORDER BY customer_id NULLS FIRST"
        );
        let (result, spilled) = same_everywhere(dir.path(), &sql).await;
        assert!(spilled > 0, "seed {seed}: no layout spilled");
        check_windows(seed, &result);
    }
}

/// The window results against the reference's rules, from the RFM columns of the result.
fn check_windows(seed: u64, rows: &[Vec<String>]) {
    let float = |s: &String| s.parse::<f64>().ok();
    let recency: Vec<Option<f64>> = rows.iter().map(|r| float(&r[1])).collect();
    let frequency: Vec<Option<f64>> = rows.iter().map(|r| float(&r[2])).collect();
    let monetary: Vec<Option<f64>> = rows.iter().map(|r| float(&r[3])).collect();
    let expect = |column: usize, want: Vec<Option<i64>>, what: &str| {
        for (row, want) in rows.iter().zip(want) {
            assert!(
                matches(&row[column], &want.into(), 0.0),
                "seed {seed}: {what} of customer {}: got {}, reference {want:?}",
                row[0],
                row[column]
            );
        }
    };
    expect(4, reference::scores(&recency, 5, true), "r");
    expect(5, reference::scores(&frequency, 5, false), "f");
    expect(6, reference::scores(&monetary, 5, false), "m");
    let tiers = reference::tiers(&monetary, 0.5, 0.8);
    for (row, tier) in rows.iter().zip(tiers) {
        assert_eq!(
            row[11],
            tier.unwrap_or("null"),
            "seed {seed}: tier of customer {}",
            row[0]
        );
    }
    // The partitioned windows: the reference per partition.
    for modulus in [3, 2] {
        let mut parts: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, row) in rows.iter().enumerate() {
            let key = row[0]
                .parse::<i64>()
                .map_or("null".into(), |c| c.rem_euclid(modulus).to_string());
            parts.entry(key).or_default().push(i);
        }
        for members in parts.values() {
            let pick = |v: &[Option<f64>]| members.iter().map(|&i| v[i]).collect::<Vec<_>>();
            if modulus == 3 {
                for (column, values, lower) in [
                    (8, pick(&recency), true),
                    (9, pick(&frequency), false),
                    (10, pick(&monetary), false),
                ] {
                    for (&i, want) in members.iter().zip(reference::scores(&values, 3, lower)) {
                        assert!(
                            matches(&rows[i][column], &want.into(), 0.0),
                            "seed {seed}: partitioned score {column} of customer {}",
                            rows[i][0]
                        );
                    }
                }
            } else {
                for (&i, want) in members
                    .iter()
                    .zip(reference::tiers(&pick(&monetary), 0.3, 0.9))
                {
                    assert_eq!(rows[i][12], want.unwrap_or("null"), "seed {seed}: tier2");
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kmeans_is_the_same_however_rows_arrive() {
    for seed in seeds() {
        let (dir, _) = lake(seed);
        let (result, _) = same_everywhere(
            dir.path(),
            "WITH m AS (SELECT customer_id % 2 AS g, \
                          kmeans_fit(make_array(x, y), 3, named_struct('seed', 7, 'n_init', 3)) \
                            AS model FROM t GROUP BY 1) \
             SELECT t.customer_id % 2 AS g, kmeans_evaluate(model, make_array(x, y)) AS e, \
                    first_value(model) AS model \
             FROM t JOIN m ON t.customer_id % 2 = m.g GROUP BY 1 ORDER BY 1",
        )
        .await;
        assert_eq!(result.len(), 2, "seed {seed}: both groups fitted");
        same_everywhere(
            dir.path(),
            "SELECT kmeans_fit(make_array(x, y, CAST(score AS DOUBLE)), 4, \
                    named_struct('standardize', false, 'n_init', 2)) FROM t",
        )
        .await;
    }
}

/// On these summaries (80% one-time buyers) the Pareto/NBD optimiser walks to r near 3.5e4,
/// where the hypergeometric series at z = 1 - 2e-5 needed millions of terms per customer and
/// the fit ran for hours (found by this test; fixed by `ln_hyp2f1_next`'s transformations).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clv_fits_are_the_same_however_rows_arrive() {
    for seed in seeds() {
        let (dir, _) = lake(seed);
        let (result, _) = same_everywhere(
            dir.path(),
            "WITH s AS (SELECT customer_id, \
                          btyd_summary(recent_ts, abs(amount) + 1, DATE '2021-12-31', 'week') AS s \
                        FROM t GROUP BY customer_id) \
             SELECT bgnbd_fit(s['frequency'], s['recency'], s['T']) AS bg, \
                    mbgnbd_fit(s['frequency'], s['recency'], s['T']) AS mbg, \
                    paretonbd_fit(s['frequency'], s['recency'], s['T']) AS pareto, \
                    gammagamma_fit(s['frequency'], s['monetary_value']) AS gg FROM s",
        )
        .await;
        assert!(
            result[0].iter().all(|cell| cell != "null"),
            "seed {seed}: every model fitted: {result:?}"
        );
    }
}
