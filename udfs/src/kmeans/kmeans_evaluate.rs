//! `kmeans_evaluate(model, features)`: how well a model's clusters fit the rows.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, StructArray,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Float64Type, Int64Type};
use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator, Signature,
    TypeSignature, Volatility,
};
use datafusion_macros::user_doc;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::apply::coerce;
use super::features::FeatureColumn;
use super::model::{ModelColumn, Prepared};
use crate::common::lists::{float_lists_ref, int_lists};
use crate::common::single_group::{GroupState, SingleGroup};
use crate::math::kmeans::Points;
use crate::math::kmeans::geometry::nearest;
use crate::math::kmeans::lloyd::inertia;
use crate::math::kmeans::quality::{davies_bouldin, silhouette};

const SYNTAX: &str = "kmeans_evaluate(model, features)";

/// Rows the silhouette compares exactly; larger inputs use a seeded sample of this many.
pub const SILHOUETTE_ROWS: usize = 10_000;

#[user_doc(
    doc_section(label = "Clustering functions"),
    description = "Measures a k-means model on rows, with scikit-learn's definitions, in the \
    model's standardized units: inertia (sum of squared distances to the assigned centres), \
    davies_bouldin (lower is better; centroids are the means of each cluster's rows), \
    silhouette (-1..1, higher is better; exact over all rows up to 10,000, otherwise over a \
    seeded random sample of 10,000 rows, the same for the same rows), silhouette_rows (how \
    many rows it used), rows_used, rows_skipped and sizes (rows per cluster 1..k). Rows with \
    missing features or a NULL model are skipped and counted; every row of a group must carry \
    the same model. davies_bouldin and silhouette are NULL when fewer than two clusters have \
    rows; no usable rows give NULL.",
    syntax_example = "kmeans_evaluate(model, features)",
    sql_example = r#"```sql
> WITH m AS (SELECT kmeans_fit(make_array(frequency, recency, monetary_value), 3,
                               named_struct('seed', 42)) AS model FROM cdnow_summary)
  SELECT round(e['inertia'], 2) AS inertia, round(e['davies_bouldin'], 4) AS db,
         round(e['silhouette'], 4) AS silhouette, e['sizes'] AS sizes
  FROM (SELECT kmeans_evaluate(model, make_array(frequency, recency, monetary_value)) AS e
        FROM cdnow_summary CROSS JOIN m);
+---------+--------+------------+-----------------+
| inertia | db     | silhouette | sizes           |
+---------+--------+------------+-----------------+
| 2462.93 | 0.8682 | 0.6971     | [1644, 622, 91] |
+---------+--------+------------+-----------------+
```"#,
    argument(name = "model", description = "A model from kmeans_fit."),
    argument(
        name = "features",
        description = "The rows' features, in the order the model was fitted on."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct KMeansEvaluate {
    signature: Signature,
}

impl Default for KMeansEvaluate {
    fn default() -> Self {
        Self::new()
    }
}

impl KMeansEvaluate {
    pub fn new() -> Self {
        Self {
            signature: Signature {
                type_signature: TypeSignature::UserDefined,
                volatility: Volatility::Immutable,
                parameter_names: Some(vec!["model".into(), "features".into()]),
            },
        }
    }
}

fn sizes_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Int64, false)))
}

fn result_fields() -> Fields {
    Fields::from(vec![
        Field::new("inertia", DataType::Float64, false),
        Field::new("davies_bouldin", DataType::Float64, true),
        Field::new("silhouette", DataType::Float64, true),
        Field::new("silhouette_rows", DataType::Int64, false),
        Field::new("rows_used", DataType::Int64, false),
        Field::new("rows_skipped", DataType::Int64, false),
        Field::new("sizes", sizes_type(), false),
    ])
}

impl AggregateUDFImpl for KMeansEvaluate {
    fn name(&self) -> &str {
        "kmeans_evaluate"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce(SYNTAX, arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(result_fields()))
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(SingleGroup::new(EvaluateGroups::default())))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let list = || DataType::List(Arc::new(Field::new_list_field(DataType::Float64, false)));
        Ok(vec![
            Arc::new(Field::new(format!("{}[rows]", args.name), list(), false)),
            Arc::new(Field::new(
                format!("{}[skipped]", args.name),
                DataType::Int64,
                false,
            )),
            Arc::new(Field::new(format!("{}[model]", args.name), list(), false)),
        ])
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(EvaluateGroups::default()))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// One group's model and rows so far.
#[derive(Debug, Clone, Default)]
struct Group {
    model: Option<Prepared>,
    rows: Vec<f64>,
    skipped: u64,
}

impl Group {
    fn set_model(&mut self, model: &Prepared) -> Result<()> {
        match &self.model {
            Some(m) if m != model => {
                exec_err!("{SYNTAX}: every row of a group must carry the same model")
            }
            Some(_) => Ok(()),
            None => {
                self.model = Some(model.clone());
                Ok(())
            }
        }
    }

    fn add(&mut self, features: &[f64]) -> Result<()> {
        if let Some(model) = &self.model {
            model.check_features(SYNTAX, features.len())?;
        }
        self.rows.extend(features.iter().map(|v| v + 0.0));
        Ok(())
    }
}

/// What `kmeans_evaluate` returns for a group.
struct Evaluation {
    inertia: f64,
    davies_bouldin: Option<f64>,
    silhouette: Option<f64>,
    silhouette_rows: u64,
    rows_used: u64,
    rows_skipped: u64,
    sizes: Vec<i64>,
}

fn evaluate(group: Group) -> Option<Evaluation> {
    let model = group.model?;
    if group.rows.is_empty() {
        return None;
    }
    let points = Points::distinct(group.rows, model.dim).scaled(&model.scaling);
    let labels: Vec<u32> = (0..points.len())
        .map(|i| nearest(points.row(i), &model.scaled_centers).0)
        .collect();
    let mut sizes = vec![0i64; model.k];
    for (&l, w) in labels.iter().zip(points.weights()) {
        sizes[l as usize] += *w as i64;
    }
    let inertia = inertia(&points, &model.scaled_centers, &labels);
    let rows_used = points.total_weight() as u64;
    let (sample, sample_labels) = silhouette_sample(&points, &labels);
    Some(Evaluation {
        inertia,
        davies_bouldin: davies_bouldin(&points, &labels),
        silhouette: silhouette(&sample, &sample_labels),
        silhouette_rows: sample.total_weight() as u64,
        rows_used,
        rows_skipped: group.skipped,
        sizes,
    })
}

/// All rows when there are at most [`SILHOUETTE_ROWS`], else that many drawn without
/// replacement by a fixed seed from the rows in canonical order.
fn silhouette_sample(points: &Points, labels: &[u32]) -> (Points, Vec<u32>) {
    let total = points.total_weight() as usize;
    if total <= SILHOUETTE_ROWS {
        return (points.clone(), labels.to_vec());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut drawn = rand::seq::index::sample(&mut rng, total, SILHOUETTE_ROWS).into_vec();
    drawn.sort_unstable();
    // Row r of the expanded rows is distinct point i where the weights up to i pass r.
    let mut counts = vec![0.0; points.len()];
    let mut point = 0;
    let mut end = points.weights().first().copied().unwrap_or(0.0) as usize;
    for r in drawn {
        while r >= end && point + 1 < points.len() {
            point += 1;
            end += points.weights()[point] as usize;
        }
        counts[point] += 1.0;
    }
    let chosen: Vec<usize> = (0..points.len()).filter(|&i| counts[i] > 0.0).collect();
    let values = chosen
        .iter()
        .flat_map(|&i| points.row(i).to_vec())
        .collect();
    let weights = chosen.iter().map(|&i| counts[i]).collect();
    (
        Points::new(values, points.dim(), weights),
        chosen.iter().map(|&i| labels[i]).collect(),
    )
}

/// Every group's model and rows, as a groups accumulator.
#[derive(Debug, Clone, Default)]
pub struct EvaluateGroups {
    groups: Vec<Group>,
}

impl GroupState for EvaluateGroups {
    fn resize(&mut self, total_num_groups: usize) {
        if self.groups.len() < total_num_groups {
            self.groups.resize_with(total_num_groups, Group::default);
        }
    }
}

/// Visits each selected row with its model and features; `None` when either is missing.
fn rows(
    values: &[ArrayRef],
    filter: Option<&BooleanArray>,
    mut visit: impl FnMut(usize, Option<(&Prepared, &[f64])>) -> Result<()>,
) -> Result<()> {
    let mut models = ModelColumn::new(SYNTAX, &values[0])?;
    let features = FeatureColumn::new(&values[1])?;
    features.for_each(filter, |i, features| match features {
        Some(features) => match models.get(SYNTAX, i)? {
            Some(model) => visit(i, Some((model, features))),
            None => visit(i, None),
        },
        None => visit(i, None),
    })
}

fn state_arrays(groups: Vec<Group>) -> Vec<ArrayRef> {
    let skipped = Int64Array::from_iter_values(
        groups
            .iter()
            .map(|g| i64::try_from(g.skipped).unwrap_or(i64::MAX)),
    );
    let models = groups
        .iter()
        .map(|g| g.model.as_ref().map_or_else(Vec::new, Prepared::encode))
        .collect();
    let rows = groups.into_iter().map(|g| g.rows).collect();
    vec![
        float_lists_ref(rows),
        Arc::new(skipped),
        float_lists_ref(models),
    ]
}

fn evaluations_array(evaluations: Vec<Option<Evaluation>>) -> ArrayRef {
    let get = |f: &dyn Fn(&Evaluation) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(
            evaluations.iter().map(|e| e.as_ref().map_or(0.0, f)),
        ))
    };
    let optional = |f: &dyn Fn(&Evaluation) -> Option<f64>| -> ArrayRef {
        Arc::new(Float64Array::from(
            evaluations
                .iter()
                .map(|e| e.as_ref().and_then(f))
                .collect::<Vec<_>>(),
        ))
    };
    let count = |f: &dyn Fn(&Evaluation) -> u64| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(evaluations.iter().map(|e| {
            e.as_ref()
                .map_or(0, |e| i64::try_from(f(e)).unwrap_or(i64::MAX))
        })))
    };
    let sizes: Vec<Vec<i64>> = evaluations
        .iter()
        .map(|e| e.as_ref().map_or_else(Vec::new, |e| e.sizes.clone()))
        .collect();
    let sizes = int_lists(sizes);
    let columns = vec![
        get(&|e| e.inertia),
        optional(&|e| e.davies_bouldin),
        optional(&|e| e.silhouette),
        count(&|e| e.silhouette_rows),
        count(&|e| e.rows_used),
        count(&|e| e.rows_skipped),
        Arc::new(sizes) as ArrayRef,
    ];
    let nulls = NullBuffer::from(evaluations.iter().map(Option::is_some).collect::<Vec<_>>());
    Arc::new(StructArray::new(
        result_fields(),
        columns,
        Some(nulls).filter(|n| n.null_count() > 0),
    ))
}

impl GroupsAccumulator for EvaluateGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        let groups = &mut self.groups;
        rows(values, opt_filter, |i, row| {
            let group = &mut groups[group_indices[i]];
            match row {
                Some((model, features)) => {
                    group.set_model(model)?;
                    group.add(features)
                }
                None => {
                    group.skipped += 1;
                    Ok(())
                }
            }
        })
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let groups = emit_to.take_needed(&mut self.groups);
        Ok(evaluations_array(
            groups.into_iter().map(evaluate).collect(),
        ))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(state_arrays(emit_to.take_needed(&mut self.groups)))
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        let rows = values[0].as_list::<i32>();
        let skipped = values[1].as_primitive::<Int64Type>();
        let models = values[2].as_list::<i32>();
        for (i, &g) in group_indices.iter().enumerate() {
            let group = &mut self.groups[g];
            group.skipped += u64::try_from(skipped.value(i)).unwrap_or(0);
            let encoded = models.value(i);
            let encoded = encoded.as_primitive::<Float64Type>().values();
            if encoded.is_empty() {
                continue;
            }
            let Some(model) = Prepared::decode(encoded) else {
                return exec_err!("{SYNTAX}: a partial state holds a malformed model");
            };
            group.set_model(&model)?;
            let list = rows.value(i);
            let values = list.as_primitive::<Float64Type>().values();
            if !values.len().is_multiple_of(model.dim) {
                return exec_err!("{SYNTAX}: a partial state's rows do not match its model");
            }
            group.rows.extend_from_slice(values);
        }
        Ok(())
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let len = values.first().map_or(0, |v| v.len());
        let mut groups = vec![Group::default(); len];
        rows(values, opt_filter, |i, row| {
            let group = &mut groups[i];
            match row {
                Some((model, features)) => {
                    group.set_model(model)?;
                    group.add(features)
                }
                None => {
                    group.skipped = 1;
                    Ok(())
                }
            }
        })?;
        Ok(state_arrays(groups))
    }

    fn size(&self) -> usize {
        self.groups
            .iter()
            .map(|g| {
                g.rows.capacity() * size_of::<f64>()
                    + g.model
                        .as_ref()
                        .map_or(0, |m| m.centers.len() * 2 * size_of::<f64>())
            })
            .sum::<usize>()
            + self.groups.capacity() * size_of::<Group>()
    }
}
