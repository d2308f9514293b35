//! Speed of the core: the engine's raw event rate, the max-min solver on
//! contended components, a 100 MiB ring all-reduce over one switch at
//! 1024 and 4096 GPUs (targets: < 0.15 s and < 0.5 s; folded onto one rank,
//! `training/fold/ring.rs`; the 4096-GPU ring also expanded, which times
//! the engine on 33.5 M transfers), and a contended one: a
//! 64 MiB ring all-reduce with ranks in random order on a 4:1 fat-tree
//! (16 hosts per leaf, 4 spines), where most flows share the spine, at 128,
//! 256, 512 and 1024 GPUs (target at 512: < 1 s). The 4,096-GPU point of
//! that case (target < 20 s) is not a bench: one run takes over a minute
//! today (4n² events at about 6.0 k instructions each at 512 GPUs, README
//! "## Speed"); `examples/contended_ring.rs` runs any size once, for
//! callgrind.
//!
//! Run: `cargo bench --bench engine`.

#[path = "common/contended_case.rs"]
mod contended_case;

use contended_case::{fat_tree_cluster, ring};
use criterion::{Criterion, criterion_group, criterion_main};
use fabsim::bench::measure::{measure, measure_with};
use fabsim::engine::{Quiet, SimOptions, simulate};
use fabsim::fabric::Fabric;
use fabsim::ids::{GpuId, LinkId};
use fabsim::input::Source;
use fabsim::plan::{Phase, Tag, TaskGraph};
use fabsim::topology::Cluster;
use fabsim::units::SimTime;
use std::hint::black_box;
use std::time::Duration;

fn switch_cluster(n: usize) -> Cluster {
    let yaml = format!(
        "name: switch-{n}\ngpu: H100-SXM\nhosts: {n}\ngpus_per_host: 1\n\
         nic: {{ bandwidth: 400Gbps, latency: 1us, overhead: 2us }}\n\
         fabric: {{ kind: switch, latency: 500ns }}\n"
    );
    fabsim::topology::from_source(&Source::from_text("bench.yaml", yaml)).unwrap()
}

fn event_rate(c: &mut Criterion) {
    // 8 GPUs × 100k compute ops each: 800k events, no fabric.
    let cluster = switch_cluster(8);
    let mut g = TaskGraph::new();
    for i in 0..800_000u32 {
        g.compute(
            GpuId(i % 8),
            SimTime::from_ns(u64::from(1 + i % 7)),
            Tag::new(Phase::Compute),
            &[],
        );
    }
    let mut group = c.benchmark_group("engine");
    group.throughput(criterion::Throughput::Elements(800_000));
    group.bench_function("compute_events_800k", |b| {
        b.iter(|| {
            simulate(&cluster, black_box(&g), SimOptions::default(), &mut Quiet)
                .unwrap()
                .events
        })
    });
    group.finish();
}

fn solver(c: &mut Criterion) {
    // 64 links, 256 flows over 3 random links each: one big component.
    let mut state = 12345u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as u32
    };
    let paths: Vec<Vec<LinkId>> = (0..256)
        .map(|_| (0..3).map(|_| LinkId(next() % 64)).collect())
        .collect();
    let paths: Vec<Vec<LinkId>> = paths
        .into_iter()
        .map(|mut p| {
            p.sort();
            p.dedup();
            p
        })
        .collect();
    c.bench_function("fabric/maxmin_256_flows_64_links", |b| {
        b.iter(|| {
            let mut fab = Fabric::new((0..64).map(|i| 1e9 + f64::from(i) * 1e7));
            for p in &paths {
                fab.add(SimTime::ZERO, p, 1e6, |_, _, _| {});
            }
            let mut n = 0;
            fab.resolve(SimTime::ZERO, |_, _, _| n += 1);
            n
        })
    });
}

fn ring_allreduce(c: &mut Criterion) {
    let mut group = c.benchmark_group("ring_allreduce_100MiB_switch");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for n in [1024usize, 4096] {
        let cluster = switch_cluster(n);
        let spec = ring(n, 100 << 20, false);
        group.bench_function(format!("{n}_gpus"), |b| {
            b.iter(|| measure(&cluster, black_box(&spec)).unwrap().time)
        });
    }
    let cluster = switch_cluster(4096);
    let spec = ring(4096, 100 << 20, false);
    group.bench_function("4096_gpus_expanded", |b| {
        b.iter(|| {
            measure_with(&cluster, black_box(&spec), false)
                .unwrap()
                .time
        })
    });
    group.finish();
}

fn contended_ring_allreduce(c: &mut Criterion) {
    let mut group = c.benchmark_group("ring_allreduce_64MiB_random_order_fat_tree_4to1");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(40));
    for n in [128usize, 256, 512, 1024] {
        if n == 1024 {
            // ~8 s a run: the fewest samples criterion takes, given time.
            group.measurement_time(Duration::from_secs(120));
        }
        let cluster = fat_tree_cluster(n);
        let spec = ring(n, 64 << 20, true);
        group.bench_function(format!("{n}_gpus"), |b| {
            b.iter(|| measure(&cluster, black_box(&spec)).unwrap().time)
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    event_rate,
    solver,
    ring_allreduce,
    contended_ring_allreduce
);
criterion_main!(benches);
