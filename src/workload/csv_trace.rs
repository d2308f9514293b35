//! CSV layer traces: one row per layer, times in seconds.
//!
//! ```text
//! name,forward_s,backward_s,activation_bytes,grad_bytes
//! fc1,20e-6,40e-6,65536,803840
//! ```
//!
//! Required columns: `name, forward_s, backward_s, activation_bytes,
//! grad_bytes`; optional: `backward_weight_s, param_bytes, stash_bytes`, in
//! any order. Unknown columns are errors. Byte columns accept integers or
//! sizes with units (`25MiB`); time columns are plain seconds (`20e-6`).
//! Lines starting with `#` are comments; fields are trimmed. Errors name the
//! file, the CSV line and the column. This module does not open files.

use super::Layer;
use super::trace::{default_backward_weight, trace_layer};
use crate::input::InputError;
use crate::units::{SimTime, parse_bytes};
use std::path::Path;

const REQUIRED: [&str; 5] = [
    "name",
    "forward_s",
    "backward_s",
    "activation_bytes",
    "grad_bytes",
];
const OPTIONAL: [&str; 3] = ["backward_weight_s", "param_bytes", "stash_bytes"];

/// An error at a 1-based CSV line of `text` (or the whole file for line 0).
fn error_at(file: &Path, text: &str, line: u64, message: impl Into<String>) -> InputError {
    let mut e = InputError::file(file, message);
    if line > 0 {
        e.line = u32::try_from(line).ok();
        e.source_line = usize::try_from(line - 1)
            .ok()
            .and_then(|i| text.lines().nth(i))
            .map(str::to_string);
    }
    e
}

/// The 1-based line of a CSV position, counted from its byte offset: the
/// csv crate's own line count skips comment lines.
fn line_of(text: &str, pos: Option<&csv::Position>) -> u64 {
    pos.map_or(0, |p| {
        let end = (p.byte() as usize).min(text.len());
        text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
            + 1
    })
}

fn csv_error(file: &Path, text: &str, err: &csv::Error) -> InputError {
    let line = line_of(text, err.position());
    let message = match err.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("this row has {len} fields but the header has {expected_len}"),
        _ => format!("bad CSV: {err}"),
    };
    error_at(file, text, line, message)
}

/// Parses a CSV trace held in `text` (the contents of `file`).
/// `bw_fraction` fills `backward_weight` for rows without one.
pub fn parse(file: &Path, text: &str, bw_fraction: Option<f64>) -> Result<Vec<Layer>, InputError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| csv_error(file, text, &e))?
        .clone();
    let column = columns(file, text, &headers)?;
    let mut layers: Vec<Layer> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(file, text, &e))?;
        let layer = row_layer(file, text, &column, &record, bw_fraction, &layers)?;
        layers.push(layer);
    }
    if layers.is_empty() {
        return Err(InputError::file(
            file,
            "the CSV trace has no layers; add at least one row",
        ));
    }
    Ok(layers)
}

/// The layer of one CSV row (after `layers`, whose names it must not
/// repeat), with errors at the row's line.
fn row_layer(
    file: &Path,
    text: &str,
    column: &[usize; 8],
    record: &csv::StringRecord,
    bw_fraction: Option<f64>,
    layers: &[Layer],
) -> Result<Layer, InputError> {
    let line = line_of(text, record.position());
    let field = |k: usize| -> Option<&str> {
        (column[k] != usize::MAX)
            .then(|| record.get(column[k]))
            .flatten()
            .filter(|s| !s.is_empty())
    };
    let time = |k: usize| -> Result<Option<SimTime>, InputError> {
        let Some(s) = field(k) else { return Ok(None) };
        match s.parse::<f64>() {
            Ok(v) if (0.0..=crate::units::MAX_TIME_SECS).contains(&v) => {
                Ok(Some(SimTime::from_secs_round(v)))
            }
            _ => Err(error_at(
                file,
                text,
                line,
                format!(
                    "column `{}`: `{s}` is not a time in seconds (a number from 0 to \
                     86400, like 20e-6)",
                    column_name(k)
                ),
            )),
        }
    };
    let bytes = |k: usize| -> Result<Option<u64>, InputError> {
        let Some(s) = field(k) else { return Ok(None) };
        parse_bytes(s).map(Some).map_err(|e| {
            error_at(
                file,
                text,
                line,
                format!("column `{}`: {e}", column_name(k)),
            )
        })
    };
    let missing = |k: usize| {
        error_at(
            file,
            text,
            line,
            format!("column `{}` is empty", column_name(k)),
        )
    };
    let name = field(0).ok_or_else(|| missing(0))?.to_string();
    if layers.iter().any(|l| l.name == name) {
        return Err(error_at(
            file,
            text,
            line,
            format!("layer name `{name}` is used twice"),
        ));
    }
    let forward = time(1)?.ok_or_else(|| missing(1))?;
    let backward = time(2)?.ok_or_else(|| missing(2))?;
    let activation_bytes = bytes(3)?.ok_or_else(|| missing(3))?;
    let grad_bytes = bytes(4)?.ok_or_else(|| missing(4))?;
    let backward_weight = match time(5)? {
        Some(w) if w > backward => {
            return Err(error_at(
                file,
                text,
                line,
                format!(
                    "backward_weight_s ({w}) is part of backward_s ({backward}) and cannot exceed it"
                ),
            ));
        }
        Some(w) => w,
        None => default_backward_weight(backward, bw_fraction),
    };
    Ok(trace_layer(
        name,
        forward,
        backward,
        backward_weight,
        activation_bytes,
        grad_bytes,
        bytes(6)?,
        bytes(7)?,
    ))
}

/// Where each known column is in the header (`usize::MAX` when absent):
/// unknown, repeated or missing required columns are errors at the
/// header's line.
fn columns(file: &Path, text: &str, headers: &csv::StringRecord) -> Result<[usize; 8], InputError> {
    // The header's own line (comments may precede it), not the next one.
    // The header's own line: the first that is neither blank nor a comment
    // (the csv crate places the header at the start of the file).
    let header_line = text
        .lines()
        .position(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map_or(1, |i| i as u64 + 1);
    let mut column = [usize::MAX; 8];
    for (i, h) in headers.iter().enumerate() {
        let Some(k) = REQUIRED.iter().chain(OPTIONAL.iter()).position(|&c| c == h) else {
            return Err(error_at(
                file,
                text,
                header_line,
                format!(
                    "unknown column `{h}`; expected {} and optionally {}",
                    REQUIRED.join(", "),
                    OPTIONAL.join(", ")
                ),
            ));
        };
        if column[k] != usize::MAX {
            return Err(error_at(
                file,
                text,
                header_line,
                format!("column `{h}` appears twice"),
            ));
        }
        column[k] = i;
    }
    if let Some(k) = (0..REQUIRED.len()).find(|&k| column[k] == usize::MAX) {
        return Err(error_at(
            file,
            text,
            header_line,
            format!(
                "the header lacks the column `{}`; required: {}",
                REQUIRED[k],
                REQUIRED.join(", ")
            ),
        ));
    }
    Ok(column)
}

fn column_name(k: usize) -> &'static str {
    REQUIRED
        .iter()
        .chain(OPTIONAL.iter())
        .nth(k)
        .copied()
        .unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Vec<Layer>, InputError> {
        parse(Path::new("l.csv"), text, None)
    }

    #[test]
    fn rows_become_layers() {
        let l = parse_str(
            "# a comment\nname, forward_s, backward_s, activation_bytes, grad_bytes, param_bytes\nfc1,20e-6,40e-6,65536,803840,\nfc2,0.000008,16e-6,32KiB,131584,7\n",
        )
        .unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].forward, SimTime::from_us(20));
        assert_eq!(l[0].backward, SimTime::from_us(40));
        assert_eq!(l[0].param_bytes, 803840);
        assert_eq!(l[1].activation_bytes, 32768);
        assert_eq!(l[1].param_bytes, 7);
        assert_eq!(l[1].backward_weight, SimTime::ZERO);
    }

    #[test]
    fn bad_rows_name_file_line_and_column() {
        let e = parse_str("name,forward_s,backward_s,activation_bytes,grad_bytes\nfc1,1e-6,2e-6,1,1\nfc2,fast,2e-6,1,1\n")
            .unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(
            e.message.contains("forward_s") && e.message.contains("fast"),
            "{e}"
        );
        assert!(e.to_string().starts_with("l.csv:3"), "{e}");
        let e =
            parse_str("name,forward_s,backward_s,activation_bytes,grad_bytes\nfc1,1e-6,2e-6,1\n")
                .unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("4 fields"), "{e}");
        let e = parse_str("name,forward_s,backward_s,activation_bytes,grad_bytes,colour\n")
            .unwrap_err();
        assert!(e.message.contains("unknown column `colour`"), "{e}");
        let e = parse_str("name,forward_s,activation_bytes,grad_bytes\n").unwrap_err();
        assert!(e.message.contains("backward_s"), "{e}");
        let e = parse_str("name,forward_s,backward_s,activation_bytes,grad_bytes\n").unwrap_err();
        assert!(e.message.contains("no layers"), "{e}");
        let e =
            parse_str("name,forward_s,backward_s,activation_bytes,grad_bytes\nfc1,-1,2e-6,1,1\n")
                .unwrap_err();
        assert_eq!(e.line, Some(2));
        let e = parse_str(
            "name,forward_s,backward_s,activation_bytes,grad_bytes\nfc1,1e-6,2e-6,1.5,1\n",
        )
        .unwrap_err();
        assert!(e.message.contains("activation_bytes"), "{e}");
        let e = parse_str("name,forward_s,backward_s,activation_bytes,grad_bytes,backward_weight_s\nfc1,1e-6,2e-6,1,1,3e-6\n")
            .unwrap_err();
        assert!(e.message.contains("cannot exceed"), "{e}");
    }
}
