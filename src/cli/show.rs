//! `fabsim show SCENARIO`: the scenario as it will run, every default
//! filled in, and the `--set` paths it accepts (see
//! [`fabsim::scenario::show`]). It loads and checks; it runs nothing.

use clap::Args;
use fabsim::output::print as out;
use fabsim::scenario::{Overrides, show::Shown};
use std::path::PathBuf;

#[derive(Args)]
pub struct ShowArgs {
    /// Scenario file.
    scenario: PathBuf,
    /// Override a scenario field first, as `run --set` does.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Print one JSON object: `scenario` (the merged tree) and `set_paths`.
    #[arg(long)]
    json: bool,
}

pub fn show(args: &ShowArgs) -> anyhow::Result<()> {
    let overrides = Overrides {
        set: args.set.clone(),
        ..Default::default()
    };
    let shown = Shown::load(&args.scenario, &overrides)?;
    if args.json {
        let paths: Vec<serde_json::Value> = shown
            .paths
            .iter()
            .map(|(path, value, allowed)| {
                serde_json::json!({ "path": path, "value": value, "allowed": allowed })
            })
            .collect();
        let doc = serde_json::json!({ "scenario": shown.tree, "set_paths": paths });
        out(serde_json::to_string_pretty(&doc)? + "\n")?;
    } else {
        out(shown.text())?;
    }
    Ok(())
}
