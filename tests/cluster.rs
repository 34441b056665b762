//! seglake on a real Ballista cluster started here on 127.0.0.1: `seglake cluster scheduler`
//! and two `seglake cluster executor` processes, each with its own function registry. Every
//! answer is compared with local execution of the same query over the same files.

mod cluster_support;
mod common;
mod servers;

use std::time::{Duration, Instant};

use cluster_support::{Cluster, assert_same_rows, generated_lake, rows};
use datafusion::prelude::SessionContext;
use seglake::library::{Library, bind};
use seglake::{SeglakeBuilder, TableSpec};

/// Each customer's transactions spread over three files, which the cluster reads in tasks
/// on different executors: partial aggregate states must merge across them.
async fn split_transactions(lake: &std::path::Path) -> std::path::PathBuf {
    let split = lake.join("_split_transactions");
    let ctx = SessionContext::new();
    let source = lake.join("transactions");
    ctx.register_parquet("t", source.to_str().unwrap(), Default::default())
        .await
        .unwrap();
    for part in 0..3 {
        let sql = format!(
            "COPY (SELECT * FROM t WHERE order_id % 3 = {part} ORDER BY order_ts DESC) \
             TO '{}/part-{part}.parquet' STORED AS PARQUET",
            split.display()
        );
        ctx.sql(&sql).await.unwrap().collect().await.unwrap();
    }
    split
}

#[derive(Debug, Default)]
struct Compared {
    same: usize,
    failed_locally: usize,
}

/// Runs every saved query (with those of `given` it takes) locally and on the cluster: the
/// same rows, or an error in both places.
async fn compare_library(
    local: &SessionContext,
    remote: &SessionContext,
    given: &[(&str, &str)],
) -> Compared {
    let library = Library::load(&[]).unwrap();
    let mut compared = Compared::default();
    for query in library.queries() {
        let params: Vec<(String, String)> = given
            .iter()
            .filter(|(name, _)| query.params.iter().any(|p| p.name == *name))
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        let run = |ctx: &SessionContext| {
            let ctx = ctx.clone();
            let params = params.clone();
            async move {
                bind(&ctx, query, &params)
                    .await?
                    .collect()
                    .await
                    .map_err(Into::into)
            }
        };
        let expected: Result<_, seglake::error::SeglakeError> = run(local).await;
        let got: Result<_, seglake::error::SeglakeError> = run(remote).await;
        match (expected, got) {
            (Ok(expected), Ok(got)) => {
                assert_same_rows(&query.name, &rows(&expected), &rows(&got));
                compared.same += 1;
            }
            (Err(_), Err(_)) => compared.failed_locally += 1,
            (Ok(_), Err(e)) => panic!("{} fails on the cluster only: {e}", query.name),
            (Err(e), Ok(_)) => panic!("{} fails locally only: {e}", query.name),
        }
    }
    compared
}

async fn sessions(
    cluster: &Cluster,
    lake: &str,
    tables: &[TableSpec],
) -> (SessionContext, SessionContext) {
    // A segment map of the session's own, which the cluster's processes do not have.
    let mine = seglake_udfs::rfm::segment_map::SegmentMap::parse(
        "mine",
        "fallback = \"rest\"\n[[rule]]\nname = \"recent_big\"\nr = [4, 5]\nm = [4, 5]\n\
         [[rule]]\nname = \"recent\"\nr = [4, 5]\n",
    )
    .unwrap();
    let builder = |cluster_url: Option<seglake::distributed::ClusterUrl>| {
        let mut builder = SeglakeBuilder::new()
            .lake(lake)
            .target_partitions(4)
            .segment_map(mine.clone());
        for table in tables {
            builder = builder.table(table.clone());
        }
        if let Some(url) = cluster_url {
            builder = builder.cluster(url);
        }
        builder
    };
    let local = builder(None).build().await.unwrap();
    let remote = builder(Some(cluster.url())).build().await.unwrap();
    (local, remote)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_saved_query_and_function_matches_local_execution() {
    let cluster = Cluster::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let lake = generated_lake(dir.path(), 1500);
    let split = split_transactions(&lake).await;
    let tables = [TableSpec::new("transactions", split.to_str().unwrap())];
    let (local, remote) = sessions(&cluster, lake.to_str().unwrap(), &tables).await;
    let compared = compare_library(&local, &remote, &[]).await;
    assert_eq!(compared.failed_locally, 0, "{compared:?}");
    assert!(compared.same >= 25, "{compared:?}");

    // Functions one by one, on the split files: aggregates whose states merge across
    // executors, model fits (same parameters), windows over the whole customer base.
    let as_of = "TIMESTAMP '2024-06-30 00:00:00'";
    let checks = [
        format!(
            "SELECT customer_id, rfm(order_ts, amount, {as_of}) AS v FROM transactions \
             WHERE order_ts < {as_of} GROUP BY customer_id"
        ),
        format!(
            "SELECT customer_id, btyd_summary(order_ts, amount, {as_of}, 'week') AS s \
             FROM transactions WHERE order_ts < {as_of} GROUP BY customer_id"
        ),
        format!(
            "WITH s AS (SELECT btyd_summary(order_ts, amount, {as_of}, 'week') AS s \
             FROM transactions WHERE order_ts < {as_of} GROUP BY customer_id) \
             SELECT bgnbd_fit(s['frequency'], s['recency'], s['T']) AS bg, \
                    paretonbd_fit(s['frequency'], s['recency'], s['T']) AS pnbd FROM s"
        ),
        format!(
            "WITH s AS (SELECT btyd_summary(order_ts, amount, {as_of}, 'week') AS s \
             FROM transactions WHERE order_ts < {as_of} GROUP BY customer_id), \
             g AS (SELECT gammagamma_fit(s['frequency'], s['monetary_value']) AS gg FROM s) \
             SELECT gg['p'] AS p, gg['q'] AS q, gg['v'] AS v, gg['rows_used'] AS n FROM g"
        ),
        format!(
            "WITH v AS (SELECT rfm(order_ts, amount, {as_of}) AS v FROM transactions \
             WHERE order_ts < {as_of} GROUP BY customer_id) \
             SELECT kmeans_fit(make_array(ln(1 + v['recency_days']), ln(1 + v['frequency']), \
             ln(1 + greatest(v['monetary'], 0))), 4, named_struct('seed', 7)) AS model FROM v"
        ),
        format!(
            "WITH v AS (SELECT customer_id, rfm(order_ts, amount, {as_of}) AS v \
             FROM transactions WHERE order_ts < {as_of} GROUP BY customer_id) \
             SELECT customer_id, \
                    rfm_score(v['recency_days'], v['frequency'], v['monetary']) OVER () AS score, \
                    value_tier(v['monetary']) OVER () AS tier FROM v"
        ),
        // The session's own map travels with the plan to the scheduler and executors.
        format!(
            "WITH v AS (SELECT customer_id, rfm(order_ts, amount, {as_of}) AS v \
             FROM transactions WHERE order_ts < {as_of} GROUP BY customer_id), \
             s AS (SELECT customer_id, rfm_score(v['recency_days'], v['frequency'], \
             v['monetary']) OVER () AS s FROM v) \
             SELECT customer_id, rfm_segment(s['r'], s['f'], s['m'], 'mine') AS segment, \
                    rfm_segment_rule(rfm_segment(s['r'], s['f'], s['m'], 'mine'), 'mine') AS rule \
             FROM s"
        ),
    ];
    for sql in &checks {
        let expected = local.sql(sql).await.unwrap().collect().await.unwrap();
        let got = remote
            .sql(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .collect()
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_same_rows(sql, &rows(&expected), &rows(&got));
    }

    // The optimizer rule's variant reaches the scheduler's plan, stages included.
    let explain = remote
        .sql(&format!(
            "EXPLAIN SELECT customer_id, rfm(order_ts, amount, {as_of})['frequency'] AS f \
             FROM transactions GROUP BY customer_id"
        ))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&explain)
        .unwrap()
        .to_string();
    let distributed = text
        .split("distributed_plan")
        .nth(1)
        .unwrap_or_else(|| panic!("no distributed plan: {text}"));
    assert!(
        distributed.contains("without purchase_days"),
        "the stages lost the rule's variant: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_lake_answers_the_same_on_the_cluster() {
    let cluster = Cluster::start(&[]).await;
    let lake = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/lake");
    let (local, remote) = sessions(&cluster, lake, &[]).await;
    // The sample lake has customers and transactions only: queries needing more tables
    // must fail alike in both places.
    let compared = compare_library(&local, &remote, &[("as_of", "2024-01-01")]).await;
    assert!(compared.same >= 5, "{compared:?}");

    // `seglake --cluster ... report`: its queries run on the cluster; the sample lake's four
    // customers are too few for the models, whose figures say so.
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("report.html");
    let library = seglake::library::Library::load(&[]).unwrap();
    let options = seglake::report::ReportOptions {
        output: output.display().to_string(),
        as_of: None,
        params: vec![],
        sections: vec![],
        quiet: true,
    };
    let outcome = seglake::report::write_report(&remote, &library, &options)
        .await
        .unwrap();
    let html = std::fs::read_to_string(&output).unwrap();
    assert!(outcome.figures >= 9, "{outcome:?}");
    assert!(outcome.unavailable < outcome.figures, "{outcome:?}");
    assert!(html.contains("a fit needs at least"), "the models say why");
    assert!(html.contains("id=\"segments-share\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_errors_from_the_cluster() {
    // --cluster on a role is a usage error saying what to give instead.
    let dir = tempfile::tempdir().unwrap();
    let run = cluster_support::seglake(
        dir.path(),
        &["--cluster", "df://127.0.0.1:1", "cluster", "scheduler"],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--cluster df://127.0.0.1:1 is for clients"),
        "{}",
        run.stderr
    );
    // Nothing listening: named, and quick.
    let port = servers::free_ports(1)[0];
    let started = Instant::now();
    let err = SeglakeBuilder::new()
        .cluster(format!("df://127.0.0.1:{port}").parse().unwrap())
        .build()
        .await
        .err()
        .expect("no scheduler there");
    assert!(
        err.to_string().contains(&format!("df://127.0.0.1:{port}")),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    let cluster = Cluster::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let lake = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/lake");

    // Another seglake version on the client: both versions named.
    let ctx = SeglakeBuilder::new()
        .lake(lake)
        .cluster(cluster.url())
        .build()
        .await
        .unwrap();
    ctx.sql("SET seglake.client_version = '0.0.1'")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let err = run_err(&ctx, "SELECT count(*) FROM transactions WHERE amount > 10").await;
    assert!(err.contains("seglake 0.0.1"), "{err}");
    assert!(
        err.contains(&format!("runs seglake {}", seglake::VERSION)),
        "{err}"
    );

    // A lake only the client can see: refused with the table and path, not an empty answer.
    let private = dir.path().join("private");
    std::fs::create_dir_all(&private).unwrap();
    std::fs::copy(
        format!("{lake}/transactions.csv"),
        private.join("transactions.csv"),
    )
    .unwrap();
    let ctx = SeglakeBuilder::new()
        .lake(private.to_str().unwrap())
        .cluster(cluster.url())
        .build()
        .await
        .unwrap();
    std::fs::remove_dir_all(&private).unwrap();
    let err = run_err(&ctx, "SELECT count(*) FROM transactions WHERE amount > 10").await;
    assert!(err.contains("'transactions'"), "{err}");
    assert!(err.contains(private.to_str().unwrap()), "{err}");
    assert!(err.contains("cannot see"), "{err}");
}

async fn run_err(ctx: &SessionContext, sql: &str) -> String {
    let result = match ctx.sql(sql).await {
        Ok(df) => df.collect().await.map(|_| ()),
        Err(e) => Err(e),
    };
    let err = result.expect_err("the query must fail");
    seglake::error::describe(&err)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executor_without_seglake_names_the_missing_function() {
    let mut cluster = Cluster::start_without_executors().await;
    cluster.start_stock_executor();
    let ctx = SeglakeBuilder::new()
        .lake(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/lake"))
        .cluster(cluster.url())
        .build()
        .await
        .unwrap();
    let started = Instant::now();
    let err = run_err(
        &ctx,
        "SELECT customer_id, rfm(order_ts, amount, TIMESTAMP '2024-01-01 00:00:00') \
         FROM transactions GROUP BY customer_id",
    )
    .await;
    assert!(err.contains("'rfm'"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_executor_and_scheduler_end_in_bounded_time() {
    let mut cluster = Cluster::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let lake = generated_lake(dir.path(), 1500);
    let ctx = SeglakeBuilder::new()
        .lake(lake.to_str().unwrap())
        .target_partitions(4)
        .cluster(cluster.url())
        .build()
        .await
        .unwrap();
    // Long enough to be running when an executor dies (seconds): a join of ~30,000 x ~30,000
    // orders on 4 keys, hundreds of millions of pairs, counted; its answer from group sums.
    let long = "SELECT count(*) AS pairs, sum(a.amount) AS s FROM transactions a \
                JOIN transactions b ON a.customer_id % 4 = b.customer_id % 4";
    let reference = "SELECT sum(n * n) AS pairs, sum(total * n) AS s FROM (SELECT \
                     customer_id % 4 AS k, count(*) AS n, sum(amount) AS total \
                     FROM transactions GROUP BY 1)";
    let local = SeglakeBuilder::new()
        .lake(lake.to_str().unwrap())
        .build()
        .await
        .unwrap();
    let expected = rows(&local.sql(reference).await.unwrap().collect().await.unwrap());

    let query = {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            match ctx.sql(long).await {
                Ok(df) => df.collect().await,
                Err(e) => Err(e),
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(
        !query.is_finished(),
        "the query ended before the executor was killed"
    );
    cluster.kill_executor(0);
    let started = Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(120), query)
        .await
        .expect("the query ends within 120 s of an executor's death")
        .unwrap();
    match outcome {
        Ok(batches) => assert_same_rows(long, &expected, &rows(&batches)),
        Err(e) => {
            let text = seglake::error::describe(&e);
            assert!(!text.is_empty());
            eprintln!("query failed after executor loss (allowed): {text}");
        }
    }
    eprintln!("ended {:?} after the kill", started.elapsed());

    // The client stays usable: the next query runs on the executor left.
    let small = "SELECT count(*) FROM transactions WHERE amount > 10";
    let got = tokio::time::timeout(Duration::from_secs(120), async {
        ctx.sql(small).await?.collect().await
    })
    .await
    .expect("the next query ends")
    .expect("the next query runs on the executor left");
    let expected = local.sql(small).await.unwrap().collect().await.unwrap();
    assert_same_rows(small, &rows(&expected), &rows(&got));

    // Scheduler gone: a clear error, quickly.
    cluster.kill_scheduler();
    let started = Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(60), run_err(&ctx, small))
        .await
        .expect("a query without scheduler fails in bounded time");
    assert!(err.contains("scheduler"), "{err}");
    eprintln!("without scheduler: {err} ({:?})", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_lake_through_the_cluster() {
    let Some(tools) = servers::tools() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lake = generated_lake(dir.path(), 800);
    let server = servers::S3Server::start(&tools, "lake").await;
    servers::upload_folder(&server.store(), &lake, "shop").await;
    let env = server.env();
    let cluster = Cluster::start(&env).await;
    let output = dir.path().join("segments.csv");
    let on_cluster = cluster_support::seglake(
        dir.path(),
        &[
            "--lake",
            "s3://lake/shop",
            "--cluster",
            &cluster.url().to_string(),
            "--output",
            output.to_str().unwrap(),
            "run",
            "rfm_segment_summary",
        ],
        &env,
    );
    assert_eq!(on_cluster.code, 0, "{}", on_cluster.stderr);
    let local = cluster_support::seglake(
        dir.path(),
        &[
            "--lake",
            lake.to_str().unwrap(),
            "--format",
            "csv",
            "run",
            "rfm_segment_summary",
        ],
        &[],
    );
    assert_eq!(local.code, 0, "{}", local.stderr);
    let written = std::fs::read_to_string(&output).unwrap();
    cluster_support::assert_same_csv(&local.stdout, &written);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_the_cluster_answers_psql() {
    let cluster = Cluster::start(&[]).await;
    let lake = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/lake");
    let port = servers::free_ports(1)[0];
    let dir = tempfile::tempdir().unwrap();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_seglake"))
        .args([
            "--lake",
            lake,
            "--cluster",
            &cluster.url().to_string(),
            "serve",
            "--bind",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .current_dir(dir.path())
        .env_remove("SEGLAKE_CONFIG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "serve did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let psql = |sql: &str| {
        let output = std::process::Command::new("psql")
            .arg(format!(
                "host=127.0.0.1 port={port} dbname=seglake user=analyst"
            ))
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .expect("psql is installed (postgresql-client, by .ci/run)");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr),
        )
    };
    // Catalogs answer in the server's session; lake queries run on the cluster.
    let (ok, text) = psql("SELECT count(*) > 0 FROM pg_catalog.pg_class");
    assert!(ok && text.trim() == "t", "{text}");
    let (ok, text) = psql("EXPLAIN SELECT count(*) FROM transactions WHERE amount > 10");
    assert!(ok && text.contains("distributed_plan"), "{text}");
    let (ok, text) =
        psql("SELECT segment, customers FROM rfm_segment_summary('2024-01-01') ORDER BY segment");
    assert!(ok, "{text}");
    let local = SeglakeBuilder::new().lake(lake).build().await.unwrap();
    let expected = local
        .sql("SELECT segment, customers FROM rfm_segment_summary('2024-01-01') ORDER BY segment")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let expected: Vec<String> = rows(&expected).iter().map(|r| r.join("|")).collect();
    assert_eq!(text.trim().lines().collect::<Vec<_>>(), expected);
    // A query mixing the two is refused, saying why.
    let (ok, text) = psql("SELECT count(*) FROM transactions, pg_catalog.pg_namespace");
    assert!(!ok && text.contains("only this session has"), "{text}");
    let _ = server.kill();
    let _ = server.wait();
}
