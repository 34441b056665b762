//! `\e`: a statement edited in the user's editor (`$VISUAL`, else `$EDITOR`, else `vi`), run
//! once the editor exits, as psql's `\e` does.

use std::path::Path;
use std::process::Command;

use crate::error::{Result, SeglakeError};

/// The text of `file` after editing it, or of a new temporary `.sql` file that starts with
/// `initial`. Empty when the user saved nothing.
///
/// # Errors
/// When the editor cannot be started or exits with a failure (the statement is then not
/// run), or the file cannot be read.
pub fn edit(initial: &str, file: Option<&Path>) -> Result<String> {
    let temp;
    let path = match file {
        Some(path) => path.to_path_buf(),
        None => {
            temp = tempfile::Builder::new()
                .prefix("seglake-")
                .suffix(".sql")
                .tempfile()
                .map_err(|e| SeglakeError::failed(format!("cannot make a file to edit: {e}")))?;
            std::fs::write(temp.path(), initial).map_err(|e| {
                SeglakeError::failed(format!("cannot write {}: {e}", temp.path().display()))
            })?;
            temp.path().to_path_buf()
        }
    };
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "vi".to_string());
    // The shell splits the editor's own arguments (`code --wait`); the file is one argument.
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(&path)
        .status()
        .map_err(|e| SeglakeError::failed(format!("cannot start the editor '{editor}': {e}")))?;
    if !status.success() {
        return Err(SeglakeError::failed(format!(
            "the editor '{editor}' failed ({status}); nothing was run"
        )));
    }
    if !path.exists() && file.is_some() {
        return Ok(String::new());
    }
    std::fs::read_to_string(&path)
        .map_err(|e| SeglakeError::failed(format!("cannot read {}: {e}", path.display())))
}
