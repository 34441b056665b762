//! Running SQL text: split into statements, plan, execute, and stream each result to an output.
//! Shared by `seglake sql`, `-c`, `-f`, the REPL and the tests.

use std::collections::VecDeque;
use std::io::Write;
use std::time::{Duration, Instant};

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::{DataFrame, SessionContext};
use datafusion::sql::parser::{DFParserBuilder, Statement};
use datafusion::sql::sqlparser::dialect::dialect_from_str;

use crate::output::PendingOutput;
use crate::output::format::{MaxRows, OutputFormat, WriteSummary, write_stream};

/// Splits SQL text into statements with the session's SQL dialect.
///
/// # Errors
/// A syntax error, with its line and column.
pub fn parse_statements(ctx: &SessionContext, sql: &str) -> Result<VecDeque<Statement>> {
    let dialect_name = ctx.state().config().options().sql_parser.dialect;
    let dialect = dialect_from_str(dialect_name).ok_or_else(|| {
        DataFusionError::Configuration(format!("unsupported SQL dialect {dialect_name}"))
    })?;
    DFParserBuilder::new(sql)
        .with_dialect(dialect.as_ref())
        .build()?
        .parse_statements()
}

/// Plans and starts one statement; DDL takes effect here and yields an empty stream. A
/// `COPY ... TO` a local path runs to completion here and appears whole or not at all
/// ([`crate::output::copy`]).
///
/// # Errors
/// Planning errors (unknown table or column, type mismatch) and errors starting execution.
pub async fn execute_statement(
    ctx: &SessionContext,
    statement: Statement,
) -> Result<SendableRecordBatchStream> {
    let plan = ctx.state().statement_to_plan(statement).await?;
    crate::output::copy::execute(ctx, plan).await
}

/// How results are shown.
#[derive(Debug, Clone, Copy)]
pub struct PrintOptions {
    pub format: OutputFormat,
    pub max_rows: MaxRows,
    /// No notes on hidden rows (timing is still printed when asked for).
    pub quiet: bool,
    /// Print the row count and time after each result.
    pub timing: bool,
}

impl Default for PrintOptions {
    fn default() -> Self {
        Self {
            format: OutputFormat::Table,
            max_rows: MaxRows::Limited(40),
            quiet: false,
            timing: false,
        }
    }
}

/// What one statement did.
#[derive(Debug, Clone, Copy)]
pub struct StatementOutcome {
    /// False for statements without a result (CREATE VIEW, SET, ...).
    pub has_result: bool,
    pub summary: WriteSummary,
    pub elapsed: Duration,
    /// The process's peak resident memory so far, as the kernel counts it (Linux).
    pub peak_memory: Option<u64>,
}

/// The process's peak resident set size in bytes (`VmHWM` of `/proc/self/status`), where the
/// kernel reports it: what `--memory-limit` is measured against in the README.
pub fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Runs one statement and writes its result, if it has one, to `out`.
///
/// # Errors
/// The statement's error, or a failure writing the result.
pub async fn run_statement(
    ctx: &SessionContext,
    statement: Statement,
    options: &PrintOptions,
    out: &mut (dyn Write + Send),
) -> Result<StatementOutcome> {
    crate::error::catch_panic(run_statement_unguarded(ctx, statement, options, out)).await
}

async fn run_statement_unguarded(
    ctx: &SessionContext,
    statement: Statement,
    options: &PrintOptions,
    out: &mut (dyn Write + Send),
) -> Result<StatementOutcome> {
    let start = Instant::now();
    let stream = execute_statement(ctx, statement).await?;
    write_result(stream, options, out, start).await
}

/// Writes a started result to `out`; a result without columns (DDL) is drained silently.
///
/// # Errors
/// The query's error or a failure writing.
pub async fn write_result(
    stream: SendableRecordBatchStream,
    options: &PrintOptions,
    out: &mut (dyn Write + Send),
    start: Instant,
) -> Result<StatementOutcome> {
    if stream.schema().fields().is_empty() {
        write_stream(
            stream,
            OutputFormat::Csv,
            MaxRows::Unlimited,
            &mut std::io::sink(),
        )
        .await?;
        return Ok(StatementOutcome {
            has_result: false,
            summary: WriteSummary::default(),
            elapsed: start.elapsed(),
            peak_memory: peak_memory(),
        });
    }
    let max_rows = if options.format == OutputFormat::Table {
        options.max_rows
    } else {
        MaxRows::Unlimited
    };
    let summary = write_stream(stream, options.format, max_rows, out).await?;
    Ok(StatementOutcome {
        has_result: true,
        summary,
        elapsed: start.elapsed(),
        peak_memory: peak_memory(),
    })
}

/// Runs a planned query (a bound saved query, say) and writes its result to `output`
/// atomically, or to stdout without one.
///
/// # Errors
/// The query's error or a failure writing; a file target is then left untouched.
pub async fn run_dataframe(
    ctx: &SessionContext,
    df: DataFrame,
    options: &PrintOptions,
    output: Option<&str>,
) -> Result<StatementOutcome> {
    let start = Instant::now();
    crate::error::catch_panic(async {
        match output {
            Some(location) => {
                let mut pending = PendingOutput::create(location)?;
                let options = PrintOptions {
                    max_rows: MaxRows::Unlimited,
                    ..*options
                };
                let mut buffered = std::io::BufWriter::new(pending.file());
                let stream = df.execute_stream().await?;
                let outcome = write_result(stream, &options, &mut buffered, start).await?;
                buffered.flush()?;
                drop(buffered);
                pending.commit(ctx).await?;
                Ok(outcome)
            }
            None => {
                let mut stdout = std::io::BufWriter::new(std::io::stdout());
                let stream = df.execute_stream().await?;
                let outcome = write_result(stream, options, &mut stdout, start).await?;
                stdout.flush()?;
                Ok(outcome)
            }
        }
    })
    .await
}

/// Runs one statement and writes its result atomically to `location` (a path or URL).
///
/// # Errors
/// The statement's error or a failure writing; the target is then left untouched.
pub async fn run_statement_to_file(
    ctx: &SessionContext,
    statement: Statement,
    options: &PrintOptions,
    location: &str,
) -> Result<StatementOutcome> {
    let mut pending = PendingOutput::create(location)?;
    let options = PrintOptions {
        max_rows: MaxRows::Unlimited,
        ..*options
    };
    let mut buffered = std::io::BufWriter::new(pending.file());
    let outcome = run_statement(ctx, statement, &options, &mut buffered).await?;
    buffered.flush()?;
    drop(buffered);
    pending.commit(ctx).await?;
    Ok(outcome)
}

/// Writes a started result to `location` atomically (every row, whatever `options.max_rows`).
///
/// # Errors
/// The query's error or a failure writing; the target is then left untouched.
pub async fn write_result_to_file(
    ctx: &SessionContext,
    stream: SendableRecordBatchStream,
    options: &PrintOptions,
    location: &str,
    start: Instant,
) -> Result<StatementOutcome> {
    let mut pending = PendingOutput::create(location)?;
    let options = PrintOptions {
        max_rows: MaxRows::Unlimited,
        ..*options
    };
    let mut buffered = std::io::BufWriter::new(pending.file());
    let outcome = write_result(stream, &options, &mut buffered, start).await?;
    buffered.flush()?;
    drop(buffered);
    pending.commit(ctx).await?;
    Ok(outcome)
}

/// The note printed after a result: rows, what was hidden, and the time when asked for.
pub fn outcome_note(outcome: &StatementOutcome, options: &PrintOptions) -> Option<String> {
    if (options.quiet && !options.timing) || !outcome.has_result {
        return None;
    }
    let rows = outcome.summary.rows;
    let plural = if rows == 1 { "row" } else { "rows" };
    let hidden = outcome.summary.hidden();
    let mut note = String::new();
    if hidden > 0 {
        note = format!(
            "{rows} {plural}; {} shown, {hidden} hidden (see all with --maxrows 0 or \\maxrows 0)",
            outcome.summary.shown
        );
    } else if options.timing {
        note = format!("{rows} {plural}");
    }
    if options.timing {
        note.push_str(&format!(" in {:.3} s", outcome.elapsed.as_secs_f64()));
        if let Some(bytes) = outcome.peak_memory {
            note.push_str(&format!(
                "; peak memory {:.1} MiB",
                bytes as f64 / 1024.0 / 1024.0
            ));
        }
    }
    (!note.is_empty()).then_some(note)
}

/// True when `text` ends with a `;` outside quotes and comments: the REPL then runs it.
pub fn statement_complete(text: &str) -> bool {
    let mut last_significant = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                // A quoted literal or identifier; doubled quotes stay inside it.
                let mut closed = false;
                while let Some(q) = chars.next() {
                    if q == c {
                        if chars.peek() == Some(&c) {
                            chars.next();
                        } else {
                            closed = true;
                            break;
                        }
                    }
                }
                if !closed {
                    return false;
                }
                last_significant = Some(c);
            }
            '-' if chars.peek() == Some(&'-') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                let mut closed = false;
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        closed = true;
                        break;
                    }
                    prev = n;
                }
                if !closed {
                    return false;
                }
            }
            c if c.is_whitespace() => {}
            c => last_significant = Some(c),
        }
    }
    last_significant == Some(';')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_statements_end_with_a_semicolon_outside_quotes() {
        assert!(statement_complete("SELECT 1;"));
        assert!(statement_complete("SELECT 1;  -- done\n"));
        assert!(statement_complete("SELECT ';'\nFROM t;"));
        assert!(statement_complete("SELECT 'it''s';"));
        assert!(!statement_complete("SELECT 1"));
        assert!(!statement_complete("SELECT ';"));
        assert!(!statement_complete("SELECT 1 -- ;"));
        assert!(!statement_complete("SELECT 1 /* ; */"));
        assert!(!statement_complete("SELECT 1; /* open"));
        assert!(!statement_complete(""));
    }

    #[test]
    fn statements_are_split() {
        let ctx = SessionContext::new();
        let statements = parse_statements(&ctx, "SELECT 1; SELECT ';' AS x;").unwrap();
        assert_eq!(statements.len(), 2);
        let err = parse_statements(&ctx, "SELEC 1").unwrap_err();
        assert!(
            crate::error::describe(&err).contains("Line: 1, Column: 1"),
            "{err}"
        );
    }

    #[test]
    fn notes_say_what_was_hidden() {
        let outcome = StatementOutcome {
            has_result: true,
            summary: WriteSummary {
                rows: 100,
                shown: 40,
            },
            elapsed: Duration::from_millis(1500),
            peak_memory: None,
        };
        let options = PrintOptions::default();
        assert_eq!(
            outcome_note(&outcome, &options).unwrap(),
            "100 rows; 40 shown, 60 hidden (see all with --maxrows 0 or \\maxrows 0)"
        );
        let timed = PrintOptions {
            timing: true,
            ..options
        };
        let all = StatementOutcome {
            summary: WriteSummary { rows: 1, shown: 1 },
            ..outcome
        };
        assert_eq!(outcome_note(&all, &timed).unwrap(), "1 row in 1.500 s");
        let quiet = PrintOptions {
            quiet: true,
            ..options
        };
        assert_eq!(outcome_note(&all, &quiet), None);
        let quiet_timed = PrintOptions {
            quiet: true,
            ..timed
        };
        assert_eq!(
            outcome_note(&all, &quiet_timed).unwrap(),
            "1 row in 1.500 s"
        );
        let measured = StatementOutcome {
            peak_memory: Some(3 * 1024 * 1024 / 2),
            ..all
        };
        assert_eq!(
            outcome_note(&measured, &timed).unwrap(),
            "1 row in 1.500 s; peak memory 1.5 MiB"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn peak_memory_is_read_from_the_kernel() {
        let peak = peak_memory().expect("VmHWM on Linux");
        assert!(peak > 1024 * 1024, "{peak}");
    }
}
