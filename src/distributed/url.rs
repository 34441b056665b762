//! `df://HOST[:PORT]`: where a cluster's scheduler listens.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use datafusion::error::{DataFusionError, Result};

/// The port a Ballista scheduler listens on unless told otherwise.
pub const DEFAULT_SCHEDULER_PORT: u16 = 50050;

/// A scheduler's address as users write it: `df://HOST[:PORT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterUrl {
    host: String,
    port: u16,
}

impl ClusterUrl {
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
        }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The gRPC endpoint Ballista's client connects to.
    pub fn endpoint(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    /// Waits at most `timeout` for the scheduler's port to accept a connection.
    ///
    /// # Errors
    /// A configuration error naming the address and why (refused, unknown host, timed out).
    pub async fn check_reachable(&self, timeout: Duration) -> Result<()> {
        let address = (self.host.as_str(), self.port);
        match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(DataFusionError::Configuration(format!(
                "cannot reach the cluster's scheduler at {self}: {e} (is `seglake cluster \
                 scheduler` running there?)"
            ))),
            Err(_) => Err(DataFusionError::Configuration(format!(
                "cannot reach the cluster's scheduler at {self}: no answer within {} s",
                timeout.as_secs()
            ))),
        }
    }
}

impl fmt::Display for ClusterUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "df://{}:{}", self.host, self.port)
    }
}

impl FromStr for ClusterUrl {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let expected = || format!("expected a cluster address like df://HOST:PORT, got '{text}'");
        let rest = text.trim().strip_prefix("df://").ok_or_else(expected)?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains('/') {
            return Err(expected());
        }
        let (host, port) = match rest.rsplit_once(':') {
            // An IPv6 address without a port: [::1]
            Some((host, port)) if !port.contains(']') => {
                let port = port
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| format!("port '{port}' in '{text}' is not a port number"))?;
                (host, port)
            }
            _ => (rest, DEFAULT_SCHEDULER_PORT),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(expected());
        }
        Ok(Self::new(host, port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cluster_addresses() {
        let url: ClusterUrl = "df://localhost:50050".parse().unwrap();
        assert_eq!((url.host(), url.port()), ("localhost", 50050));
        assert_eq!(url.endpoint(), "http://localhost:50050");
        let url: ClusterUrl = "df://10.0.0.7".parse().unwrap();
        assert_eq!(url.to_string(), "df://10.0.0.7:50050");
        let url: ClusterUrl = "df://[::1]:6000/".parse().unwrap();
        assert_eq!((url.host(), url.port()), ("::1", 6000));
        for bad in [
            "localhost:50050",
            "http://h:1",
            "df://",
            "df://h:0",
            "df://h:x",
            "df://h/p",
        ] {
            let err = bad.parse::<ClusterUrl>().unwrap_err();
            assert!(err.contains(bad), "{bad}: {err}");
        }
    }

    #[tokio::test]
    async fn an_unreachable_scheduler_is_named() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let url = ClusterUrl::new("127.0.0.1", port);
        let err = url
            .check_reachable(Duration::from_secs(2))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains(&format!("df://127.0.0.1:{port}")),
            "{err}"
        );
    }
}
