//! Helpers shared by the integration tests: running the real binary, and small Parquet lakes.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use datafusion::prelude::SessionContext;
use tempfile::TempDir;

/// The outcome of one run of the `seglake` binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `seglake ARGS` in `dir` with `stdin` piped in.
pub fn seglake_in(dir: &Path, args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_seglake"))
        .args(args)
        .current_dir(dir)
        .env("SEGLAKE_HISTORY", dir.join(".history"))
        .env_remove("SEGLAKE_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the seglake binary runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("stdin accepts input");
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("seglake finishes");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Runs `seglake ARGS` in `dir` with `env` added, no stdin, HOME set to `dir` (so no
/// profile or config of the developer's is read).
pub fn seglake_env(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_seglake"));
    command
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("SEGLAKE_CONFIG")
        .stdin(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("the seglake binary runs");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Each row of `batches` as its cells' text, NULL as `null`.
pub fn batch_rows(
    batches: &[datafusion::arrow::array::RecordBatch],
    null: &str,
) -> Vec<Vec<String>> {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let options = FormatOptions::default().with_null(null);
    let mut rows = Vec::new();
    for batch in batches {
        let formatters: Vec<ArrayFormatter> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).expect("a displayable column"))
            .collect();
        for row in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    rows
}

/// A lake folder with two Parquet tables:
/// - `customers` (one file): customer_id 1..=3, region;
/// - `transactions` (Hive-partitioned by `channel`): 5 orders of customers 1 and 2.
pub async fn parquet_lake() -> TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path().display().to_string();
    let ctx = SessionContext::new();
    let statements = [
        format!(
            "COPY (SELECT * FROM (VALUES (1, 'north'), (2, 'south'), (3, 'north')) \
             AS t(customer_id, region)) TO '{root}/lake/customers.parquet' STORED AS PARQUET"
        ),
        format!(
            "COPY (SELECT order_id, customer_id, CAST(order_ts AS TIMESTAMP) AS order_ts, amount, \
             channel FROM (VALUES \
               (1, 1, '2024-01-05 10:00:00', 25.5, 'web'), \
               (2, 1, '2024-02-01 09:00:00', -5.0, 'store'), \
               (3, 2, '2024-03-03 12:00:00', 100.0, 'web'), \
               (4, 2, '2024-03-10 12:00:00', 40.0, 'app'), \
               (5, 2, '2024-04-01 08:30:00', 60.0, 'web')) \
             AS t(order_id, customer_id, order_ts, amount, channel)) \
             TO '{root}/lake/transactions/' STORED AS PARQUET PARTITIONED BY (channel)"
        ),
    ];
    for sql in statements {
        ctx.sql(&sql)
            .await
            .expect("fixture SQL plans")
            .collect()
            .await
            .expect("fixture SQL runs");
    }
    dir
}

/// A seglake session with two partitions, so plans aggregate in two phases as on a real
/// machine, whatever cores the test machine has.
pub async fn two_partition_session() -> SessionContext {
    seglake::SeglakeBuilder::new()
        .target_partitions(2)
        .build()
        .await
        .expect("a session")
}

/// A two-partition seglake session after running `setup` (a statement such as
/// `CREATE TABLE t AS ...`).
pub async fn two_partition_session_with(setup: &str) -> SessionContext {
    let ctx = two_partition_session().await;
    ctx.sql(setup).await.unwrap().collect().await.unwrap();
    ctx
}

/// The result of `sql` as an aligned text table.
pub async fn query_text(ctx: &SessionContext, sql: &str) -> String {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string()
}
