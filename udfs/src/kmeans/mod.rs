//! k-means clustering in SQL: fit a model as an aggregate, apply it with scalar functions,
//! measure it with an aggregate. The math is in [`crate::math::kmeans`].

mod apply;
mod features;
mod kmeans_assign;
mod kmeans_distances;
mod kmeans_evaluate;
mod kmeans_fit;
pub mod model;
mod options;

use std::sync::Arc;

use datafusion::logical_expr::{AggregateUDF, ScalarUDF};

pub use kmeans_assign::KMeansAssign;
pub use kmeans_distances::KMeansDistances;
pub use kmeans_evaluate::{KMeansEvaluate, SILHOUETTE_ROWS};
pub use kmeans_fit::KMeansFit;

use crate::SeglakeFunction;

/// The clustering family's functions.
pub fn functions() -> Vec<SeglakeFunction> {
    vec![
        SeglakeFunction::Aggregate(Arc::new(AggregateUDF::from(KMeansFit::new()))),
        SeglakeFunction::Scalar(Arc::new(ScalarUDF::from(KMeansAssign::new()))),
        SeglakeFunction::Scalar(Arc::new(ScalarUDF::from(KMeansDistances::new()))),
        SeglakeFunction::Aggregate(Arc::new(AggregateUDF::from(KMeansEvaluate::new()))),
    ]
}
