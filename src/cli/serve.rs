//! `seglake serve`'s command line: options and passwords into [`ServeOptions`], and
//! `seglake serve add-user`.

use std::io::IsTerminal;
use std::path::Path;

use super::args::{GlobalArgs, ServeArgs};
use crate::error::{Result, SeglakeError};
use crate::serve::{ServeOptions, Users, Verifier};

/// The variable a password is read from; never a command-line argument.
const PASSWORD_VAR: &str = "SEGLAKE_PASSWORD";

/// The server's options from its flags.
///
/// # Errors
/// A usage error when --user has no password, or the users file cannot be read.
pub fn options(args: &ServeArgs, global: &GlobalArgs) -> Result<ServeOptions> {
    let mut users = Users::default();
    if let Some(name) = &args.user {
        let password = std::env::var(PASSWORD_VAR).map_err(|_| {
            SeglakeError::usage(format!(
                "--user {name} needs the password in ${PASSWORD_VAR} (never on the command line)"
            ))
        })?;
        users.insert(name, Verifier::new(&password).map_err(SeglakeError::usage)?);
    }
    if let Some(file) = &args.users {
        users = Users::load(file).map_err(SeglakeError::usage)?;
        if users.is_empty() {
            return Err(SeglakeError::usage(format!(
                "users file '{}' has no users: add one with `seglake serve add-user NAME --users {}`",
                file.display(),
                file.display()
            )));
        }
    }
    Ok(ServeOptions {
        bind: args.bind,
        users,
        tls: args.tls_cert.clone().zip(args.tls_key.clone()),
        require_tls: args.require_tls,
        allow_writes: args.allow_writes,
        max_connections: args.max_connections as usize,
        statement_timeout: args.statement_timeout.0,
        log_json: global.log_json,
    })
}

/// Adds `name` to the users file (or changes their password).
///
/// # Errors
/// A usage error when no password is given or it is empty; a failure when the file cannot be
/// read or written.
pub fn add_user(name: &str, file: &Path) -> Result<()> {
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(SeglakeError::usage(format!("'{name}' is not a user name")));
    }
    let mut users = if file.exists() {
        Users::load(file).map_err(SeglakeError::usage)?
    } else {
        Users::default()
    };
    let password = read_password(name)?;
    users.insert(name, Verifier::new(&password).map_err(SeglakeError::usage)?);
    users.save(file).map_err(SeglakeError::failed)?;
    eprintln!("user {name} saved in {}", file.display());
    Ok(())
}

/// $SEGLAKE_PASSWORD, else asked twice on a terminal, else one line of standard input.
fn read_password(name: &str) -> Result<String> {
    if let Ok(password) = std::env::var(PASSWORD_VAR) {
        return Ok(password);
    }
    let failed = |e: std::io::Error| SeglakeError::failed(format!("cannot read the password: {e}"));
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("password for {name}: ")).map_err(failed)?;
        let again = rpassword::prompt_password("again: ").map_err(failed)?;
        if first != again {
            return Err(SeglakeError::usage("the passwords differ"));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(failed)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
