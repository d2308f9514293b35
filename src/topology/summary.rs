//! A one-screen [`TopologySummary`] of a [`Cluster`]: counts, per-GPU injection
//! bandwidth, bisection bandwidth, leaf oversubscription, diameter, and a
//! capex estimate when the file has prices. `Display` prints a table; the
//! struct serializes to the JSON that `fabsim topology --json` prints.
//!
//! Definitions (the same for generated and explicit topologies):
//! - **bisection bandwidth**: the max-flow (= min cut) from GPUs
//!   `0..N/2` to GPUs `N/2..N`, one direction, every directed link carrying
//!   its bandwidth. GPUs are numbered host-major, so for the generators this
//!   is the cut between the first and second half of the hosts (of the GPUs
//!   of a host when there is one host). It is exact for that split, not the
//!   minimum over all balanced splits.
//! - **oversubscription**: over every switch with GPUs attached by
//!   non-intra-host links (a leaf), Σ bandwidth down to GPUs ÷ Σ bandwidth
//!   up to other switches; the worst leaf. 1.0 when no leaf has uplinks (a
//!   single switch). Ring/torus routers count their neighbour links as
//!   uplinks, though those also carry transit traffic.
//! - **diameter**: the most hops between two GPUs; for more than
//!   [`ALL_PAIRS_LIMIT`] GPUs only from GPU 0 and from the last GPU to all
//!   others (`diameter_sampled: true`). The zero-load latency (overhead +
//!   path latency) is the largest over the same pairs.

use super::cost::{CostEstimate, Counts};
use super::{Cluster, LinkKind, NodeKind};
use crate::ids::{GpuId, NodeId};
use crate::units::format_secs;
use serde::Serialize;
use std::fmt;

/// Up to this many GPUs the diameter is computed over all pairs.
pub const ALL_PAIRS_LIMIT: usize = 128;

/// Size, bandwidth, latency and cost figures of a cluster, as `fabsim topology` prints them.
#[derive(Debug, Clone, Serialize)]
pub struct TopologySummary {
    /// The topology's name.
    pub name: String,
    /// Free text from the topology file.
    pub description: String,
    /// How the fabric was made (`fat-tree`, `explicit`, ...).
    pub fabric: String,
    /// The GPU model's name.
    pub gpu: String,
    /// Number of hosts.
    pub hosts: u32,
    /// Number of GPUs.
    pub gpus: usize,
    /// GPUs per host.
    pub gpus_per_host: u32,
    /// Fabric switches (leaves, spines, rails, routers): any switch with a
    /// link that is not intra-host.
    pub switches: u64,
    /// Per-host NVSwitch nodes (switches with only intra-host links).
    pub intra_host_switches: u64,
    /// Full-duplex links, all kinds.
    pub links: u64,
    /// Full-duplex links that are not intra-host (NIC and fabric cables).
    pub cables: u64,
    /// GPU 0's bandwidth into the fabric (its non-intra-host links).
    pub injection_bandwidth_bytes_per_s: Option<f64>,
    /// `injection_bandwidth_bytes_per_s` in Gbit/s.
    pub injection_gbps: Option<f64>,
    /// Bisection bandwidth, bytes/s: max flow from the first half of the GPUs to the second, one
    /// direction.
    pub bisection_bandwidth_bytes_per_s: Option<f64>,
    /// `bisection_bandwidth_bytes_per_s` in Gbit/s.
    pub bisection_gbps: Option<f64>,
    /// The worst leaf's bandwidth down to GPUs over its bandwidth up to switches (1.0: non-blocking
    /// or one switch).
    pub oversubscription: f64,
    /// Most hops on a shortest path between two GPUs.
    pub diameter_hops: u32,
    /// Whether the diameter was taken over a sample of GPUs (above [`ALL_PAIRS_LIMIT`]) rather than
    /// all pairs.
    pub diameter_sampled: bool,
    /// Largest zero-load latency (overhead + path latency) between two GPUs, seconds, over the
    /// diameter's pairs.
    pub max_zero_load_latency_s: f64,
    /// The capex estimate, if the topology has prices.
    pub cost: Option<CostEstimate>,
}

fn gbps(bytes_per_s: f64) -> f64 {
    bytes_per_s * 8.0 / 1e9
}

impl TopologySummary {
    /// The summary of cluster `c`.
    pub fn of(c: &Cluster) -> TopologySummary {
        let counts = Counts::of(c);
        let g0 = c.gpu(GpuId(0)).node;
        let injection: f64 = c
            .out_links(g0)
            .iter()
            .map(|&l| c.link(l))
            .filter(|l| l.kind != LinkKind::IntraHost)
            .map(|l| l.bandwidth.bytes_per_sec())
            .sum();
        let injection = (injection > 0.0).then_some(injection);
        let bisection = bisection(c);
        let (diameter_hops, max_latency, diameter_sampled) = diameter(c);
        TopologySummary {
            name: c.name.clone(),
            description: c.description.clone(),
            fabric: c.fabric.clone(),
            gpu: c.gpu.name.clone(),
            hosts: c.hosts,
            gpus: c.num_gpus(),
            gpus_per_host: c.gpus_per_host,
            switches: counts.fabric_switches,
            intra_host_switches: counts.intra_host_switches,
            links: counts.cables + counts.intra_host_links,
            cables: counts.cables,
            injection_bandwidth_bytes_per_s: injection,
            injection_gbps: injection.map(gbps),
            bisection_bandwidth_bytes_per_s: bisection,
            bisection_gbps: bisection.map(gbps),
            oversubscription: oversubscription(c),
            diameter_hops,
            diameter_sampled,
            max_zero_load_latency_s: max_latency,
            cost: c.cost.as_ref().map(|p| p.estimate(c)),
        }
    }
}

/// Worst leaf downlink ÷ uplink ratio (1.0 without uplinks).
pub fn oversubscription(c: &Cluster) -> f64 {
    let mut worst: Option<f64> = None;
    for (i, n) in c.nodes().iter().enumerate() {
        if n.kind != NodeKind::Switch {
            continue;
        }
        let (mut down, mut up) = (0.0, 0.0);
        for &l in c.out_links(NodeId::from_index(i)) {
            let link = c.link(l);
            if link.kind == LinkKind::IntraHost {
                continue;
            }
            match c.node(link.to).kind {
                NodeKind::Gpu(_) => down += link.bandwidth.bytes_per_sec(),
                NodeKind::Switch => up += link.bandwidth.bytes_per_sec(),
            }
        }
        if down > 0.0 && up > 0.0 {
            let r = down / up;
            worst = Some(worst.map_or(r, |w: f64| w.max(r)));
        }
    }
    worst.unwrap_or(1.0)
}

/// (max hops, max zero-load latency in seconds, sampled?) between GPUs.
fn diameter(c: &Cluster) -> (u32, f64, bool) {
    let n = c.num_gpus();
    let sampled = n > ALL_PAIRS_LIMIT;
    let sources: Vec<usize> = if sampled {
        vec![0, n - 1]
    } else {
        (0..n).collect()
    };
    let (mut hops, mut lat) = (0u32, 0.0f64);
    for &a in &sources {
        for b in 0..n {
            if a == b {
                continue;
            }
            let (ga, gb) = (GpuId::from_index(a), GpuId::from_index(b));
            hops = hops.max(c.hops(ga, gb).unwrap_or(0));
            let r = c.route(ga, gb, 0);
            lat = lat.max((r.latency + r.overhead).as_secs_f64());
        }
    }
    (hops, lat, sampled)
}

/// Max-flow from the first half of the GPUs to the second (bytes/s), by
/// petgraph's Dinic on the directed links plus a super source and sink.
pub fn bisection(c: &Cluster) -> Option<f64> {
    let n = c.num_gpus();
    if n < 2 {
        return None;
    }
    let mut g = petgraph::Graph::<(), u64>::with_capacity(c.nodes().len() + 2, c.links().len() + n);
    let ids: Vec<_> = c.nodes().iter().map(|_| g.add_node(())).collect();
    let (s, t) = (g.add_node(()), g.add_node(()));
    for l in c.links() {
        let cap = l.bandwidth.bytes_per_sec().round().min(1e18) as u64;
        g.add_edge(ids[l.from.index()], ids[l.to.index()], cap);
    }
    // Larger than any cut through links (each ≤ 1e18), small enough that
    // sums of a few never overflow.
    const INF: u64 = u64::MAX / 4;
    for (i, gpu) in c.gpus().iter().enumerate() {
        if i < n / 2 {
            g.add_edge(s, ids[gpu.node.index()], INF);
        } else {
            g.add_edge(ids[gpu.node.index()], t, INF);
        }
    }
    let (flow, _) = petgraph::algo::dinics(&g, s, t);
    Some(flow as f64)
}

impl fmt::Display for TopologySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bw = |b: Option<f64>| {
            b.map_or("n/a".to_string(), |b| {
                format!("{:.1} Gbps ({:.1} GB/s)", gbps(b), b / 1e9)
            })
        };
        writeln!(f, "topology        {}", self.name)?;
        if !self.description.is_empty() {
            writeln!(f, "description     {}", self.description)?;
        }
        writeln!(f, "fabric          {}", self.fabric)?;
        writeln!(f, "gpu             {}", self.gpu)?;
        // An explicit graph may give its hosts different GPU counts.
        let uniform = u64::from(self.hosts) * u64::from(self.gpus_per_host) == self.gpus as u64;
        let (times, of) = if uniform {
            ("x", "")
        } else {
            ("hosts of", "up to ")
        };
        writeln!(
            f,
            "hosts           {} {times} {of}{} GPUs = {} GPUs",
            self.hosts, self.gpus_per_host, self.gpus
        )?;
        writeln!(
            f,
            "switches        {} fabric + {} intra-host (NVSwitch)",
            self.switches, self.intra_host_switches
        )?;
        writeln!(
            f,
            "links           {} full-duplex ({} cables, {} intra-host)",
            self.links,
            self.cables,
            self.links - self.cables
        )?;
        writeln!(
            f,
            "injection       {} per GPU",
            bw(self.injection_bandwidth_bytes_per_s)
        )?;
        writeln!(
            f,
            "bisection       {} (GPUs 0..{} to {}..{})",
            bw(self.bisection_bandwidth_bytes_per_s),
            self.gpus / 2,
            self.gpus / 2,
            self.gpus
        )?;
        writeln!(
            f,
            "oversubscription {:.2}:1 (worst leaf, down:up)",
            self.oversubscription
        )?;
        let how = if self.diameter_sampled {
            "from GPU 0 and the last GPU"
        } else {
            "all pairs"
        };
        writeln!(f, "diameter        {} hops ({how})", self.diameter_hops)?;
        writeln!(
            f,
            "max latency     {} zero-load, overhead + path ({how})",
            format_secs(self.max_zero_load_latency_s)
        )?;
        if let Some(c) = &self.cost {
            writeln!(
                f,
                "capex           ${:.0} (GPUs ${:.0}, NICs ${:.0}, switches ${:.0} for {} ports, optics ${:.0} for {} transceivers; catalog of {})",
                c.capex,
                c.gpus,
                c.nics,
                c.switches,
                c.counts.switch_ports,
                c.optics,
                c.counts.transceivers,
                c.catalog_date
            )?;
            writeln!(
                f,
                "power           {:.1} kW of IT load, ${:.2} per hour with PUE",
                c.watts / 1000.0,
                c.power_per_hour
            )?;
            if !c.unpriced.is_empty() {
                writeln!(
                    f,
                    "unpriced        {} (add them to the topology's `cost:`)",
                    c.unpriced.join(", ")
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Source;
    use crate::topology::from_source;

    fn load(text: &str) -> Cluster {
        from_source(&Source::from_text("s.yaml", text)).unwrap()
    }
    const HEAD: &str = "name: s\ngpu: A100-SXM4-40GB\ngpus_per_host: 1\nnic: { bandwidth: 100Gbps, latency: 1us, overhead: 2us }\n";

    #[test]
    fn switch_summary() {
        let c = load(&format!(
            "{HEAD}hosts: 4\nfabric: {{ kind: switch, latency: 500ns }}\ncost: {{ gpus: {{ A100-SXM4-40GB: {{ price: 10 }} }}, nics: {{ 100Gbps: {{ price: 0 }} }}, switch_ports: {{ 100Gbps: {{ price: 25 }} }}, optics: {{ 100Gbps: {{ price: 0 }} }} }}\n"
        ));
        let s = TopologySummary::of(&c);
        assert_eq!((s.gpus, s.switches, s.links, s.cables), (4, 1, 4, 4));
        assert_eq!(s.injection_gbps, Some(100.0));
        assert_eq!(s.bisection_gbps, Some(200.0));
        assert_eq!(s.oversubscription, 1.0);
        assert_eq!((s.diameter_hops, s.diameter_sampled), (2, false));
        assert!((s.max_zero_load_latency_s - 4.5e-6).abs() < 1e-12);
        assert_eq!(s.cost.as_ref().map(|c| c.capex), Some(140.0));
        assert!(s.to_string().contains("bisection"));
    }

    #[test]
    fn fat_tree_ring_torus_numbers() {
        let c = load(&format!(
            "{HEAD}hosts: 16\nfabric: {{ kind: fat-tree, hosts_per_leaf: 4, spines: 1, uplink: {{ bandwidth: 100Gbps, latency: 1us }} }}\n"
        ));
        let s = TopologySummary::of(&c);
        assert_eq!(s.oversubscription, 4.0);
        assert_eq!(s.bisection_gbps, Some(200.0));
        assert_eq!(s.diameter_hops, 4);
        let c = load(&format!("{HEAD}hosts: 8\nfabric: {{ kind: ring }}\n"));
        assert_eq!(TopologySummary::of(&c).bisection_gbps, Some(200.0));
        assert_eq!(TopologySummary::of(&c).diameter_hops, 6);
        let c = load(&format!(
            "{HEAD}hosts: 16\nfabric: {{ kind: torus, dims: [4, 4] }}\n"
        ));
        assert_eq!(TopologySummary::of(&c).bisection_gbps, Some(800.0));
    }
}
