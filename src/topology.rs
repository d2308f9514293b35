//! The modelled hardware: a [`Cluster`] is a graph of GPU endpoints and
//! switches joined by full-duplex links, with routes between GPUs.
//!
//! Loading YAML and the generators (`switch`, `fat-tree`, `ring`, ...) live in
//! `topology/spec.rs` and `topology/generators.rs`; they all build through
//! [`ClusterBuilder`]. Routing is in `topology/routing.rs`. This module holds
//! the graph itself and knows nothing of YAML.

pub mod catalog;
pub mod cost;
mod direct;
mod dot;
mod explicit;
mod fabric_spec;
pub mod generators;
pub mod gpu;
mod routing;
pub mod spec;
pub mod summary;

pub use cost::Prices;
pub use dot::to_dot;
pub use routing::Route;
pub use spec::{from_source, load};
pub use summary::TopologySummary;

use crate::ids::{GpuId, LinkId, NodeId};
use crate::units::{Bandwidth, SimTime};
use routing::Router;

/// What a node is. GPUs are endpoints and never forward traffic; switches
/// (including a host's NVSwitch and a ring/torus host's router) do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A GPU endpoint, with its GPU id.
    Gpu(GpuId),
    /// A forwarding node: a fabric switch, a host's NVSwitch or a ring/torus router.
    Switch,
}

/// A vertex of the cluster graph: a GPU or a switch.
#[derive(Debug, Clone)]
pub struct Node {
    /// Unique node name (`gpu3`, `leaf0`, or as written in an explicit topology).
    pub name: String,
    /// GPU or switch.
    pub kind: NodeKind,
    /// Added to a route each time it passes through this node (switches).
    pub latency: SimTime,
}

/// Which part of the machine a link belongs to: it decides the endpoint
/// overhead a transfer pays and how reports group links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    /// Inside a host: NVLink/NVSwitch or PCIe.
    IntraHost,
    /// A GPU's NIC to its first switch.
    Nic,
    /// Switch to switch (uplinks, spines, ring/torus hops).
    Fabric,
}

/// One direction of a full-duplex link.
#[derive(Debug, Clone)]
pub struct Link {
    /// The node the link leaves.
    pub from: NodeId,
    /// The node the link enters.
    pub to: NodeId,
    /// Capacity in this direction.
    pub bandwidth: Bandwidth,
    /// Propagation delay, paid by every transfer that crosses the link.
    pub latency: SimTime,
    /// Where the link sits: inside a host, a NIC, or switch to switch.
    pub kind: LinkKind,
    /// The other direction of the same cable.
    pub reverse: LinkId,
}

/// Per-GPU facts the simulator needs.
#[derive(Debug, Clone)]
pub struct GpuInfo {
    /// The GPU's node in the graph.
    pub node: NodeId,
    /// The host (server) holding it, `0..hosts`.
    pub host: u32,
    /// Index inside its host (`0..gpus_per_host`).
    pub local: u32,
    /// Endpoint software overhead paid by a transfer that leaves the host.
    pub nic_overhead: SimTime,
    /// Endpoint overhead of a transfer inside the host.
    pub intra_overhead: SimTime,
}

/// Peak dense throughput of a GPU per data type, in FLOP/s.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PeakFlops {
    /// FP32 vector (non-tensor-core) peak, FLOP/s.
    pub fp32: f64,
    /// TF32 tensor-core peak, FLOP/s.
    pub tf32: f64,
    /// BF16 tensor-core peak, FLOP/s.
    pub bf16: f64,
    /// FP16 tensor-core peak, FLOP/s.
    pub fp16: f64,
    /// FP8 tensor-core peak, FLOP/s (the FP16 rate on GPUs without FP8).
    pub fp8: f64,
}

/// A GPU model: compute peaks, memory size and HBM bandwidth.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GpuSpec {
    /// Preset or inline name, e.g. `H100-SXM`.
    pub name: String,
    /// Dense peak throughput per data type.
    pub peak_flops: PeakFlops,
    /// HBM capacity in bytes (marketing GB: an "80GB" GPU has 80e9 bytes).
    pub memory_bytes: u64,
    /// Datasheet HBM bandwidth.
    pub hbm_bandwidth: Bandwidth,
}

/// A validated cluster: the graph, its GPUs and their routes.
#[derive(Debug)]
pub struct Cluster {
    /// The topology's name.
    pub name: String,
    /// Free text from the topology file.
    pub description: String,
    /// The GPU model in every host.
    pub gpu: GpuSpec,
    /// Number of hosts (servers).
    pub hosts: u32,
    /// GPUs in each host.
    pub gpus_per_host: u32,
    /// How the fabric was made: a generator kind (`switch`, `fat-tree`, ...)
    /// or `explicit`; empty for clusters built by hand.
    pub fabric: String,
    /// Prices for a capex estimate, if the topology file gave any.
    pub cost: Option<Prices>,
    nodes: Vec<Node>,
    links: Vec<Link>,
    gpus: Vec<GpuInfo>,
    router: Router,
}

impl Cluster {
    /// Number of GPUs; GPU ids run `0..num_gpus()`.
    pub fn num_gpus(&self) -> usize {
        self.gpus.len()
    }
    /// Facts about GPU `g` (an id below [`Cluster::num_gpus`]).
    pub fn gpu(&self, g: GpuId) -> &GpuInfo {
        &self.gpus[g.index()]
    }
    /// Every GPU's facts, indexed by GPU id.
    pub fn gpus(&self) -> &[GpuInfo] {
        &self.gpus
    }
    /// Every node, indexed by node id.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }
    /// Node `n`.
    pub fn node(&self, n: NodeId) -> &Node {
        &self.nodes[n.index()]
    }
    /// Every one-direction link, indexed by link id.
    pub fn links(&self) -> &[Link] {
        &self.links
    }
    /// Link `l`.
    pub fn link(&self, l: LinkId) -> &Link {
        &self.links[l.index()]
    }
    /// `"gpu3->leaf0"`, for reports.
    pub fn link_name(&self, l: LinkId) -> String {
        let link = self.link(l);
        format!("{}->{}", self.node(link.from).name, self.node(link.to).name)
    }
    /// Number of switch nodes, fabric and intra-host alike.
    pub fn num_switches(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Switch)
            .count()
    }

    /// The route a flow from `src` to `dst` takes: a shortest path (fewest
    /// hops, GPUs never forwarding), with ECMP choosing among equal paths by
    /// `flow_hash`. Deterministic. `src == dst` gives an empty route.
    pub fn route(&self, src: GpuId, dst: GpuId, flow_hash: u64) -> Route {
        self.router.route(self, src, dst, flow_hash)
    }

    /// Hop count of the shortest path between two GPUs (`None` if unreachable).
    pub fn hops(&self, src: GpuId, dst: GpuId) -> Option<u32> {
        self.router.distance(self, src, dst)
    }

    /// Outgoing links of a node, in link-id order.
    pub fn out_links(&self, n: NodeId) -> &[LinkId] {
        self.router.out_links(n)
    }
}

/// Why a graph cannot be a cluster.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TopologyError {
    /// The graph has no GPU node.
    #[error("the topology has no GPUs")]
    NoGpus,
    /// Some GPU has no path to another.
    #[error(
        "GPU {a} ({a_name}) cannot reach GPU {b} ({b_name}): the graph is disconnected (GPUs do not forward traffic; connect them through switches)"
    )]
    Disconnected {
        /// A GPU that cannot reach `b`.
        a: GpuId,
        /// `a`'s node name.
        a_name: String,
        /// The GPU `a` cannot reach.
        b: GpuId,
        /// `b`'s node name.
        b_name: String,
    },
    /// A link (named here) joins a node to itself.
    #[error("link {0} joins a node to itself")]
    SelfLoop(String),
    /// Two nodes share this name.
    #[error("two nodes are both named '{0}'")]
    DuplicateName(String),
}

/// Builds a [`Cluster`] node by node; `build` validates and indexes it.
pub struct ClusterBuilder {
    name: String,
    description: String,
    gpu: GpuSpec,
    hosts: u32,
    gpus_per_host: u32,
    fabric: String,
    cost: Option<Prices>,
    nodes: Vec<Node>,
    links: Vec<Link>,
    gpus: Vec<GpuInfo>,
}

impl ClusterBuilder {
    /// An empty cluster called `name` whose every GPU is a `gpu`.
    pub fn new(name: impl Into<String>, gpu: GpuSpec) -> Self {
        ClusterBuilder {
            name: name.into(),
            description: String::new(),
            gpu,
            hosts: 0,
            gpus_per_host: 0,
            fabric: String::new(),
            cost: None,
            nodes: Vec::new(),
            links: Vec::new(),
            gpus: Vec::new(),
        }
    }

    /// Sets the free-text description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }

    /// Records how the fabric was made (`switch`, `fat-tree`, `explicit`, ...).
    pub fn fabric(mut self, kind: impl Into<String>) -> Self {
        self.fabric = kind.into();
        self
    }

    /// Attaches prices for the capex estimate.
    pub fn cost(mut self, prices: Option<Prices>) -> Self {
        self.cost = prices;
        self
    }

    /// Adds the next GPU (ids are given in call order), on `host` at local
    /// index `local`, with its endpoint overheads.
    pub fn add_gpu(
        &mut self,
        name: impl Into<String>,
        host: u32,
        local: u32,
        nic_overhead: SimTime,
        intra_overhead: SimTime,
    ) -> NodeId {
        let node = NodeId::from_index(self.nodes.len());
        let gpu = GpuId::from_index(self.gpus.len());
        self.nodes.push(Node {
            name: name.into(),
            kind: NodeKind::Gpu(gpu),
            latency: SimTime::ZERO,
        });
        self.gpus.push(GpuInfo {
            node,
            host,
            local,
            nic_overhead,
            intra_overhead,
        });
        self.hosts = self.hosts.max(host + 1);
        self.gpus_per_host = self.gpus_per_host.max(local + 1);
        node
    }

    /// Adds a switch that adds `latency` to every route through it.
    pub fn add_switch(&mut self, name: impl Into<String>, latency: SimTime) -> NodeId {
        let node = NodeId::from_index(self.nodes.len());
        self.nodes.push(Node {
            name: name.into(),
            kind: NodeKind::Switch,
            latency,
        });
        node
    }

    /// Adds a full-duplex link: two directed links with the same bandwidth
    /// and latency. Returns the `a → b` direction.
    pub fn add_link(
        &mut self,
        a: NodeId,
        b: NodeId,
        bandwidth: Bandwidth,
        latency: SimTime,
        kind: LinkKind,
    ) -> LinkId {
        let ab = LinkId::from_index(self.links.len());
        let ba = LinkId::from_index(self.links.len() + 1);
        self.links.push(Link {
            from: a,
            to: b,
            bandwidth,
            latency,
            kind,
            reverse: ba,
        });
        self.links.push(Link {
            from: b,
            to: a,
            bandwidth,
            latency,
            kind,
            reverse: ab,
        });
        ab
    }

    /// Validates (GPUs exist, names unique, no self-loops, every GPU reaches
    /// every other) and builds the routing tables.
    pub fn build(self) -> Result<Cluster, TopologyError> {
        if self.gpus.is_empty() {
            return Err(TopologyError::NoGpus);
        }
        let mut names = std::collections::BTreeSet::new();
        for n in &self.nodes {
            if !names.insert(n.name.as_str()) {
                return Err(TopologyError::DuplicateName(n.name.clone()));
            }
        }
        for l in &self.links {
            if l.from == l.to {
                return Err(TopologyError::SelfLoop(
                    self.nodes[l.from.index()].name.clone(),
                ));
            }
        }
        let router = Router::new(&self.nodes, &self.links);
        let cluster = Cluster {
            name: self.name,
            description: self.description,
            gpu: self.gpu,
            hosts: self.hosts,
            gpus_per_host: self.gpus_per_host,
            fabric: self.fabric,
            cost: self.cost,
            nodes: self.nodes,
            links: self.links,
            gpus: self.gpus,
            router,
        };
        if let Some((a, b)) = cluster.router.unreachable_pair(&cluster) {
            return Err(TopologyError::Disconnected {
                a,
                a_name: cluster.node(cluster.gpu(a).node).name.clone(),
                b,
                b_name: cluster.node(cluster.gpu(b).node).name.clone(),
            });
        }
        Ok(cluster)
    }
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests;
