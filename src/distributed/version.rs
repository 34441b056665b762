//! Client and cluster must run the same seglake: a plan encodes seglake's functions by name
//! and state, and a function that changed between versions would give other answers.

use std::any::Any;

use datafusion::config::{ConfigEntry, ConfigExtension, ExtensionOptions};
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionConfig;

/// The `seglake.*` settings a client sends with every query.
///
/// Written out rather than with `extensions_options!`, whose entries lack the `seglake.`
/// prefix: Ballista sends a session's settings as its entries, and a key without its prefix
/// would be dropped on the scheduler.
#[derive(Debug, Clone, Default)]
pub struct SeglakeClusterOptions {
    /// The seglake version of the client that planned the query; empty when the client is
    /// not seglake (a plain Ballista client), which is let through.
    pub client_version: String,
}

const CLIENT_VERSION: &str = "client_version";

impl ConfigExtension for SeglakeClusterOptions {
    const PREFIX: &'static str = "seglake";
}

impl ExtensionOptions for SeglakeClusterOptions {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn cloned(&self) -> Box<dyn ExtensionOptions> {
        Box::new(self.clone())
    }

    fn set(&mut self, key: &str, value: &str) -> Result<()> {
        match key {
            CLIENT_VERSION => {
                self.client_version = value.to_string();
                Ok(())
            }
            other => Err(DataFusionError::Configuration(format!(
                "unknown setting 'seglake.{other}': seglake.{CLIENT_VERSION} is the only one"
            ))),
        }
    }

    fn entries(&self) -> Vec<ConfigEntry> {
        vec![ConfigEntry {
            key: format!("{}.{CLIENT_VERSION}", Self::PREFIX),
            value: Some(self.client_version.clone()),
            description: "The seglake version of the client that planned the query",
        }]
    }
}

/// Refuses a query whose client runs another seglake version than this `role` (scheduler or
/// executor) does.
///
/// # Errors
/// A configuration error giving both versions.
pub fn check_version(config: &SessionConfig, role: &str) -> Result<()> {
    let client = config
        .options()
        .extensions
        .get::<SeglakeClusterOptions>()
        .map(|o| o.client_version.as_str())
        .unwrap_or_default();
    if client.is_empty() || client == crate::VERSION {
        return Ok(());
    }
    Err(DataFusionError::Configuration(format!(
        "the client runs seglake {client} but the cluster's {role} runs seglake {}: run the \
         same version on the client, the scheduler and every executor",
        crate::VERSION
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_must_match() {
        let config = SessionConfig::new().with_option_extension(SeglakeClusterOptions::default());
        assert!(check_version(&config, "scheduler").is_ok());
        let mut config = config;
        config
            .options_mut()
            .set("seglake.client_version", "0.0.1")
            .unwrap();
        let err = check_version(&config, "scheduler").unwrap_err().to_string();
        assert!(err.contains("seglake 0.0.1"), "{err}");
        assert!(
            err.contains(&format!("scheduler runs seglake {}", crate::VERSION)),
            "{err}"
        );
        config
            .options_mut()
            .set("seglake.client_version", crate::VERSION)
            .unwrap();
        assert!(check_version(&config, "executor").is_ok());
    }
}
