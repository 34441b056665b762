//! Completion that knows where the cursor is and what the library holds: after FROM or JOIN
//! only tables and table functions; after `t.` the columns of table (or alias) `t`; inside a
//! function call the columns of the statement's tables; keywords where a keyword fits; saved
//! queries and their parameters after `\run`; segment maps inside `rfm_segment(..., '`; a
//! struct's fields after `v['` when `v` is the result of `rfm(...)`, `btyd_summary(...)` or a
//! model's fit; variables after `$`; file paths after `\i` and `\o`.

use std::collections::BTreeSet;

use datafusion::sql::sqlparser::keywords::ALL_KEYWORDS;
use rustyline::completion::{FilenameCompleter, Pair};

use super::commands::COMMANDS;
use super::helper::CompletionWords;

/// Keywords that begin a statement.
const STATEMENT_KEYWORDS: &[&str] = &[
    "SELECT", "WITH", "EXPLAIN", "CREATE", "COPY", "SHOW", "DESCRIBE", "SET", "INSERT", "DROP",
    "VALUES",
];

/// Keywords that fit inside an expression (a function's arguments).
const EXPRESSION_KEYWORDS: &[&str] = &[
    "DISTINCT",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "CAST",
    "AS",
    "AND",
    "OR",
    "NOT",
    "NULL",
    "IS",
    "IN",
    "BETWEEN",
    "LIKE",
    "INTERVAL",
    "DATE",
    "TIMESTAMP",
    "ORDER",
    "BY",
    "FILTER",
    "WHERE",
    "TRUE",
    "FALSE",
];

/// Functions whose string argument names a segment map.
const MAP_FUNCTIONS: &[&str] = &["rfm_segment", "rfm_segment_rule", "segment_map_bins"];

/// Keywords after which only a table fits.
const TABLE_KEYWORDS: &[&str] = &["FROM", "JOIN", "INTO", "TABLE", "UPDATE", "DESCRIBE"];

/// Candidates for the word ending at `pos`, and where that word starts.
pub fn complete(words: &CompletionWords, line: &str, pos: usize) -> (usize, Vec<Pair>) {
    let before = &line[..pos];
    let trimmed = before.trim_start();
    if trimmed.starts_with('\\') {
        return command(words, line, pos, trimmed);
    }
    let scan = Scan::of(before);
    if let Some(quote) = scan.open_quote {
        let partial = &before[quote + 1..];
        let start = quote + 1;
        if let Some(function) = scan.calls.last()
            && MAP_FUNCTIONS
                .iter()
                .any(|f| function.eq_ignore_ascii_case(f))
        {
            return (start, pairs(words.maps.iter().map(String::as_str), partial));
        }
        // `v['` : the fields of the struct `v` names.
        let head = before[..quote].trim_end();
        if let Some(head) = head.strip_suffix('[') {
            let name = last_word(head);
            if let Some(function) = defining_function(line, name)
                && let Some(fields) = words.struct_fields.get(&function.to_ascii_lowercase())
            {
                return (start, pairs(fields.iter().map(String::as_str), partial));
            }
        }
        return (pos, vec![]);
    }
    let start = before
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '$'))
        .map_or(0, |i| {
            i + before[i..].chars().next().map_or(1, char::len_utf8)
        });
    let word = &before[start..];
    if let Some(variable) = word.strip_prefix('$') {
        return (
            start + 1,
            pairs(words.variables.iter().map(String::as_str), variable),
        );
    }
    if let Some((table, column)) = word.split_once('.') {
        let table = resolve_alias(line, table);
        let pool = words
            .columns
            .iter()
            .filter(|(t, _)| t.eq_ignore_ascii_case(&table))
            .map(|(_, c)| c.as_str());
        return (start + word.len() - column.len(), pairs(pool, column));
    }
    let upper = word.chars().all(|c| !c.is_lowercase()) && word.chars().any(char::is_alphabetic);
    let keywords = |list: &[&str]| keyword_pairs(list.iter().copied(), word, upper);
    let mut found = Vec::new();
    match scan.place() {
        Place::StatementStart => found.extend(keywords(STATEMENT_KEYWORDS)),
        Place::Table => {
            found.extend(pairs(words.tables.iter().map(String::as_str), word));
            found.extend(pairs(
                words.table_functions.iter().map(String::as_str),
                word,
            ));
        }
        Place::Arguments => {
            found.extend(pairs(
                statement_columns(words, line).iter().map(String::as_str),
                word,
            ));
            found.extend(pairs(words.functions.iter().map(String::as_str), word));
            found.extend(keywords(EXPRESSION_KEYWORDS));
        }
        Place::Clause => {
            found.extend(pairs(
                statement_columns(words, line).iter().map(String::as_str),
                word,
            ));
            found.extend(pairs(words.functions.iter().map(String::as_str), word));
            found.extend(pairs(words.tables.iter().map(String::as_str), word));
            found.extend(keywords(ALL_KEYWORDS));
        }
    }
    if word.is_empty() && found.len() > 200 {
        // Every name at once helps nobody; a letter first narrows them.
        found.truncate(200);
    }
    let mut seen = BTreeSet::new();
    found.retain(|p| seen.insert(p.replacement.clone()));
    (start, found)
}

/// Completion of a backslash command and its arguments.
fn command(words: &CompletionWords, line: &str, pos: usize, trimmed: &str) -> (usize, Vec<Pair>) {
    let Some((name, rest)) = trimmed.split_once(char::is_whitespace) else {
        let start = pos - trimmed.len();
        return (start, pairs(COMMANDS.iter().map(|c| c.name), trimmed));
    };
    let rest = rest.trim_start();
    let start = pos - rest.len();
    match name {
        "\\d" => (start, pairs(words.tables.iter().map(String::as_str), rest)),
        "\\h" | "\\df" => (
            start,
            pairs(words.functions.iter().map(String::as_str), rest),
        ),
        "\\set" | "\\unset" if !rest.contains(char::is_whitespace) => (
            start,
            pairs(words.variables.iter().map(String::as_str), rest),
        ),
        "\\i" | "\\o" | "\\e" => FilenameCompleter::new()
            .complete_path(line, pos)
            .unwrap_or((pos, vec![])),
        "\\run" => match rest.split_once(char::is_whitespace) {
            None => (start, pairs(words.queries.keys().map(String::as_str), rest)),
            Some((query, _)) => {
                let current = rest.rsplit(char::is_whitespace).next().unwrap_or_default();
                let start = pos - current.len();
                if current.contains('=') {
                    return (pos, vec![]);
                }
                let given: Vec<&str> = rest
                    .split_whitespace()
                    .filter_map(|w| w.split_once('=').map(|(k, _)| k))
                    .collect();
                let params = words.queries.get(query).cloned().unwrap_or_default();
                let pool: Vec<String> = params
                    .into_iter()
                    .filter(|p| !given.contains(&p.as_str()))
                    .map(|p| format!("{p}="))
                    .collect();
                (start, pairs(pool.iter().map(String::as_str), current))
            }
        },
        _ => (pos, vec![]),
    }
}

/// Where the cursor is in a statement.
#[derive(Debug, PartialEq, Eq)]
enum Place {
    StatementStart,
    /// After FROM, JOIN, ...: a table's name.
    Table,
    /// Inside a function call's parentheses.
    Arguments,
    /// Anywhere else: a select list, WHERE, GROUP BY, ...
    Clause,
}

/// What the text before the cursor is made of.
#[derive(Debug, Default)]
struct Scan {
    /// Upper-cased words and punctuation outside strings and comments, the word being typed
    /// left out.
    tokens: Vec<String>,
    /// The functions whose parentheses are open, innermost last (empty names for plain
    /// parentheses).
    calls: Vec<String>,
    /// Where an unclosed quote starts.
    open_quote: Option<usize>,
}

impl Scan {
    fn of(text: &str) -> Self {
        let mut scan = Self::default();
        let bytes: Vec<(usize, char)> = text.char_indices().collect();
        let mut i = 0;
        let mut last_word = String::new();
        while i < bytes.len() {
            let (at, c) = bytes[i];
            if c == '\'' {
                let mut j = i + 1;
                loop {
                    match bytes.get(j) {
                        None => {
                            scan.open_quote = Some(at);
                            return scan;
                        }
                        Some((_, '\'')) if bytes.get(j + 1).map(|b| b.1) == Some('\'') => j += 2,
                        Some((_, '\'')) => break,
                        Some(_) => j += 1,
                    }
                }
                scan.tokens.push("'".into());
                last_word.clear();
                i = j + 1;
            } else if c == '-' && bytes.get(i + 1).map(|b| b.1) == Some('-') {
                while i < bytes.len() && bytes[i].1 != '\n' {
                    i += 1;
                }
            } else if c.is_alphanumeric() || c == '_' || c == '$' {
                while i < bytes.len()
                    && (bytes[i].1.is_alphanumeric() || matches!(bytes[i].1, '_' | '$' | '.'))
                {
                    i += 1;
                }
                let end = bytes.get(i).map_or(text.len(), |b| b.0);
                last_word = text[at..end].to_string();
                // The word the cursor ends is being typed: it is not yet a token.
                if i < bytes.len() {
                    scan.tokens.push(last_word.to_ascii_uppercase());
                }
            } else {
                match c {
                    '(' => {
                        let function = match scan.tokens.last() {
                            Some(t) if t.chars().next().is_some_and(char::is_alphabetic) => {
                                last_word.clone()
                            }
                            _ => String::new(),
                        };
                        scan.calls.push(function);
                    }
                    ')' => {
                        scan.calls.pop();
                    }
                    ';' => {
                        scan.tokens.clear();
                        scan.calls.clear();
                    }
                    _ => {}
                }
                if !c.is_whitespace() {
                    scan.tokens.push(c.to_string());
                    last_word.clear();
                }
                i += 1;
            }
        }
        scan
    }

    fn place(&self) -> Place {
        let previous = self.tokens.last().map(String::as_str);
        match previous {
            None => Place::StatementStart,
            Some(p) if TABLE_KEYWORDS.contains(&p) => Place::Table,
            Some(",") if self.calls.is_empty() && self.in_from() => Place::Table,
            _ if self.calls.last().is_some_and(|f| !f.is_empty()) => Place::Arguments,
            _ => Place::Clause,
        }
    }

    /// True when the last clause keyword before the cursor is FROM (a list of tables).
    fn in_from(&self) -> bool {
        const CLAUSES: &[&str] = &["SELECT", "WHERE", "GROUP", "ORDER", "HAVING", "ON", "LIMIT"];
        self.tokens
            .iter()
            .rev()
            .find(|t| t.as_str() == "FROM" || CLAUSES.contains(&t.as_str()))
            .is_some_and(|t| t == "FROM")
    }
}

/// The last identifier of `text`.
fn last_word(text: &str) -> &str {
    let start = text
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    &text[start..]
}

/// The tables a statement reads (named after FROM or JOIN), lower-cased.
fn statement_tables(text: &str) -> Vec<(String, Option<String>)> {
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut tables = Vec::new();
    for (i, word) in words.iter().enumerate() {
        if (word.eq_ignore_ascii_case("from") || word.eq_ignore_ascii_case("join"))
            && let Some(table) = words.get(i + 1)
        {
            let mut alias = words.get(i + 2).copied();
            if alias.is_some_and(|a| a.eq_ignore_ascii_case("as")) {
                alias = words.get(i + 3).copied();
            }
            let alias = alias
                .filter(|a| !ALL_KEYWORDS.contains(&a.to_ascii_uppercase().as_str()))
                .map(str::to_ascii_lowercase);
            tables.push((table.to_ascii_lowercase(), alias));
        }
    }
    tables
}

/// The table `name` stands for: itself, or the table it is an alias of.
fn resolve_alias(text: &str, name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    statement_tables(text)
        .into_iter()
        .find(|(_, alias)| alias.as_deref() == Some(lower.as_str()))
        .map_or(lower, |(table, _)| table)
}

/// The columns of the statement's tables; every column when it names none yet.
fn statement_columns(words: &CompletionWords, text: &str) -> BTreeSet<String> {
    let tables: Vec<String> = statement_tables(text)
        .into_iter()
        .map(|(t, _)| t)
        .filter(|t| {
            words
                .tables
                .iter()
                .any(|known| known.eq_ignore_ascii_case(t))
        })
        .collect();
    words
        .columns
        .iter()
        .filter(|(t, _)| tables.is_empty() || tables.iter().any(|s| s.eq_ignore_ascii_case(t)))
        .map(|(_, c)| c.clone())
        .collect()
}

/// The function whose result `name` is (`rfm(...) AS v`, `rfm_score(...) OVER () AS s`).
fn defining_function(text: &str, name: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let name = name.to_ascii_lowercase();
    let needle = format!("as {name}");
    let mut from = 0;
    while let Some(found) = lower[from..].find(&needle) {
        let at = from + found;
        from = at + needle.len();
        let after = lower[from..].chars().next();
        if after.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let mut end = lower[..at].trim_end().len();
        loop {
            if !lower[..end].ends_with(')') {
                break;
            }
            let open = matching_open(&lower[..end])?;
            let function = last_word(lower[..open].trim_end());
            if function == "over" {
                end = lower[..open].trim_end().len() - function.len();
                end = lower[..end].trim_end().len();
                continue;
            }
            if !function.is_empty() {
                return Some(function.to_string());
            }
            break;
        }
    }
    None
}

/// Where the parenthesis closed at the end of `text` opens.
fn matching_open(text: &str) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in text.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn pairs<'a>(pool: impl Iterator<Item = &'a str>, prefix: &str) -> Vec<Pair> {
    let prefix = prefix.to_lowercase();
    pool.filter(|name| name.to_lowercase().starts_with(&prefix))
        .map(|name| Pair {
            display: name.to_string(),
            replacement: name.to_string(),
        })
        .collect()
}

fn keyword_pairs<'a>(pool: impl Iterator<Item = &'a str>, prefix: &str, upper: bool) -> Vec<Pair> {
    pairs(pool, prefix)
        .into_iter()
        .map(|p| {
            let text = if upper {
                p.replacement
            } else {
                p.replacement.to_lowercase()
            };
            Pair {
                display: text.clone(),
                replacement: text,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> CompletionWords {
        let mut words = CompletionWords::default();
        for table in ["transactions", "customers"] {
            words.tables.insert(table.into());
        }
        for (table, column) in [
            ("transactions", "order_ts"),
            ("transactions", "amount"),
            ("transactions", "customer_id"),
            ("customers", "customer_id"),
            ("customers", "signup_ts"),
        ] {
            words.columns.insert((table.into(), column.into()));
        }
        words.functions.insert("date_trunc".into());
        words.functions.insert("rfm".into());
        words.table_functions.insert("generate_series".into());
        words
            .queries
            .insert("rfm_segments".into(), vec!["as_of".into(), "map".into()]);
        words
            .queries
            .insert("retention".into(), vec!["as_of".into()]);
        words.maps = vec!["pymc".into(), "rfm_package".into(), "standard".into()];
        words.variables = vec!["as_of".into()];
        words.struct_fields.insert(
            "rfm".into(),
            vec!["recency_days".into(), "frequency".into(), "monetary".into()],
        );
        words
    }

    fn replacements(line: &str) -> (usize, Vec<String>) {
        let (start, pairs) = complete(&words(), line, line.len());
        (start, pairs.into_iter().map(|p| p.replacement).collect())
    }

    #[test]
    fn after_from_only_tables_and_table_functions() {
        assert_eq!(
            replacements("SELECT * FROM "),
            (
                14,
                vec![
                    "customers".to_string(),
                    "transactions".into(),
                    "generate_series".into()
                ]
            )
        );
        assert_eq!(
            replacements("SELECT * FROM tr").1,
            vec!["transactions".to_string()]
        );
        let (_, found) = replacements("SELECT * FROM customers c JOIN t");
        assert_eq!(found, vec!["transactions".to_string()]);
        assert_eq!(
            replacements("select 1 from customers, t").1,
            vec!["transactions".to_string()]
        );
    }

    #[test]
    fn columns_of_a_table_or_alias_after_a_dot() {
        let (start, found) = replacements("SELECT transactions.am");
        assert_eq!(
            (start, found),
            ("SELECT transactions.".len(), vec!["amount".to_string()])
        );
        let line = "SELECT t.";
        let (_, found) = complete(&words(), &format!("{line} FROM transactions t"), line.len());
        let found: Vec<String> = found.into_iter().map(|p| p.replacement).collect();
        assert_eq!(found, vec!["amount", "customer_id", "order_ts"]);
    }

    #[test]
    fn inside_a_call_the_statements_columns_and_no_statement_keywords() {
        let line = "SELECT date_trunc('month', ";
        let (_, found) = complete(&words(), &format!("{line} FROM customers"), line.len());
        let found: Vec<String> = found.into_iter().map(|p| p.replacement).collect();
        assert!(found.contains(&"signup_ts".to_string()), "{found:?}");
        assert!(
            !found.contains(&"order_ts".to_string()),
            "only the statement's tables"
        );
        assert!(!found.contains(&"select".to_string()) && !found.contains(&"SELECT".to_string()));
        assert!(found.contains(&"case".to_string()));
    }

    #[test]
    fn keywords_where_a_keyword_fits() {
        assert_eq!(replacements("SEL").1, vec!["SELECT".to_string()]);
        assert_eq!(replacements("wi").1, vec!["with".to_string()]);
        let (_, found) = replacements("SELECT amount FROM transactions WH");
        assert!(found.contains(&"WHERE".to_string()), "{found:?}");
        assert!(
            found.iter().all(|k| ALL_KEYWORDS.contains(&k.as_str())),
            "{found:?}"
        );
    }

    #[test]
    fn library_maps_struct_fields_and_variables() {
        assert_eq!(
            replacements("\\run rfm").1,
            vec!["rfm_segments".to_string()]
        );
        assert_eq!(
            replacements("\\run rfm_segments "),
            (18, vec!["as_of=".to_string(), "map=".into()])
        );
        assert_eq!(
            replacements("\\run rfm_segments as_of=2024-01-01 m").1,
            vec!["map=".to_string()]
        );
        let (start, found) = replacements("SELECT rfm_segment(s['r'], s['f'], s['m'], 'rfm");
        assert_eq!(found, vec!["rfm_package".to_string()]);
        assert_eq!(start, "SELECT rfm_segment(s['r'], s['f'], s['m'], '".len());
        let line = "WITH x AS (SELECT rfm(order_ts, amount, $as_of) AS v FROM transactions GROUP BY customer_id) SELECT v['fr";
        assert_eq!(replacements(line).1, vec!["frequency".to_string()]);
        assert_eq!(replacements("SELECT $as").1, vec!["as_of".to_string()]);
        assert_eq!(replacements("\\unset a").1, vec!["as_of".to_string()]);
        assert_eq!(replacements("\\t").1, vec!["\\timing".to_string()]);
        assert_eq!(replacements("\\d cu").1, vec!["customers".to_string()]);
    }

    #[test]
    fn the_function_an_alias_names() {
        assert_eq!(
            defining_function("SELECT rfm(a, b) AS v FROM t", "v").as_deref(),
            Some("rfm")
        );
        assert_eq!(
            defining_function("SELECT rfm_score(x, y, z) OVER () AS s FROM t", "s").as_deref(),
            Some("rfm_score")
        );
        assert_eq!(defining_function("SELECT 1 AS v", "v"), None);
        assert_eq!(defining_function("SELECT f(x) AS vv", "v"), None);
    }
}
