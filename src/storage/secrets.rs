//! Keeping credentials out of everything seglake prints.
//!
//! Object stores echo what a server said, and servers sometimes quote the access key they
//! rejected; a URL may carry a password. Every credential seglake hands to a store is
//! remembered here, and every message that leaves the process (errors, the REPL, `--log-json`)
//! passes through [`redact`] first.

use std::sync::{OnceLock, RwLock};

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Values shorter than this are not treated as secrets: masking "1" or "true" would garble
/// messages without protecting anything.
const MIN_SECRET_LEN: usize = 4;

/// Environment variables whose values are credentials of a cloud seglake reads from.
/// (Access key IDs are identifiers, not secrets: AWS prints them itself.)
pub const SECRET_ENV_VARS: &[&str] = &[
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "GOOGLE_SERVICE_ACCOUNT_KEY",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_ACCESS_KEY",
    "AZURE_STORAGE_MASTER_KEY",
    "AZURE_STORAGE_SAS_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_TOKEN",
    "AZURE_CLIENT_SECRET",
];

/// Option names (of any cloud, as `seglake.toml` or an AWS profile spells them) whose values
/// are credentials.
const SECRET_KEYS: &[&str] = &[
    "secret_access_key",
    "session_token",
    "token",
    "service_account_key",
    "access_key",
    "account_key",
    "master_key",
    "client_secret",
    "sas_key",
    "sas_token",
    "bearer_token",
];

fn known() -> &'static RwLock<Vec<String>> {
    static SECRETS: OnceLock<RwLock<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| {
        let from_env = SECRET_ENV_VARS
            .iter()
            .filter_map(|name| std::env::var(name).ok())
            .filter(|value| value.len() >= MIN_SECRET_LEN)
            .collect();
        RwLock::new(from_env)
    })
}

/// Whether an option of this name holds a credential (`aws_secret_access_key`,
/// `azure_storage_account_key`, `client_secret`, ...).
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    let key = ["aws_", "google_", "azure_storage_", "azure_"]
        .iter()
        .find_map(|prefix| key.strip_prefix(prefix))
        .unwrap_or(&key);
    SECRET_KEYS.contains(&key)
}

/// Remembers a credential so that [`redact`] masks it from now on.
pub fn remember(secret: &str) {
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    if let Ok(mut secrets) = known().write()
        && !secrets.iter().any(|s| s == secret)
    {
        secrets.push(secret.to_string());
        // Longest first, so a secret that contains another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// `text` with every remembered credential and every password in a URL replaced by `***`.
pub fn redact(text: &str) -> String {
    let mut out = mask_url_passwords(text);
    if let Ok(secrets) = known().read() {
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
    }
    out
}

/// Masks the password of `scheme://user:password@host` forms anywhere in `text`.
fn mask_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("://") {
        let (head, tail) = rest.split_at(start + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(&authority[..=colon]);
                out.push_str(MASK);
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_secrets_are_masked() {
        remember("wJalrXUtnFEMI-test-secret");
        let text = "403 Forbidden: signature for wJalrXUtnFEMI-test-secret does not match";
        assert_eq!(
            redact(text),
            "403 Forbidden: signature for *** does not match"
        );
    }

    #[test]
    fn short_values_are_not_secrets() {
        remember("yes");
        assert_eq!(redact("yes, the bucket exists"), "yes, the bucket exists");
    }

    #[test]
    fn url_passwords_are_masked() {
        assert_eq!(
            redact("cannot read 'https://ann:hunter22@example.com/lake/x.parquet' now"),
            "cannot read 'https://ann:***@example.com/lake/x.parquet' now"
        );
        assert_eq!(redact("s3://bucket/a:b@c"), "s3://bucket/a:b@c");
        assert_eq!(redact("http://127.0.0.1:8333/x"), "http://127.0.0.1:8333/x");
    }

    #[test]
    fn secret_keys_in_every_spelling() {
        for key in [
            "secret_access_key",
            "AWS_SECRET_ACCESS_KEY",
            "aws_session_token",
            "azure_storage_account_key",
            "client_secret",
            "google_service_account_key",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "region",
            "endpoint",
            "allow_http",
            "sse_bucket_key_enabled",
            "access_key_id",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
    }
}
