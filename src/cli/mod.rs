//! The `seglake` command line: parsing, dispatch, and exit codes.
//!
//! Exit codes: 0 success, 1 a statement, table or output failed, 2 bad usage (unknown flag,
//! bad value, invalid config).

mod args;
mod cluster;
mod maps;
mod serve;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use datafusion::error::DataFusionError;
use datafusion::sql::parser::Statement;

pub use args::{Cli, Command, GlobalArgs, MapsAction, QueriesAction, ServeAction, ServeArgs};

use crate::config::Settings;
use crate::error::{Result, SeglakeError, describe};
use crate::exec::{
    PrintOptions, outcome_note, parse_statements, run_statement, run_statement_to_file,
};
use crate::functions;
use crate::output::format::{MaxRows, OutputFormat};
use crate::{SeglakeBuilder, repl};

/// The origin of statements given on the command line rather than in a file.
const INLINE_SQL: &str = "";

/// Parses the command line, runs it, and turns the outcome into an exit code.
pub fn main() -> ExitCode {
    crate::error::record_panics();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if matches!(cli.command, Some(Command::Serve(_))) {
        // A query's partitions are CPU-bound tasks that may run long between yields; with more
        // worker threads than cores they cannot take every thread, so other clients, statement
        // timeouts and cancel requests are still served while they run (parallelism stays
        // --target-partitions).
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        builder.worker_threads(2 * cores + 2);
    }
    // Planning and (de)serialising the plans of the larger saved queries recurses deeply,
    // above all in debug builds and in a cluster's scheduler; tokio's 2 MiB default is short.
    builder.thread_stack_size(16 << 20);
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let outcome =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(run(cli))));
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
        Err(payload) => {
            eprintln!("error: {}", crate::error::panic_message(payload.as_ref()));
            ExitCode::from(1)
        }
    }
}

/// Runs a parsed command line.
///
/// # Errors
/// A usage error (exit 2) or a failure (exit 1), as one line.
pub async fn run(cli: Cli) -> Result<()> {
    let global = &cli.global;
    if let Some(Command::Functions {
        name,
        all,
        markdown,
    }) = &cli.command
    {
        // Listing functions needs no lake: a config naming a missing one must not stop it.
        let ctx = SeglakeBuilder::new().build().await?;
        return print_functions(&ctx, name.as_deref(), *all, *markdown);
    }
    match &cli.command {
        Some(Command::Gen {
            customers,
            out,
            seed,
            start,
            end,
            overwrite,
            threads,
            layout,
        }) => {
            let mut options = crate::generate::GenOptions::new(*customers, out);
            options.seed = *seed;
            options.start = *start;
            options.end = *end;
            options.overwrite = *overwrite;
            options.quiet = global.quiet;
            options.layout = *layout;
            if let Some(threads) = threads {
                options.threads = usize::from(*threads);
            }
            return generate(&options);
        }
        Some(Command::Demo {
            customers,
            cache_dir,
            regenerate,
        }) => {
            let demo = crate::demo::DemoOptions {
                customers: *customers,
                cache_dir: cache_dir.clone(),
                regenerate: *regenerate,
                quiet: global.quiet,
            };
            return crate::demo::run(&demo).await;
        }
        _ => {}
    }
    if let Some(Command::Serve(ServeArgs {
        action: Some(ServeAction::AddUser { name, file }),
        ..
    })) = &cli.command
    {
        return serve::add_user(name, file);
    }
    let settings = Settings::load(global.config.as_deref())?.override_with(global.settings());
    if let Some(Command::Cluster { role }) = &cli.command {
        return cluster::run(role, global, &settings).await;
    }
    if let Some(Command::Maps { action }) = &cli.command {
        return maps::run(action, &settings).await;
    }
    let library = library(global)?;
    if let Some(Command::Queries { action }) = &cli.command {
        return show_queries(&library, action);
    }
    if let Some(Command::Serve(args)) = &cli.command {
        let options = serve::options(args, global)?;
        let ctx = settings.builder().library(library.clone()).build().await?;
        return crate::serve::serve(ctx, library, options).await;
    }
    if let Some(Command::Report {
        as_of,
        params,
        sections,
    }) = &cli.command
    {
        let Some(output) = global.output.clone() else {
            return Err(SeglakeError::usage(
                "seglake report needs --output FILE.html (a path or URL)",
            ));
        };
        let ctx = settings.builder().library(library.clone()).build().await?;
        let options = crate::report::ReportOptions {
            output,
            as_of: *as_of,
            params: params.clone(),
            sections: sections.clone(),
            quiet: global.quiet,
        };
        return crate::report::write_report(&ctx, &library, &options)
            .await
            .map(|_| ());
    }
    let print = global.print_options()?;
    let ctx = settings.builder().library(library.clone()).build().await?;
    if let Some(Command::Run {
        name,
        params,
        params_file,
        partition_by,
    }) = &cli.command
    {
        let started = std::time::Instant::now();
        let mut log = RunLog {
            query: name.clone(),
            ..RunLog::default()
        };
        let request = RunRequest {
            name,
            params,
            params_file: params_file.as_deref(),
            partition_by,
        };
        let result = run_saved(&ctx, &library, global, &print, &request, &mut log).await;
        if global.log_json {
            log.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
            log.output = global.output.clone();
            match &result {
                Ok(()) => log.status = "ok".into(),
                Err(e) => {
                    log.status = "error".into();
                    log.error = Some(e.to_string());
                }
            }
            if let Ok(line) = serde_json::to_string(&log) {
                eprintln!("{}", crate::storage::secrets::redact(&line));
            }
        }
        return result;
    }

    let mut sources: Vec<(String, String)> = Vec::new();
    if let Some(Command::Sql { sql }) = &cli.command {
        sources.push((INLINE_SQL.into(), sql.join(" ")));
    }
    for sql in &cli.commands {
        sources.push((INLINE_SQL.into(), sql.clone()));
    }
    for file in &cli.files {
        let text = std::fs::read_to_string(file).map_err(|e| {
            SeglakeError::failed(format!("cannot read SQL file '{}': {e}", file.display()))
        })?;
        sources.push((file.display().to_string(), text));
    }
    if sources.is_empty() {
        if global.output.is_some() {
            return Err(SeglakeError::usage(
                "--output needs statements to run: use `seglake sql`, -c or -f (in the REPL, \\o FILE)",
            ));
        }
        return repl::run(ctx, print, library).await;
    }
    run_scripts(&ctx, &sources, &print, global.output.as_deref()).await
}

/// Runs every statement of every source in order. Everything is parsed first, so a syntax
/// error anywhere stops the run before any statement has an effect. With `output`, the last
/// statement's result is written there and earlier results are printed.
async fn run_scripts(
    ctx: &datafusion::prelude::SessionContext,
    sources: &[(String, String)],
    print: &PrintOptions,
    output: Option<&str>,
) -> Result<()> {
    let mut statements: Vec<(String, Statement)> = Vec::new();
    for (origin, text) in sources {
        let parsed = parse_statements(ctx, text).map_err(|e| {
            SeglakeError::failed(format!("{}{}", origin_prefix(origin), describe(&e)))
        })?;
        statements.extend(parsed.into_iter().map(|s| (origin.clone(), s)));
    }
    if statements.is_empty() {
        return Err(SeglakeError::usage("no SQL statements to run"));
    }
    let last = statements.len() - 1;
    for (index, (origin, statement)) in statements.into_iter().enumerate() {
        let outcome = match output {
            Some(location) if index == last => {
                run_statement_to_file(ctx, statement, print, location).await
            }
            _ => {
                let mut stdout = std::io::BufWriter::new(std::io::stdout());
                let outcome = run_statement(ctx, statement, print, &mut stdout).await;
                match stdout.flush() {
                    Ok(()) => outcome,
                    Err(e) => Err(e.into()),
                }
            }
        };
        let outcome = match outcome {
            Ok(outcome) => outcome,
            // A reader that stopped early (`| head`) is not a failure of ours.
            Err(e) if is_broken_pipe(&e) => return Ok(()),
            Err(e) => {
                if print.timing
                    && let Some(bytes) = crate::exec::peak_memory()
                {
                    // Before the error line, so the error stays the last line.
                    eprintln!(
                        "failed; peak memory {:.1} MiB",
                        bytes as f64 / 1024.0 / 1024.0
                    );
                }
                return Err(SeglakeError::failed(format!(
                    "{}{}",
                    origin_prefix(&origin),
                    describe(&e)
                )));
            }
        };
        if let Some(note) = outcome_note(&outcome, print) {
            eprintln!("{note}");
        }
    }
    Ok(())
}

/// The line `--log-json` prints for a run of a saved query.
#[derive(Debug, Default, serde::Serialize)]
struct RunLog {
    query: String,
    params: std::collections::BTreeMap<String, String>,
    status: String,
    rows: Option<usize>,
    duration_ms: f64,
    inputs: Vec<String>,
    output: Option<String>,
    error: Option<String>,
}

/// What `seglake run` was asked for.
struct RunRequest<'a> {
    name: &'a str,
    params: &'a [(String, String)],
    params_file: Option<&'a std::path::Path>,
    partition_by: &'a [String],
}

/// Runs a saved query: parameters from the file, then the command line; result to --output.
async fn run_saved(
    ctx: &datafusion::prelude::SessionContext,
    library: &crate::library::Library,
    global: &GlobalArgs,
    print: &PrintOptions,
    request: &RunRequest<'_>,
    log: &mut RunLog,
) -> Result<()> {
    let name = request.name;
    // Checked here rather than by clap: clap's `requires` does not see --output given before
    // the subcommand.
    if !request.partition_by.is_empty() && global.output.is_none() {
        return Err(SeglakeError::usage(
            "--partition-by needs --output FOLDER (a local folder or a URL)",
        ));
    }
    let query = library.get(name)?;
    let mut given = match request.params_file {
        Some(file) => read_params_file(file)?,
        None => vec![],
    };
    for (key, value) in request.params {
        given.retain(|(k, _)| k != key);
        given.push((key.clone(), value.clone()));
    }
    log.params = given.iter().cloned().collect();
    let df = crate::library::bind(ctx, query, &given).await?;
    log.inputs = crate::library::inputs(&df);
    if let (false, Some(output)) = (request.partition_by.is_empty(), global.output.as_deref()) {
        let rows = crate::output::folder::write_partitioned(
            ctx,
            df,
            print.format,
            output,
            request.partition_by,
        )
        .await
        .map_err(|e| SeglakeError::failed(format!("query {name}: {}", describe(&e))))?;
        log.rows = Some(rows);
        return Ok(());
    }
    let outcome = crate::exec::run_dataframe(ctx, df, print, global.output.as_deref())
        .await
        .map_err(|e| SeglakeError::failed(format!("query {name}: {}", describe(&e))))?;
    log.rows = Some(outcome.summary.rows);
    if let Some(note) = outcome_note(&outcome, print) {
        eprintln!("{note}");
    }
    Ok(())
}

/// The saved queries: built-in, then $SEGLAKE_QUERIES, then --queries folders.
fn library(global: &GlobalArgs) -> Result<crate::library::Library> {
    let mut folders = crate::library::Library::env_folders();
    folders.extend(global.query_dirs.iter().cloned());
    crate::library::Library::load(&folders)
}

fn show_queries(library: &crate::library::Library, action: &QueriesAction) -> Result<()> {
    match action {
        QueriesAction::List => {
            let width = library.queries().map(|q| q.name.len()).max().unwrap_or(0);
            for query in library.queries() {
                println!("{:width$}  {}", query.name, query.description);
                let params = query.params_summary();
                if !params.is_empty() {
                    println!("{:width$}  params: {params}", "");
                }
            }
        }
        QueriesAction::Show { name } => {
            let query = library.get(name)?;
            println!("-- from {}", query.origin);
            print!("{}", query.sql);
            if !query.sql.ends_with('\n') {
                println!();
            }
        }
    }
    Ok(())
}

/// The `key = value` pairs of a parameters file.
fn read_params_file(path: &std::path::Path) -> Result<Vec<(String, String)>> {
    let usage =
        |msg: String| SeglakeError::usage(format!("params file '{}': {msg}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| usage(e.to_string()))?;
    crate::library::parse_params_file(&text).map_err(usage)
}

fn generate(options: &crate::generate::GenOptions) -> Result<()> {
    let summary = crate::generate::generate(options).map_err(|e| {
        let message = describe(&e);
        if matches!(e, DataFusionError::Plan(_)) {
            SeglakeError::usage(message)
        } else {
            SeglakeError::failed(message)
        }
    })?;
    if !options.quiet {
        let counts: Vec<String> = summary
            .rows
            .iter()
            .filter(|(table, _)| table.as_str() != "_truth")
            .map(|(table, rows)| format!("{table} {rows}"))
            .collect();
        eprintln!(
            "wrote {} in {:.1} s: {}",
            options.out.display(),
            summary.seconds,
            counts.join(", ")
        );
    }
    Ok(())
}

/// Errors in a file name the file; statements given on the command line need no name.
fn origin_prefix(origin: &str) -> String {
    match origin {
        INLINE_SQL => String::new(),
        file => format!("{file}: "),
    }
}

fn is_broken_pipe(e: &DataFusionError) -> bool {
    use datafusion::arrow::error::ArrowError;
    match e {
        DataFusionError::IoError(io) => io.kind() == std::io::ErrorKind::BrokenPipe,
        DataFusionError::ArrowError(arrow, _) => {
            matches!(arrow.as_ref(), ArrowError::IoError(_, io) if io.kind() == std::io::ErrorKind::BrokenPipe)
        }
        DataFusionError::Context(_, inner) => is_broken_pipe(inner),
        _ => false,
    }
}

fn print_functions(
    ctx: &datafusion::prelude::SessionContext,
    name: Option<&str>,
    all: bool,
    markdown: bool,
) -> Result<()> {
    let entries = functions::catalogue(ctx);
    let mut stdout = std::io::stdout();
    let text = match name {
        Some(name) => {
            let found = functions::find(&entries, name);
            if found.is_empty() {
                let similar = functions::matching(&entries, name);
                let hint = if similar.is_empty() {
                    "`seglake functions --all` lists every function".to_string()
                } else {
                    let names: Vec<&str> =
                        similar.iter().take(5).map(|e| e.name.as_str()).collect();
                    format!("did you mean {}?", names.join(", "))
                };
                return Err(SeglakeError::failed(format!(
                    "no function named '{name}': {hint}"
                )));
            }
            found
                .iter()
                .map(|e| e.render())
                .collect::<Vec<_>>()
                .join("\n")
        }
        None => {
            let shown: Vec<&functions::FunctionEntry> =
                entries.iter().filter(|e| all || e.seglake).collect();
            if markdown {
                let _ = stdout.write_all(functions::render_markdown(&shown).as_bytes());
                return Ok(());
            }
            let mut text = functions::render_list(&shown);
            if !all {
                let builtins = entries.len() - shown.len();
                text.push_str(&format!(
                    "({} seglake functions; --all also lists DataFusion's {builtins}; \
                     `seglake functions NAME` shows one)\n",
                    shown.len()
                ));
            }
            text
        }
    };
    let _ = stdout.write_all(text.as_bytes());
    Ok(())
}

impl GlobalArgs {
    /// The engine settings given as flags.
    fn settings(&self) -> Settings {
        Settings {
            memory_limit: self.memory_limit,
            temp_dir: self.temp_dir.clone(),
            target_partitions: self.target_partitions(),
            lakes: self.lake.clone(),
            tables: self.table.clone(),
            cluster: self.cluster.clone(),
            segment_maps: self.segment_map.clone(),
            ..Settings::default()
        }
    }

    /// The result format: `--format`, else told by `--output`'s extension, else a table.
    fn print_options(&self) -> Result<PrintOptions> {
        let format = match (self.format, &self.output) {
            (Some(format), _) => format,
            (None, Some(output)) => OutputFormat::from_file_name(output).ok_or_else(|| {
                SeglakeError::usage(format!(
                    "cannot tell the format of --output '{output}' from its extension: \
                     add --format (table, csv, tsv, json, ndjson or parquet)"
                ))
            })?,
            (None, None) => OutputFormat::Table,
        };
        if format.is_binary() && self.output.is_none() && std::io::stdout().is_terminal() {
            return Err(SeglakeError::usage(
                "parquet output is not for a terminal: add --output FILE.parquet",
            ));
        }
        Ok(PrintOptions {
            format,
            max_rows: MaxRows::from_count(self.maxrows),
            quiet: self.quiet,
            timing: self.timing,
        })
    }
}
