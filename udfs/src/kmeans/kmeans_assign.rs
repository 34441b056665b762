//! `kmeans_assign(model, features)`: the cluster a row belongs to.

use std::sync::Arc;

use datafusion::arrow::array::Int64Array;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use datafusion_macros::user_doc;

use super::apply::{coerce, map_rows};

const SYNTAX: &str = "kmeans_assign(model, features)";

#[user_doc(
    doc_section(label = "Clustering functions"),
    description = "The cluster (1..k, numbered as in the model) whose centre is nearest to the \
    row's features, measured after the model's standardisation; ties go to the lower number. \
    NULL when the model or the features are NULL or hold a NULL or NaN; a row with another \
    number of features than the model's is an error; any other value as model is a plan-time \
    error.",
    syntax_example = "kmeans_assign(model, features)",
    sql_example = r#"```sql
> WITH m AS (SELECT kmeans_fit(make_array(frequency, recency, monetary_value), 3,
                               named_struct('seed', 42)) AS model FROM cdnow_summary)
  SELECT kmeans_assign(model, make_array(frequency, recency, monetary_value)) AS cluster,
         count(*) AS customers
  FROM cdnow_summary CROSS JOIN m GROUP BY cluster ORDER BY cluster;
+---------+-----------+
| cluster | customers |
+---------+-----------+
| 1       | 1644      |
| 2       | 622       |
| 3       | 91        |
+---------+-----------+
```"#,
    argument(name = "model", description = "A model from kmeans_fit."),
    argument(
        name = "features",
        description = "The row's features, in the order the model was fitted on."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct KMeansAssign {
    signature: Signature,
}

impl Default for KMeansAssign {
    fn default() -> Self {
        Self::new()
    }
}

impl KMeansAssign {
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

impl ScalarUDFImpl for KMeansAssign {
    fn name(&self) -> &str {
        "kmeans_assign"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce(SYNTAX, arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let mut scratch = Vec::new();
        let clusters = map_rows(SYNTAX, &args.args, args.number_rows, |model, features| {
            i64::from(model.nearest(features, &mut scratch).0) + 1
        })?;
        Ok(ColumnarValue::Array(Arc::new(Int64Array::from(clusters))))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
