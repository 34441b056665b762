//! What `\d` and `\d TABLE` show, as record batches so every output format can print them.

use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::TableProvider;
use datafusion::datasource::listing::ListingTable;
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;

/// One row per table: its name, column count and where it is read from.
pub async fn tables(ctx: &SessionContext) -> Result<RecordBatch> {
    let mut names = Vec::new();
    let mut columns = Vec::new();
    let mut locations = Vec::new();
    let state = ctx.state();
    let default_schema = state.config().options().catalog.default_schema.clone();
    let catalogs = state.catalog_list();
    let mut catalog_names = catalogs.catalog_names();
    catalog_names.sort();
    for catalog_name in catalog_names {
        let Some(catalog) = catalogs.catalog(&catalog_name) else {
            continue;
        };
        let mut schema_names = catalog.schema_names();
        schema_names.sort();
        for schema_name in schema_names {
            // The saved queries' views are listed by \queries.
            if schema_name == crate::library::LIBRARY_SCHEMA {
                continue;
            }
            let Some(schema) = catalog.schema(&schema_name) else {
                continue;
            };
            let mut table_names = schema.table_names();
            table_names.sort();
            for table in table_names {
                let Some(provider) = schema.table(&table).await? else {
                    continue;
                };
                names.push(if schema_name == default_schema {
                    table
                } else {
                    format!("{schema_name}.{table}")
                });
                columns.push(provider.schema().fields().len() as u64);
                locations.push(location(provider.as_ref()));
            }
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("table", DataType::Utf8, false),
        Field::new("columns", DataType::UInt64, false),
        Field::new("location", DataType::Utf8, false),
    ]));
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(names)),
            Arc::new(UInt64Array::from(columns)),
            Arc::new(StringArray::from(locations)),
        ],
    )?)
}

fn location(provider: &dyn TableProvider) -> String {
    match provider.downcast_ref::<ListingTable>() {
        Some(listing) => listing
            .table_paths()
            .iter()
            .map(|p| p.as_str().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        None => format!("({})", provider.table_type().to_string().to_lowercase()),
    }
}

/// One row per column of `table`: name, type and whether it may be NULL.
///
/// # Errors
/// When there is no such table.
pub async fn columns(ctx: &SessionContext, table: &str) -> Result<RecordBatch> {
    let provider = ctx.table_provider(table).await.map_err(|_| {
        DataFusionError::Plan(format!("no table named '{table}': \\d lists the tables"))
    })?;
    let schema = provider.schema();
    let fields = schema.fields();
    let out = Arc::new(Schema::new(vec![
        Field::new("column", DataType::Utf8, false),
        Field::new("type", DataType::Utf8, false),
        Field::new("nullable", DataType::Utf8, false),
    ]));
    Ok(RecordBatch::try_new(
        out,
        vec![
            Arc::new(StringArray::from_iter_values(
                fields.iter().map(|f| f.name()),
            )),
            Arc::new(StringArray::from_iter_values(
                fields.iter().map(|f| f.data_type().to_string()),
            )),
            Arc::new(StringArray::from_iter_values(
                fields
                    .iter()
                    .map(|f| if f.is_nullable() { "yes" } else { "no" }),
            )),
        ],
    )?)
}
