//! The saved query library in SQL, so the REPL, `sql`, embedders and BI tools over
//! `seglake serve` reach it without `seglake run`:
//!
//! - the schema `library` holds each saved query as a view with its default parameters:
//!   `SELECT * FROM library.rfm_segment_summary`;
//! - each saved query is a table function taking its parameters in declared order, constants
//!   only, later ones optional and NULL for a parameter's default:
//!   `SELECT * FROM rfm_segments(DATE '2024-07-01')`, `rfm_segments(NULL, 'orders')`.
//!
//! Both bind the values as typed parameters exactly as `seglake run` does (never pasted into
//! the SQL); a TABLE parameter takes a table's name as a string.

use std::collections::BTreeSet;
use std::sync::{Arc, Weak};

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::catalog::{
    CatalogProviderList, MemoryCatalogProviderList, SchemaProvider, TableFunctionArgs,
    TableFunctionImpl, TableProvider,
};
use datafusion::common::{ScalarValue, TableReference, plan_datafusion_err, plan_err};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::DFParser;
use datafusion::sql::resolve::resolve_table_references;

use super::{Library, ParamType, SavedQuery, bind_in};
use crate::error::SeglakeError;

/// The schema holding the saved queries as views.
pub const LIBRARY_SCHEMA: &str = "library";

/// Registers `library` in `ctx`: the schema of views in its default catalog and one table
/// function per saved query. Registering again (a new session made from this one) replaces
/// both.
///
/// # Errors
/// When the default catalog is missing.
pub fn register_library(ctx: &SessionContext, library: &Library) -> Result<()> {
    let queries: Vec<Arc<QueryEntry>> = library
        .queries()
        .map(|q| Arc::new(QueryEntry::new(q.clone())))
        .collect();
    for entry in &queries {
        ctx.register_udtf(
            &entry.query.name,
            Arc::new(SavedQueryFunction {
                entry: entry.clone(),
            }),
        );
    }
    let state = ctx.state();
    let catalog_name = state.config_options().catalog.default_catalog.clone();
    let catalog = ctx.catalog(&catalog_name).ok_or_else(|| {
        DataFusionError::Configuration(format!("no default catalog '{catalog_name}'"))
    })?;
    // The schema plans in this session's catalogs but must not own them (they own it).
    let catalogs = Arc::downgrade(state.catalog_list());
    let template = SessionStateBuilder::new_from_existing(state)
        .with_catalog_list(Arc::new(MemoryCatalogProviderList::new()))
        .build();
    catalog.register_schema(
        LIBRARY_SCHEMA,
        Arc::new(LibrarySchema {
            queries,
            catalogs,
            template,
        }),
    )?;
    Ok(())
}

/// A saved query and the tables its SQL reads (CTEs left out).
#[derive(Debug)]
struct QueryEntry {
    query: SavedQuery,
    reads: Vec<TableReference>,
}

impl QueryEntry {
    fn new(query: SavedQuery) -> Self {
        let reads = DFParser::parse_sql(&query.sql)
            .ok()
            .and_then(|mut statements| statements.pop_front())
            .and_then(|statement| resolve_table_references(&statement, true).ok())
            .map(|(tables, _ctes)| tables)
            .unwrap_or_default();
        Self { query, reads }
    }

    /// The first table the query reads with its default parameters that `catalogs` lacks.
    fn missing_table(
        &self,
        catalogs: &dyn CatalogProviderList,
        state: &SessionState,
    ) -> Option<String> {
        let defaults = &state.config_options().catalog;
        self.reads.iter().find_map(|table| {
            let name = table.table();
            // A TABLE parameter named like the table reads its default table.
            let name = self
                .query
                .params
                .iter()
                .find(|p| p.kind == ParamType::Table && p.name == name)
                .and_then(|p| p.default.clone())
                .unwrap_or_else(|| name.to_string());
            let catalog = table.catalog().unwrap_or(&defaults.default_catalog);
            let schema = table.schema().unwrap_or(&defaults.default_schema);
            let found = catalogs
                .catalog(catalog)
                .and_then(|c| c.schema(schema))
                .is_some_and(|s| s.table_exist(&name));
            (!found).then_some(name)
        })
    }
}

/// The `library` schema: every saved query whose tables are registered, as a view.
#[derive(Debug)]
struct LibrarySchema {
    queries: Vec<Arc<QueryEntry>>,
    catalogs: Weak<dyn CatalogProviderList>,
    /// The session's functions and settings, without catalogs.
    template: SessionState,
}

impl LibrarySchema {
    fn state(&self) -> Option<SessionState> {
        let catalogs = self.catalogs.upgrade()?;
        Some(
            SessionStateBuilder::new_from_existing(self.template.clone())
                .with_catalog_list(catalogs)
                .build(),
        )
    }

    fn entry(&self, name: &str) -> Option<&Arc<QueryEntry>> {
        self.queries.iter().find(|e| e.query.name == name)
    }
}

#[async_trait]
impl SchemaProvider for LibrarySchema {
    /// The saved queries whose tables are all registered: a lake without surveys does not
    /// offer `nps_by_segment` (listing never fails on it).
    fn table_names(&self) -> Vec<String> {
        let Some(state) = self.state() else {
            return vec![];
        };
        let catalogs = state.catalog_list().clone();
        let names: BTreeSet<String> = self
            .queries
            .iter()
            .filter(|e| e.missing_table(catalogs.as_ref(), &state).is_none())
            .map(|e| e.query.name.clone())
            .collect();
        names.into_iter().collect()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let (Some(entry), Some(state)) = (self.entry(name), self.state()) else {
            return Ok(None);
        };
        if let Some(missing) = entry.missing_table(state.catalog_list().as_ref(), &state) {
            return plan_err!(
                "saved query {name} reads the table '{missing}', which is not registered \
                 (call {name}(...) with a table parameter, or add the table to the lake)"
            );
        }
        match bind_in(&state, &entry.query, &[]).await {
            Ok(df) => Ok(Some(df.into_view())),
            // Listing the schema (information_schema, pg_catalog, `\d`) must not fail on a
            // query that cannot be planned on this lake (a column it needs is missing): the
            // view is there, and reading it gives the planning error.
            Err(e) => Ok(Some(Arc::new(Unplannable {
                message: e.to_string(),
                schema: Arc::new(Schema::empty()),
            }))),
        }
    }

    fn table_exist(&self, name: &str) -> bool {
        match (self.entry(name), self.state()) {
            (Some(entry), Some(state)) => entry
                .missing_table(state.catalog_list().as_ref(), &state)
                .is_none(),
            _ => false,
        }
    }
}

/// A saved query whose planning failed: no columns, and its error when read.
#[derive(Debug)]
struct Unplannable {
    message: String,
    schema: SchemaRef,
}

#[async_trait]
impl TableProvider for Unplannable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        _projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan_err!("{}", self.message)
    }
}

/// A saved query as a table function.
#[derive(Debug)]
struct SavedQueryFunction {
    entry: Arc<QueryEntry>,
}

impl TableFunctionImpl for SavedQueryFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let query = &self.entry.query;
        let signature = || format!("{}({})", query.name, query.params_summary());
        if args.exprs().len() > query.params.len() {
            return plan_err!(
                "{} takes at most {} arguments, got {}: {}",
                query.name,
                query.params.len(),
                args.exprs().len(),
                signature()
            );
        }
        let mut given = Vec::new();
        for (param, expr) in query.params.iter().zip(args.exprs()) {
            let Some(value) = constant(expr).map_err(|other| {
                plan_datafusion_err!(
                    "{}: argument {} must be a constant, got {other} (a placeholder or column \
                     cannot choose a parameter): {}",
                    query.name,
                    param.name,
                    signature()
                )
            })?
            else {
                continue;
            };
            // A timestamp given for a DATE parameter means its day (`now()`, `current_date`).
            let value = match (param.kind, value.data_type()) {
                (ParamType::Date, DataType::Timestamp(..) | DataType::Date64) => {
                    value.cast_to(&DataType::Date32).unwrap_or(value)
                }
                _ => value,
            };
            let text = value
                .cast_to(&DataType::Utf8)
                .ok()
                .and_then(|v| match v {
                    ScalarValue::Utf8(Some(text)) => Some(text),
                    _ => None,
                })
                .ok_or_else(|| {
                    plan_datafusion_err!(
                        "{}: argument {} is {}, expected {}: {}",
                        query.name,
                        param.name,
                        value.data_type(),
                        param.kind,
                        signature()
                    )
                })?;
            given.push((param.name.clone(), text));
        }
        let state = args
            .session()
            .as_any()
            .downcast_ref::<SessionState>()
            .ok_or_else(|| plan_datafusion_err!("{} needs a DataFusion session", query.name))?;
        // Planning reads only in-memory catalogs (the lake's tables are registered when the
        // session is made), so this future completes without waiting on any I/O.
        let df = futures::executor::block_on(bind_in(state, query, &given))
            .map_err(seglake_to_datafusion)?;
        Ok(df.into_view())
    }
}

/// The value of a constant argument; None for NULL (the parameter's default). Anything else
/// is returned as the error, to be named.
fn constant(expr: &Expr) -> std::result::Result<Option<ScalarValue>, Expr> {
    let simplified = ExprSimplifier::new(SimplifyContext::default())
        .simplify(expr.clone())
        .map_err(|_| expr.clone())?;
    match simplified {
        Expr::Literal(value, _) if value.is_null() => Ok(None),
        Expr::Literal(value, _) => Ok(Some(value)),
        other => Err(other),
    }
}

fn seglake_to_datafusion(e: SeglakeError) -> DataFusionError {
    DataFusionError::Plan(e.to_string())
}
