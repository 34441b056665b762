//! Applying a model row by row: the shared part of `kmeans_assign` and `kmeans_distances`.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::logical_expr::ColumnarValue;

use super::features::{self, FeatureColumn, Features};
use super::model::{ModelColumn, Prepared, expect_model};
use crate::common::args;

/// Coerces `(model, features)`.
///
/// # Errors
/// A plan error when the model is not a k-means model or the features not a list of numbers.
pub fn coerce(syntax: &str, arg_types: &[DataType]) -> Result<Vec<DataType>> {
    args::count(syntax, arg_types.len(), 2, 2)?;
    expect_model(syntax, "model", &arg_types[0])?;
    if arg_types[0].is_null() {
        return plan_err!("{syntax}: model must be a model from kmeans_fit, got NULL");
    }
    Ok(vec![
        arg_types[0].clone(),
        features::coerce(syntax, "features", &arg_types[1])?,
    ])
}

/// `apply(model, features)` for every row; `None` where the model or the features are missing.
///
/// # Errors
/// When a row's feature count differs from its model's, or `apply` fails.
pub fn map_rows<T>(
    syntax: &str,
    args: &[ColumnarValue],
    rows: usize,
    mut apply: impl FnMut(&Prepared, &[f64]) -> T,
) -> Result<Vec<Option<T>>> {
    let arrays = crate::common::args::arrays(args, rows)?;
    let mut models = ModelColumn::new(syntax, &arrays[0])?;
    let features = FeatureColumn::new(&arrays[1])?;
    let mut out = Vec::with_capacity(features.len());
    for i in 0..features.len() {
        let Features::Values(values) = features.row(i) else {
            out.push(None);
            continue;
        };
        match models.get(syntax, i)? {
            Some(model) => {
                model.check_features(syntax, values.len())?;
                out.push(Some(apply(model, values)));
            }
            None => out.push(None),
        }
    }
    Ok(out)
}
