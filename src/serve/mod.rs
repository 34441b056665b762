//! `seglake serve`: the lake over the PostgreSQL wire protocol, for BI tools (Metabase,
//! Superset, Grafana, DBeaver, Tableau, Power BI), psql, psycopg and JDBC.
//!
//! Built on datafusion-postgres (pg_catalog, Arrow to Postgres encoding, SET/SHOW and
//! transaction statements) over pgwire; seglake adds one session per connection, SCRAM
//! authentication with stored verifiers, TLS that fails loudly, a read-only policy, a
//! connection limit answered with PostgreSQL's own error, a statement timeout that bounds
//! execution, JSON text for nested columns, and a log line per statement.

mod auth;
mod catalog;
mod handler;
mod json;
mod policy;
mod scram;
mod session;
mod stream;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use datafusion::prelude::SessionContext;
use datafusion_postgres::pgwire::api::cancel::DefaultCancelHandler;
use datafusion_postgres::pgwire::api::{ConnectionManager, RandomPidSecretKeyGenerator};
use datafusion_postgres::pgwire::tokio::process_socket;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use auth::{DATABASE, Users};
pub use scram::Verifier;

use crate::error::{Result, SeglakeError};
use crate::library::Library;
use auth::{Access, Startup};
use handler::{Connection, Queries};
use policy::Policy;
use stream::Limits;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub bind: SocketAddr,
    /// Empty: no authentication, which is only allowed on a loopback address.
    pub users: Users,
    /// A certificate chain and key (PEM) for TLS.
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
    pub require_tls: bool,
    pub allow_writes: bool,
    pub max_connections: usize,
    pub statement_timeout: Option<Duration>,
    pub log_json: bool,
}

/// Serves `ctx`'s lake until interrupted (Ctrl-C or SIGTERM).
///
/// # Errors
/// A usage error for an unsafe or impossible setup (another address without authentication,
/// TLS required without a certificate, a TLS setup that fails); a failure when the address
/// cannot be bound.
pub async fn serve(ctx: SessionContext, library: Library, options: ServeOptions) -> Result<()> {
    if !options.bind.ip().is_loopback() && options.users.is_empty() {
        return Err(SeglakeError::usage(format!(
            "serving on {} needs authentication: --user NAME (password in $SEGLAKE_PASSWORD) or \
             --users FILE",
            options.bind
        )));
    }
    if options.require_tls && options.tls.is_none() {
        return Err(SeglakeError::usage(
            "--require-tls needs --tls-cert FILE and --tls-key FILE",
        ));
    }
    let tls = match &options.tls {
        Some((cert, key)) => Some(tls::acceptor(cert, key).map_err(SeglakeError::usage)?),
        None => None,
    };
    let listener = TcpListener::bind(options.bind)
        .await
        .map_err(|e| SeglakeError::failed(format!("cannot listen on {}: {e}", options.bind)))?;
    let address = listener
        .local_addr()
        .map_err(|e| SeglakeError::failed(format!("cannot listen on {}: {e}", options.bind)))?;
    eprintln!("{}", banner(address, &options));

    let base = Arc::new(ctx);
    let library = Arc::new(library);
    let access = Arc::new(Access {
        users: options.users.clone(),
        require_tls: options.require_tls,
        refuse_as_full: false,
    });
    let full = Arc::new(Access {
        refuse_as_full: true,
        ..(*access).clone()
    });
    let limits = Arc::new(Limits {
        statement_timeout: options.statement_timeout,
        log_json: options.log_json,
    });
    let policy = Arc::new(Policy {
        allow_writes: options.allow_writes,
    });
    let slots = Arc::new(Semaphore::new(options.max_connections));
    let connections = Arc::new(ConnectionManager::new());
    let pids = Arc::new(RandomPidSecretKeyGenerator::default());

    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let (socket, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    eprintln!("seglake serve: cannot accept a connection: {e}");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = socket.set_nodelay(true);
        let slot = slots.clone().try_acquire_owned().ok();
        let startup_access = if slot.is_some() {
            access.clone()
        } else {
            full.clone()
        };
        let (base, library, limits, tls) =
            (base.clone(), library.clone(), limits.clone(), tls.clone());
        let policy = policy.clone();
        let (connections, pids) = (connections.clone(), pids.clone());
        tokio::spawn(async move {
            let _slot = slot;
            // A refused connection needs no session of its own.
            let session = if startup_access.refuse_as_full {
                Ok(base.clone())
            } else {
                session::connection_session(&base, &library)
                    .await
                    .map(Arc::new)
            };
            let session = match session {
                Ok(session) => session,
                Err(e) => {
                    eprintln!("seglake serve: cannot make a session for {peer}: {e}");
                    return;
                }
            };
            let handlers = Connection {
                queries: Arc::new(Queries::new(session, policy, limits)),
                startup: Arc::new(Startup::new(startup_access, connections.clone(), pids)),
                cancel: Arc::new(DefaultCancelHandler::new(connections)),
            };
            if let Err(e) = process_socket(socket, tls, handlers).await {
                eprintln!("seglake serve: connection from {peer} ended: {e}");
            }
        });
    }
    eprintln!("seglake serve: stopped");
    Ok(())
}

fn banner(address: SocketAddr, options: &ServeOptions) -> String {
    let auth = match options.users.len() {
        0 => "no authentication (loopback only)".to_string(),
        1 => "SCRAM-SHA-256, 1 user".to_string(),
        n => format!("SCRAM-SHA-256, {n} users"),
    };
    let tls = match (&options.tls, options.require_tls) {
        (None, _) => "TLS off",
        (Some(_), false) => "TLS on",
        (Some(_), true) => "TLS required",
    };
    let mode = if options.allow_writes {
        "writes allowed"
    } else {
        "read-only"
    };
    let timeout = options
        .statement_timeout
        .map_or("no statement timeout".to_string(), |t| {
            format!("statement timeout {}", humantime::format_duration(t))
        });
    format!(
        "seglake serve: listening on {address}, database {DATABASE} ({mode}; {auth}; {tls}; \
         at most {} connections; {timeout})",
        options.max_connections
    )
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term.recv() => {},
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
