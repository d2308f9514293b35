//! The builder of one iteration's task graph: every op of every stage on
//! every replica and tensor rank, the activation transfers between virtual
//! stages, then (in `gradients` and `tensor`) the gradient synchronisation,
//! optimizer steps and tensor-parallel communication. It decides no
//! schedule (that is `schedule`) and times nothing (that is `engine`).

use super::*;

/// Time of one op over `layers`, for the whole minibatch.
pub(super) fn op_time(kind: OpKind, layers: &[Layer]) -> SimTime {
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

pub(super) fn phase(kind: OpKind) -> Phase {
    match kind {
        OpKind::Forward => Phase::Forward,
        OpKind::Backward => Phase::Backward,
        OpKind::BackwardInput => Phase::BackwardInput,
        OpKind::BackwardWeight => Phase::BackwardWeight,
    }
}

/// Scales a per-minibatch duration to one microbatch, rounding up.
pub(super) fn scale(t: SimTime, m: u32) -> SimTime {
    SimTime(t.ps().div_ceil(u64::from(m)))
}

/// A hash map with a fast fixed-seed hasher (deterministic; these maps are
/// looked up, never iterated).
pub(super) type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// Key of an op instance: (replica, virtual stage, microbatch, kind).
pub(super) type OpKey = (u32, u32, u32, OpKind);

/// The bucket tasks of one gradient-completing op, with their layers.
pub(super) type Completion = Vec<(TaskId, Vec<usize>)>;

/// A transfer between stages: (src, dst, bytes), its phase, microbatch and
/// the virtual stage it leaves.
pub(super) struct Hop {
    pub(super) route: (GpuId, GpuId, u64),
    pub(super) phase: Phase,
    pub(super) microbatch: u32,
    pub(super) stage: u32,
}

pub(super) struct Builder<'j, 'w> {
    pub(super) job: &'j TrainingJob<'w>,
    pub(super) graph: TaskGraph,
    /// First and last task of each op, per tensor rank: the first takes the
    /// op's incoming dependencies, the last (or the op's tensor all-reduce)
    /// marks it done. These maps are looked up, never iterated, so hashing
    /// (not ordering) them keeps the plan deterministic and the build linear.
    pub(super) first: FastMap<(OpKey, u32), TaskId>,
    pub(super) done: FastMap<(OpKey, u32), TaskId>,
    /// Per (replica, stage, tensor rank): for each gradient-completing op in
    /// order, its bucket tasks with their layers.
    pub(super) buckets: FastMap<(u32, u32, u32), Vec<Completion>>,
    /// Per (replica, stage): the tensor all-reduce the next op must wait for.
    pub(super) pending_tensor: FastMap<(u32, u32), TaskId>,
    pub(super) grad_collectives: Vec<TaskId>,
    /// Per (stage, tensor rank): the last gradient collective.
    pub(super) synced: BTreeMap<(u32, u32), TaskId>,
    /// Per (replica, stage, tensor rank): the task that ends its last op.
    pub(super) last_op: BTreeMap<(u32, u32, u32), TaskId>,
    /// Replicas folded into replica 0, if proven identical.
    pub(super) fold: Option<Fold>,
    /// Where blocking pipeline transfers sit in each stage's order
    /// (`pipeline.p2p: blocking`); `None` when transfers are asynchronous.
    pub(super) calls: Option<Calls>,
}

impl<'j, 'w> Builder<'j, 'w> {
    pub(super) fn new(job: &'j TrainingJob<'w>, fold: Option<Fold>) -> Self {
        Builder {
            job,
            graph: TaskGraph::new(),
            first: FastMap::default(),
            done: FastMap::default(),
            buckets: FastMap::default(),
            pending_tensor: FastMap::default(),
            grad_collectives: Vec::new(),
            synced: BTreeMap::new(),
            last_op: BTreeMap::new(),
            fold,
            calls: None,
        }
    }

    /// Whether replica 0 stands for every replica.
    pub(super) fn folds_replicas(&self) -> bool {
        self.fold.as_ref().is_some_and(|f| f.replicas > 1)
    }

    /// Whether tensor rank 0 stands for every tensor rank.
    pub(super) fn folds_tensor(&self) -> bool {
        self.fold.as_ref().is_some_and(|f| f.tensor > 1)
    }

    /// Replicas whose tasks are built: 1 when folded, else all d.
    pub(super) fn replicas(&self) -> u32 {
        if self.folds_replicas() {
            1
        } else {
            self.job.parallelism.data
        }
    }

    /// Tensor ranks whose tasks are built: 1 when folded, else all t.
    pub(super) fn tensor_ranks(&self) -> u32 {
        if self.folds_tensor() {
            1
        } else {
            self.job.parallelism.tensor
        }
    }

    pub(super) fn build(mut self) -> TrainingPlan {
        let job = self.job;
        let p = job.parallelism.pipeline;
        let d = self.replicas();
        let m = job.microbatches();
        let orders = job.schedule.order(Shape {
            stages: p,
            microbatches: m,
            virtual_stages: job.virtual_stages,
        });
        if job.p2p == P2p::Blocking {
            self.calls = Some(Calls::new(&orders, job.schedule, m));
        }
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
        if let Some(fold) = &self.fold {
            for (gpu, slot, route) in &fold.loopbacks {
                self.graph.pin_loopback(*gpu, *slot, route.clone());
            }
        }
        TrainingPlan {
            graph: self.graph,
            grad_collectives: self.grad_collectives,
            stages: job.stages(),
            fold: self.fold,
        }
    }

    /// One op of stage `s` on every tensor rank of replica `r`.
    pub(super) fn add_op(&mut self, r: u32, s: u32, op: Op, completes_gradients: bool) {
        let job = self.job;
        let p = job.parallelism.pipeline;
        let j = global_virtual_stage(s, op.virtual_stage, p);
        let range = job.layers(j);
        let layers = &job.workload.layers[range.clone()];
        let key: OpKey = (r, j, op.microbatch, op.kind);
        let tag = Tag::new(phase(op.kind))
            .microbatch(op.microbatch)
            .stage(j)
            .index(op.virtual_stage);
        // Buckets in backprop order (last layer first) when this op completes
        // the virtual stage's gradients; otherwise the op is one task.
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
        for k in 0..self.tensor_ranks() {
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
    pub(super) fn add_pipeline_transfers(&mut self, m: u32) {
        let job = self.job;
        let Parallelism {
            pipeline: p,
            tensor: t,
            ..
        } = job.parallelism;
        let v = job.all_virtual_stages();
        for r in 0..self.replicas() {
            for k in 0..self.tensor_ranks() {
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
                            let here = job.gpu(r, stage_of_virtual(j, p), k);
                            let next = job.gpu(r, stage_of_virtual(j + 1, p), k);
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
    pub(super) fn link_tasks(&mut self, after: OpKey, before: OpKey, k: u32, via: Option<Hop>) {
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
                self.block_on(x, before, after, k);
            }
        }
    }
}
