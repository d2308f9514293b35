//! The flow clock: one live completion time per flow, updatable in place.
//!
//! A flow's finish time moves whenever the fabric changes its rate (about
//! ten flows per event on a contended spine). Pushing a new event per change
//! and skipping stale ones by generation filled the event queue with dead
//! entries, about seventeen per transfer on a contended fat-tree. Here
//! every active flow has exactly one entry, found through its handle, and a
//! new finish time moves that entry.
//!
//! Entries live in *runs*: consecutive schedules at one time share a run (a
//! collective step finishes thousands of flows at one instant, and a run
//! makes each of those a `Vec` append and an index bump, as in the event
//! queue). Runs sit in an indexed 4-ary min-heap ordered by (time, creation
//! order), so flows finishing at one time pop in the order they were
//! scheduled: deterministic. Moving a flow leaves a tombstone in its old
//! run; a run whose entries are all gone leaves the heap at once.
//!
//! It knows nothing of links or rates: only flows and times.

use crate::fabric::FlowId;

const NONE: u32 = u32::MAX;
const ARITY: usize = 4;

/// Flows finishing at one time, scheduled consecutively.
#[derive(Default)]
struct Run {
    time: u64,
    /// Creation order: the tie-break among runs of equal time.
    seq: u64,
    /// Flow ids in schedule order; `NONE` where a flow moved away.
    items: Vec<u32>,
    /// First entry not yet popped.
    next: usize,
    /// Entries not popped and not moved away.
    live: u32,
    /// Position in the heap.
    pos: u32,
}

/// Finish times of active flows, earliest first.
#[derive(Default)]
pub(super) struct FlowClock {
    runs: Vec<Run>,
    free_runs: Vec<u32>,
    /// Run ids, a 4-ary min-heap by (time, seq).
    heap: Vec<u32>,
    /// Per flow: (run, index in it), or (`NONE`, _) when not scheduled.
    slot: Vec<(u32, u32)>,
    /// The run the latest schedule created or joined.
    open: u32,
    seq: u64,
}

impl FlowClock {
    pub(super) fn new() -> Self {
        FlowClock {
            open: NONE,
            ..FlowClock::default()
        }
    }

    /// Sets (or moves) flow `f`'s completion to `time`.
    pub(super) fn schedule(&mut self, f: FlowId, time: u64) {
        let i = f.0 as usize;
        if self.slot.len() <= i {
            self.slot.resize(i + 1, (NONE, 0));
        }
        let (old, k) = self.slot[i];
        if old != NONE {
            let run = &mut self.runs[old as usize];
            if run.live == 1 {
                // Alone in its run: re-key the run in place (decrease- or
                // increase-key) instead of a removal and an insertion; it
                // becomes the newest run, as a fresh one would.
                let up = time < run.time;
                run.time = time;
                run.seq = self.seq;
                self.seq += 1;
                self.open = old;
                let pos = run.pos as usize;
                if up {
                    self.sift_up(pos);
                } else {
                    self.sift_down(pos);
                }
                return;
            }
            self.unlink(old, k);
        }
        let r = self.open_run(time);
        let run = &mut self.runs[r as usize];
        self.slot[i] = (r, run.items.len() as u32);
        run.items.push(f.0);
        run.live += 1;
    }

    /// The earliest completion time, if any flow is scheduled.
    pub(super) fn peek_time(&self) -> Option<u64> {
        self.heap.first().map(|&r| self.runs[r as usize].time)
    }

    /// Pops the next flow finishing at `time`, if the earliest is then.
    pub(super) fn pop_at(&mut self, time: u64) -> Option<FlowId> {
        let &r = self.heap.first()?;
        let run = &mut self.runs[r as usize];
        if run.time != time {
            return None;
        }
        // A live run has a live entry at or after `next`.
        while run.items[run.next] == NONE {
            run.next += 1;
        }
        let f = run.items[run.next];
        run.next += 1;
        run.live -= 1;
        self.slot[f as usize].0 = NONE;
        if run.live == 0 {
            self.release(r);
        }
        Some(FlowId(f))
    }

    /// The run a schedule at `time` joins: the open one if it is at that
    /// time (nothing was scheduled since, so order is kept), else a new one.
    fn open_run(&mut self, time: u64) -> u32 {
        if self.open != NONE && self.runs[self.open as usize].time == time {
            return self.open;
        }
        let r = match self.free_runs.pop() {
            Some(r) => r,
            None => {
                self.runs.push(Run::default());
                (self.runs.len() - 1) as u32
            }
        };
        let run = &mut self.runs[r as usize];
        run.time = time;
        run.seq = self.seq;
        self.seq += 1;
        run.pos = self.heap.len() as u32;
        self.heap.push(r);
        self.sift_up(self.heap.len() - 1);
        self.open = r;
        r
    }

    /// Tombstones entry `k` of run `r`.
    fn unlink(&mut self, r: u32, k: u32) {
        let run = &mut self.runs[r as usize];
        run.items[k as usize] = NONE;
        run.live -= 1;
        if run.live == 0 {
            self.release(r);
        }
    }

    /// Takes an empty run out of the heap and recycles it.
    fn release(&mut self, r: u32) {
        let pos = self.runs[r as usize].pos as usize;
        let last = self.heap.len() - 1;
        self.heap.swap(pos, last);
        self.heap.pop();
        if pos < last {
            self.runs[self.heap[pos] as usize].pos = pos as u32;
            self.sift_down(pos);
            self.sift_up(pos);
        }
        let run = &mut self.runs[r as usize];
        run.items.clear();
        run.next = 0;
        if self.open == r {
            self.open = NONE;
        }
        self.free_runs.push(r);
    }

    fn key(&self, r: u32) -> (u64, u64) {
        let run = &self.runs[r as usize];
        (run.time, run.seq)
    }

    fn sift_up(&mut self, mut pos: usize) {
        let r = self.heap[pos];
        let key = self.key(r);
        while pos > 0 {
            let parent = (pos - 1) / ARITY;
            let p = self.heap[parent];
            if self.key(p) <= key {
                break;
            }
            self.heap[pos] = p;
            self.runs[p as usize].pos = pos as u32;
            pos = parent;
        }
        self.heap[pos] = r;
        self.runs[r as usize].pos = pos as u32;
    }

    fn sift_down(&mut self, mut pos: usize) {
        let r = self.heap[pos];
        let key = self.key(r);
        let n = self.heap.len();
        loop {
            let first = pos * ARITY + 1;
            if first >= n {
                break;
            }
            let mut best = first;
            let mut best_key = self.key(self.heap[first]);
            for c in first + 1..(first + ARITY).min(n) {
                let k = self.key(self.heap[c]);
                if k < best_key {
                    best = c;
                    best_key = k;
                }
            }
            if best_key >= key {
                break;
            }
            let c = self.heap[best];
            self.heap[pos] = c;
            self.runs[c as usize].pos = pos as u32;
            pos = best;
        }
        self.heap[pos] = r;
        self.runs[r as usize].pos = pos as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// Against a model that keeps, per flow, its latest (time, order of
        /// scheduling): pops come in (time, order) order, each flow once,
        /// only at its latest time.
        #[test]
        fn matches_a_model_of_latest_schedules(
            ops in proptest::collection::vec((0u32..24, 0u64..40, 0u8..4), 1..400)
        ) {
            let mut clock = FlowClock::new();
            let mut model: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
            let (mut now, mut order) = (0u64, 0u64);
            for (f, dt, action) in ops {
                if action < 3 {
                    let t = now + if action == 0 { 0 } else { dt };
                    clock.schedule(FlowId(f), t);
                    model.insert(f, (t, order));
                    order += 1;
                } else {
                    let first = model.iter().min_by_key(|e| *e.1).map(|(&f, &k)| (f, k));
                    prop_assert_eq!(clock.peek_time(), first.map(|e| e.1.0));
                    if let Some((f, (t, _))) = first {
                        prop_assert_eq!(clock.pop_at(t + 1), None);
                        prop_assert_eq!(clock.pop_at(t), Some(FlowId(f)));
                        model.remove(&f);
                        now = t;
                    }
                }
            }
            while let Some((&f, &(t, _))) = model.iter().min_by_key(|e| *e.1) {
                prop_assert_eq!(clock.pop_at(t), Some(FlowId(f)));
                model.remove(&f);
            }
            prop_assert_eq!(clock.peek_time(), None);
        }
    }
}
