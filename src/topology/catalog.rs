//! The price catalog (`catalog/prices.yaml`, built into the binary) and a
//! topology's `cost:` overrides of it, merged and checked into [`Prices`].
//!
//! The catalog lists GPUs by preset name, NICs, switch ports and optics by
//! speed, and power (`usd_per_kwh`, `pue`); every entry has a price and a
//! power draw and names one of the catalog's `sources`. A topology's `cost:`
//! section has the same shape and replaces any field of any entry, or adds
//! entries (e.g. an inline GPU's price):
//!
//! ```yaml
//! cost: { gpus: { H100-SXM: { price: 28000 } }, power: { usd_per_kwh: 0.12 } }
//! ```
//! What the prices multiply is `cost.rs`'s business, not this module's.

use crate::input::{InputError, Source};
use crate::units::parse_bandwidth;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The catalog text, as shipped.
pub const CATALOG_YAML: &str = include_str!("../../catalog/prices.yaml");
/// The name errors in the built-in catalog carry.
pub const CATALOG_FILE: &str = "catalog/prices.yaml";

/// One entry as written: any field may be left out in an override.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemYaml {
    #[serde(default)]
    price: Option<Spanned<f64>>,
    #[serde(default)]
    watts: Option<Spanned<f64>>,
    #[serde(default)]
    source: Option<String>,
}

/// `power:` as written: electricity price and PUE, each optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerYaml {
    #[serde(default)]
    usd_per_kwh: Option<Spanned<f64>>,
    #[serde(default)]
    pue: Option<Spanned<f64>>,
    #[serde(default)]
    source: Option<String>,
}

/// The catalog file, or a topology's `cost:` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostYaml {
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    gpus: BTreeMap<String, ItemYaml>,
    #[serde(default)]
    nics: BTreeMap<String, ItemYaml>,
    #[serde(default)]
    switch_ports: BTreeMap<String, ItemYaml>,
    #[serde(default)]
    optics: BTreeMap<String, ItemYaml>,
    #[serde(default)]
    power: PowerYaml,
    #[serde(default)]
    sources: BTreeMap<String, String>,
}

/// A checked entry: dollars and watts, and where the figure comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// Dollars per unit.
    pub price: f64,
    /// Power draw per unit, watts.
    pub watts: f64,
    /// Where the figures come from.
    pub source: String,
}

/// The merged catalog a cluster is priced with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prices {
    /// The catalog's date (prices drift).
    pub date: String,
    /// Currency of every price (`USD`).
    pub currency: String,
    /// By GPU preset name as written in the catalog (matched ignoring case).
    pub gpus: BTreeMap<String, Item>,
    /// By speed in Gbit/s, ascending.
    pub nics: Vec<(f64, Item)>,
    /// Switch ports by speed in Gbit/s, ascending.
    pub switch_ports: Vec<(f64, Item)>,
    /// Transceivers by speed in Gbit/s, ascending.
    pub optics: Vec<(f64, Item)>,
    /// Electricity price, dollars per kWh.
    pub usd_per_kwh: f64,
    /// Power usage effectiveness: facility power over IT power.
    pub pue: f64,
    /// `table.key.field` of every entry the topology replaced or added.
    pub overridden: Vec<String>,
}

/// The shipped catalog as written (parsed once; it is checked by a test).
fn base() -> &'static CostYaml {
    static BASE: OnceLock<CostYaml> = OnceLock::new();
    BASE.get_or_init(|| {
        Source::from_text(CATALOG_FILE, CATALOG_YAML)
            .parse()
            .unwrap_or_default()
    })
}

/// The shipped catalog, checked.
pub fn shipped() -> Result<Prices, InputError> {
    merge(None, None)
}

/// The shipped catalog with `overrides` (a topology's `cost:` from `src`).
pub fn merge(overrides: Option<&CostYaml>, src: Option<&Source>) -> Result<Prices, InputError> {
    let cat_src = Source::from_text(CATALOG_FILE, CATALOG_YAML);
    let base = base();
    if base.gpus.is_empty() {
        // The built-in text failed to parse: report it properly.
        cat_src.parse::<CostYaml>()?;
    }
    let mut overridden = Vec::new();
    let mut tables = Vec::new();
    for (name, pick) in TABLES {
        let mut merged = BTreeMap::new();
        for (k, item) in pick(base) {
            let at = |m: String| cat_src.error(m).with_path(format!("{name}.{k}"));
            merged.insert(k.clone(), check_item(&cat_src, name, k, item, at)?);
        }
        if let (Some(o), Some(src)) = (overrides, src) {
            for (k, item) in pick(o) {
                let key = merged
                    .keys()
                    .find(|m| m.eq_ignore_ascii_case(k))
                    .cloned()
                    .unwrap_or_else(|| k.clone());
                let path = format!("cost.{name}.{k}");
                let old = merged.remove(&key);
                let new = override_item(src, &path, old, item)?;
                for (f, given) in [
                    ("price", item.price.is_some()),
                    ("watts", item.watts.is_some()),
                ] {
                    if given {
                        overridden.push(format!("{name}.{k}.{f}"));
                    }
                }
                merged.insert(key, new);
            }
        }
        tables.push(merged);
    }
    if let Some((k, _)) = base.sources.iter().find(|(_, v)| v.trim().is_empty()) {
        return Err(cat_src
            .error(format!("source '{k}' is empty"))
            .with_path(format!("sources.{k}")));
    }
    let power = power(&cat_src, base, overrides, src, &mut overridden)?;
    let by_speed = |t: BTreeMap<String, Item>, name: &str| speeds(t, name, src, &cat_src);
    let mut it = tables.into_iter();
    let gpus = it.next().unwrap_or_default();
    let nics = by_speed(it.next().unwrap_or_default(), "nics")?;
    let switch_ports = by_speed(it.next().unwrap_or_default(), "switch_ports")?;
    let optics = by_speed(it.next().unwrap_or_default(), "optics")?;
    let o = overrides.cloned().unwrap_or_default();
    Ok(Prices {
        date: o.date.or(base.date.clone()).unwrap_or_default(),
        currency: o
            .currency
            .or(base.currency.clone())
            .unwrap_or_else(|| "USD".into()),
        gpus,
        nics,
        switch_ports,
        optics,
        usd_per_kwh: power.0,
        pue: power.1,
        overridden,
    })
}

type Pick = fn(&CostYaml) -> &BTreeMap<String, ItemYaml>;
const TABLES: [(&str, Pick); 4] = [
    ("gpus", |c| &c.gpus),
    ("nics", |c| &c.nics),
    ("switch_ports", |c| &c.switch_ports),
    ("optics", |c| &c.optics),
];

/// A catalog entry must be complete and name a known source.
fn check_item(
    src: &Source,
    table: &str,
    key: &str,
    item: &ItemYaml,
    at: impl Fn(String) -> InputError,
) -> Result<Item, InputError> {
    let (Some(price), Some(watts)) = (&item.price, &item.watts) else {
        return Err(at(format!("{table}.{key} needs both `price` and `watts`")));
    };
    let source = item.source.clone().unwrap_or_default();
    if !base().sources.contains_key(&source) {
        return Err(at(format!(
            "{table}.{key}: source '{source}' is not one of `sources`"
        )));
    }
    Ok(Item {
        price: amount(src, price, &format!("{table}.{key}.price"))?,
        watts: amount(src, watts, &format!("{table}.{key}.watts"))?,
        source,
    })
}

/// A topology's replacement of (or addition to) one entry.
fn override_item(
    src: &Source,
    path: &str,
    old: Option<Item>,
    item: &ItemYaml,
) -> Result<Item, InputError> {
    let field = |v: &Option<Spanned<f64>>, f: &str, old: Option<f64>| match (v, old) {
        (Some(s), _) => amount(src, s, &format!("{path}.{f}")),
        (None, Some(o)) => Ok(o),
        (None, None) => Err(src
            .error(format!(
                "{path} is not in the catalog, so it needs both `price` and `watts`"
            ))
            .with_path(path.to_string())),
    };
    Ok(Item {
        price: field(&item.price, "price", old.as_ref().map(|o| o.price))?,
        watts: field(&item.watts, "watts", old.as_ref().map(|o| o.watts))?,
        source: item
            .source
            .clone()
            .or(old.map(|o| o.source))
            .unwrap_or_else(|| "topology file".into()),
    })
}

/// A finite amount ≥ 0.
fn amount(src: &Source, v: &Spanned<f64>, path: &str) -> Result<f64, InputError> {
    if v.value.is_finite() && v.value >= 0.0 {
        Ok(v.value)
    } else {
        Err(src
            .error_at(
                v,
                format!("{} is not valid here: write a number of 0 or more", v.value),
            )
            .with_path(path.to_string()))
    }
}

fn power(
    cat: &Source,
    base: &CostYaml,
    o: Option<&CostYaml>,
    src: Option<&Source>,
    overridden: &mut Vec<String>,
) -> Result<(f64, f64), InputError> {
    let mut pick = |f: fn(&PowerYaml) -> &Option<Spanned<f64>>, name: &str| match (
        o.and_then(|o| f(&o.power).as_ref()),
        src,
    ) {
        (Some(v), Some(s)) => {
            overridden.push(format!("power.{name}"));
            amount(s, v, &format!("cost.power.{name}"))
        }
        _ => match f(&base.power) {
            Some(v) => amount(cat, v, &format!("power.{name}")),
            None => Err(cat
                .error(format!("power.{name} is missing"))
                .with_path("power")),
        },
    };
    let named = base.power.source.as_ref();
    if !named.is_some_and(|s| base.sources.contains_key(s)) {
        return Err(cat
            .error("power.source must name one of `sources`")
            .with_path("power.source"));
    }
    let kwh = pick(|p| &p.usd_per_kwh, "usd_per_kwh")?;
    let pue = pick(|p| &p.pue, "pue")?;
    if pue < 1.0 {
        return Err(match src {
            Some(s) => s.error(format!(
                "pue is {pue}: it is total power / IT power, at least 1"
            )),
            None => cat.error(format!("pue is {pue}: at least 1")),
        }
        .with_path("cost.power.pue"));
    }
    Ok((kwh, pue))
}

/// A speed-keyed table, sorted by speed in Gbit/s.
fn speeds(
    t: BTreeMap<String, Item>,
    table: &str,
    src: Option<&Source>,
    cat: &Source,
) -> Result<Vec<(f64, Item)>, InputError> {
    let mut out = Vec::with_capacity(t.len());
    for (k, item) in t {
        let bw = parse_bandwidth(&k).map_err(|e| {
            src.unwrap_or(cat)
                .error(format!(
                    "'{k}' is not a speed ({e}): key {table} by speed, like 400Gbps"
                ))
                .with_path(format!("{table}.{k}"))
        })?;
        out.push((bw.bytes_per_sec() * 8.0 / 1e9, item));
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(out)
}

impl Prices {
    /// The GPU entry for a preset name, ignoring case.
    pub fn gpu(&self, name: &str) -> Option<&Item> {
        self.gpus
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name.trim()))
            .map(|(_, v)| v)
    }
}

/// The entry of a speed table for a link of `gbps`, and how many of it: the
/// smallest listed speed ≥ `gbps`, else ceil(gbps / fastest) of the fastest.
pub fn for_speed(table: &[(f64, Item)], gbps: f64) -> Option<(&Item, u64)> {
    if let Some((_, item)) = table.iter().find(|(s, _)| *s >= gbps * (1.0 - 1e-9)) {
        return Some((item, 1));
    }
    let (s, item) = table.last()?;
    Some((item, (gbps / s - 1e-9).ceil().max(1.0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_catalog_is_complete_and_sorted() {
        let p = shipped().unwrap();
        assert!(p.date.starts_with("20"), "dated: {}", p.date);
        for name in crate::topology::gpu::preset_names() {
            assert!(p.gpu(name).is_some(), "{name} has no price");
        }
        for t in [&p.nics, &p.switch_ports, &p.optics] {
            assert!(t.windows(2).all(|w| w[0].0 < w[1].0));
            // Faster parts cost more.
            assert!(t.windows(2).all(|w| w[0].1.price < w[1].1.price));
        }
        assert!(p.pue >= 1.0 && p.usd_per_kwh > 0.0);
    }

    #[test]
    fn overrides_replace_fields_and_are_checked() {
        let src = Source::from_text(
            "t.yaml",
            "gpus: { h100-sxm: { price: 1 }, my-gpu: { price: 5, watts: 100 } }\npower: { pue: 1.2 }\n",
        );
        let o: CostYaml = src.parse().unwrap();
        let p = merge(Some(&o), Some(&src)).unwrap();
        let h = p.gpu("H100-SXM").unwrap();
        assert_eq!((h.price, h.watts), (1.0, 1275.0));
        assert_eq!(p.gpu("my-gpu").unwrap().price, 5.0);
        assert_eq!(p.pue, 1.2);
        assert!(p.overridden.contains(&"power.pue".to_string()));
        let src = Source::from_text("t.yaml", "nics:\n  100Gbps: { price: -5 }\n");
        let o: CostYaml = src.parse().unwrap();
        let e = merge(Some(&o), Some(&src)).unwrap_err();
        assert_eq!(e.line, Some(2));
        let src = Source::from_text("t.yaml", "gpus: { x: { price: 5 } }\n");
        let o: CostYaml = src.parse().unwrap();
        let e = merge(Some(&o), Some(&src)).unwrap_err();
        assert!(e.message.contains("needs both"), "{}", e.message);
    }

    #[test]
    fn speeds_round_up_and_bundle() {
        let p = shipped().unwrap();
        let (i, n) = for_speed(&p.switch_ports, 300.0).unwrap();
        assert_eq!((i.price, n), (700.0, 1));
        let (i, n) = for_speed(&p.switch_ports, 1600.0).unwrap();
        assert_eq!((i.price, n), (1200.0, 2));
    }
}
