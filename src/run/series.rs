//! Which collectives of a plan a run reports, and the latency series each
//! feeds: every collective of the iteration, labelled by kind (data-parallel
//! gradient buckets, tensor-parallel, tied embedding).
//!
//! Gradient buckets keep one series per bucket name; tensor-parallel
//! collectives get one series per (op, virtual stage), each sample one
//! instance (a replica's microbatch). Series are ordered gradient first (in
//! issue order), then tensor, then embedding. It does not simulate or
//! write anything.

use crate::ids::TaskId;
use crate::plan::Phase;
use crate::report::{CollectiveKind, LatencyStats};
use crate::training::TrainingPlan;
use std::collections::{BTreeMap, HashSet};

/// The reported collectives and their series.
pub(super) struct Series {
    /// One per distinct (kind, name), empty.
    pub stats: Vec<LatencyStats>,
    /// Every reported collective task, in the order trials record them.
    pub tasks: Vec<TaskId>,
    /// For each of `tasks`, the index of its series.
    pub of_task: Vec<usize>,
}

/// The kind of each collective task of `plan`, and its series name.
fn classify(plan: &TrainingPlan) -> Vec<(CollectiveKind, TaskId, String)> {
    let grad: HashSet<TaskId> = plan.grad_collectives.iter().copied().collect();
    let mut out: Vec<(CollectiveKind, TaskId, String)> = plan
        .grad_collectives
        .iter()
        .filter_map(|&t| {
            let spec = plan.graph.collective_of(t)?;
            Some((CollectiveKind::Gradient, t, spec.name.clone()))
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
            Phase::Collective => (CollectiveKind::Embedding, id, spec.name.clone()),
            _ => (
                CollectiveKind::Tensor,
                id,
                format!("{} s{}", spec.name, task.tag.stage),
            ),
        };
        others.push(entry);
    }
    // Stable: each kind keeps the graph's order.
    others.sort_by_key(|e| e.0);
    out.extend(others);
    out
}

/// The series of `plan`'s reported collectives.
pub(super) fn series(plan: &TrainingPlan) -> Series {
    let mut index: BTreeMap<(CollectiveKind, String), usize> = BTreeMap::new();
    let mut s = Series {
        stats: Vec::new(),
        tasks: Vec::new(),
        of_task: Vec::new(),
    };
    for (kind, t, name) in classify(plan) {
        let bytes = plan.graph.collective_of(t).map_or(0, |c| c.bytes);
        let i = *index.entry((kind, name.clone())).or_insert_with(|| {
            s.stats
                .push(LatencyStats::new(name.clone(), bytes).of_kind(kind));
            s.stats.len() - 1
        });
        s.tasks.push(t);
        s.of_task.push(i);
    }
    s
}
