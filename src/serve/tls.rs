//! TLS for `seglake serve`: a certificate chain and its key in PEM files. A setup that fails is
//! an error at start, never a silent fallback to plain text.

use std::path::Path;
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring::default_provider;

/// The acceptor for `cert` (PEM, the server's certificate first) and `key` (PEM, PKCS#8, PKCS#1
/// or SEC1).
///
/// # Errors
/// When a file cannot be read, holds no certificate or key, or they do not match.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, String> {
    let open = |path: &Path, what: &str| {
        std::fs::File::open(path)
            .map(std::io::BufReader::new)
            .map_err(|e| format!("cannot read the TLS {what} '{}': {e}", path.display()))
    };
    let certs = rustls_pemfile::certs(&mut open(cert, "certificate")?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("TLS certificate '{}': {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "TLS certificate '{}' holds no PEM certificate",
            cert.display()
        ));
    }
    let private_key = rustls_pemfile::private_key(&mut open(key, "key")?)
        .map_err(|e| format!("TLS key '{}': {e}", key.display()))?
        .ok_or_else(|| format!("TLS key '{}' holds no PEM private key", key.display()))?;
    let config = ServerConfig::builder_with_provider(Arc::new(default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, private_key)
        .map_err(|e| {
            format!(
                "TLS certificate '{}' and key '{}' do not fit: {e}",
                cert.display(),
                key.display()
            )
        })?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
