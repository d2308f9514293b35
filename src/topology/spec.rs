//! The YAML topology format (DESIGN §4) and its loading into a [`Cluster`].
//!
//! ```yaml
//! name: kccb-4host
//! gpu: A100-SXM4-40GB            # preset (see gpu.rs) or inline spec
//! hosts: 4
//! gpus_per_host: 1
//! intra_host: { bandwidth: 300GB/s, latency: 1us, overhead: 0us }  # per GPU per direction; needed if gpus_per_host > 1
//! nic: { bandwidth: 100Gbps, latency: 1us, overhead: 2us }        # one NIC per GPU
//! fabric: { kind: switch, latency: 500ns }
//! cost: { gpus: { A100-SXM4-40GB: { price: 10000 } } }  # optional overrides of catalog/prices.yaml
//! ```
//! `fabric.kind` is one of `switch`, `fat-tree`, `rail`, `ring`, `torus` (see
//! generators.rs for what each builds and which fields it takes). `fabric`
//! is read as one flat mapping keyed by `kind` rather than a serde-tagged
//! enum so that every field keeps its line for error messages; a field that
//! does not belong to the kind is an error.
//!
//! `host:` names a server preset that fills `gpu`, `gpus_per_host`,
//! `intra_host` and `nic`; any of those written in the file replaces the
//! preset's (a whole section at a time). The explicit form (`nodes:` +
//! `links:`, see explicit.rs) replaces `hosts` .. `fabric`.

use super::catalog::{self, CostYaml};
use super::fabric_spec::{FabricYaml, fabric_from_yaml};
use super::generators::{self, Hosts, IntraHost, Nic};
use super::gpu::{self, GpuField};
use super::{Cluster, ClusterBuilder, GpuSpec};
use crate::input::{InputError, Source};
use crate::units::{Bandwidth, SimTime};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::Path;

/// Generated topologies are capped at this many GPUs (a typo guard).
pub const MAX_GPUS: u64 = 1 << 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TopologyYaml {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub host: Option<Spanned<String>>,
    #[serde(default)]
    pub gpu: Option<Spanned<GpuField>>,
    #[serde(default)]
    pub hosts: Option<Spanned<u32>>,
    #[serde(default)]
    pub gpus_per_host: Option<Spanned<u32>>,
    #[serde(default)]
    pub intra_host: Option<Spanned<EndpointYaml>>,
    #[serde(default)]
    pub nic: Option<Spanned<EndpointYaml>>,
    #[serde(default)]
    pub fabric: Option<Spanned<FabricYaml>>,
    #[serde(default)]
    pub nodes: Option<Spanned<Vec<super::explicit::NodeYaml>>>,
    #[serde(default)]
    pub links: Option<Spanned<Vec<super::explicit::LinkYaml>>>,
    #[serde(default)]
    pub cost: Option<CostYaml>,
}

/// `intra_host:` and `nic:`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EndpointYaml {
    bandwidth: Bandwidth,
    latency: SimTime,
    #[serde(default)]
    overhead: SimTime,
}

/// A server preset (`host:`).
struct HostPreset {
    name: &'static str,
    gpu: &'static str,
    gpus_per_host: u32,
    /// Intra-host (NVLink) bandwidth in GB/s (bytes) per GPU per direction;
    /// latency in ns.
    nvlink_gb_per_s: f64,
    nvlink_latency_ns: u64,
    nic_gbps: f64,
}

/// NVLink bandwidths are per GPU per direction (links are full duplex), as
/// NVIDIA's datasheets give them halved from the "bidirectional" totals:
/// A100 NVLink3 12 links × 25 GB/s = 300 GB/s (600 GB/s bidirectional),
/// H100/H200 NVLink4 18 × 25 = 450 GB/s (900 bidirectional), B200 NVLink5
/// 900 GB/s (1.8 TB/s bidirectional). NVSwitch latency is a modelling
/// choice (~0.7–1 us small-message NCCL latency inside a DGX): 1 us for
/// all. NICs: 1 us link latency, 2 us endpoint overhead.
const HOST_PRESETS: &[HostPreset] = &[
    HostPreset {
        name: "dgx-a100",
        gpu: "A100-SXM4-80GB",
        gpus_per_host: 8,
        nvlink_gb_per_s: 300.0,
        nvlink_latency_ns: 1000,
        nic_gbps: 200.0,
    },
    HostPreset {
        name: "dgx-h100",
        gpu: "H100-SXM",
        gpus_per_host: 8,
        nvlink_gb_per_s: 450.0,
        nvlink_latency_ns: 1000,
        nic_gbps: 400.0,
    },
    HostPreset {
        name: "dgx-h200",
        gpu: "H200-SXM",
        gpus_per_host: 8,
        nvlink_gb_per_s: 450.0,
        nvlink_latency_ns: 1000,
        nic_gbps: 400.0,
    },
    HostPreset {
        name: "dgx-b200",
        gpu: "B200",
        gpus_per_host: 8,
        nvlink_gb_per_s: 900.0,
        nvlink_latency_ns: 1000,
        nic_gbps: 400.0,
    },
];

/// Reads and loads a topology file.
pub fn load(path: &Path) -> Result<Cluster, InputError> {
    from_source(&Source::read(path)?)
}

/// Loads a topology from already-read text.
pub fn from_source(src: &Source) -> Result<Cluster, InputError> {
    let doc: TopologyYaml = src.parse()?;
    let prices = Some(catalog::merge(doc.cost.as_ref(), Some(src))?);
    if doc.nodes.is_some() || doc.links.is_some() {
        return super::explicit::build(src, &doc, prices);
    }
    let preset = match &doc.host {
        None => None,
        Some(h) => Some(
            HOST_PRESETS
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(h.value.trim()))
                .ok_or_else(|| {
                    let names: Vec<_> = HOST_PRESETS.iter().map(|p| p.name).collect();
                    src.error_at(
                        h,
                        format!(
                            "unknown host preset '{}': use one of {}",
                            h.value,
                            names.join(", ")
                        ),
                    )
                    .with_path("host")
                })?,
        ),
    };
    let gpu = resolve_gpu(src, &doc, preset.map(|p| p.gpu))?;
    let hosts = required_count(
        src,
        &doc.hosts,
        None,
        "hosts",
        "the number of hosts, like `hosts: 4`",
    )?;
    let gpus_per_host = required_count(
        src,
        &doc.gpus_per_host,
        preset.map(|p| p.gpus_per_host),
        "gpus_per_host",
        "the GPUs in each host, like `gpus_per_host: 8`",
    )?;
    if u64::from(hosts) * u64::from(gpus_per_host) > MAX_GPUS {
        let at = doc
            .hosts
            .as_ref()
            .map_or_else(|| src.error(""), |h| src.error_at(h, ""));
        return Err(InputError {
            message: format!(
                "{hosts} hosts × {gpus_per_host} GPUs is more than the {MAX_GPUS} GPUs fabsim models"
            ),
            ..at
        });
    }
    let intra_host = intra_host(src, &doc, preset, gpus_per_host)?;
    let nic = nic(src, &doc, preset)?;
    let Some(fabric_yaml) = &doc.fabric else {
        return Err(src
            .error(format!("missing `fabric`: add e.g. `fabric: {{ kind: switch, latency: 500ns }}` (kinds: {}), or describe the graph with `nodes:` and `links:`", generators::KINDS.join(", ")))
            .with_path("fabric"));
    };
    let fabric = fabric_from_yaml(src, &fabric_yaml.value, hosts, nic)?;
    let h = Hosts {
        hosts,
        gpus_per_host,
        intra_host,
        nic,
    };
    let builder = ClusterBuilder::new(doc.name.clone(), gpu)
        .description(doc.description.clone().unwrap_or_default())
        .fabric(fabric.kind_name())
        .cost(prices);
    generators::build(builder, &h, &fabric)
        .map_err(|e| src.error(e.to_string()).with_path("fabric"))
}

/// The NVLink/NVSwitch domain: as written, else the host preset's; required
/// when a host has more than one GPU.
fn intra_host(
    src: &Source,
    doc: &TopologyYaml,
    preset: Option<&HostPreset>,
    gpus_per_host: u32,
) -> Result<Option<IntraHost>, InputError> {
    let intra_host = match (&doc.intra_host, preset) {
        (Some(i), _) => Some(IntraHost {
            bandwidth: i.value.bandwidth,
            latency: i.value.latency,
            overhead: i.value.overhead,
        }),
        (None, Some(p)) => Some(IntraHost {
            bandwidth: Bandwidth::new(p.nvlink_gb_per_s * 1e9)
                .ok_or_else(|| src.error("bad host preset"))?,
            latency: SimTime::from_ns(p.nvlink_latency_ns),
            overhead: SimTime::ZERO,
        }),
        (None, None) => None,
    };
    if gpus_per_host > 1 && intra_host.is_none() {
        let e = match &doc.gpus_per_host {
            Some(g) => src.error_at(g, ""),
            None => src.error(""),
        };
        return Err(InputError {
            message: format!(
                "gpus_per_host is {gpus_per_host}, so `intra_host` is required: add `intra_host: {{ bandwidth: 450GB/s, latency: 1us }}` (the NVLink/NVSwitch domain, per GPU per direction)"
            ),
            ..e
        }
        .with_path("intra_host"));
    }
    Ok(intra_host)
}

/// The per-GPU NIC: as written, else the host preset's (1 µs, 2 µs
/// overhead); required.
fn nic(src: &Source, doc: &TopologyYaml, preset: Option<&HostPreset>) -> Result<Nic, InputError> {
    Ok(match (&doc.nic, preset) {
        (Some(n), _) => Nic {
            bandwidth: n.value.bandwidth,
            latency: n.value.latency,
            overhead: n.value.overhead,
        },
        (None, Some(p)) => Nic {
            bandwidth: Bandwidth::from_gbps(p.nic_gbps),
            latency: SimTime::from_us(1),
            overhead: SimTime::from_us(2),
        },
        (None, None) => {
            return Err(src
                .error("missing `nic`: add `nic: { bandwidth: 100Gbps, latency: 1us, overhead: 2us }` (one NIC per GPU)")
                .with_path("nic"));
        }
    })
}

pub(super) fn resolve_gpu(
    src: &Source,
    doc: &TopologyYaml,
    preset: Option<&str>,
) -> Result<GpuSpec, InputError> {
    match (&doc.gpu, preset) {
        (Some(g), _) => gpu::resolve(src, g),
        (None, Some(name)) => gpu::preset(name)
            .ok_or_else(|| src.error(format!("host preset GPU '{name}' is unknown"))),
        (None, None) => Err(src
            .error(format!(
                "missing `gpu`: give a preset ({}), an inline spec, or a `host:` preset",
                gpu::preset_names().join(", ")
            ))
            .with_path("gpu")),
    }
}

/// A count ≥ 1 from the file, else from a preset, else a "missing" error.
fn required_count(
    src: &Source,
    v: &Option<Spanned<u32>>,
    preset: Option<u32>,
    path: &str,
    what: &str,
) -> Result<u32, InputError> {
    match (v, preset) {
        (Some(s), _) if s.value == 0 => Err(src
            .error_at(s, format!("`{path}` is 0: it must be at least 1"))
            .with_path(path)),
        (Some(s), _) => Ok(s.value),
        (None, Some(p)) => Ok(p),
        (None, None) => Err(src
            .error(format!("missing `{path}`: give {what}"))
            .with_path(path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::GpuId;

    fn load(text: &str) -> Result<Cluster, InputError> {
        from_source(&Source::from_text("s.yaml", text))
    }

    #[test]
    fn host_preset_fills_and_file_overrides() {
        let c = load("name: p\nhost: dgx-h100\nhosts: 2\nfabric: { kind: switch }\n").unwrap();
        assert_eq!((c.num_gpus(), c.gpu.name.as_str()), (16, "H100-SXM"));
        let nic = c.link(c.out_links(c.gpu(GpuId(0)).node)[1]);
        assert_eq!(nic.bandwidth, Bandwidth::from_gbps(400.0));
        // Inside a host: NVSwitch latency 1us.
        assert_eq!(c.route(GpuId(0), GpuId(7), 0).latency, SimTime::from_us(1));
        let c = load("name: p\nhost: dgx-h100\ngpu: H200-SXM\nhosts: 1\ngpus_per_host: 4\nnic: { bandwidth: 200Gbps, latency: 2us }\nfabric: { kind: switch }\n").unwrap();
        assert_eq!((c.num_gpus(), c.gpu.name.as_str()), (4, "H200-SXM"));
        assert_eq!(c.route(GpuId(0), GpuId(1), 0).overhead, SimTime::ZERO);
    }

    #[test]
    fn missing_and_zero_fields_are_reported() {
        let e =
            load("name: p\ngpu: H100-SXM\nhosts: 2\ngpus_per_host: 1\nfabric: { kind: switch }\n")
                .unwrap_err();
        assert_eq!(e.yaml_path.as_deref(), Some("nic"));
        let e = load("name: p\ngpu: H100-SXM\nhosts: 2\ngpus_per_host: 0\nnic: { bandwidth: 1Gbps, latency: 1us }\nfabric: { kind: switch }\n").unwrap_err();
        assert_eq!(
            (e.line, e.yaml_path.as_deref()),
            (Some(4), Some("gpus_per_host"))
        );
        let e = load("name: p\nhost: dgx-x\nhosts: 2\n").unwrap_err();
        assert!(e.message.contains("dgx-h100"), "{}", e.message);
        let e = load("name: p\ngpu: H100-SXM\nhosts: 4000000\ngpus_per_host: 1\nnic: { bandwidth: 1Gbps, latency: 1us }\nfabric: { kind: switch }\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        let e = load("name: p\ngpu: H100-SXM\nhosts: 2\ngpus_per_host: 1\nnic: { bandwidth: 1Gbps, latency: 1us }\nfabric: { kind: ring, spines: 2 }\n").unwrap_err();
        assert_eq!(e.yaml_path.as_deref(), Some("fabric.spines"));
        let e = load("name: p\ngpu: H100-SXM\nhosts: 2\ngpus_per_host: 1\nnic: { bandwidth: 1Gbps, latency: 1us }\nfabric: { kind: fat-tree, hosts_per_leaf: 1, spines: 1, uplink: { bandwidth: 1Gbps, latency: 1us }, levels: 4 }\n").unwrap_err();
        assert_eq!(e.yaml_path.as_deref(), Some("fabric.levels"));
    }
}
