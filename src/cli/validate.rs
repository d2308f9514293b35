//! `fabsim validate FILES…` (check input files without running them) and
//! `fabsim validate-suite DIR` (compare a suite's scenarios with their
//! published measurements).

use clap::Args;
use fabsim::input::ArgError;
use fabsim::output::print as out;
use std::path::PathBuf;

#[derive(Args)]
pub struct ValidateArgs {
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// GPU preset that times a lone workload file (a scenario's workload
    /// is timed on its topology's GPU).
    #[arg(long, default_value = DEFAULT_GPU)]
    gpu: String,
}

/// The GPU a lone workload file is timed on unless `--gpu` says otherwise.
const DEFAULT_GPU: &str = "A100-SXM4-80GB";

#[derive(Args)]
pub struct ValidateSuiteArgs {
    dir: PathBuf,
    /// Only these rows (row names or scenario file stems).
    #[arg(long, value_delimiter = ',')]
    rows: Vec<String>,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn validate_suite(args: &ValidateSuiteArgs) -> anyhow::Result<()> {
    use fabsim::validation as v;
    let (dir, rows, json) = (&args.dir, &args.rows[..], args.json);
    let suite = v::Suite::load(dir)?;
    if !json {
        println!("{}", v::header());
    }
    let report = suite.run(rows, |r| {
        if !json {
            println!("{}", v::line(r));
        }
    })?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", v::verdict(&report));
    }
    anyhow::ensure!(
        report.passed,
        "mean |error| {:.1}% exceeds the suite's gate {:.1}%",
        100.0 * report.mean_abs_error,
        100.0 * report.gate_mean_abs_error
    );
    Ok(())
}

/// Loads each file as what its contents say it is: a sweep (`base:` and
/// `axes:`), a search (`hardware:` and `global_batch:`), a scenario (has
/// `topology:`), a topology (has `fabric:` or `nodes:`), else a workload,
/// timed on the `--gpu` preset (named in the "ok" line).
pub fn validate(args: &ValidateArgs) -> anyhow::Result<()> {
    let gpu = fabsim::topology::gpu::preset(&args.gpu).ok_or_else(|| {
        ArgError::new(
            "--gpu",
            format!(
                "unknown GPU preset '{}'; presets: {}",
                args.gpu,
                fabsim::topology::gpu::preset_names().join(", ")
            ),
        )
    })?;
    for file in &args.files {
        let src = fabsim::input::Source::read(file)?;
        let kind = fabsim::input::document_kind(&src);
        match kind {
            "scenario" => {
                super::run::load_scenario(file, &Default::default(), false)?;
            }
            "topology" => {
                fabsim::topology::load(file)?;
            }
            "sweep" => {
                fabsim::sweep::Sweep::load(file)?;
            }
            "search" => {
                fabsim::search::Search::load(file)?;
            }
            _ => {
                fabsim::workload::load(file, &gpu, &Default::default())?;
                out(format!(
                    "{}: ok ({kind}, timed on {})\n",
                    file.display(),
                    gpu.name
                ))?;
                continue;
            }
        }
        out(format!("{}: ok ({kind})\n", file.display()))?;
    }
    Ok(())
}
