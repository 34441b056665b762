//! What a seglake session needs to run on an Apache Ballista cluster, shared by the client
//! ([`SeglakeBuilder::cluster`](crate::SeglakeBuilder::cluster)) and the two cluster roles
//! (`src/cluster/`).
//!
//! A query planned by a client goes to the scheduler as a logical plan; the scheduler plans it
//! again in its own session, cuts it into stages and sends each stage's physical plan to the
//! executors. seglake's functions and optimizer rule must therefore be known in all three
//! places, and a function whose struct carries state (today only `rfm`'s variant without
//! purchase-day sets) travels through [`codec`] rather than by name alone.

pub mod codec;
mod errors;
mod planner;
mod shared_paths;
mod url;
mod version;

pub use self::url::ClusterUrl;
pub use errors::readable as readable_error;
pub use shared_paths::LakePathsVisible;
pub use version::{SeglakeClusterOptions, check_version};

use std::sync::Arc;
use std::time::Duration;

use ballista_core::extension::{SessionConfigExt, SessionStateExt};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SessionState;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionConfig;

/// How long a client waits for the scheduler's port before giving up.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A session configuration as every seglake cluster role starts from: Ballista's settings,
/// seglake's codecs and the `seglake.*` options (the client's version).
pub fn cluster_config(config: SessionConfig) -> SessionConfig {
    let mut config = config
        .upgrade_for_ballista()
        .with_ballista_logical_extension_codec(Arc::new(codec::SeglakeLogicalCodec::default()))
        .with_ballista_physical_extension_codec(Arc::new(codec::SeglakePhysicalCodec::default()));
    if config
        .options()
        .extensions
        .get::<SeglakeClusterOptions>()
        .is_none()
    {
        config = config.with_option_extension(SeglakeClusterOptions::default());
    }
    config
}

/// Turns a local session state into one whose queries run on the cluster at `url`.
///
/// Only the query planner changes: catalogs, tables and settings stay the client's, and
/// `information_schema` queries (`SHOW TABLES`, `\d`) still answer locally. seglake's
/// functions must be registered after this call (Ballista's upgrade resets the function
/// lists to its defaults).
///
/// # Errors
/// When nothing listens at the scheduler's address within [`CONNECT_TIMEOUT`]; the message
/// names the address.
pub async fn connect(state: SessionState, url: &ClusterUrl) -> Result<SessionState> {
    url.check_reachable(CONNECT_TIMEOUT).await?;
    let mut config = cluster_config(state.config().clone());
    if let Some(options) = config
        .options_mut()
        .extensions
        .get_mut::<SeglakeClusterOptions>()
    {
        options.client_version = crate::VERSION.to_string();
    }
    // The client's optimized plan is what travels, and DataFusion 55 cannot read back a plan
    // whose struct fields were pulled into `__datafusion_extracted_N` columns below an
    // aggregate ("No field named first_value(__datafusion_extracted_1)"). The scheduler,
    // which plans the query again without sending it on, turns the pushdown back on.
    config
        .options_mut()
        .optimizer
        .enable_leaf_expression_pushdown = false;
    let state = SessionStateBuilder::new_from_existing(state)
        .with_config(config)
        .build()
        .upgrade_for_ballista(url.endpoint())
        .map_err(|e| DataFusionError::Configuration(format!("cluster {url}: {e}")))?;
    // Ballista's planner for lake queries; this session's own tables are planned here.
    let cluster = Arc::clone(state.query_planner());
    Ok(SessionStateBuilder::new_from_existing(state)
        .with_query_planner(Arc::new(planner::LakeOnCluster::new(cluster)))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_config_carries_seglake_options() {
        let config = cluster_config(SessionConfig::new());
        let keys: Vec<String> = config
            .options()
            .entries()
            .into_iter()
            .map(|e| e.key)
            .filter(|k| k.starts_with("seglake"))
            .collect();
        assert_eq!(keys, ["seglake.client_version"]);
    }
}
