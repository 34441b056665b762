//! Line editing help for the REPL: completion of keywords, tables, columns, functions and
//! commands; syntax highlighting; and multi-line statements that run once they end with `;`.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::keywords::ALL_KEYWORDS;
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use crate::exec::statement_complete;

/// The names completion offers, refreshed from the session after each statement.
#[derive(Debug, Default, Clone)]
pub struct CompletionWords {
    pub tables: BTreeSet<String>,
    /// (table, column) pairs.
    pub columns: BTreeSet<(String, String)>,
    pub functions: BTreeSet<String>,
    /// Table functions (`FROM generate_series(...)`, the library's queries as tables).
    pub table_functions: BTreeSet<String>,
    /// Saved queries and their parameter names.
    pub queries: std::collections::BTreeMap<String, Vec<String>>,
    /// The names of the segment maps `rfm_segment(..., 'NAME')` knows.
    pub maps: Vec<String>,
    /// The variables set with `\set`.
    pub variables: Vec<String>,
    /// The fields of the structs seglake's functions return, by function.
    pub struct_fields: std::collections::BTreeMap<String, Vec<String>>,
}

impl CompletionWords {
    /// Reads the tables, columns and functions of the session.
    pub async fn load(ctx: &SessionContext) -> Self {
        let mut words = Self::default();
        let state = ctx.state();
        words
            .functions
            .extend(state.scalar_functions().keys().cloned());
        words
            .functions
            .extend(state.aggregate_functions().keys().cloned());
        words
            .functions
            .extend(state.window_functions().keys().cloned());
        words
            .table_functions
            .extend(state.table_functions().keys().cloned());
        words.maps = seglake_udfs::segment_map_names(ctx);
        let catalogs = state.catalog_list();
        for catalog_name in catalogs.catalog_names() {
            let Some(catalog) = catalogs.catalog(&catalog_name) else {
                continue;
            };
            for schema_name in catalog.schema_names() {
                let Some(schema) = catalog.schema(&schema_name) else {
                    continue;
                };
                for table in schema.table_names() {
                    if let Ok(Some(provider)) = schema.table(&table).await {
                        for field in provider.schema().fields() {
                            words.columns.insert((table.clone(), field.name().clone()));
                        }
                    }
                    words.tables.insert(table);
                }
            }
        }
        words
    }

    /// The fields of the structs seglake's functions return, read from plans of sample calls
    /// (so they follow the functions); computed once per session.
    pub async fn struct_fields_of(
        ctx: &SessionContext,
    ) -> std::collections::BTreeMap<String, Vec<String>> {
        const TS: &str = "CAST(NULL AS TIMESTAMP)";
        let samples = [
            ("rfm", format!("rfm({TS}, 1.0, {TS})")),
            ("btyd_summary", format!("btyd_summary({TS}, 1.0, {TS})")),
            (
                "btyd_calibration_holdout",
                format!("btyd_calibration_holdout({TS}, 1.0, {TS}, {TS})"),
            ),
            ("bgnbd_fit", "bgnbd_fit(1.0, 1.0, 2.0)".to_string()),
            ("mbgnbd_fit", "mbgnbd_fit(1.0, 1.0, 2.0)".to_string()),
            ("paretonbd_fit", "paretonbd_fit(1.0, 1.0, 2.0)".to_string()),
            ("bgbb_fit", "bgbb_fit(1, 1, 2)".to_string()),
            ("gammagamma_fit", "gammagamma_fit(1.0, 1.0)".to_string()),
            (
                "kmeans_fit",
                "kmeans_fit(make_array(1.0, 2.0), 2)".to_string(),
            ),
            ("rfm_score", "rfm_score(1.0, 1.0, 1.0) OVER ()".to_string()),
        ];
        let mut fields = std::collections::BTreeMap::new();
        let state = ctx.state();
        for (name, call) in samples {
            let Ok(plan) = state
                .create_logical_plan(&format!("SELECT {call} AS x"))
                .await
            else {
                continue;
            };
            if let Some(field) = plan.schema().fields().first()
                && let datafusion::arrow::datatypes::DataType::Struct(members) = field.data_type()
            {
                let names = members.iter().map(|f| f.name().clone()).collect();
                fields.insert(name.to_string(), names);
            }
        }
        fields
    }

    /// Adds the saved queries and their parameters.
    pub fn add_library(&mut self, library: &crate::library::Library) {
        for query in library.queries() {
            let params = query.params.iter().map(|p| p.name.clone()).collect();
            self.queries.insert(query.name.clone(), params);
        }
    }
}

/// The rustyline helper of the REPL.
pub struct ReplHelper {
    words: Arc<RwLock<CompletionWords>>,
    color: bool,
}

impl ReplHelper {
    pub fn new(words: Arc<RwLock<CompletionWords>>, color: bool) -> Self {
        Self { words, color }
    }
}

impl Helper for ReplHelper {}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        let trimmed = input.trim();
        if trimmed.is_empty() || trimmed.starts_with('\\') || is_quit_word(trimmed) {
            return Ok(ValidationResult::Valid(None));
        }
        Ok(if statement_complete(input) {
            ValidationResult::Valid(None)
        } else {
            ValidationResult::Incomplete
        })
    }
}

/// `quit` and `exit` leave the REPL, as in most SQL shells.
pub fn is_quit_word(text: &str) -> bool {
    let word = text.trim().trim_end_matches(';').trim();
    word.eq_ignore_ascii_case("quit") || word.eq_ignore_ascii_case("exit")
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let words = self.words.read().map(|w| w.clone()).unwrap_or_default();
        Ok(super::complete::complete(&words, line, pos))
    }
}

const KEYWORD: &str = "\x1b[1;34m";
const STRING: &str = "\x1b[32m";
const NUMBER: &str = "\x1b[33m";
const COMMENT: &str = "\x1b[90m";
const COMMAND: &str = "\x1b[35m";
const RESET: &str = "\x1b[0m";

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if self.color {
            Cow::Owned(highlight_sql(line))
        } else {
            Cow::Borrowed(line)
        }
    }

    fn highlight_char(&self, _line: &str, _pos: usize, kind: CmdKind) -> bool {
        self.color && kind != CmdKind::MoveCursor
    }
}

/// SQL with ANSI colours: keywords, strings, numbers, comments and backslash commands.
pub fn highlight_sql(line: &str) -> String {
    if line.trim_start().starts_with('\\') {
        return format!("{COMMAND}{line}{RESET}");
    }
    let mut out = String::with_capacity(line.len() * 2);
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut i = 0;
    let slice = |from: usize, to: usize| {
        let start = chars[from].0;
        let end = chars.get(to).map_or(line.len(), |(b, _)| *b);
        &line[start..end]
    };
    while i < chars.len() {
        let c = chars[i].1;
        let from = i;
        if c == '\'' {
            i += 1;
            while i < chars.len() && chars[i].1 != '\'' {
                i += 1;
            }
            i = (i + 1).min(chars.len());
            out.push_str(&format!("{STRING}{}{RESET}", slice(from, i)));
        } else if c == '-' && chars.get(i + 1).map(|p| p.1) == Some('-') {
            while i < chars.len() && chars[i].1 != '\n' {
                i += 1;
            }
            out.push_str(&format!("{COMMENT}{}{RESET}", slice(from, i)));
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].1.is_ascii_digit() || chars[i].1 == '.') {
                i += 1;
            }
            out.push_str(&format!("{NUMBER}{}{RESET}", slice(from, i)));
        } else if c.is_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].1.is_alphanumeric() || chars[i].1 == '_') {
                i += 1;
            }
            let word = slice(from, i);
            let upper = word.to_ascii_uppercase();
            if ALL_KEYWORDS.binary_search(&upper.as_str()).is_ok() {
                out.push_str(&format!("{KEYWORD}{word}{RESET}"));
            } else {
                out.push_str(word);
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlighting_marks_keywords_strings_and_numbers() {
        let text = highlight_sql("select 'a' , 42 from t -- note");
        assert_eq!(
            text,
            format!(
                "{KEYWORD}select{RESET} {STRING}'a'{RESET} , {NUMBER}42{RESET} \
                 {KEYWORD}from{RESET} t {COMMENT}-- note{RESET}"
            )
        );
    }

    #[test]
    fn quit_words() {
        assert!(is_quit_word("quit"));
        assert!(is_quit_word(" EXIT; "));
        assert!(!is_quit_word("exit_code"));
    }
}
