//! Reads a run's results folder for the HTML report: `summary.json`,
//! `cdf.csv`, `links.csv` and `timeline.json` (the Chrome trace). Only the
//! fields the report draws are read; unknown fields are ignored so that a
//! newer summary still renders. `timeline.json` is optional.
//!
//! It draws nothing (see the sibling plot modules).

use crate::input::InputError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
pub struct Latency {
    pub mean_s: f64,
    pub p50_s: f64,
    pub p99_s: f64,
}

#[derive(Deserialize)]
pub struct Parallelism {
    pub data: u32,
    pub pipeline: u32,
    pub tensor: u32,
}

#[derive(Deserialize)]
pub struct Stage {
    pub stage: u32,
    pub gpus: Vec<u32>,
    pub utilization: f64,
}

#[derive(Deserialize)]
pub struct MemoryStage {
    pub stage: u32,
    pub weights: f64,
    pub gradients: f64,
    pub optimizer: f64,
    pub activations: f64,
}

#[derive(Deserialize)]
pub struct Memory {
    pub stages: Vec<MemoryStage>,
    pub capacity_bytes: f64,
    pub fits: bool,
}

/// `summary.json`'s `cost`, read back with the type that writes it.
pub use crate::report::CostSummary as Cost;

/// The part of `summary.json` the report shows.
#[derive(Deserialize)]
pub struct Summary {
    pub scenario: String,
    pub description: String,
    pub topology: String,
    pub workload: String,
    pub gpus: u64,
    pub parallelism: Parallelism,
    pub schedule: String,
    pub microbatches: u32,
    pub trials: u64,
    pub seed: u64,
    pub iteration: Latency,
    pub samples_per_s: f64,
    pub tokens_per_s: Option<f64>,
    pub bubble_fraction: Option<f64>,
    pub ideal_bubble_fraction: Option<f64>,
    pub exposed_communication_s: f64,
    pub achieved_tflops_per_gpu: Option<f64>,
    pub mfu: Option<f64>,
    pub stages: Option<Vec<Stage>>,
    pub memory: Option<Memory>,
    pub cost: Option<Cost>,
}

/// One collective's CDF: (percentile, latency in s), ascending.
pub struct Series {
    pub name: String,
    /// The `kind` column (empty in folders written before it existed).
    pub kind: String,
    pub bytes: u64,
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// The latency at percentile `p` (the first point at or above it).
    pub fn at(&self, p: f64) -> f64 {
        self.points
            .iter()
            .find(|q| q.0 >= p)
            .or(self.points.last())
            .map_or(0.0, |q| q.1)
    }
}

/// One row of `links.csv`.
pub struct Link {
    pub name: String,
    pub kind: String,
    pub bytes: f64,
    pub busy: f64,
}

/// One bar of the Gantt chart (times in µs, as the Chrome trace has them).
pub struct Bar {
    pub start: f64,
    pub end: f64,
    pub name: String,
    pub phase: String,
    /// A collective's `args.kind` (empty for compute).
    pub kind: String,
}

/// Compute bars per GPU and collective bars per lane, from `timeline.json`.
pub struct Timeline {
    pub gpus: BTreeMap<u32, Vec<Bar>>,
    pub collectives: BTreeMap<u32, Vec<Bar>>,
}

pub struct RunData {
    pub summary: Summary,
    /// Every collective but the iteration, in `cdf.csv` order.
    pub series: Vec<Series>,
    pub links: Vec<Link>,
    pub timeline: Option<Timeline>,
}

fn read(dir: &Path, name: &str) -> Result<String, InputError> {
    let path = dir.join(name);
    std::fs::read_to_string(&path).map_err(|e| {
        InputError::file(
            &path,
            format!("cannot read it ({e}); is the folder a complete `fabsim run` result?"),
        )
    })
}

fn bad(path: &Path, what: impl std::fmt::Display) -> InputError {
    InputError::file(path, format!("not a fabsim output file: {what}"))
}

/// A CSV's column names, in order, and a lookup per row.
pub type Csv = (Vec<String>, Vec<BTreeMap<String, String>>);

/// Reads a CSV whose first row names the columns.
pub fn csv_rows(path: &Path, text: &str) -> Result<Csv, InputError> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .map_err(|e| bad(path, e))?
        .iter()
        .map(String::from)
        .collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.map_err(|e| bad(path, e))?;
            Ok(header
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect())
        })
        .collect::<Result<_, InputError>>()?;
    Ok((header, rows))
}

fn field<T: std::str::FromStr>(
    path: &Path,
    row: &BTreeMap<String, String>,
    key: &str,
) -> Result<T, InputError> {
    row.get(key)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| bad(path, format!("column `{key}` is missing or not a number")))
}

/// The rows of `dir/name`, refused unless its header has every one of
/// `columns` (and, if `rows_needed`, a row follows): a file that lost
/// either would otherwise draw an empty plot as if the run had nothing to
/// show. (`cdf.csv` always has the iteration's rows; `links.csv` of a lone
/// GPU without links has none.)
fn rows_with(
    dir: &Path,
    name: &str,
    columns: &[&str],
    rows_needed: bool,
) -> Result<Vec<BTreeMap<String, String>>, InputError> {
    let path = dir.join(name);
    let (header, rows) = csv_rows(&path, &read(dir, name)?)?;
    if let Some(missing) = columns.iter().find(|c| !header.iter().any(|h| h == *c)) {
        return Err(bad(
            &path,
            format!(
                "it has no `{missing}` column (a fabsim run writes {})",
                columns.join(", ")
            ),
        ));
    }
    if rows_needed && rows.is_empty() {
        return Err(bad(&path, "it has no rows below its header"));
    }
    Ok(rows)
}

fn series(dir: &Path) -> Result<Vec<Series>, InputError> {
    let path = dir.join("cdf.csv");
    let mut out: Vec<Series> = Vec::new();
    let columns = ["collective", "bytes", "percentile", "latency_s"];
    for row in rows_with(dir, "cdf.csv", &columns, true)? {
        let name = row.get("collective").cloned().unwrap_or_default();
        let point = (
            field(&path, &row, "percentile")?,
            field(&path, &row, "latency_s")?,
        );
        match out.last_mut() {
            Some(s) if s.name == name => s.points.push(point),
            _ => out.push(Series {
                name,
                kind: row.get("kind").cloned().unwrap_or_default(),
                bytes: field(&path, &row, "bytes")?,
                points: vec![point],
            }),
        }
    }
    Ok(out)
}

fn links(dir: &Path) -> Result<Vec<Link>, InputError> {
    let path = dir.join("links.csv");
    rows_with(dir, "links.csv", &["link", "bytes", "busy_fraction"], false)?
        .into_iter()
        .map(|row| {
            Ok(Link {
                name: row.get("link").cloned().unwrap_or_default(),
                kind: row.get("kind").cloned().unwrap_or_default(),
                bytes: field(&path, &row, "bytes")?,
                busy: field(&path, &row, "busy_fraction")?,
            })
        })
        .collect()
}

/// Compute events per GPU thread and collective events per lane; adjacent
/// events of the same op (one per layer) merge into one bar.
fn timeline(dir: &Path) -> Result<Option<Timeline>, InputError> {
    let path = dir.join("timeline.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(&path, e))?;
    let events = doc["traceEvents"]
        .as_array()
        .ok_or_else(|| bad(&path, "no traceEvents"))?;
    let mut t = Timeline {
        gpus: BTreeMap::new(),
        collectives: BTreeMap::new(),
    };
    for e in events {
        let tid = e["tid"].as_u64().unwrap_or(0) as u32;
        if e["ph"] == "M" && e["name"] == "thread_name" {
            t.gpus.entry(tid).or_default();
            continue;
        }
        if e["ph"] != "X" {
            continue;
        }
        let start = e["ts"].as_f64().unwrap_or(0.0);
        let bar = Bar {
            start,
            end: start + e["dur"].as_f64().unwrap_or(0.0),
            name: e["name"].as_str().unwrap_or("").to_string(),
            phase: e["cat"].as_str().unwrap_or("").to_string(),
            kind: e["args"]["kind"].as_str().unwrap_or("").to_string(),
        };
        let row = match bar.phase.as_str() {
            "transfer" => continue,
            "collective" => t.collectives.entry(tid).or_default(),
            _ => t.gpus.entry(tid).or_default(),
        };
        match row.last_mut() {
            Some(last) if last.name == bar.name && bar.start - last.end <= 1e-6 => {
                last.end = last.end.max(bar.end);
            }
            _ => row.push(bar),
        }
    }
    Ok(Some(t))
}

/// Reads the run folder `dir`.
pub fn load(dir: &Path) -> Result<RunData, InputError> {
    let path = dir.join("summary.json");
    let summary: Summary =
        serde_json::from_str(&read(dir, "summary.json")?).map_err(|e| bad(&path, e))?;
    let mut series = series(dir)?;
    // The summary shows the iteration; the plots are per collective.
    if series.last().is_some_and(|s| s.name == "iteration") {
        series.pop();
    }
    Ok(RunData {
        summary,
        series,
        links: links(dir)?,
        timeline: timeline(dir)?,
    })
}
