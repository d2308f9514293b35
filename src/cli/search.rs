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
    // Shards past the first leave the header out, so that they concatenate.
    let header = shard.is_none_or(|s| s.index == 1);
    let Some(path) = &args.out else {
        let mut csv = csv::Writer::from_writer(Stdout::default());
        if header {
            csv.write_record(table::COLUMNS)?;
        }
        let tally = search.stream(&options, None, &mut |r| {
            Ok(csv.write_record(table::record(&search, r))?)
        })?;
        csv.into_inner().map_err(|e| e.into_error())?.finish()?;
        if !quiet {
            table::print(&search, &tally, std::io::stderr().lock())?;
        }
        return Ok(());
    };
    let mut csv = csv::Writer::from_writer(fabsim::output::AtomicFile::create(path)?);
    if header {
        csv.write_record(table::COLUMNS)?;
    }
    let tally = search.stream(&options, Some(path), &mut |r| {
        Ok(csv.write_record(table::record(&search, r))?)
    })?;
    csv.into_inner().map_err(|e| e.into_error())?.commit()?;
    if !quiet {
        table::print(&search, &tally, std::io::stdout().lock())?;
        println!("every candidate in {}", path.display());
    }
    if args.html {
        // (A shard past the first has no header row: the report puts the
        // search's fixed one back.)
        let full = std::fs::read(path)?;
        let page = super::report::table_report(path, &full)?;
        if !quiet {
            println!("report in {}", page.display());
        }
    }
    Ok(())
}

/// Standard output in 64 kB pieces through [`fabsim::output::print`],
/// which reports a closed pipe by name: the CSV when no `--out` is given.
#[derive(Default)]
struct Stdout(Vec<u8>);

impl Stdout {
    fn finish(mut self) -> Result<(), fabsim::output::OutputError> {
        fabsim::output::print(std::mem::take(&mut self.0))
    }
}

impl std::io::Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        if self.0.len() >= 1 << 16 {
            fabsim::output::print(std::mem::take(&mut self.0)).map_err(std::io::Error::other)?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
