//! Building the object store for one bucket or host from the environment and the settings.

use std::str::FromStr;
use std::sync::Arc;

use datafusion::error::{DataFusionError, Result};
use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::http::HttpBuilder;
use object_store::{ClientConfigKey, RetryConfig};
use url::Url;

use super::options::{Cloud, StorageOptions};
use super::{aws_profile, secrets, store_key};

/// The store for `url`'s bucket or host: environment variables (and for S3 the AWS profile)
/// first, then `options`, which win.
///
/// # Errors
/// A configuration error naming the store (never a credential) when the builder rejects the
/// settings, for example an S3 URL without a region or a GCS one without credentials.
pub(super) fn build_store(url: &Url, options: &StorageOptions) -> Result<Arc<dyn ObjectStore>> {
    let key = store_key(url);
    let cloud = Cloud::from_scheme(url.scheme())
        .ok_or_else(|| DataFusionError::Configuration(format!("no object store for '{key}'")))?;
    let (settings, retry) = options
        .for_store(&key)
        .map_err(DataFusionError::Configuration)?;
    let fail = |e: object_store::Error| store_error(&key, e);
    let store: Arc<dyn ObjectStore> = match cloud {
        Cloud::S3 => Arc::new(s3(url, &settings, retry).map_err(fail)?),
        Cloud::Gcs => {
            let mut builder = GoogleCloudStorageBuilder::from_env().with_url(url.as_str());
            for (k, v) in &settings {
                builder = builder.with_config(GoogleConfigKey::from_str(k).map_err(fail)?, v);
            }
            Arc::new(builder.with_retry(retry).build().map_err(fail)?)
        }
        Cloud::Azure => {
            let mut builder = MicrosoftAzureBuilder::from_env().with_url(url.as_str());
            for (k, v) in &settings {
                builder = builder.with_config(AzureConfigKey::from_str(k).map_err(fail)?, v);
            }
            Arc::new(builder.with_retry(retry).build().map_err(fail)?)
        }
        Cloud::Http => {
            // Naming an http:// URL is the person's consent to plain HTTP.
            let mut builder = HttpBuilder::new().with_url(format!("{key}/")).with_config(
                ClientConfigKey::AllowHttp,
                (url.scheme() == "http").to_string(),
            );
            for (k, v) in &settings {
                builder = builder.with_config(ClientConfigKey::from_str(k).map_err(fail)?, v);
            }
            Arc::new(builder.with_retry(retry).build().map_err(fail)?)
        }
    };
    Ok(store)
}

fn s3(
    url: &Url,
    settings: &[(String, String)],
    retry: RetryConfig,
) -> object_store::Result<object_store::aws::AmazonS3> {
    let mut builder = AmazonS3Builder::from_env().with_url(url.as_str());
    for (key, value) in profile_defaults() {
        builder = builder.with_config(AmazonS3ConfigKey::from_str(key)?, value);
    }
    for (key, value) in settings {
        builder = builder.with_config(AmazonS3ConfigKey::from_str(key)?, value);
    }
    builder.with_retry(retry).build()
}

/// The AWS profile's settings that the environment does not set: environment variables win
/// over a profile, as in the AWS CLI.
fn profile_defaults() -> Vec<(&'static str, String)> {
    let is_set = |names: &[&str]| names.iter().any(|name| std::env::var_os(name).is_some());
    let credentials_in_env = is_set(&["AWS_ACCESS_KEY_ID"]);
    let region_in_env = is_set(&["AWS_REGION", "AWS_DEFAULT_REGION"]);
    let endpoint_in_env = is_set(&["AWS_ENDPOINT", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]);
    aws_profile::from_environment()
        .into_iter()
        .filter(|(key, _)| match *key {
            "region" => !region_in_env,
            "endpoint" => !endpoint_in_env,
            _ => !credentials_in_env,
        })
        .inspect(|(key, value)| {
            if secrets::is_secret_key(key) {
                secrets::remember(value);
            }
        })
        .collect()
}

fn store_error(key: &str, e: object_store::Error) -> DataFusionError {
    DataFusionError::Configuration(format!("cannot open object store '{key}': {e}"))
}
