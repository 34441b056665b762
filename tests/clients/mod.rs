//! The `seglake serve` tests' helpers: the generated lake, the client tools, a running server
//! and the same lake in-process for the expected values. The client programs beside this
//! file (`python_clients.py`, `JdbcClient.java`) are run by the tests.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use datafusion::prelude::SessionContext;
use seglake::SeglakeBuilder;
use seglake::generate::{GenOptions, generate};
use tempfile::TempDir;

use super::servers;

/// A generated lake of 1,000 customers (every saved query has its tables and enough data).
pub fn lake() -> &'static str {
    static LAKE: OnceLock<(TempDir, String)> = OnceLock::new();
    &LAKE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("a temporary folder");
            let mut options = GenOptions::new(1000, dir.path());
            options.seed = 42;
            options.quiet = true;
            generate(&options).expect("the lake generates");
            let path = dir.path().display().to_string();
            (dir, path)
        })
        .1
}

/// The client tools, or None (with the reason printed) where they cannot be installed.
pub fn tools() -> Option<PathBuf> {
    let tools = servers::tools()?;
    let missing = ["psql", "java"]
        .into_iter()
        .find(|tool| Command::new(tool).arg("--version").output().is_err());
    match missing {
        Some(tool) if std::env::var_os("CI").is_some() => panic!("{tool} is missing in CI"),
        Some(tool) => {
            eprintln!("skipping: {tool} is not installed");
            None
        }
        None => Some(tools),
    }
}

/// A running `seglake serve`, killed on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `seglake --lake LAKE [GLOBAL] serve --bind 127.0.0.1:0 ARGS` and waits for it
    /// to listen.
    pub fn start(global: &[&str], args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_seglake"));
        command
            .args(["--lake", lake()])
            .args(global)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(args)
            .env_remove("SEGLAKE_PASSWORD")
            .env_remove("SEGLAKE_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("seglake serve starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (sender, receiver) = std::sync::mpsc::channel();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on 127.0.0.1:").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = sender.send(port.parse::<u16>().ok());
                }
                lines.lock().unwrap().push(line);
            }
            let _ = sender.send(None);
        });
        let port = receiver
            .recv_timeout(Duration::from_secs(60))
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("seglake serve did not start: {:?}", log.lock().unwrap()));
        Self { child, port, log }
    }

    /// psql with `args`, as `user` (and PGPASSWORD when given), never prompting.
    pub fn psql(&self, user: &str, password: Option<&str>, args: &[&str]) -> Output {
        let mut command = Command::new("psql");
        command
            .args(["-X", "-w", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1"])
            .args(["-p", &self.port.to_string(), "-U", user, "-d", "seglake"])
            .args(args)
            .env("PGCONNECT_TIMEOUT", "10")
            .env_remove("PGPASSWORD");
        if let Some(password) = password {
            command.env("PGPASSWORD", password);
        }
        command.output().expect("psql runs")
    }

    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The same lake in-process, and the row count of a statement there.
pub async fn local() -> SessionContext {
    SeglakeBuilder::new().lake(lake()).build().await.unwrap()
}

pub async fn local_rows(ctx: &SessionContext, sql: &str) -> Vec<Vec<String>> {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    crate::common::batch_rows(&batches, "")
}
