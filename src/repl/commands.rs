//! The REPL's backslash commands. Each command is one entry of [`COMMANDS`]: its name, its
//! arguments, a line of help and a parser; `\?`, completion and the README's table all come
//! from that list.

use std::path::PathBuf;

use crate::output::format::OutputFormat;

/// A parsed backslash command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    ListTables,
    DescribeTable(String),
    ListFunctions(Option<String>),
    FunctionHelp(String),
    Timing(Option<bool>),
    Format(OutputFormat),
    MaxRows(usize),
    Output(Option<String>),
    Include(PathBuf),
    Queries,
    Run(String, Vec<(String, String)>),
    /// `\set` alone lists the variables; `\set NAME VALUE` sets one.
    Set(Option<(String, String)>),
    Unset(String),
    Last,
    Pager(Option<bool>),
    /// `\format table-full`: the table format with exact values and every column.
    TableFull,
    Edit(Option<PathBuf>),
    Help,
    Quit,
}

/// One command's definition.
pub struct CommandSpec {
    pub name: &'static str,
    pub args: &'static str,
    pub help: &'static str,
    parse: fn(Option<&str>) -> Result<Command, String>,
}

/// Every backslash command, in the order `\?` shows them.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "\\d",
        args: "[TABLE]",
        help: "list tables, or the columns and types of TABLE",
        parse: parse_describe,
    },
    CommandSpec {
        name: "\\df",
        args: "[PATTERN]",
        help: "list seglake's functions, or every function whose name matches PATTERN",
        parse: parse_functions,
    },
    CommandSpec {
        name: "\\h",
        args: "NAME",
        help: "show a function's documentation with an example",
        parse: parse_function_help,
    },
    CommandSpec {
        name: "\\timing",
        args: "[on|off]",
        help: "show the row count and time after each result (toggles without argument)",
        parse: parse_timing,
    },
    CommandSpec {
        name: "\\format",
        args: "FORMAT",
        help: "set the result format: table (fitted to the terminal, floats shortened), table-full (exact, every column), csv, tsv, json, ndjson or parquet",
        parse: parse_format,
    },
    CommandSpec {
        name: "\\pager",
        args: "[on|off]",
        help: "page results taller than the terminal through $PAGER (default less -S); toggles without argument",
        parse: parse_pager,
    },
    CommandSpec {
        name: "\\last",
        args: "",
        help: "show the last result again, every row",
        parse: |_| Ok(Command::Last),
    },
    CommandSpec {
        name: "\\maxrows",
        args: "N",
        help: "show at most N rows of a table result (0 shows all)",
        parse: parse_max_rows,
    },
    CommandSpec {
        name: "\\o",
        args: "[FILE]",
        help: "write each following result to FILE, replacing it; without FILE, back to the screen",
        parse: parse_output,
    },
    CommandSpec {
        name: "\\i",
        args: "FILE",
        help: "run the statements in FILE",
        parse: parse_include,
    },
    CommandSpec {
        name: "\\queries",
        args: "",
        help: "list the saved queries with their parameters",
        parse: |_| Ok(Command::Queries),
    },
    CommandSpec {
        name: "\\run",
        args: "NAME [KEY=VALUE ...]",
        help: "run a saved query; quote values with spaces: note='a b'",
        parse: parse_run,
    },
    CommandSpec {
        name: "\\set",
        args: "[NAME [VALUE]]",
        help: "set a variable: $NAME in SQL is bound to it as a typed value (a date, number, boolean or text), and \\run uses it for a parameter NAME; alone, list the variables",
        parse: parse_set,
    },
    CommandSpec {
        name: "\\unset",
        args: "NAME",
        help: "remove a variable",
        parse: parse_unset,
    },
    CommandSpec {
        name: "\\e",
        args: "[FILE]",
        help: "edit the last statement (or FILE) in $EDITOR, then run what was saved",
        parse: |arg| Ok(Command::Edit(arg.map(PathBuf::from))),
    },
    CommandSpec {
        name: "\\?",
        args: "",
        help: "show this help",
        parse: |_| Ok(Command::Help),
    },
    CommandSpec {
        name: "\\q",
        args: "",
        help: "quit (Ctrl-D also quits; Ctrl-C cancels the running query)",
        parse: |_| Ok(Command::Quit),
    },
];

/// Parses a line starting with `\`.
///
/// # Errors
/// An unknown command, or a bad argument; the message says what was expected.
pub fn parse(line: &str) -> Result<Command, String> {
    let line = line.trim().trim_end_matches(';').trim_end();
    let (name, arg) = match line.split_once(char::is_whitespace) {
        Some((name, arg)) => (name, Some(arg.trim()).filter(|a| !a.is_empty())),
        None => (line, None),
    };
    let spec = COMMANDS
        .iter()
        .find(|spec| spec.name == name)
        .ok_or_else(|| format!("unknown command {name}: \\? lists the commands"))?;
    (spec.parse)(arg).map_err(|msg| format!("{} {}: {msg}", spec.name, spec.args))
}

/// The text `\?` prints.
pub fn help_text() -> String {
    let width = COMMANDS
        .iter()
        .map(|c| c.name.len() + c.args.len() + 1)
        .max()
        .unwrap_or(0);
    let mut out = String::from("Commands:\n");
    for spec in COMMANDS {
        let usage = format!("{} {}", spec.name, spec.args);
        out.push_str(&format!("  {usage:width$}  {}\n", spec.help));
    }
    out.push_str("\nSQL statements end with ';' and may span lines.\n");
    out
}

/// The commands as a Markdown table, for the README.
pub fn markdown_table() -> String {
    let mut out = String::from("| command | what it does |\n|---|---|\n");
    for spec in COMMANDS {
        // A '|' inside a table cell must be escaped, even in a code span.
        let usage = format!("{} {}", spec.name, spec.args).replace('|', "\\|");
        out.push_str(&format!("| `{}` | {} |\n", usage.trim_end(), spec.help));
    }
    out
}

fn parse_run(arg: Option<&str>) -> Result<Command, String> {
    let arg = arg.ok_or("expected a query name, e.g. \\run rfm_segments as_of=2024-07-01")?;
    let mut words = split_quoted(arg)?.into_iter();
    let name = words.next().unwrap_or_default();
    let params = words
        .map(|word| {
            word.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| format!("expected KEY=VALUE, got '{word}'"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Command::Run(name, params))
}

/// Splits on whitespace, keeping single-quoted parts ('' is a quote) together.
fn split_quoted(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '\'' if quoted && chars.peek() == Some(&'\'') => {
                chars.next();
                word.push('\'');
            }
            '\'' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if quoted {
        return Err("a quote is not closed".into());
    }
    if !word.is_empty() {
        words.push(word);
    }
    Ok(words)
}

fn parse_describe(arg: Option<&str>) -> Result<Command, String> {
    Ok(arg.map_or(Command::ListTables, |t| {
        Command::DescribeTable(t.to_string())
    }))
}

fn parse_functions(arg: Option<&str>) -> Result<Command, String> {
    Ok(Command::ListFunctions(arg.map(str::to_string)))
}

fn parse_function_help(arg: Option<&str>) -> Result<Command, String> {
    arg.map(|name| Command::FunctionHelp(name.to_string()))
        .ok_or_else(|| "expected a function name, e.g. \\h date_trunc".to_string())
}

fn parse_timing(arg: Option<&str>) -> Result<Command, String> {
    match arg.map(str::to_ascii_lowercase).as_deref() {
        None => Ok(Command::Timing(None)),
        Some("on") => Ok(Command::Timing(Some(true))),
        Some("off") => Ok(Command::Timing(Some(false))),
        Some(other) => Err(format!("expected on or off, got '{other}'")),
    }
}

fn parse_format(arg: Option<&str>) -> Result<Command, String> {
    let arg =
        arg.ok_or("expected a format: table, table-full, csv, tsv, json, ndjson or parquet")?;
    if arg.eq_ignore_ascii_case("table-full") {
        return Ok(Command::TableFull);
    }
    arg.parse().map(Command::Format)
}

fn parse_pager(arg: Option<&str>) -> Result<Command, String> {
    match parse_timing(arg)? {
        Command::Timing(on) => Ok(Command::Pager(on)),
        _ => Err("expected on or off".into()),
    }
}

fn parse_set(arg: Option<&str>) -> Result<Command, String> {
    let Some(arg) = arg else {
        return Ok(Command::Set(None));
    };
    let (name, value) = match arg.split_once(char::is_whitespace) {
        Some((name, value)) => (name, value.trim()),
        None => (arg, ""),
    };
    if !super::variables::is_name(name) {
        return Err(format!(
            "'{name}' is not a variable name (letters, digits and _, not starting with a digit)"
        ));
    }
    if value.is_empty() {
        return Err(format!("expected a value, e.g. \\set {name} 2024-07-01"));
    }
    Ok(Command::Set(Some((name.to_string(), value.to_string()))))
}

fn parse_unset(arg: Option<&str>) -> Result<Command, String> {
    arg.map(|name| Command::Unset(name.to_string()))
        .ok_or_else(|| "expected a variable name".to_string())
}

fn parse_max_rows(arg: Option<&str>) -> Result<Command, String> {
    let arg = arg.ok_or("expected a number of rows")?;
    arg.parse()
        .map(Command::MaxRows)
        .map_err(|_| format!("expected a number of rows, got '{arg}'"))
}

fn parse_output(arg: Option<&str>) -> Result<Command, String> {
    Ok(Command::Output(arg.map(str::to_string)))
}

fn parse_include(arg: Option<&str>) -> Result<Command, String> {
    arg.map(|file| Command::Include(PathBuf::from(file)))
        .ok_or_else(|| "expected a file name".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe() {
        assert_eq!(parse("\\d"), Ok(Command::ListTables));
        assert_eq!(
            parse("\\d  orders "),
            Ok(Command::DescribeTable("orders".into()))
        );
    }

    #[test]
    fn functions() {
        assert_eq!(parse("\\df"), Ok(Command::ListFunctions(None)));
        assert_eq!(
            parse("\\df rfm*"),
            Ok(Command::ListFunctions(Some("rfm*".into())))
        );
    }

    #[test]
    fn function_help_needs_a_name() {
        assert_eq!(parse("\\h abs"), Ok(Command::FunctionHelp("abs".into())));
        assert!(
            parse("\\h")
                .unwrap_err()
                .contains("expected a function name")
        );
    }

    #[test]
    fn timing() {
        assert_eq!(parse("\\timing"), Ok(Command::Timing(None)));
        assert_eq!(parse("\\timing OFF"), Ok(Command::Timing(Some(false))));
        assert!(parse("\\timing maybe").unwrap_err().contains("'maybe'"));
    }

    #[test]
    fn format() {
        assert_eq!(
            parse("\\format csv"),
            Ok(Command::Format(OutputFormat::Csv))
        );
        let err = parse("\\format xls").unwrap_err();
        assert!(
            err.starts_with("\\format FORMAT: unknown format 'xls'"),
            "{err}"
        );
    }

    #[test]
    fn max_rows() {
        assert_eq!(parse("\\maxrows 0"), Ok(Command::MaxRows(0)));
        assert!(parse("\\maxrows many").unwrap_err().contains("'many'"));
    }

    #[test]
    fn output_and_include() {
        assert_eq!(
            parse("\\o out.csv"),
            Ok(Command::Output(Some("out.csv".into())))
        );
        assert_eq!(parse("\\o"), Ok(Command::Output(None)));
        assert_eq!(parse("\\i q.sql"), Ok(Command::Include("q.sql".into())));
        assert!(parse("\\i").is_err());
    }

    #[test]
    fn run_with_parameters() {
        assert_eq!(
            parse("\\run rfm_segments as_of=2024-07-01 note='a b' x='it''s'"),
            Ok(Command::Run(
                "rfm_segments".into(),
                vec![
                    ("as_of".into(), "2024-07-01".into()),
                    ("note".into(), "a b".into()),
                    ("x".into(), "it's".into())
                ]
            ))
        );
        assert!(
            parse("\\run")
                .unwrap_err()
                .contains("expected a query name")
        );
        assert!(parse("\\run q oops").unwrap_err().contains("KEY=VALUE"));
        assert!(parse("\\run q a='b").unwrap_err().contains("not closed"));
        assert_eq!(parse("\\queries"), Ok(Command::Queries));
    }

    #[test]
    fn variables_pager_last_and_edit() {
        assert_eq!(parse("\\set"), Ok(Command::Set(None)));
        assert_eq!(
            parse("\\set as_of 2024-07-01"),
            Ok(Command::Set(Some(("as_of".into(), "2024-07-01".into()))))
        );
        assert_eq!(
            parse("\\set note 'a b'"),
            Ok(Command::Set(Some(("note".into(), "'a b'".into()))))
        );
        assert!(
            parse("\\set 1x 2")
                .unwrap_err()
                .contains("not a variable name")
        );
        assert!(parse("\\set x").unwrap_err().contains("expected a value"));
        assert_eq!(parse("\\unset x"), Ok(Command::Unset("x".into())));
        assert_eq!(parse("\\pager off"), Ok(Command::Pager(Some(false))));
        assert_eq!(parse("\\pager"), Ok(Command::Pager(None)));
        assert_eq!(parse("\\last"), Ok(Command::Last));
        assert_eq!(parse("\\e"), Ok(Command::Edit(None)));
        assert_eq!(parse("\\format table-full"), Ok(Command::TableFull));
    }

    #[test]
    fn help_quit_and_unknown() {
        assert_eq!(parse("\\?"), Ok(Command::Help));
        assert_eq!(parse("\\q;"), Ok(Command::Quit));
        assert!(parse("\\x").unwrap_err().contains("\\? lists the commands"));
        let help = help_text();
        assert!(COMMANDS.iter().all(|c| help.contains(c.name)));
    }
}
