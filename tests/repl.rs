//! The REPL driven through stdin, as a script or a terminal multiplexer would type into it.

mod common;

use common::{parquet_lake, seglake_in};

#[tokio::test]
async fn multi_line_statements_and_commands() {
    let dir = parquet_lake().await;
    let script = "\
\\format csv
SELECT customer_id,
       sum(amount) AS revenue
FROM transactions
GROUP BY customer_id
ORDER BY customer_id;
\\d
\\d customers
\\df date_tr
\\h abs
\\queries
\\run rfm_segment_summary as_of=2024-05-01
\\q
SELECT 'not reached';
";
    let run = seglake_in(dir.path(), &["--lake", "lake"], script);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = run.stdout;
    assert!(
        out.contains("format csv\ncustomer_id,revenue\n1,20.5\n2,200.0\n"),
        "{out}"
    );
    assert!(
        out.contains("table,columns,location\ncustomers,2,file://"),
        "{out}"
    );
    assert!(out.contains("\ntransactions,5,file://"), "{out}");
    assert!(
        out.contains("column,type,nullable\ncustomer_id,Int64,no\nregion,Utf8View,no\n"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("date_trunc ") && l.contains("scalar")),
        "{out}"
    );
    assert!(out.contains("abs (scalar function, DataFusion)"), "{out}");
    assert!(out.contains("rfm_segments  RFM values"), "{out}");
    assert!(
        out.contains("segment,rule,customers,customer_share"),
        "{out}"
    );
    assert!(!out.contains("not reached"), "{out}");
}

#[test]
fn errors_do_not_end_the_session_but_set_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let script = "SELECT * FROM nope;\n\\nosuch\nSELECT 41 + 1 AS answer;\n";
    let run = seglake_in(dir.path(), &["--format", "csv"], script);
    assert_eq!(run.stdout, "answer\n42\n");
    assert!(
        run.stderr
            .contains("error: table 'datafusion.public.nope' not found"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("error: unknown command \\nosuch"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("2 statements failed"), "{}", run.stderr);
    assert_eq!(run.code, 1);
}

#[test]
fn output_redirection_timing_and_include() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("inc.sql"), "SELECT 7 AS seven;\n").unwrap();
    let script =
        "\\timing on\n\\o out.csv\n\\format csv\nSELECT 1 AS one;\n\\o\n\\i inc.sql\nquit\n";
    let run = seglake_in(dir.path(), &[], script);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.csv")).unwrap(),
        "one\n1\n"
    );
    assert!(run.stdout.contains("seven\n7\n1 row in "), "{}", run.stdout);
}

#[test]
fn a_last_statement_without_semicolon_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let run = seglake_in(dir.path(), &["--format", "csv"], "SELECT 'a;b' AS x");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "x\na;b\n");
}
