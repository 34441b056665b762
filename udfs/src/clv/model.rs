//! Models as plain SQL values: the struct a fit returns, recognising a model by its type at
//! plan time, and reading its parameters back, also after a round trip through Parquet.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, StringArray, StructArray,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Float64Type};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;

use crate::math::optimize::Fitted;

/// The uncertainty fields of each parameter `p`: `se_p` (standard error), `lower_p` and
/// `upper_p` (95% bounds, 1.96 standard errors either side, as lifetimes' `summary`).
pub const UNCERTAINTY_PREFIXES: [&str; 3] = ["se_", "lower_", "upper_"];

/// The z value of a two-sided 95% interval, as lifetimes uses it.
const Z_95: f64 = 1.96;

/// The `warning` of a fit whose information matrix is singular.
pub const SINGULAR: &str = "the information matrix is singular at this fit (a parameter is not \
                            identified by the data): no standard errors, and converged is false";

/// The `warning` of a fit that has standard errors but whose optimizer stopped without
/// converging (parameters running off towards infinity, as with identical customers).
pub const NOT_CONVERGED: &str = "the optimizer stopped without converging (the parameters \
                                 may be running off to infinity: the data may not identify \
                                 them); converged is false, use the fit with care";

/// The kinds of model seglake fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelKind {
    BgNbd,
    /// MBG/NBD: the struct of BG/NBD (same parameters), told apart by its `model` field.
    MbgNbd,
    ParetoNbd,
    GammaGamma,
    /// BG/BB, for discrete opportunities.
    BgBb,
}

impl ModelKind {
    /// The value of the struct's `model` field.
    pub fn name(self) -> &'static str {
        match self {
            Self::BgNbd => "bgnbd",
            Self::MbgNbd => "mbgnbd",
            Self::ParetoNbd => "paretonbd",
            Self::GammaGamma => "gammagamma",
            Self::BgBb => "bgbb",
        }
    }

    /// The fit function that makes this kind.
    pub fn fit_function(self) -> &'static str {
        match self {
            Self::BgNbd => "bgnbd_fit",
            Self::MbgNbd => "mbgnbd_fit",
            Self::ParetoNbd => "paretonbd_fit",
            Self::GammaGamma => "gammagamma_fit",
            Self::BgBb => "bgbb_fit",
        }
    }

    /// The parameter fields, in the order the math takes them.
    pub fn parameters(self) -> &'static [&'static str] {
        match self {
            Self::BgNbd | Self::MbgNbd => &["r", "alpha", "a", "b"],
            Self::ParetoNbd => &["r", "alpha", "s", "beta"],
            Self::GammaGamma => &["p", "q", "v"],
            Self::BgBb => &["alpha", "beta", "gamma", "delta"],
        }
    }

    /// The struct type a fit returns.
    pub fn struct_fields(self) -> Fields {
        let mut fields = vec![Field::new("model", DataType::Utf8, false)];
        fields.extend(
            self.parameters()
                .iter()
                .map(|p| Field::new(*p, DataType::Float64, false)),
        );
        fields.extend([
            Field::new("log_likelihood", DataType::Float64, false),
            Field::new("rows_used", DataType::Int64, false),
            Field::new("rows_skipped", DataType::Int64, false),
            Field::new("iterations", DataType::Int64, false),
            Field::new("converged", DataType::Boolean, false),
            Field::new("penalizer", DataType::Float64, false),
        ]);
        for prefix in UNCERTAINTY_PREFIXES {
            fields.extend(
                self.parameters()
                    .iter()
                    .map(|p| Field::new(format!("{prefix}{p}"), DataType::Float64, true)),
            );
        }
        fields.push(Field::new("warning", DataType::Utf8, true));
        Fields::from(fields)
    }

    /// The kind of model a struct type holds, judged by its parameter fields (BG/NBD for the
    /// MBG/NBD struct too: the same type, told apart by the value of its `model` field).
    pub fn of(data_type: &DataType) -> Option<Self> {
        let DataType::Struct(fields) = data_type else {
            return None;
        };
        [Self::BgNbd, Self::ParetoNbd, Self::GammaGamma, Self::BgBb]
            .into_iter()
            .find(|kind| {
                kind.parameters().iter().all(|p| {
                    fields
                        .iter()
                        .any(|f| f.name() == p && f.data_type().is_numeric())
                })
            })
    }

    /// Checks a model argument at plan time; a NULL literal is no model (`None`). Accepting
    /// BG/NBD accepts MBG/NBD, whose struct type is the same.
    ///
    /// # Errors
    /// A plan error naming the kinds `accepted`, when the argument is not one of them.
    pub fn expect(
        syntax: &str,
        arg: &str,
        given: &DataType,
        accepted: &[ModelKind],
    ) -> Result<Option<ModelKind>> {
        if given.is_null() {
            return Ok(None);
        }
        match Self::of(given) {
            Some(kind) if accepted.contains(&kind) => Ok(Some(kind)),
            found => {
                let wanted: Vec<_> = accepted.iter().map(|k| k.fit_function()).collect();
                let got = match found {
                    Some(ModelKind::BgNbd) => "a bgnbd_fit or mbgnbd_fit model".to_string(),
                    Some(kind) => format!("a {} model", kind.fit_function()),
                    None => given.to_string(),
                };
                let wanted = match wanted.split_last() {
                    Some((last, [])) => last.to_string(),
                    Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                    None => String::new(),
                };
                plan_err!("{syntax}: {arg} must be a model from {wanted}, got {got}")
            }
        }
    }
}

/// The result of one group's fit.
pub struct FitRow {
    pub fitted: Fitted<Vec<f64>>,
    pub rows_used: u64,
    pub rows_skipped: u64,
    pub penalizer: f64,
}

/// Builds the struct column of fitted models; `None` rows are NULL models.
pub fn models_array(kind: ModelKind, rows: &[Option<FitRow>]) -> ArrayRef {
    let valid = |f: fn(&FitRow) -> f64| -> Float64Array {
        rows.iter()
            .map(|r| Some(r.as_ref().map_or(0.0, f)))
            .collect()
    };
    let int = |f: fn(&FitRow) -> u64| -> Int64Array {
        rows.iter()
            .map(|r| {
                Some(
                    r.as_ref()
                        .map_or(0, |r| i64::try_from(f(r)).unwrap_or(i64::MAX)),
                )
            })
            .collect()
    };
    let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from_iter_values(
        rows.iter().map(|_| kind.name()),
    ))];
    for i in 0..kind.parameters().len() {
        columns.push(Arc::new(
            rows.iter()
                .map(|r| Some(r.as_ref().map_or(0.0, |r| r.fitted.params[i])))
                .collect::<Float64Array>(),
        ));
    }
    columns.push(Arc::new(valid(|r| r.fitted.log_likelihood)));
    columns.push(Arc::new(int(|r| r.rows_used)));
    columns.push(Arc::new(int(|r| r.rows_skipped)));
    columns.push(Arc::new(int(|r| r.fitted.iterations)));
    columns.push(Arc::new(BooleanArray::from(
        rows.iter()
            // A maximum the data do not identify (singular information) is no fit to trust.
            .map(|r| {
                r.as_ref()
                    .is_some_and(|r| r.fitted.converged && r.fitted.standard_errors.is_some())
            })
            .collect::<Vec<_>>(),
    )));
    columns.push(Arc::new(valid(|r| r.penalizer)));
    // Standard errors and bounds: NULL where the information matrix is singular.
    let uncertain = |i: usize, bound: f64| -> ArrayRef {
        Arc::new(
            rows.iter()
                .map(|r| {
                    let r = r.as_ref()?;
                    let se = r.fitted.standard_errors.as_ref()?[i];
                    Some(r.fitted.params[i] + bound * se)
                })
                .collect::<Float64Array>(),
        )
    };
    let n = kind.parameters().len();
    for i in 0..n {
        // se = (p + 1 * se) - p would round; take it as it is.
        columns.push(Arc::new(
            rows.iter()
                .map(|r| r.as_ref()?.fitted.standard_errors.as_ref().map(|se| se[i]))
                .collect::<Float64Array>(),
        ));
    }
    for bound in [-Z_95, Z_95] {
        for i in 0..n {
            columns.push(uncertain(i, bound));
        }
    }
    columns.push(Arc::new(
        rows.iter()
            .map(|r| {
                let r = r.as_ref()?;
                if r.fitted.standard_errors.is_none() {
                    Some(SINGULAR)
                } else if !r.fitted.converged {
                    Some(NOT_CONVERGED)
                } else {
                    None
                }
            })
            .collect::<StringArray>(),
    ));
    let nulls = NullBuffer::from(rows.iter().map(Option::is_some).collect::<Vec<_>>());
    Arc::new(StructArray::new(
        kind.struct_fields(),
        columns,
        Some(nulls).filter(|n| n.null_count() > 0),
    ))
}

/// A model column's parameters, one Float64 array per parameter of `kind`.
pub struct ModelColumn {
    params: Vec<Float64Array>,
    nulls: Option<NullBuffer>,
    /// The `model` field, when the struct has one.
    names: Option<StringArray>,
}

impl ModelColumn {
    /// Reads the parameters of `kind` from a struct column.
    ///
    /// # Errors
    /// When the column is not a struct with those parameters.
    pub fn new(syntax: &str, array: &ArrayRef, kind: ModelKind) -> Result<Self> {
        let Some(models) = array.as_struct_opt() else {
            return exec_err!("{syntax}: the model is not a struct");
        };
        let params = kind
            .parameters()
            .iter()
            .map(|p| match models.column_by_name(p) {
                Some(column) => Ok(cast(column, &DataType::Float64)?
                    .as_primitive::<Float64Type>()
                    .clone()),
                None => exec_err!("{syntax}: the model has no field {p}"),
            })
            .collect::<Result<Vec<_>>>()?;
        let names = models
            .column_by_name("model")
            .and_then(|c| cast(c, &DataType::Utf8).ok())
            .map(|c| c.as_string::<i32>().clone());
        Ok(Self {
            params,
            nulls: models.logical_nulls(),
            names,
        })
    }

    /// Row `i`'s `model` field, if the struct has one and it is not NULL.
    pub fn name(&self, i: usize) -> Option<&str> {
        let names = self.names.as_ref()?;
        (!names.is_null(i)).then(|| names.value(i))
    }

    /// Row `i`'s parameters; `None` for a NULL model or parameter.
    pub fn row<const N: usize>(&self, i: usize) -> Option<[f64; N]> {
        if self.nulls.as_ref().is_some_and(|n| n.is_null(i)) {
            return None;
        }
        let mut out = [0.0; N];
        for (o, p) in out.iter_mut().zip(&self.params) {
            if p.is_null(i) {
                return None;
            }
            *o = p.value(i);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fit_without_standard_errors_says_why() {
        let row = |standard_errors: Option<Vec<f64>>| FitRow {
            fitted: Fitted {
                params: vec![2.0, 3.0, 4.0],
                log_likelihood: -1.0,
                iterations: 5,
                converged: standard_errors.as_ref().is_none_or(|se| se[0] < 1.0),
                standard_errors,
            },
            rows_used: 10,
            rows_skipped: 0,
            penalizer: 0.0,
        };
        let array = models_array(
            ModelKind::GammaGamma,
            &[
                Some(row(Some(vec![0.5, 0.25, 1.0]))),
                Some(row(None)),
                Some(row(Some(vec![2.0, 0.25, 1.0]))),
            ],
        );
        let models = array.as_struct();
        let column = |name: &str| models.column_by_name(name).unwrap().clone();
        let se_q = column("se_q");
        let se_q = se_q.as_primitive::<Float64Type>();
        assert_eq!(se_q.value(0), 0.25);
        assert!(se_q.is_null(1));
        let lower_p = column("lower_p");
        assert_eq!(
            lower_p.as_primitive::<Float64Type>().value(0),
            2.0 - 1.96 * 0.5
        );
        let upper_v = column("upper_v");
        assert_eq!(upper_v.as_primitive::<Float64Type>().value(0), 4.0 + 1.96);
        let warning = column("warning");
        let warning = warning.as_string::<i32>();
        assert!(warning.is_null(0));
        assert!(
            warning
                .value(1)
                .starts_with("the information matrix is singular")
        );
        // Standard errors, but no convergence: said too.
        assert!(
            warning
                .value(2)
                .starts_with("the optimizer stopped without converging")
        );
    }

    #[test]
    fn kinds_are_recognised_by_their_parameters() {
        for kind in [
            ModelKind::BgNbd,
            ModelKind::ParetoNbd,
            ModelKind::GammaGamma,
        ] {
            let t = DataType::Struct(kind.struct_fields());
            assert_eq!(ModelKind::of(&t), Some(kind));
        }
        assert_eq!(ModelKind::of(&DataType::Float64), None);
        let err = ModelKind::expect(
            "p_alive(model, ...)",
            "model",
            &DataType::Struct(ModelKind::GammaGamma.struct_fields()),
            &[ModelKind::BgNbd, ModelKind::MbgNbd, ModelKind::ParetoNbd],
        )
        .unwrap_err();
        assert!(
            err.to_string().contains(
                "model must be a model from bgnbd_fit, mbgnbd_fit or paretonbd_fit, got a \
                 gammagamma_fit model"
            ),
            "{err}"
        );
    }
}
