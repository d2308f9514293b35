//! The event queue: a radix heap over integer picosecond times, FIFO among
//! events of equal time.
//!
//! Why not `BinaryHeap<(time, seq)>`: a ring all-reduce over 4096 GPUs is 33
//! million transfers and about twice as many events, most of them in large
//! batches at identical times. A radix heap exploits that simulated time
//! never goes backwards: a push is O(1) (bucket = highest bit in which the
//! time differs from the last popped time), a pop is O(1) amortised, and
//! equal times always sit in the same bucket in push order, so FIFO order
//! among equal times — and thus determinism — comes for free.
//!
//! On top of the radix heap, consecutive pushes at one time share a *run*
//! (a plain `Vec`): the heap orders runs, not events. A collective step
//! pushes thousands of events at one time in a row, so most pushes and pops
//! are a `Vec` append and an index bump. FIFO still holds: a push joins the
//! open run only if no other run was started since, so nothing pushed later
//! can overtake it.
//!
//! It does not support cancellation: flow completions, whose times move,
//! live in the `clock::FlowClock` instead. `peek_time` never
//! redistributes a bucket (each keeps its minimum), so the engine can look
//! at the next event here, run an earlier flow completion, and still push
//! events between the two times.

use std::collections::VecDeque;

/// A min-queue of `(time, item)` with monotone pops: pushing a time earlier
/// than the last popped one is a logic error (debug-asserted, clamped).
pub struct EventQueue<T> {
    heap: RadixHeap<u32>,
    runs: Vec<Run<T>>,
    free_runs: Vec<u32>,
    /// The run the latest push started or joined, with its time.
    open: Option<(u64, u32)>,
    /// The run being popped, with its time.
    current: Option<(u64, u32)>,
    len: usize,
}

/// Events pushed consecutively at one time; `next` is the first unpopped.
struct Run<T> {
    items: Vec<T>,
    next: usize,
}

impl<T: Copy> Default for EventQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy> EventQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue {
            heap: RadixHeap::new(),
            runs: Vec::new(),
            free_runs: Vec::new(),
            open: None,
            current: None,
            len: 0,
        }
    }

    /// Items queued.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no item is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Queues `item` at `time` (not before the last popped time).
    pub fn push(&mut self, time: u64, item: T) {
        self.len += 1;
        if let Some((t, r)) = self.open
            && t == time
        {
            self.runs[r as usize].items.push(item);
            return;
        }
        let r = match self.free_runs.pop() {
            Some(r) => r,
            None => {
                self.runs.push(Run {
                    items: Vec::new(),
                    next: 0,
                });
                (self.runs.len() - 1) as u32
            }
        };
        self.runs[r as usize].items.push(item);
        self.heap.push(time, r);
        self.open = Some((time, r));
    }

    /// The next item of the current run, if any is left.
    fn take_current(&mut self) -> Option<(u64, T)> {
        let (t, r) = self.current?;
        let run = &mut self.runs[r as usize];
        if let Some(&item) = run.items.get(run.next) {
            run.next += 1;
            self.len -= 1;
            return Some((t, item));
        }
        // Exhausted: recycle it (and stop pushes from joining it).
        run.items.clear();
        run.next = 0;
        self.free_runs.push(r);
        if self.open.is_some_and(|o| o.1 == r) {
            self.open = None;
        }
        self.current = None;
        None
    }

    /// The earliest item, FIFO among equal times.
    pub fn pop(&mut self) -> Option<(u64, T)> {
        loop {
            if let Some(e) = self.take_current() {
                return Some(e);
            }
            self.current = Some(self.heap.pop()?);
        }
    }

    /// The time of the next event, without popping it or advancing time:
    /// events may still be pushed at any time from the last pop on.
    pub fn peek_time(&self) -> Option<u64> {
        if let Some((t, r)) = self.current {
            let run = &self.runs[r as usize];
            if run.next < run.items.len() {
                return Some(t);
            }
        }
        self.heap.peek_time()
    }

    /// Pops the next event if it is at `time`.
    pub fn pop_at(&mut self, time: u64) -> Option<T> {
        if self.peek_time() != Some(time) {
            return None;
        }
        self.pop().map(|e| e.1)
    }
}

/// The radix heap proper, over run ids.
struct RadixHeap<T> {
    /// Events whose time equals `last`, in push order.
    now: VecDeque<(u64, T)>,
    /// buckets[b] holds times whose highest differing bit from `last` is b.
    buckets: Vec<Vec<(u64, T)>>,
    /// The smallest time in each bucket (`u64::MAX` when empty), and a bit
    /// per non-empty bucket: peeking must not redistribute, since that
    /// would advance `last` past times still to be pushed.
    bucket_min: [u64; 64],
    full: u64,
    last: u64,
    len: usize,
}

impl<T> RadixHeap<T> {
    fn new() -> Self {
        RadixHeap {
            now: VecDeque::new(),
            buckets: (0..64).map(|_| Vec::new()).collect(),
            bucket_min: [u64::MAX; 64],
            full: 0,
            last: 0,
            len: 0,
        }
    }

    fn push(&mut self, time: u64, item: T) {
        debug_assert!(
            time >= self.last,
            "event in the past: {time} < {}",
            self.last
        );
        let time = time.max(self.last);
        self.len += 1;
        if time == self.last {
            self.now.push_back((time, item));
        } else {
            let b = 63 - (time ^ self.last).leading_zeros() as usize;
            self.put(b, time, item);
        }
    }

    fn put(&mut self, b: usize, time: u64, item: T) {
        self.buckets[b].push((time, item));
        self.bucket_min[b] = self.bucket_min[b].min(time);
        self.full |= 1 << b;
    }

    fn peek_time(&self) -> Option<u64> {
        if !self.now.is_empty() {
            Some(self.last)
        } else if self.full == 0 {
            None
        } else {
            Some(self.bucket_min[self.full.trailing_zeros() as usize])
        }
    }

    fn pop(&mut self) -> Option<(u64, T)> {
        self.refill();
        let e = self.now.pop_front()?;
        self.len -= 1;
        Some(e)
    }

    /// When no event is at `last`, advance `last` to the minimum time of the
    /// lowest non-empty bucket and redistribute that bucket. Every element
    /// of bucket b shares `last`'s bits above b, so after the move each one
    /// lands in a strictly lower bucket (or in `now`).
    fn refill(&mut self) {
        if !self.now.is_empty() || self.len == 0 {
            return;
        }
        if self.full == 0 {
            return;
        }
        let b = self.full.trailing_zeros() as usize;
        let mut bucket = std::mem::take(&mut self.buckets[b]);
        let min = self.bucket_min[b];
        self.bucket_min[b] = u64::MAX;
        self.full &= !(1 << b);
        self.last = min;
        for (time, item) in bucket.drain(..) {
            if time == min {
                self.now.push_back((time, item));
            } else {
                let nb = 63 - (time ^ min).leading_zeros() as usize;
                self.put(nb, time, item);
            }
        }
        // Hand the allocation back so the bucket does not regrow later.
        self.buckets[b] = bucket;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pops_in_time_order_fifo_among_equals() {
        let mut q = EventQueue::new();
        q.push(5, 'a');
        q.push(3, 'b');
        q.push(5, 'c');
        q.push(3, 'd');
        q.push(100, 'e');
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![(3, 'b'), (3, 'd'), (5, 'a'), (5, 'c'), (100, 'e')]
        );
    }

    proptest! {
        /// Against a stable sort by time (= BinaryHeap on (time, seq)), with
        /// pushes interleaved between pops as a simulation does.
        #[test]
        fn matches_a_stable_sort(ops in proptest::collection::vec((0u64..1_000, 0u8..3), 1..300)) {
            let mut q = EventQueue::new();
            let mut model: Vec<(u64, usize)> = Vec::new();
            let mut now = 0u64;
            for (seq, (dt, pops)) in ops.into_iter().enumerate() {
                q.push(now + dt, seq);
                model.push((now + dt, seq));
                for _ in 0..pops {
                    model.sort_by_key(|e| e.0); // stable: FIFO among equal times
                    let expect = if model.is_empty() { None } else { Some(model.remove(0)) };
                    let got = q.pop();
                    prop_assert_eq!(got, expect);
                    if let Some((t, _)) = got { now = t; }
                }
            }
            model.sort_by_key(|e| e.0);
            let rest: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
            prop_assert_eq!(rest, model);
        }

        /// The engine's pattern: peek, then drain one time with pop_at
        /// while pushing (at or after that time, which may be earlier than
        /// the queue's own next event).
        #[test]
        fn pop_at_drains_exactly_one_time(ops in proptest::collection::vec((0u64..50, 0u8..4), 1..400)) {
            let mut q = EventQueue::new();
            let mut model: Vec<(u64, usize)> = Vec::new();
            let mut now = 0u64;
            for (seq, (dt, action)) in ops.into_iter().enumerate() {
                model.sort_by_key(|e| e.0);
                match action {
                    0 | 1 => {
                        // Half the pushes land exactly at the current time.
                        let t = if action == 0 { now } else { now + dt };
                        q.push(t, seq);
                        model.push((t, seq));
                    }
                    2 => {
                        let expect = if model.is_empty() { None } else { Some(model.remove(0)) };
                        let got = q.pop();
                        prop_assert_eq!(got, expect);
                        if let Some((t, _)) = got { now = t; }
                    }
                    _ => {
                        prop_assert_eq!(q.peek_time(), model.first().map(|e| e.0));
                        let expect = match model.first() {
                            Some(&(t, _)) if t == now => Some(model.remove(0).1),
                            _ => None,
                        };
                        prop_assert_eq!(q.pop_at(now), expect);
                        now += dt % 3;
                    }
                }
                prop_assert_eq!(q.len(), model.len());
            }
        }
    }
}
