//! Double binary tree all-reduce (NCCL's "tree" algorithm).
//!
//! Two binary trees over the same ranks each reduce then broadcast half of
//! the buffer. Tree 0 puts rank i at heap position i; tree 1 at position
//! n−1−i, so most ranks that are leaves of one tree are inner nodes of the
//! other, and both halves run at once. The half-buffer is cut into `chunks`
//! pieces that pipeline: a node sends chunk c to its parent once every child
//! has sent it chunk c; the root starts broadcasting chunk c once it has
//! reduced it; every tree edge carries its chunks one after another.
//!
//! For n = 2 this is one exchange each way twice: 2(α + S/(2B)).

use super::{Machine, Send, part_bytes};
use crate::ids::GpuId;

const UP: u64 = 0;
const DOWN: u64 = 1;

/// Per-tree, per-position state; index p is the heap position.
struct TreeState {
    /// Chunks the parent has received from child p.
    up_recv: Vec<u64>,
    up_next: Vec<u64>,
    up_busy: Vec<bool>,
    /// Chunks position p holds in the broadcast phase.
    down_have: Vec<u64>,
    down_next: Vec<u64>,
    down_busy: Vec<bool>,
}

pub struct DoubleTree {
    ranks: Vec<GpuId>,
    bytes: u64,
    chunks: u64,
    trees: [TreeState; 2],
    delivered_down: u64,
}

impl DoubleTree {
    pub fn new(ranks: Vec<GpuId>, bytes: u64, chunks: u32) -> Self {
        let n = ranks.len();
        let state = || TreeState {
            up_recv: vec![0; n],
            up_next: vec![0; n],
            up_busy: vec![false; n],
            down_have: vec![0; n],
            down_next: vec![0; n],
            down_busy: vec![false; n],
        };
        DoubleTree {
            ranks,
            bytes,
            chunks: u64::from(chunks),
            trees: [state(), state()],
            delivered_down: 0,
        }
    }

    fn n(&self) -> usize {
        self.ranks.len()
    }

    fn rank_at(&self, t: usize, p: usize) -> GpuId {
        if t == 0 {
            self.ranks[p]
        } else {
            self.ranks[self.n() - 1 - p]
        }
    }

    fn children(&self, p: usize) -> impl Iterator<Item = usize> + use<> {
        let n = self.n();
        [2 * p + 1, 2 * p + 2].into_iter().filter(move |&c| c < n)
    }

    fn chunk_bytes(&self, t: usize, c: u64) -> u64 {
        part_bytes(part_bytes(self.bytes, 2, t as u64), self.chunks, c)
    }

    fn emit(&self, t: usize, dir: u64, p: usize, c: u64, out: &mut Vec<Send>) {
        let parent = (p - 1) / 2;
        let (src, dst) = if dir == UP { (p, parent) } else { (parent, p) };
        let id = ((t as u64 * 2 + dir) * self.n() as u64) + p as u64;
        out.push(Send {
            conn: id as u32,
            src: self.rank_at(t, src),
            dst: self.rank_at(t, dst),
            channel: t as u32,
            bytes: self.chunk_bytes(t, c),
            token: id,
        });
    }

    /// Child p sends its next chunk up if every one of its children has sent it.
    fn pump_up(&mut self, t: usize, p: usize, out: &mut Vec<Send>) {
        let s = &self.trees[t];
        if p == 0 || s.up_busy[p] || s.up_next[p] == self.chunks {
            return;
        }
        let c = s.up_next[p];
        if self.children(p).all(|q| s.up_recv[q] > c) {
            self.trees[t].up_busy[p] = true;
            self.trees[t].up_next[p] += 1;
            self.emit(t, UP, p, c, out);
        }
    }

    /// Parent of p sends p the next chunk if it has it.
    fn pump_down(&mut self, t: usize, p: usize, out: &mut Vec<Send>) {
        let s = &self.trees[t];
        if s.down_busy[p] || s.down_next[p] == self.chunks {
            return;
        }
        let c = s.down_next[p];
        if s.down_have[(p - 1) / 2] > c {
            self.trees[t].down_busy[p] = true;
            self.trees[t].down_next[p] += 1;
            self.emit(t, DOWN, p, c, out);
        }
    }

    fn root_reduced(&mut self, t: usize, out: &mut Vec<Send>) {
        let have = self
            .children(0)
            .map(|q| self.trees[t].up_recv[q])
            .min()
            .unwrap_or(self.chunks);
        self.trees[t].down_have[0] = have;
        for q in self.children(0).collect::<Vec<_>>() {
            self.pump_down(t, q, out);
        }
    }
}

impl Machine for DoubleTree {
    fn num_connections(&self) -> u32 {
        4 * self.n() as u32
    }

    fn start(&mut self, out: &mut Vec<Send>) {
        for t in 0..2 {
            for p in 1..self.n() {
                self.pump_up(t, p, out);
            }
        }
    }

    fn delivered(&mut self, token: u64, out: &mut Vec<Send>) -> bool {
        let n = self.n() as u64;
        let p = (token % n) as usize;
        let td = token / n;
        let (t, dir) = ((td / 2) as usize, td % 2);
        if dir == UP {
            self.trees[t].up_busy[p] = false;
            self.trees[t].up_recv[p] += 1;
            self.pump_up(t, p, out);
            let parent = (p - 1) / 2;
            if parent == 0 {
                self.root_reduced(t, out);
            } else {
                self.pump_up(t, parent, out);
            }
        } else {
            self.delivered_down += 1;
            self.trees[t].down_busy[p] = false;
            self.trees[t].down_have[p] += 1;
            self.pump_down(t, p, out);
            for q in self.children(p).collect::<Vec<_>>() {
                self.pump_down(t, q, out);
            }
        }
        self.is_done()
    }

    fn is_done(&self) -> bool {
        self.delivered_down == 2 * (self.n() as u64 - 1) * self.chunks
    }
}
