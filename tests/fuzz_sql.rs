//! SQL-level fuzz: random calls of every seglake function, with random arguments (columns of
//! every type, NULL constants, wrong constants such as bins 0, k -1 or unknown segment maps,
//! junk structs where models go, nested calls), over a random table, an empty table and in
//! groups and windows. Every call must either answer or fail with one clear line (what the CLI,
//! the REPL and serve print); none may panic, hang or end in one of DataFusion's internal
//! errors (its word for a bug).
//!
//! Seeded; `SEGLAKE_FUZZ_CALLS=N` makes N calls instead of the default (the longer run of
//! the README's Reliability section), `SEGLAKE_FUZZ_DEBUG=1` prints every call and outcome.

mod fuzz_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use datafusion::error::DataFusionError;
use datafusion::physical_plan::collect;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};
use fuzz_support::data;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use seglake_udfs::SeglakeFunction;

const DEFAULT_CALLS: usize = 1_500;
/// A call over a 300-row table that takes longer than this hangs.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Arguments: columns of each type, constants right and wrong, and expressions.
const ARGUMENTS: &[&str] = &[
    // Columns.
    "customer_id",
    "order_ts",
    "order_tz",
    "order_date",
    "amount",
    "score",
    "recent_ts",
    "x",
    "y",
    "CAST(score AS VARCHAR)",
    "amount > 0",
    "make_array(x, y)",
    "make_array(amount)",
    // NULLs of every kind.
    "NULL",
    "CAST(NULL AS DOUBLE)",
    "CAST(NULL AS BIGINT)",
    "CAST(NULL AS TIMESTAMP)",
    "CAST(NULL AS VARCHAR)",
    // Numbers right and wrong.
    "0",
    "1",
    "-1",
    "3",
    "5",
    "11",
    "1000000",
    "0.5",
    "-0.25",
    "1.5",
    "1e308",
    "-1e308",
    "CAST('NaN' AS DOUBLE)",
    "CAST('inf' AS DOUBLE)",
    "9223372036854775807",
    // Text, dates and times.
    "'day'",
    "'week'",
    "'month'",
    "'fortnight'",
    "''",
    "'default'",
    "'no_such_map'",
    "'2024-01-01'",
    "'not a date'",
    "DATE '2024-01-01'",
    "DATE '1900-02-28'",
    "TIMESTAMP '2150-06-01 00:00:00'",
    "TIMESTAMP '1969-12-31 23:59:59'",
    "true",
    // Arrays and structs where features, cuts, options and models go.
    "make_array(1.0, 2.0, 3.0)",
    "make_array(3.0, 2.0, 1.0)",
    "make_array(CAST(NULL AS DOUBLE))",
    "make_array(1.0, CAST('NaN' AS DOUBLE))",
    "named_struct('seed', 7)",
    "named_struct('seed', -1, 'n_init', 0)",
    "named_struct('standardize', 'yes')",
    "named_struct('months', -3, 'discount_rate', 2)",
    "named_struct('new_days', 30)",
    "named_struct('r', 1.0, 'alpha', 2.0)",
    "named_struct('model', 'bgnbd', 'r', 0.2, 'alpha', 4.0, 'a', 0.8, 'b', 2.4)",
    "named_struct('model', 'gammagamma', 'p', 6.0, 'q', 3.8, 'v', 15.0)",
    "named_struct('x', make_array(1.0))",
];

/// Arguments that fit a parameter of the documented syntax, by the parameter's name (and
/// wrong ones among them), so calls get past argument checking into the kernels.
fn plausible(parameter: &str) -> &'static [&'static str] {
    match parameter {
        // Mostly constants, as an as_of must be.
        "as_of" => &[
            "TIMESTAMP '2150-06-01 00:00:00'",
            "'2024-01-01'",
            "DATE '2023-06-30'",
            "DATE '1900-02-28'",
            "order_ts",
            "CAST(NULL AS TIMESTAMP)",
        ],
        "order_ts" | "first_purchase" | "last_purchase" => &[
            "order_ts",
            "order_tz",
            "order_date",
            "recent_ts",
            "TIMESTAMP '2150-06-01 00:00:00'",
            "'2024-01-01'",
            "DATE '1900-02-28'",
            "CAST(NULL AS TIMESTAMP)",
        ],
        // A calibration end before most observation ends, and wrong ones.
        "calibration_end" => &[
            "DATE '1969-12-15'",
            "TIMESTAMP '2020-06-01 12:00:00'",
            "DATE '2199-01-01'",
            "order_ts",
            "CAST(NULL AS DATE)",
        ],
        "observation_end" => &[
            "DATE '2150-06-01'",
            "TIMESTAMP '2199-12-31 00:00:00'",
            "DATE '1900-02-28'",
            "order_date",
            "CAST(NULL AS TIMESTAMP)",
        ],
        "amount" | "value" | "monetary" | "monetary_value" | "avg_order_value" | "spend_365d" => &[
            "amount",
            "abs(amount)",
            "x",
            "0",
            "-1",
            "CAST(NULL AS DOUBLE)",
        ],
        "frequency"
        | "recency"
        | "T"
        | "t"
        | "recency_days"
        | "purchases_per_period"
        | "churn_rate"
        | "margin"
        | "score" => &[
            "score",
            "abs(amount)",
            "customer_id % 5",
            "1",
            "0.5",
            "0",
            "-1",
            "x",
            "CAST(NULL AS DOUBLE)",
        ],
        // A count: whole numbers only.
        "purchases_365d" | "n_periods" | "weight" => {
            &["customer_id % 5", "3", "0", "-1", "CAST(NULL AS BIGINT)"]
        }
        "r" | "f" | "m" => &[
            "1 + customer_id % 5",
            "customer_id % 5",
            "5",
            "6",
            "0",
            "-1",
            "CAST(NULL AS BIGINT)",
            "abs(amount)",
        ],
        "bins" | "k" => &["3", "5", "2", "0", "-1", "100", "CAST(NULL AS BIGINT)"],
        "period" => &["'day'", "'week'", "'month'", "'fortnight'"],
        "multiplier" => &["1", "7", "0", "-2"],
        "map" => &["'default'", "'no_such_map'", "NULL"],
        "lower_is_better" | "standardize" => &["true", "false", "NULL"],
        "penalizer" | "high_share" | "medium_share" => &["0", "0.1", "0.5", "-1", "1.5"],
        "model" => &[
            "(SELECT bg FROM models)",
            "(SELECT pareto FROM models)",
            "(SELECT km FROM models)",
            "(SELECT gg FROM models)",
        ],
        "gg_model" => &["(SELECT gg FROM models)", "(SELECT bg FROM models)"],
        "features" => &[
            "make_array(x, y)",
            "make_array(amount, x)",
            "make_array(1.0, 2.0)",
            "make_array(x)",
        ],
        "cuts" => &[
            "(SELECT rfm_cuts(amount) FROM t)",
            "(SELECT rfm_cuts(amount, 3, true) FROM t)",
            "make_array(1.0, 2.0, 3.0)",
            "make_array(3.0, 2.0, 1.0)",
        ],
        "options" | "thresholds" => &[
            "named_struct('seed', 7, 'n_init', 2)",
            "named_struct('seed', -1, 'n_init', 0)",
            "named_struct('max_iter', 0)",
            "named_struct('months', 3, 'discount_rate', 0.01, 'period', 'week')",
            "named_struct('months', -3)",
            "named_struct('new_days', 30, 'active_days', 10)",
            "named_struct('bogus', 1)",
        ],
        _ => ARGUMENTS,
    }
}

/// A seglake function: name, kind, and the parameter names of its documented syntax with
/// how many of them are required.
struct Function {
    name: String,
    kind: &'static str,
    parameters: Vec<String>,
    required: usize,
}

/// The parameters of a syntax such as `f(a, b [, c [, d => 1]]) OVER (...)`.
fn parameters(syntax: &str) -> (Vec<String>, usize) {
    let Some(open) = syntax.find('(') else {
        return (Vec::new(), 0);
    };
    let inner = &syntax[open + 1..];
    let mut depth = 0_i32;
    let mut end = inner.len();
    for (i, c) in inner.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => {
                end = i;
                break;
            }
            ')' => depth -= 1,
            _ => {}
        }
    }
    let list = &inner[..end];
    let required_part = list.split('[').next().unwrap_or("");
    let names: Vec<String> = list
        .split(',')
        .filter_map(|part| {
            let name = part
                .split("=>")
                .next()?
                .trim()
                .trim_matches(['[', ']', ' ']);
            (!name.is_empty() && !name.contains('(') && !name.contains('\''))
                .then(|| name.to_string())
        })
        .filter(|name| name.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .collect();
    let required = required_part
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .count();
    (names, required)
}

/// The seglake functions.
fn functions() -> Vec<Function> {
    seglake_udfs::all_functions()
        .into_iter()
        .map(|f| {
            let kind = match f {
                SeglakeFunction::Scalar(_) => "scalar",
                SeglakeFunction::Aggregate(_) => "aggregate",
                SeglakeFunction::Window(_) => "window",
            };
            let syntax = f
                .documentation()
                .map(|d| d.syntax_example.clone())
                .unwrap_or_default();
            let (parameters, required) = parameters(&syntax);
            Function {
                name: f.name().to_string(),
                kind,
                parameters,
                required,
            }
        })
        .collect()
}

/// A call that follows the documented syntax: the required parameters and some optional
/// ones, each from its plausible arguments, now and then one replaced by any argument.
fn plausible_call(rng: &mut ChaCha8Rng, function: &Function) -> String {
    let count = rng.random_range(function.required..=function.parameters.len());
    let args: Vec<String> = function.parameters[..count]
        .iter()
        .map(|parameter| {
            let pool = if rng.random_bool(0.05) {
                ARGUMENTS
            } else {
                plausible(parameter)
            };
            pool.choose(rng).expect("arguments").to_string()
        })
        .collect();
    format!("{}({})", function.name, args.join(", "))
}

/// A random call of `name` with `arity` random arguments, sometimes with another seglake call
/// nested as an argument (scalar calls only, so aggregates are not nested in aggregates).
fn call(
    rng: &mut ChaCha8Rng,
    name: &str,
    arity: usize,
    scalars: &[String],
    depth: usize,
) -> String {
    let args: Vec<String> = (0..arity)
        .map(|_| {
            if depth < 2 && rng.random_bool(0.08) {
                let inner = scalars.choose(rng).expect("scalar functions");
                let inner_arity = rng.random_range(0..=7);
                call(rng, inner, inner_arity, scalars, depth + 1)
            } else {
                ARGUMENTS.choose(rng).expect("arguments").to_string()
            }
        })
        .collect();
    format!("{name}({})", args.join(", "))
}

/// A whole query around a random call of `name`.
fn query(rng: &mut ChaCha8Rng, function: &Function, scalars: &[String]) -> String {
    let table = if rng.random_bool(0.15) { "e" } else { "t" };
    let kind = function.kind;
    let call = if rng.random_bool(0.6) {
        plausible_call(rng, function)
    } else {
        // Mostly an arity the function takes, so the junk reaches past counting arguments.
        let arity = if rng.random_bool(0.7) {
            rng.random_range(function.required..=function.parameters.len())
        } else {
            rng.random_range(0..=7)
        };
        call(rng, &function.name, arity, scalars, 0)
    };
    // Sometimes the result goes through another expression (any result type fits these).
    let select = match rng.random_range(0..5) {
        0 => format!("make_array({call})"),
        1 => format!("coalesce({call}, NULL)"),
        2 if kind == "scalar" => format!("CASE WHEN customer_id % 2 = 0 THEN {call} END"),
        _ => call.clone(),
    };
    match kind {
        "aggregate" if rng.random_bool(0.5) => {
            format!("SELECT customer_id % 3 AS g, {select} FROM {table} GROUP BY 1 ORDER BY 1")
        }
        "aggregate" => format!("SELECT {select} FROM {table}"),
        "window" => {
            let over = if rng.random_bool(0.5) {
                "OVER ()"
            } else {
                "OVER (PARTITION BY customer_id % 2)"
            };
            let windowed = select.replacen(&call, &format!("{call} {over}"), 1);
            format!("SELECT {windowed} FROM {table}")
        }
        _ if rng.random_bool(0.2) => {
            format!("SELECT {select} FROM (SELECT * FROM {table} LIMIT 1)")
        }
        _ => format!("SELECT {select} FROM {table} WHERE customer_id % 7 = 0"),
    }
}

async fn session(dir: &std::path::Path) -> SessionContext {
    // The session users get: seglake's configuration and rules, its functions registered.
    let ctx = seglake::SeglakeBuilder::new()
        .target_partitions(2)
        .build()
        .await
        .expect("a seglake session");
    ctx.register_parquet(
        "t",
        dir.to_str().expect("a UTF-8 path"),
        ParquetReadOptions::default(),
    )
    .await
    .expect("the table registers");
    ctx.register_csv(
        "cdnow",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/reference/cdnow_summary_weeks.csv"
        ),
        CsvReadOptions::new(),
    )
    .await
    .expect("the CDNOW summary registers");
    for statement in [
        "CREATE TABLE e AS SELECT * FROM t WHERE false",
        // Fitted models for the functions that take one.
        "CREATE TABLE models AS SELECT \
           bgnbd_fit(frequency, recency, \"T\") AS bg, \
           paretonbd_fit(frequency, recency, \"T\") AS pareto, \
           gammagamma_fit(frequency, monetary_value) AS gg, \
           kmeans_fit(make_array(frequency, recency), 3) AS km FROM cdnow",
    ] {
        ctx.sql(statement)
            .await
            .expect("the table plans")
            .collect()
            .await
            .expect("the table is made");
    }
    ctx
}

/// How one call ended.
enum Outcome {
    Answer,
    Error(String),
    Panic(String),
    Internal(String),
    Hang,
}

/// Whether DataFusion calls the error its own bug, wherever it is wrapped.
fn is_internal(e: &DataFusionError) -> bool {
    match e {
        DataFusionError::Internal(_) => true,
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
            is_internal(inner)
        }
        DataFusionError::Shared(inner) => is_internal(inner),
        DataFusionError::Collection(errors) => errors.iter().any(is_internal),
        DataFusionError::External(inner) => inner
            .downcast_ref::<DataFusionError>()
            .is_some_and(is_internal),
        _ => false,
    }
}

async fn run(ctx: &SessionContext, sql: &str) -> Outcome {
    let ctx = ctx.clone();
    let sql_owned = sql.to_string();
    let task = tokio::spawn(async move {
        let plan = ctx.sql(&sql_owned).await?.create_physical_plan().await?;
        collect(Arc::clone(&plan), ctx.task_ctx()).await
    });
    match tokio::time::timeout(CALL_TIMEOUT, task).await {
        Err(_) => Outcome::Hang,
        Ok(Err(join)) if join.is_panic() => Outcome::Panic(format!("{join:?}")),
        Ok(Err(join)) => Outcome::Panic(format!("task failed: {join}")),
        Ok(Ok(Ok(_))) => Outcome::Answer,
        Ok(Ok(Err(e))) => {
            let raw = e.to_string();
            // DataFusion reports panics inside its own tasks as errors naming them, and its
            // own bugs (a function returning the wrong length or type, say) as internal.
            if raw.contains("panicked") {
                Outcome::Panic(raw)
            } else if is_internal(&e) || raw.contains("likely caused by a bug") {
                Outcome::Internal(raw)
            } else {
                // What the person sees: the message the CLI, the REPL and serve print.
                Outcome::Error(seglake::error::describe(&e))
            }
        }
    }
}

/// An error with its numbers and quoted text taken out, to count distinct errors.
fn shape(message: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in message.chars() {
        match c {
            '\'' | '"' | '`' => {
                quoted = !quoted;
                out.push('_');
            }
            _ if quoted => {}
            c if c.is_ascii_digit() => {
                if !out.ends_with('#') {
                    out.push('#');
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_answers_or_fails_in_one_line_for_any_call() {
    let calls = std::env::var("SEGLAKE_FUZZ_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_CALLS);
    let debug = std::env::var_os("SEGLAKE_FUZZ_DEBUG").is_some();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let rows = data::transactions(11, 300);
    data::write_files(dir.path(), &rows, 2, 11);
    let ctx = session(dir.path()).await;

    let functions = functions();
    let scalars: Vec<String> = functions
        .iter()
        .filter(|f| f.kind == "scalar")
        .map(|f| f.name.clone())
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(18);
    let mut answers: BTreeMap<&str, usize> = BTreeMap::new();
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for i in 0..calls {
        let function = &functions[i % functions.len()];
        let name = &function.name;
        let sql = query(&mut rng, function, &scalars);
        let outcome = run(&ctx, &sql).await;
        if debug {
            let what = match &outcome {
                Outcome::Answer => "answer".to_string(),
                Outcome::Error(e) => e.clone(),
                Outcome::Panic(p) => format!("PANIC {p}"),
                Outcome::Internal(e) => format!("INTERNAL {e}"),
                Outcome::Hang => "HANG".to_string(),
            };
            eprintln!("{sql}\n  -> {what}");
        }
        match outcome {
            Outcome::Answer => *answers.entry(name.as_str()).or_default() += 1,
            Outcome::Error(message) if message.trim().is_empty() || message.contains('\n') => {
                failures.push(format!("{sql}\n  error without one line: {message:?}"));
            }
            Outcome::Error(message) => *errors.entry(shape(&message)).or_default() += 1,
            Outcome::Panic(message) => failures.push(format!("{sql}\n  panicked: {message}")),
            Outcome::Internal(message) => {
                failures.push(format!("{sql}\n  internal error: {message}"));
            }
            Outcome::Hang => failures.push(format!("{sql}\n  no answer in {CALL_TIMEOUT:?}")),
        }
    }
    let answered: usize = answers.values().sum();
    println!(
        "{calls} calls of {} functions: {answered} answered, {} failed with {} distinct \
         one-line errors, {} panics, internal errors or hangs",
        functions.len(),
        errors.values().sum::<usize>(),
        errors.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The calls reach past argument checking: every function answered some of them.
    let silent: Vec<&str> = functions
        .iter()
        .map(|f| f.name.as_str())
        .filter(|name| !answers.contains_key(name))
        .collect();
    assert!(
        silent.is_empty(),
        "functions that never answered: {silent:?}"
    );
}
