//! Bad input files as pipelines meet them: a truncated Parquet file among good ones, files
//! whose columns disagree, a ragged or non-UTF-8 CSV, a bad value deep in a CSV, a file that
//! vanishes between planning and reading. Each ends in exit code 1 with one line naming the
//! file (or the value and line) and what is wrong; none panics or answers wrongly.

mod common;

use std::path::Path;

use common::seglake_in;
use datafusion::prelude::SessionContext;

/// Writes `sql`'s result as the Parquet file `path` under `root`.
async fn write_parquet(root: &Path, path: &str, sql: &str) {
    let ctx = SessionContext::new();
    let target = root.join(path);
    std::fs::create_dir_all(target.parent().expect("a parent folder")).expect("the folder");
    ctx.sql(&format!(
        "COPY ({sql}) TO '{}' STORED AS PARQUET",
        target.display()
    ))
    .await
    .expect("the fixture plans")
    .collect()
    .await
    .expect("the fixture is written");
}

const ORDERS: &str = "SELECT * FROM (VALUES (1, 10.5), (2, 20.0), (3, 7.25)) AS t(id, amount)";

/// Runs seglake in `dir` and checks it failed with one line holding every part of `expected`.
fn fails_naming(dir: &Path, args: &[&str], expected: &[&str]) {
    let run = seglake_in(dir, args, "");
    assert_eq!(run.code, 1, "{args:?}: {}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "", "{args:?}: no partial answer");
    let line = run.stderr.trim_end();
    assert!(line.starts_with("error: "), "{args:?}: {line}");
    assert_eq!(line.lines().count(), 1, "{args:?}: {line}");
    for part in expected {
        assert!(line.contains(part), "{args:?}: {part:?} not in {line}");
    }
    assert!(!line.contains("panicked") && !line.contains("likely caused by a bug"));
}

#[tokio::test]
async fn a_truncated_parquet_file_among_good_ones_is_named() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    write_parquet(dir.path(), "lake/orders/part-0.parquet", ORDERS).await;
    let good = std::fs::read(dir.path().join("lake/orders/part-0.parquet")).expect("the file");
    // Cut short, as by a writer killed mid-file: no footer.
    std::fs::write(
        dir.path().join("lake/orders/part-1.parquet"),
        &good[..good.len() / 2],
    )
    .expect("the truncated file");
    fails_naming(
        dir.path(),
        &["--lake", "lake", "-c", "SELECT count(*) FROM orders"],
        &["table 'orders'", "part-1.parquet", "Parquet"],
    );
    // Its footer kept but the middle cut out: the footer points past the end.
    let mut cut = good[..4].to_vec();
    cut.extend_from_slice(&good[good.len() / 3..]);
    std::fs::write(dir.path().join("lake/orders/part-1.parquet"), cut).expect("the cut file");
    fails_naming(
        dir.path(),
        &["--lake", "lake", "-c", "SELECT count(*) FROM orders"],
        &["table 'orders'", "part-1.parquet"],
    );
}

#[tokio::test]
async fn files_whose_columns_disagree_are_both_named() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    write_parquet(dir.path(), "lake/orders/a.parquet", ORDERS).await;
    write_parquet(
        dir.path(),
        "lake/orders/b.parquet",
        "SELECT * FROM (VALUES (4, 'twelve')) AS t(id, amount)",
    )
    .await;
    fails_naming(
        dir.path(),
        &["--lake", "lake", "-c", "SELECT sum(amount) FROM orders"],
        &[
            "table 'orders'",
            "a.parquet",
            "b.parquet",
            "column 'amount'",
        ],
    );
    // A column only some files have is schema evolution, not a fault: NULL where missing.
    write_parquet(
        dir.path(),
        "lake/orders/b.parquet",
        "SELECT * FROM (VALUES (4, 1.5, 'web')) AS t(id, amount, channel)",
    )
    .await;
    let run = seglake_in(
        dir.path(),
        &[
            "--lake",
            "lake",
            "--format",
            "csv",
            "-c",
            "SELECT count(*) AS n, count(channel) AS with_channel, sum(amount) AS s FROM orders",
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "n,with_channel,s\n4,1,39.25\n");
}

#[test]
fn ragged_and_non_utf8_csv_files_are_named() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let csv = dir.path().join("csv");
    std::fs::create_dir_all(&csv).expect("the folder");
    std::fs::write(csv.join("a.csv"), "id,amount\n1,2.5\n2,3\n").expect("a.csv");
    std::fs::write(csv.join("b.csv"), "id,amount\n3,2.5\n4,3.5,9\n").expect("b.csv");
    fails_naming(
        dir.path(),
        &["--table", "t=csv/", "-c", "SELECT sum(amount) FROM t"],
        &["b.csv", "line 3", "Expected 2"],
    );
    std::fs::write(csv.join("b.csv"), b"id,amount\n3,caf\xe9\n").expect("b.csv");
    fails_naming(
        dir.path(),
        &["--table", "t=csv/b.csv", "-c", "SELECT * FROM t"],
        &["b.csv", "UTF-8", "line 2"],
    );
}

#[test]
fn a_bad_value_deep_in_a_csv_names_the_value_and_line() {
    // Past the rows schema inference reads, so found while the query runs.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut text = String::from("id,amount\n");
    for i in 1..3_000 {
        if i == 2_500 {
            text.push_str("2500,abc\n");
        } else {
            text.push_str(&format!("{i},{}.5\n", i % 7));
        }
    }
    std::fs::write(dir.path().join("late.csv"), text).expect("late.csv");
    fails_naming(
        dir.path(),
        &["--table", "t=late.csv", "-c", "SELECT sum(amount) FROM t"],
        &["'abc'", "Float64", "line 2500"],
    );
    // Early enough for inference, the column is text, and summing it says so.
    std::fs::write(dir.path().join("early.csv"), "id,amount\n1,2.5\n2,abc\n").expect("csv");
    fails_naming(
        dir.path(),
        &["--table", "t=early.csv", "-c", "SELECT sum(amount) FROM t"],
        &["no function sum(Utf8)", "sum(Float64)", "CAST"],
    );
}

#[tokio::test]
async fn a_file_that_vanishes_after_planning_is_named() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    write_parquet(dir.path(), "lake/orders/part-0.parquet", ORDERS).await;
    write_parquet(dir.path(), "lake/orders/part-1.parquet", ORDERS).await;
    let ctx = seglake::SeglakeBuilder::new()
        .lake(dir.path().join("lake").display().to_string())
        .build()
        .await
        .expect("the session");
    let frame = ctx
        .sql("SELECT sum(amount) FROM orders")
        .await
        .expect("the query plans");
    std::fs::remove_file(dir.path().join("lake/orders/part-1.parquet")).expect("removed");
    let err = frame.collect().await.expect_err("a file is missing");
    let message = seglake::error::describe(&err);
    assert!(message.contains("part-1.parquet"), "{message}");
    assert!(!message.contains('\n'), "{message}");
}
