//! `seglake demo`: generate (once) a customer lake and show what seglake finds in it.
//!
//! Each function family adds its section here as it lands.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use datafusion::common::ParamValues;
use datafusion::common::ScalarValue;
use datafusion::common::metadata::ScalarAndMetadata;
use datafusion::prelude::SessionContext;

use crate::SeglakeBuilder;
use crate::error::{Result, SeglakeError, describe};
use crate::generate::{GENERATOR_VERSION, GenOptions, generate};
use crate::library::{Library, bind};
use crate::output::format::{MaxRows, OutputFormat, write_batches};

const LIFECYCLE_STAGES: &str = include_str!("../queries/segmentation/lifecycle_stages.sql");

/// What the demo runs on.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub customers: u64,
    pub cache_dir: Option<PathBuf>,
    pub regenerate: bool,
    pub quiet: bool,
}

/// The folder the demo lake is cached in.
pub fn cache_folder(options: &DemoOptions) -> PathBuf {
    let base = options
        .cache_dir
        .clone()
        .or_else(|| std::env::var_os("SEGLAKE_CACHE").map(PathBuf::from))
        .or_else(|| dirs::cache_dir().map(|d| d.join("seglake")))
        .unwrap_or_else(|| std::env::temp_dir().join("seglake"));
    base.join(format!(
        "demo-lake-v{GENERATOR_VERSION}-{}",
        options.customers
    ))
}

/// Runs the demo.
///
/// # Errors
/// When the lake cannot be generated or read, or a query fails.
pub async fn run(options: &DemoOptions) -> Result<()> {
    let lake = cache_folder(options);
    if options.regenerate || !lake.join("transactions").exists() {
        if !options.quiet {
            eprintln!(
                "generating a {}-customer demo lake in {} (once; later runs reuse it)",
                options.customers,
                lake.display()
            );
        }
        let mut gen_options = GenOptions::new(options.customers, &lake);
        gen_options.overwrite = true;
        gen_options.quiet = options.quiet;
        generate(&gen_options).map_err(|e| SeglakeError::failed(describe(&e)))?;
    }
    let started = Instant::now();
    let ctx = SeglakeBuilder::new()
        .lake(lake.display().to_string())
        .build()
        .await?;
    let as_of = "2025-01-01";

    println!(
        "seglake demo: a synthetic lake of {} customers ({})\n",
        options.customers,
        lake.display()
    );
    section(
        &ctx,
        "The lake",
        "SELECT (SELECT count(*) FROM customers) AS customers,
                count(DISTINCT customer_id) AS buyers,
                count(*) FILTER (WHERE amount >= 0) AS orders,
                round(sum(amount), 2) AS net_revenue,
                round(100.0 * count(*) FILTER (WHERE amount < 0) / count(*), 2) AS refund_pct,
                round(100.0 * (sum(amount) - sum(cost)) / sum(amount), 1) AS gross_margin_pct,
                CAST(min(order_ts) AS DATE) AS first_order,
                CAST(max(order_ts) AS DATE) AS last_order
         FROM transactions",
        None,
    )
    .await?;
    let library = Library::load(&[])?;
    saved_section(
        &ctx,
        &library,
        &format!("RFM segments as of {as_of} (queries/segmentation/rfm_segment_summary.sql)"),
        ("rfm_segment_summary", &[("as_of", as_of)]),
        "SELECT segment, customers, round(100 * customer_share, 1) AS customers_pct,
                round(revenue, 0) AS revenue, round(100 * revenue_share, 1) AS revenue_pct,
                round(mean_recency_days, 0) AS mean_recency_days,
                round(mean_frequency, 1) AS mean_orders, round(mean_monetary, 0) AS mean_monetary
         FROM result
         ORDER BY revenue DESC",
    )
    .await?;
    section(
        &ctx,
        &format!("Lifecycle stages as of {as_of} (queries/segmentation/lifecycle_stages.sql)"),
        &format!(
            "SELECT stage, customers, round(100 * share, 1) AS customers_pct
             FROM ({LIFECYCLE_STAGES})
             ORDER BY array_position(['prospect', 'new', 'active', 'loyal', 'at_risk', 'churned'], stage)"
        ),
        Some(as_of),
    )
    .await?;
    section(
        &ctx,
        &format!("Value tiers as of {as_of} (value_tier: top 50% / next 30% / rest of revenue)"),
        "SELECT tier, count(*) AS customers, round(sum(spend), 0) AS revenue,
                round(100 * sum(spend) / sum(sum(spend)) OVER (), 1) AS revenue_pct
         FROM (SELECT spend, value_tier(spend) OVER () AS tier
               FROM (SELECT customer_id, sum(amount) AS spend FROM transactions
                     WHERE order_ts < $as_of GROUP BY customer_id))
         GROUP BY tier ORDER BY revenue DESC",
        Some(as_of),
    )
    .await?;
    saved_section(
        &ctx,
        &library,
        &format!("KPI dashboard, the year before {as_of} (queries/kpi/kpi_dashboard.sql)"),
        ("kpi_dashboard", &[("as_of", as_of)]),
        "SELECT segment, customers, round(100 * revenue_share, 1) AS revenue_pct,
                round(100 * gross_margin, 1) AS margin_pct, round(average_order_value, 2) AS aov,
                round(orders_per_customer, 1) AS orders_per_customer, round(nps, 0) AS nps,
                round(mean_satisfaction, 2) AS satisfaction,
                round(100 * response_rate, 1) AS response_pct,
                round(100 * conversion_rate, 1) AS conversion_pct,
                round(events_per_customer, 1) AS events_per_customer,
                round(mean_cltv, 0) AS mean_clv, kmeans_cluster AS cluster,
                round(100 * kmeans_cluster_share, 0) AS cluster_pct
         FROM result ORDER BY revenue DESC",
    )
    .await?;
    saved_section(
        &ctx,
        &library,
        &format!(
            "k-means segments as of {as_of}, k = 4 (queries/segmentation/kmeans_segments.sql)"
        ),
        ("kmeans_segments", &[("as_of", as_of), ("k", "4")]),
        "SELECT cluster, customers, round(100 * customer_share, 1) AS customers_pct,
                round(mean_recency_days, 0) AS mean_recency_days,
                round(mean_frequency, 1) AS mean_orders, round(mean_monetary, 0) AS mean_monetary,
                round(100 * revenue_share, 1) AS revenue_pct
         FROM result ORDER BY cluster",
    )
    .await?;
    saved_section(
        &ctx,
        &library,
        &format!(
            "12-month CLV by RFM segment as of {as_of}, BG/NBD and Gamma-Gamma \
             (queries/clv/cltv_by_segment.sql)"
        ),
        ("cltv_by_segment", &[("as_of", as_of)]),
        "SELECT segment, customers, round(total_cltv, 0) AS total_cltv,
                round(mean_cltv, 2) AS mean_cltv, round(100 * cltv_share, 1) AS cltv_pct
         FROM result ORDER BY total_cltv DESC",
    )
    .await?;
    if !options.quiet {
        println!(
            "(queries ran in {:.2} s; explore it yourself: seglake --lake {})",
            started.elapsed().as_secs_f64(),
            lake.display()
        );
    }
    Ok(())
}

/// Runs a saved query with `params` and prints `select` over its result (named `result`).
async fn saved_section(
    ctx: &SessionContext,
    library: &Library,
    title: &str,
    (name, params): (&str, &[(&str, &str)]),
    select: &str,
) -> Result<()> {
    let query = library.get(name)?;
    let given: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let result = bind(ctx, query, &given).await?;
    ctx.deregister_table("result")?;
    ctx.register_table("result", result.into_view())?;
    section(ctx, title, select, None).await
}

/// Prints a titled table of `sql`'s result, binding `$as_of` when given.
async fn section(ctx: &SessionContext, title: &str, sql: &str, as_of: Option<&str>) -> Result<()> {
    let mut df = ctx.sql(sql).await?;
    if let Some(as_of) = as_of {
        let date = chrono::NaiveDate::parse_from_str(as_of, "%Y-%m-%d")
            .map_err(|e| SeglakeError::failed(e.to_string()))?;
        let days = date
            .signed_duration_since(chrono::NaiveDate::default())
            .num_days() as i32;
        df = df.with_param_values(ParamValues::Map(HashMap::from([(
            "as_of".to_string(),
            ScalarAndMetadata::from(ScalarValue::Date32(Some(days))),
        )])))?;
    }
    let schema = df.schema().inner().clone();
    let batches = df.collect().await?;
    println!("{title}");
    let mut stdout = std::io::stdout();
    write_batches(
        schema,
        &batches,
        OutputFormat::Table,
        MaxRows::Unlimited,
        &mut stdout,
    )?;
    println!();
    Ok(())
}
