//! `fabsim topology FILE [--dot] [--json]`: summarise a topology file, or
//! print it as Graphviz. Reads the file only; simulates nothing.

use clap::Args;
use fabsim::output::print as out;
use std::path::PathBuf;

#[derive(Args)]
pub struct TopologyArgs {
    file: PathBuf,
    /// Print Graphviz DOT instead of the summary.
    #[arg(long)]
    dot: bool,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn topology(args: &TopologyArgs) -> anyhow::Result<()> {
    let cluster = fabsim::topology::load(&args.file)?;
    if args.dot {
        out(fabsim::topology::to_dot(&cluster))?;
    } else {
        let summary = fabsim::topology::TopologySummary::of(&cluster);
        if args.json {
            out(serde_json::to_string_pretty(&summary)? + "\n")?;
        } else {
            out(summary.to_string())?;
        }
    }
    Ok(())
}
