//! `kmeans_distances(model, features)`: the distance from a row to every centre.

use std::sync::Arc;

use datafusion::arrow::array::ListArray;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use datafusion_macros::user_doc;

use super::apply::{coerce, map_rows};

const SYNTAX: &str = "kmeans_distances(model, features)";

#[user_doc(
    doc_section(label = "Clustering functions"),
    description = "The Euclidean distance from the row's features to each of the model's \
    centres, as a list indexed by cluster number (element 1 is cluster 1), measured after the \
    model's standardisation as BigQuery ML's ML.PREDICT reports it. NULL when the model or \
    the features are NULL or hold a NULL or NaN; a row with another number of features than \
    the model's is an error.",
    syntax_example = "kmeans_distances(model, features)",
    sql_example = r#"```sql
> WITH m AS (SELECT kmeans_fit(make_array(frequency, recency, monetary_value), 3,
                               named_struct('seed', 42)) AS model FROM cdnow_summary),
  d AS (SELECT customer_id,
               kmeans_distances(model, make_array(frequency, recency, monetary_value)) AS d
        FROM cdnow_summary CROSS JOIN m)
  SELECT customer_id, round(d[1], 3) AS to_1, round(d[2], 3) AS to_2, round(d[3], 3) AS to_3
  FROM d WHERE customer_id <= 3 ORDER BY customer_id;
+-------------+-------+-------+-------+
| customer_id | to_1  | to_2  | to_3  |
+-------------+-------+-------+-------+
| 1           | 2.999 | 1.177 | 3.392 |
| 2           | 0.525 | 2.106 | 4.638 |
| 3           | 0.145 | 2.628 | 5.218 |
+-------------+-------+-------+-------+
```"#,
    argument(name = "model", description = "A model from kmeans_fit."),
    argument(
        name = "features",
        description = "The row's features, in the order the model was fitted on."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct KMeansDistances {
    signature: Signature,
}

impl Default for KMeansDistances {
    fn default() -> Self {
        Self::new()
    }
}

impl KMeansDistances {
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

fn distances_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Float64, false)))
}

impl ScalarUDFImpl for KMeansDistances {
    fn name(&self) -> &str {
        "kmeans_distances"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce(SYNTAX, arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(distances_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let mut scratch = Vec::new();
        let rows = map_rows(SYNTAX, &args.args, args.number_rows, |model, features| {
            model
                .distances(features, &mut scratch)
                .into_iter()
                .map(Some)
                .collect::<Vec<_>>()
        })?;
        let list = ListArray::from_iter_primitive::<Float64Type, _, _>(rows);
        let item = Arc::new(Field::new_list_field(DataType::Float64, false));
        let (_, offsets, values, nulls) = list.into_parts();
        Ok(ColumnarValue::Array(Arc::new(ListArray::new(
            item, offsets, values, nulls,
        ))))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
