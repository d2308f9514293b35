//! The task graph: the one contract between "what the job does" (schedules,
//! data parallelism, collectives) and "how long it takes" (the engine).
//!
//! A graph holds compute ops on GPUs, point-to-point transfers between GPUs,
//! collective nodes (unrolled by their algorithm only while they run, so a
//! 4096-rank ring costs memory per rank, not per transfer), barriers, and
//! dependencies. Compute ops of one GPU run one at a time in the order they
//! were added: each depends on the previous one of its GPU. Communication
//! runs concurrently with compute.
//!
//! It knows nothing of pipelines or rings: builders express those as tasks.
//! One escape hatch serves folded plans (`training/fold/`): a GPU may have
//! pinned loopback routes, one per slot, which its transfers to itself take
//! (slot 0 unless the transfer names another).

use crate::collective::CollectiveSpec;
use crate::ids::{GpuId, TaskId};
use crate::topology::Route;
use crate::units::SimTime;
use std::collections::{BTreeMap, HashMap};

/// What a task stands for, for reports and timelines.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// A forward pass.
    Forward,
    /// Whole backward (input and weight gradients together).
    Backward,
    /// Zero-bubble split: input-gradient part of the backward.
    BackwardInput,
    /// Zero-bubble split: weight-gradient part of the backward.
    BackwardWeight,
    /// An optimizer step.
    Optimizer,
    /// Any other compute.
    Compute,
    /// A pipeline activation sent forward.
    Activation,
    /// A pipeline gradient sent backward.
    Gradient,
    /// Any other point-to-point transfer.
    Transfer,
    /// A collective (its transfers unroll as it runs).
    Collective,
    /// A barrier: no work, a join point of dependencies.
    Barrier,
}

impl Phase {
    /// The short letter timelines print: `F`, `B`, `W`, ...
    pub fn letter(self) -> &'static str {
        match self {
            Phase::Forward => "F",
            Phase::Backward => "B",
            Phase::BackwardInput => "B",
            Phase::BackwardWeight => "W",
            Phase::Optimizer => "O",
            Phase::Compute => "C",
            Phase::Activation => "A",
            Phase::Gradient => "G",
            Phase::Transfer => "T",
            Phase::Collective => "AR",
            Phase::Barrier => "-",
        }
    }
}

/// Compact description of a task: phase, microbatch, stage, layer or chunk.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Tag {
    /// What kind of work it is.
    pub phase: Phase,
    /// The microbatch it belongs to (0 where none applies).
    pub microbatch: u32,
    /// The pipeline stage it belongs to (0 where none applies).
    pub stage: u32,
    /// A layer, virtual-stage or bucket index (0 where none applies).
    pub index: u32,
}

impl Tag {
    /// A tag with phase `phase` and every index 0.
    pub fn new(phase: Phase) -> Self {
        Tag {
            phase,
            microbatch: 0,
            stage: 0,
            index: 0,
        }
    }
    /// The same tag for microbatch `m`.
    pub fn microbatch(mut self, m: u32) -> Self {
        self.microbatch = m;
        self
    }
    /// The same tag for pipeline stage `s`.
    pub fn stage(mut self, s: u32) -> Self {
        self.stage = s;
        self
    }
    /// The same tag with index `i`.
    pub fn index(mut self, i: u32) -> Self {
        self.index = i;
        self
    }
}

/// The work a task does.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskKind {
    /// `duration` of work on `gpu`'s compute stream.
    Compute {
        /// The GPU whose compute stream runs it.
        gpu: GpuId,
        /// How long it runs.
        duration: SimTime,
    },
    /// `bytes` from `src` to `dst` over the fabric.
    Transfer {
        /// Sending GPU.
        src: GpuId,
        /// Receiving GPU.
        dst: GpuId,
        /// Payload, bytes.
        bytes: u64,
    },
    /// Index into [`TaskGraph::collectives`].
    Collective(u32),
    /// No work: completes when its dependencies do.
    Barrier,
}

/// One node of a [`TaskGraph`].
#[derive(Debug, Clone)]
pub struct Task {
    /// The work.
    pub kind: TaskKind,
    /// What it stands for, for reports.
    pub tag: Tag,
}

/// Tasks and their dependencies, built incrementally.
#[derive(Debug, Clone, Default)]
pub struct TaskGraph {
    tasks: Vec<Task>,
    collectives: Vec<CollectiveSpec>,
    /// (before, after) pairs.
    edges: Vec<(TaskId, TaskId)>,
    /// Last compute op per GPU, for stream order.
    last_compute: Vec<Option<TaskId>>,
    /// Routes of transfers from a GPU to itself, per slot (folded plans
    /// only).
    loopbacks: BTreeMap<(GpuId, u32), Route>,
    /// Each self-transfer that names its loopback slot: the slot and how
    /// many sends it makes, one after another.
    loops: HashMap<TaskId, (u32, u32)>,
}

impl TaskGraph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, kind: TaskKind, tag: Tag, deps: &[TaskId]) -> TaskId {
        let id = TaskId::from_index(self.tasks.len());
        self.tasks.push(Task { kind, tag });
        for &d in deps {
            self.edges.push((d, id));
        }
        id
    }

    /// A compute op on `gpu`, after `deps` and after the GPU's previous op.
    pub fn compute(&mut self, gpu: GpuId, duration: SimTime, tag: Tag, deps: &[TaskId]) -> TaskId {
        let id = self.push(TaskKind::Compute { gpu, duration }, tag, deps);
        if self.last_compute.len() <= gpu.index() {
            self.last_compute.resize(gpu.index() + 1, None);
        }
        if let Some(prev) = self.last_compute[gpu.index()].replace(id) {
            self.edges.push((prev, id));
        }
        id
    }

    /// Adds a transfer of `bytes` from `src` to `dst` after `deps`.
    pub fn transfer(
        &mut self,
        src: GpuId,
        dst: GpuId,
        bytes: u64,
        tag: Tag,
        deps: &[TaskId],
    ) -> TaskId {
        self.push(TaskKind::Transfer { src, dst, bytes }, tag, deps)
    }

    /// Adds a collective after `deps`; its transfers unroll when it starts.
    pub fn collective(&mut self, spec: CollectiveSpec, tag: Tag, deps: &[TaskId]) -> TaskId {
        let index = self.collectives.len() as u32;
        self.collectives.push(spec);
        self.push(TaskKind::Collective(index), tag, deps)
    }

    /// Adds a barrier that completes when `deps` have.
    pub fn barrier(&mut self, tag: Tag, deps: &[TaskId]) -> TaskId {
        self.push(TaskKind::Barrier, tag, deps)
    }

    /// `sends` transfers of `bytes` from `gpu` to itself over its loopback
    /// route `slot`, each once the previous has arrived, as one task (a
    /// folded ring's chain).
    pub fn transfer_via(
        &mut self,
        gpu: GpuId,
        slot: u32,
        (bytes, sends): (u64, u32),
        tag: Tag,
        deps: &[TaskId],
    ) -> TaskId {
        let id = self.transfer(gpu, gpu, bytes, tag, deps);
        self.loops.insert(id, (slot, sends.max(1)));
        id
    }

    /// The loopback slot of self-transfer `task` and its sends: (0, 1)
    /// unless it named them.
    pub fn loopback_of(&self, task: TaskId) -> (u32, u32) {
        self.loops.get(&task).copied().unwrap_or((0, 1))
    }

    /// Transfers from `gpu` to itself on `slot` take `route` (instead of
    /// none).
    pub fn pin_loopback(&mut self, gpu: GpuId, slot: u32, route: Route) {
        self.loopbacks.insert((gpu, slot), route);
    }

    /// The pinned loopback route of `gpu` on `slot`, if any.
    pub fn loopback(&self, gpu: GpuId, slot: u32) -> Option<&Route> {
        self.loopbacks.get(&(gpu, slot))
    }

    /// Adds a dependency: `after` starts only once `before` is done.
    pub fn depend(&mut self, after: TaskId, before: TaskId) {
        self.edges.push((before, after));
    }

    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }
    /// Whether the graph has no task.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
    /// Task `id`.
    pub fn task(&self, id: TaskId) -> &Task {
        &self.tasks[id.index()]
    }
    /// Every task, indexed by task id.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }
    /// Every collective's spec, indexed by [`TaskKind::Collective`].
    pub fn collectives(&self) -> &[CollectiveSpec] {
        &self.collectives
    }
    /// The spec of task `id` if it is a collective.
    pub fn collective_of(&self, id: TaskId) -> Option<&CollectiveSpec> {
        match self.tasks[id.index()].kind {
            TaskKind::Collective(i) => Some(&self.collectives[i as usize]),
            _ => None,
        }
    }

    /// Successors in compressed form: `succ[offsets[t]..offsets[t+1]]`, and
    /// each task's number of predecessors.
    pub fn adjacency(&self) -> (Vec<u32>, Vec<TaskId>, Vec<u32>) {
        let n = self.tasks.len();
        let mut offsets = vec![0u32; n + 1];
        let mut preds = vec![0u32; n];
        for &(a, b) in &self.edges {
            offsets[a.index() + 1] += 1;
            preds[b.index()] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut succ = vec![TaskId(0); self.edges.len()];
        for &(a, b) in &self.edges {
            succ[fill[a.index()] as usize] = b;
            fill[a.index()] += 1;
        }
        (offsets, succ, preds)
    }
}
