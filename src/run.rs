//! `fabsim run`: the trials of a scenario, in parallel and at constant
//! memory, and their outputs.
//!
//! The training iteration is planned once; each trial simulates it with the
//! noise of (seed, trial index). Trials run in blocks spread over rayon's
//! threads; each block's results are folded, in trial order, into streaming
//! statistics and the streaming `trials.csv`, so memory does not grow with
//! the number of trials and the output is byte-identical whatever the
//! thread count. Output files are written into a temporary folder that
//! replaces the results folder only when complete (see `run/output.rs`): a
//! failed or interrupted run leaves the previous result, never a mix.

use crate::engine::{self, Outcome, SimOptions};
use crate::ids::TaskId;
use crate::report::{
    self, CollectiveSummary, Distribution, LatencyStats, LinkAccumulator, Report, Summary,
};
use crate::scenario::Scenario;
use crate::training::TrainingPlan;
use crate::units::SimTime;
use rayon::prelude::*;
use std::path::PathBuf;

/// Trials simulated per parallel block: big enough to keep threads busy,
/// small enough to bound memory.
const BLOCK: u64 = 1024;

pub mod derived;
mod output;
mod series;
mod trials_csv;

use trials_csv::TrialsCsv;

/// Trial 0's transfers (the Chrome trace's "transfers" rows) are recorded
/// only for plans up to this many tasks; bigger runs' timelines show
/// compute and collectives only.
const MAX_TRANSFER_TASKS: usize = 200_000;

/// Timeline rows when the representative GPUs include the first GPU of
/// each data-parallel replica.
const MAX_REPRESENTATIVE: u32 = 16;

/// Which GPUs the timelines show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TimelineGpus {
    /// One GPU per pipeline stage (replica 0, tensor rank 0), plus the
    /// first GPU of each other replica when that keeps the chart to 16 rows
    /// and the replicas are not folded into replica 0.
    #[default]
    Representative,
    /// Every GPU (a folded copy drawn with its representative's history).
    All,
}

/// Where and how to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Output directory; `None` writes no files.
    pub out_dir: Option<PathBuf>,
    /// Show a progress bar on stderr (hidden anyway when not a terminal).
    pub progress: bool,
    /// The GPUs of `timeline.txt`, `.json` and `.svg`.
    pub timeline: TimelineGpus,
    /// Also write `report.html` (see [`crate::report::html`]).
    pub html: bool,
}

/// The result of a run.
pub struct RunResult {
    /// What `--json` prints and `summary.json` holds.
    pub summary: Summary,
    /// Latency of every reported collective (see `series`), by kind.
    pub collectives: Vec<LatencyStats>,
    /// Iteration time over the trials.
    pub iteration: LatencyStats,
    /// Per-link utilisation, accumulated over the trials.
    pub links: LinkAccumulator,
    /// Files written, in order.
    pub files: Vec<PathBuf>,
}

/// What one trial contributes.
struct TrialResult {
    makespan: SimTime,
    /// (start, end) of each gradient collective, in plan order.
    collectives: Vec<(SimTime, SimTime)>,
    links: Vec<crate::fabric::LinkStats>,
    events: u64,
}

impl TrialResult {
    fn of(plan: &TrainingPlan, spans: &[(TaskId, TaskId)], out: &Outcome) -> TrialResult {
        TrialResult {
            makespan: out.makespan,
            collectives: spans
                .iter()
                .map(|&(a, b)| (out.task_start[a.index()], out.task_end[b.index()]))
                .collect(),
            links: plan.unfold_links(&out.links),
            events: out.events,
        }
    }
}

fn simulate_trial(
    scenario: &Scenario,
    plan: &TrainingPlan,
    spans: &[(TaskId, TaskId)],
    trial: u64,
) -> Result<TrialResult, engine::EngineError> {
    let mut noise = scenario
        .noise
        .trial(scenario.seed, trial, scenario.cluster.num_gpus());
    let out: Outcome = engine::simulate(
        &scenario.cluster,
        &plan.graph,
        SimOptions::default(),
        &mut noise,
    )?;
    Ok(TrialResult::of(plan, spans, &out))
}

/// Why a run failed: a trial the engine could not simulate, or an output
/// that could not be written. Each shows its cause's message; the trial
/// variant says which trial first.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The engine refused or could not finish a trial.
    #[error("simulating trial {trial}")]
    Trial {
        /// The trial's index (its noise stream).
        trial: u64,
        /// What the engine reported.
        #[source]
        source: engine::EngineError,
    },
    /// An exporter could not write its file.
    #[error("writing {name}")]
    Export {
        /// The file's name inside the results folder.
        name: String,
        /// What went wrong writing it.
        #[source]
        source: crate::report::ExportError,
    },
    /// The results folder or a file in it could not be written.
    #[error("{0}")]
    Output(#[from] crate::output::OutputError),
    /// Writing `trials.csv` failed.
    #[error("{0}")]
    Csv(#[from] csv::Error),
    /// Writing a file failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Serialising the per-stage metrics failed.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// `report.html` could not be built from the folder's files.
    #[error("writing report.html")]
    Html(#[source] crate::input::InputError),
}

/// Runs every trial of `scenario` and writes its outputs.
pub fn run(scenario: &Scenario, options: &RunOptions) -> Result<RunResult, RunError> {
    let plan = scenario.plan();
    let series::Series {
        stats: mut collectives,
        spans,
        of_task,
    } = series::series(plan);
    // Trial 0 in detail first (pipeline metrics, timelines); the trial loop
    // reuses it rather than simulating it twice.
    // Only the timelines read the transfer records: none without files.
    let detailed = options.out_dir.is_some() && plan.graph.len() <= MAX_TRANSFER_TASKS;
    let mut noise = scenario
        .noise
        .trial(scenario.seed, 0, scenario.cluster.num_gpus());
    let trial0 = engine::simulate(
        &scenario.cluster,
        &plan.graph,
        SimOptions {
            record_transfers: detailed,
        },
        &mut noise,
    )
    .map_err(|source| RunError::Trial { trial: 0, source })?;
    let first = std::sync::Mutex::new(Some(TrialResult::of(plan, &spans, &trial0)));
    let mut iteration = LatencyStats::new("iteration", 0);
    let mut links = LinkAccumulator::default();
    let mut events = 0u64;
    let staging = options
        .out_dir
        .as_deref()
        .map(crate::output::AtomicDir::new)
        .transpose()?;
    let mut trials_csv = staging.as_ref().map(TrialsCsv::create).transpose()?;
    let bar = crate::output::progress_bar(options.progress, scenario.trials, "trials");
    let mut start = 0;
    while start < scenario.trials {
        let end = (start + BLOCK).min(scenario.trials);
        let block: Vec<Result<TrialResult, engine::EngineError>> = (start..end)
            .into_par_iter()
            .map(|t| {
                let reused = (t == 0)
                    .then(|| first.lock().ok().and_then(|mut f| f.take()))
                    .flatten();
                match reused {
                    Some(r) => Ok(r),
                    None => simulate_trial(scenario, plan, &spans, t),
                }
            })
            .collect();
        for (trial, result) in (start..end).zip(block) {
            let r = result.map_err(|source| RunError::Trial { trial, source })?;
            iteration.record(r.makespan);
            links.add(&r.links, r.makespan);
            events += r.events;
            for (k, &(s, e)) in r.collectives.iter().enumerate() {
                collectives[of_task[k]].record(e - s);
            }
            if let Some(w) = trials_csv.as_mut() {
                w.trial(trial, &r, &collectives, &of_task)?;
            }
        }
        bar.inc(end - start);
        start = end;
    }
    bar.finish_and_clear();
    if let Some(w) = trials_csv {
        w.finish()?;
    }
    let summary = summarize(scenario, &collectives, &iteration, events);
    let mut result = RunResult {
        summary: with_trial0_metrics(scenario, summary, &trial0)?,
        collectives,
        iteration,
        links,
        files: Vec::new(),
    };
    if let Some(staging) = staging {
        result.files = write_outputs(scenario, staging, &result, &trial0, options)?;
    }
    Ok(result)
}

/// Adds what trial 0 alone measures (bubble, per-stage metrics, exposed
/// communication) and the derived figures (MFU, memory, cost).
fn with_trial0_metrics(
    scenario: &Scenario,
    mut summary: Summary,
    trial0: &Outcome,
) -> Result<Summary, RunError> {
    let job = scenario.job();
    let plan = scenario.plan();
    let metrics = crate::pipeline_metrics::pipeline_metrics(&job, plan, trial0);
    summary.bubble_fraction = Some(metrics.bubble_fraction);
    summary.stages = Some(serde_json::to_value(&metrics.stages)?);
    summary.ideal_bubble_fraction = scenario.schedule.ideal_bubble(job.shape());
    summary.exposed_communication_s = crate::pipeline_metrics::exposed::exposed_communication(
        &plan.graph,
        trial0,
        scenario.cluster.num_gpus(),
    );
    derived::fill(scenario, &job, &mut summary);
    Ok(summary)
}

/// Writes the results folder: every exporter's file, trial 0's timelines
/// of the GPUs `options.timeline` picks, and `report.html` with `html`.
fn write_outputs(
    scenario: &Scenario,
    staging: crate::output::AtomicDir,
    result: &RunResult,
    trial0: &Outcome,
    options: &RunOptions,
) -> Result<Vec<PathBuf>, RunError> {
    let timeline = report::TimelineData {
        graph: &scenario.plan().graph,
        outcome: trial0,
        gpus: timeline_gpus(scenario, options.timeline),
        kinds: series::kinds(scenario.plan()),
    };
    let report = Report {
        cluster: &scenario.cluster,
        summary: &result.summary,
        collectives: &result.collectives,
        iteration: &result.iteration,
        links: &result.links,
        timeline: &timeline,
    };
    output::write(staging, &report, options.html)
}

/// The GPUs the timelines show (see [`TimelineGpus`]); with `All`, a
/// folded copy shows its representative's history.
fn timeline_gpus(scenario: &Scenario, which: TimelineGpus) -> Vec<crate::timeline::Shown> {
    let n = scenario.cluster.num_gpus();
    if which == TimelineGpus::All {
        return (0..n)
            .map(crate::ids::GpuId::from_index)
            .map(|gpu| crate::timeline::Shown {
                gpu,
                image: scenario.plan().representative(gpu),
            })
            .collect();
    }
    let job = scenario.job();
    let par = scenario.parallelism;
    let mut gpus: Vec<_> = (0..par.pipeline).map(|s| job.gpu(0, s, 0)).collect();
    if par.pipeline + par.data - 1 <= MAX_REPRESENTATIVE {
        gpus.extend((1..par.data).map(|r| job.gpu(r, 0, 0)));
    }
    // A folded copy ran nothing of its own (its representative's row is
    // its history): drawing it would be an empty row.
    gpus.retain(|&g| g.index() < n && scenario.plan().representative(g) == g);
    gpus.sort_unstable();
    gpus.dedup();
    gpus.into_iter().map(Into::into).collect()
}

fn summarize(
    scenario: &Scenario,
    collectives: &[LatencyStats],
    iteration: &LatencyStats,
    events: u64,
) -> Summary {
    let w = &scenario.workload;
    let mean = iteration.mean_s();
    let samples = f64::from(w.batch_size) * scenario.minibatches_per_iteration();
    let samples_per_s = if mean > 0.0 { samples / mean } else { 0.0 };
    Summary {
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        topology: scenario.cluster.name.clone(),
        workload: w.name.clone(),
        gpus: scenario.cluster.num_gpus(),
        parallelism: scenario.parallelism,
        schedule: scenario.schedule.to_string(),
        microbatches: scenario.microbatches,
        trials: scenario.trials,
        seed: scenario.seed,
        iteration: Distribution::of(iteration),
        collectives: collectives
            .iter()
            .map(|c| CollectiveSummary {
                name: c.name.clone(),
                kind: c.kind,
                bytes: c.bytes,
                latency: Distribution::of(c),
            })
            .collect(),
        samples_per_s,
        tokens_per_s: w
            .model
            .as_ref()
            .map(|m| samples_per_s * m.tokens_per_sample as f64),
        events_per_trial: events as f64 / scenario.trials.max(1) as f64,
        bubble_fraction: None,
        stages: None,
        ideal_bubble_fraction: None,
        exposed_communication_s: 0.0,
        achieved_tflops_per_gpu: None,
        mfu: None,
        hfu: None,
        memory: None,
        cost: None,
    }
}
