//! Putting a finished file or folder in place of another in one step, so a reader, or a run
//! killed at any moment, finds either the previous result or the new one: never neither, never
//! a mix of both; and the hidden places results are built in, which a later run removes when
//! the run that made them was killed.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// A hidden folder a result is built in beside its target, held by this run through a lock on
/// a file beside it (`NAME.lock`). The kernel drops the lock when the process ends however it
/// ends, so a later run tells a killed run's leftovers (lock free) from a running one's
/// (locked) and removes them. Dropped, the folder and its lock file are removed.
pub struct Staging {
    path: PathBuf,
    // Dropped after the folder is removed (fields drop after `Drop::drop`).
    _lock: NamedTempFile,
}

impl Staging {
    /// Makes `parent/PREFIX<random>` and its lock, after removing what killed runs left
    /// there under `prefix`.
    ///
    /// # Errors
    /// When the folder or its lock file cannot be made.
    pub fn new(parent: &Path, prefix: &str) -> io::Result<Self> {
        remove_stale(parent, prefix, ".lock");
        let lock = tempfile::Builder::new()
            .prefix(prefix)
            .suffix(".lock")
            .tempfile_in(parent)?;
        lock.as_file().lock()?;
        let path = lock.path().with_extension("");
        std::fs::create_dir(&path)?;
        Ok(Self { path, _lock: lock })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Gone already when its content was moved into place.
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A hidden temporary file beside `target` (`.NAME.<random>.tmp`), locked while this run
/// holds it, after removing the ones killed runs left for the same target.
///
/// # Errors
/// When the file cannot be made.
pub fn temp_file_beside(folder: &Path, file_name: &str) -> io::Result<NamedTempFile> {
    let prefix = format!(".{file_name}.");
    remove_stale(folder, &prefix, ".tmp");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // The finished file gets the mode any new file gets (0666 less the umask), not the
    // temporary file's private 0600: a report or an extract is meant to be read by others.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let temp = builder.tempfile_in(folder)?;
    temp.as_file().lock()?;
    Ok(temp)
}

/// Removes the entries of `parent` named `PREFIX...SUFFIX` whose lock no process holds (a
/// `.lock` file and the folder it guards, or a locked `.tmp` file itself). Best effort: what
/// cannot be read or removed is left.
fn remove_stale(parent: &Path, prefix: &str, suffix: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !name.starts_with(prefix) || !name.ends_with(suffix) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = File::open(&path) else {
            continue;
        };
        if file.try_lock().is_err() {
            continue; // a running process holds it
        }
        if suffix == ".lock" {
            let _ = std::fs::remove_dir_all(path.with_extension(""));
        }
        let _ = std::fs::remove_file(&path);
    }
}

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
    fn a_killed_run_s_staging_is_removed_and_a_running_one_s_kept() {
        let dir = tempfile::tempdir().unwrap();
        let running = Staging::new(dir.path(), ".out.staging-").unwrap();
        // What a killed run leaves: a folder and its lock file, the lock no longer held.
        std::fs::create_dir(dir.path().join(".out.staging-dead")).unwrap();
        std::fs::write(dir.path().join(".out.staging-dead.lock"), "").unwrap();
        std::fs::write(dir.path().join(".r.csv.dead.tmp"), "partial").unwrap();
        let next = Staging::new(dir.path(), ".out.staging-").unwrap();
        assert!(!dir.path().join(".out.staging-dead").exists());
        assert!(!dir.path().join(".out.staging-dead.lock").exists());
        assert!(running.path().is_dir(), "a running run's folder is kept");
        let temp = temp_file_beside(dir.path(), "r.csv").unwrap();
        assert!(!dir.path().join(".r.csv.dead.tmp").exists());
        drop((running, next, temp));
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }

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
