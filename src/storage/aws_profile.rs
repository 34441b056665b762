//! AWS named profiles (`~/.aws/credentials` and `~/.aws/config`), which object_store does not
//! read by itself.
//!
//! Only static settings are read: keys, session token, region and endpoint. Profiles that get
//! their credentials from SSO, `credential_process` or role assumption need those resolved
//! into environment variables first (`aws configure export-credentials --format env`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The settings of one profile, under object_store's option names.
pub type Profile = BTreeMap<&'static str, String>;

/// The profile named by `AWS_PROFILE` (or `default`), from the files the AWS CLI uses.
/// Empty when there are no such files or no such profile.
pub fn from_environment() -> Profile {
    let name = std::env::var("AWS_PROFILE")
        .or_else(|_| std::env::var("AWS_DEFAULT_PROFILE"))
        .unwrap_or_else(|_| "default".to_string());
    let home = dirs::home_dir().unwrap_or_default();
    let credentials = file_from_env("AWS_SHARED_CREDENTIALS_FILE")
        .unwrap_or_else(|| home.join(".aws").join("credentials"));
    let config =
        file_from_env("AWS_CONFIG_FILE").unwrap_or_else(|| home.join(".aws").join("config"));
    load(&name, &credentials, &config)
}

fn file_from_env(variable: &str) -> Option<PathBuf> {
    std::env::var_os(variable).map(PathBuf::from)
}

/// Profile `name` from a credentials file (sections `[name]`) and a config file (sections
/// `[profile name]`, or `[default]`); the credentials file wins where both set a key.
pub fn load(name: &str, credentials: &Path, config: &Path) -> Profile {
    let mut profile = Profile::new();
    if let Ok(text) = std::fs::read_to_string(config) {
        let section = if name == "default" {
            "default".to_string()
        } else {
            format!("profile {name}")
        };
        profile.extend(settings(&text, &section));
    }
    if let Ok(text) = std::fs::read_to_string(credentials) {
        profile.extend(settings(&text, name));
    }
    profile
}

/// The settings seglake uses from one INI section, renamed to object_store's option names.
fn settings(text: &str, wanted: &str) -> Profile {
    let mut out = Profile::new();
    let mut in_section = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_section = section.trim() == wanted;
            continue;
        }
        if !in_section {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let option = match key.trim().to_ascii_lowercase().as_str() {
            "aws_access_key_id" => "access_key_id",
            "aws_secret_access_key" => "secret_access_key",
            "aws_session_token" => "session_token",
            "region" => "region",
            "endpoint_url" => "endpoint",
            _ => continue,
        };
        out.insert(option, value.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn named_profile_from_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let credentials = write(
            dir.path(),
            "credentials",
            "[default]\naws_access_key_id = AKIADEFAULT\n\n[lake]\n\
             aws_access_key_id = AKIALAKE\naws_secret_access_key = s3cr3t/value\n",
        );
        let config = write(
            dir.path(),
            "config",
            "[default]\nregion = us-east-1\n# a comment\n[profile lake]\nregion = eu-west-1\n\
             endpoint_url = http://127.0.0.1:8333\noutput = json\n",
        );
        let profile = load("lake", &credentials, &config);
        assert_eq!(profile["access_key_id"], "AKIALAKE");
        assert_eq!(profile["secret_access_key"], "s3cr3t/value");
        assert_eq!(profile["region"], "eu-west-1");
        assert_eq!(profile["endpoint"], "http://127.0.0.1:8333");
        assert_eq!(profile.len(), 4);

        let default = load("default", &credentials, &config);
        assert_eq!(default["access_key_id"], "AKIADEFAULT");
        assert_eq!(default["region"], "us-east-1");
    }

    #[test]
    fn missing_files_give_an_empty_profile() {
        let profile = load(
            "x",
            Path::new("/no/such/credentials"),
            Path::new("/no/config"),
        );
        assert!(profile.is_empty());
    }
}
