//! Timelines of one simulated iteration: what each GPU did when, as a text
//! table ([`write_text`]), a Chrome trace for Perfetto ([`write_chrome`])
//! and an SVG Gantt chart ([`write_svg`]).
//!
//! Every writer takes the GPUs to show (usually the pipeline's GPUs of one
//! replica), each with the GPU whose history it draws ([`Shown`]), and
//! reads task times from an engine [`Outcome`]. A folded plan
//! (`training::fold`) simulates only representative GPUs; a folded copy
//! does provably the same ops at the same times, so its row is its
//! representative's spans (marked `args.folded` in the Chrome trace).
//! Transfers appear only in the Chrome trace, only if the run recorded
//! them (`SimOptions::record_transfers`), and only the simulated ones: a
//! folded copy's own transfers are not drawn. Writers never panic on any
//! outcome of `simulate` on the same graph; they do not write files
//! (callers pass a writer and handle temporary names).

mod chrome;
mod svg;
mod text;

pub use chrome::write_chrome;
pub use svg::write_svg;
pub use text::write_text;

use crate::engine::Outcome;
use crate::ids::{GpuId, TaskId};
use crate::plan::{Phase, Tag, TaskGraph, TaskKind};
use crate::units::SimTime;
use std::collections::{BTreeMap, HashMap};

/// What the timelines know of each reported collective, by its last task:
/// see [`Reported`]. The Chrome trace carries the kind as `args.kind`, and
/// `timeline.svg` colours by it; a collective task missing here is drawn
/// as a plain collective.
pub type Kinds = HashMap<TaskId, Reported>;

/// A reported collective, as the timelines draw it.
#[derive(Clone, Debug, PartialEq)]
pub struct Reported {
    /// Its kind word (`gradient`, `tensor`, `embedding`: see
    /// [`crate::report::CollectiveKind`]).
    pub kind: &'static str,
    /// Its first task: the collective task itself, or, in a folded plan
    /// (`training::fold`), the start of its representative's chain of
    /// ring sends over a loopback route, which ends with the last task.
    pub first: TaskId,
    /// Its series name, for a folded chain's trace event (a collective
    /// task names itself).
    pub name: String,
    /// Its buffer bytes.
    pub bytes: u64,
}

/// A GPU a timeline shows, and the GPU whose simulated spans its row
/// draws: itself, or in a folded plan its representative.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    /// The GPU of the row.
    pub gpu: GpuId,
    /// The GPU whose spans the row draws.
    pub image: GpuId,
}

impl Shown {
    /// A folded copy: its row is another GPU's history.
    pub fn is_copy(&self) -> bool {
        self.gpu != self.image
    }
}

impl From<GpuId> for Shown {
    fn from(gpu: GpuId) -> Shown {
        Shown { gpu, image: gpu }
    }
}

/// One interval of a GPU's timeline.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: SimTime,
    pub end: SimTime,
    pub task: TaskId,
    pub tag: Tag,
}

/// Compute spans and collective spans of each shown GPU (its image's),
/// by start time. Zero-length spans are dropped.
pub(crate) struct Spans {
    pub compute: BTreeMap<GpuId, Vec<Span>>,
    pub collective: BTreeMap<GpuId, Vec<Span>>,
}

pub(crate) fn spans(graph: &TaskGraph, outcome: &Outcome, shown: &[Shown], kinds: &Kinds) -> Spans {
    let images: Vec<GpuId> = shown.iter().map(|s| s.image).collect();
    let simulated = simulated_spans(graph, outcome, &images, kinds);
    let copy = |list: &BTreeMap<GpuId, Vec<Span>>| -> BTreeMap<GpuId, Vec<Span>> {
        shown
            .iter()
            .map(|s| (s.gpu, list.get(&s.image).cloned().unwrap_or_default()))
            .collect()
    };
    Spans {
        compute: copy(&simulated.compute),
        collective: copy(&simulated.collective),
    }
}

/// The spans of the simulated GPUs `gpus`.
fn simulated_spans(graph: &TaskGraph, outcome: &Outcome, gpus: &[GpuId], kinds: &Kinds) -> Spans {
    let mut compute: BTreeMap<GpuId, Vec<Span>> = gpus.iter().map(|&g| (g, Vec::new())).collect();
    let mut collective = compute.clone();
    for (i, t) in graph.tasks().iter().enumerate() {
        let (Some(&start), Some(&end)) = (outcome.task_start.get(i), outcome.task_end.get(i))
        else {
            continue;
        };
        if end <= start {
            continue;
        }
        let span = Span {
            start,
            end,
            task: TaskId::from_index(i),
            tag: t.tag,
        };
        match &t.kind {
            TaskKind::Compute { gpu, .. } => {
                if let Some(v) = compute.get_mut(gpu) {
                    v.push(span);
                }
            }
            TaskKind::Collective(c) => {
                let Some(spec) = graph.collectives().get(*c as usize) else {
                    continue;
                };
                for r in &spec.ranks {
                    if let Some(v) = collective.get_mut(r) {
                        v.push(span);
                    }
                }
            }
            _ => {}
        }
    }
    folded_chains(graph, outcome, kinds, &mut collective);
    for v in compute.values_mut().chain(collective.values_mut()) {
        v.sort_by_key(|s| (s.start, s.end, s.task));
    }
    Spans {
        compute,
        collective,
    }
}

/// A folded plan simulates each collective of its representative GPU as
/// a chain of sends from the GPU to itself (see [`Reported::first`]): one
/// span per chain, from its first task's start to its last task's end,
/// on that GPU's collective band.
fn folded_chains(
    graph: &TaskGraph,
    outcome: &Outcome,
    kinds: &Kinds,
    collective: &mut BTreeMap<GpuId, Vec<Span>>,
) {
    for (&last, r) in kinds {
        let Some(task) = (last.index() < graph.len()).then(|| graph.task(last)) else {
            continue;
        };
        let TaskKind::Transfer { src, dst, .. } = task.kind else {
            continue;
        };
        let (Some(&start), Some(&end)) = (
            outcome.task_start.get(r.first.index()),
            outcome.task_end.get(last.index()),
        ) else {
            continue;
        };
        if src != dst || end <= start {
            continue;
        }
        if let Some(v) = collective.get_mut(&src) {
            v.push(Span {
                start,
                end,
                task: last,
                tag: task.tag,
            });
        }
    }
}

/// Short label of a compute op: `MB2 F`, `MB0 B`, `MB1 W` (with ` c1` for
/// model chunk 1 of an interleaved schedule), else the phase letter.
pub(crate) fn label(tag: Tag) -> String {
    match tag.phase {
        Phase::Forward | Phase::Backward | Phase::BackwardInput | Phase::BackwardWeight => {
            let chunk = if tag.index > 0 {
                format!(" c{}", tag.index)
            } else {
                String::new()
            };
            format!("MB{} {}{chunk}", tag.microbatch, tag.phase.letter())
        }
        p => p.letter().to_string(),
    }
}

/// Microseconds as f64, for human tables and Chrome traces.
pub(crate) fn us(t: SimTime) -> f64 {
    t.ps() as f64 / 1e6
}

/// Assigns each interval (sorted by start) the first lane free at its
/// start, so overlapping intervals never share a lane.
pub(crate) fn lanes(intervals: &[(SimTime, SimTime)]) -> Vec<usize> {
    let mut ends: Vec<SimTime> = Vec::new();
    intervals
        .iter()
        .map(|&(s, e)| match ends.iter().position(|&end| end <= s) {
            Some(l) => {
                ends[l] = e;
                l
            }
            None => {
                ends.push(e);
                ends.len() - 1
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
