//! The subcommands of the `fabsim` binary, one file each: its arguments
//! (a clap `Args` struct) and the function that runs it. A new subcommand
//! is a new file here plus one variant in `main.rs`'s `Command`.
//!
//! This is the binary side: it may use `anyhow` and print; the library it
//! calls returns typed errors and prints nothing.

pub mod collective;
pub mod completions;
pub mod errors;
pub mod grid;
pub mod report;
pub mod run;
pub mod search;
pub mod show;
pub mod sweep;
pub mod topology;
pub mod validate;
