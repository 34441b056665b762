//! Segment maps of one's own: `seglake maps`, maps in the lake, in seglake.toml and given with
//! --segment-map, used by rfm_segment and the saved queries.

mod common;

use common::{parquet_lake, seglake_in};

/// Two bins; the most recent and frequent customer is `best`, everyone else `rest`. In the
/// fixture lake customer 2 (three orders, the last on 2024-04-01) scores r 2, f 2 and m 2 and
/// customer 1 (one order on 2024-01-05 and a refund) scores 1, 1, 1.
const VIP: &str = "bins = 2\nfallback = \"rest\"\n[[rule]]\nname = \"best\"\nr = 2\nf = 2\n";

/// As VIP without a fallback: customer 1's code 111 has no segment.
const STRICT: &str = "bins = 2\n[[rule]]\nname = \"best\"\nr = 2\nf = 2\n";

#[test]
fn check_counts_codes_and_fails_on_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let gappy = "[[rule]]\nname = \"top\"\nr = [4, 5]\n[[rule]]\nname = \"shadowed\"\nr = 5\n\
                 [[rule]]\nname = \"low\"\nr = [1, 2]\n";
    std::fs::write(dir.path().join("gappy.toml"), gappy).unwrap();
    let run = seglake_in(dir.path(), &["maps", "check", "gappy.toml"], "");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("rule  1  top         50 codes  r 4-5"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("rule  2  shadowed     0 codes  r 5  NEVER MATCHES"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("25 code(s) match no rule and the map has no fallback: 311, 312, 313"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("segment map 'gappy' leaves 25 code(s) to no segment"),
        "{}",
        run.stderr
    );

    std::fs::write(dir.path().join("vip.toml"), VIP).unwrap();
    let run = seglake_in(dir.path(), &["maps", "check", "vip.toml"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("over 8 codes (2 bins), fallback 'rest'"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("6 code(s) match no rule and go to 'rest'"),
        "{}",
        run.stdout
    );

    let run = seglake_in(
        dir.path(),
        &["maps", "check", "vip.toml", "--bins", "5"],
        "",
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("segment map 'vip': it says bins = 2, not 5"),
        "{}",
        run.stderr
    );

    std::fs::write(
        dir.path().join("bad.toml"),
        "[[rule]]\nname = 'a'\nr = [0, 2]\n",
    )
    .unwrap();
    let run = seglake_in(dir.path(), &["maps", "check", "bad.toml"], "");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("rule 1 ('a'): r = [0, 2] is outside the scores 1..5 (in 'bad.toml')"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn list_and_show_every_source() {
    let dir = parquet_lake().await;
    let maps = dir.path().join("lake/_segment_maps");
    std::fs::create_dir_all(&maps).unwrap();
    std::fs::write(maps.join("vip.toml"), VIP).unwrap();
    std::fs::write(dir.path().join("strict.toml"), STRICT).unwrap();
    let args = [
        "--lake",
        "lake",
        "--segment-map",
        "strict=strict.toml",
        "maps",
    ];
    let run = seglake_in(dir.path(), &[&args[..], &["list"]].concat(), "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let names: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| !l.starts_with(' '))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(names, ["standard", "rfm_package", "pymc", "vip", "strict"]);
    assert!(
        run.stdout
            .contains("vip  2 bins, 1 rules, fallback 'rest'  (lake/_segment_maps/vip.toml)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("strict  2 bins, 1 rules, fallback none  (strict.toml)"),
        "{}",
        run.stdout
    );

    let run = seglake_in(dir.path(), &["maps", "show", "standard"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("name = \"champions\"\nr = 5\nf = [4, 5]"),
        "{}",
        run.stdout
    );

    // A shown map is a valid map file again.
    let run = seglake_in(dir.path(), &[&args[..], &["show", "vip"]].concat(), "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::write(dir.path().join("again.toml"), &run.stdout).unwrap();
    let check = seglake_in(dir.path(), &["maps", "check", "again.toml"], "");
    assert_eq!(check.code, 0, "{}", check.stdout);

    let run = seglake_in(dir.path(), &["maps", "show", "nope"], "");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("unknown segment map 'nope': expected one of 'standard'"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn own_maps_in_sql_and_saved_queries() {
    let dir = parquet_lake().await;
    let maps = dir.path().join("lake/_segment_maps");
    std::fs::create_dir_all(&maps).unwrap();
    std::fs::write(maps.join("vip.toml"), VIP).unwrap();

    // From the lake, in a saved query: scored in the map's 2 bins.
    let run = seglake_in(
        dir.path(),
        &[
            "--lake",
            "lake",
            "--format",
            "csv",
            "run",
            "rfm_segments",
            "--param",
            "as_of=2024-05-01",
            "--param",
            "map=vip",
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let last = |row: &Vec<&str>| row[row.len() - 2..].join(",");
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0][0], last(&rows[0]).as_str()), ("1", "111,rest"));
    assert_eq!((rows[1][0], last(&rows[1]).as_str()), ("2", "222,best"));

    // The summary names each segment's rule.
    let run = seglake_in(
        dir.path(),
        &[
            "--lake",
            "lake",
            "--format",
            "csv",
            "run",
            "rfm_segment_summary",
            "--param",
            "as_of=2024-05-01",
            "--param",
            "map=vip",
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("segment,rule,customers,"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\nbest,\"r 2, f 2\",1,"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\nrest,no rule matches,1,"),
        "{}",
        run.stdout
    );

    // From seglake.toml and from --segment-map (which wins for the same name).
    std::fs::write(dir.path().join("strict.toml"), STRICT).unwrap();
    std::fs::write(
        dir.path().join("seglake.toml"),
        "[segment_maps]\nstrict = 'strict.toml'\n",
    )
    .unwrap();
    let sql = "SELECT rfm_segment(2, 2, 1, 'strict') AS a, rfm_segment(2, 2, 1, 'vip') AS b";
    let run = seglake_in(
        dir.path(),
        &["--lake", "lake", "--format", "csv", "-c", sql],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "a,b\nbest,best\n");
    // The load-time check speaks up about the gaps of a map without fallback.
    assert!(
        run.stderr.contains("warning: segment map 'strict' (")
            && run
                .stderr
                .contains("has no fallback and no rule for 6 code(s): 111, 112, 121"),
        "{}",
        run.stderr
    );
    std::fs::write(dir.path().join("all.toml"), "fallback = 'everyone'\n").unwrap();
    let run = seglake_in(
        dir.path(),
        &[
            "--segment-map",
            "strict=all.toml",
            "--format",
            "csv",
            "-c",
            "SELECT rfm_segment(1, 1, 1, 'strict') AS s",
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "s\neveryone\n");

    // An uncovered code at query time is an error naming the code and the map.
    let run = seglake_in(
        dir.path(),
        &[
            "--lake",
            "lake",
            "run",
            "rfm_segments",
            "--param",
            "as_of=2024-05-01",
            "--param",
            "map=strict",
        ],
        "",
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("code 111 matches no rule of the 'strict' map, which has no fallback"),
        "{}",
        run.stderr
    );

    // A broken map in the lake stops the session with its file named.
    std::fs::write(maps.join("broken.toml"), "bins = 'five'\n").unwrap();
    let run = seglake_in(dir.path(), &["--lake", "lake", "-c", "SELECT 1"], "");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("segment map 'broken'")
            && run.stderr.contains("_segment_maps/broken.toml"),
        "{}",
        run.stderr
    );
}
