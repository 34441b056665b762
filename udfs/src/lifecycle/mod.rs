//! Lifecycle stages: prospect, new, active, loyal, at risk, churned.

mod lifecycle_stage;
pub mod rules;

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

use crate::SeglakeFunction;

pub use lifecycle_stage::LifecycleStage;

/// The functions of this family.
pub fn functions() -> Vec<SeglakeFunction> {
    vec![SeglakeFunction::Scalar(Arc::new(ScalarUDF::from(
        LifecycleStage::new(),
    )))]
}
