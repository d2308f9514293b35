//! Golden files (insta snapshots) of every exporter: a run's folder
//! (summary.json, trials.csv, cdf.csv, latency*.hgrm, links.csv,
//! timeline.txt/json/svg, cdf.svg), the sweep CSV, and the collective
//! table, CSV and JSON. Any byte change in an output fails here.
//!
//! Inputs are small and explicit (the KCCB topology, the MNIST trace,
//! `algorithm: ring`, a fixed seed and noise), so model work elsewhere
//! changes these files only when it changes what they show. Whoever
//! changes an output on purpose reviews the diff and regenerates the
//! snapshots deliberately:
//!
//! ```sh
//! INSTA_UPDATE=always cargo test --release --test snapshots   # or: cargo insta accept
//! ```
//!
//! `events_per_trial` (an engine-speed statistic, not a result) is left out
//! of the summary snapshot.

mod common;

use common::{fabsim, output_ok, root};
use std::path::{Path, PathBuf};

/// The snapshot scenario: data-parallel MNIST on four hosts, ring
/// all-reduce, with loss and jitter so the distributions have tails.
fn scenario(dir: &Path) -> PathBuf {
    let f = dir.join("snap.yaml");
    std::fs::write(
        &f,
        format!(
            "name: snap\ntopology: {}\nworkload: {}\nparallelism: {{ data: 4 }}\n\
             pipeline: {{ microbatches: 1, schedule: 1f1b, partition: uniform }}\n\
             collective: {{ algorithm: ring, overlap: true }}\ntrials: {{ count: 6 }}\nseed: 3\n\
             noise:\n  latency: {{ dist: exponential, mean: 2us }}\n  \
             loss: {{ probability: 0.05, rto: 1ms, max_retries: 3 }}\n",
            root().join("topologies/kccb-4host.yaml").display(),
            root().join("workloads/mnist-mlp.yaml").display()
        ),
    )
    .unwrap();
    f
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

#[test]
fn run_folder_files() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("res");
    fabsim()
        .arg("run")
        .arg(scenario(d.path()))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    settings().bind(|| {
        insta::assert_snapshot!("run_files", names.join("\n"));
        for name in &names {
            let text = std::fs::read_to_string(out.join(name)).unwrap();
            let text = if name == "summary.json" {
                let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
                v.as_object_mut().unwrap().remove("events_per_trial");
                serde_json::to_string_pretty(&v).unwrap()
            } else {
                text
            };
            insta::assert_snapshot!(format!("run_{name}"), text);
        }
    });
}

#[test]
fn sweep_csv() {
    let d = tempfile::tempdir().unwrap();
    let base = scenario(d.path());
    let f = d.path().join("sw.yaml");
    std::fs::write(
        &f,
        format!(
            "base: {}\ntrials: 2\naxes:\n  - path: collective.chunks\n    values: [1, 2]\n  - path: pipeline.microbatches\n    values: [1, 100]\n",
            base.display()
        ),
    )
    .unwrap();
    let out = fabsim().arg("sweep").arg(&f).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    settings().bind(|| {
        insta::assert_snapshot!("sweep_csv", String::from_utf8(out.stdout).unwrap());
    });
}

#[test]
fn collective_table_csv_json() {
    let topo = root().join("topologies/kccb-4host.yaml");
    let run = |extra: &[&str]| {
        let out = output_ok(
            fabsim()
                .args(["collective", "--topology"])
                .arg(&topo)
                .args(["--op", "all-reduce", "--algorithm", "ring"])
                .args([
                    "--min-bytes",
                    "1KiB",
                    "--max-bytes",
                    "1MiB",
                    "--factor",
                    "32",
                ])
                .args(extra),
        );
        String::from_utf8(out.stdout).unwrap()
    };
    settings().bind(|| {
        insta::assert_snapshot!("collective_table", run(&["--links", "3"]));
        insta::assert_snapshot!("collective_csv", run(&["--csv"]));
        insta::assert_snapshot!("collective_json", run(&["--json"]));
    });
}
