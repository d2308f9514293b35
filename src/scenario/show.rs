//! `fabsim show`: a scenario as it will run — the file merged with its
//! `--set` overrides, every default filled in and `data: auto`, `epochs`
//! and `global_batch` resolved — and the `--set` paths it accepts, each
//! with its current value and what it may be.
//!
//! Every listed path round-trips: setting it to its shown value loads the
//! same scenario (tested). It does not run anything; `noise:` is shown as
//! written (every part of it is off unless given).

use super::{Overrides, Scenario, bounds, overrides};
use crate::collective::Algorithm;
use crate::input::Source;
use crate::schedule::Schedule;
use serde_json::{Value, json};
use std::fmt::Write;
use std::path::Path;

/// A scenario with every default filled in, and its `--set` paths.
#[derive(Debug, Clone)]
pub struct Shown {
    /// The scenario as a JSON tree, every default filled in.
    pub tree: Value,
    /// (path, current value, what it may be).
    pub paths: Vec<(String, String, String)>,
}

impl Shown {
    /// Loads and validates `file` with `o`, as `run` would.
    pub fn load(file: &Path, o: &Overrides) -> Result<Shown, crate::input::LoadError> {
        let s = Scenario::load(file, o)?;
        let src = Source::read(file)?;
        let split = overrides::split(&o.set);
        let spec = overrides::apply_overrides(&src, &split.scenario)?;
        let raw = overrides::tree_with(&src, &split.scenario)?;
        let noise = raw.get("noise").cloned().unwrap_or_else(|| json!({}));
        let p = s.parallelism;
        let tree = json!({
            "name": s.name,
            "description": s.description,
            "topology": spec.topology.value,
            "workload": spec.workload.value,
            "parallelism": {
                "data": p.data,
                "pipeline": p.pipeline,
                "tensor": p.tensor,
                "sequence_parallel": p.sequence_parallel,
            },
            "global_batch": s.workload.batch_size * p.data,
            "placement": s.placement,
            "pipeline": {
                "microbatches": s.microbatches,
                "schedule": s.schedule,
                "partition": spec.pipeline.partition.value,
                "virtual_stages": s.virtual_stages,
            },
            "collective": {
                "algorithm": s.data_parallel.algorithm,
                "chunks": s.data_parallel.chunks,
                "overlap": s.data_parallel.overlap,
                "bucket_bytes": s.data_parallel.bucket_bytes,
                "tensor_algorithm": s.tensor_algorithm,
                "tensor_overlap": s.tensor_overlap,
                "zero": s.data_parallel.zero,
            },
            "trials": { "count": s.trials },
            "seed": s.seed,
            "noise": noise,
            "compute_efficiency": spec.compute_efficiency.as_ref().map(|e| e.value),
            "recompute": spec.recompute.as_ref().map(|r| r.value).unwrap_or_default(),
            "cost": { "amortization_years": s.amortization_years },
            "allow_oversubscribed_memory": s.allow_oversubscribed_memory,
        });
        let mut paths = Vec::new();
        leaves(&tree, "", &mut paths);
        Ok(Shown { tree, paths })
    }

    /// The scenario as YAML, then the `--set` paths.
    pub fn text(&self) -> String {
        let mut out = String::new();
        yaml(&self.tree, 0, &mut out);
        out.push_str("\n# --set paths (fabsim run/sweep … --set PATH=VALUE):\n");
        let w = self.paths.iter().map(|p| p.0.len()).max().unwrap_or(0);
        for (path, value, allowed) in &self.paths {
            let _ = writeln!(out, "#   {path:<w$}  = {value:<14} {allowed}");
        }
        out.push_str(
            "#   topology.<path>, workload.<path>: set a field of the topology or workload file\n",
        );
        out
    }
}

/// Every leaf of `v` (a list counts as one leaf), with its allowed values.
fn leaves(v: &Value, prefix: &str, out: &mut Vec<(String, String, String)>) {
    match v {
        Value::Object(map) if !map.is_empty() || prefix.is_empty() => {
            for (k, child) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(child, &path, out);
            }
        }
        _ => out.push((prefix.to_string(), scalar(v), allowed(prefix, v))),
    }
}

/// What a path may be set to.
fn allowed(path: &str, v: &Value) -> String {
    let list = |xs: Vec<String>| format!("one of {}", xs.join(", "));
    let algorithms = || {
        use clap::ValueEnum;
        let names = Algorithm::value_variants()
            .iter()
            .filter_map(|a| a.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        list(names)
    };
    match path {
        "parallelism.data" => {
            "a whole number ≥ 1, or auto (every GPU left by tensor × pipeline)".into()
        }
        "parallelism.pipeline" | "parallelism.tensor" => "a whole number ≥ 1".into(),
        "global_batch" => "samples per step, a multiple of parallelism.data".into(),
        "placement" => "one of tensor-pipeline-data, tensor-data-pipeline".into(),
        "pipeline.microbatches" => format!(
            "1 to {}, at most a replica's batch",
            bounds::MAX_MICROBATCHES
        ),
        "pipeline.schedule" => list(Schedule::ALL.iter().map(|s| s.to_string()).collect()),
        "pipeline.partition" => "balanced, uniform, or a list of layers per stage".into(),
        "pipeline.virtual_stages" => "a whole number ≥ 1 (model chunks per GPU)".into(),
        "collective.algorithm" | "collective.tensor_algorithm" => algorithms(),
        "collective.chunks" => format!("1 to {}", bounds::MAX_CHUNKS),
        "collective.bucket_bytes" => "a size like 25MiB, or ~ for one bucket per layer".into(),
        "collective.zero" => "0 or 1".into(),
        "trials.count" => format!("1 to {}", bounds::MAX_TRIALS),
        "compute_efficiency" => "a number in (0, 1], or ~ for the kernel model".into(),
        "recompute" => "one of none, selective, full".into(),
        "cost.amortization_years" => "0.01 to 100 years".into(),
        "topology" | "workload" => "a file, relative to the scenario".into(),
        "noise" => "a noise section (see the README's Noise)".into(),
        _ => match v {
            Value::Bool(_) => "true or false".into(),
            Value::Number(_) => "a number".into(),
            _ => "text".into(),
        },
    }
}

/// A value as YAML on one line.
fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "~".into(),
        Value::String(s) => plain(s),
        Value::Array(xs) => format!("[{}]", xs.iter().map(scalar).collect::<Vec<_>>().join(", ")),
        Value::Object(m) if m.is_empty() => "{}".into(),
        Value::Object(m) => format!(
            "{{ {} }}",
            m.iter()
                .map(|(k, x)| format!("{k}: {}", scalar(x)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// A string unquoted when YAML reads it back as the same string.
fn plain(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || " _-./+()—,".contains(c))
        && !s.starts_with([' ', '-'])
        && !s.ends_with(' ')
        && s.parse::<f64>().is_err()
        && !["true", "false", "null", "yes", "no", "on", "off", "~"]
            .contains(&s.to_lowercase().as_str());
    if safe {
        s.into()
    } else {
        Value::from(s).to_string()
    }
}

/// Block-style YAML of a JSON tree.
fn yaml(v: &Value, indent: usize, out: &mut String) {
    let Value::Object(map) = v else {
        let _ = writeln!(out, "{}", scalar(v));
        return;
    };
    for (k, child) in map {
        let pad = " ".repeat(indent);
        match child {
            Value::Object(m) if !m.is_empty() => {
                let _ = writeln!(out, "{pad}{k}:");
                yaml(child, indent + 2, out);
            }
            _ => {
                let _ = writeln!(out, "{pad}{k}: {}", scalar(child));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(set: &[String]) -> Shown {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/gpt2-pipeline-data.yaml");
        let o = Overrides {
            set: set.to_vec(),
            ..Default::default()
        };
        Shown::load(&file, &o).unwrap()
    }

    #[test]
    fn every_listed_path_round_trips() {
        let base = load(&[]);
        assert!(base.paths.len() > 20, "{:?}", base.paths);
        for (path, value, _) in &base.paths {
            let again = load(&[format!("{path}={value}")]);
            assert_eq!(again.tree, base.tree, "--set {path}={value}");
        }
        // Defaults are filled in and `global_batch` derived: 4 replicas of
        // the workload's batch of 8.
        assert_eq!(base.tree["collective"]["tensor_overlap"], false);
        assert_eq!(base.tree["recompute"], "none");
        assert_eq!(base.tree["global_batch"], 4 * 8);
    }

    #[test]
    fn auto_and_global_batch_are_resolved() {
        let s = load(&[
            "parallelism.data=auto".into(),
            "parallelism.pipeline=2".into(),
            "global_batch=64".into(),
        ]);
        assert_eq!(s.tree["parallelism"]["data"], 8);
        assert_eq!(s.tree["global_batch"], 64);
        let text = s.text();
        assert!(text.contains("\n  data: 8\n"), "{text}");
        assert!(text.contains("pipeline.schedule"), "{text}");
    }
}
