//! Binding a saved query's parameters and planning it.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::catalog::{
    CatalogProvider, CatalogProviderList, MemoryCatalogProvider, MemoryCatalogProviderList,
    MemorySchemaProvider, SchemaProvider,
};
use datafusion::common::ParamValues;
use datafusion::common::metadata::ScalarAndMetadata;
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::prelude::{DataFrame, SessionContext};

use super::{ParamType, SavedQuery};
use crate::error::{Result, SeglakeError, describe};

/// Binds `given` (name, text) to `query`'s parameters and plans it in a session of its own
/// that shares `ctx`'s tables, functions and settings: mapping a TABLE parameter never
/// changes `ctx` (the REPL's session keeps its tables).
///
/// # Errors
/// A usage error listing the query's parameters when a parameter is unknown, missing, of the
/// wrong type, or names no table; the query's own planning error otherwise.
pub async fn bind(
    ctx: &SessionContext,
    query: &SavedQuery,
    given: &[(String, String)],
) -> Result<DataFrame> {
    bind_in(&ctx.state(), query, given).await
}

/// [`bind`] in a session's state: the state's tables, functions and settings.
///
/// # Errors
/// As [`bind`].
pub async fn bind_in(
    state: &SessionState,
    query: &SavedQuery,
    given: &[(String, String)],
) -> Result<DataFrame> {
    let usage = |msg: String| {
        SeglakeError::usage(format!(
            "{msg} (query {} takes: {})",
            query.name,
            if query.params.is_empty() {
                "no parameters".to_string()
            } else {
                query.params_summary()
            }
        ))
    };
    let mut values: HashMap<&str, &str> = HashMap::new();
    for (name, value) in given {
        if !query.params.iter().any(|p| &p.name == name) {
            return Err(usage(format!("unknown parameter '{name}'")));
        }
        values.insert(name, value);
    }
    let run = isolated(state).await?;
    let mut bound = HashMap::new();
    for param in &query.params {
        let text = match (values.get(param.name.as_str()), &param.default) {
            (Some(text), _) => (*text).to_string(),
            (None, Some(default)) => default.clone(),
            (None, None) => return Err(usage(format!("parameter '{}' is required", param.name))),
        };
        let value = param
            .kind
            .parse_value(&text)
            .map_err(|e| usage(format!("parameter {} ({}): {e}", param.name, param.kind)))?;
        if param.kind == ParamType::Table {
            let provider = run.table_provider(text.as_str()).await.map_err(|_| {
                usage(format!(
                    "parameter {}: no table named '{text}' is registered",
                    param.name
                ))
            })?;
            if text != param.name {
                run.deregister_table(param.name.as_str())?;
                run.register_table(param.name.as_str(), provider)?;
            }
        } else {
            bound.insert(param.name.clone(), ScalarAndMetadata::from(value));
        }
    }
    let df = run
        .sql(&query.sql)
        .await
        .map_err(|e| SeglakeError::failed(format!("query {}: {}", query.name, describe(&e))))?;
    df.with_param_values(ParamValues::Map(bound))
        .map_err(|e| SeglakeError::failed(format!("query {}: {}", query.name, describe(&e))))
}

/// The locations of the tables a planned query reads (the table name for tables that are not
/// files, such as views' sources or in-memory tables), sorted and without repeats.
pub fn inputs(df: &DataFrame) -> Vec<String> {
    use datafusion::common::tree_node::TreeNodeRecursion;
    use datafusion::datasource::listing::ListingTable;
    use datafusion::datasource::source_as_provider;
    use datafusion::logical_expr::LogicalPlan;

    let mut found = std::collections::BTreeSet::new();
    let _ = df.logical_plan().apply_with_subqueries(|plan| {
        if let LogicalPlan::TableScan(scan) = plan {
            let listing = source_as_provider(&scan.source).ok().and_then(|provider| {
                provider.downcast_ref::<ListingTable>().map(|t| {
                    t.table_paths()
                        .iter()
                        .map(|p| p.as_str().to_string())
                        .collect::<Vec<_>>()
                })
            });
            match listing {
                Some(paths) => found.extend(paths),
                None => {
                    found.insert(scan.table_name.to_string());
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found.into_iter().collect()
}

/// A session with `state`'s settings, functions and runtime, and new catalogs holding the same
/// tables: registering a table in it leaves the original session as it was.
pub(crate) async fn isolated(state: &SessionState) -> Result<SessionContext> {
    let catalogs = copy_catalogs(state).await?;
    let state = SessionStateBuilder::new_from_existing(state.clone())
        .with_catalog_list(catalogs)
        .build();
    Ok(SessionContext::new_with_state(state))
}

/// New catalogs and schemas holding the same tables as `state`'s in-memory schemas (the lake's
/// tables, views, `CREATE TABLE` results). Other schemas (the `library`, `pg_catalog`) belong
/// to a session and are registered anew by whoever makes it.
pub async fn copy_catalogs(state: &SessionState) -> Result<Arc<MemoryCatalogProviderList>> {
    let catalogs = Arc::new(MemoryCatalogProviderList::new());
    for catalog_name in state.catalog_list().catalog_names() {
        let Some(catalog) = state.catalog_list().catalog(&catalog_name) else {
            continue;
        };
        let copy = Arc::new(MemoryCatalogProvider::new());
        for schema_name in catalog.schema_names() {
            let Some(schema) = catalog.schema(&schema_name) else {
                continue;
            };
            if !schema.is::<MemorySchemaProvider>() {
                continue;
            }
            let schema_copy = Arc::new(MemorySchemaProvider::new());
            for table in schema.table_names() {
                if let Some(provider) = schema.table(&table).await? {
                    schema_copy.register_table(table, provider)?;
                }
            }
            copy.register_schema(&schema_name, schema_copy)?;
        }
        catalogs.register_catalog(catalog_name, copy);
    }
    Ok(catalogs)
}
