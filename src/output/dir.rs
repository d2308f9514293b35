//! [`AtomicDir`]: a results folder that appears whole or not at all.
//!
//! Files are written into a sibling temporary folder (`.NAME.partial-PID`),
//! fsynced, and the folder is swapped into place: on Linux one atomic
//! `renameat2(RENAME_EXCHANGE)` with the previous result, elsewhere (or on
//! file systems without it) two renames. Dropped without
//! [`AtomicDir::commit`], or interrupted by a signal, the temporary folder
//! is removed; the temporaries of a run killed outright (`kill -9`) are
//! removed by the next run into the same target. An existing target is
//! replaced only if it is empty or an
//! earlier fabsim result (holds `summary.json` and no subfolders), so
//! `--out .` or `--out ~/data` cannot wipe unrelated files.

use super::{OutputError, PathFile, refused, register, split, sync_dir, unregister};
use std::cell::RefCell;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// A results folder under construction.
pub struct AtomicDir {
    target: PathBuf,
    temp: PathBuf,
    /// Files created, in order (their final paths).
    files: RefCell<Vec<PathBuf>>,
    committed: bool,
}

impl AtomicDir {
    /// Checks that `target` may be (re)placed and creates the temporary
    /// folder beside it.
    pub fn new(target: &Path) -> Result<AtomicDir, OutputError> {
        check_replaceable_dir(target)?;
        let (parent, name) = split(target);
        fs::create_dir_all(&parent)
            .map_err(|e| OutputError::io(&parent, "create the folder", e))?;
        remove_stale(&parent, &name);
        let temp = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if temp.exists() {
            let _ = fs::remove_dir_all(&temp);
        }
        fs::create_dir(&temp).map_err(|e| OutputError::io(target, "create a folder beside", e))?;
        register(&temp);
        Ok(AtomicDir {
            target: target.to_path_buf(),
            temp,
            files: RefCell::new(Vec::new()),
            committed: false,
        })
    }

    /// Creates file `name` in the folder.
    pub fn create(&self, name: &str) -> Result<PathFile, OutputError> {
        let path = self.target.join(name);
        let file =
            File::create(self.temp.join(name)).map_err(|e| OutputError::io(&path, "create", e))?;
        self.files.borrow_mut().push(path.clone());
        Ok(PathFile { file, path })
    }

    /// The temporary folder the files are written in: readable before
    /// [`AtomicDir::commit`] (e.g. to build a report from them).
    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// Makes every file durable, then puts the folder in place of the
    /// target (replacing an earlier result). Returns the files' paths.
    pub fn commit(mut self) -> Result<Vec<PathBuf>, OutputError> {
        for f in self.files.borrow().iter() {
            let name = f.file_name().unwrap_or_default();
            File::open(self.temp.join(name))
                .and_then(|h| h.sync_all())
                .map_err(|e| OutputError::io(f, "write", e))?;
        }
        sync_dir(&self.temp);
        let existed = fs::symlink_metadata(&self.target).is_ok();
        if existed {
            // The target may have changed since `new`: check again.
            check_replaceable_dir(&self.target)?;
            if exchange(&self.temp, &self.target).is_ok() {
                // `temp` now holds the previous result.
                let _ = fs::remove_dir_all(&self.temp);
            } else {
                let (parent, name) = split(&self.target);
                let old = parent.join(format!(".{name}.old-{}", std::process::id()));
                register(&old);
                fs::rename(&self.target, &old)
                    .map_err(|e| OutputError::io(&self.target, "replace", e))?;
                let moved = fs::rename(&self.temp, &self.target);
                if let Err(e) = moved {
                    let _ = fs::rename(&old, &self.target);
                    unregister(&old);
                    return Err(OutputError::io(&self.target, "replace", e));
                }
                let _ = fs::remove_dir_all(&old);
                unregister(&old);
            }
        } else {
            fs::rename(&self.temp, &self.target)
                .map_err(|e| OutputError::io(&self.target, "create", e))?;
        }
        unregister(&self.temp);
        self.committed = true;
        sync_dir(&split(&self.target).0);
        Ok(self.files.take())
    }
}

impl Drop for AtomicDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.temp);
            unregister(&self.temp);
        }
    }
}

/// Removes the temporaries of earlier runs into the same target that were
/// killed outright (`kill -9`, a power cut): those of processes that are
/// gone. A live run's temporary is left alone.
fn remove_stale(parent: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let pid = [".partial-", ".old-"].iter().find_map(|kind| {
            file.strip_prefix(&format!(".{name}{kind}"))
                .and_then(|p| p.parse::<u32>().ok())
        });
        if let Some(pid) = pid
            && pid != std::process::id()
            && !alive(pid)
        {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// True unless process `pid` is known to be gone.
#[cfg(unix)]
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn alive(_pid: u32) -> bool {
    true
}

/// Refuses a target that is a symlink, a file or a device, or a folder
/// that is not an earlier result.
fn check_replaceable_dir(target: &Path) -> Result<(), OutputError> {
    let meta = match fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(OutputError::io(target, "inspect", e)),
    };
    if meta.file_type().is_symlink() {
        return Err(refused(target, "is a symbolic link"));
    }
    if !meta.is_dir() {
        return Err(refused(target, "is an existing file, not a folder"));
    }
    let entries = fs::read_dir(target).map_err(|e| OutputError::io(target, "read", e))?;
    let mut result = false;
    let mut count = 0;
    for entry in entries {
        let entry = entry.map_err(|e| OutputError::io(target, "read", e))?;
        count += 1;
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if !is_file {
            return Err(refused(
                target,
                &format!(
                    "holds {}, which is not a file fabsim writes (choose a new or empty folder)",
                    entry.file_name().to_string_lossy()
                ),
            ));
        }
        result |= entry.file_name() == "summary.json";
    }
    if count > 0 && !result {
        return Err(refused(
            target,
            "is a folder that is not a fabsim result (it has no summary.json); choose a new or \
             empty folder",
        ));
    }
    Ok(())
}

/// Atomically swaps two paths (Linux `renameat2` with `RENAME_EXCHANGE`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other);
    let (ca, cb) = (c(a)?, c(b)?);
    // SAFETY: both arguments are valid NUL-terminated paths that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}
