//! The `fabric:` section of a topology file: one flat mapping keyed by
//! `kind`, validated per kind into a [`FabricLayout`] for the generators.
//!
//! It is read as a flat struct rather than a serde internally-tagged enum so
//! that every field keeps its YAML line (serde buffers tagged-enum content and
//! loses positions). A field that does not belong to the kind is an error, as
//! are zero counts, a torus whose `dims` do not multiply to `hosts`, and
//! `levels` other than 2 or 3. Defaults: `latency` 0; ring/torus `link` = the
//! NIC's bandwidth and latency; three-level `core_uplink` = `uplink`.

use super::generators::{self, FabricLayout, Nic, ThreeLevel, Uplink};
use crate::input::{InputError, Source};
use crate::units::{Bandwidth, SimTime};
use serde::Deserialize;
use serde_saphyr::Spanned;

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UplinkYaml {
    bandwidth: Bandwidth,
    latency: SimTime,
}

impl From<UplinkYaml> for Uplink {
    fn from(u: UplinkYaml) -> Uplink {
        Uplink {
            bandwidth: u.bandwidth,
            latency: u.latency,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FabricYaml {
    kind: Spanned<String>,
    #[serde(default)]
    latency: Option<SimTime>,
    #[serde(default)]
    hosts_per_leaf: Option<Spanned<u32>>,
    #[serde(default)]
    spines: Option<Spanned<u32>>,
    #[serde(default)]
    uplink: Option<UplinkYaml>,
    #[serde(default)]
    levels: Option<Spanned<u32>>,
    #[serde(default)]
    leaves_per_pod: Option<Spanned<u32>>,
    #[serde(default)]
    cores: Option<Spanned<u32>>,
    #[serde(default)]
    core_uplink: Option<UplinkYaml>,
    #[serde(default)]
    dims: Option<Spanned<Vec<u32>>>,
    #[serde(default)]
    link: Option<UplinkYaml>,
}

/// A fabric count (≥ 1); `kind` locates the error when it is missing.
/// Spines, cores and leaves per pod above this are taken as typos.
const MAX_SWITCH_COUNT: u32 = 65_536;

fn fabric_count(
    src: &Source,
    f: &FabricYaml,
    v: &Option<Spanned<u32>>,
    key: &str,
) -> Result<u32, InputError> {
    let path = format!("fabric.{key}");
    match v {
        Some(s) if s.value == 0 => Err(src
            .error_at(s, format!("`{key}` is 0: it must be at least 1"))
            .with_path(path)),
        Some(s) if s.value > MAX_SWITCH_COUNT && key != "hosts_per_leaf" => Err(src
            .error_at(
                s,
                format!(
                    "`{key}` is {}: at most {MAX_SWITCH_COUNT} are supported",
                    s.value
                ),
            )
            .with_path(path)),
        Some(s) => Ok(s.value),
        None => Err(src
            .error_at(
                &f.kind,
                format!("a `{}` fabric needs `{key}`", f.kind.value),
            )
            .with_path(path)),
    }
}

fn fabric_uplink(
    src: &Source,
    f: &FabricYaml,
    v: Option<UplinkYaml>,
    key: &str,
) -> Result<Uplink, InputError> {
    v.map(Uplink::from).ok_or_else(|| {
        src.error_at(
            &f.kind,
            format!(
                "a `{}` fabric needs `{key}: {{ bandwidth: 400Gbps, latency: 500ns }}`",
                f.kind.value
            ),
        )
        .with_path(format!("fabric.{key}"))
    })
}

pub fn fabric_from_yaml(
    src: &Source,
    f: &FabricYaml,
    hosts: u32,
    nic: Nic,
) -> Result<FabricLayout, InputError> {
    let kind = f.kind.value.trim();
    check_keys(src, f, kind)?;
    let latency = f.latency.unwrap_or(SimTime::ZERO);
    Ok(match kind {
        "switch" => FabricLayout::Switch { latency },
        "fat-tree" => fat_tree(src, f, latency)?,
        "rail" => FabricLayout::Rail {
            spines: fabric_count(src, f, &f.spines, "spines")?,
            uplink: fabric_uplink(src, f, f.uplink, "uplink")?,
            latency,
        },
        "ring" | "torus" => ring_or_torus(src, f, kind, hosts, nic, latency)?,
        _ => unreachable_kind(src, f)?,
    })
}

/// The kind must be known, and only its own keys may be given.
fn check_keys(src: &Source, f: &FabricYaml, kind: &str) -> Result<(), InputError> {
    let allowed: &[&str] = match kind {
        "switch" => &["latency"],
        "fat-tree" => &[
            "latency",
            "hosts_per_leaf",
            "spines",
            "uplink",
            "levels",
            "leaves_per_pod",
            "cores",
            "core_uplink",
        ],
        "rail" => &["latency", "spines", "uplink"],
        "ring" => &["latency", "link"],
        "torus" => &["latency", "dims", "link"],
        _ => {
            return Err(src
                .error_at(
                    &f.kind,
                    format!(
                        "unknown fabric kind '{kind}': use one of {}",
                        generators::KINDS.join(", ")
                    ),
                )
                .with_path("fabric.kind"));
        }
    };
    let present = [
        ("hosts_per_leaf", f.hosts_per_leaf.is_some()),
        ("spines", f.spines.is_some()),
        ("uplink", f.uplink.is_some()),
        ("levels", f.levels.is_some()),
        ("leaves_per_pod", f.leaves_per_pod.is_some()),
        ("cores", f.cores.is_some()),
        ("core_uplink", f.core_uplink.is_some()),
        ("dims", f.dims.is_some()),
        ("link", f.link.is_some()),
    ];
    if let Some((key, _)) = present.iter().find(|(k, p)| *p && !allowed.contains(k)) {
        return Err(src
            .error_at(&f.kind, format!("`{key}` does not apply to a `{kind}` fabric: remove it (a `{kind}` fabric takes {})", allowed.join(", ")))
            .with_path(format!("fabric.{key}")));
    }
    Ok(())
}

/// A 2- or 3-level fat-tree; the 3-level keys need `levels: 3`.
fn fat_tree(src: &Source, f: &FabricYaml, latency: SimTime) -> Result<FabricLayout, InputError> {
    let hosts_per_leaf = fabric_count(src, f, &f.hosts_per_leaf, "hosts_per_leaf")?;
    let spines = fabric_count(src, f, &f.spines, "spines")?;
    let uplink = fabric_uplink(src, f, f.uplink, "uplink")?;
    let levels = f.levels.as_ref().map_or(2, |l| l.value);
    let three_level = match (levels, &f.levels) {
        (2, _) => {
            if let Some(key) = [
                ("leaves_per_pod", f.leaves_per_pod.is_some()),
                ("cores", f.cores.is_some()),
                ("core_uplink", f.core_uplink.is_some()),
            ]
            .iter()
            .find_map(|(k, p)| p.then_some(*k))
            {
                return Err(src
                    .error_at(&f.kind, format!("`{key}` needs `levels: 3`"))
                    .with_path(format!("fabric.{key}")));
            }
            None
        }
        (3, _) => Some(ThreeLevel {
            leaves_per_pod: fabric_count(src, f, &f.leaves_per_pod, "leaves_per_pod")?,
            cores: fabric_count(src, f, &f.cores, "cores")?,
            core_uplink: f.core_uplink.map_or(uplink, Uplink::from),
        }),
        (n, Some(l)) => {
            return Err(src
                .error_at(l, format!("`levels` is {n}: a fat-tree has 2 or 3 levels"))
                .with_path("fabric.levels"));
        }
        (_, None) => None,
    };
    Ok(FabricLayout::FatTree {
        hosts_per_leaf,
        spines,
        uplink,
        latency,
        three_level,
    })
}

/// A ring, or a torus whose `dims` hold every host.
fn ring_or_torus(
    src: &Source,
    f: &FabricYaml,
    kind: &str,
    hosts: u32,
    nic: Nic,
    latency: SimTime,
) -> Result<FabricLayout, InputError> {
    // Ring/torus hops default to the NIC's bandwidth and latency.
    let link = f.link.map_or(
        Uplink {
            bandwidth: nic.bandwidth,
            latency: nic.latency,
        },
        Uplink::from,
    );
    let dims = if kind == "torus" {
        let Some(d) = &f.dims else {
            return Err(src
                .error_at(
                    &f.kind,
                    "a `torus` fabric needs `dims`, like `dims: [4, 4]`",
                )
                .with_path("fabric.dims"));
        };
        let product = d.value.iter().try_fold(1u32, |acc, &x| acc.checked_mul(x));
        if d.value.is_empty() || d.value.contains(&0) || product != Some(hosts) {
            return Err(src
                .error_at(d, format!("dims {:?} do not hold {hosts} hosts: give 1 to 3 sizes ≥ 1 whose product is `hosts`", d.value))
                .with_path("fabric.dims"));
        }
        Some(d.value.clone())
    } else {
        None
    };
    Ok(match dims {
        Some(dims) => FabricLayout::Torus {
            dims,
            latency,
            link,
        },
        None => FabricLayout::Ring { latency, link },
    })
}

fn unreachable_kind(src: &Source, f: &FabricYaml) -> Result<FabricLayout, InputError> {
    Err(src
        .error_at(&f.kind, "unknown fabric kind")
        .with_path("fabric.kind"))
}
