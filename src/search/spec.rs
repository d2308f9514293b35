//! The search file format and its validation.
//!
//! ```yaml
//! name: gpt3-175b-1m-tokens            # default: the file stem
//! workload: ../workloads/gpt3-175b.yaml
//! global_batch: 1536                   # samples per step, split over data replicas
//! target:                              # all optional
//!   tokens_per_s: 1000000              # or tokens_per_day, or step_time: 3s
//!   budget: 400000000                  # capex ceiling, dollars
//! hardware:
//!   servers: [dgx-h100, dgx-h200, dgx-b200]   # host presets
//!   gpus: [1024, 2048, 4096]
//!   nics: [400Gbps]
//!   fabrics:
//!     - { kind: rail }                 # oversubscription: 1 by default
//!     - { kind: fat-tree, oversubscription: 2 }
//! parallelism:
//!   tensor: [4, 8]
//!   pipeline: [4, 8, 16]
//!   microbatch_size: [1, 2]            # samples per microbatch (default [1])
//!   schedule: [1f1b]                   # default [1f1b]
//!   zero: [0, 1]                       # default [0]
//!   recompute: [none, selective, full] # default [none]
//! scenario:                            # optional: given to every candidate's scenario
//!   collective: { algorithm: ring, overlap: true, bucket_bytes: 100MB }
//! trials: 1
//! ```
//! Paths are relative to the search file. It does not build the candidates
//! (see `space.rs`).

use crate::input::{InputError, Source};
use crate::units::{SimTime, parse_bandwidth};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::PathBuf;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SearchFile {
    pub name: Option<String>,
    #[serde(default)]
    pub description: String,
    pub workload: Spanned<PathBuf>,
    pub global_batch: Spanned<u32>,
    #[serde(default)]
    pub target: TargetYaml,
    pub hardware: HardwareYaml,
    pub parallelism: ParallelismYaml,
    #[serde(default)]
    pub scenario: Option<Spanned<serde_json::Value>>,
    pub trials: Option<u64>,
    pub seed: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TargetYaml {
    pub tokens_per_s: Option<Spanned<f64>>,
    pub tokens_per_day: Option<Spanned<f64>>,
    pub step_time: Option<Spanned<SimTime>>,
    pub budget: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HardwareYaml {
    pub servers: Spanned<Vec<Spanned<String>>>,
    pub gpus: Spanned<Vec<Spanned<u32>>>,
    pub nics: Spanned<Vec<Spanned<String>>>,
    pub fabrics: Spanned<Vec<Spanned<FabricChoice>>>,
}

/// A fabric kind and its oversubscription (leaf down : up).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FabricChoice {
    /// `rail`, `fat-tree` or `switch` (see [`FABRIC_KINDS`]).
    pub kind: String,
    /// Leaf down-links per up-link (1: non-blocking).
    #[serde(default = "one")]
    pub oversubscription: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ParallelismYaml {
    pub tensor: Spanned<Vec<u32>>,
    pub pipeline: Spanned<Vec<u32>>,
    #[serde(default = "ones")]
    pub microbatch_size: Spanned<Vec<u32>>,
    #[serde(default = "default_schedules")]
    pub schedule: Spanned<Vec<String>>,
    #[serde(default = "zeros")]
    pub zero: Spanned<Vec<u8>>,
    #[serde(default = "no_recompute")]
    pub recompute: Spanned<Vec<String>>,
}

fn spanned<T>(value: T) -> Spanned<T> {
    Spanned {
        value,
        referenced: serde_saphyr::Location::UNKNOWN,
        defined: serde_saphyr::Location::UNKNOWN,
    }
}
fn ones() -> Spanned<Vec<u32>> {
    spanned(vec![1])
}
fn zeros() -> Spanned<Vec<u8>> {
    spanned(vec![0])
}
fn no_recompute() -> Spanned<Vec<String>> {
    spanned(vec!["none".into()])
}
fn default_schedules() -> Spanned<Vec<String>> {
    spanned(vec!["1f1b".into()])
}

/// What the search must meet.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Target {
    /// Longest acceptable step, seconds.
    pub step_s: Option<f64>,
    /// Capex ceiling, dollars.
    pub budget: Option<f64>,
}

/// The checked parallelism choices.
#[derive(Debug, Clone, PartialEq)]
pub struct Choices {
    /// Tensor-parallel degrees.
    pub tensor: Vec<u32>,
    /// Pipeline-parallel degrees.
    pub pipeline: Vec<u32>,
    /// Samples per microbatch.
    pub microbatch_size: Vec<u32>,
    /// Pipeline schedule names.
    pub schedule: Vec<String>,
    /// ZeRO stages.
    pub zero: Vec<u8>,
    /// Activation recompute modes.
    pub recompute: Vec<String>,
}

/// The checked hardware choices.
#[derive(Debug, Clone, PartialEq)]
pub struct HardwareChoices {
    /// Server preset names.
    pub servers: Vec<String>,
    /// Cluster sizes, GPUs.
    pub gpus: Vec<u32>,
    /// As written ("400Gbps") and in Gbit/s.
    pub nics: Vec<(String, f64)>,
    /// Fabric kinds and oversubscriptions.
    pub fabrics: Vec<FabricChoice>,
}

/// The fabric kinds a search can generate.
pub const FABRIC_KINDS: [&str; 3] = ["rail", "fat-tree", "switch"];

/// Checks lists are non-empty and values in range; `tokens` is tokens per
/// sample (to turn a token rate into a step time).
pub(super) fn check(
    src: &Source,
    f: &SearchFile,
    tokens: Option<u64>,
) -> Result<(Target, HardwareChoices, Choices), InputError> {
    if f.global_batch.value == 0 {
        return Err(src
            .error_at(&f.global_batch, "global_batch must be at least 1")
            .with_path("global_batch"));
    }
    let target = target(src, f, tokens)?;
    let h = &f.hardware;
    nonempty(src, &h.servers, "hardware.servers")?;
    nonempty(src, &h.gpus, "hardware.gpus")?;
    nonempty(src, &h.nics, "hardware.nics")?;
    nonempty(src, &h.fabrics, "hardware.fabrics")?;
    if let Some(g) = h.gpus.value.iter().find(|g| g.value == 0) {
        return Err(src
            .error_at(g, "a GPU count must be at least 1")
            .with_path("hardware.gpus"));
    }
    let mut nics = Vec::new();
    for n in &h.nics.value {
        let bw = parse_bandwidth(&n.value).map_err(|e| {
            src.error_at(n, format!("'{}' is not a speed: {e}", n.value))
                .with_path("hardware.nics")
        })?;
        nics.push((n.value.clone(), bw.bytes_per_sec() * 8.0 / 1e9));
    }
    for fc in &h.fabrics.value {
        if !FABRIC_KINDS.contains(&fc.value.kind.as_str()) {
            return Err(src
                .error_at(
                    fc,
                    format!(
                        "fabric kind '{}' cannot be searched: use one of {}",
                        fc.value.kind,
                        FABRIC_KINDS.join(", ")
                    ),
                )
                .with_path("hardware.fabrics"));
        }
        let o = fc.value.oversubscription;
        if o == 0 || (fc.value.kind == "switch" && o != 1) || 32 % o != 0 {
            return Err(src
                .error_at(
                    fc,
                    format!("oversubscription {o} is not possible here: use 1, 2, 4, 8, 16 or 32 (a `switch` is always 1)"),
                )
                .with_path("hardware.fabrics"));
        }
    }
    let choices = choices(src, &f.parallelism)?;
    let hw = HardwareChoices {
        servers: h.servers.value.iter().map(|s| s.value.clone()).collect(),
        gpus: h.gpus.value.iter().map(|g| g.value).collect(),
        nics,
        fabrics: h.fabrics.value.iter().map(|f| f.value.clone()).collect(),
    };
    Ok((target, hw, choices))
}

fn nonempty<T>(src: &Source, v: &Spanned<Vec<T>>, path: &str) -> Result<(), InputError> {
    if v.value.is_empty() {
        return Err(src
            .error_at(v, format!("{path} needs at least one value"))
            .with_path(path.to_string()));
    }
    Ok(())
}

fn target(src: &Source, f: &SearchFile, tokens: Option<u64>) -> Result<Target, InputError> {
    let t = &f.target;
    let positive = |v: &Spanned<f64>, path: &str| -> Result<f64, InputError> {
        if v.value.is_finite() && v.value > 0.0 {
            Ok(v.value)
        } else {
            Err(src
                .error_at(v, format!("{} must be a number > 0", v.value))
                .with_path(format!("target.{path}")))
        }
    };
    let per_step = |v: &Spanned<f64>, path: &str, secs: f64| -> Result<f64, InputError> {
        let rate = positive(v, path)?;
        let Some(tok) = tokens else {
            return Err(src
                .error_at(v, "the workload does not know its tokens per sample (it is a trace): give target.step_time instead")
                .with_path(format!("target.{path}")));
        };
        Ok(f64::from(f.global_batch.value) * tok as f64 * secs / rate)
    };
    let given = [
        t.tokens_per_s.is_some(),
        t.tokens_per_day.is_some(),
        t.step_time.is_some(),
    ];
    if given.iter().filter(|&&g| g).count() > 1 {
        return Err(src
            .error("give one of target.tokens_per_s, target.tokens_per_day and target.step_time")
            .with_path("target"));
    }
    let step_s = match (&t.tokens_per_s, &t.tokens_per_day, &t.step_time) {
        (Some(v), _, _) => Some(per_step(v, "tokens_per_s", 1.0)?),
        (_, Some(v), _) => Some(per_step(v, "tokens_per_day", 86_400.0)?),
        (_, _, Some(s)) if s.value.0 == 0 => {
            return Err(src
                .error_at(s, "step_time must be more than 0")
                .with_path("target.step_time"));
        }
        (_, _, Some(s)) => Some(s.value.as_secs_f64()),
        _ => None,
    };
    let budget = t
        .budget
        .as_ref()
        .map(|b| positive(b, "budget"))
        .transpose()?;
    Ok(Target { step_s, budget })
}

fn choices(src: &Source, p: &ParallelismYaml) -> Result<Choices, InputError> {
    let counts = |v: &Spanned<Vec<u32>>, path: &str| -> Result<Vec<u32>, InputError> {
        nonempty(src, v, path)?;
        if v.value.contains(&0) {
            return Err(src
                .error_at(v, format!("{path} values must be at least 1"))
                .with_path(path.to_string()));
        }
        Ok(v.value.clone())
    };
    nonempty(src, &p.schedule, "parallelism.schedule")?;
    for s in &p.schedule.value {
        let parsed: Result<crate::schedule::Schedule, _> =
            serde_json::from_value(serde_json::Value::String(s.clone()));
        if parsed.is_err() {
            return Err(src
                .error_at(
                    &p.schedule,
                    format!("unknown schedule '{s}': use gpipe, 1f1b, zb-h1 or pipedream"),
                )
                .with_path("parallelism.schedule"));
        }
    }
    nonempty(src, &p.recompute, "parallelism.recompute")?;
    for r in &p.recompute.value {
        let parsed: Result<crate::workload::Recompute, _> =
            serde_json::from_value(serde_json::Value::String(r.clone()));
        if parsed.is_err() {
            return Err(src
                .error_at(
                    &p.recompute,
                    format!("unknown recompute '{r}': use none, selective or full"),
                )
                .with_path("parallelism.recompute"));
        }
    }
    nonempty(src, &p.zero, "parallelism.zero")?;
    if p.zero.value.iter().any(|&z| z > 1) {
        return Err(src
            .error_at(&p.zero, "zero stages are 0 or 1")
            .with_path("parallelism.zero"));
    }
    Ok(Choices {
        tensor: counts(&p.tensor, "parallelism.tensor")?,
        pipeline: counts(&p.pipeline, "parallelism.pipeline")?,
        microbatch_size: counts(&p.microbatch_size, "parallelism.microbatch_size")?,
        schedule: p.schedule.value.clone(),
        zero: p.zero.value.clone(),
        recompute: p.recompute.value.clone(),
    })
}
