//! Each connection gets a session of its own, made from the server's: the same tables,
//! functions, settings and runtime (so one memory limit for all), but its own catalogs, so a
//! client's `SET`, views or temporary state never reach another client.

use std::sync::Arc;

use datafusion::catalog::{CatalogProviderList, MemoryCatalogProviderList};
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::setup_pg_catalog;

use super::auth::DATABASE;
use crate::error::{Result, SeglakeError, describe};
use crate::library::{Library, copy_catalogs, register_library};

/// A session for one connection. Its default catalog is named after the database clients
/// connect to (`seglake`), so `current_database()`, `pg_database` and JDBC's catalog agree.
///
/// # Errors
/// When the server's tables cannot be listed or `pg_catalog` cannot be set up.
pub async fn connection_session(
    base: &SessionContext,
    library: &Library,
) -> Result<SessionContext> {
    let state = base.state();
    let default = state.config_options().catalog.default_catalog.clone();
    let copied = copy_catalogs(&state).await?;
    let catalogs = Arc::new(MemoryCatalogProviderList::new());
    for name in copied.catalog_names() {
        if let Some(catalog) = copied.catalog(&name) {
            let name = if name == default {
                DATABASE.to_string()
            } else {
                name
            };
            catalogs.register_catalog(name, catalog);
        }
    }
    // The catalogs are given: the builder must not make an empty default one.
    let mut config = state
        .config()
        .clone()
        .with_create_default_catalog_and_schema(false);
    config.options_mut().catalog.default_catalog = DATABASE.to_string();
    let state = SessionStateBuilder::new_from_existing(state)
        .with_config(config)
        .with_catalog_list(catalogs)
        .build();
    let ctx = SessionContext::new_with_state(state);
    register_library(&ctx, library).map_err(|e| SeglakeError::failed(describe(&e)))?;
    setup_pg_catalog(&ctx, DATABASE, EmptyContextProvider)
        .map_err(|e| SeglakeError::failed(describe(&e)))?;
    ctx.register_udf(super::catalog::version());
    ctx.register_udf(super::catalog::to_regtype());
    Ok(ctx)
}
