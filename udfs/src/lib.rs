//! seglake's SQL functions for customer segmentation and marketing KPIs.
//!
//! Every function lives in its own file under a family module and documents itself with
//! DataFusion's documentation API (`#[user_doc]`), which feeds `SHOW FUNCTIONS`, the REPL's
//! `\df` and `\h`, `seglake functions` and the README alike. [`all_functions`] is the one list
//! of what seglake adds; [`register_all`] puts it into a session.
//!
//! See `udfs/README.md` for how to add a function.

pub mod clv;
pub mod common;
pub mod kmeans;
pub mod kpi;
pub mod lifecycle;
pub mod math;
pub mod radix;
pub mod rfm;
pub mod whole_window;

use std::sync::Arc;

use datafusion::error::Result;
use datafusion::logical_expr::{AggregateUDF, Documentation, ScalarUDF, WindowUDF};
use datafusion::prelude::SessionContext;

/// One of seglake's functions, of whichever kind.
#[derive(Debug, Clone)]
pub enum SeglakeFunction {
    Scalar(Arc<ScalarUDF>),
    Aggregate(Arc<AggregateUDF>),
    Window(Arc<WindowUDF>),
}

impl SeglakeFunction {
    pub fn name(&self) -> &str {
        match self {
            Self::Scalar(f) => f.name(),
            Self::Aggregate(f) => f.name(),
            Self::Window(f) => f.name(),
        }
    }

    pub fn documentation(&self) -> Option<&Documentation> {
        match self {
            Self::Scalar(f) => f.documentation(),
            Self::Aggregate(f) => f.documentation(),
            Self::Window(f) => f.documentation(),
        }
    }
}

/// Every function seglake adds, in a stable order (by name).
pub fn all_functions() -> Vec<SeglakeFunction> {
    let mut functions: Vec<SeglakeFunction> = rfm::functions();
    functions.extend(lifecycle::functions());
    functions.extend(kpi::functions());
    functions.extend(clv::functions());
    functions.extend(kmeans::functions());
    functions.sort_by(|a, b| a.name().cmp(b.name()));
    functions
}

/// Registers all of seglake's functions in `ctx`, and the optimizer rule that spares `rfm` its
/// distinct-day sets when a query never reads `purchase_days`.
///
/// # Errors
/// Never today; the `Result` leaves room for functions whose registration can fail.
pub fn register_all(ctx: &SessionContext) -> Result<()> {
    register_functions(ctx)?;
    ctx.add_optimizer_rule(Arc::new(rfm::SkipUnreadPurchaseDays));
    Ok(())
}

/// DataFusion's physical optimizer rules with seglake's own for one machine:
/// [`radix::RadixAggregatePerCustomer`] and [`whole_window::WholeWindow`] right after DataFusion
/// combines adjacent partial and final aggregates (its distribution is enforced by then), so
/// the later rules (projection pushdown, cooperative scheduling, the
/// sanity check) see its plans. For `SessionStateBuilder::with_physical_optimizer_rules`.
pub fn physical_optimizer_rules()
-> Vec<Arc<dyn datafusion::physical_optimizer::PhysicalOptimizerRule + Send + Sync>> {
    with_rules_after_combine(vec![
        Arc::new(radix::RadixAggregatePerCustomer),
        Arc::new(whole_window::WholeWindow),
    ])
}

/// The physical optimizer rules of a Ballista scheduler and its executors: as
/// [`physical_optimizer_rules`], with [`rfm::SinglePhasePerCustomer`] in place of the radix
/// aggregation, whose node Ballista's plan codec cannot send to an executor.
pub fn cluster_physical_optimizer_rules()
-> Vec<Arc<dyn datafusion::physical_optimizer::PhysicalOptimizerRule + Send + Sync>> {
    with_rules_after_combine(vec![Arc::new(rfm::SinglePhasePerCustomer)])
}

fn with_rules_after_combine(
    ours: Vec<Arc<dyn datafusion::physical_optimizer::PhysicalOptimizerRule + Send + Sync>>,
) -> Vec<Arc<dyn datafusion::physical_optimizer::PhysicalOptimizerRule + Send + Sync>> {
    let mut rules = datafusion::physical_optimizer::optimizer::PhysicalOptimizer::new().rules;
    let at = rules
        .iter()
        .position(|rule| rule.name() == "CombinePartialFinalAggregate")
        .map_or(rules.len(), |i| i + 1);
    rules.splice(at..at, ours);
    rules
}

/// Registers the functions that read segment maps (`rfm_segment`, `rfm_segment_rule`,
/// `segment_map_bins`) again, with `maps`: the built-in maps and one's own.
pub fn register_segment_maps(ctx: &SessionContext, maps: rfm::segment_map::SegmentMaps) {
    for function in rfm::segment_functions(&Arc::new(maps)) {
        if let SeglakeFunction::Scalar(f) = function {
            ctx.register_udf(f.as_ref().clone());
        }
    }
}

/// The names of the segment maps `rfm_segment(r, f, m, 'NAME')` knows in `ctx`.
pub fn segment_map_names(ctx: &SessionContext) -> Vec<String> {
    datafusion::execution::FunctionRegistry::udf(ctx, "segment_map_bins")
        .ok()
        .and_then(|udf| {
            udf.inner()
                .downcast_ref::<rfm::segment_map_bins::SegmentMapBins>()
                .map(|bins| {
                    bins.maps()
                        .names()
                        .into_iter()
                        .map(str::to_string)
                        .collect()
                })
        })
        .unwrap_or_default()
}

/// Registers seglake's functions in `ctx`, without the optimizer rule [`register_all`] adds.
///
/// # Errors
/// Never today; the `Result` leaves room for functions whose registration can fail.
pub fn register_functions(ctx: &SessionContext) -> Result<()> {
    for function in all_functions() {
        match function {
            SeglakeFunction::Scalar(f) => ctx.register_udf(f.as_ref().clone()),
            SeglakeFunction::Aggregate(f) => ctx.register_udaf(f.as_ref().clone()),
            SeglakeFunction::Window(f) => ctx.register_udwf(f.as_ref().clone()),
        }
    }
    Ok(())
}
