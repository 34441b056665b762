//! Who may connect: the users and their SCRAM verifiers, the users file, and the startup
//! handler that authenticates a connection (SCRAM-SHA-256, as PostgreSQL does by default).

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion_postgres::pgwire;
use futures::{Sink, SinkExt};
use pgwire::api::auth::{
    DefaultServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use pgwire::api::{
    ClientInfo, ConnectionManager, PgWireConnectionState, PidSecretKeyGenerator,
    RandomPidSecretKeyGenerator,
};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::startup::Authentication;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

use super::scram::{Exchange, Verifier, nonce};

/// The one database seglake serves; clients must name it (or leave it to default to it).
pub const DATABASE: &str = "seglake";

/// The users allowed to connect, by name.
#[derive(Debug, Clone, Default)]
pub struct Users {
    verifiers: BTreeMap<String, Verifier>,
}

impl Users {
    pub fn is_empty(&self) -> bool {
        self.verifiers.is_empty()
    }

    pub fn len(&self) -> usize {
        self.verifiers.len()
    }

    /// Adds or replaces a user.
    pub fn insert(&mut self, name: &str, verifier: Verifier) {
        self.verifiers.insert(name.to_string(), verifier);
    }

    fn get(&self, name: &str) -> Option<&Verifier> {
        self.verifiers.get(name)
    }

    /// Reads a users file: a TOML table `[users]` of `name = "SCRAM-SHA-256$..."`.
    ///
    /// # Errors
    /// When the file cannot be read or an entry is not a verifier; the message names the file
    /// and the user.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read users file '{}': {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("users file '{}': {e}", path.display()))
    }

    fn parse(text: &str) -> Result<Self, String> {
        let table: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let mut users = Self::default();
        for (key, value) in &table {
            if key != "users" {
                return Err(format!("unknown key '{key}' (expected a [users] table)"));
            }
            let entries = value
                .as_table()
                .ok_or("'users' must be a table of name = \"SCRAM-SHA-256$...\"")?;
            for (name, verifier) in entries {
                let text = verifier
                    .as_str()
                    .ok_or_else(|| format!("user {name}: expected a string"))?;
                let verifier = Verifier::parse(text).map_err(|e| format!("user {name}: {e}"))?;
                users.insert(name, verifier);
            }
        }
        Ok(users)
    }

    /// Writes the users file atomically, readable by its owner only.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let mut text = String::from(
            "# seglake serve users: SCRAM-SHA-256 verifiers (not passwords), written by\n\
             # `seglake serve add-user NAME --users FILE`.\n[users]\n",
        );
        for (name, verifier) in &self.verifiers {
            let bare = name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            let key = if bare {
                name.clone()
            } else {
                toml::Value::String(name.clone()).to_string()
            };
            text.push_str(&format!("{key} = \"{verifier}\"\n"));
        }
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let fail = |e: std::io::Error| format!("cannot write users file '{}': {e}", path.display());
        let mut file = tempfile::NamedTempFile::new_in(folder).map_err(fail)?;
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(fail)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o600))
                .map_err(fail)?;
        }
        file.persist(path).map_err(|e| fail(e.error))?;
        Ok(())
    }
}

/// How connections are let in.
#[derive(Debug, Clone)]
pub struct Access {
    /// Empty: anyone may connect (only allowed on a loopback address).
    pub users: Users,
    /// Refuse connections that did not negotiate TLS.
    pub require_tls: bool,
    /// Over the connection limit: refuse every connection with 53300.
    pub refuse_as_full: bool,
}

/// The startup handler of one connection.
pub struct Startup {
    access: Arc<Access>,
    connections: Arc<ConnectionManager>,
    pids: Arc<RandomPidSecretKeyGenerator>,
    parameters: DefaultServerParameterProvider,
    exchange: Mutex<Option<Exchange>>,
}

impl Startup {
    pub fn new(
        access: Arc<Access>,
        connections: Arc<ConnectionManager>,
        pids: Arc<RandomPidSecretKeyGenerator>,
    ) -> Self {
        let mut parameters = DefaultServerParameterProvider::default();
        parameters.server_version = format!("16.6 (seglake {})", env!("CARGO_PKG_VERSION"));
        parameters.is_superuser = false;
        Self {
            access,
            connections,
            pids,
            parameters,
            exchange: Mutex::new(None),
        }
    }

    async fn accept<C>(&self, client: &mut C) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (pid, secret) = self.pids.generate(client);
        client.set_pid_and_secret_key(pid, secret.clone());
        let (handle, guard) = self.connections.register(pid, secret);
        client.session_extensions().insert(handle);
        client.session_extensions().insert(guard);
        finish_authentication(client, &self.parameters).await
    }
}

fn fatal(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".into(),
        code.into(),
        message,
    )))
}

fn user_of<C: ClientInfo>(client: &C) -> String {
    client.metadata().get("user").cloned().unwrap_or_default()
}

fn auth_failed(user: &str) -> PgWireError {
    fatal(
        "28P01",
        format!("password authentication failed for user \"{user}\""),
    )
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                if self.access.refuse_as_full {
                    return Err(fatal("53300", "sorry, too many clients already".into()));
                }
                if self.access.require_tls && !client.is_secure() {
                    return Err(fatal(
                        "28000",
                        "this seglake server requires TLS: connect with sslmode=require".into(),
                    ));
                }
                let user = user_of(client);
                if user.is_empty() {
                    return Err(fatal("28000", "no user name given".into()));
                }
                // As PostgreSQL, a client that names no database gets the user's name.
                let database = client
                    .metadata()
                    .get("database")
                    .cloned()
                    .unwrap_or_else(|| user.clone());
                if database != DATABASE {
                    return Err(fatal(
                        "3D000",
                        format!(
                            "database \"{database}\" does not exist (seglake serves one \
                             database, named {DATABASE})"
                        ),
                    ));
                }
                if self.access.users.is_empty() {
                    return self.accept(client).await;
                }
                client.set_state(PgWireConnectionState::AuthenticationInProgress);
                client
                    .send(PgWireBackendMessage::Authentication(Authentication::SASL(
                        vec!["SCRAM-SHA-256".to_string()],
                    )))
                    .await?;
            }
            PgWireFrontendMessage::PasswordMessageFamily(message) => {
                let user = user_of(client);
                let pending = self.exchange.lock().ok().and_then(|mut e| e.take());
                match pending {
                    None => {
                        let initial = message.into_sasl_initial_response()?;
                        if initial.auth_method != "SCRAM-SHA-256" {
                            return Err(fatal(
                                "28000",
                                format!(
                                    "authentication method {} is not offered (SCRAM-SHA-256 is)",
                                    initial.auth_method
                                ),
                            ));
                        }
                        let data = initial.data.unwrap_or_default();
                        let first = std::str::from_utf8(&data).map_err(|_| auth_failed(&user))?;
                        let verifier = self
                            .access
                            .users
                            .get(&user)
                            .cloned()
                            .unwrap_or_else(|| Verifier::impossible(&user));
                        let (exchange, server_first) = Exchange::start(first, verifier, &nonce())
                            .map_err(|e| fatal("08P01", e))?;
                        if let Ok(mut slot) = self.exchange.lock() {
                            *slot = Some(exchange);
                        }
                        client
                            .send(PgWireBackendMessage::Authentication(
                                Authentication::SASLContinue(server_first.into_bytes().into()),
                            ))
                            .await?;
                    }
                    Some(exchange) => {
                        let response = message.into_sasl_response()?;
                        let last =
                            std::str::from_utf8(&response.data).map_err(|_| auth_failed(&user))?;
                        let server_final = exchange.finish(last).map_err(|_| auth_failed(&user))?;
                        client
                            .send(PgWireBackendMessage::Authentication(
                                Authentication::SASLFinal(server_final.into_bytes().into()),
                            ))
                            .await?;
                        self.accept(client).await?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_file_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.toml");
        let mut users = Users::default();
        users.insert("analyst", Verifier::new("s3cret").unwrap());
        users.insert("bi tool", Verifier::new("other").unwrap());
        users.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("s3cret"), "{text}");
        let loaded = Users::load(&path).unwrap();
        assert_eq!(loaded.len(), 2);
        assert_eq!(loaded.get("analyst"), users.get("analyst"));
        let err = Users::parse("[users]\nanalyst = \"plain\"").unwrap_err();
        assert!(
            err.contains("user analyst: expected a SCRAM-SHA-256 verifier"),
            "{err}"
        );
    }
}
