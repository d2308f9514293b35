//! Graphviz export of a [`Cluster`]: one undirected edge per full-duplex
//! link, labelled with its bandwidth; GPUs as boxes, switches as ellipses;
//! one `subgraph cluster_hN` per host holding its GPUs and its NVSwitch (a
//! switch whose links are all intra-host to GPUs of that host). Ring/torus
//! routers and fabric switches stay outside the host boxes. Layout is left
//! to Graphviz.

use super::{Cluster, LinkKind, NodeKind};
use crate::ids::NodeId;
use std::collections::BTreeMap;
use std::fmt::Write;

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn quote(s: &str) -> String {
    format!("\"{}\"", escape(s))
}

/// The host a switch belongs to, if it only joins GPUs of one host by
/// intra-host links.
fn host_of_switch(c: &Cluster, n: NodeId) -> Option<u32> {
    let mut host = None;
    for &l in c.out_links(n) {
        let link = c.link(l);
        let NodeKind::Gpu(g) = c.node(link.to).kind else {
            return None;
        };
        if link.kind != LinkKind::IntraHost {
            return None;
        }
        let h = c.gpu(g).host;
        if host.is_some_and(|x| x != h) {
            return None;
        }
        host = Some(h);
    }
    host
}

/// The cluster as a Graphviz `graph`.
pub fn to_dot(c: &Cluster) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "graph {} {{", quote(&c.name));
    let _ = writeln!(out, "  node [fontname=\"Helvetica\"];");
    let mut by_host: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let mut outside = Vec::new();
    for (i, n) in c.nodes().iter().enumerate() {
        let (host, line) = match n.kind {
            NodeKind::Gpu(g) => (
                Some(c.gpu(g).host),
                format!(
                    "{} [shape=box, label=\"{}\\nGPU {g}\"];",
                    quote(&n.name),
                    escape(&n.name)
                ),
            ),
            NodeKind::Switch => (
                host_of_switch(c, NodeId::from_index(i)),
                format!("{} [shape=ellipse];", quote(&n.name)),
            ),
        };
        match host {
            Some(h) => by_host.entry(h).or_default().push(line),
            None => outside.push(line),
        }
    }
    for (h, lines) in &by_host {
        let _ = writeln!(out, "  subgraph cluster_h{h} {{\n    label=\"host {h}\";");
        for l in lines {
            let _ = writeln!(out, "    {l}");
        }
        let _ = writeln!(out, "  }}");
    }
    for l in &outside {
        let _ = writeln!(out, "  {l}");
    }
    for l in c.links().iter().step_by(2) {
        let style = match l.kind {
            LinkKind::IntraHost => ", style=dashed",
            LinkKind::Nic | LinkKind::Fabric => "",
        };
        let _ = writeln!(
            out,
            "  {} -- {} [label={}{style}];",
            quote(&c.node(l.from).name),
            quote(&c.node(l.to).name),
            quote(&l.bandwidth.to_string())
        );
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Source;

    #[test]
    fn dot_has_hosts_nodes_and_one_edge_per_link() {
        let text = "name: d\ngpu: H100-SXM\nhosts: 2\ngpus_per_host: 2\nintra_host: { bandwidth: 900GB/s, latency: 1us }\nnic: { bandwidth: 400Gbps, latency: 1us }\nfabric: { kind: switch }\n";
        let c = crate::topology::from_source(&Source::from_text("d.yaml", text)).unwrap();
        let d = to_dot(&c);
        assert!(d.starts_with("graph \"d\" {"));
        assert!(d.contains("subgraph cluster_h1"));
        assert!(d.contains("\"h0.nvswitch\" [shape=ellipse]"));
        assert!(d.contains("\"h1.gpu1\" -- \"switch\" [label=\"400.0 Gbps\"]"));
        assert_eq!(d.matches(" -- ").count(), c.links().len() / 2);
        assert!(d.trim_end().ends_with('}'));
    }
}
