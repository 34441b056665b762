//! Struct, list and map columns reach Postgres clients as `json` text: `rfm(...)` as
//! `{"recency_days":121,"frequency":2,...}`, a k-means model's centroids as `[[...],...]`.
//! Every client can show and parse JSON, while composite and nested array types are read by few.
//! The conversion is a projection on top of the statement's plan, so the columns clients are
//! told about (Describe) and the rows they receive agree.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::arrow::json::writer::{EncoderOptions, make_encoder};
use datafusion::common::{Column, Result, exec_datafusion_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    ColumnarValue, Expr, LogicalPlan, LogicalPlanBuilder, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};

/// True for the types sent as JSON text.
fn is_nested(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Struct(_)
            | DataType::List(_)
            | DataType::LargeList(_)
            | DataType::ListView(_)
            | DataType::LargeListView(_)
            | DataType::FixedSizeList(..)
            | DataType::Map(..)
            | DataType::Union(..)
    )
}

/// `plan` with its nested output columns turned into JSON text, under the same names; the plan
/// itself when it has none (or returns no rows, as DDL does).
///
/// # Errors
/// When the projection cannot be built.
pub fn nested_as_json(plan: LogicalPlan) -> Result<LogicalPlan> {
    if matches!(plan, LogicalPlan::Ddl(_) | LogicalPlan::Dml(_))
        || !plan
            .schema()
            .fields()
            .iter()
            .any(|f| is_nested(f.data_type()))
    {
        return Ok(plan);
    }
    let udf = Arc::new(ScalarUDF::from(ToJsonText::new()));
    let exprs: Vec<Expr> = plan
        .schema()
        .iter()
        .map(|(qualifier, field)| {
            let column = Expr::Column(Column::from((qualifier, field)));
            if is_nested(field.data_type()) {
                Expr::ScalarFunction(ScalarFunction::new_udf(udf.clone(), vec![column]))
                    .alias(field.name())
            } else {
                column
            }
        })
        .collect();
    LogicalPlanBuilder::from(plan).project(exprs)?.build()
}

/// The value of each row as JSON text (NULL stays NULL).
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToJsonText {
    signature: Signature,
}

impl ToJsonText {
    fn new() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for ToJsonText {
    fn name(&self) -> &str {
        "to_json_text"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let array = match &args.args[0] {
            ColumnarValue::Array(array) => array.clone(),
            ColumnarValue::Scalar(value) => value.to_array_of_size(rows)?,
        };
        Ok(ColumnarValue::Array(to_json(&array)?))
    }
}

fn to_json(array: &ArrayRef) -> Result<ArrayRef> {
    let field = Arc::new(Field::new("value", array.data_type().clone(), true));
    let options = EncoderOptions::default();
    let mut encoder = make_encoder(&field, array.as_ref(), &options)
        .map_err(|e| exec_datafusion_err!("cannot write {} as JSON: {e}", array.data_type()))?;
    let mut out = StringBuilder::with_capacity(array.len(), array.len() * 32);
    let mut buffer = Vec::with_capacity(64);
    for row in 0..array.len() {
        if array.is_null(row) {
            out.append_null();
            continue;
        }
        buffer.clear();
        encoder.encode(row, &mut buffer);
        out.append_value(String::from_utf8_lossy(&buffer));
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::SessionContext;

    use super::*;

    #[tokio::test]
    async fn nested_columns_become_json_text() {
        let ctx = SessionContext::new();
        let df = ctx
            .sql(
                "SELECT 1 AS n, named_struct('r', 5, 'f', CAST(NULL AS INT), 'ok', true) AS s, \
                 make_array(1.5, 2.0) AS l, CAST(NULL AS INT[]) AS missing",
            )
            .await
            .unwrap();
        let plan = nested_as_json(df.logical_plan().clone()).unwrap();
        let names: Vec<String> = plan
            .schema()
            .fields()
            .iter()
            .map(|f| format!("{} {}", f.name(), f.data_type()))
            .collect();
        assert_eq!(names, ["n Int64", "s Utf8", "l Utf8", "missing Utf8"]);
        let batches = ctx
            .execute_logical_plan(plan)
            .await
            .unwrap()
            .collect()
            .await;
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches.unwrap())
            .unwrap()
            .to_string();
        assert!(text.contains(r#"{"r":5,"ok":true}"#), "{text}");
        assert!(text.contains("[1.5,2.0]"), "{text}");
    }
}
