//! The `fabsim` command line: parse arguments, call the library, print.
//! Exit codes: 0 success, 2 bad input (a message naming file, YAML path and
//! line), 1 internal failure.

use clap::{Parser, Subcommand};
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Topology { file, dot, json } => topology(&file, dot, json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<fabsim::input::InputError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

fn topology(file: &std::path::Path, dot: bool, json: bool) -> anyhow::Result<()> {
    let cluster = fabsim::topology::load(file)?;
    if dot {
        print!("{}", fabsim::topology::to_dot(&cluster));
    } else {
        let summary = fabsim::topology::Summary::of(&cluster);
        if json {
            println!("{}", serde_json::to_string_pretty(&summary)?);
        } else {
            print!("{summary}");
        }
    }
    Ok(())
}
