//! Runs the saved queries behind the report's charts: parameters from the report (as_of and
//! the dates derived from it), overridden by the user's `--param`s, each given only to the
//! queries that declare it. A query is run once per set of parameters, however many charts
//! show it.

use std::collections::HashMap;

use datafusion::prelude::SessionContext;

use super::table::Table;
use crate::error::describe;
use crate::library::{Library, ParamType};

/// A query and the values of its parameters.
pub type QueryKey = (String, Vec<(String, String)>);

/// A saved query's result and how it was made.
#[derive(Debug, Clone)]
pub struct QueryData {
    pub query: String,
    /// Every parameter the query was run with (given or default), in its declared order.
    pub params: Vec<(String, String)>,
    pub table: Table,
}

impl QueryData {
    /// The command line that gives the same numbers.
    pub fn command(&self) -> String {
        let mut command = format!("seglake run {}", self.query);
        for (name, value) in &self.params {
            command.push_str(&format!(" --param {name}={value}"));
        }
        command
    }
}

/// Runs saved queries for the report.
pub struct Runner<'a> {
    ctx: &'a SessionContext,
    library: &'a Library,
    /// The report's own values (as_of, ...), used by every query that declares them.
    report: Vec<(String, String)>,
    /// The user's `--param`s; they win over the report's.
    user: &'a [(String, String)],
    done: HashMap<QueryKey, Result<QueryData, String>>,
}

impl<'a> Runner<'a> {
    pub fn new(
        ctx: &'a SessionContext,
        library: &'a Library,
        report: Vec<(String, String)>,
        user: &'a [(String, String)],
    ) -> Self {
        Self {
            ctx,
            library,
            report,
            user,
            done: HashMap::new(),
        }
    }

    /// Runs query `name` with the report's and the user's parameters and `extra` ones (which
    /// the user's still override).
    ///
    /// # Errors
    /// Why the query could not give numbers, as a sentence for the page: a table it needs is
    /// not in the lake, or its own error (a model that cannot be fitted to too few customers).
    pub async fn run(&mut self, name: &str, extra: &[(&str, String)]) -> Result<QueryData, String> {
        let query = self
            .library
            .get(name)
            .map_err(|e| format!("the saved query {name} is not in the library ({e})"))?;
        let mut params = Vec::new();
        for param in &query.params {
            let given = self
                .user
                .iter()
                .rev()
                .find(|(k, _)| *k == param.name)
                .map(|(_, v)| v.clone())
                .or_else(|| {
                    extra
                        .iter()
                        .find(|(k, _)| *k == param.name)
                        .map(|(_, v)| v.clone())
                })
                .or_else(|| {
                    self.report
                        .iter()
                        .find(|(k, _)| *k == param.name)
                        .map(|(_, v)| v.clone())
                })
                .or_else(|| param.default.clone());
            let Some(value) = given else {
                return Err(format!(
                    "the saved query {name} needs --param {}=VALUE",
                    param.name
                ));
            };
            if param.kind == ParamType::Table
                && !self.ctx.table_exist(value.as_str()).unwrap_or(false)
            {
                return Err(format!(
                    "this needs the table '{value}' (query {name}, parameter {}), which the lake does not have",
                    param.name
                ));
            }
            params.push((param.name.clone(), value));
        }
        let key = (name.to_string(), params.clone());
        if let Some(done) = self.done.get(&key) {
            return done.clone();
        }
        let outcome = self.execute(name, params).await;
        self.done.insert(key, outcome.clone());
        outcome
    }

    async fn execute(
        &self,
        name: &str,
        params: Vec<(String, String)>,
    ) -> Result<QueryData, String> {
        let query = self.library.get(name).map_err(|e| e.to_string())?;
        let df = crate::library::bind(self.ctx, query, &params)
            .await
            .map_err(|e| e.to_string())?;
        let columns: Vec<String> = df
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let batches = df
            .collect()
            .await
            .map_err(|e| format!("query {name}: {}", describe(&e)))?;
        let table = Table::from_batches(columns, &batches)
            .map_err(|e| format!("query {name}: {}", describe(&e)))?;
        Ok(QueryData {
            query: name.to_string(),
            params,
            table,
        })
    }

    /// The names of the user's `--param`s that no query in `names` declares.
    pub fn unused_params(&self, names: &[&str]) -> Vec<String> {
        self.user
            .iter()
            .filter(|(k, _)| {
                !names.iter().any(|n| {
                    self.library
                        .get(n)
                        .is_ok_and(|q| q.params.iter().any(|p| &p.name == k))
                })
            })
            .map(|(k, _)| k.clone())
            .collect()
    }
}
