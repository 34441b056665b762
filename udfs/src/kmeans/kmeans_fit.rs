//! `kmeans_fit(features [, k [, options]])`: k-means clustering as an aggregate.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Int64Type};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator, Signature,
    TypeSignature, Volatility,
};
use datafusion_macros::user_doc;

use super::features::{self, FeatureColumn, check_dim};
use super::model::{FittedModel, model_fields, models_array};
use super::options::options;
use crate::common::args;
use crate::common::lists::float_lists;
use crate::common::single_group::{GroupState, SingleGroup};
use crate::math::kmeans::{KMeansOptions, Points, fit_kmeans};

const SYNTAX: &str = "kmeans_fit(features [, k [, options]])";
const NAMES: [&str; 3] = ["features", "k", "options"];

#[user_doc(
    doc_section(label = "Clustering functions"),
    description = "Fits k-means to the rows' feature lists, as scikit-learn's KMeans does: \
    z-scores every feature first (population standard deviation; a constant feature is only \
    centred), seeds each of n_init starts with greedy k-means++, runs Lloyd's iterations until \
    the centres move less than tol times the mean feature variance or no label changes, and \
    keeps the start with the lowest inertia. Identical rows are merged into weights and the \
    rows are put in a canonical order first, so the same data, k and seed give the same model \
    however the rows arrive; starts run on all cores. Clusters are numbered 1..k by size \
    (largest first), ties by centre. Returns a model struct: model, k, features, centroids (in \
    the original units), standardize, means, stds, sizes, inertia (in standardized units), \
    iterations, converged, rows_used, rows_skipped, seed, n_init. Rows whose features are NULL \
    or hold a NULL or NaN are skipped and counted; lists of different lengths are an error; k \
    must be 2 or more and at most the number of distinct rows; no usable rows give NULL. Use \
    GROUP BY to fit one model per group, e.g. per k when choosing k. The model is a plain \
    value: store it with COPY ... TO and apply it later with kmeans_assign.",
    syntax_example = "kmeans_fit(features [, k => 4 [, options => named_struct('standardize', true, 'seed', 0, 'n_init', 10, 'max_iter', 300, 'tol', 1e-4)]])",
    sql_example = r#"```sql
> SELECT m['k'] AS k, m['sizes'] AS sizes, round(m['inertia'], 2) AS inertia, m['converged'] AS ok
  FROM (SELECT kmeans_fit(make_array(frequency, recency, monetary_value), 3, named_struct('seed', 42))
        AS m FROM cdnow_summary);
+---+-----------------+---------+------+
| k | sizes           | inertia | ok   |
+---+-----------------+---------+------+
| 3 | [1644, 622, 91] | 2462.93 | true |
+---+-----------------+---------+------+
```"#,
    argument(
        name = "features",
        description = "A list of numbers per row, e.g. make_array(recency, frequency, monetary); every row the same length."
    ),
    argument(
        name = "k",
        description = "The number of clusters, 2 or more; 4 by default. It may be a column that \
        is the same within each group (GROUP BY k)."
    ),
    argument(
        name = "options",
        description = "A constant struct with any of: standardize (true), seed (0), n_init \
        (10), max_iter (300), tol (1e-4), e.g. named_struct('seed', 7, 'n_init', 20)."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct KMeansFit {
    signature: Signature,
}

impl Default for KMeansFit {
    fn default() -> Self {
        Self::new()
    }
}

impl KMeansFit {
    pub fn new() -> Self {
        Self {
            signature: Signature {
                type_signature: TypeSignature::UserDefined,
                volatility: Volatility::Immutable,
                parameter_names: Some(NAMES.map(String::from).to_vec()),
            },
        }
    }

    fn groups(args: &AccumulatorArgs) -> Result<KMeansGroups> {
        let options = options(
            SYNTAX,
            args::constant_arg(SYNTAX, args, 2, "options")?.as_ref(),
        )?;
        let k_arg = args.exprs.len() > 1;
        if k_arg {
            // A literal k is checked now; a column's values when the rows arrive.
            let schema = args.schema;
            if let Ok(value) = args::constant(SYNTAX, "k", &args.exprs[1], schema) {
                check_k(args::int(SYNTAX, "k", &value)?)?;
            }
        }
        Ok(KMeansGroups::new(options, k_arg))
    }
}

fn check_k(k: Option<i64>) -> Result<usize> {
    match k {
        Some(k) if k >= 2 => Ok(usize::try_from(k).unwrap_or(usize::MAX)),
        Some(k) => plan_err!("{SYNTAX}: k must be 2 or more, got {k}"),
        None => plan_err!("{SYNTAX}: k must not be NULL"),
    }
}

impl AggregateUDFImpl for KMeansFit {
    fn name(&self) -> &str {
        "kmeans_fit"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        args::count(SYNTAX, arg_types.len(), 1, 3)?;
        let mut types = vec![features::coerce(SYNTAX, "features", &arg_types[0])?];
        if let Some(k) = arg_types.get(1) {
            types.push(args::integer(SYNTAX, "k", k)?);
        }
        if let Some(options) = arg_types.get(2) {
            match options {
                DataType::Struct(_) | DataType::Null => types.push(options.clone()),
                other => {
                    return plan_err!(
                        "{SYNTAX}: options must be a struct such as named_struct('seed', 7), \
                         got {other}"
                    );
                }
            }
        }
        Ok(types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(model_fields()))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(SingleGroup::new(Self::groups(&args)?)))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let item = Arc::new(Field::new_list_field(DataType::Float64, false));
        Ok(vec![
            Arc::new(Field::new(
                format!("{}[rows]", args.name),
                DataType::List(item),
                false,
            )),
            Arc::new(Field::new(
                format!("{}[features]", args.name),
                DataType::Int64,
                false,
            )),
            Arc::new(Field::new(
                format!("{}[k]", args.name),
                DataType::Int64,
                false,
            )),
            Arc::new(Field::new(
                format!("{}[skipped]", args.name),
                DataType::Int64,
                false,
            )),
        ])
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(Self::groups(&args)?))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// One group's rows so far.
#[derive(Debug, Clone, Default)]
struct Group {
    rows: Vec<f64>,
    /// Features per row, once a row has been seen.
    dim: Option<usize>,
    /// k, once a row has given it.
    k: Option<usize>,
    skipped: u64,
}

impl Group {
    fn set_k(&mut self, k: usize) -> Result<()> {
        match self.k {
            Some(old) if old != k => exec_err!(
                "{SYNTAX}: k must be the same for every row of a group, got {old} and {k}"
            ),
            _ => {
                self.k = Some(k);
                Ok(())
            }
        }
    }

    fn add(&mut self, features: &[f64]) -> Result<()> {
        check_dim(SYNTAX, &mut self.dim, features.len())?;
        self.rows.extend(features.iter().map(|v| v + 0.0));
        Ok(())
    }
}

/// Every group's rows, as a groups accumulator.
#[derive(Debug, Clone)]
pub struct KMeansGroups {
    options: KMeansOptions,
    /// Whether k comes from the second argument (else the default).
    k_arg: bool,
    groups: Vec<Group>,
}

impl KMeansGroups {
    fn new(options: KMeansOptions, k_arg: bool) -> Self {
        Self {
            options,
            k_arg,
            groups: Vec::new(),
        }
    }

    /// Visits each input row: `(row, k, features)` with `None` features for rows to skip.
    fn rows(
        &self,
        values: &[ArrayRef],
        filter: Option<&BooleanArray>,
        mut visit: impl FnMut(usize, usize, Option<&[f64]>) -> Result<()>,
    ) -> Result<()> {
        let column = FeatureColumn::new(&values[0])?;
        let ks = self.k_arg.then(|| values[1].as_primitive::<Int64Type>());
        column.for_each(filter, |i, features| {
            let k = match ks {
                Some(ks) => check_k(ks.is_valid(i).then(|| ks.value(i)))?,
                None => self.options.k,
            };
            visit(i, k, features)
        })
    }

    fn fit(&self, group: Group) -> Result<Option<FittedModel>> {
        let (Some(dim), false) = (group.dim, group.rows.is_empty()) else {
            return Ok(None);
        };
        let options = KMeansOptions {
            k: group.k.unwrap_or(self.options.k),
            ..self.options.clone()
        };
        let rows_used = (group.rows.len() / dim) as u64;
        let points = Points::distinct(group.rows, dim);
        match fit_kmeans(&points, &options) {
            Ok(clustering) => Ok(Some(FittedModel {
                clustering,
                standardize: options.standardize,
                rows_used,
                rows_skipped: group.skipped,
                seed: options.seed,
                n_init: options.n_init,
            })),
            Err(e) => exec_err!("{SYNTAX}: {e}"),
        }
    }
}

impl GroupState for KMeansGroups {
    fn resize(&mut self, total_num_groups: usize) {
        if self.groups.len() < total_num_groups {
            self.groups.resize_with(total_num_groups, Group::default);
        }
    }
}

fn as_int(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl GroupsAccumulator for KMeansGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        let mut groups = std::mem::take(&mut self.groups);
        let result = self.rows(values, opt_filter, |i, k, features| {
            let group = &mut groups[group_indices[i]];
            group.set_k(k)?;
            match features {
                Some(features) => group.add(features),
                None => {
                    group.skipped += 1;
                    Ok(())
                }
            }
        });
        self.groups = groups;
        result
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let groups = emit_to.take_needed(&mut self.groups);
        let models = groups
            .into_iter()
            .map(|g| self.fit(g))
            .collect::<Result<Vec<_>>>()?;
        Ok(models_array(&models))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let groups = emit_to.take_needed(&mut self.groups);
        Ok(state_arrays(groups))
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        let rows = values[0].as_list::<i32>();
        let dims = values[1].as_primitive::<Int64Type>();
        let ks = values[2].as_primitive::<Int64Type>();
        let skipped = values[3].as_primitive::<Int64Type>();
        for (i, &g) in group_indices.iter().enumerate() {
            let group = &mut self.groups[g];
            if ks.value(i) > 0 {
                group.set_k(ks.value(i) as usize)?;
            }
            group.skipped += u64::try_from(skipped.value(i)).unwrap_or(0);
            let list = rows.value(i);
            let values = list.as_primitive::<Float64Type>().values();
            if let (dim @ 1.., false) = (dims.value(i), values.is_empty()) {
                check_dim(SYNTAX, &mut group.dim, dim as usize)?;
                group.rows.extend_from_slice(values);
            }
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
        self.rows(values, opt_filter, |i, k, features| {
            let group = &mut groups[i];
            group.k = Some(k);
            match features {
                Some(features) => group.add(features),
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
            .map(|g| g.rows.capacity() * size_of::<f64>())
            .sum::<usize>()
            + self.groups.capacity() * size_of::<Group>()
    }
}

/// The partial state of `groups`: rows, features per row (0: none yet), k (0: none yet) and
/// skipped rows.
fn state_arrays(groups: Vec<Group>) -> Vec<ArrayRef> {
    let dims = Int64Array::from_iter_values(groups.iter().map(|g| as_int(g.dim.unwrap_or(0))));
    let ks = Int64Array::from_iter_values(groups.iter().map(|g| as_int(g.k.unwrap_or(0))));
    let skipped = Int64Array::from_iter_values(
        groups
            .iter()
            .map(|g| i64::try_from(g.skipped).unwrap_or(i64::MAX)),
    );
    let rows = float_lists(groups.into_iter().map(|g| g.rows).collect());
    vec![
        Arc::new(rows),
        Arc::new(dims),
        Arc::new(ks),
        Arc::new(skipped),
    ]
}
