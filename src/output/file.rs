//! Files written as a stream but seen whole or not at all: a
//! [`Temporary`] (a hidden file beside the output, removed when dropped
//! or on SIGINT/SIGTERM) and an [`AtomicFile`] (a temporary renamed over
//! its target by [`AtomicFile::commit`], never left half-written). Both
//! name the user's output path in every error. They format nothing.

use super::{
    OutputError, PathFile, check_replaceable_file, register, rename_into_place, split, unregister,
};
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A hidden file `.NAME.WHAT-PID` beside `target`, removed when dropped
/// (and on an interrupt, like every registered temporary).
pub struct Temporary {
    /// Writes to `tmp`, naming `target` in errors.
    file: PathFile<BufWriter<File>>,
    tmp: PathBuf,
}

impl Temporary {
    /// Creates the temporary `what` of the output `target` (which is not
    /// touched).
    pub fn create(target: &Path, what: &str) -> Result<Temporary, OutputError> {
        let (dir, name) = split(target);
        let tmp = dir.join(format!(".{name}.{what}-{}", std::process::id()));
        register(&tmp);
        let file = File::create(&tmp).map_err(|e| {
            unregister(&tmp);
            OutputError::io(target, "create", e)
        })?;
        Ok(Temporary {
            file: PathFile {
                file: BufWriter::new(file),
                path: target.to_path_buf(),
            },
            tmp,
        })
    }

    /// Everything written so far, read from the start.
    pub fn reader(&mut self) -> Result<BufReader<File>, OutputError> {
        self.file.flush_named()?;
        File::open(&self.tmp)
            .map(BufReader::new)
            .map_err(|e| OutputError::io(&self.file.path, "read", e))
    }
}

impl Write for Temporary {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.tmp);
        unregister(&self.tmp);
    }
}

/// A file written through a [`Temporary`] beside it and renamed over it
/// (fsynced) only by [`AtomicFile::commit`]: dropped uncommitted, on an
/// error or an interrupt, it leaves the old file, or nothing.
pub struct AtomicFile {
    temporary: Temporary,
}

impl AtomicFile {
    /// Starts replacing `path`, which must be a regular file or absent.
    pub fn create(path: &Path) -> Result<AtomicFile, OutputError> {
        check_replaceable_file(path)?;
        Ok(AtomicFile {
            temporary: Temporary::create(path, "tmp")?,
        })
    }

    /// Puts the finished file in place.
    pub fn commit(mut self) -> Result<(), OutputError> {
        let t = &mut self.temporary;
        t.file.flush_named()?;
        rename_into_place(t.file.file.get_ref(), &t.tmp, &t.file.path)
        // Dropping the temporary now removes nothing: it was renamed.
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.temporary.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.temporary.flush()
    }
}
