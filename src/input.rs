//! Reading user files: YAML parsing with strict fields, and [`InputError`],
//! the one error type for bad input. Every message names the file, the YAML
//! path and the line, and says what to fix; the binary maps it to exit code 2.
//!
//! This module knows nothing of topologies or scenarios: it turns text into
//! typed values and positions into messages.

use serde::de::DeserializeOwned;
use serde_saphyr::{Location, Spanned};
use std::fmt;
use std::path::{Path, PathBuf};

/// Bad input: which file, where in it, and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    pub file: PathBuf,
    /// 1-based line and column, when known.
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// Dotted YAML path to the offending value, e.g. `fabric.uplink.bandwidth`.
    pub yaml_path: Option<String>,
    pub message: String,
    /// The offending source line, for a caret display.
    pub source_line: Option<String>,
}

impl std::error::Error for InputError {}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        if let Some(path) = &self.yaml_path {
            write!(f, ": at `{path}`")?;
        }
        write!(f, ": {}", self.message)?;
        if let (Some(src), Some(line)) = (&self.source_line, self.line) {
            let gutter = line.to_string();
            write!(f, "\n {gutter} | {src}")?;
            if let Some(col) = self.column {
                let pad = " ".repeat(gutter.len());
                let caret_pad = " ".repeat(col.saturating_sub(1) as usize);
                write!(f, "\n {pad} | {caret_pad}^")?;
            }
        }
        Ok(())
    }
}

impl InputError {
    /// An error about a whole file (cannot read it, a cross-field rule).
    pub fn file(file: &Path, message: impl Into<String>) -> Self {
        InputError {
            file: file.to_path_buf(),
            line: None,
            column: None,
            yaml_path: None,
            message: message.into(),
            source_line: None,
        }
    }

    /// An error at a position in `text`, the contents of `file`. The YAML
    /// path is recovered from the text's structure.
    pub fn at(file: &Path, text: &str, line: u32, column: u32, message: impl Into<String>) -> Self {
        let line = line.max(1);
        InputError {
            file: file.to_path_buf(),
            line: Some(line),
            column: Some(column.max(1)),
            yaml_path: yaml_path_at(text, line, column),
            message: message.into(),
            source_line: text.lines().nth(line as usize - 1).map(str::to_string),
        }
    }

    /// An error at the value behind `location` (from a [`Spanned`] field).
    pub fn at_location(
        file: &Path,
        text: &str,
        location: &Location,
        message: impl Into<String>,
    ) -> Self {
        if location.line() == 0 {
            return InputError::file(file, message);
        }
        InputError::at(
            file,
            text,
            location.line() as u32,
            location.column() as u32,
            message,
        )
    }

    /// Replaces the recovered YAML path with a known one.
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.yaml_path = Some(path.into());
        self
    }
}

/// A bad command-line value: which flag, and what to write instead. Like
/// [`InputError`] it is the user's to fix (exit code 2).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{flag}: {message}")]
pub struct ArgError {
    pub flag: String,
    pub message: String,
}

impl ArgError {
    pub fn new(flag: impl Into<String>, message: impl Into<String>) -> Self {
        ArgError {
            flag: flag.into(),
            message: message.into(),
        }
    }
}

/// True if `e` is the user's to fix: bad input files or arguments.
pub fn is_user_error(e: &anyhow::Error) -> bool {
    e.chain()
        .any(|c| c.downcast_ref::<InputError>().is_some() || c.downcast_ref::<ArgError>().is_some())
}

/// A parsed YAML document with its text and file name kept, so later
/// validation can point at lines.
#[derive(Debug, Clone)]
pub struct Source {
    pub file: PathBuf,
    pub text: String,
}

impl Source {
    /// Reads `file`; a missing or unreadable file is an [`InputError`].
    pub fn read(file: &Path) -> Result<Source, InputError> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| InputError::file(file, format!("cannot read the file: {e}")))?;
        Ok(Source {
            file: file.to_path_buf(),
            text,
        })
    }

    pub fn from_text(file: impl Into<PathBuf>, text: impl Into<String>) -> Source {
        Source {
            file: file.into(),
            text: text.into(),
        }
    }

    /// Deserializes the whole document into `T` (whose structs should use
    /// `#[serde(deny_unknown_fields)]`).
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, InputError> {
        serde_saphyr::from_str::<T>(&self.text).map_err(|e| self.saphyr_error(&e))
    }

    /// An error at a spanned value of this document.
    pub fn error_at<T>(&self, spanned: &Spanned<T>, message: impl Into<String>) -> InputError {
        InputError::at_location(&self.file, &self.text, &spanned.referenced, message)
    }

    /// An error about the whole document.
    pub fn error(&self, message: impl Into<String>) -> InputError {
        InputError::file(&self.file, message)
    }

    fn saphyr_error(&self, e: &serde_saphyr::Error) -> InputError {
        let plain = e.without_snippet().to_string();
        let message = strip_position_prefix(&plain);
        match e.location() {
            Some(loc) if loc.line() > 0 => InputError::at(
                &self.file,
                &self.text,
                loc.line() as u32,
                loc.column() as u32,
                message,
            ),
            _ => InputError::file(&self.file, message),
        }
    }
}

/// What a YAML document is, from its top-level keys: `"scenario"`,
/// `"sweep"`, `"topology"` or `"workload"` (the default).
pub fn document_kind(src: &Source) -> &'static str {
    let has = |key: &str| src.text.lines().any(|l| l.starts_with(&format!("{key}:")));
    if has("base") && has("axes") {
        "sweep"
    } else if has("topology") {
        "scenario"
    } else if has("fabric") || has("nodes") || has("host") {
        "topology"
    } else {
        "workload"
    }
}

/// `"error: line 3 column 19: msg"` → `"msg"` (we print positions ourselves).
fn strip_position_prefix(s: &str) -> String {
    let first = s.lines().next().unwrap_or(s);
    let mut rest = first.strip_prefix("error: ").unwrap_or(first);
    if rest.starts_with("line ")
        && let Some(i) = rest.find(": ")
    {
        rest = &rest[i + 2..];
    }
    // serde-saphyr also appends " at line L, column C" to custom messages.
    if let Some(i) = rest.rfind(" at line ")
        && rest[i + 9..]
            .chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == ' ' || "column".contains(c))
    {
        rest = &rest[..i];
    }
    rest.trim().to_string()
}

/// Recovers the dotted YAML path of the value at (line, column) from block
/// indentation and flow mappings: `fabric.uplink.bandwidth`, `layers[2].forward`.
/// Best effort: it reads keys and `- ` items, not full YAML.
pub fn yaml_path_at(text: &str, line: u32, column: u32) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let idx = (line as usize).checked_sub(1)?;
    let here = *lines.get(idx)?;
    // Segments within the error line, up to the column.
    let col = (column.max(1) as usize - 1).min(here.len());
    let mut segments = flow_segments(&here[..col]);
    // Errors about a key (unknown field) point at the key itself.
    if let Some(k) = key_of(&here[col..]).filter(|_| !here[col..].starts_with(' ')) {
        segments.push(k);
    }
    let mut indent = indentation(here);
    let mut line_items: Vec<String> = Vec::new();
    if here.trim_start().starts_with("- ") {
        line_items.push(item_index(&lines, idx, indent));
    }
    // Walk upward collecting the enclosing keys.
    let mut prefix: Vec<String> = Vec::new();
    let mut i = idx;
    while i > 0 && indent > 0 {
        i -= 1;
        let l = lines[i];
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        let ind = indentation(l);
        let body = l.trim_start();
        if ind < indent {
            if let Some(rest) = body.strip_prefix("- ") {
                // A list item; its key is a parent only if it opens a block.
                if rest.trim_end().ends_with(':')
                    && let Some(k) = key_of(rest)
                {
                    prefix.push(k);
                }
                prefix.push(item_index(&lines, i, ind));
            } else if let Some(k) = key_of(body) {
                prefix.push(k);
            }
            indent = ind;
        }
    }
    prefix.reverse();
    let mut parts = prefix;
    parts.append(&mut line_items);
    parts.append(&mut segments);
    let mut out = String::new();
    for p in parts {
        if p.starts_with('[') || out.is_empty() {
            out.push_str(&p);
        } else {
            out.push('.');
            out.push_str(&p);
        }
    }
    (!out.is_empty()).then_some(out)
}

fn indentation(l: &str) -> usize {
    l.len() - l.trim_start_matches(' ').len()
}

fn key_of(body: &str) -> Option<String> {
    let body = body.trim_start_matches("- ");
    let colon = body.find(':')?;
    let key = body[..colon].trim().trim_matches(['"', '\'']);
    (!key.is_empty() && !key.contains(['{', '[', ' '])).then(|| key.to_string())
}

/// `[k]` where k counts the `- ` items at this indentation above line `idx`
/// in the same list.
fn item_index(lines: &[&str], idx: usize, indent: usize) -> String {
    let mut k = 0;
    for l in lines[..idx].iter().rev() {
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        let ind = indentation(l);
        if ind < indent || (ind == indent && !l.trim_start().starts_with("- ")) {
            break;
        }
        if ind == indent {
            k += 1;
        }
    }
    format!("[{k}]")
}

/// Keys of the block line and of the open flow mappings before the column:
/// `nic: { bandwidth: 1` → `["nic", "bandwidth"]`.
fn flow_segments(upto: &str) -> Vec<String> {
    let body = upto.trim_start().trim_start_matches("- ");
    let mut out = Vec::new();
    let mut stack: Vec<(char, usize, Option<String>)> = Vec::new();
    let mut current_key: Option<String> = None;
    let mut token = String::new();
    let mut top_key: Option<String> = None;
    for c in body.chars() {
        match c {
            '{' | '[' => {
                let key = current_key.take();
                stack.push((c, 0, key));
                token.clear();
            }
            '}' | ']' => {
                stack.pop();
                token.clear();
                current_key = None;
            }
            ',' => {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                current_key = None;
                token.clear();
            }
            ':' => {
                let k = token.trim().trim_matches(['"', '\'']).to_string();
                if stack.is_empty() {
                    top_key = Some(k.clone());
                }
                current_key = Some(k);
                token.clear();
            }
            _ => token.push(c),
        }
    }
    if let Some(k) = top_key {
        out.push(k);
    }
    for (kind, n, _) in &stack {
        if *kind == '[' {
            out.push(format!("[{n}]"));
        }
    }
    // Keys of nested flow maps.
    let nested: Vec<String> = stack.iter().skip(1).filter_map(|s| s.2.clone()).collect();
    let insert_at = usize::from(!out.is_empty());
    for (j, k) in nested.into_iter().enumerate() {
        out.insert(insert_at + j, k);
    }
    if !stack.is_empty()
        && let Some(k) = current_key
    {
        out.push(k);
    }
    out
}

#[cfg(test)]
mod tests;
