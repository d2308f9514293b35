//! Whole scenarios: 10,000 trials of `kccb-mnist-lossy` (target < 0.5 s),
//! a 1F1B pipeline with p = 64 stages and m = 1024 microbatches (target <
//! 0.2 s), one iteration of GPT-3 175B on 1024 H100s (target < 2 s), a
//! 1,000-point sweep of 64-GPU scenarios with 1 and 2 jobs (target < 60 s,
//! 2 jobs ≥ 1.7× faster) and one of GPT-3 175B on 1,024 H100s with 2 jobs
//! (target < 10 min); at scale (issue 9), the Llama-3-405B-like job on
//! 16,384 H100s (target < 2 s) and on 131,072 (target < 10 s), and
//! Megatron's 1T row on 3,072 A100s (target < 5 s: its 8 tensor ranks per
//! host fold onto one; its replicas do not, as its `nccl` gradient buckets
//! are not one-chunk rings of equal pieces over d = 6).
//!
//! Run: `cargo bench --bench scenarios`.

use criterion::{Criterion, criterion_group, criterion_main};
use fabsim::engine::{Quiet, SimOptions, simulate};
use fabsim::run::{RunOptions, run};
use fabsim::scenario::{Overrides, Scenario};
use fabsim::sweep::{Sweep, SweepOptions};
use std::path::PathBuf;
use std::time::Duration;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Benches `fabsim run` of a shipped scenario with `trials` trials, no files:
/// loading included, since loading builds (and validates) the plan.
fn bench_shipped(c: &mut Criterion, file: &str, trials: u64, name: &str, seconds: u64) {
    bench_set(c, file, trials, &[], name, seconds);
}

/// [`bench_shipped`] with `--set` overrides.
fn bench_set(c: &mut Criterion, file: &str, trials: u64, set: &[&str], name: &str, seconds: u64) {
    let overrides = Overrides {
        trials: Some(trials),
        set: set.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let path = root().join(file);
    let mut group = c.benchmark_group("scenarios");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(seconds));
    group.bench_function(name, |b| {
        b.iter(|| {
            let scenario = Scenario::load(&path, &overrides).unwrap();
            run(&scenario, &RunOptions::default())
                .unwrap()
                .summary
                .iteration
                .mean_s
        })
    });
    group.finish();
}

fn kccb_lossy_10k(c: &mut Criterion) {
    bench_shipped(
        c,
        "scenarios/kccb-mnist-lossy.yaml",
        10_000,
        "kccb_mnist_lossy_10k_trials",
        10,
    );
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

fn gpt3_175b_iteration(c: &mut Criterion) {
    bench_shipped(
        c,
        "scenarios/gpt3-175b-1024.yaml",
        1,
        "gpt3_175b_1024_gpus_one_iteration",
        5,
    );
}

fn llama3_405b_16k(c: &mut Criterion) {
    bench_shipped(
        c,
        "scenarios/llama3-405b-16k.yaml",
        1,
        "llama3_405b_16384_gpus_one_iteration",
        5,
    );
}

fn llama3_405b_131k(c: &mut Criterion) {
    bench_set(
        c,
        "scenarios/llama3-405b-16k.yaml",
        1,
        &[
            "topology.hosts=16384",
            "topology.fabric.spines=4096",
            "parallelism.data=1024",
        ],
        "llama3_405b_131072_gpus_one_iteration",
        20,
    );
}

fn megatron_1t(c: &mut Criterion) {
    bench_shipped(
        c,
        "validation/megatron-sc21/1008b.yaml",
        1,
        "megatron_1t_3072_gpus_512_microbatches",
        60,
    );
}

fn sweep_1000_points(c: &mut Criterion) {
    // GPT-3 13B on 64 H100s: 10 NIC speeds × 4 pipeline depths × 5
    // microbatch counts × 5 bucket sizes = 1,000 points, 1 trial each.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sweep.yaml");
    std::fs::write(
        &file,
        format!(
            "base: {}\n{}",
            root().join("scenarios/gpt3-13b-64.yaml").display(),
            r"trials: 1
axes:
  - path: topology.nic.bandwidth
    values: [100Gbps, 150Gbps, 200Gbps, 250Gbps, 300Gbps, 350Gbps, 400Gbps, 600Gbps, 800Gbps, 1600Gbps]
  - paths: [parallelism.pipeline, parallelism.data, workload.batch_size]
    values: [[1, 8, 32], [2, 4, 64], [4, 2, 128], [8, 1, 256]]
  - path: pipeline.microbatches
    values: [8, 12, 16, 24, 32]
  - path: collective.bucket_bytes
    values: [16MiB, 25MiB, 50MiB, 100MiB, 200MiB]
"
        ),
    )
    .unwrap();
    let sweep = Sweep::load(&file).unwrap();
    assert_eq!(sweep.kept, 1000);
    let mut group = c.benchmark_group("sweep_1000_points_64_gpus");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(1));
    for jobs in [1usize, 2] {
        let options = SweepOptions {
            jobs: Some(jobs),
            ..Default::default()
        };
        group.bench_function(format!("jobs_{jobs}"), |b| {
            b.iter(|| sweep.run_all(&options).unwrap().len())
        });
    }
    group.finish();
}

/// The README row "1,000-point sweep of GPT-3 175B on 1,024 H100": the
/// shipped scenario over uplink bandwidth × latency × bucket size
/// (`benches/data/gpt3-175b-1024-sweep.yaml`), 2 jobs.
fn sweep_1000_points_gpt3_175b(c: &mut Criterion) {
    let sweep = Sweep::load(&root().join("benches/data/gpt3-175b-1024-sweep.yaml")).unwrap();
    assert_eq!(sweep.kept, 1000);
    let options = SweepOptions {
        jobs: Some(2),
        ..Default::default()
    };
    let mut group = c.benchmark_group("sweep_1000_points_gpt3_175b_1024_gpus");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(200));
    group.bench_function("jobs_2", |b| {
        b.iter(|| sweep.run_all(&options).unwrap().len())
    });
    group.finish();
}

criterion_group!(
    benches,
    kccb_lossy_10k,
    one_f_one_b_64x1024,
    gpt3_175b_iteration,
    sweep_1000_points,
    sweep_1000_points_gpt3_175b,
    llama3_405b_16k,
    llama3_405b_131k,
    megatron_1t
);
criterion_main!(benches);
