//! Putting a finished file or folder in place of another in one step, so a reader, or a run
//! killed at any moment, finds either the previous result or the new one: never neither, never
//! a mix of both.

use std::io;
use std::path::Path;

/// Moves the finished `new` (a file or a folder) to `target`. An existing `target` is
/// exchanged with `new` in one atomic step (Linux's `renameat2` with `RENAME_EXCHANGE`) and
/// then removed from where `new` was; on a file system that cannot exchange, it is moved aside
/// first, which leaves a moment without `target`. Both paths must be on one file system.
///
/// # Errors
/// When a rename fails; `target` is then as it was.
pub fn replace(new: &Path, target: &Path) -> io::Result<()> {
    let existing = match std::fs::symlink_metadata(target) {
        Ok(meta) => Some(meta.is_dir()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let Some(was_dir) = existing else {
        return std::fs::rename(new, target);
    };
    if exchange(new, target).is_ok() {
        // `new` now names the previous result.
        return remove(new, was_dir);
    }
    let aside = new.with_extension("previous");
    std::fs::rename(target, &aside)?;
    if let Err(e) = std::fs::rename(new, target) {
        let _ = std::fs::rename(&aside, target);
        return Err(e);
    }
    remove(&aside, was_dir)
}

fn remove(path: &Path, dir: bool) -> io::Result<()> {
    if dir {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(io::Error::from)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_replaces_a_folder_and_a_file_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("old.parquet"), "old").unwrap();
        let new = dir.path().join(".staging");
        std::fs::create_dir(&new).unwrap();
        std::fs::write(new.join("new.parquet"), "new").unwrap();
        replace(&new, &target).unwrap();
        assert!(target.join("new.parquet").exists());
        assert!(!target.join("old.parquet").exists());
        assert!(!new.exists(), "the previous result is removed");

        let file = dir.path().join("r.csv");
        std::fs::write(&file, "old").unwrap();
        let staged = dir.path().join(".r.csv.tmp");
        std::fs::write(&staged, "new").unwrap();
        replace(&staged, &file).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new");
        assert!(!staged.exists());

        let fresh = dir.path().join("fresh");
        std::fs::create_dir(dir.path().join(".fresh")).unwrap();
        replace(&dir.path().join(".fresh"), &fresh).unwrap();
        assert!(fresh.is_dir());
    }
}
