//! `fabsim collective` with the default NCCL-like algorithm against
//! published nccl-tests figures for DGX A100 / DGX H100, each with its
//! source and a documented tolerance, plus determinism.
//!
//! The figures (all-reduce, bus bandwidth as nccl-tests reports it):
//! - 8 × H100 in one DGX, ring: ~370 GB/s. "450GB/s is the line rate. With
//!   the protocol overhead (~20%) NCCL can get an effective NVLink bandwidth
//!   of 370GB/s, which you can observe as BusBw … when running with
//!   NCCL_ALGO=RING" (S. Jeaugey, NVIDIA, nccl-tests issue #212, 2024-05-06).
//! - 8 × A100 in one DGX: NCCL's tuner caps the bus bandwidth of A100
//!   (compute capability 8.0) at 235 GB/s, its measured peak (NCCL 2.x
//!   src/graph/tuning.cc, `if (compCap80) busBw = std::min(busBw, 235.0f)`).
//! - DGX H100 across nodes, 8 × 400 Gb/s NDR per node: "For NDR @ 400Gbps
//!   you should see 46-48GB/s per NIC" (NVIDIA, nccl-tests issue #290,
//!   2025-03-03), i.e. 368–384 GB/s per node of 8 NICs.
//! - Small sizes: NCCL's own latency model for a tree all-reduce over 16
//!   nodes × 8 GPUs (NCCL 2.18 tuning.cc, tree/LL: base 6.8 us + 2 × (7
//!   NVLink hops × 0.6 us + log2(16) network hops × 5.0 us) = 55.2 us).
//!
//! Tolerances: 10 % on bandwidths (the spread of the published figures
//! themselves is 4–8 %), 25 % on the small-size latency (NCCL's model
//! includes a kernel-launch base latency fabsim does not simulate).

mod common;

use common::{fabsim, output_ok};
use std::path::PathBuf;

fn topology(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("topologies")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

fn run(args: &[&str]) -> serde_json::Value {
    let out = output_ok(fabsim().arg("collective").args(args).arg("--json"));
    serde_json::from_str(String::from_utf8(out.stdout).unwrap().trim()).unwrap()
}

fn within(got: f64, want: f64, tol: f64) -> bool {
    (got / want - 1.0).abs() <= tol
}

#[test]
fn one_dgx_h100_matches_nccl_ring_busbw() {
    let t = topology("h100-rail-128.yaml");
    let r = run(&["--topology", &t, "--gpus", "8", "--bytes", "1GiB"]);
    assert_eq!(r["algorithm"], "nccl");
    let busbw = r["busbw_GBps"].as_f64().unwrap();
    assert!(within(busbw, 370.0, 0.10), "busbw {busbw} vs 370 GB/s");
}

#[test]
fn one_dgx_a100_matches_nccl_busbw() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dgx-a100.yaml");
    std::fs::write(
        &path,
        "name: one-dgx-a100\nhost: dgx-a100\nhosts: 1\nfabric: { kind: switch }\n",
    )
    .unwrap();
    let r = run(&["--topology", path.to_str().unwrap(), "--bytes", "1GiB"]);
    let busbw = r["busbw_GBps"].as_f64().unwrap();
    assert!(within(busbw, 235.0, 0.10), "busbw {busbw} vs 235 GB/s");
}

#[test]
fn sixteen_dgx_h100_reach_published_per_nic_busbw() {
    let t = topology("h100-rail-128.yaml");
    let r = run(&["--topology", &t, "--bytes", "1GiB"]);
    let per_nic = r["busbw_GBps"].as_f64().unwrap() / 8.0;
    assert!(
        within(per_nic, 47.0, 0.10),
        "{per_nic} GB/s per NIC vs 46-48"
    );
    // The flat ring of the same GPUs crosses each host through one NIC.
    let ring = run(&["--topology", &t, "--bytes", "1GiB", "--algorithm", "ring"]);
    assert!(ring["busbw_GBps"].as_f64().unwrap() < per_nic * 8.0 / 4.0);
}

#[test]
fn small_all_reduce_latency_is_near_nccl_tree_model() {
    let t = topology("h100-rail-128.yaml");
    let r = run(&["--topology", &t, "--bytes", "8"]);
    let us = r["time_s"].as_f64().unwrap() * 1e6;
    assert!(within(us, 55.2, 0.25), "{us} us vs 55.2 us");
    let ring = run(&["--topology", &t, "--bytes", "8", "--algorithm", "nccl-ring"]);
    assert!(ring["time_s"].as_f64().unwrap() * 1e6 > 4.0 * us);
}

#[test]
fn same_input_same_bytes() {
    let t = topology("dgx-h100-rail-64.yaml");
    let args = [
        "collective",
        "--topology",
        &t,
        "--min-bytes",
        "1KiB",
        "--max-bytes",
        "64MiB",
        "--factor",
        "16",
        "--csv",
    ];
    let a = fabsim().args(args).output().unwrap().stdout;
    let b = fabsim().args(args).output().unwrap().stdout;
    assert!(!a.is_empty());
    assert_eq!(a, b);
}
