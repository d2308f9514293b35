//! Memory fit, predicted before simulating: per pipeline stage, what one GPU
//! holds at peak, compared with the GPU preset's memory.
//!
//! Per GPU of stage s (all its chunks' layers, already divided by the
//! tensor degree in the workload):
//! - weights: Σ `param_bytes` × the schedule's weight versions;
//! - gradients: Σ `grad_bytes`;
//! - optimizer state (analytical workloads only, which name an optimizer):
//!   Adam in mixed precision keeps an fp32 master copy and two fp32 moments,
//!   12 bytes per parameter, so weights + gradients + optimizer = 2 + 2 + 12
//!   = 16 bytes per parameter (Rajbhandari et al., "ZeRO", SC'20 §3.1, the
//!   "K = 12" accounting; Megatron-LM uses the same). ZeRO-1 shards the
//!   optimizer state over the d data-parallel replicas (÷ d);
//! - stashed activations: the peak, over the stage's op order, of the
//!   activations held for backward (+ a forward's `stash_bytes` ÷ the
//!   microbatch divisor, − at its backward, or its W for split-backward
//!   schedules). A GPU runs its ops in order, so this is exactly the peak
//!   the simulated timeline shows (`pipeline_metrics`, which uses the same
//!   [`virtual_stage_stash`]); plus the largest `backward_working_bytes` of
//!   the stage's layers ÷ the divisor: what one layer's backward
//!   rematerialises under recompute (Korthikanti et al. 2022: the stash
//!   per recompute mode is the workload's `stash_bytes`).
//!
//! Not counted: temporary buffers, communication buffers, the CUDA context,
//! fragmentation. It does not simulate anything.

use crate::schedule::{OpKind, Shape, global_virtual_stage};
use crate::training::TrainingJob;
use crate::workload::{Dtype, Layer};

/// One GPU's memory on one pipeline stage, in bytes.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct StageMemory {
    /// The pipeline stage, from 0.
    pub stage: u32,
    /// Parameters (× weight versions where the schedule keeps several).
    pub weights: u64,
    /// Gradients of the parameters.
    pub gradients: u64,
    /// Optimizer state (÷ d under ZeRO-1).
    pub optimizer: u64,
    /// Peak stashed activations plus the recompute working set.
    pub activations: u64,
    /// The sum of the four.
    pub total: u64,
}

/// The whole job's memory against the GPU's.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MemoryEstimate {
    /// One entry per pipeline stage, in order.
    pub stages: Vec<StageMemory>,
    /// The largest stage total.
    pub peak_bytes: u64,
    /// The stage of `peak_bytes`.
    pub peak_stage: u32,
    /// The GPU's memory.
    pub capacity_bytes: u64,
    /// Whether `peak_bytes` ≤ `capacity_bytes`.
    pub fits: bool,
}

const GIB: f64 = (1u64 << 30) as f64;

impl MemoryEstimate {
    /// "does not fit: needs X GiB per GPU on stage s, the GPU has Y GiB",
    /// then the bytes, that stage's breakdown and what to try.
    pub fn does_not_fit_message(&self) -> String {
        let stage = self.stages.iter().find(|m| m.stage == self.peak_stage);
        let parts = stage.map_or(String::new(), |m| {
            format!(
                ": weights {}, gradients {}, optimizer {}, activations {} bytes",
                m.weights, m.gradients, m.optimizer, m.activations
            )
        });
        format!(
            "does not fit: needs {:.1} GiB per GPU on stage {}, the GPU has {:.1} GiB \
             ({} bytes against {}{parts}); try `recompute: selective` or `full`, more \
             pipeline or tensor parallelism, or ZeRO-1",
            self.peak_bytes as f64 / GIB,
            self.peak_stage,
            self.capacity_bytes as f64 / GIB,
            self.peak_bytes,
            self.capacity_bytes
        )
    }
}

/// Predicts the memory of every stage of `job` on GPUs of `capacity` bytes.
pub fn estimate(job: &TrainingJob, capacity: u64) -> MemoryEstimate {
    let p = job.parallelism.pipeline;
    let orders = job.schedule.order(Shape {
        stages: p,
        microbatches: job.microbatches(),
        virtual_stages: job.virtual_stages,
    });
    let stages: Vec<StageMemory> = (0..p)
        .map(|s| {
            let mut m = static_memory(job, s);
            m.activations = orders
                .get(s as usize)
                .map_or(0, |ops| peak_stash_in_order(job, s, ops))
                .saturating_add(working_bytes(job, s));
            m.total = m.total.saturating_add(m.activations);
            m
        })
        .collect();
    let (peak_stage, peak_bytes) = stages
        .iter()
        .map(|m| (m.stage, m.total))
        .max_by_key(|&(s, b)| (b, std::cmp::Reverse(s)))
        .unwrap_or((0, 0));
    MemoryEstimate {
        stages,
        peak_bytes,
        peak_stage,
        capacity_bytes: capacity,
        fits: peak_bytes <= capacity,
    }
}

/// Weights, gradients and optimizer state of one GPU of stage `s` (no
/// activations); `total` is their sum.
pub fn static_memory(job: &TrainingJob, s: u32) -> StageMemory {
    let p = job.parallelism.pipeline;
    let layers: Vec<&Layer> = (0..job.virtual_stages.max(1))
        .flat_map(|c| {
            let j = global_virtual_stage(s, c, p) as usize;
            let start: usize = job.partition.iter().take(j).sum();
            let n = job.partition.get(j).copied().unwrap_or(0);
            job.workload.layers.iter().skip(start).take(n)
        })
        .collect();
    let versions = job.schedule.weight_versions(s, p);
    let params: u64 = layers.iter().map(|l| l.param_bytes).sum();
    let weights = params.saturating_mul(u64::from(versions));
    let gradients: u64 = layers.iter().map(|l| l.grad_bytes).sum();
    let mut optimizer = optimizer_factor(job).map_or(0, |(num, den)| {
        (u128::from(params) * u128::from(num) / u128::from(den)) as u64
    });
    if job.data_parallel.zero >= 1 {
        optimizer = optimizer.div_ceil(u64::from(job.parallelism.data.max(1)));
    }
    StageMemory {
        stage: s,
        weights,
        gradients,
        optimizer,
        activations: 0,
        total: weights.saturating_add(gradients).saturating_add(optimizer),
    }
}

/// The element type of an analytical model's weights, inferred from its
/// weight bytes per parameter (`None` for traces).
pub fn model_dtype(job: &TrainingJob) -> Option<Dtype> {
    let model = job.workload.model.as_ref()?;
    if model.parameters <= 0.0 {
        return None;
    }
    let bytes = job.workload.total_param_bytes() as f64 * f64::from(job.parallelism.tensor);
    let per_param = bytes / model.parameters;
    Some(if per_param < 1.5 {
        Dtype::Fp8
    } else if per_param < 3.0 {
        Dtype::Bf16
    } else {
        Dtype::Fp32
    })
}

/// Optimizer state bytes per weight byte, as (numerator, denominator), for
/// analytical workloads.
pub fn optimizer_factor(job: &TrainingJob) -> Option<(u64, u64)> {
    let model = job.workload.model.as_ref()?;
    let dtype = model_dtype(job)?;
    Some((model.optimizer.state_bytes_per_param(dtype), dtype.bytes()))
}

/// Layers of virtual stage `j` (chunk c of stage s is j = c·p + s).
fn virtual_stage_layers<'a>(job: &'a TrainingJob, j: u32) -> &'a [Layer] {
    let start: usize = job.partition.iter().take(j as usize).sum();
    let n = job.partition.get(j as usize).copied().unwrap_or(0);
    let end = (start + n).min(job.workload.layers.len());
    &job.workload.layers[start.min(end)..end]
}

/// Bytes one microbatch stashes in virtual stage `j` between its forward
/// and its backward: the one stash calculation of the crate.
pub fn virtual_stage_stash(job: &TrainingJob, j: u32) -> u64 {
    virtual_stage_layers(job, j)
        .iter()
        .map(|l| l.stash_bytes)
        .sum::<u64>()
        / u64::from(job.divisor())
}

/// The largest backward working set (one microbatch) among stage `s`'s
/// layers.
pub fn working_bytes(job: &TrainingJob, s: u32) -> u64 {
    let p = job.parallelism.pipeline;
    (0..job.virtual_stages.max(1))
        .flat_map(|c| virtual_stage_layers(job, global_virtual_stage(s, c, p)))
        .map(|l| l.backward_working_bytes)
        .max()
        .unwrap_or(0)
        / u64::from(job.divisor())
}

/// Peak stashed activation bytes of stage `s` running `ops` in order.
fn peak_stash_in_order(job: &TrainingJob, s: u32, ops: &[crate::schedule::Op]) -> u64 {
    let p = job.parallelism.pipeline;
    let release = if job.schedule.splits_backward() {
        OpKind::BackwardWeight
    } else {
        OpKind::Backward
    };
    let stash = |local: u32| virtual_stage_stash(job, global_virtual_stage(s, local, p));
    let (mut live, mut peak) = (0u64, 0u64);
    for op in ops {
        if op.kind == OpKind::Forward {
            live = live.saturating_add(stash(op.virtual_stage));
            peak = peak.max(live);
        } else if op.kind == release {
            live = live.saturating_sub(stash(op.virtual_stage));
        }
    }
    peak
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::Schedule;
    use crate::workload::Workload;

    fn workload(layers: usize) -> Workload {
        let layer = |i: usize| Layer {
            name: format!("l{i}"),
            forward: crate::units::SimTime::from_us(10),
            backward: crate::units::SimTime::from_us(20),
            backward_weight: crate::units::SimTime::ZERO,
            activation_bytes: 100,
            grad_bytes: 1000,
            param_bytes: 1000,
            stash_bytes: 400,
            tensor_allreduce_bytes: 0,
            tensor_allreduces: 0,
            tensor_allreduces_backward: 0,
            flops_forward: 0.0,
            backward_working_bytes: 0,
            optimizer_step: crate::units::SimTime::ZERO,
        };
        Workload {
            name: "w".into(),
            description: String::new(),
            batch_size: 4,
            samples_per_epoch: 4,
            layers: (0..layers).map(layer).collect(),
            model: None,
        }
    }

    fn job(w: &Workload, schedule: Schedule, p: u32, m: u32) -> TrainingJob<'_> {
        crate::training::tests::job(w, p, 1, m, schedule)
    }

    #[test]
    fn one_f_one_b_holds_p_minus_s_and_gpipe_holds_m() {
        let w = workload(8);
        // 2 layers per stage, 400 bytes each per minibatch, m = 8: 100 bytes
        // per microbatch per stage.
        let e = estimate(&job(&w, Schedule::OneFOneB, 4, 8), u64::MAX);
        let acts: Vec<u64> = e.stages.iter().map(|m| m.activations).collect();
        assert_eq!(acts, vec![400, 300, 200, 100]);
        let e = estimate(&job(&w, Schedule::Gpipe, 4, 8), u64::MAX);
        assert!(e.stages.iter().all(|m| m.activations == 800));
        assert_eq!(e.stages[0].weights, 2000);
        assert_eq!(e.stages[0].gradients, 2000);
        assert_eq!(e.stages[0].optimizer, 0, "traces name no optimizer");
        assert_eq!(e.peak_bytes, 4800);
    }

    #[test]
    fn fit_and_message() {
        let w = workload(8);
        let e = estimate(&job(&w, Schedule::OneFOneB, 4, 8), 4000);
        assert!(!e.fits);
        assert_eq!(e.peak_stage, 0);
        assert!(e.does_not_fit_message().contains("on stage 0"));
        assert!(estimate(&job(&w, Schedule::OneFOneB, 4, 8), 4400).fits);
    }
}
