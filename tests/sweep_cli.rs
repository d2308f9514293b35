//! `fabsim sweep`, `fabsim run` memory refusal and the shipped capacity
//! planning files, end to end: byte-identical CSVs whatever `--jobs`,
//! shards that concatenate into the whole, bad sweep files refused with
//! exit code 2 and no CSV, and every shipped sweep and new scenario run.

mod common;

use assert_cmd::Command;
use common::root;
use std::io::Write;
use std::path::Path;

fn fabsim() -> Command {
    Command::cargo_bin("fabsim").expect("binary builds")
}

fn sweep_csv(file: &Path, extra: &[&str]) -> Vec<u8> {
    let out = fabsim()
        .arg("sweep")
        .arg(file)
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn jobs_do_not_change_the_csv_and_shards_concatenate() {
    let f = root().join("tests/data/sweep-kccb.yaml");
    let one = sweep_csv(&f, &["--jobs", "1"]);
    let two = sweep_csv(&f, &["--jobs", "2"]);
    assert_eq!(one, two);
    let text = String::from_utf8(one.clone()).unwrap();
    assert_eq!(text.lines().count(), 13, "{text}");
    assert!(text.starts_with("point,param_topology.nic.bandwidth,param_parallelism.data,"));
    assert_eq!(text.matches(",invalid,").count(), 4, "{text}");
    assert_eq!(text.matches(",ok,").count(), 8, "{text}");
    let mut cat = Vec::new();
    for i in 1..=3 {
        cat.extend(sweep_csv(
            &f,
            &["--jobs", "2", "--shard", &format!("{i}/3")],
        ));
    }
    assert_eq!(String::from_utf8(cat).unwrap(), text);
}

#[test]
fn out_file_is_written_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.csv");
    let f = root().join("tests/data/sweep-kccb.yaml");
    sweep_csv(&f, &["--out", out.to_str().unwrap()]);
    let written = std::fs::read(&out).unwrap();
    assert_eq!(written, sweep_csv(&f, &[]));
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file left behind");
}

#[test]
fn bad_sweep_files_exit_2_without_a_csv() {
    let dir = tempfile::tempdir().unwrap();
    let base = root().join("scenarios/kccb-mnist.yaml");
    let cases = [
        (
            format!(
                "base: {}\naxes:\n  - {{ path: parallelism.pipline, values: [1, 2] }}\n",
                base.display()
            ),
            "pipline",
        ),
        (
            format!(
                "base: {}\naxes:\n  - {{ path: collective.chunks, values: [] }}\n",
                base.display()
            ),
            "no values",
        ),
        (
            "base: nowhere.yaml\naxes:\n  - { path: seed, values: [1] }\n".to_string(),
            "does not exist",
        ),
        (format!("base: {}\naxes: [\n", base.display()), "bad.yaml"),
    ];
    for (text, needle) in cases {
        let f = dir.path().join("bad.yaml");
        std::fs::File::create(&f)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out_csv = dir.path().join("out.csv");
        let out = fabsim()
            .arg("sweep")
            .arg(&f)
            .arg("--out")
            .arg(&out_csv)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(needle), "{needle}: {err}");
        assert!(err.contains("bad.yaml"), "{err}");
        assert!(!out_csv.exists(), "no CSV for bad input");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_scenario_that_does_not_fit_is_refused_with_the_needed_memory() {
    // GPT-3 13B on 64 GPUs with 8 pipeline stages of 256-sequence
    // minibatches in 8 microbatches stashes ~180GiB on stage 0.
    let out = fabsim()
        .arg("run")
        .arg(root().join("scenarios/gpt3-13b-64.yaml"))
        .args([
            "--set",
            "parallelism.pipeline=8",
            "--set",
            "parallelism.data=1",
        ])
        .args([
            "--set",
            "workload.batch_size=256",
            "--set",
            "pipeline.microbatches=8",
        ])
        .arg("--no-files")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("does not fit: needs"), "{err}");
    assert!(
        err.contains("GiB per GPU on stage 0, the GPU has 74.5 GiB"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn every_shipped_sweep_runs() {
    let dir = root().join("sweeps");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let f = e.unwrap().path();
        if f.extension().is_none_or(|x| x != "yaml") {
            continue;
        }
        let csv = String::from_utf8(sweep_csv(&f, &["--jobs", "2"])).unwrap();
        assert!(csv.lines().count() > 1, "{}", f.display());
        assert!(csv.contains(",ok,"), "{}: {csv}", f.display());
        n += 1;
    }
    assert!(n >= 1);
}

#[test]
fn new_scenarios_run_or_validate() {
    // The 64- and 128-GPU scenarios run (one trial each, well under a
    // second in release builds). The 1024-GPU GPT-3 scenario takes ~1 s per
    // iteration in release but far longer in a debug test build, so here it
    // is only validated (and its memory checked to fit).
    for s in ["scenarios/llama-70b.yaml", "scenarios/gpt3-13b-64.yaml"] {
        let out = fabsim()
            .arg("run")
            .arg(root().join(s))
            .args(["--trials", "1", "--no-files", "--json"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{s}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v["iteration"]["mean_s"].as_f64().unwrap() > 0.0);
        assert_eq!(v["memory"]["fits"], true);
        assert!(v["cost"]["per_million_tokens"].as_f64().unwrap() > 0.0);
        assert!(v["mfu"].as_f64().unwrap() > 0.1 && v["mfu"].as_f64().unwrap() < 0.6);
    }
    let big = root().join("scenarios/gpt3-175b-1024.yaml");
    fabsim().arg("validate").arg(&big).assert().success();
    let scenario = fabsim::scenario::Scenario::load(&big, &Default::default()).unwrap();
    let m = fabsim::memory::estimate(&scenario.job(), scenario.cluster.gpu.memory_bytes);
    assert!(m.fits, "{}", m.does_not_fit_message());
}
