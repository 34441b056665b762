//! Customer lifetime value: BG/NBD, MBG/NBD, Pareto/NBD, BG/BB and Gamma-Gamma fits as aggregates, and the
//! per-customer predictions built on the fitted models. The math is in [`crate::math`].

mod bgbb_fit;
mod bgnbd_fit;
mod cltv;
mod cltv_simple;
mod expected_purchases;
mod expected_spend;
mod fit_groups;
mod gammagamma_fit;
mod mbgnbd_fit;
pub mod model;
mod p_alive;
mod paretonbd_fit;
mod purchase_model;
mod rows;
mod transactions_model;

use std::sync::Arc;

use datafusion::logical_expr::{AggregateUDF, ScalarUDF};

pub use bgbb_fit::BgBbFit;
pub use bgnbd_fit::BgNbdFit;
pub use cltv::Cltv;
pub use cltv_simple::CltvSimple;
pub use expected_purchases::ExpectedPurchases;
pub use expected_spend::ExpectedSpend;
pub use fit_groups::FitFunction;
pub use gammagamma_fit::GammaGammaFit;
pub use mbgnbd_fit::MbgNbdFit;
pub use p_alive::PAlive;
pub use paretonbd_fit::ParetoNbdFit;

use crate::SeglakeFunction;

/// The CLV family's functions.
pub fn functions() -> Vec<SeglakeFunction> {
    vec![
        SeglakeFunction::Aggregate(Arc::new(AggregateUDF::from(
            FitFunction::<BgNbdFit>::default(),
        ))),
        SeglakeFunction::Aggregate(Arc::new(AggregateUDF::from(
            FitFunction::<MbgNbdFit>::default(),
        ))),
        SeglakeFunction::Aggregate(Arc::new(AggregateUDF::from(
            FitFunction::<ParetoNbdFit>::default(),
        ))),
        SeglakeFunction::Aggregate(Arc::new(AggregateUDF::from(
            FitFunction::<GammaGammaFit>::default(),
        ))),
        SeglakeFunction::Aggregate(Arc::new(AggregateUDF::from(
            FitFunction::<BgBbFit>::default(),
        ))),
        SeglakeFunction::Scalar(Arc::new(ScalarUDF::from(PAlive::new()))),
        SeglakeFunction::Scalar(Arc::new(ScalarUDF::from(ExpectedPurchases::new()))),
        SeglakeFunction::Scalar(Arc::new(ScalarUDF::from(ExpectedSpend::new()))),
        SeglakeFunction::Scalar(Arc::new(ScalarUDF::from(Cltv::new()))),
        SeglakeFunction::Scalar(Arc::new(ScalarUDF::from(CltvSimple::new()))),
    ]
}
