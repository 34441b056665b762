//! The saved query library: `.sql` files with a header naming the query, describing it and
//! declaring typed parameters (shared/domain.md §5):
//!
//! ```sql
//! -- name: rfm_segments
//! -- description: RFM scores and named segment per customer as of a date
//! -- param: as_of DATE = '2024-01-01'
//! -- param: transactions TABLE = transactions
//! SELECT ... rfm(order_ts, amount, $as_of) ... FROM transactions ...
//! ```
//!
//! Value parameters are bound as typed values through DataFusion's placeholders (`$as_of`),
//! never pasted into the SQL text. A TABLE parameter is named in the SQL by the parameter's
//! name; the query's own session maps that name to the table given.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use datafusion::catalog::{
    CatalogProvider, CatalogProviderList, MemoryCatalogProvider, MemoryCatalogProviderList,
    MemorySchemaProvider, SchemaProvider,
};
use datafusion::common::metadata::ScalarAndMetadata;
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{DataFrame, SessionContext};

use crate::error::{Result, SeglakeError, describe};

/// The queries built into the binary, by path under `queries/`.
const BUILT_IN: &[(&str, &str)] = &[
    (
        "cohort/retention.sql",
        include_str!("../queries/cohort/retention.sql"),
    ),
    (
        "clv/model_fit.sql",
        include_str!("../queries/clv/model_fit.sql"),
    ),
    (
        "clv/cltv_by_customer.sql",
        include_str!("../queries/clv/cltv_by_customer.sql"),
    ),
    (
        "clv/cltv_by_segment.sql",
        include_str!("../queries/clv/cltv_by_segment.sql"),
    ),
    (
        "kpi/average_order_value.sql",
        include_str!("../queries/kpi/average_order_value.sql"),
    ),
    (
        "kpi/churn_rate.sql",
        include_str!("../queries/kpi/churn_rate.sql"),
    ),
    (
        "kpi/gross_margin.sql",
        include_str!("../queries/kpi/gross_margin.sql"),
    ),
    (
        "kpi/purchase_frequency.sql",
        include_str!("../queries/kpi/purchase_frequency.sql"),
    ),
    (
        "kpi/response_and_conversion_rates.sql",
        include_str!("../queries/kpi/response_and_conversion_rates.sql"),
    ),
    (
        "kpi/romi_by_campaign.sql",
        include_str!("../queries/kpi/romi_by_campaign.sql"),
    ),
    (
        "kpi/engagement_by_segment.sql",
        include_str!("../queries/kpi/engagement_by_segment.sql"),
    ),
    (
        "kpi/kpi_dashboard.sql",
        include_str!("../queries/kpi/kpi_dashboard.sql"),
    ),
    (
        "kpi/nps_by_segment.sql",
        include_str!("../queries/kpi/nps_by_segment.sql"),
    ),
    (
        "kpi/satisfaction_by_segment.sql",
        include_str!("../queries/kpi/satisfaction_by_segment.sql"),
    ),
    (
        "kpi/segment_contribution.sql",
        include_str!("../queries/kpi/segment_contribution.sql"),
    ),
    (
        "kpi/touchpoints.sql",
        include_str!("../queries/kpi/touchpoints.sql"),
    ),
    (
        "segmentation/lifecycle_migration.sql",
        include_str!("../queries/segmentation/lifecycle_migration.sql"),
    ),
    (
        "segmentation/segment_migration.sql",
        include_str!("../queries/segmentation/segment_migration.sql"),
    ),
    (
        "segmentation/demographic_profile.sql",
        include_str!("../queries/segmentation/demographic_profile.sql"),
    ),
    (
        "segmentation/geographic_profile.sql",
        include_str!("../queries/segmentation/geographic_profile.sql"),
    ),
    (
        "segmentation/psychographic_profile.sql",
        include_str!("../queries/segmentation/psychographic_profile.sql"),
    ),
    (
        "segmentation/segment_overlap.sql",
        include_str!("../queries/segmentation/segment_overlap.sql"),
    ),
    (
        "segmentation/segment_trend.sql",
        include_str!("../queries/segmentation/segment_trend.sql"),
    ),
    (
        "segmentation/kmeans_elbow.sql",
        include_str!("../queries/segmentation/kmeans_elbow.sql"),
    ),
    (
        "segmentation/kmeans_segments.sql",
        include_str!("../queries/segmentation/kmeans_segments.sql"),
    ),
    (
        "segmentation/rfm_segments.sql",
        include_str!("../queries/segmentation/rfm_segments.sql"),
    ),
    (
        "segmentation/lifecycle_stages.sql",
        include_str!("../queries/segmentation/lifecycle_stages.sql"),
    ),
    (
        "segmentation/rfm_segment_summary.sql",
        include_str!("../queries/segmentation/rfm_segment_summary.sql"),
    ),
    (
        "segmentation/value_tiers.sql",
        include_str!("../queries/segmentation/value_tiers.sql"),
    ),
];

/// The type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Date,
    Timestamp,
    Int,
    Double,
    Text,
    Boolean,
    Table,
}

impl FromStr for ParamType {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "DATE" => Self::Date,
            "TIMESTAMP" => Self::Timestamp,
            "INT" | "INTEGER" | "BIGINT" => Self::Int,
            "DOUBLE" | "FLOAT" | "NUMBER" => Self::Double,
            "TEXT" | "STRING" | "VARCHAR" => Self::Text,
            "BOOLEAN" | "BOOL" => Self::Boolean,
            "TABLE" => Self::Table,
            other => {
                return Err(format!(
                    "unknown parameter type '{other}': expected DATE, TIMESTAMP, INT, DOUBLE, \
                     TEXT, BOOLEAN or TABLE"
                ));
            }
        })
    }
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Date => "DATE",
            Self::Timestamp => "TIMESTAMP",
            Self::Int => "INT",
            Self::Double => "DOUBLE",
            Self::Text => "TEXT",
            Self::Boolean => "BOOLEAN",
            Self::Table => "TABLE",
        })
    }
}

impl ParamType {
    /// The typed value of `text`.
    ///
    /// # Errors
    /// When `text` is not a value of this type; the message says what was expected.
    pub fn parse_value(self, text: &str) -> std::result::Result<ScalarValue, String> {
        let expected = |what: &str| format!("expected {what}, got '{text}'");
        Ok(match self {
            Self::Date => {
                let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map_err(|_| expected("a date like 2024-01-31"))?;
                let days = date.signed_duration_since(NaiveDate::default()).num_days();
                ScalarValue::Date32(Some(days as i32))
            }
            Self::Timestamp => {
                let parsed = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
                    .iter()
                    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
                    .or_else(|| {
                        NaiveDate::parse_from_str(text, "%Y-%m-%d")
                            .ok()
                            .and_then(|d| d.and_hms_opt(0, 0, 0))
                    })
                    .ok_or_else(|| expected("a timestamp like 2024-01-31 12:00:00"))?;
                ScalarValue::TimestampMicrosecond(Some(parsed.and_utc().timestamp_micros()), None)
            }
            Self::Int => {
                ScalarValue::Int64(Some(text.parse().map_err(|_| expected("an integer"))?))
            }
            Self::Double => {
                let value: f64 = text.parse().map_err(|_| expected("a number"))?;
                if !value.is_finite() {
                    return Err(expected("a finite number"));
                }
                ScalarValue::Float64(Some(value))
            }
            Self::Text => ScalarValue::Utf8(Some(text.to_string())),
            Self::Boolean => ScalarValue::Boolean(Some(match text.to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(expected("true or false")),
            })),
            Self::Table => {
                if !is_table_name(text) {
                    return Err(expected("a table name"));
                }
                ScalarValue::Utf8(Some(text.to_string()))
            }
        })
    }
}

fn is_table_name(text: &str) -> bool {
    !text.is_empty()
        && text.split('.').all(|part| {
            let mut chars = part.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// One declared parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub kind: ParamType,
    pub default: Option<String>,
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.kind)?;
        if let Some(default) = &self.default {
            write!(f, " = {default}")?;
        }
        Ok(())
    }
}

/// A saved query.
#[derive(Debug, Clone)]
pub struct SavedQuery {
    pub name: String,
    pub description: String,
    pub params: Vec<Param>,
    /// The whole file, header included (the header is SQL comments).
    pub sql: String,
    /// Where it came from: `built-in` or a file path.
    pub origin: String,
}

impl SavedQuery {
    /// Parses a query file's text.
    ///
    /// # Errors
    /// When the header lacks a name or description, or a parameter line is malformed.
    pub fn parse(text: &str, origin: &str) -> std::result::Result<Self, String> {
        let mut name = None;
        let mut description = None;
        let mut params = Vec::new();
        for line in text
            .lines()
            .map_while(|l| l.trim_start().strip_prefix("--"))
        {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match key.trim() {
                "name" => name = Some(value.to_string()),
                "description" => description = Some(value.to_string()),
                "param" => params.push(parse_param(value).map_err(|e| format!("{origin}: {e}"))?),
                _ => {}
            }
        }
        let name = name.ok_or_else(|| format!("{origin}: the header has no '-- name:' line"))?;
        if !is_table_name(&name) {
            return Err(format!(
                "{origin}: query name '{name}' must be an identifier"
            ));
        }
        Ok(Self {
            name,
            description: description
                .ok_or_else(|| format!("{origin}: the header has no '-- description:' line"))?,
            params,
            sql: text.to_string(),
            origin: origin.to_string(),
        })
    }

    /// `name TYPE [= default]` for every parameter, comma-separated.
    pub fn params_summary(&self) -> String {
        self.params
            .iter()
            .map(Param::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn parse_param(text: &str) -> std::result::Result<Param, String> {
    let (declaration, default) = match text.split_once('=') {
        Some((d, v)) => (d.trim(), Some(unquote(v.trim()))),
        None => (text.trim(), None),
    };
    let mut words = declaration.split_whitespace();
    let (Some(name), Some(kind), None) = (words.next(), words.next(), words.next()) else {
        return Err(format!(
            "expected '-- param: NAME TYPE [= DEFAULT]', got '{text}'"
        ));
    };
    if !is_table_name(name) || name.contains('.') {
        return Err(format!("parameter name '{name}' must be an identifier"));
    }
    let kind: ParamType = kind.parse()?;
    if let Some(default) = &default {
        kind.parse_value(default)
            .map_err(|e| format!("default of parameter {name}: {e}"))?;
    }
    Ok(Param {
        name: name.to_string(),
        kind,
        default,
    })
}

fn unquote(text: &str) -> String {
    text.strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .map_or_else(|| text.to_string(), |t| t.replace("''", "'"))
}

/// The queries a run can use: the built-in ones, overridden by those in the given folders.
#[derive(Debug, Clone, Default)]
pub struct Library {
    queries: BTreeMap<String, SavedQuery>,
}

impl Library {
    /// The built-in queries plus those under `folders` (later ones win on equal names).
    ///
    /// # Errors
    /// A usage error when a folder cannot be read or a query file is malformed.
    pub fn load(folders: &[PathBuf]) -> Result<Self> {
        let mut library = Self::default();
        for (path, text) in BUILT_IN {
            let query = SavedQuery::parse(text, &format!("built-in {path}"))
                .map_err(SeglakeError::usage)?;
            library.queries.insert(query.name.clone(), query);
        }
        for folder in folders {
            let mut files = Vec::new();
            sql_files(folder, &mut files).map_err(|e| {
                SeglakeError::usage(format!(
                    "cannot read queries folder '{}': {e}",
                    folder.display()
                ))
            })?;
            files.sort();
            for file in files {
                let text = std::fs::read_to_string(&file).map_err(|e| {
                    SeglakeError::usage(format!("cannot read '{}': {e}", file.display()))
                })?;
                let query = SavedQuery::parse(&text, &file.display().to_string())
                    .map_err(SeglakeError::usage)?;
                library.queries.insert(query.name.clone(), query);
            }
        }
        Ok(library)
    }

    /// The folders named by `$SEGLAKE_QUERIES` (separated like PATH).
    pub fn env_folders() -> Vec<PathBuf> {
        std::env::var_os("SEGLAKE_QUERIES")
            .map(|v| std::env::split_paths(&v).collect())
            .unwrap_or_default()
    }

    pub fn queries(&self) -> impl Iterator<Item = &SavedQuery> {
        self.queries.values()
    }

    /// The query called `name`.
    ///
    /// # Errors
    /// A usage error listing the known queries.
    pub fn get(&self, name: &str) -> Result<&SavedQuery> {
        self.queries.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.queries.keys().map(String::as_str).collect();
            SeglakeError::usage(format!(
                "no saved query named '{name}': known queries are {}",
                known.join(", ")
            ))
        })
    }
}

fn sql_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            sql_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
    Ok(())
}

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
    let run = isolated(ctx).await?;
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

/// A session with `ctx`'s settings, functions and runtime, and new catalogs holding the same
/// tables: registering a table in it leaves `ctx` as it was.
async fn isolated(ctx: &SessionContext) -> Result<SessionContext> {
    let state = ctx.state();
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
    let state = SessionStateBuilder::new_from_existing(state)
        .with_catalog_list(catalogs)
        .build();
    Ok(SessionContext::new_with_state(state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_queries_are_every_file_in_queries() {
        let mut files = Vec::new();
        sql_files(
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/queries")),
            &mut files,
        )
        .unwrap();
        let mut on_disk: Vec<String> = files
            .iter()
            .map(|f| {
                f.strip_prefix(concat!(env!("CARGO_MANIFEST_DIR"), "/queries/"))
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect();
        on_disk.sort();
        let mut built_in: Vec<String> = BUILT_IN.iter().map(|(p, _)| p.to_string()).collect();
        built_in.sort();
        assert_eq!(built_in, on_disk, "add new query files to BUILT_IN");
        for (path, text) in BUILT_IN {
            let query = SavedQuery::parse(text, path).unwrap();
            assert!(
                path.ends_with(&format!("{}.sql", query.name)),
                "{path} is named {}",
                query.name
            );
        }
    }

    #[test]
    fn headers_parse() {
        let query = SavedQuery::parse(
            "-- name: q\n-- description: d\n-- a note: ignored\n-- param: as_of DATE = '2024-01-01'\n\
             -- param: t TABLE = transactions\n-- param: n INT\nSELECT 1",
            "test",
        )
        .unwrap();
        assert_eq!(
            query.params_summary(),
            "as_of DATE = 2024-01-01, t TABLE = transactions, n INT"
        );
        assert!(
            SavedQuery::parse("-- description: d\nSELECT 1", "f.sql")
                .unwrap_err()
                .contains("no '-- name:'")
        );
        let err = SavedQuery::parse(
            "-- name: q\n-- description: d\n-- param: x DATE = 'soon'",
            "f.sql",
        )
        .unwrap_err();
        assert!(
            err.contains("default of parameter x: expected a date"),
            "{err}"
        );
        assert!(
            SavedQuery::parse("-- name: q\n-- description: d\n-- param: x MONEY", "f")
                .unwrap_err()
                .contains("MONEY")
        );
    }

    #[test]
    fn values_parse_by_type() {
        assert_eq!(
            ParamType::Date.parse_value("1970-01-02"),
            Ok(ScalarValue::Date32(Some(1)))
        );
        assert!(
            ParamType::Date
                .parse_value("2024-01-01'; DROP TABLE x; --")
                .unwrap_err()
                .contains("expected a date")
        );
        assert_eq!(
            ParamType::Timestamp.parse_value("1970-01-01 00:00:01"),
            Ok(ScalarValue::TimestampMicrosecond(Some(1_000_000), None))
        );
        assert_eq!(
            ParamType::Int.parse_value("42"),
            Ok(ScalarValue::Int64(Some(42)))
        );
        assert!(ParamType::Double.parse_value("NaN").is_err());
        assert!(ParamType::Boolean.parse_value("yes").is_err());
        assert!(ParamType::Table.parse_value("orders; DROP").is_err());
        assert!(ParamType::Table.parse_value("lake.orders").is_ok());
    }
}
