//! The REPL in a real terminal (tmux): completion, the pager, `\e`, and tables fitted to the
//! screen. Each test starts its own tmux server on a private socket and stops it after.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A seglake REPL running in a detached tmux session.
struct Terminal {
    socket: String,
    _dir: TempDir,
}

fn tmux_installed() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "tmux is not installed (.ci/run installs Debian's tmux)"
        );
        eprintln!("skipped: tmux is not installed (apt-get install tmux)");
    }
    found
}

impl Terminal {
    /// Starts `seglake --lake tests/data/lake` in a `width` x 30 terminal with `env` set.
    fn start(name: &str, width: u16, env: &[(&str, String)]) -> Self {
        let dir = TempDir::new().unwrap();
        let socket = format!("seglake-{name}-{}", std::process::id());
        let lake = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lake");
        let mut command = format!(
            "env HOME={home} SEGLAKE_HISTORY={home}/history TERM=xterm-256color",
            home = dir.path().display()
        );
        for (key, value) in env {
            command.push_str(&format!(" {key}='{value}'"));
        }
        command.push_str(&format!(
            " {} --lake {} --config /dev/null",
            env!("CARGO_BIN_EXE_seglake"),
            lake.display()
        ));
        let started = tmux(
            &socket,
            &[
                "new-session",
                "-d",
                "-s",
                "repl",
                "-x",
                &width.to_string(),
                "-y",
                "30",
                &command,
            ],
        );
        assert!(
            started.status.success(),
            "{}",
            String::from_utf8_lossy(&started.stderr)
        );
        let terminal = Self { socket, _dir: dir };
        terminal.wait_for("the prompt", |screen| screen.contains("seglake>"));
        terminal
    }

    /// Types `text` literally (a `;` that ends an argument is tmux's command separator, so
    /// semicolons go as their key code).
    fn type_text(&self, text: &str) {
        for (i, part) in text.split(';').enumerate() {
            if i > 0 {
                tmux(&self.socket, &["send-keys", "-t", "repl", "-H", "3b"]);
            }
            if !part.is_empty() {
                tmux(&self.socket, &["send-keys", "-t", "repl", "-l", part]);
            }
        }
    }

    /// Presses `key` (tmux's names: Tab, Enter, q, C-c).
    fn press(&self, key: &str) {
        tmux(&self.socket, &["send-keys", "-t", "repl", key]);
    }

    /// Presses Ctrl-C and waits for the fresh prompt it leaves, so keys typed next are not
    /// lost while the line editor starts again (seen on a loaded machine).
    fn interrupt(&self) {
        self.press("C-c");
        self.wait_for("a fresh prompt", |s| {
            s.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(str::trim_end)
                == Some("seglake>")
        });
    }

    fn screen(&self) -> String {
        let output = tmux(&self.socket, &["capture-pane", "-p", "-t", "repl"]);
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Waits up to 20 s for the screen to show `what`; panics with the screen otherwise.
    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            if started.elapsed() > Duration::from_secs(20) {
                panic!("waited 20 s for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for an empty prompt: what is typed before the line editor starts may be lost.
    fn wait_prompt(&self) {
        self.wait_for("the prompt", |screen| {
            screen
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .is_some_and(|l| l.trim_end() == "seglake>")
        });
    }

    /// The line the cursor is on (the one being typed).
    fn input_line(&self) -> String {
        let screen = self.screen();
        screen
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .to_string()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        tmux(&self.socket, &["kill-server"]);
    }
}

fn tmux(socket: &str, args: &[&str]) -> Output {
    Command::new("tmux")
        .args(["-L", socket])
        .args(args)
        .output()
        .expect("tmux runs")
}

#[test]
fn completion_knows_the_place_and_the_library() {
    if !tmux_installed() {
        return;
    }
    let terminal = Terminal::start("complete", 120, &[]);
    terminal.type_text("SELECT * FROM tr");
    terminal.press("Tab");
    terminal.wait_for("the table completed", |s| {
        s.contains("SELECT * FROM transactions")
    });
    terminal.interrupt();

    terminal.type_text("\\run retent");
    terminal.press("Tab");
    terminal.wait_for("the query completed", |s| s.contains("\\run retention"));
    terminal.interrupt();
    // Two queries share the prefix: Tab completes it, a second Tab lists them.
    terminal.type_text("\\run rfm_segm");
    terminal.press("Tab");
    terminal.press("Tab");
    terminal.wait_for("both queries", |s| {
        s.contains("rfm_segment_summary") && s.contains("rfm_segments")
    });
    terminal.type_text("s ma");
    terminal.press("Tab");
    terminal.wait_for("its parameter", |s| s.contains("\\run rfm_segments map="));
    terminal.type_text("rfm_package");
    terminal.interrupt();

    terminal.type_text("SELECT rfm_segment(5, 5, 5, 'rfm_p");
    terminal.press("Tab");
    terminal.wait_for("the segment map", |s| s.contains("'rfm_package"));
    terminal.type_text("') AS s;");
    terminal.press("Enter");
    terminal.wait_for("the segment", |s| s.contains("champions"));

    // After FROM only tables: a column name does not complete there.
    terminal.type_text("SELECT * FROM order_");
    terminal.press("Tab");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        terminal.input_line().ends_with("FROM order_"),
        "{}",
        terminal.screen()
    );
    terminal.interrupt();
    terminal.type_text("SELECT amo");
    terminal.press("Tab");
    terminal.wait_for("the column", |s| s.contains("SELECT amount"));
}

#[test]
fn tall_results_go_through_the_pager_and_last_shows_them_again() {
    if !tmux_installed() {
        return;
    }
    let terminal = Terminal::start("pager", 100, &[("PAGER", "less -S".into())]);
    terminal.type_text("SELECT value * 2 AS doubled FROM range(100);");
    terminal.press("Enter");
    // less shows the first rows and waits (its prompt is the last line: ':' or '(END)').
    let screen = terminal.wait_for("less", |s| {
        s.contains("doubled") && s.lines().last().is_some_and(|l| l.starts_with(':'))
    });
    assert!(screen.contains(" 0 |"), "{screen}");
    terminal.press("q");
    terminal.wait_for("the note on hidden rows", |s| {
        s.contains("100 rows; 40 shown, 60 hidden")
    });
    terminal.wait_prompt();
    terminal.type_text("\\pager off");
    terminal.press("Enter");
    terminal.wait_for("pager off", |s| s.contains("pager off\nseglake>"));
    terminal.type_text("\\last");
    terminal.press("Enter");
    terminal.wait_for("every row, without a pager", |s| {
        s.contains(" 198 |") && s.contains("100 rows")
    });
}

#[test]
fn e_runs_what_the_editor_saved() {
    if !tmux_installed() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let editor: PathBuf = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\n# appends to what seglake gave, as a person would\ncat \"$1\" > \"$1.seen\"\nprintf 'SELECT 40 + 2 AS answer;\\n' > \"$1\"\n",
    )
    .unwrap();
    let chmod = Command::new("chmod")
        .arg("+x")
        .arg(&editor)
        .status()
        .unwrap();
    assert!(chmod.success());
    let terminal = Terminal::start("edit", 100, &[("EDITOR", editor.display().to_string())]);
    terminal.type_text("\\e");
    terminal.press("Enter");
    terminal.wait_for("the edited statement's result", |s| {
        s.contains("SELECT 40 + 2 AS answer;") && s.contains(" 42 |")
    });
}

#[test]
fn wide_results_hide_middle_columns_and_floats_are_readable() {
    if !tmux_installed() {
        return;
    }
    let terminal = Terminal::start("wide", 60, &[]);
    terminal.type_text(
        "SELECT 1 AS first, repeat('x', 40) AS wide_text, 2 AS third, 0.5934065934065934 AS share;",
    );
    terminal.press("Enter");
    let screen = terminal.wait_for("the fitted table", |s| s.contains("hidden to fit"));
    assert!(screen.contains("0.593407"), "{screen}");
    let table: Vec<&str> = screen.lines().filter(|l| l.starts_with('|')).collect();
    assert!(
        table.iter().all(|l| !l.contains("0.5934065934065934")),
        "{screen}"
    );
    assert!(table.iter().any(|l| l.contains("third")), "{screen}");
    assert!(table.iter().all(|l| !l.contains("wide_text")), "{screen}");
    assert!(
        screen.contains("(wide_text)"),
        "the note names the hidden column: {screen}"
    );
    assert!(screen.lines().all(|l| l.chars().count() <= 60), "{screen}");
    terminal.wait_prompt();
    terminal.type_text("\\format table-full");
    terminal.press("Enter");
    terminal.wait_prompt();
    terminal.type_text("\\last");
    terminal.press("Enter");
    // Every column, exact values (tmux wraps the wide lines).
    terminal.wait_for("the exact value", |s| {
        s.contains("0.5934065934065934 |") && s.contains("| wide_text ")
    });
}
