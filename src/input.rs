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
    /// The file (or `--set`) at fault.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// 1-based column, when known.
    pub column: Option<u32>,
    /// Dotted YAML path to the offending value, e.g. `fabric.uplink.bandwidth`.
    pub yaml_path: Option<String>,
    /// What is wrong and what to write instead.
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

    /// Sets the line (for errors found outside the YAML parser).
    pub fn with_line(mut self, line: usize) -> Self {
        self.line = Some(line as u32);
        self
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
    /// The flag, e.g. `--shard`.
    pub flag: String,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl ArgError {
    /// An error about `flag`.
    pub fn new(flag: impl Into<String>, message: impl Into<String>) -> Self {
        ArgError {
            flag: flag.into(),
            message: message.into(),
        }
    }
}

/// A bad input file or a bad command-line value: either way the user's to
/// fix. Shows the cause's own message and keeps it as the source, so
/// [`is_user_error`] finds it in any chain.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file (or a `--set` into one) that cannot be used.
    #[error("{0}")]
    File(#[from] InputError),
    /// A command-line value that cannot be used.
    #[error("{0}")]
    Arg(#[from] ArgError),
}

/// `e` and its sources, outermost first.
pub fn chain<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |c| c.source())
}

/// True if `e` is the user's to fix: bad input files or arguments. (The
/// binary's exit code also counts output and model-range errors, see
/// [`crate::exit`].)
pub fn is_user_error(e: &(dyn std::error::Error + 'static)) -> bool {
    chain(e)
        .any(|c| c.downcast_ref::<InputError>().is_some() || c.downcast_ref::<ArgError>().is_some())
}

/// A parsed YAML document with its text and file name kept, so later
/// validation can point at lines.
#[derive(Debug, Clone)]
pub struct Source {
    /// Where the text came from (named in errors).
    pub file: PathBuf,
    /// The whole document.
    pub text: String,
}

impl Source {
    /// Reads `file`; a missing or unreadable file is an [`InputError`].
    pub fn read(file: &Path) -> Result<Source, InputError> {
        let bytes = std::fs::read(file)
            .map_err(|e| InputError::file(file, format!("cannot read the file: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            InputError::file(file, "the file is not UTF-8 text").with_line(line)
        })?;
        Ok(Source::from_text(file, text))
    }

    /// A document from text. Line endings are normalised (CRLF and a lone
    /// CR become LF), so every loader and `validate` count lines alike.
    pub fn from_text(file: impl Into<PathBuf>, text: impl Into<String>) -> Source {
        let mut text = text.into();
        if text.contains('\r') {
            text = text.replace("\r\n", "\n").replace('\r', "\n");
        }
        Source {
            file: file.into(),
            text,
        }
    }

    /// An error at the line of dotted key `path` (e.g. `collective.chunks`),
    /// for values that carry no position; the whole file if not found.
    pub fn error_at_key(&self, path: &str, message: impl Into<String>) -> InputError {
        let key = path.rsplit('.').next().unwrap_or(path);
        let found = self.text.lines().enumerate().find_map(|(i, l)| {
            let at = l.find(&format!("{key}:"))?;
            let before = l[..at].chars().last();
            before
                .is_none_or(|c| c == ' ' || c == '{' || c == ',')
                .then_some((i, at))
        });
        match found {
            Some((i, at)) => InputError::at(
                &self.file,
                &self.text,
                i as u32 + 1,
                (at + key.len() + 3) as u32,
                message,
            )
            .with_path(path),
            None => InputError::file(&self.file, message).with_path(path),
        }
    }

    /// Deserializes the whole document into `T` (whose structs should use
    /// `#[serde(deny_unknown_fields)]`).
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, InputError> {
        if self.is_empty() {
            // The parser would say "unexpected end of input" at line 1.
            return Err(
                self.error("the file is empty: it has no settings, only blank lines or comments")
            );
        }
        serde_saphyr::from_str::<T>(&self.text).map_err(|e| self.saphyr_error(&e))
    }

    /// Whether the document holds nothing but blank lines, comments and
    /// document markers.
    fn is_empty(&self) -> bool {
        self.text.lines().all(|l| {
            let t = l.trim();
            t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
        })
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
        let raw = e.without_snippet().to_string();
        let message = strip_position_prefix(&raw);
        let mut err = match e.location() {
            Some(loc) if loc.line() > 0 => {
                let (line, column) =
                    self.fix_position(&message, loc.line() as u32, loc.column() as u32);
                InputError::at(&self.file, &self.text, line, column, message.clone())
            }
            _ => InputError::file(&self.file, message.clone()),
        };
        err.message = match (words::duplicate_key(&message), err.line) {
            (Some(key), Some(line)) => match self.first_key_line(key, line) {
                Some(first) if first == line => {
                    format!("the key `{key}` appears twice on line {line}")
                }
                Some(first) => format!("the key `{key}` appears twice (lines {first} and {line})"),
                None => format!("the key `{key}` appears twice"),
            },
            _ => words::plain(&message, err.yaml_path.as_deref()),
        };
        err
    }

    /// A tab in indentation is reported by the parser at the end of the
    /// line before: point at the tab itself.
    fn fix_position(&self, message: &str, line: u32, column: u32) -> (u32, u32) {
        if message.to_ascii_lowercase().contains("tab") {
            let lines: Vec<&str> = self.text.lines().collect();
            let from = (line as usize).saturating_sub(1);
            if let Some(i) =
                (from..lines.len()).find(|&i| lines[i].trim_start_matches(' ').starts_with('\t'))
            {
                let col = lines[i].find('\t').unwrap_or(0) + 1;
                return (i as u32 + 1, col as u32);
            }
        }
        (line, column)
    }

    /// The line of the first `key:` at the same indentation as line
    /// `dup`'s, above it.
    fn first_key_line(&self, key: &str, dup: u32) -> Option<u32> {
        let lines: Vec<&str> = self.text.lines().collect();
        let here = lines.get(dup as usize - 1)?;
        let indent = here.len() - here.trim_start().len();
        let bare = |l: &str| l.trim_start().trim_start_matches("- ").to_string();
        (0..dup as usize - 1)
            .rev()
            .filter(|&i| {
                let l = lines[i];
                l.len() - l.trim_start().len() == indent
            })
            .find(|&i| {
                let b = bare(lines[i]);
                b.starts_with(&format!("{key}:"))
                    || b.starts_with(&format!("\"{key}\":"))
                    || b.starts_with(&format!("'{key}':"))
            })
            .map(|i| i as u32 + 1)
            .or_else(|| {
                // A flow mapping on one line: the duplicate is on the same line.
                here.matches(&format!("{key}:")).nth(1).map(|_| dup)
            })
    }
}

/// What a YAML document is, from its top-level keys: `"scenario"`,
/// `"sweep"`, `"search"`, `"topology"` or `"workload"` (the default).
pub fn document_kind(src: &Source) -> &'static str {
    let has = |key: &str| src.text.lines().any(|l| l.starts_with(&format!("{key}:")));
    if has("base") && has("axes") {
        "sweep"
    } else if has("hardware") && has("global_batch") {
        // A search names a `workload:` too, so it is told apart first.
        "search"
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

mod words;
mod yaml_path;
pub use words::{has_rust_words, number, plain, setting_error};
pub use yaml_path::yaml_path_at;

#[cfg(test)]
mod tests;
