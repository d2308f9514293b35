//! Hostile input, end to end (issue 10): every class is refused with exit
//! code 2 and a message in plain words (file, YAML path, line, the allowed
//! range), or runs within its documented bounds — never exit 1, 101 or a
//! signal. Values differ from the issue's examples on purpose: the classes
//! are fixed, not the instances.

mod common;

use common::{fabsim, root, s};
use std::fs;
use std::path::{Path, PathBuf};

/// A scenario in `dir` on the shipped KCCB topology and MNIST trace, plus `extra`.
fn scenario(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let text = format!(
        "topology: {}\nworkload: {}\nparallelism: {{ data: 4 }}\ncollective: {{ algorithm: ring }}\n{extra}",
        root().join("topologies/kccb-4host.yaml").display(),
        root().join("workloads/mnist-mlp.yaml").display()
    );
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

/// Runs `args`, asserts exit code 2, no Rust words, and every `needle`
/// in stderr; returns stderr.
fn refused(args: &[&str], needles: &[&str]) -> String {
    let out = fabsim().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(!fabsim::input::has_rust_words(&err), "{args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: missing {n:?} in {err}");
    }
    err
}

#[test]
fn values_past_the_model_range_are_refused_at_load_with_the_range() {
    let d = tempfile::tempdir().unwrap();
    let cases = [
        (
            "noise: { latency: { dist: constant, value: 3e6s } }\n",
            "1 day",
        ),
        (
            "noise: { loss: { probability: 0.5, rto: 2h } }\n",
            "unknown time unit",
        ),
        (
            "noise: { loss: { probability: 1, rto: 10s, backoff: 50, max_retries: 30 } }\n",
            "worst-case retransmission wait",
        ),
        (
            "noise: { compute: { dist: exponential, mean: .inf } }\n",
            "`mean`",
        ),
        (
            "noise: { compute: { dist: constant, value: 1e200 } }\n",
            "up to 1000",
        ),
        (
            "noise: { stragglers: { probability: 0.5, slowdown: 1e9 } }\n",
            "between 1 and 1000",
        ),
    ];
    for (extra, needle) in cases {
        let f = scenario(d.path(), "s.yaml", extra);
        for cmd in [vec!["validate", s(&f)], vec!["run", s(&f), "--no-files"]] {
            refused(&cmd, &[needle, "s.yaml:5", "noise"]);
        }
    }
    // Units: a bandwidth past 1 Pbps, a size past 1 PiB on the command line.
    let topo = d.path().join("t.yaml");
    let text = fs::read_to_string(root().join("topologies/kccb-4host.yaml")).unwrap();
    fs::write(&topo, text.replace("100Gbps", "7e40bps")).unwrap();
    refused(
        &["topology", s(&topo)],
        &["nic.bandwidth", "1Pbps", "t.yaml:10"],
    );
    let kccb = root().join("topologies/kccb-4host.yaml");
    for b in ["36893488147419103232", "2e18", "5PiB"] {
        refused(
            &["collective", "--topology", s(&kccb), "--bytes", b],
            &["--bytes", "1 PiB"],
        );
    }
}

#[test]
fn time_overflow_at_run_time_is_exit_2_naming_the_scenario() {
    // 1 PiB of gradient over a 1 kbps NIC: 2.6 years of simulated time.
    let d = tempfile::tempdir().unwrap();
    let topo = d.path().join("slow.yaml");
    let text = fs::read_to_string(root().join("topologies/kccb-4host.yaml")).unwrap();
    fs::write(&topo, text.replace("100Gbps", "1kbps")).unwrap();
    let wl = d.path().join("w.yaml");
    fs::write(
        &wl,
        "name: w\nbatch_size: 4\nsamples_per_epoch: 4\nlayers:\n  - { name: l, forward: 1us, backward: 1us, activation_bytes: 1, grad_bytes: 1PiB }\n",
    )
    .unwrap();
    let f = d.path().join("o.yaml");
    fs::write(
        &f,
        format!(
            "topology: {}\nworkload: {}\nparallelism: {{ data: 4 }}\ncollective: {{ algorithm: ring }}\nallow_oversubscribed_memory: true\n",
            topo.display(),
            wl.display()
        ),
    )
    .unwrap();
    refused(
        &["run", s(&f), "--no-files"],
        &["o.yaml", "2^64 ps", "transfer"],
    );
}

#[test]
fn unbounded_counts_have_documented_bounds() {
    let d = tempfile::tempdir().unwrap();
    let cases = [
        (
            "pipeline: { microbatches: 4000000000 }\n",
            "microbatches must be between 1 and 64",
        ),
        ("pipeline: { microbatches: 65 }\n", "at least one"),
        ("collective: { chunks: 3000000000 }\n", "from 1 to 1024"),
        (
            "trials: { count: 9223372036854775807 }\n",
            "at most 10000000",
        ),
        (
            "noise: { loss: { probability: 1, rto: 1ms, max_retries: 4294967295 } }\n",
            "between 0 and 64",
        ),
        (
            "noise: { background: { rate: 5e13, size: { dist: constant, value: 1KiB } } }\n",
            "noise.background.rate",
        ),
    ];
    for (extra, needle) in cases {
        // The YAML `collective:` key of these cases replaces the default one.
        let extra = extra.to_string();
        let f = scenario(d.path(), "c.yaml", "");
        let text = fs::read_to_string(&f).unwrap();
        let text = if extra.starts_with("collective") {
            text.replace("collective: { algorithm: ring }\n", "")
        } else {
            text
        };
        fs::write(&f, text + &extra).unwrap();
        refused(&["validate", s(&f)], &[needle]);
    }
    let f = scenario(d.path(), "ok.yaml", "");
    refused(
        &["run", s(&f), "--trials", "99999999999"],
        &["--trials", "10000000"],
    );
    let sweep = root().join("sweeps/nic-fabric-pipeline.yaml");
    refused(&["sweep", s(&sweep), "--jobs", "70000"], &["--jobs", "256"]);
}

#[test]
fn silent_nonsense_is_refused() {
    let d = tempfile::tempdir().unwrap();
    for extra in [
        "noise: { compute: { dist: normal, mean: -2, std: 0.1 } }\n",
        "noise: { compute: { dist: normal, mean: .nan, std: 0.1 } }\n",
        "noise: { compute: { dist: constant, value: 0 } }\n",
    ] {
        let f = scenario(d.path(), "n.yaml", extra);
        refused(&["validate", s(&f)], &["noise.compute"]);
    }
    let f = scenario(d.path(), "c.yaml", "");
    let text = fs::read_to_string(&f)
        .unwrap()
        .replace("algorithm: ring", "algorithm: ring, chunks: 0");
    fs::write(&f, text).unwrap();
    refused(
        &["run", s(&f), "--no-files"],
        &["c.yaml:4", "collective.chunks"],
    );
    let kccb = root().join("topologies/kccb-4host.yaml");
    refused(
        &[
            "collective",
            "--topology",
            s(&kccb),
            "--min-bytes",
            "0",
            "--max-bytes",
            "0",
        ],
        &["--min-bytes"],
    );
    refused(
        &[
            "collective",
            "--topology",
            s(&kccb),
            "--bytes",
            "1MiB",
            "--chunks",
            "0",
        ],
        &["--chunks"],
    );
}

#[test]
fn parser_errors_are_in_plain_words_at_the_right_line() {
    let d = tempfile::tempdir().unwrap();
    let kccb = fs::read_to_string(root().join("topologies/kccb-4host.yaml")).unwrap();
    let topo = |name: &str, text: String| {
        let p = d.path().join(name);
        fs::write(&p, text).unwrap();
        p
    };
    let cases: Vec<(PathBuf, Vec<&str>)> = vec![
        (
            topo("a.yaml", kccb.replace("hosts: 4", "hosts: -7")),
            vec!["a.yaml:7", "whole number"],
        ),
        (
            topo("b.yaml", kccb.replace("hosts: 4", "hosts: 2.5")),
            vec!["b.yaml:7", "whole number"],
        ),
        (
            topo("c.yaml", kccb.replace("hosts: 4", "hosts: [4]")),
            vec!["c.yaml:7"],
        ),
        (
            topo(
                "d.yaml",
                kccb.replace("gpus_per_host: 1", "gpus_per_host: 1\nhosts: 3"),
            ),
            vec!["the key `hosts` appears twice (lines 7 and 9)"],
        ),
        (
            topo(
                "e.yaml",
                kccb.replace("gpus_per_host: 1", "\tgpus_per_host: 1"),
            ),
            vec!["e.yaml:8"],
        ),
        (
            topo("f.yaml", kccb.replace("kind: switch", "kind: banana")),
            vec!["f.yaml:11", "fabric"],
        ),
        (topo("g.yaml", kccb.replace('\n', "\r")), vec![]), // CR-only: accepted below
    ];
    for (file, needles) in &cases[..6] {
        refused(&["topology", s(file)], needles);
        refused(&["validate", s(file)], needles);
    }
    // CR-only line endings: `validate` and `topology` agree (both accept).
    fabsim()
        .args(["validate", s(&cases[6].0)])
        .assert()
        .success();
    fabsim()
        .args(["topology", s(&cases[6].0)])
        .assert()
        .success();
    // A bad partition, a bad enum value: no parser words.
    let f = scenario(d.path(), "p.yaml", "pipeline: { partition: [2, two] }\n");
    refused(
        &["validate", s(&f)],
        &["list of whole layer counts, one per stage", "p.yaml:5"],
    );
    let f = scenario(d.path(), "q.yaml", "pipeline: { schedule: zigzag }\n");
    refused(&["validate", s(&f)], &["zigzag", "q.yaml:5"]);
    // `--set`: a bad value names the value, a bad path names the path.
    let f = scenario(d.path(), "r.yaml", "");
    let e = refused(
        &["run", s(&f), "--no-files", "--set", "seed=minus"],
        &["minus"],
    );
    assert!(e.contains("not a valid value for seed"), "{e}");
    let e = refused(&["run", s(&f), "--no-files", "--set", "sede=3"], &["sede"]);
    assert!(e.contains("not a scenario setting"), "{e}");
}

#[test]
fn csv_header_errors_are_on_the_header_line() {
    let d = tempfile::tempdir().unwrap();
    let csv = d.path().join("t.csv");
    fs::write(
        &csv,
        "# a comment\nname,forward_s,backward_s,activation_bytes,grad_bytes,colour\nfc1,1e-6,2e-6,1,1,red\n",
    )
    .unwrap();
    refused(&["validate", s(&csv)], &["t.csv:2", "colour"]);
}

#[test]
fn sweep_path_errors_are_on_the_path_line() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("sw.yaml");
    fs::write(
        &f,
        format!(
            "base: {}\naxes:\n  - path: pipeline.microbatchs\n    values:\n      - 1\n",
            root().join("scenarios/kccb-mnist.yaml").display()
        ),
    )
    .unwrap();
    refused(&["validate", s(&f)], &["sw.yaml:3", "pipeline.microbatchs"]);
    fs::write(
        &f,
        format!(
            "base: {}\ntrials: 9223372036854775807\naxes:\n  - path: seed\n    values: [1]\n",
            root().join("scenarios/kccb-mnist.yaml").display()
        ),
    )
    .unwrap();
    refused(&["sweep", s(&f)], &["sw.yaml:2", "trials"]);
}

/// No Rust words in any message, over many bad inputs (the messages of
/// every loader and of the command line).
#[test]
fn no_rust_type_names_reach_users() {
    let d = tempfile::tempdir().unwrap();
    let kccb = fs::read_to_string(root().join("topologies/kccb-4host.yaml")).unwrap();
    let swaps = [
        ("hosts: 4", "hosts: {a: 1}"),
        ("hosts: 4", "hosts: true"),
        ("hosts: 4", "hosts: 99999999999999"),
        ("hosts: 4", "hosts: ~"),
        ("gpus_per_host: 1", "gpus_per_host: x"),
        ("fabric: { kind: switch, latency: 500ns }", "fabric: 7"),
        (
            "fabric: { kind: switch, latency: 500ns }",
            "fabric: [switch]",
        ),
        ("intra_host: {", "intra_host: {{"),
        ("name: kccb-4host", "name: [a"),
        ("gpu: A100-SXM4-40GB", "gpu: { name: x }"),
        ("gpu: A100-SXM4-40GB", "gpu: 12"),
        ("latency: 1us, overhead", "latency: -1us, overhead"),
    ];
    for (k, (from, to)) in swaps.iter().enumerate() {
        let p = d.path().join(format!("t{k}.yaml"));
        fs::write(&p, kccb.replace(from, to)).unwrap();
        refused(&["validate", s(&p)], &[]);
    }
    for extra in [
        "parallelism: 4\n",
        "seed: -1\n",
        "seed: 1.5\n",
        "trials: { count: [1] }\n",
        "noise: { loss: { probability: yes, rto: 1ms } }\n",
        "noise: { latency: { dist: normal, mean: 1us, std: 1us, shape: 2 } }\n",
        "noise: 3\n",
        "allow_oversubscribed_memory: 2\n",
        "placement: sideways\n",
        "cost: { amortization_years: -1 }\n",
    ] {
        let f = scenario(d.path(), "x.yaml", extra);
        refused(&["validate", s(&f)], &[]);
    }
    let f = scenario(d.path(), "y.yaml", "");
    for set in [
        "pipeline=3",
        "trials.count=x",
        "noise.loss=[1]",
        "collective.chunks=-1",
        "a.b.c=1",
    ] {
        refused(&["run", s(&f), "--no-files", "--set", set], &[]);
    }
}

#[test]
fn a_broken_pipe_ends_quietly() {
    use std::io::Read;
    use std::process::{Command as Std, Stdio};
    let big = root().join("topologies/h100-rail-1024.yaml");
    let mut child = Std::new(assert_cmd::cargo::cargo_bin("fabsim"))
        .args(["topology", s(&big), "--dot"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 1];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0) | Some(141)),
        "{:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_device_is_one_line_exit_2() {
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let topo = root().join("topologies/kccb-4host.yaml");
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("fabsim"))
        .args(["topology", s(&topo)])
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("standard output") && err.contains("No space"),
        "{err}"
    );
    // A device named as an output file is never replaced.
    let sweep = root().join("sweeps/nic-fabric-pipeline.yaml");
    refused(
        &["sweep", s(&sweep), "--out", "/dev/full"],
        &["/dev/full", "not a regular file"],
    );
}

#[test]
fn validate_times_a_lone_workload_on_the_named_gpu() {
    let w = root().join("workloads/gpt3-13b.yaml");
    let out = fabsim().args(["validate", s(&w)]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.ends_with(": ok (workload, timed on A100-SXM4-80GB)\n"),
        "{text}"
    );
    let out = fabsim()
        .args(["validate", s(&w), "--gpu", "h100-sxm"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.ends_with(": ok (workload, timed on H100-SXM)\n"),
        "{text}"
    );
    refused(
        &["validate", s(&w), "--gpu", "Z80"],
        &["--gpu", "Z80", "H100-SXM"],
    );
}

#[test]
fn validate_suite_refuses_a_row_it_does_not_have() {
    // A misspelt row used to run nothing and report "pass" with exit 0.
    let suite = root().join("validation/korthikanti-2022");
    for rows in ["22B fulll", "22b-full,nosuch", ""] {
        refused(
            &["validate-suite", s(&suite), "--rows", rows],
            &["--rows", "22B full"],
        );
    }
}

#[test]
fn global_batch_on_a_measured_trace_must_be_its_batch() {
    // The MNIST trace is timed for minibatches of 64: a global batch of
    // 10 × that over 4 replicas kept the step time and reported 10 × the
    // samples per second.
    let d = tempfile::tempdir().unwrap();
    let f = scenario(d.path(), "g.yaml", "global_batch: 2560\n");
    let e = refused(
        &["run", s(&f), "--no-files", "--trials", "1"],
        &["g.yaml:5", "global_batch", "64", "256"],
    );
    assert!(e.contains("trace"), "{e}");
    refused(
        &[
            "run",
            s(&scenario(d.path(), "h.yaml", "")),
            "--no-files",
            "--set",
            "global_batch=8",
        ],
        &["global_batch", "256"],
    );
    // The trace's own batch over the replicas is what it times: accepted.
    let f = scenario(d.path(), "ok.yaml", "global_batch: 256\n");
    fabsim()
        .args(["run", s(&f), "--no-files", "--trials", "1"])
        .assert()
        .success();
    // A search gives each candidate global_batch / data: it needs a model.
    let search = d.path().join("s.yaml");
    fs::write(
        &search,
        format!(
            "workload: {}\nglobal_batch: 256\n\
             hardware: {{ servers: [dgx-h100], gpus: [8, 16], nics: [400Gbps], fabrics: [{{ kind: switch }}] }}\n\
             parallelism: {{ tensor: [1], pipeline: [1] }}\n",
            root().join("workloads/mnist-mlp.yaml").display()
        ),
    )
    .unwrap();
    refused(&["search", s(&search)], &["s.yaml:1", "workload", "trace"]);
}

#[test]
fn report_refuses_a_results_file_without_its_columns() {
    // A cdf.csv or links.csv that lost its columns or rows used to give
    // a report with no collectives or no links, and exit code 0.
    let d = tempfile::tempdir().unwrap();
    let run = d.path().join("run");
    let kccb = root().join("scenarios/kccb-mnist.yaml");
    fabsim()
        .args(["run", s(&kccb), "--trials", "2", "-q", "--out", s(&run)])
        .assert()
        .success();
    let html = d.path().join("r.html");
    fabsim()
        .args(["report", s(&run), "--out", s(&html)])
        .assert()
        .success();
    fs::remove_file(&html).unwrap();
    let good_cdf = fs::read_to_string(run.join("cdf.csv")).unwrap();
    let good_links = fs::read_to_string(run.join("links.csv")).unwrap();
    let header = |t: &str| t.lines().next().unwrap().to_string() + "\n";
    for (file, text, needle) in [
        ("cdf.csv", "garbage,,,\n".to_string(), "latency_s"),
        ("cdf.csv", header(&good_cdf), "no rows"),
        (
            "links.csv",
            good_links.replace("busy_fraction", "busy"),
            "busy_fraction",
        ),
    ] {
        fs::write(run.join("cdf.csv"), &good_cdf).unwrap();
        fs::write(run.join("links.csv"), &good_links).unwrap();
        fs::write(run.join(file), text).unwrap();
        refused(&["report", s(&run), "--out", s(&html)], &[file, needle]);
        assert!(!html.exists(), "{file}");
    }
    // A lone GPU without links writes a links.csv of its header only.
    let topo = d.path().join("solo.yaml");
    fs::write(
        &topo,
        "name: solo\ngpu: H100-SXM\nnodes:\n  - { name: g0, kind: gpu }\nlinks: []\n",
    )
    .unwrap();
    let f = d.path().join("solo-run.yaml");
    fs::write(
        &f,
        format!(
            "topology: {}\nworkload: {}\nparallelism: {{ data: 1 }}\ntrials: {{ count: 1 }}\n",
            topo.display(),
            root().join("workloads/mnist-mlp.yaml").display()
        ),
    )
    .unwrap();
    let solo = d.path().join("solo");
    fabsim()
        .args(["run", s(&f), "-q", "--out", s(&solo)])
        .assert()
        .success();
    fabsim().args(["report", s(&solo)]).assert().success();
}

#[test]
fn validate_checks_a_search_file_as_a_search() {
    // The shipped search used to be read as a workload: "unknown field
    // `workload`", which it has and needs.
    let search = root().join("tests/data/search-small.yaml");
    let out = fabsim().args(["validate", s(&search)]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.ends_with(": ok (search)\n"), "{text}");
    let d = tempfile::tempdir().unwrap();
    let bad = d.path().join("s.yaml");
    let text = fs::read_to_string(&search)
        .unwrap()
        .replace(
            "../../workloads/gpt2-small.yaml",
            &root()
                .join("workloads/gpt2-small.yaml")
                .display()
                .to_string(),
        )
        .replace("gpus: [16, 32]", "gpus: [16, 0]");
    fs::write(&bad, text).unwrap();
    refused(&["validate", s(&bad)], &["s.yaml:9", "hardware.gpus"]);
}

#[test]
fn amortization_years_has_a_range() {
    // 1e-300 years printed a cost per hour of 301 digits; 1e300 years a
    // period of 301 digits.
    let d = tempfile::tempdir().unwrap();
    for years in ["1e-300", "0.001", "1e300", "101"] {
        let f = scenario(
            d.path(),
            "y.yaml",
            &format!("cost: {{ amortization_years: {years} }}\n"),
        );
        refused(
            &["validate", s(&f)],
            &["y.yaml:5", "cost.amortization_years", "0.01 and 100"],
        );
    }
    let f = scenario(d.path(), "ok.yaml", "");
    refused(
        &[
            "run",
            s(&f),
            "--no-files",
            "--set",
            "cost.amortization_years=1e-300",
        ],
        &["cost.amortization_years", "0.01 and 100"],
    );
    let f = scenario(d.path(), "ok.yaml", "cost: { amortization_years: 0.5 }\n");
    fabsim().args(["validate", s(&f)]).assert().success();
}

#[test]
fn explicit_host_numbers_are_labels_not_counts() {
    // Hosts 0, 0, 2 and 4294967295: the summary said "4294967295 ... 0 x
    // 2 GPUs" (the host count overflowed) or, with a gap, "4 x 2 GPUs =
    // 4 GPUs". Host numbers only group GPUs: there are 3 hosts here.
    let d = tempfile::tempdir().unwrap();
    let topo = d.path().join("t.yaml");
    fs::write(
        &topo,
        "name: t\ngpu: H100-SXM\nnodes:\n\
         - { name: a, kind: gpu, host: 0 }\n\
         - { name: b, kind: gpu, host: 0 }\n\
         - { name: c, kind: gpu, host: 2 }\n\
         - { name: e, kind: gpu, host: 4294967295 }\n\
         - { name: s, kind: switch }\n\
         links:\n\
         - { a: a, b: b, bandwidth: 100GB/s, latency: 1us, kind: intra-host }\n\
         - { a: a, b: s, bandwidth: 100Gbps, latency: 1us, kind: nic }\n\
         - { a: b, b: s, bandwidth: 100Gbps, latency: 1us, kind: nic }\n\
         - { a: c, b: s, bandwidth: 100Gbps, latency: 1us, kind: nic }\n\
         - { a: e, b: s, bandwidth: 100Gbps, latency: 1us, kind: nic }\n",
    )
    .unwrap();
    let out = fabsim()
        .args(["topology", s(&topo), "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (j["hosts"].as_u64(), j["gpus"].as_u64()),
        (Some(3), Some(4))
    );
    let out = fabsim().args(["topology", s(&topo)]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("hosts           3 hosts of up to 2 GPUs = 4 GPUs"),
        "{text}"
    );
}

#[test]
fn a_set_value_that_is_not_finite_is_refused_in_plain_words() {
    // It read "non-finite float `.nan` rejected by the configured policy
    // at line 1, column 1": the parser's words, and a line of no file.
    let d = tempfile::tempdir().unwrap();
    let f = scenario(d.path(), "n.yaml", "");
    for set in [
        "seed=.nan",
        "noise.loss.probability=1e999",
        "cost.amortization_years=-.inf",
    ] {
        let e = refused(
            &["run", s(&f), "--no-files", "--set", set],
            &[set, "is not a finite number"],
        );
        assert!(!e.contains("policy") && !e.contains("line 1"), "{e}");
    }
}

#[test]
fn percentiles_hold_for_latencies_past_an_hour() {
    // The histograms stopped at one hour and the percentiles were clamped
    // to the exact minimum: iterations of 31 to 50 days reported p50 = p90
    // = p99 = the shortest of them.
    let d = tempfile::tempdir().unwrap();
    let f = scenario(
        d.path(),
        "slow.yaml",
        "noise: { latency: { dist: exponential, mean: 86400s } }\n",
    );
    let out_dir = d.path().join("out");
    fabsim()
        .args(["run", s(&f), "--trials", "20", "-q", "--out", s(&out_dir)])
        .assert()
        .success();
    let trials = fs::read_to_string(out_dir.join("trials.csv")).unwrap();
    let mut times: Vec<f64> = trials
        .lines()
        .filter(|l| l.contains(",iteration,"))
        .map(|l| l.split(',').nth(5).unwrap().parse().unwrap())
        .collect();
    times.sort_by(f64::total_cmp);
    assert_eq!(times.len(), 20);
    assert!(times[0] > 3600.0, "{times:?}");
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out_dir.join("summary.json")).unwrap()).unwrap();
    let q = |k: &str| summary["iteration"][k].as_f64().unwrap();
    // 3 significant digits: each percentile within 0.1 % of its rank.
    let near = |v: f64, lo: f64, hi: f64| v >= lo * 0.999 && v <= hi * 1.001;
    assert!(
        near(q("p50_s"), times[8], times[10]),
        "{} {times:?}",
        q("p50_s")
    );
    assert!(
        near(q("p90_s"), times[16], times[18]),
        "{} {times:?}",
        q("p90_s")
    );
    assert!(
        near(q("p99_s"), times[18], times[19]),
        "{} {times:?}",
        q("p99_s")
    );
}

#[test]
fn sweep_filter_errors_use_the_files_words() {
    // "Gt compares numbers": the program's name for `gt`; and a condition
    // with neither `value` nor `other` was told "(not both)".
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("f.yaml");
    let head = format!(
        "base: {}\ntrials: 1\naxes:\n  - {{ path: topology.nic.bandwidth, values: [1Gbps, 2Gbps] }}\nfilter:\n",
        root().join("scenarios/kccb-mnist.yaml").display()
    );
    fs::write(
        &f,
        format!("{head}  - {{ path: topology.nic.bandwidth, op: gt, value: 1Gbps }}\n"),
    )
    .unwrap();
    let e = refused(&["sweep", s(&f)], &["f.yaml:6", "`gt` compares numbers"]);
    assert!(!e.contains("Gt"), "{e}");
    fs::write(
        &f,
        format!("{head}  - {{ path: topology.nic.bandwidth, op: gt }}\n"),
    )
    .unwrap();
    refused(&["sweep", s(&f)], &["f.yaml:6", "exactly one"]);
}

#[test]
fn an_empty_file_is_called_empty() {
    // The parser's "unexpected end of input" at line 1 left the user to
    // guess that nothing was there (a truncated copy, a wrong path to an
    // empty file). Comments and blank lines are no settings either.
    let d = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("empty.yaml", ""),
        ("blank.yaml", "\n  \n"),
        (
            "comments.yaml",
            "# a scenario, to be written\n\n# soon\n---\n",
        ),
    ] {
        let p = d.path().join(name);
        fs::write(&p, text).unwrap();
        for cmd in ["run", "validate"] {
            let err = refused(&[cmd, s(&p)], &[name, "is empty"]);
            assert!(!err.contains("end of input"), "{err}");
        }
    }
}

#[test]
fn report_refuses_a_sweep_point_whose_numbers_are_not_numbers() {
    // A point that ran has its time and cost; a damaged or hand-edited
    // cell used to drop the point from the plot without a word.
    let d = tempfile::tempdir().unwrap();
    let header =
        "point,param_parallelism.data,status,reason,iteration_mean_s,cost_per_step_usd,capex_usd\n";
    let good = "0,4,ok,,1.5,0.02,100000\n2,16,failed,does not fit,,,\n";
    let p = d.path().join("sweep.csv");
    fs::write(&p, format!("{header}{good}1,8,ok,,abc,0.01,200000\n")).unwrap();
    let html = d.path().join("sweep.html");
    refused(
        &["report", s(&p), "-q"],
        &["sweep.csv", "point 1", "`iteration_mean_s`", "`abc`"],
    );
    assert!(!html.exists());
    // The same file with a number there is reported.
    fs::write(&p, format!("{header}{good}1,8,ok,,1.2,0.01,200000\n")).unwrap();
    fabsim().args(["report", s(&p), "-q"]).assert().success();
    assert!(html.exists());
}
