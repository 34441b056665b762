//! Runs killed with SIGKILL at seeded random moments while they write: afterwards the target
//! is the complete new result or exactly the previous one, never a partial or mixed one,
//! nothing a reader would take for data is left beside it (temporary files are hidden), and
//! the next complete run removes what the killed ones left.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Kills per command: each lands at a random moment within the run's usual duration.
const KILLS: usize = 8;

/// A result as a reader sees it: each folder under `path` (or `path` itself) with the bytes
/// of its files in order. File names are left out: DataFusion names the files of a
/// partitioned write at random on every run.
fn snapshot(path: &Path) -> BTreeMap<PathBuf, Vec<Vec<u8>>> {
    let mut folders: BTreeMap<PathBuf, Vec<Vec<u8>>> = BTreeMap::new();
    for (file, bytes) in files(path) {
        let folder = file.parent().map(Path::to_path_buf).unwrap_or_default();
        folders.entry(folder).or_default().push(bytes);
    }
    for contents in folders.values_mut() {
        contents.sort();
    }
    folders
}

/// Every file under `path` (or `path` itself) with its bytes, by path relative to `path`.
fn files(path: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    if path.is_file() {
        files.insert(PathBuf::new(), std::fs::read(path).expect("the file reads"));
    } else if path.is_dir() {
        let mut stack = vec![path.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("the folder lists") {
                let entry = entry.expect("an entry");
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p.strip_prefix(path).expect("inside").to_path_buf();
                    files.insert(rel, std::fs::read(&p).expect("the file reads"));
                }
            }
        }
    }
    files
}

/// The names in `dir` that are hidden (starting with `.`: temporary files and folders of
/// runs, which readers skip) or, with `hidden` false, the others.
fn names(dir: &Path, hidden: bool) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the folder lists")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.starts_with('.') == hidden)
        .collect();
    names.sort();
    names
}

fn seglake(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_seglake"));
    command
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("SEGLAKE_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// Runs `args` to completion; returns how long it took.
fn complete(dir: &Path, args: &[&str]) -> Duration {
    let started = Instant::now();
    let status = seglake(dir, args).status().expect("seglake runs");
    assert!(status.success(), "{args:?} failed");
    started.elapsed()
}

/// Writes `target` with `old_args`, then with `new_args` elsewhere for the expected new result,
/// then kills `new_args` runs at random moments: after each, `target` must be exactly one of
/// the two. Returns how many kills left each.
fn kill_while_writing(
    dir: &Path,
    target: &str,
    old_args: &[&str],
    new_args: &[&str],
    seed: u64,
) -> (usize, usize) {
    let path = dir.join(target);
    // The new result, written to the target and moved away.
    let duration = complete(dir, new_args);
    let new = snapshot(&path);
    assert!(!new.is_empty(), "{new_args:?} wrote {target}");
    complete(dir, old_args);
    let old = snapshot(&path);
    assert_ne!(old, new, "the two results differ");
    let (mut kept_old, mut got_new) = (0, 0);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let before = names(dir, false);
    for kill in 0..KILLS {
        let mut child = seglake(dir, new_args).spawn().expect("seglake starts");
        // Half anywhere in the run, half near its end, where the result is put in place.
        let share = if kill % 2 == 0 {
            rng.random_range(0.05..1.0)
        } else {
            rng.random_range(0.85..1.1)
        };
        let at = duration.mul_f64(share);
        std::thread::sleep(at);
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        let now = snapshot(&path);
        if now == old {
            kept_old += 1;
        } else if now == new {
            got_new += 1;
            // Back to the old result, so later kills can show either outcome again.
            complete(dir, old_args);
        } else {
            panic!(
                "kill {kill} at {at:?} left {target} neither old nor new: {:?}",
                now.keys().collect::<Vec<_>>()
            );
        }
        assert_eq!(
            names(dir, false),
            before,
            "kill {kill} at {at:?} left visible files"
        );
    }
    // The next complete run removes what the killed ones left (hidden, but it would pile up).
    println!("{target}: killed runs left {:?}", names(dir, true));
    complete(dir, new_args);
    assert_eq!(snapshot(&path), new);
    assert_eq!(
        names(dir, true),
        Vec::<String>::new(),
        "left by killed runs"
    );
    (kept_old, got_new)
}

fn as_str(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

const ORDERS: &str = "SELECT customer_id, count(*) AS orders, sum(amount) AS revenue \
                      FROM transactions GROUP BY customer_id ORDER BY customer_id";

fn lake(dir: &Path) {
    complete(
        dir,
        &["gen", "--customers", "1500", "--seed", "7", "--out", "lake"],
    );
}

#[test]
fn a_killed_output_file_is_old_or_new() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    lake(dir.path());
    let new = ORDERS.to_string();
    let old = ORDERS.replace("GROUP BY", "WHERE customer_id % 2 = 0 GROUP BY");
    let args = |sql: &str| -> Vec<String> {
        ["--lake", "lake", "-c", sql, "--output", "out.parquet"]
            .map(String::from)
            .to_vec()
    };
    let (old_args, new_args) = (args(&old), args(&new));
    let (kept, replaced) = kill_while_writing(
        dir.path(),
        "out.parquet",
        &as_str(&old_args),
        &as_str(&new_args),
        1,
    );
    println!("--output file: {kept} kills kept the old result, {replaced} left the new one");
}

#[test]
fn a_killed_copy_to_is_old_or_new() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    lake(dir.path());
    let copy = |sql: &str| format!("COPY ({sql}) TO 'out.parquet'");
    let new = copy(ORDERS);
    let old = copy(&ORDERS.replace("GROUP BY", "WHERE customer_id % 2 = 0 GROUP BY"));
    let (kept, replaced) = kill_while_writing(
        dir.path(),
        "out.parquet",
        &["--lake", "lake", "-c", &old],
        &["--lake", "lake", "-c", &new],
        3,
    );
    println!("COPY ... TO: {kept} kills kept the old result, {replaced} left the new one");
}

#[test]
fn copy_to_a_folder_replaces_it_whole() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    lake(dir.path());
    let copy = |parts: u32| {
        format!(
            "COPY (SELECT customer_id, customer_id % {parts} AS part FROM customers) \
             TO 'out/' STORED AS PARQUET PARTITIONED BY (part)"
        )
    };
    complete(dir.path(), &["--lake", "lake", "-c", &copy(3)]);
    assert_eq!(
        names(&dir.path().join("out"), false),
        ["part=0", "part=1", "part=2"]
    );
    complete(dir.path(), &["--lake", "lake", "-c", &copy(2)]);
    // DataFusion's own COPY would have added to the folder and kept part=2.
    assert_eq!(names(&dir.path().join("out"), false), ["part=0", "part=1"]);
    assert_eq!(names(dir.path(), true), Vec::<String>::new());
}

#[test]
fn a_killed_partitioned_output_is_old_or_new() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    lake(dir.path());
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
            "out",
            "--partition-by",
            "segment",
        ]
    };
    let (kept, replaced) = kill_while_writing(
        dir.path(),
        "out",
        &args("as_of=2023-06-30"),
        &args("as_of=2024-06-30"),
        2,
    );
    println!("--partition-by: {kept} kills kept the old result, {replaced} left the new one");
}

#[test]
fn a_killed_gen_is_the_old_lake_or_the_new_one() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let gen_args = |seed: &'static str| {
        [
            "gen",
            "--customers",
            "1500",
            "--seed",
            seed,
            "--out",
            "lake",
            "--overwrite",
        ]
    };
    let (kept, replaced) =
        kill_while_writing(dir.path(), "lake", &gen_args("1"), &gen_args("2"), 3);
    println!("gen --overwrite: {kept} kills kept the old lake, {replaced} left the new one");
}
