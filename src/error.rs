//! Errors as a person and a pipeline see them: one clear line, and an exit code.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::process::ExitCode;
use std::sync::Mutex;

use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::ParserError;
use futures::FutureExt;

use crate::storage::secrets::redact;

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
            Self::Usage(msg) | Self::Failed(msg) => f.write_str(&redact(msg)),
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

/// One readable line for a DataFusion error: wrappers unwrapped, no backtrace, SQL syntax
/// errors stated with their line and column, credentials masked.
pub fn describe(e: &DataFusionError) -> String {
    redact(&one_line(e))
}

fn one_line(e: &DataFusionError) -> String {
    let text = match e {
        DataFusionError::SQL(err, _) => format!("SQL syntax error: {}", parser_message(err)),
        // The optimizer names itself when a function's check fails while optimizing; the
        // function's own message is what the person needs.
        DataFusionError::Context(context, inner) if context.starts_with("Optimizer rule") => {
            one_line(inner)
        }
        DataFusionError::Context(context, inner) => format!("{context}: {}", one_line(inner)),
        DataFusionError::Diagnostic(_, inner) => one_line(inner),
        DataFusionError::Shared(inner) => one_line(inner),
        DataFusionError::Collection(errors) => match errors.first() {
            Some(first) => one_line(first),
            None => e.to_string(),
        },
        DataFusionError::Plan(msg) | DataFusionError::Configuration(msg) => msg.clone(),
        DataFusionError::Execution(msg) => msg.clone(),
        DataFusionError::ArrowError(err, _) => store_cause(err.as_ref()),
        DataFusionError::ParquetError(err) => store_cause(err.as_ref()),
        DataFusionError::ObjectStore(err) => crate::storage::explain(err),
        DataFusionError::IoError(err) => store_cause(err),
        DataFusionError::External(err) => match err.downcast_ref::<DataFusionError>() {
            Some(inner) => one_line(inner),
            None => store_cause(err.as_ref()),
        },
        other => other.to_string(),
    };
    // A cluster's errors arrive as the debug text of a gRPC status.
    let text = crate::distributed::readable_error(&text).unwrap_or(text);
    let text = strip_backtrace(&text);
    if let Some(message) = no_matching_signature(text) {
        return message;
    }
    // One line: DataFusion puts hints such as "Valid fields are ..." on a line of their own.
    let text = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    function_argument_error(&text).unwrap_or(text)
}

/// A call of a built-in function with argument types it does not take (`sum` of a text
/// column, say), which DataFusion reports as an internal error with every signature's
/// failure and a list of candidates on lines of their own: the call and the candidates.
fn no_matching_signature(text: &str) -> Option<String> {
    const MARKER: &str = "No function matches the given name and argument types '";
    if function_argument_error(text).is_some() {
        return None;
    }
    let start = text.find(MARKER)? + MARKER.len();
    let call = &text[start..start + text[start..].find('\'')?];
    let candidates: Vec<&str> = text
        .split_once("Candidate functions:")
        .map(|(_, rest)| {
            // One signature per line, until DataFusion's own note on internal errors.
            rest.lines()
                .map(|l| l.trim().trim_end_matches('.'))
                .filter(|l| !l.is_empty())
                .take_while(|l| l.ends_with(')'))
                .collect()
        })
        .unwrap_or_default();
    Some(if candidates.is_empty() {
        format!("no function {call}; cast the arguments to the types it takes")
    } else {
        format!(
            "no function {call}; it takes {}: cast the arguments, e.g. CAST(x AS DOUBLE)",
            candidates.join(", ")
        )
    })
}

/// A function's own argument error ("rfm_segment(r, f, m [, map]): r must be an integer, got
/// Float64"), which DataFusion wraps in two error kinds and follows with the function's
/// candidate signatures: the function's message is what the person needs.
fn function_argument_error(text: &str) -> Option<String> {
    const PREFIX: &str = "Function '";
    const WRAPPER: &str = "' user-defined coercion failed with: ";
    let start = text.find(PREFIX)? + PREFIX.len();
    let name_end = start + text[start..].find(WRAPPER)?;
    let name = &text[start..name_end];
    let inner = &text[name_end + WRAPPER.len()..];
    let inner = ["Error during planning: ", "Execution error: "]
        .iter()
        .find_map(|kind| inner.strip_prefix(kind))
        .unwrap_or(inner);
    let inner = inner
        .split(" No function matches the given name and argument types")
        .next()
        .unwrap_or(inner);
    let inner = inner.strip_suffix('.').unwrap_or(inner).trim();
    Some(if inner.starts_with(name) {
        inner.to_string()
    } else {
        format!("{name}: {inner}")
    })
}

/// The error's own message, or, when an object store failure caused it (a Parquet read whose
/// request failed, say), that failure explained.
fn store_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = Some(err);
    while let Some(current) = cause {
        if let Some(store) = current.downcast_ref::<object_store::Error>() {
            return crate::storage::explain(store);
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && let Some(store) = io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<object_store::Error>())
        {
            return crate::storage::explain(store);
        }
        cause = current.source();
    }
    err.to_string()
}

/// Where and why the last panic happened, recorded by [`record_panics`].
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Replaces the default panic output (a message and a backtrace hint on stderr) with a record
/// that [`catch_panic`] and the CLI turn into one error line.
pub fn record_panics() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let text = format!("{}{location}", payload_text(info.payload()));
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(text);
        }
    }));
}

/// The message of a caught panic, with its location when [`record_panics`] is on.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    let recorded = LAST_PANIC.lock().ok().and_then(|mut last| last.take());
    let text = recorded.unwrap_or_else(|| payload_text(payload));
    format!("internal error: {text} (please report this)")
}

fn payload_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Runs `future`, turning a panic inside it (a bug here or in a dependency, e.g. on a corrupt
/// file) into an error, so one bad query does not end a REPL session.
pub async fn catch_panic<T>(
    future: impl Future<Output = datafusion::error::Result<T>>,
) -> datafusion::error::Result<T> {
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(result) => result,
        Err(payload) => Err(DataFusionError::Execution(panic_message(payload.as_ref()))),
    }
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
    fn a_function_argument_error_is_the_function_own_message() {
        let err = DataFusionError::Plan(
            "Execution error: Function 'rfm_segment' user-defined coercion failed with: Error \
             during planning: rfm_segment(r, f, m [, map]): r must be an integer, got Float64. No \
             function matches the given name and argument types 'rfm_segment(Float64, Int64, \
             Int64)'. You might need to add explicit type casts.\n\tCandidate functions:\n\t\
             rfm_segment(r, f, m, map)"
                .into(),
        );
        assert_eq!(
            describe(&err),
            "rfm_segment(r, f, m [, map]): r must be an integer, got Float64"
        );
        let err = DataFusionError::Execution(
            "Function 'coalesce' user-defined coercion failed with: Error during planning: \
             could not coerce Int64 and Utf8"
                .into(),
        );
        assert_eq!(describe(&err), "coalesce: could not coerce Int64 and Utf8");
    }

    #[test]
    fn a_built_in_call_with_wrong_types_names_the_call_and_the_candidates() {
        let err = DataFusionError::Internal(
            "Function 'sum' failed to match any signature, errors: Error during planning: \
             Function 'sum' requires Decimal, but received String (DataType: Utf8).. No \
             function matches the given name and argument types 'sum(Utf8)'. You might need \
             to add explicit type casts.\n\tCandidate functions:\n\tsum(Decimal)\n\t\
             sum(Float64)"
                .into(),
        );
        assert_eq!(
            describe(&err),
            "no function sum(Utf8); it takes sum(Decimal), sum(Float64): cast the arguments, \
             e.g. CAST(x AS DOUBLE)"
        );
    }

    #[tokio::test]
    async fn panics_become_errors() {
        let err = catch_panic(async {
            let values: Vec<u8> = Vec::new();
            if values.is_empty() {
                panic!("bad footer");
            }
            Ok(())
        })
        .await
        .unwrap_err();
        assert!(
            describe(&err).contains("internal error: bad footer"),
            "{err}"
        );
    }

    #[test]
    fn exit_codes() {
        assert_eq!(SeglakeError::usage("x").exit_code(), ExitCode::from(2));
        assert_eq!(SeglakeError::failed("x").exit_code(), ExitCode::from(1));
    }
}
