//! `fabsim report PATH` (the HTML report of a run folder or a sweep or
//! search CSV) and the `--html` of `sweep` and `search`, which write the
//! report beside their CSV. (`run --html` writes it inside the run's
//! folder, with the folder's other files: see `RunOptions::html`.)
//!
//! The page itself is [`fabsim::report::html`]'s; this file only picks
//! paths, writes atomically and says where the report went.

use fabsim::output::print as out;
use fabsim::report::html;
use std::path::{Path, PathBuf};

/// The `report` subcommand.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// A `fabsim run` results folder, or a sweep or search CSV.
    path: PathBuf,
    /// The HTML file (default: report.html in a run folder, NAME.html
    /// beside a CSV).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn report(args: &ReportArgs) -> anyhow::Result<()> {
    let page = html::render(&args.path)?;
    let target = args
        .out
        .clone()
        .unwrap_or_else(|| html::default_output(&args.path));
    fabsim::output::write_atomic(&target, page.as_bytes())?;
    out(format!("report in {}\n", target.display()))?;
    Ok(())
}

/// Writes the report of the sweep or search CSV written to `csv_path`,
/// whose text is `csv`, beside it as NAME.html.
pub fn table_report(csv_path: &Path, csv: &[u8]) -> anyhow::Result<PathBuf> {
    let page = html::render_table(csv_path, &String::from_utf8_lossy(csv))?;
    let target = html::default_output(csv_path);
    fabsim::output::write_atomic(&target, page.as_bytes())?;
    Ok(target)
}
