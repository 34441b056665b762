//! The `seglake` command line as a pipeline sees it: formats, files, errors and exit codes.

mod common;

use common::{parquet_lake, seglake_in};

const BY_CUSTOMER: &str = "SELECT customer_id, count(*) AS orders, sum(amount) AS revenue \
                           FROM transactions GROUP BY customer_id ORDER BY customer_id";

#[tokio::test]
async fn lake_tables_and_hive_partitions() {
    let dir = parquet_lake().await;
    let run = seglake_in(
        dir.path(),
        &[
            "--lake",
            "lake",
            "--format",
            "csv",
            "sql",
            "SELECT channel, count(*) AS n FROM transactions GROUP BY channel ORDER BY channel",
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "channel,n\napp,1\nstore,1\nweb,3\n");
}

#[test]
fn csv_tsv_and_ndjson_tables_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.csv"), "id,score\n1,9\n2,6\n").unwrap();
    std::fs::write(dir.path().join("b.tsv"), "id\tscore\n3\t10\n").unwrap();
    std::fs::write(dir.path().join("c.ndjson"), "{\"id\":4,\"score\":0}\n").unwrap();
    let run = seglake_in(
        dir.path(),
        &[
            "--table",
            "a=a.csv",
            "--table",
            "b=b.tsv",
            "--table",
            "c=c.ndjson",
            "--format",
            "csv",
            "-c",
            "SELECT id, score FROM a UNION ALL SELECT id, score FROM b UNION ALL SELECT id, score FROM c ORDER BY id",
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "id,score\n1,9\n2,6\n3,10\n4,0\n");
}

#[tokio::test]
async fn every_text_format() {
    let dir = parquet_lake().await;
    let expected = [
        ("csv", "customer_id,orders,revenue\n1,2,20.5\n2,3,200.0\n"),
        (
            "tsv",
            "customer_id\torders\trevenue\n1\t2\t20.5\n2\t3\t200.0\n",
        ),
        (
            "json",
            "[{\"customer_id\":1,\"orders\":2,\"revenue\":20.5},\
             {\"customer_id\":2,\"orders\":3,\"revenue\":200.0}]\n",
        ),
        (
            "ndjson",
            "{\"customer_id\":1,\"orders\":2,\"revenue\":20.5}\n\
             {\"customer_id\":2,\"orders\":3,\"revenue\":200.0}\n",
        ),
        (
            "table",
            "+-------------+--------+---------+\n\
             | customer_id | orders | revenue |\n\
             +-------------+--------+---------+\n\
             | 1           | 2      | 20.5    |\n\
             | 2           | 3      | 200.0   |\n\
             +-------------+--------+---------+\n",
        ),
    ];
    for (format, text) in expected {
        let run = seglake_in(
            dir.path(),
            &["--lake", "lake", "--format", format, "-c", BY_CUSTOMER],
            "",
        );
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        assert_eq!(run.stdout, text, "{format}");
    }
}

#[tokio::test]
async fn parquet_output_reads_back() {
    let dir = parquet_lake().await;
    let run = seglake_in(
        dir.path(),
        &[
            "--lake",
            "lake",
            "-c",
            BY_CUSTOMER,
            "--output",
            "out.parquet",
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    let run = seglake_in(
        dir.path(),
        &[
            "--table",
            "o=out.parquet",
            "--format",
            "csv",
            "-c",
            "SELECT * FROM o ORDER BY customer_id",
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "customer_id,orders,revenue\n1,2,20.5\n2,3,200.0\n"
    );
}

#[tokio::test]
async fn output_format_follows_the_extension_and_earlier_results_print() {
    let dir = parquet_lake().await;
    let run = seglake_in(
        dir.path(),
        &[
            "--lake",
            "lake",
            "-c",
            "CREATE VIEW v AS SELECT 1 AS x; SELECT x FROM v",
            "-o",
            "out.ndjson",
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.ndjson")).unwrap(),
        "{\"x\":1}\n"
    );

    let run = seglake_in(dir.path(), &["-c", "SELECT 1", "-o", "out.xyz"], "");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--format"), "{}", run.stderr);
}

#[tokio::test]
async fn failed_query_leaves_no_output_file() {
    let dir = parquet_lake().await;
    // The division fails while rows stream, after the output was opened.
    let failing = "SELECT customer_id, CAST('x' || customer_id AS INT) FROM transactions";
    let run = seglake_in(
        dir.path(),
        &["--lake", "lake", "-c", failing, "--output", "out.csv"],
        "",
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("lake")]);

    // An existing file is left as it was.
    std::fs::write(dir.path().join("out.csv"), "old\n").unwrap();
    let run = seglake_in(
        dir.path(),
        &["--lake", "lake", "-c", failing, "--output", "out.csv"],
        "",
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.csv")).unwrap(),
        "old\n"
    );
}

#[tokio::test]
async fn errors_are_one_line_with_exit_code_1() {
    let dir = parquet_lake().await;
    std::fs::write(dir.path().join("notes.txt"), "not a table").unwrap();
    std::fs::write(
        dir.path().join("corrupt.parquet"),
        b"PAR1 this is not parquet PAR1",
    )
    .unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["--table", "t=missing.parquet", "-c", "SELECT 1"],
            "table 't' (missing.parquet): no such file or folder",
        ),
        (
            &["--lake", "lake", "-c", "SELECT * FROM nope"],
            "table 'datafusion.public.nope' not found",
        ),
        (
            &["--table", "t=notes.txt", "-c", "SELECT 1"],
            "cannot tell the format of 'notes.txt'",
        ),
        (
            &["--table", "t=corrupt.parquet", "-c", "SELECT * FROM t"],
            "table 't' (corrupt.parquet): ",
        ),
        (
            &["-c", "SELECT 1 FROM"],
            "SQL syntax error: Expected: identifier, found: EOF",
        ),
        (
            &[
                "--lake",
                "lake",
                "-c",
                "SELECT amount + 'x' FROM transactions",
            ],
            "Cannot coerce arithmetic expression Float64 + Utf8 to valid types",
        ),
    ];
    for (args, message) in cases {
        let run = seglake_in(dir.path(), args, "");
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("error: "),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert_eq!(
            run.stderr.trim_end().lines().count(),
            1,
            "{args:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("backtrace") && !run.stderr.contains("panicked"));
    }
}

#[tokio::test]
async fn syntax_errors_in_files_name_the_file_and_position() {
    let dir = parquet_lake().await;
    std::fs::write(dir.path().join("q.sql"), "SELECT 1;\nSELEC 2;\n").unwrap();
    let run = seglake_in(dir.path(), &["-f", "q.sql"], "");
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: q.sql: SQL syntax error: Expected: an SQL statement, found: SELEC at Line: 2, Column: 1\n"
    );
    // Nothing ran: the file is parsed before any statement executes.
    assert_eq!(run.stdout, "");
}

#[test]
fn bad_usage_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--format", "xls", "-c", "SELECT 1"][..],
        &["--no-such-flag"],
        &["--memory-limit", "lots", "-c", "SELECT 1"],
        &["--config", "missing.toml", "-c", "SELECT 1"],
    ] {
        let run = seglake_in(dir.path(), args, "");
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("error"), "{args:?}: {}", run.stderr);
    }
}

#[tokio::test]
async fn config_file_declares_lake_tables_and_limits() {
    let dir = parquet_lake().await;
    std::fs::write(
        dir.path().join("seglake.toml"),
        "lake = \"lake\"\nmemory_limit = \"256M\"\n[tables]\nc2 = \"lake/customers.parquet\"\n",
    )
    .unwrap();
    let run = seglake_in(
        dir.path(),
        &[
            "--format",
            "csv",
            "-c",
            "SELECT (SELECT count(*) FROM transactions) AS t, (SELECT count(*) FROM c2) AS c",
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "t,c\n5,3\n");

    std::fs::write(dir.path().join("seglake.toml"), "lakes = \"lake\"\n").unwrap();
    let run = seglake_in(dir.path(), &["-c", "SELECT 1"], "");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("config 'seglake.toml': unknown field `lakes`"),
        "{}",
        run.stderr
    );
}

#[test]
fn memory_limit_spills_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let spill = dir.path().join("spill");
    // Sorting 200,000 rows of ~60 bytes needs far more than 4 MB: the sort spills.
    let query = "SELECT count(*) AS n, sum(v) AS s FROM (\
                   SELECT v, row_number() OVER (ORDER BY pad, v DESC) AS rn \
                   FROM (SELECT value AS v, repeat('x', 50) AS pad FROM range(200000))) \
                 WHERE rn <= 150000";
    let limits = [
        "--memory-limit",
        "4M",
        "--temp-dir",
        spill.to_str().unwrap(),
        "--format",
        "csv",
    ];
    let run = seglake_in(dir.path(), &[&limits[..], &["-c", query]].concat(), "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The largest 150,000 of 0..200,000 sum to 150000 * (50000 + 199999) / 2.
    assert_eq!(run.stdout, "n,s\n150000,18749925000\n");

    let explain = format!("EXPLAIN ANALYZE {query}");
    let run = seglake_in(
        dir.path(),
        &[&limits[..], &["-c", explain.as_str()]].concat(),
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("spill_count="), "{}", run.stdout);
    assert!(
        !run.stdout.contains("spilled_bytes=0.0 B, spilled_rows=0"),
        "{}",
        run.stdout
    );
}

#[test]
fn truncated_tables_say_how_many_rows_are_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let run = seglake_in(
        dir.path(),
        &["--maxrows", "3", "-c", "SELECT * FROM range(10)"],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.lines().filter(|l| l.starts_with("| ")).count(),
        4
    );
    assert!(
        run.stderr.contains("10 rows; 3 shown, 7 hidden"),
        "{}",
        run.stderr
    );
    // Other formats are never cut.
    let run = seglake_in(
        dir.path(),
        &[
            "--maxrows",
            "3",
            "--format",
            "csv",
            "-c",
            "SELECT * FROM range(10)",
        ],
        "",
    );
    assert_eq!(run.stdout.lines().count(), 11);
}

#[test]
fn functions_are_documented() {
    let dir = tempfile::tempdir().unwrap();
    let run = seglake_in(dir.path(), &["functions", "date_trunc"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("date_trunc (scalar function, DataFusion)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Syntax:\n  date_trunc(precision, expression)"),
        "{}",
        run.stdout
    );

    let run = seglake_in(dir.path(), &["functions", "--all"], "");
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("approx_median ") && l.contains("aggregate"))
    );

    let run = seglake_in(dir.path(), &["functions", "date_trun"], "");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("did you mean date_trunc"),
        "{}",
        run.stderr
    );
}

#[test]
fn demo_generates_once_and_shows_segments() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let args = [
        "demo",
        "--customers",
        "1500",
        "--cache-dir",
        cache.to_str().unwrap(),
    ];
    let run = seglake_in(dir.path(), &args, "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("generating a 1500-customer demo lake"),
        "{}",
        run.stderr
    );
    for heading in [
        "The lake",
        "RFM segments as of 2025-01-01",
        "Lifecycle stages",
        "Value tiers",
        "KPI dashboard",
        "k-means segments",
        "12-month CLV by RFM segment",
    ] {
        assert!(run.stdout.contains(heading), "{heading}: {}", run.stdout);
    }
    assert!(run.stdout.contains("| champions "), "{}", run.stdout);
    // The second run reuses the cached lake.
    let again = seglake_in(dir.path(), &args, "");
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(!again.stderr.contains("generating"), "{}", again.stderr);
}
