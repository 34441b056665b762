//! `seglake report`: a self-contained page whose charts draw exactly their saved queries'
//! results, rendered by a real browser offline, and a clear outcome on bad input.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Run, seglake_env};
use serde_json::Value;
use tempfile::TempDir;

/// A generated lake of 400 customers (about 8,000 transactions) in `dir/lake`.
fn generated_lake(dir: &Path) -> PathBuf {
    let lake = dir.join("lake");
    let run = seglake_env(
        dir,
        &["gen", "--customers", "400", "--out", lake.to_str().unwrap()],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    lake
}

fn report(dir: &Path, lake: &Path, extra: &[&str]) -> (Run, PathBuf) {
    let output = dir.join("report.html");
    let mut args = vec![
        "--lake",
        lake.to_str().unwrap(),
        "report",
        "--output",
        output.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    (seglake_env(dir, &args, &[]), output)
}

/// One `<figure>` of the page.
#[derive(Debug)]
struct Figure {
    id: String,
    html: String,
    declared_marks: usize,
    /// The figure's embedded result: {query, params, data: {columns, rows}}.
    data: Option<Value>,
}

impl Figure {
    fn marks(&self) -> usize {
        self.html.matches("class=\"mark\"").count()
    }

    fn rows(&self) -> &Vec<Value> {
        self.data.as_ref().expect("embedded data")["data"]["rows"]
            .as_array()
            .expect("rows")
    }

    fn column(&self, name: &str) -> Vec<Value> {
        let data = &self.data.as_ref().expect("embedded data")["data"];
        let columns = data["columns"].as_array().unwrap();
        let index = columns.iter().position(|c| c == name).expect(name);
        self.rows().iter().map(|r| r[index].clone()).collect()
    }

    fn tooltips(&self) -> Vec<String> {
        self.html
            .split("<title>")
            .skip(1)
            .map(|t| t.split("</title>").next().unwrap().to_string())
            .collect()
    }
}

fn attribute(html: &str, name: &str) -> String {
    let start = html.find(&format!("{name}=\"")).expect(name) + name.len() + 2;
    html[start..].split('"').next().unwrap().to_string()
}

fn figures(html: &str) -> Vec<Figure> {
    let mut out: Vec<Figure> = Vec::new();
    for part in html.split("<figure class=\"chart\"").skip(1) {
        let body = part.split("</figure>").next().unwrap().to_string();
        let data = body.split("class=\"figure-data\"").nth(1).map(|rest| {
            let json = rest
                .split_once('>')
                .unwrap()
                .1
                .split("</script>")
                .next()
                .unwrap();
            serde_json::from_str(&json.replace("<\\/", "</")).expect("embedded JSON parses")
        });
        out.push(Figure {
            id: attribute(&body, "id"),
            declared_marks: attribute(&body, "data-marks").parse().unwrap(),
            html: body,
            data,
        });
    }
    // A figure drawing the same result as an earlier one refers to it instead of repeating it.
    for i in 0..out.len() {
        if out[i].data.is_none() && out[i].html.contains("class=\"same-data\"") {
            let source = attribute(&out[i].html, "data-source");
            let id = source.trim_start_matches("data-");
            let shared = out.iter().find(|f| f.id == id).and_then(|f| f.data.clone());
            out[i].data = shared;
        }
    }
    out
}

fn number(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// The text the page shows for an integer: thousands separators.
fn separated(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[test]
fn the_page_is_self_contained_and_each_chart_draws_its_saved_query() {
    let dir = TempDir::new().unwrap();
    let lake = generated_lake(dir.path());
    let (run, output) = report(dir.path(), &lake, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Progress per section, then the total.
    assert!(
        run.stderr.contains("report: [1/9] segments"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("report: [9/9] kpis"), "{}", run.stderr);
    assert!(run.stderr.contains("wrote "), "{}", run.stderr);
    let html = std::fs::read_to_string(&output).unwrap();

    // Nothing is fetched from anywhere: no URL, no src attribute, no url() in styles.
    for needle in ["http://", "https://", "url(", " src=", "@import"] {
        assert!(!html.contains(needle), "the page refers to '{needle}'");
    }
    assert!(html.contains("<h2>Summary</h2>") && html.contains("<h2>Contents</h2>"));
    // Written atomically, yet with the mode of any new file (not the temporary file's 0600).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let plain = dir.path().join("plain");
        std::fs::File::create(&plain).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&output), mode(&plain));
    }
    assert!(html.contains(&format!("seglake {}", seglake::VERSION)));

    let figures = figures(&html);
    let ids: Vec<&str> = figures.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "segments-share",
            "grid",
            "grid-monetary",
            "treemap",
            "concentration",
            "cohorts",
            "migration",
            "lifecycle",
            "kmeans-profile",
            "kmeans-elbow",
            "clv-distribution",
            "clv-total",
            "alive-matrix",
            "expected-matrix",
            "kpis"
        ]
    );
    for figure in &figures {
        assert!(
            !figure.html.contains("class=\"unavailable\""),
            "{}: {}",
            figure.id,
            figure.html
        );
        assert_eq!(figure.marks(), figure.declared_marks, "{}", figure.id);
        assert_eq!(
            figure.tooltips().len(),
            figure.marks(),
            "{}: a tooltip per mark",
            figure.id
        );
        // The number of marks follows from the data: one per value drawn.
        let rows = figure.rows().len();
        let expected = match figure.id.as_str() {
            "segments-share" | "kmeans-elbow" => 2 * rows,
            "kmeans-profile" => 3 * rows,
            "treemap" => figure
                .column("customers")
                .iter()
                .filter(|c| number(c) > 0.0)
                .count(),
            "kpis" => {
                let data = &figure.data.as_ref().unwrap()["data"];
                let columns = data["columns"].as_array().unwrap();
                figure
                    .rows()
                    .iter()
                    .map(|row| {
                        row.as_array()
                            .unwrap()
                            .iter()
                            .zip(columns)
                            .filter(|(v, c)| {
                                v.is_number() && *c != "segment" && *c != "kmeans_cluster"
                            })
                            .count()
                    })
                    .sum()
            }
            _ => rows,
        };
        assert_eq!(figure.marks(), expected, "{}", figure.id);
    }

    // The bins x bins grid; one bar per segment and series; one cell per cohort x month.
    let by_id = |id: &str| figures.iter().find(|f| f.id == id).unwrap();
    assert_eq!(by_id("grid").marks(), 25);
    let share = by_id("segments-share");
    let tooltips = share.tooltips();
    for (segment, customers) in share
        .column("segment")
        .iter()
        .zip(share.column("customers"))
    {
        let text = format!("{}: ", segment.as_str().unwrap());
        let count = format!("({} customers)", separated(customers.as_i64().unwrap()));
        assert!(
            tooltips
                .iter()
                .any(|t| t.starts_with(&text) && t.contains(&count)),
            "no tooltip for {text}{count} in {tooltips:?}"
        );
    }
    let cohorts = by_id("cohorts");
    let tooltips = cohorts.tooltips();
    for ((month, active), cohort) in cohorts
        .column("months_since")
        .iter()
        .zip(cohorts.column("active_customers"))
        .zip(cohorts.column("cohort"))
    {
        let text = format!("cohort {}", &cohort.as_str().unwrap()[..7]);
        let cell = format!(
            "month {month}: {} active",
            separated(active.as_i64().unwrap())
        );
        assert!(
            tooltips
                .iter()
                .any(|t| t.starts_with(&text) && t.contains(&cell)),
            "no tooltip for {text} {cell}"
        );
    }

    // Each embedded result is what `seglake run` gives for the same query and parameters.
    let mut checked = 0;
    for figure in figures
        .iter()
        .filter(|f| f.html.contains("class=\"figure-data\""))
    {
        let embedded = figure.data.as_ref().unwrap();
        let query = embedded["query"].as_str().unwrap();
        let mut args = vec![
            "--lake".to_string(),
            lake.display().to_string(),
            "run".into(),
            query.into(),
            "--format".into(),
            "json".into(),
        ];
        for (name, value) in embedded["params"].as_object().unwrap() {
            args.push("--param".into());
            args.push(format!("{name}={}", value.as_str().unwrap()));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = seglake_env(dir.path(), &args, &[]);
        assert_eq!(run.code, 0, "{query}: {}", run.stderr);
        let expected: Vec<serde_json::Map<String, Value>> =
            serde_json::from_str(&run.stdout).unwrap();
        let columns = embedded["data"]["columns"].as_array().unwrap();
        let rows = figure.rows();
        assert_eq!(rows.len(), expected.len(), "{query}: rows");
        for (row, want) in rows.iter().zip(&expected) {
            for (value, column) in row.as_array().unwrap().iter().zip(columns) {
                let want = want.get(column.as_str().unwrap()).unwrap_or(&Value::Null);
                // Equal, up to the order in which partitions' floating-point sums are added
                // (1e-12 relative; counts and text exactly).
                let same = match (value, want) {
                    (Value::Number(a), Value::Number(b)) => {
                        let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
                        a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
                    }
                    (a, b) => a == b,
                };
                assert!(same, "{query}.{column}: page {value} vs run {want}");
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 12, "one embedded result per distinct query");
}

/// Chromium's binary, or why the test cannot run (never accepted under CI=true).
fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join(name))
                    .find(|p| p.is_file())
            })
        });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is not installed (.ci/run installs Debian's chromium)"
        );
        eprintln!("skipped: chromium is not installed (apt-get install chromium)");
    }
    found
}

/// Runs headless Chromium with networking disabled on `page`, with `args`; its stdout (kept in
/// a file, so that a large DOM never blocks it on a full pipe).
fn headless(chromium: &Path, profile: &Path, page: &Path, args: &[&str]) -> String {
    let stdout_path = profile.with_extension("stdout");
    let stdout = std::fs::File::create(&stdout_path).unwrap();
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            // No network: every host resolves to nothing and every proxy is a closed port.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=127.0.0.1:9",
            &format!("--user-data-dir={}", profile.display()),
        ])
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::read_to_string(&stdout_path).unwrap()
}

#[test]
fn chromium_renders_every_chart_offline_without_script_errors() {
    let Some(chromium) = chromium() else { return };
    let dir = TempDir::new().unwrap();
    let lake = generated_lake(dir.path());
    let (run, output) = report(dir.path(), &lake, &["--param", "map=rfm_package"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let html = std::fs::read_to_string(&output).unwrap();
    let page_figures = figures(&html);
    let profile = dir.path().join("profile");
    let dom = headless(&chromium, &profile, &output, &["--dump-dom"]);
    // The page's script ran to its end: every figure's marks are in the DOM as declared, and
    // no script error was recorded.
    let rendered = format!(
        "data-rendered=\"{}/{}\"",
        page_figures.len(),
        page_figures.len()
    );
    assert!(dom.contains(&rendered), "{}", &dom[..dom.len().min(2000)]);
    let body = dom
        .split("<body")
        .nth(1)
        .unwrap()
        .split('>')
        .next()
        .unwrap();
    assert!(
        !body.contains("data-script-errors"),
        "script errors: {body}"
    );
    assert!(dom.contains("<pre id=\"script-errors\" hidden=\"\"></pre>"));
    let dom_figures = figures(&dom);
    assert_eq!(dom_figures.len(), page_figures.len());
    for (shown, written) in dom_figures.iter().zip(&page_figures) {
        assert_eq!(shown.marks(), written.marks(), "{}", shown.id);
    }
    let screenshot = dir.path().join("report.png");
    headless(
        &chromium,
        &profile,
        &output,
        &[
            "--hide-scrollbars",
            "--window-size=1280,2400",
            &format!("--screenshot={}", screenshot.display()),
        ],
    );
    let size = std::fs::metadata(&screenshot).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 20_000,
        "a screenshot of the rendered page ({size} bytes)"
    );
}

#[test]
fn bad_input_gives_a_report_that_says_why_or_a_clear_error() {
    let dir = TempDir::new().unwrap();
    let lake = generated_lake(dir.path());

    // as_of before any purchase: every section says why, exit 0.
    let (run, output) = report(dir.path(), &lake, &["--as-of", "2000-01-01"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let html = std::fs::read_to_string(&output).unwrap();
    assert!(
        html.contains("No purchase before as_of 2000-01-01: the first transaction is on 2022-01-"),
        "{html}"
    );
    assert!(
        figures(&html)
            .iter()
            .all(|f| f.html.contains("class=\"unavailable\""))
    );

    // A lake without the optional tables: the sections that need them say which.
    let only_transactions = dir.path().join("only_transactions");
    std::fs::create_dir(&only_transactions).unwrap();
    let from = lake.join("transactions");
    let to = only_transactions.join("transactions");
    std::fs::create_dir(&to).unwrap();
    for entry in std::fs::read_dir(&from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    let (run, output) = report(dir.path(), &only_transactions, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let html = std::fs::read_to_string(&output).unwrap();
    let figures = figures(&html);
    let by_id = |id: &str| figures.iter().find(|f| f.id == id).unwrap();
    assert!(!by_id("segments-share").html.contains("unavailable"));
    assert!(
        by_id("kpis")
            .html
            .contains("this needs the table &#39;customers&#39; (query kpi_dashboard"),
        "{}",
        by_id("kpis").html
    );
    assert!(by_id("concentration").html.contains("unavailable"));

    // An empty lake: a transactions table without rows.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(empty.join("transactions")).unwrap();
    let copy = format!(
        "COPY (SELECT * FROM transactions WHERE false) TO '{}'",
        empty.join("transactions/part-0.parquet").display()
    );
    let run = seglake_env(
        dir.path(),
        &["--lake", lake.to_str().unwrap(), "-c", &copy],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (run, output) = report(dir.path(), &empty, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let html = std::fs::read_to_string(&output).unwrap();
    assert!(
        html.contains("The transactions table has no rows"),
        "{html}"
    );

    // A lake without transactions: a clear error, exit 1, and no file.
    let no_transactions = dir.path().join("no_transactions");
    std::fs::create_dir_all(&no_transactions).unwrap();
    std::fs::rename(
        empty.join("transactions"),
        no_transactions.join("customers"),
    )
    .unwrap();
    std::fs::remove_file(&output).unwrap();
    let (run, output) = report(dir.path(), &no_transactions, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the report needs a table named 'transactions' (with columns customer_id, order_ts, amount); the lake has tables customers"),
        "{}",
        run.stderr
    );
    assert!(!output.exists());

    // A --param no query takes, and an unknown section: usage errors, no file.
    let (run, output) = report(dir.path(), &lake, &["--param", "colour=red"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("no query of the report takes --param colour"),
        "{}",
        run.stderr
    );
    assert!(!output.exists());
    let (run, _) = report(dir.path(), &lake, &["--sections", "segments,pie"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("unknown section 'pie'"),
        "{}",
        run.stderr
    );

    // Only the sections asked for, in that order.
    let (run, output) = report(dir.path(), &lake, &["--sections", "cohorts,grid", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.is_empty(), "--quiet: {}", run.stderr);
    let html = std::fs::read_to_string(&output).unwrap();
    let ids: Vec<String> = self::figures(&html).into_iter().map(|f| f.id).collect();
    assert_eq!(ids, ["cohorts", "grid", "grid-monetary"]);
}
