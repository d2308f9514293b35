//! `fabsim topology` end to end: every shipped topology loads and summarises
//! sensibly (table, `--json`, `--dot`), and bad files exit with code 2 and a
//! message naming the file, line and YAML path.

use assert_cmd::Command;
use std::io::Write;
use std::path::{Path, PathBuf};

fn fabsim() -> Command {
    Command::cargo_bin("fabsim").expect("binary builds")
}

fn shipped() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("topologies/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 7,
        "expected the shipped examples, found {files:?}"
    );
    files
}

#[test]
fn every_shipped_topology_summarises() {
    for f in shipped() {
        let out = fabsim().arg("topology").arg(&f).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("bisection") && text.contains("diameter"),
            "{text}"
        );

        let out = fabsim()
            .args(["topology", "--json"])
            .arg(&f)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", f.display());
        let v: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("--json prints one JSON object");
        let gpus = v["gpus"].as_u64().unwrap();
        assert!(gpus >= 2, "{}", f.display());
        assert!(v["injection_gbps"].as_f64().unwrap() > 0.0);
        let bisection = v["bisection_gbps"].as_f64().unwrap();
        let injection = v["injection_gbps"].as_f64().unwrap();
        // Bisection never exceeds half the GPUs injecting at full NIC rate
        // (with several GPUs per host, NVLink inside a host adds to a cut).
        assert!(bisection > 0.0, "{}", f.display());
        if v["gpus_per_host"].as_u64() == Some(1) {
            assert!(
                bisection <= injection * (gpus / 2) as f64 + 1e-6,
                "{}: {bisection}",
                f.display()
            );
        }
        assert!(v["oversubscription"].as_f64().unwrap() > 0.0);
        assert!(v["diameter_hops"].as_u64().unwrap() >= 2);
        assert!(v["max_zero_load_latency_s"].as_f64().unwrap() > 0.0);

        let out = fabsim()
            .args(["topology", "--dot"])
            .arg(&f)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("graph"));
    }
}

#[test]
fn shipped_numbers_match_their_comments() {
    let json = |name: &str| -> serde_json::Value {
        let f = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("topologies")
            .join(name);
        let out = fabsim()
            .args(["topology", "--json"])
            .arg(f)
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let k = json("kccb-4host.yaml");
    assert_eq!(k["name"], "kccb-4host");
    assert_eq!(k["gpus"], 4);
    assert_eq!(k["max_zero_load_latency_s"].as_f64(), Some(4.5e-6));
    assert_eq!(
        json("fat-tree-16.yaml")["oversubscription"].as_f64(),
        Some(4.0)
    );
    assert_eq!(
        json("h100-fat-tree-2to1.yaml")["oversubscription"].as_f64(),
        Some(2.0)
    );
    let r = json("dgx-h100-rail-64.yaml");
    assert_eq!(
        (r["gpus"].as_u64(), r["oversubscription"].as_f64()),
        (Some(64), Some(1.0))
    );
}

/// Runs `fabsim topology` on `text` in a temp file; returns (stderr, file name).
fn bad(text: &str) -> (String, String) {
    let mut f = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    let out = fabsim().arg("topology").arg(f.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty(), "no partial output");
    let name = f.path().file_name().unwrap().to_string_lossy().to_string();
    assert!(stderr.contains(&name), "names the file: {stderr}");
    (stderr, name)
}

const GOOD: &str = "name: t
gpu: A100-SXM4-40GB
hosts: 4
gpus_per_host: 1
nic: { bandwidth: 100Gbps, latency: 1us, overhead: 2us }
fabric: { kind: switch, latency: 500ns }
";

fn expect(stderr: &str, name: &str, line: u32, path: Option<&str>, words: &[&str]) {
    assert!(
        stderr.contains(&format!("{name}:{line}:")),
        "line {line}: {stderr}"
    );
    if let Some(p) = path {
        assert!(stderr.contains(&format!("`{p}`")), "path {p}: {stderr}");
    }
    for w in words {
        assert!(stderr.contains(w), "'{w}': {stderr}");
    }
}

#[test]
fn bad_input_exits_2_with_file_line_and_path() {
    let (e, n) = bad("name: t\nhosts: [4\n");
    assert!(e.contains(&format!("{n}:")), "{e}");

    let (e, n) = bad(&GOOD.replace("hosts: 4", "hosts: 4\ncolour: red"));
    expect(&e, &n, 4, Some("colour"), &["unknown field"]);

    let (e, n) = bad(&GOOD.replace("100Gbps", "100"));
    expect(&e, &n, 5, Some("nic.bandwidth"), &["no unit", "100Gbps"]);

    let (e, n) = bad(&GOOD.replace("100Gbps", "0Gbps"));
    expect(&e, &n, 5, Some("nic.bandwidth"), &["zero", "positive"]);

    let (e, n) = bad(&GOOD.replace("A100-SXM4-40GB", "V100"));
    expect(&e, &n, 2, Some("gpu"), &["unknown GPU preset", "H100-SXM"]);

    let (e, n) = bad(&GOOD.replace("hosts: 4", "hosts: 0"));
    expect(&e, &n, 3, Some("hosts"), &["at least 1"]);

    let (e, n) = bad(&GOOD.replace("kind: switch", "kind: butterfly"));
    expect(&e, &n, 6, Some("fabric.kind"), &["fat-tree", "torus"]);

    let (e, n) = bad(&GOOD.replace("gpus_per_host: 1", "gpus_per_host: 8"));
    expect(&e, &n, 4, Some("intra_host"), &["required"]);

    let (e, n) = bad(&GOOD.replace(
        "fabric: { kind: switch, latency: 500ns }",
        "fabric:\n  kind: fat-tree\n  hosts_per_leaf: 2\n  spines: 0\n  uplink: { bandwidth: 100Gbps, latency: 1us }",
    ));
    expect(&e, &n, 9, Some("fabric.spines"), &["at least 1"]);
}

#[test]
fn disconnected_explicit_graph_is_bad_input() {
    let (e, n) = bad("name: x
gpu: H100-SXM
nodes:
  - { name: a, kind: gpu }
  - { name: b, kind: gpu }
  - { name: s0, kind: switch }
  - { name: s1, kind: switch }
links:
  - { a: a, b: s0, bandwidth: 100Gbps, latency: 1us, kind: nic }
  - { a: b, b: s1, bandwidth: 100Gbps, latency: 1us, kind: nic }
");
    expect(&e, &n, 9, Some("links"), &["disconnected", "connect them"]);
    let (e, n) = bad("name: x
gpu: H100-SXM
nodes:
  - { name: a, kind: gpu }
links:
  - { a: a, b: nowhere, bandwidth: 100Gbps, latency: 1us }
");
    expect(&e, &n, 6, Some("links[0].b"), &["unknown node 'nowhere'"]);
}
