//! A k-means model as a plain SQL value: the struct `kmeans_fit` returns, recognising it at
//! plan time, and reading it back (also after a round trip through Parquet) for assignment.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, ListArray, StringArray,
    StructArray,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Float64Type};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;

use crate::common::lists::{float_lists, int_lists};
use crate::math::kmeans::geometry::{nearest, squared_distance};
use crate::math::kmeans::{Clustering, Scaling};

/// The value of the struct's `model` field.
pub const MODEL: &str = "kmeans";

fn float_list() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Float64, false)))
}

fn int_list() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Int64, false)))
}

/// The struct type `kmeans_fit` returns.
pub fn model_fields() -> Fields {
    Fields::from(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("k", DataType::Int64, false),
        Field::new("features", DataType::Int64, false),
        Field::new(
            "centroids",
            DataType::List(Arc::new(Field::new_list_field(float_list(), false))),
            false,
        ),
        Field::new("standardize", DataType::Boolean, false),
        Field::new("means", float_list(), false),
        Field::new("stds", float_list(), false),
        Field::new("sizes", int_list(), false),
        Field::new("inertia", DataType::Float64, false),
        Field::new("iterations", DataType::Int64, false),
        Field::new("converged", DataType::Boolean, false),
        Field::new("rows_used", DataType::Int64, false),
        Field::new("rows_skipped", DataType::Int64, false),
        Field::new("seed", DataType::Int64, false),
        Field::new("n_init", DataType::Int64, false),
    ])
}

/// The fields a prediction needs; a struct with them (of list type) is taken for a model.
const NEEDED: [&str; 3] = ["centroids", "means", "stds"];

/// Checks a model argument at plan time.
///
/// # Errors
/// A plan error when the argument is not a model from kmeans_fit.
pub fn expect_model(syntax: &str, arg: &str, given: &DataType) -> Result<()> {
    let is_model = match given {
        DataType::Null => true,
        DataType::Struct(fields) => NEEDED.iter().all(|name| {
            fields.iter().any(|f| {
                f.name() == name
                    && matches!(
                        f.data_type(),
                        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)
                    )
            })
        }),
        _ => false,
    };
    if is_model {
        Ok(())
    } else {
        plan_err!("{syntax}: {arg} must be a model from kmeans_fit, got {given}")
    }
}

/// One group's fit, with the bookkeeping the struct reports.
pub struct FittedModel {
    pub clustering: Clustering,
    pub standardize: bool,
    pub rows_used: u64,
    pub rows_skipped: u64,
    pub seed: u64,
    pub n_init: u32,
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Builds the struct column of models; `None` rows are NULL models.
pub fn models_array(rows: &[Option<FittedModel>]) -> ArrayRef {
    let fit = |i: usize| rows[i].as_ref();
    let n = rows.len();
    let ints = |f: &dyn Fn(&FittedModel) -> u64| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(
            (0..n).map(|i| fit(i).map_or(0, |m| int(f(m)))),
        ))
    };
    let floats = |f: &dyn Fn(&FittedModel) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(
            (0..n).map(|i| fit(i).map_or(0.0, f)),
        ))
    };
    let bools = |f: &dyn Fn(&FittedModel) -> bool| -> ArrayRef {
        Arc::new(BooleanArray::from(
            (0..n).map(|i| fit(i).is_some_and(f)).collect::<Vec<_>>(),
        ))
    };
    let lists = |f: &dyn Fn(&FittedModel) -> Vec<f64>| -> ArrayRef {
        Arc::new(float_lists(
            (0..n).map(|i| fit(i).map_or_else(Vec::new, f)).collect(),
        ))
    };
    // centroids: one list per model of k lists of `features` numbers.
    let per_model: Vec<Vec<Vec<f64>>> = (0..n)
        .map(|i| {
            fit(i).map_or_else(Vec::new, |m| {
                let c = &m.clustering;
                c.centers.chunks_exact(c.dim).map(<[f64]>::to_vec).collect()
            })
        })
        .collect();
    let inner = float_lists(per_model.iter().flatten().cloned().collect());
    let centroids = ListArray::new(
        Arc::new(Field::new_list_field(float_list(), false)),
        OffsetBuffer::from_lengths(per_model.iter().map(Vec::len)),
        Arc::new(inner),
        None,
    );
    let sizes: Vec<Vec<i64>> = (0..n)
        .map(|i| {
            fit(i).map_or_else(Vec::new, |m| {
                m.clustering.sizes.iter().map(|&s| s as i64).collect()
            })
        })
        .collect();
    let sizes = int_lists(sizes);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values((0..n).map(|_| MODEL))),
        ints(&|m| m.clustering.k as u64),
        ints(&|m| m.clustering.dim as u64),
        Arc::new(centroids),
        bools(&|m| m.standardize),
        lists(&|m| m.clustering.scaling.means.clone()),
        lists(&|m| m.clustering.scaling.stds.clone()),
        Arc::new(sizes),
        floats(&|m| m.clustering.inertia),
        ints(&|m| u64::from(m.clustering.iterations)),
        bools(&|m| m.clustering.converged),
        ints(&|m| m.rows_used),
        ints(&|m| m.rows_skipped),
        ints(&|m| m.seed),
        ints(&|m| u64::from(m.n_init)),
    ];
    let nulls = NullBuffer::from(rows.iter().map(Option::is_some).collect::<Vec<_>>());
    Arc::new(StructArray::new(
        model_fields(),
        columns,
        Some(nulls).filter(|n| n.null_count() > 0),
    ))
}

/// A model ready to assign points: its centres in the space it clustered in.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub dim: usize,
    pub k: usize,
    pub scaling: Scaling,
    /// The centres in original units, as stored.
    pub centers: Vec<f64>,
    pub scaled_centers: Vec<f64>,
}

impl Prepared {
    /// From the stored parts; `None` when they do not fit together.
    pub fn new(means: Vec<f64>, stds: Vec<f64>, centers: Vec<f64>) -> Option<Self> {
        let dim = means.len();
        if dim == 0 || stds.len() != dim || centers.is_empty() || !centers.len().is_multiple_of(dim)
        {
            return None;
        }
        let scaling = Scaling { means, stds };
        let mut scaled_centers = centers.clone();
        for row in scaled_centers.chunks_exact_mut(dim) {
            scaling.apply(row);
        }
        Some(Self {
            dim,
            k: centers.len() / dim,
            scaling,
            centers,
            scaled_centers,
        })
    }

    /// Scales `features` into `scratch` and returns its nearest centre (0-based) and squared
    /// distance.
    pub fn nearest(&self, features: &[f64], scratch: &mut Vec<f64>) -> (u32, f64) {
        self.scale(features, scratch);
        nearest(scratch, &self.scaled_centers)
    }

    /// Scales `features` into `scratch`.
    pub fn scale(&self, features: &[f64], scratch: &mut Vec<f64>) {
        scratch.clear();
        scratch.extend_from_slice(features);
        self.scaling.apply(scratch);
    }

    /// The distance (not squared) from `features` to every centre, in scaled units.
    pub fn distances(&self, features: &[f64], scratch: &mut Vec<f64>) -> Vec<f64> {
        self.scale(features, scratch);
        self.scaled_centers
            .chunks_exact(self.dim)
            .map(|c| squared_distance(scratch, c).sqrt())
            .collect()
    }

    /// The model as numbers, for an aggregate's partial state.
    pub fn encode(&self) -> Vec<f64> {
        let mut out = vec![self.dim as f64];
        out.extend(&self.scaling.means);
        out.extend(&self.scaling.stds);
        out.extend(&self.centers);
        out
    }

    /// The inverse of [`Prepared::encode`].
    pub fn decode(values: &[f64]) -> Option<Self> {
        let dim = *values.first()? as usize;
        let rest = values.get(1..)?;
        if rest.len() < 2 * dim {
            return None;
        }
        Self::new(
            rest[..dim].to_vec(),
            rest[dim..2 * dim].to_vec(),
            rest[2 * dim..].to_vec(),
        )
    }

    /// Checks that the model takes `len` features.
    ///
    /// # Errors
    /// When it takes another number.
    pub fn check_features(&self, syntax: &str, len: usize) -> Result<()> {
        if len == self.dim {
            Ok(())
        } else {
            exec_err!(
                "{syntax}: the model was fitted on {} features, got a row with {len}",
                self.dim
            )
        }
    }
}

/// A column of models, read row by row. Consecutive rows usually hold the same model (a
/// model joined to every row), so the last one prepared is reused while the values match.
pub struct ModelColumn {
    centroids: ListArray,
    means: ListArray,
    stds: ListArray,
    nulls: Option<NullBuffer>,
    cached: Option<Prepared>,
}

fn float_list_column(
    syntax: &str,
    models: &StructArray,
    name: &str,
    t: &DataType,
) -> Result<ListArray> {
    match models.column_by_name(name) {
        Some(column) => Ok(cast(column, t)?.as_list::<i32>().clone()),
        None => exec_err!("{syntax}: the model has no field {name}"),
    }
}

impl ModelColumn {
    /// # Errors
    /// When the column is not a k-means model struct.
    pub fn new(syntax: &str, array: &ArrayRef) -> Result<Self> {
        let Some(models) = array.as_struct_opt() else {
            return exec_err!("{syntax}: the model is not a struct");
        };
        let list_of_lists = DataType::List(Arc::new(Field::new_list_field(float_list(), true)));
        Ok(Self {
            centroids: float_list_column(syntax, models, "centroids", &list_of_lists)?,
            means: float_list_column(syntax, models, "means", &float_list())?,
            stds: float_list_column(syntax, models, "stds", &float_list())?,
            nulls: models.logical_nulls(),
            cached: None,
        })
    }

    /// Row `i`'s model; `None` for a NULL model.
    ///
    /// # Errors
    /// When the stored parts do not form a model (e.g. edited by hand).
    pub fn get(&mut self, syntax: &str, i: usize) -> Result<Option<&Prepared>> {
        if self.nulls.as_ref().is_some_and(|n| n.is_null(i))
            || self.centroids.is_null(i)
            || self.means.is_null(i)
            || self.stds.is_null(i)
        {
            return Ok(None);
        }
        let means = floats(&self.means, i);
        let stds = floats(&self.stds, i);
        let inner = self.centroids.value(i);
        let inner = inner.as_list::<i32>();
        let offsets = inner.value_offsets();
        let (start, end) = (offsets[0] as usize, offsets[inner.len()] as usize);
        let centers = &inner.values().as_primitive::<Float64Type>().values()[start..end];
        let same = self.cached.as_ref().is_some_and(|c| {
            c.scaling.means == means && c.scaling.stds == stds && c.centers == centers
        });
        if !same {
            let rows_fit = (0..inner.len()).all(|j| inner.value_length(j) as usize == means.len());
            self.cached = rows_fit
                .then(|| Prepared::new(means.to_vec(), stds.to_vec(), centers.to_vec()))
                .flatten();
            if self.cached.is_none() {
                return exec_err!(
                    "{syntax}: the model's centroids, means and stds do not fit together"
                );
            }
        }
        Ok(self.cached.as_ref())
    }
}

fn floats(lists: &ListArray, i: usize) -> &[f64] {
    let offsets = lists.value_offsets();
    let values = lists.values().as_primitive::<Float64Type>().values();
    &values[offsets[i] as usize..offsets[i + 1] as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepared_models_encode_and_scale() {
        let model =
            Prepared::new(vec![1.0, 10.0], vec![2.0, 5.0], vec![1.0, 10.0, 5.0, 20.0]).unwrap();
        assert_eq!(model.k, 2);
        assert_eq!(model.scaled_centers, vec![0.0, 0.0, 2.0, 2.0]);
        let mut scratch = Vec::new();
        assert_eq!(model.nearest(&[4.0, 19.0], &mut scratch).0, 1);
        assert_eq!(
            model.distances(&[1.0, 10.0], &mut scratch),
            vec![0.0, 8f64.sqrt()]
        );
        assert_eq!(Prepared::decode(&model.encode()), Some(model));
        assert_eq!(Prepared::new(vec![1.0], vec![1.0, 2.0], vec![1.0]), None);
        assert!(expect_model("f", "model", &DataType::Struct(model_fields())).is_ok());
        assert!(
            expect_model("f", "model", &DataType::Float64)
                .unwrap_err()
                .to_string()
                .contains("model must be a model from kmeans_fit, got Float64")
        );
    }
}
