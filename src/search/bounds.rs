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
//! Σ_{s'≠s} per-microbatch work` — DESIGN §3's closed form). The gradient
//! synchronisation gives a second bound (see [`data_bound`]); the step is
//! at least the larger. Static memory: some stage holds at least the mean
//! of weights, gradients and optimizer state, (P + G + O)/p.

use super::space::Candidate;
use crate::training::{DataParallel, Parallelism, Placement, TrainingJob};
use crate::workload::{Layer, Workload};

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
    let whole = ops_time(compute, tensor_time(wl, c, egress, 1.0), tensor_overlap);
    let p = f64::from(c.pipeline);
    let m = f64::from(c.microbatches.max(1));
    match c.schedule.as_str() {
        "gpipe" | "1f1b" => whole / p * (m + p - 1.0) / m,
        "zb-h1" => whole / p,
        // Whole minibatches or chunked stages: no bound claimed.
        _ => 0.0,
    }
}

/// The least time of ops whose compute sums to `compute` and tensor
/// collectives to `tensor`: after the compute (the next op waits for the
/// collective), or overlapped with it (each op lasts at least the longer of
/// the two, and a sum of maxima is at least the maximum of the sums).
pub(super) fn ops_time(compute: f64, tensor: f64, tensor_overlap: bool) -> f64 {
    if tensor_overlap {
        compute.max(tensor)
    } else {
        compute + tensor
    }
}

/// The least time the tensor-parallel collectives of a `share` (0 to 1)
/// of one replica's minibatch take, summed over its ops, at `egress`
/// bytes/s per GPU (`share` < 1: any set of ops holding at least that share
/// of the bytes).
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
fn tensor_time(wl: &Workload, c: &Candidate, egress: f64, share: f64) -> f64 {
    let ops = 2 * wl.layers.len() as u64 * u64::from(c.microbatches.max(1));
    tensor_secs(&wl.layers, c.tensor, ops, egress, share)
}

/// [`tensor_time`] over `layers`, whose collectives run in at most `ops`
/// ops (each op rounds its bytes down by less than one byte).
pub(super) fn tensor_secs(layers: &[Layer], t: u32, ops: u64, egress: f64, share: f64) -> f64 {
    if t < 2 || egress <= 0.0 {
        return 0.0;
    }
    let bytes: u64 = layers
        .iter()
        .map(|l| {
            l.tensor_allreduce_bytes * u64::from(l.tensor_allreduces + l.tensor_allreduces_backward)
        })
        .sum();
    let moved = (share * bytes as f64 - ops as f64).max(0.0);
    2.0 * f64::from(t - 1) / f64::from(t) * moved / egress
}

/// The gradient synchronisation's lower bound on the step, seconds (0 when
/// it claims nothing): `off_host` is the most a GPU can send per second to
/// other hosts, and the caller has checked that every data-parallel group
/// has its d ranks on d different hosts.
///
/// Why it is a lower bound, for GPipe and 1F1B (whose last compute op on
/// every GPU is the backward that completes its gradients), whatever the
/// all-reduce algorithm and fabric. Take stage s and one of its groups:
/// - its first gradient collective waits for the first bucket of that last
///   backward on every replica, so no byte moves before the backward
///   starts, at T0 ≥ the durations of the GPU's earlier ops: all m
///   forwards and m−1 backwards (compute and tensor collectives, as in
///   [`time_bound`]);
/// - an all-reduce (or ZeRO-1's reduce-scatter + all-gather) of B bytes
///   among d ranks moves each element at least 2(d−1) times without
///   in-network reduction: d−1 transfers to merge d partial sums, d−1 to
///   hand the result to the other ranks. The ranks sit on different hosts
///   and GPUs never forward, so each transfer leaves its sender's host, at
///   most `off_host` bytes/s per rank: the group's collectives end at least
///   2(d−1)/d·B/off_host after T0;
/// - then the GPU runs its optimizer step (÷ d under ZeRO-1).
///
/// The step is at least the largest stage's sum, so at least the mean over
/// stages, where Σ_s B_s is every layer's gradient bytes and the compute
/// and optimizer terms sum over the layers too. Recompute only adds work.
pub(super) fn data_bound(
    wl: &Workload,
    c: &Candidate,
    egress: f64,
    off_host: f64,
    tensor_overlap: bool,
) -> f64 {
    let d = c.data;
    if d < 2 || off_host <= 0.0 || !matches!(c.schedule.as_str(), "gpipe" | "1f1b") {
        return 0.0;
    }
    let m = f64::from(c.microbatches.max(1));
    let before_last = (m - 1.0) / m;
    let compute =
        wl.total_forward().as_secs_f64() + before_last * wl.total_backward().as_secs_f64();
    let t0 = ops_time(
        compute,
        tensor_time(wl, c, egress, before_last),
        tensor_overlap,
    );
    let d = f64::from(d);
    let sync = 2.0 * (d - 1.0) / d * wl.total_grad_bytes() as f64 / off_host;
    let shards = if c.zero >= 1 { d } else { 1.0 };
    let optimizer: f64 = wl
        .layers
        .iter()
        .map(|l| l.optimizer_step.as_secs_f64())
        .sum::<f64>()
        / shards;
    (t0 + sync + optimizer) / f64::from(c.pipeline.max(1))
}
