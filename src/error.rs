//! Errors as a person and a pipeline see them: one clear line, and an exit code.

use std::fmt;
use std::process::ExitCode;

use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::ParserError;

/// What went wrong, sorted by who has to act: the caller (usage) or the run itself.
#[derive(Debug)]
pub enum SeglakeError {
    /// The command line, a parameter or a config file is wrong; exit code 2.
    Usage(String),
    /// A statement, a table or an output failed; exit code 1.
    Failed(String),
}

impl SeglakeError {
    pub fn usage(msg: impl Into<String>) -> Self {
        Self::Usage(msg.into())
    }

    pub fn failed(msg: impl Into<String>) -> Self {
        Self::Failed(msg.into())
    }

    /// The process exit code: 1 for a failed run, 2 for bad usage.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::Usage(_) => ExitCode::from(2),
            Self::Failed(_) => ExitCode::from(1),
        }
    }
}

impl fmt::Display for SeglakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(msg) | Self::Failed(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for SeglakeError {}

impl From<DataFusionError> for SeglakeError {
    fn from(e: DataFusionError) -> Self {
        Self::Failed(describe(&e))
    }
}

impl From<std::io::Error> for SeglakeError {
    fn from(e: std::io::Error) -> Self {
        Self::Failed(e.to_string())
    }
}

pub type Result<T, E = SeglakeError> = std::result::Result<T, E>;

/// One readable line for a DataFusion error: wrappers unwrapped, no backtrace, and SQL syntax
/// errors stated with their line and column.
pub fn describe(e: &DataFusionError) -> String {
    let text = match e {
        DataFusionError::SQL(err, _) => format!("SQL syntax error: {}", parser_message(err)),
        DataFusionError::Context(context, inner) => format!("{context}: {}", describe(inner)),
        DataFusionError::Diagnostic(_, inner) => describe(inner),
        DataFusionError::Shared(inner) => describe(inner),
        DataFusionError::Collection(errors) => match errors.first() {
            Some(first) => describe(first),
            None => e.to_string(),
        },
        DataFusionError::Plan(msg) | DataFusionError::Configuration(msg) => msg.clone(),
        DataFusionError::Execution(msg) => msg.clone(),
        DataFusionError::ArrowError(err, _) => err.to_string(),
        DataFusionError::ParquetError(err) => format!("Parquet error: {err}"),
        DataFusionError::ObjectStore(err) => err.to_string(),
        DataFusionError::IoError(err) => err.to_string(),
        DataFusionError::External(err) => match err.downcast_ref::<DataFusionError>() {
            Some(inner) => describe(inner),
            None => err.to_string(),
        },
        other => other.to_string(),
    };
    // One line: DataFusion puts hints such as "Valid fields are ..." on a line of their own.
    strip_backtrace(&text)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn parser_message(err: &ParserError) -> String {
    match err {
        ParserError::ParserError(msg) | ParserError::TokenizerError(msg) => msg.clone(),
        ParserError::RecursionLimitExceeded => "statement nested too deeply".to_string(),
    }
}

fn strip_backtrace(text: &str) -> &str {
    text.split("\n\nbacktrace:")
        .next()
        .unwrap_or(text)
        .trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_keep_their_position() {
        let err = DataFusionError::SQL(
            Box::new(ParserError::ParserError(
                "Expected: an SQL statement, found: SELEC at Line: 1, Column: 1".into(),
            )),
            None,
        );
        assert_eq!(
            describe(&err),
            "SQL syntax error: Expected: an SQL statement, found: SELEC at Line: 1, Column: 1"
        );
    }

    #[test]
    fn context_is_kept_and_wrappers_dropped() {
        let err = DataFusionError::Context(
            "reading orders".into(),
            Box::new(DataFusionError::Plan("no such file".into())),
        );
        assert_eq!(describe(&err), "reading orders: no such file");
    }

    #[test]
    fn messages_are_one_line() {
        let err = DataFusionError::Plan("No field named x.\nValid fields are t.a, t.b.".into());
        assert_eq!(
            describe(&err),
            "No field named x. Valid fields are t.a, t.b."
        );
    }

    #[test]
    fn exit_codes() {
        assert_eq!(SeglakeError::usage("x").exit_code(), ExitCode::from(2));
        assert_eq!(SeglakeError::failed("x").exit_code(), ExitCode::from(1));
    }
}
