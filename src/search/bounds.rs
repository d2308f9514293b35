//! The search's lower bounds, cheap enough to run on every candidate
//! before any scenario is built. They do not decide what to prune (that is
//! `search.rs`).
//!
//! Lower bounds (valid whatever the fabric, so pruning never drops a design
//! that could win): a stage's GPUs must run their share of the model's
//! compute, W/p where W = Σ layers (forward + backward) of the workload
//! loaded with a replica's batch and no recompute (recompute only adds
//! work, so one bound serves every recompute choice), plus the least time
//! of its tensor-parallel collectives (see [`tensor_time`]); GPipe/1F1B add
//! the fill and drain (m+p−1)/m (the mean over stages of `busy_s +
//! Σ_{s'≠s} per-microbatch work` — DESIGN §3's closed form). Static memory: some stage holds at least the mean of weights,
//! gradients and optimizer state, (P + G + O)/p.

use super::space::Candidate;
use crate::training::{DataParallel, Parallelism, Placement, TrainingJob};
use crate::workload::Workload;

/// (P + G + O) / p: the mean static memory of a stage's GPU.
pub(super) fn static_bound(wl: &Workload, c: &Candidate) -> u64 {
    let par = Parallelism {
        data: c.data,
        pipeline: c.pipeline,
        tensor: c.tensor,
        sequence_parallel: false,
    };
    let job = TrainingJob {
        workload: wl,
        parallelism: par,
        placement: Placement::default(),
        schedule: crate::schedule::Schedule::OneFOneB,
        microbatches: c.microbatches.max(1),
        virtual_stages: 1,
        partition: crate::partition::uniform(wl.layers.len(), c.pipeline as usize),
        data_parallel: DataParallel {
            algorithm: crate::collective::Algorithm::Ring,
            chunks: 1,
            overlap: true,
            bucket_bytes: None,
            zero: c.zero,
        },
        tensor_algorithm: crate::collective::Algorithm::Ring,
        tensor_overlap: false,
        p2p: crate::training::P2p::Async,
    };
    let params = wl.total_param_bytes();
    let mut opt = crate::memory::optimizer_factor(&job).map_or(0, |(num, den)| {
        (u128::from(params) * u128::from(num) / u128::from(den.max(1))) as u64
    });
    if c.zero >= 1 {
        opt = opt.div_ceil(u64::from(c.data.max(1)));
    }
    let total = params
        .saturating_add(wl.total_grad_bytes())
        .saturating_add(opt);
    total / u64::from(c.pipeline.max(1))
}

/// The lower bound on the step, seconds: the pipeline closed form over
/// each op's least duration. An op is its compute and, with tensor
/// parallelism, its tensor collective: after the compute (the next op
/// waits for it), or overlapped with it (`tensor_overlap`: the op lasts at
/// least the longer of the two).
pub(super) fn time_bound(wl: &Workload, c: &Candidate, egress: f64, tensor_overlap: bool) -> f64 {
    let compute = wl.total_forward().as_secs_f64() + wl.total_backward().as_secs_f64();
    let tensor = tensor_time(wl, c, egress);
    let whole = if tensor_overlap {
        compute.max(tensor)
    } else {
        compute + tensor
    };
    let p = f64::from(c.pipeline);
    let m = f64::from(c.microbatches.max(1));
    match c.schedule.as_str() {
        "gpipe" | "1f1b" => whole / p * (m + p - 1.0) / m,
        "zb-h1" => whole / p,
        // Whole minibatches or chunked stages: no bound claimed.
        _ => 0.0,
    }
}

/// The least time the tensor-parallel collectives of one replica's
/// minibatch take, summed over its ops, at `egress` bytes/s per GPU.
///
/// Why it is a lower bound whatever the algorithm (ring, tree, NCCL-like)
/// and fabric: an all-reduce of B bytes among t ranks without in-network
/// reduction needs 2(t−1)/t·B bytes through each rank's links (Patarasuk &
/// Yuan, "Bandwidth optimal all-reduce algorithms for clusters of
/// workstations", JPDC 69(2), 2009, §3), and a reduce-scatter plus
/// all-gather (sequence parallelism) needs (t−1)/t·B each. No GPU sends
/// faster than the sum of its outgoing links; protocol overheads and
/// latencies only add. The builder rounds each op's bytes down (one byte
/// at most per op, and an op holds at least one layer), so that many bytes
/// come off first. Recompute only adds collectives, so the workload loaded
/// without it bounds every recompute choice.
fn tensor_time(wl: &Workload, c: &Candidate, egress: f64) -> f64 {
    let t = c.tensor;
    if t < 2 || egress <= 0.0 {
        return 0.0;
    }
    let bytes: u64 = wl
        .layers
        .iter()
        .map(|l| {
            l.tensor_allreduce_bytes * u64::from(l.tensor_allreduces + l.tensor_allreduces_backward)
        })
        .sum();
    let ops = 2 * wl.layers.len() as u64 * u64::from(c.microbatches.max(1));
    2.0 * f64::from(t - 1) / f64::from(t) * bytes.saturating_sub(ops) as f64 / egress
}
