//! `--set path=value` overrides (and sweep axes): dotted paths into the
//! scenario, or — with a `topology.` or `workload.` prefix — into the
//! topology or workload file the scenario names.
//!
//! `topology=other.yaml` (no dot) replaces the scenario's topology file;
//! `topology.nic.bandwidth=200Gbps` loads the scenario's topology file,
//! sets `nic.bandwidth` in its YAML tree and builds the cluster from the
//! result. The overridden tree is re-read as JSON text (which is YAML), so
//! the original lines are lost: errors in it are reported against the
//! `--set` that caused them. The same goes for `workload.`.

use crate::input::{ArgError, InputError, Source};
use crate::topology::Cluster;
use crate::workload::{Workload, WorkloadOptions};
use std::path::Path;

use super::ScenarioFile;

/// Overrides split by the file they apply to.
#[derive(Debug, Clone, Default)]
pub(super) struct Split {
    pub scenario: Vec<String>,
    pub topology: Vec<String>,
    pub workload: Vec<String>,
}

/// Sorts `path=value` items by their first path segment; `topology.` and
/// `workload.` lose that prefix.
pub(super) fn split(set: &[String]) -> Split {
    let mut out = Split::default();
    for item in set {
        let trimmed = item.trim_start();
        if let Some(rest) = trimmed.strip_prefix("topology.") {
            out.topology.push(rest.to_string());
        } else if let Some(rest) = trimmed.strip_prefix("workload.") {
            out.workload.push(rest.to_string());
        } else {
            out.scenario.push(item.clone());
        }
    }
    out
}

/// Parses `path=value` into the path and a YAML value.
fn parse_item(item: &str, flag: &str) -> Result<(String, serde_json::Value), ArgError> {
    let Some((path, value)) = item.split_once('=') else {
        return Err(ArgError::new(
            format!("{flag} {item}"),
            "write --set path=value, e.g. --set noise.loss.probability=0.01",
        ));
    };
    let value: serde_json::Value = serde_saphyr::from_str(value).map_err(|e| {
        ArgError::new(
            format!("{flag} {item}"),
            format!(
                "cannot read the value: {}",
                crate::input::plain(&e.without_snippet().to_string(), None)
            ),
        )
    })?;
    Ok((path.trim().to_string(), value))
}

/// Applies `path=value` overrides to the scenario's YAML tree and parses
/// the result. A path that does not name a scenario field is an error.
pub(super) fn apply_overrides(src: &Source, set: &[String]) -> Result<ScenarioFile, ArgError> {
    let mut tree: serde_json::Value =
        serde_saphyr::from_str(&src.text).map_err(|e| ArgError::new("--set", e.to_string()))?;
    for item in set {
        let (path, value) = parse_item(item, "--set")?;
        set_path(&mut tree, &path, value).map_err(|m| ArgError::new(format!("--set {item}"), m))?;
        // Check each override on its own so the error names it.
        serde_json::from_value::<ScenarioFile>(tree.clone()).map_err(|e| {
            let value = item.split_once('=').map_or("", |(_, v)| v.trim());
            let (why, _) = crate::input::setting_error(&path, value, &e.to_string());
            ArgError::new(format!("--set {item}"), why)
        })?;
    }
    serde_json::from_value(tree).map_err(|e| ArgError::new("--set", e.to_string()))
}

/// The scenario's YAML tree with `set` applied, unchecked (for `show`,
/// after [`apply_overrides`] accepted the same `set`).
pub(super) fn tree_with(src: &Source, set: &[String]) -> Result<serde_json::Value, ArgError> {
    let mut tree: serde_json::Value =
        serde_saphyr::from_str(&src.text).map_err(|e| ArgError::new("--set", e.to_string()))?;
    for item in set {
        let (path, value) = parse_item(item, "--set")?;
        set_path(&mut tree, &path, value).map_err(|m| ArgError::new(format!("--set {item}"), m))?;
    }
    Ok(tree)
}

/// `file` with `set` applied to its YAML tree, as a [`Source`] named after
/// `file` (so relative paths inside it still resolve). `None` when `set`
/// is empty: read the file as it is. Errors name the file and the `--set`.
fn overridden(file: &Path, set: &[String], prefix: &str) -> Result<Option<Source>, InputError> {
    if set.is_empty() {
        return Ok(None);
    }
    let src = Source::read(file)?;
    // Errors in the file itself keep their lines.
    let mut tree: serde_json::Value = src.parse()?;
    for item in set {
        let bad = |m: String| InputError::file(file, format!("--set {prefix}{item}: {m}"));
        let (path, value) =
            parse_item(item, &format!("--set {prefix}")).map_err(|e| bad(e.message))?;
        set_path(&mut tree, &path, value).map_err(bad)?;
    }
    let text =
        serde_json::to_string_pretty(&tree).map_err(|e| InputError::file(file, e.to_string()))?;
    Ok(Some(Source::from_text(file, text)))
}

/// The message of an error in an overridden file: its lines are those of
/// the rewritten tree, so only the YAML path and message are kept.
fn rewrap(file: &Path, set: &[String], prefix: &str, e: InputError) -> InputError {
    let at = e
        .yaml_path
        .map(|p| format!(" at `{p}`"))
        .unwrap_or_default();
    let sets: Vec<String> = set.iter().map(|s| format!("--set {prefix}{s}")).collect();
    InputError::file(file, format!("with {}{at}: {}", sets.join(" "), e.message))
}

/// Loads the topology `file` with `topology.`-prefixed overrides.
pub(super) fn load_topology(file: &Path, set: &[String]) -> Result<Cluster, InputError> {
    match overridden(file, set, "topology.")? {
        None => crate::topology::load(file),
        Some(src) => {
            crate::topology::from_source(&src).map_err(|e| rewrap(file, set, "topology.", e))
        }
    }
}

/// Loads the workload `file` with `workload.`-prefixed overrides.
pub(super) fn load_workload(
    file: &Path,
    set: &[String],
    gpu: &crate::topology::GpuSpec,
    options: &WorkloadOptions,
) -> Result<Workload, InputError> {
    match overridden(file, set, "workload.")? {
        None => crate::workload::load(file, gpu, options),
        Some(src) => crate::workload::from_source(&src, gpu, options)
            .map_err(|e| rewrap(file, set, "workload.", e)),
    }
}

/// Sets `a.b.c` in a JSON tree, creating maps on the way. List elements
/// are addressed by index: `pipeline.partition.0`.
pub fn set_path(
    tree: &mut serde_json::Value,
    path: &str,
    value: serde_json::Value,
) -> Result<(), String> {
    let mut node = tree;
    let parts: Vec<&str> = path.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!(
            "'{path}' is not a dotted path like noise.loss.probability"
        ));
    }
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if node.is_null() {
            *node = serde_json::Value::Object(Default::default());
        }
        node = match node {
            serde_json::Value::Object(map) => {
                if last {
                    map.insert(part.to_string(), value);
                    return Ok(());
                }
                map.entry(part.to_string())
                    .or_insert(serde_json::Value::Null)
            }
            serde_json::Value::Array(list) => {
                let idx: usize = part
                    .parse()
                    .map_err(|_| format!("'{part}' in '{path}' must be a list index"))?;
                let len = list.len();
                let slot = list.get_mut(idx).ok_or_else(|| {
                    format!("index {idx} in '{path}' is past the end of a list of {len}")
                })?;
                if last {
                    *slot = value;
                    return Ok(());
                }
                slot
            }
            _ => {
                return Err(format!(
                    "'{}' in '{path}' is a value, not a section",
                    parts[..i].join(".")
                ));
            }
        };
    }
    Ok(())
}

/// The value at `a.b.c` in a JSON tree, if any.
pub fn get_path<'a>(tree: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(tree, |node, part| match node {
        serde_json::Value::Object(map) => map.get(part),
        serde_json::Value::Array(list) => part.parse::<usize>().ok().and_then(|i| list.get(i)),
        _ => None,
    })
}
