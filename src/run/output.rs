//! The files of a run's results folder: every exporter's file, written into
//! the run's [`AtomicDir`] and committed together. It does not format any
//! file (that is each exporter's job, in `report/`) and does not decide
//! where the folder goes (that is the caller's `--out`).

use crate::output::AtomicDir;
use crate::report::{self, Report};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Writes every exporter's file into `staging`, then puts the folder in
/// place. Returns the files' final paths, in writing order.
pub(super) fn write(staging: AtomicDir, report: &Report) -> Result<Vec<PathBuf>, super::RunError> {
    for exporter in report::exporters(report) {
        let name = exporter.file_name();
        let mut w = BufWriter::new(staging.create(&name)?);
        exporter
            .export(report, &mut w)
            .map_err(|source| super::RunError::Export {
                name: name.clone(),
                source,
            })?;
        w.flush()?;
    }
    Ok(staging.commit()?)
}
