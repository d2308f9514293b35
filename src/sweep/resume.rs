//! A sweep's CSV grown row by row in a temporary file beside its target
//! (`.NAME.partial`), renamed into place when the last row is written. A
//! killed sweep leaves the partial file; `--resume` keeps its complete
//! rows — checked against the header and the points this sweep would run
//! — drops a half-written last row, and continues after them, so the
//! result is byte-identical to an uninterrupted run.
//!
//! It writes bytes it is given; it does not format rows (see `table.rs`).

use crate::input::ArgError;
use crate::output::{OutputError, partial_path, rename_into_place};
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The partial file of a sweep writing to `path`.
pub struct Partial {
    path: PathBuf,
    partial: PathBuf,
    file: File,
    /// Rows already in the file (kept from a resumed run).
    pub done: u64,
}

impl Partial {
    /// Opens the partial file for `path`. With `resume`, keeps the complete
    /// rows of an earlier run whose point numbers are the first of
    /// `expected`; without, starts afresh. `header` is written first (empty
    /// for shards after the first).
    pub fn open(
        path: &Path,
        resume: bool,
        header: &[u8],
        expected: impl Iterator<Item = u64>,
    ) -> Result<Partial, super::SweepError> {
        crate::output::check_replaceable_file(path)?;
        let partial = partial_path(path);
        let io = |action, e| OutputError::io(&partial, action, e);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&partial)
            .map_err(|e| io("create", e))?;
        let kept = if resume {
            let old = std::fs::read(&partial).map_err(|e| io("read", e))?;
            complete_rows(&old, header, expected).map_err(|m| {
                ArgError::new(
                    "--resume",
                    format!("{}: {m}; delete it to start over", partial.display()),
                )
            })?
        } else {
            None
        };
        let (len, done) = kept.unwrap_or((0, 0));
        file.set_len(len).map_err(|e| io("write", e))?;
        file.seek(SeekFrom::Start(len))
            .map_err(|e| io("write", e))?;
        let mut p = Partial {
            path: path.to_path_buf(),
            partial,
            file,
            done,
        };
        if len == 0 {
            p.write(header)?;
        }
        Ok(p)
    }

    /// Appends bytes (whole rows) and hands them to the OS, so a kill
    /// loses at most the row being written.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        self.file
            .write_all(bytes)
            .and_then(|()| self.file.flush())
            .map_err(|e| OutputError::io(&self.path, "write", e))
    }

    /// Makes the file durable and renames it to its final name.
    pub fn finish(self) -> Result<(), OutputError> {
        rename_into_place(&self.file, &self.partial, &self.path)
    }
}

/// The length in bytes of the complete rows of `old` (after `header`) and
/// their count, or `None` when `old` is empty. A row counts if it ends in a
/// newline and carries the next expected point number.
fn complete_rows(
    old: &[u8],
    header: &[u8],
    mut expected: impl Iterator<Item = u64>,
) -> Result<Option<(u64, u64)>, String> {
    if old.is_empty() {
        return Ok(None);
    }
    if !old.starts_with(header) {
        return if header.starts_with(old) {
            Ok(None)
        } else {
            Err("it does not start with this sweep's header".to_string())
        };
    }
    let body = &old[header.len()..];
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut record = csv::ByteRecord::new();
    let (mut end, mut rows) = (0u64, 0u64);
    while reader.read_byte_record(&mut record).unwrap_or(false) {
        let pos = reader.position().byte();
        let whole = pos > 0 && body.get(pos as usize - 1) == Some(&b'\n');
        if !whole {
            break;
        }
        let point: Option<u64> = record
            .get(0)
            .and_then(|f| std::str::from_utf8(f).ok())
            .and_then(|f| f.parse().ok());
        let want = expected.next();
        if point.is_none() || point != want {
            return Err(format!(
                "row {} is not point {} of this sweep",
                rows + 1,
                want.map_or_else(|| "(none left)".into(), |w| w.to_string())
            ));
        }
        end = pos;
        rows += 1;
    }
    Ok(Some((header.len() as u64 + end, rows)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_rows_keep_whole_matching_rows_only() {
        let h = b"point,x\n";
        let old = b"point,x\n0,a\n2,b\n4,c";
        let (len, n) = complete_rows(old, h, [0, 2, 4].into_iter())
            .unwrap()
            .unwrap();
        assert_eq!((len, n), (16, 2));
        assert!(complete_rows(old, h, [0, 3].into_iter()).is_err());
        assert!(complete_rows(b"other,y\n", h, [0].into_iter()).is_err());
        assert_eq!(complete_rows(b"poi", h, [0].into_iter()).unwrap(), None);
    }
}
