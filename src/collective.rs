//! Collectives: what a collective is ([`CollectiveSpec`]), and the algorithms
//! that unroll it into transfers while it runs, one file per algorithm.
//!
//! An algorithm is a small state machine ([`Machine`]): it emits its first
//! sends when the collective starts, and more each time one of its sends is
//! delivered. Live state is per rank, never per transfer, so a ring over
//! 4096 GPUs (33 million transfers) needs kilobytes. The engine routes and
//! times the sends; machines know nothing of links or time.
//!
//! Sizes follow nccl-tests: `bytes` is each rank's buffer — the all-reduce
//! buffer, the reduce-scatter input, the all-gather output, the all-to-all
//! send buffer, the broadcast message.

mod all_to_all;
mod broadcast;
mod halving_doubling;
mod hierarchical;
pub mod nccl;
mod ring;
mod tree;
pub mod tuner;

use crate::ids::GpuId;
use crate::topology::Cluster;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The collective operation.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
#[value(rename_all = "kebab-case")]
pub enum CollectiveOp {
    /// Every rank ends with the sum of all ranks' buffers.
    AllReduce,
    /// Every rank ends with its 1/n share of the sum.
    ReduceScatter,
    /// Every rank ends with every rank's 1/n piece.
    AllGather,
    /// Every rank ends with the first rank's buffer.
    Broadcast,
    /// Every rank sends a distinct 1/n piece to every other.
    AllToAll,
}

impl CollectiveOp {
    /// nccl-tests' bus-bandwidth factor: busbw = algbw × factor.
    pub fn busbw_factor(self, n: usize) -> f64 {
        let n = n as f64;
        match self {
            CollectiveOp::AllReduce => 2.0 * (n - 1.0) / n,
            CollectiveOp::ReduceScatter | CollectiveOp::AllGather | CollectiveOp::AllToAll => {
                (n - 1.0) / n
            }
            CollectiveOp::Broadcast => 1.0,
        }
    }
}

impl fmt::Display for CollectiveOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CollectiveOp::AllReduce => "all-reduce",
            CollectiveOp::ReduceScatter => "reduce-scatter",
            CollectiveOp::AllGather => "all-gather",
            CollectiveOp::Broadcast => "broadcast",
            CollectiveOp::AllToAll => "all-to-all",
        })
    }
}

/// How a collective is carried out.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
#[value(rename_all = "kebab-case")]
pub enum Algorithm {
    /// Ring: all-reduce, reduce-scatter, all-gather; a pipelined chain for broadcast.
    Ring,
    /// Double binary tree (NCCL): all-reduce.
    Tree,
    /// Recursive halving then doubling (Rabenseifner): all-reduce, 2^k ranks.
    HalvingDoubling,
    /// Recursive doubling, whole buffer each step: all-reduce, 2^k ranks.
    RecursiveDoubling,
    /// Ring reduce-scatter in each host, ring all-reduce across hosts, ring
    /// all-gather in each host: all-reduce.
    Hierarchical,
    /// Every rank to every rank in n−1 shifted rounds: all-to-all.
    Direct,
    /// NCCL-like, the default: `nccl-ring` or `nccl-tree` chosen by size
    /// like NCCL's tuner; every operation.
    Nccl,
    /// NCCL-like multi-channel rings, one channel per NIC, crossing hosts
    /// rail-aligned: all-reduce, reduce-scatter, all-gather, broadcast.
    NcclRing,
    /// NCCL-like trees: chains inside hosts under a double binary tree of
    /// hosts, one channel per NIC: all-reduce.
    NcclTree,
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Algorithm::Ring => "ring",
            Algorithm::Tree => "tree",
            Algorithm::HalvingDoubling => "halving-doubling",
            Algorithm::RecursiveDoubling => "recursive-doubling",
            Algorithm::Hierarchical => "hierarchical",
            Algorithm::Direct => "direct",
            Algorithm::Nccl => "nccl",
            Algorithm::NcclRing => "nccl-ring",
            Algorithm::NcclTree => "nccl-tree",
        })
    }
}

/// One collective of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectiveSpec {
    /// The collective's name, for reports.
    pub name: String,
    /// What it computes.
    pub op: CollectiveOp,
    /// How it moves the bytes.
    pub algorithm: Algorithm,
    /// Participating GPUs; for rings, their order is the ring order.
    pub ranks: Vec<GpuId>,
    /// Buffer size per rank, bytes.
    pub bytes: u64,
    /// Pipelining: the buffer is cut into this many chunks (≥ 1); for the
    /// NCCL-like algorithms, the channels per NIC.
    pub chunks: u32,
}

/// Why an algorithm cannot run a collective.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CollectiveError {
    /// The algorithm does not implement the operation.
    #[error("the {algorithm} algorithm does not implement {op}; use {hint}")]
    Unsupported {
        /// The operation asked for.
        op: CollectiveOp,
        /// The algorithm asked for.
        algorithm: Algorithm,
        /// Algorithms that do implement it.
        hint: &'static str,
    },
    /// The algorithm needs a power-of-two number of ranks (it had this many).
    #[error("the {0} algorithm needs a power-of-two number of ranks, not {1}")]
    NotPowerOfTwo(Algorithm, usize),
    /// The rank list is empty.
    #[error("a collective needs at least one rank")]
    NoRanks,
    /// The rank list names this GPU twice.
    #[error("rank list names GPU {0} twice")]
    DuplicateRank(GpuId),
    /// The rank list names a GPU past the cluster's number of GPUs.
    #[error("rank list names GPU {0}, but the cluster has GPUs 0..{1}")]
    NoSuchGpu(GpuId, usize),
    /// The buffer is split into zero pieces.
    #[error("chunks must be at least 1")]
    ZeroChunks,
    /// Hierarchical all-reduce over hosts holding different numbers of ranks.
    #[error("hierarchical all-reduce needs the same number of ranks on every host it spans")]
    UnevenHosts,
}

/// One transfer a machine asks for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Dense connection index (< `num_connections`): the engine caches the
    /// route per connection.
    pub conn: u32,
    /// Sending GPU.
    pub src: GpuId,
    /// Receiving GPU.
    pub dst: GpuId,
    /// ECMP salt: sends on different channels may take different paths.
    pub channel: u32,
    /// Payload, bytes.
    pub bytes: u64,
    /// Handed back to the machine when the send is delivered.
    pub token: u64,
}

/// A running collective algorithm.
pub trait Machine: std::marker::Send {
    /// Upper bound on connection indices this machine uses.
    fn num_connections(&self) -> u32;
    /// Emits the first sends.
    fn start(&mut self, out: &mut Vec<Message>);
    /// A send with this token has been fully received; emit what follows.
    /// Returns [`Machine::is_done`] (saving the engine a second call per
    /// transfer).
    fn delivered(&mut self, token: u64, out: &mut Vec<Message>) -> bool;
    /// True once every rank has everything it needs.
    fn is_done(&self) -> bool;
}

/// Checks that `spec` can run, without building it (the engine checks
/// every collective of a graph before each simulation).
pub fn validate(spec: &CollectiveSpec, cluster: &Cluster) -> Result<(), CollectiveError> {
    use Algorithm::*;
    use CollectiveOp::*;
    let n = spec.ranks.len();
    if n == 0 {
        return Err(CollectiveError::NoRanks);
    }
    if spec.chunks == 0 {
        return Err(CollectiveError::ZeroChunks);
    }
    let mut seen = std::collections::BTreeSet::new();
    for &r in &spec.ranks {
        if r.index() >= cluster.num_gpus() {
            return Err(CollectiveError::NoSuchGpu(r, cluster.num_gpus()));
        }
        if !seen.insert(r) {
            return Err(CollectiveError::DuplicateRank(r));
        }
    }
    let unsupported = |hint| {
        Err(CollectiveError::Unsupported {
            op: spec.op,
            algorithm: spec.algorithm,
            hint,
        })
    };
    match (spec.op, spec.algorithm) {
        (AllReduce | ReduceScatter | AllGather | Broadcast, Ring)
        | (AllReduce, Tree)
        | (AllToAll, Direct)
        | (_, Nccl)
        | (AllReduce | ReduceScatter | AllGather | Broadcast, NcclRing)
        | (AllReduce, NcclTree) => Ok(()),
        (AllReduce, HalvingDoubling | RecursiveDoubling) if !n.is_power_of_two() => {
            Err(CollectiveError::NotPowerOfTwo(spec.algorithm, n))
        }
        (AllReduce, HalvingDoubling | RecursiveDoubling) => Ok(()),
        (AllReduce, Hierarchical) => hierarchical::host_groups(&spec.ranks, cluster).map(|_| ()),
        (AllReduce, _) => unsupported(
            "nccl, nccl-ring, nccl-tree, ring, tree, halving-doubling, recursive-doubling or hierarchical",
        ),
        (ReduceScatter | AllGather, _) => unsupported("nccl, nccl-ring or ring"),
        (Broadcast, _) => unsupported("nccl, nccl-ring or ring (a pipelined chain)"),
        (AllToAll, _) => unsupported("direct or nccl"),
    }
}

/// Builds the state machine for a collective.
pub fn build(
    spec: &CollectiveSpec,
    cluster: &Cluster,
) -> Result<Box<dyn Machine>, CollectiveError> {
    use Algorithm::*;
    use CollectiveOp::*;
    validate(spec, cluster)?;
    let ranks = spec.ranks.clone();
    let ring = |op| Box::new(ring::Ring::new(ranks.clone(), spec.bytes, spec.chunks, op));
    Ok(match (spec.op, spec.algorithm) {
        (AllReduce, Ring) => ring(ring::RingOp::AllReduce),
        (ReduceScatter, Ring) => ring(ring::RingOp::ReduceScatter),
        (AllGather, Ring) => ring(ring::RingOp::AllGather),
        (Broadcast, Ring) => Box::new(broadcast::Chain::new(ranks, spec.bytes, spec.chunks)),
        (AllReduce, Tree) => Box::new(tree::double_tree(ranks, spec.bytes, spec.chunks)),
        (_, Nccl | NcclRing | NcclTree) => nccl::build(spec, cluster),
        (AllReduce, HalvingDoubling) => Box::new(halving_doubling::HalvingDoubling::new(
            ranks,
            spec.bytes,
            halving_doubling::Kind::Rabenseifner,
        )),
        (AllReduce, RecursiveDoubling) => Box::new(halving_doubling::HalvingDoubling::new(
            ranks,
            spec.bytes,
            halving_doubling::Kind::RecursiveDoubling,
        )),
        (AllReduce, Hierarchical) => Box::new(hierarchical::hierarchical(
            &ranks,
            spec.bytes,
            spec.chunks,
            cluster,
        )?),
        (AllToAll, Direct) => Box::new(all_to_all::Direct::new(ranks, spec.bytes)),
        _ => unreachable!("validate() accepts only the pairs built above"),
    })
}

/// The size of part `i` of `total` bytes split into `parts` pieces that
/// differ by at most one byte and add up exactly.
pub fn part_bytes(total: u64, parts: u64, i: u64) -> u64 {
    total / parts + u64::from(i < total % parts)
}

#[cfg(test)]
mod ring_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tree_tests;
