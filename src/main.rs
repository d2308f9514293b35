//! The `fabsim` command line: parse arguments, call the library, print.
//! Exit codes: 0 success, 2 bad input (a message naming file, YAML path and
//! line) or an unusable output path, 1 internal failure. A closed pipe
//! (`fabsim … | head`) ends quietly with 0; every other write error is one
//! line naming the path. Ctrl-C and SIGTERM remove unfinished outputs.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use fabsim::bench::{measure, table};
use fabsim::collective::{Algorithm, CollectiveOp, CollectiveSpec};
use fabsim::ids::GpuId;
use fabsim::input::ArgError;
use fabsim::output::print as out;
use fabsim::units::parse_bytes;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "fabsim",
    version,
    about = "Discrete-event simulator of GPU training clusters and their network fabrics"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Summarise a topology file (or print it as Graphviz with --dot).
    Topology {
        file: std::path::PathBuf,
        /// Print Graphviz DOT instead of the summary.
        #[arg(long)]
        dot: bool,
        /// Print the summary as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Time one collective on a topology, like nccl-tests.
    Collective(CollectiveArgs),
    /// Run a scenario's trials and write its results.
    Run(RunArgs),
    /// Run every point of a sweep (a base scenario × axes) into one CSV.
    Sweep(SweepArgs),
    /// Search hardware × parallelism for the Pareto front of cost vs step time.
    Search(SearchArgs),
    /// Check topology, workload, scenario and sweep files without running them.
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run a validation suite (a folder with suite.yaml) against its
    /// published measurements; fails when the mean |error| exceeds its gate.
    ValidateSuite {
        dir: PathBuf,
        /// Only these rows (row names or scenario file stems).
        #[arg(long, value_delimiter = ',')]
        rows: Vec<String>,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct RunArgs {
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
}

#[derive(Args)]
struct SweepArgs {
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
}

#[derive(Args)]
struct SearchArgs {
    /// Search file.
    search: PathBuf,
    /// Threads simulating candidates (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Search only slice I of N (1-based) of the candidates, e.g. 2/8.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// CSV file, one row per candidate (written atomically); default: stdout,
    /// with the ranked table on stderr.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct CollectiveArgs {
    /// Topology file.
    #[arg(long)]
    topology: PathBuf,
    #[arg(long, value_enum, default_value = "all-reduce")]
    op: CollectiveOp,
    #[arg(long, value_enum, default_value = "nccl")]
    algorithm: Algorithm,
    /// Buffer size per rank (nccl-tests convention), e.g. 64MiB or 1048576.
    #[arg(long, conflicts_with_all = ["min_bytes", "max_bytes"])]
    bytes: Option<String>,
    /// Smallest size of a sweep.
    #[arg(long, requires = "max_bytes")]
    min_bytes: Option<String>,
    /// Largest size of a sweep.
    #[arg(long, requires = "min_bytes")]
    max_bytes: Option<String>,
    /// Multiply the size by this factor between sweep steps.
    #[arg(long, default_value_t = 2)]
    factor: u64,
    /// Comma-separated global GPU indices, in ring order (default: all GPUs).
    #[arg(long, conflicts_with = "gpus")]
    ranks: Option<String>,
    /// Use the first N GPUs.
    #[arg(long)]
    gpus: Option<usize>,
    /// Cut the buffer into this many pipelined chunks (nccl algorithms:
    /// channels per NIC).
    #[arg(long, default_value_t = 1)]
    chunks: u32,
    /// One JSON object per size, one per line.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// CSV with a header row.
    #[arg(long)]
    csv: bool,
    /// Also list the N busiest links (of the largest size).
    #[arg(long, value_name = "N")]
    links: Option<usize>,
}

/// Threads a sweep may use: far more than any machine's cores, far fewer
/// than the thread limit of a shared login node.
const MAX_JOBS: usize = 256;

fn main() -> ExitCode {
    fabsim::output::install_signal_cleanup();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Topology { file, dot, json } => topology(&file, dot, json),
        Command::Collective(args) => collective(&args),
        Command::Run(args) => run(&args),
        Command::Sweep(args) => sweep(&args),
        Command::Search(args) => search(&args),
        Command::Validate { files } => validate(&files),
        Command::ValidateSuite { dir, rows, json } => validate_suite(&dir, &rows, json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if fabsim::exit::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            use std::io::Write;
            // A failing stderr has no one left to tell.
            let _ = writeln!(std::io::stderr(), "error: {}", chain(&e));
            if fabsim::exit::is_user_error(&e) {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// The error and its causes on one line, each said once (a write error
/// carried through csv and io wrappers repeats the same words).
fn chain(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in e.chain() {
        let s = c.to_string();
        if !parts.last().is_some_and(|p| p.ends_with(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ")
}

fn topology(file: &Path, dot: bool, json: bool) -> anyhow::Result<()> {
    let cluster = fabsim::topology::load(file)?;
    if dot {
        out(fabsim::topology::to_dot(&cluster))?;
    } else {
        let summary = fabsim::topology::Summary::of(&cluster);
        if json {
            out(serde_json::to_string_pretty(&summary)? + "\n")?;
        } else {
            out(summary.to_string())?;
        }
    }
    Ok(())
}

fn collective(args: &CollectiveArgs) -> anyhow::Result<()> {
    let cluster = fabsim::topology::load(&args.topology)?;
    let size = |flag: &str, v: &str| parse_bytes(v).map_err(|e| ArgError::new(flag, e.to_string()));
    let sizes = match (&args.bytes, &args.min_bytes, &args.max_bytes) {
        (Some(b), _, _) => vec![size("--bytes", b)?],
        (None, Some(lo), Some(hi)) => {
            let (lo, hi) = (size("--min-bytes", lo)?, size("--max-bytes", hi)?);
            if lo == 0 {
                return Err(ArgError::new(
                    "--min-bytes",
                    "must be at least 1 (a sweep multiplies it by --factor)",
                )
                .into());
            }
            if lo > hi {
                return Err(ArgError::new("--min-bytes", "must not exceed --max-bytes").into());
            }
            if args.factor < 2 {
                return Err(ArgError::new("--factor", "must be at least 2").into());
            }
            measure::size_sweep(lo, hi, args.factor)
        }
        _ => {
            return Err(
                ArgError::new("--bytes", "give --bytes B, or --min-bytes and --max-bytes").into(),
            );
        }
    };
    let max_chunks = fabsim::scenario::bounds::MAX_CHUNKS;
    if !(1..=max_chunks).contains(&args.chunks) {
        return Err(ArgError::new(
            "--chunks",
            format!("must be a whole number from 1 to {max_chunks}"),
        )
        .into());
    }
    let ranks = parse_ranks(args, cluster.num_gpus())?;
    let mut rows = Vec::new();
    for bytes in sizes {
        let spec = CollectiveSpec {
            name: args.op.to_string(),
            op: args.op,
            algorithm: args.algorithm,
            ranks: ranks.clone(),
            bytes,
            chunks: args.chunks,
        };
        fabsim::collective::validate(&spec, &cluster)
            .map_err(|e| ArgError::new("--algorithm", e.to_string()))?;
        rows.push(measure::measure(&cluster, &spec).context("simulating the collective")?);
    }
    if args.json {
        let mut text = String::new();
        for m in &rows {
            text += &serde_json::to_string(m)?;
            text.push('\n');
        }
        out(text)?;
    } else if args.csv {
        out(table::csv(&rows)?)?;
    } else {
        out(table::table(&cluster, &rows))?;
    }
    if let (Some(top), Some(last)) = (args.links, rows.last()) {
        out(table::busiest_links(
            &cluster,
            &last.links,
            last.time_s,
            top,
        ))?;
    }
    Ok(())
}

/// `--ranks 0,2,1,3` or `--gpus N`; default all GPUs in index order.
fn parse_ranks(args: &CollectiveArgs, n: usize) -> Result<Vec<GpuId>, ArgError> {
    if let Some(list) = &args.ranks {
        let mut ranks = Vec::new();
        for item in list.split(',') {
            let i: usize = item.trim().parse().map_err(|_| {
                ArgError::new(
                    "--ranks",
                    format!("'{item}' is not a GPU index; write e.g. --ranks 0,2,1,3"),
                )
            })?;
            if i >= n {
                return Err(ArgError::new(
                    "--ranks",
                    format!("GPU {i} does not exist: the topology has GPUs 0..{}", n - 1),
                ));
            }
            ranks.push(GpuId::from_index(i));
        }
        let mut sorted = ranks.clone();
        sorted.sort_unstable();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(ArgError::new(
                "--ranks",
                format!("GPU {} is listed twice", w[0]),
            ));
        }
        return Ok(ranks);
    }
    let count = args.gpus.unwrap_or(n);
    if count == 0 || count > n {
        return Err(ArgError::new(
            "--gpus",
            format!("must be between 1 and {n}, the topology's GPU count"),
        ));
    }
    Ok((0..count).map(GpuId::from_index).collect())
}

fn run(args: &RunArgs) -> anyhow::Result<()> {
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
        progress: !args.json,
        ..Default::default()
    };
    let result = fabsim::run::run(&scenario, &options)
        .with_context(|| format!("running {}", args.scenario.display()))?;
    if args.json {
        out(serde_json::to_string(&result.summary)? + "\n")?;
    } else {
        out(result.summary.to_string())?;
        if let Some(dir) = &options.out_dir {
            out(format!("results in {}/\n", dir.display()))?;
        }
    }
    Ok(())
}

/// Loads a scenario with every check `run` makes before simulating (so
/// `validate` makes them too), the memory estimate included.
fn load_scenario(
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

fn sweep(args: &SweepArgs) -> anyhow::Result<()> {
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
        progress: true,
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
            sweep.run(&options, &mut |row| {
                Ok(partial.write(&table::row_csv(&row)?)?)
            })?;
            partial.finish()?;
        }
        None => {
            out(&header)?;
            sweep.run(&options, &mut |row| Ok(out(table::row_csv(&row)?)?))?;
        }
    }
    Ok(())
}

fn validate_suite(dir: &Path, rows: &[String], json: bool) -> anyhow::Result<()> {
    use fabsim::validation as v;
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

fn search(args: &SearchArgs) -> anyhow::Result<()> {
    use fabsim::search::{Search, SearchOptions, table};
    if args.jobs == Some(0) {
        return Err(ArgError::new("--jobs", "must be at least 1").into());
    }
    let shard: Option<fabsim::sweep::Shard> = args.shard.as_deref().map(str::parse).transpose()?;
    let search = Search::load(&args.search)?;
    let options = SearchOptions {
        jobs: args.jobs,
        shard,
        progress: true,
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
            table::print(&search, &rows, std::io::stdout().lock())?;
            println!("every candidate in {}", path.display());
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
            table::print(&search, &rows, std::io::stderr().lock())?;
        }
    }
    Ok(())
}

/// Loads each file as what its contents say it is: a scenario (has
/// `topology:`), a topology (has `fabric:` or `nodes:`), else a workload.
fn validate(files: &[PathBuf]) -> anyhow::Result<()> {
    for file in files {
        let src = fabsim::input::Source::read(file)?;
        let kind = fabsim::input::document_kind(&src);
        match kind {
            "scenario" => {
                load_scenario(file, &Default::default(), false)?;
            }
            "topology" => {
                fabsim::topology::load(file)?;
            }
            "sweep" => {
                fabsim::sweep::Sweep::load(file)?;
            }
            _ => {
                let gpu = fabsim::topology::gpu::preset("A100-SXM4-80GB")
                    .context("the default GPU preset")?;
                fabsim::workload::load(file, &gpu, &Default::default())?;
            }
        }
        out(format!("{}: ok ({kind})\n", file.display()))?;
    }
    Ok(())
}
