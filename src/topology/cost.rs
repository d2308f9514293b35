//! Capex and power of a cluster from the price catalog (`catalog.rs`): what
//! the prices multiply, counted from the generated graph.
//!
//! - GPUs: one catalog entry per GPU (its share of the server, NICs apart).
//! - NICs: one per `nic`-kind link, priced by the link's speed.
//! - Switches: one port per end of a non-intra-host link at a *fabric*
//!   switch (any switch with a non-intra-host link: leaves, spines, rail
//!   leaves, ring/torus routers), priced by the link's speed. A host's
//!   NVSwitch (only intra-host links) is part of the server.
//! - Optics: two transceivers per non-intra-host link, by its speed.
//!
//! A link faster than the fastest listed speed counts as a bundle (see
//! [`catalog::for_speed`]). Power = Σ watts × PUE, at the catalog's $/kWh.
//! It does not model discounts, spares, racks, cable lengths or staff.

use super::catalog::{self, Item};
use super::{Cluster, LinkKind, NodeKind};
use crate::ids::NodeId;
use serde::Serialize;

pub use super::catalog::Prices;

/// What the prices multiply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// GPUs.
    pub gpus: u64,
    /// `nic`-kind links.
    pub nics: u64,
    /// Switches with at least one link that is not intra-host.
    pub fabric_switches: u64,
    /// Switches with only intra-host links (NVSwitch), not priced.
    pub intra_host_switches: u64,
    /// Full-duplex links that are not intra-host.
    pub cables: u64,
    /// Full-duplex intra-host links.
    pub intra_host_links: u64,
    /// Switch ports (bundles counted port by port).
    pub switch_ports: u64,
    /// Transceivers (two per cable and bundle member).
    pub transceivers: u64,
}

impl Counts {
    /// The counts of cluster `c`.
    pub fn of(c: &Cluster) -> Counts {
        let mut n = Counts {
            gpus: c.num_gpus() as u64,
            ..Counts::default()
        };
        for l in c.links().iter().step_by(2) {
            match l.kind {
                LinkKind::IntraHost => n.intra_host_links += 1,
                LinkKind::Nic => {
                    n.nics += 1;
                    n.cables += 1;
                }
                LinkKind::Fabric => n.cables += 1,
            }
        }
        for i in 0..c.nodes().len() {
            if is_fabric_switch(c, NodeId::from_index(i)) == Some(true) {
                n.fabric_switches += 1;
            } else if is_fabric_switch(c, NodeId::from_index(i)) == Some(false) {
                n.intra_host_switches += 1;
            }
        }
        n
    }
}

/// `None` for GPUs; for switches, whether any of its links leaves the host.
fn is_fabric_switch(c: &Cluster, id: NodeId) -> Option<bool> {
    if c.node(id).kind != NodeKind::Switch {
        return None;
    }
    Some(
        c.out_links(id)
            .iter()
            .any(|&l| c.link(l).kind != LinkKind::IntraHost),
    )
}

/// The estimate, in dollars (and watts).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostEstimate {
    /// Dollars for the GPUs.
    pub gpus: f64,
    /// Dollars for the NICs.
    pub nics: f64,
    /// Dollars for the fabric switches' ports.
    pub switches: f64,
    /// Dollars for the transceivers.
    pub optics: f64,
    /// gpus + nics + switches + optics.
    pub capex: f64,
    /// IT power of everything priced, in watts.
    pub watts: f64,
    /// watts × PUE / 1000 × $/kWh.
    pub power_per_hour: f64,
    /// What was priced.
    pub counts: Counts,
    /// The catalog's date.
    pub catalog_date: String,
    /// Parts with no catalog entry (counted at $0), e.g. an inline GPU.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unpriced: Vec<String>,
}

/// Running sums of one category.
#[derive(Default)]
struct Sum {
    dollars: f64,
    watts: f64,
}

impl Sum {
    fn add(&mut self, item: &Item, n: u64) {
        self.dollars += item.price * n as f64;
        self.watts += item.watts * n as f64;
    }
}

impl Prices {
    /// Prices every GPU, NIC, fabric switch port and transceiver of `c`.
    pub fn estimate(&self, c: &Cluster) -> CostEstimate {
        let mut counts = Counts::of(c);
        let mut unpriced = Vec::new();
        let mut gpus = Sum::default();
        let mut nics = Sum::default();
        let mut ports = Sum::default();
        let mut optics = Sum::default();
        match self.gpu(&c.gpu.name) {
            Some(item) => gpus.add(item, counts.gpus),
            None => unpriced.push(format!("GPU {}", c.gpu.name)),
        }
        let mut missing = |what: &str, gbps: f64| {
            let s = format!("{what} at {gbps} Gbps");
            if !unpriced.contains(&s) {
                unpriced.push(s);
            }
        };
        for l in c.links().iter().step_by(2) {
            if l.kind == LinkKind::IntraHost {
                continue;
            }
            let gbps = l.bandwidth.bytes_per_sec() * 8.0 / 1e9;
            if l.kind == LinkKind::Nic {
                match catalog::for_speed(&self.nics, gbps) {
                    Some((item, k)) => nics.add(item, k),
                    None => missing("NIC", gbps),
                }
            }
            let ends = [l.from, l.to]
                .iter()
                .filter(|&&n| is_fabric_switch(c, n) == Some(true))
                .count() as u64;
            match catalog::for_speed(&self.switch_ports, gbps) {
                Some((item, k)) => {
                    ports.add(item, ends * k);
                    counts.switch_ports += ends * k;
                }
                None if ends > 0 => missing("switch port", gbps),
                None => {}
            }
            match catalog::for_speed(&self.optics, gbps) {
                Some((item, k)) => {
                    optics.add(item, 2 * k);
                    counts.transceivers += 2 * k;
                }
                None => missing("optic", gbps),
            }
        }
        let capex = gpus.dollars + nics.dollars + ports.dollars + optics.dollars;
        let watts = gpus.watts + nics.watts + ports.watts + optics.watts;
        CostEstimate {
            gpus: gpus.dollars,
            nics: nics.dollars,
            switches: ports.dollars,
            optics: optics.dollars,
            capex,
            watts,
            power_per_hour: watts * self.pue / 1000.0 * self.usd_per_kwh,
            counts,
            catalog_date: self.date.clone(),
            unpriced,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Source;
    use crate::topology::from_source;

    fn cluster(nic: &str, spines: u32, uplink: &str) -> Cluster {
        let text = format!(
            "name: t\nhost: dgx-h100\nhosts: 4\nnic: {{ bandwidth: {nic}, latency: 1us }}\n\
             fabric: {{ kind: fat-tree, hosts_per_leaf: 2, spines: {spines}, uplink: {{ bandwidth: {uplink}, latency: 1us }} }}\n"
        );
        from_source(&Source::from_text("t.yaml", text)).unwrap()
    }

    fn estimate(c: &Cluster) -> CostEstimate {
        c.cost.as_ref().unwrap().estimate(c)
    }

    #[test]
    fn counts_and_breakdown_sum_to_the_total() {
        let c = cluster("400Gbps", 4, "400Gbps");
        let e = estimate(&c);
        let p = catalog::shipped().unwrap();
        // 32 GPUs, 32 NICs; 2 leaves × 4 uplinks = 8 fabric cables; 2 leaves + 4 spines.
        assert_eq!(
            (e.counts.gpus, e.counts.nics, e.counts.cables),
            (32, 32, 40)
        );
        assert_eq!(e.counts.fabric_switches, 6);
        // Ports: 32 NIC ends + 2 × 8 uplink ends.
        assert_eq!(e.counts.switch_ports, 48);
        assert_eq!(e.counts.transceivers, 80);
        let item = |t: &[(f64, Item)], g: f64| catalog::for_speed(t, g).unwrap().0.price;
        assert_eq!(e.gpus, 32.0 * p.gpu("H100-SXM").unwrap().price);
        assert_eq!(e.nics, 32.0 * item(&p.nics, 400.0));
        assert_eq!(e.switches, 48.0 * item(&p.switch_ports, 400.0));
        assert_eq!(e.optics, 80.0 * item(&p.optics, 400.0));
        assert_eq!(e.capex, e.gpus + e.nics + e.switches + e.optics);
        let watts = 32.0 * (1275.0 + 25.0) + 48.0 * 25.0 + 80.0 * 8.5;
        assert!((e.watts - watts).abs() < 1e-9);
        assert!((e.power_per_hour - watts * p.pue / 1000.0 * p.usd_per_kwh).abs() < 1e-9);
        assert!(e.unpriced.is_empty());
    }

    #[test]
    fn faster_nics_and_less_oversubscription_cost_more() {
        let base = estimate(&cluster("200Gbps", 2, "400Gbps")).capex;
        assert!(estimate(&cluster("400Gbps", 2, "400Gbps")).capex > base);
        // 1:1 (4 spines) vs 2:1 (2 spines) with the same NICs and uplinks.
        assert!(estimate(&cluster("200Gbps", 4, "400Gbps")).capex > base);
        // Fatter uplinks on the same spines: bundles of ports and optics.
        assert!(estimate(&cluster("200Gbps", 2, "1600Gbps")).capex > base);
    }

    #[test]
    fn unknown_gpu_is_listed_as_unpriced() {
        let c = from_source(&Source::from_text(
            "t.yaml",
            "name: t\ngpu: { name: x, memory: 1GB, hbm_bandwidth: 1TB/s, peak_tflops: { fp32: 1, bf16: 2 } }\nhosts: 2\ngpus_per_host: 1\nnic: { bandwidth: 100Gbps, latency: 1us }\nfabric: { kind: switch }\n",
        ))
        .unwrap();
        let e = estimate(&c);
        assert_eq!(e.unpriced, vec!["GPU x".to_string()]);
        assert_eq!(e.gpus, 0.0);
    }
}
