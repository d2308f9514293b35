//! Exposed communication of one simulated iteration.
//!
//! Definition: for a GPU g, the exposed communication is the time during
//! which g's compute stream is idle while at least one communication task g
//! takes part in is in flight — a transfer from or to g, or a collective
//! (tensor-parallel or data-parallel) with g among its ranks. Communication
//! hidden behind compute is not exposed; idle time with no communication of
//! g's in flight (waiting for another stage's compute: the pipeline bubble)
//! is not communication. The iteration's exposed communication is the
//! largest over all GPUs.
//!
//! It does not time anything: it reads an engine [`Outcome`].

use crate::engine::Outcome;
use crate::plan::{TaskGraph, TaskKind};

/// Seconds of exposed communication of the most exposed GPU.
pub fn exposed_communication(graph: &TaskGraph, outcome: &Outcome, gpus: usize) -> f64 {
    let mut compute: Vec<Vec<(u64, u64)>> = vec![Vec::new(); gpus];
    let mut comm: Vec<Vec<(u64, u64)>> = vec![Vec::new(); gpus];
    for (i, t) in graph.tasks().iter().enumerate() {
        let span = (outcome.task_start[i].ps(), outcome.task_end[i].ps());
        if span.1 <= span.0 {
            continue;
        }
        let push = |list: &mut Vec<Vec<(u64, u64)>>, g: usize| {
            if let Some(v) = list.get_mut(g) {
                v.push(span);
            }
        };
        match t.kind {
            TaskKind::Compute { gpu, .. } => push(&mut compute, gpu.index()),
            TaskKind::Transfer { src, dst, .. } => {
                push(&mut comm, src.index());
                push(&mut comm, dst.index());
            }
            TaskKind::Collective(c) => {
                if let Some(spec) = graph.collectives().get(c as usize) {
                    for r in &spec.ranks {
                        push(&mut comm, r.index());
                    }
                }
            }
            TaskKind::Barrier => {}
        }
    }
    let worst = compute
        .iter_mut()
        .zip(comm.iter_mut())
        .map(|(busy, talk)| exposed(busy, talk))
        .max()
        .unwrap_or(0);
    worst as f64 * 1e-12
}

/// Length of (∪ `talk`) − (∪ `busy`), in picoseconds.
fn exposed(busy: &mut [(u64, u64)], talk: &mut [(u64, u64)]) -> u64 {
    let busy = union(busy);
    let talk = union(talk);
    let mut total = 0;
    let mut j = 0;
    for &(s, e) in &talk {
        let mut covered = 0;
        while j < busy.len() && busy[j].1 <= s {
            j += 1;
        }
        let mut k = j;
        while k < busy.len() && busy[k].0 < e {
            covered += busy[k].1.min(e) - busy[k].0.max(s);
            k += 1;
        }
        total += (e - s) - covered;
    }
    total
}

/// Sorted, merged intervals.
fn union(spans: &mut [(u64, u64)]) -> Vec<(u64, u64)> {
    spans.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(spans.len());
    for &(s, e) in spans.iter() {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uncovered_communication_counts() {
        // Compute 0–10 and 20–30; communication 5–25 and 28–40.
        let mut busy = vec![(20, 30), (0, 10)];
        let mut talk = vec![(28, 40), (5, 25)];
        // Uncovered: 10–20 and 30–40.
        assert_eq!(exposed(&mut busy, &mut talk), 20);
        assert_eq!(exposed(&mut [], &mut [(0, 5), (3, 9)]), 9);
        assert_eq!(exposed(&mut [(0, 100)], &mut [(10, 20)]), 0);
    }
}
