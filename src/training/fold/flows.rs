//! The flows of a training job, listed for the proof (`proof.rs`): which
//! flow stands for which, along the folded axes. Pipeline hops, tensor
//! pairs and the tied-embedding pair are one flow per copy; gradient
//! collectives that are not folded (replicas expanded, tensor ranks folded)
//! must be images of tensor rank 0's: the same rank pairs (ring edges of
//! every channel, or every pair of a small group) and the same tree-or-ring
//! choice. It checks routes only; op times and bytes are the caller's.

use super::proof::{Proof, Refusal};
use super::{Parallelism, TrainingJob, gradient_buckets};
use crate::collective::nccl::Layout;
use crate::collective::tuner::{Model, Pick};
use crate::collective::{Algorithm, CollectiveOp, CollectiveSpec};
use crate::ids::GpuId;
use crate::schedule::stage_of_virtual;
use crate::topology::Cluster;
use std::collections::BTreeSet;
use std::ops::Range;

/// One parallelism axis of the proof: folded onto index 0, or not.
#[derive(Copy, Clone)]
pub(super) struct Axis {
    pub(super) len: u32,
    pub(super) folded: bool,
}

pub(super) const ONE: Axis = Axis {
    len: 1,
    folded: false,
};

impl Axis {
    /// Indices that stand for others (or for themselves).
    pub(super) fn reps(self) -> Range<u32> {
        if self.folded { 0..1 } else { 0..self.len }
    }
    /// Indices `rep` stands for.
    pub(super) fn orbit(self, rep: u32) -> Range<u32> {
        if self.folded {
            0..self.len
        } else {
            rep..rep + 1
        }
    }
}

/// Every flow `ends(r, k)` stands for its representative's.
fn family(
    proof: &mut Proof,
    rr: Axis,
    kk: Axis,
    ends: impl Fn(u32, u32) -> (GpuId, GpuId),
) -> Result<(), Refusal> {
    for r0 in rr.reps() {
        for k0 in kk.reps() {
            let (a, b) = ends(r0, k0);
            let image = proof.image(a, b)?;
            for r in rr.orbit(r0) {
                for k in kk.orbit(k0) {
                    let (a, b) = ends(r, k);
                    proof.flow(a, b, image)?;
                }
            }
        }
    }
    Ok(())
}

/// Pipeline hops, tensor pairs (when tensor ranks are not folded) and the
/// tied-embedding pair: every copy's flows stand for their
/// representative's.
pub(super) fn prove_point_to_point(
    job: &TrainingJob,
    proof: &mut Proof,
    rr: Axis,
    kk: Axis,
) -> Result<(), Refusal> {
    let Parallelism {
        pipeline: p,
        tensor: t,
        ..
    } = job.parallelism;
    let v = job.all_virtual_stages();
    for j in 0..v.saturating_sub(1) {
        let (s, s2) = (stage_of_virtual(j, p), stage_of_virtual(j + 1, p));
        if s != s2 {
            family(proof, rr, kk, |r, k| (job.gpu(r, s, k), job.gpu(r, s2, k)))?;
            family(proof, rr, kk, |r, k| (job.gpu(r, s2, k), job.gpu(r, s, k)))?;
        }
    }
    if !kk.folded {
        for s in 0..p {
            for k in 0..t {
                for k2 in (0..t).filter(|&k2| k2 != k) {
                    family(proof, rr, ONE, |r, _| (job.gpu(r, s, k), job.gpu(r, s, k2)))?;
                }
            }
        }
    }
    let tied = job
        .workload
        .model
        .as_ref()
        .map_or(0, |m| m.tied_embedding_bytes);
    if p > 1 && tied > 0 {
        family(proof, rr, kk, |r, k| {
            (job.gpu(r, 0, k), job.gpu(r, p - 1, k))
        })?;
        family(proof, rr, kk, |r, k| {
            (job.gpu(r, p - 1, k), job.gpu(r, 0, k))
        })?;
    }
    Ok(())
}

/// Gradient collectives not folded (replicas expanded) but tensor ranks
/// folded: tensor rank k's collectives must be images of rank 0's.
pub(super) fn prove_gradient_images(
    job: &TrainingJob,
    proof: &mut Proof,
    kk: Axis,
) -> Result<(), Refusal> {
    let Parallelism {
        data: d,
        pipeline: p,
        tensor: t,
        ..
    } = job.parallelism;
    let dp = &job.data_parallel;
    let ops: &[CollectiveOp] = if dp.zero >= 1 {
        &[CollectiveOp::ReduceScatter, CollectiveOp::AllGather]
    } else {
        &[CollectiveOp::AllReduce]
    };
    let all = gradient_buckets(job);
    for s in 0..p {
        let mut edges = BTreeSet::new();
        for &(_, bytes) in all.iter().filter(|&&(j, _)| stage_of_virtual(j, p) == s) {
            for &op in ops {
                let spec = |k: u32| CollectiveSpec {
                    name: String::new(),
                    op,
                    algorithm: dp.algorithm,
                    ranks: (0..d).map(|r| job.gpu(r, s, k)).collect(),
                    bytes,
                    chunks: dp.chunks,
                };
                let first = collective_edges(&spec(0), proof.cluster)?;
                for k in 1..t {
                    if collective_edges(&spec(k), proof.cluster)? != first {
                        return Err("tensor ranks' gradient collectives differ");
                    }
                }
                edges.extend(first.1);
            }
        }
        for (a, b) in edges {
            family(proof, ONE, kk, |_, k| (job.gpu(a, s, k), job.gpu(b, s, k)))?;
        }
    }
    Ok(())
}

/// The rank pairs (indices into the ranks) a collective may send along
/// (ring edges of every channel for rings, every pair for groups of at
/// most `ALL_PAIRS` ranks otherwise), with whether it runs as a tree
/// (which may send along the same pairs as a ring, differently).
fn collective_edges(
    spec: &CollectiveSpec,
    cluster: &Cluster,
) -> Result<(bool, Vec<(u32, u32)>), Refusal> {
    const ALL_PAIRS: usize = 16;
    let n = spec.ranks.len();
    let ring = |order: &[GpuId]| -> Vec<(u32, u32)> {
        let at = |g: GpuId| spec.ranks.iter().position(|&x| x == g).unwrap_or(0) as u32;
        (0..order.len())
            .map(|i| (at(order[i]), at(order[(i + 1) % order.len()])))
            .collect()
    };
    let mut tree = false;
    let ring_like = match spec.algorithm {
        Algorithm::Ring => Some(vec![spec.ranks.clone()]),
        Algorithm::NcclRing | Algorithm::Nccl => {
            let layout = Layout::new(&spec.ranks, cluster);
            tree = spec.algorithm == Algorithm::Nccl
                && Model::new(&layout, cluster, spec.chunks).pick(spec.op, spec.bytes)
                    == Pick::Tree;
            (!tree).then(|| {
                (0..layout.ring_channels(spec.chunks))
                    .map(|c| layout.ring_order(c))
                    .collect()
            })
        }
        _ => None,
    };
    let mut edges: Vec<(u32, u32)> = match ring_like {
        Some(orders) if n > 1 => orders.iter().flat_map(|o| ring(o)).collect(),
        _ if n <= ALL_PAIRS => (0..n as u32)
            .flat_map(|a| (0..n as u32).filter(move |&b| b != a).map(move |b| (a, b)))
            .collect(),
        _ => return Err("gradient collectives are neither rings nor small groups"),
    };
    edges.sort_unstable();
    edges.dedup();
    Ok((tree, edges))
}
