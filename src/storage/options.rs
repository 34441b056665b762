//! Settings for object stores: timeouts and retries for every store, options per bucket.
//!
//! ```toml
//! [storage]                         # every store
//! timeout = "30s"                   # one request, start to end
//! connect_timeout = "5s"
//! max_retries = 3                   # retries of one request
//! retry_timeout = "30s"             # no retry starts after this
//!
//! [storage."s3://analytics-lake"]   # one bucket (or gs://bucket, az://container, http://host)
//! endpoint = "http://127.0.0.1:8333"
//! region = "eu-west-1"
//! allow_http = true
//! ```
//! Keys are object_store's option names (`endpoint`, `region`, `virtual_hosted_style_request`,
//! `service_account_path`, `account_name`, `timeout`, ...), with or without the cloud's prefix
//! (`aws_`, `google_`, `azure_`); an unknown key is an error when the file is read. Settings
//! here win over environment variables, which win over an AWS profile.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use object_store::aws::AmazonS3ConfigKey;
use object_store::azure::AzureConfigKey;
use object_store::gcp::GoogleConfigKey;
use object_store::{BackoffConfig, ClientConfigKey, RetryConfig};
use url::Url;

/// Retry options, which object_store takes as a [`RetryConfig`] rather than as keys.
const MAX_RETRIES: &str = "max_retries";
const RETRY_TIMEOUT: &str = "retry_timeout";

/// The defaults bound how long an unreachable or stalled server can hold a query: about
/// `timeout` x (1 + `max_retries`) at worst, and no retry starts after `retry_timeout`.
/// object_store's own defaults (10 retries over up to 3 minutes) feel like a hang.
const DEFAULTS: &[(&str, &str)] = &[
    ("timeout", "30s"),
    ("connect_timeout", "5s"),
    (MAX_RETRIES, "3"),
    (RETRY_TIMEOUT, "30s"),
];

/// The kinds of store seglake builds, by URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    S3,
    Gcs,
    Azure,
    Http,
}

impl Cloud {
    /// The cloud a URL scheme belongs to, if seglake knows it.
    pub fn from_scheme(scheme: &str) -> Option<Self> {
        match scheme {
            "s3" | "s3a" => Some(Self::S3),
            "gs" => Some(Self::Gcs),
            "az" | "adl" | "azure" | "abfs" | "abfss" => Some(Self::Azure),
            "http" | "https" => Some(Self::Http),
            _ => None,
        }
    }

    /// Whether object_store knows `key` for this cloud.
    fn accepts(self, key: &str) -> bool {
        match self {
            Self::S3 => AmazonS3ConfigKey::from_str(key).is_ok(),
            Self::Gcs => GoogleConfigKey::from_str(key).is_ok(),
            Self::Azure => AzureConfigKey::from_str(key).is_ok(),
            Self::Http => ClientConfigKey::from_str(key).is_ok(),
        }
    }
}

/// Store settings: the ones for every store, and the ones for each bucket or host.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageOptions {
    common: BTreeMap<String, String>,
    stores: BTreeMap<String, BTreeMap<String, String>>,
}

impl Default for StorageOptions {
    fn default() -> Self {
        Self {
            common: DEFAULTS
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            stores: BTreeMap::new(),
        }
    }
}

impl StorageOptions {
    /// Sets an option of every store: an HTTP client option (`timeout`, `connect_timeout`,
    /// `proxy_url`, ...) or `max_retries` / `retry_timeout`.
    ///
    /// # Errors
    /// An unknown key or a value that is not of the key's type, as a message naming both.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        if !is_retry_key(key) && ClientConfigKey::from_str(key).is_err() {
            return Err(format!(
                "[storage] unknown option '{key}': expected timeout, connect_timeout, \
                 max_retries, retry_timeout or another HTTP client option of object_store; \
                 options of one bucket go in [storage.\"s3://bucket\"]"
            ));
        }
        check_value(key, value).map_err(|e| format!("[storage] {e}"))?;
        self.common.insert(key.to_string(), value.to_string());
        Ok(())
    }

    /// Sets an option of the store at `store` (`s3://bucket`, `gs://bucket`, `az://container`,
    /// `http://host:port`).
    ///
    /// # Errors
    /// When `store` is not a bucket URL, or the key is unknown to its cloud or its value
    /// is not of the key's type.
    pub fn set_for(&mut self, store: &str, key: &str, value: &str) -> Result<(), String> {
        let (store_key, cloud) = parse_store(store)?;
        if !is_retry_key(key) && !cloud.accepts(key) {
            return Err(format!(
                "[storage.\"{store}\"] unknown option '{key}' for this kind of store \
                 (see object_store's {cloud:?} configuration keys)"
            ));
        }
        check_value(key, value).map_err(|e| format!("[storage.\"{store}\"] {e}"))?;
        self.stores
            .entry(store_key)
            .or_default()
            .insert(key.to_string(), value.to_string());
        Ok(())
    }

    /// Reads the `[storage]` table of `seglake.toml`: scalar values are options of every
    /// store, sub-tables named by a bucket URL are that bucket's options.
    ///
    /// # Errors
    /// A message naming the offending key.
    pub fn from_toml(table: &toml::Table) -> Result<Self, String> {
        let mut options = Self::default();
        for (name, value) in table {
            match value {
                toml::Value::Table(store) => {
                    for (key, value) in store {
                        options.set_for(name, key, &scalar(key, value)?)?;
                    }
                }
                value => options.set(name, &scalar(name, value)?)?,
            }
        }
        Ok(options)
    }

    /// The options for the store of `store_key` (scheme://authority): every store's, then
    /// the store's own, as key-value pairs for the builder; and the retry policy.
    ///
    /// # Errors
    /// A retry value that does not parse (cannot happen after `set`).
    pub(crate) fn for_store(
        &self,
        store_key: &str,
    ) -> Result<(Vec<(String, String)>, RetryConfig), String> {
        let mut merged = self.common.clone();
        if let Some(own) = self.stores.get(store_key) {
            merged.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let defaults = RetryConfig::default();
        let max_retries = match merged.remove(MAX_RETRIES) {
            Some(value) => value
                .parse()
                .map_err(|_| retry_error(MAX_RETRIES, &value))?,
            None => defaults.max_retries,
        };
        let retry_timeout = match merged.remove(RETRY_TIMEOUT) {
            Some(value) => {
                humantime::parse_duration(&value).map_err(|_| retry_error(RETRY_TIMEOUT, &value))?
            }
            None => defaults.retry_timeout,
        };
        let retry = RetryConfig {
            // Short waits between tries: the retry budget is for riding out a blip, and a
            // person is usually waiting.
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(5),
                base: 2.0,
            },
            max_retries,
            retry_timeout,
        };
        Ok((merged.into_iter().collect(), retry))
    }

    /// Every credential value set here (so messages can mask them).
    pub(crate) fn secrets(&self) -> impl Iterator<Item = &str> {
        self.stores
            .values()
            .flat_map(|options| options.iter())
            .filter(|(key, _)| super::secrets::is_secret_key(key))
            .map(|(_, value)| value.as_str())
    }
}

fn scalar(key: &str, value: &toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        _ => Err(format!(
            "[storage] option '{key}' must be a string, number or boolean"
        )),
    }
}

fn is_retry_key(key: &str) -> bool {
    key == MAX_RETRIES || key == RETRY_TIMEOUT
}

/// Durations and counts are checked when the file is read, not when a query first needs
/// the store.
fn check_value(key: &str, value: &str) -> Result<(), String> {
    if key == MAX_RETRIES {
        return value
            .parse::<usize>()
            .map(drop)
            .map_err(|_| format!("{key} must be a whole number, got '{value}'"));
    }
    if key.ends_with("timeout") || key.ends_with("interval") {
        return humantime::parse_duration(value).map(drop).map_err(|_| {
            format!("{key} must be a duration like \"30s\" or \"2m\", got '{value}'")
        });
    }
    Ok(())
}

fn retry_error(key: &str, value: &str) -> String {
    format!("[storage] {key}: cannot use '{value}'")
}

/// `s3://bucket` (or with a trailing slash) → ("s3://bucket", S3).
fn parse_store(store: &str) -> Result<(String, Cloud), String> {
    let url = Url::parse(store).map_err(|_| {
        format!("[storage.\"{store}\"] expected a bucket URL such as \"s3://bucket\"")
    })?;
    let cloud = Cloud::from_scheme(url.scheme()).ok_or_else(|| {
        format!(
            "[storage.\"{store}\"] unknown scheme '{}': expected s3, gs, az, abfss, http or https",
            url.scheme()
        )
    })?;
    if url.host_str().unwrap_or_default().is_empty() || !matches!(url.path(), "" | "/") {
        return Err(format!(
            "[storage.\"{store}\"] settings are per bucket or host: use \"{}://{}\"",
            url.scheme(),
            url.host_str().unwrap_or("bucket")
        ));
    }
    Ok((super::store_key(&url), cloud))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<StorageOptions, String> {
        let table: toml::Table = toml::from_str(text).unwrap();
        StorageOptions::from_toml(&table)
    }

    #[test]
    fn defaults_bound_a_stalled_server() {
        let (options, retry) = StorageOptions::default().for_store("s3://b").unwrap();
        assert!(options.contains(&("timeout".into(), "30s".into())));
        assert!(options.contains(&("connect_timeout".into(), "5s".into())));
        assert_eq!(retry.max_retries, 3);
        assert_eq!(retry.retry_timeout, Duration::from_secs(30));
    }

    #[test]
    fn bucket_options_win_over_common_ones() {
        let options = parse(
            "timeout = \"10s\"\nmax_retries = 1\n\
             [\"s3://lake\"]\nendpoint = \"http://127.0.0.1:8333\"\nallow_http = true\n\
             timeout = \"2s\"\n",
        )
        .unwrap();
        let (lake, retry) = options.for_store("s3://lake").unwrap();
        assert!(lake.contains(&("timeout".into(), "2s".into())));
        assert!(lake.contains(&("allow_http".into(), "true".into())));
        assert!(lake.contains(&("endpoint".into(), "http://127.0.0.1:8333".into())));
        assert_eq!(retry.max_retries, 1);
        let (other, _) = options.for_store("s3://other").unwrap();
        assert!(other.contains(&("timeout".into(), "10s".into())));
        assert!(!other.iter().any(|(k, _)| k == "endpoint"));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let err = parse("timout = \"1s\"").unwrap_err();
        assert!(err.contains("unknown option 'timout'"), "{err}");
        let err = parse("[\"s3://lake\"]\nendpiont = \"x\"").unwrap_err();
        assert!(
            err.contains("s3://lake") && err.contains("'endpiont'"),
            "{err}"
        );
        let err = parse("timeout = \"soon\"").unwrap_err();
        assert!(err.contains("duration"), "{err}");
        let err = parse("max_retries = \"many\"").unwrap_err();
        assert!(err.contains("whole number"), "{err}");
        let err = parse("[\"s3://lake/sub/folder\"]\nregion = \"x\"").unwrap_err();
        assert!(err.contains("per bucket"), "{err}");
        let err = parse("[\"ftp://host\"]\nregion = \"x\"").unwrap_err();
        assert!(err.contains("unknown scheme 'ftp'"), "{err}");
    }

    #[test]
    fn each_cloud_takes_its_own_keys() {
        let options = parse(
            "[\"gs://b\"]\nservice_account_path = \"/k.json\"\n\
             [\"az://c\"]\naccount_name = \"acct\"\n\
             [\"http://127.0.0.1:8080\"]\nallow_http = true\n",
        );
        assert!(options.is_ok(), "{options:?}");
        assert!(parse("[\"http://h\"]\nregion = \"x\"").is_err());
    }

    #[test]
    fn credentials_are_listed_as_secrets() {
        let options =
            parse("[\"s3://lake\"]\nsecret_access_key = \"abcd1234\"\nregion = \"eu\"").unwrap();
        assert_eq!(options.secrets().collect::<Vec<_>>(), ["abcd1234"]);
    }
}
