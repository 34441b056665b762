//! Object stores for lake URLs.
//!
//! Every place that takes a path also takes a URL (`s3://`, `gs://`, `az://`, `abfss://`,
//! `http(s)://`). Rather than registering stores up front for each statement, seglake installs
//! an [`ObjectStoreRegistry`] that builds the store for a bucket or host the first time a URL
//! names it, from the standard environment variables of that cloud. So `CREATE EXTERNAL TABLE`,
//! `COPY ... TO`, `--lake` and `--table` all work with URLs through one code path.
//!
//! Credentials and options come from the standard sources of each cloud (`AWS_*`,
//! `GOOGLE_*`, `AZURE_*` variables; for S3 also the AWS CLI's named profiles), overridden per
//! bucket by `seglake.toml`'s `[storage]` table ([`StorageOptions`]). Every store gets request
//! timeouts and a bounded retry policy, so a stalled or vanished server ends a query with an
//! error instead of a hang; credentials are masked in every message ([`secrets`]).

mod aws_profile;
mod build;
mod explain;
mod options;
pub mod secrets;

pub use explain::explain;
pub use options::{Cloud, StorageOptions};

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use object_store::ObjectStore;
use url::Url;

/// An [`ObjectStoreRegistry`] that creates cloud stores lazily from the environment.
///
/// Local files are served by DataFusion's default registry; a store registered explicitly
/// (for example by an embedding application) always wins over a lazily built one.
#[derive(Debug, Default)]
pub struct LakeStoreRegistry {
    inner: DefaultObjectStoreRegistry,
    options: StorageOptions,
    lazy: RwLock<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl LakeStoreRegistry {
    /// A registry building stores with default timeouts and retries.
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry building stores with `options` (from `seglake.toml`'s `[storage]`).
    pub fn with_options(options: StorageOptions) -> Self {
        for secret in options.secrets() {
            secrets::remember(secret);
        }
        Self {
            options,
            ..Self::default()
        }
    }
}

/// The part of a URL that identifies one store: scheme and authority (bucket or host).
pub(crate) fn store_key(url: &Url) -> String {
    format!(
        "{}://{}",
        url.scheme(),
        &url[url::Position::BeforeHost..url::Position::AfterPort]
    )
}

impl ObjectStoreRegistry for LakeStoreRegistry {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.inner.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        let lazy = self
            .lazy
            .write()
            .ok()
            .and_then(|mut stores| stores.remove(&store_key(url)));
        match (self.inner.deregister_store(url), lazy) {
            (Ok(store), _) => Ok(store),
            (Err(_), Some(store)) => Ok(store),
            (Err(e), None) => Err(e),
        }
    }

    fn get_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        if let Ok(store) = self.inner.get_store(url) {
            return Ok(store);
        }
        if Cloud::from_scheme(url.scheme()).is_none() {
            return Err(DataFusionError::Configuration(format!(
                "no object store for '{url}': seglake reads local paths and s3://, gs://, az://, \
                 abfss:// and http(s):// URLs"
            )));
        }
        let key = store_key(url);
        if let Some(store) = self.lazy.read().ok().and_then(|s| s.get(&key).cloned()) {
            return Ok(store);
        }
        let store = build::build_store(url, &self.options)?;
        if let Ok(mut stores) = self.lazy.write() {
            stores.insert(key, Arc::clone(&store));
        }
        Ok(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_key_keeps_scheme_and_bucket_only() {
        let url = Url::parse("s3://my-bucket/lake/transactions/part-0.parquet").unwrap();
        assert_eq!(store_key(&url), "s3://my-bucket");
        let url = Url::parse("http://127.0.0.1:8080/lake/").unwrap();
        assert_eq!(store_key(&url), "http://127.0.0.1:8080");
    }

    #[test]
    fn local_files_use_the_default_store() {
        let registry = LakeStoreRegistry::new();
        let url = Url::parse("file:///tmp/x.parquet").unwrap();
        assert!(registry.get_store(&url).is_ok());
    }

    #[test]
    fn unknown_scheme_is_a_clear_error() {
        let registry = LakeStoreRegistry::new();
        let url = Url::parse("ftp://host/x.parquet").unwrap();
        let err = registry.get_store(&url).unwrap_err().to_string();
        assert!(err.contains("ftp://host/x.parquet"), "{err}");
    }

    #[test]
    fn s3_store_is_built_once_per_bucket() {
        let registry = LakeStoreRegistry::new();
        let a = registry
            .get_store(&Url::parse("s3://bucket-a/t1/").unwrap())
            .unwrap();
        let b = registry
            .get_store(&Url::parse("s3://bucket-a/t2/x.parquet").unwrap())
            .unwrap();
        assert!(Arc::ptr_eq(&a, &b));
    }
}
