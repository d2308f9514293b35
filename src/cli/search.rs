//! `fabsim search`: search hardware × parallelism for the Pareto front of
//! cost vs step time; the CSV goes to stdout or a file, the ranked table to
//! the other stream.

use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct SearchArgs {
    /// Search file.
    search: PathBuf,
    #[command(flatten)]
    grid: super::grid::GridArgs,
    /// CSV file, one row per candidate (written atomically); default: stdout,
    /// with the ranked table on stderr.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write the HTML report (the Pareto plot, hover for details)
    /// beside the CSV, as NAME.html.
    #[arg(long, requires = "out")]
    html: bool,
    /// Simulate every candidate that fits in memory, without the time
    /// bounds (slow): to check that pruning loses no point of the front.
    #[arg(long)]
    exhaustive: bool,
}

pub fn search(args: &SearchArgs, quiet: bool) -> anyhow::Result<()> {
    use fabsim::search::{Search, SearchOptions, table};
    let (jobs, shard) = args.grid.checked()?;
    let search = Search::load(&args.search)?;
    let options = SearchOptions {
        jobs,
        shard,
        progress: args.grid.progress(quiet),
        exhaustive: args.exhaustive,
    };
    let rows = search.run(&options)?;
    let mut bytes = Vec::new();
    table::write_csv(
        &search,
        &rows,
        &mut bytes,
        shard.is_none_or(|s| s.index == 1),
    )?;
    match &args.out {
        Some(path) => {
            fabsim::sweep::table::write_atomic(path, &bytes)?;
            if !quiet {
                table::print(&search, &rows, std::io::stdout().lock())?;
                println!("every candidate in {}", path.display());
            }
            if args.html {
                // The report needs the header row, which shards past the
                // first leave out of their CSV.
                let mut full = Vec::new();
                table::write_csv(&search, &rows, &mut full, true)?;
                let page = super::report::table_report(path, &full)?;
                if !quiet {
                    println!("report in {}", page.display());
                }
            }
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
            if !quiet {
                table::print(&search, &rows, std::io::stderr().lock())?;
            }
        }
    }
    Ok(())
}
