//! Shortest-path routing with ECMP, built for thousands of GPUs.
//!
//! GPUs are endpoints: a route never passes through a GPU other than its two
//! ends. Distances are hop counts. Per switch `t` we compute, on first use,
//! the hop distance to `t` from every switch of `t`'s connected component of
//! the switch-only graph (one BFS per row; other components cannot reach
//! it, so a host's NVSwitch, alone in its component, has a row of one).
//! Rows live in a cache shared across threads and bounded to
//! [`ROW_CACHE_BYTES`]: a ring or torus of 16k routers would otherwise keep
//! 16k rows of 16k distances (512 MiB); rows beyond the bound are evicted
//! oldest first and recomputed if needed again (a row is a pure function of
//! the graph, so eviction changes speed, never a route). The distance from
//! a switch to a GPU is then 1 + the minimum over the GPU's attachment
//! switches, so a route is walked hop by hop, choosing at each hop among the
//! links that bring it one step closer — ECMP picks by a hash of (flow, hop),
//! after preferring intra-host links where they tie with the NIC path.
//!
//! What it does not do: latency-weighted paths, adaptive routing, or routes
//! through GPUs (NVLink relays such as NCCL's PXN).

use super::{Cluster, Link, LinkKind, Node, NodeKind};
use crate::ids::{GpuId, LinkId, NodeId};
use crate::units::SimTime;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

const UNREACHABLE: u16 = u16::MAX;

/// Bound on the distance rows kept at once (64 MiB; a component of up to
/// 5,792 switches keeps all its rows).
pub(crate) const ROW_CACHE_BYTES: usize = 64 << 20;

/// A distance row: hops to one switch from every switch of its component
/// (indexed by [`Router::local`]).
type Row = Arc<[u16]>;

/// Rows computed so far, oldest first in `order`, within a bound on cells.
#[derive(Debug)]
struct RowCache {
    rows: Vec<Option<Row>>,
    order: VecDeque<u32>,
    /// Distances held by the cached rows, and the most it may hold (a
    /// single row over the bound is still kept).
    cells: usize,
    max_cells: usize,
}

/// The links a flow crosses, in order, and what it pays before bandwidth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Links crossed, in order.
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
    /// Per switch `t` (dense index): hop distance from every switch to `t`,
    /// for the rows computed and not yet evicted.
    rows: Mutex<RowCache>,
    /// Switch-graph adjacency in dense switch indices, for the BFS.
    switch_adj: Vec<Vec<u32>>,
    /// Per switch: its component of the switch graph, its index there,
    /// and per component its size.
    component: Vec<u32>,
    local: Vec<u32>,
    component_size: Vec<u32>,
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
        let component = components(&switch_adj);
        let mut component_size = Vec::new();
        let mut local = vec![0; n_switches as usize];
        for (s, &c) in component.iter().enumerate() {
            if component_size.len() <= c as usize {
                component_size.resize(c as usize + 1, 0);
            }
            local[s] = component_size[c as usize];
            component_size[c as usize] += 1;
        }
        Router {
            out_all,
            out_to_switch,
            switch_index,
            rows: Mutex::new(RowCache {
                rows: vec![None; n_switches as usize],
                order: VecDeque::new(),
                cells: 0,
                max_cells: ROW_CACHE_BYTES / 2,
            }),
            switch_adj,
            component,
            local,
            component_size,
        }
    }

    pub(crate) fn out_links(&self, n: NodeId) -> &[LinkId] {
        &self.out_all[n.index()]
    }

    /// Hop distances from every switch to switch `t` (dense index): from
    /// the cache, or by one BFS (outside the lock, so threads computing
    /// different rows do not wait for each other).
    fn row(&self, t: u32) -> Row {
        if let Some(row) = self.lock_rows().rows[t as usize].clone() {
            return row;
        }
        let size = self.component_size[self.component[t as usize] as usize] as usize;
        let mut dist = vec![UNREACHABLE; size];
        let mut queue = VecDeque::new();
        dist[self.local[t as usize] as usize] = 0;
        queue.push_back(t);
        while let Some(s) = queue.pop_front() {
            let d = dist[self.local[s as usize] as usize];
            for &n in &self.switch_adj[s as usize] {
                let cell = &mut dist[self.local[n as usize] as usize];
                if *cell == UNREACHABLE {
                    *cell = d + 1;
                    queue.push_back(n);
                }
            }
        }
        let row: Row = dist.into();
        let mut cache = self.lock_rows();
        if cache.rows[t as usize].is_none() {
            cache.cells += size;
            cache.rows[t as usize] = Some(row.clone());
            cache.order.push_back(t);
            cache.shrink();
        }
        row
    }

    /// Hops from switch `s` to the switch whose row is `row` (both dense).
    fn hops(&self, row: &(u32, Row), s: u32) -> u16 {
        if self.component[s as usize] == row.0 {
            row.1[self.local[s as usize] as usize]
        } else {
            UNREACHABLE
        }
    }

    /// The row cache; a panic elsewhere while holding it cannot leave it
    /// inconsistent (rows are whole values), so a poisoned lock is reused.
    fn lock_rows(&self) -> std::sync::MutexGuard<'_, RowCache> {
        self.rows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Rows and distances currently cached (for the memory-bound test).
    #[cfg(test)]
    pub(crate) fn cached(&self) -> (usize, usize) {
        let cache = self.lock_rows();
        (cache.order.len(), cache.cells)
    }

    /// Shrinks the cache (for the eviction test).
    #[cfg(test)]
    pub(crate) fn set_max_cells(&self, cells: usize) {
        let mut cache = self.lock_rows();
        cache.max_cells = cells;
        cache.shrink();
    }

    /// The rows of `dst`'s attachment switches: what every distance to the
    /// GPU node `dst` is computed from.
    fn targets(&self, c: &Cluster, dst: NodeId) -> Vec<(u32, Row)> {
        self.out_to_switch[dst.index()]
            .iter()
            .map(|&l| {
                let t = self.switch_index[c.link(l).to.index()];
                (self.component[t as usize], self.row(t))
            })
            .collect()
    }

    /// Hops from `node` to GPU node `dst` (u32::MAX if unreachable), given
    /// `dst`'s [`Router::targets`]. A GPU other than `dst` is a dead end.
    fn node_distance(&self, targets: &[(u32, Row)], node: NodeId, dst: NodeId) -> u32 {
        if node == dst {
            return 0;
        }
        let s = self.switch_index[node.index()];
        if s == u32::MAX {
            return u32::MAX;
        }
        let mut best = u32::MAX;
        // Each row is to one of dst's attachment switches t; the route
        // enters dst via t.
        for row in targets {
            let d = self.hops(row, s);
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
        self.distance_with(c, &self.targets(c, b), a, b)
    }

    fn distance_with(
        &self,
        c: &Cluster,
        targets: &[(u32, Row)],
        a: NodeId,
        b: NodeId,
    ) -> Option<u32> {
        let mut best = u32::MAX;
        for &l in &self.out_all[a.index()] {
            let d = self.node_distance(targets, c.link(l).to, b);
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
        let targets = self.targets(c, b);
        let Some(mut remaining) = self.distance_with(c, &targets, a, b) else {
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
                    if self.node_distance(&targets, c.link(l).to, b) == remaining - 1 {
                        candidates.push(l);
                    }
                }
            }
            // Among equal-hop choices, stay on the intra-host fabric
            // (NVLink before the NIC), as NCCL does.
            if candidates
                .iter()
                .any(|&l| c.link(l).kind == LinkKind::IntraHost)
            {
                candidates.retain(|&l| c.link(l).kind == LinkKind::IntraHost);
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
            .any(|&l| c.link(l).kind != LinkKind::IntraHost);
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
        let comp = &self.component;
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
}

impl RowCache {
    /// Evicts the oldest rows until within the bound (keeping the newest).
    fn shrink(&mut self) {
        while self.cells > self.max_cells && self.order.len() > 1 {
            if let Some(row) = self
                .order
                .pop_front()
                .and_then(|old| self.rows[old as usize].take())
            {
                self.cells -= row.len();
            }
        }
    }
}

/// Connected-component label per switch (dense index) in the switch graph.
fn components(switch_adj: &[Vec<u32>]) -> Vec<u32> {
    let n = switch_adj.len();
    let mut comp = vec![u32::MAX; n];
    let mut next = 0;
    for start in 0..n {
        if comp[start] != u32::MAX {
            continue;
        }
        comp[start] = next;
        let mut stack = vec![start as u32];
        while let Some(s) = stack.pop() {
            for &t in &switch_adj[s as usize] {
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

/// SplitMix64 finaliser of (flow hash, hop): a well-spread, deterministic
/// ECMP choice at each hop.
fn mix(flow_hash: u64, hop: u64) -> u64 {
    let mut z = flow_hash ^ hop.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests;
