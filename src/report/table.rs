//! A saved query's result as the report holds it: named columns of plain values, small enough
//! to draw and to embed (charts aggregate; no per-customer rows reach the page).

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::UInt64Type;
use datafusion::arrow::datatypes::{DataType, Float32Type, Float64Type, Int8Type, Int16Type};
use datafusion::arrow::datatypes::{Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::Result;

/// One value of a result.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Bool(bool),
    /// A list (k-means cluster sizes): `[1, 2]` in JSON, `1, 2` on the page.
    List(Vec<Value>),
}

impl Value {
    /// The value as a number (integers and floats; NaN for anything else).
    pub fn number(&self) -> Option<f64> {
        match self {
            Self::Int(v) => Some(*v as f64),
            Self::Float(v) if v.is_finite() => Some(*v),
            _ => None,
        }
    }

    /// The value as the text a CSV cell or a label shows (exact: floats in their shortest
    /// round-trip form).
    pub fn text(&self) -> String {
        match self {
            Self::Null => String::new(),
            Self::Int(v) => v.to_string(),
            Self::Float(v) => v.to_string(),
            Self::Text(v) => v.clone(),
            Self::Bool(v) => v.to_string(),
            Self::List(items) => items.iter().map(Value::text).collect::<Vec<_>>().join(", "),
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Self::Null => serde_json::Value::Null,
            Self::Int(v) => (*v).into(),
            Self::Float(v) => serde_json::Number::from_f64(*v)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Self::Text(v) => v.clone().into(),
            Self::Bool(v) => (*v).into(),
            Self::List(items) => serde_json::Value::Array(items.iter().map(Value::json).collect()),
        }
    }
}

/// A result: column names and rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    /// The rows of `batches`. Dates and timestamps become ISO 8601 text (as `--format json`
    /// writes them); other types without a
    /// plain value (lists, structs) become their display text.
    ///
    /// # Errors
    /// When a column cannot be formatted.
    pub fn from_batches(columns: Vec<String>, batches: &[RecordBatch]) -> Result<Self> {
        let mut rows = Vec::new();
        let options = FormatOptions::default().with_null("");
        for batch in batches {
            let mut cells: Vec<Vec<Value>> = vec![Vec::new(); batch.num_rows()];
            for array in batch.columns() {
                let values = values(array.as_ref(), &options)?;
                for (row, value) in cells.iter_mut().zip(values) {
                    row.push(value);
                }
            }
            rows.extend(cells);
        }
        Ok(Self { columns, rows })
    }

    /// The index of column `name`.
    ///
    /// # Errors
    /// When the result has no such column (a saved query overridden by one of the user's
    /// that returns other columns).
    pub fn column(&self, name: &str) -> std::result::Result<usize, String> {
        self.columns.iter().position(|c| c == name).ok_or_else(|| {
            format!(
                "the query's result has no column '{name}' (it has {})",
                self.columns.join(", ")
            )
        })
    }

    /// Column `name`'s values as numbers (None for NULL and non-numbers).
    ///
    /// # Errors
    /// As [`Table::column`].
    pub fn numbers(&self, name: &str) -> std::result::Result<Vec<Option<f64>>, String> {
        let c = self.column(name)?;
        Ok(self.rows.iter().map(|r| r[c].number()).collect())
    }

    /// Column `name`'s values as text (empty for NULL).
    ///
    /// # Errors
    /// As [`Table::column`].
    pub fn texts(&self, name: &str) -> std::result::Result<Vec<String>, String> {
        let c = self.column(name)?;
        Ok(self.rows.iter().map(|r| r[c].text()).collect())
    }

    /// `{"columns": [...], "rows": [[...], ...]}`, exact values (NaN and infinities as null).
    pub fn to_json(&self) -> String {
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|r| serde_json::Value::Array(r.iter().map(Value::json).collect()))
            .collect();
        serde_json::json!({ "columns": self.columns, "rows": rows }).to_string()
    }
}

fn values(array: &dyn Array, options: &FormatOptions<'_>) -> Result<Vec<Value>> {
    macro_rules! numbers {
        ($t:ty, $variant:ident, $cast:ty) => {
            array
                .as_primitive::<$t>()
                .iter()
                .map(|v| v.map_or(Value::Null, |v| Value::$variant(v as $cast)))
                .collect()
        };
    }
    Ok(match array.data_type() {
        DataType::Int8 => numbers!(Int8Type, Int, i64),
        DataType::Int16 => numbers!(Int16Type, Int, i64),
        DataType::Int32 => numbers!(Int32Type, Int, i64),
        DataType::Int64 => numbers!(Int64Type, Int, i64),
        DataType::UInt8 => numbers!(UInt8Type, Int, i64),
        DataType::UInt16 => numbers!(UInt16Type, Int, i64),
        DataType::UInt32 => numbers!(UInt32Type, Int, i64),
        // Counts beyond i64 do not occur in a report; they would show as floats.
        DataType::UInt64 => array
            .as_primitive::<UInt64Type>()
            .iter()
            .map(|v| match v {
                None => Value::Null,
                Some(v) => i64::try_from(v).map_or(Value::Float(v as f64), Value::Int),
            })
            .collect(),
        DataType::Float32 => numbers!(Float32Type, Float, f64),
        DataType::Float64 => numbers!(Float64Type, Float, f64),
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
            let list: Vec<Option<datafusion::arrow::array::ArrayRef>> = match array.data_type() {
                DataType::List(_) => array.as_list::<i32>().iter().collect(),
                DataType::LargeList(_) => array.as_list::<i64>().iter().collect(),
                _ => array.as_fixed_size_list().iter().collect(),
            };
            let mut out = Vec::with_capacity(list.len());
            for item in list {
                out.push(match item {
                    None => Value::Null,
                    Some(items) => Value::List(values(items.as_ref(), options)?),
                });
            }
            out
        }
        DataType::Boolean => array
            .as_boolean()
            .iter()
            .map(|v| v.map_or(Value::Null, Value::Bool))
            .collect(),
        _ => {
            let formatter = ArrayFormatter::try_new(array, options)?;
            (0..array.len())
                .map(|i| {
                    if array.is_null(i) {
                        Value::Null
                    } else {
                        Value::Text(formatter.value(i).to_string())
                    }
                })
                .collect()
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Date32Array, Float64Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    use super::*;

    #[test]
    fn batches_become_plain_values_with_iso_dates() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, true),
            Field::new("x", DataType::Float64, true),
            Field::new("s", DataType::Utf8, true),
            Field::new("d", DataType::Date32, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![Some(1), None])),
                Arc::new(Float64Array::from(vec![Some(0.1), Some(f64::NAN)])),
                Arc::new(StringArray::from(vec![Some("a"), None])),
                Arc::new(Date32Array::from(vec![Some(19723), None])),
            ],
        )
        .unwrap();
        let columns = vec!["n".into(), "x".into(), "s".into(), "d".into()];
        let table = Table::from_batches(columns, &[batch]).unwrap();
        assert_eq!(
            table.rows[0],
            vec![
                Value::Int(1),
                Value::Float(0.1),
                Value::Text("a".into()),
                Value::Text("2024-01-01".into())
            ]
        );
        assert_eq!(table.rows[1][0], Value::Null);
        assert_eq!(table.numbers("x").unwrap(), vec![Some(0.1), None]);
        assert_eq!(
            table.to_json(),
            r#"{"columns":["n","x","s","d"],"rows":[[1,0.1,"a","2024-01-01"],[null,null,null,null]]}"#
        );
        assert!(table.column("y").unwrap_err().contains("has n, x, s, d"));
    }
}
