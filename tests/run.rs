//! `seglake run` and `seglake queries` as a BI pipeline uses them: typed parameters, table
//! parameters, output files, errors and exit codes.

mod common;

use common::{parquet_lake, seglake_in};

const SUMMARY: &str = "rfm_segment_summary";

#[tokio::test]
async fn runs_a_built_in_query_into_a_parquet_file() {
    let dir = parquet_lake().await;
    let run = seglake_in(
        dir.path(),
        &[
            "--lake",
            "lake",
            "run",
            "rfm_segments",
            "--param",
            "as_of=2024-05-01",
            "--output",
            "out.parquet",
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let read = seglake_in(
        dir.path(),
        &[
            "--table",
            "o=out.parquet",
            "--format",
            "csv",
            "-c",
            "SELECT customer_id, frequency, monetary FROM o ORDER BY 1",
        ],
        "",
    );
    // Customer 1: a 25.5 purchase and a 5.0 refund; customer 2: three purchases of 200.
    assert_eq!(
        read.stdout,
        "customer_id,frequency,monetary\n1,1,20.5\n2,3,200.0\n"
    );
}

#[tokio::test]
async fn table_parameters_map_to_the_named_table_and_files_give_values() {
    let dir = parquet_lake().await;
    std::fs::write(
        dir.path().join("params.toml"),
        "as_of = 2024-05-01\ntransactions = \"orders\"\n",
    )
    .unwrap();
    let orders = format!("orders={}/lake/transactions", dir.path().display());
    let run = seglake_in(
        dir.path(),
        &[
            "--table",
            orders.as_str(),
            "--format",
            "csv",
            "run",
            SUMMARY,
            "--params-file",
            "params.toml",
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 3, "{}", run.stdout);
}

#[tokio::test]
async fn bad_parameters_are_usage_errors_listing_the_parameters() {
    let dir = parquet_lake().await;
    let takes = "(query rfm_segment_summary takes: as_of DATE = 2024-01-01, transactions TABLE = transactions, map TEXT = standard)";
    let cases: [(&[&str], &str); 4] = [
        (
            &["--param", "as_of=2024-01-01'; DROP TABLE x; --"],
            "parameter as_of (DATE): expected a date",
        ),
        (&["--param", "asof=2024-01-01"], "unknown parameter 'asof'"),
        (
            &["--param", "transactions=orders"],
            "parameter transactions: no table named 'orders' is registered",
        ),
        (
            &["--param", "transactions=orders; DROP"],
            "parameter transactions (TABLE): expected a table name",
        ),
    ];
    for (params, message) in cases {
        let args = [&["--lake", "lake", "run", SUMMARY][..], params].concat();
        let run = seglake_in(dir.path(), &args, "");
        assert_eq!(run.code, 2, "{params:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{params:?}: {}", run.stderr);
        assert!(run.stderr.contains(takes), "{params:?}: {}", run.stderr);
    }
    let run = seglake_in(dir.path(), &["run", "nope"], "");
    assert_eq!(run.code, 2);
    let known: Vec<String> = seglake::library::Library::load(&[])
        .unwrap()
        .queries()
        .map(|q| q.name.clone())
        .collect();
    assert!(known.len() > 20, "{known:?}");
    assert!(
        run.stderr
            .contains(&format!("known queries are {}", known.join(", "))),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn user_queries_add_to_and_override_the_library() {
    let dir = parquet_lake().await;
    let queries = dir.path().join("my_queries");
    std::fs::create_dir(&queries).unwrap();
    std::fs::write(
        queries.join("big_orders.sql"),
        "-- name: big_orders\n-- description: orders above a threshold\n-- param: min_amount DOUBLE\n\
         SELECT count(*) AS n FROM transactions WHERE amount > $min_amount\n",
    )
    .unwrap();
    let args = [
        "--lake",
        "lake",
        "--queries",
        "my_queries",
        "--format",
        "csv",
        "run",
        "big_orders",
    ];
    let missing = seglake_in(dir.path(), &args, "");
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("parameter 'min_amount' is required"),
        "{}",
        missing.stderr
    );
    let run = seglake_in(
        dir.path(),
        &[&args[..], &["--param", "min_amount=50"]].concat(),
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "n\n2\n");

    let list = seglake_in(
        dir.path(),
        &["--queries", "my_queries", "queries", "list"],
        "",
    );
    assert!(
        list.stdout
            .lines()
            .any(|line| line.starts_with("big_orders ")
                && line.trim_end().ends_with(" orders above a threshold")),
        "{}",
        list.stdout
    );
    assert!(
        list.stdout.contains("params: min_amount DOUBLE"),
        "{}",
        list.stdout
    );
    let show = seglake_in(dir.path(), &["queries", "show", "rfm_segments"], "");
    assert!(
        show.stdout
            .starts_with("-- from built-in segmentation/rfm_segments.sql\n-- name: rfm_segments"),
        "{}",
        show.stdout
    );

    std::fs::write(
        queries.join("mine.sql"),
        "-- name: rfm_segments\n-- description: our own RFM\nSELECT 1 AS one\n",
    )
    .unwrap();
    let overridden = seglake_in(
        dir.path(),
        &[
            "--queries",
            "my_queries",
            "--format",
            "csv",
            "run",
            "rfm_segments",
        ],
        "",
    );
    assert_eq!(overridden.stdout, "one\n1\n", "{}", overridden.stderr);

    std::fs::write(queries.join("bad.sql"), "SELECT 1\n").unwrap();
    let bad = seglake_in(
        dir.path(),
        &["--queries", "my_queries", "queries", "list"],
        "",
    );
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("bad.sql: the header has no '-- name:' line"),
        "{}",
        bad.stderr
    );
}

#[tokio::test]
async fn log_json_describes_each_run() {
    let dir = parquet_lake().await;
    let ok = seglake_in(
        dir.path(),
        &[
            "--lake",
            "lake",
            "--log-json",
            "-q",
            "run",
            SUMMARY,
            "--param",
            "as_of=2024-05-01",
            "-o",
            "s.csv",
        ],
        "",
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let line: serde_json::Value = serde_json::from_str(ok.stderr.trim()).unwrap();
    assert_eq!(line["query"], SUMMARY);
    assert_eq!(line["params"]["as_of"], "2024-05-01");
    assert_eq!(line["status"], "ok");
    assert_eq!(line["rows"], 2, "two segments");
    assert_eq!(line["output"], "s.csv");
    let inputs = line["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 1);
    assert!(
        inputs[0].as_str().unwrap().ends_with("/lake/transactions/"),
        "{inputs:?}"
    );
    assert!(line["duration_ms"].as_f64().unwrap() > 0.0);

    let failed = seglake_in(
        dir.path(),
        &[
            "--lake",
            "lake",
            "--log-json",
            "run",
            SUMMARY,
            "--param",
            "x=1",
        ],
        "",
    );
    assert_eq!(failed.code, 2);
    let line: serde_json::Value =
        serde_json::from_str(failed.stderr.lines().next().unwrap()).unwrap();
    assert_eq!(line["status"], "error");
    assert!(
        line["error"]
            .as_str()
            .unwrap()
            .contains("unknown parameter 'x'")
    );
}

#[tokio::test]
async fn partitioned_output_is_a_hive_folder_replaced_whole() {
    let dir = parquet_lake().await;
    let args = [
        "--lake",
        "lake",
        "run",
        "rfm_segments",
        "--param",
        "as_of=2024-05-01",
        "-o",
        "by_segment",
        "--format",
        "parquet",
    ];
    let run = seglake_in(
        dir.path(),
        &[&args[..], &["--partition-by", "segment"]].concat(),
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut folders: Vec<String> = std::fs::read_dir(dir.path().join("by_segment"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    assert!(
        folders.iter().all(|f| f.starts_with("segment=")),
        "{folders:?}"
    );
    let read = seglake_in(
        dir.path(),
        &[
            "--table",
            "p=by_segment",
            "--format",
            "csv",
            "-c",
            "SELECT count(*) AS n, count(DISTINCT segment) AS s FROM p",
        ],
        "",
    );
    assert_eq!(
        read.stdout,
        format!("n,s\n2,{}\n", folders.len()),
        "{}",
        read.stderr
    );

    // A failing run leaves the previous folder as it was.
    let bad = seglake_in(
        dir.path(),
        &[&args[..], &["--partition-by", "nope"]].concat(),
        "",
    );
    let no_output = seglake_in(
        dir.path(),
        &[
            "--lake",
            "lake",
            "run",
            "rfm_segments",
            "--partition-by",
            "segment",
        ],
        "",
    );
    assert_eq!(no_output.code, 2, "{}", no_output.stderr);
    assert!(
        no_output.stderr.contains("--partition-by needs --output"),
        "{}",
        no_output.stderr
    );
    // --output before the subcommand counts too.
    let before = seglake_in(
        dir.path(),
        &[
            "--lake",
            "lake",
            "--output",
            "by_segment_too",
            "--format",
            "csv",
            "run",
            "rfm_segments",
            "--param",
            "as_of=2024-05-01",
            "--partition-by",
            "segment",
        ],
        "",
    );
    assert_eq!(before.code, 0, "{}", before.stderr);
    assert!(dir.path().join("by_segment_too").is_dir());
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr
            .contains("--partition-by nope: the result has no such column"),
        "{}",
        bad.stderr
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("by_segment"))
            .unwrap()
            .count(),
        folders.len()
    );
    let leftovers = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".seglake")
        })
        .count();
    assert_eq!(leftovers, 0);

    let table = seglake_in(
        dir.path(),
        &[
            &args[..8],
            &["--format", "table", "--partition-by", "segment"],
        ]
        .concat(),
        "",
    );
    assert!(
        table
            .stderr
            .contains("--partition-by writes parquet, csv or ndjson, not table"),
        "{}",
        table.stderr
    );
}
