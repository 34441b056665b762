//! Registering tables: one file or folder as a table, or every table of a lake folder.
//!
//! A location is a local path or a URL; both are listed through the session's object store,
//! so a lake in S3 is discovered exactly like one on disk.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use object_store::path::Path as StorePath;

pub mod segment_maps;
mod unreadable;

/// The file formats a table can be stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Parquet,
    Csv,
    Tsv,
    /// Newline-delimited JSON, one object per line.
    Ndjson,
}

impl TableFormat {
    /// The format a file name's extension stands for, if any (`x.snappy.parquet` is Parquet).
    pub fn from_file_name(name: &str) -> Option<Self> {
        let (_, ext) = name.rsplit_once('.')?;
        match ext.to_ascii_lowercase().as_str() {
            "parquet" | "parq" | "pq" => Some(Self::Parquet),
            "csv" => Some(Self::Csv),
            "tsv" => Some(Self::Tsv),
            "json" | "ndjson" | "jsonl" => Some(Self::Ndjson),
            _ => None,
        }
    }

    fn file_format(self) -> Arc<dyn FileFormat> {
        match self {
            Self::Parquet => Arc::new(ParquetFormat::default()),
            Self::Csv => Arc::new(CsvFormat::default().with_has_header(true)),
            Self::Tsv => Arc::new(
                CsvFormat::default()
                    .with_has_header(true)
                    .with_delimiter(b'\t'),
            ),
            Self::Ndjson => Arc::new(JsonFormat::default()),
        }
    }

    /// The extensions files of this format may carry inside a table folder.
    fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::Parquet => &[".parquet", ".parq", ".pq"],
            Self::Csv => &[".csv"],
            Self::Tsv => &[".tsv"],
            Self::Ndjson => &[".json", ".ndjson", ".jsonl"],
        }
    }
}

impl FromStr for TableFormat {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "parquet" => Ok(Self::Parquet),
            "csv" => Ok(Self::Csv),
            "tsv" => Ok(Self::Tsv),
            "json" | "ndjson" | "jsonl" => Ok(Self::Ndjson),
            other => Err(format!(
                "unknown table format '{other}': expected parquet, csv, tsv or ndjson"
            )),
        }
    }
}

impl fmt::Display for TableFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Parquet => "parquet",
            Self::Csv => "csv",
            Self::Tsv => "tsv",
            Self::Ndjson => "ndjson",
        })
    }
}

/// One table to register: a name, a file or folder (path or URL), and optionally its format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub name: String,
    pub location: String,
    /// `None` means: tell from the file extensions.
    pub format: Option<TableFormat>,
}

impl TableSpec {
    pub fn new(name: impl Into<String>, location: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            location: location.into(),
            format: None,
        }
    }

    pub fn with_format(mut self, format: TableFormat) -> Self {
        self.format = Some(format);
        self
    }
}

impl FromStr for TableSpec {
    type Err = String;

    /// Parses the `--table` form `name=PATH`.
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let (name, location) = s
            .split_once('=')
            .ok_or_else(|| format!("expected NAME=PATH, got '{s}'"))?;
        let name = name.trim();
        if !is_identifier(name) {
            return Err(format!(
                "table name '{name}' must start with a letter or '_' and contain only letters, \
                 digits and '_'"
            ));
        }
        if location.trim().is_empty() {
            return Err(format!("table '{name}' has an empty path"));
        }
        Ok(Self::new(name, location.trim()))
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Registers one table, inferring its format, schema and Hive-style partition columns.
///
/// # Errors
/// When the location does not exist, holds no readable files, has an unknown extension, or
/// its files cannot be read (a corrupt Parquet footer, say). The message names the table and
/// its location.
pub async fn register_table(ctx: &SessionContext, spec: &TableSpec) -> Result<()> {
    let provider = crate::error::catch_panic(listing_table(ctx, spec))
        .await
        .map_err(|e| table_error(spec, e))?;
    ctx.register_table(spec.name.as_str(), Arc::new(provider))?;
    Ok(())
}

fn table_error(spec: &TableSpec, e: DataFusionError) -> DataFusionError {
    DataFusionError::Plan(format!(
        "table '{}' ({}): {}",
        spec.name,
        spec.location,
        crate::error::describe(&e)
    ))
}

async fn listing_table(ctx: &SessionContext, spec: &TableSpec) -> Result<ListingTable> {
    check_local_path_exists(&spec.location)?;
    let url = ListingTableUrl::parse(&spec.location)?;
    let single_file = !url.is_collection();
    let format = match spec.format {
        Some(format) => format,
        None => detect_format(ctx, &url).await?,
    };
    // A single file is read whatever its extension; a folder only reads files of its format.
    let extension = if single_file {
        String::new()
    } else {
        format.extensions()[0].to_string()
    };
    let options = ListingOptions::new(format.file_format()).with_file_extension(extension);
    let state = ctx.state();
    let config = ListingTableConfig::new(url.clone())
        .with_listing_options(options.clone())
        .infer_partitions_from_path(&state)
        .await?;
    let inferred = crate::error::catch_panic(config.infer_schema(&state)).await;
    match inferred {
        Ok(config) if single_file => ListingTable::try_new(config),
        Ok(mut config) => {
            // A column some files lack reads as NULL there, so a folder's columns are all
            // nullable, whatever the first file declared.
            if let Some(schema) = config.file_schema.take() {
                config.file_schema = Some(nullable(&schema));
            }
            ListingTable::try_new(config)
        }
        Err(e) if single_file => Err(e),
        Err(e) => Err(unreadable::explain(ctx, &url, &options, e).await),
    }
}

/// `schema` with every field nullable.
fn nullable(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

fn check_local_path_exists(location: &str) -> Result<()> {
    if has_url_scheme(location) {
        return Ok(());
    }
    let path = std::path::Path::new(location);
    if path.exists() {
        Ok(())
    } else {
        Err(DataFusionError::Plan(format!(
            "no such file or folder: {location}"
        )))
    }
}

/// True for `s3://...`-style locations (a Windows drive letter is not a scheme).
pub fn has_url_scheme(location: &str) -> bool {
    match location.split_once("://") {
        Some((scheme, _)) => {
            scheme.len() > 1
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => location.starts_with("file:"),
    }
}

/// The format of a table location: its own extension, or that of the first data file inside.
async fn detect_format(ctx: &SessionContext, url: &ListingTableUrl) -> Result<TableFormat> {
    if !url.is_collection() {
        let name = url.prefix().filename().unwrap_or_default();
        return TableFormat::from_file_name(name).ok_or_else(|| {
            DataFusionError::Plan(format!(
                "cannot tell the format of '{name}': expected a .parquet, .csv, .tsv, .json or \
                 .ndjson file, or a folder of them"
            ))
        });
    }
    let store = ctx.runtime_env().object_store(url)?;
    let mut files = store.list(Some(url.prefix()));
    while let Some(meta) = files.try_next().await? {
        if is_hidden(url.prefix(), &meta.location) {
            continue;
        }
        if let Some(format) = meta
            .location
            .filename()
            .and_then(TableFormat::from_file_name)
        {
            return Ok(format);
        }
    }
    Err(DataFusionError::Plan(
        "no .parquet, .csv, .tsv, .json or .ndjson files in it".to_string(),
    ))
}

/// Files and folders whose name starts with `.` or `_` (`_SUCCESS`, `_truth/`) are not data.
fn is_hidden(base: &StorePath, location: &StorePath) -> bool {
    location
        .prefix_match(base)
        .map(|mut parts| parts.any(|p| p.as_ref().starts_with(['.', '_'])))
        .unwrap_or(false)
}

/// Finds the tables of a lake: each sub-folder and each data file directly inside `location`,
/// named after the folder or the file's stem. Names starting with `.` or `_` are skipped.
///
/// # Errors
/// When the lake cannot be listed, does not exist, or holds no tables.
pub async fn discover_lake(ctx: &SessionContext, location: &str) -> Result<Vec<TableSpec>> {
    Ok(list_lake(ctx, location).await?.tables)
}

/// What one listing of a lake's folder shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeListing {
    /// Its tables, sorted by name.
    pub tables: Vec<TableSpec>,
    /// Whether it has a `_segment_maps/` folder (read by [`segment_maps::load`]).
    pub has_segment_maps: bool,
}

/// [`discover_lake`], also telling whether the lake holds segment maps, from the same listing.
///
/// # Errors
/// As [`discover_lake`].
pub async fn list_lake(ctx: &SessionContext, location: &str) -> Result<LakeListing> {
    check_local_path_exists(location)
        .map_err(|_| DataFusionError::Plan(format!("lake folder '{location}' does not exist")))?;
    let folder = if location.ends_with('/') {
        location.to_string()
    } else {
        format!("{location}/")
    };
    let url = ListingTableUrl::parse(&folder)?;
    let store = ctx.runtime_env().object_store(&url)?;
    let listing = store
        .list_with_delimiter(Some(url.prefix()))
        .await
        .map_err(|e| {
            DataFusionError::Plan(format!(
                "cannot list lake '{location}': {}",
                crate::storage::explain(&e)
            ))
        })?;

    let mut tables = Vec::new();
    let mut has_segment_maps = false;
    for dir in &listing.common_prefixes {
        let Some(name) = dir.filename() else { continue };
        has_segment_maps |= name == segment_maps::LAKE_FOLDER;
        if name.starts_with(['.', '_']) {
            continue;
        }
        tables.push(TableSpec::new(
            table_name_from(name),
            format!("{folder}{name}/"),
        ));
    }
    for object in &listing.objects {
        let Some(name) = object.location.filename() else {
            continue;
        };
        if name.starts_with(['.', '_']) {
            continue;
        }
        if let Some(format) = TableFormat::from_file_name(name) {
            let stem = name.split('.').next().unwrap_or(name);
            tables.push(
                TableSpec::new(table_name_from(stem), format!("{folder}{name}"))
                    .with_format(format),
            );
        }
    }
    if tables.is_empty() {
        // Object stores have no folders: a prefix nothing is stored under is not an error to
        // them, so "missing" and "empty" look the same.
        let what = if has_url_scheme(location) {
            "is empty or does not exist"
        } else {
            "has no tables"
        };
        return Err(DataFusionError::Plan(format!(
            "lake '{location}' {what}: expected sub-folders or .parquet, .csv, .tsv, .json or \
             .ndjson files"
        )));
    }
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(LakeListing {
        tables,
        has_segment_maps,
    })
}

/// A SQL-friendly table name: lower case, with anything but letters and digits turned to `_`.
fn table_name_from(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_extensions() {
        assert_eq!(
            TableFormat::from_file_name("part-0.snappy.parquet"),
            Some(TableFormat::Parquet)
        );
        assert_eq!(TableFormat::from_file_name("x.CSV"), Some(TableFormat::Csv));
        assert_eq!(
            TableFormat::from_file_name("x.jsonl"),
            Some(TableFormat::Ndjson)
        );
        assert_eq!(TableFormat::from_file_name("README.md"), None);
        assert_eq!(TableFormat::from_file_name("noext"), None);
    }

    #[test]
    fn table_spec_parses_name_and_path() {
        let spec: TableSpec = "orders=s3://bucket/orders/".parse().unwrap();
        assert_eq!(spec, TableSpec::new("orders", "s3://bucket/orders/"));
        assert!(
            "orders"
                .parse::<TableSpec>()
                .unwrap_err()
                .contains("NAME=PATH")
        );
        assert!(
            "1x=a.parquet"
                .parse::<TableSpec>()
                .unwrap_err()
                .contains("'1x'")
        );
        assert!(
            "x=".parse::<TableSpec>()
                .unwrap_err()
                .contains("empty path")
        );
    }

    #[test]
    fn names_become_identifiers() {
        assert_eq!(table_name_from("Campaign-Contacts"), "campaign_contacts");
        assert_eq!(table_name_from("2024_orders"), "_2024_orders");
    }

    #[test]
    fn url_schemes() {
        assert!(has_url_scheme("s3://b/x"));
        assert!(has_url_scheme("file:///tmp/x"));
        assert!(!has_url_scheme("data/lake"));
        assert!(!has_url_scheme("/abs/path"));
    }

    #[test]
    fn hidden_parts_below_the_base() {
        let base = StorePath::from("lake/transactions");
        assert!(is_hidden(
            &base,
            &StorePath::from("lake/transactions/_SUCCESS")
        ));
        assert!(is_hidden(
            &base,
            &StorePath::from("lake/transactions/.tmp/a.parquet")
        ));
        assert!(!is_hidden(
            &base,
            &StorePath::from("lake/transactions/y=2024/a.parquet")
        ));
    }
}
