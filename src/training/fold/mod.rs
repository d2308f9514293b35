//! Folding identical work: simulate one data-parallel replica and one
//! tensor-parallel rank and let them stand for all, when that is provably
//! exact; refuse otherwise.
//!
//! Two axes fold, each when its copies provably do the same thing at the
//! same time. Replicas: replica r's GPUs are replica 0's moved by the
//! placement (GPU(r, s, k) ↦ GPU(0, s, k)). Tensor ranks: rank k of a
//! tensor group is rank 0 moved (GPU(r, s, k) ↦ GPU(r, s, 0)). Op times
//! never depend on r or k and, without noise, neither do perturbations;
//! every transfer and collective of a copy has its image's bytes. What
//! remains is contention, and `proof.rs` shows that every flow of the
//! expanded job — pipeline hops, tensor collectives, the tied-embedding
//! pair, gradient collectives — meets the same flows on links of the same
//! capacity as the flow that stands for it.
//!
//! A collective across a folded axis is one ring of equal pieces
//! (`ring.rs`): rank r receives step i when it sends it, so its first
//! rank's view is a chain of sends over a loopback route (`proof.rs`).
//! Gradient rings fold with the replicas (one-chunk `ring`, every bucket
//! splitting into d equal pieces: a piece one byte longer than another
//! shifts the ranks' timelines apart, so unequal pieces are refused rather
//! than approximated); tensor collectives fold with the tensor ranks
//! (`ring`, `nccl-ring`, or `nccl` picking the ring, inside one host, their
//! bytes splitting into t equal pieces). A collective along an axis that is
//! not folded runs in full on the representatives, and its copies are
//! images when every rank shares its host and NIC-ness with its image and
//! its algorithm sends along the same rank pairs (ring edges, or every
//! pair for small groups).
//!
//! It refuses: no axis to fold; noise (it differs per GPU); anything above
//! that does not hold; any route that is not a unique two-link path (e.g.
//! across a shared spine); a link map that is not well defined or not
//! one-to-one inside a copy. [`prove`] folds both axes where it can, else
//! the replicas, else the tensor ranks.

mod flows;
mod proof;
pub mod ring;

use flows::{Axis, prove_gradient_images, prove_point_to_point};
pub use proof::Refusal;
use proof::{NONE, Proof};
pub use ring::{FoldedAlone, SingleRing, fold_alone, single_ring};

use super::{Parallelism, TrainingJob, buckets, tensor::tensor_bytes};
use crate::collective::{Algorithm, CollectiveOp, CollectiveSpec};
use crate::ids::{GpuId, LinkId, TaskId};
use crate::schedule::{OpKind, stage_of_virtual};
use crate::topology::{Cluster, LinkKind, Route};

/// Loopback slot of folded gradient rings.
pub const GRADIENT_LOOPBACK: u32 = 0;
/// Loopback slot of folded tensor rings.
pub const TENSOR_LOOPBACK: u32 = 1;

/// What a folded plan needs beyond its graph.
#[derive(Clone, Debug, Default)]
pub struct Fold {
    /// Replicas replica 0 stands for (1: replicas expanded).
    pub replicas: u32,
    /// Tensor ranks rank 0 stands for (1: tensor ranks expanded).
    pub tensor: u32,
    /// Per cluster GPU: the GPU that stands for it (itself for GPUs outside
    /// the job).
    pub representative: Vec<GpuId>,
    /// Each link of a folded copy that the job uses, with the link whose
    /// history it shares.
    pub link_images: Vec<(LinkId, LinkId)>,
    /// Loopback routes: GPU, slot ([`GRADIENT_LOOPBACK`] or
    /// [`TENSOR_LOOPBACK`]), route.
    pub loopbacks: Vec<(GpuId, u32, Route)>,
    /// Tensor collectives: (bytes, op) → bytes of each ring send on the wire.
    pub tensor_sends: Vec<(u64, CollectiveOp, u64)>,
    /// Per folded gradient collective of the plan: the first task of its
    /// chain, its name and bytes.
    pub rings: Vec<(TaskId, String, u64)>,
    /// Per folded tensor collective: its first and last task, name, bytes.
    pub tensor_collectives: Vec<(TaskId, TaskId, String, u64)>,
}

impl Fold {
    /// Bytes on the wire of each send of a folded tensor collective.
    pub fn tensor_send(&self, bytes: u64, op: CollectiveOp) -> u64 {
        self.tensor_sends
            .iter()
            .find(|&&(b, o, _)| b == bytes && o == op)
            .map(|&(_, _, s)| s)
            .expect("every folded tensor collective was proven a ring")
    }
}

/// Folds both axes where exact, else the replicas, else the tensor ranks
/// (see the module doc), or says why not (the replicas' reason when there
/// are several replicas).
pub fn prove(job: &TrainingJob, cluster: &Cluster, quiet: bool) -> Result<Fold, Refusal> {
    if let Ok(both) = prove_axes(job, cluster, quiet, true, true) {
        return Ok(both);
    }
    let replicas = prove_axes(job, cluster, quiet, true, false);
    if replicas.is_ok() {
        return replicas;
    }
    let tensor = prove_axes(job, cluster, quiet, false, true);
    if tensor.is_ok() || job.parallelism.data < 2 {
        return tensor;
    }
    replicas
}

/// Folds the replicas (`replicas`) and the tensor ranks (`tensor`), or
/// says why not.
pub fn prove_axes(
    job: &TrainingJob,
    cluster: &Cluster,
    quiet: bool,
    replicas: bool,
    tensor: bool,
) -> Result<Fold, Refusal> {
    let Parallelism {
        data: d,
        pipeline: p,
        tensor: t,
        ..
    } = job.parallelism;
    if replicas && d < 2 {
        return Err("one replica");
    }
    if tensor && t < 2 {
        return Err("one tensor rank");
    }
    if !replicas && !tensor {
        return Err("nothing to fold");
    }
    if !quiet {
        return Err(if replicas {
            "noise differs per replica"
        } else {
            "noise differs per tensor rank"
        });
    }
    let rr = Axis {
        len: d,
        folded: replicas,
    };
    let kk = Axis {
        len: t,
        folded: tensor,
    };
    if replicas {
        check_gradient_pieces(job)?;
    }
    let tensor_sends = if tensor {
        check_tensor_ranks(job, cluster, rr)?
    } else {
        Vec::new()
    };
    let (copy, representative) = copies(job, cluster, rr, kk);
    let mut proof = Proof::new(cluster, copy);
    prove_point_to_point(job, &mut proof, rr, kk)?;
    let mut loopbacks = Vec::new();
    if replicas {
        for s in 0..p {
            for k0 in kk.reps() {
                let rings: Vec<Vec<GpuId>> = kk
                    .orbit(k0)
                    .map(|k| (0..d).map(|r| job.gpu(r, s, k)).collect())
                    .collect();
                let route = proof.ring_loopback(&rings)?;
                loopbacks.push((job.gpu(0, s, k0), GRADIENT_LOOPBACK, route));
            }
        }
    } else if d > 1 {
        prove_gradient_images(job, &mut proof, kk)?;
    }
    if tensor {
        for s in 0..p {
            for r0 in rr.reps() {
                let rings: Vec<Vec<GpuId>> = rr
                    .orbit(r0)
                    .map(|r| (0..t).map(|k| job.gpu(r, s, k)).collect())
                    .collect();
                let route = proof.ring_loopback(&rings)?;
                loopbacks.push((job.gpu(r0, s, 0), TENSOR_LOOPBACK, route));
            }
        }
    }
    Ok(Fold {
        replicas: if replicas { d } else { 1 },
        tensor: if tensor { t } else { 1 },
        representative,
        link_images: proof.link_images(),
        loopbacks,
        tensor_sends,
        rings: Vec::new(),
        tensor_collectives: Vec::new(),
    })
}

/// Per cluster GPU: its copy (one per folded (replica, tensor rank); NONE
/// outside the job) and the GPU that stands for it.
fn copies(job: &TrainingJob, cluster: &Cluster, rr: Axis, kk: Axis) -> (Vec<u32>, Vec<GpuId>) {
    let n = cluster.num_gpus();
    let mut copy = vec![NONE; n];
    let mut representative: Vec<GpuId> = (0..n).map(GpuId::from_index).collect();
    for r in 0..rr.len {
        for s in 0..job.parallelism.pipeline {
            for k in 0..kk.len {
                let g = job.gpu(r, s, k).index();
                let (cr, ck) = (u32::from(rr.folded) * r, u32::from(kk.folded) * k);
                copy[g] = cr * kk.len + ck;
                let (r0, k0) = (u32::from(!rr.folded) * r, u32::from(!kk.folded) * k);
                representative[g] = job.gpu(r0, s, k0);
            }
        }
    }
    (copy, representative)
}

/// Every gradient bucket, per virtual stage, with its bytes.
fn gradient_buckets(job: &TrainingJob) -> Vec<(u32, u64)> {
    let mut out = Vec::new();
    for j in 0..job.all_virtual_stages() {
        let range = job.layers(j);
        let layers = &job.workload.layers[range.clone()];
        for group in buckets(layers, range.start, job.data_parallel.bucket_bytes) {
            let bytes = group
                .iter()
                .map(|&l| job.workload.layers[l].grad_bytes)
                .sum();
            out.push((j, bytes));
        }
    }
    out
}

/// Gradient rings fold with the replicas: one-chunk rings of equal pieces.
fn check_gradient_pieces(job: &TrainingJob) -> Result<(), Refusal> {
    let dp = &job.data_parallel;
    if dp.algorithm != Algorithm::Ring || dp.chunks != 1 {
        return Err("gradient collectives are not one-chunk rings");
    }
    let d = u64::from(job.parallelism.data);
    if gradient_buckets(job)
        .iter()
        .any(|&(_, bytes)| !bytes.is_multiple_of(d))
    {
        return Err("a gradient bucket does not split into equal ring pieces");
    }
    Ok(())
}

fn has_nic(cluster: &Cluster, g: GpuId) -> bool {
    let node = cluster.gpu(g).node;
    cluster
        .out_links(node)
        .iter()
        .any(|&l| cluster.link(l).kind == LinkKind::Nic)
}

/// Tensor ranks fold when each tensor group sits in one host, its ranks
/// alike (NIC or not), and each of its collectives is one ring of equal
/// pieces in rank order. Returns the bytes on the wire of each send.
fn check_tensor_ranks(
    job: &TrainingJob,
    cluster: &Cluster,
    rr: Axis,
) -> Result<Vec<(u64, CollectiveOp, u64)>, Refusal> {
    let Parallelism {
        data: d,
        pipeline: p,
        tensor: t,
        sequence_parallel,
    } = job.parallelism;
    for r in 0..d {
        for s in 0..p {
            let g0 = job.gpu(r, s, 0);
            for k in 1..t {
                let g = job.gpu(r, s, k);
                if cluster.gpu(g).host != cluster.gpu(g0).host
                    || has_nic(cluster, g) != has_nic(cluster, g0)
                {
                    return Err("a tensor group spans hosts or its GPUs differ");
                }
            }
        }
    }
    let ops: &[CollectiveOp] = if sequence_parallel {
        &[CollectiveOp::ReduceScatter, CollectiveOp::AllGather]
    } else {
        &[CollectiveOp::AllReduce]
    };
    let kinds = [OpKind::Forward, OpKind::Backward, OpKind::BackwardInput];
    let mut sends = Vec::new();
    for j in 0..job.all_virtual_stages() {
        let s = stage_of_virtual(j, p);
        let layers = &job.workload.layers[job.layers(j)];
        for kind in kinds {
            let bytes = tensor_bytes(job, kind, layers);
            for (&op, r) in ops.iter().flat_map(|op| rr.reps().map(move |r| (op, r))) {
                if bytes == 0 {
                    continue;
                }
                let spec = CollectiveSpec {
                    name: String::new(),
                    op,
                    algorithm: job.tensor_algorithm,
                    ranks: (0..t).map(|k| job.gpu(r, s, k)).collect(),
                    bytes,
                    chunks: 1,
                };
                let ring = single_ring(&spec, cluster)?;
                if ring.order != spec.ranks {
                    return Err("a tensor ring is not in rank order");
                }
                if !sends.contains(&(bytes, op, ring.send_bytes)) {
                    sends.push((bytes, op, ring.send_bytes));
                }
            }
        }
    }
    Ok(sends)
}
