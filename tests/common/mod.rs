//! Helpers shared by the integration tests: the `fabsim` binary as a
//! command, the repository root, and running a command that must succeed.
//! Each test file includes this with `mod common;` and uses a subset, hence
//! the `dead_code` allowance. Nothing here asserts a model result.
#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The `fabsim` binary built for these tests.
pub fn fabsim() -> Command {
    Command::cargo_bin("fabsim").unwrap()
}

/// The repository root (shipped examples are relative to it).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs `cmd` and asserts it exits 0, showing its stderr if not.
pub fn output_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `cmd`, asserts it exits 0, and returns its standard output.
pub fn stdout_ok(cmd: &mut Command) -> String {
    String::from_utf8(output_ok(cmd).stdout).unwrap()
}
