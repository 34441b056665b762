//! The few catalog functions clients call at connect time that pg_catalog lacks: `version()`
//! as PostgreSQL words it, and `to_regtype(name)`.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, Int32Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};

/// `version()`: clients (SQLAlchemy, Metabase) read the major and minor version from its start.
pub fn version() -> ScalarUDF {
    let text = format!(
        "PostgreSQL 16.6 (seglake {} on Apache DataFusion {}), 64-bit",
        env!("CARGO_PKG_VERSION"),
        datafusion::DATAFUSION_VERSION
    );
    create_udf(
        "version",
        vec![],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(move |_| Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(text.clone()))))),
    )
}

/// `to_regtype(name)`: the oid of a built-in type by name or alias, NULL for any other (so
/// psycopg and SQLAlchemy find no `hstore` and carry on without it).
pub fn to_regtype() -> ScalarUDF {
    create_udf(
        "to_regtype",
        vec![DataType::Utf8],
        DataType::Int32,
        Volatility::Immutable,
        Arc::new(|args| {
            let array = match &args[0] {
                ColumnarValue::Array(array) => array.clone(),
                ColumnarValue::Scalar(value) => value.to_array()?,
            };
            let Some(names) = array.as_string_opt::<i32>() else {
                return exec_err!("to_regtype takes a type name as text");
            };
            let oids: Int32Array = names.iter().map(|name| name.and_then(type_oid)).collect();
            Ok(ColumnarValue::Array(Arc::new(oids)))
        }),
    )
}

fn type_oid(name: &str) -> Option<i32> {
    let name = name
        .trim()
        .trim_start_matches("pg_catalog.")
        .to_ascii_lowercase();
    Some(match name.as_str() {
        "bool" | "boolean" => 16,
        "bytea" => 17,
        "char" => 18,
        "name" => 19,
        "int8" | "bigint" => 20,
        "int2" | "smallint" => 21,
        "int4" | "integer" | "int" => 23,
        "text" => 25,
        "oid" => 26,
        "json" => 114,
        "float4" | "real" => 700,
        "float8" | "double precision" => 701,
        "bpchar" | "character" => 1042,
        "varchar" | "character varying" => 1043,
        "date" => 1082,
        "time" | "time without time zone" => 1083,
        "timestamp" | "timestamp without time zone" => 1114,
        "timestamptz" | "timestamp with time zone" => 1184,
        "interval" => 1186,
        "numeric" | "decimal" => 1700,
        "uuid" => 2950,
        "jsonb" => 3802,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_oids_are_postgres_ones() {
        // pg_type.oid values of PostgreSQL 16.
        assert_eq!(type_oid("int4"), Some(23));
        assert_eq!(type_oid("pg_catalog.timestamptz"), Some(1184));
        assert_eq!(type_oid("Double Precision"), Some(701));
        assert_eq!(type_oid("hstore"), None);
    }
}
