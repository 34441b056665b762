//! The README's reference sections are generated from the code (the REPL's command list and
//! the functions' own documentation), so they cannot drift. Run with
//! `SEGLAKE_UPDATE_README=1 cargo test --test readme` to rewrite them after a change.

use seglake::SeglakeBuilder;
use seglake::functions::{catalogue, render_markdown};
use seglake::repl::commands::markdown_table;

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");

/// Replaces the text between `<!-- NAME:start -->` and `<!-- NAME:end -->`.
fn with_section(readme: &str, name: &str, body: &str) -> String {
    let start = format!("<!-- {name}:start -->\n");
    let end = format!("<!-- {name}:end -->");
    let from = readme
        .find(&start)
        .unwrap_or_else(|| panic!("README lacks {start}"))
        + start.len();
    let to = readme
        .find(&end)
        .unwrap_or_else(|| panic!("README lacks {end}"));
    format!("{}{body}{}", &readme[..from], &readme[to..])
}

#[tokio::test]
async fn readme_reference_sections_match_the_code() {
    let readme = std::fs::read_to_string(README).expect("README.md is readable");
    let ctx = SeglakeBuilder::new().build().await.expect("a session");
    let entries = catalogue(&ctx);
    let ours: Vec<_> = entries.iter().filter(|e| e.seglake).collect();
    let functions = if ours.is_empty() {
        "seglake adds no functions of its own yet.\n".to_string()
    } else {
        render_markdown(&ours)
    };
    let expected = with_section(&readme, "repl-commands", &markdown_table());
    let expected = with_section(&expected, "functions", &functions);
    if expected != readme {
        if std::env::var_os("SEGLAKE_UPDATE_README").is_some() {
            std::fs::write(README, &expected).expect("README.md is writable");
        } else {
            panic!(
                "README.md's generated sections are out of date: run \
                 SEGLAKE_UPDATE_README=1 cargo test --test readme"
            );
        }
    }
}
