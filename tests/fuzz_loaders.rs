//! Mutation fuzzing of every loader (issue 10): the shipped examples —
//! topologies, workloads (YAML and CSV), scenarios, sweeps — mutated with
//! hostile tokens (huge, negative, NaN and fractional numbers, YAML syntax,
//! tabs, CRs, duplicate lines), loaded in-process. A loader may accept or
//! refuse; it must never panic, and a refusal must be in plain words (no
//! Rust type names).
//!
//! CI runs a short pass (64 cases per loader). A long run:
//!
//! ```sh
//! PROPTEST_CASES=200000 cargo test --release --test fuzz_loaders -- --nocapture
//! ```
//!
//! prints the number of executions per loader.

use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

const TOKENS: &[&str] = &[
    "-1",
    "0",
    "1e308",
    "-1e308",
    "1e-300",
    ".nan",
    ".inf",
    "-.inf",
    "99999999999999999999",
    "4294967296",
    "18446744073709551616",
    "1.5",
    "[",
    "]",
    "{",
    "}",
    ":",
    ": ",
    ",",
    "\t",
    "\r",
    "\n",
    "\n  ",
    "- ",
    "~",
    "null",
    "true",
    "\"",
    "'",
    "#",
    "&a ",
    "*a",
    "!!str ",
    "0x10",
    "1kbps",
    "1e300Gbps",
    "0Gbps",
    "1PiB",
    "2e18",
    "1e7s",
    "1e-20s",
    "-5us",
    "abc",
    "[1, 2]",
    "{ a: 1 }",
    "ring",
    "gpipe",
    "balanced",
    "[0, 0]",
    "65",
    "1000000000",
];

/// The shipped example tree, copied once into a temporary folder so
/// mutated files sit where their relative paths resolve.
fn tree() -> &'static Path {
    static TREE: OnceLock<tempfile::TempDir> = OnceLock::new();
    TREE.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for sub in ["topologies", "workloads", "scenarios", "sweeps"] {
            std::fs::create_dir(d.path().join(sub)).unwrap();
            for e in std::fs::read_dir(root.join(sub)).unwrap() {
                let p = e.unwrap().path();
                if p.is_file() {
                    std::fs::copy(&p, d.path().join(sub).join(p.file_name().unwrap())).unwrap();
                }
            }
        }
        d
    })
    .path()
}

fn examples(sub: &str, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(tree().join(sub))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == ext) && !p.to_string_lossy().contains("fuzz-")
        })
        .collect();
    v.sort();
    v
}

/// One edit: (kind, position as a fraction of the text, token index).
type Edit = (u8, f64, usize);

fn mutate(text: &str, edits: &[Edit]) -> String {
    let mut t: Vec<char> = text.chars().collect();
    for &(kind, at, tok) in edits {
        let i = ((t.len() as f64) * at) as usize;
        let i = i.min(t.len());
        let token: Vec<char> = TOKENS[tok % TOKENS.len()].chars().collect();
        match kind % 4 {
            0 => {
                t.splice(i..i, token);
            }
            1 => {
                let end = (i + 1 + tok % 8).min(t.len());
                t.drain(i..end);
            }
            2 => {
                // Replace the number (or word) at i with the token.
                let start = (0..i)
                    .rev()
                    .find(|&k| !t[k].is_alphanumeric() && t[k] != '.')
                    .map_or(0, |k| k + 1);
                let end = (i..t.len())
                    .find(|&k| !t[k].is_alphanumeric() && t[k] != '.')
                    .unwrap_or(t.len());
                t.splice(start..end, token);
            }
            _ => {
                // Duplicate the line holding i.
                let start = (0..i).rev().find(|&k| t[k] == '\n').map_or(0, |k| k + 1);
                let end = (i..t.len())
                    .find(|&k| t[k] == '\n')
                    .map_or(t.len(), |k| k + 1);
                let line: Vec<char> = t[start..end].to_vec();
                t.splice(end..end, line);
            }
        }
    }
    t.into_iter().collect()
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec((any::<u8>(), 0.0..1.0f64, any::<usize>()), 1..4)
}

static SERIAL: AtomicU64 = AtomicU64::new(0);

/// Writes the mutation of `original` beside it and loads it with `load`.
fn check(
    original: &Path,
    edits: &[Edit],
    load: impl Fn(&Path) -> Result<(), String>,
) -> Result<(), TestCaseError> {
    let text = std::fs::read_to_string(original).unwrap();
    let n = SERIAL.fetch_add(1, Ordering::Relaxed);
    let ext = original.extension().unwrap().to_string_lossy();
    let file = original.with_file_name(format!("fuzz-{n}.{ext}"));
    std::fs::write(&file, mutate(&text, edits)).unwrap();
    let result = load(&file);
    let _ = std::fs::remove_file(&file);
    if let Err(msg) = result {
        // The first line is ours; the lines after it echo the user's text.
        let first = msg.lines().next().unwrap_or_default();
        prop_assert!(!fabsim::input::has_rust_words(first), "{msg}");
    }
    Ok(())
}

fn gpu() -> fabsim::topology::GpuSpec {
    fabsim::topology::gpu::preset("A100-SXM4-80GB").unwrap()
}

/// Counts executions for the long run's report.
fn report(name: &str, count: &AtomicU64) {
    println!("{name}: {} executions", count.load(Ordering::Relaxed));
}

macro_rules! fuzz_target {
    ($name:ident, $sub:expr, $ext:expr, $load:expr) => {
        #[test]
        fn $name() {
            let files = examples($sub, $ext);
            assert!(!files.is_empty());
            let runs = AtomicU64::new(0);
            let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
                cases: cases(),
                failure_persistence: None,
                ..ProptestConfig::default()
            });
            runner
                .run(&(0..files.len(), edits()), |(k, e)| {
                    runs.fetch_add(1, Ordering::Relaxed);
                    check(&files[k], &e, $load)
                })
                .unwrap();
            report(stringify!($name), &runs);
        }
    };
}

fuzz_target!(topology_loader, "topologies", "yaml", |f: &Path| {
    fabsim::topology::load(f)
        .map(|_| ())
        .map_err(|e| e.to_string())
});

fuzz_target!(workload_yaml_loader, "workloads", "yaml", |f: &Path| {
    fabsim::workload::load(f, &gpu(), &Default::default())
        .map(|_| ())
        .map_err(|e| e.to_string())
});

fuzz_target!(workload_csv_loader, "workloads", "csv", |f: &Path| {
    fabsim::workload::load(f, &gpu(), &Default::default())
        .map(|_| ())
        .map_err(|e| e.to_string())
});

fuzz_target!(scenario_loader, "scenarios", "yaml", |f: &Path| {
    fabsim::scenario::Scenario::load(f, &Default::default())
        .map(|_| ())
        .map_err(|e| format!("{e:#}"))
});

fuzz_target!(sweep_loader, "sweeps", "yaml", |f: &Path| {
    fabsim::sweep::Sweep::load(f)
        .map(|_| ())
        .map_err(|e| e.to_string())
});
