//! NCCL-like collectives: several channels, each a ring (or a tree) that
//! crosses hosts through one NIC and runs inside hosts over NVLink/NVSwitch.
//!
//! How NCCL builds them on DGX-class hosts (NCCL src/graph/search.cc,
//! connect.cc): the topology search finds one ring per NIC; channel c enters
//! and leaves each host through NIC c and visits the host's other GPUs over
//! NVLink. On InfiniBand NCCL then duplicates every channel (2 channels per
//! NIC) for more parallelism. Trees: each channel is a chain of the host's
//! GPUs hanging from the GPU of its NIC, under a double binary tree of hosts
//! (half the channels on each tree).
//!
//! Here a GPU's NIC is its own `nic` link, so "through NIC c" means "the
//! host's c-th NIC GPU sends or receives the cross-host hop". A ring that
//! visits every local GPU cannot enter and leave at the same GPU, so channel
//! c enters a host at NIC GPU c and leaves it at NIC GPU c+1, and the next
//! host is entered at c+1 (the same rail) and left at c. Rails therefore
//! alternate along the ring and every hop between hosts stays on one rail
//! when the host count is even; with an odd count one hop per channel
//! crosses rails. Every NIC carries one channel in and one out.
//!
//! `chunks` of a spec is the channels per NIC (NCCL on IB: 2). In the fluid
//! model two channels on identical paths share them exactly as one channel
//! of twice the bytes would, so the default is 1. On one host, channels
//! would only split the same NVLink ports, so a single-host ring runs
//! `chunks` channels (default one: the same time, fewer events).
//!
//! Protocol overhead: NCCL's Simple protocol does not reach line rate. Each
//! send's bytes on the wire are its payload divided by the efficiency of the
//! path it takes ([`nvlink_efficiency`]: [`NVLINK_EFFICIENCY`] or NCCL's
//! A100 cap; [`NET_EFFICIENCY`]), so link byte counts include that
//! overhead. What it does not model: LL/LL128 protocols,
//! NVLink SHARP (NVLS), CollNet, PXN relays, NCCL's kernel-launch latency.

use super::tree::{ROOT, TreeShape, Trees};
use super::{Machine, Message, part_bytes};
use crate::ids::GpuId;
use crate::topology::gpu::nccl_nvlink_cap;
use crate::topology::{Cluster, LinkKind};

/// NCCL's effective NVLink bandwidth over line rate: "450GB/s is the line
/// rate. With the protocol overhead (~20%) NCCL can get an effective NVLink
/// bandwidth of 370GB/s" (S. Jeaugey, NVIDIA, nccl-tests issue #212,
/// 2024-05-06).
pub const NVLINK_EFFICIENCY: f64 = 370.0 / 450.0;
/// NCCL's per-NIC bus bandwidth over line rate on InfiniBand: "For NDR @
/// 400Gbps you should see 46-48GB/s per NIC" (NVIDIA, nccl-tests issue
/// #290, 2025-03-03): 47 of 50 GB/s.
pub const NET_EFFICIENCY: f64 = 47.0 / 50.0;
/// The protocol efficiency of sends inside a host on `cluster`:
/// [`NVLINK_EFFICIENCY`], or lower where NCCL caps the GPU generation's
/// NVLink bus bandwidth ([`nccl_nvlink_cap`]: A100 at 235 GB/s): the cap
/// over the per-direction rate between two GPUs of a host.
pub fn nvlink_efficiency(cluster: &Cluster) -> f64 {
    let Some(cap) = nccl_nvlink_cap(&cluster.gpu) else {
        return NVLINK_EFFICIENCY;
    };
    let gpus = cluster.gpus();
    let Some(i) = (1..gpus.len()).find(|&i| gpus[i].host == gpus[i - 1].host) else {
        return NVLINK_EFFICIENCY;
    };
    let r = cluster.route(GpuId::from_index(i - 1), GpuId::from_index(i), 0);
    let line = r
        .links
        .iter()
        .map(|&l| cluster.link(l).bandwidth.bytes_per_sec())
        .fold(f64::INFINITY, f64::min);
    NVLINK_EFFICIENCY.min(cap / line)
}

/// Trees pipeline chunks of at most this size per channel (NCCL's tuning
/// model prices a tree/Simple step as "the latency of a 256kB chunk").
pub const TREE_CHUNK_BYTES: u64 = 256 << 10;
/// Bound on the chunks a tree channel is cut into (events stay bounded).
pub const MAX_TREE_CHUNKS: u64 = 64;

/// The ranks of a collective grouped by host, with each host's NIC GPUs.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Per host (in order of first appearance): its ranks, in rank order.
    pub hosts: Vec<Vec<GpuId>>,
    /// Per host: indices (into `hosts[h]`) of the ranks with their own NIC
    /// (all of them if none has one).
    pub nics: Vec<Vec<usize>>,
}

impl Layout {
    /// How `ranks` spread over `cluster`'s hosts and NICs.
    pub fn new(ranks: &[GpuId], cluster: &Cluster) -> Self {
        let mut order: Vec<u32> = Vec::new();
        let mut hosts: Vec<Vec<GpuId>> = Vec::new();
        for &r in ranks {
            let h = cluster.gpu(r).host;
            match order.iter().position(|&x| x == h) {
                Some(i) => hosts[i].push(r),
                None => {
                    order.push(h);
                    hosts.push(vec![r]);
                }
            }
        }
        let has_nic = |g: GpuId| {
            let node = cluster.gpu(g).node;
            cluster
                .out_links(node)
                .iter()
                .any(|&l| cluster.link(l).kind == LinkKind::Nic)
        };
        let nics = hosts
            .iter()
            .map(|local| {
                let with: Vec<usize> = (0..local.len()).filter(|&i| has_nic(local[i])).collect();
                if with.is_empty() {
                    (0..local.len()).collect()
                } else {
                    with
                }
            })
            .collect();
        Layout { hosts, nics }
    }

    /// NICs every host can give a channel (the fewest any host has).
    pub fn nics_per_host(&self) -> usize {
        self.nics.iter().map(Vec::len).min().unwrap_or(1).max(1)
    }

    /// Ring channels: one per NIC and `per_nic`, or `per_nic` on one host.
    pub fn ring_channels(&self, per_nic: u32) -> usize {
        let per_nic = per_nic.max(1) as usize;
        if self.hosts.len() == 1 {
            per_nic
        } else {
            self.nics_per_host() * per_nic
        }
    }

    /// Tree channels: as rings, but at least 2 (the double binary tree).
    pub fn tree_channels(&self, per_nic: u32) -> usize {
        (self.nics_per_host() * per_nic.max(1) as usize).max(2)
    }

    /// Host h's ranks starting at local index `from`, then the others in
    /// local order after it, skipping `skip`.
    fn rotated(&self, h: usize, from: usize, skip: Option<usize>) -> Vec<GpuId> {
        let local = &self.hosts[h];
        let g = local.len();
        (0..g)
            .map(|i| (from + i) % g)
            .filter(|&i| Some(i) != skip)
            .map(|i| local[i])
            .collect()
    }

    /// The ring order of channel c (see the module comment).
    pub fn ring_order(&self, c: usize) -> Vec<GpuId> {
        if self.hosts.len() == 1 {
            return self.rotated(0, c % self.hosts[0].len(), None);
        }
        let mut order = Vec::new();
        for h in 0..self.hosts.len() {
            let nic = &self.nics[h];
            let m = nic.len();
            let (a, b) = (nic[c % m], nic[(c + 1) % m]);
            let (entry, exit) = if h % 2 == 0 { (a, b) } else { (b, a) };
            if entry == exit {
                order.extend(self.rotated(h, entry, None));
                continue;
            }
            order.extend(self.rotated(h, entry, Some(exit)));
            order.push(self.hosts[h][exit]);
        }
        order
    }

    /// Tree channel c over all ranks: host chains from NIC GPU c under a
    /// binary tree of hosts (heap order for even c, mirrored for odd c).
    pub fn tree_shape(&self, c: usize, bytes: u64) -> TreeShape {
        let k = self.hosts.len();
        let mut ranks = Vec::new();
        let mut parent = Vec::new();
        let mut head = Vec::with_capacity(k);
        for (h, nics) in self.nics.iter().enumerate() {
            let start = nics[c % nics.len()];
            head.push(ranks.len() as u32);
            for (i, g) in self.rotated(h, start, None).into_iter().enumerate() {
                parent.push(if i == 0 { ROOT } else { ranks.len() as u32 - 1 });
                ranks.push(g);
            }
        }
        // Host at heap position p: p (even channels) or k−1−p (odd).
        let host_at = |p: usize| if c.is_multiple_of(2) { p } else { k - 1 - p };
        for p in 1..k {
            parent[head[host_at(p)] as usize] = head[host_at((p - 1) / 2)];
        }
        TreeShape {
            ranks,
            parent,
            bytes,
            channel: c as u32,
        }
    }
}

/// Multi-channel ring: channel c carries its share of the buffer around
/// [`Layout::ring_order`] c.
pub fn rings(
    layout: &Layout,
    op: super::ring::RingOp,
    bytes: u64,
    per_nic: u32,
) -> Vec<Box<dyn Machine>> {
    let c = layout.ring_channels(per_nic);
    (0..c)
        .map(|i| {
            let ring = super::ring::Ring::new(
                layout.ring_order(i),
                part_bytes(bytes, c as u64, i as u64),
                1,
                op,
            )
            .on_channel(i as u32);
            Box::new(ring) as Box<dyn Machine>
        })
        .collect()
}

/// Multi-channel trees, each channel pipelined in chunks of at most
/// [`TREE_CHUNK_BYTES`].
pub fn trees(layout: &Layout, bytes: u64, per_nic: u32) -> Trees {
    let c = layout.tree_channels(per_nic) as u64;
    let largest = part_bytes(bytes, c, 0);
    let chunks = largest.div_ceil(TREE_CHUNK_BYTES).clamp(1, MAX_TREE_CHUNKS);
    let shapes = (0..c)
        .map(|i| layout.tree_shape(i as usize, part_bytes(bytes, c, i)))
        .collect();
    Trees::new(shapes, chunks as u32)
}

/// Wraps a machine so each send carries NCCL's protocol overhead: payload
/// over [`nvlink_efficiency`] inside a host, over [`NET_EFFICIENCY`] between
/// hosts.
pub struct Wire {
    inner: Box<dyn Machine>,
    /// Host of every GPU of the cluster, by GPU index.
    host: Vec<u32>,
    /// [`nvlink_efficiency`] of the cluster.
    intra: f64,
}

impl Wire {
    /// Wraps `inner` with the protocol overheads of `cluster`'s links.
    pub fn new(inner: Box<dyn Machine>, cluster: &Cluster) -> Self {
        Wire {
            inner,
            host: cluster.gpus().iter().map(|g| g.host).collect(),
            intra: nvlink_efficiency(cluster),
        }
    }

    fn inflate(&self, from: usize, out: &mut [Message]) {
        for s in &mut out[from..] {
            let eff = if self.host[s.src.index()] == self.host[s.dst.index()] {
                self.intra
            } else {
                NET_EFFICIENCY
            };
            s.bytes = wire_bytes(s.bytes, eff);
        }
    }
}

/// Bytes on the wire for `payload` at protocol efficiency `eff`.
pub fn wire_bytes(payload: u64, eff: f64) -> u64 {
    (payload as f64 / eff).ceil() as u64
}

impl Machine for Wire {
    fn num_connections(&self) -> u32 {
        self.inner.num_connections()
    }
    fn start(&mut self, out: &mut Vec<Message>) {
        let from = out.len();
        self.inner.start(out);
        self.inflate(from, out);
    }
    fn delivered(&mut self, token: u64, out: &mut Vec<Message>) -> bool {
        let from = out.len();
        let done = self.inner.delivered(token, out);
        self.inflate(from, out);
        done
    }
    fn is_done(&self) -> bool {
        self.inner.is_done()
    }
}

/// Builds an NCCL-like collective: `nccl-ring`, `nccl-tree`, or `nccl`
/// (auto: the tuner's pick for all-reduce, rings otherwise; broadcast runs
/// pipelined chains along the ring channels, all-to-all NCCL's direct
/// point-to-point exchange).
pub fn build(spec: &super::CollectiveSpec, cluster: &Cluster) -> Box<dyn Machine> {
    use super::CollectiveOp::*;
    use super::ring::RingOp;
    use super::tuner::{Model, Pick};
    let layout = Layout::new(&spec.ranks, cluster);
    let per_nic = spec.chunks;
    let pick = match spec.algorithm {
        super::Algorithm::NcclTree => Pick::Tree,
        super::Algorithm::NcclRing => Pick::Ring,
        _ => Model::new(&layout, cluster, per_nic).pick(spec.op, spec.bytes),
    };
    let parallel =
        |subs| Box::new(super::hierarchical::Phased::new(vec![subs])) as Box<dyn Machine>;
    let inner: Box<dyn Machine> = match (spec.op, pick) {
        (AllReduce, Pick::Tree) => Box::new(trees(&layout, spec.bytes, per_nic)),
        (AllReduce, Pick::Ring) => parallel(rings(&layout, RingOp::AllReduce, spec.bytes, per_nic)),
        (ReduceScatter, _) => parallel(rings(&layout, RingOp::ReduceScatter, spec.bytes, per_nic)),
        (AllGather, _) => parallel(rings(&layout, RingOp::AllGather, spec.bytes, per_nic)),
        (Broadcast, _) => parallel(chains(&layout, &spec.ranks, spec.bytes, per_nic)),
        (AllToAll, _) => Box::new(super::all_to_all::Direct::new(
            spec.ranks.clone(),
            spec.bytes,
        )),
    };
    Box::new(Wire::new(inner, cluster))
}

/// Broadcast: channel c is a pipelined chain along ring c from the root
/// (the first rank), carrying its share in tree-sized chunks.
fn chains(layout: &Layout, ranks: &[GpuId], bytes: u64, per_nic: u32) -> Vec<Box<dyn Machine>> {
    let c = layout.ring_channels(per_nic) as u64;
    let chunks = part_bytes(bytes, c, 0)
        .div_ceil(TREE_CHUNK_BYTES)
        .clamp(1, MAX_TREE_CHUNKS);
    (0..c)
        .map(|i| {
            let mut order = layout.ring_order(i as usize);
            let root = order.iter().position(|&g| g == ranks[0]).unwrap_or(0);
            order.rotate_left(root);
            Box::new(super::broadcast::Chain::new(
                order,
                part_bytes(bytes, c, i),
                chunks as u32,
            )) as Box<dyn Machine>
        })
        .collect()
}

#[cfg(test)]
mod tests;
