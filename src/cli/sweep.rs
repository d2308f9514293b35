//! `fabsim sweep`: run every point of a sweep into one CSV (stdout, or a
//! file written through a resumable temporary file), optionally one shard.

use clap::Args;
use fabsim::input::ArgError;
use fabsim::output::print as out;
use std::path::PathBuf;

#[derive(Args)]
pub struct SweepArgs {
    /// Sweep file.
    sweep: PathBuf,
    /// Threads running points (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Run only slice I of N (1-based), e.g. 2/8; only shard 1 writes the
    /// CSV header, so the shards' CSVs concatenate into the whole sweep's.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
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
    /// For scripts: errors as one JSON object on stderr, no progress bar.
    #[arg(long)]
    json: bool,
}

/// Threads a sweep may use: far more than any machine's cores, far fewer
/// than the thread limit of a shared login node.
const MAX_JOBS: usize = 256;

pub fn sweep(args: &SweepArgs, quiet: bool) -> anyhow::Result<()> {
    use fabsim::sweep::{Shard, Sweep, SweepOptions, resume::Partial, table};
    if let Some(n) = args.jobs
        && !(1..=MAX_JOBS).contains(&n)
    {
        return Err(ArgError::new(
            "--jobs",
            format!("must be a whole number from 1 to {MAX_JOBS}"),
        )
        .into());
    }
    let shard: Option<Shard> = args.shard.as_deref().map(str::parse).transpose()?;
    let sweep = Sweep::load(&args.sweep)?;
    let mut options = SweepOptions {
        jobs: args.jobs,
        shard,
        progress: !quiet && !args.json,
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
