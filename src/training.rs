//! Training jobs as task graphs: data, pipeline and tensor parallelism over
//! a workload's layers, under a pipeline schedule.
//!
//! For each data-parallel replica d, pipeline stage s and tensor rank t the
//! job runs on one GPU (see [`Placement`]). Each stage runs its schedule's op
//! order ([`crate::schedule`]); an op's time is the sum over the stage's
//! layers of the workload's per-minibatch times, scaled by the microbatch
//! fraction 1/m (DESIGN §4) — except under PipeDream, whose "microbatches"
//! are whole minibatches. Zero-bubble schedules split the backward into B
//! (`backward − backward_weight`), which the previous stage waits for, and
//! W (`backward_weight`), which completes the gradients. Activations go forward and their gradients
//! backward between neighbouring stages as fabric transfers of
//! `activation_bytes` of the stage's last layer × 1/m (÷ t: each tensor rank
//! sends its shard), asynchronously or, with `pipeline.p2p: blocking`, as
//! Megatron-LM 2021's blocking calls (`p2p.rs`). With t > 1, every op ends with an all-reduce among the
//! tensor ranks of the op's total tensor-parallel bytes (a reduce-scatter +
//! all-gather with sequence parallelism; overlapped with the op's compute
//! with `tensor_overlap`; see `tensor.rs`).
//!
//! Gradients: the op that completes a virtual stage's gradients (the last backward,
//! or weight-gradient, of the virtual stage in the stage's order) is split into
//! buckets of layers in backprop order; each bucket's gradients are
//! all-reduced across the d replicas as soon as every replica has computed
//! them (`overlap: true`), or after the whole backward (`overlap: false`).
//! A stage's gradient all-reduces run one after another, as on one NCCL
//! stream. Then each GPU runs its optimizer step. With ZeRO-1
//! (`zero: 1`, Rajbhandari et al. SC'20) each bucket's all-reduce becomes a
//! ring reduce-scatter of its gradients (each replica keeps 1/d, updates
//! that shard of the parameters) followed by an all-gather of the updated
//! parameters: the same bytes on the wire as the all-reduce, as two
//! collectives named `<bucket> reduce-scatter` and `<bucket> all-gather`.
//!
//! It does not decide partitions or validate user files: callers pass a
//! checked [`TrainingJob`].

use crate::collective::{Algorithm, CollectiveOp, CollectiveSpec};
use crate::fabric::LinkStats;
use crate::ids::{GpuId, TaskId};
use crate::plan::{Phase, Tag, TaskGraph};
use crate::schedule::{
    Op, OpKind, Schedule, ScheduleError, Shape, global_virtual_stage, stage_of_virtual,
};
use crate::topology::Cluster;
use crate::units::SimTime;
use crate::workload::{Layer, Workload};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

/// Degrees of parallelism; their product is the number of GPUs used.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parallelism {
    /// Data-parallel replicas.
    #[serde(default = "one")]
    pub data: u32,
    /// Pipeline stages.
    #[serde(default = "one")]
    pub pipeline: u32,
    /// Tensor-parallel ranks per stage.
    #[serde(default = "one")]
    pub tensor: u32,
    /// Megatron sequence parallelism over the tensor ranks: each tensor
    /// all-reduce becomes a reduce-scatter + all-gather (Korthikanti et al.
    /// 2022); needs tensor ≥ 2.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sequence_parallel: bool,
}

fn one() -> u32 {
    1
}

impl Parallelism {
    /// GPUs used: data × pipeline × tensor.
    pub fn gpus(&self) -> u64 {
        u64::from(self.data) * u64::from(self.pipeline) * u64::from(self.tensor)
    }
}

/// How (replica, stage, tensor rank) map to global GPU ids.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// Tensor ranks on consecutive GPUs (inside a host), then stages, then
    /// replicas: gpu = (d·p + s)·t + k. When p·t is a multiple of the GPUs
    /// per host this is already rail-aligned: every data-parallel peer of a
    /// GPU has the same local index, so gradient all-reduces stay on one
    /// rail (tested in tests/capacity.rs).
    #[default]
    TensorPipelineData,
    /// Tensor ranks innermost, then replicas, then stages: gpu = (s·d + r)·t
    /// + k, so a stage's replicas sit on neighbouring hosts.
    TensorDataPipeline,
}

impl Placement {
    /// The GPU of tensor rank `tensor` of `stage` in `replica`: the one
    /// place the mapping is written down.
    pub fn gpu(self, par: Parallelism, replica: u32, stage: u32, tensor: u32) -> GpuId {
        let Parallelism {
            data: d,
            pipeline: p,
            tensor: t,
            ..
        } = par;
        GpuId(match self {
            Placement::TensorPipelineData => (replica * p + stage) * t + tensor,
            Placement::TensorDataPipeline => (stage * d + replica) * t + tensor,
        })
    }
}

/// Gradient synchronisation across data-parallel replicas.
#[derive(Clone, Debug, PartialEq)]
pub struct DataParallel {
    /// The all-reduce algorithm.
    pub algorithm: Algorithm,
    /// Pieces each bucket's buffer is cut into (pipelined through the ring).
    pub chunks: u32,
    /// Start each bucket's all-reduce as soon as its gradients are ready.
    pub overlap: bool,
    /// Bucket size; `None` gives one bucket per layer.
    pub bucket_bytes: Option<u64>,
    /// ZeRO stage: 0 (plain data parallelism) or 1 (optimizer state sharded
    /// across the replicas; each bucket is reduce-scattered, then its
    /// updated parameters all-gathered).
    pub zero: u8,
}

/// A fully checked training job.
#[derive(Clone, Debug)]
pub struct TrainingJob<'a> {
    /// The model being trained.
    pub workload: &'a Workload,
    /// Degrees of parallelism.
    pub parallelism: Parallelism,
    /// How ranks map onto GPUs.
    pub placement: Placement,
    /// The pipeline schedule.
    pub schedule: Schedule,
    /// Microbatches per iteration.
    pub microbatches: u32,
    /// Virtual stages (model chunks) per GPU (interleaved schedules); 1
    /// otherwise.
    pub virtual_stages: u32,
    /// Layers per virtual stage (pipeline × virtual_stages entries), in order.
    pub partition: Vec<usize>,
    /// Gradient synchronisation across replicas.
    pub data_parallel: DataParallel,
    /// Algorithm of the tensor-parallel all-reduces.
    pub tensor_algorithm: Algorithm,
    /// Tensor-parallel communication overlapped with the op's compute
    /// (Megatron-Core TP comm overlap) rather than after it.
    pub tensor_overlap: bool,
    /// Whether pipeline transfers block the compute stream (`p2p.rs`).
    pub p2p: P2p,
}

/// One pipeline stage: its GPUs and the layers of each of its virtual stages.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StagePlan {
    /// The stage's index, `0..pipeline`.
    pub stage: u32,
    /// Every GPU running this stage: all replicas and tensor ranks.
    pub gpus: Vec<GpuId>,
    /// Layer ranges, one per virtual stage.
    pub layers: Vec<Range<usize>>,
}

/// The graph of one training iteration, and where things are in it.
#[derive(Clone, Debug, Default)]
pub struct TrainingPlan {
    /// The task graph of the iteration.
    pub graph: TaskGraph,
    /// Data-parallel gradient all-reduces, in the order they are issued.
    pub grad_collectives: Vec<TaskId>,
    /// One entry per pipeline stage.
    pub stages: Vec<StagePlan>,
    /// Set when identical replicas or tensor ranks were folded into
    /// replica 0 or rank 0 (see `fold/`): the graph then holds those only.
    pub fold: Option<Fold>,
}

impl TrainingPlan {
    /// Gradient collective `i`: its first and last task (the same task
    /// unless folded), name and bytes.
    pub fn grad_collective(&self, i: usize) -> (TaskId, TaskId, &str, u64) {
        let last = self.grad_collectives[i];
        match self.fold.as_ref().filter(|f| f.replicas > 1) {
            Some(fold) => {
                let (first, name, bytes) = &fold.rings[i];
                (*first, last, name, *bytes)
            }
            None => {
                let spec = self
                    .graph
                    .collective_of(last)
                    .expect("unfolded gradient collectives are collectives");
                (last, last, &spec.name, spec.bytes)
            }
        }
    }

    /// The GPU whose history `gpu` shares (itself unless folded).
    pub fn representative(&self, gpu: GpuId) -> GpuId {
        self.fold
            .as_ref()
            .and_then(|f| f.representative.get(gpu.index()).copied())
            .unwrap_or(gpu)
    }

    /// Link statistics of the whole cluster from a run of this plan: a
    /// folded run's links of folded copies take their image's.
    pub fn unfold_links(&self, links: &[LinkStats]) -> Vec<LinkStats> {
        let mut out = links.to_vec();
        if let Some(fold) = &self.fold {
            for &(l, image) in &fold.link_images {
                out[l.index()] = links[image.index()].clone();
            }
        }
        out
    }
}

impl TrainingJob<'_> {
    fn all_virtual_stages(&self) -> u32 {
        self.parallelism.pipeline * self.virtual_stages
    }

    /// Layer range of virtual stage j.
    fn layers(&self, j: u32) -> Range<usize> {
        let start: usize = self.partition[..j as usize].iter().sum();
        start..start + self.partition[j as usize]
    }

    /// The GPU of tensor rank `tensor` of `stage` in `replica` (see [`Placement::gpu`]).
    pub fn gpu(&self, replica: u32, stage: u32, tensor: u32) -> GpuId {
        self.placement.gpu(self.parallelism, replica, stage, tensor)
    }

    /// Microbatches actually run (1 for the naive schedule).
    pub fn microbatches(&self) -> u32 {
        if self.schedule == Schedule::Naive {
            1
        } else {
            self.microbatches
        }
    }

    /// What per-minibatch times and sizes are divided by for one op: the
    /// microbatch count, or 1 when each "microbatch" is a whole minibatch
    /// (PipeDream).
    pub fn divisor(&self) -> u32 {
        if self.schedule.microbatch_is_minibatch() {
            1
        } else {
            self.microbatches().max(1)
        }
    }

    /// The pipeline shape this job runs.
    pub fn shape(&self) -> Shape {
        Shape {
            stages: self.parallelism.pipeline,
            microbatches: self.microbatches,
            virtual_stages: self.virtual_stages,
        }
    }

    /// Whether the schedule can run this job's shape (call before
    /// [`TrainingJob::build`]).
    pub fn check(&self) -> Result<(), ScheduleError> {
        self.schedule.check(self.shape())
    }

    /// The stage plans (GPUs and layers), without building the graph.
    pub fn stages(&self) -> Vec<StagePlan> {
        let Parallelism {
            data: d,
            pipeline: p,
            tensor: t,
            ..
        } = self.parallelism;
        (0..p)
            .map(|s| StagePlan {
                stage: s,
                gpus: (0..d)
                    .flat_map(|r| (0..t).map(move |k| (r, k)))
                    .map(|(r, k)| self.gpu(r, s, k))
                    .collect(),
                layers: (0..self.virtual_stages)
                    .map(|c| self.layers(global_virtual_stage(s, c, p)))
                    .collect(),
            })
            .collect()
    }

    /// Builds the task graph of one iteration, every replica expanded.
    pub fn build(&self) -> TrainingPlan {
        Builder::new(self, None).build()
    }

    /// Builds the task graph of one iteration with identical replicas
    /// folded into replica 0 when [`fold::prove`] shows that exact (noise
    /// must be `quiet`); expanded otherwise.
    pub fn build_on(&self, cluster: &Cluster, quiet: bool) -> TrainingPlan {
        match fold::prove(self, cluster, quiet) {
            Ok(fold) => Builder::new(self, Some(fold)).build(),
            Err(_) => self.build(),
        }
    }
}

mod builder;
pub mod fold;
mod gradients;
mod p2p;
mod tensor;

pub use fold::{Fold, TENSOR_LOOPBACK};
use p2p::Calls;
pub use p2p::P2p;

use builder::{Builder, Completion, OpKey, phase};
use gradients::{buckets, gradient_completing};

#[cfg(test)]
mod closed_form_tests;
#[cfg(test)]
mod comm_tests;
#[cfg(test)]
mod p2p_tests;
#[cfg(test)]
mod schedule_tests;
#[cfg(test)]
pub(crate) mod tests;
