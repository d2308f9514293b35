//! `fabsim run` end to end: the KCCB closed forms with noise off, the
//! statistics of loss, determinism across thread counts and seeds, and bad
//! input refused with file, path and line, exit code 2 and no output.

mod common;

use common::{fabsim, output_ok, root};
use std::fs;
use std::path::{Path, PathBuf};

/// Runs a scenario with `args`, returns the summary JSON.
fn summary(scenario: &Path, args: &[&str]) -> serde_json::Value {
    let out = output_ok(
        fabsim()
            .arg("run")
            .arg(scenario)
            .args(["--json", "--no-files"])
            .args(args),
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A scenario file in `dir` using the shipped KCCB topology and MNIST trace.
fn kccb_scenario(dir: &Path, extra: &str) -> PathBuf {
    let text = format!(
        "topology: {}\nworkload: {}\nparallelism: {{ data: 4 }}\n{extra}",
        root().join("topologies/kccb-4host.yaml").display(),
        root().join("workloads/mnist-mlp.yaml").display()
    );
    let p = dir.join("s.yaml");
    fs::write(&p, text).unwrap();
    p
}

/// Ring all-reduce on kccb-4host: α = 2us overhead + 1us + 0.5us + 1us,
/// 100 Gbps NICs, n = 4: 2(n−1)(α + ceil(S/4 / B)) with each step rounded
/// up to whole picoseconds as the engine does.
fn ring_closed_form(bytes: u64) -> f64 {
    let alpha_ps = 4_500_000u64;
    let piece = bytes.div_ceil(4) as f64; // the largest piece bounds the step
    let step_ps = alpha_ps + (piece / 12.5e9 * 1e12).ceil() as u64;
    (6 * step_ps) as f64 * 1e-12
}

#[test]
fn kccb_without_noise_matches_the_ring_closed_form_with_and_without_overlap() {
    for overlap in ["true", "false"] {
        let s = summary(
            &root().join("scenarios/kccb-mnist.yaml"),
            &[
                "--trials",
                "50",
                "--set",
                &format!("collective.overlap={overlap}"),
            ],
        );
        assert_eq!(s["trials"], 50);
        let it = &s["iteration"];
        assert_eq!(
            it["min_s"], it["max_s"],
            "noise off: every trial is the same"
        );
        let names: Vec<&str> = s["collectives"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["fc4", "fc3", "fc2", "fc1"], "backprop order");
        for c in s["collectives"].as_array().unwrap() {
            let bytes = c["bytes"].as_u64().unwrap();
            let want = ring_closed_form(bytes);
            for key in ["mean_s", "p50_s", "p99_s", "max_s"] {
                let got = c[key].as_f64().unwrap();
                assert!(
                    (got - want).abs() < 1e-12,
                    "{overlap} {} {key}: {got} vs {want}",
                    c["name"]
                );
            }
        }
    }
}

#[test]
fn overlap_never_slows_the_iteration() {
    let on = summary(
        &root().join("scenarios/kccb-mnist.yaml"),
        &["--trials", "1"],
    );
    let off = summary(
        &root().join("scenarios/kccb-mnist.yaml"),
        &["--trials", "1", "--set", "collective.overlap=false"],
    );
    assert!(on["iteration"]["max_s"].as_f64() < off["iteration"]["max_s"].as_f64());
}

#[test]
fn loss_only_slows_the_share_of_trials_the_binomial_law_predicts() {
    // Each iteration has 4 collectives × 2(n−1) steps × 4 ranks = 96
    // transfers, every one on the critical path of its collective: a trial
    // is slower than one RTO iff one of them is lost.
    let dir = tempfile::tempdir().unwrap();
    let p = 0.002;
    let scen = kccb_scenario(
        dir.path(),
        &format!(
            "collective: {{ algorithm: ring }}\nnoise: {{ loss: {{ probability: {p}, rto: 200ms, max_retries: 6 }} }}\n"
        ),
    );
    let out = dir.path().join("out");
    let trials = 6000;
    fabsim()
        .arg("run")
        .arg(&scen)
        .args(["--trials", &trials.to_string(), "--out"])
        .arg(&out)
        .assert()
        .success();
    let csv = fs::read_to_string(out.join("trials.csv")).unwrap();
    let iterations: Vec<f64> = csv
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1) == Some("iteration"))
        .map(|l| l.split(',').nth(5).unwrap().parse().unwrap())
        .collect();
    assert_eq!(iterations.len(), trials);
    let slow = iterations.iter().filter(|&&t| t > 0.2).count() as f64 / trials as f64;
    let want = 1.0 - (1.0f64 - p).powi(96);
    // Binomial standard error at 6000 trials is 0.005; allow 4 of them.
    assert!((slow - want).abs() < 0.02, "{slow} vs {want}");
    // The tail shows the backoff steps: a lost transfer waits 0.2 s, a
    // second loss of it 0.4 s more (0.6 s), then 0.8 s (1.4 s), ... Every
    // collective latency is the base plus a sum of such waits along its
    // critical path — a multiple of 0.2 s — and the retry step (0.6 s)
    // shows up.
    //
    // Plus the ring's flow control (two unconsumed pieces per connection):
    // while the step-k piece i→j waits, every other rank sends until its
    // window or its data stops it, so when the piece lands j holds the data
    // of steps k+1 and k+2 and sends both at once; they share its link and
    // land together after α + 2b (b = piece / B), and each following rank
    // likewise forwards a pair. Of the 2n−3−k hops left after the lost
    // piece, all but the last (which has no later step to pair with) take
    // one b longer: one lost transfer adds its waits plus (2n−4−k)·b, here
    // 0..=4 times b. Several lost transfers interact through the windows,
    // but on this star each link carries one connection, so at most two
    // flows share it and every time stays a whole combination of the waits,
    // α and b: the latency is base + waits + x·α + y·b, |x|, |y| ≤ 2(n−1).
    let base = ring_closed_form(803_840);
    let alpha = 4.5e-6;
    let b = (803_840f64 / 4.0 / 12.5e9 * 1e12).ceil() * 1e-12;
    let mut extras = std::collections::BTreeSet::new();
    for line in csv
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1) == Some("fc1"))
    {
        let lat: f64 = line.split(',').nth(5).unwrap().parse().unwrap();
        let waits = ((lat - base) / 0.2).round();
        let rest = lat - base - waits * 0.2;
        let on = |x: i32, y: i32| (rest - f64::from(x) * alpha - f64::from(y) * b).abs() < 1e-9;
        let law = if waits <= 1.0 {
            (0..=4).any(|j| on(0, j))
        } else {
            (-6..=6).any(|x| (-6..=6).any(|y| on(x, y)))
        };
        assert!(
            law,
            "latency {lat} breaks the flow-control law ({waits} waits)"
        );
        extras.insert(waits as u64);
    }
    assert!(extras.contains(&0) && extras.contains(&1), "{extras:?}");
}

fn run_to(dir: &Path, scenario: &Path, threads: &str, seed: &str) -> PathBuf {
    let out = dir.join(format!("out-{threads}-{seed}"));
    fabsim()
        .env("RAYON_NUM_THREADS", threads)
        .arg("run")
        .arg(scenario)
        .args(["--trials", "3000", "--seed", seed, "--out"])
        .arg(&out)
        .assert()
        .success();
    out
}

#[test]
fn outputs_are_byte_identical_across_thread_counts_and_differ_across_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let scen = root().join("scenarios/kccb-mnist-lossy.yaml");
    let one = run_to(dir.path(), &scen, "1", "5");
    let two = run_to(dir.path(), &scen, "2", "5");
    let mut names: Vec<String> = fs::read_dir(&one)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    for expected in [
        "summary.json",
        "trials.csv",
        "cdf.csv",
        "latency.hgrm",
        "links.csv",
        "cdf.svg",
        "timeline.json",
        "timeline.txt",
        "timeline.svg",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "missing {expected}: {names:?}"
        );
    }
    assert!(
        !names.iter().any(|n| n.ends_with(".tmp")),
        "no temporary files left: {names:?}"
    );
    for n in &names {
        assert_eq!(
            fs::read(one.join(n)).unwrap(),
            fs::read(two.join(n)).unwrap(),
            "{n} differs across thread counts"
        );
    }
    let other = run_to(dir.path(), &scen, "2", "6");
    assert_ne!(
        fs::read(one.join("trials.csv")).unwrap(),
        fs::read(other.join("trials.csv")).unwrap(),
        "a different seed changes the noisy results"
    );
}

/// Runs `fabsim run` on a bad scenario: exit 2, a message with every
/// `needles`, and no output folder.
fn refused(scenario: &Path, args: &[&str], needles: &[&str]) {
    let out_dir = scenario.parent().unwrap().join("should-not-exist");
    let out = fabsim()
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(&out_dir)
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for n in needles {
        assert!(err.contains(n), "expected '{n}' in: {err}");
    }
    assert!(!out_dir.exists(), "no output may be written for bad input");
}

#[test]
fn bad_scenarios_are_refused_with_file_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A scenario pointing at a missing file.
    let p = d.join("missing.yaml");
    fs::write(&p, "topology: nowhere.yaml\nworkload: nothing.yaml\n").unwrap();
    refused(&p, &[], &["missing.yaml:1", "topology", "does not exist"]);
    // More data-parallel ranks than GPUs.
    let p = kccb_scenario(d, "");
    let text = fs::read_to_string(&p)
        .unwrap()
        .replace("data: 4", "data: 8");
    fs::write(&p, text).unwrap();
    refused(&p, &[], &["s.yaml:3", "parallelism", "8 GPUs", "has 4"]);
    // A negative probability.
    let p = kccb_scenario(d, "noise:\n  loss: { probability: -0.5, rto: 200ms }\n");
    refused(
        &p,
        &[],
        &["s.yaml:5", "noise.loss.probability", "between 0 and 1"],
    );
    // An unknown distribution.
    let p = kccb_scenario(d, "noise:\n  latency: { dist: zipf, mean: 1us }\n");
    refused(
        &p,
        &[],
        &[
            "s.yaml:5",
            "noise.latency.dist",
            "unknown distribution 'zipf'",
            "lognormal",
        ],
    );
    // An unknown field.
    let p = kccb_scenario(d, "trails: { count: 3 }\n");
    refused(&p, &[], &["s.yaml:4", "unknown field `trails`"]);
    // --set on a path that does not exist.
    let p = kccb_scenario(d, "");
    refused(
        &p,
        &["--set", "noise.jitter=1us"],
        &["--set noise.jitter=1us", "unknown field `jitter`"],
    );
    refused(
        &p,
        &["--set", "nosuchthing"],
        &["--set nosuchthing", "path=value"],
    );
    // A workload with no layers.
    let w = d.join("empty.yaml");
    fs::write(
        &w,
        "name: empty\nbatch_size: 1\nsamples_per_epoch: 1\nlayers: []\n",
    )
    .unwrap();
    let p = d.join("empty-scenario.yaml");
    fs::write(
        &p,
        format!(
            "topology: {}\nworkload: empty.yaml\n",
            root().join("topologies/kccb-4host.yaml").display()
        ),
    )
    .unwrap();
    refused(&p, &[], &["empty.yaml", "layer"]);
}

#[test]
fn validate_accepts_every_shipped_file() {
    let mut files = Vec::new();
    for dir in ["topologies", "workloads", "scenarios"] {
        for e in fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    fabsim().arg("validate").args(&files).assert().success();
}
