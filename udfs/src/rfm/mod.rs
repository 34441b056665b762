//! RFM: recency, frequency and monetary value, their scores and named segments, value tiers,
//! and the BTYD summary the lifetime-value models take.

mod btyd_summary;
pub mod periods;
mod rfm_agg;
mod rfm_cuts;
mod rfm_score;
mod rfm_segment;
mod score_by_cuts;
pub mod scoring;
pub mod segments;
mod single_phase;
pub mod tiers;
mod unread_days;
mod value_tier;

use std::sync::Arc;

use datafusion::logical_expr::{AggregateUDF, ScalarUDF, WindowUDF};

use crate::SeglakeFunction;

pub use btyd_summary::BtydSummary;
pub use rfm_agg::Rfm;
pub use rfm_cuts::RfmCuts;
pub use rfm_score::RfmScore;
pub use rfm_segment::RfmSegment;
pub use score_by_cuts::ScoreByCuts;
pub use single_phase::SinglePhasePerCustomer;
pub use unread_days::SkipUnreadPurchaseDays;
pub use value_tier::ValueTier;

/// The functions of this family.
pub fn functions() -> Vec<SeglakeFunction> {
    vec![
        SeglakeFunction::Aggregate(Arc::new(AggregateUDF::from(Rfm::new()))),
        SeglakeFunction::Aggregate(Arc::new(AggregateUDF::from(BtydSummary::new()))),
        SeglakeFunction::Aggregate(Arc::new(AggregateUDF::from(RfmCuts::new()))),
        SeglakeFunction::Window(Arc::new(WindowUDF::from(RfmScore::new()))),
        SeglakeFunction::Window(Arc::new(WindowUDF::from(ValueTier::new()))),
        SeglakeFunction::Scalar(Arc::new(ScalarUDF::from(ScoreByCuts::new()))),
        SeglakeFunction::Scalar(Arc::new(ScalarUDF::from(RfmSegment::new()))),
    ]
}
