//! Trials stream: memory does not grow with the trial count. One test in its
//! own binary, so the process's peak resident set (VmHWM in
//! /proc/self/status, Linux) is this run's alone.
//!
//! 10,000 trials of the lossy KCCB scenario, then 1,000,000: the peak after
//! the million may exceed the peak after ten thousand by at most 16 MiB
//! (a per-trial record of even 16 bytes would add 16 MB), and stays under
//! 64 MiB in all.

use fabsim::run::{RunOptions, run};
use fabsim::scenario::{Overrides, Scenario};
use std::path::Path;

/// Peak resident set of this process so far, in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM line");
    line.split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("VmHWM in kB")
}

fn run_trials(n: u64) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/kccb-mnist-lossy.yaml");
    let overrides = Overrides {
        trials: Some(n),
        ..Overrides::default()
    };
    let scenario = Scenario::load(&file, &overrides).expect("the shipped scenario loads");
    let options = RunOptions::default();
    let result = run(&scenario, &options).expect("the shipped scenario runs");
    assert_eq!(result.iteration.count, n, "every trial is counted");
}

#[test]
fn a_million_trials_run_in_constant_memory() {
    run_trials(10_000);
    let small = peak_rss_kib();
    run_trials(1_000_000);
    let large = peak_rss_kib();
    assert!(
        large <= small + 16 * 1024,
        "peak RSS grew from {small} KiB (10k trials) to {large} KiB (1M trials)"
    );
    assert!(large < 64 * 1024, "peak RSS {large} KiB");
}
