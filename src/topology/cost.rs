//! A back-of-the-envelope capex (and hourly running cost) estimate from the
//! optional `cost:` section of a topology file:
//!
//! ```yaml
//! cost: { gpu: 30000, nic: 1500, switch: 25000, link: 800, power_per_gpu_hour: 0.35 }
//! ```
//! All fields are optional dollar amounts (plain numbers, ≥ 0):
//! - `gpu`: per GPU (think: its share of the server);
//! - `nic`: per NIC, i.e. per `nic`-kind link (one per GPU in generated fabrics);
//! - `switch`: per *fabric* switch node — any switch with a link that is not
//!   intra-host (leaves, spines, rail leaves, ring/torus routers). A host's
//!   NVSwitch (only intra-host links) is part of the server, not priced here;
//! - `link`: per cable or optic pair, i.e. per full-duplex link that is not
//!   intra-host (NIC-to-switch and switch-to-switch);
//! - `power_per_gpu_hour`: running cost per GPU-hour (power, cooling, hosting).
//!
//! It does not model discounts, spares, rack space or cable lengths.

use super::{Cluster, LinkKind, NodeKind};
use crate::input::{InputError, Source};
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

/// Prices in dollars; a missing price counts as 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Prices {
    pub gpu: Option<f64>,
    pub nic: Option<f64>,
    pub switch: Option<f64>,
    pub link: Option<f64>,
    pub power_per_gpu_hour: Option<f64>,
}

/// The `cost:` section as written (spanned, for errors at the line).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostYaml {
    #[serde(default)]
    gpu: Option<Spanned<f64>>,
    #[serde(default)]
    nic: Option<Spanned<f64>>,
    #[serde(default)]
    switch: Option<Spanned<f64>>,
    #[serde(default)]
    link: Option<Spanned<f64>>,
    #[serde(default)]
    power_per_gpu_hour: Option<Spanned<f64>>,
}

impl CostYaml {
    /// Checks every price is a finite number ≥ 0.
    pub fn validate(&self, src: &Source) -> Result<Prices, InputError> {
        let check = |key: &str, v: &Option<Spanned<f64>>| -> Result<Option<f64>, InputError> {
            match v {
                None => Ok(None),
                Some(s) if s.value.is_finite() && s.value >= 0.0 => Ok(Some(s.value)),
                Some(s) => Err(src
                    .error_at(
                        s,
                        format!(
                            "{} is not a valid price: write a dollar amount of 0 or more",
                            s.value
                        ),
                    )
                    .with_path(format!("cost.{key}"))),
            }
        };
        Ok(Prices {
            gpu: check("gpu", &self.gpu)?,
            nic: check("nic", &self.nic)?,
            switch: check("switch", &self.switch)?,
            link: check("link", &self.link)?,
            power_per_gpu_hour: check("power_per_gpu_hour", &self.power_per_gpu_hour)?,
        })
    }
}

/// What the prices multiply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
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
}

impl Counts {
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
        for (i, node) in c.nodes().iter().enumerate() {
            if node.kind != NodeKind::Switch {
                continue;
            }
            let id = crate::ids::NodeId::from_index(i);
            if c.out_links(id)
                .iter()
                .all(|&l| c.link(l).kind == LinkKind::IntraHost)
            {
                n.intra_host_switches += 1;
            } else {
                n.fabric_switches += 1;
            }
        }
        n
    }
}

/// The estimate, in dollars.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostEstimate {
    pub gpus: f64,
    pub nics: f64,
    pub switches: f64,
    pub links: f64,
    /// gpus + nics + switches + links.
    pub capex: f64,
    /// Running cost per hour, if `power_per_gpu_hour` was given.
    pub per_hour: Option<f64>,
}

impl Prices {
    pub fn estimate(&self, n: &Counts) -> CostEstimate {
        let p = |x: Option<f64>, k: u64| x.unwrap_or(0.0) * k as f64;
        let gpus = p(self.gpu, n.gpus);
        let nics = p(self.nic, n.nics);
        let switches = p(self.switch, n.fabric_switches);
        let links = p(self.link, n.cables);
        CostEstimate {
            gpus,
            nics,
            switches,
            links,
            capex: gpus + nics + switches + links,
            per_hour: self.power_per_gpu_hour.map(|h| h * n.gpus as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::test_support::star;
    use crate::units::SimTime;

    #[test]
    fn counts_and_totals() {
        let c = star(4, 100.0, SimTime::from_us(1), SimTime::ZERO, SimTime::ZERO);
        let n = Counts::of(&c);
        assert_eq!((n.gpus, n.nics, n.fabric_switches, n.cables), (4, 4, 1, 4));
        let prices = Prices {
            gpu: Some(10_000.0),
            nic: Some(1_000.0),
            switch: Some(20_000.0),
            link: Some(500.0),
            power_per_gpu_hour: Some(0.5),
        };
        let e = prices.estimate(&n);
        assert_eq!(e.capex, 40_000.0 + 4_000.0 + 20_000.0 + 2_000.0);
        assert_eq!(e.per_hour, Some(2.0));
        let e = Prices {
            gpu: Some(1.0),
            ..Prices::default()
        }
        .estimate(&n);
        assert_eq!((e.capex, e.per_hour), (4.0, None));
    }

    #[test]
    fn negative_price_is_an_error_at_its_line() {
        let src = Source::from_text("c.yaml", "gpu: 1\nlink: -5\n");
        let y: CostYaml = src.parse().unwrap();
        let e = y.validate(&src).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert_eq!(e.yaml_path.as_deref(), Some("cost.link"));
    }
}
