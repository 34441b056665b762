//! A fitted purchase model of either kind, read from a model struct column row by row.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::exec_err;
use datafusion::error::Result;

use super::model::{ModelColumn, ModelKind};
use crate::math::bgbb::BgBb;
use crate::math::bgnbd::BgNbd;
use crate::math::mbgnbd::MbgNbd;
use crate::math::paretonbd::ParetoNbd;

/// The purchase models a prediction accepts.
pub const PURCHASE_MODELS: &[ModelKind] =
    &[ModelKind::BgNbd, ModelKind::MbgNbd, ModelKind::ParetoNbd];

/// The models P(alive) and expected purchases accept: the purchase models and BG/BB, whose
/// T is the number of opportunities and whose horizon counts opportunities.
pub const PREDICTION_MODELS: &[ModelKind] = &[
    ModelKind::BgNbd,
    ModelKind::MbgNbd,
    ModelKind::ParetoNbd,
    ModelKind::BgBb,
];

/// One row's purchase model.
// The variants are the models' published names.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy)]
pub enum PurchaseModel {
    BgBb(BgBb),
    BgNbd(BgNbd),
    MbgNbd(MbgNbd),
    ParetoNbd(ParetoNbd),
}

impl PurchaseModel {
    pub fn p_alive(&self, x: f64, t_x: f64, age: f64) -> f64 {
        match self {
            Self::BgBb(m) => m.p_alive(0.0, x, t_x, age),
            Self::BgNbd(m) => m.p_alive(x, t_x, age),
            Self::MbgNbd(m) => m.p_alive(x, t_x, age),
            Self::ParetoNbd(m) => m.p_alive(x, t_x, age),
        }
    }

    pub fn expected_purchases(&self, t: f64, x: f64, t_x: f64, age: f64) -> f64 {
        match self {
            Self::BgBb(m) => m.expected_purchases(t, x, t_x, age),
            Self::BgNbd(m) => m.expected_purchases(t, x, t_x, age),
            Self::MbgNbd(m) => m.expected_purchases(t, x, t_x, age),
            Self::ParetoNbd(m) => m.expected_purchases(t, x, t_x, age),
        }
    }

    /// [`Self::expected_purchases`] for each horizon of `ts` into `out`.
    pub fn expected_purchases_many(&self, ts: &[f64], x: f64, t_x: f64, age: f64, out: &mut [f64]) {
        match self {
            Self::BgNbd(m) => m.expected_purchases_many(ts, x, t_x, age, out),
            Self::MbgNbd(m) => m.expected_purchases_many(ts, x, t_x, age, out),
            _ => {
                for (o, &t) in out.iter_mut().zip(ts) {
                    *o = self.expected_purchases(t, x, t_x, age);
                }
            }
        }
    }
}

/// The purchase models of a model column.
pub struct PurchaseModels {
    kind: ModelKind,
    column: ModelColumn,
}

impl PurchaseModels {
    /// Reads a BG/NBD, MBG/NBD or Pareto/NBD model column whose type is `data_type`.
    ///
    /// # Errors
    /// When the column holds another kind of model.
    pub fn new(syntax: &str, array: &ArrayRef, data_type: &DataType) -> Result<Self> {
        match ModelKind::of(data_type) {
            Some(kind) if PREDICTION_MODELS.contains(&kind) => Ok(Self {
                kind,
                column: ModelColumn::new(syntax, array, kind)?,
            }),
            _ => exec_err!(
                "{syntax}: the model must come from bgnbd_fit, mbgnbd_fit, paretonbd_fit or bgbb_fit"
            ),
        }
    }

    /// Row `i`'s model; `None` for a NULL model.
    pub fn row(&self, i: usize) -> Option<PurchaseModel> {
        let [p0, p1, p2, p3] = self.column.row::<4>(i)?;
        Some(match self.kind {
            ModelKind::BgBb => PurchaseModel::BgBb(BgBb {
                alpha: p0,
                beta: p1,
                gamma: p2,
                delta: p3,
            }),
            ModelKind::ParetoNbd => PurchaseModel::ParetoNbd(ParetoNbd {
                r: p0,
                alpha: p1,
                s: p2,
                beta: p3,
            }),
            // The two share a struct type; the `model` field says which it is.
            _ if self.column.name(i) == Some(ModelKind::MbgNbd.name()) => {
                PurchaseModel::MbgNbd(MbgNbd {
                    r: p0,
                    alpha: p1,
                    a: p2,
                    b: p3,
                })
            }
            _ => PurchaseModel::BgNbd(BgNbd {
                r: p0,
                alpha: p1,
                a: p2,
                b: p3,
            }),
        })
    }
}
