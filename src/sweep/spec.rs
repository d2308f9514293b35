//! The sweep file format and its validation against the base scenario.
//!
//! ```yaml
//! name: nic-pipeline                       # default: the file stem
//! base: ../scenarios/llama-70b.yaml        # relative to this file
//! trials: 1                                # per point (default 1)
//! seed: 7                                  # optional: overrides the base's
//! axes:
//!   - path: topology.nic.bandwidth         # into the base's topology file
//!     values: [100Gbps, 400Gbps]
//!   - path: topology                       # swap the topology file
//!     values: [../topologies/a.yaml, ../topologies/b.yaml]
//!   - paths: [parallelism.pipeline, parallelism.data]   # a zipped axis
//!     values: [[2, 32], [4, 16]]
//! filter:                                  # keep points meeting all of them
//!   - { path: pipeline.microbatches, op: ge, other: parallelism.pipeline }
//! ```
//! Axis paths are those of `--set`: a scenario field (`pipeline.schedule`),
//! `topology`/`workload` (another file, relative to the base scenario, as
//! in the scenario itself), or `topology.X`/`workload.X` (a field of the
//! file the base scenario names). Every scenario-field value must parse as
//! that field; a `topology.X`/`workload.X` path must be set in the base
//! file or load with its first value. Bad axes are errors of the sweep
//! file (exit code 2) at the offending line, found before anything runs.

use super::filter::Condition;
use crate::input::{InputError, Source};
use crate::scenario::{ScenarioFile, set_path};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SweepFile {
    pub name: Option<String>,
    #[serde(default)]
    pub description: String,
    pub base: Spanned<PathBuf>,
    pub trials: Option<Spanned<u64>>,
    pub seed: Option<u64>,
    pub axes: Spanned<Vec<Spanned<AxisYaml>>>,
    #[serde(default)]
    pub filter: Vec<Spanned<Condition>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AxisYaml {
    pub path: Option<String>,
    pub paths: Option<Vec<String>>,
    pub values: Spanned<Vec<Spanned<serde_json::Value>>>,
}

/// One axis: its paths (one, or several zipped) and, per value, one JSON
/// value per path.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The `--set` paths this axis changes together.
    pub paths: Vec<String>,
    /// Per value of the axis, one JSON value per path.
    pub values: Vec<Vec<serde_json::Value>>,
}

/// Checks the axes and returns them.
pub(super) fn axes(
    src: &Source,
    file: &SweepFile,
    base: &Path,
    base_tree: &serde_json::Value,
) -> Result<Vec<Axis>, InputError> {
    if file.axes.value.is_empty() {
        return Err(src
            .error_at(&file.axes, "a sweep needs at least one axis")
            .with_path("axes"));
    }
    let mut out: Vec<Axis> = Vec::new();
    for (i, a) in file.axes.value.iter().enumerate() {
        let at = |m: String| src.error_at(a, m).with_path(format!("axes.{i}"));
        let paths = match (&a.value.path, &a.value.paths) {
            (Some(p), None) => vec![p.trim().to_string()],
            (None, Some(ps)) if !ps.is_empty() => ps.iter().map(|p| p.trim().to_string()).collect(),
            _ => {
                return Err(at(
                    "give `path: a.b` or `paths: [a.b, c.d]` (not both)".into()
                ));
            }
        };
        for p in &paths {
            if out.iter().flat_map(|x| &x.paths).any(|q| q == p)
                || paths.iter().filter(|q| *q == p).count() > 1
            {
                return Err(at(format!("the path {p} is swept twice")));
            }
        }
        if a.value.values.value.is_empty() {
            return Err(src
                .error_at(
                    &a.value.values,
                    format!("the axis {} has no values", paths.join(", ")),
                )
                .with_path(format!("axes.{i}.values")));
        }
        let mut values = Vec::new();
        for (k, v) in a.value.values.value.iter().enumerate() {
            let vat = |m: String| src.error_at(v, m).with_path(format!("axes.{i}.values.{k}"));
            let row: Vec<serde_json::Value> = if paths.len() == 1 {
                vec![v.value.clone()]
            } else {
                match &v.value {
                    serde_json::Value::Array(list) if list.len() == paths.len() => list.clone(),
                    _ => {
                        return Err(vat(format!(
                            "each value of a zipped axis is a list of {} values, one per path",
                            paths.len()
                        )));
                    }
                }
            };
            for (p, x) in paths.iter().zip(&row) {
                check_value(base, base_tree, p, x, k == 0).map_err(|(m, path_at_fault)| {
                    if path_at_fault {
                        path_error(src, a, m).with_path(format!("axes.{i}.path"))
                    } else {
                        vat(m)
                    }
                })?;
            }
            values.push(row);
        }
        out.push(Axis { paths, values });
    }
    Ok(out)
}

/// An error at the `path:` (or `paths:`) line of axis `a`.
fn path_error<T>(src: &Source, a: &Spanned<T>, message: String) -> InputError {
    let start = a.referenced.line().max(1) as usize - 1;
    let found = src.text.lines().enumerate().skip(start).find_map(|(i, l)| {
        let body = l.trim_start().trim_start_matches("- ");
        let col = l.len() - body.len();
        (body.starts_with("path:") || body.starts_with("paths:")).then_some((i, col))
    });
    match found {
        Some((i, col)) => {
            InputError::at(&src.file, &src.text, i as u32 + 1, col as u32 + 1, message)
        }
        None => src.error_at(a, message),
    }
}

/// Whether `value` at `path` is a valid setting of the base scenario
/// (`first`: the axis's first value, which also checks sub-file paths).
/// An error says whether the path (true) or the value is at fault.
fn check_value(
    base: &Path,
    base_tree: &serde_json::Value,
    path: &str,
    value: &serde_json::Value,
    first: bool,
) -> Result<(), (String, bool)> {
    let dir = base.parent().unwrap_or(Path::new("."));
    if path == "topology" || path == "workload" {
        let Some(f) = value.as_str() else {
            return Err((format!("{path} takes a file name, not {value}"), false));
        };
        if !dir.join(f).is_file() {
            return Err((
                format!(
                    "the {path} file {} does not exist (paths are relative to the base \
                     scenario {})",
                    dir.join(f).display(),
                    base.display()
                ),
                false,
            ));
        }
        return Ok(());
    }
    for prefix in ["topology", "workload"] {
        if let Some(sub) = path.strip_prefix(&format!("{prefix}.")) {
            return if first {
                check_sub_file(base, prefix, sub, value).map_err(|m| (m, false))
            } else {
                Ok(())
            };
        }
    }
    let mut tree = base_tree.clone();
    set_path(&mut tree, path, value.clone()).map_err(|m| (m, true))?;
    serde_json::from_value::<ScenarioFile>(tree)
        .map(|_| ())
        .map_err(|e| crate::input::setting_error(path, &value.to_string(), &e.to_string()))
}

/// A `topology.X`/`workload.X` path must be set in the base's file, or
/// load with `value`.
fn check_sub_file(
    base: &Path,
    prefix: &str,
    sub: &str,
    value: &serde_json::Value,
) -> Result<(), String> {
    let scenario_src = Source::read(base).map_err(|e| e.to_string())?;
    let scenario: ScenarioFile = scenario_src.parse().map_err(|e| e.to_string())?;
    let dir = base.parent().unwrap_or(Path::new("."));
    let file = dir.join(if prefix == "topology" {
        &scenario.topology.value
    } else {
        &scenario.workload.value
    });
    let src = Source::read(&file).map_err(|e| e.to_string())?;
    let tree: serde_json::Value = src.parse().map_err(|e| e.to_string())?;
    if crate::scenario::get_path(&tree, sub).is_some() {
        return Ok(());
    }
    // Not in the file (e.g. filled by a host preset): it must load.
    let item = format!(
        "{prefix}.{sub}={}",
        serde_json::to_string(value).unwrap_or_default()
    );
    crate::scenario::Scenario::load(
        base,
        &crate::scenario::Overrides {
            set: vec![item],
            trials: Some(1),
            seed: None,
        },
    )
    .map(|_| ())
    .map_err(|e| {
        format!(
            "{prefix}.{sub} is not set in {} and setting it fails: {e:#}",
            file.display()
        )
    })
}
