//! Pipeline metrics of one simulated iteration: per stage, how busy its GPU
//! was, how many microbatch activations it stashed at peak, how many weight
//! versions it keeps and its memory; and the bubble fraction of the whole
//! pipeline.
//!
//! Conventions:
//! - `busy_s` is the compute time of the stage's first GPU (replica 0,
//!   tensor rank 0); `utilization` = busy / makespan. `bubble_fraction` =
//!   1 − Σ busy / (gpus · makespan) over every GPU of every stage. The
//!   makespan includes any gradient all-reduces after the flush.
//! - `peak_activations` counts stashed microbatch activations on that GPU:
//!   +1 when a forward ends, −1 when its backward ends (for split-backward
//!   schedules: its W). Under interleaving each (chunk, microbatch) counts
//!   1/v, so the unit is "one microbatch through the whole stage"
//!   (REFERENCES: stage 0 holds p + (p−1)/v).
//! - `memory_bytes` = weights × versions + gradients + optimizer state +
//!   peak stash, where the peak stash is the peak of the stashed bytes (each
//!   live chunk-microbatch holding its layers' `stash_bytes` / divisor,
//!   [`crate::memory::virtual_stage_stash`]) + the stage's recompute
//!   working set ([`crate::memory::working_bytes`]).
//!   The weights, gradients and optimizer state come from
//!   [`crate::memory::static_memory`] (16 bytes per parameter for Adam in
//!   mixed precision, optimizer state ÷ d under ZeRO-1); `crate::memory`
//!   predicts the same peak from the op order before simulating. Not
//!   counted: temporary buffers, communication buffers, fragmentation.
//!
//! It does not time anything: it reads an engine [`Outcome`].

use crate::engine::Outcome;
use crate::ids::{GpuId, TaskId};
use crate::plan::{Phase, TaskKind};
use crate::training::{TrainingJob, TrainingPlan};
use crate::workload::Layer;
use std::collections::BTreeMap;

/// One pipeline stage's metrics.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StageMetrics {
    /// The pipeline stage, from 0.
    pub stage: u32,
    /// Every GPU running this stage (all replicas and tensor ranks).
    pub gpus: Vec<GpuId>,
    /// Names of the stage's layers, virtual stage by virtual stage.
    pub layers: Vec<String>,
    /// Compute seconds of the stage's first GPU (see the module header).
    pub busy_s: f64,
    /// `busy_s` ÷ the iteration's makespan.
    pub utilization: f64,
    /// Peak stashed activations, in microbatches through the whole stage.
    pub peak_activations: f64,
    /// Weight versions the schedule keeps (PipeDream: p − stage).
    pub weight_versions: u32,
    /// Weights × versions + gradients + optimizer state + peak stash.
    pub memory_bytes: u64,
}

/// Metrics of the whole pipeline.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PipelineMetrics {
    /// One entry per pipeline stage, in order.
    pub stages: Vec<StageMetrics>,
    /// 1 − Σ busy ÷ (GPUs · makespan), over every GPU.
    pub bubble_fraction: f64,
}

/// Computes the metrics of `plan` (built from `job`) as run in `outcome`.
pub fn pipeline_metrics(
    job: &TrainingJob,
    plan: &TrainingPlan,
    outcome: &Outcome,
) -> PipelineMetrics {
    let graph = &plan.graph;
    let makespan = outcome.makespan.as_secs_f64();
    let mut busy: BTreeMap<GpuId, f64> = BTreeMap::new();
    // Each GPU's compute tasks, in graph order (one pass, not one per stage).
    let mut computes: BTreeMap<GpuId, Vec<usize>> = BTreeMap::new();
    for (i, t) in graph.tasks().iter().enumerate() {
        if let TaskKind::Compute { gpu, .. } = t.kind {
            let d = outcome.task_end[i].saturating_sub(outcome.task_start[i]);
            *busy.entry(gpu).or_default() += d.as_secs_f64();
            computes.entry(gpu).or_default().push(i);
        }
    }
    let p = job.parallelism.pipeline;
    let v = job.virtual_stages.max(1);
    let mut total_busy = 0.0;
    let mut gpus = 0usize;
    let stages = plan
        .stages
        .iter()
        .map(|sp| {
            for &g in &sp.gpus {
                // A folded plan's replicas share replica 0's history.
                total_busy += busy.get(&plan.representative(g)).copied().unwrap_or(0.0);
            }
            gpus += sp.gpus.len();
            let first = sp.gpus.first().copied();
            let busy_s = first.and_then(|g| busy.get(&g).copied()).unwrap_or(0.0);
            let layers: Vec<&Layer> = sp
                .layers
                .iter()
                .flat_map(|r| &job.workload.layers[r.clone()])
                .collect();
            let (peak_count, peak_bytes) = first
                .map(|g| {
                    let none = Vec::new();
                    peak_stash(job, plan, outcome, computes.get(&g).unwrap_or(&none))
                })
                .unwrap_or((0, 0));
            let versions = job.schedule.weight_versions(sp.stage, p);
            let fixed = crate::memory::static_memory(job, sp.stage);
            StageMetrics {
                stage: sp.stage,
                gpus: sp.gpus.clone(),
                layers: layers.iter().map(|l| l.name.clone()).collect(),
                busy_s,
                utilization: ratio(busy_s, makespan),
                peak_activations: peak_count as f64 / f64::from(v),
                weight_versions: versions,
                memory_bytes: fixed
                    .total
                    .saturating_add(peak_bytes)
                    .saturating_add(crate::memory::working_bytes(job, sp.stage)),
            }
        })
        .collect();
    PipelineMetrics {
        stages,
        bubble_fraction: 1.0 - ratio(total_busy, gpus as f64 * makespan),
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// Peak stashed (chunk, microbatch) activations on `gpu`, and the peak of
/// their bytes.
fn peak_stash(
    job: &TrainingJob,
    plan: &TrainingPlan,
    outcome: &Outcome,
    computes: &[usize],
) -> (u64, u64) {
    let graph = &plan.graph;
    let release = if job.schedule.splits_backward() {
        Phase::BackwardWeight
    } else {
        Phase::Backward
    };
    // (virtual stage, microbatch) → (end of F, end of its release).
    let mut spans: BTreeMap<(u32, u32), (Option<u64>, Option<u64>)> = BTreeMap::new();
    for &i in computes {
        let t = graph.task(TaskId::from_index(i));
        let end = outcome.task_end[i].ps();
        let e = spans.entry((t.tag.stage, t.tag.microbatch)).or_default();
        if t.tag.phase == Phase::Forward {
            e.0 = Some(e.0.map_or(end, |x| x.max(end)));
        } else if t.tag.phase == release {
            e.1 = Some(e.1.map_or(end, |x| x.max(end)));
        }
    }
    let stash = |j: u32| crate::memory::virtual_stage_stash(job, j);
    // Events: (time, 0 = release first at equal times / 1 = acquire, bytes).
    let mut events: Vec<(u64, u8, u64)> = Vec::new();
    for (&(j, _), &(f, r)) in &spans {
        let Some(f) = f else { continue };
        let bytes = stash(j);
        events.push((f, 1, bytes));
        if let Some(r) = r {
            events.push((r, 0, bytes));
        }
    }
    events.sort_unstable();
    let (mut count, mut bytes, mut peak_count, mut peak_bytes) = (0i64, 0i128, 0i64, 0i128);
    for (_, kind, b) in events {
        if kind == 1 {
            count += 1;
            bytes += i128::from(b);
        } else {
            count -= 1;
            bytes -= i128::from(b);
        }
        peak_count = peak_count.max(count);
        peak_bytes = peak_bytes.max(bytes);
    }
    (
        peak_count as u64,
        u64::try_from(peak_bytes).unwrap_or(u64::MAX),
    )
}

pub mod exposed;

#[cfg(test)]
mod tests;
