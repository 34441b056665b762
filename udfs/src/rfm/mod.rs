//! RFM: recency, frequency and monetary value, their scores and named segments, value tiers,
//! and the BTYD summary the lifetime-value models take.

mod btyd_calibration_holdout;
mod btyd_summary;
pub mod periods;
mod rfm_agg;
mod rfm_cuts;
mod rfm_score;
pub(crate) mod rfm_segment;
pub(crate) mod rfm_segment_rule;
mod score_by_cuts;
pub mod scoring;
pub mod segment_map;
pub(crate) mod segment_map_bins;
mod single_phase;
pub mod tiers;
mod unread_days;
mod value_tier;

use std::sync::Arc;

use datafusion::logical_expr::{AggregateUDF, ScalarUDF, WindowUDF};

use crate::SeglakeFunction;
use segment_map::SegmentMaps;

pub use btyd_calibration_holdout::BtydCalibrationHoldout;
pub use btyd_summary::BtydSummary;
pub use rfm_agg::Rfm;
pub use rfm_cuts::RfmCuts;
pub use rfm_score::RfmScore;
pub use rfm_segment::RfmSegment;
pub use rfm_segment_rule::RfmSegmentRule;
pub use score_by_cuts::ScoreByCuts;
pub use segment_map_bins::SegmentMapBins;
pub use single_phase::SinglePhasePerCustomer;
pub use unread_days::SkipUnreadPurchaseDays;
pub use value_tier::ValueTier;

/// The functions of this family.
pub fn functions() -> Vec<SeglakeFunction> {
    vec![
        SeglakeFunction::Aggregate(Arc::new(AggregateUDF::from(Rfm::new()))),
        SeglakeFunction::Aggregate(Arc::new(AggregateUDF::from(BtydSummary::new()))),
        SeglakeFunction::Aggregate(Arc::new(AggregateUDF::from(BtydCalibrationHoldout::new()))),
        SeglakeFunction::Aggregate(Arc::new(AggregateUDF::from(RfmCuts::new()))),
        SeglakeFunction::Window(Arc::new(WindowUDF::from(RfmScore::new()))),
        SeglakeFunction::Window(Arc::new(WindowUDF::from(ValueTier::new()))),
        SeglakeFunction::Scalar(Arc::new(ScalarUDF::from(ScoreByCuts::new()))),
    ]
    .into_iter()
    .chain(segment_functions(&Arc::new(SegmentMaps::builtin())))
    .collect()
}

/// The functions that read segment maps, with `maps`: register them again to use maps of
/// one's own (`SeglakeBuilder::segment_map` does).
pub fn segment_functions(maps: &Arc<SegmentMaps>) -> Vec<SeglakeFunction> {
    vec![
        SeglakeFunction::Scalar(Arc::new(ScalarUDF::from(RfmSegment::with_maps(
            Arc::clone(maps),
        )))),
        SeglakeFunction::Scalar(Arc::new(ScalarUDF::from(RfmSegmentRule::new(Arc::clone(
            maps,
        ))))),
        SeglakeFunction::Scalar(Arc::new(ScalarUDF::from(SegmentMapBins::new(Arc::clone(
            maps,
        ))))),
    ]
}
