//! Lakes in object storage, against real servers started here on 127.0.0.1: SeaweedFS for S3,
//! Azurite for Azure Blob Storage and WsgiDAV for HTTP. Every result read from a server is compared with the same query over
//! the same files on local disk.
//!
//! The servers are installed by `tests/servers/install.sh` (run by `.ci/run`, and by these
//! tests when missing). Without them a test prints why and passes, except under `CI`.

mod common;
mod servers;

use std::path::Path;
use std::time::{Duration, Instant};

use common::Run;
use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use servers::{AzureServer, HttpServer, S3Server, SECRET_KEY, SilentServer, SlowProxy};

/// Runs `seglake` in `dir` with only the given cloud settings.
fn seglake(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Run {
    let output = servers::seglake_command(dir, args, env)
        .output()
        .expect("the seglake binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn ok(run: Run) -> String {
    assert_eq!(run.code, 0, "seglake failed: {}", run.stderr);
    run.stdout
}

/// `seglake --lake LAKE --log-json --output OUTPUT run churn_rate`, the saved query every
/// store test writes back.
fn churn_rate_to(dir: &Path, lake: &str, output: &str, env: &[(&str, String)]) -> Run {
    seglake(
        dir,
        &[
            "--lake",
            lake,
            "--log-json",
            "--output",
            output,
            "run",
            "churn_rate",
        ],
        env,
    )
}

/// `sql` over the file or folder at `location` registered as table `r`, as CSV.
fn read_as_r(dir: &Path, location: &str, sql: &str, env: &[(&str, String)]) -> String {
    let table = format!("r={location}");
    ok(seglake(
        dir,
        &["--table", &table, "--format", "csv", "-c", sql],
        env,
    ))
}

/// A generated lake (300 customers) whose transactions are Hive-partitioned by year, with
/// customers beside them: `<dir>/lake/{transactions/year=YYYY/..., customers/...}`.
fn hive_lake(dir: &Path) {
    let generated = dir.join("generated");
    let generated_path = generated.to_str().unwrap();
    ok(seglake(
        dir,
        &[
            "gen",
            "--customers",
            "300",
            "--seed",
            "7",
            "--quiet",
            "--out",
            generated_path,
        ],
        &[],
    ));
    let lake = dir.join("lake");
    std::fs::create_dir_all(lake.join("customers")).unwrap();
    std::fs::copy(
        generated.join("customers/part-0.parquet"),
        lake.join("customers/part-0.parquet"),
    )
    .unwrap();
    let copy = format!(
        "COPY (SELECT *, CAST(date_part('year', order_ts) AS INT) AS year FROM transactions) \
         TO '{}/' STORED AS PARQUET PARTITIONED BY (year)",
        lake.join("transactions").display()
    );
    ok(seglake(dir, &["--lake", generated_path, "-c", &copy], &[]));
}

const BY_YEAR: &str = "SELECT year, count(*) AS orders, round(sum(amount), 2) AS revenue, \
                       count(DISTINCT customer_id) AS customers FROM transactions \
                       GROUP BY year ORDER BY year";

#[tokio::test]
async fn s3_lakes_outputs_credentials_and_errors() {
    let Some(tools) = servers::tools() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    hive_lake(dir);
    let maps = dir.join("lake/_segment_maps");
    std::fs::create_dir_all(&maps).unwrap();
    std::fs::write(
        maps.join("vip.toml"),
        "fallback = 'rest'\n[[rule]]\nname = 'best'\nr = [4, 5]\n",
    )
    .unwrap();
    let server = S3Server::start(&tools, "lake").await;
    let store = server.store();
    servers::upload_folder(&store, &dir.join("lake"), "shop").await;
    let env = server.env();
    let local = dir.join("lake");
    let local = local.to_str().unwrap();

    // A Hive-partitioned lake: same answer as on disk, partition columns and pruning included.
    let expected = ok(seglake(
        dir,
        &["--lake", local, "--format", "csv", "-c", BY_YEAR],
        &[],
    ));
    assert!(expected.lines().count() > 2, "{expected}");
    let on_s3 = ok(seglake(
        dir,
        &["--lake", "s3://lake/shop", "--format", "csv", "-c", BY_YEAR],
        &env,
    ));
    assert_eq!(on_s3, expected);
    let pruned = "SELECT count(*) FROM transactions WHERE year = 2023";
    assert_eq!(
        ok(seglake(
            dir,
            &["--lake", "s3://lake/shop", "-c", pruned],
            &env
        )),
        ok(seglake(dir, &["--lake", local, "-c", pruned], &[]))
    );

    // The lake's own segment maps, read from the store like its tables.
    let sql = "SELECT rfm_segment(5, 5, 1, 'vip') AS a, rfm_segment(1, 5, 1, 'vip') AS b";
    assert_eq!(
        ok(seglake(
            dir,
            &["--lake", "s3://lake/shop", "--format", "csv", "-c", sql],
            &env
        )),
        "a,b\nbest,rest\n"
    );
    let listed = ok(seglake(
        dir,
        &["--lake", "s3://lake/shop", "maps", "list"],
        &env,
    ));
    assert!(
        listed.contains(
            "vip  5 bins, 1 rules, fallback 'rest'  (s3://lake/shop/_segment_maps/vip.toml)"
        ),
        "{listed}"
    );

    // A saved query's result written back to S3, then read from there.
    let expected = ok(seglake(
        dir,
        &["--lake", local, "--format", "csv", "run", "churn_rate"],
        &[],
    ));
    let run = churn_rate_to(
        dir,
        "s3://lake/shop",
        "s3://lake/results/churn.parquet",
        &env,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("\"output\":\"s3://lake/results/churn.parquet\""),
        "{}",
        run.stderr
    );
    let back = read_as_r(
        dir,
        "s3://lake/results/churn.parquet",
        "SELECT * FROM r",
        &env,
    );
    assert_eq!(back, expected);

    // Partitioned output: complete, marked with _SUCCESS, no staging objects left, and a
    // second run replaces the first.
    let segments = "SELECT segment, count(*) AS customers, round(sum(monetary), 2) AS revenue \
                    FROM r GROUP BY segment ORDER BY segment";
    let local_out = dir.join("rfm_local");
    ok(seglake(
        dir,
        &[
            "--lake",
            local,
            "--output",
            local_out.to_str().unwrap(),
            "--format",
            "parquet",
            "run",
            "rfm_segments",
            "--partition-by",
            "segment",
        ],
        &[],
    ));
    let expected = read_as_r(dir, &format!("{}/", local_out.display()), segments, &[]);
    for _ in 0..2 {
        ok(seglake(
            dir,
            &[
                "--lake",
                "s3://lake/shop",
                "--format",
                "parquet",
                "run",
                "rfm_segments",
                "--partition-by",
                "segment",
                "--output",
                "s3://lake/results/rfm",
            ],
            &env,
        ));
    }
    let back = read_as_r(dir, "s3://lake/results/rfm/", segments, &env);
    assert_eq!(back, expected);
    let objects: Vec<String> = store
        .list(None)
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .unwrap();
    assert!(objects.contains(&"results/rfm/_SUCCESS".to_string()));
    assert!(
        !objects.iter().any(|o| o.contains(".seglake-staging")),
        "{objects:?}"
    );
    let local_files = walk(&local_out).len();
    let remote_files = objects
        .iter()
        .filter(|o| o.starts_with("results/rfm/segment="))
        .count();
    assert_eq!(remote_files, local_files, "{objects:?}");

    // CREATE EXTERNAL TABLE on an S3 folder.
    let external = "CREATE EXTERNAL TABLE c STORED AS PARQUET LOCATION 's3://lake/shop/customers/'; \
                    SELECT count(*) FROM c";
    assert_eq!(
        ok(seglake(dir, &["-c", external], &env)),
        ok(seglake(
            dir,
            &["--lake", local, "-c", "SELECT count(*) FROM customers"],
            &[]
        ))
    );

    // COPY ... TO an S3 URL.
    ok(seglake(
        dir,
        &[
            "--lake",
            "s3://lake/shop",
            "-c",
            "COPY (SELECT * FROM customers) TO 's3://lake/copies/customers.parquet'",
        ],
        &env,
    ));
    let head = store
        .head(&object_store::path::Path::from("copies/customers.parquet"))
        .await;
    assert!(head.is_ok(), "{head:?}");

    // Credentials from an AWS profile, and from seglake.toml per bucket (no AWS_* at all).
    std::fs::create_dir_all(dir.join(".aws")).unwrap();
    std::fs::write(
        dir.join(".aws/credentials"),
        format!(
            "[lake-test]\naws_access_key_id = {}\naws_secret_access_key = {SECRET_KEY}\n",
            servers::ACCESS_KEY
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join(".aws/config"),
        format!(
            "[profile lake-test]\nregion = us-east-1\nendpoint_url = {}\n",
            server.endpoint
        ),
    )
    .unwrap();
    let count = "SELECT count(*) FROM customers";
    let expected = ok(seglake(dir, &["--lake", local, "-c", count], &[]));
    let by_profile = seglake(
        dir,
        &["--lake", "s3://lake/shop", "-c", count],
        &[
            ("AWS_PROFILE", "lake-test".into()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ],
    );
    assert_eq!(ok(by_profile), expected);
    let config = dir.join("bucket.toml");
    std::fs::write(
        &config,
        format!(
            "lake = \"s3://lake/shop\"\n[storage.\"s3://lake\"]\nendpoint = \"{}\"\n\
             region = \"us-east-1\"\nallow_http = true\naccess_key_id = \"{}\"\n\
             secret_access_key = \"{SECRET_KEY}\"\n",
            server.endpoint,
            servers::ACCESS_KEY
        ),
    )
    .unwrap();
    let by_config = seglake(
        dir,
        &["--config", config.to_str().unwrap(), "-c", count],
        &[],
    );
    assert_eq!(ok(by_config), expected);

    // Wrong credentials: a clear error, exit 1, and the secret given is never printed.
    let wrong_secret = "wrong-secret-value-31415";
    let mut wrong = env.clone();
    wrong.retain(|(k, _)| *k != "AWS_SECRET_ACCESS_KEY");
    wrong.push(("AWS_SECRET_ACCESS_KEY", wrong_secret.into()));
    let run = churn_rate_to(dir, "s3://lake/shop", "s3://lake/results/x.parquet", &wrong);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("SignatureDoesNotMatch"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("check the credentials"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(wrong_secret), "{}", run.stderr);
    assert!(!run.stdout.contains(wrong_secret));

    // A secret set in seglake.toml is masked in messages too (here the server quotes nothing,
    // so check the mask through an endpoint URL that carries it as a password).
    let leaky = dir.join("leaky.toml");
    std::fs::write(
        &leaky,
        format!(
            "[storage.\"s3://lake\"]\nendpoint = \"http://user:{SECRET_KEY}@127.0.0.1:9\"\n\
             allow_http = true\nsecret_access_key = \"{SECRET_KEY}\"\n\
             access_key_id = \"x\"\nregion = \"us-east-1\"\nmax_retries = 0\n"
        ),
    )
    .unwrap();
    let run = seglake(
        dir,
        &[
            "--config",
            leaky.to_str().unwrap(),
            "--lake",
            "s3://lake/shop",
            "-c",
            "SELECT 1",
        ],
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.contains(SECRET_KEY), "{}", run.stderr);

    // A missing bucket and a missing object.
    let run = seglake(
        dir,
        &["--lake", "s3://no-such-bucket/shop", "-c", "SELECT 1"],
        &env,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("the bucket does not exist"),
        "{}",
        run.stderr
    );
    let run = seglake(
        dir,
        &[
            "--table",
            "t=s3://lake/shop/missing.parquet",
            "-c",
            "SELECT 1",
        ],
        &env,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("table 't' (s3://lake/shop/missing.parquet)")
            && run.stderr.contains("No files found"),
        "{}",
        run.stderr
    );
    let run = seglake(
        dir,
        &["--lake", "s3://lake/nothing-here", "-c", "SELECT 1"],
        &env,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("is empty or does not exist"),
        "{}",
        run.stderr
    );
}

fn walk(folder: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// The server is killed while a query is reading: the query fails with a clear error within
/// the configured timeouts, never hangs.
#[tokio::test]
async fn server_killed_during_a_query_fails_in_bounded_time() {
    let Some(tools) = servers::tools() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    hive_lake(dir);
    let mut server = S3Server::start(&tools, "lake").await;
    servers::upload_folder(&server.store(), &dir.join("lake"), "shop").await;
    // About 20 KB/s per connection: reading the lake's data takes seconds.
    let proxy = SlowProxy::start(&server.endpoint, 20_000);
    let mut env = server.env();
    env.retain(|(k, _)| *k != "AWS_ENDPOINT");
    env.push(("AWS_ENDPOINT", proxy.endpoint.clone()));
    let config = dir.join("timeouts.toml");
    std::fs::write(
        &config,
        "[storage]\ntimeout = \"5s\"\nconnect_timeout = \"1s\"\nmax_retries = 2\n\
         retry_timeout = \"5s\"\n",
    )
    .unwrap();

    let query = |dir: &Path| {
        let sql = "SELECT sum(amount), count(DISTINCT order_id) FROM transactions";
        let config = config.to_str().unwrap();
        let args = ["--config", config, "--lake", "s3://lake/shop", "-c", sql];
        servers::seglake_command(dir, &args, &env)
    };

    // Undisturbed, the slow proxy makes the run take a while: long enough to kill the server
    // a third of the way in (reads dominate, so the second run is about as slow).
    let started = Instant::now();
    let undisturbed = query(dir).output().unwrap();
    let full = started.elapsed();
    assert!(
        undisturbed.status.success(),
        "{}",
        String::from_utf8_lossy(&undisturbed.stderr)
    );
    assert!(
        full > Duration::from_secs(2),
        "only {full:?}: slow the proxy down"
    );

    let started = Instant::now();
    let child = query(dir).spawn().unwrap();
    tokio::time::sleep(full / 3).await;
    server.kill();
    let killed_at = started.elapsed();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    // The failed request is named, with its cause, in one line.
    // (How the connection failed depends on the moment: dropped mid-reply, or refused.)
    assert!(stderr.contains("Error performing GET"), "{stderr}");
    assert!(stderr.contains("lake/shop/transactions/year"), "{stderr}");
    assert!(stderr.contains(" retries"), "{stderr}");
    assert!(
        stderr.contains("(the server dropped the connection")
            || stderr.contains("(nothing is listening"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    // Timeout 5 s, 2 retries, no retry after 5 s: done well within 30 s of the kill.
    assert!(
        elapsed < killed_at + Duration::from_secs(30),
        "took {elapsed:?} (server killed at {killed_at:?}): {stderr}"
    );
    eprintln!("killed at {killed_at:?}, failed after {elapsed:?}: {stderr}");
}

/// A server that accepts connections but never answers ends the query with a timeout.
#[test]
fn stalled_server_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let silent = SilentServer::start();
    let config = dir.join("timeouts.toml");
    std::fs::write(
        &config,
        "[storage]\ntimeout = \"1s\"\nmax_retries = 1\nretry_timeout = \"2s\"\n",
    )
    .unwrap();
    let started = Instant::now();
    let run = seglake(
        dir,
        &[
            "--config",
            config.to_str().unwrap(),
            "--lake",
            "s3://lake/shop",
            "-c",
            "SELECT 1",
        ],
        &[
            ("AWS_ACCESS_KEY_ID", "k".into()),
            ("AWS_SECRET_ACCESS_KEY", "s".into()),
            ("AWS_ENDPOINT", silent.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_REGION", "us-east-1".into()),
        ],
    );
    let elapsed = started.elapsed();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("timed out"), "{}", run.stderr);
    assert!(
        run.stderr.contains("did not answer in time"),
        "{}",
        run.stderr
    );
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
}

/// A lake served over plain HTTP (byte ranges for Parquet, WebDAV listing for folders).
#[test]
fn http_lake() {
    let Some(tools) = servers::tools() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    hive_lake(dir);
    let server = HttpServer::start(&tools, &dir.join("lake"));
    let local = dir.join("lake");
    let expected = ok(seglake(
        dir,
        &[
            "--lake",
            local.to_str().unwrap(),
            "--format",
            "csv",
            "-c",
            BY_YEAR,
        ],
        &[],
    ));
    let over_http = ok(seglake(
        dir,
        &["--lake", &server.url, "--format", "csv", "-c", BY_YEAR],
        &[],
    ));
    assert_eq!(over_http, expected);
    let one_file = format!("c={}/customers/part-0.parquet", server.url);
    let count = "SELECT count(*) FROM c";
    let local_file = format!("c={}/customers/part-0.parquet", local.display());
    assert_eq!(
        ok(seglake(dir, &["--table", &one_file, "-c", count], &[])),
        ok(seglake(dir, &["--table", &local_file, "-c", count], &[]))
    );
    let run = seglake(
        dir,
        &[
            "--lake",
            &format!("{}/missing", server.url),
            "-c",
            "SELECT 1",
        ],
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("is empty or does not exist"),
        "{}",
        run.stderr
    );
}

/// An Azure Blob Storage lake: written with COPY ... PARTITIONED BY, queried, and a saved
/// query's result written back and read again.
#[test]
fn azure_lake() {
    let Some(tools) = servers::tools() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    hive_lake(dir);
    let server = AzureServer::start(&tools, "lake");
    let env = server.env();
    let local = dir.join("lake");
    let local = local.to_str().unwrap();
    for copy in [
        "COPY (SELECT * FROM transactions) TO 'az://lake/shop/transactions/' \
         STORED AS PARQUET PARTITIONED BY (year)",
        "COPY (SELECT * FROM customers) TO 'az://lake/shop/customers/part-0.parquet'",
    ] {
        ok(seglake(dir, &["--lake", local, "-c", copy], &env));
    }
    let expected = ok(seglake(
        dir,
        &["--lake", local, "--format", "csv", "-c", BY_YEAR],
        &[],
    ));
    let on_azure = ok(seglake(
        dir,
        &["--lake", "az://lake/shop", "--format", "csv", "-c", BY_YEAR],
        &env,
    ));
    assert_eq!(on_azure, expected);

    let expected = ok(seglake(
        dir,
        &["--lake", local, "--format", "csv", "run", "churn_rate"],
        &[],
    ));
    ok(churn_rate_to(
        dir,
        "az://lake/shop",
        "az://lake/results/churn.parquet",
        &env,
    ));
    let back = read_as_r(
        dir,
        "az://lake/results/churn.parquet",
        "SELECT * FROM r",
        &env,
    );
    assert_eq!(back, expected);

    let run = seglake(
        dir,
        &["--lake", "az://missing/shop", "-c", "SELECT 1"],
        &env,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("ContainerNotFound")
            && run.stderr.contains("(the container does not exist)"),
        "{}",
        run.stderr
    );
}
