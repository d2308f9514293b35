//! The contended case shared by `benches/engine.rs` and
//! `examples/contended_ring.rs` (both include this file with `#[path]`): a
//! 4:1 fat-tree of single-GPU hosts, and a ring all-reduce over `n` GPUs in
//! index order (the bench's one-switch case uses it too) or in a fixed
//! pseudo-random order. It builds inputs only; it runs and times nothing.

use fabsim::collective::{Algorithm, CollectiveOp, CollectiveSpec};
use fabsim::ids::GpuId;
use fabsim::input::Source;
use fabsim::topology::Cluster;

/// The bench's 4:1 fat-tree over `n` single-GPU hosts.
pub fn fat_tree_cluster(n: usize) -> Cluster {
    let yaml = format!(
        "name: fat-tree-{n}\ngpu: H100-SXM\nhosts: {n}\ngpus_per_host: 1\n\
         nic: {{ bandwidth: 100Gbps, latency: 1us, overhead: 2us }}\n\
         fabric: {{ kind: fat-tree, hosts_per_leaf: 16, spines: 4, latency: 500ns,\n\
         uplink: {{ bandwidth: 100Gbps, latency: 500ns }} }}\n"
    );
    fabsim::topology::from_source(&Source::from_text("bench.yaml", yaml)).expect("valid topology")
}

/// A ring all-reduce over `n` GPUs, in index order or in the bench's
/// Fisher–Yates order (seeded LCG), where most ring edges cross the spine.
pub fn ring(n: usize, bytes: u64, shuffled: bool) -> CollectiveSpec {
    let mut spec = CollectiveSpec {
        name: "ring".into(),
        op: CollectiveOp::AllReduce,
        algorithm: Algorithm::Ring,
        ranks: (0..n as u32).map(GpuId).collect(),
        bytes,
        chunks: 1,
    };
    let mut state = 1u64;
    for i in (1..n).rev().filter(|_| shuffled) {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        spec.ranks.swap(i, (state >> 33) as usize % (i + 1));
    }
    spec
}
