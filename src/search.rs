//! `fabsim search`: the cheapest hardware and parallelism that meet a
//! target. A search file (see [`spec`]) names a workload, a global batch, a
//! target (tokens/s, tokens/day or a step time, and/or a capex budget) and
//! the choices: servers, GPU counts, NIC speeds, fabrics; tensor, pipeline,
//! microbatch size, schedule, ZeRO and activation recompute. Every
//! combination is a candidate.
//!
//! Pruning, cheapest rule first, each counted:
//! 1. `invalid` — the parallelism does not divide the GPUs or the batch,
//!    tensor parallelism would span servers, or the scenario does not load;
//! 2. `over-budget` — capex above the budget;
//! 3. `memory-bound` — the mean static memory of a stage exceeds the GPU's;
//! 4. `too-slow-bound` — the step's lower bound misses the target;
//! 5. `dominated-bound` — a simulated point is at least as fast as this
//!    candidate's lower bound and at least as cheap (capex and $/M tokens);
//! 6. `does-not-fit` — the full memory estimate (with activations) exceeds
//!    the GPU's.
//!
//! Rules 4 and 5 run twice: first at the cheap bound (compute, tensor and
//! gradient communication at full speed; `search/bounds.rs`), then, once
//! the candidate's scenario is built, at the route-aware bound (the links
//! its gradient rings really cross; `search/routes.rs`).
//!
//! Why the time rules (4, 5) never drop a point of the front: the bound
//! `lb` never exceeds the simulated step (see `search/bounds.rs` and
//! `search/routes.rs`), and a design's
//! $/M tokens grow with the step. Rule 4: the step is at least `lb`, over
//! the target, and the front holds only points that meet it. Rule 5: the
//! simulated point `q` has `q.step ≤ lb ≤ step`, no more capex and $/M
//! tokens no more than the candidate's at `lb`, so it covers the candidate
//! (the candidate is dominated or ties `q`); when `q` misses the target, so
//! does the candidate. `--exhaustive` turns both off; a test compares the
//! fronts (see `tests/search_cli.rs`).
//!
//! The survivors are simulated exactly as `fabsim run` does
//! ([`crate::run::run`] on the scenario the candidate describes).
//!
//! Survivors go in order of their lowest possible $/M tokens, in rounds of
//! [`ROUND`]; a round's candidates are checked against the points simulated
//! before it and simulated in parallel, so the result does not depend on
//! `--jobs`. `--shard I/N` takes the I-th contiguous slice of candidates;
//! dominance and the front are then within the shard (concatenated shards
//! hold every candidate; the global front is the non-dominated subset of
//! the rows marked `pareto`). The front is over (step time, capex, $/M
//! tokens) among simulated points that meet the target.
//!
//! Rows stream (see `search/stream.rs`): candidates are made one at a
//! time, each row goes to a temporary file beside the output as soon as
//! rules 1–4 decide it, and a last pass over that file fills in what
//! needs the whole front (`pareto`, `why`). Memory holds the survivors of
//! rules 1–4 (rule 5 visits them by bound, not in CSV order), the
//! simulated points and the front, never one row per candidate; each
//! simulation is dropped once summarised.

mod base;
mod bounds;
mod decide;
mod egress;
mod routes;
mod space;
pub mod spec;
mod stream;
pub mod table;

pub use space::{Candidate, Hardware};
pub use spec::Target;

/// Why a search stopped: a candidate whose scenario built but whose run
/// failed, or the thread pool not starting. Each shows its cause's message
/// and keeps the cause as its source.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// A candidate's run failed.
    #[error("search candidate {candidate}")]
    Candidate {
        /// The candidate's index.
        candidate: u64,
        /// What the run reported.
        #[source]
        source: crate::run::RunError,
    },
    /// The `--jobs` thread pool could not start.
    #[error("{0}")]
    Threads(#[from] rayon::ThreadPoolBuildError),
    /// The output file or the rows' temporary could not be written.
    #[error("{0}")]
    Output(#[from] crate::output::OutputError),
    /// Writing or reading a CSV row failed.
    #[error("{0}")]
    Csv(#[from] csv::Error),
    /// The rows' temporary no longer holds what was written to it.
    #[error("the search's temporary rows file was changed while the search ran")]
    Scratch,
}

use crate::input::{InputError, Source};
use crate::sweep::Shard;
use std::path::{Path, PathBuf};

/// Candidates simulated per round (fixed, for determinism).
pub const ROUND: usize = 8;

/// A loaded, checked search.
#[derive(Debug)]
pub struct Search {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) global_batch: u32,
    pub(crate) tokens_per_sample: Option<u64>,
    pub(crate) target: Target,
    pub(crate) hardware: Vec<Hardware>,
    pub(crate) candidates: space::Candidates,
    pub(crate) amortization_years: f64,
    /// Tensor collectives overlap their op's compute (the base scenario's
    /// `collective.tensor_overlap`).
    tensor_overlap: bool,
    /// The base scenario's placement of ranks on GPUs.
    placement: crate::training::Placement,
    trials: u64,
    workloads: space::Workloads,
    base: PathBuf,
    scratch: crate::output::ScratchDir,
}

/// How to run a search.
#[derive(Debug, Clone, Default)]
pub struct SearchOptions {
    /// Threads; `None`: all cores.
    pub jobs: Option<usize>,
    /// Search only this slice of the candidates.
    pub shard: Option<Shard>,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Skip the time bounds (rules 4 and 5): simulate every candidate the
    /// exact rules let through. Slow; it checks that pruning loses nothing.
    pub exhaustive: bool,
}

/// What became of a candidate.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// The combination cannot be built; the reason.
    Invalid(String),
    /// Capex above the budget.
    OverBudget,
    /// Static memory lower bound, bytes.
    MemoryBound(u64),
    /// Its step-time lower bound misses the target.
    TooSlowBound,
    /// The simulated candidate that dominates the bound.
    DominatedBound(u64),
    /// Peak memory estimate, bytes.
    DoesNotFit(u64),
    /// Simulated.
    Simulated,
}

impl Status {
    /// The CSV word and the name of the pruning rule.
    pub fn word(&self) -> &'static str {
        match self {
            Status::Invalid(_) => "invalid",
            Status::OverBudget => "over-budget",
            Status::MemoryBound(_) => "memory-bound",
            Status::TooSlowBound => "too-slow-bound",
            Status::DominatedBound(_) => "dominated-bound",
            Status::DoesNotFit(_) => "does-not-fit",
            Status::Simulated => "simulated",
        }
    }
}

/// A simulated candidate's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Mean step time, seconds.
    pub step_s: f64,
    /// Tokens per second, for workloads with tokens.
    pub tokens_per_s: Option<f64>,
    /// Cluster cost per hour, dollars.
    pub usd_per_hour: f64,
    /// Dollars per million tokens, for workloads with tokens.
    pub usd_per_mtok: Option<f64>,
    /// Pipeline bubble fraction, with pipelining.
    pub bubble: Option<f64>,
    /// Exposed communication per step, seconds.
    pub exposed_s: f64,
    /// Peak memory estimate per GPU, bytes.
    pub peak_bytes: u64,
    /// Model FLOPs utilisation, for analytical workloads.
    pub mfu: Option<f64>,
}

/// One candidate's result.
#[derive(Debug, Clone)]
pub struct Row {
    pub(crate) candidate: Candidate,
    /// Step-time lower bound (candidates that reached rule 4).
    pub(crate) bound_s: Option<f64>,
    pub(crate) status: Status,
    pub(crate) outcome: Option<Outcome>,
    pub(crate) pareto: bool,
    /// Why it wins or loses, in words.
    pub(crate) why: String,
}

impl Row {
    /// Candidate `candidate`, pending: nothing decided yet.
    fn new(candidate: Candidate) -> Row {
        Row {
            candidate,
            bound_s: None,
            status: Status::Simulated,
            outcome: None,
            pareto: false,
            why: String::new(),
        }
    }
}

impl Search {
    /// Reads and checks `file`, writes the generated topologies into a
    /// scratch folder and enumerates the candidates.
    pub fn load(file: &Path) -> Result<Search, InputError> {
        let src = Source::read(file)?;
        let f: spec::SearchFile = src.parse()?;
        let dir = file.parent().unwrap_or(Path::new("."));
        let workload = dir.join(&f.workload.value);
        if !workload.is_file() {
            return Err(src
                .error_at(
                    &f.workload,
                    format!("the workload file {} does not exist", workload.display()),
                )
                .with_path("workload"));
        }
        let workload = std::path::absolute(&workload).unwrap_or(workload);
        let probe = crate::workload::load(
            &workload,
            &crate::topology::gpu::preset("H100-SXM")
                .ok_or_else(|| InputError::file(file, "no H100-SXM preset"))?,
            &crate::workload::WorkloadOptions::default(),
        )?;
        // Each candidate's replicas get global_batch / data samples: only an
        // analytical model is timed for any batch; a trace keeps its own.
        if probe.model.is_none() {
            return Err(src
                .error_at(
                    &f.workload,
                    "a search gives each candidate's replicas global_batch / data samples, \
                     but this workload is a measured trace, timed for one batch size: use an \
                     analytical `model:` workload",
                )
                .with_path("workload"));
        }
        let tokens = probe.model.as_ref().map(|m| m.tokens_per_sample);
        let (target, hw_choices, choices) = spec::check(&src, &f, tokens)?;
        let scratch = crate::output::ScratchDir::new()
            .map_err(|e| InputError::file(file, format!("cannot make a scratch folder: {e}")))?;
        let hardware = space::hardware(scratch.path(), &hw_choices).map_err(|e| {
            src.error(format!("a generated design does not load: {e}"))
                .with_path("hardware")
        })?;
        let candidates = space::Candidates::new(&hardware, &choices, f.global_batch.value);
        let base = scratch.path().join("base.yaml");
        let scenario = base::base_scenario(&src, &f, &workload, &hardware, &base)?;
        let mfu = scenario.compute_efficiency.as_ref().map(|m| m.value);
        let workloads =
            space::workloads(&workload, &hardware, &candidates, f.global_batch.value, mfu)?;
        let name = f.name.clone().unwrap_or_else(|| {
            file.file_stem()
                .map_or_else(|| "search".into(), |s| s.to_string_lossy().into_owned())
        });
        Ok(Search {
            name,
            description: f.description.clone(),
            global_batch: f.global_batch.value,
            tokens_per_sample: tokens,
            target,
            hardware,
            candidates,
            amortization_years: scenario.cost.amortization_years.value,
            tensor_overlap: scenario.collective.tensor_overlap,
            placement: scenario.placement,
            trials: f.trials.unwrap_or(1).max(1),
            workloads,
            base,
            scratch,
        })
    }

    /// Dollars per million tokens at step time `step_s` on design `h`.
    pub fn usd_per_mtok(&self, h: &Hardware, step_s: f64) -> Option<f64> {
        let per_hour = h.cost.capex
            / (self.amortization_years * crate::run::derived::HOURS_PER_YEAR)
            + h.cost.power_per_hour;
        let tokens = self.tokens_per_sample? as f64 * f64::from(self.global_batch);
        Some(per_hour * step_s / 3600.0 / (tokens / 1e6))
    }

    /// Rules 1–4 (not 4 when `exhaustive`); a survivor comes back as
    /// `Simulated` (pending).
    fn cheap(&self, c: &Candidate, exhaustive: bool) -> Row {
        let h = &self.hardware[c.hw];
        let mut row = Row::new(c.clone());
        let fixed = space::Fixed {
            global_batch: self.global_batch,
            tensor_overlap: self.tensor_overlap,
            placement: self.placement,
        };
        row.status = match space::cheap(c, h, &self.workloads, fixed) {
            space::Cheap::Invalid(r) => Status::Invalid(r),
            _ if self.target.budget.is_some_and(|b| h.cost.capex > b) => Status::OverBudget,
            space::Cheap::Memory(b) => Status::MemoryBound(b),
            space::Cheap::Bound(lb) => {
                row.bound_s = Some(lb);
                if !exhaustive && self.target.step_s.is_some_and(|t| lb > t) {
                    Status::TooSlowBound
                } else {
                    Status::Simulated
                }
            }
        };
        row
    }

    /// The `--set` overrides that turn the base scenario into `c`.
    pub fn overrides(&self, c: &Candidate) -> Vec<String> {
        let h = &self.hardware[c.hw];
        let topo = h
            .topology
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        vec![
            format!("topology={topo}"),
            format!("parallelism.tensor={}", c.tensor),
            format!("parallelism.pipeline={}", c.pipeline),
            format!("parallelism.data={}", c.data),
            format!("pipeline.microbatches={}", c.microbatches),
            format!("pipeline.schedule={}", c.schedule),
            format!("collective.zero={}", c.zero),
            format!("recompute={}", c.recompute),
            format!("workload.batch_size={}", self.global_batch / c.data.max(1)),
        ]
    }
}

#[cfg(test)]
mod tests;
