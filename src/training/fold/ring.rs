//! Rings that fold to one rank: when a collective runs as one ring of equal
//! pieces, and a ring collective measured alone on a switch.
//!
//! [`single_ring`] says when a collective's algorithm runs as exactly one
//! ring in a known order, every send of the same size on the wire: `ring`
//! with one chunk, or NCCL-like rings (`nccl-ring`, or `nccl` when its
//! tuner picks the ring) with one channel and every edge the same kind of
//! hop (all inside a host, or all between hosts), over bytes that split
//! into n equal pieces. Such a ring, when each of its edges is the unique
//! two-link path through one switch and nothing else shares those links, is
//! rotation-symmetric: every rank's timeline is rank 0's shifted, so rank
//! 0's view is a chain of its 2(n−1) (n−1 for reduce-scatter and
//! all-gather) sends over its loopback route (see `proof.rs`). The ring's
//! flow-control window never binds there (a rank's successor has sent
//! step k−1 before the rank has the data of step k+1, `collective/ring.rs`),
//! so the chain needs none.
//!
//! [`fold_alone`] applies that to a collective run alone (as
//! `bench::measure` runs it): the chain on rank 0, and every link's
//! statistics taken from the link that stands for it. Unequal pieces,
//! trees, several channels or chunks, and routes that are not unique
//! two-link paths are refused: the collective then runs in full.

use super::proof::{NONE, Proof, Refusal};
use crate::collective::nccl::{Layout, NET_EFFICIENCY, nvlink_efficiency, wire_bytes};
use crate::collective::tuner::{Model, Pick};
use crate::collective::{Algorithm, CollectiveOp, CollectiveSpec};
use crate::ids::{GpuId, LinkId};
use crate::topology::{Cluster, Route};

/// A collective that runs as one ring of equal sends.
#[derive(Clone, Debug, PartialEq)]
pub struct SingleRing {
    /// The ranks in ring order.
    pub order: Vec<GpuId>,
    /// Sends each rank makes, one after another.
    pub steps: u32,
    /// Bytes of each send on the wire (protocol overhead included).
    pub send_bytes: u64,
}

/// `spec` as one ring of equal sends, or why not.
pub fn single_ring(spec: &CollectiveSpec, cluster: &Cluster) -> Result<SingleRing, Refusal> {
    let n = spec.ranks.len() as u64;
    let steps = match spec.op {
        CollectiveOp::AllReduce => 2 * (n.max(1) - 1),
        CollectiveOp::ReduceScatter | CollectiveOp::AllGather => n.max(1) - 1,
        _ => return Err("the collective is not a ring all-reduce, reduce-scatter or all-gather"),
    };
    if n < 2 || !spec.bytes.is_multiple_of(n) {
        return Err("the collective's bytes do not split into equal ring pieces");
    }
    let piece = spec.bytes / n;
    let steps = steps as u32;
    match spec.algorithm {
        Algorithm::Ring if spec.chunks == 1 => Ok(SingleRing {
            order: spec.ranks.clone(),
            steps,
            send_bytes: piece,
        }),
        Algorithm::NcclRing | Algorithm::Nccl => {
            let layout = Layout::new(&spec.ranks, cluster);
            let pick = match spec.algorithm {
                Algorithm::Nccl => {
                    Model::new(&layout, cluster, spec.chunks).pick(spec.op, spec.bytes)
                }
                _ => Pick::Ring,
            };
            if pick != Pick::Ring || layout.ring_channels(spec.chunks) != 1 {
                return Err("the NCCL-like collective is not one ring channel");
            }
            let order = layout.ring_order(0);
            let host = |g: GpuId| cluster.gpu(g).host;
            let crossing = (0..order.len())
                .filter(|&i| host(order[i]) != host(order[(i + 1) % order.len()]))
                .count();
            let eff = match crossing {
                0 => nvlink_efficiency(cluster),
                c if c == order.len() => NET_EFFICIENCY,
                _ => return Err("the ring mixes hops inside and between hosts"),
            };
            Ok(SingleRing {
                order,
                steps,
                send_bytes: wire_bytes(piece, eff),
            })
        }
        _ => Err("the collective is not a one-chunk ring"),
    }
}

/// A collective run alone, folded onto its first ring rank.
#[derive(Clone, Debug)]
pub struct FoldedAlone {
    /// The ring the collective runs.
    pub ring: SingleRing,
    /// Rank 0's loopback route.
    pub loopback: Route,
    /// Each link of the other ranks, with the link whose history it shares.
    pub link_images: Vec<(LinkId, LinkId)>,
}

/// Proves that `spec`, run alone on `cluster`, may be folded onto its
/// first ring rank (see the module doc), or says why not.
pub fn fold_alone(spec: &CollectiveSpec, cluster: &Cluster) -> Result<FoldedAlone, Refusal> {
    let ring = single_ring(spec, cluster)?;
    let mut copy = vec![NONE; cluster.num_gpus()];
    for (i, g) in ring.order.iter().enumerate() {
        if copy[g.index()] != NONE {
            return Err("a rank appears twice");
        }
        copy[g.index()] = i as u32;
    }
    let mut proof = Proof::new(cluster, copy);
    let loopback = proof.ring_loopback(std::slice::from_ref(&ring.order))?;
    Ok(FoldedAlone {
        link_images: proof.link_images(),
        ring,
        loopback,
    })
}
