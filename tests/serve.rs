//! `seglake serve` with real clients: each test starts the binary on a free 127.0.0.1 port and
//! connects with psql, psycopg 3 + SQLAlchemy 2 + pandas (tests/clients/python_clients.py) or
//! pgjdbc (tests/clients/JdbcClient.java), installed by tests/servers/install.sh. What the
//! clients receive is checked against the same queries run in-process on the same lake.

mod clients;
mod common;
mod servers;

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clients::{Server, local, local_rows, text, tools};
use seglake::library::{Library, bind};

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test(flavor = "multi_thread")]
async fn psql_queries_describes_and_reports_errors() {
    if tools().is_none() {
        return;
    }
    let server = Server::start(&[], &[], &[]);
    let expected = local_rows(
        &local().await,
        "SELECT segment, customers FROM library.rfm_segment_summary ORDER BY segment",
    )
    .await;
    let out = server.psql(
        "analyst",
        None,
        &[
            "-At",
            "-F",
            ",",
            "-c",
            "SELECT segment, customers FROM library.rfm_segment_summary ORDER BY segment",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let got: Vec<Vec<String>> = text(&out.stdout)
        .lines()
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    assert_eq!(got, expected);
    assert_eq!(got.len(), 10, "ten RFM segments in the lake");

    let tables = text(&server.psql("analyst", None, &["-c", "\\dt"]).stdout);
    for table in ["customers", "transactions", "surveys", "campaign_contacts"] {
        assert!(tables.contains(table), "{tables}");
    }
    let views = text(
        &server
            .psql("analyst", None, &["-c", "\\dv library.*"])
            .stdout,
    );
    assert!(
        views
            .lines()
            .any(|l| l.contains(" rfm_segment_summary ") && l.contains("| view")),
        "{views}"
    );
    let columns = text(
        &server
            .psql("analyst", None, &["-c", "\\d transactions"])
            .stdout,
    );
    assert!(columns.contains("order_ts"), "{columns}");
    assert!(columns.contains("timestamp"), "{columns}");

    // A table function with typed parameters; a struct arrives as JSON text.
    let out = server.psql(
        "analyst",
        None,
        &[
            "-At",
            "-c",
            "SELECT count(*) FROM rfm_segments(DATE '2023-07-01')",
            "-c",
            "SELECT rfm(order_ts, amount, DATE '2024-01-01') FROM transactions WHERE customer_id = 1",
        ],
    );
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    let local_count = local_rows(
        &local().await,
        "SELECT count(*) FROM rfm_segments(DATE '2023-07-01')",
    )
    .await;
    assert_eq!(lines[0], local_count[0][0]);
    assert!(lines[1].starts_with("{\"recency_days\":"), "{}", lines[1]);

    // What clients ask at connect time.
    let out = server.psql(
        "analyst",
        None,
        &[
            "-At",
            "-c",
            "SELECT version()",
            "-c",
            "SELECT current_schema(), current_database()",
            "-c",
            "SET application_name = 'dashboard'",
            "-c",
            "SHOW application_name",
            "-c",
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'library'",
        ],
    );
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    assert!(
        lines[0].starts_with("PostgreSQL 16.6 (seglake "),
        "{lines:?}"
    );
    assert_eq!(lines[1], "public|seglake");
    assert_eq!(lines[3], "dashboard", "{lines:?}");
    assert_eq!(
        lines[4],
        Library::load(&[]).unwrap().queries().count().to_string()
    );

    let out = server.psql("analyst", None, &["-c", "SELECT nope FROM transactions"]);
    assert_eq!(out.status.code(), Some(1));
    let error = text(&out.stderr);
    assert!(
        error.contains("ERROR:  Schema error: No field named nope"),
        "{error}"
    );
    let out = server.psql("analyst", None, &["-d", "postgres", "-c", "SELECT 1"]);
    assert!(
        text(&out.stderr).contains("database \"postgres\" does not exist"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn python_clients_read_every_saved_query() {
    let Some(tools) = tools() else {
        return;
    };
    let server = Server::start(&["--log-json"], &[], &[]);
    let library = Library::load(&[]).unwrap();
    let names: Vec<String> = library.queries().map(|q| q.name.clone()).collect();
    let ctx = local().await;
    let output = Command::new(tools.join("venv/bin/python"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/python_clients.py"))
        .args([server.port.to_string(), "analyst".into(), "unused".into()])
        .args(&names)
        .output()
        .expect("python runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let seen: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    for query in library.queries() {
        let df = bind(&ctx, query, &[]).await.unwrap();
        let rows: usize = df
            .collect()
            .await
            .unwrap()
            .iter()
            .map(|b| b.num_rows())
            .sum();
        let got = &seen["queries"][&query.name];
        assert_eq!(got["rows"], rows, "{}: {got}", query.name);
        assert!(rows > 0, "{} returns rows on this lake", query.name);
    }
    // Types as pandas sees them.
    let rfm = &seen["queries"]["rfm_segments"]["columns"];
    assert_eq!(rfm["customer_id"], "int64");
    assert_eq!(rfm["monetary"], "float64");
    assert_eq!(rfm["last_purchase"], "datetime64[ns]");
    assert_eq!(
        seen["queries"]["kmeans_elbow"]["columns"]["converged"],
        "bool"
    );

    // Server-side parameters: an integer and a date.
    let segments = local_rows(
        &ctx,
        "SELECT segment, customers FROM library.rfm_segment_summary WHERE customers >= 1 \
         ORDER BY segment",
    )
    .await;
    let got: Vec<Vec<String>> = seen["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| vec![r[0].as_str().unwrap().to_string(), r[1].to_string()])
        .collect();
    assert_eq!(got, segments);
    let before = local_rows(
        &ctx,
        "SELECT count(*) FROM transactions WHERE order_ts < DATE '2023-07-01'",
    )
    .await;
    assert_eq!(seen["orders_before"].to_string(), before[0][0]);
    assert_eq!(seen["rfm_struct"]["type"], "str");
    let value: serde_json::Value =
        serde_json::from_str(seen["rfm_struct"]["value"].as_str().unwrap()).unwrap();
    assert!(value["frequency"].as_i64().unwrap() > 0, "{value}");
    let codes = local_rows(
        &ctx,
        "SELECT customer_id, rfm_code FROM rfm_segments(DATE '2023-07-01') \
         WHERE customer_id <= 3 ORDER BY customer_id",
    )
    .await;
    let got: Vec<Vec<String>> = seen["rfm_segments_as_of"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.to_string())
                .collect()
        })
        .collect();
    assert_eq!(got, codes);

    // One JSON line per statement, with user, rows, duration and status.
    let lines = server.log_lines();
    let logged = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["statement"] == "SELECT * FROM library.rfm_segments")
        .unwrap_or_else(|| panic!("no log line for rfm_segments: {lines:?}"));
    assert_eq!(logged["user"], "analyst");
    assert_eq!(logged["status"], "ok");
    assert_eq!(logged["rows"], seen["queries"]["rfm_segments"]["rows"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn jdbc_reads_metadata_and_binds_a_date() {
    if tools().is_none() {
        return;
    }
    let server = Server::start(&[], &[], &[]);
    let output = Command::new("java")
        .args(["-cp", "/usr/share/java/postgresql.jar"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/JdbcClient.java"))
        .args([server.port.to_string().as_str(), "analyst", "unused"])
        .output()
        .expect("java runs");
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.contains(&"product PostgreSQL 16"), "{stdout}");
    assert!(
        lines.contains(&"table public.transactions TABLE"),
        "{stdout}"
    );
    assert!(
        lines.contains(&"table library.rfm_segment_summary VIEW"),
        "{stdout}"
    );
    assert!(
        lines.contains(&"column transactions.order_ts timestamp"),
        "{stdout}"
    );
    assert!(
        lines.contains(&"column transactions.amount float8"),
        "{stdout}"
    );
    let ctx = local().await;
    let before = local_rows(
        &ctx,
        "SELECT count(*) FROM transactions WHERE order_ts < DATE '2023-07-01'",
    )
    .await;
    assert!(
        lines.contains(&format!("orders_before {}", before[0][0]).as_str()),
        "{stdout}"
    );
    let segments = lines.iter().filter(|l| l.starts_with("segment ")).count();
    assert_eq!(segments, 10, "{stdout}");
}

#[test]
fn passwords_are_scram_verified() {
    if tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.toml");
    let users_arg = users.display().to_string();
    let add = |name: &str, password: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_seglake"))
            .args(["serve", "add-user", name, "--users", &users_arg])
            .env_remove("SEGLAKE_PASSWORD")
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Not a terminal: the password is one line of standard input.
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    };
    add("analyst", PASSWORD);
    add("dashboard", "another one");
    let file = std::fs::read_to_string(&users).unwrap();
    assert!(file.contains("analyst = \"SCRAM-SHA-256$4096:"), "{file}");
    assert!(!file.contains(PASSWORD), "{file}");

    let server = Server::start(&[], &["--users", &users_arg], &[]);
    let ok = server.psql("analyst", Some(PASSWORD), &["-At", "-c", "SELECT 40 + 2"]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert_eq!(text(&ok.stdout).trim(), "42");
    let ok = server.psql("dashboard", Some("another one"), &["-c", "SELECT 1"]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    for (user, password) in [("analyst", "wrong"), ("nobody", PASSWORD)] {
        let out = server.psql(user, Some(password), &["-c", "SELECT 1"]);
        assert!(!out.status.success());
        let error = text(&out.stderr);
        assert!(
            error.contains(&format!(
                "password authentication failed for user \"{user}\""
            )),
            "{error}"
        );
    }
    let out = server.psql("analyst", None, &["-c", "SELECT 1"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no password supplied"),
        "{}",
        text(&out.stderr)
    );
    // The password never reaches the server's output.
    assert!(!server.log_lines().concat().contains(PASSWORD));

    // --user takes the password from the environment only.
    let single = Server::start(&[], &["--user", "bi"], &[("SEGLAKE_PASSWORD", "s3cret pw")]);
    let ok = single.psql("bi", Some("s3cret pw"), &["-c", "SELECT 1"]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
}

#[test]
fn unsafe_setups_are_refused_at_start() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_seglake"))
            .args(["serve"])
            .args(args)
            .env_remove("SEGLAKE_PASSWORD")
            .output()
            .unwrap();
        (out.status.code(), text(&out.stderr))
    };
    let (code, error) = run(&["--bind", "0.0.0.0:0"]);
    assert_eq!(code, Some(2), "{error}");
    assert!(
        error.contains("serving on 0.0.0.0:0 needs authentication"),
        "{error}"
    );
    let (code, error) = run(&["--user", "bi"]);
    assert_eq!(code, Some(2));
    assert!(error.contains("$SEGLAKE_PASSWORD"), "{error}");
    let (code, error) = run(&["--require-tls"]);
    assert_eq!(code, Some(2));
    assert!(error.contains("--require-tls needs --tls-cert"), "{error}");
    let (code, error) = run(&[
        "--tls-cert",
        "/nonexistent.pem",
        "--tls-key",
        "/nonexistent.key",
    ]);
    assert_eq!(code, Some(2));
    assert!(
        error.contains("cannot read the TLS certificate '/nonexistent.pem'"),
        "{error}"
    );
}

#[test]
fn tls_is_used_and_can_be_required() {
    if tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("server.crt"), dir.path().join("server.key"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(made.status.success(), "{}", text(&made.stderr));
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    let server = Server::start(
        &[],
        &["--tls-cert", &cert, "--tls-key", &key, "--require-tls"],
        &[],
    );
    let port = server.port.to_string();
    let psql = |sslmode: &str| {
        Command::new("psql")
            .args(["-X", "-w", "-At", "-c", "SELECT 1"])
            .arg(format!(
                "host=127.0.0.1 port={port} dbname=seglake user=analyst sslmode={sslmode}"
            ))
            .env("PGCONNECT_TIMEOUT", "10")
            .output()
            .unwrap()
    };
    let ok = psql("require");
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let plain = psql("disable");
    assert!(!plain.status.success());
    assert!(
        text(&plain.stderr).contains("requires TLS"),
        "{}",
        text(&plain.stderr)
    );
}

#[test]
fn read_only_limits_and_timeouts() {
    let Some(tools) = tools() else {
        return;
    };
    let server = Server::start(&["--log-json"], &["--max-connections", "2"], &[]);
    for sql in [
        "CREATE TABLE t AS SELECT 1",
        "INSERT INTO transactions (order_id) VALUES (1)",
        "COPY (SELECT * FROM customers) TO '/tmp/seglake-stolen.csv'",
        "CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '/etc/passwd'",
        "DROP TABLE transactions",
    ] {
        let out = server.psql("analyst", None, &["-c", sql]);
        assert!(!out.status.success(), "{sql} ran");
        let error = text(&out.stderr);
        assert!(
            error.contains("on this read-only seglake server"),
            "{sql}: {error}"
        );
    }
    assert!(!Path::new("/tmp/seglake-stolen.csv").exists());
    // Refusals are logged too, the one the Postgres parser cannot read included.
    assert!(
        server
            .log_lines()
            .iter()
            .any(|l| l.contains("CREATE EXTERNAL TABLE p") && l.contains("\"status\":\"error\"")),
        "{:?}",
        server.log_lines()
    );
    let out = server.psql(
        "analyst",
        None,
        &["-c", "SET datafusion.runtime.memory_limit = '100G'"],
    );
    assert!(
        text(&out.stderr).contains("the server's setting"),
        "{}",
        text(&out.stderr)
    );

    // Past the statement timeout: the standard error, in bounded time, and the server still
    // answers.
    let timed = Server::start(&[], &["--statement-timeout", "1s"], &[]);
    let started = Instant::now();
    let out = timed.psql(
        "analyst",
        None,
        &[
            "-c",
            "SELECT sum(a.value * b.value) FROM range(200000) a CROSS JOIN range(200000) b",
        ],
    );
    assert!(
        text(&out.stderr).contains("canceling statement due to statement timeout"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let ok = timed.psql("analyst", None, &["-At", "-c", "SELECT 1"]);
    assert_eq!(text(&ok.stdout).trim(), "1", "{}", text(&ok.stderr));
    drop(timed);

    // A client that goes away mid-result does not disturb the others: psql reads a large
    // result (sent row by row with the simple protocol) and is killed a second in.
    let mut quitter = Command::new("psql")
        .args(["-X", "-h", "127.0.0.1", "-p", &server.port.to_string()])
        .args([
            "-U",
            "quitter",
            "-d",
            "seglake",
            "-c",
            "SELECT * FROM range(100000000)",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(1));
    quitter.kill().unwrap();
    quitter.wait().unwrap();
    let ok = server.psql(
        "analyst",
        None,
        &["-At", "-c", "SELECT count(*) FROM customers"],
    );
    assert_eq!(text(&ok.stdout).trim(), "1000", "{}", text(&ok.stderr));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server
        .log_lines()
        .iter()
        .any(|l| l.contains("\"user\":\"quitter\"") && l.contains("\"status\":\"aborted\""))
    {
        assert!(Instant::now() < deadline, "{:?}", server.log_lines());
        std::thread::sleep(Duration::from_millis(100));
    }

    // The same over the extended protocol, which sends rows as they are made: psycopg reads
    // 100 rows of a 20M-row result and exits; the server stops there, long before the end.
    let script = format!(
        "import os, psycopg\n\
         conn = psycopg.connect('host=127.0.0.1 port={} dbname=seglake user=streamer')\n\
         for i, row in enumerate(conn.cursor().stream('SELECT * FROM range(20000000)')):\n\
         \x20   if i == 100:\n\
         \x20       os._exit(0)\n",
        server.port
    );
    let out = Command::new(tools.join("venv/bin/python"))
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let deadline = Instant::now() + Duration::from_secs(20);
    let stopped = loop {
        let line = server.log_lines().into_iter().find_map(|l| {
            let line: serde_json::Value = serde_json::from_str(&l).ok()?;
            (line["user"] == "streamer" && line["status"] == "aborted").then_some(line)
        });
        if let Some(line) = line {
            break line;
        }
        assert!(Instant::now() < deadline, "{:?}", server.log_lines());
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(stopped["rows"].as_u64().unwrap() < 20_000_000, "{stopped}");

    // Over the connection limit: PostgreSQL's "too many clients" error, not a dropped socket.
    // A connected psql waiting for input on an open pipe holds its connection; one refused
    // while an earlier connection was still closing is started again.
    let hold = || {
        Command::new("psql")
            .args(["-X", "-h", "127.0.0.1", "-p", &server.port.to_string()])
            .args(["-U", "holder", "-d", "seglake"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut holders: Vec<Child> = (0..2).map(|_| hold()).collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    let (refused, last) = loop {
        std::thread::sleep(Duration::from_millis(300));
        for holder in holders.iter_mut() {
            if holder.try_wait().unwrap().is_some() {
                *holder = hold();
            }
        }
        std::thread::sleep(Duration::from_millis(300));
        let out = server.psql("analyst", None, &["-c", "SELECT 1"]);
        let last = format!("{}{}", text(&out.stdout), text(&out.stderr));
        if last.contains("sorry, too many clients already") {
            break (true, last);
        }
        if Instant::now() > deadline {
            break (false, last);
        }
    };
    for mut holder in holders {
        let _ = holder.kill();
        let _ = holder.wait();
    }
    assert!(refused, "a third connection was not refused: {last}");
}

#[test]
fn writes_when_allowed_stay_in_their_session() {
    if tools().is_none() {
        return;
    }
    let server = Server::start(&[], &["--allow-writes"], &[]);
    let out = server.psql(
        "analyst",
        None,
        &[
            "-At",
            "-c",
            "CREATE VIEW big_spenders AS SELECT customer_id FROM transactions WHERE amount > 500",
            "-c",
            "SELECT count(*) > 0 FROM big_spenders",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).ends_with("t\n"), "{}", text(&out.stdout));
    // Another connection has a session of its own: the view is not there.
    let other = server.psql("other", None, &["-c", "SELECT * FROM big_spenders"]);
    assert!(!other.status.success());
    assert!(
        text(&other.stderr).contains("big_spenders"),
        "{}",
        text(&other.stderr)
    );
}

#[test]
fn the_memory_limit_holds_for_every_session() {
    if tools().is_none() {
        return;
    }
    // One pool for the server: a connection's session cannot get around it.
    let server = Server::start(&["--memory-limit", "32M"], &[], &[]);
    let out = server.psql(
        "greedy",
        None,
        &[
            "-v",
            "VERBOSITY=verbose",
            "-c",
            "SELECT array_length(array_agg(value), 1) FROM range(50000000)",
        ],
    );
    let error = text(&out.stderr);
    assert!(
        error.contains("ERROR:  53200: Resources exhausted"),
        "{error}"
    );
    assert!(error.contains("pool_size: 32.0 MB"), "{error}");
    let ok = server.psql(
        "other",
        None,
        &["-At", "-c", "SELECT count(*) FROM customers"],
    );
    assert_eq!(text(&ok.stdout).trim(), "1000", "{}", text(&ok.stderr));
}
