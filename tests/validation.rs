//! The Megatron-LM SC'21 validation suite: its files agree with each other
//! and with the paper's FLOP formula, every row fits in memory as Megatron's
//! runs did, `fabsim validate-suite` runs; and the recompute /
//! sequence-parallel keys refuse bad input with file, YAML path and line.

mod common;

use assert_cmd::Command;
use common::root;
use fabsim::validation::Suite;
use std::path::{Path, PathBuf};

fn suite_dir() -> PathBuf {
    root().join("validation/megatron-sc21")
}

/// `fabsim validate-suite DIR --json ARGS`: its exit status and report.
fn validate_suite_json(dir: &Path, args: &[&str]) -> (std::process::Output, serde_json::Value) {
    let out = Command::cargo_bin("fabsim")
        .unwrap()
        .args(["validate-suite", "--json"])
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out, report)
}

/// The paper's FLOPs per iteration: 96·B·s·l·h²·(1 + s/(6h) + V/(16·l·h)).
fn paper_flops(global_batch: f64, layers: f64, hidden: f64) -> f64 {
    let (s, v) = (2048.0, 51200.0);
    96.0 * global_batch
        * s
        * layers
        * hidden
        * hidden
        * (1.0 + s / (6.0 * hidden) + v / (16.0 * layers * hidden))
}

#[test]
fn suite_files_agree_with_each_other_and_fit_in_memory() {
    // Loading checks every row's t·p·d against its scenario.
    let suite = Suite::load(&suite_dir()).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(suite.file.rows.len(), 11);
    for r in &suite.file.rows {
        let r = &r.value;
        let path = suite_dir().join(&r.scenario);
        let s = fabsim::scenario::Scenario::load(&path, &Default::default()).unwrap();
        // The published time is the paper's FLOPs over its TFLOP/s.
        let w = &s.workload;
        let blocks = (w.layers.len() - 2) as f64;
        let hidden = (w.layers[1].activation_bytes / (w.batch_size as u64 * 2048 * 2)) as f64;
        let global = f64::from(w.batch_size) * f64::from(r.data);
        let implied = paper_flops(global, blocks, hidden)
            / (r.published_tflops_per_gpu.unwrap() * 1e12)
            / r.gpus as f64;
        assert!(
            (implied / r.published_s - 1.0).abs() < 1e-3,
            "{}: {implied} vs {}",
            r.row,
            r.published_s
        );
        // % of peak agrees with TFLOP/s on a 312 TFLOP/s A100 (rounded).
        assert!(
            (r.published_tflops_per_gpu.unwrap() / 312.0 * 100.0
                - r.published_percent_of_peak.unwrap())
            .abs()
                < 1.0
        );
        // Full recompute as in the paper, and it fits as Megatron's did.
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("recompute: full"), "{}", r.row);
        assert!(!text.contains("allow_oversubscribed_memory"));
        let m = fabsim::memory::estimate(&s.job(), s.cluster.gpu.memory_bytes);
        assert!(m.fits, "{}: {}", r.row, m.does_not_fit_message());
    }
}

#[test]
fn validate_suite_prints_the_table_and_its_verdict() {
    let (out, report) = validate_suite_json(&suite_dir(), &["--rows", "1.7b"]);
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["row"], "1.7B");
    let (fab, publ) = (
        rows[0]["fabsim_s"].as_f64().unwrap(),
        rows[0]["published_s"].as_f64().unwrap(),
    );
    let err = rows[0]["error"].as_f64().unwrap();
    assert!((fab / publ - 1.0 - err).abs() < 1e-12);
    assert!(rows[0]["hfu"].as_f64().unwrap() > rows[0]["mfu"].as_f64().unwrap());
    // The exit code follows the gate.
    let passed = report["passed"].as_bool().unwrap();
    assert_eq!(out.status.success(), passed, "{report}");
    assert_eq!(
        passed,
        err.abs() <= report["gate_mean_abs_error"].as_f64().unwrap()
    );
}

/// A copy of the 1.7B row with one line changed.
fn variant(dir: &Path, from: &str, to: &str) -> PathBuf {
    let src = suite_dir();
    for sub in ["topologies", "workloads"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::copy(
        src.join("topologies/selene-32.yaml"),
        dir.join("topologies/selene-32.yaml"),
    )
    .unwrap();
    std::fs::copy(
        src.join("workloads/gpt-1.7b.yaml"),
        dir.join("workloads/gpt-1.7b.yaml"),
    )
    .unwrap();
    let text = std::fs::read_to_string(src.join("1.7b.yaml")).unwrap();
    assert!(text.contains(from), "{from}");
    let path = dir.join("row.yaml");
    std::fs::write(&path, text.replace(from, to)).unwrap();
    path
}

fn refused(path: &Path, needles: &[&str]) {
    let out = Command::cargo_bin("fabsim")
        .unwrap()
        .args(["run", "--no-files"])
        .arg(path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row.yaml"), "{err}");
    for n in needles {
        assert!(err.contains(n), "{n}: {err}");
    }
}

#[test]
fn bad_recompute_and_sequence_parallel_without_tensor_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let line = |needle: &str, path: &Path| {
        let text = std::fs::read_to_string(path).unwrap();
        let n = text.lines().position(|l| l.contains(needle)).unwrap() + 1;
        format!("{n}")
    };
    let p = variant(dir.path(), "recompute: full", "recompute: sometimes");
    refused(&p, &["recompute", "sometimes", &line("recompute:", &p)]);
    let p = variant(
        dir.path(),
        "data: 32 }",
        "data: 32, sequence_parallel: true }",
    );
    refused(
        &p,
        &[
            "parallelism.sequence_parallel",
            "tensor",
            &line("parallelism:", &p),
        ],
    );
    // Without recompute the 1.7B row needs far more than 80 GB: the message
    // names the stage and the bytes.
    let p = variant(dir.path(), "recompute: full", "recompute: none");
    refused(&p, &["does not fit", "stage 0", "bytes", "recompute"]);
}

#[test]
fn blocking_p2p_is_refused_outside_megatrons_schedules_and_bad_values_too() {
    let dir = tempfile::tempdir().unwrap();
    let p = variant(dir.path(), "schedule: 1f1b", "schedule: gpipe");
    refused(&p, &["pipeline.p2p", "gpipe", "1f1b", "interleaved"]);
    let p = variant(dir.path(), "p2p: blocking", "p2p: sometimes");
    refused(&p, &["p2p", "sometimes"]);
}

/// The second suite: Korthikanti et al. 2022, Table 5, on the same cluster.
fn k22_dir() -> PathBuf {
    root().join("validation/korthikanti-2022")
}

#[test]
fn korthikanti_suite_rows_match_their_recompute_mode_and_fit() {
    let suite = Suite::load(&k22_dir()).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(suite.file.rows.len(), 8);
    for r in &suite.file.rows {
        let r = &r.value;
        let path = k22_dir().join(&r.scenario);
        let text = std::fs::read_to_string(&path).unwrap();
        // "full" rows recompute everything; "seq+sel" rows run sequence
        // parallelism with selective recompute, as in the paper's Table 5.
        let full = r.row.ends_with("full");
        assert_eq!(text.contains("recompute: full"), full, "{}", r.row);
        assert_eq!(text.contains("sequence_parallel: true"), !full, "{}", r.row);
        assert!(full || text.contains("recompute: selective"), "{}", r.row);
        assert_eq!(
            r.data, 1,
            "{}: the paper's runs have no data parallelism",
            r.row
        );
        let s = fabsim::scenario::Scenario::load(&path, &Default::default()).unwrap();
        let m = fabsim::memory::estimate(&s.job(), s.cluster.gpu.memory_bytes);
        assert!(m.fits, "{}: {}", r.row, m.does_not_fit_message());
    }
}

#[test]
fn korthikanti_suite_meets_its_targets_and_gate() {
    let (out, report) = validate_suite_json(&k22_dir(), &[]);
    assert_eq!(report["rows"].as_array().unwrap().len(), 8);
    assert!(out.status.success(), "{report}");
    assert_eq!(report["meets_targets"], true, "{report}");
}
