//! The self-contained HTML report (`fabsim report PATH`, or `--html` on
//! `run`, `sweep` and `search`): one file with inline SVG, CSS and a little
//! script, readable offline. It is built from the output files alone, so
//! the report of a finished run and the one written by `--html` are the
//! same page.
//!
//! - A run folder (holds `summary.json`): summary, collectives (grouped,
//!   slowest first), the Gantt chart of trial 0, link utilisation, memory
//!   per stage, cost. Written as `report.html` inside the folder.
//! - A sweep or search CSV: status counts, the Pareto plot, the front.
//!   Written beside the CSV, with its name and `.html`.
//!
//! It does not simulate anything, and draws only what the files hold.

mod bars;
mod collectives;
mod gantt;
mod page;
mod run_data;
mod run_page;
pub(super) mod svg;
mod table_page;

use crate::input::InputError;
use std::path::{Path, PathBuf};

/// The report's file name inside a run folder.
pub const RUN_REPORT: &str = "report.html";

/// The page for `input`: a run folder or a sweep or search CSV.
pub fn render(input: &Path) -> Result<String, InputError> {
    if input.is_dir() {
        if !input.join("summary.json").is_file() {
            return Err(InputError::file(
                input,
                "this folder holds no summary.json; give a `fabsim run` results folder, \
                 or a sweep or search CSV file",
            ));
        }
        Ok(run_page::render(&run_data::load(input)?))
    } else {
        let text = std::fs::read_to_string(input)
            .map_err(|e| InputError::file(input, format!("cannot read it ({e})")))?;
        table_page::render(input, &text)
    }
}

/// The page for a sweep or search CSV held in memory (with its header
/// row); `path` is where it was written.
pub fn render_table(path: &Path, csv: &str) -> Result<String, InputError> {
    table_page::render(path, csv)
}

/// Where the report of `input` goes by default: `report.html` in a run
/// folder, `NAME.html` beside a CSV.
pub fn default_output(input: &Path) -> PathBuf {
    if input.is_dir() {
        input.join(RUN_REPORT)
    } else {
        input.with_extension("html")
    }
}

#[cfg(test)]
mod tests;
