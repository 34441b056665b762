//! Object storage under faults, against a real SeaweedFS server started here: runs killed
//! with SIGKILL while they write to S3, and reads through a proxy that resets, stalls,
//! trickles or answers 503. Every run ends with the right answer or one clear error line,
//! within the time the README promises (`timeout` x (1 + `max_retries`) and the backoff).

mod common;
mod servers;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use servers::S3Server;
use servers::fault_proxy::{Fault, FaultProxy};

/// Kills per output kind.
const KILLS: usize = 8;

fn run(dir: &Path, args: &[&str], env: &[(&str, String)]) -> (Output, Duration) {
    let started = Instant::now();
    let output = servers::seglake_command(dir, args, env)
        .output()
        .expect("seglake runs");
    (output, started.elapsed())
}

fn complete(dir: &Path, args: &[&str], env: &[(&str, String)]) -> (String, Duration) {
    let (output, took) = run(dir, args, env);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?}: {stderr}");
    (String::from_utf8_lossy(&output.stdout).into_owned(), took)
}

/// The object `prefix` or every object under it, with its bytes, by key relative to `prefix`
/// (the object itself as "").
async fn objects(store: &Arc<dyn ObjectStore>, prefix: &str) -> BTreeMap<String, Vec<u8>> {
    let keys: Vec<StorePath> = store
        .list(None)
        .map_ok(|meta| meta.location)
        .try_collect()
        .await
        .expect("the bucket lists");
    let mut objects = BTreeMap::new();
    for key in keys {
        let relative = match key.as_ref().strip_prefix(prefix) {
            Some("") => "",
            Some(rest) if rest.starts_with('/') || prefix.is_empty() => {
                rest.trim_start_matches('/')
            }
            _ => continue,
        };
        let bytes = store
            .get(&key)
            .await
            .expect("get")
            .bytes()
            .await
            .expect("body");
        objects.insert(relative.to_string(), bytes.to_vec());
    }
    objects
}

/// A result as readers see it: visible objects by folder, their bytes sorted (DataFusion
/// names a partitioned write's files at random), and whether `_SUCCESS` is there.
fn result_view(objects: &BTreeMap<String, Vec<u8>>) -> (BTreeMap<String, Vec<Vec<u8>>>, bool) {
    let mut folders: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    let mut success = false;
    for (key, bytes) in objects {
        if key.split('/').any(|part| part.starts_with('.')) {
            continue;
        }
        if key == "_SUCCESS" {
            success = true;
            continue;
        }
        let folder = key.rsplit_once('/').map_or("", |(f, _)| f).to_string();
        folders.entry(folder).or_default().push(bytes.clone());
    }
    for files in folders.values_mut() {
        files.sort();
    }
    (folders, success)
}

fn hidden(objects: &BTreeMap<String, Vec<u8>>) -> Vec<&String> {
    objects
        .keys()
        .filter(|k| k.split('/').any(|p| p.starts_with('.')))
        .collect()
}

async fn s3() -> Option<(S3Server, tempfile::TempDir)> {
    let tools = servers::tools()?;
    let server = S3Server::start(&tools, "lake").await;
    let dir = tempfile::tempdir().expect("a folder");
    let generate = ["gen", "--customers", "1500", "--seed", "7", "--out", "lake"];
    complete(dir.path(), &generate, &[]);
    Some((server, dir))
}

const ORDERS: &str = "SELECT customer_id, count(*) AS orders, sum(amount) AS revenue \
                      FROM transactions GROUP BY customer_id ORDER BY customer_id";

/// Kills `new` runs at seeded moments while `prefix` holds `old`'s result; after each kill the
/// result must be one of the two (partitioned outputs: whenever `_SUCCESS` is there).
/// Returns (kept old, left new, left without `_SUCCESS`).
async fn kill_while_writing(
    dir: &Path,
    server: &S3Server,
    prefix: &str,
    old: &[&str],
    new: &[&str],
    seed: u64,
) -> (usize, usize, usize) {
    let env = server.env();
    let store = server.store();
    let (_, duration) = complete(dir, new, &env);
    let new_view = result_view(&objects(&store, prefix).await);
    complete(dir, old, &env);
    let old_view = result_view(&objects(&store, prefix).await);
    assert!(!new_view.0.is_empty() && new_view != old_view);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut kept, mut replaced, mut unmarked) = (0, 0, 0);
    for kill in 0..KILLS {
        let mut child = servers::seglake_command(dir, new, &env)
            .spawn()
            .expect("seglake starts");
        let share = if kill % 2 == 0 {
            rng.random_range(0.05..1.0)
        } else {
            rng.random_range(0.8..1.05)
        };
        let at = duration.mul_f64(share);
        tokio::time::sleep(at).await;
        let _ = child.kill();
        let _ = child.wait();
        let view = result_view(&objects(&store, prefix).await);
        if view == old_view {
            kept += 1;
        } else if view == new_view {
            replaced += 1;
            complete(dir, old, &env);
        } else {
            assert!(
                old_view.1 && !view.1,
                "kill {kill} at {at:?} left {prefix} neither old nor new, with _SUCCESS: {:?}",
                view.0.keys().collect::<Vec<_>>()
            );
            unmarked += 1;
            complete(dir, old, &env);
        }
    }
    // The next complete run leaves the new result and nothing hidden.
    complete(dir, new, &env);
    let after = objects(&store, prefix).await;
    assert_eq!(result_view(&after), new_view);
    let parent = prefix.rsplit_once('/').map_or("", |(p, _)| p);
    let left = objects(&store, parent).await;
    assert_eq!(hidden(&left), Vec::<&String>::new(), "left by killed runs");
    (kept, replaced, unmarked)
}

#[tokio::test]
async fn killed_outputs_to_s3_are_old_or_new() {
    let Some((server, dir)) = s3().await else {
        return;
    };
    let dir = dir.path();
    let old_sql = ORDERS.replace("GROUP BY", "WHERE customer_id % 2 = 0 GROUP BY");
    let file = "s3://lake/results/orders.parquet";
    let old = ["--lake", "lake", "-c", &old_sql, "--output", file];
    let new = ["--lake", "lake", "-c", ORDERS, "--output", file];
    let (kept, replaced, unmarked) =
        kill_while_writing(dir, &server, "results/orders.parquet", &old, &new, 11).await;
    // A single object is one upload, visible only once complete.
    assert_eq!(unmarked, 0);
    println!("--output s3 file: {kept} kills kept the old object, {replaced} left the new one");

    let folder = "s3://lake/results/segments";
    let args = |as_of: &'static str| {
        [
            "--lake",
            "lake",
            "--format",
            "parquet",
            "run",
            "rfm_segments",
            "--param",
            as_of,
            "--output",
            folder,
            "--partition-by",
            "segment",
        ]
    };
    let (kept, replaced, unmarked) = kill_while_writing(
        dir,
        &server,
        "results/segments",
        &args("as_of=2023-06-30"),
        &args("as_of=2024-06-30"),
        12,
    )
    .await;
    println!(
        "--partition-by s3: {kept} kills kept the old result, {replaced} left the new one, \
         {unmarked} left it without _SUCCESS"
    );
}

/// The store settings of the fault runs, and the time a failing run may take by the README:
/// `timeout` x (1 + `max_retries`), plus backoff, process start and the rest of the query.
const TIMEOUTS: &str = "[storage]\ntimeout = \"2s\"\nconnect_timeout = \"1s\"\nmax_retries = 3\nretry_timeout = \"10s\"\n";
const PROMISED: Duration = Duration::from_secs(2 * (1 + 3));
const SLACK: Duration = Duration::from_secs(5);

const TOTALS: &str = "SELECT count(*) AS rows, sum(amount) AS revenue, count(DISTINCT customer_id) \
                      AS customers FROM transactions";

#[tokio::test]
async fn store_faults_end_in_the_answer_or_one_clear_error_in_bounded_time() {
    let Some((server, dir)) = s3().await else {
        return;
    };
    let dir = dir.path();
    servers::upload_folder(&server.store(), &dir.join("lake"), "shop").await;
    std::fs::write(dir.join("timeouts.toml"), TIMEOUTS).expect("config");
    let args = [
        "--config",
        "timeouts.toml",
        "--lake",
        "s3://lake/shop",
        "-c",
        TOTALS,
    ];
    let (expected, _) = complete(dir, &args, &server.env());
    let through = |proxy: &FaultProxy| {
        let mut env = server.env();
        env.retain(|(k, _)| *k != "AWS_ENDPOINT");
        env.push(("AWS_ENDPOINT", proxy.endpoint.clone()));
        env
    };
    // (case, fault, connections disturbed, what a failure says; None: the run succeeds)
    let cases = [
        ("reset twice", Fault::ResetAfter(4096), 2, None),
        (
            "reset always",
            Fault::ResetAfter(4096),
            usize::MAX,
            Some("the server dropped the connection"),
        ),
        ("stall once", Fault::StallAfter(4096), 1, None),
        (
            "stall always",
            Fault::StallAfter(4096),
            usize::MAX,
            Some("the server did not answer in time"),
        ),
        (
            "trickle at 1 MB/s",
            Fault::Trickle(1_000_000),
            usize::MAX,
            None,
        ),
        (
            "trickle at 2 KB/s",
            Fault::Trickle(2_000),
            usize::MAX,
            Some("operation timed out"),
        ),
        ("503 three times", Fault::Unavailable, 3, None),
        (
            "503 always",
            Fault::Unavailable,
            usize::MAX,
            Some("503 Service Unavailable"),
        ),
    ];
    for (name, fault, connections, failure) in cases {
        let proxy = FaultProxy::start(&server.endpoint, fault, connections);
        let (output, took) = run(dir, &args, &through(&proxy));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        println!(
            "{name}: {} connections disturbed, exit {:?} after {took:.1?}: {}",
            proxy.disturbed(),
            output.status.code(),
            stderr.trim()
        );
        assert!(proxy.disturbed() > 0, "{name}: the fault never happened");
        if let Some(says) = failure {
            assert!(stderr.contains(says), "{name}: {stderr}");
            assert_eq!(output.status.code(), Some(1), "{name}: {stdout} {stderr}");
            assert!(stderr.starts_with("error: "), "{name}: {stderr}");
            assert_eq!(stderr.trim_end().lines().count(), 1, "{name}: {stderr}");
            assert!(stdout.is_empty(), "{name}: printed {stdout}");
            assert!(took < PROMISED + SLACK, "{name}: took {took:?}");
        } else {
            assert!(output.status.success(), "{name}: {stderr}");
            assert_eq!(stdout, expected, "{name}: a different answer");
        }
    }
}
