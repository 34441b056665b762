//! The fuzz tests' machinery: random lakes ([`data`]), plain references ([`reference`]), and
//! sessions that read the same rows in every way DataFusion can deliver them ([`Layout`]).

#![allow(dead_code)]

pub mod data;
pub mod reference;

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

/// How the rows reach the aggregates: partitions, batch sizes, which files, partial
/// aggregation, and a memory limit that forces spilling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub partitions: usize,
    pub batch_size: usize,
    /// Which of the lake's copies to read (each holds the rows shuffled over other files).
    pub copy: usize,
    /// Partial aggregation skipped after the first rows (`convert_to_state` for every row).
    pub skip_partial: bool,
    /// Run under memory limits small enough that the final aggregation spills.
    pub spill: bool,
    /// How per-customer aggregates (`rfm`, `btyd_summary`) are planned.
    pub plan: Plan,
}

/// How per-customer aggregates are planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// DataFusion's partial and final aggregates.
    TwoPhase,
    /// In one phase after a repartition of the rows (seglake on a cluster).
    SinglePhase,
    /// Over radix partitions (seglake on one machine).
    Radix,
}

impl Layout {
    /// One partition, large batches, one file: the plainest way to read the rows.
    pub const BASELINE: Layout = Layout {
        partitions: 1,
        batch_size: 8192,
        copy: 0,
        skip_partial: false,
        spill: false,
        plan: Plan::TwoPhase,
    };

    /// Layouts that between them use each partition count, batch size, copy, both settings
    /// of partial aggregation and spilling in every combination with DataFusion's plan, and
    /// seglake's one-phase and radix plans with and without spilling.
    pub fn sweep(copies: usize) -> Vec<Layout> {
        const PARTITIONS: [usize; 4] = [1, 2, 7, 16];
        const BATCHES: [usize; 4] = [1, 7, 1024, 8192];
        (0..8)
            .map(|i| Layout {
                partitions: PARTITIONS[i % 4],
                batch_size: BATCHES[(i + i / 4) % 4],
                copy: 1 + i % copies.max(1),
                skip_partial: i % 2 == 1,
                spill: (i / 2) % 2 == 1,
                plan: match i {
                    0..4 => Plan::TwoPhase,
                    _ if i % 2 == 0 => Plan::SinglePhase,
                    _ => Plan::Radix,
                },
            })
            .collect()
    }
}

/// What a query gave under one layout.
#[derive(Debug)]
pub struct Outcome {
    pub batches: Vec<RecordBatch>,
    /// Whether an operator spilled (read from the plan's metrics).
    pub spilled: bool,
    /// The memory limit it ran under, if any.
    pub memory_limit: Option<usize>,
}

fn config(layout: &Layout) -> SessionConfig {
    let mut config = SessionConfig::new()
        .with_target_partitions(layout.partitions)
        .with_batch_size(layout.batch_size)
        .with_repartition_file_min_size(1)
        .with_sort_spill_reservation_bytes(1024);
    let options = config.options_mut();
    if layout.skip_partial {
        options
            .execution
            .skip_partial_aggregation_probe_ratio_threshold = 0.0;
        options
            .execution
            .skip_partial_aggregation_probe_rows_threshold = 1;
    }
    config
}

async fn session(lake: &Path, layout: &Layout, memory_limit: Option<usize>) -> SessionContext {
    let mut runtime = RuntimeEnvBuilder::new();
    if let Some(limit) = memory_limit {
        runtime = runtime.with_memory_pool(Arc::new(FairSpillPool::new(limit)));
    }
    let mut state = SessionStateBuilder::new()
        .with_config(config(layout))
        .with_runtime_env(runtime.build_arc().expect("a runtime"))
        .with_default_features();
    match layout.plan {
        Plan::TwoPhase => {}
        Plan::SinglePhase => {
            state = state
                .with_physical_optimizer_rules(seglake_udfs::cluster_physical_optimizer_rules());
        }
        Plan::Radix => {
            state = state.with_physical_optimizer_rules(seglake_udfs::physical_optimizer_rules());
        }
    }
    let ctx = SessionContext::new_with_state(state.build());
    seglake_udfs::register_all(&ctx).expect("seglake's functions register");
    let table = lake.join(format!("copy{}", layout.copy));
    ctx.register_parquet(
        "t",
        table.to_str().expect("a UTF-8 path"),
        ParquetReadOptions::default(),
    )
    .await
    .expect("the table registers");
    ctx
}

fn spilled(plan: &Arc<dyn ExecutionPlan>) -> bool {
    plan.metrics()
        .and_then(|m| m.spill_count())
        .is_some_and(|n| n > 0)
        || plan.children().into_iter().any(spilled)
}

async fn run_once(
    lake: &Path,
    layout: &Layout,
    sql: &str,
    memory_limit: Option<usize>,
) -> Result<Outcome> {
    let ctx = session(lake, layout, memory_limit).await;
    let plan = ctx.sql(sql).await?.create_physical_plan().await?;
    let batches = collect(Arc::clone(&plan), ctx.task_ctx()).await?;
    Ok(Outcome {
        batches,
        spilled: spilled(&plan),
        memory_limit,
    })
}

/// Runs `sql` over the lake copy `layout` names. With `layout.spill`, runs it under ever
/// larger memory limits and keeps the first run that completes: the tightest limit the plan
/// survives, where the aggregation had to spill if it spills at all.
pub async fn run(lake: &Path, layout: &Layout, sql: &str) -> Result<Outcome> {
    if !layout.spill {
        return run_once(lake, layout, sql, None).await;
    }
    let debug = std::env::var_os("SEGLAKE_FUZZ_DEBUG").is_some();
    for limit in [16 << 10, 48 << 10, 128 << 10, 384 << 10, 1 << 20, 4 << 20] {
        let outcome = run_once(lake, layout, sql, Some(limit)).await;
        if debug {
            match &outcome {
                Ok(o) => eprintln!("{layout:?} limit {limit}: spilled {}", o.spilled),
                Err(e) => eprintln!("{layout:?} limit {limit}: {e}"),
            }
        }
        match outcome {
            Ok(outcome) => return Ok(outcome),
            Err(e) if exhausted(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    run_once(lake, layout, sql, None).await
}

fn exhausted(e: &DataFusionError) -> bool {
    matches!(e.find_root(), DataFusionError::ResourcesExhausted(_))
        || e.to_string().contains("Resources exhausted")
}
