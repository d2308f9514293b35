//! The shape of the crate, checked from its source text: the top-level
//! modules of `src/` import each other in one direction only (load → plan →
//! simulate → measure → export), so no two modules depend on each other,
//! directly or through others.
//!
//! Run it alone with `cargo test --test architecture`. It reads `crate::x`
//! paths in code (comments and doc links are skipped), so it sees `use`
//! lines and inline paths alike; it does not compile anything. Unit-test
//! files (`tests.rs`, `*_tests.rs`) are left out: a module's tests may drive
//! it from above (the collective tests time algorithms through the engine).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file below `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to: `src/engine/queue.rs` → `engine`.
fn top_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("file is under src/");
    let first = rel.components().next().expect("non-empty path");
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_string()
}

/// Top-level modules named by `crate::` paths in the code of `text`.
fn crate_references(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // `use crate::{a::X, b};`: each item's first segment.
                let group = group.split('}').next().unwrap_or("");
                for item in group.split(',') {
                    let seg = item.trim().split("::").next().unwrap_or("").trim();
                    if !seg.is_empty() {
                        out.insert(seg.to_string());
                    }
                }
            } else {
                let seg: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !seg.is_empty() {
                    out.insert(seg);
                }
            }
        }
    }
    out
}

/// Module → the modules it imports (itself excluded). `main` and `lib` are
/// the roots and are left out, and so is `cli`, the binary's subcommands
/// (its `crate::` is the binary, which sits above the whole library).
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let module = top_module(&src, &file);
        let stem = file.file_stem().unwrap_or_default().to_string_lossy();
        if module == "main"
            || module == "lib"
            || module == "cli"
            || stem == "tests"
            || stem.ends_with("_tests")
        {
            continue;
        }
        let text = fs::read_to_string(&file).expect("source is readable");
        let deps = graph.entry(module.clone()).or_default();
        deps.extend(crate_references(&text).into_iter().filter(|d| *d != module));
    }
    graph
}

/// A cycle through `start`, if there is one: `[start, …, start]`.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    // Depth-first search keeping the path; modules are few, so no memo.
    fn go(
        graph: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        let here = path.last().expect("path starts non-empty").clone();
        for next in graph.get(&here).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if go(graph, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    let mut seen = BTreeSet::new();
    go(graph, start, &mut path, &mut seen).then_some(path)
}

#[test]
fn the_reference_parser_sees_use_lines_groups_and_inline_paths() {
    let text = "use crate::a::X;\nuse crate::{b::Y, c};\nlet z = crate::d::f();\n// crate::e in a comment\n/// [`crate::f`] in a doc link\n";
    let found: Vec<String> = crate_references(text).into_iter().collect();
    assert_eq!(found, ["a", "b", "c", "d"]);
}

#[test]
fn the_cycle_finder_finds_a_planted_cycle_and_no_false_one() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let edge = |g: &mut BTreeMap<String, BTreeSet<String>>, a: &str, b: &str| {
        g.entry(a.into()).or_default().insert(b.into());
    };
    edge(&mut g, "a", "b");
    edge(&mut g, "b", "c");
    assert_eq!(cycle_from(&g, "a"), None);
    edge(&mut g, "c", "a");
    assert_eq!(
        cycle_from(&g, "a"),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

#[test]
fn modules_import_each_other_in_one_direction_only() {
    let graph = module_graph();
    assert!(graph.contains_key("engine") && graph.contains_key("collective"));
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|m| cycle_from(&graph, m))
        .map(|c| c.join(" → "))
        .collect();
    assert!(
        cycles.is_empty(),
        "module import cycles (break them by moving code up or down the flow load → plan → simulate → measure → export):\n{}",
        cycles.join("\n")
    );
}

/// Longest file and function allowed in `src/` (the project's rules).
const MAX_FILE_LINES: usize = 450;
const MAX_FN_LINES: usize = 100;

/// (name, first line, line count) of every function with a body in `text`:
/// from its `fn` line to the first line closing it at the same indentation
/// (rustfmt's layout), signature included.
fn function_lengths(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let code = line.trim_start();
        let indent = line.len() - code.len();
        let after_fn = [
            "fn ",
            "pub fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "const fn ",
            "pub const fn ",
        ]
        .iter()
        .find_map(|p| code.strip_prefix(p));
        let Some(rest) = after_fn else { continue };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{}}}", " ".repeat(indent));
        // A declaration without a body ends in `;` before any `{`.
        let body = lines[i..]
            .iter()
            .position(|l| l.contains('{') || l.trim_end().ends_with(';'));
        if body.is_none_or(|k| !lines[i + k].contains('{')) {
            continue;
        }
        if line.trim_end().ends_with('}') {
            out.push((name, i + 1, 1));
            continue;
        }
        if let Some(len) = lines[i + 1..].iter().position(|l| l.trim_end() == close) {
            out.push((name, i + 1, len + 2));
        }
    }
    out
}

#[test]
fn files_and_functions_stay_short() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut long = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).expect("source is readable");
        let rel = file.strip_prefix(&src).unwrap().display().to_string();
        let n = text.lines().count();
        if n > MAX_FILE_LINES {
            long.push(format!("{rel}: {n} lines (max {MAX_FILE_LINES})"));
        }
        for (name, at, len) in function_lengths(&text) {
            if len > MAX_FN_LINES {
                long.push(format!(
                    "{rel}:{at}: fn {name} is {len} lines (max {MAX_FN_LINES})"
                ));
            }
        }
    }
    assert!(long.is_empty(), "split these:\n{}", long.join("\n"));
}

#[test]
fn the_length_scan_finds_functions_and_their_ends() {
    let text = "fn a() {\n    x();\n}\n\nimpl T {\n    pub fn b(\n        y: u8,\n    ) -> u8 {\n        y\n    }\n    fn c(&self);\n    fn d() {}\n}\n";
    let got = function_lengths(text);
    let want = [("a", 1, 3), ("b", 6, 5), ("d", 12, 1)];
    let want: Vec<(String, usize, usize)> = want
        .iter()
        .map(|&(n, a, l)| (n.to_string(), a, l))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn anyhow_stays_in_the_binary() {
    // The library's errors are typed (thiserror); only `main.rs` and the
    // subcommands in `cli/` may wrap them in `anyhow`.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let users: Vec<String> = files
        .iter()
        .filter(|f| {
            let module = top_module(&src, f);
            module != "main" && module != "cli"
        })
        .filter(|f| {
            fs::read_to_string(f)
                .expect("source is readable")
                .lines()
                .any(|l| l.split("//").next().unwrap_or("").contains("anyhow"))
        })
        .map(|f| f.strip_prefix(&src).unwrap().display().to_string())
        .collect();
    assert!(users.is_empty(), "anyhow in the library: {users:?}");
}
