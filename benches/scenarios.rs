//! Whole scenarios: 10,000 trials of `kccb-mnist-lossy` (target < 0.5 s),
//! and a 1F1B pipeline with p = 64 stages and m = 1024 microbatches
//! (target < 0.2 s).
//!
//! Run: `cargo bench --bench scenarios`.

use criterion::{Criterion, criterion_group, criterion_main};
use fabsim::engine::{Quiet, SimOptions, simulate};
use fabsim::run::{RunOptions, run};
use fabsim::scenario::{Overrides, Scenario};
use std::path::PathBuf;
use std::time::Duration;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn kccb_lossy_10k(c: &mut Criterion) {
    let overrides = Overrides {
        trials: Some(10_000),
        ..Default::default()
    };
    let scenario =
        Scenario::load(&root().join("scenarios/kccb-mnist-lossy.yaml"), &overrides).unwrap();
    let mut group = c.benchmark_group("scenarios");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("kccb_mnist_lossy_10k_trials", |b| {
        b.iter(|| {
            run(&scenario, &RunOptions::default())
                .unwrap()
                .summary
                .iteration
                .mean_s
        })
    });
    group.finish();
}

fn one_f_one_b_64x1024(c: &mut Criterion) {
    // 64 single-GPU hosts on a switch, a 64-layer uniform trace, 1F1B.
    let dir = tempfile::tempdir().unwrap();
    let topo = dir.path().join("t.yaml");
    std::fs::write(
        &topo,
        "name: pipe64\ngpu: H100-SXM\nhosts: 64\ngpus_per_host: 1\n\
         nic: { bandwidth: 400Gbps, latency: 1us, overhead: 2us }\nfabric: { kind: switch, latency: 500ns }\n",
    )
    .unwrap();
    let mut layers = String::new();
    for i in 0..64 {
        layers.push_str(&format!(
            "  - {{ name: l{i}, forward: 10ms, backward: 20ms, activation_bytes: 64MiB, grad_bytes: 0 }}\n"
        ));
    }
    let work = dir.path().join("w.yaml");
    std::fs::write(
        &work,
        format!("name: w\nbatch_size: 1024\nsamples_per_epoch: 1024\nlayers:\n{layers}"),
    )
    .unwrap();
    let scen = dir.path().join("s.yaml");
    std::fs::write(
        &scen,
        "topology: t.yaml\nworkload: w.yaml\nparallelism: { data: 1, pipeline: 64 }\n\
         pipeline: { microbatches: 1024, schedule: 1f1b }\n",
    )
    .unwrap();
    let scenario = Scenario::load(&scen, &Overrides::default()).unwrap();
    let plan = scenario.job().build();
    let mut group = c.benchmark_group("scenarios");
    group.sample_size(10);
    group.bench_function("1f1b_p64_m1024_build_and_simulate", |b| {
        b.iter(|| {
            let plan = scenario.job().build();
            simulate(
                &scenario.cluster,
                &plan.graph,
                SimOptions::default(),
                &mut Quiet,
            )
            .unwrap()
            .makespan
        })
    });
    group.bench_function("1f1b_p64_m1024_simulate", |b| {
        b.iter(|| {
            simulate(
                &scenario.cluster,
                &plan.graph,
                SimOptions::default(),
                &mut Quiet,
            )
            .unwrap()
            .makespan
        })
    });
    group.finish();
}

criterion_group!(benches, kccb_lossy_10k, one_f_one_b_64x1024);
criterion_main!(benches);
