//! Every shipped scenario runs (topologies and workloads are run through the
//! scenarios that use them, and each is also loaded on its own by
//! `topology_cli.rs`, `workloads.rs` and `run_cli.rs`).

mod common;

use assert_cmd::Command;
use common::root;
use std::path::PathBuf;

#[test]
fn every_shipped_scenario_runs_and_writes_its_results() {
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 5);
    let dir = tempfile::tempdir().unwrap();
    for s in scenarios {
        let out = dir.path().join(s.file_stem().unwrap());
        let result = Command::cargo_bin("fabsim")
            .unwrap()
            .arg("run")
            .arg(&s)
            .args(["--trials", "2", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            result.status.success(),
            "{}: {}",
            s.display(),
            String::from_utf8_lossy(&result.stderr)
        );
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
        assert_eq!(summary["trials"], 2, "{}", s.display());
        let it = summary["iteration"]["mean_s"].as_f64().unwrap();
        assert!(it > 0.0 && it.is_finite(), "{}", s.display());
        for stage in summary["stages"].as_array().unwrap() {
            let u = stage["utilization"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&u), "{}", s.display());
        }
        assert!(out.join("trials.csv").exists());
    }
}
