//! Output discipline, end to end (issue 10, class 6): `run --out` is atomic
//! as a folder (no stray temporaries, a kill leaves the previous result),
//! symlinks, devices and foreign folders are never replaced, and a killed
//! sweep resumes into a CSV byte-identical to an uninterrupted run.

mod common;

use common::{fabsim, output_ok, root, s};
use std::fs;
use std::path::{Path, PathBuf};

/// Names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn kccb() -> PathBuf {
    root().join("scenarios/kccb-mnist.yaml")
}

#[test]
fn run_out_is_replaced_whole_and_leaves_no_temporary() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("res");
    fabsim()
        .args(["run", s(&kccb()), "--trials", "3", "--out", s(&out)])
        .assert()
        .success();
    assert_eq!(names(d.path()), vec!["res"]);
    let first = names(&out);
    assert!(first.contains(&"summary.json".to_string()), "{first:?}");
    // A stray file of the old result disappears: the folder is replaced whole.
    fs::write(out.join("stale.csv"), "old").unwrap();
    fabsim()
        .args(["run", s(&kccb()), "--trials", "2", "--out", s(&out)])
        .assert()
        .success();
    assert_eq!(names(&out), first);
    assert_eq!(names(d.path()), vec!["res"]);
    // A failing run (bad input) leaves the previous result untouched.
    let before = fs::read(out.join("summary.json")).unwrap();
    fabsim()
        .args(["run", s(&kccb()), "--out", s(&out), "--set", "seed=x"])
        .assert()
        .code(2);
    assert_eq!(fs::read(out.join("summary.json")).unwrap(), before);
}

#[test]
fn outputs_never_replace_files_links_or_foreign_folders() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("a-file");
    fs::write(&file, "mine").unwrap();
    let foreign = d.path().join("thesis");
    fs::create_dir(&foreign).unwrap();
    fs::write(foreign.join("chapter1.tex"), "mine").unwrap();
    for (out, needle) in [(&file, "existing file"), (&foreign, "not a fabsim result")] {
        let a = fabsim()
            .args(["run", s(&kccb()), "--trials", "1", "--out", s(out)])
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(err.contains(needle) && err.contains(s(out)), "{err}");
    }
    assert_eq!(fs::read_to_string(&file).unwrap(), "mine");
    assert_eq!(names(&foreign), vec!["chapter1.tex"]);
    #[cfg(unix)]
    {
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let sweep = root().join("sweeps/nic-fabric-pipeline.yaml");
        for args in [
            vec!["run", s(&kccb()), "--trials", "1", "--out", s(&link)],
            vec!["sweep", s(&sweep), "--out", s(&link)],
        ] {
            let a = fabsim().args(&args).assert().code(2);
            let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
            assert!(err.contains("symbolic link"), "{err}");
        }
        assert_eq!(fs::read_to_string(&file).unwrap(), "mine");
    }
    assert_eq!(names(d.path()), vec!["a-file", "link", "thesis"]);
}

#[cfg(target_os = "linux")]
#[test]
fn sigterm_removes_the_temporary_folder_and_keeps_the_old_result() {
    use std::process::{Command as Std, Stdio};
    use std::time::{Duration, Instant};
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("res");
    fabsim()
        .args(["run", s(&kccb()), "--trials", "1", "--out", s(&out)])
        .assert()
        .success();
    let before = fs::read(out.join("summary.json")).unwrap();
    // Enough trials to be interrupted mid-run.
    let mut child = Std::new(assert_cmd::cargo::cargo_bin("fabsim"))
        .args(["run", s(&kccb()), "--trials", "5000000", "--out", s(&out)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while names(d.path()).len() < 2 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        names(d.path()).len(),
        2,
        "the temporary folder never appeared"
    );
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_eq!(names(d.path()), vec!["res"]);
    assert_eq!(fs::read(out.join("summary.json")).unwrap(), before);
}

/// A sweep file over the KCCB scenario with `n` points.
fn small_sweep(dir: &Path, n: usize) -> PathBuf {
    let seeds: Vec<String> = (1..=n).map(|k| k.to_string()).collect();
    let f = dir.join("sw.yaml");
    fs::write(
        &f,
        format!(
            "base: {}\ntrials: 2\naxes:\n  - path: seed\n    values: [{}]\n",
            kccb().display(),
            seeds.join(", ")
        ),
    )
    .unwrap();
    f
}

#[test]
fn a_killed_sweep_resumes_byte_identical() {
    let d = tempfile::tempdir().unwrap();
    let sweep = small_sweep(d.path(), 6);
    let whole = d.path().join("whole.csv");
    fabsim()
        .args(["sweep", s(&sweep), "--out", s(&whole), "--jobs", "2"])
        .assert()
        .success();
    let reference = fs::read(&whole).unwrap();
    let stdout = fabsim().args(["sweep", s(&sweep)]).output().unwrap();
    assert_eq!(stdout.stdout, reference, "stdout and --out differ");
    // What a kill leaves: the header, three rows and half of the fourth.
    let lines: Vec<&[u8]> = reference.split_inclusive(|&b| b == b'\n').collect();
    let mut partial: Vec<u8> = lines[..4].concat();
    partial.extend_from_slice(&lines[4][..lines[4].len() / 2]);
    let out = d.path().join("resumed.csv");
    fs::write(d.path().join(".resumed.csv.partial"), &partial).unwrap();
    fabsim()
        .args([
            "sweep",
            s(&sweep),
            "--out",
            s(&out),
            "--resume",
            "--jobs",
            "1",
        ])
        .assert()
        .success();
    assert_eq!(fs::read(&out).unwrap(), reference);
    assert!(!d.path().join(".resumed.csv.partial").exists());
    // A partial file of another sweep is refused, not mixed in.
    let mut wrong = lines[0].to_vec();
    wrong.extend_from_slice(b"7,9,ok\n");
    fs::write(d.path().join(".resumed.csv.partial"), &wrong).unwrap();
    fabsim()
        .args(["sweep", s(&sweep), "--out", s(&out), "--resume"])
        .assert()
        .code(2);
}

#[test]
fn a_shard_of_a_huge_grid_holds_only_its_points() {
    // 10^7 points; shard 1 of 10^6 is ten of them (the first seeds).
    let d = tempfile::tempdir().unwrap();
    let ten = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]";
    let f = d.path().join("big.yaml");
    fs::write(
        &f,
        format!(
            "base: {}\naxes:\n  - {{ path: description, values: [a, b, c, d, e, f, g, h, i, j] }}\n  - {{ path: name, values: [a, b, c, d, e, f, g, h, i, j] }}\n  - {{ path: cost.amortization_years, values: {ten} }}\n  - {{ path: collective.bucket_bytes, values: {ten} }}\n  - {{ path: pipeline.microbatches, values: {ten} }}\n  - {{ path: collective.chunks, values: {ten} }}\n  - {{ path: seed, values: {ten} }}\n",
            kccb().display()
        ),
    )
    .unwrap();
    let out = output_ok(fabsim().args(["sweep", s(&f), "--shard", "1/1000000"]));
    let text = String::from_utf8(out.stdout).unwrap();
    let points: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(points, (0..10).map(|k| k.to_string()).collect::<Vec<_>>());
}

/// A folded plan (replicas and tensor ranks simulated once, see
/// `training::fold`) simulates each collective of its representative GPUs
/// as a chain of ring sends; the timelines still draw every one of them
/// on those GPUs: gradient buckets, tensor-parallel collectives and the
/// tied embedding, in the Chrome trace and as coloured bands in the SVG.
#[test]
fn a_folded_run_draws_its_collectives_on_the_timelines() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("res");
    let scenario = root().join("scenarios/gpt3-13b-64.yaml");
    fabsim()
        .args(["run", s(&scenario), "--out", s(&out), "-q"])
        .assert()
        .success();
    let trace: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("timeline.json")).unwrap()).unwrap();
    let events: Vec<&serde_json::Value> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["cat"] == "collective")
        .collect();
    let folded: Vec<_> = events
        .iter()
        .filter(|e| e["args"]["folded"] == true)
        .collect();
    assert!(!folded.is_empty(), "the scenario is folded: {events:?}");
    for kind in ["gradient", "tensor"] {
        let n = folded.iter().filter(|e| e["args"]["kind"] == kind).count();
        assert!(n > 0, "no folded {kind} collective on the timeline");
    }
    for e in &folded {
        assert!(e["dur"].as_f64().unwrap() > 0.0, "{e}");
        assert!(e["args"]["bytes"].as_u64().unwrap() > 0, "{e}");
        assert!(!e["name"].as_str().unwrap().is_empty(), "{e}");
    }
    // The SVG's bands (5 px high, under the rows; the legend's swatches
    // are 10 px): gradient red and tensor orange (svg.rs's colours).
    let svg = fs::read_to_string(out.join("timeline.svg")).unwrap();
    for fill in ["#E15759", "#F28E2B"] {
        let band = format!("height=\"5\" opacity=\"1\" fill=\"{fill}\"");
        assert!(svg.contains(&band), "no {fill} band");
    }
}

/// The default timeline has no empty rows: the MNIST scenario folds its 4
/// identical replicas into replica 0, so only GPU 0 is drawn (GPUs 1-3 ran
/// nothing of their own).
#[test]
fn folded_replicas_get_no_empty_timeline_rows() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("res");
    fabsim()
        .args(["run", s(&kccb()), "--trials", "1", "--out", s(&out), "-q"])
        .assert()
        .success();
    let svg = fs::read_to_string(out.join("timeline.svg")).unwrap();
    assert!(svg.contains("gpu 0 · stage 0"), "{svg}");
    for g in 1..4 {
        assert!(!svg.contains(&format!("\ngpu {g}\n")), "gpu {g} drawn");
    }
}

/// `--timeline all` on a folded plan draws every folded copy with its
/// representative's history: the folded run's `timeline.txt` and
/// `timeline.svg` equal the expanded run's byte for byte, and its Chrome
/// trace has the same ops per GPU (copies marked `args.folded`). Replicas
/// fold in the MNIST run; replicas and tensor ranks in the small GPT-3.
#[test]
fn folded_copies_are_drawn_with_their_representatives_history() {
    use fabsim::run::{RunOptions, TimelineGpus, run};
    use fabsim::scenario::{Overrides, Scenario};
    let gpt3: &[&str] = &[
        "workload.model.layers=4",
        "parallelism.pipeline=2",
        "parallelism.data=2",
        "workload.batch_size=4",
        "pipeline.microbatches=4",
        "topology.hosts=4",
    ];
    // (file, overrides, (replicas, tensor ranks) folded)
    let cases: [(&str, &[&str], (u32, u32)); 2] = [
        ("scenarios/kccb-mnist.yaml", &[], (4, 1)),
        ("scenarios/gpt3-175b-1024.yaml", gpt3, (2, 8)),
    ];
    let d = tempfile::tempdir().unwrap();
    for (file, set, axes) in cases {
        let overrides = Overrides {
            set: set.iter().map(|s| s.to_string()).collect(),
            trials: Some(1),
            ..Default::default()
        };
        let folded = Scenario::load(&root().join(file), &overrides).unwrap();
        let fold = folded.plan().fold.as_ref().expect("folded");
        assert_eq!((fold.replicas, fold.tensor), axes, "{file}: folded axes");
        let expanded = Scenario::load(&root().join(file), &overrides)
            .unwrap()
            .unfolded();
        let mut files = Vec::new();
        for (name, scenario) in [("folded", &folded), ("expanded", &expanded)] {
            let out = d.path().join(name);
            let options = RunOptions {
                out_dir: Some(out.clone()),
                timeline: TimelineGpus::All,
                ..Default::default()
            };
            run(scenario, &options).unwrap();
            let read = |f: &str| fs::read_to_string(out.join(f)).unwrap();
            files.push((
                read("timeline.txt"),
                read("timeline.svg"),
                ops(&read("timeline.json")),
            ));
        }
        let gpus = folded.cluster.num_gpus();
        assert_eq!(files[0].0, files[1].0, "{file}: timeline.txt");
        assert_eq!(
            drawn(&files[0].1),
            drawn(&files[1].1),
            "{file}: timeline.svg"
        );
        assert_eq!(
            files[0].1.matches("<use ").count(),
            gpus - gpus / (axes.0 * axes.1) as usize,
            "{file}: a use per copy"
        );
        assert_eq!(files[0].2.0, files[1].2.0, "{file}: trace ops");
        // Every GPU has ops; only copies are marked.
        let rows: std::collections::BTreeSet<u64> = files[0].2.0.iter().map(|o| o.tid).collect();
        assert_eq!(rows.len(), gpus, "{file}: GPUs with ops");
        assert!(
            files[0].2.1 > 0 && files[1].2.1 == 0,
            "{file}: folded marks"
        );
    }
}

/// The bars and texts an SVG draws, each with its absolute `y`, sorted:
/// a `<use href="#ID" y="Y"/>` draws group ID's elements `Y` lower.
fn drawn(svg: &str) -> Vec<String> {
    let shift = |e: &str, dy: i64| -> String {
        let Some(at) = e.find(" y=\"") else {
            return e.to_string();
        };
        let (head, rest) = e.split_at(at + 4);
        let (y, tail) = rest.split_once('"').unwrap();
        format!("{head}{}\"{tail}", y.parse::<i64>().unwrap() + dy)
    };
    let mut groups: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
    let mut group: Option<String> = None;
    let mut out = Vec::new();
    for e in svg.split("\n<") {
        if let Some(id) = e.strip_prefix("g id=\"") {
            group = Some(id.split('"').next().unwrap().to_string());
        } else if e.starts_with("/g>") {
            group = None;
        } else if let Some(r) = e.strip_prefix("use href=\"#") {
            let (id, rest) = r.split_once('"').unwrap();
            let dy: i64 = rest.split('"').nth(1).unwrap().parse().unwrap();
            out.extend(groups[id].iter().map(|e| shift(e, dy)));
        } else if e.starts_with("rect ") || e.starts_with("text ") {
            match &group {
                Some(g) => groups.entry(g.clone()).or_default().push(e),
                None => out.push(e.to_string()),
            }
        }
    }
    out.sort();
    out
}

/// A compute event of a Chrome trace, without its task id.
#[derive(Debug, PartialEq)]
struct Op {
    tid: u64,
    name: String,
    ts: String,
    dur: String,
}

/// The trace's compute events (sorted), and how many are marked folded.
fn ops(trace: &str) -> (Vec<Op>, usize) {
    let v: serde_json::Value = serde_json::from_str(trace).unwrap();
    let mut ops = Vec::new();
    let mut folded = 0;
    for e in v["traceEvents"].as_array().unwrap() {
        if e["ph"] != "X" || e["cat"] == "collective" || e["cat"] == "transfer" {
            continue;
        }
        folded += usize::from(e["args"]["folded"] == true);
        ops.push(Op {
            tid: e["tid"].as_u64().unwrap(),
            name: e["name"].as_str().unwrap().to_string(),
            ts: e["ts"].to_string(),
            dur: e["dur"].to_string(),
        });
    }
    ops.sort_by(|a, b| (a.tid, &a.ts, &a.name).cmp(&(b.tid, &b.ts, &b.name)));
    (ops, folded)
}
