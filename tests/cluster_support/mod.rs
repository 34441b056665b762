//! A real seglake cluster for tests: `seglake cluster scheduler` and executors as processes
//! on 127.0.0.1, stopped when dropped; and comparisons of result rows with a tolerance.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use seglake::SeglakeBuilder;
use seglake::distributed::ClusterUrl;

use crate::servers::free_ports;

pub use crate::common::seglake_env as seglake;

/// A generated lake of `customers` customers in `dir/lake`.
pub fn generated_lake(dir: &Path, customers: u64) -> PathBuf {
    let lake = dir.join("lake");
    let run = seglake(
        dir,
        &[
            "gen",
            "--customers",
            &customers.to_string(),
            "--out",
            lake.to_str().unwrap(),
            "-q",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    lake
}

/// One cluster at a time: the machine has two cores, and executors starved of CPU by
/// other tests' clusters would miss their heartbeats.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A scheduler and its executors, each its own process.
pub struct Cluster {
    _turn: tokio::sync::MutexGuard<'static, ()>,
    port: u16,
    scheduler: Option<Child>,
    executors: Vec<Option<Child>>,
    stock: Vec<tokio::task::JoinHandle<()>>,
    logs: tempfile::TempDir,
}

impl Cluster {
    /// A scheduler and two executors of one task slot each, with `env` (object-store
    /// settings), ready to run queries.
    pub async fn start(env: &[(&str, String)]) -> Self {
        let mut cluster = Self::scheduler_only(env).await;
        let ports = free_ports(4);
        for (i, pair) in ports.chunks(2).enumerate() {
            let child = cluster.spawn(
                &format!("executor{i}"),
                &[
                    "cluster",
                    "executor",
                    "--scheduler",
                    &format!("127.0.0.1:{}", cluster.port),
                    "--bind",
                    &format!("127.0.0.1:{}", pair[0]),
                    "--grpc-port",
                    &pair[1].to_string(),
                    "--concurrent-tasks",
                    "1",
                ],
                env,
            );
            cluster.executors.push(Some(child));
        }
        for pair in ports.chunks(2) {
            wait_for_port(pair[1], Duration::from_secs(60));
        }
        cluster.wait_until_ready().await;
        cluster
    }

    /// A scheduler with no executor yet.
    pub async fn start_without_executors() -> Self {
        Self::scheduler_only(&[]).await
    }

    async fn scheduler_only(env: &[(&str, String)]) -> Self {
        let turn = ONE_AT_A_TIME.lock().await;
        let port = free_ports(1)[0];
        let mut cluster = Self {
            _turn: turn,
            port,
            scheduler: None,
            executors: Vec::new(),
            stock: Vec::new(),
            logs: tempfile::tempdir().unwrap(),
        };
        let child = cluster.spawn(
            "scheduler",
            &[
                "cluster",
                "scheduler",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--executor-timeout",
                "15s",
            ],
            env,
        );
        cluster.scheduler = Some(child);
        wait_for_port(port, Duration::from_secs(60));
        cluster
    }

    fn spawn(&self, name: &str, args: &[&str], env: &[(&str, String)]) -> Child {
        let log = std::fs::File::create(self.logs.path().join(format!("{name}.log"))).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_seglake"));
        command
            .args(args)
            .current_dir(self.logs.path())
            .env_remove("SEGLAKE_CONFIG")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        for (key, value) in env {
            command.env(key, value);
        }
        command.spawn().expect("seglake cluster starts")
    }

    /// A stock Ballista executor, without seglake's functions, in this process.
    pub fn start_stock_executor(&mut self) -> &mut Self {
        let ports = free_ports(2);
        let config = ballista_executor::executor_process::ExecutorProcessConfig {
            scheduler_host: "127.0.0.1".into(),
            scheduler_port: self.port,
            port: ports[0],
            grpc_port: ports[1],
            vcores: 1,
            ..Default::default()
        };
        self.stock.push(tokio::spawn(async move {
            let _ =
                ballista_executor::executor_process::start_executor_process(Arc::new(config)).await;
        }));
        wait_for_port(ports[1], Duration::from_secs(60));
        self
    }

    pub fn url(&self) -> ClusterUrl {
        ClusterUrl::new("127.0.0.1", self.port)
    }

    /// Runs a small query until the cluster answers it.
    async fn wait_until_ready(&self) {
        let started = Instant::now();
        let ctx = SeglakeBuilder::new()
            .cluster(self.url())
            .build()
            .await
            .unwrap();
        loop {
            let probe = async {
                ctx.sql("SELECT count(*) FROM (VALUES (1), (2), (3)) AS t(x) WHERE x > 1")
                    .await?
                    .collect()
                    .await
            };
            match tokio::time::timeout(Duration::from_secs(10), probe).await {
                Ok(Ok(_)) => return,
                outcome if started.elapsed() > Duration::from_secs(90) => {
                    panic!(
                        "the cluster did not answer: {outcome:?}\n{}",
                        self.logs_text()
                    )
                }
                _ => tokio::time::sleep(Duration::from_millis(300)).await,
            }
        }
    }

    pub fn logs_text(&self) -> String {
        let mut text = String::new();
        for entry in std::fs::read_dir(self.logs.path()).unwrap().flatten() {
            let content = std::fs::read_to_string(entry.path()).unwrap_or_default();
            text.push_str(&format!("== {}\n{content}\n", entry.path().display()));
        }
        text
    }

    /// SIGKILL, as a crash would.
    pub fn kill_executor(&mut self, index: usize) {
        if let Some(mut child) = self.executors[index].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn kill_scheduler(&mut self) {
        if let Some(mut child) = self.scheduler.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for task in &self.stock {
            task.abort();
        }
        for index in 0..self.executors.len() {
            self.kill_executor(index);
        }
        self.kill_scheduler();
    }
}

fn wait_for_port(port: u16, wait: Duration) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < wait, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Each row's cells as text.
pub fn rows(batches: &[datafusion::arrow::array::RecordBatch]) -> Vec<Vec<String>> {
    crate::common::batch_rows(batches, "NULL")
}

fn tokens(cell: &str) -> Vec<&str> {
    cell.split([',', '{', '}', '[', ']', ' ', ':'])
        .filter(|t| !t.is_empty())
        .collect()
}

/// Equal, or both numbers within `tolerance` relative (1e-12 absolute near zero).
fn close(a: &str, b: &str, tolerance: f64) -> bool {
    if a == b {
        return true;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => {
            (x - y).abs() <= tolerance * x.abs().max(y.abs()) || (x - y).abs() < 1e-12
        }
        _ => false,
    }
}

/// A sort key that ignores the last digits of numbers.
fn key(row: &[String]) -> String {
    row.iter()
        .map(|cell| {
            tokens(cell)
                .iter()
                .map(|t| match t.parse::<f64>() {
                    Ok(x) => format!("{x:.6e}"),
                    Err(_) => t.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// The same rows in any order, numbers within 1e-9 relative.
pub fn assert_same_rows(what: &str, expected: &[Vec<String>], got: &[Vec<String>]) {
    assert_same_rows_within(what, expected, got, 1e-9);
}

/// The same rows in any order, numbers within `tolerance` relative.
pub fn assert_same_rows_within(
    what: &str,
    expected: &[Vec<String>],
    got: &[Vec<String>],
    tolerance: f64,
) {
    assert_eq!(expected.len(), got.len(), "{what}: row counts differ");
    let mut expected = expected.to_vec();
    let mut got = got.to_vec();
    expected.sort_by_key(|r| key(r));
    got.sort_by_key(|r| key(r));
    for (e, g) in expected.iter().zip(&got) {
        let same = e.len() == g.len()
            && e.iter().zip(g).all(|(a, b)| {
                let (ta, tb) = (tokens(a), tokens(b));
                ta.len() == tb.len() && ta.iter().zip(&tb).all(|(x, y)| close(x, y, tolerance))
            });
        assert!(same, "{what}: expected {e:?}, got {g:?}");
    }
}

/// Two CSV texts with the same rows (a header first), numbers within 1e-9 relative.
pub fn assert_same_csv(expected: &str, got: &str) {
    let parse = |text: &str| -> Vec<Vec<String>> {
        text.lines()
            .map(|line| line.split(',').map(str::to_string).collect())
            .collect()
    };
    assert_same_rows("csv", &parse(expected), &parse(got));
}
