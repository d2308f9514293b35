//! Fabric generators: turn (hosts, GPUs per host, NIC, fabric kind) into a
//! [`Cluster`] through [`ClusterBuilder`]. Knows nothing of YAML (see
//! `spec.rs`).
//!
//! Every generator first lays out the hosts the same way: GPUs numbered
//! host-major (`h0.gpu0`, `h0.gpu1`, ..., `h1.gpu0`, ...), and, when a host has
//! more than one GPU, one NVSwitch node `hN.nvswitch` whose traversal latency
//! is `intra_host.latency`, joined to each GPU of the host by a zero-latency
//! intra-host link of `intra_host.bandwidth` (so GPU→GPU inside a host costs
//! exactly `intra_host.latency`). Each GPU has one NIC: a `Nic` link of
//! `nic.bandwidth` and `nic.latency` to its first fabric switch.
//!
//! Kinds (all switch latencies are per traversal):
//! - `switch`: every NIC on one non-blocking switch `switch`.
//! - `fat-tree`, two levels: hosts fill leaves `leafI` in order
//!   (`hosts_per_leaf` each, the last may be partial); every leaf has one
//!   uplink to each of `spines` spines `spineJ`. Three levels
//!   (`levels: 3`): leaves are grouped `leaves_per_pod` to a pod; each pod has
//!   `spines` aggregation switches `podP.aggJ`, every leaf of the pod uplinks
//!   to each of them, and every aggregation switch has one `core_uplink` to
//!   each of `cores` core switches `coreK`.
//! - `rail`: GPU i of every host attaches to rail leaf `railI`; every rail
//!   leaf has one uplink to each of `spines` spines.
//! - `ring`: one router `hN.router` per host (the host's GPUs attach to it by
//!   their NICs); router i ↔ router i+1 (mod hosts) by a `link`.
//! - `torus`: routers as in `ring`, on a wrap-around grid of `dims` (product =
//!   hosts, host index = row-major coordinates, last dim fastest), each linked
//!   to its ± neighbour in every dim (one link when a dim is 2, none when 1).

use super::direct::{add_routers, torus_links};
use super::{Cluster, ClusterBuilder, LinkKind, TopologyError};
use crate::ids::NodeId;
use crate::units::{Bandwidth, SimTime};

/// The intra-host (NVLink/NVSwitch) domain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntraHost {
    /// Per-direction bandwidth of each GPU-to-NVSwitch link.
    pub bandwidth: Bandwidth,
    /// Propagation delay of each intra-host link.
    pub latency: SimTime,
    /// Endpoint overhead of a transfer inside the host.
    pub overhead: SimTime,
}

/// One NIC per GPU.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nic {
    /// Per-direction NIC bandwidth.
    pub bandwidth: Bandwidth,
    /// Propagation delay of the NIC-to-leaf link.
    pub latency: SimTime,
    /// Endpoint overhead of a transfer that leaves the host.
    pub overhead: SimTime,
}

/// A switch-to-switch cable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Uplink {
    /// Per-direction bandwidth of the cable.
    pub bandwidth: Bandwidth,
    /// Propagation delay of the cable.
    pub latency: SimTime,
}

/// The hosts every generator lays out.
#[derive(Debug, Clone, PartialEq)]
pub struct Hosts {
    /// Number of hosts.
    pub hosts: u32,
    /// GPUs per host, each with its own NIC.
    pub gpus_per_host: u32,
    /// Required when `gpus_per_host > 1`.
    pub intra_host: Option<IntraHost>,
    /// Every GPU's NIC.
    pub nic: Nic,
}

/// The third level of a fat-tree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThreeLevel {
    /// Leaves grouped under one pod's spines.
    pub leaves_per_pod: u32,
    /// Core switches above the pods.
    pub cores: u32,
    /// The spine-to-core cable.
    pub core_uplink: Uplink,
}

/// A fabric kind with its parameters (counts are validated to be ≥ 1).
#[derive(Debug, Clone, PartialEq)]
pub enum FabricLayout {
    /// Every NIC on one switch.
    Switch {
        /// Switching delay of each switch.
        latency: SimTime,
    },
    /// Leaves and spines (a third, core level optional).
    FatTree {
        /// Hosts under each leaf switch.
        hosts_per_leaf: u32,
        /// Spine switches (per pod with a third level).
        spines: u32,
        /// The leaf-to-spine cable.
        uplink: Uplink,
        /// Switching delay of each switch.
        latency: SimTime,
        /// The core level, if any.
        three_level: Option<ThreeLevel>,
    },
    /// Rail-optimised: NIC `i` of every host on rail switch `i`, rails joined by spines.
    Rail {
        /// Spine switches above the rails.
        spines: u32,
        /// The rail-to-spine cable.
        uplink: Uplink,
        /// Switching delay of each switch.
        latency: SimTime,
    },
    /// Hosts in a ring, each with a router.
    Ring {
        /// Switching delay of each router.
        latency: SimTime,
        /// The router-to-router cable.
        link: Uplink,
    },
    /// Hosts on a torus grid, each with a router.
    Torus {
        /// Size of each dimension; their product is the number of hosts.
        dims: Vec<u32>,
        /// Switching delay of each router.
        latency: SimTime,
        /// The router-to-router cable.
        link: Uplink,
    },
}

/// The kind names accepted in YAML.
pub const KINDS: &[&str] = &["switch", "fat-tree", "rail", "ring", "torus"];

impl FabricLayout {
    /// The kind as written in YAML (one of [`KINDS`]).
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            FabricLayout::Switch { .. } => "switch",
            FabricLayout::FatTree { .. } => "fat-tree",
            FabricLayout::Rail { .. } => "rail",
            FabricLayout::Ring { .. } => "ring",
            FabricLayout::Torus { .. } => "torus",
        }
    }
}

/// Builds the cluster: hosts first (GPU ids host-major), then the fabric.
/// Only a malformed request (no GPUs, impossible grid) can fail; the caller
/// validates counts first.
pub fn build(
    mut b: ClusterBuilder,
    h: &Hosts,
    fabric: &FabricLayout,
) -> Result<Cluster, TopologyError> {
    if h.hosts == 0 || h.gpus_per_host == 0 {
        return Err(TopologyError::NoGpus);
    }
    let gpus = add_hosts(&mut b, h);
    let nic = h.nic;
    let per_host = h.gpus_per_host as usize;
    let attach = |b: &mut ClusterBuilder, g: NodeId, sw: NodeId| {
        b.add_link(g, sw, nic.bandwidth, nic.latency, LinkKind::Nic);
    };
    match fabric {
        FabricLayout::Switch { latency } => {
            let sw = b.add_switch("switch", *latency);
            for &g in &gpus {
                attach(&mut b, g, sw);
            }
        }
        FabricLayout::FatTree {
            hosts_per_leaf,
            spines,
            uplink,
            latency,
            three_level,
        } => {
            let n_leaves = h.hosts.div_ceil((*hosts_per_leaf).max(1));
            let leaves: Vec<NodeId> = (0..n_leaves)
                .map(|i| b.add_switch(format!("leaf{i}"), *latency))
                .collect();
            for (i, &g) in gpus.iter().enumerate() {
                let host = (i / per_host) as u32;
                attach(&mut b, g, leaves[(host / hosts_per_leaf.max(&1)) as usize]);
            }
            match three_level {
                None => {
                    let sp: Vec<NodeId> = (0..*spines)
                        .map(|j| b.add_switch(format!("spine{j}"), *latency))
                        .collect();
                    for &l in &leaves {
                        for &s in &sp {
                            b.add_link(l, s, uplink.bandwidth, uplink.latency, LinkKind::Fabric);
                        }
                    }
                }
                Some(t) => pods_and_cores(&mut b, &leaves, *spines, *uplink, *latency, t),
            }
        }
        FabricLayout::Rail {
            spines,
            uplink,
            latency,
        } => {
            let rails: Vec<NodeId> = (0..per_host)
                .map(|i| b.add_switch(format!("rail{i}"), *latency))
                .collect();
            for (i, &g) in gpus.iter().enumerate() {
                attach(&mut b, g, rails[i % per_host]);
            }
            let sp: Vec<NodeId> = (0..*spines)
                .map(|j| b.add_switch(format!("spine{j}"), *latency))
                .collect();
            for &r in &rails {
                for &s in &sp {
                    b.add_link(r, s, uplink.bandwidth, uplink.latency, LinkKind::Fabric);
                }
            }
        }
        FabricLayout::Ring { latency, link } => {
            let routers = add_routers(&mut b, h, &gpus, *latency);
            torus_links(&mut b, &routers, &[h.hosts], *link);
        }
        FabricLayout::Torus {
            dims,
            latency,
            link,
        } => {
            let product = dims.iter().try_fold(1u32, |acc, &d| acc.checked_mul(d));
            if product != Some(h.hosts) {
                return Err(TopologyError::NoGpus);
            }
            let routers = add_routers(&mut b, h, &gpus, *latency);
            torus_links(&mut b, &routers, dims, *link);
        }
    }
    b.build()
}

/// The upper two levels of a 3-level fat-tree: leaves grouped into pods of
/// `leaves_per_pod`, each pod with `spines` aggregation switches joined to
/// every leaf of the pod, and every aggregation switch joined to every core.
fn pods_and_cores(
    b: &mut ClusterBuilder,
    leaves: &[NodeId],
    spines: u32,
    uplink: Uplink,
    latency: SimTime,
    t: &ThreeLevel,
) {
    let per_pod = t.leaves_per_pod.max(1) as usize;
    let cores: Vec<NodeId> = (0..t.cores)
        .map(|k| b.add_switch(format!("core{k}"), latency))
        .collect();
    for (p, pod) in leaves.chunks(per_pod).enumerate() {
        let aggs: Vec<NodeId> = (0..spines)
            .map(|j| b.add_switch(format!("pod{p}.agg{j}"), latency))
            .collect();
        for &l in pod {
            for &a in &aggs {
                b.add_link(l, a, uplink.bandwidth, uplink.latency, LinkKind::Fabric);
            }
        }
        for &a in &aggs {
            for &c in &cores {
                let u = t.core_uplink;
                b.add_link(a, c, u.bandwidth, u.latency, LinkKind::Fabric);
            }
        }
    }
}

/// Adds every host's GPUs (host-major) and, for multi-GPU hosts, its
/// NVSwitch. Returns the GPU nodes in GPU-id order.
fn add_hosts(b: &mut ClusterBuilder, h: &Hosts) -> Vec<NodeId> {
    let mut gpus = Vec::with_capacity(h.hosts as usize * h.gpus_per_host as usize);
    let intra_overhead = h.intra_host.map_or(SimTime::ZERO, |i| i.overhead);
    for host in 0..h.hosts {
        let first = gpus.len();
        for local in 0..h.gpus_per_host {
            gpus.push(b.add_gpu(
                format!("h{host}.gpu{local}"),
                host,
                local,
                h.nic.overhead,
                intra_overhead,
            ));
        }
        if let (true, Some(intra)) = (h.gpus_per_host > 1, h.intra_host) {
            let nv = b.add_switch(format!("h{host}.nvswitch"), intra.latency);
            for &g in &gpus[first..] {
                b.add_link(g, nv, intra.bandwidth, SimTime::ZERO, LinkKind::IntraHost);
            }
        }
    }
    gpus
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::ids::GpuId;
    use crate::topology::test_support::test_gpu;

    pub(crate) fn hosts(n: u32, per: u32) -> Hosts {
        Hosts {
            hosts: n,
            gpus_per_host: per,
            intra_host: Some(IntraHost {
                bandwidth: Bandwidth::new(300e9).unwrap(),
                latency: SimTime::from_ns(700),
                overhead: SimTime::from_ns(100),
            }),
            nic: Nic {
                bandwidth: Bandwidth::from_gbps(100.0),
                latency: SimTime::from_us(1),
                overhead: SimTime::from_us(2),
            },
        }
    }
    pub(crate) fn up(gbps: f64, ns: u64) -> Uplink {
        Uplink {
            bandwidth: Bandwidth::from_gbps(gbps),
            latency: SimTime::from_ns(ns),
        }
    }
    pub(crate) fn make(h: &Hosts, f: FabricLayout) -> Cluster {
        build(ClusterBuilder::new("t", test_gpu()), h, &f).unwrap()
    }
    pub(crate) fn lat(c: &Cluster, a: u32, b: u32) -> SimTime {
        c.route(GpuId(a), GpuId(b), 3).latency
    }
    pub(crate) const NIC: SimTime = SimTime::from_us(1);
    pub(crate) const SW: SimTime = SimTime::from_ns(500);

    #[test]
    fn switch_route_and_host_major_numbering() {
        let h = hosts(3, 2);
        let c = make(&h, FabricLayout::Switch { latency: SW });
        assert_eq!(c.num_gpus(), 6);
        for (i, g) in c.gpus().iter().enumerate() {
            assert_eq!((g.host, g.local), ((i / 2) as u32, (i % 2) as u32));
            assert_eq!(c.node(g.node).name, format!("h{}.gpu{}", i / 2, i % 2));
        }
        assert_eq!(lat(&c, 0, 5), NIC * 2 + SW);
        // Inside a host: only the NVSwitch, never the NIC switch.
        for hash in 0..16 {
            let r = c.route(GpuId(0), GpuId(1), hash);
            assert_eq!(r.latency, SimTime::from_ns(700));
            assert_eq!(r.overhead, SimTime::from_ns(100));
            assert!(
                r.links
                    .iter()
                    .all(|&l| c.link(l).kind == LinkKind::IntraHost)
            );
        }
        assert_eq!(c.num_switches(), 4);
    }

    #[test]
    fn fat_tree_routes() {
        let h = hosts(10, 1);
        let f = FabricLayout::FatTree {
            hosts_per_leaf: 4,
            spines: 2,
            uplink: up(100.0, 200),
            latency: SW,
            three_level: None,
        };
        let c = make(&h, f);
        assert_eq!(c.num_switches(), 3 + 2); // leaves 4+4+2, two spines
        assert_eq!(lat(&c, 0, 3), NIC * 2 + SW);
        assert_eq!(lat(&c, 0, 9), NIC * 2 + SimTime::from_ns(400) + SW * 3);
        assert_eq!(c.hops(GpuId(0), GpuId(9)), Some(4));
    }

    #[test]
    fn three_level_fat_tree_routes() {
        let t = ThreeLevel {
            leaves_per_pod: 2,
            cores: 2,
            core_uplink: up(400.0, 300),
        };
        let f = FabricLayout::FatTree {
            hosts_per_leaf: 2,
            spines: 2,
            uplink: up(100.0, 200),
            latency: SW,
            three_level: Some(t),
        };
        let c = make(&hosts(8, 1), f);
        // 4 leaves, 2 pods × 2 aggs, 2 cores.
        assert_eq!(c.num_switches(), 4 + 4 + 2);
        assert_eq!(lat(&c, 0, 2), NIC * 2 + SimTime::from_ns(400) + SW * 3);
        let far = NIC * 2 + SimTime::from_ns(400 + 600) + SW * 5;
        assert_eq!(lat(&c, 0, 7), far);
    }

    #[test]
    fn rail_routes() {
        let f = FabricLayout::Rail {
            spines: 2,
            uplink: up(400.0, 200),
            latency: SW,
        };
        let c = make(&hosts(4, 4), f);
        // Same rail, other host: NIC, rail leaf, NIC.
        assert_eq!(lat(&c, 1, 5), NIC * 2 + SW);
        // Other rail, other host: up to a spine and down.
        assert_eq!(lat(&c, 0, 5), NIC * 2 + SimTime::from_ns(400) + SW * 3);
        // Same host: NVSwitch.
        assert_eq!(lat(&c, 0, 3), SimTime::from_ns(700));
    }
}
