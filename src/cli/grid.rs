//! The arguments `fabsim sweep` and `fabsim search` share — threads, a
//! shard of the grid, and `--json` — and their checks. Each command keeps
//! its own file and output flags, whose meanings differ.

use clap::Args;
use fabsim::input::ArgError;
use fabsim::sweep::Shard;

/// Threads a sweep or search may use: far more than any machine's cores,
/// far fewer than the thread limit of a shared login node.
const MAX_JOBS: usize = 256;

#[derive(Args)]
pub struct GridArgs {
    /// Threads simulating points (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Run only slice I of N (1-based), e.g. 2/8; only shard 1 writes the
    /// CSV header, so the shards' CSVs concatenate into the whole one.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// For scripts: errors as one JSON object on stderr, no progress bar.
    #[arg(long)]
    pub json: bool,
}

impl GridArgs {
    /// The checked thread count (`None`: all cores) and shard.
    pub fn checked(&self) -> anyhow::Result<(Option<usize>, Option<Shard>)> {
        if let Some(n) = self.jobs
            && !(1..=MAX_JOBS).contains(&n)
        {
            return Err(ArgError::new(
                "--jobs",
                format!("must be a whole number from 1 to {MAX_JOBS}"),
            )
            .into());
        }
        let shard = self.shard.as_deref().map(str::parse).transpose()?;
        Ok((self.jobs, shard))
    }

    /// Whether to show a progress bar.
    pub fn progress(&self, quiet: bool) -> bool {
        !quiet && !self.json
    }
}
