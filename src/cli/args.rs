//! The command-line definitions; `--help` is generated from them.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

use crate::config::parse_byte_size;
use crate::lake::TableSpec;
use crate::output::format::OutputFormat;

const AFTER_HELP: &str = "\
Examples:
  seglake --lake data/lake                      open the REPL on a folder of Parquet tables
  seglake --lake data/lake sql \"SELECT count(*) FROM transactions\"
  seglake --lake s3://bucket/lake -f report.sql --output report.parquet
  seglake functions                             seglake's SQL functions; NAME shows one
  seglake gen --customers 100000 --out lake     a synthetic customer lake with known truth
  seglake demo                                  what seglake finds in a generated lake
  seglake --lake data/lake report --output report.html   the segmentation as one HTML page

Paths may be s3://, gs://, az://, abfss:// or http(s):// URLs; credentials come from the
cloud's standard variables (AWS_*, GOOGLE_*, AZURE_*) or, for S3, AWS_PROFILE.

Exit codes: 0 success, 1 a statement, table or output failed, 2 bad usage.
A seglake.toml in the current folder (or --config FILE) can declare the lake, tables, limits,
and object store timeouts and per-bucket options ([storage], [storage.\"s3://bucket\"]).";

/// Customer segmentation and marketing KPIs as plain SQL over Parquet lakes.
///
/// Without a command or -c/-f, seglake starts an interactive SQL shell (the REPL).
#[derive(Debug, Parser)]
#[command(name = "seglake", version, after_help = AFTER_HELP, args_conflicts_with_subcommands = false)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Run SQL statements and exit (repeatable; runs before -f files)
    #[arg(short = 'c', long = "command", value_name = "SQL")]
    pub commands: Vec<String>,

    /// Run the SQL statements in FILE and exit (repeatable)
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Result format [default: from --output's extension, else table]
    #[arg(long, global = true, value_enum)]
    pub format: Option<OutputFormat>,

    /// Write the last statement's result to PATH (a file or URL), atomically: a failed run
    /// leaves no file
    #[arg(short = 'o', long, global = true, value_name = "PATH")]
    pub output: Option<String>,

    /// Show at most N rows of a table result; 0 shows all (other formats are never cut)
    #[arg(long, global = true, value_name = "N", default_value_t = 40)]
    pub maxrows: usize,

    /// Print results only: no notes on hidden rows or timing
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,

    /// Print each statement's row count, time and the process's peak memory to stderr
    #[arg(long, global = true)]
    pub timing: bool,

    /// With `run`: print one JSON line to stderr per run (query, params, status, rows,
    /// duration_ms, inputs, output, error)
    #[arg(long, global = true)]
    pub log_json: bool,

    /// Register every sub-folder and data file of DIR (a path or URL) as a table (repeatable)
    #[arg(long, global = true, value_name = "DIR")]
    pub lake: Vec<String>,

    /// Register one table from a file or folder (repeatable)
    #[arg(long, global = true, value_name = "NAME=PATH", value_parser = parse_table_spec)]
    pub table: Vec<TableSpec>,

    /// Read settings from FILE instead of ./seglake.toml
    #[arg(long, global = true, value_name = "FILE", env = "SEGLAKE_CONFIG")]
    pub config: Option<PathBuf>,

    /// Memory limit for queries, e.g. 4G or 512M; beyond it, sorts and joins spill to disk
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_byte_size)]
    pub memory_limit: Option<usize>,

    /// Folder for spill files [default: the system's temporary folder]
    #[arg(long, global = true, value_name = "DIR")]
    pub temp_dir: Option<PathBuf>,

    /// Also load saved queries from DIR (repeatable; also $SEGLAKE_QUERIES); they override
    /// built-in queries of the same name
    #[arg(long = "queries", global = true, value_name = "DIR")]
    pub query_dirs: Vec<PathBuf>,

    /// Run queries on the seglake Ballista cluster whose scheduler is at URL, e.g.
    /// df://scheduler:50050 (see `seglake cluster`); also `cluster = "df://..."` in seglake.toml
    #[arg(long, global = true, value_name = "URL", value_parser = parse_cluster_url)]
    pub cluster: Option<crate::distributed::ClusterUrl>,

    /// A segment map of your own for rfm_segment(r, f, m, 'NAME') and saved queries'
    /// --param map=NAME (repeatable; see `seglake maps`); also [segment_maps] in seglake.toml
    /// and _segment_maps/NAME.toml in a lake
    #[arg(long, global = true, value_name = "NAME=FILE")]
    pub segment_map: Vec<crate::lake::segment_maps::MapFile>,

    /// Partitions plans run with [default: number of cores]
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub target_partitions: Option<u16>,
}

impl GlobalArgs {
    pub(crate) fn target_partitions(&self) -> Option<usize> {
        self.target_partitions.map(usize::from)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run SQL statements and exit
    Sql {
        /// The statements, separated by ';'
        #[arg(required = true, value_name = "SQL")]
        sql: Vec<String>,
    },
    /// List seglake's SQL functions, or show one function's documentation
    Functions {
        /// A function name (seglake's or DataFusion's)
        name: Option<String>,
        /// List DataFusion's built-in functions too
        #[arg(long)]
        all: bool,
        /// Print the full reference in Markdown (the README's function reference)
        #[arg(long)]
        markdown: bool,
    },
    /// Start the interactive SQL shell (the default without a command)
    Repl,
    /// Segment maps: list them, show one in its TOML format, or check a map file
    Maps {
        #[command(subcommand)]
        action: MapsAction,
    },
    /// List the saved queries, or show one
    Queries {
        #[command(subcommand)]
        action: QueriesAction,
    },
    /// Run a saved query with typed parameters, e.g.
    /// `seglake run rfm_segments --param as_of=2024-07-01 --output rfm.parquet`
    Run {
        /// The query's name (see `seglake queries list`)
        name: String,
        /// A parameter value (repeatable); wins over --params-file
        #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_key_value)]
        params: Vec<(String, String)>,
        /// A TOML file of parameter values, e.g. `as_of = "2024-07-01"`
        #[arg(long, value_name = "FILE")]
        params_file: Option<PathBuf>,
        /// Write --output as a folder partitioned by COL (repeatable; parquet, csv or ndjson)
        #[arg(long, value_name = "COL")]
        partition_by: Vec<String>,
    },
    /// Generate a synthetic customer lake with known truth (Parquet, one folder per table)
    Gen {
        /// Number of customers (about 20 transactions each over three years)
        #[arg(long, default_value_t = 10_000)]
        customers: u64,
        /// Folder to write the lake into (tables customers, transactions, events, campaigns,
        /// campaign_contacts, surveys, and the truth in _truth/)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Random seed: the same seed and version give byte-identical files
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// First day of the simulated period
        #[arg(long, value_name = "DATE", default_value = "2022-01-01", value_parser = parse_date)]
        start: NaiveDate,
        /// Last day of the simulated period
        #[arg(long, value_name = "DATE", default_value = "2024-12-31", value_parser = parse_date)]
        end: NaiveDate,
        /// Replace an existing lake in DIR (the new one is put in place in one step when complete)
        #[arg(long)]
        overwrite: bool,
        /// Worker threads [default: number of cores]
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        threads: Option<u16>,
        /// Row order of transactions and events: `customer` (each customer's history together)
        /// or `time` (time order across all customers, as an append-only log; same rows)
        #[arg(long, value_enum, default_value = "customer")]
        layout: crate::generate::Layout,
    },
    /// Write the segmentation of the customer base as one self-contained HTML page, e.g.
    /// `seglake --lake lake report --output report.html` (charts from the saved queries; no
    /// external resources; opens offline)
    Report {
        /// The date the report is as of [default: the day after the last transaction]
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        as_of: Option<NaiveDate>,
        /// A parameter for every saved query of the report that takes it (repeatable), e.g.
        /// map=rfm_package, period=day, k=5, window_days=180
        #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_key_value)]
        params: Vec<(String, String)>,
        /// Only these sections, in this order (comma-separated): segments, grid, treemap,
        /// concentration, cohorts, migration, kmeans, clv, kpis [default: all]
        #[arg(long, value_name = "LIST", value_delimiter = ',')]
        sections: Vec<crate::report::SectionId>,
    },
    /// Serve the lake to BI tools and Postgres clients (psql, psycopg, JDBC) over the
    /// PostgreSQL wire protocol, database `seglake`
    Serve(ServeArgs),
    /// Run a role of a seglake cluster (Apache Ballista): a scheduler, or an executor that
    /// joins one; clients then add --cluster df://HOST:PORT
    Cluster {
        #[command(subcommand)]
        role: ClusterRole,
    },
    /// Show what seglake finds in a generated 20,000-customer lake (generated once, then cached)
    Demo {
        /// Number of customers of the demo lake
        #[arg(long, default_value_t = 20_000)]
        customers: u64,
        /// Where the demo lake is cached [default: the user's cache folder, or $SEGLAKE_CACHE]
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
        /// Generate the demo lake again even if it is cached
        #[arg(long)]
        regenerate: bool,
    },
}

const SERVE_AFTER_HELP: &str = "\
Clients connect to the database `seglake`, e.g. psql \"host=127.0.0.1 port=5432 dbname=seglake user=analyst\".
Saved queries are views in the schema `library` (SELECT * FROM library.rfm_segment_summary)
and table functions (SELECT * FROM rfm_segments('2024-07-01')); struct and list columns
arrive as JSON text. Read-only unless --allow-writes: DDL, DML, COPY and CREATE EXTERNAL
TABLE are refused. Passwords are never given on the command line: --user takes it from
$SEGLAKE_PASSWORD, and `seglake serve add-user NAME --users FILE` stores a SCRAM verifier.";

/// `seglake serve`'s options.
#[derive(Debug, Args)]
#[command(after_help = SERVE_AFTER_HELP)]
pub struct ServeArgs {
    #[command(subcommand)]
    pub action: Option<ServeAction>,

    /// Address to listen on; any but a loopback address (127.0.0.1, ::1) requires --user or --users
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:5432")]
    pub bind: std::net::SocketAddr,

    /// Require this user to log in (SCRAM-SHA-256) with the password in $SEGLAKE_PASSWORD
    #[arg(long, value_name = "NAME", conflicts_with = "users")]
    pub user: Option<String>,

    /// Require a log-in as one of the users of FILE (SCRAM verifiers, written by
    /// `seglake serve add-user`)
    #[arg(long, value_name = "FILE")]
    pub users: Option<PathBuf>,

    /// TLS certificate chain (PEM); with --tls-key
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// TLS private key (PEM); with --tls-cert
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Refuse clients that do not use TLS
    #[arg(long)]
    pub require_tls: bool,

    /// Allow DDL, DML, COPY and CREATE EXTERNAL TABLE (for trusted setups only: clients can
    /// then read and write any file the server can)
    #[arg(long)]
    pub allow_writes: bool,

    /// Connections served at once; more are refused with "too many clients"
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Longest a statement may run, planning and sending rows included, e.g. 30s or 10m; 0 for
    /// no limit (clients may set a shorter one with SET statement_timeout)
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_timeout)]
    pub statement_timeout: Timeout,
}

/// A statement timeout; `None` for no limit.
#[derive(Debug, Clone, Copy)]
pub struct Timeout(pub Option<std::time::Duration>);

fn parse_timeout(text: &str) -> Result<Timeout, String> {
    if text.trim() == "0" {
        return Ok(Timeout(None));
    }
    humantime::parse_duration(text.trim())
        .map(|d| Timeout(Some(d)))
        .map_err(|e| format!("expected a duration like 30s or 10m, or 0: {e}"))
}

/// What `seglake serve` does besides serving.
#[derive(Debug, Subcommand)]
pub enum ServeAction {
    /// Add a user to a users file, or change their password (from $SEGLAKE_PASSWORD, else
    /// asked for); the file keeps a SCRAM-SHA-256 verifier, not the password
    AddUser {
        /// The user's name
        name: String,
        /// The users file (created if missing)
        #[arg(long = "users", value_name = "FILE")]
        file: PathBuf,
    },
}

/// `seglake cluster`'s roles.
#[derive(Debug, Subcommand)]
pub enum ClusterRole {
    /// Plan queries and hand their tasks to executors; clients connect here (it lists lake
    /// files with the object stores of `[storage]` and the AWS_*/GOOGLE_*/AZURE_* variables)
    Scheduler {
        /// Address to listen on (clients and executors connect to it)
        #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:50050")]
        bind: std::net::SocketAddr,
        /// Host name clients and executors reach this scheduler by [default: the bound address]
        #[arg(long, value_name = "HOST")]
        external_host: Option<String>,
        /// An executor silent for this long is taken as lost and its tasks run elsewhere
        #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
        executor_timeout: std::time::Duration,
    },
    /// Run query tasks for a scheduler; the global --memory-limit caps the memory its tasks
    /// share (split between task slots, spilling beyond), and `[storage]` of seglake.toml and
    /// the AWS_*/GOOGLE_*/AZURE_* variables give its object stores
    Executor {
        /// The scheduler to join
        #[arg(long, value_name = "HOST:PORT", value_parser = parse_scheduler)]
        scheduler: crate::distributed::ClusterUrl,
        /// Address to serve shuffle data on (Arrow Flight); tasks arrive on --grpc-port
        #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:50051")]
        bind: std::net::SocketAddr,
        /// Port tasks arrive on [default: the --bind port + 1]
        #[arg(long, value_name = "PORT")]
        grpc_port: Option<u16>,
        /// Host name the scheduler and other executors reach this one by [default: the
        /// address it connects from]
        #[arg(long, value_name = "HOST")]
        external_host: Option<String>,
        /// Folder for shuffle files and spills [default: a temporary folder]
        #[arg(long, value_name = "DIR")]
        work_dir: Option<PathBuf>,
        /// Tasks run at once [default: number of cores]
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        concurrent_tasks: Option<u16>,
        /// How long to wait for the scheduler at start
        #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
        scheduler_wait: std::time::Duration,
    },
}

/// What `seglake queries` does.
#[derive(Debug, Subcommand)]
pub enum QueriesAction {
    /// Each query's name, description and parameters
    List,
    /// One query's header and SQL
    Show {
        /// The query's name
        name: String,
    },
}

/// What `seglake maps` does.
#[derive(Debug, Subcommand)]
pub enum MapsAction {
    /// Each segment map's name, bins, rules, fallback and where it comes from (built in, the
    /// lake's _segment_maps/, seglake.toml or --segment-map)
    List,
    /// One map in its TOML format (a starting point for your own)
    Show {
        /// The map's name
        name: String,
    },
    /// Check a map file: how many of the bins^3 score codes each rule gets, rules that never
    /// match, codes no rule covers; exit 1 when a map without fallback leaves codes uncovered
    Check {
        /// The map file (TOML)
        file: PathBuf,
        /// The number of score bins, for a file that does not say [default: 5]
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=20))]
        bins: Option<u32>,
    },
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=VALUE, got '{text}'"))?;
    Ok((key.trim().to_string(), value.to_string()))
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("expected a date like 2024-01-31, got '{text}'"))
}

fn parse_cluster_url(text: &str) -> Result<crate::distributed::ClusterUrl, String> {
    text.parse()
}

/// HOST:PORT, or a df:// URL.
fn parse_scheduler(text: &str) -> Result<crate::distributed::ClusterUrl, String> {
    if text.starts_with("df://") {
        text.parse()
    } else {
        format!("df://{text}").parse()
    }
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("expected a duration like 30s or 2m: {e}"))
}

fn parse_table_spec(text: &str) -> Result<TableSpec, String> {
    text.parse()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_go_anywhere() {
        let cli = Cli::try_parse_from([
            "seglake",
            "--lake",
            "data",
            "sql",
            "SELECT 1",
            "--format",
            "csv",
            "--table",
            "t=x.parquet",
        ])
        .unwrap();
        assert_eq!(cli.global.format, Some(OutputFormat::Csv));
        assert_eq!(cli.global.lake, vec!["data".to_string()]);
        assert_eq!(cli.global.table, vec![TableSpec::new("t", "x.parquet")]);
        assert!(matches!(cli.command, Some(Command::Sql { .. })));
    }

    #[test]
    fn bad_values_are_usage_errors() {
        let err = Cli::try_parse_from(["seglake", "--memory-limit", "4X"]).unwrap_err();
        assert!(err.to_string().contains("unknown size unit"), "{err}");
        let err = Cli::try_parse_from(["seglake", "--table", "nopath"]).unwrap_err();
        assert!(err.to_string().contains("NAME=PATH"), "{err}");
        let err = Cli::try_parse_from(["seglake", "--format", "xls"]).unwrap_err();
        assert!(err.to_string().contains("possible values"), "{err}");
    }

    #[test]
    fn memory_limit_sizes() {
        let cli = Cli::try_parse_from(["seglake", "--memory-limit", "2G"]).unwrap();
        assert_eq!(cli.global.memory_limit, Some(2 << 30));
    }
}
