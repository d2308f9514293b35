//! The files of a run's results folder: every exporter's file, written into
//! the run's [`AtomicDir`] and committed together. It does not format any
//! file (that is each exporter's job, in `report/`) and does not decide
//! where the folder goes (that is the caller's `--out`).

use crate::output::AtomicDir;
use crate::report::{self, Report};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Writes every exporter's file into `staging` (and, with `html`, the HTML
/// report read back from them), then puts the folder in place. Returns the
/// files' final paths, in writing order.
pub(super) fn write(
    staging: AtomicDir,
    report: &Report,
    html: bool,
) -> Result<Vec<PathBuf>, super::RunError> {
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
    if html {
        let page = report::html::render(staging.path()).map_err(super::RunError::Html)?;
        let mut w = staging.create(report::html::RUN_REPORT)?;
        w.write_all(page.as_bytes())?;
    }
    Ok(staging.commit()?)
}
