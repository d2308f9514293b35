//! The route-aware lower bound on a built candidate's step: the links its
//! gradient rings really cross, with the ECMP choices the engine will make
//! (`engine::ecmp_hash`), so collisions on an oversubscribed spine count.
//! It needs the scenario (partition, workload, cluster), so the search
//! computes it after loading a candidate and before simulating it. It does
//! not decide what to prune (that is `search.rs`), and claims nothing (0)
//! for other algorithms, schedules or a single replica.
//!
//! Why it is a lower bound, for `algorithm: ring` under GPipe or 1F1B
//! (whose last compute op on every GPU is the backward that completes its
//! gradients). Take stage s:
//! - no gradient byte of s moves before T0_s, the start of that last
//!   backward (the first bucket's ring waits for it on every replica, the
//!   next rings for the previous one), and T0_s is at least the GPU's
//!   earlier ops: m forwards and m−1 backwards, compute and tensor
//!   collectives (as in `bounds.rs`);
//! - each bucket of B bytes is a ring over the replicas r0 → r1 → … → r0:
//!   on every chunk c (ECMP channel c) each rank sends 2(d−1) pieces of at
//!   least ⌊⌊B/C⌋/d⌋ bytes to its successor (a reduce-scatter plus an
//!   all-gather under ZeRO-1: the same pieces), over the one route the
//!   engine takes for (rank, successor, c). Summed over the stage's
//!   buckets, a directed link ℓ carries at least `load_s(ℓ)` bytes after
//!   T0_s and at most `bandwidth(ℓ)` per second, whatever else shares it;
//! - the GPU's optimizer step follows its group's last ring.
//!
//! So the step ≥ T0_s + load_s(ℓ)/bandwidth(ℓ) + optimizer_s for every s
//! and ℓ; and, for links the stages share, ≥ min_s T0_s + Σ_s load_s(ℓ) /
//! bandwidth(ℓ) + min_s optimizer_s.

use super::bounds::{ops_time, tensor_secs};
use crate::collective::Algorithm;
use crate::scenario::Scenario;
use crate::schedule::Schedule;
use crate::workload::Layer;

/// The route-aware lower bound on `s`'s step, seconds; `egress` is the
/// most a GPU sends per second (for the tensor collectives' share).
pub(super) fn ring_bound(s: &Scenario, egress: f64) -> f64 {
    let d = s.parallelism.data;
    if d < 2
        || s.virtual_stages != 1
        || s.data_parallel.algorithm != Algorithm::Ring
        || !matches!(s.schedule, Schedule::Gpipe | Schedule::OneFOneB)
    {
        return 0.0;
    }
    let job = s.job();
    let links = s.cluster.links();
    let mut total = vec![0.0f64; links.len()];
    let mut stage_load = vec![0.0f64; links.len()];
    let mut touched: Vec<usize> = Vec::new();
    let (mut best, mut first_t0, mut least_opt) = (0.0f64, f64::INFINITY, f64::INFINITY);
    let mut start = 0;
    for (stage, &n) in s.partition.iter().enumerate() {
        let layers = &s.workload.layers[start..start + n];
        start += n;
        let (t0, opt) = stage_times(s, layers, egress);
        let per_edge = edge_bytes(layers, d, s.data_parallel.chunks.max(1));
        for k in 0..s.parallelism.tensor {
            for c in 0..s.data_parallel.chunks.max(1) {
                for r in 0..d {
                    let src = job.gpu(r, stage as u32, k);
                    let dst = job.gpu((r + 1) % d, stage as u32, k);
                    let route = s
                        .cluster
                        .route(src, dst, crate::engine::ecmp_hash(src, dst, c));
                    for l in route.links {
                        let i = l.index();
                        if stage_load[i] == 0.0 {
                            touched.push(i);
                        }
                        stage_load[i] += per_edge;
                        total[i] += per_edge;
                    }
                }
            }
        }
        let busiest = touched
            .drain(..)
            .map(|i| std::mem::take(&mut stage_load[i]) / links[i].bandwidth.bytes_per_sec())
            .fold(0.0, f64::max);
        best = best.max(t0 + busiest + opt);
        first_t0 = first_t0.min(t0);
        least_opt = least_opt.min(opt);
    }
    let shared = total
        .iter()
        .zip(links)
        .map(|(b, l)| b / l.bandwidth.bytes_per_sec())
        .fold(0.0, f64::max);
    best.max(first_t0 + shared + least_opt)
}

/// (T0, optimizer step) of a stage holding `layers`, seconds: the least
/// time before its last backward starts, and its optimizer step.
fn stage_times(s: &Scenario, layers: &[Layer], egress: f64) -> (f64, f64) {
    let job = s.job();
    let m = f64::from(job.divisor().max(1));
    let before_last = (m - 1.0) / m;
    let secs = |f: fn(&Layer) -> f64| layers.iter().map(f).sum::<f64>();
    let compute =
        secs(|l| l.forward.as_secs_f64()) + before_last * secs(|l| l.backward.as_secs_f64());
    let ops = 2 * layers.len() as u64 * u64::from(job.divisor().max(1));
    let tensor = tensor_secs(layers, s.parallelism.tensor, ops, egress, before_last);
    let shards = if s.data_parallel.zero >= 1 {
        f64::from(s.parallelism.data)
    } else {
        1.0
    };
    let opt = secs(|l| l.optimizer_step.as_secs_f64()) / shards;
    (ops_time(compute, tensor, s.tensor_overlap), opt)
}

/// The least bytes one ring edge carries for a stage's gradients on one of
/// `chunks` chunks: 2(d−1) pieces per bucket, each at least B/(C·d) − 2
/// bytes (two floors), with at most one bucket per layer.
fn edge_bytes(layers: &[Layer], d: u32, chunks: u32) -> f64 {
    let grads: u64 = layers.iter().map(|l| l.grad_bytes).sum();
    let d = f64::from(d);
    let steps = 2.0 * (d - 1.0);
    (steps * (grads as f64 / f64::from(chunks) / d) - steps * 2.0 * layers.len() as f64).max(0.0)
}
