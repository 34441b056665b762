//! What a client may run: read-only by default (queries, EXPLAIN, SHOW, SET, transactions and
//! cursors); DDL, DML, COPY and CREATE EXTERNAL TABLE (which would read any file the server can
//! see) only with `--allow-writes`. Runtime settings (the memory limit shared by every session,
//! the spill folder) are the server's in either case.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::common::{DFSchema, ParamValues};
use datafusion::logical_expr::{EmptyRelation, LogicalPlan};
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{Set, Statement};
use datafusion_postgres::QueryHook;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::api::results::{Response, Tag};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};

/// Refuses what the server does not allow, before anything is planned.
#[derive(Debug)]
pub struct Policy {
    pub allow_writes: bool,
}

impl Policy {
    /// Why `statement` is refused, if it is.
    pub fn refusal(&self, statement: &Statement) -> Option<PgWireError> {
        if let Statement::Set(set) = statement
            && let Some(variable) = set_variable(set)
            && variable.starts_with("datafusion.runtime.")
        {
            return Some(error(
                "42501",
                format!(
                    "{variable} is the server's setting, shared by every session: set it when \
                     starting seglake serve (--memory-limit, --temp-dir)"
                ),
            ));
        }
        if self.allow_writes || is_read_only(statement) {
            return None;
        }
        Some(error(
            "25006",
            format!(
                "cannot execute {} on this read-only seglake server (start seglake serve with \
                 --allow-writes to allow DDL, DML and COPY)",
                statement_kind(statement)
            ),
        ))
    }
}

impl Policy {
    /// Why a statement the Postgres parser cannot read is refused, told by its first words:
    /// DataFusion's own `CREATE EXTERNAL TABLE` is one.
    pub fn refusal_of_text(&self, sql: &str) -> Option<PgWireError> {
        let words: Vec<String> = sql
            .split_whitespace()
            .take(3)
            .map(str::to_ascii_uppercase)
            .collect();
        let writes = matches!(
            words.first().map(String::as_str),
            Some("CREATE" | "COPY" | "INSERT" | "UPDATE" | "DELETE" | "DROP" | "ALTER" | "MERGE")
        );
        (writes && !self.allow_writes).then(|| {
            error(
                "25006",
                format!(
                    "cannot execute {} on this read-only seglake server (start seglake serve \
                     with --allow-writes to allow DDL, DML and COPY)",
                    words.join(" ")
                ),
            )
        })
    }
}

fn set_variable(set: &Set) -> Option<String> {
    match set {
        Set::SingleAssignment { variable, .. } => Some(variable.to_string().to_lowercase()),
        _ => None,
    }
}

fn is_read_only(statement: &Statement) -> bool {
    match statement {
        Statement::Explain { statement, .. } => is_read_only(statement),
        Statement::Query(_)
        | Statement::ExplainTable { .. }
        | Statement::ShowVariable { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowStatus { .. }
        | Statement::ShowTables { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowFunctions { .. }
        | Statement::ShowCatalogs { .. }
        | Statement::ShowSchemas { .. }
        | Statement::Set(_)
        | Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Declare { .. }
        | Statement::Fetch { .. }
        | Statement::Close { .. }
        | Statement::Savepoint { .. }
        | Statement::ReleaseSavepoint { .. }
        | Statement::Discard { .. }
        | Statement::Deallocate { .. } => true,
        _ => false,
    }
}

/// The statement's leading keywords, e.g. `CREATE TABLE`, `COPY`, `INSERT`.
/// Session statements that change nothing here (no data is written, no statement is prepared
/// by name), answered with their tag so that pools and ORMs can send them.
fn no_op_tag(statement: &Statement) -> Option<&'static str> {
    match statement {
        Statement::Savepoint { .. } => Some("SAVEPOINT"),
        Statement::ReleaseSavepoint { .. } => Some("RELEASE"),
        Statement::Discard { .. } => Some("DISCARD ALL"),
        Statement::Deallocate { .. } => Some("DEALLOCATE"),
        _ => None,
    }
}

fn statement_kind(statement: &Statement) -> String {
    let text = statement.to_string();
    let words: Vec<&str> = text
        .split_whitespace()
        .take_while(|w| w.chars().all(|c| c.is_ascii_uppercase()))
        .take(3)
        .collect();
    if words.is_empty() {
        "this statement".into()
    } else {
        words.join(" ")
    }
}

fn error(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        code.into(),
        message,
    )))
}

impl Policy {
    /// The answer to a statement the policy refuses or runs itself (a no-op); None for the
    /// rest.
    fn respond(&self, statement: &Statement) -> Option<PgWireResult<Response>> {
        if let Some(refusal) = self.refusal(statement) {
            return Some(Err(refusal));
        }
        no_op_tag(statement).map(|tag| Ok(Response::Execution(Tag::new(tag))))
    }
}

#[async_trait]
impl QueryHook for Policy {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        _ctx: &SessionContext,
        _client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        self.respond(statement)
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        _ctx: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        if let Some(refusal) = self.refusal(statement) {
            return Some(Err(refusal));
        }
        no_op_tag(statement).map(|_| {
            Ok(LogicalPlan::EmptyRelation(EmptyRelation {
                produce_one_row: false,
                schema: Arc::new(DFSchema::empty()),
            }))
        })
    }

    async fn handle_extended_query(
        &self,
        statement: &Statement,
        _plan: &LogicalPlan,
        _params: &ParamValues,
        _ctx: &SessionContext,
        _client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        self.respond(statement)
    }
}

#[cfg(test)]
mod tests {
    use datafusion_postgres::datafusion_pg_catalog::sql::PostgresCompatibilityParser;

    use super::*;

    fn refused(policy: &Policy, sql: &str) -> Option<String> {
        let statement = PostgresCompatibilityParser::new()
            .parse(sql)
            .unwrap()
            .remove(0);
        policy.refusal(&statement).map(|e| match e {
            PgWireError::UserError(info) => format!("{} {}", info.code, info.message),
            other => other.to_string(),
        })
    }

    #[test]
    fn read_only_refuses_writes_and_runtime_settings() {
        let policy = Policy {
            allow_writes: false,
        };
        for sql in [
            "SELECT 1",
            "WITH a AS (SELECT 1) SELECT * FROM a",
            "EXPLAIN SELECT 1",
            "SHOW search_path",
            "SET statement_timeout = '5s'",
            "BEGIN",
            "COMMIT",
        ] {
            assert_eq!(refused(&policy, sql), None, "{sql}");
        }
        let create = refused(&policy, "CREATE TABLE t AS SELECT 1").unwrap();
        assert!(
            create.starts_with("25006 cannot execute CREATE TABLE"),
            "{create}"
        );
        for sql in [
            "INSERT INTO t VALUES (1)",
            "DROP TABLE t",
            "CREATE VIEW v AS SELECT 1",
            "COPY (SELECT 1) TO '/tmp/x.csv'",
            "EXPLAIN ANALYZE INSERT INTO t VALUES (1)",
        ] {
            assert!(refused(&policy, sql).is_some(), "{sql}");
        }
        let runtime = refused(&policy, "SET datafusion.runtime.memory_limit = '100G'").unwrap();
        assert!(runtime.starts_with("42501"), "{runtime}");
        let trusted = Policy { allow_writes: true };
        assert_eq!(refused(&trusted, "CREATE VIEW v AS SELECT 1"), None);
        assert!(refused(&trusted, "SET datafusion.runtime.memory_limit = '1G'").is_some());
    }
}
