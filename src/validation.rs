//! Validation suites: a folder of scenarios, each a published measurement
//! of a real cluster, with the measured figures in `suite.yaml` next to
//! them. `fabsim validate-suite DIR` runs every row and prints row,
//! t·p·d, published s/iteration, fabsim s/iteration and the error. It says
//! whether the mean and worst absolute errors meet the suite's targets, and
//! fails (exit 1) when the mean rises above the suite's gate — the CI
//! regression guard, set at the model's measured accuracy while that is
//! short of the target.
//!
//! `suite.yaml`:
//! ```yaml
//! name: megatron-sc21
//! description: ...
//! target_mean_abs_error: 0.05     # fractions
//! target_max_abs_error: 0.10
//! gate_mean_abs_error: 0.15       # exit 1 above this
//! rows:
//!   - { row: 1.7B, scenario: 1.7b.yaml, gpus: 32, tensor: 1, pipeline: 1, data: 32,
//!       published_tflops_per_gpu: 137, published_percent_of_peak: 44, published_s: 3.528 }
//! ```
//! `published_s` is required; the TFLOP/s and % of peak are optional (not
//! every source reports them).
//! A row's parallelism must match its scenario's (checked on load). Each
//! row is refused, like `fabsim run`, when its memory estimate does not fit.
//! It runs scenarios; it does not fit anything to the published figures.

use crate::input::{InputError, LoadError, Source};
use crate::scenario::{Overrides, Scenario};
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// `suite.yaml`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteFile {
    /// The suite's name.
    pub name: String,
    /// Free text: where the measurements come from.
    #[serde(default)]
    pub description: String,
    /// Target for the mean |error| (a fraction: 0.05 is 5 %).
    pub target_mean_abs_error: f64,
    /// Target for the largest |error| (a fraction).
    pub target_max_abs_error: f64,
    /// `validate-suite` exits 1 when the mean |error| exceeds this (a fraction).
    pub gate_mean_abs_error: f64,
    /// The published rows, with their places in the file.
    pub rows: Vec<Spanned<Row>>,
}

/// One published measurement.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    /// The row's label (e.g. the model size).
    pub row: String,
    /// The scenario reproducing it, relative to the suite file.
    pub scenario: PathBuf,
    /// GPUs in the published run.
    pub gpus: u64,
    /// Published tensor-parallel degree.
    pub tensor: u32,
    /// Published pipeline-parallel degree.
    pub pipeline: u32,
    /// Published data-parallel degree.
    pub data: u32,
    /// Published achieved TFLOP/s per GPU, where the source gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_tflops_per_gpu: Option<f64>,
    /// Published achieved throughput as a percentage of peak, where the
    /// source gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_percent_of_peak: Option<f64>,
    /// Published seconds per iteration.
    pub published_s: f64,
}

impl Row {
    /// Whether `--rows` name `name` picks this row: its label or its
    /// scenario's file stem.
    fn is_named(&self, name: &str) -> bool {
        self.row == name || self.scenario.file_stem().is_some_and(|s| s == name)
    }
}

/// A loaded suite: rows with their scenario paths resolved.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The suite file's folder.
    pub dir: PathBuf,
    /// The suite as written.
    pub file: SuiteFile,
}

/// What one row gave.
#[derive(Debug, Clone, Serialize)]
pub struct RowResult {
    /// The published row.
    #[serde(flatten)]
    pub row: Row,
    /// fabsim's mean seconds per iteration.
    pub fabsim_s: f64,
    /// fabsim / published − 1.
    pub error: f64,
    /// fabsim's model FLOPs utilisation, if the workload is analytical.
    pub mfu: Option<f64>,
    /// fabsim's hardware FLOPs utilisation, if the workload is analytical.
    pub hfu: Option<f64>,
    /// fabsim's peak memory estimate per GPU, bytes.
    pub peak_memory_bytes: u64,
}

/// The whole table and its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The suite's name.
    pub name: String,
    /// One result per row, in file order.
    pub rows: Vec<RowResult>,
    /// Mean of the rows' |error|.
    pub mean_abs_error: f64,
    /// Largest row |error|.
    pub max_abs_error: f64,
    /// The suite's target for the mean |error|.
    pub target_mean_abs_error: f64,
    /// The suite's target for the largest |error|.
    pub target_max_abs_error: f64,
    /// The mean |error| above which the suite fails.
    pub gate_mean_abs_error: f64,
    /// Whether both errors meet their targets.
    pub meets_targets: bool,
    /// Whether the mean absolute error is within the gate.
    pub passed: bool,
}

/// Why a suite could not run: a row's scenario (or the suite file) is
/// unusable, or a row's run failed. Shows the cause's message and keeps
/// the cause as its source.
#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    /// The suite file or a row's scenario is unusable.
    #[error("{0}")]
    Load(#[from] LoadError),
    /// A row's trials could not run.
    #[error("{0}")]
    Run(#[from] crate::run::RunError),
}

impl From<InputError> for ValidationError {
    fn from(e: InputError) -> Self {
        ValidationError::Load(e.into())
    }
}

impl Suite {
    /// Reads `DIR/suite.yaml` and checks each row against its scenario
    /// file's parallelism (loading, not running, the scenarios).
    pub fn load(dir: &Path) -> Result<Suite, LoadError> {
        let src = Source::read(&dir.join("suite.yaml"))?;
        let file: SuiteFile = src.parse()?;
        for (what, v) in [
            ("target_mean_abs_error", file.target_mean_abs_error),
            ("target_max_abs_error", file.target_max_abs_error),
            ("gate_mean_abs_error", file.gate_mean_abs_error),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(src
                    .error(format!("{what} must be a positive fraction, not {v}"))
                    .with_path(what)
                    .into());
            }
        }
        if file.rows.is_empty() {
            return Err(src.error("the suite has no rows").with_path("rows").into());
        }
        for (i, r) in file.rows.iter().enumerate() {
            check_row(&src, dir, i, r)?;
        }
        Ok(Suite {
            dir: dir.to_path_buf(),
            file,
        })
    }

    /// Runs the rows whose `row` or scenario stem is in `only` (all when
    /// empty), calling `each` after every row. A name in `only` that is no
    /// row is refused: a misspelt row would otherwise run nothing and pass.
    pub fn run(
        &self,
        only: &[String],
        mut each: impl FnMut(&RowResult),
    ) -> Result<Report, ValidationError> {
        let rows = || self.file.rows.iter().map(|r| &r.value);
        if let Some(unknown) = only.iter().find(|o| !rows().any(|r| r.is_named(o))) {
            let known: Vec<&str> = rows().map(|r| r.row.as_str()).collect();
            return Err(LoadError::from(crate::input::ArgError::new(
                "--rows",
                format!(
                    "the suite has no row '{unknown}': name rows (or their scenario file stems) from {}",
                    known.join(", ")
                ),
            ))
            .into());
        }
        let mut rows = Vec::new();
        for r in &self.file.rows {
            let r = &r.value;
            let picked = only.is_empty() || only.iter().any(|o| r.is_named(o));
            if !picked {
                continue;
            }
            let result = run_row(&self.dir, r)?;
            each(&result);
            rows.push(result);
        }
        let n = rows.len().max(1) as f64;
        let mean = rows.iter().map(|r| r.error.abs()).sum::<f64>() / n;
        let max = rows.iter().map(|r| r.error.abs()).fold(0.0, f64::max);
        Ok(Report {
            name: self.file.name.clone(),
            rows,
            mean_abs_error: mean,
            max_abs_error: max,
            target_mean_abs_error: self.file.target_mean_abs_error,
            target_max_abs_error: self.file.target_max_abs_error,
            gate_mean_abs_error: self.file.gate_mean_abs_error,
            meets_targets: mean <= self.file.target_mean_abs_error
                && max <= self.file.target_max_abs_error,
            passed: mean <= self.file.gate_mean_abs_error,
        })
    }
}

fn check_row(src: &Source, dir: &Path, i: usize, r: &Spanned<Row>) -> Result<(), LoadError> {
    let row = &r.value;
    let path = dir.join(&row.scenario);
    let at = |msg: String| src.error_at(r, msg).with_path(format!("rows[{i}]"));
    if !path.is_file() {
        return Err(at(format!("the scenario {} does not exist", path.display())).into());
    }
    if !(row.published_s.is_finite() && row.published_s > 0.0) {
        return Err(at("published_s must be a positive number of seconds".into()).into());
    }
    let scenario = Scenario::load(&path, &Overrides::default())?;
    let p = scenario.parallelism;
    if (p.tensor, p.pipeline, p.data) != (row.tensor, row.pipeline, row.data)
        || p.gpus() != row.gpus
    {
        return Err(at(format!(
            "row {} says t·p·d = {}·{}·{} on {} GPUs, but {} runs {}·{}·{}",
            row.row,
            row.tensor,
            row.pipeline,
            row.data,
            row.gpus,
            path.display(),
            p.tensor,
            p.pipeline,
            p.data
        ))
        .into());
    }
    Ok(())
}

fn run_row(dir: &Path, row: &Row) -> Result<RowResult, ValidationError> {
    let path = dir.join(&row.scenario);
    let scenario = Scenario::load(&path, &Overrides::default())?;
    let memory = crate::memory::estimate(&scenario.job(), scenario.cluster.gpu.memory_bytes);
    if !memory.fits {
        return Err(InputError::file(&path, memory.does_not_fit_message()).into());
    }
    let result = crate::run::run(&scenario, &crate::run::RunOptions::default())?;
    let s = &result.summary;
    let fabsim_s = s.iteration.mean_s;
    Ok(RowResult {
        row: row.clone(),
        fabsim_s,
        error: fabsim_s / row.published_s - 1.0,
        mfu: s.mfu,
        hfu: s.hfu,
        peak_memory_bytes: memory.peak_bytes,
    })
}

/// The table header.
pub fn header() -> String {
    format!(
        "{:<14} {:>12} {:>10} {:>10} {:>8} {:>6} {:>6}",
        "row", "t·p·d", "published", "fabsim", "error", "MFU", "HFU"
    )
}

/// One table line.
pub fn line(r: &RowResult) -> String {
    let pct = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{:.1}%", 100.0 * v));
    format!(
        "{:<14} {:>12} {:>9.2}s {:>9.2}s {:>+7.1}% {:>6} {:>6}",
        r.row.row,
        format!("{}·{}·{}", r.row.tensor, r.row.pipeline, r.row.data),
        r.row.published_s,
        r.fabsim_s,
        100.0 * r.error,
        pct(r.mfu),
        pct(r.hfu)
    )
}

/// The closing lines: mean and worst absolute error against the targets
/// and the gate.
pub fn verdict(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "mean |error| {:.1}% (target ≤ {:.1}%), worst {:.1}% (target ≤ {:.1}%): {}",
        100.0 * report.mean_abs_error,
        100.0 * report.target_mean_abs_error,
        100.0 * report.max_abs_error,
        100.0 * report.target_max_abs_error,
        if report.meets_targets {
            "targets met"
        } else {
            "targets NOT met"
        }
    );
    let _ = writeln!(
        out,
        "regression gate: mean |error| ≤ {:.1}%: {}",
        100.0 * report.gate_mean_abs_error,
        if report.passed { "pass" } else { "FAIL" }
    );
    out
}
