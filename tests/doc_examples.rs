//! Every seglake function's documented SQL example runs on the sample lake `tests/data/lake`
//! and prints exactly the output its documentation shows, so `\h NAME`, `seglake functions`
//! and the README never show a stale or invented result.

use seglake::SeglakeBuilder;
use seglake::output::format::{MaxRows, OutputFormat, write_batches};

const LAKE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/lake");

/// The query (after `> `) and the expected table of a documented example.
fn split_example(example: &str) -> (String, String) {
    let body: Vec<&str> = example
        .lines()
        .filter(|line| !line.starts_with("```"))
        .take_while(|line| !line.is_empty() && !line.starts_with("Read "))
        .collect();
    let table_start = body
        .iter()
        .position(|l| l.starts_with('+'))
        .unwrap_or(body.len());
    let query = body[..table_start]
        .iter()
        .map(|l| l.trim_start_matches("> ").trim())
        .collect::<Vec<_>>()
        .join(" ");
    let table = body[table_start..].join("\n");
    (query, table)
}

#[tokio::test]
async fn documented_examples_print_what_they_show() {
    let ctx = SeglakeBuilder::new().lake(LAKE).build().await.unwrap();
    let mut checked = 0;
    for function in seglake_udfs::all_functions() {
        let name = function.name().to_string();
        let doc = function
            .documentation()
            .unwrap_or_else(|| panic!("{name} is documented"));
        let example = doc
            .sql_example
            .as_deref()
            .unwrap_or_else(|| panic!("{name} has an example"));
        let (query, expected) = split_example(example);
        assert!(!expected.is_empty(), "{name}: the example shows its output");
        let df = ctx
            .sql(&query)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let schema = df.schema().inner().clone();
        let batches = df.collect().await.unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut out = Vec::new();
        write_batches(
            schema,
            &batches,
            OutputFormat::Table,
            MaxRows::Unlimited,
            &mut out,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap().trim_end(),
            expected,
            "{name}: {query}"
        );
        checked += 1;
    }
    assert!(checked >= 9, "every function was checked");
}
