//! `seglake.toml`: the lake, tables and limits of a project, so nobody retypes them as flags.
//!
//! ```toml
//! lake = "data/lake"              # or a list: lake = ["data/lake", "s3://bucket/lake/"]
//! memory_limit = "4G"
//! temp_dir = "/mnt/scratch/seglake"
//! target_partitions = 8
//! cluster = "df://scheduler:50050"  # run queries on a seglake Ballista cluster
//!
//! [tables]
//! orders = "exports/orders.parquet"
//! events = { path = "s3://bucket/events/", format = "ndjson" }
//!
//! [segment_maps]                  # rfm_segment(r, f, m, 'vip'): see `seglake maps`
//! vip = "maps/vip.toml"
//!
//! [storage]                       # object stores: see crate::storage::StorageOptions
//! timeout = "30s"
//! [storage."s3://bucket"]
//! region = "eu-west-1"
//! ```
//! Relative paths are relative to the folder the file is in. Flags given on the command line
//! win over the file: `--lake` replaces its lakes, `--table` adds to or replaces its tables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::distributed::ClusterUrl;
use crate::engine::SeglakeBuilder;
use crate::error::{Result, SeglakeError};
use crate::lake::segment_maps::MapFile;
use crate::lake::{TableFormat, TableSpec, has_url_scheme};
use crate::storage::StorageOptions;

/// The file name looked for in the current folder.
pub const CONFIG_FILE_NAME: &str = "seglake.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    lake: Option<OneOrMany>,
    memory_limit: Option<ByteSize>,
    temp_dir: Option<String>,
    target_partitions: Option<usize>,
    #[serde(default)]
    tables: BTreeMap<String, TableEntry>,
    storage: Option<toml::Table>,
    cluster: Option<String>,
    #[serde(default)]
    segment_maps: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum TableEntry {
    Path(String),
    Detailed {
        path: String,
        format: Option<String>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ByteSize {
    Bytes(u64),
    Text(String),
}

/// The engine settings of one run: the config file's, overridden by the command line's.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Settings {
    pub memory_limit: Option<usize>,
    pub temp_dir: Option<PathBuf>,
    pub target_partitions: Option<usize>,
    pub lakes: Vec<String>,
    pub tables: Vec<TableSpec>,
    /// Object store timeouts, retries and per-bucket options.
    pub storage: StorageOptions,
    /// The Ballista cluster queries run on; local execution when `None`.
    pub cluster: Option<ClusterUrl>,
    /// Segment map files by name, beside those the lakes hold.
    pub segment_maps: Vec<MapFile>,
}

impl Settings {
    /// Reads `explicit` (which must exist), or else `seglake.toml` in the current folder if
    /// there is one, or else returns empty settings.
    ///
    /// # Errors
    /// A usage error naming the file when it is missing (only if given explicitly), unreadable
    /// or invalid.
    pub fn load(explicit: Option<&Path>) -> Result<Self> {
        let path = match explicit {
            Some(path) => path.to_path_buf(),
            None => {
                let default = PathBuf::from(CONFIG_FILE_NAME);
                if !default.is_file() {
                    return Ok(Self::default());
                }
                default
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            SeglakeError::usage(format!("cannot read config '{}': {e}", path.display()))
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        Self::parse(&text, base)
            .map_err(|msg| SeglakeError::usage(format!("config '{}': {msg}", path.display())))
    }

    /// Parses config text; relative paths are taken relative to `base`.
    pub fn parse(text: &str, base: &Path) -> std::result::Result<Self, String> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let resolve = |location: &str| resolve_location(base, location);
        let lakes = match file.lake {
            None => vec![],
            Some(OneOrMany::One(lake)) => vec![resolve(&lake)],
            Some(OneOrMany::Many(lakes)) => lakes.iter().map(|l| resolve(l)).collect(),
        };
        let mut tables = Vec::new();
        for (name, entry) in file.tables {
            let (path, format) = match entry {
                TableEntry::Path(path) => (path, None),
                TableEntry::Detailed { path, format } => (path, format),
            };
            let mut spec: TableSpec = format!("{name}={}", resolve(&path))
                .parse()
                .map_err(|e| format!("[tables] {e}"))?;
            if let Some(format) = format {
                let format: TableFormat =
                    format.parse().map_err(|e| format!("table '{name}': {e}"))?;
                spec = spec.with_format(format);
            }
            tables.push(spec);
        }
        let memory_limit = match file.memory_limit {
            None => None,
            Some(ByteSize::Bytes(bytes)) => Some(bytes as usize),
            Some(ByteSize::Text(text)) => {
                Some(parse_byte_size(&text).map_err(|e| format!("memory_limit: {e}"))?)
            }
        };
        let storage = match &file.storage {
            Some(table) => StorageOptions::from_toml(table)?,
            None => StorageOptions::default(),
        };
        let cluster = match &file.cluster {
            Some(url) => Some(url.parse().map_err(|e| format!("cluster: {e}"))?),
            None => None,
        };
        let mut segment_maps = Vec::new();
        for (name, path) in &file.segment_maps {
            let map: MapFile = format!("{name}={}", resolve(path))
                .parse()
                .map_err(|e| format!("[segment_maps] {e}"))?;
            segment_maps.push(map);
        }
        Ok(Self {
            storage,
            cluster,
            segment_maps,
            memory_limit,
            temp_dir: file.temp_dir.map(|dir| PathBuf::from(resolve(&dir))),
            target_partitions: file.target_partitions,
            lakes,
            tables,
        })
    }

    /// Applies command-line values over these: given lakes replace, given tables add or replace.
    pub fn override_with(mut self, cli: Settings) -> Self {
        self.memory_limit = cli.memory_limit.or(self.memory_limit);
        self.temp_dir = cli.temp_dir.or(self.temp_dir);
        self.target_partitions = cli.target_partitions.or(self.target_partitions);
        self.cluster = cli.cluster.or(self.cluster);
        if !cli.lakes.is_empty() {
            self.lakes = cli.lakes;
        }
        for table in cli.tables {
            self.tables.retain(|t| t.name != table.name);
            self.tables.push(table);
        }
        for map in cli.segment_maps {
            self.segment_maps.retain(|m| m.name != map.name);
            self.segment_maps.push(map);
        }
        self
    }

    /// A builder with these settings applied.
    pub fn builder(&self) -> SeglakeBuilder {
        let mut builder = SeglakeBuilder::new().storage(self.storage.clone());
        if let Some(limit) = self.memory_limit {
            builder = builder.memory_limit(limit);
        }
        if let Some(dir) = &self.temp_dir {
            builder = builder.temp_dir(dir);
        }
        if let Some(partitions) = self.target_partitions {
            builder = builder.target_partitions(partitions);
        }
        for lake in &self.lakes {
            builder = builder.lake(lake.as_str());
        }
        for table in &self.tables {
            builder = builder.table(table.clone());
        }
        if let Some(url) = &self.cluster {
            builder = builder.cluster(url.clone());
        }
        for map in &self.segment_maps {
            builder = builder.segment_map_file(map.clone());
        }
        builder
    }
}

fn resolve_location(base: &Path, location: &str) -> String {
    if has_url_scheme(location) || Path::new(location).is_absolute() || base.as_os_str().is_empty()
    {
        return location.to_string();
    }
    let mut resolved = base.join(location).to_string_lossy().into_owned();
    // Keep a trailing slash: it marks a folder for locations that do not exist yet.
    if location.ends_with('/') && !resolved.ends_with('/') {
        resolved.push('/');
    }
    resolved
}

/// Parses sizes like `4G`, `512M`, `1.5GiB`, `2gb` or a plain number of bytes
/// (K, M, G, T are powers of 1024).
///
/// # Errors
/// When the text is not a number followed by an optional unit.
pub fn parse_byte_size(text: &str) -> std::result::Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("expected a size like 4G or 512M, got '{text}'"))?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => {
            return Err(format!(
                "unknown size unit '{other}' in '{text}': expected K, M, G or T"
            ));
        }
    };
    let bytes = number * multiplier as f64;
    if !bytes.is_finite() || bytes < 1.0 {
        return Err(format!("size '{text}' must be at least one byte"));
    }
    Ok(bytes as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_byte_size("4G"), Ok(4 << 30));
        assert_eq!(parse_byte_size("512M"), Ok(512 << 20));
        assert_eq!(parse_byte_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_byte_size("1000"), Ok(1000));
        assert!(parse_byte_size("4X").unwrap_err().contains("unit 'x'"));
        assert!(parse_byte_size("lots").unwrap_err().contains("4G"));
        assert!(parse_byte_size("0").is_err());
    }

    #[test]
    fn full_config_with_relative_paths() {
        let text = r#"
            lake = "data/lake"
            memory_limit = "2G"
            target_partitions = 4
            [tables]
            orders = "exports/orders.parquet"
            events = { path = "s3://bucket/events/", format = "ndjson" }
        "#;
        let settings = Settings::parse(text, Path::new("/proj")).unwrap();
        assert_eq!(settings.lakes, vec!["/proj/data/lake".to_string()]);
        assert_eq!(settings.memory_limit, Some(2 << 30));
        assert_eq!(settings.target_partitions, Some(4));
        assert_eq!(
            settings.tables,
            vec![
                TableSpec::new("events", "s3://bucket/events/").with_format(TableFormat::Ndjson),
                TableSpec::new("orders", "/proj/exports/orders.parquet"),
            ]
        );
    }

    #[test]
    fn unknown_keys_and_formats_are_errors() {
        let err = Settings::parse("lakes = 'x'", Path::new("")).unwrap_err();
        assert!(err.contains("unknown field `lakes`"), "{err}");
        let err = Settings::parse(
            "[tables]\nt = { path = 'x', format = 'xls' }",
            Path::new(""),
        )
        .unwrap_err();
        assert!(err.contains("table 't'") && err.contains("'xls'"), "{err}");
    }

    #[test]
    fn segment_maps_by_name() {
        let text = "[segment_maps]\nvip = 'maps/vip.toml'\n";
        let settings = Settings::parse(text, Path::new("/proj")).unwrap();
        assert_eq!(
            settings.segment_maps,
            vec!["vip=/proj/maps/vip.toml".parse::<MapFile>().unwrap()]
        );
        let err = Settings::parse("[segment_maps]\n'a b' = 'x'", Path::new("")).unwrap_err();
        assert!(
            err.contains("[segment_maps] segment map name 'a b'"),
            "{err}"
        );
    }

    #[test]
    fn a_cluster_address() {
        let settings = Settings::parse("cluster = 'df://sched:6000'", Path::new("")).unwrap();
        assert_eq!(settings.cluster, Some(ClusterUrl::new("sched", 6000)));
        let err = Settings::parse("cluster = 'sched:6000'", Path::new("")).unwrap_err();
        assert!(
            err.contains("cluster: expected a cluster address like df://HOST:PORT"),
            "{err}"
        );
    }

    #[test]
    fn command_line_wins() {
        let file = Settings {
            memory_limit: Some(1),
            lakes: vec!["a".into()],
            tables: vec![TableSpec::new("t", "old.parquet")],
            ..Settings::default()
        };
        let cli = Settings {
            lakes: vec!["b".into()],
            tables: vec![TableSpec::new("t", "new.parquet")],
            ..Settings::default()
        };
        let merged = file.override_with(cli);
        assert_eq!(merged.memory_limit, Some(1));
        assert_eq!(merged.lakes, vec!["b".to_string()]);
        assert_eq!(merged.tables, vec![TableSpec::new("t", "new.parquet")]);
    }
}
