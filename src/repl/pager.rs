//! Results taller than the terminal go through a pager, as in psql and the DuckDB CLI:
//! `$PAGER` (run by the shell), else `less -S` when `less` is installed; `\pager off` turns it
//! off, and an empty `$PAGER` means none.

use std::io::{IsTerminal, Write};
use std::process::{Command, Stdio};

/// The terminal's size in characters (columns, rows), when stdout is one.
pub fn terminal_size() -> Option<(usize, usize)> {
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return None;
    }
    let size = rustix::termios::tcgetwinsize(&stdout).ok()?;
    (size.ws_col > 0 && size.ws_row > 0)
        .then(|| (usize::from(size.ws_col), usize::from(size.ws_row)))
}

/// The pager command, if any.
fn command() -> Option<String> {
    match std::env::var("PAGER") {
        Ok(pager) if pager.trim().is_empty() => None,
        Ok(pager) => Some(pager),
        Err(_) => {
            let found = std::env::var_os("PATH").is_some_and(|paths| {
                std::env::split_paths(&paths).any(|dir| dir.join("less").is_file())
            });
            found.then(|| "less -S".to_string())
        }
    }
}

/// Shows `text` on the terminal: through the pager when `enabled` and it is taller than the
/// screen, else printed.
pub fn show(text: &str, enabled: bool) {
    let tall = terminal_size().is_some_and(|(_, rows)| text.lines().count() + 1 > rows);
    if enabled
        && tall
        && let Some(pager) = command()
        && page(&pager, text).is_ok()
    {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

fn page(pager: &str, text: &str) -> std::io::Result<()> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(pager)
        .stdin(Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        // A pager quit before the end closes its input; that is not an error.
        let _ = stdin.write_all(text.as_bytes());
    }
    child.wait()?;
    Ok(())
}
