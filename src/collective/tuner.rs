//! `nccl` (auto): choose ring or tree by size, like NCCL's tuner.
//!
//! NCCL (src/graph/tuning.cc) prices every algorithm as
//! `time = latency + bytes / bandwidth`, with a latency built from per-hop
//! latencies (intra-host hops, network hops) and a bandwidth from channels ×
//! per-channel speed, then picks the cheapest. Its constants are measured on
//! NVIDIA's machines; ours come from the topology being simulated: the
//! per-hop α (endpoint overhead + path latency) and the bottleneck bandwidth
//! of an intra-host and an inter-host path, each scaled by NCCL's protocol
//! efficiency (see `nccl.rs`). Ring latency follows NCCL's form
//! (intra steps × intra α + inter steps × inter α); the tree's is
//! 2·((g−1)·α_intra + ⌈log2 k⌉·α_inter) plus its chunk pipeline's fill.
//! Reduce-scatter, all-gather and broadcast are always rings (as in NCCL).
//!
//! What it does not do: protocols (LL/LL128 are not simulated), NCCL's
//! measured base latencies, per-architecture bandwidth caps.

use super::CollectiveOp;
use super::nccl::{Layout, NET_EFFICIENCY, TREE_CHUNK_BYTES, nvlink_efficiency};
use crate::topology::Cluster;

/// What `nccl` (auto) runs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Pick {
    /// NCCL's ring algorithm.
    Ring,
    /// NCCL's double binary tree.
    Tree,
}

/// Per-hop latency (s) and effective bandwidth (B/s) of one kind of path.
#[derive(Copy, Clone, Debug)]
struct Path {
    alpha: f64,
    bw: f64,
}

/// The α-β model of a collective's ranks on a cluster.
#[derive(Clone, Debug)]
pub struct Model {
    intra: Option<Path>,
    inter: Option<Path>,
    n: f64,
    k: f64,
    /// Most ranks on one host.
    g: f64,
    /// NICs per host in use.
    m: f64,
    tree_channels: f64,
}

fn path(cluster: &Cluster, a: crate::ids::GpuId, b: crate::ids::GpuId, eff: f64) -> Path {
    let r = cluster.route(a, b, 0);
    let bw = r
        .links
        .iter()
        .map(|&l| cluster.link(l).bandwidth.bytes_per_sec())
        .fold(f64::INFINITY, f64::min);
    Path {
        alpha: (r.overhead + r.latency).as_secs_f64(),
        bw: bw * eff,
    }
}

impl Model {
    /// The cost model of a collective over `layout`'s ranks, with `per_nic` ranks sharing each NIC.
    pub fn new(layout: &Layout, cluster: &Cluster, per_nic: u32) -> Self {
        let intra = layout
            .hosts
            .iter()
            .find(|h| h.len() > 1)
            .map(|h| path(cluster, h[0], h[1], nvlink_efficiency(cluster)));
        let inter = (layout.hosts.len() > 1).then(|| {
            let (a, b) = (&layout.hosts[0], &layout.hosts[1]);
            path(
                cluster,
                a[layout.nics[0][0]],
                b[layout.nics[1][0]],
                NET_EFFICIENCY,
            )
        });
        Model {
            intra,
            inter,
            n: layout.hosts.iter().map(Vec::len).sum::<usize>() as f64,
            k: layout.hosts.len() as f64,
            g: layout.hosts.iter().map(Vec::len).max().unwrap_or(1) as f64,
            m: layout.nics_per_host() as f64,
            tree_channels: layout.tree_channels(per_nic) as f64,
        }
    }

    fn alphas(&self) -> (f64, f64) {
        (
            self.intra.map_or(0.0, |p| p.alpha),
            self.inter.map_or(0.0, |p| p.alpha),
        )
    }

    /// Predicted ring time (s) of `op` on `bytes` per rank.
    pub fn ring_time(&self, op: CollectiveOp, bytes: u64) -> f64 {
        let steps = match op {
            CollectiveOp::AllReduce => 2.0 * (self.n - 1.0),
            _ => self.n - 1.0,
        };
        // A window of `steps` ring edges holds about steps·k/n host crossings.
        let inter_steps = if self.k > 1.0 {
            (steps * self.k / self.n).ceil()
        } else {
            0.0
        };
        let (a_in, a_out) = self.alphas();
        let latency = (steps - inter_steps) * a_in + inter_steps * a_out;
        // Each GPU's NVLink port carries (g−1)/g of a step's pieces; each
        // NIC 1/m of them.
        let mut bus = f64::INFINITY;
        if let Some(p) = self.intra {
            bus = bus.min(if self.k > 1.0 {
                p.bw * self.g / (self.g - 1.0)
            } else {
                p.bw
            });
        }
        if let Some(p) = self.inter {
            bus = bus.min(self.m * p.bw);
        }
        latency + steps / self.n * bytes as f64 / bus
    }

    /// Predicted tree all-reduce time (s) on `bytes` per rank.
    pub fn tree_time(&self, bytes: u64) -> f64 {
        let (a_in, a_out) = self.alphas();
        let log_k = self.k.log2().ceil();
        let latency = 2.0 * ((self.g - 1.0) * a_in + log_k * a_out);
        let s = bytes as f64;
        // Busiest NVLink port: a mid-chain GPU sends up and down (2S over
        // all channels); busiest NIC: an inner host receives from two
        // children and its parent (3S over the host's m NICs).
        let f_intra = (self.g - 1.0).min(2.0);
        let f_inter = (self.k - 1.0).min(3.0);
        let mut term: f64 = 0.0;
        let mut slowest = f64::INFINITY;
        if let Some(p) = self.intra {
            term = term.max(f_intra * s / p.bw);
            slowest = slowest.min(p.bw);
        }
        if let Some(p) = self.inter {
            term = term.max(f_inter * s / (self.m * p.bw));
            slowest = slowest.min(p.bw);
        }
        let depth = 2.0 * ((self.g - 1.0) + log_k);
        let chunk = (s / self.tree_channels).min(TREE_CHUNK_BYTES as f64);
        let fill = if slowest.is_finite() {
            depth * chunk / slowest
        } else {
            0.0
        };
        latency + term + fill
    }

    /// Ring or tree for `op` on `bytes`: the cheaper by the model (ties go
    /// to the ring).
    pub fn pick(&self, op: CollectiveOp, bytes: u64) -> Pick {
        if op == CollectiveOp::AllReduce && self.tree_time(bytes) < self.ring_time(op, bytes) {
            Pick::Tree
        } else {
            Pick::Ring
        }
    }
}
