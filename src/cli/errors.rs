//! How a failed command is told: one line on stderr (the error and its
//! causes), or with `--json` anywhere on the command line one JSON object:
//! `{"error", "message", "file", "line", "column", "yaml_path", "flag",
//! "exit_code"}` (absent fields are null). The exit code is decided by
//! [`fabsim::exit`]; this file only formats.

use fabsim::input::{ArgError, InputError};
use serde_json::json;

/// True when `--json` was given (before a `--`), whatever the subcommand.
pub fn json_requested() -> bool {
    std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json")
}

/// The error and its causes on one line, each said once (a write error
/// carried through csv and io wrappers repeats the same words).
pub fn chain(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in e.chain() {
        let s = c.to_string();
        if !parts.last().is_some_and(|p| p.ends_with(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ")
}

/// The JSON object for `e`, which ends the program with `exit_code`.
pub fn to_json(e: &anyhow::Error, exit_code: u8) -> serde_json::Value {
    let input = e.chain().find_map(|c| c.downcast_ref::<InputError>());
    let arg = e.chain().find_map(|c| c.downcast_ref::<ArgError>());
    json!({
        "error": chain(e),
        "message": input
            .map(|i| i.message.clone())
            .or_else(|| arg.map(|a| a.message.clone()))
            .unwrap_or_else(|| chain(e)),
        "file": input.map(|i| i.file.display().to_string()),
        "line": input.and_then(|i| i.line),
        "column": input.and_then(|i| i.column),
        "yaml_path": input.and_then(|i| i.yaml_path.clone()),
        "flag": arg.map(|a| a.flag.clone()),
        "exit_code": exit_code,
    })
}

/// A command-line parse error (unknown flag, missing argument) as JSON.
pub fn clap_to_json(e: &clap::Error) -> serde_json::Value {
    let text = e.to_string();
    let first = text
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches("error: ");
    json!({
        "error": first,
        "message": first,
        "file": null,
        "line": null,
        "column": null,
        "yaml_path": null,
        "flag": null,
        "exit_code": e.exit_code(),
    })
}
