//! One error vocabulary: the YAML parser's and serde's messages rewritten in
//! the user's words. "invalid u32" becomes "must be a whole number from 0 to
//! 4294967295"; "duplicate mapping key … DuplicateKeyPolicy in Options"
//! becomes "the key `name` appears twice (lines 1 and 2)". A message that
//! would still show a Rust type name falls back to a plain sentence, so no
//! user ever reads `u32`, `untagged enum` or `variant`.
//!
//! It rewrites text only; positions are the caller's (`input.rs`).

/// What a Rust type means to a user, as "must be …".
const TYPES: &[(&str, &str)] = &[
    ("u8", "a whole number from 0 to 255"),
    ("u16", "a whole number from 0 to 65535"),
    ("u32", "a whole number from 0 to 4294967295"),
    ("u64", "a whole number from 0 to 18446744073709551615"),
    ("usize", "a whole number from 0 to 18446744073709551615"),
    ("i32", "a whole number from -2147483648 to 2147483647"),
    ("i64", "a whole number"),
    ("f32", "a number"),
    ("f64", "a number"),
    ("a boolean", "true or false"),
    ("bool", "true or false"),
    ("a string", "text"),
    ("a sequence", "a list"),
    ("a map", "a mapping of keys to values"),
    ("a character", "a single character"),
];

/// Words that must never reach a user.
const RUST_WORDS: &[&str] = &[
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "f32",
    "f64",
    "bool",
    "String",
    "str",
    "Vec",
    "Option",
    "Options",
    "PathBuf",
    "Spanned",
    "struct",
    "enum",
    "untagged",
    "variant",
    "variants",
    "tuple",
    "newtype",
    "DuplicateKeyPolicy",
    "serde",
    "deserialize",
    "Deserialize",
];

/// True if `msg` contains a Rust type or serde word as a whole word,
/// outside quotes (`` `…` `` and `'…'` quote the user's own text).
pub fn has_rust_words(msg: &str) -> bool {
    let mut outside = String::new();
    let mut quote: Option<char> = None;
    for c in msg.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '`' || c == '\'' => quote = Some(c),
            None => outside.push(c),
        }
    }
    // File paths and YAML tags (`!!str`) are the user's words too.
    outside
        .split_whitespace()
        .filter(|t| !t.contains('/') && !t.contains("!!"))
        .flat_map(|t| t.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .any(|w| RUST_WORDS.contains(&w))
}

/// Rewrites a parser message; `yaml_path` (if known) picks the wording for
/// values with several accepted forms. Messages already in plain words
/// (ours, from unit parsing and checks) pass through unchanged.
pub fn plain(msg: &str, yaml_path: Option<&str>) -> String {
    let last = yaml_path
        .and_then(|p| p.rsplit('.').next())
        .unwrap_or_default();
    if msg.contains("untagged enum") || msg.contains("did not match any variant") {
        return match last {
            "partition" => "a partition is `uniform`, `balanced`, or a list of whole layer \
                            counts, one per stage, e.g. [4, 3, 3, 4]"
                .into(),
            _ => "this value has none of the accepted forms; see the README for this field".into(),
        };
    }
    if let Some(rest) = msg.strip_prefix("unknown variant ") {
        return match rest.split_once(", expected ") {
            Some((value, expected)) => {
                format!("unknown value {value}: use {}", expected.replace('`', ""))
            }
            None => format!("unknown value {rest}"),
        };
    }
    // serde-saphyr refuses `.nan`, `.inf` and `1e999` where any value may
    // stand (a `--set` value) "by the configured policy at line 1, ...".
    if let Some(rest) = msg.strip_prefix("non-finite float ") {
        let value = rest.split(" rejected").next().unwrap_or(rest);
        return format!("{value} is not a finite number");
    }
    if let Some(ty) = expected_type(msg) {
        return format!("must be {ty}{}", found(msg));
    }
    if let Some(rest) = msg.strip_prefix("invalid length ") {
        let n = rest.split(',').next().unwrap_or(rest);
        return format!("has the wrong number of entries ({n})");
    }
    if msg.contains("recursion limit") || msg.contains("nesting") {
        return "the document is nested too deeply".into();
    }
    if has_rust_words(msg) {
        return "this value has the wrong type or form".into();
    }
    msg.to_string()
}

/// The plain meaning of "expected X" / "invalid X" in `msg`, if X is a
/// Rust type.
fn expected_type(msg: &str) -> Option<&'static str> {
    let tail = msg
        .rsplit_once("expected ")
        .map(|(_, t)| t)
        .or_else(|| msg.strip_prefix("invalid "))?;
    let tail = tail.trim().trim_end_matches('.');
    if let Some(&(_, plain)) = TYPES.iter().find(|(ty, _)| *ty == tail) {
        return Some(plain);
    }
    if tail.starts_with("struct ") || tail.starts_with("a map") {
        return Some("a mapping of keys to values, e.g. { key: value }");
    }
    if tail.starts_with("a sequence") || tail.starts_with("a list") {
        return Some("a list, e.g. [1, 2]");
    }
    if tail.starts_with("enum ") {
        return Some("one of the accepted names");
    }
    None
}

/// ", not -1" from "invalid value: integer `-1`, expected …" (types with
/// numbers in them only: a string's quotes would repeat the source line).
fn found(msg: &str) -> String {
    let Some(rest) = msg
        .strip_prefix("invalid value: ")
        .or_else(|| msg.strip_prefix("invalid type: "))
    else {
        return String::new();
    };
    let what = rest.split(", expected").next().unwrap_or_default();
    if let Some(v) = what
        .split('`')
        .nth(1)
        .filter(|_| what.starts_with("integer") || what.starts_with("floating"))
    {
        // `1e9` and `8.0` are floats to the parser: a value in range is still
        // refused, and the range alone would not say why.
        let expected = rest.split(", expected ").nth(1).unwrap_or_default();
        let whole = TYPES
            .iter()
            .any(|&(ty, words)| ty == expected && words.starts_with("a whole number"));
        if what.starts_with("floating") && whole {
            return format!(
                ", not {v}: write a whole number with digits only, no decimal point or exponent"
            );
        }
        return format!(", not {v}");
    }
    match what {
        w if w.starts_with("string") => ", not text".into(),
        w if w.starts_with("sequence") => ", not a list".into(),
        w if w.starts_with("map") => ", not a mapping".into(),
        w if w.starts_with("boolean") => ", not true/false".into(),
        w if w.starts_with("unit") || w.starts_with("null") => ", not an empty value".into(),
        _ => String::new(),
    }
}

/// Why setting `path` to `value` (`--set`, a sweep axis) failed, from the
/// parser's `msg`: a path that names no setting, or a value it cannot take.
/// Returns the sentence and whether the path (not the value) is at fault.
pub fn setting_error(path: &str, value: &str, msg: &str) -> (String, bool) {
    if msg.starts_with("unknown field") {
        let fields = msg.split_once(", expected ").map(|(_, e)| {
            let e = e.replace('`', "");
            e.strip_prefix("one of ").map_or(e.clone(), str::to_string)
        });
        let hint = fields
            .map(|f| format!(" (valid here: {f})"))
            .unwrap_or_default();
        let what = msg.split(", expected").next().unwrap_or(msg);
        (
            format!("{path} is not a scenario setting: {what}{hint}"),
            true,
        )
    } else {
        let why = plain(msg, Some(path));
        (
            format!("{value} is not a valid value for {path}: {why}"),
            false,
        )
    }
}

/// A number as a person reads it: `0.5`, `1000`, `1e308` (not 309 digits).
pub fn number(x: f64) -> String {
    if x != 0.0 && x.is_finite() && !(1e-4..1e6).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// The key of a duplicate-key message, if `msg` is one.
pub fn duplicate_key(msg: &str) -> Option<&str> {
    let rest = msg.strip_prefix("duplicate mapping key: ")?;
    Some(rest.split(',').next().unwrap_or(rest).trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_words_become_plain_words() {
        assert_eq!(
            plain("invalid u32", Some("hosts")),
            "must be a whole number from 0 to 4294967295"
        );
        assert_eq!(
            plain("invalid value: integer `-1`, expected u32", None),
            "must be a whole number from 0 to 4294967295, not -1"
        );
        assert_eq!(
            plain(
                "invalid type: floating point `1000000000.0`, expected u32",
                None
            ),
            "must be a whole number from 0 to 4294967295, not 1000000000.0: write a whole \
             number with digits only, no decimal point or exponent"
        );
        assert!(
            plain(
                "data did not match any variant of untagged enum Raw",
                Some("pipeline.partition")
            )
            .contains("list of whole layer counts, one per stage")
        );
        assert_eq!(
            plain("unknown variant `foo`, expected `ring` or `tree`", None),
            "unknown value `foo`: use ring or tree"
        );
        for m in [
            "invalid type: map, expected a sequence",
            "invalid type: string \"x\", expected f64",
            "weird thing about struct Foo",
            "data did not match any variant of untagged enum X",
        ] {
            assert!(!has_rust_words(&plain(m, None)), "{m} → {}", plain(m, None));
        }
        assert_eq!(
            duplicate_key("duplicate mapping key: name, set DuplicateKeyPolicy in Options"),
            Some("name")
        );
    }
}
