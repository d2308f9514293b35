//! The README's command-line conveniences: `fabsim show`, `fabsim
//! completions`, `--quiet` and `--json` errors.

mod common;

use common::{fabsim, output_ok, root};
use std::fs;

#[test]
fn show_prints_every_default_and_the_set_paths() {
    let out = output_ok(
        fabsim()
            .arg("show")
            .arg(root().join("scenarios/kccb-mnist.yaml")),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // Defaults the file does not write, and `epochs` resolved to trials.
    for line in [
        "  tensor_algorithm: nccl",
        "recompute: none",
        "  count: 9380",
        "global_batch: 256",
    ] {
        assert!(text.contains(line), "{line:?} missing from\n{text}");
    }
    assert!(text.contains("# --set paths"), "{text}");
    assert!(text.contains("pipeline.schedule"), "{text}");
    assert!(text.contains("one of naive, gpipe, 1f1b"), "{text}");
    // --json: the same tree, and every path with its value.
    let out = fabsim()
        .arg("show")
        .arg(root().join("scenarios/kccb-mnist.yaml"))
        .args(["--json", "--set", "parallelism.data=auto"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["scenario"]["parallelism"]["data"], 4);
    let paths = doc["set_paths"].as_array().unwrap();
    assert!(
        paths
            .iter()
            .any(|p| p["path"] == "collective.zero" && p["value"] == "0")
    );
}

#[test]
fn completions_are_generated_for_each_shell() {
    for (shell, needle) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef fabsim"),
        ("fish", "complete -c fabsim"),
    ] {
        let out = fabsim().args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(needle), "{shell}");
        for sub in ["run", "sweep", "search", "show", "completions"] {
            assert!(script.contains(sub), "{shell} lacks {sub}");
        }
    }
    let out = fabsim().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn quiet_prints_nothing_but_still_writes_files() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = fabsim()
        .arg("run")
        .arg(root().join("scenarios/kccb-mnist.yaml"))
        .args(["--quiet", "--trials", "3", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out_dir.join("summary.json").is_file());
    assert!(out_dir.join("cdf.csv").is_file());
}

#[test]
fn json_errors_are_one_object_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    fs::write(
        &file,
        format!(
            "topology: {}\nworkload: {}\nparallelism: {{ data: 4 }}\npipeline: {{ microbatches: 0 }}\n",
            root().join("topologies/kccb-4host.yaml").display(),
            root().join("workloads/mnist-mlp.yaml").display()
        ),
    )
    .unwrap();
    let out = fabsim()
        .arg("run")
        .arg(&file)
        .args(["--json", "--no-files"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["exit_code"], 2);
    assert_eq!(err["line"], 4);
    assert_eq!(err["yaml_path"], "pipeline.microbatches");
    assert_eq!(err["file"], file.display().to_string());
    assert!(
        err["message"].as_str().unwrap().contains("at least 1"),
        "{err}"
    );
    // A bad flag value, and a bad command line, are JSON too.
    let out = fabsim()
        .arg("run")
        .arg(&file)
        .args(["--json", "--trials", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["flag"], "--trials");
    let out = fabsim()
        .args(["sweep", "--json", "--no-such-flag", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert!(
        err["error"].as_str().unwrap().contains("--no-such-flag"),
        "{err}"
    );
}
