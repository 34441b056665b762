//! Marketing KPI aggregates.

mod nps;

use std::sync::Arc;

use datafusion::logical_expr::AggregateUDF;

use crate::SeglakeFunction;

pub use nps::Nps;

/// The functions of this family.
pub fn functions() -> Vec<SeglakeFunction> {
    vec![SeglakeFunction::Aggregate(Arc::new(AggregateUDF::from(
        Nps::new(),
    )))]
}
