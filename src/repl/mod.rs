//! The interactive SQL shell.
//!
//! On a terminal it edits with rustyline (history, completion, highlighting, multi-line
//! statements); with piped input it reads statements from stdin without prompts, so scripts
//! and tests drive the same loop.

pub mod commands;
mod complete;
mod describe;
pub mod display;
mod edit;
pub mod helper;
mod pager;
mod results;
pub mod variables;

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{Config, Editor};

use crate::error::{Result, SeglakeError, describe as describe_error};
use crate::exec::{PrintOptions, outcome_note, parse_statements};
use crate::functions;
use crate::library::Library;
use crate::output::format::{MaxRows, OutputFormat, write_batches};
use commands::Command;
use helper::{CompletionWords, ReplHelper, is_quit_word};

const PROMPT: &str = "seglake> ";
const CONTINUATION: &str = "     ..> ";

/// Where the REPL keeps its history: `$SEGLAKE_HISTORY`, or the user's data folder.
pub fn history_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SEGLAKE_HISTORY") {
        return Some(PathBuf::from(path));
    }
    dirs::data_dir().map(|dir| dir.join("seglake").join("history.txt"))
}

/// Runs the REPL until `\q`, `quit` or end of input.
///
/// # Errors
/// With piped input, a failure of any statement (all statements still run), so
/// `seglake < script.sql` exits non-zero when part of the script failed.
pub async fn run(ctx: SessionContext, mut print: PrintOptions, library: Library) -> Result<()> {
    let interactive = std::io::stdin().is_terminal();
    // A person at a terminal sees each query's time; piped runs stay deterministic.
    print.timing = interactive && !print.quiet;
    let struct_fields = CompletionWords::struct_fields_of(&ctx).await;
    let words = Arc::new(RwLock::new(CompletionWords::default()));
    let mut input = if interactive {
        Input::terminal(Arc::clone(&words), std::io::stdout().is_terminal())?
    } else {
        Input::Piped(std::io::stdin().lock().lines())
    };
    let mut repl = Repl {
        ctx,
        library,
        print,
        output: None,
        words,
        interactive,
        failures: 0,
        vars: variables::Variables::default(),
        screen: results::Screen {
            interactive: interactive && std::io::stdout().is_terminal(),
            pager: true,
            full: false,
        },
        last: None,
        last_statement: String::new(),
        struct_fields,
    };
    repl.refresh_words().await;
    if interactive && !print.quiet {
        println!(
            "seglake {} on DataFusion: SQL ends with ';', \\? for help, \\q to quit.",
            env!("CARGO_PKG_VERSION")
        );
    }

    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() {
            PROMPT
        } else {
            CONTINUATION
        };
        let line = match input.read(prompt) {
            Read::Line(line) => line,
            Read::Interrupted => {
                buffer.clear();
                continue;
            }
            Read::Eof => break,
        };
        if buffer.is_empty() && line.trim_start().starts_with('\\') {
            input.remember(line.trim());
            if let Ok(Command::Edit(file)) = commands::parse(line.trim()) {
                // What the editor saved runs as if typed, and is remembered as typed.
                match repl.edit(file.as_deref()) {
                    Ok(text) if !text.trim().is_empty() => {
                        println!("{}", text.trim_end());
                        input.remember(text.trim_end());
                        repl.run_text(&text).await;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        repl.failures += 1;
                        eprintln!("error: {e}");
                    }
                }
                continue;
            }
            if repl.command(line.trim()).await == Flow::Quit {
                break;
            }
            continue;
        }
        if buffer.is_empty() && line.trim().is_empty() {
            continue;
        }
        buffer.push_str(&line);
        buffer.push('\n');
        if is_quit_word(&buffer) {
            input.remember(buffer.trim());
            break;
        }
        if crate::exec::statement_complete(&buffer) {
            input.remember(buffer.trim_end());
            let text = std::mem::take(&mut buffer);
            repl.run_text(&text).await;
        }
    }
    // Piped input may end without a final ';'.
    if !buffer.trim().is_empty() && !is_quit_word(&buffer) {
        repl.run_text(&buffer).await;
    }
    input.save_history();
    if !repl.interactive && repl.failures > 0 {
        let plural = if repl.failures == 1 { "" } else { "s" };
        return Err(SeglakeError::failed(format!(
            "{} statement{plural} failed",
            repl.failures
        )));
    }
    Ok(())
}

enum Input {
    Terminal {
        editor: Box<Editor<ReplHelper, FileHistory>>,
        history: Option<PathBuf>,
    },
    Piped(std::io::Lines<std::io::StdinLock<'static>>),
}

enum Read {
    Line(String),
    Interrupted,
    Eof,
}

impl Input {
    fn terminal(words: Arc<RwLock<CompletionWords>>, color: bool) -> Result<Self> {
        let config = Config::builder()
            .auto_add_history(false)
            .completion_type(rustyline::CompletionType::List)
            .max_history_size(5000)
            .map_err(|e| SeglakeError::failed(e.to_string()))?
            .build();
        let mut editor: Editor<ReplHelper, FileHistory> = Editor::with_config(config)
            .map_err(|e| SeglakeError::failed(format!("cannot start the line editor: {e}")))?;
        editor.set_helper(Some(ReplHelper::new(words, color)));
        let history = history_path();
        if let Some(path) = &history {
            // A first run has no history yet; that is not an error.
            let _ = editor.load_history(path);
        }
        Ok(Self::Terminal {
            editor: Box::new(editor),
            history,
        })
    }

    fn read(&mut self, prompt: &str) -> Read {
        match self {
            Self::Terminal { editor, .. } => match editor.readline(prompt) {
                Ok(line) => Read::Line(line),
                Err(ReadlineError::Interrupted) => Read::Interrupted,
                Err(ReadlineError::Eof) => Read::Eof,
                Err(e) => {
                    eprintln!("error: reading input: {e}");
                    Read::Eof
                }
            },
            Self::Piped(lines) => match lines.next() {
                Some(Ok(line)) => Read::Line(line),
                Some(Err(e)) => {
                    eprintln!("error: reading input: {e}");
                    Read::Eof
                }
                None => Read::Eof,
            },
        }
    }

    fn remember(&mut self, entry: &str) {
        if let Self::Terminal { editor, .. } = self {
            let _ = editor.add_history_entry(entry);
        }
    }

    fn save_history(&mut self) {
        if let Self::Terminal {
            editor,
            history: Some(path),
        } = self
        {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            if let Err(e) = editor.save_history(path) {
                eprintln!("warning: cannot save history to {}: {e}", path.display());
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Quit,
}

struct Repl {
    ctx: SessionContext,
    library: Library,
    print: PrintOptions,
    /// Set by `\o FILE`: results are written there instead of the screen.
    output: Option<String>,
    words: Arc<RwLock<CompletionWords>>,
    interactive: bool,
    failures: usize,
    vars: variables::Variables,
    screen: results::Screen,
    last: Option<results::LastResult>,
    /// The SQL text last run, for `\e`.
    last_statement: String,
    /// The fields of seglake's struct results, for completion.
    struct_fields: std::collections::BTreeMap<String, Vec<String>>,
}

impl Repl {
    /// Runs the statements of `text`; Ctrl-C cancels the running one on a terminal.
    async fn run_text(&mut self, text: &str) {
        if !text.trim().is_empty() {
            self.last_statement = text.trim_end().to_string();
        }
        let result = if self.interactive {
            tokio::select! {
                result = self.run_statements(text) => result,
                _ = tokio::signal::ctrl_c() => {
                    eprintln!("query cancelled");
                    Ok(())
                }
            }
        } else {
            self.run_statements(text).await
        };
        if let Err(e) = result {
            self.failures += 1;
            eprintln!("error: {}", describe_error(&e));
        }
        self.refresh_words().await;
    }

    /// Completion's names: the session's tables and functions, the library, the variables.
    async fn refresh_words(&self) {
        let mut words = CompletionWords::load(&self.ctx).await;
        words.add_library(&self.library);
        words.variables = self.vars.names();
        words.struct_fields = self.struct_fields.clone();
        if let Ok(mut current) = self.words.write() {
            *current = words;
        }
    }

    async fn run_statements(&mut self, text: &str) -> datafusion::error::Result<()> {
        for statement in parse_statements(&self.ctx, text)? {
            let start = std::time::Instant::now();
            let (ctx, vars) = (&self.ctx, &self.vars);
            // A panic while planning is an error of this statement, not the end of the session.
            let stream = crate::error::catch_panic(async {
                let plan = ctx.state().statement_to_plan(statement).await?;
                let plan = vars.bind(plan)?;
                crate::output::copy::execute(ctx, plan).await
            })
            .await?;
            let outcome = self.write(stream, start).await?;
            if let Some(note) = outcome_note(&outcome, &self.print) {
                println!("{note}");
            }
        }
        Ok(())
    }

    /// Shows a started result, or writes it to the `\o` file.
    async fn write(
        &mut self,
        stream: datafusion::execution::SendableRecordBatchStream,
        start: std::time::Instant,
    ) -> datafusion::error::Result<crate::exec::StatementOutcome> {
        if let Some(file) = &self.output {
            return crate::exec::write_result_to_file(&self.ctx, stream, &self.print, file, start)
                .await;
        }
        if self.print.format.is_binary() && std::io::stdout().is_terminal() {
            return Err(DataFusionError::Plan(
                "parquet results cannot be shown on a terminal: use \\o FILE or \\format table"
                    .into(),
            ));
        }
        crate::error::catch_panic(results::show(
            stream,
            &self.print,
            self.screen,
            &mut self.last,
            start,
        ))
        .await
    }

    /// The text to run after `\e`: the last statement (or `file`) as the editor saved it.
    fn edit(&self, file: Option<&std::path::Path>) -> Result<String> {
        edit::edit(&self.last_statement, file)
    }

    async fn command(&mut self, line: &str) -> Flow {
        let command = match commands::parse(line) {
            Ok(command) => command,
            Err(msg) => {
                self.failures += 1;
                eprintln!("error: {msg}");
                return Flow::Continue;
            }
        };
        if let Err(e) = self.execute(command.clone()).await {
            self.failures += 1;
            eprintln!("error: {e}");
        }
        if command == Command::Quit {
            Flow::Quit
        } else {
            Flow::Continue
        }
    }

    async fn execute(&mut self, command: Command) -> Result<()> {
        match command {
            Command::ListTables => {
                let batch = describe::tables(&self.ctx).await?;
                self.show(batch)?;
            }
            Command::DescribeTable(table) => {
                let batch = describe::columns(&self.ctx, &table).await?;
                self.show(batch)?;
            }
            Command::ListFunctions(pattern) => self.list_functions(pattern.as_deref()),
            Command::FunctionHelp(name) => {
                let entries = functions::catalogue(&self.ctx);
                let found = functions::find(&entries, &name);
                if found.is_empty() {
                    return Err(SeglakeError::failed(format!(
                        "no function named '{name}': \\df {name} searches by part of a name"
                    )));
                }
                for entry in found {
                    println!("{}", entry.render());
                }
            }
            Command::Timing(on) => {
                self.print.timing = on.unwrap_or(!self.print.timing);
                println!("timing {}", if self.print.timing { "on" } else { "off" });
            }
            Command::Format(format) => {
                self.print.format = format;
                self.screen.full = false;
                println!("format {format}");
            }
            Command::TableFull => {
                self.print.format = OutputFormat::Table;
                self.screen.full = true;
                println!("format table-full");
            }
            Command::Pager(on) => {
                self.screen.pager = on.unwrap_or(!self.screen.pager);
                println!("pager {}", if self.screen.pager { "on" } else { "off" });
            }
            Command::Last => {
                let rows = results::show_last(self.last.as_ref(), &self.print, self.screen)?;
                if !self.print.quiet {
                    println!("{rows} row{}", if rows == 1 { "" } else { "s" });
                }
            }
            Command::Set(None) => print!("{}", self.vars.listing()),
            Command::Set(Some((name, value))) => {
                let variable = self.vars.set(&name, &value);
                println!("{name} = {} ({})", variable.text, variable.kind);
                self.refresh_words().await;
            }
            Command::Unset(name) => {
                if !self.vars.unset(&name) {
                    return Err(SeglakeError::failed(format!(
                        "no variable named '{name}' (\\set lists them)"
                    )));
                }
                self.refresh_words().await;
            }
            // Handled by the loop, which runs what the editor saved.
            Command::Edit(_) => {}
            Command::MaxRows(rows) => {
                self.print.max_rows = MaxRows::from_count(rows);
                println!(
                    "maxrows {}",
                    if rows == 0 {
                        "unlimited".into()
                    } else {
                        rows.to_string()
                    }
                );
            }
            Command::Output(file) => {
                match &file {
                    Some(file) => println!("results go to {file}"),
                    None => println!("results go to the screen"),
                }
                self.output = file;
            }
            Command::Include(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    SeglakeError::failed(format!("cannot read '{}': {e}", path.display()))
                })?;
                Box::pin(self.run_text(&text)).await;
            }
            Command::Queries => {
                for query in self.library.queries() {
                    println!("{}  {}", query.name, query.description);
                    let params = query.params_summary();
                    if !params.is_empty() {
                        println!("    params: {params}");
                    }
                }
            }
            Command::Run(name, params) => {
                let query = self.library.get(&name)?;
                let params = self.vars.run_params(query, &params);
                let df = crate::library::bind(&self.ctx, query, &params).await?;
                let start = std::time::Instant::now();
                let run = async {
                    let stream = df.execute_stream().await?;
                    self.write(stream, start).await
                };
                let outcome = run.await.map_err(|e| {
                    SeglakeError::failed(format!("query {name}: {}", describe_error(&e)))
                })?;
                if let Some(note) = outcome_note(&outcome, &self.print) {
                    println!("{note}");
                }
            }
            Command::Help => print!("{}", commands::help_text()),
            Command::Quit => {}
        }
        Ok(())
    }

    fn list_functions(&self, pattern: Option<&str>) {
        let entries = functions::catalogue(&self.ctx);
        let shown: Vec<&functions::FunctionEntry> = match pattern {
            Some(pattern) => functions::matching(&entries, pattern),
            None => entries.iter().filter(|e| e.seglake).collect(),
        };
        print!("{}", functions::render_list(&shown));
        if pattern.is_none() {
            let builtins = entries.iter().filter(|e| !e.seglake).count();
            println!(
                "({} seglake functions; \\df PATTERN also searches DataFusion's {builtins}, \
                 \\h NAME shows one)",
                shown.len()
            );
        } else if shown.is_empty() {
            println!("(no function matches '{}')", pattern.unwrap_or_default());
        }
    }

    fn show(&self, batch: datafusion::arrow::array::RecordBatch) -> Result<()> {
        let format = match self.print.format {
            OutputFormat::Parquet => OutputFormat::Table,
            other => other,
        };
        let mut stdout = std::io::stdout();
        write_batches(
            batch.schema(),
            &[batch],
            format,
            MaxRows::Unlimited,
            &mut stdout,
        )?;
        Ok(())
    }
}
