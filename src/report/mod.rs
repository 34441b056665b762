//! `seglake report`: the segmentation of a customer base as one self-contained HTML page.
//!
//! Every chart is drawn from a saved query of the library (its data table names the command
//! that gives the same numbers), run with the report's as_of and the user's `--param`s. The
//! page has no external reference: styles, inline SVG charts with a `<title>` tooltip on every
//! mark, the exact data as JSON and a small script for CSV downloads are all in the file,
//! which is written atomically (a failed report leaves no file).

mod charts;
mod format;
mod page;
mod palette;
mod runner;
mod sections;
mod svg;
mod table;

use std::io::Write;
use std::time::Instant;

use chrono::{Days, Months, NaiveDate};
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;

pub use sections::SectionId;

use crate::error::{Result, SeglakeError, describe};
use crate::library::Library;
use crate::output::PendingOutput;
use page::{InputFile, Summary};
use runner::Runner;

/// The tables the report cannot do without, and the columns its queries read from them.
const REQUIRED: &[(&str, &str)] = &[("transactions", "customer_id, order_ts, amount")];

/// What `seglake report` was asked for.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Where the page goes: a path or URL.
    pub output: String,
    /// The date the report is as of [default: the day after the last transaction].
    pub as_of: Option<NaiveDate>,
    /// `--param`s, passed to every query that declares them.
    pub params: Vec<(String, String)>,
    /// The sections to show [default: all].
    pub sections: Vec<SectionId>,
    /// No progress on stderr.
    pub quiet: bool,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct ReportOutcome {
    pub bytes: usize,
    pub figures: usize,
    /// Figures that say why they are not drawn.
    pub unavailable: usize,
}

/// Runs the report's queries and writes the page.
///
/// # Errors
/// A usage error for a `--param` no query of the report takes; a failure when a required
/// table is missing or the output cannot be written. Queries that fail on the data (a model
/// on too few customers, a table the lake lacks) are not errors: their figures say why.
pub async fn write_report(
    ctx: &SessionContext,
    library: &Library,
    options: &ReportOptions,
) -> Result<ReportOutcome> {
    let started = Instant::now();
    let progress = |text: String| {
        if !options.quiet {
            eprintln!("report: {text}");
        }
    };
    for (table, columns) in REQUIRED {
        if !ctx.table_exist(*table).unwrap_or(false) {
            return Err(SeglakeError::failed(format!(
                "the report needs a table named '{table}' (with columns {columns}); the lake \
                 has {}: add it with --lake or --table {table}=PATH",
                table_names(ctx)
            )));
        }
    }
    let mut sections: Vec<SectionId> = Vec::new();
    for section in &options.sections {
        if !sections.contains(section) {
            sections.push(*section);
        }
    }
    if sections.is_empty() {
        sections = SectionId::ALL.to_vec();
    }
    // Checked before any query runs, as is the output's folder.
    let mut output =
        PendingOutput::create(&options.output).map_err(|e| SeglakeError::failed(describe(&e)))?;
    let last_purchase = last_purchase(ctx).await?;
    let as_of = match (options.as_of, last_purchase) {
        (Some(date), _) => date,
        (None, Some(last)) => last + Days::new(1),
        (None, None) => chrono::Utc::now().date_naive(),
    };
    let dates = sections::Dates {
        as_of,
        from_date: as_of - Months::new(6),
    };
    let report_params = vec![("as_of".to_string(), as_of.to_string())];
    let mut runner = Runner::new(ctx, library, report_params, &options.params);
    let mut queries: Vec<&str> = sections
        .iter()
        .flat_map(|s| s.queries().iter().copied())
        .collect();
    queries.push("overview");
    let unused = runner.unused_params(&queries);
    if !unused.is_empty() {
        return Err(SeglakeError::usage(format!(
            "no query of the report takes --param {} (the report runs {})",
            unused.join(", "),
            queries.join(", ")
        )));
    }
    progress(format!("as of {as_of}, {} sections", sections.len()));
    let overview = runner.run("overview", &[]).await;
    let buyers = overview
        .as_ref()
        .ok()
        .and_then(|o| o.table.numbers("customers").ok())
        .and_then(|c| c.first().copied().flatten())
        .unwrap_or(0.0);
    let notice = if buyers > 0.0 {
        None
    } else {
        Some(match last_purchase {
            None => "The transactions table has no rows: there is nothing to segment yet.".into(),
            Some(_) => format!(
                "No purchase before as_of {as_of}: the first transaction is on {}, so the \
                 report has nothing to segment. Choose a later --as-of.",
                first_purchase(ctx)
                    .await?
                    .map_or("?".into(), |d| d.to_string())
            ),
        })
    };
    let mut built = Vec::new();
    for (i, section) in sections.iter().enumerate() {
        let section_started = Instant::now();
        let figures = match &notice {
            Some(why) => vec![sections::Figure::unavailable(
                section.name(),
                section.title(),
                why.clone(),
            )],
            None => section.build(&mut runner, &dates).await,
        };
        let missing = figures.iter().filter(|f| f.unavailable.is_some()).count();
        progress(format!(
            "[{}/{}] {} ({}): {:.2} s{}",
            i + 1,
            sections.len(),
            section.name(),
            section.queries().join(", "),
            section_started.elapsed().as_secs_f64(),
            if missing > 0 {
                format!(", {missing} figure(s) not shown")
            } else {
                String::new()
            }
        ));
        built.push((*section, figures));
    }
    let summary = Summary {
        as_of: as_of.to_string(),
        overview: overview.ok(),
        notice,
        files: input_files(ctx).await,
        params: options.params.clone(),
    };
    let html = page::render(&summary, &built);
    let location = output.location();
    output
        .file()
        .write_all(html.as_bytes())
        .map_err(|e| SeglakeError::failed(format!("cannot write '{location}': {e}")))?;
    output
        .commit(ctx)
        .await
        .map_err(|e| SeglakeError::failed(describe(&e)))?;
    let figures: Vec<&sections::Figure> = built.iter().flat_map(|(_, f)| f).collect();
    let outcome = ReportOutcome {
        bytes: html.len(),
        figures: figures.len(),
        unavailable: figures.iter().filter(|f| f.unavailable.is_some()).count(),
    };
    progress(format!(
        "wrote {} ({}, {} figures, {} not shown) in {:.2} s",
        options.output,
        format::bytes(outcome.bytes as u64),
        outcome.figures,
        outcome.unavailable,
        started.elapsed().as_secs_f64()
    ));
    Ok(outcome)
}

fn table_names(ctx: &SessionContext) -> String {
    let mut names: Vec<String> = ctx
        .catalog("datafusion")
        .and_then(|c| c.schema("public"))
        .map(|s| s.table_names())
        .unwrap_or_default();
    names.sort();
    if names.is_empty() {
        "no tables".into()
    } else {
        format!("tables {}", names.join(", "))
    }
}

async fn purchase_date(ctx: &SessionContext, aggregate: &str) -> Result<Option<NaiveDate>> {
    let sql = format!("SELECT CAST({aggregate}(order_ts) AS DATE) FROM transactions");
    let batches = async { ctx.sql(&sql).await?.collect().await }
        .await
        .map_err(|e| {
            SeglakeError::failed(format!(
                "the report reads transactions.order_ts: {}",
                describe(&e)
            ))
        })?;
    let table = table::Table::from_batches(vec!["day".into()], &batches)
        .map_err(|e| SeglakeError::failed(describe(&e)))?;
    Ok(table
        .rows
        .first()
        .and_then(|r| NaiveDate::parse_from_str(&r[0].text(), "%Y-%m-%d").ok()))
}

async fn last_purchase(ctx: &SessionContext) -> Result<Option<NaiveDate>> {
    purchase_date(ctx, "max").await
}

async fn first_purchase(ctx: &SessionContext) -> Result<Option<NaiveDate>> {
    purchase_date(ctx, "min").await
}

/// The files of every table that reads files, with their sizes (listing failures leave a
/// table out: the summary is informative, not essential).
async fn input_files(ctx: &SessionContext) -> Vec<InputFile> {
    use datafusion::datasource::listing::ListingTable;

    let Some(schema) = ctx.catalog("datafusion").and_then(|c| c.schema("public")) else {
        return vec![];
    };
    let mut names = schema.table_names();
    names.sort();
    let state = ctx.state();
    let mut files = Vec::new();
    for name in names {
        let Ok(Some(provider)) = schema.table(&name).await else {
            continue;
        };
        let Some(listing) = provider.downcast_ref::<ListingTable>() else {
            continue;
        };
        let extension = listing.options().file_extension.clone();
        for url in listing.table_paths() {
            let Ok(store) = ctx.runtime_env().object_store(url) else {
                continue;
            };
            let Ok(stream) = url.list_all_files(&state, store.as_ref(), &extension).await else {
                continue;
            };
            let Ok(mut metas) = stream.try_collect::<Vec<_>>().await else {
                continue;
            };
            metas.sort_by(|a, b| a.location.cmp(&b.location));
            files.extend(metas.into_iter().map(|meta| InputFile {
                table: name.clone(),
                location: meta.location.to_string(),
                size: meta.size,
            }));
        }
    }
    files
}
