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
//! sends its shard). With t > 1, every op ends with an all-reduce among the
//! tensor ranks of the op's total tensor-parallel bytes (a reduce-scatter +
//! all-gather with sequence parallelism; overlapped with the op's compute
//! with `tensor_overlap`; see `tensor.rs`).
//!
//! Gradients: the op that completes a chunk's gradients (the last backward,
//! or weight-gradient, of the chunk in the stage's order) is split into
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
use crate::ids::{GpuId, TaskId};
use crate::plan::{Phase, Tag, TaskGraph};
use crate::schedule::{Op, OpKind, Schedule, ScheduleError, Shape};
use crate::units::SimTime;
use crate::workload::{Layer, Workload};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

/// Degrees of parallelism; their product is the number of GPUs used.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parallelism {
    #[serde(default = "one")]
    pub data: u32,
    #[serde(default = "one")]
    pub pipeline: u32,
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
    pub algorithm: Algorithm,
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
    pub workload: &'a Workload,
    pub parallelism: Parallelism,
    pub placement: Placement,
    pub schedule: Schedule,
    pub microbatches: u32,
    /// Model chunks per GPU (interleaved schedules); 1 otherwise.
    pub chunks: u32,
    /// Layers per virtual stage (pipeline × chunks entries), in order.
    pub partition: Vec<usize>,
    pub data_parallel: DataParallel,
    /// Algorithm of the tensor-parallel all-reduces.
    pub tensor_algorithm: Algorithm,
    /// Tensor-parallel communication overlapped with the op's compute
    /// (Megatron-Core TP comm overlap) rather than after it.
    pub tensor_overlap: bool,
}

/// One pipeline stage: its GPUs and the layers of each of its chunks.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StagePlan {
    pub stage: u32,
    /// Every GPU running this stage: all replicas and tensor ranks.
    pub gpus: Vec<GpuId>,
    /// Layer ranges, one per chunk.
    pub layers: Vec<Range<usize>>,
}

/// The graph of one training iteration, and where things are in it.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub graph: TaskGraph,
    /// Data-parallel gradient all-reduces, in the order they are issued.
    pub grad_collectives: Vec<TaskId>,
    pub stages: Vec<StagePlan>,
}

impl TrainingJob<'_> {
    fn virtual_stages(&self) -> u32 {
        self.parallelism.pipeline * self.chunks
    }

    /// Layer range of virtual stage j.
    fn layers(&self, j: u32) -> Range<usize> {
        let start: usize = self.partition[..j as usize].iter().sum();
        start..start + self.partition[j as usize]
    }

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
            chunks: self.chunks,
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
                layers: (0..self.chunks).map(|c| self.layers(c * p + s)).collect(),
            })
            .collect()
    }

    /// Builds the task graph of one iteration.
    pub fn build(&self) -> Plan {
        Builder::new(self).build()
    }
}

/// Time of one op over `layers`, for the whole minibatch.
fn op_time(kind: OpKind, layers: &[Layer]) -> SimTime {
    let mut total = SimTime::ZERO;
    for l in layers {
        total += match kind {
            OpKind::Forward => l.forward,
            OpKind::Backward => l.backward,
            OpKind::BackwardInput => l.backward.saturating_sub(l.backward_weight),
            OpKind::BackwardWeight => l.backward_weight,
        };
    }
    total
}

fn phase(kind: OpKind) -> Phase {
    match kind {
        OpKind::Forward => Phase::Forward,
        OpKind::Backward => Phase::Backward,
        OpKind::BackwardInput => Phase::BackwardInput,
        OpKind::BackwardWeight => Phase::BackwardWeight,
    }
}

/// Scales a per-minibatch duration to one microbatch, rounding up.
fn scale(t: SimTime, m: u32) -> SimTime {
    SimTime(t.ps().div_ceil(u64::from(m)))
}

/// Key of an op instance: (replica, virtual stage, microbatch, kind).
type OpKey = (u32, u32, u32, OpKind);

/// The bucket tasks of one gradient-completing op, with their layers.
type Completion = Vec<(TaskId, Vec<usize>)>;

/// A transfer between stages: (src, dst, bytes), its phase, microbatch and
/// the virtual stage it leaves.
struct Hop {
    route: (GpuId, GpuId, u64),
    phase: Phase,
    microbatch: u32,
    stage: u32,
}

struct Builder<'j, 'w> {
    job: &'j TrainingJob<'w>,
    graph: TaskGraph,
    /// First and last task of each op, per tensor rank: the first takes the
    /// op's incoming dependencies, the last (or the op's tensor all-reduce)
    /// marks it done. These maps are looked up, never iterated, so hashing
    /// (not ordering) them keeps the plan deterministic and the build linear.
    first: HashMap<(OpKey, u32), TaskId>,
    done: HashMap<(OpKey, u32), TaskId>,
    /// Per (replica, stage, tensor rank): for each gradient-completing op in
    /// order, its bucket tasks with their layers.
    buckets: HashMap<(u32, u32, u32), Vec<Completion>>,
    /// Per (replica, stage): the tensor all-reduce the next op must wait for.
    pending_tensor: HashMap<(u32, u32), TaskId>,
    grad_collectives: Vec<TaskId>,
    /// Per (stage, tensor rank): the last gradient collective.
    synced: BTreeMap<(u32, u32), TaskId>,
    /// ZeRO-1: per (stage, tensor rank), the parameter all-gathers that
    /// follow the optimizer steps.
    gathers: HashMap<(u32, u32), Vec<(CollectiveSpec, Tag, TaskId)>>,
    /// Per (replica, stage, tensor rank): the task that ends its last op.
    last_op: BTreeMap<(u32, u32, u32), TaskId>,
}

impl<'j, 'w> Builder<'j, 'w> {
    fn new(job: &'j TrainingJob<'w>) -> Self {
        Builder {
            job,
            graph: TaskGraph::new(),
            first: HashMap::new(),
            done: HashMap::new(),
            buckets: HashMap::new(),
            pending_tensor: HashMap::new(),
            grad_collectives: Vec::new(),
            synced: BTreeMap::new(),
            gathers: HashMap::new(),
            last_op: BTreeMap::new(),
        }
    }

    fn build(mut self) -> Plan {
        let job = self.job;
        let Parallelism {
            data: d,
            pipeline: p,
            ..
        } = job.parallelism;
        let m = job.microbatches();
        let orders = job.schedule.order(Shape {
            stages: p,
            microbatches: m,
            chunks: job.chunks,
        });
        for r in 0..d {
            for (s, ops) in orders.iter().enumerate() {
                let completing = gradient_completing(ops, job.schedule);
                for (i, op) in ops.iter().enumerate() {
                    self.add_op(r, s as u32, *op, completing.contains(&i));
                }
            }
        }
        self.add_pipeline_transfers(m);
        self.add_gradient_sync();
        self.add_optimizer_steps();
        Plan {
            graph: self.graph,
            grad_collectives: self.grad_collectives,
            stages: job.stages(),
        }
    }

    /// One op of stage `s` on every tensor rank of replica `r`.
    fn add_op(&mut self, r: u32, s: u32, op: Op, completes_gradients: bool) {
        let job = self.job;
        let p = job.parallelism.pipeline;
        let j = op.chunk * p + s;
        let range = job.layers(j);
        let layers = &job.workload.layers[range.clone()];
        let key: OpKey = (r, j, op.microbatch, op.kind);
        let tag = Tag::new(phase(op.kind))
            .microbatch(op.microbatch)
            .stage(j)
            .index(op.chunk);
        // Buckets in backprop order (last layer first) when this op completes
        // the chunk's gradients; otherwise the op is one task.
        // Without data parallelism there is nothing to synchronise: one task.
        let groups: Vec<Vec<usize>> = if completes_gradients && job.parallelism.data > 1 {
            buckets(layers, range.start, job.data_parallel.bucket_bytes)
        } else {
            vec![range.clone().rev().collect()]
        };
        let mut tensor_deps = Vec::new();
        let mut markers = Vec::new();
        let waits_for: Vec<TaskId> = self.pending_tensor.remove(&(r, s)).into_iter().collect();
        let overlapped = job.tensor_overlap && job.parallelism.tensor > 1;
        for k in 0..job.parallelism.tensor {
            let gpu = job.gpu(r, s, k);
            let mut prev = None;
            if overlapped {
                // A zero-length start marker: overlapped communication may
                // begin once the op may begin.
                let m = self.graph.compute(gpu, SimTime::ZERO, tag, &waits_for);
                self.first.insert((key, k), m);
                markers.push(m);
            }
            let mut completion = Vec::new();
            for group in &groups {
                let dur: SimTime = group
                    .iter()
                    .map(|&i| op_time(op.kind, std::slice::from_ref(&job.workload.layers[i])))
                    .fold(SimTime::ZERO, |a, b| a + b);
                let deps = if prev.is_none() && !overlapped {
                    &waits_for[..]
                } else {
                    &[]
                };
                let task = self
                    .graph
                    .compute(gpu, scale(dur, job.divisor()), tag, deps);
                if prev.is_none() && !overlapped {
                    self.first.insert((key, k), task);
                }
                prev = Some(task);
                completion.push((task, group.clone()));
            }
            if completes_gradients {
                self.buckets.entry((r, s, k)).or_default().push(completion);
            }
            let last = prev.expect("an op has at least one group");
            self.done.insert((key, k), last);
            self.last_op.insert((r, s, k), last);
            tensor_deps.push(last);
        }
        self.add_tensor_comm(r, s, key, tag, layers, &tensor_deps, &markers);
    }

    /// Activations forward and their gradients backward between
    /// neighbouring virtual stages, and each stage's own F → B → W order.
    fn add_pipeline_transfers(&mut self, m: u32) {
        let job = self.job;
        let Parallelism {
            data: d,
            pipeline: p,
            tensor: t,
            ..
        } = job.parallelism;
        let v = job.virtual_stages();
        for r in 0..d {
            for k in 0..t {
                for j in 0..v {
                    let last_layer = &job.workload.layers[job.layers(j).end - 1];
                    let bytes =
                        last_layer.activation_bytes / u64::from(job.divisor()) / u64::from(t);
                    for mb in 0..m {
                        let f = (r, j, mb, OpKind::Forward);
                        let b_kind = if self
                            .done
                            .contains_key(&((r, j, mb, OpKind::BackwardInput), k))
                        {
                            OpKind::BackwardInput
                        } else {
                            OpKind::Backward
                        };
                        let b = (r, j, mb, b_kind);
                        // Local order: B after F, W after B.
                        self.link_tasks(b, f, k, None);
                        if b_kind == OpKind::BackwardInput {
                            self.link_tasks((r, j, mb, OpKind::BackwardWeight), b, k, None);
                        }
                        if j + 1 < v {
                            let here = job.gpu(r, j % p, k);
                            let next = job.gpu(r, (j + 1) % p, k);
                            let route = (here != next).then_some((here, next, bytes));
                            self.link_tasks(
                                (r, j + 1, mb, OpKind::Forward),
                                f,
                                k,
                                route.map(|route| Hop {
                                    route,
                                    phase: Phase::Activation,
                                    microbatch: mb,
                                    stage: j,
                                }),
                            );
                            let next_b = (r, j + 1, mb, b_kind);
                            let back = (here != next).then_some((next, here, bytes));
                            self.link_tasks(
                                b,
                                next_b,
                                k,
                                back.map(|route| Hop {
                                    route,
                                    phase: Phase::Gradient,
                                    microbatch: mb,
                                    stage: j + 1,
                                }),
                            );
                        }
                    }
                }
            }
        }
    }

    /// Makes op `after` (tensor rank k) wait for op `before`, through a
    /// transfer (src, dst, bytes) when the two run on different GPUs.
    fn link_tasks(&mut self, after: OpKey, before: OpKey, k: u32, via: Option<Hop>) {
        let (Some(&a), Some(&b)) = (self.first.get(&(after, k)), self.done.get(&(before, k)))
        else {
            return;
        };
        match via {
            None => self.graph.depend(a, b),
            Some(Hop {
                route: (src, dst, bytes),
                phase,
                microbatch,
                stage,
            }) => {
                let tag = Tag::new(phase).microbatch(microbatch).stage(stage);
                let x = self.graph.transfer(src, dst, bytes, tag, &[b]);
                self.graph.depend(a, x);
            }
        }
    }
}

mod gradients;
mod tensor;

use gradients::{buckets, gradient_completing};

#[cfg(test)]
mod comm_tests;
#[cfg(test)]
mod schedule_tests;
#[cfg(test)]
pub(crate) mod tests;
