//! The explicit topology form: any graph as `nodes:` + `links:`.
//!
//! ```yaml
//! name: two-switches
//! gpu: H100-SXM
//! nodes:
//!   - { name: g0, kind: gpu, host: 0, overhead: 2us }   # overhead: NIC endpoint overhead
//!   - { name: s0, kind: switch, latency: 500ns }
//! links:
//!   - { a: g0, b: s0, bandwidth: 400Gbps, latency: 1us, kind: nic }
//! ```
//! GPU nodes take `host` (default: their index among the GPU nodes),
//! `overhead` (NIC endpoint overhead, default 0) and `intra_overhead`
//! (intra-host endpoint overhead, default 0); switch nodes take `latency`
//! (traversal latency, default 0). Links take `kind: intra-host | nic |
//! fabric` (default `fabric`). GPU ids are assigned host-major: by `host`,
//! then in file order. The generator fields (`host`, `hosts`,
//! `gpus_per_host`, `intra_host`, `nic`, `fabric`) are not allowed here.
//! It does not check that the graph is physically sensible beyond
//! connectivity, unique names and no self-loops.

use super::spec::{TopologyYaml, resolve_gpu};
use super::{Cluster, ClusterBuilder, LinkKind, Prices};
use crate::ids::NodeId;
use crate::input::{InputError, Source};
use crate::units::{Bandwidth, SimTime};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum NodeKindYaml {
    Gpu,
    Switch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum LinkKindYaml {
    IntraHost,
    Nic,
    Fabric,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NodeYaml {
    name: Spanned<String>,
    kind: NodeKindYaml,
    #[serde(default)]
    host: Option<u32>,
    #[serde(default)]
    latency: Option<SimTime>,
    #[serde(default)]
    overhead: Option<SimTime>,
    #[serde(default)]
    intra_overhead: Option<SimTime>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LinkYaml {
    a: Spanned<String>,
    b: Spanned<String>,
    bandwidth: Bandwidth,
    latency: SimTime,
    #[serde(default)]
    kind: Option<LinkKindYaml>,
}

pub(super) fn build(
    src: &Source,
    doc: &TopologyYaml,
    prices: Option<Prices>,
) -> Result<Cluster, InputError> {
    reject_generator_fields(src, doc)?;
    let (Some(nodes), Some(links)) = (&doc.nodes, &doc.links) else {
        return Err(src
            .error("the explicit form needs both `nodes:` and `links:`")
            .with_path(if doc.nodes.is_none() {
                "nodes"
            } else {
                "links"
            }));
    };
    let gpu = resolve_gpu(src, doc, None)?;
    let mut b = ClusterBuilder::new(doc.name.clone(), gpu)
        .description(doc.description.clone().unwrap_or_default())
        .fabric("explicit")
        .cost(prices);
    for (i, n) in nodes.value.iter().enumerate() {
        check_node_fields(src, i, n)?;
    }
    let ids = add_nodes(src, &mut b, &nodes.value)?;
    add_links(src, &mut b, &ids, &links.value)?;
    b.build().map_err(|e| {
        let at = src.error_at(links, "");
        InputError {
            message: format!("{e}"),
            ..at
        }
        .with_path("links")
    })
}

/// The generator keys (`host`, `hosts`, `nic`, `fabric`, ...) describe a
/// cluster another way: they cannot sit beside `nodes:`/`links:`.
fn reject_generator_fields(src: &Source, doc: &TopologyYaml) -> Result<(), InputError> {
    let generator_fields = [
        ("host", doc.host.as_ref().map(|s| src.error_at(s, ""))),
        ("hosts", doc.hosts.as_ref().map(|s| src.error_at(s, ""))),
        (
            "gpus_per_host",
            doc.gpus_per_host.as_ref().map(|s| src.error_at(s, "")),
        ),
        (
            "intra_host",
            doc.intra_host.as_ref().map(|s| src.error_at(s, "")),
        ),
        ("nic", doc.nic.as_ref().map(|s| src.error_at(s, ""))),
        ("fabric", doc.fabric.as_ref().map(|s| src.error_at(s, ""))),
    ];
    match generator_fields.into_iter().find(|(_, e)| e.is_some()) {
        Some((key, Some(at))) => Err(InputError {
            message: format!("`{key}` cannot be combined with `nodes:`/`links:`: describe the graph either with a generator (hosts, nic, fabric) or explicitly, not both"),
            ..at
        }
        .with_path(key)),
        _ => Ok(()),
    }
}

/// A GPU has no traversal latency; a switch has no host or overheads.
fn check_node_fields(src: &Source, i: usize, n: &NodeYaml) -> Result<(), InputError> {
    let misplaced = match n.kind {
        NodeKindYaml::Gpu => n
            .latency
            .is_some()
            .then_some(("latency", "only switches have a traversal latency")),
        NodeKindYaml::Switch => n
            .host
            .map(|_| ("host", "only GPUs belong to a host"))
            .or(n
                .overhead
                .map(|_| ("overhead", "only GPUs have endpoint overheads")))
            .or(n
                .intra_overhead
                .map(|_| ("intra_overhead", "only GPUs have endpoint overheads"))),
    };
    let Some((key, why)) = misplaced else {
        return Ok(());
    };
    let kind = if n.kind == NodeKindYaml::Gpu {
        "gpu"
    } else {
        "switch"
    };
    Err(src
        .error_at(
            &n.name,
            format!(
                "node '{}' is a {kind}: remove `{key}` ({why})",
                n.name.value
            ),
        )
        .with_path(format!("nodes[{i}].{key}")))
}

/// Adds GPUs host-major (a GPU without `host` gets a host of its own), then
/// switches; returns node ids by name, refusing a repeated name.
fn add_nodes(
    src: &Source,
    b: &mut ClusterBuilder,
    nodes: &[NodeYaml],
) -> Result<BTreeMap<String, NodeId>, InputError> {
    let mut gpus: Vec<(u32, usize)> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        if n.kind == NodeKindYaml::Gpu {
            let host = n.host.unwrap_or(gpus.len() as u32);
            gpus.push((host, i));
        }
    }
    gpus.sort_by_key(|&(host, i)| (host, i));
    // Host numbers are labels that group GPUs: the hosts are numbered
    // 0..k in label order, so gaps (0, 2, 7) do not count as hosts and a
    // label of 4294967295 does not overflow the host count.
    let (mut previous, mut dense) = (None, 0);
    for g in &mut gpus {
        if previous.is_some_and(|p| p != g.0) {
            dense += 1;
        }
        previous = Some(g.0);
        g.0 = dense;
    }
    let mut ids: BTreeMap<String, NodeId> = BTreeMap::new();
    let mut local: BTreeMap<u32, u32> = BTreeMap::new();
    let mut add = |name: &Spanned<String>, i: usize, id: NodeId| -> Result<(), InputError> {
        if ids.insert(name.value.clone(), id).is_some() {
            return Err(src
                .error_at(
                    name,
                    format!(
                        "a second node is named '{}': node names must be unique",
                        name.value
                    ),
                )
                .with_path(format!("nodes[{i}].name")));
        }
        Ok(())
    };
    for &(host, i) in &gpus {
        let n = &nodes[i];
        let l = local.entry(host).or_insert(0);
        let id = b.add_gpu(
            n.name.value.clone(),
            host,
            *l,
            n.overhead.unwrap_or_default(),
            n.intra_overhead.unwrap_or_default(),
        );
        *l += 1;
        add(&n.name, i, id)?;
    }
    for (i, n) in nodes.iter().enumerate() {
        if n.kind == NodeKindYaml::Switch {
            let id = b.add_switch(n.name.value.clone(), n.latency.unwrap_or_default());
            add(&n.name, i, id)?;
        }
    }
    Ok(ids)
}

/// Adds each link between two different, named nodes.
fn add_links(
    src: &Source,
    b: &mut ClusterBuilder,
    ids: &BTreeMap<String, NodeId>,
    links: &[LinkYaml],
) -> Result<(), InputError> {
    for (i, l) in links.iter().enumerate() {
        let find = |end: &Spanned<String>, key: &str| {
            ids.get(end.value.as_str()).copied().ok_or_else(|| {
                src.error_at(
                    end,
                    format!(
                        "link names an unknown node '{}': use a `name` listed under `nodes:`",
                        end.value
                    ),
                )
                .with_path(format!("links[{i}].{key}"))
            })
        };
        let (a, bb) = (find(&l.a, "a")?, find(&l.b, "b")?);
        if a == bb {
            return Err(src
                .error_at(
                    &l.b,
                    format!(
                        "link joins '{}' to itself: a link needs two different nodes",
                        l.a.value
                    ),
                )
                .with_path(format!("links[{i}].b")));
        }
        let kind = match l.kind.unwrap_or(LinkKindYaml::Fabric) {
            LinkKindYaml::IntraHost => LinkKind::IntraHost,
            LinkKindYaml::Nic => LinkKind::Nic,
            LinkKindYaml::Fabric => LinkKind::Fabric,
        };
        b.add_link(a, bb, l.bandwidth, l.latency, kind);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::GpuId;

    fn load(text: &str) -> Result<Cluster, InputError> {
        crate::topology::from_source(&Source::from_text("x.yaml", text))
    }

    const HEAD: &str = "name: x\ngpu: H100-SXM\n";

    #[test]
    fn gpus_are_numbered_host_major_and_routed() {
        let c = load(&format!("{HEAD}nodes:\n  - {{ name: b, kind: gpu, host: 1 }}\n  - {{ name: a, kind: gpu, host: 0, overhead: 2us }}\n  - {{ name: s, kind: switch, latency: 100ns }}\nlinks:\n  - {{ a: a, b: s, bandwidth: 100Gbps, latency: 1us, kind: nic }}\n  - {{ a: b, b: s, bandwidth: 100Gbps, latency: 1us }}\n")).unwrap();
        assert_eq!(c.node(c.gpu(GpuId(0)).node).name, "a");
        assert_eq!(c.gpu(GpuId(1)).host, 1);
        let r = c.route(GpuId(0), GpuId(1), 0);
        assert_eq!(r.latency, SimTime::from_ns(2100));
        assert_eq!(r.overhead, SimTime::from_us(2));
        assert_eq!(c.fabric, "explicit");
    }

    #[test]
    fn errors_name_the_link_and_line() {
        let e = load(&format!("{HEAD}nodes:\n  - {{ name: a, kind: gpu }}\n  - {{ name: s, kind: switch }}\nlinks:\n  - {{ a: a, b: s, bandwidth: 1Gbps, latency: 1us }}\n  - {{ a: a, b: t, bandwidth: 1Gbps, latency: 1us }}\n")).unwrap_err();
        assert_eq!(e.line, Some(8));
        assert_eq!(e.yaml_path.as_deref(), Some("links[1].b"));
        let e = load(&format!("{HEAD}nodes:\n  - {{ name: a, kind: gpu }}\n  - {{ name: b, kind: gpu }}\n  - {{ name: s, kind: switch }}\nlinks:\n  - {{ a: a, b: s, bandwidth: 1Gbps, latency: 1us }}\n")).unwrap_err();
        assert!(e.message.contains("disconnected"), "{}", e.message);
        assert_eq!(e.yaml_path.as_deref(), Some("links"));
        let e = load(&format!(
            "{HEAD}hosts: 2\nnodes:\n  - {{ name: a, kind: gpu }}\nlinks: []\n"
        ))
        .unwrap_err();
        assert_eq!(e.yaml_path.as_deref(), Some("hosts"));
        let e = load(&format!("{HEAD}nodes:\n  - {{ name: a, kind: gpu }}\n  - {{ name: a, kind: switch }}\nlinks: []\n")).unwrap_err();
        assert!(e.message.contains("unique"), "{}", e.message);
    }
}
