//! One connection's query handling: statements are checked by the [`Policy`], planned in the
//! connection's own session, their nested columns sent as JSON, and their rows streamed under
//! the statement timeout and the client's cancel requests, with one log line each.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{DataFrame, SessionContext};
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::arrow_pg::datatypes::df::encode_dataframe;
use datafusion_postgres::datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use datafusion_postgres::hooks::cursor::CursorStatementHook;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use datafusion_postgres::pgwire;
use datafusion_postgres::{DfSessionService, Parser, QueryHook};
use futures::Sink;
use pgwire::api::cancel::DefaultCancelHandler;
use pgwire::api::portal::PortalExecutionState;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{
    ExtendedQueryHandler, SimpleQueryHandler, send_execution_response, send_query_response,
};
use pgwire::api::results::{FieldInfo, Response, Tag};
use pgwire::api::stmt::QueryParser;
use pgwire::api::store::Entry;
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, ConnectionHandle, ErrorHandler, Type};
use pgwire::api::{DEFAULT_NAME, PgWireConnectionState};
use pgwire::api::{PgWireServerHandlers, auth::StartupHandler};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::extendedquery::Bind;
use pgwire::messages::extendedquery::Execute;
use pgwire::types::format::FormatOptions;

use super::auth::Startup;
use super::json::nested_as_json;
use super::policy::Policy;
use super::stream::{Limits, QueryLog, guard};

type Plan = (
    String,
    Option<(Statement, datafusion::logical_expr::LogicalPlan)>,
);

/// The handlers of one connection.
pub struct Connection {
    pub queries: Arc<Queries>,
    pub startup: Arc<Startup>,
    pub cancel: Arc<DefaultCancelHandler>,
}

impl PgWireServerHandlers for Connection {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.queries.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.queries.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        self.startup.clone()
    }

    fn error_handler(&self) -> Arc<impl ErrorHandler> {
        Arc::new(Errors)
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        self.cancel.clone()
    }
}

/// The query handlers of one connection's session.
pub struct Queries {
    ctx: Arc<SessionContext>,
    service: DfSessionService,
    parser: Arc<JsonParser>,
    sql_parser: PostgresCompatibilityParser,
    hooks: Vec<Arc<dyn QueryHook>>,
    policy: Arc<Policy>,
    limits: Arc<Limits>,
}

impl Queries {
    /// The handlers over `ctx`; `policy` runs before datafusion-postgres' own statement hooks.
    pub fn new(ctx: Arc<SessionContext>, policy: Arc<Policy>, limits: Arc<Limits>) -> Self {
        let hooks: Vec<Arc<dyn QueryHook>> = vec![
            policy.clone(),
            Arc::new(CursorStatementHook),
            Arc::new(SetShowHook),
            Arc::new(TransactionStatementHook),
        ];
        let service = DfSessionService::new_with_hooks(ctx.clone(), hooks.clone());
        let parser = Arc::new(JsonParser {
            inner: service.query_parser(),
            policy: policy.clone(),
        });
        Self {
            ctx,
            service,
            parser,
            sql_parser: PostgresCompatibilityParser::new(),
            hooks,
            policy,
            limits,
        }
    }

    fn log<C: ClientInfo>(&self, client: &C, statement: &str) -> QueryLog {
        QueryLog::new(
            self.limits.clone(),
            client.metadata().get("user").cloned().unwrap_or_default(),
            client.socket_addr().to_string(),
            statement,
        )
    }

    /// Runs one statement of a simple query; a result's rows are guarded by the caller.
    async fn run_statement<C>(
        &self,
        client: &mut C,
        statement: Statement,
        deadline: tokio::time::Instant,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        for hook in &self.hooks {
            if let Some(result) = hook
                .handle_simple_query(&statement, &self.ctx, client)
                .await
            {
                return result;
            }
        }
        let planned = tokio::time::timeout_at(deadline, self.plan(&statement)).await;
        let df = planned.map_err(|_| super::stream::timed_out())??;
        if matches!(statement, Statement::Insert(_)) {
            let batches = df.collect().await.map_err(to_pg)?;
            let rows = batches
                .first()
                .and_then(|b| b.column_by_name("count"))
                .and_then(|c| {
                    c.as_any()
                        .downcast_ref::<datafusion::arrow::array::UInt64Array>()
                })
                .map_or(0, |a| a.value(0) as usize);
            return Ok(Response::Execution(
                Tag::new("INSERT").with_oid(0).with_rows(rows),
            ));
        }
        let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
        let response = encode_dataframe(df, &Format::UnifiedText, Some(options)).await?;
        Ok(Response::Query(response))
    }

    async fn plan(&self, statement: &Statement) -> PgWireResult<DataFrame> {
        let df = self.ctx.sql(&statement.to_string()).await.map_err(to_pg)?;
        let (state, plan) = df.into_parts();
        let plan = nested_as_json(plan).map_err(to_pg)?;
        Ok(DataFrame::new(state, plan))
    }
}

#[async_trait]
impl SimpleQueryHandler for Queries {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let statements = match self.sql_parser.parse(query) {
            Ok(statements) => statements,
            Err(e) => {
                let e = self
                    .policy
                    .refusal_of_text(query)
                    .unwrap_or_else(|| user_error("42601", format!("syntax error: {e}")));
                let log = self.log(client, query);
                log.finish("error", None, Some(&e), log.started());
                return Err(e);
            }
        };
        if statements.is_empty() {
            return Ok(vec![Response::EmptyQuery]);
        }
        let mut results = Vec::with_capacity(statements.len());
        for statement in statements {
            let log = self.log(client, &statement.to_string());
            let deadline = self.limits.deadline(client, log.started());
            match self.run_statement(client, statement, deadline).await {
                Ok(Response::Query(q)) => results.push((Response::Query(q), Some((deadline, log)))),
                Ok(other) => {
                    log.finish("ok", None, None, log.started());
                    results.push((other, None));
                }
                Err(e) => {
                    let e = map_pg(e);
                    log.finish("error", None, Some(&e), log.started());
                    return Err(e);
                }
            }
        }
        // Taken last: pgwire watches the previous signal while this call is running, and
        // taking a new one ends it.
        let cancel = cancel_signal(client).await;
        Ok(results
            .into_iter()
            .map(|(response, guarded)| match (response, guarded) {
                (Response::Query(q), Some((deadline, log))) => {
                    Response::Query(guard(q, deadline, cancel.clone(), log))
                }
                (other, _) => other,
            })
            .collect())
    }
}

#[async_trait]
impl ExtendedQueryHandler for Queries {
    type Statement = Plan;
    type QueryParser = JsonParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    /// Sends a query's rows as they are made when the client asks for all of them (pgwire's
    /// own Execute collects every row first, so a large result would sit in the server's
    /// memory and reach the client only when complete). Row-limited fetches, portals already
    /// started and statements that are not queries take pgwire's path.
    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
        let portal = match client.portal_store().get_portal(name) {
            Some(Entry::Value(portal)) => portal,
            _ => return self._on_execute(client, message).await,
        };
        let is_query = matches!(
            &portal.statement.statement,
            (_, Some((Statement::Query(_), plan))) if !matches!(plan, LogicalPlan::Ddl(_) | LogicalPlan::Dml(_))
        );
        let initial = matches!(*portal.state().lock().await, PortalExecutionState::Initial);
        if message.max_rows != 0
            || !is_query
            || !initial
            || !matches!(client.state(), PgWireConnectionState::ReadyForQuery)
        {
            return self._on_execute(client, message).await;
        }
        client.set_state(PgWireConnectionState::QueryInProgress);
        let transaction_status = client.transaction_status();
        let response =
            <Self as ExtendedQueryHandler>::do_query(self, client, portal.as_ref(), 0).await?;
        *portal.state().lock().await = PortalExecutionState::Finished;
        match response {
            Response::Query(results) => send_query_response(client, results, false).await?,
            Response::Execution(tag) => send_execution_response(client, tag).await?,
            _ => {
                return Err(user_error("XX000", "unexpected response to a query".into()));
            }
        }
        client.set_state(PgWireConnectionState::ReadyForQuery);
        client.set_transaction_status(transaction_status);
        Ok(())
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let log = self.log(client, &portal.statement.statement.0);
        let started = log.started();
        let deadline = self.limits.deadline(client, log.started());
        let normalised = normalise_dates(portal);
        let run = <DfSessionService as ExtendedQueryHandler>::do_query(
            &self.service,
            client,
            normalised.as_ref().unwrap_or(portal),
            max_rows,
        );
        let outcome = match tokio::time::timeout_at(deadline, run).await {
            Ok(outcome) => outcome,
            Err(_) => Err(super::stream::timed_out()),
        };
        match outcome {
            Ok(Response::Query(response)) => {
                let cancel = cancel_signal(client).await;
                Ok(Response::Query(guard(response, deadline, cancel, log)))
            }
            Ok(other) => {
                log.finish("ok", None, None, started);
                Ok(other)
            }
            Err(e) => {
                let e = map_pg(e);
                log.finish("error", None, Some(&e), started);
                Err(e)
            }
        }
    }
}

/// `portal` with pgjdbc's dates (`setDate` sends `2023-07-01 +02`, a date with the JVM's
/// zone) written as midnight of that date with the zone, which every date and timestamp parser
/// reads; PostgreSQL likewise reads such a value as that date. None when nothing changes.
fn normalise_dates(portal: &Portal<Plan>) -> Option<Portal<Plan>> {
    let mut changed = false;
    let parameters = portal
        .parameters
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let text = value
                .as_ref()
                .filter(|_| !portal.parameter_format.is_binary(i))
                .and_then(|v| std::str::from_utf8(v).ok())
                .and_then(date_with_zone);
            match text {
                Some(text) => {
                    changed = true;
                    Some(bytes::Bytes::from(text))
                }
                None => value.clone(),
            }
        })
        .collect();
    if !changed {
        return None;
    }
    let codes = |format: &Format| match format {
        Format::UnifiedText => vec![],
        Format::UnifiedBinary => vec![1],
        Format::Individual(codes) => codes.clone(),
    };
    let bind = Bind::new(
        Some(portal.name.clone()),
        None,
        codes(&portal.parameter_format),
        parameters,
        codes(&portal.result_column_format),
    );
    Portal::try_new(&bind, portal.statement.clone()).ok()
}

/// `2023-07-01 +02` or `2023-07-01 -05:30` as `2023-07-01 00:00:00+02` (`-05:30`).
fn date_with_zone(text: &str) -> Option<String> {
    let (date, zone) = text.split_once(' ')?;
    let is_date = date.len() == 10 && chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok();
    let digits = zone.get(1..)?;
    let is_zone = matches!(zone.as_bytes().first(), Some(b'+' | b'-'))
        && !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == ':');
    (is_date && is_zone).then(|| format!("{date} 00:00:00{zone}"))
}

/// datafusion-postgres' parser, with nested result columns turned into JSON text.
pub struct JsonParser {
    inner: Arc<Parser>,
    policy: Arc<Policy>,
}

#[async_trait]
impl QueryParser for JsonParser {
    type Statement = Plan;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let parsed = self
            .inner
            .parse_sql(client, sql, types)
            .await
            .map_err(|e| {
                self.policy
                    .refusal_of_text(sql)
                    .unwrap_or_else(|| map_pg(e))
            })?;
        Ok(match parsed {
            Some((text, Some((statement, plan)))) => Some((
                text,
                Some((statement, nested_as_json(plan).map_err(to_pg)?)),
            )),
            other => other,
        })
    }

    fn get_parameter_types(&self, statement: &Self::Statement) -> PgWireResult<Vec<Type>> {
        self.inner.get_parameter_types(statement)
    }

    fn get_result_schema(
        &self,
        statement: &Self::Statement,
        format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        self.inner.get_result_schema(statement, format)
    }
}

/// A fresh cancel signal for the statements being run (pgwire's own covers planning only).
async fn cancel_signal<C: ClientInfo>(client: &C) -> Option<super::stream::Cancel> {
    let handle = client.session_extensions().get::<Arc<ConnectionHandle>>()?;
    Some(super::stream::Cancel::new(handle.start_query().await))
}

/// DataFusion's errors as PostgreSQL errors with a fitting SQLSTATE and seglake's one-line
/// message; secrets masked.
struct Errors;

impl ErrorHandler for Errors {
    fn on_error<C: ClientInfo>(&self, _client: &C, error: &mut PgWireError) {
        let taken = std::mem::replace(error, PgWireError::InvalidSASLState);
        *error = map_pg(taken);
    }
}

pub fn map_pg(error: PgWireError) -> PgWireError {
    match error {
        PgWireError::ApiError(inner) => match inner.downcast::<DataFusionError>() {
            Ok(e) => to_pg(*e),
            Err(other) => user_error("XX000", crate::storage::secrets::redact(&other.to_string())),
        },
        PgWireError::UserError(mut info) => {
            info.message = crate::storage::secrets::redact(&info.message);
            PgWireError::UserError(info)
        }
        other => other,
    }
}

/// A DataFusion error as a PostgreSQL error.
pub fn to_pg(e: DataFusionError) -> PgWireError {
    let message = crate::storage::secrets::redact(&crate::error::describe(&e));
    let root = e.find_root();
    let code = match root {
        DataFusionError::SQL(..) => "42601",
        DataFusionError::SchemaError(..) if message.contains("No field named") => "42703",
        DataFusionError::SchemaError(..) => "42P01",
        DataFusionError::Plan(text) if text.contains("not found") => "42P01",
        DataFusionError::Plan(_) => "42000",
        DataFusionError::ResourcesExhausted(_) => "53200",
        DataFusionError::NotImplemented(_) => "0A000",
        DataFusionError::Execution(_) => "22000",
        _ => "XX000",
    };
    user_error(code, message)
}

fn user_error(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        code.into(),
        message,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jdbc_dates_get_a_time() {
        assert_eq!(
            date_with_zone("2023-07-01 +00").as_deref(),
            Some("2023-07-01 00:00:00+00")
        );
        assert_eq!(
            date_with_zone("2023-07-01 -05:30").as_deref(),
            Some("2023-07-01 00:00:00-05:30")
        );
        assert_eq!(date_with_zone("2023-07-01 12:00:00"), None);
        assert_eq!(date_with_zone("hello +01"), None);
    }
}
