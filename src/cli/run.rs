//! `fabsim run`: run a scenario's trials and write its results folder (or
//! only print with `--no-files`). Also the shared scenario loader that
//! `validate` uses, so both make the same checks.

use anyhow::Context;
use clap::Args;
use fabsim::input::ArgError;
use fabsim::output::print as out;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct RunArgs {
    /// Scenario file.
    scenario: PathBuf,
    /// Number of trials (overrides the scenario's).
    #[arg(long)]
    trials: Option<u64>,
    /// Random seed (overrides the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Output folder (default: results/<scenario name>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the summary as one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// Override a scenario field, e.g. --set noise.loss.probability=0.01.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Write no files; only print.
    #[arg(long)]
    no_files: bool,
    /// Simulate even when the per-GPU memory estimate exceeds the GPU's
    /// memory (otherwise such a scenario is refused with exit code 2).
    #[arg(long)]
    allow_oversubscribed_memory: bool,
    /// Which GPUs the timelines show.
    #[arg(long, value_enum, default_value = "representative")]
    timeline: fabsim::run::TimelineGpus,
    /// Also write report.html, the self-contained HTML report, into the
    /// results folder.
    #[arg(long, conflicts_with = "no_files")]
    html: bool,
}

pub fn run(args: &RunArgs, quiet: bool) -> anyhow::Result<()> {
    use fabsim::scenario::Overrides;
    let overrides = Overrides {
        set: args.set.clone(),
        trials: args.trials,
        seed: args.seed,
    };
    let max_trials = fabsim::scenario::bounds::MAX_TRIALS;
    if let Some(n) = args.trials
        && !(1..=max_trials).contains(&n)
    {
        return Err(ArgError::new(
            "--trials",
            format!("must be a whole number from 1 to {max_trials}"),
        )
        .into());
    }
    let scenario = load_scenario(&args.scenario, &overrides, args.allow_oversubscribed_memory)?;
    let out_dir = (!args.no_files).then(|| {
        args.out
            .clone()
            .unwrap_or_else(|| PathBuf::from("results").join(&scenario.name))
    });
    let options = fabsim::run::RunOptions {
        out_dir,
        progress: !args.json && !quiet,
        timeline: args.timeline,
        html: args.html,
    };
    let result = fabsim::run::run(&scenario, &options)
        .with_context(|| format!("running {}", args.scenario.display()))?;
    if args.json {
        out(serde_json::to_string(&result.summary)? + "\n")?;
    } else if !quiet {
        out(result.summary.to_string())?;
        if let Some(dir) = &options.out_dir {
            out(format!("results in {}/\n", dir.display()))?;
        }
    }
    Ok(())
}

/// Loads a scenario with every check `run` makes before simulating (so
/// `validate` makes them too), the memory estimate included.
pub fn load_scenario(
    file: &Path,
    overrides: &fabsim::scenario::Overrides,
    allow_oversubscribed_memory: bool,
) -> anyhow::Result<fabsim::scenario::Scenario> {
    let scenario = fabsim::scenario::Scenario::load(file, overrides)?;
    let memory = fabsim::memory::estimate(&scenario.job(), scenario.cluster.gpu.memory_bytes);
    if !memory.fits && !allow_oversubscribed_memory && !scenario.allow_oversubscribed_memory {
        return Err(fabsim::input::InputError::file(
            file,
            format!(
                "{} (pass --allow-oversubscribed-memory to simulate anyway)",
                memory.does_not_fit_message()
            ),
        )
        .into());
    }
    Ok(scenario)
}
