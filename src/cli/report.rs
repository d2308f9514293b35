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
    let page = match std::fs::read_to_string(&args.path) {
        Ok(text) if headerless_search(&text) => {
            html::render_table(&args.path, &with_search_header(&text))?
        }
        _ => html::render(&args.path)?,
    };
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
    let text = String::from_utf8_lossy(csv);
    let text = if headerless_search(&text) {
        with_search_header(&text)
    } else {
        text.into_owned()
    };
    let page = html::render_table(csv_path, &text)?;
    let target = html::default_output(csv_path);
    fabsim::output::write_atomic(&target, page.as_bytes())?;
    Ok(target)
}

/// A search shard past the first, which leaves the header row out so that
/// shards concatenate: its first row has a search row's cells (a candidate
/// number first, `true` or `false` in `pareto`). A search's columns are
/// fixed, so the header can be put back; a sweep's depend on its axes, so
/// a sweep shard is refused by the report, with what to do.
fn headerless_search(text: &str) -> bool {
    let columns = &fabsim::search::table::COLUMNS;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let pareto = columns.iter().position(|c| *c == "pareto");
    r.records().next().and_then(Result::ok).is_some_and(|rec| {
        rec.len() == columns.len()
            && rec.get(0).is_some_and(|c| c.parse::<u64>().is_ok())
            && pareto
                .and_then(|k| rec.get(k))
                .is_some_and(|p| p == "true" || p == "false")
    })
}

/// `text` under the search CSV's header row.
fn with_search_header(text: &str) -> String {
    format!("{}\n{text}", fabsim::search::table::COLUMNS.join(","))
}
