//! The `fabsim` command line: parse arguments, call the library, print.
//! Exit codes: 0 success, 2 bad input (a message naming file, YAML path and
//! line) or an unusable output path, 1 internal failure. A closed pipe
//! (`fabsim … | head`) ends quietly with 0; every other write error is one
//! line naming the path. Ctrl-C and SIGTERM remove unfinished outputs.

mod cli;

use clap::{CommandFactory, Parser, Subcommand};
use cli::{collective, completions, errors, report, run, search, show, sweep, topology, validate};
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
    /// No progress bar and no terminal tables (files are still written).
    #[arg(long, short, global = true)]
    quiet: bool,
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
    /// Write the self-contained HTML report of a run folder or of a sweep
    /// or search CSV.
    Report(report::ReportArgs),
    /// Check topology, workload, scenario, sweep and search files without running them.
    Validate(validate::ValidateArgs),
    /// Run a validation suite (a folder with suite.yaml) against its
    /// published measurements; fails when the mean |error| exceeds its gate.
    ValidateSuite(validate::ValidateSuiteArgs),
    /// Print a scenario as it will run (every default filled in) and the
    /// --set paths it accepts.
    Show(show::ShowArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
}

fn main() -> ExitCode {
    keep_freed_memory();
    fabsim::output::install_signal_cleanup();
    let json = errors::json_requested();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if json && e.use_stderr() => {
            eprintln!("{}", errors::clap_to_json(&e));
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
        Err(e) => e.exit(),
    };
    let quiet = cli.quiet;
    let result = match cli.command {
        Command::Topology(args) => topology::topology(&args),
        Command::Collective(args) => collective::collective(&args),
        Command::Run(args) => run::run(&args, quiet),
        Command::Sweep(args) => sweep::sweep(&args, quiet),
        Command::Search(args) => search::search(&args, quiet),
        Command::Report(args) => report::report(&args),
        Command::Validate(args) => validate::validate(&args),
        Command::ValidateSuite(args) => validate::validate_suite(&args),
        Command::Show(args) => show::show(&args),
        Command::Completions(args) => completions::completions(&args, Cli::command()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if fabsim::exit::is_broken_pipe(e.as_ref()) => ExitCode::SUCCESS,
        Err(e) => {
            use std::io::Write;
            let code = if fabsim::exit::is_user_error(e.as_ref()) {
                2
            } else {
                1
            };
            let text = if json {
                errors::to_json(&e, code).to_string()
            } else {
                format!("error: {}", errors::chain(&e))
            };
            // A failing stderr has no one left to tell.
            let _ = writeln!(std::io::stderr(), "{text}");
            ExitCode::from(code)
        }
    }
}

/// Tells glibc's allocator to keep freed memory for reuse. By default it
/// maps buffers above 128 KiB afresh and returns freed heap tops to the
/// kernel, so every sweep point, search candidate and trial faulted its
/// large buffers in again: a third of a GPT-3 175B sweep's time was page
/// faults (callgrind cannot see them; `/usr/bin/time` shows 230 k minor
/// faults per 100 points, 10 k with this), and the kernel's address-space
/// lock serialised `--jobs 2`. 32 MiB is glibc's largest mmap threshold on
/// 64-bit; peak RSS is unchanged because it is the peak either way.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before
    // any other thread exists. A refused value leaves glibc's default.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX);
    }
}
