//! One sweep point: its scenario built with the point's overrides, its
//! memory checked, its trials run, and its CSV row.

use super::{Point, Sweep};
use crate::input::{LoadError, Source};
use crate::report::Summary;
use crate::scenario::{Overrides, Scenario, get_path};
use std::path::Path;

/// What became of a point.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Simulated.
    Ok,
    /// The memory estimate exceeds the GPU's memory: not simulated.
    DoesNotFit,
    /// The combination cannot be built; the reason.
    Invalid(String),
}

/// One row of the sweep CSV.
#[derive(Debug, Clone)]
pub struct Row {
    /// The point's grid index.
    pub point: u64,
    /// One per axis path, in axis order.
    pub params: Vec<String>,
    /// What became of it.
    pub status: Status,
    /// The run's summary (ok points).
    pub summary: Option<Summary>,
    /// Memory estimate (ok and does-not-fit points).
    pub memory: Option<crate::memory::MemoryEstimate>,
    /// GPUs the point uses (all but invalid points).
    pub gpus: Option<usize>,
}

/// Values of the base scenario and of the topology and workload files it
/// names, for filters.
#[derive(Debug, Clone)]
pub(super) struct BaseValues {
    scenario: serde_json::Value,
    topology: Option<serde_json::Value>,
    workload: Option<serde_json::Value>,
}

impl BaseValues {
    pub fn new(base: &Path, tree: &serde_json::Value) -> Self {
        let dir = base.parent().unwrap_or(Path::new("."));
        let sub = |key: &str| -> Option<serde_json::Value> {
            let f = dir.join(tree.get(key)?.as_str()?);
            Source::read(&f).ok()?.parse().ok()
        };
        BaseValues {
            scenario: tree.clone(),
            topology: sub("topology"),
            workload: sub("workload"),
        }
    }

    pub fn get(&self, path: &str) -> Option<serde_json::Value> {
        if let Some(p) = path.strip_prefix("topology.") {
            return get_path(self.topology.as_ref()?, p).cloned();
        }
        if let Some(p) = path.strip_prefix("workload.") {
            return get_path(self.workload.as_ref()?, p).cloned();
        }
        get_path(&self.scenario, path).cloned()
    }
}

/// A parameter as a CSV cell: strings bare, anything else as JSON.
fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Why a scenario could not be built, on one line (without the base
/// scenario's file name, which every row shares).
fn reason(e: &LoadError, base: &Path) -> String {
    let text = match e {
        LoadError::File(i) => {
            let mut s = String::new();
            if i.file != base {
                s.push_str(&format!("{}: ", i.file.display()));
            }
            if let Some(p) = &i.yaml_path {
                s.push_str(&format!("at `{p}`: "));
            }
            s.push_str(&i.message);
            s
        }
        LoadError::Arg(a) => a.to_string(),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs one point.
pub(super) fn run_point(sweep: &Sweep, p: &Point) -> Result<Row, super::SweepError> {
    let params = sweep
        .axes
        .iter()
        .zip(&p.choice)
        .flat_map(|(a, &c)| a.values[c].iter().map(cell))
        .collect();
    let mut row = Row {
        point: p.index,
        params,
        status: Status::Ok,
        summary: None,
        memory: None,
        gpus: None,
    };
    let overrides = Overrides {
        set: sweep.overrides(p),
        trials: Some(sweep.trials),
        seed: sweep.seed,
    };
    let scenario = match Scenario::load(&sweep.base, &overrides) {
        Ok(s) => s,
        // Every load error is the point's own (a bad combination): a row.
        Err(e) => {
            row.status = Status::Invalid(reason(&e, &sweep.base));
            return Ok(row);
        }
    };
    row.gpus = Some(scenario.cluster.num_gpus());
    let memory = crate::memory::estimate(&scenario.job(), scenario.cluster.gpu.memory_bytes);
    let fits = memory.fits;
    row.memory = Some(memory);
    if !fits && !scenario.allow_oversubscribed_memory {
        row.status = Status::DoesNotFit;
        return Ok(row);
    }
    let options = crate::run::RunOptions::default();
    let result =
        crate::run::run(&scenario, &options).map_err(|source| super::SweepError::Point {
            point: p.index,
            source,
        })?;
    row.summary = Some(result.summary);
    Ok(row)
}
