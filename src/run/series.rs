//! Which collectives of a plan a run reports, and the latency series each
//! feeds: every collective of the iteration, labelled by kind (data-parallel
//! gradient buckets, tensor-parallel, tied embedding).
//!
//! Gradient buckets keep one series per bucket name; tensor-parallel
//! collectives get one series per (op, virtual stage), each sample one
//! instance (a replica's microbatch). Series are ordered gradient first (in
//! issue order), then tensor, then embedding. When identical replicas are
//! folded into replica 0, each of its tensor and embedding collectives
//! stands for every replica's and is counted that many times; when tensor
//! ranks are folded into rank 0, each gradient and embedding collective
//! stands for every rank's, and a tensor collective is rank 0's chain of
//! ring sends. So folded and expanded runs report the same. It does not
//! simulate or write anything.

use crate::ids::TaskId;
use crate::plan::Phase;
use crate::report::{CollectiveKind, LatencyStats};
use crate::training::TrainingPlan;
use std::collections::{BTreeMap, HashSet};

/// The reported collectives and their series.
pub(super) struct Series {
    /// One per distinct (kind, name), empty.
    pub stats: Vec<LatencyStats>,
    /// Every reported collective instance, in the order trials record
    /// them: its first and last task.
    pub spans: Vec<(TaskId, TaskId)>,
    /// For each of `tasks`, the index of its series.
    pub of_task: Vec<usize>,
}

/// A reported collective: kind, first and last task, series name, bytes.
type Entry = (CollectiveKind, (TaskId, TaskId), String, u64);

/// The kind of each collective of `plan`, and its series name.
fn classify(plan: &TrainingPlan) -> Vec<Entry> {
    let grad: HashSet<TaskId> = plan.grad_collectives.iter().copied().collect();
    let mut out: Vec<Entry> = (0..plan.grad_collectives.len())
        .map(|k| {
            let (first, last, name, bytes) = plan.grad_collective(k);
            (
                CollectiveKind::Gradient,
                (first, last),
                name.to_string(),
                bytes,
            )
        })
        .collect();
    let mut others = Vec::new();
    for (i, task) in plan.graph.tasks().iter().enumerate() {
        let id = TaskId::from_index(i);
        let Some(spec) = plan.graph.collective_of(id) else {
            continue;
        };
        if grad.contains(&id) {
            continue;
        }
        // Tensor-parallel collectives carry the tag of the op they follow;
        // the only other collective the training builder issues is the
        // tied-embedding all-reduce.
        let entry = match task.tag.phase {
            Phase::Collective => (
                CollectiveKind::Embedding,
                (id, id),
                spec.name.clone(),
                spec.bytes,
            ),
            _ => (
                CollectiveKind::Tensor,
                (id, id),
                format!("{} s{}", spec.name, task.tag.stage),
                spec.bytes,
            ),
        };
        others.push(entry);
    }
    if let Some(fold) = &plan.fold {
        for (first, last, name, bytes) in &fold.tensor_collectives {
            let stage = plan.graph.task(*first).tag.stage;
            let name = format!("{name} s{stage}");
            others.push((CollectiveKind::Tensor, (*first, *last), name, *bytes));
        }
    }
    // Each kind in the graph's order (a folded tensor collective's first
    // task is where the collective task would be).
    others.sort_by_key(|e| (e.0, (e.1).0));
    out.extend(others);
    out
}

/// Every reported collective, by its last task, for the timelines.
pub(super) fn kinds(plan: &TrainingPlan) -> crate::timeline::Kinds {
    classify(plan)
        .into_iter()
        .map(|(kind, (first, last), name, bytes)| {
            let kind = kind.word();
            (
                last,
                crate::timeline::Reported {
                    kind,
                    first,
                    name,
                    bytes,
                },
            )
        })
        .collect()
}

/// The series of `plan`'s reported collectives.
pub(super) fn series(plan: &TrainingPlan) -> Series {
    let mut index: BTreeMap<(CollectiveKind, String), usize> = BTreeMap::new();
    let mut s = Series {
        stats: Vec::new(),
        spans: Vec::new(),
        of_task: Vec::new(),
    };
    let (replicas, tensor) = plan
        .fold
        .as_ref()
        .map_or((1, 1), |f| (f.replicas.max(1), f.tensor.max(1)));
    for (kind, span, name, bytes) in classify(plan) {
        let i = *index.entry((kind, name.clone())).or_insert_with(|| {
            s.stats
                .push(LatencyStats::new(name.clone(), bytes).of_kind(kind));
            s.stats.len() - 1
        });
        let copies = match kind {
            CollectiveKind::Gradient => tensor,
            CollectiveKind::Tensor => replicas,
            _ => replicas * tensor,
        };
        for _ in 0..copies {
            s.spans.push(span);
            s.of_task.push(i);
        }
    }
    s
}
