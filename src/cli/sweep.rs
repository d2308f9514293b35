//! `fabsim sweep`: run every point of a sweep into one CSV (stdout, or a
//! file written through a resumable temporary file), optionally one shard.

use clap::Args;
use fabsim::output::print as out;
use std::path::PathBuf;

#[derive(Args)]
pub struct SweepArgs {
    /// Sweep file.
    sweep: PathBuf,
    #[command(flatten)]
    grid: super::grid::GridArgs,
    /// CSV file; rows stream into a temporary file beside it, renamed
    /// into place when the sweep completes. Default: stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue a killed sweep from the rows already in its temporary
    /// file (needs --out; the same sweep file and --shard).
    #[arg(long, requires = "out")]
    resume: bool,
    /// Also write the HTML report (the Pareto plot of cost vs time per
    /// step, hover for details) beside the CSV, as NAME.html.
    #[arg(long, requires = "out")]
    html: bool,
}

pub fn sweep(args: &SweepArgs, quiet: bool) -> anyhow::Result<()> {
    use fabsim::sweep::{Sweep, SweepOptions, resume::Partial, table};
    let (jobs, shard) = args.grid.checked()?;
    let sweep = Sweep::load(&args.sweep)?;
    let mut options = SweepOptions {
        jobs,
        shard,
        progress: args.grid.progress(quiet),
        skip: 0,
    };
    let header = if shard.is_none_or(|s| s.index == 1) {
        table::header_csv(&sweep)?
    } else {
        Vec::new()
    };
    match &args.out {
        Some(path) => {
            let expected = sweep.points(shard).map(|p| p.index);
            let mut partial = Partial::open(path, args.resume, &header, expected)?;
            options.skip = partial.done;
            sweep.run(&options, &mut |row| -> anyhow::Result<()> {
                Ok(partial.write(&table::row_csv(&row)?)?)
            })?;
            partial.finish()?;
            if args.html {
                let mut full = table::header_csv(&sweep)?;
                let csv = std::fs::read(path)
                    .map_err(|e| fabsim::output::OutputError::io(path, "read back", e))?;
                full.extend_from_slice(&csv[header.len()..]);
                let page = super::report::table_report(path, &full)?;
                out(format!("report in {}\n", page.display()))?;
            }
        }
        None => {
            out(&header)?;
            sweep.run(&options, &mut |row| -> anyhow::Result<()> {
                Ok(out(table::row_csv(&row)?)?)
            })?;
        }
    }
    Ok(())
}
