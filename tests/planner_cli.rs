//! The planner's conveniences end to end: `parallelism.data: auto`,
//! `global_batch:`, tensor-parallel collectives in the per-collective
//! report (labelled by kind) and the terminal's top-collectives table.

mod common;

use common::{fabsim, output_ok, root};
use std::fs;
use std::path::{Path, PathBuf};

/// GPT-2 small on one 4-GPU host: tensor 2, data auto, 2 microbatches.
fn scenario(dir: &Path, extra: &str) -> PathBuf {
    let text = format!(
        "topology: {}\nworkload: {}\nparallelism: {{ tensor: 2, data: auto }}\n\
         pipeline: {{ microbatches: 2 }}\n{extra}",
        root().join("topologies/a100-4gpu-host.yaml").display(),
        root().join("workloads/gpt2-small.yaml").display()
    );
    let file = dir.join("s.yaml");
    fs::write(&file, text).unwrap();
    file
}

fn run(file: &Path, args: &[&str]) -> std::process::Output {
    fabsim().arg("run").arg(file).args(args).output().unwrap()
}

#[test]
fn data_auto_and_global_batch_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), "global_batch: 16\n");
    let out = run(&file, &["--json", "--no-files", "--trials", "2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // 4 GPUs ÷ tensor 2 = 2 replicas, each with 16 / 2 = 8 samples.
    assert_eq!(s["parallelism"]["data"], 2);
    let samples = s["samples_per_s"].as_f64().unwrap() * s["iteration"]["mean_s"].as_f64().unwrap();
    assert!((samples - 16.0).abs() < 1e-9, "{samples}");
    // Every collective is reported, tensor-parallel ones included, each
    // labelled; a tensor series has one sample per replica, microbatch
    // and trial; a gradient bucket one per tensor rank (each rank's shard
    // is all-reduced over the replicas) and trial.
    let colls = s["collectives"].as_array().unwrap();
    let of = |kind: &str| {
        colls
            .iter()
            .filter(|c| c["kind"] == kind)
            .collect::<Vec<_>>()
    };
    let tensor = of("tensor");
    assert_eq!(tensor.len(), 2, "{colls:?}"); // forward and backward, stage 0
    for c in &tensor {
        assert_eq!(c["count"], 2 * 2 * 2, "{c}");
    }
    let grads = of("gradient");
    assert!(!grads.is_empty());
    for c in &grads {
        assert_eq!(c["count"], 2 * 2, "{c}");
    }
    assert_eq!(
        tensor.len() + grads.len() + of("embedding").len(),
        colls.len()
    );
}

#[test]
fn terminal_shows_the_slowest_collectives_and_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), "");
    let out_dir = dir.path().join("out");
    let out = run(&file, &["--out", out_dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(out_dir.join("summary.json")).unwrap()).unwrap();
    let colls = json["collectives"].as_array().unwrap();
    assert!(colls.len() > 10, "{}", colls.len());
    let more = format!("… {} more collectives in cdf.csv", colls.len() - 10);
    assert!(text.contains(&more), "{text}");
    // The ten rows shown are those with the highest p99.
    let mut p99: Vec<f64> = colls.iter().map(|c| c["p99_s"].as_f64().unwrap()).collect();
    p99.sort_by(|a, b| b.total_cmp(a));
    let shown: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("collective"))
        .skip(1)
        .take_while(|l| !l.starts_with('…'))
        .collect();
    assert_eq!(shown.len(), 10, "{text}");
    for c in colls {
        let listed = shown
            .iter()
            .any(|l| l.split("  ").next() == Some(c["name"].as_str().unwrap()));
        if c["p99_s"].as_f64().unwrap() > p99[10] {
            assert!(listed, "{} missing from\n{text}", c["name"]);
        }
    }
    // cdf.csv has every collective with its kind.
    let cdf = fs::read_to_string(out_dir.join("cdf.csv")).unwrap();
    assert!(cdf.starts_with("collective,bytes,percentile,latency_s,kind\n"));
    for c in colls {
        let row = format!("{},{},100,", c["name"].as_str().unwrap(), c["bytes"]);
        let line = cdf
            .lines()
            .find(|l| l.starts_with(&row))
            .unwrap_or_else(|| panic!("{row}"));
        assert!(
            line.ends_with(&format!(",{}", c["kind"].as_str().unwrap())),
            "{line}"
        );
    }
}

#[test]
fn bad_auto_and_global_batch_are_refused_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), "global_batch: 15\n");
    let out_dir = dir.path().join("out");
    let out = run(&file, &["--out", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("s.yaml:5:"), "{err}");
    assert!(err.contains("`global_batch`"), "{err}");
    assert!(
        err.contains("cannot be split evenly over 2 data-parallel replicas"),
        "{err}"
    );
    assert!(err.contains("e.g. 14 or 16"), "{err}");
    assert!(!out_dir.exists());
    let file = scenario(dir.path(), "");
    let out = run(&file, &["--no-files", "--set", "parallelism.tensor=3"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("`parallelism.data`"), "{err}");
    assert!(
        err.contains("tensor × pipeline = 3 × 1 = 3 to divide the 4 GPUs"),
        "{err}"
    );
}

#[test]
fn search_recompute_axis_trades_memory_for_time() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.yaml");
    fs::write(
        &file,
        format!(
            "workload: {}\nglobal_batch: 32\n\
             hardware: {{ servers: [dgx-h100], gpus: [16], nics: [400Gbps], fabrics: [{{ kind: switch }}] }}\n\
             parallelism: {{ tensor: [2], pipeline: [2], recompute: [none, selective, full] }}\n",
            root().join("workloads/gpt2-small.yaml").display()
        ),
    )
    .unwrap();
    let out = output_ok(
        fabsim()
            .arg("search")
            .arg(&file)
            .args(["--jobs", "1", "--quiet"]),
    );
    assert!(out.stderr.is_empty(), "--quiet prints no table");
    let mut r = csv::Reader::from_reader(&out.stdout[..]);
    let head = r.headers().unwrap().clone();
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let got: Vec<&str> = rows.iter().map(|x| &x[col("recompute")]).collect();
    assert_eq!(got, ["none", "selective", "full"]);
    let num = |x: &csv::StringRecord, c: &str| -> f64 { x[col(c)].parse().unwrap() };
    for x in &rows {
        assert_eq!(&x[col("status")], "simulated", "{x:?}");
    }
    // Full recompute re-runs each block's forward: slower, less memory.
    assert!(num(&rows[2], "step_s") > num(&rows[0], "step_s"));
    assert!(num(&rows[2], "peak_memory_gib") < num(&rows[0], "peak_memory_gib"));
    let bad = fs::read_to_string(&file)
        .unwrap()
        .replace("selective", "some");
    fs::write(&file, bad).unwrap();
    let out = fabsim().arg("search").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("parallelism.recompute") && err.contains("use none, selective or full"),
        "{err}"
    );
}
