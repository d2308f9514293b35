//! The `fabsim` command line: parse arguments, call the library, print.
//! Exit codes: 0 success, 2 bad input (a message naming file, YAML path and
//! line) or an unusable output path, 1 internal failure. A closed pipe
//! (`fabsim … | head`) ends quietly with 0; every other write error is one
//! line naming the path. Ctrl-C and SIGTERM remove unfinished outputs.

mod cli;

use clap::{Parser, Subcommand};
use cli::{collective, run, search, sweep, topology, validate};
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
    Topology(topology::TopologyArgs),
    /// Time one collective on a topology, like nccl-tests.
    Collective(collective::CollectiveArgs),
    /// Run a scenario's trials and write its results.
    Run(run::RunArgs),
    /// Run every point of a sweep (a base scenario × axes) into one CSV.
    Sweep(sweep::SweepArgs),
    /// Search hardware × parallelism for the Pareto front of cost vs step time.
    Search(search::SearchArgs),
    /// Check topology, workload, scenario and sweep files without running them.
    Validate(validate::ValidateArgs),
    /// Run a validation suite (a folder with suite.yaml) against its
    /// published measurements; fails when the mean |error| exceeds its gate.
    ValidateSuite(validate::ValidateSuiteArgs),
}

fn main() -> ExitCode {
    fabsim::output::install_signal_cleanup();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Topology(args) => topology::topology(&args),
        Command::Collective(args) => collective::collective(&args),
        Command::Run(args) => run::run(&args),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Search(args) => search::search(&args),
        Command::Validate(args) => validate::validate(&args),
        Command::ValidateSuite(args) => validate::validate_suite(&args),
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
