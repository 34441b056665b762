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

use super::commands::COMMANDS;
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
        Ok(complete(&words, line, pos))
    }
}

/// Candidates for the word ending at `pos`, and where that word starts.
pub fn complete(words: &CompletionWords, line: &str, pos: usize) -> (usize, Vec<Pair>) {
    let before = &line[..pos];
    let trimmed = before.trim_start();
    if trimmed.starts_with('\\') && !trimmed.contains(char::is_whitespace) {
        let start = pos - trimmed.len();
        return (
            start,
            candidates(COMMANDS.iter().map(|c| c.name), trimmed, false),
        );
    }
    if let Some(rest) = trimmed
        .strip_prefix("\\d ")
        .or_else(|| trimmed.strip_prefix("\\h "))
    {
        let start = pos - rest.len();
        let pool: Vec<&str> = if trimmed.starts_with("\\d") {
            words.tables.iter().map(String::as_str).collect()
        } else {
            words.functions.iter().map(String::as_str).collect()
        };
        return (start, candidates(pool.into_iter(), rest, false));
    }

    let start = before
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .map_or(0, |i| {
            i + before[i..].chars().next().map_or(1, char::len_utf8)
        });
    let word = &before[start..];
    if word.is_empty() {
        return (pos, vec![]);
    }
    if let Some((table, column)) = word.split_once('.') {
        let pool = words
            .columns
            .iter()
            .filter(|(t, _)| t.eq_ignore_ascii_case(table))
            .map(|(_, c)| c.as_str());
        let start = start + table.len() + 1;
        return (start, candidates(pool, column, false));
    }
    let upper = word.chars().all(|c| !c.is_lowercase()) && word.chars().any(char::is_alphabetic);
    let mut found = candidates(words.tables.iter().map(String::as_str), word, false);
    let columns: BTreeSet<&str> = words.columns.iter().map(|(_, c)| c.as_str()).collect();
    found.extend(candidates(columns.into_iter(), word, false));
    found.extend(candidates(
        words.functions.iter().map(String::as_str),
        word,
        false,
    ));
    found.extend(candidates(ALL_KEYWORDS.iter().copied(), word, !upper));
    let mut seen = BTreeSet::new();
    found.retain(|p| seen.insert(p.replacement.clone()));
    (start, found)
}

fn candidates<'a>(pool: impl Iterator<Item = &'a str>, prefix: &str, lowercase: bool) -> Vec<Pair> {
    let prefix_lower = prefix.to_lowercase();
    pool.filter(|name| name.to_lowercase().starts_with(&prefix_lower))
        .map(|name| {
            let text = if lowercase {
                name.to_lowercase()
            } else {
                name.to_string()
            };
            Pair {
                display: text.clone(),
                replacement: text,
            }
        })
        .collect()
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

    fn words() -> CompletionWords {
        let mut words = CompletionWords::default();
        words.tables.insert("transactions".into());
        words.tables.insert("customers".into());
        words
            .columns
            .insert(("transactions".into(), "order_ts".into()));
        words
            .columns
            .insert(("transactions".into(), "amount".into()));
        words
            .columns
            .insert(("customers".into(), "customer_id".into()));
        words.functions.insert("date_trunc".into());
        words
    }

    fn replacements(line: &str) -> (usize, Vec<String>) {
        let (start, pairs) = complete(&words(), line, line.len());
        (start, pairs.into_iter().map(|p| p.replacement).collect())
    }

    #[test]
    fn tables_columns_functions_and_keywords() {
        let (start, found) = replacements("SELECT * FROM tra");
        assert_eq!((start, found[0].as_str()), (14, "transactions"));
        assert!(
            found.contains(&"transaction".to_string()),
            "keywords follow: {found:?}"
        );
        let (_, found) = replacements("SELECT cust");
        assert!(found.contains(&"customers".into()) && found.contains(&"customer_id".into()));
        assert_eq!(
            replacements("SELECT date_t").1,
            vec!["date_trunc".to_string()]
        );
        assert!(replacements("SEL").1.contains(&"SELECT".to_string()));
        assert!(replacements("sel").1.contains(&"select".to_string()));
    }

    #[test]
    fn columns_after_a_table_name() {
        let (start, found) = replacements("SELECT transactions.am");
        assert_eq!(start, "SELECT transactions.".len());
        assert_eq!(found, vec!["amount".to_string()]);
    }

    #[test]
    fn commands_and_their_arguments() {
        let (start, found) = replacements("\\t");
        assert_eq!((start, found), (0, vec!["\\timing".to_string()]));
        assert_eq!(replacements("\\d cu").1, vec!["customers".to_string()]);
        assert_eq!(replacements("\\h date").1, vec!["date_trunc".to_string()]);
    }

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
