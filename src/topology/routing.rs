//! Shortest-path routing with ECMP, built for thousands of GPUs.
//!
//! GPUs are endpoints: a route never passes through a GPU other than its two
//! ends. Distances are hop counts. We keep, lazily and per switch `t`, the hop
//! distance from every switch to `t` over the switch-only graph (one BFS per
//! row, computed on first use and shared across threads). The distance from a
//! switch to a GPU is then 1 + the minimum over the GPU's attachment switches,
//! so a route is walked hop by hop, choosing at each hop among the links that
//! bring it one step closer — ECMP picks by a hash of (flow, hop).
//!
//! What it does not do: latency-weighted paths, adaptive routing, or routes
//! through GPUs (NVLink relays such as NCCL's PXN).

use super::{Cluster, Link, Node, NodeKind};
use crate::ids::{GpuId, LinkId, NodeId};
use crate::units::SimTime;
use std::collections::VecDeque;
use std::sync::OnceLock;

const UNREACHABLE: u16 = u16::MAX;

/// The links a flow crosses, in order, and what it pays before bandwidth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub links: Vec<LinkId>,
    /// Σ link latencies + Σ traversal latencies of the switches passed.
    pub latency: SimTime,
    /// The sender's endpoint overhead: NIC overhead if the route leaves the
    /// host's intra-host fabric, intra-host overhead otherwise.
    pub overhead: SimTime,
}

#[derive(Debug)]
pub(crate) struct Router {
    /// Outgoing links per node, split by the kind of the far end.
    out_all: Vec<Vec<LinkId>>,
    out_to_switch: Vec<Vec<LinkId>>,
    /// Dense switch index per node (`u32::MAX` for GPUs).
    switch_index: Vec<u32>,
    /// Per switch `t` (dense index): hop distance from every switch to `t`.
    rows: Vec<OnceLock<Box<[u16]>>>,
    /// Switch-graph adjacency in dense switch indices, for the BFS.
    switch_adj: Vec<Vec<u32>>,
}

impl Router {
    pub(crate) fn new(nodes: &[Node], links: &[Link]) -> Self {
        let mut switch_index = vec![u32::MAX; nodes.len()];
        let mut n_switches = 0u32;
        for (i, n) in nodes.iter().enumerate() {
            if n.kind == NodeKind::Switch {
                switch_index[i] = n_switches;
                n_switches += 1;
            }
        }
        let mut out_all = vec![Vec::new(); nodes.len()];
        let mut out_to_switch = vec![Vec::new(); nodes.len()];
        let mut switch_adj = vec![Vec::new(); n_switches as usize];
        for (i, l) in links.iter().enumerate() {
            let id = LinkId::from_index(i);
            out_all[l.from.index()].push(id);
            let to_sw = switch_index[l.to.index()];
            if to_sw != u32::MAX {
                out_to_switch[l.from.index()].push(id);
                let from_sw = switch_index[l.from.index()];
                if from_sw != u32::MAX {
                    switch_adj[from_sw as usize].push(to_sw);
                }
            }
        }
        Router {
            out_all,
            out_to_switch,
            switch_index,
            rows: (0..n_switches).map(|_| OnceLock::new()).collect(),
            switch_adj,
        }
    }

    pub(crate) fn out_links(&self, n: NodeId) -> &[LinkId] {
        &self.out_all[n.index()]
    }

    /// Hop distances from every switch to switch `t` (dense index).
    fn row(&self, t: u32) -> &[u16] {
        self.rows[t as usize].get_or_init(|| {
            let mut dist = vec![UNREACHABLE; self.switch_adj.len()].into_boxed_slice();
            let mut queue = VecDeque::new();
            dist[t as usize] = 0;
            queue.push_back(t);
            while let Some(s) = queue.pop_front() {
                let d = dist[s as usize];
                for &n in &self.switch_adj[s as usize] {
                    if dist[n as usize] == UNREACHABLE {
                        dist[n as usize] = d + 1;
                        queue.push_back(n);
                    }
                }
            }
            dist
        })
    }

    /// Hops from `node` to GPU node `dst` (u32::MAX if unreachable). A GPU
    /// other than `dst` is a dead end.
    fn node_distance(&self, c: &Cluster, node: NodeId, dst: NodeId) -> u32 {
        if node == dst {
            return 0;
        }
        let s = self.switch_index[node.index()];
        if s == u32::MAX {
            return u32::MAX;
        }
        let mut best = u32::MAX;
        for &l in &self.out_to_switch[dst.index()] {
            // dst's attachment switch t: the link dst → t; the route enters dst via t.
            let t = self.switch_index[c.link(l).to.index()];
            let d = self.row(t)[s as usize];
            if d != UNREACHABLE {
                best = best.min(u32::from(d) + 1);
            }
        }
        best
    }

    pub(crate) fn distance(&self, c: &Cluster, src: GpuId, dst: GpuId) -> Option<u32> {
        let (a, b) = (c.gpu(src).node, c.gpu(dst).node);
        if a == b {
            return Some(0);
        }
        let mut best = u32::MAX;
        for &l in &self.out_all[a.index()] {
            let d = self.node_distance(c, c.link(l).to, b);
            if d != u32::MAX {
                best = best.min(d + 1);
            }
        }
        (best != u32::MAX).then_some(best)
    }

    pub(crate) fn route(&self, c: &Cluster, src: GpuId, dst: GpuId, flow_hash: u64) -> Route {
        let (a, b) = (c.gpu(src).node, c.gpu(dst).node);
        let mut route = Route {
            links: Vec::new(),
            latency: SimTime::ZERO,
            overhead: SimTime::ZERO,
        };
        if a == b {
            return route;
        }
        let Some(mut remaining) = self.distance(c, src, dst) else {
            // build() rejects disconnected clusters, so this is unreachable
            // for a built Cluster; an empty route keeps callers total.
            return route;
        };
        let mut cur = a;
        let mut candidates: Vec<LinkId> = Vec::new();
        let mut hop = 0u64;
        while cur != b {
            candidates.clear();
            if remaining == 1 {
                // Only links straight into b: found from b's side (small degree).
                for &l in &self.out_all[b.index()] {
                    let back = c.link(l);
                    if back.to == cur {
                        candidates.push(back.reverse);
                    }
                }
            } else {
                // Next hop is a switch (GPUs never forward).
                for &l in &self.out_to_switch[cur.index()] {
                    if self.node_distance(c, c.link(l).to, b) == remaining - 1 {
                        candidates.push(l);
                    }
                }
            }
            // DESIGN §3: transfers inside a host use its intra-host fabric.
            // When an intra-host link ties on hop count with a way out
            // through the NIC (e.g. NVSwitch vs. the leaf both 2 hops away),
            // prefer the intra-host link.
            if candidates
                .iter()
                .any(|&l| c.link(l).kind == super::LinkKind::IntraHost)
            {
                candidates.retain(|&l| c.link(l).kind == super::LinkKind::IntraHost);
            }
            candidates.sort_unstable();
            let pick = candidates[(mix(flow_hash, hop) % candidates.len() as u64) as usize];
            let link = c.link(pick);
            route.links.push(pick);
            route.latency += link.latency;
            if link.to != b {
                route.latency += c.node(link.to).latency;
            }
            cur = link.to;
            remaining -= 1;
            hop += 1;
        }
        let leaves_host = route
            .links
            .iter()
            .any(|&l| c.link(l).kind != super::LinkKind::IntraHost);
        let info = c.gpu(src);
        route.overhead = if leaves_host {
            info.nic_overhead
        } else {
            info.intra_overhead
        };
        route
    }

    /// Some pair of GPUs with no route between them, if any.
    pub(crate) fn unreachable_pair(&self, c: &Cluster) -> Option<(GpuId, GpuId)> {
        let n = c.num_gpus();
        // Fast path: one switch component that every GPU attaches to.
        let comp = self.switch_components();
        if !comp.is_empty() {
            let mut common: Option<Vec<u32>> = None;
            for g in c.gpus() {
                let mut mine: Vec<u32> = self.out_to_switch[g.node.index()]
                    .iter()
                    .map(|&l| comp[self.switch_index[c.link(l).to.index()] as usize])
                    .collect();
                mine.sort_unstable();
                mine.dedup();
                common = Some(match common {
                    None => mine,
                    Some(prev) => prev.into_iter().filter(|x| mine.contains(x)).collect(),
                });
            }
            if common.is_some_and(|v| !v.is_empty()) {
                return None;
            }
        }
        for i in 0..n {
            for j in 0..n {
                if i != j
                    && self
                        .distance(c, GpuId::from_index(i), GpuId::from_index(j))
                        .is_none()
                {
                    return Some((GpuId::from_index(i), GpuId::from_index(j)));
                }
            }
        }
        None
    }

    /// Connected-component label per switch (dense index) in the switch graph.
    fn switch_components(&self) -> Vec<u32> {
        let n = self.switch_adj.len();
        let mut comp = vec![u32::MAX; n];
        let mut next = 0;
        for start in 0..n {
            if comp[start] != u32::MAX {
                continue;
            }
            comp[start] = next;
            let mut stack = vec![start as u32];
            while let Some(s) = stack.pop() {
                for &t in &self.switch_adj[s as usize] {
                    if comp[t as usize] == u32::MAX {
                        comp[t as usize] = next;
                        stack.push(t);
                    }
                }
            }
            next += 1;
        }
        comp
    }
}

/// SplitMix64 finaliser of (flow hash, hop): a well-spread, deterministic
/// ECMP choice at each hop.
fn mix(flow_hash: u64, hop: u64) -> u64 {
    let mut z = flow_hash ^ hop.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
