//! `fabsim collective` end to end: nccl-tests style numbers against the
//! ring closed form, size sweeps, ring order by `--ranks`, and bad flags.

mod common;

use common::{fabsim, output_ok};
use std::path::PathBuf;

fn topology(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("topologies")
        .join(name)
}

fn json_lines(args: &[&str]) -> Vec<serde_json::Value> {
    let out = output_ok(fabsim().arg("collective").args(args).arg("--json"));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn ring_all_reduce_reports_closed_form_time_and_nccl_busbw() {
    let t = topology("kccb-4host.yaml");
    let rows = json_lines(&[
        "--topology",
        t.to_str().unwrap(),
        "--bytes",
        "64MiB",
        "--algorithm",
        "ring",
    ]);
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    for key in [
        "op",
        "algorithm",
        "ranks",
        "bytes",
        "time_s",
        "algbw_GBps",
        "busbw_GBps",
    ] {
        assert!(r.get(key).is_some(), "missing {key}");
    }
    assert_eq!(r["ranks"], 4);
    // 2(n−1)(α + S/(nB)): α = 4.5us, S/n = 16 MiB at 12.5 GB/s.
    let want = 6.0 * (4.5e-6 + (16u64 << 20) as f64 / 12.5e9);
    let got = r["time_s"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-11, "{got} vs {want}");
    let algbw = (64u64 << 20) as f64 / got / 1e9;
    assert!((r["algbw_GBps"].as_f64().unwrap() - algbw).abs() < 1e-9);
    assert!((r["busbw_GBps"].as_f64().unwrap() - algbw * 1.5).abs() < 1e-9);
}

#[test]
fn size_sweeps_and_tables() {
    let t = topology("fat-tree-16.yaml");
    let rows = json_lines(&[
        "--topology",
        t.to_str().unwrap(),
        "--min-bytes",
        "1KiB",
        "--max-bytes",
        "1MiB",
        "--factor",
        "4",
    ]);
    let sizes: Vec<u64> = rows.iter().map(|r| r["bytes"].as_u64().unwrap()).collect();
    assert_eq!(sizes, [1024, 4096, 16384, 65536, 262144, 1048576]);
    let times: Vec<f64> = rows.iter().map(|r| r["time_s"].as_f64().unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[0] < w[1]),
        "bigger buffers take longer"
    );
    let out = fabsim()
        .args(["collective", "--topology"])
        .arg(&t)
        .args(["--bytes", "1MiB", "--links", "3"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("busbw(GB/s)") && text.contains("busiest links"),
        "{text}"
    );
    let out = fabsim()
        .args(["collective", "--topology"])
        .arg(&t)
        .args(["--bytes", "1MiB", "--csv"])
        .output()
        .unwrap();
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with("op,algorithm,ranks,bytes"), "{csv}");
}

#[test]
fn ring_order_across_an_oversubscribed_spine_is_slower() {
    let t = topology("fat-tree-16.yaml");
    let t = t.to_str().unwrap();
    let index =
        json_lines(&["--topology", t, "--bytes", "16MiB", "--algorithm", "ring"])[0]["time_s"]
            .as_f64()
            .unwrap();
    let strided: Vec<String> = (0..16).map(|i| ((i % 4) * 4 + i / 4).to_string()).collect();
    let strided = strided.join(",");
    let slow = json_lines(&[
        "--topology",
        t,
        "--bytes",
        "16MiB",
        "--algorithm",
        "ring",
        "--ranks",
        &strided,
    ])[0]["time_s"]
        .as_f64()
        .unwrap();
    // Every strided ring edge crosses the 4:1 spine: about 4× the bandwidth term.
    assert!(slow > 3.0 * index, "{slow} vs {index}");
}

#[test]
fn bad_flags_exit_2_with_a_message() {
    let t = topology("kccb-4host.yaml");
    for (args, needle) in [
        (
            vec!["--bytes", "1MiB", "--ranks", "0,1,7"],
            "GPU 7 does not exist",
        ),
        (vec!["--bytes", "1MiB", "--ranks", "0,0"], "listed twice"),
        (vec!["--bytes", "1MiB", "--ranks", "0,x"], "not a GPU index"),
        (vec!["--bytes", "lots"], "--bytes"),
        (
            vec![
                "--bytes",
                "1MiB",
                "--op",
                "all-to-all",
                "--algorithm",
                "ring",
            ],
            "use direct",
        ),
        (
            vec![
                "--bytes",
                "1MiB",
                "--algorithm",
                "halving-doubling",
                "--gpus",
                "3",
            ],
            "power-of-two",
        ),
        (
            vec!["--min-bytes", "1MiB", "--max-bytes", "1KiB"],
            "must not exceed",
        ),
    ] {
        let out = fabsim()
            .args(["collective", "--topology"])
            .arg(&t)
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
