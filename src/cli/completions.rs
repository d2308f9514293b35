//! `fabsim completions SHELL`: a completion script for bash, zsh, fish,
//! elvish or PowerShell on stdout, generated from the command line's own
//! definition by clap_complete (so it never goes stale).

use clap::Args;
use fabsim::output::print as out;

#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// Writes the script for `cmd` (the whole `fabsim` command).
pub fn completions(args: &CompletionsArgs, mut cmd: clap::Command) -> anyhow::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "fabsim", &mut script);
    out(script)?;
    Ok(())
}
