//! Writing results safely, for every command: the one atomic-write helper
//! ([`write_atomic`]: a temporary file beside the target, fsync, rename), a
//! whole-folder atomic result ([`AtomicDir`]: built in a sibling temporary
//! folder and swapped into place only when complete), a streamed file
//! seen whole or not at all ([`AtomicFile`]), a scratch file beside an
//! output ([`Temporary`]) and a private scratch folder ([`ScratchDir`]),
//! writes to standard
//! output that report a closed pipe instead of panicking ([`print()`]), and
//! removal of temporaries on SIGINT/SIGTERM ([`install_signal_cleanup`]),
//! and the one progress bar on stderr ([`progress_bar`]).
//!
//! Every failure is an [`OutputError`] naming the path. A symlink, a device
//! node or any other non-regular file is never replaced, and a folder is
//! replaced only if it is empty or an earlier fabsim result. This module
//! formats nothing: callers hand it bytes or write through its files.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The name used for standard output in messages.
pub const STDOUT: &str = "standard output";

/// An output path that could not be written, or that fabsim refuses to
/// replace. Always the user's to fix (exit code 2): every output path is
/// one they named, or the default folder under the current directory.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The system refused an operation on the path.
    #[error("{}: cannot {action}: {error}", path.display())]
    Io {
        /// The output path the user named (not a temporary).
        path: PathBuf,
        /// What was attempted: create, write, replace, read.
        action: &'static str,
        /// The system's reason.
        error: io::Error,
    },
    /// The path holds something fabsim never replaces.
    #[error("{}: {reason}; refusing to replace it", path.display())]
    Refused {
        /// The output path the user named.
        path: PathBuf,
        /// What is there instead (a symlink, a device, a foreign folder).
        reason: String,
    },
}

impl OutputError {
    /// An [`OutputError::Io`] naming `path`.
    pub fn io(path: &Path, action: &'static str, error: io::Error) -> Self {
        OutputError::Io {
            path: path.to_path_buf(),
            action,
            error,
        }
    }

    /// True if the reader went away (`| head`): the caller ends quietly.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, OutputError::Io { error, .. } if error.kind() == io::ErrorKind::BrokenPipe)
    }

    /// The [`OutputError`] carried by `e`, directly or inside an
    /// [`io::Error`] (as [`PathFile`] reports it through writers like csv's).
    pub fn find<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a OutputError> {
        e.downcast_ref::<OutputError>().or_else(|| {
            e.downcast_ref::<io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<OutputError>())
        })
    }
}

/// Writes `bytes` to standard output and flushes it.
pub fn print(bytes: impl AsRef<[u8]>) -> Result<(), OutputError> {
    let mut out = io::stdout().lock();
    out.write_all(bytes.as_ref())
        .and_then(|()| out.flush())
        .map_err(|e| OutputError::io(Path::new(STDOUT), "write", e))
}

/// Temporaries to remove if the process is interrupted. Process-wide by
/// nature: a signal ends every simulation at once (the simulations
/// themselves share no state).
static TEMPORARIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn register(path: &Path) {
    if let Ok(mut t) = TEMPORARIES.lock() {
        t.push(path.to_path_buf());
    }
}

fn unregister(path: &Path) {
    if let Ok(mut t) = TEMPORARIES.lock() {
        t.retain(|p| p != path);
    }
}

/// A private scratch folder `fabsim-XXXXXX` in the system's temporary
/// folder (`TMPDIR`, else /tmp), e.g. a search's generated topologies:
/// removed when dropped (on success or an error) and, like every
/// registered temporary, on an interrupt.
#[derive(Debug)]
pub struct ScratchDir {
    /// `None` only while being dropped.
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl ScratchDir {
    /// Creates the folder.
    pub fn new() -> io::Result<ScratchDir> {
        // Created and registered under the lock, so that an interrupt
        // cannot fall between the two and leave the folder behind.
        let mut registered = TEMPORARIES.lock().ok();
        let dir = tempfile::Builder::new().prefix("fabsim-").tempdir()?;
        let path = dir.path().to_path_buf();
        if let Some(t) = registered.as_mut() {
            t.push(path.clone());
        }
        Ok(ScratchDir {
            dir: Some(dir),
            path,
        })
    }

    /// Where the folder is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        // Removed before it is unregistered: an interrupt in between still
        // finds it listed.
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
        unregister(&self.path);
    }
}

/// On SIGINT, SIGTERM or SIGHUP: removes every registered temporary and
/// exits with 130 (the shell's code for an interrupted command).
pub fn install_signal_cleanup() {
    // Failing to install (a handler already set) only loses the cleanup.
    let _ = ctrlc::set_handler(|| {
        if let Ok(t) = TEMPORARIES.lock() {
            for p in t.iter() {
                let _ = fs::remove_dir_all(p).or_else(|_| fs::remove_file(p));
            }
        }
        std::process::exit(130);
    });
}

/// Refuses to replace anything but a regular file (or nothing).
pub fn check_replaceable_file(path: &Path) -> Result<(), OutputError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(refused(path, "is a symbolic link")),
        Ok(m) if m.is_dir() => Err(refused(path, "is a folder, not a file")),
        Ok(m) if !m.is_file() => Err(refused(path, "is not a regular file")),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(OutputError::io(path, "inspect", e)),
    }
}

fn refused(path: &Path, reason: &str) -> OutputError {
    OutputError::Refused {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// The folder holding `path`, and its file name.
fn split(path: &Path) -> (PathBuf, String) {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    (dir.to_path_buf(), name)
}

/// Writes `bytes` to `path` through a temporary file in the same folder,
/// fsynced and renamed over `path`: readers see the old file or the new
/// one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    check_replaceable_file(path)?;
    let (dir, name) = split(path);
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    register(&tmp);
    let result = (|| {
        let mut f = File::create(&tmp).map_err(|e| OutputError::io(path, "create", e))?;
        f.write_all(bytes)
            .map_err(|e| OutputError::io(path, "write", e))?;
        rename_into_place(&f, &tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    unregister(&tmp);
    result
}

/// Makes `tmp` (open as `file`) durable and renames it over `path`, which
/// must be a regular file or absent.
pub fn rename_into_place(file: &File, tmp: &Path, path: &Path) -> Result<(), OutputError> {
    file.sync_all()
        .map_err(|e| OutputError::io(path, "write", e))?;
    check_replaceable_file(path)?;
    fs::rename(tmp, path).map_err(|e| OutputError::io(path, "replace", e))?;
    sync_dir(&split(path).0);
    Ok(())
}

/// The name of the temporary a streamed output (a sweep's CSV) grows in
/// beside `path`; it survives a kill so the run can be resumed.
pub fn partial_path(path: &Path) -> PathBuf {
    let (dir, name) = split(path);
    dir.join(format!(".{name}.partial"))
}

/// Makes a rename durable; best effort (some file systems refuse).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The progress bar of a long command (run's trials, a sweep's points, a
/// search's candidates) on stderr: `{bar} pos/len <what> elapsed (eta)`,
/// or a hidden bar when `show` is false.
pub fn progress_bar(show: bool, total: u64, what: &str) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    let template = format!("{{bar:40}} {{pos}}/{{len}} {what} {{elapsed}} (eta {{eta}})");
    if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

/// A file being written inside an [`AtomicDir`] (or anywhere; `W` is the
/// open file, possibly buffered): write errors name its final path, so a
/// full disk reads "results/x/trials.csv: cannot write: No space left on
/// device".
pub struct PathFile<W = File> {
    file: W,
    path: PathBuf,
}

impl<W: Write> PathFile<W> {
    /// `e` naming the path, for writers like csv's (its kind is kept, so
    /// that `Interrupted` is still retried).
    fn error(&self, e: io::Error) -> io::Error {
        io::Error::new(e.kind(), OutputError::io(&self.path, "write", e))
    }

    /// Flushes, failing with an [`OutputError`] naming the path.
    fn flush_named(&mut self) -> Result<(), OutputError> {
        self.file
            .flush()
            .map_err(|e| OutputError::io(&self.path, "write", e))
    }
}

impl<W: Write> Write for PathFile<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf).map_err(|e| self.error(e))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush().map_err(|e| self.error(e))
    }
}

mod dir;
mod file;
pub use dir::AtomicDir;
pub use file::{AtomicFile, Temporary};

#[cfg(test)]
mod tests;
