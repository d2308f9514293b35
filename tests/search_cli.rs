//! `fabsim search`: the shipped GPT-3 search runs and finds a front; a
//! small search is deterministic for any --jobs, its shards concatenate
//! (and each gets its report), its lower bounds hold, and bad search
//! files are refused.

mod common;

use assert_cmd::Command;
use common::{output_ok, root};
use fabsim::search::table::COLUMNS;
use std::collections::BTreeMap;
use std::path::Path;

fn search(file: &Path, args: &[&str]) -> (String, String) {
    let out = output_ok(
        Command::cargo_bin("fabsim")
            .unwrap()
            .arg("search")
            .arg(file)
            .args(args),
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

type Table = Vec<BTreeMap<String, String>>;

fn parse(csv_text: &str) -> Table {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            head.iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn num(r: &BTreeMap<String, String>, k: &str) -> f64 {
    r[k].parse().unwrap_or_else(|_| panic!("{k} = '{}'", r[k]))
}

/// Lower bounds hold; the front is not dominated; breakdowns sum.
fn check_rows(rows: &Table, target_s: f64) {
    let sim: Vec<_> = rows.iter().filter(|r| r["status"] == "simulated").collect();
    assert!(!sim.is_empty());
    for r in &sim {
        assert!(
            num(r, "bound_step_s") <= num(r, "step_s") * (1.0 + 1e-9),
            "{r:?}"
        );
        let parts: f64 = ["gpus", "nics", "switches", "optics"]
            .iter()
            .map(|k| num(r, &format!("capex_{k}_usd")))
            .sum();
        assert!((parts - num(r, "capex_usd")).abs() < 1e-6 * parts);
    }
    let front: Vec<_> = sim.iter().filter(|r| r["pareto"] == "true").collect();
    assert!(!front.is_empty());
    let key = |r: &BTreeMap<String, String>| {
        [
            num(r, "step_s"),
            num(r, "capex_usd"),
            num(r, "usd_per_mtok"),
        ]
    };
    for f in &front {
        assert!(num(f, "step_s") <= target_s, "{f:?}");
        for g in &sim {
            let (a, b) = (key(g), key(f));
            let dominates = (0..3).all(|i| a[i] <= b[i]) && (0..3).any(|i| a[i] < b[i]);
            assert!(
                !(dominates && num(g, "step_s") <= target_s),
                "{g:?} dominates {f:?}"
            );
        }
    }
}

#[test]
fn small_search_is_deterministic_shards_concatenate_and_bounds_hold() {
    let file = root().join("tests/data/search-small.yaml");
    let (one, table) = search(&file, &["--jobs", "1"]);
    let (two, _) = search(&file, &["--jobs", "2"]);
    assert_eq!(one, two, "the CSV depends on --jobs");
    assert!(table.contains("Pareto front"), "{table}");
    let rows = parse(&one);
    // 2 servers × 2 sizes × 2 NICs × 3 fabrics × 5 × 3 × 2 × 2 × 2.
    assert_eq!(rows.len(), 2880);
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for r in &rows {
        *by.entry(r["status"].clone()).or_default() += 1;
    }
    for rule in [
        "invalid",
        "over-budget",
        "too-slow-bound",
        "dominated-bound",
        "simulated",
    ] {
        assert!(by.get(rule).copied().unwrap_or(0) > 0, "{rule}: {by:?}");
    }
    check_rows(&rows, 0.015);
    // Shards: every candidate once, header only in shard 1.
    let (s1, _) = search(&file, &["--jobs", "2", "--shard", "1/2"]);
    let (s2, _) = search(&file, &["--jobs", "2", "--shard", "2/2"]);
    assert!(
        s2.lines()
            .next()
            .is_some_and(|l| !l.starts_with("candidate,"))
    );
    let all = parse(&format!("{s1}{s2}"));
    let ids: Vec<String> = all.iter().map(|r| r["candidate"].clone()).collect();
    let want: Vec<String> = rows.iter().map(|r| r["candidate"].clone()).collect();
    assert_eq!(ids, want);
    // Shard 2 alone gets its report: the search's header is put back.
    let dir = tempfile::tempdir().unwrap();
    let shard = dir.path().join("s2.csv");
    std::fs::write(&shard, &s2).unwrap();
    let out = output_ok(
        Command::cargo_bin("fabsim")
            .unwrap()
            .arg("report")
            .arg(&shard),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("s2.html"));
    let page = std::fs::read_to_string(dir.path().join("s2.html")).unwrap();
    assert!(page.contains("The front, cheapest first"), "{page}");
}

/// The shipped GPT-3 search, one design's slice of it (shard 29 of 36 is
/// 2048 B200s on the rail fabric: 384 candidates) to keep CI short; the
/// whole search is the README's walk-through.
#[test]
fn shipped_gpt3_search_finds_a_front() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("s.csv");
    let (table, _) = search(
        &root().join("searches/gpt3-175b-1m-tokens.yaml"),
        &[
            "--jobs",
            "2",
            "--shard",
            "29/36",
            "--out",
            csv_path.to_str().unwrap(),
        ],
    );
    assert!(table.contains("Pareto front"), "{table}");
    assert!(table.contains("384 candidates"), "{table}");
    // The rows' temporary and the CSV's are gone.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let text = std::fs::read_to_string(&csv_path).unwrap();
    let rows = parse(&format!("{}\n{text}", COLUMNS.join(",")));
    assert_eq!(rows.len(), 384);
    assert!(
        rows.iter()
            .all(|r| r["server"] == "dgx-b200" && r["gpus"] == "2048")
    );
    check_rows(&rows, 1536.0 * 2048.0 / 1e6);
}

/// Pruning loses nothing: with the time bounds off (`--exhaustive`) the
/// front holds the same points (step, capex, $/M tokens), every bound is
/// below its simulated step, and the default run did prune by both rules.
#[test]
fn pruning_keeps_the_exhaustive_front() {
    let file = root().join("tests/data/search-prune.yaml");
    let (pruned, _) = search(&file, &["--jobs", "2"]);
    let (full, _) = search(&file, &["--jobs", "2", "--exhaustive"]);
    let (pruned, full) = (parse(&pruned), parse(&full));
    let count = |t: &Table, w: &str| t.iter().filter(|r| r["status"] == w).count();
    for rule in ["too-slow-bound", "dominated-bound"] {
        assert!(count(&pruned, rule) > 0, "{rule} never fired");
        assert_eq!(count(&full, rule), 0, "{rule} fired in --exhaustive");
    }
    assert!(count(&full, "simulated") > 2 * count(&pruned, "simulated"));
    check_rows(&full, 0.015);
    let front = |t: &Table| {
        let mut f: Vec<String> = t
            .iter()
            .filter(|r| r["pareto"] == "true")
            .map(|r| format!("{} {} {}", r["step_s"], r["capex_usd"], r["usd_per_mtok"]))
            .collect();
        f.sort();
        f
    };
    assert!(!front(&full).is_empty());
    assert_eq!(front(&pruned), front(&full));
}

#[test]
fn bad_search_files_are_refused_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("tests/data/search-small.yaml"))
        .unwrap()
        .replace(
            "../../workloads",
            &root().join("workloads").display().to_string(),
        )
        .replace("{ kind: switch }", "{ kind: torus }");
    let f = dir.path().join("bad.yaml");
    std::fs::write(&f, text).unwrap();
    let out = Command::cargo_bin("fabsim")
        .unwrap()
        .arg("search")
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.yaml:14") && err.contains("torus"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

/// An interrupted search leaves the previous CSV and no temporary (the
/// rows', the CSV's, or its scratch folder in TMPDIR), and exits with 130.
#[cfg(unix)]
#[test]
fn an_interrupted_search_leaves_the_previous_csv() {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("s.csv");
    std::fs::write(&csv_path, "old").unwrap();
    let names = |d: &Path| std::fs::read_dir(d).unwrap().count();
    // A slice of the shipped search that simulates for a minute.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("fabsim"))
        .arg("search")
        .arg(root().join("searches/gpt3-175b-1m-tokens.yaml"))
        .args(["--shard", "3/8", "--jobs", "1", "-q", "--html", "--out"])
        .arg(&csv_path)
        .env("TMPDIR", tmp.path())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while names(dir.path()) < 3 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(names(dir.path()), 3, "the temporaries never appeared");
    assert_eq!(names(tmp.path()), 1, "the scratch folder is not in TMPDIR");
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_eq!(names(dir.path()), 1);
    assert_eq!(names(tmp.path()), 0, "the scratch folder was left");
    assert_eq!(std::fs::read_to_string(&csv_path).unwrap(), "old");
}

/// A search that fails after making its scratch folder (here: `--out`
/// names a folder) removes it, exits with 2 and writes nothing.
#[test]
fn a_failed_search_leaves_no_scratch_folder() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("fabsim")
        .unwrap()
        .arg("search")
        .arg(root().join("tests/data/search-tiny.yaml"))
        .args(["-q", "--html", "--out"])
        .arg(dir.path())
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is a folder"), "{err}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_step_is_one_global_batch_for_every_schedule() {
    // PipeDream's iteration trains m global batches; a search row's step
    // (what the target and the front compare) must be one, as its
    // tokens/s and $/M tokens are.
    let file = root().join("tests/data/search-pipedream.yaml");
    let (csv_text, _) = search(&file, &["--exhaustive", "--quiet"]);
    let rows = parse(&csv_text);
    let tokens_per_step = 32.0 * 1024.0;
    for r in rows.iter().filter(|r| r["status"] == "simulated") {
        let want = tokens_per_step / num(r, "step_s");
        let got = num(r, "tokens_per_s");
        assert!((got / want - 1.0).abs() < 1e-9, "{r:?}: {got} vs {want}");
    }
    assert!(
        rows.iter()
            .any(|r| r["schedule"] == "pipedream" && r["status"] == "simulated")
    );
}
